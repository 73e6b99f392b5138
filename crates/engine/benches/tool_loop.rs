//! The whole tool loop's overhead: from the end of the model's streamed tool call to the
//! follow-up request (carrying the result) arriving at the provider, with the call
//! allowed ahead (`SendRequest::allow`), so no person is in the loop.
//!
//! A loopback OpenAI-compatible server written here answers a request that ends with
//! the user's message with one streamed call of `py__echo`, and notes the instant it has
//! written the stream's last byte; it answers the follow-up (which ends with the tool's
//! result) with a short text, and notes the instant its last byte arrived.
//! Between the two: the engine sees the stream end, saves the reply so far and records
//! the call, checks it is allowed, calls the tool on the test server on the official
//! Python SDK (`tests/data/mcp/python_server.py`, over stdio, already running), saves the
//! result and sends the next request. The server writes how long the tool's function
//! itself ran (`MCP_TIMING_LOG`), which is subtracted per call.
//!
//! Needs `HEARTH_MCP_PYTHON` (a Python with PyPI mcp; `scripts/test.sh` installs one);
//! without it, it says so and stops. Run with
//! `cargo bench -p hearth-engine --bench tool_loop`; it prints p50/p95 in milliseconds.
//! Results are reported in docs/PERFORMANCE.md, never asserted.

#![allow(missing_docs, clippy::unwrap_used)]

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use hearth_engine::{
    wire_name, AppPaths, Engine, KdfParams, KeyProtection, Passphrase, ProviderUpdate, ReplyEvent,
    SendRequest, ToolCallStatus, ToolTransport,
};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Replies measured per argument size.
const ROUNDS: usize = 60;
/// Replies before those, not counted.
const WARM_UP: usize = 5;
/// The large argument's size.
const LARGE: usize = 100 * 1024;

static START: OnceLock<Instant> = OnceLock::new();

fn now_ns() -> u64 {
    u64::try_from(START.get_or_init(Instant::now).elapsed().as_nanos()).unwrap()
}

/// What the loopback provider noted about the last round.
#[derive(Default, Clone, Copy)]
struct Stamps {
    /// The tool-call stream's last byte written.
    call_end: u64,
    /// The follow-up request's last byte read.
    follow_up_full: u64,
    /// Connections accepted so far.
    connections: usize,
}

type Shared = Arc<Mutex<Stamps>>;

/// The text the model asks `echo` to return: `large` or `small`, as the user's message says.
fn argument_for(size: &str) -> String {
    if size == "large" {
        "abcdefghijklmnopqrstuvwxyz0123456789\n".repeat(LARGE / 37)
    } else {
        "hello from Hearth ✓".to_owned()
    }
}

/// Reads one HTTP request (head and Content-Length body); `None` when the peer closed.
/// Returns the body and the instant its last byte was read.
async fn read_request(socket: &mut TcpStream, pending: &mut Vec<u8>) -> Option<(Vec<u8>, u64)> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut last = now_ns();
    let mut head_end = None;
    loop {
        if head_end.is_none() {
            head_end = pending
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|end| {
                    let head = String::from_utf8_lossy(&pending[..end]).to_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    (end + 4, length)
                });
        }
        if let Some((start, length)) = head_end {
            if pending.len() >= start + length {
                let body = pending[start..start + length].to_vec();
                pending.drain(..start + length);
                return Some((body, last));
            }
        }
        let n = socket.read(&mut buf).await.ok()?;
        last = now_ns();
        if n == 0 {
            return None;
        }
        pending.extend_from_slice(&buf[..n]);
    }
}

/// One SSE event as one HTTP chunk.
fn chunk(data: impl std::fmt::Display) -> String {
    let event = format!("data: {data}\n\n");
    format!("{:x}\r\n{event}\r\n", event.len())
}

/// Serves streamed replies, keeping connections alive as a real provider does.
async fn serve(listener: tokio::net::TcpListener, stamps: Shared, tool: String) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let _ = socket.set_nodelay(true);
        stamps.lock().unwrap().connections += 1;
        let stamps = stamps.clone();
        let tool = tool.clone();
        tokio::spawn(async move {
            let mut pending = Vec::new();
            while let Some((body, full)) = read_request(&mut socket, &mut pending).await {
                let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let last = request["messages"]
                    .as_array()
                    .and_then(|m| m.last())
                    .cloned()
                    .unwrap_or(Value::Null);
                let mut out = String::from(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
                );
                let follow_up = last["role"] == "tool";
                if follow_up {
                    {
                        let mut s = stamps.lock().unwrap();
                        s.follow_up_full = full;
                    }
                    out += &chunk(json!({"choices":[{"index":0,"delta":{"content":"done"}}]}));
                    out +=
                        &chunk(json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}));
                } else {
                    let size = if last["content"].to_string().contains("large") {
                        "large"
                    } else {
                        "small"
                    };
                    let arguments = json!({ "text": argument_for(size) }).to_string();
                    out += &chunk(json!({"choices":[{"index":0,"delta":{"tool_calls":[{
                        "index":0,"id":"call_1","type":"function",
                        "function":{"name":tool,"arguments":arguments}
                    }]}}]}));
                    out += &chunk(
                        json!({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}),
                    );
                }
                out += &chunk("[DONE]");
                out += "0\r\n\r\n";
                if socket.write_all(out.as_bytes()).await.is_err() {
                    return;
                }
                if !follow_up {
                    stamps.lock().unwrap().call_end = now_ns();
                }
            }
        });
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `p50 / p95` in milliseconds.
fn summary(values: &[f64]) -> String {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    format!(
        "{:.2} / {:.2}",
        quantile(&sorted, 0.5),
        quantile(&sorted, 0.95)
    )
}

