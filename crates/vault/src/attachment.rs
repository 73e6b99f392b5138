//! Files attached to messages, inside the encrypted database.
//!
//! The bytes are stored once per content, keyed by their SHA-256, in chunks of
//! [`CHUNK_BYTES`]; a message's attachment is a row naming that content with the file's
//! name and media type. What a file may be (its kind, its size) is decided above the
//! vault; the vault keeps whatever bytes it is given, exactly.

use ring::digest;
use rusqlite::{params, OptionalExtension};

use crate::error::{Result, VaultError};
use crate::{new_id, now_ms, Vault};

/// How the bytes are cut for storage: large enough that a 32 MiB file is 128 rows, small
/// enough that reading one never needs a large allocation.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// A file to attach.
#[derive(Debug, Clone, Copy)]
pub struct NewAttachment<'a> {
    /// The file's name as the user knows it (no path).
    pub name: &'a str,
    /// Its media type, as decided from its bytes.
    pub media_type: &'a str,
    /// Its bytes.
    pub bytes: &'a [u8],
}

/// An attachment of a message, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// This attachment's id (one message's copy of a file).
    pub id: String,
    /// The message it belongs to.
    pub message_id: String,
    /// Its place among the message's attachments, from 0.
    pub position: u32,
    /// The file's name.
    pub name: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
}

/// A file's bytes as stored once for every attachment that names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    /// Their length.
    pub size: u64,
}

/// What the vault holds in attachments: distinct files, and their bytes stored once each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttachmentTotals {
    /// Attachments of messages (a file attached twice counts twice).
    pub attachments: u64,
    /// Bytes stored (a file attached twice is stored once).
    pub stored_bytes: u64,
}

const SELECT_ATTACHMENT: &str =
    "SELECT a.id, a.message_id, a.position, a.name, a.media_type, b.size, b.sha256
     FROM message_attachments a JOIN attachment_blobs b ON b.seq = a.blob_seq";

fn attachment_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attachment> {
    Ok(Attachment {
        id: r.get(0)?,
        message_id: r.get(1)?,
        position: r.get(2)?,
        name: r.get(3)?,
        media_type: r.get(4)?,
        size: r.get::<_, i64>(5)?.max(0) as u64,
        sha256: r.get(6)?,
    })
}

