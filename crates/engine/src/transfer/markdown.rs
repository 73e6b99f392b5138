//! Markdown export: one readable file per conversation, holding its visible branch.
//!
//! A file starts with the title as a heading and the conversation's dates, then each
//! message of the visible branch under a bold label (`**You**`, `**Assistant**` with the
//! model that wrote it, `**System**`) and its time. Message text is written as it was
//! written, not escaped. A reply's reasoning follows its label in a collapsed
//! `<details>` block, so it is kept but out of the way. A reply that did not finish
//! says so in an italic note. A reply that used tools shows each call where it happened
//! in its text: the server and tool, what became of the call, its arguments and (cut
//! to a readable length) its result. Other branches, ids and token counts are left out:
//! the JSON export is the lossless one.
//!
//! Several conversations go into a new folder, one file each, named from the title
//! (made safe for every common file system) and a short piece of the id.
//!
//! The files attached to the visible branch's messages are written, byte for byte, into
//! a folder beside the conversation's file (`<file name> files/`), and each message
//! lists its files after its text, linked there (images as Markdown images, so viewers
//! show them).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use hearth_vault::{
    Attachment, Conversation, ConversationTree, Message, MessageStatus, Role, ToolCall, Vault,
};

use crate::error::{EngineError, Result};
use crate::Engine;

/// The longest title part of a file name, in characters (at most 4 bytes each, so a
/// name stays far below the usual 255-byte limit).
pub const MAX_NAME_CHARS: usize = 60;

/// Names Windows reserves for devices, whatever the extension.
const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
    "COM8", "COM9", "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    "COM¹", "COM²", "COM³", "LPT¹", "LPT²", "LPT³", "CONIN$", "CONOUT$",
];

/// What a Markdown export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarkdownReport {
    /// The files written, in conversation order.
    pub files: Vec<PathBuf>,
}

/// The visible branch of `tree`: the path from its root to its head, oldest first.
pub fn visible_branch(tree: &ConversationTree) -> Vec<&Message> {
    let by_id: HashMap<&str, &Message> = tree.messages.iter().map(|m| (m.id.as_str(), m)).collect();
    let mut path = Vec::new();
    let mut at = tree.conversation.head_message_id.as_deref();
    while let Some(id) = at {
        // A loop (a damaged vault) must not spin forever.
        if path.len() > tree.messages.len() {
            break;
        }
        let Some(message) = by_id.get(id) else { break };
        path.push(*message);
        at = message.parent_id.as_deref();
    }
    path.reverse();
    path
}

/// One conversation as Markdown: its visible branch. Attachments are listed by name.
pub fn render(tree: &ConversationTree) -> String {
    render_linked(tree, &HashMap::new(), None)
}

