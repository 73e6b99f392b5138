//! Server-sent events: one byte-level decoder shared by every wire protocol.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` name, if the event had one.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n` (empty for an event with no data).
    pub data: String,
    /// The `id:` value, if any.
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
}

/// Incremental decoder: feed it network chunks in order, then call `finish` at EOF.
#[derive(Debug, Default)]
pub struct SseDecoder {}

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        SseDecoder::default()
    }

    /// Decodes `chunk`, appending every item it completes to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseItem>) -> Result<(), SseError> {
        let _ = (chunk, out);
        unimplemented!("in progress")
    }

    /// At end of stream: flushes a pending event that had no blank line after it.
    pub fn finish(&mut self, out: &mut Vec<SseItem>) {
        let _ = out;
        unimplemented!("in progress")
    }
}
