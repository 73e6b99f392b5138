//! Printing: JSON for scripts, plain text for people, and model text made harmless for
//! terminals.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};

use anyhow::Result;
use serde::Serialize;

/// Replaces control characters (escape sequences above all) with U+FFFD so that text a
/// model wrote cannot move the cursor, retitle the window, or hide what is printed.
/// Newlines and tabs stay.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| (c.is_control() && c != '\n' && c != '\t') || c == '\u{202e}';
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if unsafe_char(c) { '\u{fffd}' } else { c })
            .collect(),
    )
}

/// Whether standard output is a terminal (then model text is neutralised).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Prints untrusted text to stdout: neutralised on a terminal, untouched in a pipe.
pub fn print_text(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if stdout_is_terminal() {
        out.write_all(terminal_safe(text).as_bytes())?;
    } else {
        out.write_all(text.as_bytes())?;
    }
    Ok(())
}

/// Prints a value as pretty JSON and a newline.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// A Unix-millisecond time as `YYYY-MM-DD HH:MM` UTC.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Days since 1970-01-01 to a (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A "so far" line on stderr for long imports and exports, redrawn in place at most ten
/// times a second, and only when stderr is a terminal.
pub struct ProgressLine {
    terminal: bool,
    last: Option<std::time::Instant>,
    shown: bool,
}

impl ProgressLine {
    /// A line that shows nothing yet.
    pub fn new() -> ProgressLine {
        ProgressLine {
            terminal: std::io::stderr().is_terminal(),
            last: None,
            shown: false,
        }
    }

    /// Redraws the line with `text()`, unless it was drawn a moment ago.
    pub fn show(&mut self, text: impl FnOnce() -> String) {
        let every = std::time::Duration::from_millis(100);
        if !self.terminal || self.last.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.last = Some(std::time::Instant::now());
        self.shown = true;
        let mut err = std::io::stderr().lock();
        // Progress is a courtesy: a failed write must not stop the work.
        let _ = write!(err, "\r\x1b[K{}", text());
        let _ = err.flush();
    }

    /// Erases the line, so the summary or the error stands alone.
    pub fn clear(&mut self) {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_neutralised_but_text_stays() {
        let hostile = "ok\x1b]0;pwned\x07\x1b[2J\r\nline\ttab\u{202e}";
        let safe = terminal_safe(hostile);
        assert!(!safe.contains('\x1b') && !safe.contains('\x07') && !safe.contains('\r'));
        assert!(safe.contains("ok") && safe.contains("\nline\ttab"));
        assert!(matches!(terminal_safe("plain\ntext"), Cow::Borrowed(_)));
    }

    #[test]
    fn times_format_in_utc() {
        assert_eq!(format_time(0), "1970-01-01 00:00");
        assert_eq!(format_time(1_700_000_000_000), "2023-11-14 22:13");
        assert_eq!(format_time(951_782_400_000), "2000-02-29 00:00");
    }
}