/// One conversation as Markdown, each attachment whose id `links` holds linked to the
/// relative path it gives (already written beside the file), with the name of its
/// project, if it is in one, under its dates.
fn render_linked(
    tree: &ConversationTree,
    links: &HashMap<String, String>,
    project: Option<&str>,
) -> String {
    let c = &tree.conversation;
    let mut out = String::new();
    let title = one_line(&c.title);
    let title = if title.trim().is_empty() {
        "Untitled conversation".to_owned()
    } else {
        title
    };
    // `write!` to a String cannot fail.
    let _ = writeln!(out, "# {title}\n");
    let _ = write!(out, "Created {}", format_time(c.created_at));
    if c.updated_at != c.created_at {
        let _ = write!(out, " · Updated {}", format_time(c.updated_at));
    }
    out.push_str("\n\n");
    if let Some(name) = project {
        let _ = writeln!(out, "Project: {}\n", one_line(name));
    }
    if let Some(prompt) = c.system_prompt.as_deref().filter(|p| !p.is_empty()) {
        let _ = writeln!(out, "---\n\n**System prompt**\n\n{}\n", prompt.trim_end());
    }
    for message in visible_branch(tree) {
        out.push_str("---\n\n");
        let label = match message.role {
            Role::User => "**You**",
            Role::Assistant => "**Assistant**",
            Role::System => "**System**",
        };
        out.push_str(label);
        if message.role == Role::Assistant {
            if let Some(model) = message.model.as_deref().filter(|m| !m.is_empty()) {
                let _ = write!(out, " · {}", one_line(model));
            }
        }
        let _ = write!(out, " · {}\n\n", format_time(message.created_at));
        if let Some(reasoning) = message
            .reasoning
            .as_deref()
            .filter(|r| !r.trim().is_empty())
        {
            let _ = write!(
                out,
                "<details>\n<summary>Reasoning</summary>\n\n{}\n\n</details>\n\n",
                reasoning.trim_end()
            );
        }
        let mut calls: Vec<ToolCall> = tree
            .tool_calls
            .iter()
            .filter(|c| c.message_id == message.id)
            .cloned()
            .collect();
        calls.sort_by_key(|c| c.position);
        let with_calls;
        let content = if calls.is_empty() {
            message.content.trim_end()
        } else {
            with_calls = crate::tools::reply_markdown(&message.content, &calls);
            with_calls.trim_end()
        };
        if !content.is_empty() {
            let _ = write!(out, "{content}\n\n");
        }
        let attached: Vec<&Attachment> = tree
            .attachments
            .iter()
            .filter(|a| a.message_id == message.id)
            .collect();
        if !attached.is_empty() {
            out.push_str("Attached:");
            for a in attached {
                let name = link_text(&a.name);
                match links.get(&a.id) {
                    Some(link) if a.media_type.starts_with("image/") => {
                        let _ = write!(out, "\n\n![{name}](<{link}>)");
                    }
                    Some(link) => {
                        let _ = write!(out, "\n- [{name}](<{link}>)");
                    }
                    None => {
                        let _ = write!(out, "\n- {name}");
                    }
                }
            }
            out.push_str("\n\n");
        }
        match message.status {
            MessageStatus::Complete => {}
            MessageStatus::Cancelled => {
                out.push_str("*Stopped before the reply was finished.*\n\n")
            }
            MessageStatus::Interrupted | MessageStatus::Streaming => {
                out.push_str("*Cut off: Hearth stopped while this reply was arriving.*\n\n")
            }
            MessageStatus::Error => {
                let why = message
                    .error
                    .as_deref()
                    .map(one_line)
                    .filter(|e| !e.is_empty())
                    .unwrap_or_else(|| "the provider failed".into());
                let _ = write!(out, "*Failed: {why}*\n\n");
            }
        }
    }
    // One newline at the end of the file.
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

/// A file's name as the text of a link: on one line, its brackets and backslashes
/// escaped.
fn link_text(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in one_line(name).chars() {
        if matches!(c, '[' | ']' | '\\' | '<' | '>' | '*' | '_' | '`' | '!') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The folder beside the conversation file `file_name` that holds its attachments.
fn files_folder(file_name: &str) -> String {
    let stem = file_name.strip_suffix(".md").unwrap_or(file_name);
    format!("{stem} files")
}

/// A name for an attached file in a folder where `taken` names are used: the file's
/// own name made safe (its extension kept), numbered when it repeats.
fn attachment_file_name(name: &str, taken: &mut HashSet<String>) -> String {
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && !ext.is_empty()
                && ext.len() <= 10
                && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            (stem, Some(ext.to_ascii_lowercase()))
        }
        _ => (name, None),
    };
    let stem = safe_stem(stem);
    let mut n = 1u64;
    loop {
        let numbered = if n == 1 {
            stem.clone()
        } else {
            format!("{stem} ({n})")
        };
        let name = match &ext {
            Some(ext) => format!("{numbered}.{ext}"),
            None => numbered,
        };
        if taken.insert(name.to_lowercase()) {
            return name;
        }
        n += 1;
    }
}

/// Writes the attachments of `tree`'s visible branch into the new folder `dir` (named
/// `dir_name` beside the Markdown file), privately; returns the link of each by id.
/// Writes nothing when the branch has none.
fn write_attachments(
    vault: &Vault,
    tree: &ConversationTree,
    dir: &Path,
    dir_name: &str,
) -> Result<HashMap<String, String>> {
    let visible: HashSet<&str> = visible_branch(tree).iter().map(|m| m.id.as_str()).collect();
    let shown: Vec<&Attachment> = tree
        .attachments
        .iter()
        .filter(|a| visible.contains(a.message_id.as_str()))
        .collect();
    let mut links = HashMap::new();
    if shown.is_empty() {
        return Ok(links);
    }
    create_private_dir(dir)?;
    let mut taken = HashSet::new();
    for a in shown {
        let name = attachment_file_name(&a.name, &mut taken);
        let path = dir.join(&name);
        if path.parent() != Some(dir) {
            return Err(EngineError::Invalid(format!(
                "refusing the file name {name:?}: it leaves the folder"
            )));
        }
        let mut file = new_private(&path)?;
        vault.read_attachment(&a.id, &mut |bytes| {
            file.write_all(bytes).map_err(|e| {
                hearth_vault::VaultError::Invalid(format!("cannot write {}: {e}", path.display()))
            })
        })?;
        file.sync_all().map_err(|e| cannot("write", &path, &e))?;
        links.insert(a.id.clone(), format!("{dir_name}/{name}"));
    }
    sync_dir(dir)?;
    Ok(links)
}

/// A file name for `conversation` in a folder where the names in `taken` (compared
/// without case, as some file systems do) are already used; the name is added to it.
/// The name is the title made safe plus a short piece of the id: no path separators,
/// no control or bidirectional-override characters, no leading dot, no name Windows
/// reserves, at most [`MAX_NAME_CHARS`] characters of title.
pub fn file_name(conversation: &Conversation, taken: &mut HashSet<String>) -> String {
    let stem = safe_stem(&conversation.title);
    let short: String = {
        let alnum: Vec<char> = conversation
            .id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let from = alnum.len().saturating_sub(8);
        alnum[from..]
            .iter()
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let short = if short.is_empty() {
        "x".to_owned()
    } else {
        short
    };
    let mut n = 1u64;
    loop {
        let name = if n == 1 {
            format!("{stem} ({short}).md")
        } else {
            format!("{stem} ({short}-{n}).md")
        };
        if taken.insert(name.to_lowercase()) {
            return name;
        }
        n += 1;
    }
}

/// The title part of a file name.
fn safe_stem(title: &str) -> String {
    let mut out = String::new();
    let mut space = false;
    for c in title.chars() {
        let c = match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_whitespace() => ' ',
            c if c.is_control() || is_bidi_control(c) => continue,
            c => c,
        };
        if c == ' ' {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
            continue;
        }
        space = false;
        out.push(c);
    }
    let mut stem: String = trim_name(&out).chars().take(MAX_NAME_CHARS).collect();
    stem = trim_name(&stem).to_owned();
    if stem.is_empty() {
        stem = "Untitled".into();
    }
    let device = stem
        .split('.')
        .next()
        .unwrap_or("")
        .trim_end()
        .to_uppercase();
    if RESERVED.contains(&device.as_str()) {
        stem.insert(0, '_');
    }
    stem
}

/// Without the spaces and dots that file systems drop or hide at either end.
fn trim_name(s: &str) -> &str {
    s.trim_matches(|c: char| c == ' ' || c == '.')
}

/// Characters that reorder how text is shown, so a name could look like another.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{061c}')
}

