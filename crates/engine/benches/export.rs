//! How long exporting a large vault to JSON takes, and how much memory it needs.
//!
//! Builds a passphrase vault of `HEARTH_EXPORT_BENCH_MESSAGES` messages (default
//! 1,000,000: 10,000 conversations of 100 messages, each conversation with a
//! regenerated reply) under `<target dir>/bench-fixtures/export/`, with one batched
//! [`Engine::import_trees`], and keeps it for the next run. Then it exports the whole
//! vault with [`Engine::export_json`] (and once as an archive) into a sink that only
//! counts bytes, so the disk is not measured, and prints the wall time, the throughput
//! and the peak resident memory (`VmHWM`, reset just before each export). Criterion
//! then times the JSON export over ten samples. Nothing is asserted; the numbers go
//! into docs/PERFORMANCE.md.
//!
//! Run with `cargo bench -p hearth-engine --bench export`.

#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use hearth_engine::{
    AppPaths, Conversation, ConversationTree, Engine, KdfParams, KeyProtection, Message,
    MessageStatus, Passphrase, Role,
};
use hearth_keychain::MemoryStore;

const PASS: &str = "benchmark passphrase";
const PER_CONVERSATION: usize = 100;

/// Counts what is written and throws it away.
#[derive(Default)]
struct Counting(u64);

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `<target dir>/bench-fixtures/export`, from where the bench binary runs.
fn fixture_dir(messages: usize) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/export-… → target
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    target
        .join("bench-fixtures")
        .join("export")
        .join(format!("{messages}-messages"))
}

/// A seeded xorshift, so every run builds the same vault.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const WORDS: &[&str] = &[
    "the", "a", "hearth", "fire", "stone", "warm", "model", "reply", "question", "answer",
    "because", "which", "kettle", "evening", "window", "garden", "river", "paper", "light",
    "quiet", "über", "naïve", "café", "🔥", "and", "of", "to", "in", "is", "that",
];

fn sentence(rng: &mut Rng, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 16);
    while s.len() < bytes {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(WORDS[(rng.next() % WORDS.len() as u64) as usize]);
    }
    s
}

/// Conversation `n`: user and assistant take turns; the middle reply was regenerated.
fn conversation(n: usize, rng: &mut Rng) -> ConversationTree {
    let id = format!("0190{n:08x}-0000-7000-8000-000000000000");
    let start = 1_700_000_000_000 + n as i64 * 600_000;
    let mut messages: Vec<Message> = Vec::with_capacity(PER_CONVERSATION);
    let mut parent: Option<String> = None;
    for i in 0..PER_CONVERSATION {
        let role = if i % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        };
        // Message 51 answers the same question as 50: a second branch.
        let parent_id = if i == 51 {
            messages[49].id.clone().into()
        } else {
            parent.clone()
        };
        let at = start + i as i64 * 1_000;
        let bytes = 200 + (rng.next() % 200) as usize;
        let m = Message {
            id: format!("{id}-{i:03}"),
            conversation_id: id.clone(),
            parent_id,
            role,
            content: sentence(rng, bytes),
            reasoning: (role == Role::Assistant && i % 10 == 1).then(|| sentence(rng, 120)),
            status: MessageStatus::Complete,
            error: None,
            provider_id: (role == Role::Assistant).then(|| "openai".to_owned()),
            model: (role == Role::Assistant).then(|| "gpt-bench".to_owned()),
            tokens_in: (role == Role::Assistant).then_some(400),
            tokens_out: (role == Role::Assistant).then_some(80),
            created_at: at,
            finished_at: Some(at + 500),
        };
        parent = Some(m.id.clone());
        messages.push(m);
    }
    ConversationTree {
        conversation: Conversation {
            id: id.clone(),
            title: sentence(rng, 30),
            created_at: start,
            updated_at: start + PER_CONVERSATION as i64 * 1_000,
            provider_id: Some("openai".into()),
            model: Some("gpt-bench".into()),
            system_prompt: None,
            params_json: None,
            pinned: false,
            archived: false,
            source: None,
            source_id: None,
            head_message_id: parent,
            project_id: None,
        },
        messages,
        attachments: Vec::new(),
        tool_calls: Vec::new(),
    }
}

