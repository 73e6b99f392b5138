//! `hearth import`: one engine call, with progress on a terminal and a summary line.

use std::io::IsTerminal;

use anyhow::{bail, Context as _, Result};
use hearth_engine::transfer::detect::{is_archive, ImportFormat as Format};
use hearth_engine::Passphrase;

use crate::args::{ImportArgs, ImportFormat};
use crate::output::{errln, ProgressLine};
use crate::unlock::Context;

/// Runs `hearth import`.
pub fn run(ctx: &Context, args: ImportArgs) -> Result<()> {
    let engine = ctx.open()?;
    let format = match args.format {
        ImportFormat::Auto => Format::Auto,
        ImportFormat::Chatgpt => Format::ChatGpt,
        ImportFormat::Claude => Format::Claude,
        ImportFormat::Hearth => Format::Hearth,
    };
    let passphrase = if is_archive(&args.path) {
        Some(archive_passphrase()?)
    } else {
        None
    };
    let mut progress = ProgressLine::new();
    let result = engine.import_file_with_passphrase(&args.path, format, passphrase.as_ref(), |r| {
        progress.show(|| {
            format!(
                "Importing: {} conversations ({} messages) so far, {} already present",
                r.added, r.messages, r.skipped
            )
        })
    });
    progress.clear();
    let report = result?;
    errln!(
        "Imported {} conversations ({} messages); {} already present.",
        report.added,
        report.messages,
        report.skipped
    );
    Ok(())
}

/// An encrypted archive's own passphrase: `HEARTH_ARCHIVE_PASSPHRASE`, else asked on
/// the terminal.
fn archive_passphrase() -> Result<Passphrase> {
    if let Ok(text) = std::env::var("HEARTH_ARCHIVE_PASSPHRASE") {
        return Ok(Passphrase::new(text));
    }
    if !std::io::stdin().is_terminal() {
        bail!("this is an encrypted Hearth archive: set HEARTH_ARCHIVE_PASSPHRASE to its passphrase, or run this in a terminal");
    }
    let text =
        rpassword::prompt_password("Archive passphrase: ").context("cannot read the passphrase")?;
    Ok(Passphrase::new(text))
}
