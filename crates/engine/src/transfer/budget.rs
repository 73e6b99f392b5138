//! What an import of another app's export may cost: limits on one JSON string, on one
//! conversation, and on what a zip may unpack to, so a hostile or damaged file cannot
//! make Hearth use gigabytes of memory or run for hours.
//!
//! The JSON limits are kept by [`JsonGuard`], a reader between the file and the JSON
//! parser. serde_json buffers a whole string before it hands it over, so a string must be
//! stopped while it is being read: the guard follows the JSON's strings byte by byte and
//! drops whatever a string holds beyond [`MAX_STRING_BYTES`] (the JSON stays valid), and
//! notes that it did, so the conversation holding it is refused by name instead of being
//! imported cut short. A conversation of more than [`MAX_CONVERSATION_BYTES`] stops the
//! read with an error.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// The longest JSON string (a title, a message, a code block) an import accepts, in
/// bytes as written in the file. The longest real messages are a few hundred KB (a
/// pasted file, a long code output); 16 MiB is far beyond any, and small enough that
/// holding one costs little.
pub const MAX_STRING_BYTES: u64 = 16 << 20;

/// The largest conversation an import accepts, in bytes of JSON. Real conversations,
/// every branch and tool output included, are a few MB; a larger one would need several
/// times its size in memory while it is converted.
pub const MAX_CONVERSATION_BYTES: u64 = 64 << 20;

/// What a zip may unpack to, in total over the entries an import reads: this floor…
pub const ZIP_INFLATE_FLOOR_BYTES: u64 = 32 << 20;

/// …plus this many times the zip file's own size. A data export's JSON compresses about
/// ten times, and the zip also holds images that do not compress at all, so real
/// exports stay far below; a zip bomb (a few hundred KB that unpack to gigabytes) does
/// not.
pub const ZIP_INFLATE_RATIO: u64 = 100;

/// The most bytes the entries of a zip of `zip_len` bytes may unpack to.
pub fn zip_inflate_budget(zip_len: u64) -> u64 {
    ZIP_INFLATE_FLOOR_BYTES.saturating_add(zip_len.saturating_mul(ZIP_INFLATE_RATIO))
}

/// Bytes read from the file at a time.
const READ_BUFFER: usize = 1 << 16;

/// What the guard saw, shared with the code driving the parser (one thread).
#[derive(Debug, Default)]
pub(crate) struct GuardState {
    /// Bytes handed to the parser so far, brought up to date each time the guard reads
    /// the file (so up to one buffer behind).
    pub(crate) passed: Cell<u64>,
    /// Strings cut short so far.
    pub(crate) cut: Cell<u64>,
    /// Where the conversation being read started (`passed` then), while one is read.
    pub(crate) conversation_start: Cell<Option<u64>>,
}

impl GuardState {
    /// Marks the start of a conversation; returns the count of cut strings, to compare
    /// with [`GuardState::cut_since`] when it ends.
    pub(crate) fn begin(&self) -> u64 {
        self.conversation_start.set(Some(self.passed.get()));
        self.cut.get()
    }

    /// Ends the conversation begun when `cut` was returned; whether a string in it was
    /// cut short.
    pub(crate) fn cut_since(&self, cut: u64) -> bool {
        self.conversation_start.set(None);
        self.cut.get() > cut
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Between strings.
    Outside,
    /// Inside a string.
    Inside,
    /// Just after a backslash inside a string.
    Escape,
    /// Inside a `\uXXXX` escape, with this many hex digits still to come.
    Unicode(u8),
    /// A string past the limit: everything up to its closing quote is dropped.
    Dropping,
    /// Dropping, just after a backslash.
    DroppingEscape,
}

/// A buffered reader that keeps [`MAX_STRING_BYTES`] and [`MAX_CONVERSATION_BYTES`];
/// see the module documentation.
pub(crate) struct JsonGuard<R> {
    inner: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    scan: Scan,
    /// Bytes of the current string so far.
    string_len: u64,
    /// Bytes handed over since [`GuardState::passed`] was last brought up to date.
    handed: u64,
    max_string: u64,
    state: Rc<GuardState>,
}

impl<R: Read> JsonGuard<R> {
    /// Guards `inner` with the standard limits.
    pub(crate) fn new(inner: R) -> (Self, Rc<GuardState>) {
        Self::with_limit(inner, MAX_STRING_BYTES)
    }

    /// Guards `inner`, cutting strings at `max_string` bytes.
    pub(crate) fn with_limit(inner: R, max_string: u64) -> (Self, Rc<GuardState>) {
        let state = Rc::new(GuardState::default());
        (
            JsonGuard {
                inner,
                buf: vec![0; READ_BUFFER].into_boxed_slice(),
                start: 0,
                end: 0,
                scan: Scan::Outside,
                string_len: 0,
                handed: 0,
                max_string,
                state: state.clone(),
            },
            state,
        )
    }

