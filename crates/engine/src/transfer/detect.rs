//! Importing a file: finding the conversations in it (a JSON file, the folder a data
//! export unzips to, or the export's zip), recognising whose export it is, and reading it
//! one conversation at a time into [`Vault::import`](hearth_vault::Vault::import).
//!
//! Exports can be hundreds of megabytes, so nothing here holds a whole file: the JSON is
//! parsed as a stream, each conversation is converted as soon as it is read, and a
//! bounded channel hands it from the parsing thread to the thread writing the vault (which
//! also lets parsing and writing use two cores).

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use hearth_vault::{ConversationTree, ImportReport, Passphrase};

use crate::error::{EngineError, Result};
use crate::Engine;

/// Which kind of export a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// Recognise it from the contents.
    Auto,
    /// A ChatGPT data export (`conversations.json` with a `mapping` per conversation).
    ChatGpt,
    /// A Claude.ai data export (`conversations.json` with `chat_messages`).
    Claude,
    /// Hearth's own JSON export or encrypted archive.
    Hearth,
}

impl fmt::Display for ImportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImportFormat::Auto => "auto",
            ImportFormat::ChatGpt => "ChatGPT",
            ImportFormat::Claude => "Claude.ai",
            ImportFormat::Hearth => "Hearth",
        })
    }
}

impl Engine {
    /// Imports every conversation in the file or folder at `path`: all or nothing, and
    /// skipping conversations already in the vault (so importing twice adds nothing).
    /// `progress` is called after each conversation with the counts so far. An
    /// encrypted Hearth archive needs [`Engine::import_file_with_passphrase`].
    pub fn import_file(
        &self,
        path: &Path,
        format: ImportFormat,
        progress: impl FnMut(&ImportReport),
    ) -> Result<ImportReport> {
        self.import_file_with_passphrase(path, format, None, progress)
    }

    /// As [`Engine::import_file`], with the passphrase that opens an encrypted Hearth
    /// archive (see [`is_archive`]); it is not used for other files.
    pub fn import_file_with_passphrase(
        &self,
        path: &Path,
        format: ImportFormat,
        archive_passphrase: Option<&Passphrase>,
        progress: impl FnMut(&ImportReport),
    ) -> Result<ImportReport> {
        let sources = Sources::find(path)?;
        if let Sources::Archive(archive) = &sources {
            if !matches!(format, ImportFormat::Auto | ImportFormat::Hearth) {
                return Err(EngineError::Invalid(format!(
                    "{}: this is an encrypted Hearth archive, not a {format} export; import it with --format hearth; nothing was imported",
                    archive.display()
                )));
            }
            let Some(passphrase) = archive_passphrase else {
                return Err(EngineError::Invalid(format!(
                    "{}: this is an encrypted Hearth archive and needs its passphrase; nothing was imported",
                    archive.display()
                )));
            };
            let file = File::open(archive).map_err(|e| cannot_read(archive, &e))?;
            return self
                .import_hearth_archive(file, passphrase, progress)
                .map_err(|e| name_file(e, archive));
        }
        let format = match format {
            ImportFormat::Auto => sniff(&sources)?,
            chosen => chosen,
        };
        match format {
            ImportFormat::ChatGpt => self.import_trees(
                pipe(move |each| {
                    sources.read_each(|reader, file| super::chatgpt::read(reader, file, each))
                }),
                progress,
            ),
            ImportFormat::Claude => self.import_trees(
                pipe(move |each| {
                    sources.read_each(|reader, file| super::claude::read(reader, file, each))
                }),
                progress,
            ),
            ImportFormat::Hearth | ImportFormat::Auto => match &sources {
                Sources::Files(files) if files.len() == 1 => {
                    let json = &files[0];
                    let file = File::open(json).map_err(|e| cannot_read(json, &e))?;
                    self.import_hearth_json(file, progress)
                        .map_err(|e| name_file(e, json))
                }
                _ => Err(EngineError::Invalid(format!(
                    "{}: a Hearth export is one .json or .hearth file, not a folder or a zip; nothing was imported",
                    path.display()
                ))),
            },
        }
    }
}

/// Which export the file or folder at `path` holds, as [`ImportFormat::Auto`] would
/// decide (an encrypted archive is [`ImportFormat::Hearth`]); reads only the start of
/// its first conversation. An error says why it is not an export Hearth reads.
pub fn recognise(path: &Path) -> Result<ImportFormat> {
    match Sources::find(path)? {
        Sources::Archive(_) => Ok(ImportFormat::Hearth),
        sources => sniff(&sources),
    }
}

