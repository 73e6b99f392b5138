//! `hearth export`: lossless JSON, Markdown, or an encrypted archive, written to a new
//! file (or folder) that appears whole or not at all.

use std::fs::File;
use std::io::IsTerminal;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use hearth_engine::transfer::archive::check_passphrase;
use hearth_engine::Passphrase;
use zeroize::Zeroizing;

use crate::args::{ExportArgs, ExportFormat};
use crate::output::ProgressLine;
use crate::unlock::Context;

/// Runs `hearth export`.
pub fn run(ctx: &Context, args: ExportArgs) -> Result<()> {
    let path = args.output.as_path();
    let only = args.conversation.as_deref();
    // Before anything is unlocked or asked: the output must be new.
    refuse_existing(path)?;
    let engine = ctx.open()?;
    let mut progress = ProgressLine::new();
    let done = match args.format {
        ExportFormat::Json => {
            let result = write_new_file(path, |file| {
                engine.export_json(file, only, |p| {
                    progress.show(|| {
                        format!(
                            "Exporting: {} of {} conversations ({} messages)",
                            p.conversations, p.total_conversations, p.messages
                        )
                    })
                })
            });
            progress.clear();
            result?
        }
        ExportFormat::Archive => {
            let passphrase = archive_passphrase()?;
            let result = write_new_file(path, |file| {
                engine.export_archive(file, &passphrase, only, |p| {
                    progress.show(|| {
                        format!(
                            "Exporting: {} of {} conversations ({} messages)",
                            p.conversations, p.total_conversations, p.messages
                        )
                    })
                })
            });
            progress.clear();
            result?
        }
        ExportFormat::Markdown => {
            let report = engine.export_markdown(path, only)?;
            let files = report.files.len();
            match only {
                Some(_) => eprintln!("Wrote the conversation as Markdown to {}.", path.display()),
                None => eprintln!(
                    "Wrote {files} Markdown {} to the new folder {}.",
                    if files == 1 { "file" } else { "files" },
                    path.display()
                ),
            }
            return Ok(());
        }
    };
    eprintln!(
        "Exported {} {} ({} messages) to {}.",
        done.conversations,
        if done.conversations == 1 {
            "conversation"
        } else {
            "conversations"
        },
        done.messages,
        path.display()
    );
    if args.format == ExportFormat::Archive {
        eprintln!("Keep the archive passphrase safe: without it the archive cannot be opened.");
    }
    Ok(())
}

fn refuse_existing(path: &Path) -> Result<()> {
    if path.symlink_metadata().is_ok() {
        bail!(
            "{} already exists; hearth export never overwrites: choose a new name or move the old one away",
            path.display()
        );
    }
    Ok(())
}

/// The archive's own passphrase: `HEARTH_ARCHIVE_PASSPHRASE`, else asked twice on the
/// terminal.
fn archive_passphrase() -> Result<Passphrase> {
    let passphrase = match std::env::var("HEARTH_ARCHIVE_PASSPHRASE") {
        Ok(text) => Passphrase::new(text),
        Err(_) => {
            if !std::io::stdin().is_terminal() {
                bail!("an archive needs its own passphrase: set HEARTH_ARCHIVE_PASSPHRASE or run this in a terminal");
            }
            let first = rpassword::prompt_password("Archive passphrase (8 characters or more): ")
                .context("cannot read the passphrase")?;
            let first = Passphrase::new(first);
            check_passphrase(&first)?;
            let again = Zeroizing::new(
                rpassword::prompt_password("The same again: ")
                    .context("cannot read the passphrase")?,
            );
            if first.expose() != again.as_bytes() {
                bail!("the two archive passphrases differ; nothing was written");
            }
            first
        }
    };
    check_passphrase(&passphrase)?;
    Ok(passphrase)
}

/// Writes the new file `path` through `write`: into a private temp file in the same
/// folder, synced, then renamed into place, refusing if `path` appeared meanwhile. If
/// `write` fails, the temp file is removed and `path` never appears.
fn write_new_file<T>(
    path: &Path,
    write: impl FnOnce(&mut File) -> hearth_engine::Result<T>,
) -> Result<T> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // tempfile creates the file readable by the user only (0600).
    let mut temp = tempfile::Builder::new()
        .prefix(".hearth-export-")
        .tempfile_in(parent)
        .with_context(|| format!("cannot create a file in {}", parent.display()))?;
    let value = write(temp.as_file_mut())?;
    temp.as_file()
        .sync_all()
        .with_context(|| format!("cannot write {}", temp.path().display()))?;
    temp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists; hearth export never overwrites: choose a new name or move the old one away",
                path.display()
            )
        } else {
            anyhow::Error::new(e.error).context(format!("cannot create {}", path.display()))
        }
    })?;
    #[cfg(unix)]
    File::open(parent)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", parent.display()))?;
    Ok(value)
}
