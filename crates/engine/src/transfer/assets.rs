//! The image files of a ChatGPT data export, attached to the messages that show them.
//!
//! A message's image part names its file by an asset pointer (`file-service://file-AbC…`
//! for older exports, `sediment://file_00…` for newer ones). The export's zip (or the
//! folder it unzips to) holds the file under a name that starts with the pointer's id,
//! followed by `-` and the original name or a generated one (`file-AbC…-photo.jpg`,
//! `dalle-generations/file-AbC…-<uuid>.webp`). The importer first lists the attachments
//! it wants (an attachment with an empty `sha256` whose `id` is the pointer); here each
//! is found by that id, read within the limits of an attachment and of the zip's budget,
//! checked to be a whole image from its bytes, and handed to the vault before its
//! conversation. A wanted image whose file is missing, too large, damaged or not an image
//! is left out: its message keeps the marker text the importer wrote (`[image]`,
//! `[Attachment: name]`), and the rest of the import goes on.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use hearth_vault::{Attachment, ConversationTree, CHUNK_BYTES};

use super::detect::Piece;
use crate::attachment::{classify, clean_name, AttachmentKind, MAX_ATTACHMENT_BYTES};
use crate::error::Result;

/// Names indexed at most: far more than any real export's files.
const MAX_NAMES: usize = 200_000;

/// Where an export's image files are.
pub(crate) enum Assets {
    /// Nowhere (an export given as a JSON file alone, or another app's).
    None,
    /// Entries of the export's zip.
    Zip {
        archive: zip::ZipArchive<File>,
        by_id: HashMap<String, usize>,
        /// Bytes the entries read here may still unpack to.
        left: u64,
    },
    /// Files of the folder the export unzipped to (and its folders one level down).
    Folder { by_id: HashMap<String, PathBuf> },
}

/// Every prefix of `base` that ends just before a `-` or a `.`, and `base` itself: the
/// ids a file named `base` could be found by.
fn prefixes(base: &str) -> impl Iterator<Item = &str> {
    base.char_indices()
        .filter(|&(_, c)| c == '-' || c == '.')
        .map(move |(i, _)| &base[..i])
        .chain(std::iter::once(base))
        .filter(|p| !p.is_empty())
}

/// The id of an asset pointer: what follows `scheme://`, its last path segment.
fn pointer_id(pointer: &str) -> Option<&str> {
    let rest = pointer.split_once("://").map_or(pointer, |(_, r)| r);
    let id = rest.rsplit('/').next().unwrap_or(rest);
    // Short ids would match unrelated files (`file`, `image`).
    (id.len() >= 8).then_some(id)
}

fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

impl Assets {
    /// The entries of the zip at `path`.
    pub(crate) fn zip(path: &Path) -> Result<Assets> {
        let file = File::open(path).map_err(|e| super::detect::cannot_read(path, &e))?;
        let zip_len = file
            .metadata()
            .map_err(|e| super::detect::cannot_read(path, &e))?
            .len();
        let archive = zip::ZipArchive::new(file).map_err(|e| super::detect::bad_zip(path, &e))?;
        let mut by_id = HashMap::new();
        for i in 0..archive.len().min(MAX_NAMES) {
            let Some(Ok(name)) = archive.name_for_index(i) else {
                continue;
            };
            if name.ends_with('/') {
                continue;
            }
            for id in prefixes(base_name(&name)) {
                by_id.entry(id.to_owned()).or_insert(i);
            }
        }
        Ok(Assets::Zip {
            archive,
            by_id,
            left: super::budget::zip_inflate_budget(zip_len),
        })
    }

    /// The files of folder `dir` and of its folders one level down.
    pub(crate) fn folder(dir: &Path) -> Assets {
        let mut by_id = HashMap::new();
        let mut seen = 0usize;
        let mut index = |dir: &Path, depth: u8, by_id: &mut HashMap<String, PathBuf>| {
            let mut sub = Vec::new();
            let Ok(entries) = std::fs::read_dir(dir) else {
                return sub;
            };
            for entry in entries.flatten() {
                seen += 1;
                if seen > MAX_NAMES {
                    break;
                }
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let path = entry.path();
                if kind.is_dir() && depth == 0 {
                    sub.push(path);
                } else if kind.is_file() {
                    if let Some(name) = entry.file_name().to_str() {
                        for id in prefixes(name) {
                            by_id.entry(id.to_owned()).or_insert_with(|| path.clone());
                        }
                    }
                }
            }
            sub
        };
        for sub in index(dir, 0, &mut by_id) {
            index(&sub, 1, &mut by_id);
        }
        Assets::Folder { by_id }
    }

