//! `hearth import`: one engine call, with progress on a terminal and a summary line.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use hearth_engine::transfer::detect::{is_archive, ImportFormat as Format};
use hearth_engine::{ImportReport, Passphrase};

use crate::args::{ImportArgs, ImportFormat};
use crate::unlock::Context;

/// How often the progress line is redrawn.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

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
    let mut progress = Progress::new();
    let result = engine.import_file_with_passphrase(&args.path, format, passphrase.as_ref(), |r| {
        progress.show(r)
    });
    progress.clear();
    let report = result?;
    eprintln!(
        "Imported {} conversations ({} messages); {} already present.",
        report.added, report.messages, report.skipped
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

/// The "so far" line on stderr, redrawn in place, only when stderr is a terminal.
struct Progress {
    terminal: bool,
    last: Option<Instant>,
    shown: bool,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            last: None,
            shown: false,
        }
    }

    fn show(&mut self, report: &ImportReport) {
        if !self.terminal || self.last.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
            return;
        }
        self.last = Some(Instant::now());
        self.shown = true;
        let mut err = std::io::stderr().lock();
        // Progress is a courtesy: a failed write must not stop the import.
        let _ = write!(
            err,
            "\r\x1b[KImporting: {} conversations ({} messages) so far, {} already present",
            report.added, report.messages, report.skipped
        );
        let _ = err.flush();
    }

    /// Erases the progress line, so the summary or the error stands alone.
    fn clear(&mut self) {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}
