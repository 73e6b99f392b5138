//! Fuzzes the SSE decoder: however arbitrary bytes are chunked, the decoder never panics
//! and yields exactly what it yields for the same bytes in one piece.
//!
//! Input layout: the first byte `n` (mod 16) says how many of the following bytes are
//! chunk lengths; everything after them is the stream. The lengths are used in turn,
//! cycling, to cut the stream (a zero length feeds an empty chunk).

#![no_main]

use libfuzzer_sys::fuzz_target;

// The decoder alone is compiled in, not all of hearth-providers: its HTTP stack would
// only slow the instrumented build down, and the decoder depends on nothing else.
#[path = "../../crates/providers/src/sse.rs"]
#[allow(dead_code)]
mod sse;

use sse::{SseDecoder, SseError, SseItem};

/// Decodes the stream cut into `chunks`, returning the items and the first error.
fn decode<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> (Vec<SseItem>, Option<SseError>) {
    let mut decoder = SseDecoder::new();
    let mut out = Vec::new();
    for chunk in chunks {
        if let Err(error) = decoder.feed(chunk, &mut out) {
            return (out, Some(error));
        }
    }
    decoder.finish(&mut out);
    (out, None)
}

/// Cuts `stream` at the lengths in `cuts`, cycling; never two empty chunks in a row.
fn cut<'a>(stream: &'a [u8], cuts: &[u8]) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut rest = stream;
    let mut turn = 0;
    let mut last_was_empty = false;
    while !rest.is_empty() {
        let mut len = usize::from(cuts[turn % cuts.len()]);
        turn += 1;
        if last_was_empty {
            len = len.max(1);
        }
        let (chunk, after) = rest.split_at(len.min(rest.len()));
        last_was_empty = chunk.is_empty();
        chunks.push(chunk);
        rest = after;
    }
    chunks
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 16).min(rest.len());
    let (cuts, stream) = rest.split_at(n);

    let whole = decode([stream]);
    for item in &whole.0 {
        if let SseItem::Event(event) = item {
            // Line ends never leak into values: `\r` is always a terminator, and `\n`
            // only ever joins data lines.
            assert!(!event.data.contains('\r'));
            assert!(event
                .event
                .as_deref()
                .is_none_or(|e| !e.contains(['\r', '\n'])));
            assert!(event
                .id
                .as_deref()
                .is_none_or(|i| !i.contains(['\r', '\n', '\0'])));
        }
    }
    if !cuts.is_empty() {
        assert_eq!(decode(cut(stream, cuts)), whole, "cut by {cuts:?}");
    }
    assert_eq!(decode(stream.chunks(1)), whole, "byte by byte");
});
