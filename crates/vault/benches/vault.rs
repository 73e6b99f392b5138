//! Vault benchmarks: what encryption costs on insert, how long a one-million-message vault
//! takes to open, and how fast full-text search answers over it.
//!
//! `scripts/bench.sh` runs them and `docs/PERFORMANCE.md` records the results. Under
//! `cargo bench` the full sizes are used and the one-million-message fixture is cached
//! under `<target>/bench-fixtures/` (or `$HEARTH_BENCH_FIXTURES`); under `cargo test`
//! (criterion's test mode) every size shrinks so the code is exercised in seconds.
//!
//! Everything here is measured and reported, never asserted against the goals.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use hearth_keychain::{MemoryStore, SecretStore};
use hearth_vault::schema::{self, MIGRATIONS};
use hearth_vault::{
    data_key_account, DataKey, KdfParams, KeyProtection, NewConversation, NewMessage, Role, Vault,
    VaultPaths,
};
use rusqlite::{params, Connection, OptionalExtension};

/// Bumped whenever the text generator or the fixture layout changes, so a cached fixture
/// built by older code is not reused.
const GENERATOR_VERSION: u32 = 1;
/// Seed of every generator: the same run builds the same data.
const SEED: u64 = 0x4845_4152_5448_2d31;
/// Distinct words the text generator draws from (Zipf-distributed).
const VOCABULARY: usize = 50_000;
/// Number of results asked of `Vault::search`, as the app's search box does.
const SEARCH_LIMIT: u32 = 50;
/// Cache size (KiB, as a negative `cache_size`) used only while building the big fixture;
/// the benchmarks themselves run with the vault's own settings.
const FIXTURE_BUILD_CACHE_KIB: i64 = 64 * 1024;
/// Messages per transaction while building the big fixture.
const FIXTURE_BUILD_BATCH: usize = 10_000;

/// How big each benchmark is.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    /// Messages inserted by the batched insert benchmark.
    batched_messages: usize,
    /// Messages per transaction in the batched insert benchmark.
    batch_size: usize,
    /// Messages inserted by the one-commit-per-message benchmark.
    per_commit_messages: usize,
    /// Rounds of each insert benchmark (every variant runs once per round).
    insert_rounds: usize,
    /// Messages in the fixture that open and search run against.
    fixture_messages: usize,
    /// Queries timed one by one for the search percentiles.
    percentile_queries: usize,
}

/// The sizes the goals are stated for.
const FULL: Sizes = Sizes {
    batched_messages: 100_000,
    batch_size: 1_000,
    per_commit_messages: 2_000,
    insert_rounds: 6,
    fixture_messages: 1_000_000,
    percentile_queries: 200,
};

/// Sizes for `cargo test`, which runs each benchmark once to prove it works.
const SMOKE: Sizes = Sizes {
    batched_messages: 2_000,
    batch_size: 100,
    per_commit_messages: 20,
    insert_rounds: 1,
    fixture_messages: 5_000,
    percentile_queries: 30,
};

// ---------------------------------------------------------------------------------------
// Deterministic data
// ---------------------------------------------------------------------------------------

/// xorshift64*: small, fast, and enough to make varied but reproducible text.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below((hi - lo + 1) as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The most frequent words, most frequent first: ordinary English plus the words a chat
/// with a coding assistant is full of.
const COMMON_WORDS: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "for", "this", "with", "can",
    "be", "on", "as", "not", "are", "use", "or", "if", "your", "have", "from", "an", "will", "we",
    "what", "but", "all", "when", "there", "so", "do", "one", "by", "which", "they", "how", "i",
    "would", "about", "more", "like", "then", "them", "these", "some", "could", "other", "into",
    "time", "make", "than", "first", "been", "way", "need", "should", "each", "just", "code",
    "function", "value", "file", "error", "data", "example", "here", "also", "new", "because",
    "where", "only", "see", "any", "after", "want", "work", "type", "return", "list", "string",
    "using", "call", "test", "change", "version", "line", "model", "question", "answer", "problem",
    "result", "number", "write", "read", "people", "water", "thing", "back", "good", "know",
    "take", "year", "over", "think", "still", "between", "same", "while", "long", "help", "set",
    "rust", "python", "server", "config", "build", "recipe", "travel", "budget", "email",
    "meeting", "draft", "summary", "explain", "better", "simple", "option", "thanks", "sure",
    "great", "try", "again", "yes", "maybe", "idea", "plan", "week", "today", "tomorrow",
    "project", "team", "user", "client",
];

/// Consonants that start a syllable of a made-up word; `n` is kept out of it to end words,
/// so no made-up word is a prefix of another.
const CONSONANTS: &[u8] = b"bdfgklmprstvz";
const VOWELS: &[u8] = b"aeiou";

/// The `k`-th made-up word: two or three consonant-vowel syllables and a final `n`.
fn made_up_word(k: usize) -> String {
    let syllables = CONSONANTS.len() * VOWELS.len();
    let (mut k, count) = if k < syllables * syllables {
        (k, 2)
    } else {
        (k - syllables * syllables, 3)
    };
    let mut word = String::with_capacity(count * 2 + 1);
    for _ in 0..count {
        let s = k % syllables;
        k /= syllables;
        word.push(CONSONANTS[s / VOWELS.len()] as char);
        word.push(VOWELS[s % VOWELS.len()] as char);
    }
    word.push('n');
    word
}