/// Whether the file at `path` is an encrypted Hearth archive (it starts with the
/// archive signature), so a front end knows to ask for its passphrase.
pub fn is_archive(path: &Path) -> bool {
    let mut magic = [0u8; 8];
    File::open(path)
        .and_then(|mut f| read_up_to(&mut f, &mut magic))
        .is_ok_and(|n| n == magic.len() && magic == super::archive::MAGIC)
}

/// Puts the file's name in front of an error about its contents.
fn name_file(e: EngineError, path: &Path) -> EngineError {
    match e {
        EngineError::Invalid(why) => EngineError::Invalid(format!("{}: {why}", path.display())),
        other => other,
    }
}

/// The largest zip entry Hearth will read (its stated uncompressed size). Real exports
/// are well under this; a larger claim is a damaged or hostile file.
pub const MAX_ZIP_ENTRY_BYTES: u64 = 32 << 30;

/// Deflate cannot expand data more than about 1032 times; an entry that claims more
/// than this ratio (plus some slack for tiny entries) is lying about its size.
const MAX_DEFLATE_RATIO: u64 = 1100;

/// Conversations handed from the parsing thread to the vault writer at most this far
/// ahead, so memory stays bounded however fast the parser is.
const PIPE_DEPTH: usize = 32;

/// Bytes read from a file or zip entry at a time.
const READ_BUFFER: usize = 1 << 16;

/// Where the conversation JSON of an export lives.
#[derive(Debug, Clone)]
enum Sources {
    /// JSON files, read in this order (one file, or a folder's split parts).
    Files(Vec<PathBuf>),
    /// An encrypted Hearth archive.
    Archive(PathBuf),
    /// Entries of a zip, read in this order.
    Zip {
        /// The zip file.
        path: PathBuf,
        /// The entries holding conversations.
        entries: Vec<String>,
    },
}

impl Sources {
    /// Looks at `path`: a zip (recognised by its first bytes, whatever its name), a
    /// folder holding `conversations.json` or `conversations-NNN.json`, or a JSON file.
    fn find(path: &Path) -> Result<Sources> {
        let meta = std::fs::metadata(path).map_err(|e| cannot_read(path, &e))?;
        if meta.is_dir() {
            let mut names = Vec::new();
            for entry in std::fs::read_dir(path).map_err(|e| cannot_read(path, &e))? {
                let entry = entry.map_err(|e| cannot_read(path, &e))?;
                if let Some(name) = entry.file_name().to_str() {
                    names.push(name.to_owned());
                }
            }
            let chosen = conversation_files(names.iter().map(String::as_str));
            if chosen.is_empty() {
                return Err(EngineError::Invalid(format!(
                    "{}: this folder has no conversations.json or conversations-000.json; point at the export's zip or its conversations file",
                    path.display()
                )));
            }
            return Ok(Sources::Files(
                chosen.into_iter().map(|n| path.join(n)).collect(),
            ));
        }
        let mut magic = [0u8; 8];
        let mut file = File::open(path).map_err(|e| cannot_read(path, &e))?;
        let got = read_up_to(&mut file, &mut magic).map_err(|e| cannot_read(path, &e))?;
        if got == magic.len() && magic == super::archive::MAGIC {
            return Ok(Sources::Archive(path.to_owned()));
        }
        if got >= 4 && (magic[..4] == *b"PK\x03\x04" || magic[..4] == *b"PK\x05\x06") {
            let archive = zip::ZipArchive::new(file).map_err(|e| bad_zip(path, &e))?;
            let names: Vec<String> = archive
                .file_names()
                .map(|n| n.map(|n| n.into_owned()))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| bad_zip(path, &e))?;
            let entries: Vec<String> = conversation_files(names.iter().map(String::as_str))
                .into_iter()
                .map(str::to_owned)
                .collect();
            if entries.is_empty() {
                return Err(EngineError::Invalid(format!(
                    "{}: this zip holds no conversations.json; is it a ChatGPT or Claude.ai data export?",
                    path.display()
                )));
            }
            return Ok(Sources::Zip {
                path: path.to_owned(),
                entries,
            });
        }
        Ok(Sources::Files(vec![path.to_owned()]))
    }

    /// Opens each source in order and hands it (unbuffered) to `read` with a name for
    /// error messages.
    fn read_each(&self, mut read: impl FnMut(&mut dyn Read, &str) -> Result<()>) -> Result<()> {
        match self {
            Sources::Archive(path) => Err(EngineError::Invalid(format!(
                "{}: an encrypted Hearth archive holds no ChatGPT or Claude.ai export; nothing was imported",
                path.display()
            ))),
            Sources::Files(paths) => {
                for path in paths {
                    let mut file = File::open(path).map_err(|e| cannot_read(path, &e))?;
                    read(&mut file, &path.display().to_string())?;
                }
                Ok(())
            }
            Sources::Zip { path, entries } => {
                let file = File::open(path).map_err(|e| cannot_read(path, &e))?;
                let mut archive = zip::ZipArchive::new(file).map_err(|e| bad_zip(path, &e))?;
                for name in entries {
                    let label = format!("{name} in {}", path.display());
                    let entry = archive.by_name(name).map_err(|e| bad_zip(path, &e))?;
                    let mut reader = checked_entry(entry, &label)?;
                    read(&mut reader, &label)?;
                }
                Ok(())
            }
        }
    }
}

