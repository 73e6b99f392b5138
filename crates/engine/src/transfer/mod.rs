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

use crate::{Engine, EngineError, Result};

pub use hearth_json::ExportProgress;
pub use markdown::refuse_existing;

/// Refuses an export of `only` (or of everything) that would leave out attachments: the
/// export formats do not carry them, and an export must not lose what the vault holds
/// without saying so.
pub(crate) fn refuse_attachments(vault: &hearth_vault::Vault, only: Option<&str>) -> Result<()> {
    let n = vault.count_attachments(only)?;
    if n > 0 {
        return Err(EngineError::Invalid(format!(
            "{} holds {n} attached file{}, which this export format cannot carry; nothing was written",
            match only {
                Some(id) => format!("conversation {id}"),
                None => "this vault".to_owned(),
            },
            if n == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

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

#[cfg(test)]
mod tests {
    use super::hearth_json::test_support::{engine, sample};
    use hearth_vault::NewAttachment;

    #[test]
    fn an_export_that_would_leave_out_attachments_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path());
        e.import_trees(vec![Ok(sample("c1")), Ok(sample("c2"))], |_| {})
            .unwrap();
        e.vault()
            .unwrap()
            .add_attachments(
                "c1-q",
                &[NewAttachment {
                    name: "photo.png",
                    media_type: "image/png",
                    bytes: b"bytes",
                }],
            )
            .unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        for (only, what) in [(None, "this vault"), (Some("c1"), "conversation c1")] {
            let json = e.export_to_file(&out.join("x.json"), None, only, |_| {});
            let md = e.export_markdown(&out.join("x-md"), only);
            for err in [json.unwrap_err().to_string(), md.unwrap_err().to_string()] {
                assert!(
                    err.contains(&format!("{what} holds 1 attached file")),
                    "{err}"
                );
            }
        }
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            0,
            "nothing written"
        );
        // A conversation without attachments still exports.
        let mut bytes = Vec::new();
        e.export_json(&mut bytes, Some("c2"), |_| {}).unwrap();
        assert!(String::from_utf8(bytes).unwrap().contains("\"c2\""));
    }
}
