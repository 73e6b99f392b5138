//! What a tool call over stdio costs through hearth-tools, and how much of that is
//! Hearth's rather than the server's.
//!
//! Two real servers: the test server on the official Python SDK
//! (`tests/data/mcp/python_server.py`, interpreter in `HEARTH_MCP_PYTHON`) and npm
//! `@modelcontextprotocol/server-everything` (entry script in `HEARTH_MCP_EVERYTHING`,
//! run with `node`). A server whose variable is not set is skipped, with a line saying
//! so. `scripts/test.sh` installs both.
//!
//! Criterion times, for each server: [`Server::start`] (spawn and initialize handshake),
//! [`Server::list_tools`], and [`Server::call_tool`] of `echo` with a small and a 100 KiB
//! argument. Each is also timed through a minimal blocking JSON-RPC client written here
//! (`raw`: one line written to the pipe, lines read until the answer, parsed with
//! serde_json), which is what any client must at least do, so `hearth − raw` is what
//! hearth-tools (rmcp, Tokio's pipes, converting the result) adds.
//!
//! Then a paired loop: for each server and size, Hearth and raw calls take turns on two
//! servers started side by side, and each call's round trip is kept. The Python server
//! writes how long each tool function itself ran (`MCP_TIMING_LOG`), so every call's
//! `round trip − server time` is known; the loop prints medians and p95.
//!
//! `cargo bench -p hearth-tools --bench tool_call`; reported in docs/PERFORMANCE.md
//! ("Tool calls"), never asserted.

#![allow(missing_docs, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode};
use hearth_tools::{Server, ServerConfig, Timeouts, Transport};
use serde_json::{json, Map, Value};

/// The large argument's size.
const LARGE: usize = 100 * 1024;
/// Paired rounds per server and size (each round: one Hearth call, one raw call).
const ROUNDS: usize = 400;
/// Untimed calls on each side before the paired rounds.
const WARM_UP: usize = 30;
/// The protocol version the raw client asks for.
const PROTOCOL: &str = "2025-11-25";

/// One server to measure.
#[derive(Clone)]
struct Spec {
    /// Its name here, and its `ServerConfig` name.
    label: &'static str,
    command: String,
    args: Vec<String>,
    /// The name of `echo`'s one argument.
    arg: &'static str,
    /// What `echo` puts before the text it returns.
    prefix: &'static str,
    /// Whether the server writes `MCP_TIMING_LOG`.
    timed: bool,
}

impl Spec {
    fn config(&self, env: &BTreeMap<String, String>) -> ServerConfig {
        ServerConfig {
            name: self.label.into(),
            transport: Transport::Stdio {
                command: self.command.clone(),
                args: self.args.clone(),
                env: env.clone(),
            },
        }
    }

    fn echo_args(&self, text: &str) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert(self.arg.into(), Value::String(text.into()));
        map
    }
}

/// The servers whose variables are set; a line for each that is not.
fn specs() -> Vec<Spec> {
    let mut specs = Vec::new();
    match std::env::var("HEARTH_MCP_PYTHON") {
        Ok(python) => {
            let script =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/mcp/python_server.py");
            specs.push(Spec {
                label: "python-sdk",
                command: python,
                args: vec![script.display().to_string(), "stdio".into()],
                arg: "text",
                prefix: "",
                timed: true,
            });
        }
        Err(_) => println!(
            "tool_call: HEARTH_MCP_PYTHON is not set (a Python with PyPI mcp, e.g. target/mcp/python-venv/bin/python); skipping the Python SDK server"
        ),
    }
    match std::env::var("HEARTH_MCP_EVERYTHING") {
        Ok(entry) => specs.push(Spec {
            label: "everything",
            command: "node".into(),
            args: vec![entry, "stdio".into()],
            arg: "message",
            prefix: "Echo: ",
            timed: false,
        }),
        Err(_) => println!(
            "tool_call: HEARTH_MCP_EVERYTHING is not set (the entry script of npm @modelcontextprotocol/server-everything); skipping server-everything"
        ),
    }
    if specs.is_empty() {
        println!("tool_call: no server to measure; scripts/test.sh installs both and shows the variables");
    }
    specs
}

