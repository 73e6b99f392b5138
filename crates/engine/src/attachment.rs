//! What a file attached to a message may be, decided from its bytes.
//!
//! Hearth takes images (PNG, JPEG, WebP, GIF), PDFs and text (any valid UTF-8 without
//! NUL bytes). The kind comes from the bytes alone: a magic number, then a walk of the
//! format's structure far enough to see that the file is whole, so a download cut short
//! is refused here rather than by the provider after the upload. The file name only
//! picks a subtype for text (`notes.md` is `text/markdown`), never the kind. An SVG is
//! text: it is never shown or sent as an image, so its script has nowhere to run.
//!
//! The structure walks are written here rather than taken from an image library: they
//! read lengths and markers only, never decode pixels (which is where image decoders
//! spend memory on hostile input), and each is linear in the file's size.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use hearth_providers::{FileKind, TurnFile};
use hearth_vault::Attachment;

/// The largest file Hearth attaches. Providers take 20–32 MiB a request; a larger file
/// would be refused by all of them after a long upload.
pub const MAX_ATTACHMENT_BYTES: u64 = 32 << 20;

/// The most files one message may carry.
pub const MAX_ATTACHMENTS_PER_MESSAGE: usize = 10;

/// Every media type Hearth gives an attachment (and accepts in an import).
pub const MEDIA_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/markdown",
    "text/csv",
    "application/json",
];

/// The kind of file a stored media type is, for the media types of [`MEDIA_TYPES`].
pub fn kind_of(media_type: &str) -> Option<AttachmentKind> {
    match media_type {
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" => Some(AttachmentKind::Image),
        "application/pdf" => Some(AttachmentKind::Pdf),
        "text/plain" | "text/markdown" | "text/csv" | "application/json" => {
            Some(AttachmentKind::Text)
        }
        _ => None,
    }
}

/// What kind of file it is, as the protocols tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentKind {
    /// PNG, JPEG, WebP or GIF.
    Image,
    /// A PDF document.
    Pdf,
    /// UTF-8 text: source code, Markdown, CSV, JSON, plain text.
    Text,
}

/// A file Hearth will take: its kind and media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classified {
    /// Image, PDF or text.
    pub kind: AttachmentKind,
    /// The media type sent to providers and kept in the vault.
    pub media_type: &'static str,
}

/// Why a file cannot be attached. Each says what the user can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentRefused {
    /// The file holds no bytes.
    Empty,
    /// The file is larger than [`MAX_ATTACHMENT_BYTES`].
    TooLarge {
        /// The file's size.
        bytes: u64,
    },
    /// The file starts like this media type but is cut short or damaged.
    Damaged {
        /// What it starts like.
        media_type: &'static str,
    },
    /// Not an image, a PDF or UTF-8 text.
    UnknownKind,
    /// The path is a folder or another thing that is not a plain file.
    NotAFile,
    /// The file could not be read (it vanished, or permission was denied).
    Unreadable(String),
}

impl fmt::Display for AttachmentRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const KINDS: &str =
            "Hearth attaches images (PNG, JPEG, WebP, GIF), PDFs and text files (UTF-8)";
        match self {
            AttachmentRefused::Empty => write!(f, "the file is empty"),
            AttachmentRefused::TooLarge { bytes } => write!(
                f,
                "the file is {:.1} MiB; Hearth attaches files of up to {} MiB",
                *bytes as f64 / f64::from(1u32 << 20),
                MAX_ATTACHMENT_BYTES >> 20
            ),
            AttachmentRefused::Damaged { media_type } => write!(
                f,
                "the file starts like {media_type} but is cut short or damaged; save it again and attach the new copy"
            ),
            AttachmentRefused::UnknownKind => {
                write!(f, "this kind of file cannot be attached: {KINDS}")
            }
            AttachmentRefused::NotAFile => write!(f, "this is a folder, not a file: {KINDS}"),
            AttachmentRefused::Unreadable(why) => write!(f, "the file could not be read: {why}"),
        }
    }
}

