//! `hearth export`: lossless JSON, Markdown, or an encrypted archive, written to a new
//! file (or folder) that appears whole or not at all.

use std::io::IsTerminal;

use anyhow::{bail, Context as _, Result};
use hearth_engine::transfer::archive::check_passphrase;
use hearth_engine::Passphrase;
use zeroize::Zeroizing;

use crate::args::{ExportArgs, ExportFormat};
use crate::output::{errln, ProgressLine};
use crate::unlock::Context;

/// Runs `hearth export`.
pub fn run(ctx: &Context, args: ExportArgs) -> Result<()> {
    let path = args.output.as_path();
    let only = args.conversation.as_deref();
    // Before anything is unlocked or asked: the output must be new.
    hearth_engine::transfer::refuse_existing(path)?;
    let engine = ctx.open()?;
    let mut progress = ProgressLine::new();
    let passphrase = match args.format {
        ExportFormat::Json => None,
        ExportFormat::Archive => Some(archive_passphrase()?),
        ExportFormat::Markdown => {
            let report = engine.export_markdown(path, only)?;
            let files = report.files.len();
            match only {
                Some(_) => errln!("Wrote the conversation as Markdown to {}.", path.display()),
                None => errln!(
                    "Wrote {files} Markdown {} to the new folder {}.",
                    if files == 1 { "file" } else { "files" },
                    path.display()
                ),
            }
            return Ok(());
        }
    };
    let result = engine.export_to_file(path, passphrase.as_ref(), only, |p| {
        progress.show(|| {
            format!(
                "Exporting: {} of {} conversations ({} messages)",
                p.conversations, p.total_conversations, p.messages
            )
        })
    });
    progress.clear();
    let done = result?;
    errln!(
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
        errln!("Keep the archive passphrase safe: without it the archive cannot be opened.");
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
