//! `hearth import`: one engine call, with progress on a terminal, a summary line, and
//! the conversations left out (with a distinct exit status).

use std::io::IsTerminal;

use anyhow::{bail, Context as _, Result};
use hearth_engine::transfer::detect::{is_archive, ImportFormat as Format, ImportOptions};
use hearth_engine::Passphrase;
use serde_json::json;

use crate::args::{ImportArgs, ImportFormat};
use crate::output::{errln, print_json, ProgressLine};
use crate::unlock::Context;

/// The exit status when an import added what it could but left conversations out
/// (documented in docs/CLI.md).
pub const EXIT_SOME_LEFT_OUT: u8 = 3;

/// The import worked, but these conversations could not be converted and were left
/// out; `main` exits with [`EXIT_SOME_LEFT_OUT`].
#[derive(Debug)]
pub struct SomeLeftOut {
    /// How many.
    pub count: usize,
}

impl std::fmt::Display for SomeLeftOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.count {
            1 => f.write_str("1 conversation could not be converted and was left out (named above); the others are in the vault"),
            n => write!(f, "{n} conversations could not be converted and were left out (named above); the others are in the vault"),
        }
    }
}

impl std::error::Error for SomeLeftOut {}

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
    let options = ImportOptions {
        format,
        archive_passphrase: passphrase.as_ref(),
        strict: args.strict,
    };
    let mut progress = ProgressLine::new();
    let result = engine.import_file_with(&args.path, options, |r| {
        progress.show(|| {
            format!(
                "Importing: {} conversations ({} messages) so far, {} already present",
                r.added, r.messages, r.skipped
            )
        })
    });
    progress.clear();
    let outcome = result?;
    let report = outcome.report;
    if args.json.json {
        let left_out: Vec<_> = outcome
            .not_converted
            .iter()
            .map(|n| {
                json!({
                    "file": n.file,
                    "kind": n.kind,
                    "number": n.number,
                    "title": n.title,
                    "id": n.id,
                    "reason": n.reason,
                })
            })
            .collect();
        print_json(&json!({
            "added": report.added,
            "messages": report.messages,
            "already_present": report.skipped,
            "projects": report.projects,
            "prompts": report.prompts,
            "not_converted": left_out,
        }))?;
    }
    // One line; projects and prompts are named only when the import brought some.
    let extra = if report.projects > 0 || report.prompts > 0 {
        format!(
            " Added {} project{} and {} saved prompt{}.",
            report.projects,
            if report.projects == 1 { "" } else { "s" },
            report.prompts,
            if report.prompts == 1 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    errln!(
        "Imported {} conversations ({} messages); {} already present.{extra}",
        report.added,
        report.messages,
        report.skipped
    );
    if outcome.not_converted.is_empty() {
        return Ok(());
    }
    errln!("Left out (could not be converted):");
    for n in &outcome.not_converted {
        let line = format!(
            "  {}: {} {} {}: {}",
            n.file,
            n.kind,
            n.number,
            n.label(),
            n.reason
        );
        // Titles and ids come from the file: the writer neutralises them on a terminal.
        errln!("{}", line.replace(['\r', '\n'], " "));
    }
    Err(SomeLeftOut {
        count: outcome.not_converted.len(),
    }
    .into())
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
