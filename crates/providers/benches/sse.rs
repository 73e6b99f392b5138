//! SSE decoder throughput: a realistic ~10 MB OpenAI Chat Completions stream, fed in
//! network-sized (1–4 KiB) chunks and in pathological 7-byte chunks.
//!
//! Reported in bytes per second via criterion's `Throughput::Bytes`; the goal is at least
//! 200 MB/s, measured and reported here, never asserted.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use hearth_providers::sse::{SseDecoder, SseItem};

/// Size of the generated stream.
const STREAM_BYTES: usize = 10 * 1024 * 1024;

/// Words the fake model emits, one per delta, with some non-ASCII text and JSON escapes
/// so UTF-8 validation and escaped newlines are part of the measurement.
const WORDS: &[&str] = &[
    " The",
    " quick",
    " brown",
    " fox",
    " jumps",
    " over",
    " the",
    " lazy",
    " dog",
    ".",
    "\\n\\n",
    " Caf\u{e9}",
    " \u{438}\u{437}\u{432}\u{435}\u{441}\u{442}\u{43d}\u{438}",
    " \u{4e16}\u{754c}",
    " \u{1f525}",
    " `code`",
    " \\\"quoted\\\"",
    ",",
];

/// A deterministic xorshift generator, so every run measures the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Builds an OpenAI stream like a real one: a role chunk, many one-word content deltas,
/// a finish chunk, a usage chunk and `[DONE]`, with an occasional keep-alive comment.
fn openai_stream() -> Vec<u8> {
    const HEAD: &str = r#"data: {"id":"chatcmpl-9xYzAbCdEfGhIjKlMnOpQrStUvW","object":"chat.completion.chunk","created":1722000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_48196bc67a","choices":[{"index":0,"delta":{"#;
    const TAIL: &str = r#"},"logprobs":null,"finish_reason":null}],"usage":null}"#;
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut stream = Vec::with_capacity(STREAM_BYTES + 4096);
    stream.extend_from_slice(HEAD.as_bytes());
    stream.extend_from_slice(br#""role":"assistant","content":"","refusal":null"#);
    stream.extend_from_slice(TAIL.as_bytes());
    stream.extend_from_slice(b"\n\n");
    while stream.len() < STREAM_BYTES {
        let word = WORDS[(rng.next() % WORDS.len() as u64) as usize];
        stream.extend_from_slice(HEAD.as_bytes());
        stream.extend_from_slice(br#""content":""#);
        stream.extend_from_slice(word.as_bytes());
        stream.extend_from_slice(b"\"");
        stream.extend_from_slice(TAIL.as_bytes());
        stream.extend_from_slice(b"\n\n");
        if rng.next().is_multiple_of(500) {
            stream.extend_from_slice(b": keep-alive\n\n");
        }
    }
    stream.extend_from_slice(HEAD.as_bytes());
    stream.extend_from_slice(br#"},"logprobs":null,"finish_reason":"stop"}],"usage":null}"#);
    stream.extend_from_slice(b"\n\n");
    stream.extend_from_slice(br#"data: {"id":"chatcmpl-9xYzAbCdEfGhIjKlMnOpQrStUvW","object":"chat.completion.chunk","created":1722000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_48196bc67a","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":99999,"total_tokens":100011}}"#);
    stream.extend_from_slice(b"\n\ndata: [DONE]\n\n");
    stream
}

/// Splits the stream at pseudo-random points 1–4 KiB apart, like TCP reads.
fn network_chunks(stream: &[u8]) -> Vec<&[u8]> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut chunks = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let len = 1024 + (rng.next() % (3 * 1024 + 1)) as usize;
        let (chunk, after) = rest.split_at(len.min(rest.len()));
        chunks.push(chunk);
        rest = after;
    }
    chunks
}

/// Decodes `chunks` the way a provider would: drain the items after every chunk.
fn decode(chunks: &[&[u8]]) -> usize {
    let mut decoder = SseDecoder::new();
    let mut out: Vec<SseItem> = Vec::new();
    let mut events = 0;
    for chunk in chunks {
        decoder
            .feed(chunk, &mut out)
            .expect("the generated stream has no over-long line");
        events += out.len();
        for item in out.drain(..) {
            black_box(item);
        }
    }
    decoder.finish(&mut out);
    events + out.len()
}

fn sse_throughput(c: &mut Criterion) {
    let stream = openai_stream();
    let network = network_chunks(&stream);
    let tiny: Vec<&[u8]> = stream.chunks(7).collect();
    // Sanity: both chunkings see the same events, so they measure the same work.
    assert_eq!(decode(&network), decode(&tiny));

    let mut group = c.benchmark_group("sse_decode_openai_10MB");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("chunks_1_to_4_KiB", |b| {
        b.iter(|| decode(black_box(&network)))
    });
    group.bench_function("chunks_7_bytes", |b| b.iter(|| decode(black_box(&tiny))));
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    sse_throughput(&mut criterion);
    criterion.final_summary();
}