/// The tool times (µs) in the server's timing log.
fn tool_times(path: &Path) -> Vec<f64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse().ok()))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    if has("--list") {
        return;
    }
    let test_mode = !has("--bench") || has("--test");
    let Ok(python) = std::env::var("HEARTH_MCP_PYTHON") else {
        println!(
            "tool_loop: HEARTH_MCP_PYTHON is not set (a Python with PyPI mcp, e.g. target/mcp/python-venv/bin/python; scripts/test.sh installs one); skipped"
        );
        return;
    };
    let rounds = if test_mode { 1 } else { ROUNDS };
    let warm_up = if test_mode { 1 } else { WARM_UP };
    START.get_or_init(Instant::now);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let timing_log = dir.path().join("tool-times.log");
    let engine = Engine::create_with_kdf(
        &AppPaths::new(dir.path().join("data")),
        Arc::new(hearth_keychain::MemoryStore::unavailable()),
        KeyProtection::Passphrase(Passphrase::new("benchmark passphrase")),
        KdfParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        },
    )
    .expect("vault");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/mcp/python_server.py");
    engine
        .add_tool_server(
            "py",
            ToolTransport::Stdio {
                command: python,
                args: vec![script.display().to_string(), "stdio".into()],
                env: vec![("MCP_TIMING_LOG".into(), timing_log.display().to_string())],
            },
        )
        .expect("tool server");
    let stamps = Shared::default();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(serve(listener, stamps.clone(), wire_name("py", "echo")));
        engine
            .set_provider(ProviderUpdate {
                id: "bench".into(),
                kind: Some("openai-compatible".into()),
                base_url: Some(format!("http://{addr}/v1")),
                default_model: Some("bench-model".into()),
                make_default: true,
            })
            .expect("provider");
        // Started once, as after a conversation's first call.
        let tools = engine
            .server_tools("py")
            .await
            .unwrap_or_else(|e| panic!("the Python SDK server did not start: {e}"));
        assert!(tools.iter().any(|t| t.name == "echo"), "no echo tool");
    });

    println!(
        "tool loop, end of the streamed call -> follow-up request at the provider, {rounds} replies each, milliseconds as p50 / p95"
    );
    println!(
        "{:<8} {:>15} {:>15} {:>15} {:>15} {:>15} {:>15}",
        "argument",
        "total",
        "tool's own",
        "total - own",
        "end -> started",
        "started -> result",
        "result -> request"
    );
    for size in ["small", "large"] {
        let expected = argument_for(size);
        let mut rows: [Vec<f64>; 6] = Default::default();
        for round in 0..warm_up + rounds {
            let before = tool_times(&timing_log).len();
            let (started, result) = rt.block_on(async {
                let mut reply = engine
                    .send(SendRequest {
                        text: size.into(),
                        tools: Some(vec!["py".into()]),
                        allow: vec!["py/*".parse().unwrap()],
                        ..Default::default()
                    })
                    .await
                    .expect("send");
                let (mut started, mut result) = (None, None);
                while let Some(event) = reply.next().await {
                    match event.expect("reply event") {
                        ReplyEvent::ToolStarted(_) => started = Some(now_ns()),
                        ReplyEvent::ToolResult(view) => {
                            result = Some(now_ns());
                            assert_eq!(view.status, ToolCallStatus::Approved, "{view:?}");
                            assert_eq!(view.result.as_deref(), Some(expected.as_str()));
                        }
                        ReplyEvent::ToolApproval(view) => panic!("asked to approve {view:?}"),
                        _ => {}
                    }
                }
                assert_eq!(reply.content(), "done");
                (
                    started.expect("the call never started"),
                    result.expect("the call never ended"),
                )
            });
            let times = tool_times(&timing_log);
            assert_eq!(times.len(), before + 1, "one tool call per reply");
            if round < warm_up {
                continue;
            }
            let s = *stamps.lock().unwrap();
            let ms = |later: u64, earlier: u64| {
                let ns = later
                    .checked_sub(earlier)
                    .expect("the instants are out of order");
                Duration::from_nanos(ns).as_secs_f64() * 1e3
            };
            let total = ms(s.follow_up_full, s.call_end);
            let own = times[before] / 1e3;
            for (row, value) in rows.iter_mut().zip([
                total,
                own,
                total - own,
                ms(started, s.call_end),
                ms(result, started),
                ms(s.follow_up_full, result),
            ]) {
                row.push(value);
            }
        }
        let cells: Vec<String> = rows.iter().map(|r| summary(r)).collect();
        println!(
            "{:<8} {:>15} {:>15} {:>15} {:>15} {:>15} {:>15}",
            size, cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]
        );
    }
    let replies = 2 * (warm_up + rounds);
    let connections = stamps.lock().unwrap().connections;
    println!(
        "{connections} connections for {replies} replies ({} requests)",
        2 * replies
    );
    rt.block_on(engine.stop_tool_servers());
}