/// Text with a Zipf word distribution (rank r drawn with weight 1/r), so some words are
/// in nearly every message, some in thousands and most in a handful.
struct TextGen {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl TextGen {
    fn new() -> Self {
        let mut seen = std::collections::HashSet::new();
        let mut words = Vec::with_capacity(VOCABULARY);
        for w in COMMON_WORDS {
            if seen.insert((*w).to_owned()) {
                words.push((*w).to_owned());
            }
        }
        let mut k = 0;
        while words.len() < VOCABULARY {
            let w = made_up_word(k);
            k += 1;
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
        let mut total = 0.0;
        let cumulative = (0..words.len())
            .map(|rank| {
                total += 1.0 / (rank + 1) as f64;
                total
            })
            .collect();
        TextGen { words, cumulative }
    }

    fn word(&self, rng: &mut Rng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let u = rng.unit() * total;
        let rank = self
            .cumulative
            .partition_point(|&c| c < u)
            .min(self.words.len() - 1);
        &self.words[rank]
    }

    /// Sentences of 200–400 bytes.
    fn message(&self, rng: &mut Rng) -> String {
        let target = rng.between(200, 400);
        let mut text = String::with_capacity(416);
        let mut sentence_left = 0;
        loop {
            let word = self.word(rng);
            if text.len() + word.len() + 2 > 400 {
                break;
            }
            if sentence_left == 0 {
                if !text.is_empty() {
                    text.push(' ');
                }
                let mut chars = word.chars();
                if let Some(first) = chars.next() {
                    text.extend(first.to_uppercase());
                    text.push_str(chars.as_str());
                }
                sentence_left = rng.between(5, 17);
            } else {
                text.push(if rng.below(12) == 0 { ',' } else { ' ' });
                if text.ends_with(',') {
                    text.push(' ');
                }
                text.push_str(word);
                sentence_left -= 1;
                if sentence_left == 0 {
                    text.push(match rng.below(6) {
                        0 => '?',
                        1 => '!',
                        _ => '.',
                    });
                }
            }
            if text.len() >= target {
                break;
            }
        }
        if !text.ends_with(['.', '?', '!']) {
            text.push('.');
        }
        text
    }

    /// A conversation title of two to six words.
    fn title(&self, rng: &mut Rng) -> String {
        let n = rng.between(2, 6);
        (0..n).map(|_| self.word(rng)).collect::<Vec<_>>().join(" ")
    }
}

/// A conversation to insert.
struct Conv {
    id: String,
    title: String,
    created_at: i64,
}

/// A message to insert; `conversation` and `parent` index the workload's vectors.
struct Msg {
    id: String,
    conversation: usize,
    parent: Option<usize>,
    role: Role,
    content: String,
    created_at: i64,
}

/// Makes conversations and their messages: 50–150 messages each, user and assistant
/// taking turns, each message answering the one before, ids time-ordered like UUIDv7.
struct Generator {
    rng: Rng,
    text: TextGen,
    clock_ms: i64,
}

impl Generator {
    fn new(seed: u64) -> Self {
        Generator {
            rng: Rng::new(seed),
            text: TextGen::new(),
            // 2023-11-14: any fixed point in time will do.
            clock_ms: 1_700_000_000_000,
        }
    }

    /// A UUIDv7-shaped id: the fake clock's milliseconds, then random bits. The clock
    /// advances on every id, so ids are unique and ordered as the vault's own are.
    fn id(&mut self) -> String {
        self.clock_ms += 1;
        let ms = self.clock_ms as u64;
        let r = self.rng.next_u64();
        format!(
            "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
            ms >> 16,
            ms & 0xffff,
            r & 0xfff,
            0x8000 | ((r >> 12) & 0x3fff),
            (r >> 16) & 0xffff_ffff_ffff
        )
    }

    fn conversation(&mut self) -> Conv {
        let id = self.id();
        Conv {
            id,
            title: self.text.title(&mut self.rng),
            created_at: self.clock_ms,
        }
    }

    /// `count` messages of conversation number `conversation`; `first_index` is the index
    /// the first of them will have in the caller's list.
    fn messages(&mut self, conversation: usize, count: usize, first_index: usize) -> Vec<Msg> {
        (0..count)
            .map(|i| Msg {
                id: self.id(),
                conversation,
                parent: (i > 0).then(|| first_index + i - 1),
                role: if i % 2 == 0 {
                    Role::User
                } else {
                    Role::Assistant
                },
                content: self.text.message(&mut self.rng),
                created_at: self.clock_ms,
            })
            .collect()
    }