/// A zip entry's reader, refused when its stated size is absurd and stopped when it
/// yields more than it stated.
fn checked_entry<'a, R: Read>(
    entry: zip::read::ZipFile<'a, R>,
    label: &str,
) -> Result<impl Read + 'a> {
    let size = entry.size();
    let compressed = entry.compressed_size();
    if size > MAX_ZIP_ENTRY_BYTES {
        return Err(EngineError::Invalid(format!(
            "{label}: the zip says this entry is {size} bytes, more than Hearth reads ({MAX_ZIP_ENTRY_BYTES}); nothing was imported"
        )));
    }
    if size
        > compressed
            .saturating_mul(MAX_DEFLATE_RATIO)
            .saturating_add(1 << 20)
    {
        return Err(EngineError::Invalid(format!(
            "{label}: the zip says {compressed} bytes unpack to {size}, which no zip can do; the file is damaged; nothing was imported"
        )));
    }
    Ok(Capped {
        inner: entry,
        left: size,
    })
}

/// Reads at most `left` bytes; more is an error (a zip entry larger than it claims).
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the zip entry holds more than its stated size",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Reads until `buf` is full or the reader ends; returns how much was read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Picks the conversation files among `names` (paths inside a zip, or a folder's file
/// names): `conversations.json`, else the split `conversations-NNN.json` parts in
/// numeric order. Only the shallowest folder that has any counts, and macOS's
/// `__MACOSX/` shadow entries never do.
fn conversation_files<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut found: Vec<(usize, Option<u64>, &str)> = names
        .filter(|n| !n.starts_with("__MACOSX/") && !n.ends_with('/'))
        .filter_map(|n| {
            let base = n.rsplit('/').next().unwrap_or(n);
            let depth = n.matches('/').count();
            if base == "conversations.json" {
                return Some((depth, None, n));
            }
            let digits = base.strip_prefix("conversations-")?.strip_suffix(".json")?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some((depth, Some(digits.parse().unwrap_or(u64::MAX)), n))
        })
        .collect();
    let Some(depth) = found.iter().map(|f| f.0).min() else {
        return Vec::new();
    };
    found.retain(|f| f.0 == depth);
    if let Some(whole) = found.iter().find(|f| f.1.is_none()) {
        return vec![whole.2];
    }
    found.sort_by(|a, b| a.1.cmp(&b.1).then(a.2.cmp(b.2)));
    found.into_iter().map(|f| f.2).collect()
}

fn cannot_read(path: &Path, e: &io::Error) -> EngineError {
    EngineError::Invalid(format!("cannot read {}: {e}", path.display()))
}

fn bad_zip(path: &Path, e: &zip::result::ZipError) -> EngineError {
    EngineError::Invalid(format!(
        "{}: not a readable zip ({e}); nothing was imported",
        path.display()
    ))
}

