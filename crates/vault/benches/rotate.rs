//! Replacing the data key of a vault of one million messages: how long
//! [`Vault::rotate_key`] takes and the process's peak memory while it runs.
//!
//! The vault is built here (10,000 conversations of 100 messages of about 40 words, in
//! one import), then rotated once. Run with `cargo bench -p hearth-vault --bench rotate`
//! (about 5 minutes on the 2-core machine of docs/PERFORMANCE.md); results are reported
//! there, never asserted. `HEARTH_ROTATE_MESSAGES` changes the size.

use std::time::Instant;

use hearth_keychain::MemoryStore;
use hearth_vault::{
    Conversation, ConversationTree, KdfParams, KeyProtection, Message, MessageStatus, Role, Vault,
    VaultError, VaultPaths,
};

const PER_CONVERSATION: usize = 100;

const WORDS: &[&str] = &[
    "hearth", "stone", "fire", "kindling", "ash", "oak", "birch", "smoke", "chimney", "warm",
    "evening", "bread", "kettle", "window", "winter", "garden", "letter", "river", "lantern",
    "question", "answer", "because", "perhaps", "quickly", "slowly", "between", "under",
];

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

fn tree(c: usize, rng: &mut u64) -> ConversationTree {
    let mut next = || {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        *rng
    };
    let id = format!("bench-{c}");
    let messages: Vec<Message> = (0..PER_CONVERSATION)
        .map(|m| {
            let text: Vec<&str> = (0..40)
                .map(|_| WORDS[(next() % WORDS.len() as u64) as usize])
                .collect();
            Message {
                id: format!("{id}-{m}"),
                conversation_id: id.clone(),
                parent_id: (m > 0).then(|| format!("{id}-{}", m - 1)),
                role: if m % 2 == 0 {
                    Role::User
                } else {
                    Role::Assistant
                },
                content: text.join(" "),
                reasoning: None,
                status: MessageStatus::Complete,
                error: None,
                provider_id: None,
                model: None,
                tokens_in: None,
                tokens_out: None,
                created_at: m as i64,
                finished_at: Some(m as i64),
            }
        })
        .collect();
    ConversationTree {
        conversation: Conversation {
            id: id.clone(),
            title: format!("conversation {c}"),
            created_at: c as i64,
            updated_at: c as i64,
            provider_id: None,
            model: None,
            system_prompt: None,
            params_json: None,
            pinned: false,
            archived: false,
            source: None,
            source_id: None,
            head_message_id: Some(format!("{id}-{}", PER_CONVERSATION - 1)),
            project_id: None,
        },
        messages,
        attachments: Vec::new(),
        tool_calls: Vec::new(),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        println!("rotate: skipped in test mode");
        return;
    }
    let messages: usize = std::env::var("HEARTH_ROTATE_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let conversations = messages / PER_CONVERSATION;
    let dir = tempfile::tempdir().expect("temp dir");
    let paths = VaultPaths::new(dir.path().join("vault"));
    let store = MemoryStore::new();
    let mut vault = Vault::create(
        &paths,
        &store,
        KeyProtection::Keychain,
        KdfParams::default(),
    )
    .expect("vault");
    let started = Instant::now();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    vault
        .import(
            (0..conversations).map(|c| Ok::<_, VaultError>(tree(c, &mut rng))),
            |_| {},
        )
        .expect("import");
    let size = std::fs::metadata(paths.database())
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "built {messages} messages in {:.0} s: hearth.db {:.0} MiB",
        started.elapsed().as_secs_f64(),
        size as f64 / f64::from(1u32 << 20)
    );
    let before = status_kib("VmRSS:");
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let started = Instant::now();
    let mut copy_started = None;
    let mut reports = Vec::new();
    vault
        .rotate_key(&store, None, |step| {
            if let hearth_vault::RotationStep::Copying { done, total } = step {
                copy_started.get_or_insert_with(Instant::now);
                reports.push((done, total));
            }
        })
        .expect("rotate");
    let took = started.elapsed();
    let peak = status_kib("VmHWM:");
    println!(
        "rotation of {messages} messages: {:.1} s (the copy under the new key from {:.1} s), peak memory {:.0} MiB above the {:.0} MiB before",
        took.as_secs_f64(),
        copy_started.map_or(0.0, |c| (c - started).as_secs_f64()),
        peak.saturating_sub(before) as f64 / 1024.0,
        before as f64 / 1024.0
    );
    let shown: Vec<String> = reports
        .iter()
        .step_by((reports.len() / 10).max(1))
        .map(|(done, total)| format!("{}%", done * 100 / (*total).max(1)))
        .collect();
    println!(
        "progress reported {} times: {}",
        reports.len(),
        shown.join(" ")
    );
    assert_eq!(vault.count_messages().expect("count") as usize, messages);
}