/// A file the Python server appends its tool times to, read as it grows.
struct TimingLog {
    path: PathBuf,
    seen: usize,
}

impl TimingLog {
    fn new(path: PathBuf) -> TimingLog {
        TimingLog { path, seen: 0 }
    }

    /// The variables that make the server write this log.
    fn env(&self) -> BTreeMap<String, String> {
        BTreeMap::from([("MCP_TIMING_LOG".into(), self.path.display().to_string())])
    }

    /// The tool times (µs) written since the last call.
    fn take(&mut self) -> Vec<f64> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let new = lines[self.seen.min(lines.len())..]
            .iter()
            .map(|line| {
                line.rsplit(' ')
                    .next()
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or_else(|| panic!("a timing line that is not `tool micros`: {line:?}"))
            })
            .collect();
        self.seen = lines.len();
        new
    }
}

/// The least a client must do: write one JSON-RPC line, read lines until the answer,
/// parse it. Blocking, no runtime.
struct RawClient {
    label: &'static str,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
    line: String,
}

impl RawClient {
    /// Spawns the server with the environment Hearth gives one, and runs the handshake.
    fn start(spec: &Spec, env: &BTreeMap<String, String>) -> RawClient {
        let mut cmd = Command::new(&spec.command);
        cmd.args(&spec.args)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for key in ["PATH", "HOME", "LANG"] {
            if let Some(value) = std::env::var_os(key) {
                cmd.env(key, value);
            }
        }
        cmd.envs(env);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{}: could not run {}: {e}", spec.label, spec.command));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut client = RawClient {
            label: spec.label,
            child,
            stdin,
            stdout,
            next_id: 0,
            line: String::new(),
        };
        client.request(
            "initialize",
            json!({
                "protocolVersion": PROTOCOL,
                "capabilities": {},
                "clientInfo": {"name": "hearth-bench-raw", "version": "0"},
            }),
        );
        client.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        client
    }

    fn send(&mut self, message: &Value) {
        let mut bytes = serde_json::to_vec(message).unwrap();
        bytes.push(b'\n');
        self.stdin.write_all(&bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Sends a request and returns its result; notifications in between are skipped.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            self.line.clear();
            let n = self.stdout.read_line(&mut self.line).unwrap();
            assert!(n > 0, "{}: the server closed its stdout", self.label);
            let Ok(mut message) = serde_json::from_str::<Value>(&self.line) else {
                continue;
            };
            if message.get("id").and_then(Value::as_u64) == Some(id) {
                match message.get_mut("result") {
                    Some(result) => return result.take(),
                    None => panic!("{}: {method} failed: {message}", self.label),
                }
            }
        }
    }

    fn call(&mut self, name: &str, arguments: Map<String, Value>) -> Value {
        self.request(
            "tools/call",
            json!({"name": name, "arguments": Value::Object(arguments)}),
        )
    }
}

impl Drop for RawClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    // Like the desktop app: a multi-threaded runtime (two workers on this machine).
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn start(spec: &Spec, env: &BTreeMap<String, String>) -> Server {
    Server::start(&spec.config(env), Timeouts::default())
        .await
        .unwrap_or_else(|e| panic!("{}: the server did not start: {e}", spec.label))
}