    fn conversation_size(&mut self, remaining: usize) -> usize {
        self.rng.between(50, 150).min(remaining)
    }
}

/// Conversations and messages generated up front, so generating text is never timed.
struct Workload {
    conversations: Vec<Conv>,
    messages: Vec<Msg>,
}

impl Workload {
    fn new(seed: u64, total: usize) -> Self {
        let mut generator = Generator::new(seed);
        let mut conversations = Vec::new();
        let mut messages = Vec::with_capacity(total);
        while messages.len() < total {
            let count = generator.conversation_size(total - messages.len());
            conversations.push(generator.conversation());
            let first = messages.len();
            messages.extend(generator.messages(conversations.len() - 1, count, first));
        }
        Workload {
            conversations,
            messages,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------

/// The pragmas the vault sets on every connection (see `connect` in `src/open.rs`).
fn vault_pragmas(conn: &Connection) {
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .expect("set WAL mode");
    assert!(mode.eq_ignore_ascii_case("wal"), "journal mode {mode}");
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;",
    )
    .expect("set the vault's pragmas");
}

/// Creates a keychain-mode vault in `dir` and returns its paths and data key, closed.
fn create_vault(dir: &Path) -> (VaultPaths, DataKey) {
    let paths = VaultPaths::new(dir);
    let store = MemoryStore::new();
    let vault = Vault::create(
        &paths,
        &store,
        KeyProtection::Keychain,
        KdfParams::default(),
    )
    .expect("create a vault");
    let secret = store
        .get(&data_key_account(vault.id()))
        .expect("read the memory store")
        .expect("the data key is in the store");
    let hex = std::str::from_utf8(secret.expose()).expect("the stored key is hex text");
    let key = DataKey::from_hex(hex).expect("a valid data key");
    vault.lock().expect("close the new vault");
    (paths, key)
}

/// The benchmark's own door to the database. The comparison needs what the vault
/// deliberately does not offer, a plain SQLite file and raw batched SQL on the encrypted
/// one, so this is the one place here that opens a connection without `Vault`.
#[allow(clippy::disallowed_methods)]
fn open_raw(path: &Path) -> Connection {
    Connection::open(path).expect("open a database file")
}

/// A raw connection to an encrypted vault database, keyed and set up as the vault does.
fn open_encrypted(paths: &VaultPaths, key: &DataKey) -> Connection {
    let conn = open_raw(&paths.database());
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", key.to_hex().as_str()))
        .expect("key the database");
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .expect("the key opens the database");
    vault_pragmas(&conn);
    conn
}

/// A plain SQLite database (never given a key) with the same schema and pragmas.
fn create_plain(path: &Path) -> Connection {
    let mut conn = open_raw(path);
    vault_pragmas(&conn);
    schema::migrate(&mut conn, MIGRATIONS).expect("apply the vault schema");
    conn
}

/// Whether the file starts with SQLite's clear-text header (i.e. is not encrypted).
fn is_plain_sqlite(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 16];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .expect("read the database file's first bytes");
    &magic == b"SQLite format 3\0"
}

// ---------------------------------------------------------------------------------------
// The insert pattern
// ---------------------------------------------------------------------------------------

fn insert_conversations(conn: &mut Connection, conversations: &[Conv]) {
    let tx = conn.transaction().expect("begin");
    {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO conversations (id, title, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?3)",
            )
            .expect("prepare conversation insert");
        for c in conversations {
            stmt.execute(params![c.id, c.title, c.created_at])
                .expect("insert a conversation");
        }
    }
    tx.commit().expect("commit conversations");
}

/// Appends one message with exactly the statements `Vault::append_message` runs: check the
/// conversation, check the parent, insert, move the head, read the message back.
fn append(conn: &Connection, work: &Workload, m: &Msg) {
    let conversation = &work.conversations[m.conversation].id;
    let exists: bool = conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM conversations WHERE id = ?1)")
        .expect("prepare")
        .query_row([conversation], |r| r.get(0))
        .expect("check the conversation");
    assert!(exists, "conversation {conversation} is missing");
    let parent = m.parent.map(|p| work.messages[p].id.as_str());
    if let Some(parent) = parent {
        let found: Option<String> = conn
            .prepare_cached("SELECT conversation_id FROM messages WHERE id = ?1")
            .expect("prepare")
            .query_row([parent], |r| r.get(0))
            .optional()
            .expect("check the parent");
        assert_eq!(found.as_deref(), Some(conversation.as_str()));
    }
    conn.prepare_cached(
        "INSERT INTO messages (id, conversation_id, parent_id, role, content, reasoning,
             status, provider_id, model, created_at, finished_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .expect("prepare")
    .execute(params![
        m.id,
        conversation,
        parent,
        m.role.as_str(),
        m.content,
        None::<String>,
        "complete",
        None::<String>,
        None::<String>,
        m.created_at,
        m.created_at
    ])
    .expect("insert a message");
    conn.prepare_cached(
        "UPDATE conversations SET head_message_id = ?1, updated_at = max(updated_at, ?2)
         WHERE id = ?3",
    )
    .expect("prepare")
    .execute(params![m.id, m.created_at, conversation])
    .expect("move the head");
    let content: String = conn
        .prepare_cached(
            "SELECT id, conversation_id, parent_id, role, content, reasoning, status, error,
                 provider_id, model, tokens_in, tokens_out, created_at, finished_at
             FROM messages WHERE id = ?1",
        )
        .expect("prepare")
        .query_row([&m.id], |r| r.get(4))
        .expect("read the message back");
    black_box(content);
}

/// Appends `messages` in transactions of `batch` messages (1: one commit per message).
fn insert_batched(conn: &mut Connection, work: &Workload, messages: &[Msg], batch: usize) {
    for chunk in messages.chunks(batch) {
        let tx = conn.transaction().expect("begin");
        for m in chunk {
            append(&tx, work, m);
        }
        tx.commit().expect("commit");
    }
}

// ---------------------------------------------------------------------------------------
// The one-million-message fixture
// ---------------------------------------------------------------------------------------

/// A closed vault with `messages` messages, and the words the search benchmark asks for.
struct Fixture {
    paths: VaultPaths,
    key: DataKey,
    queries: Vec<(Category, Vec<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Category {
    Rare,
    Medium,
    Common,
}

impl Category {
    fn name(self) -> &'static str {
        match self {
            Category::Rare => "rare",
            Category::Medium => "medium",
            Category::Common => "common",
        }
    }
}

/// FNV-1a, to key the cached fixture by everything that shapes it.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Ten query words per category, chosen by Zipf rank: common words are in a large share
/// of all messages, medium ones in thousands, rare ones in about a hundred.
fn query_words(text: &TextGen) -> Vec<(Category, Vec<String>)> {
    let mut rng = Rng::new(SEED ^ 0x5157);
    let common: Vec<String> = text.words[..40]
        .iter()
        .filter(|w| w.len() >= 3)
        .take(10)
        .cloned()
        .collect();
    let mut pick = |lo: usize, hi: usize| -> Vec<String> {
        let step = (hi - lo) / 10;
        (0..10)
            .map(|i| text.words[lo + i * step + rng.below(step as u64) as usize].clone())
            .collect()
    };
    let medium = pick(300, 3_000);
    let rare = pick(20_000, VOCABULARY);
    vec![
        (Category::Rare, rare),
        (Category::Medium, medium),
        (Category::Common, common),
    ]
}

/// Builds (or finds, when cached) the fixture vault.
fn build_fixture(root: &Path, messages: usize, cache: bool) -> Fixture {
    let text = TextGen::new();
    let queries = query_words(&text);
    let migrations: Vec<&[u8]> = MIGRATIONS.iter().map(|m| m.sql.as_bytes()).collect();
    let mut parts = migrations;
    let version = GENERATOR_VERSION.to_le_bytes();
    let count = (messages as u64).to_le_bytes();
    parts.push(&version);
    parts.push(&count);
    let dir = root.join(format!("vault-{messages}-{:016x}", fnv1a(&parts)));
    let ready = dir.join("READY");
    let key_file = dir.join("data-key.hex");
    let paths = VaultPaths::new(dir.join("vault"));

    if cache && ready.exists() {
        let hex = fs::read_to_string(&key_file).expect("read the fixture's key");
        let key = DataKey::from_hex(&hex).expect("the fixture's key is valid");
        eprintln!("fixture: reusing {}", dir.display());
        return Fixture {
            paths,
            key,
            queries,
        };
    }

    let building = root.join(format!(
        "{}.building",
        dir.file_name()
            .and_then(|n| n.to_str())
            .expect("fixture dir name")
    ));
    for d in [&dir, &building] {
        if d.exists() {
            fs::remove_dir_all(d).expect("remove a stale fixture");
        }
    }
    fs::create_dir_all(&building).expect("make the fixture dir");
    eprintln!("fixture: building {messages} messages in {}", dir.display());
    let started = Instant::now();
    let (build_paths, key) = create_vault(&building.join("vault"));
    let conn = open_encrypted(&build_paths, &key);
    conn.execute_batch(&format!("PRAGMA cache_size = -{FIXTURE_BUILD_CACHE_KIB};"))
        .expect("set the build cache size");

    let mut generator = Generator::new(SEED ^ 0xf1c5);
    let mut written = 0;
    let mut next_report = 100_000;
    let mut tx_open = 0;
    conn.execute_batch("BEGIN").expect("begin");
    while written < messages {
        let count = generator.conversation_size(messages - written);
        let conv = generator.conversation();
        let msgs = generator.messages(0, count, 0);
        let work = Workload {
            conversations: vec![conv],
            messages: msgs,
        };
        conn.prepare_cached(
            "INSERT INTO conversations (id, title, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?3)",
        )
        .expect("prepare")
        .execute(params![
            work.conversations[0].id,
            work.conversations[0].title,
            work.conversations[0].created_at
        ])
        .expect("insert a conversation");
        for m in &work.messages {
            append(&conn, &work, m);
        }
        written += count;
        tx_open += count;
        if tx_open >= FIXTURE_BUILD_BATCH {
            conn.execute_batch("COMMIT; BEGIN").expect("commit");
            tx_open = 0;
        }
        if written >= next_report {
            eprintln!(
                "fixture: {written} messages, {:.0} s",
                started.elapsed().as_secs_f64()
            );
            next_report += 100_000;
        }
    }
    conn.execute_batch("COMMIT").expect("commit");
    conn.close().map_err(|(_, e)| e).expect("close the fixture");
    fs::write(building.join("data-key.hex"), key.to_hex().as_bytes()).expect("save the key");
    fs::write(building.join("READY"), b"").expect("mark the fixture ready");
    fs::rename(&building, &dir).expect("move the fixture in place");
    eprintln!("fixture: built in {:.0} s", started.elapsed().as_secs_f64());
    Fixture {
        paths,
        key,
        queries,
    }
}

// ---------------------------------------------------------------------------------------
// Run-wide state
// ---------------------------------------------------------------------------------------

/// The settings of one run, fixed from the command line.
struct Run {
    sizes: Sizes,
    full: bool,
    root: PathBuf,
    /// Keeps the scratch root alive in test mode.
    _scratch: Option<tempfile::TempDir>,
    filters: Vec<String>,
    /// `--list`: criterion only names the benchmarks.
    listing: bool,
    /// `HEARTH_BENCH_DIAGNOSE=1`: also break search time down (see `search_diagnosis`).
    diagnose: bool,
    fixture: OnceLock<Fixture>,
}

impl Run {
    fn from_args() -> Run {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let full = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
        let (root, scratch) = if full {
            let root = std::env::var_os("HEARTH_BENCH_FIXTURES")
                .map(PathBuf::from)
                .unwrap_or_else(default_fixture_root);
            (root, None)
        } else {
            let scratch = tempfile::tempdir().expect("make a scratch dir");
            (scratch.path().to_owned(), Some(scratch))
        };
        fs::create_dir_all(&root).expect("make the fixture root");
        Run {
            sizes: if full { FULL } else { SMOKE },
            full,
            root,
            _scratch: scratch,
            filters: positional_filters(&args),
            listing: args.iter().any(|a| a == "--list"),
            diagnose: std::env::var("HEARTH_BENCH_DIAGNOSE").is_ok_and(|v| v == "1"),
            fixture: OnceLock::new(),
        }
    }