/// Recognises the export from its first conversation's keys: `mapping` is ChatGPT,
/// `chat_messages` is Claude.ai, and `"format": "hearth-export"` is Hearth.
fn sniff(sources: &Sources) -> Result<ImportFormat> {
    let mut found = None;
    let mut error = None;
    let read = sources.read_each(|reader, file| {
        if found.is_some() {
            return Ok(());
        }
        let mut de = serde_json::Deserializer::from_reader(BufReader::new(reader));
        let mut seen = Sniffed::Nothing;
        // The sniffer stops as soon as it knows, which serde_json reports as an error;
        // only an error before anything was recognised matters.
        if let Err(e) = de.deserialize_any(TopLevel { seen: &mut seen }) {
            if seen == Sniffed::Nothing {
                error = Some((file.to_owned(), e));
            }
        }
        found = Some(seen);
        Ok(())
    });
    read?;
    match (found, error) {
        (_, Some((file, e))) if e.is_eof() => Err(EngineError::Invalid(format!(
            "{file}: the file ends early ({e}); nothing was imported"
        ))),
        (_, Some((file, e))) => Err(EngineError::Invalid(format!(
            "{file}: not a ChatGPT, Claude.ai or Hearth export: {e}; nothing was imported"
        ))),
        (Some(Sniffed::ChatGpt), _) | (Some(Sniffed::Empty), _) => Ok(ImportFormat::ChatGpt),
        (Some(Sniffed::Claude), _) => Ok(ImportFormat::Claude),
        (Some(Sniffed::Hearth), _) => Ok(ImportFormat::Hearth),
        (Some(Sniffed::Nothing), _) | (Some(Sniffed::Unknown), _) | (None, _) => {
            Err(EngineError::Invalid(format!(
                "{}: not a ChatGPT, Claude.ai or Hearth export (its first conversation has no `mapping` or `chat_messages`); pass --format to say which it is",
                sources.first().display()
            )))
        }
    }
}

impl Sources {
    fn first(&self) -> PathBuf {
        match self {
            Sources::Files(paths) => paths.first().cloned().unwrap_or_default(),
            Sources::Zip { path, .. } | Sources::Archive(path) => path.clone(),
        }
    }
}

/// What the sniffer saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sniffed {
    Nothing,
    Empty,
    ChatGpt,
    Claude,
    Hearth,
    Unknown,
}

/// The whole document: an array of conversations, or an object holding one (or
/// Hearth's `"format"` key).
struct TopLevel<'a> {
    seen: &'a mut Sniffed,
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of conversations")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let first = seq.next_element_seed(FirstConversation {
            seen: &mut *self.seen,
        })?;
        if first.is_none() {
            *self.seen = Sniffed::Empty;
        }
        Err(de::Error::custom("recognised"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => {
                    if map.next_value::<serde_json::Value>()? == "hearth-export" {
                        *self.seen = Sniffed::Hearth;
                        return Err(de::Error::custom("recognised"));
                    }
                }
                "conversations" => {
                    return map.next_value_seed(Conversations { seen: self.seen });
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        *self.seen = Sniffed::Unknown;
        Ok(())
    }
}

/// The value of a `"conversations"` key.
struct Conversations<'a> {
    seen: &'a mut Sniffed,
}

impl<'de> DeserializeSeed<'de> for Conversations<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(TopLevel { seen: self.seen })
    }
}

/// The first conversation: only its keys matter. It records what it saw as soon as it
/// knows and stops reading (the error that follows is ignored).
struct FirstConversation<'a> {
    seen: &'a mut Sniffed,
}

impl<'de> DeserializeSeed<'de> for FirstConversation<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FirstConversation<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a conversation object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let seen = match key.as_str() {
                "mapping" => Sniffed::ChatGpt,
                "chat_messages" => Sniffed::Claude,
                "format" if map.next_value::<serde_json::Value>()? == "hearth-export" => {
                    Sniffed::Hearth
                }
                "format" => continue,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *self.seen = seen;
            return Ok(());
        }
        *self.seen = Sniffed::Unknown;
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<(), A::Error> {
        *self.seen = Sniffed::Unknown;
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _v: &str) -> Result<(), E> {
        *self.seen = Sniffed::Unknown;
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _v: f64) -> Result<(), E> {
        *self.seen = Sniffed::Unknown;
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _v: i64) -> Result<(), E> {
        *self.seen = Sniffed::Unknown;
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _v: u64) -> Result<(), E> {
        *self.seen = Sniffed::Unknown;
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _v: bool) -> Result<(), E> {
        *self.seen = Sniffed::Unknown;
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        *self.seen = Sniffed::Unknown;
        Ok(())
    }
}

