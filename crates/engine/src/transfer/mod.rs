//! Conversations in and out of the vault: Hearth's own JSON export format and encrypted
//! archive, Markdown, and importers for other apps' data exports. Every importer yields
//! [`ConversationTree`](hearth_vault::ConversationTree)s one at a time, and
//! [`Vault::import`](hearth_vault::Vault::import) adds them in one transaction.

pub mod archive;
pub mod budget;
pub mod chatgpt;
pub mod claude;
pub mod detect;
pub mod hearth_json;
pub mod markdown;

use std::path::Path;

use hearth_vault::Passphrase;

use crate::{Engine, Result};

pub use hearth_json::ExportProgress;
pub use markdown::refuse_existing;

impl Engine {
    /// Writes the JSON export of every conversation (or only `only`) to the new file
    /// `path`, sealed as an encrypted archive when `archive` is given. Nothing is ever
    /// overwritten, and the file appears whole (0600) or not at all.
    pub fn export_to_file(
        &self,
        path: &Path,
        archive: Option<&Passphrase>,
        only: Option<&str>,
        progress: impl FnMut(&ExportProgress),
    ) -> Result<ExportProgress> {
        refuse_existing(path)?;
        markdown::write_new_with(path, |file| match archive {
            Some(passphrase) => self.export_archive(file, passphrase, only, progress),
            None => self.export_json(file, only, progress),
        })
    }
}