    fn fixture(&self) -> &Fixture {
        self.fixture.get_or_init(|| {
            let fixture = build_fixture(&self.root, self.sizes.fixture_messages, self.full);
            describe_fixture(&fixture);
            fixture
        })
    }

    /// Whether criterion's filter selects anything in the group `id`. The filter is read
    /// as plain text with `a|b` alternatives, not as the full regex criterion accepts.
    fn wants(&self, id: &str) -> bool {
        self.filters.is_empty()
            || self.filters.iter().any(|f| {
                f.split('|')
                    .any(|alt| id.contains(alt) || alt.starts_with(id))
            })
    }
}

/// `<target>/bench-fixtures`, found from the benchmark's own path
/// (`<target>/release/deps/vault-<hash>`).
fn default_fixture_root() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("bench-fixtures")
}

/// The filter words given to criterion, skipping flags and the values they take.
fn positional_filters(args: &[String]) -> Vec<String> {
    const TAKES_VALUE: &[&str] = &[
        "--color",
        "-c",
        "--save-baseline",
        "-s",
        "--baseline",
        "-b",
        "--baseline-lenient",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--plotting-backend",
        "--output-format",
        "--profile-time",
        "--format",
    ];
    let mut filters = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
        } else if a.starts_with('-') {
            skip = TAKES_VALUE.contains(&a.as_str());
        } else {
            filters.push(a.clone());
        }
    }
    filters
}

