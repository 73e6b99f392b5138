//! Files waiting to be sent with a message, held on the Rust side by token.
//!
//! A file is read and classified when it is picked, dropped or pasted, so a file Hearth
//! cannot attach is refused at once; the webview gets back a token with the file's name,
//! size and media type, never a path or the bytes. A picked or dropped file is only
//! remembered by its path and read again when the message is sent, so one that vanished or
//! changed in between gives a clear error and nothing is saved. Pasted bytes have no file:
//! they are held in memory. So are the files of a temporary chat once sent (its later turns
//! send them again and nothing of it may be written). Nothing here writes to disk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hearth_engine::attachment::{self, AttachmentKind, MAX_ATTACHMENTS_PER_MESSAGE};
use hearth_engine::PickedFile;
use serde::Serialize;
use ts_rs::TS;

use crate::error::CommandError;

/// The most files held at once, across every composer and temporary chat.
pub const MAX_PENDING: usize = 100;

/// The most bytes held in memory at once (pasted images, a temporary chat's files): eight
/// files of the largest size.
pub const MAX_HELD_BYTES: usize = 8 * attachment::MAX_ATTACHMENT_BYTES as usize;

/// A file waiting to be sent, as the composer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PendingFileDto {
    /// Names the file in `send_message`, `send_temporary` and `discard_attachments`.
    pub token: String,
    /// The file's name (no folder; untrusted text).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The media type decided from its bytes.
    pub media_type: String,
    /// `image`, `pdf` or `text`.
    pub kind: String,
}

/// What picking or dropping files gave: the files added, and why others were not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AttachedFilesDto {
    /// Files now waiting to be sent.
    pub files: Vec<PendingFileDto>,
    /// One sentence per file that was refused; nothing of those was kept.
    pub refused: Vec<String>,
}

/// The name of a kind, as the UI receives it.
pub fn kind_name(kind: AttachmentKind) -> &'static str {
    match kind {
        AttachmentKind::Image => "image",
        AttachmentKind::Pdf => "pdf",
        AttachmentKind::Text => "text",
    }
}

enum Source {
    /// Read again at send time.
    Path(PathBuf),
    /// Held in memory (pasted, or sent in a temporary chat).
    Held(PickedFile),
}

impl Source {
    fn held_bytes(&self) -> usize {
        match self {
            Source::Held(file) => file.bytes.len(),
            Source::Path(_) => 0,
        }
    }
}

/// The files waiting to be sent, by token. Cloning shares them.
#[derive(Clone, Default)]
pub struct PendingFiles(Arc<Mutex<HashMap<String, Source>>>);

impl PendingFiles {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Source>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(&self, source: Source, file: &PickedFile) -> Result<PendingFileDto, CommandError> {
        let mut pending = self.lock();
        if pending.len() >= MAX_PENDING {
            return Err(CommandError::invalid(format!(
                "Hearth holds at most {MAX_PENDING} files waiting to be sent; send or remove some first"
            )));
        }
        let incoming = source.held_bytes();
        let held: usize = pending.values().map(Source::held_bytes).sum();
        if incoming > 0 && held + incoming > MAX_HELD_BYTES {
            return Err(CommandError::invalid(
                "too many pasted files are waiting to be sent; send or remove some first",
            ));
        }
        let token = format!("{:032x}", rand::random::<u128>());
        let dto = PendingFileDto {
            token: token.clone(),
            name: attachment::clean_name(&file.name),
            size: file.bytes.len() as u64,
            media_type: file.classified.media_type.to_owned(),
            kind: kind_name(file.classified.kind).to_owned(),
        };
        pending.insert(token, source);
        Ok(dto)
    }

    /// Reads and checks the file at `path` and remembers its path. Refused files are not
    /// kept; the error names the file and says why.
    pub fn hold_path(&self, path: &Path) -> Result<PendingFileDto, CommandError> {
        let file = PickedFile::read(path)?;
        self.insert(Source::Path(path.to_owned()), &file)
    }

    /// Checks pasted bytes and holds them in memory under `name`.
    pub fn hold_bytes(&self, name: &str, bytes: Vec<u8>) -> Result<PendingFileDto, CommandError> {
        let file = PickedFile::from_bytes(name, bytes)?;
        self.insert(Source::Held(file.clone()), &file)
    }

