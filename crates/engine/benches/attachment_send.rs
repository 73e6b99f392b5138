//! Sending a message with a 20 MiB PDF attached: the time from `Engine::send` to the
//! first byte of the request reaching the provider's socket, and the process's peak
//! memory while it is sent, above what it used before.
//!
//! A loopback server written here notes when each connection's first byte arrives,
//! reads the whole request and answers with a one-delta reply. The PDF is picked
//! (read and checked) before the clock starts, as it is in the app when the user
//! presses Send; that step is timed on its own. Peak memory is Linux's VmHWM, reset
//! through /proc/self/clear_refs just before the send. Run with
//! `cargo bench -p hearth-engine --bench attachment_send`; results are reported in
//! docs/PERFORMANCE.md, never asserted.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hearth_engine::{
    AppPaths, Engine, KdfParams, KeyProtection, Passphrase, PickedFile, ProviderUpdate, SendRequest,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PDF_BYTES: usize = 20 << 20;
const ROUNDS: usize = 5;

/// When each request's first byte arrived, and its size.
type Seen = Arc<Mutex<Vec<(Instant, usize)>>>;

async fn serve(listener: tokio::net::TcpListener, seen: Seen) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let seen = seen.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 256 * 1024];
            let mut first = None;
            let mut total = 0usize;
            let mut head = Vec::new();
            let mut length = None;
            loop {
                let Ok(n) = socket.read(&mut buf).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                first.get_or_insert_with(Instant::now);
                total += n;
                if length.is_none() {
                    head.extend_from_slice(&buf[..n]);
                    if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                        let text = String::from_utf8_lossy(&head[..end]).to_lowercase();
                        let body: usize = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        length = Some(end + 4 + body);
                        head.clear();
                    }
                }
                if length.is_some_and(|l| total >= l) {
                    break;
                }
            }
            if let Some(at) = first {
                if let Ok(mut s) = seen.lock() {
                    s.push((at, total));
                }
            }
            let event = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"}}]}\n\ndata: [DONE]\n\n";
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{event}",
                event.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
        });
    }
}

/// A PDF of `size` bytes: a header, one stream of incompressible filler (different for
/// each `seed`, so no send finds its bytes already stored), an end.
fn pdf(size: usize, seed: u64) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n1 0 obj\n<< /Length 0 >>\nstream\n".to_vec();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x2545_F491_4F6C_DD1D);
    while out.len() < size - 32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(size - 32);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    while out.len() < size - 6 {
        out.push(b' ');
    }
    out.extend_from_slice(b"%%EOF\n");
    out
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        println!("attachment_send: skipped in test mode");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("paper.pdf");
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let seen: Seen = Arc::default();
    let mut first_bytes = Vec::new();
    let mut picks = Vec::new();
    let mut peaks = Vec::new();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(serve(listener, seen.clone()));
        engine
            .set_provider(ProviderUpdate {
                id: "bench".into(),
                kind: Some("openai-compatible".into()),
                base_url: Some(format!("http://{addr}/v1")),
                default_model: Some("bench-model".into()),
                make_default: true,
            })
            .expect("provider");
        for round in 0..ROUNDS {
            std::fs::write(&file, pdf(PDF_BYTES, round as u64)).expect("write the PDF");
            let idle_kib = status_kib("VmRSS:");
            let picked_at = Instant::now();
            let picked = PickedFile::read(&file).expect("pick the PDF");
            picks.push(picked_at.elapsed());
            let before_kib = status_kib("VmRSS:");
            // Resets VmHWM to the current RSS.
            let _ = std::fs::write("/proc/self/clear_refs", "5");
            let start = Instant::now();
            let mut reply = engine
                .send(SendRequest {
                    // A new conversation each round, so every request carries one PDF.
                    text: format!("Summarise this paper ({round})."),
                    files: vec![picked],
                    ..Default::default()
                })
                .await
                .expect("send");
            while reply.next().await.is_some() {}
            drop(reply);
            let peak_kib = status_kib("VmHWM:");
            peaks.push((
                peak_kib.saturating_sub(before_kib),
                peak_kib.saturating_sub(idle_kib.min(before_kib)),
            ));
            let arrived = seen.lock().expect("seen").last().copied();
            if let Some((at, size)) = arrived {
                first_bytes.push(at.saturating_duration_since(start));
                if round == 0 {
                    println!(
                        "request body on the wire: {:.1} MiB",
                        size as f64 / f64::from(1u32 << 20)
                    );
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    let mut sorted = first_bytes.clone();
    sorted.sort();
    println!(
        "20 MiB PDF, {ROUNDS} sends: time to the request's first byte: median {:.0} ms (each: {})",
        sorted.get(sorted.len() / 2).map_or(0.0, ms),
        first_bytes
            .iter()
            .map(|d| format!("{:.0}", ms(d)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "picking it (read + check): {}",
        picks
            .iter()
            .map(|d| format!("{:.0} ms", ms(d)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "peak memory while sending, above the process's with the file picked / before it was picked: {} (the file is {} MiB)",
        peaks
            .iter()
            .map(|(sent, all)| format!(
                "{:.1} / {:.1} MiB",
                *sent as f64 / 1024.0,
                *all as f64 / 1024.0
            ))
            .collect::<Vec<_>>()
            .join(", "),
        PDF_BYTES >> 20
    );
}