impl Vault {
    /// Attaches `files` to message `message_id`, after any it has, in one transaction:
    /// all are saved or none. Bytes already in the vault are not stored again.
    pub fn add_attachments(
        &mut self,
        message_id: &str,
        files: &[NewAttachment<'_>],
    ) -> Result<Vec<Attachment>> {
        let tx = self.conn.transaction()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM messages WHERE id = ?1)",
            [message_id],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(VaultError::MessageNotFound(message_id.to_owned()));
        }
        let first: u32 = tx.query_row(
            "SELECT COALESCE(MAX(position) + 1, 0) FROM message_attachments WHERE message_id = ?1",
            [message_id],
            |r| r.get(0),
        )?;
        let added = attach_in(&tx, message_id, first, files)?;
        tx.commit()?;
        Ok(added)
    }

    /// A message's attachments, in the order they were attached.
    pub fn attachments_of(&self, message_id: &str) -> Result<Vec<Attachment>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{SELECT_ATTACHMENT} WHERE a.message_id = ?1 ORDER BY a.position"
        ))?;
        let rows = stmt.query_map([message_id], attachment_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One attachment, by id.
    pub fn attachment(&self, id: &str) -> Result<Attachment> {
        self.conn
            .query_row(
                &format!("{SELECT_ATTACHMENT} WHERE a.id = ?1"),
                [id],
                attachment_row,
            )
            .optional()?
            .ok_or_else(|| VaultError::AttachmentNotFound(id.to_owned()))
    }

    /// Hands an attachment's bytes to `sink` chunk by chunk, in order, and checks that
    /// they add up to its size and SHA-256. A sink error stops the read and is returned.
    pub fn read_attachment(
        &self,
        id: &str,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<Attachment> {
        let attachment = self.attachment(id)?;
        self.read_stored(&attachment.sha256, attachment.size, sink)
            .map_err(|e| match e {
                VaultError::Corrupt(_) => VaultError::Corrupt(format!(
                    "attachment {id} does not match its recorded size and SHA-256"
                )),
                other => other,
            })?;
        Ok(attachment)
    }

    /// Every attachment of conversation `conversation_id`'s messages, message by
    /// message in the order they were stored, each message's in their order.
    pub fn attachments_in(&self, conversation_id: &str) -> Result<Vec<Attachment>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{SELECT_ATTACHMENT} JOIN messages m ON m.id = a.message_id
             WHERE m.conversation_id = ?1 ORDER BY m.seq, a.position"
        ))?;
        let rows = stmt.query_map([conversation_id], attachment_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The distinct files the attachments of conversation `only` name, or, without it,
    /// that any message or project names; each once, in the order they were first stored.
    pub fn stored_files(&self, only: Option<&str>) -> Result<Vec<StoredFile>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT b.sha256, b.size FROM attachment_blobs b
             WHERE EXISTS (SELECT 1 FROM message_attachments a JOIN messages m ON m.id = a.message_id
                           WHERE a.blob_seq = b.seq AND (?1 IS NULL OR m.conversation_id = ?1))
                OR (?1 IS NULL AND EXISTS (SELECT 1 FROM project_files p WHERE p.blob_seq = b.seq))
             ORDER BY b.seq",
        )?;
        let rows = stmt.query_map([only], |r| {
            Ok(StoredFile {
                sha256: r.get(0)?,
                size: r.get::<_, i64>(1)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Hands the bytes of the stored file `sha256` to `sink` chunk by chunk and checks
    /// them against its size and SHA-256, as [`Vault::read_attachment`] does.
    pub fn read_stored_file(
        &self,
        sha256: &str,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<StoredFile> {
        let size: i64 = self
            .conn
            .query_row(
                "SELECT size FROM attachment_blobs WHERE sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| VaultError::AttachmentNotFound(sha256.to_owned()))?;
        let size = size.max(0) as u64;
        self.read_stored(sha256, size, sink)?;
        Ok(StoredFile {
            sha256: sha256.to_owned(),
            size,
        })
    }

    fn read_stored(
        &self,
        sha256: &str,
        expected: u64,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.data FROM attachment_chunks c
             JOIN attachment_blobs b ON b.seq = c.blob_seq
             WHERE b.sha256 = ?1 ORDER BY c.idx",
        )?;
        let mut rows = stmt.query([sha256])?;
        let mut hash = digest::Context::new(&digest::SHA256);
        let mut size = 0u64;
        while let Some(row) = rows.next()? {
            let data = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
            hash.update(data);
            size += data.len() as u64;
            sink(data)?;
        }
        if size != expected || hex::encode(hash.finish()) != sha256 {
            return Err(VaultError::Corrupt(format!(
                "stored file {sha256} does not match its recorded size and SHA-256"
            )));
        }
        Ok(())
    }

    /// How many attachments the messages of conversation `only` hold, or of every
    /// conversation without it.
    pub fn count_attachments(&self, only: Option<&str>) -> Result<u64> {
        let n: i64 = match only {
            Some(id) => self.conn.query_row(
                "SELECT COUNT(*) FROM message_attachments a JOIN messages m ON m.id = a.message_id
                 WHERE m.conversation_id = ?1",
                [id],
                |r| r.get(0),
            )?,
            None => self
                .conn
                .query_row("SELECT COUNT(*) FROM message_attachments", [], |r| r.get(0))?,
        };
        Ok(n.max(0) as u64)
    }

    /// How many attachments the vault holds and the bytes they take.
    pub fn attachment_totals(&self) -> Result<AttachmentTotals> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM message_attachments),
                    (SELECT COALESCE(SUM(size), 0) FROM attachment_blobs)",
            [],
            |r| {
                Ok(AttachmentTotals {
                    attachments: r.get::<_, i64>(0)?.max(0) as u64,
                    stored_bytes: r.get::<_, i64>(1)?.max(0) as u64,
                })
            },
        )?)
    }
}

