//! Printing: JSON for scripts, plain text for people, and model text made harmless for
//! terminals.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::sync::LazyLock;

use anyhow::Result;
use serde::Serialize;

/// Whether a character could drive a terminal or disguise what is printed: C0 controls
/// other than newline and tab, DEL, C1 controls (U+0080–U+009F, which some terminals
/// read as escape sequences), and the bidirectional controls that reorder text on screen
/// (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C).
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// Replaces every character that could drive a terminal (see [`is_unsafe`]) with U+FFFD,
/// so that text a model, a provider or an import wrote cannot move the cursor, retitle
/// the window, recolour it, or reorder what is shown. Newlines and tabs stay.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if is_unsafe(c) { '\u{fffd}' } else { c })
            .collect(),
    )
}

/// JSON for a terminal: the same data, with every unsafe character written as a
/// `\uXXXX` escape. serde_json already escapes C0 controls; C1, DEL and bidirectional
/// controls can only occur inside strings, where an escape means the same character.
fn escape_json_for_terminal(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_unsafe) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_unsafe(c) {
            // Every unsafe character is in the Basic Multilingual Plane: one escape.
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

static STDOUT_IS_TERMINAL: LazyLock<bool> = LazyLock::new(|| std::io::stdout().is_terminal());
static STDERR_IS_TERMINAL: LazyLock<bool> = LazyLock::new(|| std::io::stderr().is_terminal());

/// Whether standard output is a terminal (then text from the vault or a provider is
/// neutralised).
pub fn stdout_is_terminal() -> bool {
    *STDOUT_IS_TERMINAL
}

/// The one way text reaches standard output: neutralised on a terminal, untouched in a
/// pipe (so `hearth show ID > file` keeps the text exactly). A closed pipe comes back as
/// an `io::Error` of kind `BrokenPipe`, which `main` turns into a quiet exit.
pub fn print_text(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if stdout_is_terminal() {
        out.write_all(terminal_safe(text).as_bytes())?;
    } else {
        out.write_all(text.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

/// Writes text that is already safe (neutralised pieces with Hearth's own highlighting
/// around them) to standard output unchanged.
pub fn print_marked(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The one way messages reach standard error: neutralised when stderr is a terminal.
/// A failed write to stderr is ignored, since there is nowhere left to say so.
pub fn eprint_text(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = if *STDERR_IS_TERMINAL {
        err.write_all(terminal_safe(text).as_bytes())
    } else {
        err.write_all(text.as_bytes())
    };
}

/// `println!` through [`print_text`]; evaluates to its `Result`.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::print_text(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` through [`eprint_text`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::eprint_text(&format!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, outln};

/// Prints a value as pretty JSON and a newline. On a terminal, unsafe characters inside
/// strings are written as `\uXXXX` escapes: valid JSON carrying the same data.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    if stdout_is_terminal() {
        text = escape_json_for_terminal(&text).into_owned();
    }
    text.push('\n');
    print_marked(&text)
}

/// Whether an error chain ends in a closed output pipe (`hearth show ID | head`): then
/// the reader has what it wanted and Hearth stops quietly, as other Unix tools do.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
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
    fn every_bidi_and_c1_control_is_neutralised() {
        let controls = [
            '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{061c}', '\u{0080}', '\u{009b}',
            '\u{009d}', '\u{009f}', '\u{007f}',
        ];
        for c in controls {
            let text = format!("a{c}b");
            assert_eq!(terminal_safe(&text), "a\u{fffd}b", "U+{:04X}", u32::from(c));
        }
        // Ordinary non-Latin text, emoji and joiners pass untouched.
        let fine = "한국어 עברית العربية 👩\u{200d}💻 e\u{301}";
        assert!(matches!(terminal_safe(fine), Cow::Borrowed(_)));
    }

    #[test]
    fn terminal_json_escapes_controls_and_stays_the_same_data() {
        let value =
            serde_json::json!({ "id": "x\u{1b}]0;t\u{7}\u{9b}31m\u{202e}\u{2066}y", "n": "ok" });
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        let shown = escape_json_for_terminal(&pretty);
        assert!(!shown.chars().any(is_unsafe), "{shown}");
        assert!(
            shown.contains("\\u009b") && shown.contains("\\u202e"),
            "{shown}"
        );
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn times_format_in_utc() {
        assert_eq!(format_time(0), "1970-01-01 00:00");
        assert_eq!(format_time(1_700_000_000_000), "2023-11-14 22:13");
        assert_eq!(format_time(951_782_400_000), "2000-02-29 00:00");
    }
}