    /// Whether byte `b` is passed on, updating the scan.
    fn pass(&mut self, b: u8) -> bool {
        match self.scan {
            Scan::Outside => {
                if b == b'"' {
                    self.scan = Scan::Inside;
                    self.string_len = 0;
                }
                true
            }
            Scan::Inside => {
                if b == b'"' {
                    self.scan = Scan::Outside;
                    return true;
                }
                // Cut only where a character (and an escape) begins, so what is kept
                // is still valid UTF-8 and valid JSON.
                if self.string_len >= self.max_string && (b & 0xC0) != 0x80 {
                    self.state.cut.set(self.state.cut.get() + 1);
                    self.scan = if b == b'\\' {
                        Scan::DroppingEscape
                    } else {
                        Scan::Dropping
                    };
                    return false;
                }
                self.string_len += 1;
                if b == b'\\' {
                    self.scan = Scan::Escape;
                }
                true
            }
            Scan::Escape => {
                self.string_len += 1;
                self.scan = if b == b'u' {
                    Scan::Unicode(4)
                } else {
                    Scan::Inside
                };
                true
            }
            Scan::Unicode(left) => {
                self.string_len += 1;
                self.scan = if left <= 1 {
                    Scan::Inside
                } else {
                    Scan::Unicode(left - 1)
                };
                true
            }
            Scan::Dropping => {
                match b {
                    b'"' => {
                        self.scan = Scan::Outside;
                        return true;
                    }
                    b'\\' => self.scan = Scan::DroppingEscape,
                    _ => {}
                }
                false
            }
            Scan::DroppingEscape => {
                self.scan = Scan::Dropping;
                false
            }
        }
    }
}

impl<R: Read> JsonGuard<R> {
    /// Counts what was handed over since the last refill and keeps the conversation
    /// limit (checked once per buffer, so the parser's one-byte reads stay cheap).
    fn settle(&mut self) -> io::Result<()> {
        let passed = self.state.passed.get() + self.handed;
        self.handed = 0;
        self.state.passed.set(passed);
        if let Some(start) = self.state.conversation_start.get() {
            if passed.saturating_sub(start) > MAX_CONVERSATION_BYTES {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    TooLarge::Conversation,
                ));
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for JsonGuard<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < out.len() {
            if self.start == self.end {
                // Hand over what we have before blocking on the file again.
                if n > 0 {
                    break;
                }
                self.settle()?;
                self.start = 0;
                self.end = read_retrying(&mut self.inner, &mut self.buf)?;
                if self.end == 0 {
                    break;
                }
            }
            let b = self.buf[self.start];
            self.start += 1;
            if self.pass(b) {
                out[n] = b;
                n += 1;
            }
        }
        self.handed += n as u64;
        Ok(n)
    }
}

/// Why the guard stopped a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TooLarge {
    /// One conversation is more than [`MAX_CONVERSATION_BYTES`].
    #[error(
        "this conversation is more than {} MiB of JSON, far beyond any real one",
        MAX_CONVERSATION_BYTES >> 20
    )]
    Conversation,
    /// A zip unpacks to more than its budget.
    #[error("the zip unpacks to more than {budget} bytes (Hearth reads at most {} MiB plus {ZIP_INFLATE_RATIO} times the zip's size); it is damaged or a zip bomb", ZIP_INFLATE_FLOOR_BYTES >> 20)]
    Zip {
        /// The budget that was exceeded.
        budget: u64,
    },
}

/// The [`TooLarge`] inside an I/O error, if that is what stopped a read.
pub(crate) fn too_large(e: &io::Error) -> Option<TooLarge> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<TooLarge>())
        .copied()
}

/// A reader of zip entries that shares one budget of unpacked bytes: more is an error.
pub(crate) struct Inflated<R> {
    pub(crate) inner: R,
    pub(crate) left: Rc<Cell<u64>>,
    pub(crate) budget: u64,
}

impl<R: Read> Read for Inflated<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)? as u64;
        let left = self.left.get();
        if n > left {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                TooLarge::Zip {
                    budget: self.budget,
                },
            ));
        }
        self.left.set(left - n);
        Ok(n as usize)
    }
}

/// One `read`, tried again when a signal interrupted it.
pub(crate) fn read_retrying<R: Read>(inner: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match inner.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn guard(text: &str, limit: u64) -> (String, u64) {
        let (mut g, state) = JsonGuard::with_limit(text.as_bytes(), limit);
        let mut out = String::new();
        g.read_to_string(&mut out).unwrap();
        (out, state.cut.get())
    }

    #[test]
    fn strings_past_the_limit_are_cut_and_counted_and_the_json_stays_valid() {
        assert_eq!(
            guard(r#"{"a":"short","b":[1,2]}"#, 5),
            (r#"{"a":"short","b":[1,2]}"#.into(), 0)
        );
        let (out, cut) = guard(r#"{"a":"0123456789","b":"ok"}"#, 4);
        assert_eq!((out.as_str(), cut), (r#"{"a":"0123","b":"ok"}"#, 1));
        // Escapes, quotes inside strings, and multi-byte characters are never split.
        let (out, cut) = guard(r#"["ab\"cd\u00e9fgh", "x"]"#, 3);
        assert_eq!((out.as_str(), cut), (r#"["ab\"", "x"]"#, 1));
        let (out, _) = guard(r#"["ab\u00e9fgh"]"#, 3);
        assert_eq!(out, r#"["ab\u00e9"]"#);
        let (out, _) = guard("[\"aéééé\"]", 2);
        assert_eq!(out, "[\"aé\"]");
        let (out, _) = guard(r#"["aaaa\\", "b"]"#, 2);
        assert_eq!(out, r#"["aa", "b"]"#);
        serde_json::from_str::<serde_json::Value>(&out).unwrap();
    }
}
