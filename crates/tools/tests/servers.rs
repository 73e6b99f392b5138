//! hearth-tools against real MCP servers nobody here wrote: a server on the official
//! Python SDK (PyPI `mcp`, script in tests/data/mcp/) over stdio and Streamable HTTP, and
//! npm `@modelcontextprotocol/server-everything` over stdio. `scripts/test.sh` installs
//! both and names them in `HEARTH_MCP_PYTHON` and `HEARTH_MCP_EVERYTHING`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hearth_tools::{Server, ServerConfig, Timeouts, ToolError, Transport, MAX_OUTPUT_BYTES};
use serde_json::{json, Map, Value};

const PASSPHRASE: &str = "canary-passphrase-must-not-leak";

fn required_env(var: &str, what: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: it names {what}. Run scripts/test.sh, which installs it and sets {var}.")
    })
}

/// The Python interpreter of the venv that has PyPI `mcp`.
fn python() -> String {
    required_env(
        "HEARTH_MCP_PYTHON",
        "a Python with the official MCP SDK (PyPI mcp)",
    )
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/mcp/python_server.py")
}

/// The secrets a server must never see sit in this process's environment.
fn plant_secrets() {
    std::env::set_var("HEARTH_PASSPHRASE", PASSPHRASE);
    std::env::set_var("HEARTH_TOOLS_TEST_OTHER", "also-secret");
}

fn python_stdio(env: BTreeMap<String, String>) -> ServerConfig {
    ServerConfig {
        name: "python-test".into(),
        transport: Transport::Stdio {
            command: python(),
            args: vec![script().display().to_string(), "stdio".into()],
            env,
        },
    }
}

fn args(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("arguments must be an object"),
    }
}

