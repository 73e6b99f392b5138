//! Importing a file: finding the conversations (and a Claude.ai export's projects) in it
//! (a JSON file, the folder a data export unzips to, or the export's zip), recognising
//! whose export it is, and reading it one conversation at a time into
//! [`Vault::import`](hearth_vault::Vault::import).
//!
//! Exports can be hundreds of megabytes, so nothing here holds a whole file: the JSON is
//! parsed as a stream, each conversation is converted as soon as it is read, and a
//! bounded channel hands it from the parsing thread to the thread writing the vault (which
//! also lets parsing and writing use two cores).

use std::cell::Cell;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use hearth_vault::{ConversationTree, ImportReport, Passphrase, ProjectTree};

use super::budget::{too_large, GuardState, Inflated, JsonGuard, TooLarge};
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

/// How to import a file.
#[derive(Clone, Copy)]
pub struct ImportOptions<'a> {
    /// Which export the file holds.
    pub format: ImportFormat,
    /// The passphrase of an encrypted Hearth archive (not used for other files).
    pub archive_passphrase: Option<&'a Passphrase>,
    /// All or nothing: a conversation that cannot be converted fails the whole import,
    /// instead of being left out and named in [`ImportOutcome::not_converted`].
    pub strict: bool,
}

impl ImportOptions<'_> {
    /// Recognise the format, no passphrase, not strict.
    pub fn auto() -> Self {
        ImportOptions {
            format: ImportFormat::Auto,
            archive_passphrase: None,
            strict: false,
        }
    }
}

/// What an import did: the counts, and the conversations of a well-formed export that
/// could not be converted and were left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Conversations added, already present, and messages added.
    pub report: ImportReport,
    /// Conversations left out, in file order (always empty for Hearth's own exports and
    /// for strict imports).
    pub not_converted: Vec<NotConverted>,
}

/// A conversation of an export that could not be converted, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotConverted {
    /// The file (or zip entry) holding it.
    pub file: String,
    /// What it is: `conversation`, or `project` (a Claude.ai project).
    pub kind: &'static str,
    /// Its position in that file, from 1.
    pub number: u64,
    /// Its title, as far as it could be read (at most 200 characters).
    pub title: Option<String>,
    /// Its id in the export, as far as it could be read.
    pub id: Option<String>,
    /// What is wrong with it.
    pub reason: String,
}

impl NotConverted {
    /// `"Title" (id)`, as far as they are known.
    pub fn label(&self) -> String {
        super::chatgpt::label(self.title.as_deref(), self.id.as_deref())
    }

    /// The error a strict import (or one where no conversation converted) fails with.
    pub fn to_error(&self) -> EngineError {
        EngineError::Invalid(format!(
            "{}: {} {} {}: {}; nothing was imported",
            self.file,
            self.kind,
            self.number,
            self.label(),
            self.reason
        ))
    }
}

/// One item an export reader hands over.
pub enum Piece {
    /// A converted conversation (boxed: it is much larger than the other pieces).
    Tree(Box<ConversationTree>),
    /// A conversation left out.
    NotConverted(NotConverted),
    /// The bytes of a file an attachment of a later tree names start (see
    /// [`ImportItem::FileStart`](hearth_vault::ImportItem::FileStart)).
    FileStart {
        /// SHA-256 of the bytes, lowercase hex.
        sha256: String,
        /// How many bytes follow.
        size: u64,
    },
    /// The next bytes of that file.
    FileBytes(Vec<u8>),
    /// A project, after the bytes of its files and before the conversations in it
    /// (boxed, like a tree).
    Project(Box<ProjectTree>),
}

impl Engine {
    /// Imports every conversation in the file or folder at `path` (see
    /// [`Engine::import_file_with`]), recognising its format if `format` is
    /// [`ImportFormat::Auto`]. An encrypted Hearth archive needs
    /// [`Engine::import_file_with`] and its passphrase.
    pub fn import_file(
        &self,
        path: &Path,
        format: ImportFormat,
        progress: impl FnMut(&ImportReport),
    ) -> Result<ImportOutcome> {
        self.import_file_with(
            path,
            ImportOptions {
                format,
                ..ImportOptions::auto()
            },
            progress,
        )
    }