impl std::error::Error for AttachmentRefused {}

/// Decides what `bytes` are. `name` only picks the subtype of a text file.
pub fn classify(name: &str, bytes: &[u8]) -> Result<Classified, AttachmentRefused> {
    if bytes.is_empty() {
        return Err(AttachmentRefused::Empty);
    }
    if bytes.len() as u64 > MAX_ATTACHMENT_BYTES {
        return Err(AttachmentRefused::TooLarge {
            bytes: bytes.len() as u64,
        });
    }
    let image = |media_type, whole: bool| {
        if whole {
            Ok(Classified {
                kind: AttachmentKind::Image,
                media_type,
            })
        } else {
            Err(AttachmentRefused::Damaged { media_type })
        }
    };
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return image("image/png", png_is_whole(bytes));
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return image("image/jpeg", jpeg_is_whole(bytes));
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return image("image/gif", gif_is_whole(bytes));
    }
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return image("image/webp", webp_is_whole(bytes));
    }
    if let Some(at) = find(&bytes[..bytes.len().min(1024)], b"%PDF-") {
        // The header may follow up to a kilobyte of junk, as PDF readers allow.
        return if pdf_is_whole(&bytes[at..]) {
            Ok(Classified {
                kind: AttachmentKind::Pdf,
                media_type: "application/pdf",
            })
        } else {
            Err(AttachmentRefused::Damaged {
                media_type: "application/pdf",
            })
        };
    }
    if !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
        return Ok(Classified {
            kind: AttachmentKind::Text,
            media_type: text_subtype(name),
        });
    }
    Err(AttachmentRefused::UnknownKind)
}

/// Reads the file at `path` for attaching: a plain file, within the size limit checked
/// before it is read (and again while reading, in case it grows), then classified.
/// Returns its name, its bytes and what it is.
pub fn read_file(path: &Path) -> Result<(String, Vec<u8>, Classified), AttachmentRefused> {
    let unreadable = |e: std::io::Error| AttachmentRefused::Unreadable(e.to_string());
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_file() {
        return Err(AttachmentRefused::NotAFile);
    }
    if meta.len() > MAX_ATTACHMENT_BYTES {
        return Err(AttachmentRefused::TooLarge { bytes: meta.len() });
    }
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_ATTACHMENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "attachment".to_owned());
    let classified = classify(&name, &bytes)?;
    Ok((name, bytes, classified))
}

/// A file picked to send with a message: read and checked, not yet saved. Cloning it
/// shares the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct PickedFile {
    /// Its name, without a folder.
    pub name: String,
    /// Its bytes.
    pub bytes: Arc<[u8]>,
    /// What it is, decided from the bytes.
    pub classified: Classified,
}

impl fmt::Debug for PickedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PickedFile")
            .field("name", &self.name)
            .field("size", &self.bytes.len())
            .field("media_type", &self.classified.media_type)
            .finish()
    }
}

impl PickedFile {
    /// Reads and checks the file at `path`. The error names the file.
    pub fn read(path: &Path) -> crate::Result<PickedFile> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let (name, bytes, classified) = read_file(path).map_err(|why| refused(&name, &why))?;
        Ok(PickedFile {
            name,
            bytes: bytes.into(),
            classified,
        })
    }

    /// Checks bytes given without a file (a pasted image), under `name`.
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> crate::Result<PickedFile> {
        let name = clean_name(name);
        let classified = classify(&name, &bytes).map_err(|why| refused(&name, &why))?;
        Ok(PickedFile {
            name,
            bytes: bytes.into(),
            classified,
        })
    }

    /// The file as the vault takes it.
    pub fn as_new(&self) -> hearth_vault::NewAttachment<'_> {
        hearth_vault::NewAttachment {
            name: &self.name,
            media_type: self.classified.media_type,
            bytes: &self.bytes,
        }
    }

    /// The file as a provider request carries it.
    pub fn to_turn_file(&self) -> TurnFile {
        TurnFile {
            name: self.name.clone(),
            media_type: self.classified.media_type.to_owned(),
            kind: file_kind(self.classified.kind),
            bytes: self.bytes.clone(),
        }
    }
}