/// Every timed run, by benchmark, for the summary printed at the end.
static RECORDS: Mutex<BTreeMap<String, Vec<Duration>>> = Mutex::new(BTreeMap::new());

fn record(id: &str, d: Duration) {
    RECORDS
        .lock()
        .expect("records lock")
        .entry(id.to_owned())
        .or_default()
        .push(d);
}

fn records(id: &str) -> Vec<Duration> {
    let mut v = RECORDS
        .lock()
        .expect("records lock")
        .get(id)
        .cloned()
        .unwrap_or_default();
    v.sort();
    v
}

/// Encrypted/plain time ratios, one per round, by insert benchmark.
static RATIOS: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());

fn record_ratio(id: &str, ratio: f64) {
    RATIOS
        .lock()
        .expect("ratios lock")
        .entry(id.to_owned())
        .or_default()
        .push(ratio);
}

fn median_ratio(id: &str) -> Option<f64> {
    let mut v = RATIOS
        .lock()
        .expect("ratios lock")
        .get(id)
        .cloned()
        .unwrap_or_default();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// The nearest-rank percentile of sorted durations.
fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

// ---------------------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------------------

/// One way of storing the insert workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// Raw statements on a SQLCipher connection to a vault made by `Vault::create`.
    Encrypted,
    /// The same statements on a plain SQLite file with the same schema and pragmas.
    Plain,
    /// `Vault::append_message`, one call per message.
    VaultApi,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Encrypted => "encrypted",
            Variant::Plain => "plain",
            Variant::VaultApi => "vault_api",
        }
    }
}