    /// Imports every conversation in the file or folder at `path`, skipping those
    /// already in the vault (so importing twice adds nothing), in one transaction.
    /// `progress` is called after each conversation with the counts so far.
    ///
    /// A file that is not valid JSON, is cut short, is not an export, or breaks a limit
    /// of [`budget`](super::budget) adds nothing. In a well-formed export, a conversation
    /// that cannot be converted is left out and named in the outcome, and the others
    /// are imported; with [`ImportOptions::strict`] it fails the whole import instead.
    /// If no conversation converts at all, the import fails with the first one's reason.
    pub fn import_file_with(
        &self,
        path: &Path,
        options: ImportOptions<'_>,
        progress: impl FnMut(&ImportReport),
    ) -> Result<ImportOutcome> {
        let format = options.format;
        let sources = Sources::find(path)?;
        if let Sources::Archive(archive) = &sources {
            if !matches!(format, ImportFormat::Auto | ImportFormat::Hearth) {
                return Err(EngineError::Invalid(format!(
                    "{}: this is an encrypted Hearth archive, not a {format} export; import it with --format hearth; nothing was imported",
                    archive.display()
                )));
            }
            let Some(passphrase) = options.archive_passphrase else {
                return Err(EngineError::Invalid(format!(
                    "{}: this is an encrypted Hearth archive and needs its passphrase; nothing was imported",
                    archive.display()
                )));
            };
            let file = File::open(archive).map_err(|e| cannot_read(archive, &e))?;
            return self
                .import_hearth_archive(file, passphrase, progress)
                .map(whole)
                .map_err(|e| name_file(e, archive));
        }
        let format = match format {
            ImportFormat::Auto => sniff(&sources)?,
            chosen => chosen,
        };
        if format != ImportFormat::Claude && sources.holds_only_projects() {
            return Err(EngineError::Invalid(format!(
                "{}: this holds Claude.ai projects and no conversations; import it with --format claude (or auto); nothing was imported",
                path.display()
            )));
        }
        match format {
            ImportFormat::ChatGpt => self.import_pieces(
                pipe(move |each| {
                    // The images the conversations show, from the same zip or folder.
                    let mut assets = match &sources {
                        Sources::Zip { path, .. } => super::assets::Assets::zip(path)?,
                        Sources::Files { conversations, .. } => {
                            match conversations.first().and_then(|f| f.parent()) {
                                Some(dir) => super::assets::Assets::folder(dir),
                                None => super::assets::Assets::None,
                            }
                        }
                        Sources::Archive(_) => super::assets::Assets::None,
                    };
                    sources.read_each(|reader, file, holds| {
                        // ChatGPT exports have no project files (its projects are named
                        // by their conversations).
                        if holds != Holds::Conversations {
                            return Ok(());
                        }
                        super::chatgpt::read(reader, file, &mut |piece| match piece {
                            Piece::Tree(mut tree) => {
                                assets.resolve(&mut tree, each)?;
                                each(Piece::Tree(tree))
                            }
                            other => each(other),
                        })
                    })
                }),
                options.strict,
                progress,
            ),
            ImportFormat::Claude => self.import_pieces(
                pipe(move |each| {
                    sources.read_each(|reader, file, holds| match holds {
                        Holds::Conversations => super::claude::read(reader, file, each),
                        Holds::Projects => super::claude::read_projects(reader, file, each),
                        Holds::Project => super::claude::read_project(reader, file, each),
                    })
                }),
                options.strict,
                progress,
            ),
            ImportFormat::Hearth | ImportFormat::Auto => match &sources {
                Sources::Files {
                    conversations,
                    projects,
                } if conversations.len() == 1 && projects.is_empty() => {
                    let json = &conversations[0];
                    let file = File::open(json).map_err(|e| cannot_read(json, &e))?;
                    self.import_hearth_json(file, progress)
                        .map(whole)
                        .map_err(|e| name_file(e, json))
                }
                _ => Err(EngineError::Invalid(format!(
                    "{}: a Hearth export is one .json or .hearth file, not a folder or a zip; nothing was imported",
                    path.display()
                ))),
            },
        }
    }

    /// Adds the trees of `pieces`, collecting those left out (or, when `strict`,
    /// failing on the first).
    fn import_pieces(
        &self,
        pieces: Pipe,
        strict: bool,
        progress: impl FnMut(&ImportReport),
    ) -> Result<ImportOutcome> {
        let mut not_converted = Vec::new();
        let trees = pieces.filter_map(|piece| match piece {
            Ok(Piece::Tree(tree)) => Some(Ok(hearth_vault::ImportItem::Conversation(tree))),
            Ok(Piece::FileStart { sha256, size }) => {
                Some(Ok(hearth_vault::ImportItem::FileStart { sha256, size }))
            }
            Ok(Piece::FileBytes(bytes)) => Some(Ok(hearth_vault::ImportItem::FileBytes(bytes))),
            Ok(Piece::Project(tree)) => Some(Ok(hearth_vault::ImportItem::Project(tree))),
            Ok(Piece::NotConverted(n)) if strict => Some(Err(n.to_error())),
            Ok(Piece::NotConverted(n)) => {
                not_converted.push(n);
                None
            }
            Err(e) => Some(Err(e)),
        });
        let report = self.vault()?.import(trees, progress)?;
        if report.added == 0 && report.skipped == 0 && report.projects == 0 {
            if let Some(first) = not_converted.first() {
                // Nothing in the file converted: it is most likely not this kind of
                // export at all, and nothing was added.
                return Err(first.to_error());
            }
        }
        Ok(ImportOutcome {
            report,
            not_converted,
        })
    }
}

