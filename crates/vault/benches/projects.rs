//! The sidebar of a large, organised vault: 50 projects holding 10,000 conversations
//! (each with a question and a reply), and the calls the desktop app makes to show it —
//! the project list with its counts, one project's conversations newest first, the
//! conversations in no project, and a search narrowed to one project.
//!
//! A plain program (`cargo bench -p hearth-vault --bench projects`); numbers go to
//! docs/PERFORMANCE.md. Nothing is asserted.

use std::time::{Duration, Instant};

use hearth_keychain::MemoryStore;
use hearth_vault::{
    ConversationScope, ConversationTree, KdfParams, KeyProtection, Message, MessageStatus, Role,
    SearchFilter, Vault, VaultError, VaultPaths,
};

const PROJECTS: usize = 50;
const CONVERSATIONS: usize = 10_000;
/// One conversation in this many is in no project.
const UNFILED_EVERY: usize = 10;
/// Rows the desktop asks for per page of a list.
const PAGE: u32 = 200;
const RUNS: usize = 200;

const WORDS: &[&str] = &[
    "hearth", "granite", "kettle", "lantern", "meadow", "orchard", "pebble", "quartz", "river",
    "saddle", "thistle", "umber", "willow", "yarrow", "zephyr", "amber",
];

fn tree(c: usize, project: Option<&str>) -> ConversationTree {
    let id = format!("bench-{c:05}");
    let at = 1_700_000_000_000 + c as i64 * 60_000;
    let messages = (0..2)
        .map(|m| {
            let words: Vec<&str> = (0..30)
                .map(|w| WORDS[(c * 7 + m * 3 + w) % WORDS.len()])
                .collect();
            Message {
                id: format!("{id}-{m}"),
                conversation_id: id.clone(),
                parent_id: (m > 0).then(|| format!("{id}-0")),
                role: if m == 0 { Role::User } else { Role::Assistant },
                content: words.join(" "),
                reasoning: None,
                status: MessageStatus::Complete,
                error: None,
                provider_id: None,
                model: None,
                tokens_in: None,
                tokens_out: None,
                created_at: at + m as i64,
                finished_at: Some(at + m as i64),
            }
        })
        .collect();
    ConversationTree {
        conversation: hearth_vault::Conversation {
            id: id.clone(),
            title: format!("Conversation {c}"),
            created_at: at,
            updated_at: at + 1,
            provider_id: None,
            model: None,
            system_prompt: None,
            params_json: None,
            pinned: false,
            archived: c.is_multiple_of(97),
            source: None,
            source_id: None,
            head_message_id: Some(format!("{id}-1")),
            project_id: project.map(str::to_owned),
        },
        messages,
        attachments: Vec::new(),
        tool_calls: Vec::new(),
    }
}

fn percentiles(mut times: Vec<Duration>) -> String {
    times.sort();
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    format!(
        "p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3
    )
}

fn time(runs: usize, mut f: impl FnMut(usize)) -> Vec<Duration> {
    (0..runs)
        .map(|i| {
            let start = Instant::now();
            f(i);
            start.elapsed()
        })
        .collect()
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        println!("projects: skipped in test mode");
        return;
    }
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
    let projects: Vec<String> = (0..PROJECTS)
        .map(|p| {
            vault
                .create_project(&format!("Project {p:02}"), "Be brief.")
                .expect("project")
                .id
        })
        .collect();
    let started = Instant::now();
    // Filed conversations go round the projects in turn: 180 each.
    let mut filed = 0usize;
    vault
        .import(
            (0..CONVERSATIONS).map(|c| {
                let project = (!c.is_multiple_of(UNFILED_EVERY)).then(|| {
                    filed += 1;
                    projects[filed % PROJECTS].as_str()
                });
                Ok::<_, VaultError>(tree(c, project))
            }),
            |_| {},
        )
        .expect("import");
    println!(
        "built {PROJECTS} projects, {CONVERSATIONS} conversations in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Reopen, so the timings start from a cold page cache as after an unlock.
    vault.lock().expect("lock");
    let vault = Vault::open(&paths, &store, None).expect("open");

    let first = Instant::now();
    let sidebar = vault.projects().expect("projects");
    println!(
        "first project list after opening ({} projects): {:.2} ms",
        sidebar.len(),
        first.elapsed().as_secs_f64() * 1e3
    );
    let first = Instant::now();
    let rows = vault
        .list_scope(ConversationScope::Project(&projects[0]), PAGE, 0)
        .expect("list");
    println!(
        "first project's conversations after opening ({} rows): {:.2} ms",
        rows.len(),
        first.elapsed().as_secs_f64() * 1e3
    );
    let t = time(RUNS, |_| {
        std::hint::black_box(vault.projects().expect("projects"));
    });
    println!("project list with counts: {}", percentiles(t));
    let t = time(RUNS, |i| {
        let rows = vault
            .list_scope(ConversationScope::Project(&projects[i % PROJECTS]), PAGE, 0)
            .expect("list");
        std::hint::black_box(rows);
    });
    println!(
        "one project's conversations (first {PAGE}): {}",
        percentiles(t)
    );
    let t = time(RUNS, |_| {
        let rows = vault
            .list_scope(ConversationScope::Unfiled, PAGE, 0)
            .expect("list");
        std::hint::black_box(rows);
    });
    println!(
        "conversations in no project (first {PAGE}): {}",
        percentiles(t)
    );
    let t = time(RUNS, |_| {
        let rows = vault
            .list_scope(ConversationScope::Active, PAGE, 0)
            .expect("list");
        std::hint::black_box(rows);
    });
    println!(
        "all conversations (first {PAGE}), for comparison: {}",
        percentiles(t)
    );
    let t = time(RUNS / 4, |i| {
        let filter = SearchFilter {
            project_id: Some(projects[i % PROJECTS].clone()),
            ..Default::default()
        };
        let hits = vault
            .search_filtered("lantern", &filter, 50)
            .expect("search");
        std::hint::black_box(hits);
    });
    println!(
        "search narrowed to one project (\"lantern\"): {}",
        percentiles(t)
    );
}