/// Time spent on a CPU by the calling thread (user and kernel), from
/// `/proc/thread-self/schedstat`; `None` where that file does not exist. SQLite does all
/// its work on the calling thread, so this is the insert's CPU cost without the time spent
/// waiting for the disk or for a CPU that another process holds.
fn thread_cpu() -> Option<Duration> {
    let text = fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Wall-clock and on-CPU time of one timed stretch.
#[derive(Debug, Clone, Copy)]
struct Timing {
    wall: Duration,
    cpu: Option<Duration>,
}

/// Starts timing; the returned closure stops it.
fn stopwatch() -> impl FnOnce() -> Timing {
    let cpu = thread_cpu();
    let start = Instant::now();
    move || {
        let wall = start.elapsed();
        let cpu = thread_cpu()
            .zip(cpu)
            .map(|(end, start)| end.saturating_sub(start));
        Timing { wall, cpu }
    }
}

/// The 1-minute load average, to show how busy the machine was during a round.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Inserts the workload's messages into a fresh database, `batch` messages per
/// transaction, and returns the time the inserts took (setup and teardown not counted).
fn insert_run(scratch: &Path, variant: Variant, work: &Workload, batch: usize) -> Timing {
    let dir = tempfile::Builder::new()
        .prefix("insert-")
        .tempdir_in(scratch)
        .expect("make a scratch dir");
    if variant == Variant::VaultApi {
        assert_eq!(batch, 1, "the vault API commits every message");
        return vault_api_run(dir.path(), work);
    }
    let mut conn = match variant {
        Variant::Encrypted => {
            let (paths, key) = create_vault(&dir.path().join("vault"));
            open_encrypted(&paths, &key)
        }
        _ => create_plain(&dir.path().join("plain.db")),
    };
    insert_conversations(&mut conn, &work.conversations);
    let stop = stopwatch();
    insert_batched(&mut conn, work, &work.messages, batch);
    let took = stop();
    check_encryption(dir.path(), variant);
    took
}

/// The per-message path through the public API: conversations made with
/// `create_conversation` (not timed), then one `append_message` per message.
fn vault_api_run(dir: &Path, work: &Workload) -> Timing {
    let (paths, key) = create_vault(&dir.join("vault"));
    let mut vault = Vault::open_with_key(&paths, &key).expect("open the vault");
    let conversations: Vec<String> = work
        .conversations
        .iter()
        .map(|c| {
            vault
                .create_conversation(NewConversation {
                    title: c.title.clone(),
                    created_at: Some(c.created_at),
                    ..Default::default()
                })
                .expect("create a conversation")
                .id
        })
        .collect();
    let mut ids: Vec<String> = Vec::with_capacity(work.messages.len());
    let stop = stopwatch();
    for m in &work.messages {
        let mut new = NewMessage::complete(
            &conversations[m.conversation],
            m.parent.map(|p| ids[p].as_str()),
            m.role,
            m.content.as_str(),
        );
        new.created_at = Some(m.created_at);
        ids.push(vault.append_message(new).expect("append a message").id);
    }
    stop()
}

/// Inserting messages into an encrypted vault and into plain SQLite with the same schema,
/// pragmas and statements: batched (the import path's shape) and one commit per message
/// (the chat path's, one fsync each, which is what `Vault::append_message` does).
///
/// These runs are timed by a paired loop rather than criterion: each round runs every
/// variant once, in an order that rotates from round to round, and the encrypted/plain
/// ratio is taken within each round. On a shared machine the drift between two criterion
/// groups run minutes apart is as large as the effect being measured; within a round it
/// mostly cancels out.
fn bench_insert(run: &Run) {
    let s = run.sizes;
    let scratch = run.root.join("scratch");
    fs::create_dir_all(&scratch).expect("make the scratch dir");
    let plans = [
        (
            format!(
                "insert_{}_txn{}",
                count_label(s.batched_messages),
                s.batch_size
            ),
            s.batched_messages,
            s.batch_size,
            vec![Variant::Encrypted, Variant::Plain],
        ),
        (
            format!("insert_{}_per_commit", count_label(s.per_commit_messages)),
            s.per_commit_messages,
            1,
            vec![Variant::Encrypted, Variant::Plain, Variant::VaultApi],
        ),
    ];
    for (seed, (name, messages, batch, variants)) in plans.into_iter().enumerate() {
        if !run.wants(&name) {
            continue;
        }
        let work = Workload::new(SEED ^ seed as u64, messages);
        for round in 0..s.insert_rounds {
            let load = load_average();
            let mut times = BTreeMap::new();
            for i in 0..variants.len() {
                let variant = variants[(round + i) % variants.len()];
                let took = insert_run(&scratch, variant, &work, batch);
                record(&format!("{name}/{}", variant.name()), took.wall);
                if let Some(cpu) = took.cpu {
                    record(&format!("{name}/{}/cpu", variant.name()), cpu);
                }
                times.insert(variant.name(), took);
            }
            let (enc, plain) = (times["encrypted"], times["plain"]);
            let ratio = enc.wall.as_secs_f64() / plain.wall.as_secs_f64();
            record_ratio(&name, ratio);
            let cpu_ratio = enc
                .cpu
                .zip(plain.cpu)
                .map(|(e, p)| e.as_secs_f64() / p.as_secs_f64());
            if let Some(r) = cpu_ratio {
                record_ratio(&format!("{name}/cpu"), r);
            }
            let shown: Vec<String> = variants
                .iter()
                .map(|v| {
                    let t = times[v.name()];
                    let cpu = t
                        .cpu
                        .map(|c| format!(" (cpu {:.3} s)", c.as_secs_f64()))
                        .unwrap_or_default();
                    format!("{} {:.3} s{cpu}", v.name(), t.wall.as_secs_f64())
                })
                .collect();
            println!(
                "{name} round {}/{}: {}; encrypted/plain {ratio:.2}x wall{}, load {load}",
                round + 1,
                s.insert_rounds,
                shown.join(", "),
                cpu_ratio
                    .map(|r| format!(", {r:.2}x cpu"))
                    .unwrap_or_default()
            );
        }
    }
}

/// Proves the comparison is what it claims: the plain file is readable SQLite, the
/// encrypted one is not.
fn check_encryption(dir: &Path, variant: Variant) {
    match variant {
        Variant::Encrypted => assert!(
            !is_plain_sqlite(&dir.join("vault").join(hearth_vault::DATABASE_FILE)),
            "the encrypted database has a clear-text header"
        ),
        Variant::Plain => assert!(
            is_plain_sqlite(&dir.join("plain.db")),
            "the plain database is not plain SQLite"
        ),
        Variant::VaultApi => {}
    }
}

/// Opening (unlocking with the raw key) the big vault, page cache warm.
fn bench_open(c: &mut Criterion, run: &Run) {
    let name = format!("open_{}", count_label(run.sizes.fixture_messages));
    let mut group = c.benchmark_group(&name);
    group
        .sample_size(100)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let id = format!("{name}/open_with_key");
    group.bench_function("open_with_key", |b| {
        let fixture = run.fixture();
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let vault = Vault::open_with_key(&fixture.paths, &fixture.key).expect("open");
                let took = start.elapsed();
                record(&id, took);
                total += took;
                // Closing is not part of opening.
                drop(black_box(vault));
            }
            total
        });
    });
    // What the app does next: the first page of the conversation list.
    group.bench_function("open_and_list_50", |b| {
        let fixture = run.fixture();
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let vault = Vault::open_with_key(&fixture.paths, &fixture.key).expect("open");
                let list = vault.list_conversations(false, 50, 0).expect("list");
                total += start.elapsed();
                black_box(list);
                drop(vault);
            }
            total
        });
    });
    group.finish();
}

fn count_label(n: usize) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}m", n / 1_000_000)
    } else if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