/// The longest file name kept, in characters; longer ones are cut.
pub const MAX_NAME_CHARS: usize = 255;

/// A name as Hearth keeps it: no folder, no control characters, not empty, at most
/// [`MAX_NAME_CHARS`] characters.
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "attachment".to_owned()
    } else {
        cleaned.to_owned()
    }
}

fn refused(name: &str, why: &AttachmentRefused) -> crate::EngineError {
    crate::EngineError::Invalid(format!(
        "cannot attach {name}: {why}; nothing was sent or saved"
    ))
}

/// How a provider is sent a kind of file.
pub fn file_kind(kind: AttachmentKind) -> FileKind {
    match kind {
        AttachmentKind::Image => FileKind::Image,
        AttachmentKind::Pdf => FileKind::Pdf,
        AttachmentKind::Text => FileKind::Text,
    }
}

/// Refuses more files than a message takes, before anything is read or saved.
pub fn check_count(n: usize) -> crate::Result<()> {
    if n > MAX_ATTACHMENTS_PER_MESSAGE {
        return Err(crate::EngineError::Invalid(format!(
            "a message takes at most {MAX_ATTACHMENTS_PER_MESSAGE} files, and this one has {n}; remove some and send again"
        )));
    }
    Ok(())
}

impl crate::Engine {
    /// Every attachment of a conversation's messages.
    pub fn attachments_in(&self, conversation_id: &str) -> crate::Result<Vec<Attachment>> {
        let vault = self.vault()?;
        // A missing conversation is an error, not an empty list.
        vault.conversation(conversation_id)?;
        Ok(vault.attachments_in(conversation_id)?)
    }

    /// One attachment, without its bytes.
    pub fn attachment(&self, id: &str) -> crate::Result<Attachment> {
        Ok(self.vault()?.attachment(id)?)
    }

