//! How long importing a large ChatGPT export takes, and how much memory it needs.
//!
//! Writes a synthetic `conversations.json` of about `HEARTH_IMPORT_BENCH_MB` megabytes
//! (default 1024) under `<target dir>/bench-fixtures/import/`, one conversation at a
//! time so the generator never holds the file, and keeps it for the next run. Then it
//! imports the file into a fresh passphrase vault with `Engine::import_file` and prints
//! the wall time, the on-CPU time, the throughput and the peak resident memory (`VmHWM`,
//! reset just before the import). The goals (1 GB in 60 s, 500 MB peak) are reported in
//! docs/PERFORMANCE.md, never asserted.
//!
//! Run with `cargo bench -p hearth-engine --bench import`.

#![allow(clippy::unwrap_used)]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use hearth_engine::transfer::detect::{ImportFormat, Piece};
use hearth_engine::{AppPaths, Engine, KdfParams, KeyProtection, Passphrase};
use serde_json::{json, Map, Value};

/// Bump when the generated data changes, so a cached fixture is rebuilt.
const GENERATOR_VERSION: u32 = 1;

/// A seeded xorshift generator: the same export on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }
}

const WORDS: &[&str] = &[
    "the",
    "a",
    "to",
    "and",
    "of",
    "in",
    "is",
    "you",
    "that",
    "it",
    "for",
    "with",
    "this",
    "can",
    "be",
    "on",
    "are",
    "as",
    "your",
    "or",
    "function",
    "data",
    "file",
    "example",
    "use",
    "code",
    "value",
    "error",
    "returns",
    "string",
    "list",
    "here",
    "how",
    "what",
    "would",
    "should",
    "model",
    "question",
    "answer",
    "because",
    "recipe",
    "garden",
    "travel",
    "history",
    "python",
    "rust",
    "memory",
    "network",
    "budget",
    "summary",
    "thanks",
    "please",
    "explain",
    "step",
    "first",
    "then",
    "finally",
    "result",
    "great",
    "idea",
    "project",
    "meeting",
    "email",
    "draft",
    "review",
    "quickly",
    "carefully",
];

fn sentence_text(rng: &mut Rng, min: u64, max: u64) -> String {
    let target = (min + rng.below(max - min)) as usize;
    let mut text = String::with_capacity(target + 16);
    let mut start = true;
    while text.len() < target {
        let word = WORDS[rng.below(WORDS.len() as u64) as usize];
        if start {
            let mut c = word.chars();
            if let Some(first) = c.next() {
                text.extend(first.to_uppercase());
                text.push_str(c.as_str());
            }
            start = false;
        } else {
            text.push(' ');
            text.push_str(word);
        }
        if rng.below(12) == 0 {
            text.push_str(if rng.below(8) == 0 { ".\n\n" } else { ". " });
            start = true;
        }
    }
    text.push('.');
    text
}

/// One node, shaped like a real export's (with its metadata noise).
fn message_node(
    id: &str,
    parent: Option<&str>,
    children: &[String],
    role: &str,
    text: &str,
    time: f64,
) -> Value {
    let metadata = if role == "assistant" {
        json!({
            "citations": [], "content_references": [], "message_type": null,
            "model_slug": "gpt-4o", "default_model_slug": "gpt-4o", "parent_id": parent,
            "request_id": "8f2a1c3b4d5e6f70-AMS", "timestamp_": "absolute",
            "finish_details": {"type": "stop", "stop_tokens": [200002]}, "is_complete": true
        })
    } else {
        json!({"request_id": "8f2a1c3b4d5e6f70-AMS", "timestamp_": "absolute", "message_type": null})
    };
    json!({
        "id": id,
        "message": {
            "id": id,
            "author": {"role": role, "name": null, "metadata": {}},
            "create_time": time, "update_time": null,
            "content": {"content_type": "text", "parts": [text]},
            "status": "finished_successfully", "end_turn": role == "assistant", "weight": 1.0,
            "metadata": metadata, "recipient": "all", "channel": null
        },
        "parent": parent,
        "children": children,
    })
}

