//! How much latency Hearth adds between a delta leaving the provider's socket and the
//! front end receiving it from [`hearth_engine::Reply::next`] (which includes saving the
//! growing reply every 250 ms).
//!
//! A loopback server written here streams OpenAI-style deltas, each carrying the time it
//! was written (nanoseconds since a shared start instant); the client subtracts. Run with
//! `cargo bench -p hearth-engine --bench reply_latency`; it prints p50/p99/max in
//! microseconds. Results are reported in docs/PERFORMANCE.md, never asserted.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use hearth_engine::{
    AppPaths, Engine, KdfParams, KeyProtection, Passphrase, ProviderUpdate, ReplyEvent, SendRequest,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Deltas per measured reply.
const DELTAS: usize = 2_000;
/// Pause between deltas, like a fast model (about 200 tokens/s).
const GAP: Duration = Duration::from_millis(5);

static START: OnceLock<Instant> = OnceLock::new();

fn now_ns() -> u128 {
    START.get_or_init(Instant::now).elapsed().as_nanos()
}

/// Serves one streamed reply per connection, stamping each delta as it is written.
async fn serve(listener: tokio::net::TcpListener) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            let mut request = Vec::new();
            // Read the request head and body (Content-Length) before answering.
            loop {
                let Ok(n) = socket.read(&mut buf).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                request.extend_from_slice(&buf[..n]);
                if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&request[..end]).to_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let _ = socket.set_nodelay(true);
            for _ in 0..DELTAS {
                tokio::time::sleep(GAP).await;
                let event = format!(
                    "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"<{}>\"}}}}]}}\n\n",
                    now_ns()
                );
                let chunk = format!("{:x}\r\n{event}\r\n", event.len());
                if socket.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
            }
            let end = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
            let _ = socket
                .write_all(format!("{:x}\r\n{end}\r\n0\r\n\r\n", end.len()).as_bytes())
                .await;
        });
    }
}

fn percentile(sorted: &[u128], p: f64) -> u128 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    // `cargo test --benches` runs benches in test mode: keep that quick.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        println!("reply_latency: skipped in test mode");
        return;
    }
    START.get_or_init(Instant::now);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
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
    let latencies = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(serve(listener));
        engine
            .set_provider(ProviderUpdate {
                id: "bench".into(),
                kind: Some("openai-compatible".into()),
                base_url: Some(format!("http://{addr}/v1")),
                default_model: Some("bench-model".into()),
                make_default: true,
            })
            .expect("provider");
        let mut reply = engine
            .send(SendRequest {
                text: "go".into(),
                ..Default::default()
            })
            .await
            .expect("send");
        let mut latencies = Vec::with_capacity(DELTAS);
        while let Some(event) = reply.next().await {
            let now = now_ns();
            if let Ok(ReplyEvent::Text(text)) = event {
                if let Some(stamp) = text.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
                    if let Ok(sent) = stamp.parse::<u128>() {
                        latencies.push(now.saturating_sub(sent));
                    }
                }
            }
        }
        latencies
    });
    let mut us: Vec<u128> = latencies.iter().map(|ns| ns / 1_000).collect();
    us.sort_unstable();
    assert!(!us.is_empty(), "no deltas arrived");
    println!(
        "reply latency, socket write -> Reply::next, {} deltas: p50 {} us, p99 {} us, max {} us",
        us.len(),
        percentile(&us, 0.50),
        percentile(&us, 0.99),
        us[us.len() - 1]
    );
}