/// The outcome of an import that is all or nothing by nature (Hearth's own exports).
fn whole(report: ImportReport) -> ImportOutcome {
    ImportOutcome {
        report,
        not_converted: Vec::new(),
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

/// How many conversations recognising an export looks at, at most, for one with the
/// key that says whose export it is.
const SNIFF_CONVERSATIONS: usize = 16;

/// Conversations handed from the parsing thread to the vault writer at most this far
/// ahead, so memory stays bounded however fast the parser is.
const PIPE_DEPTH: usize = 32;

/// Where the conversation JSON of an export lives, and a Claude.ai export's projects.
#[derive(Debug, Clone)]
enum Sources {
    /// JSON files, read in this order (one file, or a folder's split parts).
    Files {
        /// The files holding conversations.
        conversations: Vec<PathBuf>,
        /// The files holding projects (see [`project_files`]), read first.
        projects: Vec<PathBuf>,
    },
    /// An encrypted Hearth archive.
    Archive(PathBuf),
    /// Entries of a zip, read in this order.
    Zip {
        /// The zip file.
        path: PathBuf,
        /// The entries holding conversations.
        entries: Vec<String>,
        /// The entries holding projects, read first.
        projects: Vec<String>,
    },
}

/// What one file of an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holds {
    /// Conversations (`conversations.json`, or a split part).
    Conversations,
    /// An array of Claude.ai projects (`projects.json`).
    Projects,
    /// One Claude.ai project (`projects/<uuid>.json` in newer exports).
    Project,
}

/// What the project file named `name` holds.
fn project_holds(name: &str) -> Holds {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    if base.eq_ignore_ascii_case("projects.json") {
        Holds::Projects
    } else {
        Holds::Project
    }
}

impl Sources {
    /// Looks at `path`: a zip (recognised by its first bytes, whatever its name), a
    /// folder holding `conversations.json` or `conversations-NNN.json`, or a JSON file.
    fn find(path: &Path) -> Result<Sources> {
        let meta = std::fs::metadata(path).map_err(|e| cannot_read(path, &e))?;
        if meta.is_dir() {
            let mut names = Vec::new();
            list_folder(path, "", &mut names)?;
            // A newer Claude.ai export's projects are one file each in `projects/`.
            let projects_dir = path.join("projects");
            if projects_dir.is_dir() {
                list_folder(&projects_dir, "projects/", &mut names)?;
            }
            let chosen = conversation_files(names.iter().map(String::as_str));
            let projects = project_files(names.iter().map(String::as_str));
            if chosen.is_empty() && projects.is_empty() {
                return Err(EngineError::Invalid(format!(
                    "{}: this folder has no conversations.json, conversations-000.json or projects.json; point at the export's zip or its conversations file",
                    path.display()
                )));
            }
            return Ok(Sources::Files {
                conversations: chosen.into_iter().map(|n| path.join(n)).collect(),
                projects: projects.into_iter().map(|n| path.join(n)).collect(),
            });
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
            let projects: Vec<String> = project_files(names.iter().map(String::as_str))
                .into_iter()
                .map(str::to_owned)
                .collect();
            if entries.is_empty() && projects.is_empty() {
                return Err(EngineError::Invalid(format!(
                    "{}: this zip holds no conversations.json or projects.json; is it a ChatGPT or Claude.ai data export?",
                    path.display()
                )));
            }
            return Ok(Sources::Zip {
                path: path.to_owned(),
                entries,
                projects,
            });
        }
        // A Claude.ai `projects.json` on its own.
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.eq_ignore_ascii_case("projects.json") {
            return Ok(Sources::Files {
                conversations: Vec::new(),
                projects: vec![path.to_owned()],
            });
        }
        Ok(Sources::Files {
            conversations: vec![path.to_owned()],
            projects: Vec::new(),
        })
    }

    /// Whether there are projects to read and no conversations.
    fn holds_only_projects(&self) -> bool {
        match self {
            Sources::Files {
                conversations,
                projects,
            } => conversations.is_empty() && !projects.is_empty(),
            Sources::Zip {
                entries, projects, ..
            } => entries.is_empty() && !projects.is_empty(),
            Sources::Archive(_) => false,
        }
    }

    /// Opens each source in order, the project files first, and hands it (unbuffered)
    /// to `read` with a name for error messages and what it holds. A zip's entries
    /// share one budget of unpacked bytes.
    fn read_each(
        &self,
        mut read: impl FnMut(&mut dyn Read, &str, Holds) -> Result<()>,
    ) -> Result<()> {
        match self {
            Sources::Archive(path) => Err(EngineError::Invalid(format!(
                "{}: an encrypted Hearth archive holds no ChatGPT or Claude.ai export; nothing was imported",
                path.display()
            ))),
            Sources::Files {
                conversations,
                projects,
            } => {
                let projects = projects.iter().map(|p| (p, project_holds(&p.to_string_lossy())));
                let conversations = conversations.iter().map(|p| (p, Holds::Conversations));
                for (path, holds) in projects.chain(conversations) {
                    let mut file = File::open(path).map_err(|e| cannot_read(path, &e))?;
                    read(&mut file, &path.display().to_string(), holds)?;
                }
                Ok(())
            }
            Sources::Zip {
                path,
                entries,
                projects,
            } => {
                let file = File::open(path).map_err(|e| cannot_read(path, &e))?;
                let zip_len = file.metadata().map_err(|e| cannot_read(path, &e))?.len();
                let budget = super::budget::zip_inflate_budget(zip_len);
                let left = Rc::new(Cell::new(budget));
                let mut archive = zip::ZipArchive::new(file).map_err(|e| bad_zip(path, &e))?;
                let projects = projects.iter().map(|n| (n, project_holds(n)));
                let conversations = entries.iter().map(|n| (n, Holds::Conversations));
                for (name, holds) in projects.chain(conversations) {
                    let label = format!("{name} in {}", path.display());
                    let entry = archive.by_name(name).map_err(|e| bad_zip(path, &e))?;
                    let mut reader = Inflated {
                        inner: checked_entry(entry, &label)?,
                        left: left.clone(),
                        budget,
                    };
                    read(&mut reader, &label, holds)?;
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

/// Adds the names of the files in the folder `dir` to `names`, each after `prefix`.
fn list_folder(dir: &Path, prefix: &str, names: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| cannot_read(dir, &e))? {
        let entry = entry.map_err(|e| cannot_read(dir, &e))?;
        if let Some(name) = entry.file_name().to_str() {
            names.push(format!("{prefix}{name}"));
        }
    }
    Ok(())
}

/// Picks the files holding a Claude.ai export's projects among `names` (paths inside a
/// zip, or a folder's file names with `projects/` in front of those in its `projects`
/// folder): `projects.json` (an array of projects), and the `.json` files in a
/// `projects/` folder beside it (one project each, as newer exports and their
/// `projects-000.zip` have them). Only the shallowest folder that has any counts, as for
/// conversations; `projects.json` comes first, then the others by name.
fn project_files<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut found: Vec<(usize, bool, &str)> = names
        .filter(|n| !n.starts_with("__MACOSX/") && !n.ends_with('/'))
        .filter_map(|n| {
            let (dir, base) = n.rsplit_once('/').unwrap_or(("", n));
            let depth = n.matches('/').count();
            if base == "projects.json" {
                return Some((depth, false, n));
            }
            let folder = dir.rsplit('/').next().unwrap_or(dir);
            let one = folder == "projects"
                && base.len() > ".json".len()
                && base.ends_with(".json")
                && !base.starts_with('.');
            one.then(|| (depth - 1, true, n))
        })
        .collect();
    let Some(depth) = found.iter().map(|f| f.0).min() else {
        return Vec::new();
    };
    found.retain(|f| f.0 == depth);
    found.sort();
    found.into_iter().map(|f| f.2).collect()
}

/// A project's name as Hearth keeps it: control characters (line breaks) as spaces, runs
/// of white space as one, at most [`hearth_vault::MAX_NAME_CHARS`] characters, and
/// `fallback` when nothing is left.
pub(crate) fn project_name(name: Option<&str>, fallback: &str) -> String {
    let spaced: String = name
        .unwrap_or("")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let name: String = spaced
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(hearth_vault::MAX_NAME_CHARS)
        .collect();
    let name = name.trim();
    if name.is_empty() {
        fallback.to_owned()
    } else {
        name.to_owned()
    }
}

/// The error for a read that failed below the JSON parser: a limit, or the file.
fn read_failed(file: &str, e: serde_json::Error) -> EngineError {
    let e = io::Error::from(e);
    match too_large(&e) {
        Some(limit) => EngineError::Invalid(format!("{file}: {limit}; nothing was imported")),
        None => EngineError::Invalid(format!(
            "{file}: cannot read it ({e}); nothing was imported"
        )),
    }
}

pub(crate) fn cannot_read(path: &Path, e: &io::Error) -> EngineError {
    EngineError::Invalid(format!("cannot read {}: {e}", path.display()))
}

pub(crate) fn bad_zip(path: &Path, e: &zip::result::ZipError) -> EngineError {
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
    let read = sources.read_each(|reader, file, holds| {
        if found.is_some() || holds != Holds::Conversations {
            return Ok(());
        }
        let (guarded, _) = JsonGuard::new(reader);
        let mut de = serde_json::Deserializer::from_reader(guarded);
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
    if found.is_none() && sources.holds_only_projects() {
        // Projects and no conversations: only Claude.ai exports have project files.
        return Ok(ImportFormat::Claude);
    }
    match (found, error) {
        (_, Some((file, e))) if e.is_eof() => Err(EngineError::Invalid(format!(
            "{file}: the file ends early ({e}); nothing was imported"
        ))),
        (_, Some((file, e))) if e.is_io() => Err(read_failed(&file, e)),
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
            Sources::Files {
                conversations,
                projects,
            } => conversations
                .first()
                .or(projects.first())
                .cloned()
                .unwrap_or_default(),
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
        // A conversation can lack the telling key (ChatGPT exports hold some without a
        // `mapping`), so a few are looked at.
        for _ in 0..SNIFF_CONVERSATIONS {
            let next = seq.next_element_seed(FirstConversation {
                seen: &mut *self.seen,
            })?;
            match next {
                None if *self.seen == Sniffed::Nothing => *self.seen = Sniffed::Empty,
                Some(()) if *self.seen == Sniffed::Unknown => continue,
                _ => {}
            }
            break;
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
/// `"conversations"` array (other keys are skipped). Each element is read whole (within
/// the limits of [`budget`](super::budget)), then deserialized as `T` and handed to
/// `each` with its position, then dropped, so memory holds one conversation at a time.
/// An element of the wrong shape, or holding a string past the limit, is handed over as
/// a [`Rejected`] instead. Errors (invalid JSON, a file cut short, a limit) name `file`
/// and, for JSON errors, the line and column.
pub(crate) fn stream_array<T, F>(reader: impl Read, file: &str, what: &str, each: F) -> Result<()>
where
    T: for<'de> Deserialize<'de>,
    F: FnMut(std::result::Result<T, Rejected>, usize) -> Result<()>,
{
    stream_items(reader, file, what, "conversation", each)
}

/// [`stream_array`] for an array of other things than conversations: `item` names one
/// in errors (`project`), and an object holds the array under `item` + `s`.
pub(crate) fn stream_items<T, F>(
    reader: impl Read,
    file: &str,
    what: &str,
    item: &str,
    mut each: F,
) -> Result<()>
where
    T: for<'de> Deserialize<'de>,
    F: FnMut(std::result::Result<T, Rejected>, usize) -> Result<()>,
{
    let (guarded, guard) = JsonGuard::new(reader);
    let key = format!("{item}s");
    let mut state = StreamState {
        each: &mut each,
        failure: None,
        index: 0,
        found: false,
        guard,
        key: &key,
        item: PhantomData,
    };
    let mut de = serde_json::Deserializer::from_reader(guarded);
    let parsed = de
        .deserialize_any(Stream { state: &mut state })
        .and_then(|()| de.end());
    if let Some(failure) = state.failure {
        return Err(failure);
    }
    match parsed {
        Ok(()) if state.found => Ok(()),
        Ok(()) => Err(EngineError::Invalid(format!(
            "{file}: not a {what} export: expected an array of {key}; nothing was imported"
        ))),
        Err(e) if e.is_io() => {
            let e = io::Error::from(e);
            Err(EngineError::Invalid(match too_large(&e) {
                Some(limit @ TooLarge::Conversation) if item == "conversation" => format!(
                    "{file}: conversation {}: {limit}; nothing was imported",
                    state.index + 1
                ),
                Some(TooLarge::Conversation) => format!(
                    "{file}: {item} {} is more than {} MiB of JSON, far beyond any real one; nothing was imported",
                    state.index + 1,
                    super::budget::MAX_CONVERSATION_BYTES >> 20
                ),
                Some(limit) => format!("{file}: {limit}; nothing was imported"),
                None => format!("{file}: cannot read it ({e}); nothing was imported"),
            }))
        }
        Err(e) => {
            let position = if e.is_eof() {
                format!("the file ends early ({e})")
            } else {
                e.to_string()
            };
            Err(EngineError::Invalid(format!(
                "{file}: not a valid {what} export: {item} {}: {position}; nothing was imported",
                state.index + 1
            )))
        }
    }
}

/// Reads a file holding one JSON object (within the limits of
/// [`budget`](super::budget), the whole object as one conversation's) as `T`. Invalid
/// JSON, a file cut short or a limit is an error naming `file`; valid JSON of the wrong
/// shape, or holding a string past the limit, is a [`Rejected`].
pub(crate) fn read_object<T>(
    reader: impl Read,
    file: &str,
    what: &str,
) -> Result<std::result::Result<T, Rejected>>
where
    T: for<'de> Deserialize<'de>,
{
    let (guarded, guard) = JsonGuard::new(reader);
    let cut = guard.begin();
    let mut de = serde_json::Deserializer::from_reader(guarded);
    let raw = Box::<RawValue>::deserialize(&mut de).and_then(|raw| de.end().map(|()| raw));
    let was_cut = guard.cut_since(cut);
    let raw = match raw {
        Ok(raw) => raw,
        Err(e) if e.is_io() => {
            let e = io::Error::from(e);
            return Err(EngineError::Invalid(match too_large(&e) {
                Some(TooLarge::Conversation) => format!(
                    "{file}: it is more than {} MiB of JSON, far beyond any real {what}; nothing was imported",
                    super::budget::MAX_CONVERSATION_BYTES >> 20
                ),
                Some(limit) => format!("{file}: {limit}; nothing was imported"),
                None => format!("{file}: cannot read it ({e}); nothing was imported"),
            }));
        }
        Err(e) => {
            let position = if e.is_eof() {
                format!("the file ends early ({e})")
            } else {
                e.to_string()
            };
            return Err(EngineError::Invalid(format!(
                "{file}: not a valid {what}: {position}; nothing was imported"
            )));
        }
    };
    if was_cut {
        return Ok(Err(rejected(
            &raw,
            format!(
                "it holds a text of more than {} MiB, far beyond any real one",
                super::budget::MAX_STRING_BYTES >> 20
            ),
        )));
    }
    Ok(serde_json::from_str::<T>(raw.get()).map_err(|e| rejected(&raw, shape_error(&e))))
}

/// A conversation that was read but cannot be used: why, and its title and id as far
/// as they could be read.
pub(crate) struct Rejected {
    /// What is wrong.
    pub(crate) why: String,
    /// Its title.
    pub(crate) title: Option<String>,
    /// Its id.
    pub(crate) id: Option<String>,
}

impl Rejected {
    /// As the user sees it: `file`, its position `index` (from 0), and the reason.
    pub(crate) fn locate(self, file: &str, index: usize) -> NotConverted {
        self.locate_as("conversation", file, index)
    }

    /// As [`Rejected::locate`], for an item that is not a conversation.
    pub(crate) fn locate_as(self, kind: &'static str, file: &str, index: usize) -> NotConverted {
        NotConverted {
            file: file.to_owned(),
            kind,
            number: index as u64 + 1,
            title: self.title,
            id: self.id,
            reason: self.why,
        }
    }
}

/// The keys that name a conversation, in any export, read leniently.
#[derive(Deserialize)]
struct Naming {
    #[serde(default)]
    title: Option<serde_json::Value>,
    #[serde(default)]
    name: Option<serde_json::Value>,
    #[serde(default)]
    conversation_id: Option<serde_json::Value>,
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    uuid: Option<serde_json::Value>,
}

/// The longest title kept to name a conversation that was left out.
const NAMING_TITLE_CHARS: usize = 200;

/// A [`Rejected`] for `raw`, with whatever title and id it has.
fn rejected(raw: &RawValue, why: String) -> Rejected {
    let naming = serde_json::from_str::<Naming>(raw.get()).ok();
    let text = |v: Option<serde_json::Value>| match v? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s),
        _ => None,
    };
    let (title, id) = match naming {
        Some(n) => (
            text(n.title).or_else(|| text(n.name)),
            text(n.conversation_id)
                .or_else(|| text(n.id))
                .or_else(|| text(n.uuid)),
        ),
        None => (None, None),
    };
    Rejected {
        why,
        title: title.map(|t| t.chars().take(NAMING_TITLE_CHARS).collect()),
        id: id.map(|t| t.chars().take(NAMING_TITLE_CHARS).collect()),
    }
}

/// A serde error about one conversation's shape, without its position inside the
/// conversation (which would read as a position in the file).
fn shape_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((what, _)) => format!("it has an unexpected shape ({what})"),
        None => format!("it has an unexpected shape ({text})"),
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
    /// What the reader under the parser saw.
    guard: Rc<GuardState>,
    /// The key of an object that holds the array (`conversations`).
    key: &'a str,
    item: PhantomData<fn() -> T>,
}

struct Stream<'s, 'a, T, F> {
    state: &'s mut StreamState<'a, T, F>,
}

impl<'de, T, F> Visitor<'de> for Stream<'_, '_, T, F>
where
    T: for<'x> Deserialize<'x>,
    F: FnMut(std::result::Result<T, Rejected>, usize) -> Result<()>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of conversations")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.state.found = true;
        loop {
            let cut = self.state.guard.begin();
            let raw = seq.next_element::<Box<RawValue>>();
            let was_cut = self.state.guard.cut_since(cut);
            let Some(raw) = raw? else { break };
            let item = if was_cut {
                Err(rejected(
                    &raw,
                    format!(
                        "it holds a text of more than {} MiB, far beyond any real message or title",
                        super::budget::MAX_STRING_BYTES >> 20
                    ),
                ))
            } else {
                serde_json::from_str::<T>(raw.get()).map_err(|e| rejected(&raw, shape_error(&e)))
            };
            drop(raw);
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
            if key == self.state.key {
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
    F: FnMut(std::result::Result<T, Rejected>, usize) -> Result<()>,
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
    P: FnOnce(&mut dyn FnMut(Piece) -> Result<()>) -> Result<()> + Send + 'static,
{
    let (tx, rx) = sync_channel::<Result<Piece>>(PIPE_DEPTH);
    let in_flight = Arc::new(InFlight::default());
    let producer_side = in_flight.clone();
    let handle = std::thread::Builder::new()
        .name("hearth-import".into())
        .spawn(move || {
            let mut hand_over = |piece: Piece| {
                producer_side.reserve(piece_bytes(&piece))?;
                tx.send(Ok(piece))
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
            in_flight,
        },
        Err(e) => Pipe {
            rx: None,
            handle: None,
            failed_to_start: Some(EngineError::Invalid(format!(
                "cannot start reading the export: {e}"
            ))),
            in_flight,
        },
    }
}

/// Bytes of conversation text handed from the parsing thread to the vault writer and
/// not yet taken, at most (one conversation is always let through): with
/// [`PIPE_DEPTH`] alone, 32 large conversations could wait in memory at once.
const PIPE_BYTES: u64 = 32 << 20;

/// Roughly what a piece holds in memory.
fn piece_bytes(piece: &Piece) -> u64 {
    match piece {
        Piece::Tree(tree) => tree
            .messages
            .iter()
            .map(|m| {
                (m.content.len() + m.reasoning.as_ref().map_or(0, String::len) + m.id.len() * 3)
                    as u64
            })
            .sum::<u64>()
            .saturating_add(tree.conversation.title.len() as u64),
        Piece::NotConverted(n) => n.reason.len() as u64,
        Piece::FileStart { sha256, .. } => sha256.len() as u64,
        Piece::FileBytes(bytes) => bytes.len() as u64,
        Piece::Project(tree) => (tree.project.name.len() + tree.project.instructions.len()) as u64,
    }
}

/// The bytes in the pipe, shared by both ends.
#[derive(Default)]
struct InFlight {
    state: Mutex<(u64, bool)>,
    changed: Condvar,
}

impl InFlight {
    /// Waits until `bytes` more fit (or the pipe is empty), then counts them.
    fn reserve(&self, bytes: u64) -> Result<()> {
        let stopped = || EngineError::Invalid("the import was stopped".into());
        let mut state = self.state.lock().map_err(|_| stopped())?;
        while state.0 > 0 && state.0.saturating_add(bytes) > PIPE_BYTES && !state.1 {
            state = self.changed.wait(state).map_err(|_| stopped())?;
        }
        if state.1 {
            return Err(stopped());
        }
        state.0 = state.0.saturating_add(bytes);
        Ok(())
    }

    /// Uncounts `bytes` taken from the pipe.
    fn release(&self, bytes: u64) {
        if let Ok(mut state) = self.state.lock() {
            state.0 = state.0.saturating_sub(bytes);
        }
        self.changed.notify_all();
    }

    /// The consumer is gone: a waiting producer stops.
    fn close(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.1 = true;
        }
        self.changed.notify_all();
    }
}

/// The receiving end of [`pipe`].
pub(crate) struct Pipe {
    rx: Option<Receiver<Result<Piece>>>,
    handle: Option<JoinHandle<()>>,
    failed_to_start: Option<EngineError>,
    in_flight: Arc<InFlight>,
}

impl Iterator for Pipe {
    type Item = Result<Piece>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed_to_start.take() {
            return Some(Err(e));
        }
        if let Some(item) = self.rx.as_ref().and_then(|rx| rx.recv().ok()) {
            if let Ok(piece) = &item {
                self.in_flight.release(piece_bytes(piece));
            }
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
        self.in_flight.close();
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

    #[test]
    fn the_project_files_are_found_and_ordered() {
        let names = [
            "conversations.json",
            "projects/b.json",
            "projects.json",
            "projects/a.json",
            "projects/notes.txt",
            "users.json",
        ];
        assert_eq!(
            project_files(names.into_iter()),
            vec!["projects.json", "projects/a.json", "projects/b.json"]
        );
        let names = [
            "__MACOSX/projects/y.json",
            "export/projects/.x.json",
            "export/projects/x.json",
            "deep/er/projects.json",
            "export/conversations.json",
        ];
        assert_eq!(
            project_files(names.into_iter()),
            vec!["export/projects/x.json"]
        );
        assert!(project_files(["conversations.json", "projects/"].into_iter()).is_empty());
        assert_eq!(project_holds("x/projects.json"), Holds::Projects);
        assert_eq!(project_holds("projects/abc.json"), Holds::Project);
    }

    #[test]
    fn project_names_are_one_line_and_bounded() {
        assert_eq!(project_name(Some(" a\n\tb  c "), "x"), "a b c");
        assert_eq!(project_name(Some(" \u{7} "), "Fallback"), "Fallback");
        assert_eq!(project_name(None, "Fallback"), "Fallback");
        assert_eq!(
            project_name(Some(&"é".repeat(300)), "x").chars().count(),
            200
        );
    }

    #[test]
    fn claude_projects_import_from_a_folder_a_zip_or_their_file_once() {
        const PROJECTS: &str =
            include_str!("../../../../tests/data/import/claude-projects/projects.json");
        let conversations = r#"[{"uuid":"c1","name":"Hi","chat_messages":[
            {"uuid":"m1","sender":"human","text":"hello","created_at":"2024-09-01T00:00:00Z"}]}]"#;
        let dir = tempfile::tempdir().unwrap();
        let export = dir.path().join("export");
        std::fs::create_dir(&export).unwrap();
        std::fs::write(export.join("conversations.json"), conversations).unwrap();
        std::fs::write(export.join("projects.json"), PROJECTS).unwrap();
        // The newer layout: one file per project in `projects/`, in a zip of its own.
        let value: serde_json::Value = serde_json::from_str(PROJECTS).unwrap();
        let zip_path = dir.path().join("projects-000.zip");
        {
            let mut w = zip::ZipWriter::new(File::create(&zip_path).unwrap());
            for p in value.as_array().unwrap() {
                let name = format!("projects/{}.json", p["uuid"].as_str().unwrap());
                w.start_file(name, zip::write::SimpleFileOptions::default())
                    .unwrap();
                io::Write::write_all(&mut w, p.to_string().as_bytes()).unwrap();
            }
            w.finish().unwrap();
        }
        assert_eq!(recognise(&export).unwrap(), ImportFormat::Claude);
        assert_eq!(recognise(&zip_path).unwrap(), ImportFormat::Claude);
        assert_eq!(
            recognise(&export.join("projects.json")).unwrap(),
            ImportFormat::Claude
        );

        let vault = tempfile::tempdir().unwrap();
        let engine = super::super::hearth_json::test_support::engine(vault.path());
        let outcome = engine
            .import_file(&export, ImportFormat::Auto, |_| {})
            .unwrap();
        assert_eq!(
            (outcome.report.added, outcome.report.projects),
            (1, 2),
            "{outcome:?}"
        );
        let (projects, _) = super::super::hearth_json::test_support::projects_and_prompts(&engine);
        assert_eq!(projects.len(), 2);
        // Claude.ai does not say which project a conversation is in.
        let c = engine.vault().unwrap().conversation("claude:c1").unwrap();
        assert_eq!(c.project_id, None);
        for again in [&export, &zip_path, &export.join("projects.json")] {
            let outcome = engine
                .import_file(again, ImportFormat::Auto, |_| {})
                .unwrap();
            assert_eq!(outcome.report.projects, 0, "{}", again.display());
            assert!(outcome.not_converted.is_empty());
        }
        assert_eq!(
            super::super::hearth_json::test_support::projects_and_prompts(&engine).0,
            projects
        );

        // Projects alone are no ChatGPT export.
        let e = engine
            .import_file(&zip_path, ImportFormat::ChatGpt, |_| {})
            .unwrap_err()
            .to_string();
        assert!(e.contains("--format claude"), "{e}");
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
        let (got, rejected, result) = stream_all(text);
        assert!(rejected.is_empty(), "{rejected:?}");
        (got, result)
    }

    /// What [`stream_all`] saw: the items read, the reasons and titles of those
    /// rejected, and the result.
    type Streamed = (Vec<(u32, usize)>, Vec<(String, Option<String>)>, Result<()>);

    fn stream_all(text: &str) -> Streamed {
        let mut got = Vec::new();
        let mut rejected = Vec::new();
        let result = stream_array::<Item, _>(text.as_bytes(), "f.json", "test", |item, i| {
            match item {
                Ok(item) => got.push((item.n, i)),
                Err(r) => rejected.push((r.why, r.title)),
            }
            Ok(())
        });
        (got, rejected, result)
    }

    #[test]
    fn arrays_stream_one_element_at_a_time_and_errors_say_where() {
        let (got, result) = stream(r#"[{"n":1},{"n":2,"x":[1]}]"#);
        result.unwrap();
        assert_eq!(got, vec![(1, 0), (2, 1)]);
        let (got, result) = stream(r#"{"meta":{"a":1},"conversations":[{"n":7}]}"#);
        result.unwrap();
        assert_eq!(got, vec![(7, 0)]);

        // Valid JSON of the wrong shape is one rejected item; the stream goes on.
        let (got, rejected, result) =
            stream_all("[{\"n\":1},\n{\"n\":\"two\",\"title\":\"Odd\"},{\"n\":3}]");
        result.unwrap();
        assert_eq!(got, vec![(1, 0), (3, 2)]);
        assert_eq!(rejected.len(), 1);
        assert!(rejected[0].0.contains("invalid type"), "{rejected:?}");
        assert_eq!(rejected[0].1.as_deref(), Some("Odd"));

        // Invalid JSON stops everything, with the line.
        let (_, result) = stream("[{\"n\":1},\n{\"n\":tw}]");
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
                if item.is_ok_and(|item| item.n == 2) {
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
                each(Piece::Tree(Box::new(sample_tree())))?;
            }
            Err(EngineError::Invalid("late failure".into()))
        })
        .collect();
        assert_eq!(items.len(), 101);
        assert!(items[..100].iter().all(Result::is_ok));
        assert!(items[100].is_err());

        // Dropping the consumer early stops the producer.
        let mut pipe = pipe(|each| loop {
            each(Piece::Tree(Box::new(sample_tree())))?;
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
                project_id: None,
            },
            messages: Vec::new(),
            attachments: Vec::new(),
            tool_calls: Vec::new(),
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
