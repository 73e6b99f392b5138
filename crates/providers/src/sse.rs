//! Server-sent events: one byte-level decoder shared by every wire protocol.
//!
//! The decoder follows the WHATWG event-stream interpretation the way the official SDKs
//! apply it (PROTOCOLS.md §0.1):
//!
//! - Lines are split on the bytes `\r\n`, `\n` and `\r` only (never on U+2028/U+2029), and
//!   a `\r\n` torn across two chunks is still one line end.
//! - A line is decoded as UTF-8 only once it is complete, so a character torn across
//!   chunks survives; invalid bytes become U+FFFD instead of failing the stream.
//! - A blank line dispatches the pending event if it has data, an event name or an id.
//!   Like openai-python (and unlike the spec), `event: ping` with no data is dispatched,
//!   with empty data; consumers treat empty data as a no-op.
//! - At end of stream, `finish` processes an unterminated last line and flushes an event
//!   that had data but no blank line after it, as python-genai does.
//!
//! The decoder never fails on content. Its two errors guard memory against a hostile or
//! broken server: a line that grows past [`MAX_LINE_BYTES`] (a server that never ends a
//! line), and an event whose joined `data:` lines grow past [`MAX_EVENT_BYTES`] (a server
//! that never sends the blank line ending an event). Either way the decoder holds at most
//! one capped line plus one capped event, however long the stream runs.

use std::mem;

use memchr::{memchr, memchr2};

/// The longest line, in bytes without its terminator, that the decoder accepts.
///
/// Real events are a few KiB at most (a large tool call or a base64 image may reach a few
/// MiB), so 16 MiB leaves ample room while keeping a runaway stream from exhausting memory.
/// The limit applies to every line however the stream is chunked, so whether a stream is
/// accepted never depends on how the network split it.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// The most data one event may carry, in bytes: its `data:` lines joined with `\n`.
///
/// Without it, a server sending `data:` lines and never the blank line that ends an event
/// would grow the pending event without bound (each line below [`MAX_LINE_BYTES`], the
/// sum unlimited). 16 MiB is the line limit again: no real event comes near it.
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// Above this capacity the partial-line buffer is released once its line is done, so one
/// huge line does not pin its memory for the rest of the stream.
const KEEP_PARTIAL_CAPACITY: usize = 64 * 1024;

/// The UTF-8 byte order mark, stripped once at the very start of a stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` name, if the event had one.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n` (empty for an event with no data).
    pub data: String,
    /// The `id:` value, if any.
    ///
    /// This is the stream's last event id: once a server sends an id, every later event
    /// carries it until another `id:` line replaces it (an empty `id:` clears it).
    pub id: Option<String>,
}

/// What the decoder yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    /// A complete event.
    Event(SseEvent),
    /// A comment line (`: keep-alive`): no content, but proof the server is alive.
    Comment,
}

/// Why decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// A single line grew past the limit without a line end.
    #[error("a server-sent event line exceeded {0} bytes")]
    LineTooLong(usize),
    /// One event's data grew past the limit without the blank line that ends it.
    #[error("a server-sent event's data exceeded {0} bytes")]
    EventTooLarge(usize),
}

/// Incremental decoder: feed it network chunks in order, then call `finish` at EOF.
///
/// The items produced never depend on how the stream was split into chunks: feeding it
/// whole or one byte at a time yields the same items in the same order.
#[derive(Debug)]
pub struct SseDecoder {
    /// The start of a line whose terminator has not arrived yet.
    partial: Vec<u8>,
    /// The last chunk ended in `\r`: a `\n` opening the next chunk completes that line end.
    skip_lf: bool,
    /// A line overflowed [`MAX_LINE_BYTES`] or an event [`MAX_EVENT_BYTES`]. The stream
    /// cannot be resynchronised after that, so every later call fails with the same error
    /// and `finish` flushes nothing.
    failed: Option<SseError>,
    /// What the complete lines so far have built up.
    fields: FieldState,
}