/// Starts the server once and checks that echo answers as expected; a server that does
/// not is skipped with the reason.
fn usable(rt: &tokio::runtime::Runtime, spec: &Spec) -> bool {
    let checked = rt.block_on(async {
        let server = Server::start(&spec.config(&BTreeMap::new()), Timeouts::default())
            .await
            .map_err(|e| e.to_string())?;
        let out = server
            .call_tool("echo", spec.echo_args("ping"))
            .await
            .map_err(|e| e.to_string());
        server.stop().await;
        let out = out?;
        if out.content == format!("{}ping", spec.prefix) {
            Ok(())
        } else {
            Err(format!("echo answered {:?}", out.content))
        }
    });
    match checked {
        Ok(()) => true,
        Err(e) => {
            println!("tool_call: skipping {}: {e}", spec.label);
            false
        }
    }
}

fn sizes() -> [(&'static str, String); 2] {
    [
        ("small", "hello from Hearth ✓".to_owned()),
        (
            "100KiB",
            "abcdefghijklmnopqrstuvwxyz0123456789\n".repeat(LARGE / 37),
        ),
    ]
}

fn bench_start(c: &mut Criterion, rt: &tokio::runtime::Runtime, specs: &[Spec], dir: &Path) {
    let mut group = c.benchmark_group("start");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(8));
    for spec in specs {
        let env = TimingLog::new(dir.join(format!("start-{}.log", spec.label))).env();
        group.bench_function(BenchmarkId::new("hearth", spec.label), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let t = Instant::now();
                        let server = start(spec, &env).await;
                        total += t.elapsed();
                        server.stop().await;
                    }
                    total
                })
            })
        });
        group.bench_function(BenchmarkId::new("raw", spec.label), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    let client = RawClient::start(spec, &env);
                    total += t.elapsed();
                    drop(client);
                }
                total
            })
        });
    }
    group.finish();
}

fn bench_list_tools(c: &mut Criterion, rt: &tokio::runtime::Runtime, specs: &[Spec], dir: &Path) {
    let mut group = c.benchmark_group("list_tools");
    group.sample_size(30);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for spec in specs {
        let env = TimingLog::new(dir.join(format!("list-{}.log", spec.label))).env();
        let server = rt.block_on(start(spec, &env));
        group.bench_function(BenchmarkId::new("hearth", spec.label), |b| {
            b.iter(|| rt.block_on(server.list_tools()).unwrap())
        });
        rt.block_on(server.stop());
        let mut raw = RawClient::start(spec, &env);
        group.bench_function(BenchmarkId::new("raw", spec.label), |b| {
            b.iter(|| raw.request("tools/list", json!({})))
        });
    }
    group.finish();
}

fn bench_echo(c: &mut Criterion, rt: &tokio::runtime::Runtime, specs: &[Spec], dir: &Path) {
    let mut group = c.benchmark_group("echo");
    group.sample_size(30);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for spec in specs {
        let env = TimingLog::new(dir.join(format!("echo-{}.log", spec.label))).env();
        let server = rt.block_on(start(spec, &env));
        let mut raw = RawClient::start(spec, &env);
        for (size, text) in sizes() {
            let arguments = spec.echo_args(&text);
            let id = format!("{}/{size}", spec.label);
            group.bench_function(BenchmarkId::new("hearth", &id), |b| {
                b.iter(|| {
                    rt.block_on(server.call_tool("echo", arguments.clone()))
                        .unwrap()
                })
            });
            group.bench_function(BenchmarkId::new("raw", &id), |b| {
                b.iter(|| raw.call("echo", arguments.clone()))
            });
        }
        rt.block_on(server.stop());
    }
    group.finish();
}