fn describe_fixture(fixture: &Fixture) {
    let vault = Vault::open_with_key(&fixture.paths, &fixture.key).expect("open the fixture");
    let status = vault.status().expect("fixture status");
    let bytes: u64 = status.files.iter().map(|(_, size)| size).sum();
    println!(
        "fixture: {} messages in {} conversations, {:.0} MiB on disk, SQLCipher {}, SQLite {}",
        status.messages,
        status.conversations,
        bytes as f64 / (1024.0 * 1024.0),
        status.sqlcipher_version,
        status.sqlite_version
    );
}

/// `Vault::search` over the big vault, by how common the word is; then the percentile
/// pass, timing each query on its own.
fn bench_search(c: &mut Criterion, run: &Run) {
    let name = format!("search_{}", count_label(run.sizes.fixture_messages));
    // Opened on first use, so listing or filtering the benchmarks builds no fixture.
    let vault: OnceCell<Vault> = OnceCell::new();
    let open = || {
        let fixture = run.fixture();
        Vault::open_with_key(&fixture.paths, &fixture.key).expect("open the fixture")
    };
    let queries = query_words(&TextGen::new());
    let mut group = c.benchmark_group(&name);
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1));
    for (category, words) in &queries {
        // A common word takes over a second a query: give it room for its ten samples.
        group.measurement_time(Duration::from_secs(match category {
            Category::Common => 20,
            _ => 5,
        }));
        let mut next = 0usize;
        group.bench_function(category.name(), |b| {
            let vault = vault.get_or_init(open);
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let word = &words[next % words.len()];
                    next += 1;
                    let start = Instant::now();
                    let hits = vault.search(word, SEARCH_LIMIT).expect("search");
                    total += start.elapsed();
                    black_box(hits);
                }
                total
            });
        });
    }
    group.finish();
    if !run.listing && run.wants(&name) {
        search_percentiles(run, run.fixture(), vault.get_or_init(open), &name);
        if run.diagnose {
            search_diagnosis(run.fixture());
        }
    }
}

/// Times `percentile_queries` searches one by one, the three categories taking turns,
/// and prints p50/p99 overall and per category with how many messages each word matches.
fn search_percentiles(run: &Run, fixture: &Fixture, vault: &Vault, name: &str) {
    // The number of matching messages for each word, as the app's query (word as a
    // prefix) sees them; counted on a separate connection, outside any timing.
    let conn = open_encrypted(&fixture.paths, &fixture.key);
    let mut stmt = conn
        .prepare("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?1")
        .expect("prepare the count");
    println!("\n{name}: query words (messages matching the word as a prefix)");
    for (category, words) in &fixture.queries {
        let counts: Vec<String> = words
            .iter()
            .map(|w| {
                let n: i64 = stmt
                    .query_row([format!("\"{w}\"*")], |r| r.get(0))
                    .expect("count matches");
                format!("{w}={n}")
            })
            .collect();
        println!("  {:<6} {}", category.name(), counts.join(" "));
    }
    drop(stmt);
    drop(conn);

    // One untimed pass so every word's pages are in the cache, as after criterion's runs.
    for (_, words) in &fixture.queries {
        for w in words {
            black_box(vault.search(w, SEARCH_LIMIT).expect("search"));
        }
    }
    let categories = fixture.queries.len();
    for i in 0..run.sizes.percentile_queries {
        let (category, words) = &fixture.queries[i % categories];
        let word = &words[(i / categories) % words.len()];
        let start = Instant::now();
        let hits = vault.search(word, SEARCH_LIMIT).expect("search");
        let took = start.elapsed();
        black_box(hits);
        record(&format!("{name}/all"), took);
        record(&format!("{name}/{}", category.name()), took);
    }
}

/// The message half of `Vault::search`'s SQL, as in `src/search.rs`.
const APP_SEARCH_SQL: &str = "SELECT m.conversation_id, m.id, m.role,
        snippet(messages_fts, 0, char(57344), char(57345), '…', 16),
        bm25(messages_fts) AS score
 FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid
 WHERE messages_fts MATCH ?1
 ORDER BY score LIMIT 50";

/// The same ranking done inside FTS first, so only the 50 winners are looked up in
/// `messages` (no snippet: FTS5 can only make one in a query that scans the match).
const FTS_FIRST_SQL: &str = "SELECT m.conversation_id, m.id, m.role, t.score
 FROM (SELECT rowid, bm25(messages_fts) AS score FROM messages_fts
       WHERE messages_fts MATCH ?1 ORDER BY score LIMIT 50) t
 JOIN messages m ON m.seq = t.rowid
 ORDER BY t.score";

/// Only finding the matches: the floor under any query for the word.
const COUNT_SQL: &str = "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?1";

/// Page cache for the diagnosis's large-cache connection, in KiB (256 MiB).
const DIAGNOSIS_CACHE_KIB: i64 = 256 * 1024;