/// Streams the conversations of one export file: a top-level array, or an object with a
/// `"conversations"` array (other keys are skipped). Each element is deserialized as `T`
/// and handed to `each` with its position, then dropped, so memory holds one
/// conversation at a time. Errors name `file` and, for JSON errors, the line and column.
pub(crate) fn stream_array<T, F>(
    reader: impl Read,
    file: &str,
    what: &str,
    mut each: F,
) -> Result<()>
where
    T: for<'de> Deserialize<'de>,
    F: FnMut(T, usize) -> Result<()>,
{
    let mut state = StreamState {
        each: &mut each,
        failure: None,
        index: 0,
        found: false,
        item: PhantomData,
    };
    // serde_json reads byte by byte; a concrete BufReader makes each byte a buffer read.
    let mut de =
        serde_json::Deserializer::from_reader(BufReader::with_capacity(READ_BUFFER, reader));
    let parsed = de
        .deserialize_any(Stream { state: &mut state })
        .and_then(|()| de.end());
    if let Some(failure) = state.failure {
        return Err(failure);
    }
    match parsed {
        Ok(()) if state.found => Ok(()),
        Ok(()) => Err(EngineError::Invalid(format!(
            "{file}: not a {what} export: expected an array of conversations; nothing was imported"
        ))),
        Err(e) => {
            let position = if e.is_eof() {
                format!("the file ends early ({e})")
            } else {
                e.to_string()
            };
            Err(EngineError::Invalid(format!(
                "{file}: not a valid {what} export: conversation {}: {position}; nothing was imported",
                state.index + 1
            )))
        }
    }
}

struct StreamState<'a, T, F> {
    each: &'a mut F,
    /// An error from `each`, which serde only sees as "stopped".
    failure: Option<EngineError>,
    /// Conversations read so far.
    index: usize,
    /// Whether an array of conversations was found.
    found: bool,
    item: PhantomData<fn() -> T>,
}

struct Stream<'s, 'a, T, F> {
    state: &'s mut StreamState<'a, T, F>,
}