/// The value at quantile `q` of `sorted`.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `median / p95` of `values`, in milliseconds with three decimals.
fn summary(values: &[f64]) -> String {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    format!(
        "{:.3} / {:.3}",
        quantile(&sorted, 0.5) / 1000.0,
        quantile(&sorted, 0.95) / 1000.0
    )
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Hearth and raw calls taking turns on two servers started side by side, and each
/// call's round trip paired with the server's own time.
fn paired(rt: &tokio::runtime::Runtime, specs: &[Spec], dir: &Path, rounds: usize) {
    println!();
    println!(
        "paired echo round trips over stdio, {rounds} rounds each, milliseconds as median / p95"
    );
    println!(
        "{:<22} {:>16} {:>16} {:>16} {:>18} {:>16} {:>16}",
        "server/argument",
        "hearth",
        "raw",
        "server's own",
        "hearth - server's",
        "raw - server's",
        "hearth - raw"
    );
    for spec in specs {
        for (size, text) in sizes() {
            let mut hearth_log =
                TimingLog::new(dir.join(format!("paired-hearth-{}-{size}.log", spec.label)));
            let mut raw_log =
                TimingLog::new(dir.join(format!("paired-raw-{}-{size}.log", spec.label)));
            let server = rt.block_on(start(spec, &hearth_log.env()));
            let mut raw = RawClient::start(spec, &raw_log.env());
            let arguments = spec.echo_args(&text);
            let expected = format!("{}{text}", spec.prefix);
            let out = rt
                .block_on(server.call_tool("echo", arguments.clone()))
                .unwrap();
            assert_eq!(
                out.content, expected,
                "{}: echo changed the text",
                spec.label
            );
            let hearth_call = |arguments: Map<String, Value>| {
                let t = Instant::now();
                let out = rt.block_on(server.call_tool("echo", arguments)).unwrap();
                let elapsed = t.elapsed();
                assert!(!out.is_error);
                micros(elapsed)
            };
            for _ in 0..WARM_UP {
                hearth_call(arguments.clone());
                raw.call("echo", arguments.clone());
            }
            hearth_log.take();
            raw_log.take();
            let (mut hearth, mut plain) = (Vec::new(), Vec::new());
            for round in 0..rounds {
                // Alternate who goes first, so neither always follows the other.
                if round % 2 == 0 {
                    hearth.push(hearth_call(arguments.clone()));
                }
                let t = Instant::now();
                std::hint::black_box(raw.call("echo", arguments.clone()));
                plain.push(micros(t.elapsed()));
                if round % 2 == 1 {
                    hearth.push(hearth_call(arguments.clone()));
                }
            }
            rt.block_on(server.stop());
            drop(raw);
            let minus = |a: &[f64], b: &[f64]| -> Vec<f64> {
                a.iter().zip(b).map(|(x, y)| x - y).collect()
            };
            let (own, hearth_net, raw_net) = if spec.timed {
                let own_hearth = hearth_log.take();
                let own_raw = raw_log.take();
                assert_eq!(
                    own_hearth.len(),
                    hearth.len(),
                    "one timing line per Hearth call"
                );
                assert_eq!(own_raw.len(), plain.len(), "one timing line per raw call");
                (
                    summary(&own_hearth),
                    summary(&minus(&hearth, &own_hearth)),
                    summary(&minus(&plain, &own_raw)),
                )
            } else {
                ("-".to_owned(), "-".to_owned(), "-".to_owned())
            };
            println!(
                "{:<22} {:>16} {:>16} {:>16} {:>18} {:>16} {:>16}",
                format!("{}/{size}", spec.label),
                summary(&hearth),
                summary(&plain),
                own,
                hearth_net,
                raw_net,
                summary(&minus(&hearth, &plain)),
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    // The same rule as criterion's: without --bench (cargo test --benches), or with
    // --test, each benchmark runs once.
    let test_mode = !has("--bench") || has("--test");
    let specs = specs();
    let rt = runtime();
    let specs: Vec<Spec> = specs.into_iter().filter(|s| usable(&rt, s)).collect();
    if specs.is_empty() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut c = Criterion::default().configure_from_args();
    bench_start(&mut c, &rt, &specs, dir.path());
    bench_list_tools(&mut c, &rt, &specs, dir.path());
    bench_echo(&mut c, &rt, &specs, dir.path());
    c.final_summary();
    if !has("--list") {
        paired(&rt, &specs, dir.path(), if test_mode { 4 } else { ROUNDS });
    }
}