/// Opt-in (`HEARTH_BENCH_DIAGNOSE=1`): where search time goes. Times the app's query, the
/// same ranking done inside FTS first, and a bare match count, for one word of each
/// category, on the encrypted fixture with SQLite's default page cache, with a large
/// one, and on a plaintext export of the same database. Best of four, cache warm.
fn search_diagnosis(fixture: &Fixture) {
    let root = fixture
        .paths
        .dir()
        .parent()
        .expect("the fixture has a parent dir");
    let plain = root.join("plaintext-export.db");
    if !plain.exists() {
        let conn = open_encrypted(&fixture.paths, &fixture.key);
        let partial = root.join("plaintext-export.db.partial");
        let _ = fs::remove_file(&partial);
        conn.execute(
            "ATTACH DATABASE ?1 AS plaintext KEY ''",
            [partial.to_str().expect("a UTF-8 path")],
        )
        .expect("attach the export");
        conn.query_row("SELECT sqlcipher_export('plaintext')", [], |_| Ok(()))
            .expect("export the fixture");
        conn.execute_batch("DETACH DATABASE plaintext")
            .expect("detach the export");
        fs::rename(&partial, &plain).expect("move the export in place");
    }
    assert!(is_plain_sqlite(&plain), "the export is not plain SQLite");

    let encrypted = open_encrypted(&fixture.paths, &fixture.key);
    let large = open_encrypted(&fixture.paths, &fixture.key);
    large
        .execute_batch(&format!("PRAGMA cache_size = -{DIAGNOSIS_CACHE_KIB};"))
        .expect("set a large cache");
    let plain = open_raw(&plain);
    vault_pragmas(&plain);
    let connections = [
        ("encrypted, default cache", &encrypted),
        ("encrypted, 256 MiB cache", &large),
        ("plaintext, default cache", &plain),
    ];
    let queries = [
        ("app query", APP_SEARCH_SQL),
        ("rank in FTS, join 50", FTS_FIRST_SQL),
        ("match count only", COUNT_SQL),
    ];
    println!("\nsearch diagnosis (best of 4, ms; the word is matched as a prefix):");
    print!("  {:<26} {:<10}", "connection", "word");
    for (label, _) in &queries {
        print!(" {label:>22}");
    }
    println!();
    for (conn_label, conn) in connections {
        for (_, words) in &fixture.queries {
            let word = &words[0];
            print!("  {conn_label:<26} {word:<10}");
            for (_, sql) in &queries {
                let mut stmt = conn.prepare(sql).expect("prepare");
                let mut best = Duration::MAX;
                for _ in 0..4 {
                    let start = Instant::now();
                    let mut rows = stmt.query([format!("\"{word}\"*")]).expect("query");
                    while let Some(row) = rows.next().expect("row") {
                        black_box(row);
                    }
                    best = best.min(start.elapsed());
                }
                print!(" {:>22.1}", ms(best));
            }
            println!();
        }
    }
}

/// Prints the numbers the goals are stated in, from the runs timed above.
fn print_summary(run: &Run) {
    let s = run.sizes;
    let median = |id: &str| percentile(&records(id), 50.0);
    println!("\n== Hearth vault benchmark summary ==");
    println!("(medians of the timed runs, warm page cache; goals are reported, not enforced)");
    println!("(1-minute load average at the end: {})", load_average());

    let batched = format!(
        "insert_{}_txn{}",
        count_label(s.batched_messages),
        s.batch_size
    );
    let per_commit = format!("insert_{}_per_commit", count_label(s.per_commit_messages));
    for (group, messages, what) in [
        (
            &batched,
            s.batched_messages,
            format!("transactions of {}", s.batch_size),
        ),
        (
            &per_commit,
            s.per_commit_messages,
            "one commit per message".to_owned(),
        ),
    ] {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / messages as f64;
        for variant in [Variant::Encrypted, Variant::Plain, Variant::VaultApi] {
            if let Some(d) = median(&format!("{group}/{}", variant.name())) {
                let cpu = median(&format!("{group}/{}/cpu", variant.name()))
                    .map(|c| format!(", on-CPU {:.2} s ({:.1} µs/msg)", c.as_secs_f64(), per(c)))
                    .unwrap_or_default();
                println!(
                    "insert {messages} msgs, {what}, {:<9}: wall {:.2} s ({:.1} µs/msg){cpu}",
                    variant.name(),
                    d.as_secs_f64(),
                    per(d)
                );
            }
        }
        if let Some(ratio) = median_ratio(group) {
            let rounds = records(&format!("{group}/encrypted")).len();
            let cpu = median_ratio(&format!("{group}/cpu"))
                .map(|r| format!(", on-CPU {r:.2}x"))
                .unwrap_or_default();
            println!(
                "insert {messages} msgs, {what}: encrypted/plain wall {ratio:.2}x{cpu} (medians of {rounds} paired rounds; goal <= 1.25x)"
            );
        }
    }

    let label = count_label(s.fixture_messages);
    let open = records(&format!("open_{label}/open_with_key"));
    if let (Some(p50), Some(p99), Some(max)) = (
        percentile(&open, 50.0),
        percentile(&open, 99.0),
        open.last().copied(),
    ) {
        println!(
            "open {label}-message vault (Vault::open_with_key, warm cache, {} opens): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (goal <= 50 ms)",
            open.len(),
            ms(p50),
            ms(p99),
            ms(max)
        );
    }

    let name = format!("search_{label}");
    for cat in ["all", "rare", "medium", "common"] {
        let v = records(&format!("{name}/{cat}"));
        if let (Some(p50), Some(p99), Some(max)) = (
            percentile(&v, 50.0),
            percentile(&v, 99.0),
            v.last().copied(),
        ) {
            let goal = if cat == "all" {
                " (goal p50 <= 20 ms, p99 <= 100 ms)"
            } else {
                ""
            };
            println!(
                "search {label} ({cat:<6}, {} queries, limit {SEARCH_LIMIT}): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms{goal}",
                v.len(),
                ms(p50),
                ms(p99),
                ms(max)
            );
        }
    }
}

fn main() {
    let run = Run::from_args();
    if !run.listing {
        bench_insert(&run);
    }
    let mut c = Criterion::default().configure_from_args();
    bench_open(&mut c, &run);
    bench_search(&mut c, &run);
    c.final_summary();
    if !run.listing {
        print_summary(&run);
    }
}