    /// An attachment's bytes, checked against its SHA-256.
    pub fn attachment_bytes(&self, id: &str) -> crate::Result<(Attachment, Vec<u8>)> {
        let vault = self.vault()?;
        let attachment = vault.attachment(id)?;
        let mut bytes = Vec::with_capacity(usize::try_from(attachment.size).unwrap_or(0));
        vault.read_attachment(id, &mut |chunk| {
            bytes.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok((attachment, bytes))
    }

    /// Writes an attachment's original bytes to the new file `path`: readable by the
    /// user only (0600), never over an existing file, and whole or not at all.
    pub fn save_attachment(&self, id: &str, path: &Path) -> crate::Result<Attachment> {
        crate::transfer::refuse_existing(path)?;
        let vault = self.vault()?;
        let attachment = vault.attachment(id)?;
        crate::transfer::markdown::write_new_with(path, |file| {
            let mut failed = None;
            let read = vault.read_attachment(id, &mut |chunk| {
                std::io::Write::write_all(file, chunk).map_err(|e| {
                    let why = format!("cannot write {}: {e}", path.display());
                    failed = Some(why.clone());
                    hearth_vault::VaultError::Invalid(why)
                })
            });
            match (read, failed) {
                (_, Some(why)) => Err(crate::EngineError::Invalid(why)),
                (Err(e), None) => Err(e.into()),
                (Ok(_), None) => Ok(()),
            }
        })?;
        Ok(attachment)
    }

    /// Attaches the files at `paths` to message `message_id`: every file is read and
    /// checked first, and only if all of them can be attached are they saved, in one
    /// transaction, so a bad file among them saves nothing. At most
    /// [`MAX_ATTACHMENTS_PER_MESSAGE`] a message, counting those it has.
    pub fn attach_files(
        &self,
        message_id: &str,
        paths: &[&Path],
    ) -> crate::Result<Vec<hearth_vault::Attachment>> {
        let had = self.vault()?.attachments_of(message_id)?.len();
        if had + paths.len() > MAX_ATTACHMENTS_PER_MESSAGE {
            return Err(crate::EngineError::Invalid(format!(
                "a message takes at most {MAX_ATTACHMENTS_PER_MESSAGE} files, and this one would have {}; nothing was attached",
                had + paths.len()
            )));
        }
        let files = paths
            .iter()
            .map(|p| PickedFile::read(p))
            .collect::<crate::Result<Vec<_>>>()?;
        let new: Vec<hearth_vault::NewAttachment<'_>> =
            files.iter().map(PickedFile::as_new).collect();
        Ok(self.vault()?.add_attachments(message_id, &new)?)
    }
}

/// The media type of a text file, from its extension; `text/plain` when it says nothing
/// Hearth knows. Never an executable web type (`text/html`, `image/svg+xml`).
fn text_subtype(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "md" | "markdown" => "text/markdown",
        "csv" => "text/csv",
        "json" => "application/json",
        _ => "text/plain",
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Chunks from the signature to `IEND`, each length inside the file.
fn png_is_whole(bytes: &[u8]) -> bool {
    let mut at = 8usize;
    let mut first = true;
    loop {
        let Some(len) = be32(bytes, at) else {
            return false;
        };
        let Some(kind) = bytes.get(at + 4..at + 8) else {
            return false;
        };
        if first && kind != b"IHDR" {
            return false;
        }
        first = false;
        // Length, type, data, CRC.
        let Some(next) = (len as usize)
            .checked_add(12)
            .and_then(|n| at.checked_add(n))
        else {
            return false;
        };
        if next > bytes.len() {
            return false;
        }
        if kind == b"IEND" {
            return true;
        }
        at = next;
    }
}

/// Segments by their lengths up to each scan, the scan's data up to the next marker,
/// and so on to the end-of-image marker. What follows it (a motion photo's video) is
/// not looked at.
fn jpeg_is_whole(bytes: &[u8]) -> bool {
    let mut at = 2usize;
    loop {
        // Markers may be padded with extra 0xFF bytes.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if bytes.get(at) != Some(&0xFF) {
            return false;
        }
        let Some(&marker) = bytes.get(at + 1) else {
            return false;
        };
        at += 2;
        match marker {
            0xD9 => return true,
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let Some(len) = bytes
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
        else {
            return false;
        };
        if len < 2 {
            return false;
        }
        at += usize::from(len);
        if at > bytes.len() {
            return false;
        }
        if marker == 0xDA {
            // Entropy-coded data: runs until a marker other than a stuffed zero or a restart.
            loop {
                let Some(off) = bytes[at..].iter().position(|&b| b == 0xFF) else {
                    return false;
                };
                at += off;
                match bytes.get(at + 1) {
                    None => return false,
                    Some(0x00 | 0xD0..=0xD7 | 0xFF) => at += 1,
                    Some(_) => break,
                }
            }
        }
    }
}

/// The logical screen, then extensions and images (each a chain of sub-blocks) up to the
/// trailer byte.
fn gif_is_whole(bytes: &[u8]) -> bool {
    let Some(&flags) = bytes.get(10) else {
        return false;
    };
    let mut at = 13usize;
    if flags & 0x80 != 0 {
        at += 3 << ((flags & 0x07) + 1);
    }
    // Skips a chain of sub-blocks starting at `at`; the position after its terminator.
    let sub_blocks = |mut at: usize| -> Option<usize> {
        loop {
            let len = usize::from(*bytes.get(at)?);
            at += 1;
            if len == 0 {
                return Some(at);
            }
            at += len;
        }
    };
    loop {
        match bytes.get(at) {
            Some(0x3B) => return true,
            Some(0x21) => {
                // Extension: a label, then sub-blocks.
                let Some(next) = sub_blocks(at + 2) else {
                    return false;
                };
                at = next;
            }
            Some(0x2C) => {
                // Image: a 9-byte descriptor, an optional local colour table, the LZW
                // code size, then sub-blocks.
                let Some(&local) = bytes.get(at + 9) else {
                    return false;
                };
                at += 10;
                if local & 0x80 != 0 {
                    at += 3 << ((local & 0x07) + 1);
                }
                let Some(next) = sub_blocks(at + 1) else {
                    return false;
                };
                at = next;
            }
            _ => return false,
        }
    }
}

/// The RIFF container's declared size fits in the file.
fn webp_is_whole(bytes: &[u8]) -> bool {
    let size = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    size.checked_add(8).is_some_and(|n| n <= bytes.len()) && size >= 4
}

/// An end-of-file marker in the last kilobyte, as PDF readers look for it.
fn pdf_is_whole(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    find(tail, b"%%EOF").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png() -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut chunk = |kind: &[u8], data: &[u8]| {
            b.extend_from_slice(&(data.len() as u32).to_be_bytes());
            b.extend_from_slice(kind);
            b.extend_from_slice(data);
            b.extend_from_slice(&[0; 4]);
        };
        chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
        chunk(b"IDAT", b"canary-in-the-pixels");
        chunk(b"IEND", b"");
        b
    }

    fn jpeg() -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        // APP1 holding an embedded thumbnail's end marker, which must not end the walk.
        b.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x06, 0xFF, 0xD9, 0x00, 0x00]);
        b.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x04, 0x01, 0x02]);
        // A scan with a stuffed 0xFF and a restart marker in its data.
        b.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x03, 0x01, 0x12, 0xFF, 0x00, 0x34]);
        b.extend_from_slice(&[0xFF, 0xD0, 0x56, 0xFF, 0xD9]);
        b
    }

    fn gif() -> Vec<u8> {
        let mut b = b"GIF89a".to_vec();
        // 1x1, a global colour table of two entries.
        b.extend_from_slice(&[1, 0, 1, 0, 0x80, 0, 0]);
        b.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
        // A graphic control extension.
        b.extend_from_slice(&[0x21, 0xF9, 4, 0, 0, 0, 0, 0]);
        // An image with its LZW data in one sub-block.
        b.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x4C, 0x01, 0]);
        b.push(0x3B);
        b
    }

    fn webp() -> Vec<u8> {
        let body = b"WEBPVP8 \x04\x00\x00\x00abcd";
        let mut b = b"RIFF".to_vec();
        b.extend_from_slice(&(body.len() as u32).to_le_bytes());
        b.extend_from_slice(body);
        b
    }

    fn pdf() -> Vec<u8> {
        b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec()
    }

    #[test]
    fn each_kind_is_known_by_its_bytes_whatever_its_name() {
        let cases: [(Vec<u8>, AttachmentKind, &str); 5] = [
            (png(), AttachmentKind::Image, "image/png"),
            (jpeg(), AttachmentKind::Image, "image/jpeg"),
            (gif(), AttachmentKind::Image, "image/gif"),
            (webp(), AttachmentKind::Image, "image/webp"),
            (pdf(), AttachmentKind::Pdf, "application/pdf"),
        ];
        for (bytes, kind, media_type) in cases {
            for name in ["photo.png", "notes.txt", "no-extension"] {
                assert_eq!(
                    classify(name, &bytes),
                    Ok(Classified { kind, media_type }),
                    "{media_type} named {name}"
                );
            }
        }
    }

    #[test]
    fn text_is_valid_utf8_and_its_name_picks_only_the_subtype() {
        let text = |name: &str, bytes: &[u8]| classify(name, bytes).map(|c| c.media_type);
        assert_eq!(
            text("notes.MD", "# Título\n".as_bytes()),
            Ok("text/markdown")
        );
        assert_eq!(text("data.csv", b"a,b\n1,2\n"), Ok("text/csv"));
        assert_eq!(text("x.json", b"{\"a\": 1}"), Ok("application/json"));
        assert_eq!(text("main.rs", b"fn main() {}\n"), Ok("text/plain"));
        // A name that claims a web type is still plain text: it is never rendered.
        assert_eq!(
            text("page.html", b"<script>alert(1)</script>"),
            Ok("text/plain")
        );
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#;
        assert_eq!(
            classify("logo.svg", svg).map(|c| c.kind),
            Ok(AttachmentKind::Text)
        );
        // A PNG's bytes named .txt are an image; text bytes named .png are text.
        assert_eq!(text("image.png", b"just words"), Ok("text/plain"));
    }

    #[test]
    fn other_files_are_refused_naming_the_kinds_hearth_takes() {
        for bytes in [
            &b"PK\x03\x04\x14\x00\x00\x00\x08\x00"[..], // a zip
            &[0xC3, 0x28, 0x41][..],                    // invalid UTF-8
            &b"text with a \0 NUL"[..],                 // binary
            &b"\x7fELF\x02\x01\x01\x00\x00\x00"[..],    // a program
        ] {
            let err = classify("file.txt", bytes).unwrap_err();
            assert_eq!(err, AttachmentRefused::UnknownKind, "{bytes:?}");
            assert!(err.to_string().contains("PNG, JPEG, WebP, GIF"), "{err}");
        }
        assert_eq!(classify("e.txt", b""), Err(AttachmentRefused::Empty));
    }

    #[test]
    fn a_file_cut_short_is_refused_at_every_length() {
        for (whole, media_type) in [
            (png(), "image/png"),
            (jpeg(), "image/jpeg"),
            (gif(), "image/gif"),
            (webp(), "image/webp"),
            (pdf(), "application/pdf"),
        ] {
            // Long enough to be recognised, short of whole.
            let start = if media_type == "image/webp" { 12 } else { 8 };
            for cut in start..whole.len() - 1 {
                assert_eq!(
                    classify("x", &whole[..cut]),
                    Err(AttachmentRefused::Damaged { media_type }),
                    "{media_type} cut at {cut} of {}",
                    whole.len()
                );
            }
        }
    }

    #[test]
    fn hostile_lengths_do_not_overflow_or_loop() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&u32::MAX.to_be_bytes());
        png.extend_from_slice(b"IHDR");
        assert!(classify("x", &png).is_err());
        let mut webp = b"RIFF".to_vec();
        webp.extend_from_slice(&u32::MAX.to_le_bytes());
        webp.extend_from_slice(b"WEBP");
        assert!(classify("x", &webp).is_err());
        let mut gif = b"GIF89a".to_vec();
        gif.extend_from_slice(&[1, 0, 1, 0, 0x87, 0, 0]);
        assert!(classify("x", &gif).is_err());
        // A zero-length JPEG segment cannot stall the walk.
        assert!(classify("x", &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00, 0xFF, 0xD9]).is_err());
    }

    #[test]
    fn reading_refuses_folders_missing_and_oversized_files_before_reading_them() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_file(dir.path()), Err(AttachmentRefused::NotAFile));
        let gone = dir.path().join("gone.png");
        assert!(matches!(
            read_file(&gone),
            Err(AttachmentRefused::Unreadable(_))
        ));
        let big = dir.path().join("big.txt");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_ATTACHMENT_BYTES + 1).unwrap();
        let err = read_file(&big).unwrap_err();
        assert_eq!(
            err,
            AttachmentRefused::TooLarge {
                bytes: MAX_ATTACHMENT_BYTES + 1
            }
        );
        assert!(err.to_string().contains("up to 32 MiB"), "{err}");
        let ok = dir.path().join("shot.png");
        std::fs::write(&ok, png()).unwrap();
        let (name, bytes, what) = read_file(&ok).unwrap();
        assert_eq!(
            (name.as_str(), bytes, what.media_type),
            ("shot.png", png(), "image/png")
        );
    }

    /// Real files from real encoders (`tests/data/attachments/README.md` says whose), and
    /// Hearth's own PNGs: each is recognised whole, and refused cut short anywhere before
    /// its end (for a PDF, anywhere before its last kilobyte, where readers look for the
    /// end marker).
    #[test]
    fn real_files_are_recognised_whole_and_refused_cut_short() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files: Vec<_> = std::fs::read_dir(root.join("tests/data/attachments"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e != "md"))
            .collect();
        files.push(root.join("icons/32x32.png"));
        files.push(root.join("docs/screenshots/chat.png"));
        assert!(files.len() >= 11, "{files:?}");
        for path in files {
            let bytes = std::fs::read(&path).unwrap();
            let ext = path.extension().unwrap().to_str().unwrap();
            let media_type = match ext {
                "png" => "image/png",
                "jpg" => "image/jpeg",
                "gif" => "image/gif",
                "webp" => "image/webp",
                "pdf" => "application/pdf",
                other => panic!("no expectation for .{other}"),
            };
            let got = classify("renamed.txt", &bytes);
            assert_eq!(got.map(|c| c.media_type), Ok(media_type), "{path:?}");
            let refused_below = if ext == "pdf" {
                bytes.len() - 1024
            } else {
                bytes.len()
            };
            // Every cut of the small files; a spread of cuts through the large ones.
            let step = (refused_below / 4096).max(1);
            for cut in (16..refused_below).step_by(step) {
                assert_eq!(
                    classify("x", &bytes[..cut]),
                    Err(AttachmentRefused::Damaged { media_type }),
                    "{path:?} cut at {cut} of {}",
                    bytes.len()
                );
            }
        }
    }

    #[test]
    fn attaching_checks_every_file_first_and_saves_all_or_nothing() {
        use crate::transfer::hearth_json::test_support::{engine, sample};
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path());
        e.import_trees(vec![Ok(sample("c1"))], |_| {}).unwrap();
        let files = dir.path().join("files");
        std::fs::create_dir(&files).unwrap();
        let shot = files.join("shot.png");
        std::fs::write(&shot, png()).unwrap();
        let notes = files.join("notes.md");
        std::fs::write(&notes, "# Notes\n").unwrap();
        let cut = files.join("cut.png");
        std::fs::write(&cut, &png()[..20]).unwrap();
        let gone = files.join("gone.pdf");
        let saved = |e: &crate::Engine| e.vault().unwrap().attachments_of("c1-q").unwrap();

        for (bad, needle) in [
            (
                cut.as_path(),
                "cannot attach cut.png: the file starts like image/png but is cut short",
            ),
            (files.as_path(), "cannot attach files: this is a folder"),
            (
                gone.as_path(),
                "cannot attach gone.pdf: the file could not be read",
            ),
        ] {
            let err = e
                .attach_files("c1-q", &[&shot, bad])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(needle) && err.contains("nothing was sent or saved"),
                "{err}"
            );
            assert!(saved(&e).is_empty(), "{bad:?} saved something");
        }

        let added = e.attach_files("c1-q", &[&shot, &notes]).unwrap();
        let kinds: Vec<_> = added
            .iter()
            .map(|a| (a.name.as_str(), a.media_type.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [("shot.png", "image/png"), ("notes.md", "text/markdown")]
        );
        assert_eq!(saved(&e), added);

        // Two already there: nine more would make eleven.
        let nine = vec![shot.as_path(); 9];
        let err = e.attach_files("c1-q", &nine).unwrap_err().to_string();
        assert!(
            err.contains("at most 10 files, and this one would have 11"),
            "{err}"
        );
        assert_eq!(saved(&e).len(), 2);
    }
}