/// The per-line half of the decoder: interprets complete lines and builds events.
///
/// Kept apart from the line buffer so a line borrowed from that buffer can be interpreted
/// without copying it.
#[derive(Debug)]
struct FieldState {
    /// No line has been interpreted yet, so a leading byte order mark is still to be
    /// stripped. A BOM holds no line-end byte, so it always lies within the first line.
    at_stream_start: bool,
    /// The pending `event:` name.
    event: Option<String>,
    /// The pending `data:` lines, already joined with `\n`.
    data: String,
    /// At least one `data` line arrived since the last dispatch (its value may be empty).
    has_data: bool,
    /// An `id` line arrived since the last dispatch, which makes the event worth sending.
    has_id: bool,
    /// The last event id, kept across events.
    last_id: Option<String>,
}

impl Default for SseDecoder {
    fn default() -> Self {
        SseDecoder {
            partial: Vec::new(),
            skip_lf: false,
            failed: None,
            fields: FieldState {
                at_stream_start: true,
                event: None,
                data: String::new(),
                has_data: false,
                has_id: false,
                last_id: None,
            },
        }
    }
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        SseDecoder::default()
    }

    /// Decodes `chunk`, appending every item it completes to `out`.
    ///
    /// On error the items completed before the offending line are still in `out`; the
    /// stream is unusable afterwards, and later calls return the same error.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseItem>) -> Result<(), SseError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let mut rest = chunk;
        if self.skip_lf {
            if let Some((&first, tail)) = rest.split_first() {
                self.skip_lf = false;
                if first == b'\n' {
                    rest = tail;
                }
            }
        }
        while let Some(end) = memchr2(b'\n', b'\r', rest) {
            let next = if rest[end] == b'\n' {
                end + 1
            } else {
                match rest.get(end + 1) {
                    Some(b'\n') => end + 2,
                    Some(_) => end + 1,
                    None => {
                        self.skip_lf = true;
                        end + 1
                    }
                }
            };
            if self.partial.is_empty() {
                // The common case: the whole line is in this chunk, so no copy is needed.
                self.check_line_len(end)?;
                let line = self.fields.line(&rest[..end], out);
                self.check_event(line)?;
            } else {
                self.check_line_len(self.partial.len() + end)?;
                self.partial.extend_from_slice(&rest[..end]);
                let line = self.fields.line(&self.partial, out);
                self.check_event(line)?;
                if self.partial.capacity() > KEEP_PARTIAL_CAPACITY {
                    self.partial = Vec::new();
                } else {
                    self.partial.clear();
                }
            }
            rest = &rest[next..];
        }
        if !rest.is_empty() {
            self.check_line_len(self.partial.len() + rest.len())?;
            self.partial.extend_from_slice(rest);
        }
        Ok(())
    }

    /// At end of stream: flushes a pending event that had no blank line after it.
    ///
    /// An unterminated last line is interpreted first. Only an event with data is flushed;
    /// a lone `event:` or `id:` with nothing after it is dropped. Afterwards the decoder is
    /// back at the start of a new stream.
    pub fn finish(&mut self, out: &mut Vec<SseItem>) {
        if self.failed.is_none() {
            let last = if self.partial.is_empty() {
                Ok(())
            } else {
                self.fields.line(&self.partial, out)
            };
            // An over-large last event is dropped, as it would have failed mid-stream.
            if last.is_ok() && self.fields.has_data {
                self.fields.dispatch(out);
            }
        }
        *self = SseDecoder::new();
    }

    /// Fails the stream if a line of `len` bytes (so far) is over the limit.
    fn check_line_len(&mut self, len: usize) -> Result<(), SseError> {
        if len > MAX_LINE_BYTES {
            return self.fail(SseError::LineTooLong(MAX_LINE_BYTES));
        }
        Ok(())
    }

    /// Fails the stream if interpreting a line overflowed the pending event.
    fn check_event(&mut self, line: Result<(), SseError>) -> Result<(), SseError> {
        line.or_else(|e| self.fail(e))
    }

    /// Marks the stream failed and lets go of everything it was holding.
    fn fail(&mut self, error: SseError) -> Result<(), SseError> {
        self.failed = Some(error.clone());
        self.partial = Vec::new();
        self.fields.data = String::new();
        self.fields.has_data = false;
        Err(error)
    }
}