/// Stores `bytes` once (in chunks) unless the vault holds them already, inside the
/// caller's transaction; returns the blob's row and SHA-256 in lowercase hex.
pub(crate) fn store_blob(tx: &rusqlite::Connection, bytes: &[u8]) -> Result<(i64, String)> {
    let sha256 = hex::encode(digest::digest(&digest::SHA256, bytes));
    let found: Option<i64> = tx
        .query_row(
            "SELECT seq FROM attachment_blobs WHERE sha256 = ?1",
            [&sha256],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(seq) = found {
        return Ok((seq, sha256));
    }
    tx.execute(
        "INSERT INTO attachment_blobs (sha256, size, created_at) VALUES (?1, ?2, ?3)",
        params![sha256, bytes.len() as i64, now_ms()],
    )?;
    let seq = tx.last_insert_rowid();
    let mut insert = tx.prepare_cached(
        "INSERT INTO attachment_chunks (blob_seq, idx, data) VALUES (?1, ?2, ?3)",
    )?;
    for (idx, chunk) in bytes.chunks(CHUNK_BYTES).enumerate() {
        insert.execute(params![seq, idx as i64, chunk])?;
    }
    Ok((seq, sha256))
}

/// Attaches `files` to `message_id` from `first` on, inside the caller's transaction.
pub(crate) fn attach_in(
    tx: &rusqlite::Transaction<'_>,
    message_id: &str,
    first: u32,
    files: &[NewAttachment<'_>],
) -> Result<Vec<Attachment>> {
    let mut added = Vec::with_capacity(files.len());
    for (position, file) in (first..).zip(files) {
        let (blob_seq, sha256) = store_blob(tx, file.bytes)?;
        let id = new_id();
        tx.execute(
            "INSERT INTO message_attachments (id, message_id, position, name, media_type, blob_seq)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                message_id,
                position,
                file.name,
                file.media_type,
                blob_seq
            ],
        )?;
        added.push(Attachment {
            id,
            message_id: message_id.to_owned(),
            position,
            name: file.name.to_owned(),
            media_type: file.media_type.to_owned(),
            size: file.bytes.len() as u64,
            sha256,
        });
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open::tests::temp_vault;
    use crate::{NewConversation, NewMessage, Role};

    fn message(vault: &mut Vault) -> (String, String) {
        let c = vault
            .create_conversation(NewConversation::default())
            .unwrap();
        let m = vault
            .append_message(NewMessage::complete(&c.id, None, Role::User, "look"))
            .unwrap();
        (c.id, m.id)
    }

    fn bytes_of(vault: &Vault, id: &str) -> Vec<u8> {
        let mut out = Vec::new();
        vault
            .read_attachment(id, &mut |chunk| {
                out.extend_from_slice(chunk);
                Ok(())
            })
            .unwrap();
        out
    }

    #[test]
    fn bytes_come_back_exactly_in_chunks_and_identical_files_are_stored_once() {
        let (_d, _p, _s, mut vault) = temp_vault();
        let (_, m) = message(&mut vault);
        // Three chunks and a bit, with a pattern that shows a misplaced chunk.
        let big: Vec<u8> = (0..CHUNK_BYTES * 3 + 17).map(|i| (i % 251) as u8).collect();
        let added = vault
            .add_attachments(
                &m,
                &[
                    NewAttachment {
                        name: "scan.pdf",
                        media_type: "application/pdf",
                        bytes: &big,
                    },
                    NewAttachment {
                        name: "copy.pdf",
                        media_type: "application/pdf",
                        bytes: &big,
                    },
                ],
            )
            .unwrap();
        assert_eq!(added.len(), 2);
        assert_eq!(added[0].sha256, added[1].sha256);
        assert_eq!(
            added[0].sha256,
            hex::encode(digest::digest(&digest::SHA256, &big))
        );
        assert_eq!(bytes_of(&vault, &added[1].id), big);
        assert_eq!(vault.attachments_of(&m).unwrap(), added);
        assert_eq!(
            vault.attachment_totals().unwrap(),
            AttachmentTotals {
                attachments: 2,
                stored_bytes: big.len() as u64
            }
        );
        let chunks: i64 = vault
            .conn
            .query_row("SELECT COUNT(*) FROM attachment_chunks", [], |r| r.get(0))
            .unwrap();
        assert_eq!(chunks, 4, "stored once, in four chunks");
    }

    #[test]
    fn deleting_the_last_message_that_names_a_file_deletes_its_bytes() {
        let (_d, _p, _s, mut vault) = temp_vault();
        let (c1, m1) = message(&mut vault);
        let (c2, m2) = message(&mut vault);
        let file = NewAttachment {
            name: "a.png",
            media_type: "image/png",
            bytes: b"shared bytes",
        };
        vault.add_attachments(&m1, &[file]).unwrap();
        let kept = vault.add_attachments(&m2, &[file]).unwrap();
        let blobs = |v: &Vault| -> (i64, i64) {
            v.conn
                .query_row(
                    "SELECT (SELECT COUNT(*) FROM attachment_blobs), (SELECT COUNT(*) FROM attachment_chunks)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap()
        };
        vault.delete_conversation(&c1).unwrap();
        assert_eq!(blobs(&vault), (1, 1), "still named by the other message");
        assert_eq!(bytes_of(&vault, &kept[0].id), b"shared bytes");
        vault.delete_conversation(&c2).unwrap();
        assert_eq!(blobs(&vault), (0, 0));
        assert_eq!(
            vault.attachment_totals().unwrap(),
            AttachmentTotals::default()
        );
        assert!(matches!(
            vault.attachment(&kept[0].id),
            Err(VaultError::AttachmentNotFound(_))
        ));
    }

    #[test]
    fn a_missing_message_saves_nothing_and_a_damaged_chunk_is_reported() {
        let (_d, _p, _s, mut vault) = temp_vault();
        let file = NewAttachment {
            name: "n.txt",
            media_type: "text/plain",
            bytes: b"notes",
        };
        assert!(matches!(
            vault.add_attachments("no-such-message", &[file]),
            Err(VaultError::MessageNotFound(_))
        ));
        assert_eq!(
            vault.attachment_totals().unwrap(),
            AttachmentTotals::default()
        );
        let (_, m) = message(&mut vault);
        let added = vault.add_attachments(&m, &[file]).unwrap();
        vault
            .conn
            .execute("UPDATE attachment_chunks SET data = x'6e6f746573ff'", [])
            .unwrap();
        let err = vault
            .read_attachment(&added[0].id, &mut |_| Ok(()))
            .unwrap_err();
        assert!(matches!(err, VaultError::Corrupt(_)), "{err}");
    }

    #[test]
    fn a_message_and_its_files_are_saved_together_and_an_edit_keeps_them() {
        let (_dir, _pass, _store, mut vault) = temp_vault();
        let c = vault
            .create_conversation(NewConversation::default())
            .unwrap();
        let files = [
            NewAttachment {
                name: "a.txt",
                media_type: "text/plain",
                bytes: b"first file",
            },
            NewAttachment {
                name: "b.pdf",
                media_type: "application/pdf",
                bytes: b"second file",
            },
        ];
        // A parent in another conversation fails the message, and no file is kept.
        let elsewhere = vault
            .create_conversation(NewConversation::default())
            .unwrap();
        let other = vault
            .append_message(NewMessage::complete(&elsewhere.id, None, Role::User, "x"))
            .unwrap();
        let failed = vault.append_message_with(
            NewMessage::complete(&c.id, Some(&other.id), Role::User, "look"),
            &files,
        );
        assert!(failed.is_err());
        assert_eq!(
            vault.attachment_totals().unwrap(),
            AttachmentTotals::default()
        );

        let (m, added) = vault
            .append_message_with(
                NewMessage::complete(&c.id, None, Role::User, "look"),
                &files,
            )
            .unwrap();
        assert_eq!(added.len(), 2);
        assert_eq!(vault.attachments_of(&m.id).unwrap(), added);

        let edited = vault
            .append_message_like(
                NewMessage::complete(&c.id, None, Role::User, "look again"),
                &m.id,
            )
            .unwrap();
        let copies = vault.attachments_of(&edited.id).unwrap();
        assert_eq!(
            copies
                .iter()
                .map(|a| (a.position, a.name.as_str(), a.sha256.as_str()))
                .collect::<Vec<_>>(),
            added
                .iter()
                .map(|a| (a.position, a.name.as_str(), a.sha256.as_str()))
                .collect::<Vec<_>>()
        );
        assert!(copies.iter().all(|c| added.iter().all(|a| a.id != c.id)));
        // Four attachments, the bytes of two files.
        assert_eq!(
            vault.attachment_totals().unwrap(),
            AttachmentTotals {
                attachments: 4,
                stored_bytes: 21
            }
        );
        assert_eq!(bytes_of(&vault, &copies[1].id), b"second file");
    }
}
