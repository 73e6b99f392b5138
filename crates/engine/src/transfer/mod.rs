//! Conversations in and out of the vault: Hearth's own JSON export format and encrypted
//! archive, Markdown, and importers for other apps' data exports. Every importer yields
//! [`ConversationTree`](hearth_vault::ConversationTree)s one at a time, and
//! [`Vault::import`](hearth_vault::Vault::import) adds them in one transaction.

pub mod archive;
mod assets;
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::hearth_json::test_support::{engine, sample};
    use hearth_vault::NewAttachment;

    const JPEG: &[u8] = include_bytes!("../../../../tests/data/attachments/test.jpg");

    #[test]
    fn markdown_writes_the_visible_branchs_files_beside_each_conversation_and_links_them() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path());
        e.import_trees(vec![Ok(sample("c1")), Ok(sample("c2"))], |_| {})
            .unwrap();
        let mut vault = e.vault().unwrap();
        for (name, media_type, bytes) in [
            ("photo [1].jpg", "image/jpeg", JPEG),
            ("../notes.txt", "text/plain", b"plain notes".as_slice()),
            ("photo [1].jpg", "image/jpeg", b"another photo".as_slice()),
        ] {
            vault
                .add_attachments(
                    "c1-q",
                    &[NewAttachment {
                        name,
                        media_type,
                        bytes,
                    }],
                )
                .unwrap();
        }
        drop(vault);

        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let report = e.export_markdown(&out.join("one.md"), Some("c1")).unwrap();
        assert_eq!(
            report.files,
            vec![out.join("one.md"), out.join("one files")]
        );
        let text = std::fs::read_to_string(out.join("one.md")).unwrap();
        assert!(
            text.contains("![photo \\[1\\].jpg](<one files/photo [1].jpg>)"),
            "{text}"
        );
        assert!(
            text.contains("- [../notes.txt](<one files/_notes.txt>)"),
            "{text}"
        );
        let names: HashSet<String> = std::fs::read_dir(out.join("one files"))
            .unwrap()
            .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.contains("photo [1].jpg") && names.contains("photo [1] (2).jpg"));
        assert_eq!(
            std::fs::read(out.join("one files/photo [1].jpg")).unwrap(),
            JPEG
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&out.join("one files")), 0o700);
            assert_eq!(mode(&out.join("one files/photo [1].jpg")), 0o600);
        }
        // Nothing is written over: the folder's name is taken now.
        std::fs::remove_file(out.join("one.md")).unwrap();
        assert!(e.export_markdown(&out.join("one.md"), Some("c1")).is_err());
        assert!(!out.join("one.md").exists());

        // Every conversation: c1's files in a folder beside its file; c2 has none.
        e.export_markdown(&out.join("all"), None).unwrap();
        let entries: Vec<String> = std::fs::read_dir(out.join("all"))
            .unwrap()
            .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(entries.len(), 3, "{entries:?}");
        let folder = entries.iter().find(|n| n.ends_with(" files")).unwrap();
        let c1 = entries
            .iter()
            .find(|n| n.ends_with(".md") && folder.starts_with(n.trim_end_matches(".md")))
            .unwrap();
        let text = std::fs::read_to_string(out.join("all").join(c1)).unwrap();
        assert!(
            text.contains(&format!("(<{folder}/photo [1].jpg>)")),
            "{text}"
        );
        assert_eq!(
            std::fs::read(out.join("all").join(folder).join("photo [1].jpg")).unwrap(),
            JPEG
        );
    }
}