/// One conversation: a hidden system message, 2–40 turns, and every third conversation
/// a regenerated reply, every fifth an edited question with its own reply.
fn conversation(rng: &mut Rng, n: u64) -> (Value, u64) {
    let start = 1_600_000_000.0 + n as f64 * 3600.0;
    let mut nodes: Vec<(String, Option<String>, String, String, f64)> = Vec::new();
    let root = rng.uuid();
    let system = rng.uuid();
    let turns = 1 + rng.below(20);
    let mut parent = system.clone();
    let mut t = start;
    let mut last = system.clone();
    for turn in 0..turns {
        let user = rng.uuid();
        let text = sentence_text(rng, 60, 500);
        t += 30.5;
        nodes.push((user.clone(), Some(parent.clone()), "user".into(), text, t));
        let reply = rng.uuid();
        let text = sentence_text(rng, 300, 2200);
        t += 12.25;
        nodes.push((
            reply.clone(),
            Some(user.clone()),
            "assistant".into(),
            text,
            t,
        ));
        if n.is_multiple_of(3) && turn == turns / 2 {
            let again = rng.uuid();
            let text = sentence_text(rng, 300, 2200);
            nodes.push((again, Some(user.clone()), "assistant".into(), text, t + 5.0));
        }
        if n.is_multiple_of(5) && turn == 0 {
            let edited = rng.uuid();
            let text = sentence_text(rng, 60, 500);
            nodes.push((
                edited.clone(),
                Some(parent.clone()),
                "user".into(),
                text,
                t + 1.0,
            ));
            let answer = rng.uuid();
            let text = sentence_text(rng, 300, 2200);
            nodes.push((answer, Some(edited), "assistant".into(), text, t + 2.0));
        }
        parent = reply.clone();
        last = reply;
    }
    let mut children: std::collections::HashMap<String, Vec<String>> = Default::default();
    for (id, p, ..) in &nodes {
        if let Some(p) = p {
            children.entry(p.clone()).or_default().push(id.clone());
        }
    }
    let mut mapping = Map::new();
    mapping.insert(
        root.clone(),
        json!({"id": root, "message": null, "parent": null, "children": [system]}),
    );
    let sys = json!({
        "id": system,
        "message": {
            "id": system, "author": {"role": "system", "name": null, "metadata": {}},
            "create_time": null, "update_time": null,
            "content": {"content_type": "text", "parts": [""]},
            "status": "finished_successfully", "end_turn": true, "weight": 0.0,
            "metadata": {"is_visually_hidden_from_conversation": true}, "recipient": "all"
        },
        "parent": root,
        "children": children.get(&system).cloned().unwrap_or_default(),
    });
    mapping.insert(system.clone(), sys);
    let count = nodes.len() as u64;
    for (id, p, role, text, time) in &nodes {
        let kids = children.get(id).cloned().unwrap_or_default();
        mapping.insert(
            id.clone(),
            message_node(id, p.as_deref(), &kids, role, text, *time),
        );
    }
    let id = rng.uuid();
    let value = json!({
        "title": format!("Conversation {n}"),
        "create_time": start, "update_time": t,
        "mapping": mapping,
        "moderation_results": [], "current_node": last, "plugin_ids": null,
        "conversation_id": id, "conversation_template_id": null, "gizmo_id": null,
        "is_archived": false, "safe_urls": [], "default_model_slug": "gpt-4o", "id": id,
    });
    (value, count)
}