/// Whether the process is gone and reaped: a zombie still has a /proc entry.
fn is_gone(pid: u32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

async fn wait_gone(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if is_gone(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn python_server_lists_its_tools_with_their_schemas() {
    let server = Server::start(&python_stdio(BTreeMap::new()), Timeouts::default())
        .await
        .unwrap();
    let tools = server.list_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    for expected in [
        "add",
        "echo",
        "env",
        "slow",
        "crash",
        "spawn_sleeper",
        "big",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let add = tools.iter().find(|t| t.name == "add").unwrap();
    assert_eq!(add.description, "Add two integers.");
    assert_eq!(add.input_schema["type"], "object");
    assert_eq!(add.input_schema["properties"]["a"]["type"], "integer");
    assert_eq!(add.input_schema["properties"]["b"]["type"], "integer");
    let required: Vec<&str> = add.input_schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, ["a", "b"]);
    server.stop().await;
}

#[tokio::test]
async fn python_server_call_arguments_and_results_arrive_exactly() {
    let server = Server::start(&python_stdio(BTreeMap::new()), Timeouts::default())
        .await
        .unwrap();
    let sum = server
        .call_tool("add", args(json!({"a": 40, "b": 2})))
        .await
        .unwrap();
    assert_eq!(sum.content, "42");
    assert!(!sum.is_error && !sum.truncated);
    assert_eq!(sum.structured, Some(json!({"result": 42})));

    let text = "tabs\tnewlines\n\"quotes\" ünïcödé ✓ 🦀 \\ </script>";
    let echoed = server
        .call_tool("echo", args(json!({"text": text})))
        .await
        .unwrap();
    assert_eq!(echoed.content, text);

    // A bad argument is the tool's error, not a broken call.
    let bad = server
        .call_tool("add", args(json!({"a": "not a number", "b": 2})))
        .await
        .unwrap();
    assert!(bad.is_error, "{bad:?}");
    server.stop().await;
}

#[tokio::test]
async fn python_server_sees_only_path_home_lang_and_its_configured_env() {
    plant_secrets();
    let mut env = BTreeMap::new();
    env.insert("MY_SETTING".to_owned(), "configured value".to_owned());
    let server = Server::start(&python_stdio(env), Timeouts::default())
        .await
        .unwrap();
    let get = |name: &'static str| {
        let server = &server;
        async move {
            server
                .call_tool("env", args(json!({"name": name})))
                .await
                .unwrap()
                .content
        }
    };
    assert_eq!(get("HEARTH_PASSPHRASE").await, "<unset>");
    assert_eq!(get("HEARTH_TOOLS_TEST_OTHER").await, "<unset>");
    assert_eq!(get("CARGO_MANIFEST_DIR").await, "<unset>");
    assert_eq!(get("MY_SETTING").await, "configured value");
    if let Ok(path) = std::env::var("PATH") {
        assert_eq!(get("PATH").await, path);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_command_that_does_not_exist_is_a_spawn_error() {
    let config = ServerConfig {
        name: "missing".into(),
        transport: Transport::Stdio {
            command: "/nonexistent/hearth-no-such-mcp-server".into(),
            args: vec![],
            env: BTreeMap::new(),
        },
    };
    let err = Server::start(&config, Timeouts::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Spawn { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("/nonexistent/hearth-no-such-mcp-server"),
        "{err}"
    );
}

#[tokio::test]
async fn a_server_that_exits_before_the_handshake_shows_its_stderr() {
    let config = ServerConfig {
        name: "exits".into(),
        transport: Transport::Stdio {
            command: python(),
            args: vec![
                "-c".into(),
                "import sys; sys.stderr.write('no config file here\\n'); sys.exit(3)".into(),
            ],
            env: BTreeMap::new(),
        },
    };
    let err = Server::start(&config, Timeouts::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Handshake { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("\"exits\" did not start"), "{shown}");
    assert!(shown.contains("no config file here"), "{shown}");
}

#[tokio::test]
async fn a_servers_configured_secrets_never_appear_in_its_errors() {
    let token = "tok-0123456789-secret";
    let config = ServerConfig {
        name: "leaky".into(),
        transport: Transport::Stdio {
            command: python(),
            args: vec![
                "-c".into(),
                "import os, sys; sys.stderr.write('bad token ' + os.environ['API_TOKEN'] + '\\n'); sys.exit(3)".into(),
            ],
            env: BTreeMap::from([("API_TOKEN".to_owned(), token.to_owned())]),
        },
    };
    let err = Server::start(&config, Timeouts::default())
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("bad token [secret]"), "{shown}");
    assert!(!shown.contains(token), "{shown}");
    assert!(!format!("{err:?}").contains(token), "{err:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_the_handshake_times_out() {
    let config = ServerConfig {
        name: "silent".into(),
        transport: Transport::Stdio {
            command: python(),
            args: vec!["-c".into(), "import time; time.sleep(60)".into()],
            env: BTreeMap::new(),
        },
    };
    let timeouts = Timeouts {
        start: Duration::from_millis(700),
        call: Duration::from_secs(5),
    };
    let err = Server::start(&config, timeouts).await.unwrap_err();
    assert!(
        matches!(&err, ToolError::TimedOut { what, .. } if what == "starting"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_call_past_its_deadline_times_out_and_the_server_is_gone() {
    let timeouts = Timeouts {
        start: Duration::from_secs(20),
        call: Duration::from_secs(1),
    };
    let server = Server::start(&python_stdio(BTreeMap::new()), timeouts)
        .await
        .unwrap();
    let pid = server.pid().unwrap();
    assert!(!is_gone(pid));
    let started = Instant::now();
    let err = server
        .call_tool("slow", args(json!({"seconds": 30})))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::TimedOut { what, .. } if what == "calling slow"),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(is_gone(pid), "the timed-out server {pid} is still there");
    let again = server
        .call_tool("echo", args(json!({"text": "x"})))
        .await
        .unwrap_err();
    assert!(matches!(again, ToolError::Stopped { .. }), "{again:?}");
}

#[tokio::test]
async fn a_server_that_crashes_mid_call_is_a_clear_error_and_leaves_no_process() {
    let server = Server::start(&python_stdio(BTreeMap::new()), Timeouts::default())
        .await
        .unwrap();
    let pid = server.pid().unwrap();
    let err = server.call_tool("crash", Map::new()).await.unwrap_err();
    assert!(matches!(err, ToolError::Exited { .. }), "{err:?}");
    assert!(err.to_string().contains("stopped unexpectedly"), "{err}");
    assert!(
        wait_gone(pid).await,
        "the crashed server {pid} was not reaped"
    );
    drop(server);
}

#[tokio::test]
async fn stopping_or_dropping_a_server_ends_its_process() {
    let server = Server::start(&python_stdio(BTreeMap::new()), Timeouts::default())
        .await
        .unwrap();
    let pid = server.pid().unwrap();
    server.stop().await;
    assert!(is_gone(pid), "stopped server {pid} is still there");

    let server = Server::start(&python_stdio(BTreeMap::new()), Timeouts::default())
        .await
        .unwrap();
    let pid = server.pid().unwrap();
    drop(server);
    assert!(wait_gone(pid).await, "dropped server {pid} is still there");
}

/// Gone, or a zombie waiting for whoever adopted it: either way no longer running.
fn is_dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

#[tokio::test]
async fn stopping_a_server_ends_the_processes_it_started_too() {
    let server = Server::start(&python_stdio(BTreeMap::new()), Timeouts::default())
        .await
        .unwrap();
    let out = server.call_tool("spawn_sleeper", Map::new()).await.unwrap();
    let sleeper: u32 = out.content.parse().unwrap();
    assert!(!is_dead(sleeper));
    server.stop().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !is_dead(sleeper) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(is_dead(sleeper), "the server's child {sleeper} outlived it");
}

#[tokio::test]
async fn output_over_the_limit_is_cut_with_a_note() {
    let server = Server::start(&python_stdio(BTreeMap::new()), Timeouts::default())
        .await
        .unwrap();
    let out = server
        .call_tool("big", args(json!({"size": MAX_OUTPUT_BYTES + 10})))
        .await
        .unwrap();
    assert!(out.truncated);
    assert!(out.content.starts_with(&"x".repeat(1000)));
    assert!(
        out.content.contains("[output cut: 10 of"),
        "{}",
        &out.content[out.content.len() - 100..]
    );
    // The structured copy of the same text is over the limit too, and dropped.
    assert_eq!(out.structured, None);
    server.stop().await;
}

#[tokio::test]
async fn a_stdio_message_over_8_mib_is_not_read_and_the_call_ends_at_its_deadline() {
    let timeouts = Timeouts {
        start: Duration::from_secs(20),
        call: Duration::from_secs(4),
    };
    let server = Server::start(&python_stdio(BTreeMap::new()), timeouts)
        .await
        .unwrap();
    // 5 MiB of text, sent twice in one line (as text and as structured content).
    let err = server
        .call_tool("big", args(json!({"size": 5 * 1024 * 1024})))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::TimedOut { .. }), "{err:?}");
}

/// Kills the Python HTTP server when the test ends, however it ends.
struct HttpServer(std::process::Child);

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn python_server_over_streamable_http() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _http = HttpServer(
        std::process::Command::new(python())
            .arg(script())
            .args(["http", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let config = ServerConfig {
        name: "python-http".into(),
        transport: Transport::Http {
            url: format!("http://127.0.0.1:{port}/mcp"),
            headers: BTreeMap::new(),
        },
    };
    // Uvicorn takes a moment to listen; until then the handshake is refused.
    let deadline = Instant::now() + Duration::from_secs(30);
    let server = loop {
        match Server::start(&config, Timeouts::default()).await {
            Ok(server) => break server,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the HTTP server never answered: {e}"),
        }
    };
    assert_eq!(server.pid(), None);
    let tools = server.list_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "echo"), "{tools:?}");
    let out = server
        .call_tool("add", args(json!({"a": 2, "b": 3})))
        .await
        .unwrap();
    assert_eq!(out.content, "5");
    let text = "über HTTP ✓";
    let echoed = server
        .call_tool("echo", args(json!({"text": text})))
        .await
        .unwrap();
    assert_eq!(echoed.content, text);
    server.stop().await;
}

#[tokio::test]
async fn an_http_server_that_is_not_there_is_a_handshake_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = ServerConfig {
        name: "nobody".into(),
        transport: Transport::Http {
            url: format!("http://127.0.0.1:{port}/mcp"),
            headers: BTreeMap::new(),
        },
    };
    let err = Server::start(&config, Timeouts::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Handshake { .. }), "{err:?}");
}

#[tokio::test]
async fn everything_server_lists_tools_and_echoes() {
    let entry = required_env(
        "HEARTH_MCP_EVERYTHING",
        "the entry script of npm @modelcontextprotocol/server-everything",
    );
    let config = ServerConfig {
        name: "everything".into(),
        transport: Transport::Stdio {
            command: "node".into(),
            args: vec![entry, "stdio".into()],
            env: BTreeMap::new(),
        },
    };
    let server = Server::start(&config, Timeouts::default()).await.unwrap();
    let tools = server.list_tools().await.unwrap();
    let echo = tools
        .iter()
        .find(|t| t.name == "echo")
        .expect("an echo tool");
    assert_eq!(echo.input_schema["properties"]["message"]["type"], "string");
    let out = server
        .call_tool("echo", args(json!({"message": "hello from Hearth ✓"})))
        .await
        .unwrap();
    assert_eq!(out.content, "Echo: hello from Hearth ✓");
    assert!(!out.is_error);
    server.stop().await;
}

/// A loopback HTTP server that answers every request with a redirect to `location`.
fn redirecting_server(location: String) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 8192];
            let _ = stream.read(&mut buf);
            let reply = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    port
}

#[tokio::test]
async fn an_http_redirect_to_another_origin_is_not_followed() {
    // The target counts every connection it gets; it must get none.
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target_port = target.local_addr().unwrap().port();
    target.set_nonblocking(true).unwrap();
    let port = redirecting_server(format!("http://127.0.0.1:{target_port}/mcp"));
    let config = ServerConfig {
        name: "redirects".into(),
        transport: Transport::Http {
            url: format!("http://127.0.0.1:{port}/mcp"),
            headers: BTreeMap::from([("authorization".to_owned(), "Bearer t".to_owned())]),
        },
    };
    let timeouts = Timeouts {
        start: Duration::from_secs(5),
        call: Duration::from_secs(5),
    };
    let err = Server::start(&config, timeouts).await.unwrap_err();
    assert!(matches!(err, ToolError::Handshake { .. }), "{err:?}");
    assert!(
        target.accept().is_err(),
        "the client followed a redirect to another origin"
    );
}