    /// Every file at `paths`, each read and checked (picked in a dialog, or dropped on the
    /// window). At most a message's worth are taken; the rest are refused.
    pub fn hold_paths(&self, paths: &[PathBuf]) -> AttachedFilesDto {
        let mut out = AttachedFilesDto {
            files: Vec::new(),
            refused: Vec::new(),
        };
        for (i, path) in paths.iter().enumerate() {
            if i >= MAX_ATTACHMENTS_PER_MESSAGE {
                out.refused.push(format!(
                    "a message takes at most {MAX_ATTACHMENTS_PER_MESSAGE} files; {} more were left out",
                    paths.len() - i
                ));
                break;
            }
            match self.hold_path(path) {
                Ok(file) => out.files.push(file),
                Err(e) => out.refused.push(e.message),
            }
        }
        out
    }

    /// The files behind `tokens`, in order, read again from disk where they came from a
    /// path. Fails (and keeps every token) when one is unknown, unreadable or no longer
    /// attachable, or when there are more than a message takes.
    pub fn resolve(&self, tokens: &[String]) -> Result<Vec<PickedFile>, CommandError> {
        attachment::check_count(tokens.len())?;
        let sources: Vec<Result<PickedFile, PathBuf>> = {
            let pending = self.lock();
            tokens
                .iter()
                .map(|token| match pending.get(token) {
                    Some(Source::Held(file)) => Ok(Ok(file.clone())),
                    Some(Source::Path(path)) => Ok(Err(path.clone())),
                    None => Err(CommandError::invalid(
                        "an attached file is no longer waiting to be sent; attach it again",
                    )),
                })
                .collect::<Result<_, _>>()?
        };
        sources
            .into_iter()
            .map(|source| {
                let mut file = match source {
                    Ok(file) => file,
                    Err(path) => PickedFile::read(&path)?,
                };
                file.name = attachment::clean_name(&file.name);
                Ok(file)
            })
            .collect()
    }

    /// Keeps `files` (resolved from `tokens`) in memory from now on, so a temporary chat
    /// sends the same bytes with every later turn, whatever happens to the files on disk.
    pub fn keep_in_memory(&self, tokens: &[String], files: &[PickedFile]) {
        let mut pending = self.lock();
        for (token, file) in tokens.iter().zip(files) {
            if let Some(source) = pending.get_mut(token) {
                *source = Source::Held(file.clone());
            }
        }
    }

    /// The bytes of a waiting image, to show it. Other kinds are refused: only images are
    /// ever shown from bytes.
    pub fn image_bytes(&self, token: &str) -> Result<(String, Vec<u8>), CommandError> {
        let files = self.resolve(std::slice::from_ref(&token.to_owned()))?;
        let file = files
            .into_iter()
            .next()
            .ok_or_else(|| CommandError::internal("no file behind the token"))?;
        if file.classified.kind != AttachmentKind::Image {
            return Err(CommandError::invalid("only images are shown"));
        }
        Ok((file.classified.media_type.to_owned(), file.bytes.to_vec()))
    }

    /// Forgets `tokens` (sent, removed from the composer, or a temporary chat closed).
    pub fn forget(&self, tokens: &[String]) {
        let mut pending = self.lock();
        for token in tokens {
            pending.remove(token);
        }
    }

    /// Forgets every file (the vault was locked).
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many files are waiting.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where dropped files are reported: the channel the UI registered with `watch_file_drops`.
#[derive(Default)]
pub struct DropTarget(Mutex<Option<tauri::ipc::Channel<AttachedFilesDto>>>);

impl DropTarget {
    /// Reports drops to `channel` from now on (a reloaded page registers again).
    pub fn set(&self, channel: tauri::ipc::Channel<AttachedFilesDto>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(channel);
    }

    /// The registered channel, if any.
    pub fn channel(&self) -> Option<tauri::ipc::Channel<AttachedFilesDto>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest whole PNG: signature, IHDR, IDAT and IEND (CRCs are not checked).
    fn png() -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in [
            (&b"IHDR"[..], &[0u8, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0][..]),
            (b"IDAT", &[0x78, 0x9c, 0x63, 0, 1, 0, 0, 5, 0, 1][..]),
            (b"IEND", &[][..]),
        ] {
            bytes.extend_from_slice(&(data.len() as u32).to_be_bytes());
            bytes.extend_from_slice(kind);
            bytes.extend_from_slice(data);
            bytes.extend_from_slice(&[0, 0, 0, 0]);
        }
        bytes
    }