fn one_line(s: &str) -> String {
    s.split(['\r', '\n'])
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A Unix-millisecond time as `YYYY-MM-DD HH:MM UTC`.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Days since 1970-01-01 to a civil date (proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

impl Engine {
    /// Writes Markdown. With `only`, that conversation goes to the file `path`; without,
    /// every conversation goes into the new folder `path`, one file each. Nothing is
    /// ever overwritten: `path` must not exist. The file or folder appears whole or not
    /// at all (it is written beside its final place, then renamed), and is private to
    /// the user (0600 files, a 0700 folder).
    pub fn export_markdown(&self, path: &Path, only: Option<&str>) -> Result<MarkdownReport> {
        refuse_existing(path)?;
        let parent = parent_of(path);
        let vault = self.vault()?;
        match only {
            Some(id) => {
                let mut tree = None;
                vault.for_each_tree(Some(id), |t| {
                    tree = Some(t);
                    Ok(())
                })?;
                let tree = tree.ok_or_else(|| {
                    EngineError::Invalid(format!("no conversation {id}; see `hearth list`"))
                })?;
                // The attachments' folder beside the file, staged and renamed into
                // place, then the file; if the file cannot be written the folder goes.
                let file_name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "conversation.md".into());
                let dir_name = files_folder(&file_name);
                let dir = parent.join(&dir_name);
                let has_files = !tree.attachments.is_empty();
                if has_files {
                    refuse_existing(&dir)?;
                }
                let staging = tempfile::Builder::new()
                    .prefix(".hearth-markdown-")
                    .tempdir_in(parent)
                    .map_err(|e| cannot("create a folder in", parent, &e))?;
                let links =
                    write_attachments(&vault, &tree, &staging.path().join("files"), &dir_name)?;
                let project = match tree.conversation.project_id.as_deref() {
                    Some(id) => Some(vault.project(id)?.name),
                    None => None,
                };
                drop(vault);
                let text = render_linked(&tree, &links, project.as_deref());
                let mut files = Vec::new();
                if !links.is_empty() {
                    rename_new(&staging.path().join("files"), &dir)?;
                    files.push(dir.clone());
                }
                if let Err(e) = write_new_file(path, text.as_bytes()) {
                    if !links.is_empty() {
                        let _ = fs::remove_dir_all(&dir);
                    }
                    return Err(e);
                }
                files.insert(0, path.to_owned());
                Ok(MarkdownReport { files })
            }
            None => {
                let staging = tempfile::Builder::new()
                    .prefix(".hearth-markdown-")
                    .tempdir_in(parent)
                    .map_err(|e| cannot("create a folder in", parent, &e))?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    fs::set_permissions(staging.path(), fs::Permissions::from_mode(0o700))
                        .map_err(|e| cannot("make private", staging.path(), &e))?;
                }
                let mut taken = HashSet::new();
                let mut names = Vec::new();
                let mut failure = None;
                let projects: HashMap<String, String> = vault
                    .projects()?
                    .into_iter()
                    .map(|p| (p.project.id, p.project.name))
                    .collect();
                vault
                    .for_each_tree(None, |tree| {
                        let name = file_name(&tree.conversation, &mut taken);
                        let file = staging.path().join(&name);
                        if file.parent() != Some(staging.path()) {
                            failure = Some(EngineError::Invalid(format!(
                                "refusing the file name {name:?}: it leaves the folder"
                            )));
                            return Err(hearth_vault::VaultError::Invalid("stopped".into()));
                        }
                        let dir_name = files_folder(&name);
                        // The folder's name is taken too, so no conversation file
                        // can be named like it.
                        taken.insert(dir_name.to_lowercase());
                        let links = match write_attachments(
                            &vault,
                            &tree,
                            &staging.path().join(&dir_name),
                            &dir_name,
                        ) {
                            Ok(links) => links,
                            Err(e) => {
                                failure = Some(e);
                                return Err(hearth_vault::VaultError::Invalid("stopped".into()));
                            }
                        };
                        let project = tree
                            .conversation
                            .project_id
                            .as_ref()
                            .and_then(|id| projects.get(id))
                            .map(String::as_str);
                        if let Err(e) =
                            write_private(&file, render_linked(&tree, &links, project).as_bytes())
                        {
                            failure = Some(e);
                            return Err(hearth_vault::VaultError::Invalid("stopped".into()));
                        }
                        names.push(name);
                        Ok(())
                    })
                    .map_err(|e| failure.take().unwrap_or_else(|| EngineError::from(e)))?;
                drop(vault);
                sync_dir(staging.path())?;
                // Rename the finished folder into place; the TempDir must then not
                // delete it.
                let staged = staging.keep();
                if let Err(e) = rename_new(&staged, path) {
                    let _ = fs::remove_dir_all(&staged);
                    return Err(e);
                }
                sync_dir(parent)?;
                Ok(MarkdownReport {
                    files: names.into_iter().map(|n| path.join(n)).collect(),
                })
            }
        }
    }
}