    /// The bytes and file name of the file for `id`, if there is one Hearth can take.
    fn read(&mut self, id: &str) -> Option<(String, Vec<u8>)> {
        match self {
            Assets::None => None,
            Assets::Zip {
                archive,
                by_id,
                left,
            } => {
                let index = *by_id.get(id)?;
                let entry = archive.by_index(index).ok()?;
                let name = base_name(&entry.name().ok()?).to_owned();
                let stated = entry.size();
                if stated > MAX_ATTACHMENT_BYTES || stated > *left {
                    tracing::debug!("leaving out {name}: {stated} bytes is more than Hearth reads");
                    return None;
                }
                let mut bytes = Vec::with_capacity(stated as usize);
                let read = entry.take(stated + 1).read_to_end(&mut bytes);
                *left = left.saturating_sub(bytes.len() as u64);
                match read {
                    Ok(n) if n as u64 == stated => Some((name, bytes)),
                    _ => {
                        tracing::debug!("leaving out {name}: the zip entry cannot be read whole");
                        None
                    }
                }
            }
            Assets::Folder { by_id } => {
                let path = by_id.get(id)?;
                let (name, bytes, _) = crate::attachment::read_file(path).ok()?;
                Some((name, bytes))
            }
        }
    }

    /// Finds the files of the images `tree` wants (see the module documentation), hands
    /// each found one's bytes to `each`, and puts in its place the attachment it is;
    /// the others are left out.
    pub(crate) fn resolve(
        &mut self,
        tree: &mut ConversationTree,
        each: &mut dyn FnMut(Piece) -> Result<()>,
    ) -> Result<()> {
        if tree.attachments.iter().all(|a| !a.sha256.is_empty()) {
            return Ok(());
        }
        let wanted = std::mem::take(&mut tree.attachments);
        let mut positions: HashMap<String, u32> = HashMap::new();
        for a in wanted {
            if !a.sha256.is_empty() {
                tree.attachments.push(a);
                continue;
            }
            let Some(id) = pointer_id(&a.id) else {
                continue;
            };
            let Some((file_name, bytes)) = self.read(id) else {
                continue;
            };
            let Ok(what) = classify(&file_name, &bytes) else {
                tracing::debug!("leaving out {file_name}: not a whole image");
                continue;
            };
            if what.kind != AttachmentKind::Image {
                continue;
            }
            let sha256 = hex_sha256(&bytes);
            each(Piece::FileStart {
                sha256: sha256.clone(),
                size: bytes.len() as u64,
            })?;
            for chunk in bytes.chunks(CHUNK_BYTES) {
                each(Piece::FileBytes(chunk.to_vec()))?;
            }
            // The file's own name without the id it was found by, unless the export
            // named the upload.
            let name = if a.name.trim().is_empty() {
                let rest = file_name
                    .strip_prefix(id)
                    .map(|r| r.trim_start_matches(['-', '_']))
                    .filter(|r| !r.is_empty() && !r.starts_with('.'))
                    .unwrap_or(&file_name);
                clean_name(rest)
            } else {
                clean_name(&a.name)
            };
            let position = positions.entry(a.message_id.clone()).or_insert(0);
            tree.attachments.push(Attachment {
                id: format!("{}:{}", a.message_id, *position),
                message_id: a.message_id,
                position: *position,
                name,
                media_type: what.media_type.to_owned(),
                size: bytes.len() as u64,
                sha256,
            });
            *position += 1;
        }
        Ok(())
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_found_by_the_id_its_name_starts_with() {
        let found: Vec<&str> = prefixes("file-AbC123xyz-photo.v2.png").collect();
        assert_eq!(
            found,
            [
                "file",
                "file-AbC123xyz",
                "file-AbC123xyz-photo",
                "file-AbC123xyz-photo.v2",
                "file-AbC123xyz-photo.v2.png"
            ]
        );
        assert_eq!(
            pointer_id("file-service://file-AbC123xyz"),
            Some("file-AbC123xyz")
        );
        assert_eq!(
            pointer_id("sediment://file_00000000a1b2c3d4"),
            Some("file_00000000a1b2c3d4")
        );
        assert_eq!(pointer_id("file-service://file"), None);
    }
}
