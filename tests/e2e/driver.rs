//! Starting `tauri-driver`, opening app sessions, and small waiting helpers.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// How long any one UI step may take before the test fails with a description.
pub const STEP: Duration = Duration::from_secs(30);

/// The workspace root (this crate lives in `tests/`).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The desktop binary under test.
pub fn app_binary() -> PathBuf {
    let bin = std::env::var_os("HEARTH_DESKTOP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/debug/hearth-desktop"));
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p hearth-desktop --features custom-protocol` \
         (scripts/test.sh does)",
        bin.display()
    );
    bin
}

/// Where screenshots are saved.
pub fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("HEARTH_E2E_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/e2e-screenshots"));
    std::fs::create_dir_all(&dir).expect("create the screenshot folder");
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A running `tauri-driver`; every session it opens launches the app with this
/// process's environment plus `HEARTH_DATA_DIR`.
pub struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Driver {
    /// Starts `tauri-driver` for an app using `data_dir`.
    pub fn start(data_dir: &Path) -> Driver {
        Driver::start_with(data_dir, &[])
    }

    /// As [`Driver::start`], with more variables in the app's environment.
    pub fn start_with(data_dir: &Path, env: &[(&str, &Path)]) -> Driver {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "the end-to-end tests need an X display: run them through scripts/test.sh \
             (it starts Xvfb) or under `xvfb-run -a`"
        );
        let port = free_port();
        let native_port = free_port();
        let log_path = screenshot_dir().join(format!("tauri-driver-{port}.log"));
        let log = std::fs::File::create(&log_path).expect("create the driver log");
        let mut command = Command::new("tauri-driver");
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("HEARTH_DATA_DIR", data_dir)
            // Hearth's own crates at debug, so a test of the app's output sees any
            // content Hearth would log; everything else at warn.
            .env(
                "RUST_LOG",
                "warn,hearth_desktop=debug,hearth_engine=debug,hearth_vault=debug,\
                 hearth_providers=debug,hearth_keychain=debug",
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "could not start tauri-driver ({e}): install it with \
                     `cargo install tauri-driver --version '^2' --locked` (scripts/deps.sh does)"
                )
            });
        let deadline = Instant::now() + STEP;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tauri-driver never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            port,
            log: log_path,
        }
    }

    /// Everything the driver and the app it launched wrote to stdout and stderr.
    pub fn output(&self) -> Vec<u8> {
        std::fs::read(&self.log).unwrap_or_default()
    }

    /// Launches the app and connects to its window.
    pub async fn session(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert(
            "tauri:options".into(),
            json!({"application": app_binary().display().to_string()}),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a WebDriver session with the app");
        client
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css("[data-testid]"))
            .await
            .expect("the app showed its first screen");
        client
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The CSS selector for a test hook.
pub fn hook(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// Waits for an element with test hook `id` (plus an optional CSS suffix).
pub async fn find(client: &Client, id: &str) -> Element {
    find_css(client, &hook(id)).await
}

/// Waits for an element matching `css`.
pub async fn find_css(client: &Client, css: &str) -> Element {
    client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element `{css}` appeared: {e}"))
}

/// Clicks the element with test hook `id`.
pub async fn click(client: &Client, id: &str) {
    find(client, id)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("could not click `{id}`: {e}"));
}

/// Replaces the text of the input with test hook `id`.
pub async fn type_into(client: &Client, id: &str, text: &str) {
    let input = find(client, id).await;
    input
        .clear()
        .await
        .unwrap_or_else(|e| panic!("could not clear `{id}`: {e}"));
    input
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("could not type into `{id}`: {e}"));
}

/// Runs `script` (a function body returning a value) in the page.
pub async fn eval(client: &Client, script: &str) -> Value {
    client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

/// Waits until `script` returns something truthy, and returns it; `what` names the
/// awaited state in the failure message, along with the last value seen.
pub async fn wait_for(client: &Client, what: &str, script: &str) -> Value {
    let deadline = Instant::now() + STEP;
    loop {
        let value = eval(client, script).await;
        let truthy = match &value {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            _ => true,
        };
        if truthy {
            return value;
        }
        if Instant::now() > deadline {
            let body = eval(client, "return document.body.innerText").await;
            panic!("waited {STEP:?} for {what}; last value {value}; the page said:\n{body}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves a screenshot named `name` after letting the page paint.
pub async fn screenshot(client: &Client, name: &str) {
    tokio::time::sleep(Duration::from_millis(400)).await;
    let png = client
        .screenshot()
        .await
        .unwrap_or_else(|e| panic!("screenshot `{name}` failed: {e}"));
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("save the screenshot");
}

/// The messages on screen: `[{role, status, text, id}]`, oldest first.
pub async fn messages(client: &Client) -> Vec<Value> {
    let value = eval(
        client,
        r#"return Array.from(document.querySelectorAll('[data-testid="message"]')).map(m => ({
            id: m.dataset.id, role: m.dataset.role, status: m.dataset.status,
            text: (m.querySelector('[data-testid="message-content"]') || m).innerText
        }))"#,
    )
    .await;
    value.as_array().cloned().unwrap_or_default()
}