/// Refuses a path that exists (a file, a folder, or a dangling link).
pub fn refuse_existing(path: &Path) -> Result<()> {
    if fs::symlink_metadata(path).is_ok() {
        return Err(EngineError::Invalid(format!(
            "{} already exists; Hearth does not overwrite files: choose another name or move it away",
            path.display()
        )));
    }
    Ok(())
}

/// The folder `path` is in (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to the new file `path`, atomically and privately.
fn write_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    write_new_with(path, |file| {
        file.write_all(bytes).map_err(|e| cannot("write", path, &e))
    })
}

/// Writes the new file `path` through `write`: into a private (0600) temp file in the
/// same folder, synced, then renamed into place, refusing if `path` appeared meanwhile.
/// If `write` fails, the temp file is removed and `path` never appears.
pub(crate) fn write_new_with<T>(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<T>,
) -> Result<T> {
    let parent = parent_of(path);
    let mut file = tempfile::Builder::new()
        .prefix(".hearth-export-")
        .tempfile_in(parent)
        .map_err(|e| cannot("create a file in", parent, &e))?;
    let value = write(file.as_file_mut())?;
    file.as_file()
        .sync_all()
        .map_err(|e| cannot("write", file.path(), &e))?;
    file.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            EngineError::Invalid(format!(
                "{} already exists; Hearth does not overwrite files: choose another name or move it away",
                path.display()
            ))
        } else {
            cannot("create", path, &e.error)
        }
    })?;
    sync_dir(parent)?;
    Ok(value)
}