/// Writes the export, streaming, until it reaches `bytes`. Returns conversations and
/// message nodes written.
fn generate(path: &Path, bytes: u64) -> (u64, u64) {
    let tmp = path.with_extension("partial");
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp).unwrap());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut written = 1u64;
    let (mut conversations, mut messages) = (0u64, 0u64);
    out.write_all(b"[").unwrap();
    while written < bytes {
        let (value, count) = conversation(&mut rng, conversations);
        let text = serde_json::to_vec(&value).unwrap();
        if conversations > 0 {
            out.write_all(b",\n").unwrap();
            written += 2;
        }
        out.write_all(&text).unwrap();
        written += text.len() as u64;
        conversations += 1;
        messages += count;
    }
    out.write_all(b"]\n").unwrap();
    out.flush().unwrap();
    drop(out);
    std::fs::rename(&tmp, path).unwrap();
    (conversations, messages)
}

/// The cargo target directory this bench runs from (`<target>/release/deps/import-…`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
}

/// This process's `VmHWM` (peak resident memory) in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// On-CPU seconds of this process, all threads (user + system).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that is not "import" skips this bench.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"import".contains(&a))
    {
        return;
    }
    let megabytes: u64 = std::env::var("HEARTH_IMPORT_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let fixtures = target_dir().join("bench-fixtures").join("import");
    std::fs::create_dir_all(&fixtures).unwrap();
    let path = fixtures.join(format!("chatgpt-{megabytes}mb-v{GENERATOR_VERSION}.json"));
    if !path.exists() {
        println!("generating {} ...", path.display());
        let started = Instant::now();
        let (conversations, messages) = generate(&path, megabytes << 20);
        println!(
            "generated {conversations} conversations, {messages} message nodes in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let size = std::fs::metadata(&path).unwrap().len();

    // Reading and converting alone, on one thread, without the vault: how much of the
    // import is parsing.
    let started = Instant::now();
    let mut parsed = (0u64, 0u64);
    hearth_engine::transfer::chatgpt::read(
        std::io::BufReader::new(File::open(&path).unwrap()),
        "bench",
        &mut |piece| {
            if let Piece::Tree(tree) = piece {
                parsed.0 += 1;
                parsed.1 += tree.messages.len() as u64;
            }
            Ok(())
        },
    )
    .unwrap();
    let parse_only = started.elapsed().as_secs_f64();

    let vault_dir = tempfile::tempdir_in(&fixtures).unwrap();
    let paths = AppPaths::new(vault_dir.path().join("data"));
    let engine = Engine::create_with_kdf(
        &paths,
        Arc::new(hearth_keychain::MemoryStore::unavailable()),
        KeyProtection::Passphrase(Passphrase::new("benchmark passphrase")),
        KdfParams::default(),
    )
    .unwrap();

    // Reset the peak so it measures the import alone (Linux: "5" clears VmHWM).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = peak_rss_kib().unwrap_or(0);
    let cpu_start = cpu_seconds();
    let started = Instant::now();
    let report = engine
        .import_file(&path, ImportFormat::Auto, |_| {})
        .unwrap()
        .report;
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu_start).map(|(b, a)| b - a);
    let peak = peak_rss_kib().unwrap_or(0);
    let vault_bytes = dir_size(paths.data_dir());
    engine.lock().unwrap();

    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!("== Hearth import benchmark ==");
    println!("export        {:.0} MiB ({size} bytes)", mib(size));
    println!(
        "imported      {} conversations, {} messages ({} skipped)",
        report.added, report.messages, report.skipped
    );
    println!("wall time     {wall:.1} s ({:.1} MiB/s)", mib(size) / wall);
    println!(
        "parse only    {parse_only:.1} s ({:.1} MiB/s; {} conversations, {} messages, no vault)",
        mib(size) / parse_only,
        parsed.0,
        parsed.1
    );
    if let Some(cpu) = cpu {
        println!("on-CPU time   {cpu:.1} s (both threads)");
    }
    println!(
        "peak RSS      {:.0} MiB (VmHWM{}; {:.0} MiB before the import)",
        peak as f64 / 1024.0,
        if reset {
            ", reset before the import"
        } else {
            ", whole process"
        },
        before as f64 / 1024.0
    );
    println!("vault size    {:.0} MiB", mib(vault_bytes));
    println!("goals         1 GiB in <= 60 s, <= 500 MB peak RSS (reported, not asserted)");
}