    #[test]
    fn a_picked_file_is_read_again_at_send_and_a_vanished_one_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("notes.md");
        std::fs::write(&path, "# Notes\n").expect("write");
        let pending = PendingFiles::default();
        let file = pending.hold_path(&path).expect("text is attachable");
        assert_eq!(
            (
                file.name.as_str(),
                file.media_type.as_str(),
                file.kind.as_str()
            ),
            ("notes.md", "text/markdown", "text")
        );
        assert!(!file.token.contains('/'));
        std::fs::write(&path, "# Notes, edited\n").expect("edit");
        let files = pending
            .resolve(std::slice::from_ref(&file.token))
            .expect("resolves");
        assert_eq!(&*files[0].bytes, b"# Notes, edited\n");

        std::fs::remove_file(&path).expect("remove");
        let error = pending
            .resolve(std::slice::from_ref(&file.token))
            .expect_err("the file is gone");
        assert!(error.message.contains("notes.md"), "{error}");
        assert_eq!(pending.len(), 1, "a failed send keeps the token");
        pending.forget(std::slice::from_ref(&file.token));
        assert!(pending.is_empty());
    }

    #[test]
    fn refused_files_are_not_kept_and_the_reason_names_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let bin = dir.path().join("blob.bin");
        std::fs::write(&bin, [0u8, 1, 2, 3]).expect("write");
        let cut = dir.path().join("cut.png");
        std::fs::write(&cut, &png()[..20]).expect("write");
        let ok = dir.path().join("ok.png");
        std::fs::write(&ok, png()).expect("write");
        let pending = PendingFiles::default();
        let out = pending.hold_paths(&[
            bin,
            dir.path().to_owned(),
            cut,
            dir.path().join("missing.txt"),
            ok,
        ]);
        assert_eq!(out.files.len(), 1, "{out:?}");
        assert_eq!(out.files[0].media_type, "image/png");
        assert_eq!(out.refused.len(), 4, "{out:?}");
        assert!(out.refused[0].contains("blob.bin"), "{out:?}");
        assert!(out.refused[2].contains("cut short"), "{out:?}");
        assert!(out.refused[3].contains("missing.txt"), "{out:?}");
        assert_eq!(pending.len(), 1);
    }

    #[test]
    fn pasted_bytes_are_held_and_only_images_are_handed_back() {
        let pending = PendingFiles::default();
        let image = pending.hold_bytes("image.png", png()).expect("a PNG");
        let (media_type, bytes) = pending.image_bytes(&image.token).expect("bytes");
        assert_eq!((media_type.as_str(), bytes), ("image/png", png()));
        let svg = pending
            .hold_bytes("x.svg", b"<svg onload=alert(1)></svg>".to_vec())
            .expect("SVG is text");
        assert_eq!(svg.media_type, "text/plain");
        assert!(pending.image_bytes(&svg.token).is_err());
        assert!(pending.hold_bytes("empty.png", Vec::new()).is_err());
        let named = pending
            .hold_bytes("../../etc/\u{7}passwd", b"hi".to_vec())
            .expect("text");
        assert_eq!(named.name, "passwd");
        assert!(pending.resolve(&["made-up".to_owned()]).is_err());
        let eleven: Vec<String> = (0..11).map(|_| image.token.clone()).collect();
        assert!(
            pending.resolve(&eleven).is_err(),
            "more than a message takes"
        );
    }

    #[test]
    fn a_temporary_chats_files_stay_in_memory_once_sent() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "first").expect("write");
        let pending = PendingFiles::default();
        let token = pending.hold_path(&path).expect("text").token;
        let tokens = vec![token];
        let files = pending.resolve(&tokens).expect("resolves");
        pending.keep_in_memory(&tokens, &files);
        std::fs::remove_file(&path).expect("remove");
        let again = pending.resolve(&tokens).expect("still there");
        assert_eq!(&*again[0].bytes, b"first");
    }
}