/// Creates `path` (which must not exist) readable only by the user, with `bytes`.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = new_private(path)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| cannot("write", path, &e))
}

/// Creates the file `path` (which must not exist), readable only by the user.
fn new_private(path: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| cannot("create", path, &e))
}

/// Creates the folder `path` (which must not exist), open only to the user.
fn create_private_dir(path: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path).map_err(|e| cannot("create", path, &e))
}

/// Renames the folder `from` to `to`, refusing if `to` appeared meanwhile.
fn rename_new(from: &Path, to: &Path) -> Result<()> {
    refuse_existing(to)?;
    fs::rename(from, to).map_err(|e| cannot("create", to, &e))
}

fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| cannot("sync", dir, &e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn cannot(what: &str, path: &Path, e: &std::io::Error) -> EngineError {
    EngineError::Invalid(format!("cannot {what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::hearth_json::test_support::*;
    use super::*;

    #[test]
    fn a_conversation_reads_as_its_visible_branch() {
        let mut tree = sample("c");
        let mut failed = message(
            "c",
            "c-u2",
            Some("c-a2"),
            Role::User,
            "And a follow-up?",
            1_714_564_980_000,
        );
        failed
            .content
            .push_str("\n\n```\ncode stays as written\n```\n");
        let mut reply = message(
            "c",
            "c-a3",
            Some("c-u2"),
            Role::Assistant,
            "Partial",
            1_714_565_040_000,
        );
        reply.status = MessageStatus::Error;
        reply.error = Some("server: the provider is overloaded".into());
        tree.messages.push(failed);
        tree.messages.push(reply);
        tree.conversation.head_message_id = Some("c-a3".into());
        tree.conversation.updated_at = 1_714_565_040_000;
        let expected = "\
# A small test

Created 2024-05-01 12:00 UTC · Updated 2024-05-01 12:04 UTC

---

**System prompt**

Be brief.

---

**You** · 2024-05-01 12:00 UTC

What is a hearth?

---

**Assistant** · model-two · 2024-05-01 12:02 UTC

<details>
<summary>Reasoning</summary>

Thinking it over.

</details>

Second answer.

With a paragraph.

---

**You** · 2024-05-01 12:03 UTC

And a follow-up?

```
code stays as written
```

---

**Assistant** · 2024-05-01 12:04 UTC

Partial

*Failed: server: the provider is overloaded*
";
        assert_eq!(render(&tree), expected);
        assert!(!render(&tree).contains("First answer, hidden."));
    }

    #[test]
    fn a_reply_shows_its_tool_calls_where_they_happened() {
        let tree = sample_with_calls("c");
        let text = render(&tree);
        let reply = &text[text.find("**Assistant**").unwrap()..];
        let expected = "\
**Assistant** · model-two · 2024-05-01 12:02 UTC

<details>
<summary>Reasoning</summary>

Thinking it over.

</details>

**Tool call** `files/read_file` (approved)

```json
{
  \"path\": \"notes/hearth.txt\"
}
```

Result:

```text
A hearth is the floor of a fireplace.
```

**Tool call** `files/read_file` (approved)

```json
{
  \"path\": \"notes/hearth.txt\"
}
```

Result:

```text
A hearth is the floor of a fireplace.
```

Second answer.

**Tool call** `files/read_file` (failed)

```json
{
  \"path\": \"notes/hearth.txt\"
}
```

Result:

```text
no such file
```

With a paragraph.
";
        assert_eq!(reply, expected);
        // The hidden reply's call is not on the visible branch.
        assert!(!text.contains("denied"), "{text}");
        // The calls come in the order of their positions, however the tree lists them.
        let mut shuffled = tree.clone();
        shuffled.tool_calls.reverse();
        assert_eq!(render(&shuffled), text);
    }

    #[test]
    fn unfinished_replies_and_empty_titles_say_so() {
        let mut tree = sample("c");
        tree.conversation.title = " \n".into();
        tree.conversation.system_prompt = None;
        tree.messages[2].status = MessageStatus::Cancelled;
        tree.messages[2].reasoning = None;
        let text = render(&tree);
        assert!(text.starts_with("# Untitled conversation\n"), "{text}");
        assert!(
            text.ends_with("With a paragraph.\n\n*Stopped before the reply was finished.*\n"),
            "{text}"
        );
        tree.messages[2].status = MessageStatus::Interrupted;
        assert!(render(&tree).contains("*Cut off: Hearth stopped while this reply was arriving.*"));
    }

    fn named(title: &str, id: &str, taken: &mut HashSet<String>) -> String {
        let mut c = sample(id).conversation;
        c.title = title.into();
        file_name(&c, taken)
    }

    #[test]
    fn file_names_are_safe_and_unique() {
        let mut taken = HashSet::new();
        let id = "0190aaaa-bbbb-7ccc-8ddd-eeee1234abcd";
        assert_eq!(
            named("Trip to Rome", id, &mut taken),
            "Trip to Rome (1234abcd).md"
        );
        assert_eq!(
            named("trip to rome", id, &mut taken),
            "trip to rome (1234abcd-2).md"
        );
        assert_eq!(
            named("../../etc/passwd", "x", &mut taken),
            "_.._etc_passwd (x).md"
        );
        assert_eq!(named("..", "y", &mut taken), "Untitled (y).md");
        assert_eq!(named("", "z", &mut taken), "Untitled (z).md");
        assert_eq!(named("CON", "a1", &mut taken), "_CON (a1).md");
        assert_eq!(named("nul.txt", "a1", &mut taken), "_nul.txt (a1).md");
        assert_eq!(named("Console", "a1", &mut taken), "Console (a1).md");
        assert_eq!(
            named("a\u{202e}gpj.exe\u{0007}\tb:c", "a1", &mut taken),
            "agpj.exe b_c (a1).md"
        );
        assert_eq!(named("🔥 hot 🔥", "a1", &mut taken), "🔥 hot 🔥 (a1).md");
        assert_eq!(named(".hidden", "a1", &mut taken), "hidden (a1).md");
        let long = named(&"é".repeat(1000), "chatgpt:abc-123", &mut taken);
        assert_eq!(
            long,
            format!("{} (ptabc123).md", "é".repeat(MAX_NAME_CHARS))
        );
        let emoji = named(&"👩‍👩‍👧".repeat(100), "q", &mut taken);
        assert!(emoji.len() < 255, "{}", emoji.len());
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_time(1_714_564_800_000), "2024-05-01 12:00 UTC");
        assert_eq!(format_time(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(format_time(-1), "1969-12-31 23:59 UTC");
    }

    #[test]
    fn a_conversation_in_a_project_names_it_under_its_dates() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir.path().join("vault"));
        let garden = with_projects(&engine);
        engine
            .change_project(
                &garden,
                crate::projects::ProjectChange {
                    name: Some("Garden «notes»".into()),
                    ..crate::projects::ProjectChange::default()
                },
            )
            .unwrap();
        let file = dir.path().join("one.md");
        engine.export_markdown(&file, Some("c1")).unwrap();
        let text = fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("Updated 2024-05-01 12:02 UTC\n\nProject: Garden «notes»\n\n---\n"),
            "{text}"
        );
        let folder = dir.path().join("all");
        engine.export_markdown(&folder, None).unwrap();
        let texts: Vec<String> = fs::read_dir(&folder)
            .unwrap()
            .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        assert_eq!(
            texts
                .iter()
                .filter(|t| t.contains("Project: Garden «notes»"))
                .count(),
            1
        );
        assert!(texts.iter().all(|t| t.matches("Project:").count() <= 1));
    }

    #[test]
    fn the_engine_writes_a_file_or_a_new_folder_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir.path().join("vault"));
        let mut hostile = sample("c2");
        hostile.conversation.title = "../../etc/passwd".into();
        engine
            .import_trees(vec![Ok(sample("c1")), Ok(hostile)], |_| {})
            .unwrap();

        let file = dir.path().join("one.md");
        let report = engine.export_markdown(&file, Some("c1")).unwrap();
        assert_eq!(report.files, vec![file.clone()]);
        assert_eq!(fs::read_to_string(&file).unwrap(), render(&sample("c1")));
        let e = engine.export_markdown(&file, Some("c1")).unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");
        assert!(engine
            .export_markdown(&dir.path().join("none.md"), Some("nope"))
            .is_err());
        assert!(!dir.path().join("none.md").exists());

        let folder = dir.path().join("out");
        let report = engine.export_markdown(&folder, None).unwrap();
        assert_eq!(report.files.len(), 2);
        let mut names: Vec<String> = fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["A small test (c1).md", "_.._etc_passwd (c2).md"]);
        assert!(engine.export_markdown(&folder, None).is_err());
        // Nothing but the vault, the file and the folder: no staging left behind.
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["one.md", "out", "vault"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&file), 0o600);
            assert_eq!(mode(&folder), 0o700);
            assert_eq!(mode(&report.files[0]), 0o600);
        }
    }
}