impl<'de, T, F> Visitor<'de> for Stream<'_, '_, T, F>
where
    T: for<'x> Deserialize<'x>,
    F: FnMut(T, usize) -> Result<()>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of conversations")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.state.found = true;
        while let Some(item) = seq.next_element::<T>()? {
            let index = self.state.index;
            if let Err(e) = (self.state.each)(item, index) {
                self.state.failure = Some(e);
                return Err(de::Error::custom("stopped"));
            }
            self.state.index += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "conversations" {
                map.next_value_seed(StreamSeed {
                    state: &mut *self.state,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct StreamSeed<'s, 'a, T, F> {
    state: &'s mut StreamState<'a, T, F>,
}

impl<'de, T, F> DeserializeSeed<'de> for StreamSeed<'_, '_, T, F>
where
    T: for<'x> Deserialize<'x>,
    F: FnMut(T, usize) -> Result<()>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(Stream { state: self.state })
    }
}

/// Runs `produce` on its own thread and yields what it hands over, in order, as an
/// iterator for [`Vault::import`](hearth_vault::Vault::import). If the consumer stops
/// early (an error in the vault), the producer's next hand-over fails and it stops.
pub(crate) fn pipe<P>(produce: P) -> Pipe
where
    P: FnOnce(&mut dyn FnMut(ConversationTree) -> Result<()>) -> Result<()> + Send + 'static,
{
    let (tx, rx) = sync_channel::<Result<ConversationTree>>(PIPE_DEPTH);
    let handle = std::thread::Builder::new()
        .name("hearth-import".into())
        .spawn(move || {
            let mut hand_over = |tree: ConversationTree| {
                tx.send(Ok(tree))
                    .map_err(|_| EngineError::Invalid("the import was stopped".into()))
            };
            if let Err(e) = produce(&mut hand_over) {
                // Nobody listening means the consumer already failed; nothing to report.
                let _ = tx.send(Err(e));
            }
        });
    match handle {
        Ok(handle) => Pipe {
            rx: Some(rx),
            handle: Some(handle),
            failed_to_start: None,
        },
        Err(e) => Pipe {
            rx: None,
            handle: None,
            failed_to_start: Some(EngineError::Invalid(format!(
                "cannot start reading the export: {e}"
            ))),
        },
    }
}

/// The receiving end of [`pipe`].
pub(crate) struct Pipe {
    rx: Option<Receiver<Result<ConversationTree>>>,
    handle: Option<JoinHandle<()>>,
    failed_to_start: Option<EngineError>,
}

impl Iterator for Pipe {
    type Item = Result<ConversationTree>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed_to_start.take() {
            return Some(Err(e));
        }
        if let Some(item) = self.rx.as_ref().and_then(|rx| rx.recv().ok()) {
            return Some(item);
        }
        self.rx = None;
        let handle = self.handle.take()?;
        match handle.join() {
            Ok(()) => None,
            Err(_) => Some(Err(EngineError::Invalid(
                "reading the export failed unexpectedly; nothing was imported".into(),
            ))),
        }
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        // Closing the channel makes the producer's next hand-over fail, so it ends soon.
        self.rx = None;
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_conversation_files_are_found_and_ordered() {
        let names = [
            "user-abc/file-1.png",
            "conversations-010.json",
            "conversations-002.json",
            "conversations-001.json",
            "chat.html",
        ];
        assert_eq!(
            conversation_files(names.into_iter()),
            vec![
                "conversations-001.json",
                "conversations-002.json",
                "conversations-010.json"
            ]
        );
        let names = ["conversations.json", "conversations-000.json", "x.json"];
        assert_eq!(
            conversation_files(names.into_iter()),
            vec!["conversations.json"]
        );
        let names = [
            "__MACOSX/export/conversations.json",
            "export/old/conversations.json",
            "export/conversations.json",
            "conversations-x.json",
        ];
        assert_eq!(
            conversation_files(names.into_iter()),
            vec!["export/conversations.json"]
        );
        assert!(conversation_files(["memories.json", "users.json"].into_iter()).is_empty());
    }

    fn sniff_text(text: &str) -> Result<ImportFormat> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, text).unwrap();
        sniff(&Sources::find(&path).unwrap())
    }

    #[test]
    fn formats_are_recognised_from_the_first_conversation() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("x.hearth");
        let mut bytes = super::super::archive::MAGIC.to_vec();
        bytes.extend_from_slice(b"rest of an archive");
        std::fs::write(&archive, bytes).unwrap();
        assert!(is_archive(&archive));
        assert_eq!(recognise(&archive).unwrap(), ImportFormat::Hearth);

        let chatgpt =
            r#"[{"title":"t","create_time":1.5,"mapping":{"a":{}},"current_node":"a"}, broken"#;
        assert_eq!(sniff_text(chatgpt).unwrap(), ImportFormat::ChatGpt);
        let wrapped = r#"{"other":[1,2],"conversations":[{"mapping":{}}]}"#;
        assert_eq!(sniff_text(wrapped).unwrap(), ImportFormat::ChatGpt);
        let claude = r#"[{"uuid":"u","name":"n","chat_messages":[]}]"#;
        assert_eq!(sniff_text(claude).unwrap(), ImportFormat::Claude);
        let hearth = r#"{"format":"hearth-export","version":1,"conversations":[]}"#;
        assert_eq!(sniff_text(hearth).unwrap(), ImportFormat::Hearth);
        assert_eq!(sniff_text("[]").unwrap(), ImportFormat::ChatGpt);
        let err = sniff_text(r#"[{"foo":1}]"#).unwrap_err().to_string();
        assert!(err.contains("--format"), "{err}");
        let err = sniff_text("hello").unwrap_err().to_string();
        assert!(err.contains("line 1 column 1"), "{err}");
    }

    #[derive(Deserialize)]
    struct Item {
        n: u32,
    }

    fn stream(text: &str) -> (Vec<(u32, usize)>, Result<()>) {
        let mut got = Vec::new();
        let result = stream_array::<Item, _>(text.as_bytes(), "f.json", "test", |item, i| {
            got.push((item.n, i));
            Ok(())
        });
        (got, result)
    }

    #[test]
    fn arrays_stream_one_element_at_a_time_and_errors_say_where() {
        let (got, result) = stream(r#"[{"n":1},{"n":2,"x":[1]}]"#);
        result.unwrap();
        assert_eq!(got, vec![(1, 0), (2, 1)]);
        let (got, result) = stream(r#"{"meta":{"a":1},"conversations":[{"n":7}]}"#);
        result.unwrap();
        assert_eq!(got, vec![(7, 0)]);

        let (got, result) = stream("[{\"n\":1},\n{\"n\":\"two\"}]");
        assert_eq!(got.len(), 1);
        let err = result.unwrap_err().to_string();
        assert!(err.starts_with("f.json: "), "{err}");
        assert!(
            err.contains("conversation 2") && err.contains("line 2"),
            "{err}"
        );

        let (_, result) = stream(r#"[{"n":1},{"n":2"#);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("ends early"), "{err}");
        let (_, result) = stream(r#"{"n":1}"#);
        assert!(result
            .unwrap_err()
            .to_string()
            .contains("expected an array"));
        let (_, result) = stream(r#"[{"n":1}] trailing"#);
        assert!(result.unwrap_err().to_string().contains("trailing"));
    }

    #[test]
    fn an_error_from_the_consumer_stops_the_stream_and_is_returned() {
        let mut seen = 0;
        let result = stream_array::<Item, _>(
            r#"[{"n":1},{"n":2},{"n":3}]"#.as_bytes(),
            "f.json",
            "test",
            |item, _| {
                seen += 1;
                if item.n == 2 {
                    return Err(EngineError::Invalid("conversation two is bad".into()));
                }
                Ok(())
            },
        );
        assert_eq!(seen, 2);
        assert_eq!(result.unwrap_err().to_string(), "conversation two is bad");
    }

    #[test]
    fn the_pipe_yields_in_order_then_the_error() {
        let items: Vec<_> = pipe(|each| {
            for _ in 0..100 {
                each(sample_tree())?;
            }
            Err(EngineError::Invalid("late failure".into()))
        })
        .collect();
        assert_eq!(items.len(), 101);
        assert!(items[..100].iter().all(Result::is_ok));
        assert!(items[100].is_err());

        // Dropping the consumer early stops the producer.
        let mut pipe = pipe(|each| loop {
            each(sample_tree())?;
        });
        assert!(pipe.next().unwrap().is_ok());
        drop(pipe);
    }

    fn sample_tree() -> ConversationTree {
        ConversationTree {
            conversation: hearth_vault::Conversation {
                id: "c".into(),
                title: String::new(),
                created_at: 0,
                updated_at: 0,
                provider_id: None,
                model: None,
                system_prompt: None,
                params_json: None,
                pinned: false,
                archived: false,
                source: None,
                source_id: None,
                head_message_id: None,
            },
            messages: Vec::new(),
        }
    }

    /// A zip with one stored entry, whose stated sizes can then be edited.
    fn stored_zip(name: &str, body: &[u8]) -> Vec<u8> {
        let mut out = io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            w.start_file(name, options).unwrap();
            io::Write::write_all(&mut w, body).unwrap();
            w.finish().unwrap();
        }
        out.into_inner()
    }

    /// Rewrites the uncompressed size of every local and central header.
    fn claim_size(zip: &mut [u8], size: u32) {
        let mut i = 0;
        while i + 4 <= zip.len() {
            match &zip[i..i + 4] {
                b"PK\x03\x04" => zip[i + 22..i + 26].copy_from_slice(&size.to_le_bytes()),
                b"PK\x01\x02" => zip[i + 24..i + 28].copy_from_slice(&size.to_le_bytes()),
                _ => {}
            }
            i += 1;
        }
    }

    #[test]
    fn zip_entries_with_absurd_sizes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let body = br#"[{"mapping":{}}]"#;
        let mut zip = stored_zip("conversations.json", body);
        let path = dir.path().join("export.zip");
        std::fs::write(&path, &zip).unwrap();
        let sources = Sources::find(&path).unwrap();
        assert_eq!(sniff(&sources).unwrap(), ImportFormat::ChatGpt);

        claim_size(&mut zip, 4_000_000_000);
        std::fs::write(&path, &zip).unwrap();
        let err = Sources::find(&path)
            .and_then(|s| sniff(&s))
            .unwrap_err()
            .to_string();
        assert!(err.contains("which no zip can do"), "{err}");
    }

    #[test]
    fn a_zip_entry_longer_than_it_claims_is_cut_off() {
        let mut capped = Capped {
            inner: &b"0123456789"[..],
            left: 4,
        };
        let mut out = Vec::new();
        let err = capped.read_to_end(&mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