impl FieldState {
    /// Interprets one complete line, without its terminator. Fails only when a `data:`
    /// line would take the pending event past [`MAX_EVENT_BYTES`].
    fn line(&mut self, mut line: &[u8], out: &mut Vec<SseItem>) -> Result<(), SseError> {
        if self.at_stream_start {
            self.at_stream_start = false;
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        let Some(&first) = line.first() else {
            self.dispatch(out);
            return Ok(());
        };
        if first == b':' {
            out.push(SseItem::Comment);
            return Ok(());
        }
        // Splitting the bytes before decoding is safe: `:` and ` ` are ASCII, and UTF-8
        // (lossy or not) never folds an ASCII byte into another character.
        let (name, value) = match memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match name {
            b"data" => {
                // Checked before growing, and again after: invalid UTF-8 grows as it is
                // replaced, but never by more than this one line.
                let separator = usize::from(self.has_data);
                if self.data.len() + separator + value.len() > MAX_EVENT_BYTES {
                    return Err(SseError::EventTooLarge(MAX_EVENT_BYTES));
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.has_data = true;
                push_utf8(&mut self.data, value);
                if self.data.len() > MAX_EVENT_BYTES {
                    return Err(SseError::EventTooLarge(MAX_EVENT_BYTES));
                }
            }
            b"event" => {
                self.event = if value.is_empty() {
                    None
                } else {
                    let mut name = String::with_capacity(value.len());
                    push_utf8(&mut name, value);
                    Some(name)
                };
            }
            // The spec ignores an id containing NUL: it could not be sent back in a
            // `Last-Event-ID` header.
            b"id" if memchr(0, value).is_none() => {
                if value.is_empty() {
                    self.last_id = None;
                } else {
                    let mut id = String::with_capacity(value.len());
                    push_utf8(&mut id, value);
                    self.last_id = Some(id);
                    self.has_id = true;
                }
            }
            // `retry` sets a reconnection delay; Hearth never reconnects a stream, so it
            // is ignored like any unknown field.
            _ => {}
        }
        Ok(())
    }

    /// The blank-line rule: sends the pending event if it has anything in it, then starts
    /// a new one (the last id carries over).
    fn dispatch(&mut self, out: &mut Vec<SseItem>) {
        if self.has_data || self.event.is_some() || self.has_id {
            out.push(SseItem::Event(SseEvent {
                event: self.event.take(),
                data: mem::take(&mut self.data),
                id: self.last_id.clone(),
            }));
        }
        self.event = None;
        self.data.clear();
        self.has_data = false;
        self.has_id = false;
    }
}

/// Appends `bytes` decoded as UTF-8, replacing invalid sequences with U+FFFD.
fn push_utf8(into: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => into.push_str(text),
        Err(_) => into.push_str(&String::from_utf8_lossy(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `chunks` in order, then finishes the stream.
    fn decode(chunks: &[&[u8]]) -> Vec<SseItem> {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.feed(chunk, &mut out).unwrap();
        }
        decoder.finish(&mut out);
        out
    }

    fn event(name: Option<&str>, data: &str) -> SseItem {
        SseItem::Event(SseEvent {
            event: name.map(str::to_owned),
            data: data.to_owned(),
            id: None,
        })
    }

    fn event_with_id(name: Option<&str>, data: &str, id: &str) -> SseItem {
        SseItem::Event(SseEvent {
            event: name.map(str::to_owned),
            data: data.to_owned(),
            id: Some(id.to_owned()),
        })
    }

    // Ported from openai-python tests/test_streaming.py.

    #[test]
    fn basic_event_with_name_and_data() {
        let items = decode(&[b"event: completion\n", b"data: {\"foo\":true}\n", b"\n"]);
        assert_eq!(items, [event(Some("completion"), "{\"foo\":true}")]);
    }

    #[test]
    fn data_without_event_name() {
        let items = decode(&[b"data: {\"foo\":true}\n", b"\n"]);
        assert_eq!(items, [event(None, "{\"foo\":true}")]);
    }

    #[test]
    fn event_without_data_is_dispatched_with_empty_data() {
        let items = decode(&[b"event: ping\n", b"\n"]);
        assert_eq!(items, [event(Some("ping"), "")]);
    }

    #[test]
    fn several_events_without_data() {
        let items = decode(&[b"event: ping\n", b"\n", b"event: completion\n", b"\n"]);
        assert_eq!(
            items,
            [event(Some("ping"), ""), event(Some("completion"), "")]
        );
    }

    #[test]
    fn several_events_with_data() {
        let items = decode(&[
            b"event: ping\n",
            b"data: {\"foo\":true}\n",
            b"\n",
            b"event: completion\n",
            b"data: {\"bar\":false}\n",
            b"\n",
        ]);
        assert_eq!(
            items,
            [
                event(Some("ping"), "{\"foo\":true}"),
                event(Some("completion"), "{\"bar\":false}"),
            ]
        );
    }

    #[test]
    fn data_lines_are_joined_with_newlines_including_empty_ones() {
        let items = decode(&[
            b"event: ping\n",
            b"data: {\n",
            b"data: \"foo\":\n",
            b"data: \n",
            b"data:\n",
            b"data: true}\n",
            b"\n\n",
        ]);
        assert_eq!(items, [event(Some("ping"), "{\n\"foo\":\n\n\ntrue}")]);
    }

    #[test]
    fn multiple_data_lines_make_one_event() {
        let items = decode(&[
            b"event: ping\n",
            b"data: {\n",
            b"data: \"foo\":\n",
            b"data: true}\n",
            b"\n\n",
        ]);
        assert_eq!(items, [event(Some("ping"), "{\n\"foo\":\ntrue}")]);
    }

    #[test]
    fn escaped_blank_line_inside_json_string_does_not_split_the_event() {
        let items = decode(&[
            b"event: ping\n",
            b"data: {\"foo\": \"my long\\n\\ncontent\"}",
            b"\n\n",
        ]);
        assert_eq!(
            items,
            [event(Some("ping"), r#"{"foo": "my long\n\ncontent"}"#)]
        );
    }

    #[test]
    fn line_separator_u2028_inside_data_is_not_a_line_end() {
        let items = decode(&[
            b"data: {\"content\":\" culpa\"}\n",
            b"\n",
            b"data: {\"content\":\" \xe2\x80\xa8\"}\n",
            b"\n",
            b"data: {\"content\":\"foo\"}\n",
            b"\n",
        ]);
        assert_eq!(
            items,
            [
                event(None, "{\"content\":\" culpa\"}"),
                event(None, "{\"content\":\" \u{2028}\"}"),
                event(None, "{\"content\":\"foo\"}"),
            ]
        );
    }

    #[test]
    fn paragraph_separator_u2029_inside_data_is_not_a_line_end() {
        let items = decode(&[b"data: a\xe2\x80\xa9b\n\n"]);
        assert_eq!(items, [event(None, "a\u{2029}b")]);
    }

    #[test]
    fn multi_byte_character_split_across_chunks_survives() {
        let items = decode(&[
            b"data: {\"content\":\"",
            b"\xd0",
            b"\xb8\xd0\xb7\xd0",
            b"\xb2\xd0\xb5\xd1\x81\xd1\x82\xd0\xbd\xd0\xb8",
            b"\"}\n",
            b"\n",
        ]);
        assert_eq!(items, [event(None, "{\"content\":\"известни\"}")]);
    }

    // The rest of PROTOCOLS.md §0.1.

    #[test]
    fn crlf_split_across_chunks_is_one_line_end() {
        // Read as two line ends, the `\r` `\n` pair would be a blank line and split the
        // event in two.
        let items = decode(&[b"data: a\r", b"\ndata: b\r\n\r", b"\n"]);
        assert_eq!(items, [event(None, "a\nb")]);
    }

    #[test]
    fn empty_chunk_between_cr_and_lf_keeps_them_one_line_end() {
        let items = decode(&[b"data: a\r", b"", b"\ndata: b\r\n\r\n"]);
        assert_eq!(items, [event(None, "a\nb")]);
    }

    #[test]
    fn cr_only_line_ends() {
        let items = decode(&[b"event: delta\rdata: one\rdata: two\r\rdata: three\r\r"]);
        assert_eq!(
            items,
            [event(Some("delta"), "one\ntwo"), event(None, "three")]
        );
    }

    #[test]
    fn cr_then_lf_after_a_line_end_is_still_a_blank_line() {
        // `\n` `\r` `\n`: a line end, then `\r\n` is a blank line.
        let items = decode(&[b"data: x\n\r\n", b"data: y\n\n"]);
        assert_eq!(items, [event(None, "x"), event(None, "y")]);
    }

    #[test]
    fn comments_are_reported_and_do_not_disturb_events() {
        let items = decode(&[b": keep-alive\n\n", b"data: a\n:inside\ndata: b\n\n"]);
        assert_eq!(
            items,
            [SseItem::Comment, SseItem::Comment, event(None, "a\nb")]
        );
    }

    #[test]
    fn data_without_space_after_colon_and_only_one_space_stripped() {
        let items = decode(&[b"data:{\"a\":1}\n\n", b"data:  two\n\n"]);
        assert_eq!(items, [event(None, "{\"a\":1}"), event(None, " two")]);
    }

    #[test]
    fn value_keeps_later_colons() {
        let items = decode(&[b"data: a: b:c\n\n"]);
        assert_eq!(items, [event(None, "a: b:c")]);
    }

    #[test]
    fn field_name_without_colon_has_empty_value() {
        let items = decode(&[b"data\n\n", b"data\ndata\n\n"]);
        assert_eq!(items, [event(None, ""), event(None, "\n")]);
    }

    #[test]
    fn unknown_fields_and_retry_are_ignored() {
        let items = decode(&[b"retry: 1000\nfoo: bar\nDATA: shouted\n\n", b"data: x\n\n"]);
        assert_eq!(items, [event(None, "x")]);
    }

    #[test]
    fn bom_at_stream_start_is_stripped() {
        let items = decode(&[b"\xEF\xBB\xBFdata: x\n\n"]);
        assert_eq!(items, [event(None, "x")]);
    }

    #[test]
    fn bom_split_across_chunks_is_stripped() {
        let items = decode(&[b"\xEF", b"\xBB", b"\xBFevent: e\n", b"data: x\n\n"]);
        assert_eq!(items, [event(Some("e"), "x")]);
    }

    #[test]
    fn bom_after_stream_start_is_kept() {
        // Only the stream's first bytes can be a BOM; later it is part of the field name,
        // which then matches nothing.
        let items = decode(&[b"data: x\n\n\xEF\xBB\xBFdata: y\n\n"]);
        assert_eq!(items, [event(None, "x")]);
    }

    #[test]
    fn finish_flushes_data_without_blank_line() {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        decoder
            .feed(b"data: one\n\ndata: last\n", &mut out)
            .unwrap();
        assert_eq!(out, [event(None, "one")]);
        decoder.finish(&mut out);
        assert_eq!(out, [event(None, "one"), event(None, "last")]);
    }

    #[test]
    fn finish_interprets_an_unterminated_last_line() {
        let items = decode(&[b"data: a\n", b"data: b"]);
        assert_eq!(items, [event(None, "a\nb")]);
    }

    #[test]
    fn finish_drops_an_event_name_without_data() {
        let items = decode(&[b"data: x\n\nevent: ping\n"]);
        assert_eq!(items, [event(None, "x")]);
    }

    #[test]
    fn finish_starts_a_new_stream() {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        decoder.feed(b"id: 7\ndata: a", &mut out).unwrap();
        decoder.finish(&mut out);
        decoder.feed(b"\xEF\xBB\xBFdata: b\n\n", &mut out).unwrap();
        assert_eq!(out, [event_with_id(None, "a", "7"), event(None, "b")]);
    }

    #[test]
    fn id_is_kept_across_events_and_an_id_with_nul_is_ignored() {
        let items = decode(&[
            b"id: 1\ndata: a\n\n",
            b"data: b\n\n",
            b"id: x\0y\ndata: c\n\n",
            b"id: 2\n\n",
            b"id\ndata: d\n\n",
        ]);
        assert_eq!(
            items,
            [
                event_with_id(None, "a", "1"),
                event_with_id(None, "b", "1"),
                event_with_id(None, "c", "1"),
                event_with_id(None, "", "2"),
                event(None, "d"),
            ]
        );
    }

    #[test]
    fn blank_lines_alone_dispatch_nothing() {
        let items = decode(&[b"\n\n\r\n\r\r"]);
        assert_eq!(items, []);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let items = decode(&[b"event: \xff\n", b"data: \xf0\x9f\x98 ok\xc3\n\n"]);
        assert_eq!(items, [event(Some("\u{FFFD}"), "\u{FFFD} ok\u{FFFD}")]);
    }

    #[test]
    fn a_character_torn_at_the_end_of_the_stream_is_replaced() {
        let items = decode(&[b"data: \xd0"]);
        assert_eq!(items, [event(None, "\u{FFFD}")]);
    }

    #[test]
    fn line_at_the_limit_is_accepted_and_one_byte_more_is_refused() {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        let prefix = b"data: ";
        let filler = vec![b'a'; 1024 * 1024];
        decoder.feed(prefix, &mut out).unwrap();
        let mut len = prefix.len();
        while len + filler.len() <= MAX_LINE_BYTES {
            decoder.feed(&filler, &mut out).unwrap();
            len += filler.len();
        }
        decoder
            .feed(&filler[..MAX_LINE_BYTES - len], &mut out)
            .unwrap();
        decoder.feed(b"\n\n", &mut out).unwrap();
        let [SseItem::Event(accepted)] = out.as_slice() else {
            panic!("expected one event, got {} items", out.len());
        };
        assert_eq!(accepted.data.len(), MAX_LINE_BYTES - prefix.len());

        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        decoder.feed(b"data: ok\n\n", &mut out).unwrap();
        decoder.feed(prefix, &mut out).unwrap();
        let mut result = Ok(());
        let mut fed = prefix.len();
        while result.is_ok() && fed <= MAX_LINE_BYTES {
            result = decoder.feed(&filler, &mut out);
            fed += filler.len();
        }
        assert_eq!(result, Err(SseError::LineTooLong(MAX_LINE_BYTES)));
        assert_eq!(out, [event(None, "ok")]);
        // The stream stays failed: no resynchronising on the next line end.
        assert_eq!(
            decoder.feed(b"\n\ndata: late\n\n", &mut out),
            Err(SseError::LineTooLong(MAX_LINE_BYTES))
        );
        decoder.finish(&mut out);
        assert_eq!(out, [event(None, "ok")]);
    }

    #[test]
    fn an_over_long_line_inside_one_chunk_is_refused_too() {
        let mut stream = b"data: ok\n\ndata: ".to_vec();
        stream.resize(stream.len() + MAX_LINE_BYTES, b'a');
        stream.extend_from_slice(b"\n\n");
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        assert_eq!(
            decoder.feed(&stream, &mut out),
            Err(SseError::LineTooLong(MAX_LINE_BYTES))
        );
        assert_eq!(out, [event(None, "ok")]);
    }

    #[test]
    fn data_lines_without_a_blank_line_stop_at_the_event_limit() {
        // A hostile server: 1 MiB `data:` lines, each well under the line limit, and never
        // the blank line that would end the event.
        let mut line = b"data: ".to_vec();
        line.resize(line.len() + 1024 * 1024, b'x');
        line.push(b'\n');
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        decoder.feed(b"data: ok\n\n", &mut out).unwrap();
        let mut result = Ok(());
        let mut lines = 0;
        while result.is_ok() {
            result = decoder.feed(&line, &mut out);
            lines += 1;
            // What the pending event holds never passes the limit.
            assert!(decoder.fields.data.len() <= MAX_EVENT_BYTES);
            assert!(lines <= 17, "no error after {lines} MiB");
        }
        assert_eq!(result, Err(SseError::EventTooLarge(MAX_EVENT_BYTES)));
        assert_eq!(
            lines, 16,
            "15 lines of 1 MiB fit with their separators, 16 do not"
        );
        assert_eq!(out, [event(None, "ok")]);
        // The data is let go, and the stream stays failed.
        assert_eq!(decoder.fields.data.capacity(), 0);
        assert_eq!(
            decoder.feed(b"\n\n", &mut out),
            Err(SseError::EventTooLarge(MAX_EVENT_BYTES))
        );
        decoder.finish(&mut out);
        assert_eq!(out, [event(None, "ok")]);

        // The same stream in one piece, and its end arriving at EOF, fail the same way.
        let mut stream = Vec::new();
        for _ in 0..16 {
            stream.extend_from_slice(&line);
        }
        assert_eq!(
            SseDecoder::new().feed(&stream, &mut Vec::new()),
            Err(SseError::EventTooLarge(MAX_EVENT_BYTES))
        );
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        decoder.feed(&stream[..15 * line.len()], &mut out).unwrap();
        decoder.feed(&line[..line.len() - 1], &mut out).unwrap();
        decoder.finish(&mut out);
        assert!(out.is_empty(), "an over-large last event is not flushed");
    }

    // Split invariance: however the network chunks a stream, the items are the same.

    /// An OpenAI Chat Completions stream (PROTOCOLS.md §1.2/§1.3): content deltas with a
    /// non-ASCII word and a U+2028, a usage chunk with empty `choices`, then `[DONE]`.
    const OPENAI_STREAM: &[u8] = b"data: {\"id\":\"chatcmpl-A1\",\"object\":\"chat.completion.chunk\",\"created\":1722000000,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_48196bc67a\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n\
data: {\"id\":\"chatcmpl-A1\",\"object\":\"chat.completion.chunk\",\"created\":1722000000,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_48196bc67a\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Caf\xc3\xa9 \xd0\xb8\xd0\xb7 \xf0\x9f\x94\xa5\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n\
data: {\"id\":\"chatcmpl-A1\",\"object\":\"chat.completion.chunk\",\"created\":1722000000,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_48196bc67a\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" line\xe2\x80\xa8sep\\n\\nend\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n\
data: {\"id\":\"chatcmpl-A1\",\"object\":\"chat.completion.chunk\",\"created\":1722000000,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_48196bc67a\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n\
: keep-alive\n\n\
data: {\"id\":\"chatcmpl-A1\",\"object\":\"chat.completion.chunk\",\"created\":1722000000,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_48196bc67a\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5,\"total_tokens\":17,\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n\
data: [DONE]\n\n";

    /// An Anthropic Messages stream (PROTOCOLS.md §3.2): `event:` lines, a ping and a
    /// content block with a thinking delta.
    const ANTHROPIC_STREAM: &[u8] = b"event: message_start\n\
data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n\
event: content_block_start\n\
data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n\
event: ping\n\
data: {\"type\": \"ping\"}\n\n\
event: content_block_delta\n\
data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Gr\xc3\xbc\xc3\x9fe \xe2\x80\x94 hmm\"}}\n\n\
event: content_block_stop\n\
data: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
event: message_delta\n\
data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n\
event: message_stop\n\
data: {\"type\":\"message_stop\"      }\n\n";

    /// A Gemini `streamGenerateContent?alt=sse` stream (PROTOCOLS.md §4.2), framed with
    /// `\r\n\r\n`, whose last event has no blank line after it.
    const GEMINI_STREAM: &[u8] = b"data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hallo \xe4\xb8\x96\xe7\x95\x8c\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 8,\"totalTokenCount\": 8},\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n\
data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"!\\r\\n\"}],\"role\": \"model\"},\"index\": 0}],\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n\
data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 8,\"candidatesTokenCount\": 3,\"totalTokenCount\": 11},\"modelVersion\": \"gemini-2.5-flash\"}\r\n";

    /// The data of every event, to check the one-piece decoding before comparing splits.
    fn event_datas(items: &[SseItem]) -> Vec<(Option<&str>, &str)> {
        items
            .iter()
            .filter_map(|item| match item {
                SseItem::Event(e) => Some((e.event.as_deref(), e.data.as_str())),
                SseItem::Comment => None,
            })
            .collect()
    }

    fn assert_split_invariant(stream: &[u8], whole: &[SseItem]) {
        for at in 0..=stream.len() {
            let (head, tail) = stream.split_at(at);
            assert_eq!(decode(&[head, tail]), whole, "split at byte {at}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(decode(&bytes), whole, "byte by byte");
        // Deterministic pseudo-random chunkings, for splits at several points at once.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..200 {
            let mut chunks = Vec::new();
            let mut rest = stream;
            while !rest.is_empty() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let len = (state % 24) as usize;
                let (chunk, after) = rest.split_at(len.min(rest.len()));
                chunks.push(chunk);
                rest = after;
            }
            assert_eq!(decode(&chunks), whole, "random chunking {round}");
        }
    }

    #[test]
    fn openai_stream_is_split_invariant() {
        let whole = decode(&[OPENAI_STREAM]);
        let datas = event_datas(&whole);
        assert_eq!(datas.len(), 6);
        assert!(datas.iter().all(|(name, _)| name.is_none()));
        assert!(datas[1].1.contains("\"Café из 🔥\""));
        assert!(datas[2].1.contains("\" line\u{2028}sep\\n\\nend\""));
        assert!(datas[4].1.contains("\"total_tokens\":17"));
        assert_eq!(datas[5].1, "[DONE]");
        assert_eq!(whole.iter().filter(|i| **i == SseItem::Comment).count(), 1);
        assert_split_invariant(OPENAI_STREAM, &whole);
    }

    #[test]
    fn anthropic_stream_is_split_invariant() {
        let whole = decode(&[ANTHROPIC_STREAM]);
        let names: Vec<_> = event_datas(&whole)
            .iter()
            .map(|(name, _)| name.unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "message_start",
                "content_block_start",
                "ping",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop",
            ]
        );
        assert_eq!(event_datas(&whole)[2].1, "{\"type\": \"ping\"}");
        assert!(event_datas(&whole)[3].1.contains("Grüße — hmm"));
        assert_split_invariant(ANTHROPIC_STREAM, &whole);
    }

    #[test]
    fn gemini_stream_is_split_invariant() {
        let whole = decode(&[GEMINI_STREAM]);
        let datas = event_datas(&whole);
        assert_eq!(datas.len(), 3);
        assert!(datas[0].1.contains("Hallo 世界"));
        assert!(datas[1].1.contains("\"!\\r\\n\""));
        assert!(datas[2]
            .1
            .ends_with("\"modelVersion\": \"gemini-2.5-flash\"}"));
        assert_split_invariant(GEMINI_STREAM, &whole);
    }

    #[test]
    fn edge_cases_are_split_invariant() {
        // A BOM, CR-only and CRLF line ends, comments, ids, torn characters and an
        // unterminated last line, all in one stream.
        let stream: &[u8] = b"\xEF\xBB\xBFid: 1\revent: a\r\ndata:x\xd0\xb8\r\r\n: c\n\
data\ndata: \xe2\x80\xa8\r\n\r\nid: \0\nevent: ping\n\n\xffdata: y\r\rdata: z";
        let whole = decode(&[stream]);
        assert_eq!(
            whole,
            [
                event_with_id(Some("a"), "xи", "1"),
                SseItem::Comment,
                event_with_id(None, "\n\u{2028}", "1"),
                event_with_id(Some("ping"), "", "1"),
                event_with_id(None, "z", "1"),
            ]
        );
        assert_split_invariant(stream, &whole);
    }
}