/// Opens the fixture vault, building it first if it is not there.
fn fixture(messages: usize) -> Engine {
    let dir = fixture_dir(messages);
    let paths = AppPaths::new(&dir);
    let store = Arc::new(MemoryStore::unavailable());
    let pass = Passphrase::new(PASS);
    if Engine::exists(&paths) {
        if let Ok(engine) = Engine::open(&paths, store.clone(), Some(&pass)) {
            if engine.status().map(|s| s.messages).unwrap_or(0) == messages as i64 {
                return engine;
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!("building the fixture vault in {} …", dir.display());
    let started = Instant::now();
    let engine = Engine::create_with_kdf(
        &paths,
        store,
        KeyProtection::Passphrase(pass),
        KdfParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        },
    )
    .unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let conversations = messages.div_ceil(PER_CONVERSATION);
    engine
        .import_trees(
            (0..conversations).map(|n| Ok(conversation(n, &mut rng))),
            |_| {},
        )
        .unwrap();
    eprintln!("built in {:.1} s", started.elapsed().as_secs_f64());
    engine
}

/// Peak resident memory of this process so far, in KiB (`VmHWM`).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resident memory now, in KiB (`VmRSS`).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets `VmHWM` to the current resident size (Linux).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn report(what: &str, engine: &Engine, export: impl Fn(&Engine, &mut Counting)) {
    reset_peak();
    let before = rss_kib();
    let mut sink = Counting::default();
    let started = Instant::now();
    export(engine, &mut sink);
    let took = started.elapsed();
    let peak = peak_rss_kib();
    let mb = sink.0 as f64 / 1e6;
    println!(
        "{what}: {mb:.0} MB in {:.2} s ({:.0} MB/s); resident before {:.0} MiB, peak {:.0} MiB (+{:.0} MiB)",
        took.as_secs_f64(),
        mb / took.as_secs_f64(),
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        peak.saturating_sub(before) as f64 / 1024.0,
    );
}

/// Exports on a thread into a pipe while a fresh vault imports from the other end
/// ([`Engine::import_hearth_json`]), so the export never touches the disk; prints the
/// time and the peak memory of the whole process.
fn import_back(source: &Engine, messages: usize) {
    let dir = tempfile::tempdir_in(fixture_dir(messages).parent().unwrap()).unwrap();
    let dest = Engine::create_with_kdf(
        &AppPaths::new(dir.path()),
        Arc::new(MemoryStore::unavailable()),
        KeyProtection::Passphrase(Passphrase::new(PASS)),
        KdfParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        },
    )
    .unwrap();
    reset_peak();
    let before = rss_kib();
    let started = Instant::now();
    let (reader, writer) = io::pipe().unwrap();
    let report = std::thread::scope(|scope| {
        scope.spawn(move || {
            source
                .export_json(io::BufWriter::new(writer), None, |_| {})
                .unwrap()
        });
        dest.import_hearth_json(io::BufReader::new(reader), |_| {})
            .unwrap()
    });
    let took = started.elapsed();
    let peak = peak_rss_kib();
    assert_eq!(report.messages, messages as u64);
    println!(
        "export piped into import of a fresh vault: {} messages in {:.1} s; resident before {:.0} MiB, peak {:.0} MiB (+{:.0} MiB)",
        report.messages,
        took.as_secs_f64(),
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        peak.saturating_sub(before) as f64 / 1024.0,
    );
}

fn main() {
    // `cargo test --benches` runs benches in test mode: keep that quick.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        println!("export: skipped in test mode");
        return;
    }
    let messages: usize = std::env::var("HEARTH_EXPORT_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let engine = fixture(messages);
    println!("export of {messages} messages");
    report("json", &engine, |e, sink| {
        let done = e.export_json(sink, None, |_| {}).unwrap();
        assert_eq!(done.messages, messages as u64);
    });
    report(
        "archive (incl. one Argon2id at 64 MiB)",
        &engine,
        |e, sink| {
            e.export_archive(sink, &Passphrase::new(PASS), None, |_| {})
                .unwrap();
        },
    );

    import_back(&engine, messages);

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(60))
        .configure_from_args();
    criterion.bench_function(&format!("export_json_{messages}_messages"), |b| {
        b.iter(|| {
            let mut sink = Counting::default();
            engine.export_json(&mut sink, None, |_| {}).unwrap();
            sink.0
        })
    });
    criterion.final_summary();
}
