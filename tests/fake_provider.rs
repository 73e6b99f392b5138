//! A fake model provider on loopback: a small HTTP/1.1 server that records every request
//! and answers with a scripted [`Reply`], streamed in exactly the pieces the test chose.
//! Provider clients are tested against it for split UTF-8, split CRLFs, stalls, resets and
//! mid-stream errors without touching the internet.
//!
//! It is built on `std::net` and plain threads (one accepting, one per connection), not on
//! tokio or hyper, so it shares no code with the HTTP client under test. Every response is
//! `Transfer-Encoding: chunked` with `Connection: close`: each entry of [`Reply::chunks`]
//! becomes one HTTP chunk, written and flushed on its own with `TCP_NODELAY`, so the client
//! really receives the body in those pieces.
//!
//! The recorded streams in `tests/data/streams/` and what each must decode to are loaded by
//! [`stream_fixtures`]; [`split_at`], [`every_split`] and [`byte_by_byte`] cut them into
//! chunks.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long a client may take to send its whole request before the connection is dropped.
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest request head (request line and headers) accepted.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The largest request body accepted: generous, because a chat request can carry images.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// How often a waiting connection looks for the client closing or the server shutting down.
/// It bounds how late [`FakeProvider::connections_closed_by_client`] notices a close.
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// The pause before an [`End::Reset`]. A reset throws away whatever is still in the
/// server's send buffer, so the chunks already written are given time to reach the client
/// first; otherwise the test would not know what the client saw before the reset.
const RESET_SETTLE: Duration = Duration::from_millis(20);

/// The function that turns a request into a reply.
type Handler = dyn Fn(&RecordedRequest) -> Reply + Send + Sync;

/// A loopback HTTP/1.1 server that plays a model provider. Dropping it stops accepting
/// connections, and ends stalls and delays on connections still open.
pub struct FakeProvider {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

/// What the accept loop, the connection threads and the test share.
struct Shared {
    handler: Box<Handler>,
    state: Mutex<State>,
    /// Notified whenever `state` changes.
    changed: Condvar,
    shutdown: AtomicBool,
}

#[derive(Default)]
struct State {
    requests: Vec<RecordedRequest>,
    closed_by_client: usize,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not take the server down with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.state());
        self.changed.notify_all();
    }

    /// Waits until `done` holds or `timeout` passes; returns whether it holds.
    fn wait_until(&self, timeout: Duration, done: impl Fn(&State) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.state();
        loop {
            if done(&state) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }
}

impl FakeProvider {
    /// Starts a server on `127.0.0.1` at a free port. `handler` is called once per request,
    /// on that connection's thread, and its [`Reply`] is sent back. A handler may sleep to
    /// delay the response headers (time to first byte). If it panics, the client gets a
    /// 500 whose body names the panic, and the request is still recorded.
    pub fn start(
        handler: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> FakeProvider {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .expect("the fake provider needs a free loopback port");
        let addr = listener
            .local_addr()
            .expect("a bound listener has a local address");
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            shutdown: AtomicBool::new(false),
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name(format!("fake-provider-{}", addr.port()))
            .spawn(move || accept_loop(&listener, &accept_shared))
            .expect("spawn the fake provider's accept thread");
        FakeProvider {
            addr,
            shared,
            accept_thread: Some(accept_thread),
        }
    }

    /// A server that gives every request a copy of `reply`.
    pub fn always(reply: Reply) -> FakeProvider {
        FakeProvider::start(move |_| reply.clone())
    }

    /// A server that answers the first request with `replies[0]`, the second with
    /// `replies[1]`, and so on; any request past the end gets a 500 saying no reply was
    /// scripted for it, so a client that retries too often fails visibly.
    pub fn sequence(replies: Vec<Reply>) -> FakeProvider {
        let replies = Mutex::new(replies.into_iter());
        let served = AtomicUsize::new(0);
        FakeProvider::start(move |_| {
            let served = served.fetch_add(1, Ordering::SeqCst) + 1;
            let next = replies
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .next();
            next.unwrap_or_else(|| {
                Reply::json(
                    500,
                    &format!(
                        r#"{{"error":{{"message":"fake provider: no reply scripted for request {served}","type":"fake_provider"}}}}"#
                    ),
                )
            })
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL a client is configured with: `http://127.0.0.1:PORT` followed by
    /// `version_segment` (`"/v1"` or `"v1"` both give `…/v1`; `""` gives the bare origin).
    pub fn base_url(&self, version_segment: &str) -> String {
        let segment = version_segment.trim_start_matches('/');
        if segment.is_empty() {
            format!("http://{}", self.addr)
        } else {
            format!("http://{}/{segment}", self.addr)
        }
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.clone()
    }

    /// The number of connections whose client went away (EOF on read, or a failed write)
    /// before the reply had been sent in full: a stream that was cancelled, or a client
    /// that gave up on a stall.
    pub fn connections_closed_by_client(&self) -> usize {
        self.shared.state().closed_by_client
    }

    /// Waits until at least `n` requests have arrived; false if `timeout` passed first.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        self.shared
            .wait_until(timeout, |state| state.requests.len() >= n)
    }

    /// Waits until [`connections_closed_by_client`](Self::connections_closed_by_client)
    /// reaches `n`; false if `timeout` passed first. A cancel is asynchronous, so a test
    /// proving that cancelling closed the connection waits here.
    pub fn wait_for_closed_by_client(&self, n: usize, timeout: Duration) -> bool {
        self.shared
            .wait_until(timeout, |state| state.closed_by_client >= n)
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // The accept loop is blocked in accept(): a connection of our own wakes it up to
        // see the flag. If it fails the loop is not waiting, so there is nothing to wake.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
    }
}

/// One request as the server received it.
#[derive(Clone)]
pub struct RecordedRequest {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The request target: path and query, e.g. `/v1/chat/completions` or
    /// `/v1beta/models/gemini-x:streamGenerateContent?alt=sse`.
    pub path: String,
    /// The headers in the order sent, names lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked if it was sent chunked.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON. Panics (failing the test) if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "the {} {} request body is not JSON ({e}): {}",
                self.method,
                self.path,
                self.body_text()
            )
        })
    }

    /// The body as text (invalid UTF-8 replaced), for assertion messages.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The path without its query string.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or_default()
    }
}

impl std::fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &self.headers)
            .field("body", &self.body_text())
            .finish()
    }
}

/// What the server sends back for one request.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// Response headers. The server adds `transfer-encoding: chunked` and
    /// `connection: close` itself, so do not set those (nor `content-length`).
    pub headers: Vec<(String, String)>,
    /// The body, one HTTP chunk per entry. Empty entries are skipped: an empty chunk
    /// would end the body.
    pub chunks: Vec<Vec<u8>>,
    /// The pause between two chunks (none before the first).
    pub chunk_delay: Duration,
    /// How the response ends after the last chunk.
    pub end: End,
}

/// How a response ends after its last chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The terminating zero-length chunk, then the server closes: a complete body.
    Finish,
    /// A TCP reset mid-body (`SO_LINGER` 0, then close): the client sees "connection reset".
    Reset,
    /// The server stops sending and holds the connection open this long, or until the
    /// client closes it, then closes without finishing the body. A stall longer than the
    /// client's idle timeout tests that timeout; a client cancelling during it shows up in
    /// [`FakeProvider::connections_closed_by_client`].
    Stall(Duration),
}

impl Reply {
    /// A 200 `text/event-stream` response sent as `chunks`.
    pub fn sse(chunks: Vec<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".to_owned(), "text/event-stream".to_owned())],
            chunks,
            chunk_delay: Duration::ZERO,
            end: End::Finish,
        }
    }

    /// A 200 `text/event-stream` response carrying the recorded stream `file` from
    /// `tests/data/streams/` in one chunk.
    pub fn sse_fixture(file: &str) -> Reply {
        Reply::sse(vec![stream_bytes(file)])
    }

    /// An `application/json` response, typically an error body such as a 401 or a 429.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            chunks: vec![body.as_bytes().to_vec()],
            chunk_delay: Duration::ZERO,
            end: End::Finish,
        }
    }

    /// Adds a response header, e.g. `retry-after` or `x-request-id`.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Replaces the `content-type` header (to test a 200 that is not an event stream).
    pub fn content_type(mut self, value: &str) -> Reply {
        self.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
        self.header("content-type", value)
    }

    /// Sets the pause between chunks.
    pub fn delay(mut self, chunk_delay: Duration) -> Reply {
        self.chunk_delay = chunk_delay;
        self
    }

    /// Sets how the response ends.
    pub fn end(mut self, end: End) -> Reply {
        self.end = end;
        self
    }

    /// The whole body, as the client will have received it if nothing went wrong.
    pub fn body(&self) -> Vec<u8> {
        self.chunks.concat()
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.shutting_down() {
            return;
        }
        let Ok(stream) = stream else {
            // Out of file descriptors or similar: back off instead of spinning.
            thread::sleep(POLL_INTERVAL);
            continue;
        };
        let conn_shared = Arc::clone(shared);
        // Connection threads are not joined: a stalled one must not hold up Drop. They
        // watch the shutdown flag, so they end soon after the server is dropped.
        let spawned = thread::Builder::new()
            .name("fake-provider-conn".to_owned())
            .spawn(move || serve(stream, &conn_shared));
        if spawned.is_err() {
            thread::sleep(POLL_INTERVAL);
        }
    }
}

/// How sending a reply went.
#[derive(Debug, PartialEq, Eq)]
enum Sent {
    /// Everything the reply asked for happened.
    AsScripted,
    /// The client closed the connection before the reply was over.
    ClientClosed,
}

fn serve(mut stream: TcpStream, shared: &Shared) {
    // Without TCP_NODELAY, Nagle's algorithm would merge small chunks into one segment.
    let _ = stream.set_nodelay(true);
    let request = match read_request(&mut stream) {
        Ok(Some(request)) => request,
        // Closed before sending anything: Drop's wake-up call, or a port probe.
        Ok(None) => return,
        Err(message) => {
            let reply = Reply::json(
                400,
                &serde_json::json!({"error": {"message": format!("fake provider: {message}")}})
                    .to_string(),
            );
            let _ = send_reply(&mut stream, &reply, shared);
            return;
        }
    };
    if shared.shutting_down() {
        return;
    }
    shared.update(|state| state.requests.push(request.clone()));
    let reply = catch_unwind(AssertUnwindSafe(|| (shared.handler)(&request))).unwrap_or_else(
        |panic| {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a non-string panic");
            Reply::json(
                500,
                &serde_json::json!({"error": {"message": format!("fake provider handler panicked: {what}")}})
                    .to_string(),
            )
        },
    );
    if send_reply(&mut stream, &reply, shared) == Sent::ClientClosed {
        shared.update(|state| state.closed_by_client += 1);
    }
}

/// Reads one request; `Ok(None)` if the client closed without sending a byte.
fn read_request(stream: &mut TcpStream) -> Result<Option<RecordedRequest>, String> {
    stream
        .set_read_timeout(Some(REQUEST_READ_TIMEOUT))
        .map_err(|e| format!("cannot set a read timeout: {e}"))?;
    let mut reader = BufReader::new(&*stream);
    let mut head_bytes = 0;

    let Some(request_line) = read_line(&mut reader, &mut head_bytes)? else {
        return Ok(None);
    };
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(path), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("malformed request line {request_line:?}"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(format!("unsupported protocol version {version:?}"));
    }

    let mut headers = Vec::new();
    loop {
        let line = read_line(&mut reader, &mut head_bytes)?
            .ok_or("the connection closed inside the request headers")?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("malformed header line {line:?}"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let mut request = RecordedRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        headers,
        body: Vec::new(),
    };

    if request
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        (&*stream)
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .map_err(|e| format!("cannot send 100 Continue: {e}"))?;
    }

    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    request.body = if chunked {
        read_chunked_body(&mut reader)?
    } else if let Some(length) = request.header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| format!("bad content-length {length:?}"))?;
        if length > MAX_BODY_BYTES {
            return Err(format!("a {length}-byte body is over the limit"));
        }
        let mut body = vec![0; length];
        reader
            .read_exact(&mut body)
            .map_err(|e| format!("the body ended early: {e}"))?;
        body
    } else {
        Vec::new()
    };
    Ok(Some(request))
}

/// Reads one line of the request head without its line end; `None` at EOF before any byte.
fn read_line(
    reader: &mut BufReader<&TcpStream>,
    head_bytes: &mut usize,
) -> Result<Option<String>, String> {
    let mut line = Vec::new();
    let limit = (MAX_HEAD_BYTES.saturating_sub(*head_bytes) + 1) as u64;
    let n = reader
        .by_ref()
        .take(limit)
        .read_until(b'\n', &mut line)
        .map_err(|e| format!("reading the request failed: {e}"))?;
    if n == 0 {
        return Ok(None);
    }
    *head_bytes += n;
    if *head_bytes > MAX_HEAD_BYTES {
        return Err("the request head is too large".to_owned());
    }
    if line.last() != Some(&b'\n') {
        return Err("the connection closed inside a request line".to_owned());
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| "the request head is not UTF-8".to_owned())
}

fn read_chunked_body(reader: &mut BufReader<&TcpStream>) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        // Each size line gets the head's limit on its own: a long body has many of them.
        let line = read_line(reader, &mut 0)?.ok_or("the chunked body ended early")?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size =
            usize::from_str_radix(size, 16).map_err(|_| format!("bad chunk size line {line:?}"))?;
        if size == 0 {
            // Trailers, up to the blank line that ends the body.
            while !read_line(reader, &mut 0)?
                .ok_or("the chunked body ended in its trailers")?
                .is_empty()
            {}
            return Ok(body);
        }
        if body.len() + size > MAX_BODY_BYTES {
            return Err("the chunked body is over the limit".to_owned());
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader
            .read_exact(&mut body[start..])
            .map_err(|e| format!("a body chunk ended early: {e}"))?;
        let mut crlf = [0; 2];
        reader
            .read_exact(&mut crlf)
            .map_err(|e| format!("a body chunk ended early: {e}"))?;
        if &crlf != b"\r\n" {
            return Err("a body chunk is not followed by CRLF".to_owned());
        }
    }
}

fn send_reply(stream: &mut TcpStream, reply: &Reply, shared: &Shared) -> Sent {
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
    if write_flushed(stream, head.as_bytes()).is_err() {
        return Sent::ClientClosed;
    }

    for (i, chunk) in reply.chunks.iter().filter(|c| !c.is_empty()).enumerate() {
        if i > 0 {
            match watch(stream, reply.chunk_delay, shared) {
                Watched::Elapsed => {}
                Watched::ClientClosed => return Sent::ClientClosed,
                Watched::ShuttingDown => return Sent::AsScripted,
            }
        }
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(chunk);
        frame.extend_from_slice(b"\r\n");
        if write_flushed(stream, &frame).is_err() {
            return Sent::ClientClosed;
        }
    }

    match reply.end {
        End::Finish => {
            if write_flushed(stream, b"0\r\n\r\n").is_err() {
                return Sent::ClientClosed;
            }
            let _ = stream.shutdown(Shutdown::Write);
            Sent::AsScripted
        }
        End::Reset => {
            if watch(stream, RESET_SETTLE, shared) == Watched::ClientClosed {
                return Sent::ClientClosed;
            }
            // SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            let _ = socket2::SockRef::from(&*stream).set_linger(Some(Duration::ZERO));
            Sent::AsScripted
        }
        End::Stall(hold) => match watch(stream, hold, shared) {
            Watched::ClientClosed => Sent::ClientClosed,
            Watched::Elapsed | Watched::ShuttingDown => Sent::AsScripted,
        },
    }
    // The stream is dropped (closed) by the caller.
}

fn write_flushed(stream: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes)?;
    stream.flush()
}

/// How a [`watch`] ended.
#[derive(Debug, PartialEq, Eq)]
enum Watched {
    Elapsed,
    ClientClosed,
    ShuttingDown,
}

/// Waits `duration` while reading from the client, so a close (EOF or reset) is seen at
/// once rather than at the next write. Bytes the client sends meanwhile are ignored.
fn watch(stream: &mut TcpStream, duration: Duration, shared: &Shared) -> Watched {
    let deadline = Instant::now() + duration;
    let mut scratch = [0; 1024];
    loop {
        if shared.shutting_down() {
            return Watched::ShuttingDown;
        }
        let now = Instant::now();
        if now >= deadline {
            return Watched::Elapsed;
        }
        if stream
            .set_read_timeout(Some((deadline - now).min(POLL_INTERVAL)))
            .is_err()
        {
            return Watched::ClientClosed;
        }
        match stream.read(&mut scratch) {
            Ok(0) => return Watched::ClientClosed,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return Watched::ClientClosed,
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Overloaded",
        _ => "Status",
    }
}

/// Cuts `bytes` at each of `positions` (ascending, each at most `bytes.len()`). Empty
/// pieces are left out, so `split_at(b, &[0, 3, 3])` is just the cut at 3.
pub fn split_at(bytes: &[u8], positions: &[usize]) -> Vec<Vec<u8>> {
    let mut pieces = Vec::with_capacity(positions.len() + 1);
    let mut start = 0;
    for &cut in positions.iter().chain(std::iter::once(&bytes.len())) {
        assert!(
            start <= cut && cut <= bytes.len(),
            "split_at: cut {cut} is out of order or past the end ({} bytes)",
            bytes.len()
        );
        if cut > start {
            pieces.push(bytes[start..cut].to_vec());
        }
        start = cut;
    }
    pieces
}

/// Every two-piece split of `bytes`: the cut at 1, at 2, …, at `len - 1`. Running a
/// stream through all of them finds every boundary a decoder mishandles (a split UTF-8
/// character, a split `\r\n`, a split `data:`).
pub fn every_split(bytes: &[u8]) -> impl Iterator<Item = Vec<Vec<u8>>> + '_ {
    (1..bytes.len()).map(move |cut| vec![bytes[..cut].to_vec(), bytes[cut..].to_vec()])
}

/// One chunk per byte: the harshest way to deliver a stream.
pub fn byte_by_byte(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes.iter().map(|&b| vec![b]).collect()
}

/// `text` with every line end as `\r\n` (existing `\r\n` stay single).
pub fn with_crlf(text: &str) -> Vec<u8> {
    text.replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes()
}

/// `text` with every line end as a lone `\r`.
pub fn with_cr(text: &str) -> Vec<u8> {
    text.replace("\r\n", "\n").replace('\n', "\r").into_bytes()
}

/// The folder holding the recorded streams: `tests/data/streams/`.
pub fn streams_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("streams")
}

/// The bytes of one recorded stream, e.g. `stream_bytes("openai-basic.sse")`.
pub fn stream_bytes(file: &str) -> Vec<u8> {
    let path = streams_dir().join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The wire protocol a recorded stream speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OpenAI Chat Completions and the servers compatible with it (DeepSeek, OpenRouter…).
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini's native `streamGenerateContent?alt=sse`.
    Gemini,
}

/// One recorded stream and what a correct client makes of it: an entry of
/// `tests/data/streams/expected.json` (its README defines each field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamFixture {
    /// The file name in `tests/data/streams/`.
    pub file: String,
    /// The protocol it speaks.
    pub protocol: Protocol,
    /// The answer, assembled exactly.
    pub text: String,
    /// The reasoning, assembled exactly, if the stream carries any.
    pub reasoning: Option<String>,
    /// Input tokens, as last reported by the stream.
    pub tokens_in: Option<u64>,
    /// Output tokens, as last reported by the stream.
    pub tokens_out: Option<u64>,
    /// Whether the provider said the answer was complete (false: truncated or failed).
    pub terminated: bool,
    /// Whether the provider marked the reply a refusal (OpenAI `delta.refusal`, Anthropic
    /// `stop_reason: "refusal"`); its text is `text`. Absent in `expected.json` means false.
    pub refused: bool,
    /// The message of a mid-stream error, if the stream carries one.
    pub error: Option<String>,
}

impl StreamFixture {
    /// The stream's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        stream_bytes(&self.file)
    }
}

/// Every recorded stream listed in `tests/data/streams/expected.json`.
pub fn stream_fixtures() -> Vec<StreamFixture> {
    let path = streams_dir().join("expected.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let entries: Vec<serde_json::Value> = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not a JSON array: {e}", path.display()));
    entries.iter().map(parse_fixture).collect()
}

/// The entry for `file` in `expected.json`.
pub fn stream_fixture(file: &str) -> StreamFixture {
    stream_fixtures()
        .into_iter()
        .find(|f| f.file == file)
        .unwrap_or_else(|| panic!("{file} is not listed in tests/data/streams/expected.json"))
}

fn parse_fixture(entry: &serde_json::Value) -> StreamFixture {
    let string = |key: &str| entry[key].as_str().map(str::to_owned);
    let file = string("file").unwrap_or_else(|| panic!("an entry has no file: {entry}"));
    let protocol = match entry["protocol"].as_str() {
        Some("openai") => Protocol::OpenAi,
        Some("anthropic") => Protocol::Anthropic,
        Some("gemini") => Protocol::Gemini,
        other => panic!("{file}: unknown protocol {other:?}"),
    };
    let count = |key: &str| match &entry[key] {
        serde_json::Value::Null => None,
        value => Some(
            value
                .as_u64()
                .unwrap_or_else(|| panic!("{file}: {key} is not a count: {value}")),
        ),
    };
    StreamFixture {
        protocol,
        text: string("text").unwrap_or_else(|| panic!("{file}: text is missing")),
        reasoning: string("reasoning"),
        tokens_in: count("tokens_in"),
        tokens_out: count("tokens_out"),
        terminated: entry["terminated"]
            .as_bool()
            .unwrap_or_else(|| panic!("{file}: terminated is not a boolean")),
        refused: entry["refused"].as_bool().unwrap_or(false),
        error: string("error"),
        file,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response as a plain std client saw it.
    struct RawResponse {
        status_line: String,
        headers: Vec<(String, String)>,
        /// The HTTP chunks of the body, in order.
        chunks: Vec<Vec<u8>>,
        /// Whether the terminating zero chunk arrived.
        finished: bool,
        /// The error that stopped the read, if any.
        error: Option<io::Error>,
    }

    impl RawResponse {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    fn connect(provider: &FakeProvider) -> TcpStream {
        let stream = TcpStream::connect(provider.addr()).expect("connect to the fake provider");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("set a client read timeout");
        stream
    }

    fn post(path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
        let mut request = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        bytes
    }

    fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if !line.ends_with("\r\n") {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("unterminated line {line:?}"),
            ));
        }
        line.truncate(line.len() - 2);
        Ok(line)
    }

    /// Reads a response head and its chunked body, recording each chunk separately.
    fn read_response(stream: &TcpStream) -> RawResponse {
        let mut reader = BufReader::new(stream);
        let status_line = read_line(&mut reader).expect("a status line");
        let mut headers = Vec::new();
        loop {
            let line = read_line(&mut reader).expect("a header line");
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("name: value");
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let mut response = RawResponse {
            status_line,
            headers,
            chunks: Vec::new(),
            finished: false,
            error: None,
        };
        let result: io::Result<()> = (|| loop {
            let size = usize::from_str_radix(&read_line(&mut reader)?, 16)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if size == 0 {
                assert_eq!(read_line(&mut reader)?, "", "no trailers expected");
                response.finished = true;
                return Ok(());
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            assert_eq!(&chunk[size..], b"\r\n", "a chunk ends with CRLF");
            chunk.truncate(size);
            response.chunks.push(chunk);
        })();
        response.error = result.err();
        response
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn records_method_path_headers_and_body() {
        let provider = FakeProvider::always(Reply::json(200, "{}"));
        let body = br#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"caf\u00e9 \u6771"}]}"#;
        let mut client = connect(&provider);
        client
            .write_all(&post(
                "/v1/chat/completions",
                &[
                    ("Authorization", "Bearer sk-test-123"),
                    ("Content-Type", "application/json"),
                    ("X-Custom", "  padded  "),
                ],
                body,
            ))
            .unwrap();
        let response = read_response(&client);
        assert_eq!(response.status_line, "HTTP/1.1 200 OK");

        let requests = provider.requests();
        assert_eq!(requests.len(), 1, "{requests:?}");
        let request = &requests[0];
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/v1/chat/completions");
        assert_eq!(request.header("authorization"), Some("Bearer sk-test-123"));
        assert_eq!(request.header("AUTHORIZATION"), Some("Bearer sk-test-123"));
        assert_eq!(request.header("x-custom"), Some("padded"));
        assert!(request.headers.iter().any(|(n, _)| n == "content-type"));
        assert!(request.headers.iter().all(|(n, _)| *n == n.to_lowercase()));
        assert_eq!(request.header("x-absent"), None);
        assert_eq!(request.body, body);
        assert_eq!(request.json()["messages"][0]["content"], "café 東");
        assert_eq!(provider.connections_closed_by_client(), 0);
    }

    #[test]
    fn keeps_the_query_and_reads_requests_sent_in_pieces_and_chunked() {
        let provider = FakeProvider::always(Reply::sse(vec![b"data: {}\r\n\r\n".to_vec()]));
        let path = "/v1beta/models/gemini-x:streamGenerateContent?alt=sse";
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\nx-goog-api-key: k\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        let mut wire = head.into_bytes();
        wire.extend_from_slice(b"5\r\n{\"a\":\r\n3;ext=1\r\n 1}\r\n0\r\n\r\n");
        let mut client = connect(&provider);
        // A byte at a time, so the parser must cope with every split.
        for byte in &wire {
            client.write_all(&[*byte]).unwrap();
        }
        let response = read_response(&client);
        assert!(response.finished);
        assert_eq!(response.header("content-type"), Some("text/event-stream"));

        let request = &provider.requests()[0];
        assert_eq!(request.path, path);
        assert_eq!(
            request.path_only(),
            "/v1beta/models/gemini-x:streamGenerateContent"
        );
        assert_eq!(request.header("x-goog-api-key"), Some("k"));
        assert_eq!(request.json(), serde_json::json!({"a": 1}));
    }

    #[test]
    fn sends_each_entry_as_its_own_chunk_with_the_delay_between() {
        let fixture = stream_bytes("anthropic-basic.sse");
        let chunks = split_at(&fixture, &[1, 2, 40, 41, 500, fixture.len() - 1]);
        let delay = Duration::from_millis(30);
        let provider = FakeProvider::always(
            Reply::sse(chunks.clone())
                .delay(delay)
                .header("x-request-id", "req_1"),
        );
        let mut client = connect(&provider);
        client.write_all(&post("/v1/messages", &[], b"")).unwrap();
        let started = Instant::now();
        let response = read_response(&client);
        let elapsed = started.elapsed();

        assert!(response.finished, "{:?}", response.error);
        assert_eq!(response.status_line, "HTTP/1.1 200 OK");
        assert_eq!(response.header("x-request-id"), Some("req_1"));
        assert_eq!(response.header("connection"), Some("close"));
        assert_eq!(response.chunks, chunks, "one HTTP chunk per entry");
        assert_eq!(response.chunks.concat(), fixture);
        let gaps = u32::try_from(chunks.len() - 1).unwrap();
        assert!(
            elapsed >= delay * gaps,
            "the delays were not applied: {elapsed:?}"
        );
        // The body ends cleanly: the server closes after the terminator.
        let mut rest = Vec::new();
        assert_eq!((&client).read_to_end(&mut rest).unwrap(), 0);
        assert_eq!(provider.connections_closed_by_client(), 0);
    }

    #[test]
    fn skips_empty_chunks_instead_of_ending_the_body_early() {
        let provider =
            FakeProvider::always(Reply::sse(vec![b"a".to_vec(), Vec::new(), b"b".to_vec()]));
        let mut client = connect(&provider);
        client.write_all(&post("/", &[], b"")).unwrap();
        let response = read_response(&client);
        assert!(response.finished);
        assert_eq!(response.chunks, vec![b"a".to_vec(), b"b".to_vec()]);
    }

    #[test]
    fn error_replies_carry_status_headers_and_body() {
        let body = r#"{"error":{"message":"Rate limit reached","type":"tokens","code":"rate_limit_exceeded"}}"#;
        let provider =
            FakeProvider::always(Reply::json(429, body).header("retry-after-ms", "1500"));
        let mut client = connect(&provider);
        client
            .write_all(&post("/v1/chat/completions", &[], b"{}"))
            .unwrap();
        let response = read_response(&client);
        assert_eq!(response.status_line, "HTTP/1.1 429 Too Many Requests");
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.header("retry-after-ms"), Some("1500"));
        assert_eq!(response.chunks.concat(), body.as_bytes());
    }

    #[test]
    fn counts_a_client_that_closes_during_a_stall() {
        let hold = Duration::from_secs(30);
        let provider = FakeProvider::always(
            Reply::sse(vec![b"data: {\"x\":1}\n\n".to_vec()]).end(End::Stall(hold)),
        );
        let mut client = connect(&provider);
        client
            .write_all(&post("/v1/chat/completions", &[], b"{}"))
            .unwrap();
        let mut reader = BufReader::new(&client);
        while !read_line(&mut reader).unwrap().is_empty() {} // the head
        let size = usize::from_str_radix(&read_line(&mut reader).unwrap(), 16).unwrap();
        let mut chunk = vec![0; size];
        reader.read_exact(&mut chunk).unwrap();
        assert_eq!(chunk, b"data: {\"x\":1}\n\n");
        assert_eq!(provider.connections_closed_by_client(), 0, "not closed yet");

        let closed_at = Instant::now();
        drop(reader);
        drop(client);
        assert!(
            provider.wait_for_closed_by_client(1, 5 * SECOND),
            "the close went unnoticed"
        );
        assert!(closed_at.elapsed() < 5 * SECOND);
        assert_eq!(provider.connections_closed_by_client(), 1);
    }

    #[test]
    fn a_stall_that_runs_out_closes_without_finishing_the_body() {
        let provider = FakeProvider::always(
            Reply::sse(vec![b"data: {}\n\n".to_vec()]).end(End::Stall(Duration::from_millis(100))),
        );
        let mut client = connect(&provider);
        client.write_all(&post("/", &[], b"")).unwrap();
        let response = read_response(&client);
        assert_eq!(response.chunks, vec![b"data: {}\n\n".to_vec()]);
        assert!(!response.finished, "a stalled body must not look complete");
        assert_eq!(
            response.error.map(|e| e.kind()),
            Some(io::ErrorKind::UnexpectedEof)
        );
        assert_eq!(provider.connections_closed_by_client(), 0);
    }

    #[test]
    fn reset_is_a_connection_reset_for_the_client() {
        let provider = FakeProvider::always(
            Reply::sse(vec![b"data: {\"partial\":true}\n\n".to_vec()]).end(End::Reset),
        );
        let mut client = connect(&provider);
        client.write_all(&post("/", &[], b"")).unwrap();
        let response = read_response(&client);
        assert_eq!(
            response.chunks,
            vec![b"data: {\"partial\":true}\n\n".to_vec()]
        );
        assert!(!response.finished);
        assert_eq!(
            response.error.map(|e| e.kind()),
            Some(io::ErrorKind::ConnectionReset)
        );
    }

    #[test]
    fn a_panicking_handler_answers_500_and_still_records_the_request() {
        let provider = FakeProvider::start(|_| panic!("handler bug"));
        let mut client = connect(&provider);
        client.write_all(&post("/v1/models", &[], b"")).unwrap();
        let response = read_response(&client);
        assert_eq!(response.status_line, "HTTP/1.1 500 Internal Server Error");
        let body = String::from_utf8(response.chunks.concat()).unwrap();
        assert!(body.contains("handler bug"), "{body}");
        assert_eq!(provider.requests().len(), 1);
    }

    #[test]
    fn sequence_replies_in_order_then_fails_loudly() {
        let provider = FakeProvider::sequence(vec![
            Reply::json(
                529,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ),
            Reply::sse(vec![b"data: {}\n\n".to_vec()]),
        ]);
        let statuses: Vec<String> = (0..3)
            .map(|_| {
                let mut client = connect(&provider);
                client.write_all(&post("/v1/messages", &[], b"{}")).unwrap();
                read_response(&client).status_line
            })
            .collect();
        assert_eq!(
            statuses,
            [
                "HTTP/1.1 529 Overloaded",
                "HTTP/1.1 200 OK",
                "HTTP/1.1 500 Internal Server Error"
            ]
        );
        assert!(provider.wait_for_requests(3, SECOND));
    }

    #[test]
    fn wait_for_requests_times_out_when_nothing_arrives() {
        let provider = FakeProvider::always(Reply::json(200, "{}"));
        let started = Instant::now();
        assert!(!provider.wait_for_requests(1, Duration::from_millis(50)));
        assert!(started.elapsed() >= Duration::from_millis(50));

        let waiter = {
            let addr = provider.addr();
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(50));
                let mut client = TcpStream::connect(addr).unwrap();
                client.write_all(&post("/", &[], b"")).unwrap();
                read_response(&client).status_line
            })
        };
        assert!(provider.wait_for_requests(1, 5 * SECOND));
        assert_eq!(waiter.join().unwrap(), "HTTP/1.1 200 OK");
    }

    #[test]
    fn base_url_and_drop() {
        let provider = FakeProvider::always(Reply::json(200, "{}"));
        let origin = format!("http://{}", provider.addr());
        assert!(origin.starts_with("http://127.0.0.1:"));
        assert_eq!(provider.base_url("/v1"), format!("{origin}/v1"));
        assert_eq!(provider.base_url("v1beta"), format!("{origin}/v1beta"));
        assert_eq!(provider.base_url(""), origin);

        let addr = provider.addr();
        drop(provider);
        let refused = TcpStream::connect(addr).map(|_| ()).map_err(|e| e.kind());
        assert_eq!(refused, Err(io::ErrorKind::ConnectionRefused));
    }

    #[test]
    fn dropping_the_provider_ends_a_stall() {
        let provider = FakeProvider::always(
            Reply::sse(vec![b"data: {}\n\n".to_vec()]).end(End::Stall(Duration::from_secs(60))),
        );
        let mut client = connect(&provider);
        client.write_all(&post("/", &[], b"")).unwrap();
        assert!(provider.wait_for_requests(1, 5 * SECOND));
        let dropped_at = Instant::now();
        drop(provider);
        let response = read_response(&client);
        assert!(!response.finished);
        assert!(dropped_at.elapsed() < 5 * SECOND);
    }

    #[test]
    fn chunking_helpers() {
        let bytes = b"abcdef";
        assert_eq!(
            split_at(bytes, &[2, 3]),
            [b"ab".to_vec(), b"c".to_vec(), b"def".to_vec()]
        );
        assert_eq!(
            split_at(bytes, &[0, 3, 3, 6]),
            [b"abc".to_vec(), b"def".to_vec()]
        );
        assert_eq!(split_at(bytes, &[]), [bytes.to_vec()]);
        assert!(split_at(b"", &[]).is_empty());

        let splits: Vec<Vec<Vec<u8>>> = every_split(bytes).collect();
        assert_eq!(splits.len(), 5);
        for (i, split) in splits.iter().enumerate() {
            assert_eq!(split.len(), 2);
            assert_eq!(split[0].len(), i + 1);
            assert_eq!(split.concat(), bytes);
        }
        assert_eq!(every_split(b"x").count(), 0);

        let single = byte_by_byte("é".as_bytes());
        assert_eq!(single, [vec![0xc3], vec![0xa9]]);

        assert_eq!(with_crlf("a\nb\r\n\n"), b"a\r\nb\r\n\r\n");
        assert_eq!(with_cr("a\nb\r\n\n"), b"a\rb\r\r");
    }

    /// One event as the spec-compliant splitter in PROTOCOLS.md §0.1 sees it.
    #[derive(Debug)]
    struct Event {
        name: Option<String>,
        data: String,
    }

    /// Splits a whole stream into events (lines end at `\r\n`, `\n` or `\r`; comments are
    /// dropped; a trailing event without a blank line is flushed).
    fn events(bytes: &[u8]) -> Vec<Event> {
        let mut lines = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => {
                    lines.push(&bytes[start..i]);
                    start = i + 1;
                }
                b'\r' => {
                    lines.push(&bytes[start..i]);
                    if bytes.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        if start < bytes.len() {
            lines.push(&bytes[start..]);
        }

        let mut events = Vec::new();
        let mut name = None;
        let mut data: Vec<String> = Vec::new();
        for line in lines.into_iter().chain(std::iter::once(&b""[..])) {
            let line = std::str::from_utf8(line).expect("every line is UTF-8");
            if line.is_empty() {
                if name.is_some() || !data.is_empty() {
                    events.push(Event {
                        name: name.take(),
                        data: data.join("\n"),
                    });
                    data.clear();
                }
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => name = Some(value.to_owned()),
                "data" => data.push(value.to_owned()),
                other => panic!("unexpected field {other:?}"),
            }
        }
        events
    }

    /// The JSON payloads of a stream, with `[DONE]` as `None`.
    fn payloads(fixture: &StreamFixture) -> Vec<(Option<String>, Option<serde_json::Value>)> {
        events(&fixture.bytes())
            .into_iter()
            .filter(|e| !e.data.trim().is_empty())
            .map(|e| {
                if e.data.trim() == "[DONE]" {
                    return (e.name, None);
                }
                let json = serde_json::from_str(&e.data).unwrap_or_else(|err| {
                    panic!("{}: data is not JSON ({err}): {}", fixture.file, e.data)
                });
                (e.name, Some(json))
            })
            .collect()
    }

    #[test]
    fn every_fixture_exists_is_listed_and_is_valid_for_its_protocol() {
        let fixtures = stream_fixtures();
        assert!(fixtures.len() >= 15, "{} fixtures", fixtures.len());

        let mut listed: Vec<&str> = fixtures.iter().map(|f| f.file.as_str()).collect();
        listed.sort_unstable();
        let mut on_disk: Vec<String> = std::fs::read_dir(streams_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".sse"))
            .collect();
        on_disk.sort_unstable();
        assert_eq!(listed, on_disk, "expected.json and the .sse files disagree");

        for fixture in &fixtures {
            let bytes = fixture.bytes();
            assert!(bytes.len() < 4096, "{} is too big to read", fixture.file);
            let payloads = payloads(fixture);
            assert!(!payloads.is_empty(), "{} has no events", fixture.file);
            let done_at = payloads.iter().position(|(_, json)| json.is_none());
            match fixture.protocol {
                Protocol::OpenAi => {
                    if let Some(at) = done_at {
                        assert_eq!(at, payloads.len() - 1, "{}: [DONE] is last", fixture.file);
                    }
                    for (name, json) in payloads.iter().filter_map(|(n, j)| Some((n, j.as_ref()?)))
                    {
                        assert_eq!(name, &None, "{}: no event names", fixture.file);
                        assert!(
                            json["choices"].is_array() || json["error"].is_object(),
                            "{}: neither a chunk nor an error: {json}",
                            fixture.file
                        );
                    }
                }
                Protocol::Anthropic => {
                    assert_eq!(done_at, None, "{}: no [DONE]", fixture.file);
                    for (name, json) in &payloads {
                        let json = json.as_ref().unwrap();
                        assert_eq!(
                            name.as_deref(),
                            json["type"].as_str(),
                            "{}: the event name is the payload's type",
                            fixture.file
                        );
                    }
                    assert_eq!(payloads[0].0.as_deref(), Some("message_start"));
                }
                Protocol::Gemini => {
                    assert_eq!(done_at, None, "{}: no [DONE]", fixture.file);
                    for (name, json) in &payloads {
                        assert_eq!(name, &None, "{}: no event names", fixture.file);
                        assert!(json.as_ref().unwrap()["candidates"].is_array());
                    }
                }
            }
        }
    }

    #[test]
    fn gemini_fixtures_keep_their_crlf_framing() {
        for file in ["gemini-basic.sse", "gemini-truncated.sse"] {
            let bytes = stream_bytes(file);
            assert!(bytes.ends_with(b"\r\n\r\n"), "{file}");
            let bare_lf = bytes
                .iter()
                .enumerate()
                .any(|(i, &b)| b == b'\n' && (i == 0 || bytes[i - 1] != b'\r'));
            assert!(
                !bare_lf,
                "{file} lost its CRLF framing (check .gitattributes)"
            );
        }
    }

    /// What a naive whole-stream decoder makes of a fixture: the check that
    /// `expected.json` says what the bytes say.
    fn decode(fixture: &StreamFixture) -> StreamFixture {
        let mut out = StreamFixture {
            text: String::new(),
            reasoning: None,
            tokens_in: None,
            tokens_out: None,
            terminated: false,
            refused: false,
            error: None,
            ..fixture.clone()
        };
        let mut reasoning = String::new();
        let mut saw_reasoning = false;
        let mut finished = false;
        for (_, json) in payloads(fixture) {
            let Some(json) = json else {
                finished = true; // [DONE]
                continue;
            };
            if let Some(message) = json["error"]["message"].as_str() {
                out.error = Some(message.to_owned());
                continue;
            }
            match fixture.protocol {
                Protocol::OpenAi => {
                    if json["usage"].is_object() {
                        out.tokens_in = json["usage"]["prompt_tokens"].as_u64();
                        out.tokens_out = json["usage"]["completion_tokens"].as_u64();
                    }
                    let choice = &json["choices"][0];
                    let delta = &choice["delta"];
                    if let Some(text) = delta["content"].as_str() {
                        out.text.push_str(text);
                    }
                    if let Some(text) = delta["refusal"].as_str().filter(|t| !t.is_empty()) {
                        out.refused = true;
                        out.text.push_str(text);
                    }
                    let thought = delta["reasoning_content"]
                        .as_str()
                        .or(delta["reasoning"].as_str());
                    if let Some(thought) = thought {
                        saw_reasoning = true;
                        reasoning.push_str(thought);
                    }
                    finished |= choice["finish_reason"].is_string();
                }
                Protocol::Anthropic => match json["type"].as_str().unwrap() {
                    "message_start" => {
                        let usage = &json["message"]["usage"];
                        out.tokens_in = usage["input_tokens"].as_u64();
                        out.tokens_out = usage["output_tokens"].as_u64();
                    }
                    "content_block_delta" => {
                        let delta = &json["delta"];
                        match delta["type"].as_str().unwrap() {
                            "text_delta" => out.text.push_str(delta["text"].as_str().unwrap()),
                            "thinking_delta" => {
                                saw_reasoning = true;
                                reasoning.push_str(delta["thinking"].as_str().unwrap());
                            }
                            _ => {}
                        }
                    }
                    "message_delta" => {
                        out.refused |= json["delta"]["stop_reason"] == "refusal";
                        let usage = &json["usage"];
                        out.tokens_out = usage["output_tokens"].as_u64().or(out.tokens_out);
                        out.tokens_in = usage["input_tokens"].as_u64().or(out.tokens_in);
                    }
                    "message_stop" => finished = true,
                    _ => {}
                },
                Protocol::Gemini => {
                    let usage = &json["usageMetadata"];
                    out.tokens_in = usage["promptTokenCount"].as_u64().or(out.tokens_in);
                    // Output counts every generated token, thoughts included (as billed).
                    out.tokens_out = usage["candidatesTokenCount"]
                        .as_u64()
                        .map(|c| c + usage["thoughtsTokenCount"].as_u64().unwrap_or(0))
                        .or(out.tokens_out);
                    let candidate = &json["candidates"][0];
                    for part in candidate["content"]["parts"]
                        .as_array()
                        .into_iter()
                        .flatten()
                    {
                        let Some(text) = part["text"].as_str() else {
                            continue;
                        };
                        if part["thought"] == true {
                            saw_reasoning = true;
                            reasoning.push_str(text);
                        } else {
                            out.text.push_str(text);
                        }
                    }
                    finished |= candidate["finishReason"].is_string();
                }
            }
        }
        out.reasoning = saw_reasoning.then_some(reasoning);
        out.terminated = finished && out.error.is_none();
        out
    }

    #[test]
    fn expected_json_matches_what_the_streams_say() {
        for fixture in stream_fixtures() {
            assert_eq!(decode(&fixture), fixture, "{}", fixture.file);
        }
    }

    #[test]
    fn fixtures_cover_what_the_client_must_handle() {
        let fixtures = stream_fixtures();
        let text_of = |file: &str| {
            fixtures
                .iter()
                .find(|f| f.file == file)
                .unwrap_or_else(|| panic!("{file} is missing"))
        };
        assert!(text_of("openai-basic.sse")
            .text
            .contains("naïve café — 東京"));
        assert!(text_of("openai-basic.sse").text.contains('🍣'));
        assert!(text_of("openai-comments-and-pings.sse")
            .text
            .contains('\u{2028}'));
        let pings = String::from_utf8(stream_bytes("openai-comments-and-pings.sse")).unwrap();
        for needle in [
            ": keep-alive\n",
            ": OPENROUTER PROCESSING\n",
            "\ndata:{",
            "\"usage\":null",
        ] {
            assert!(pings.contains(needle), "missing {needle:?}");
        }
        for fixture in &fixtures {
            let truncated = fixture.file.contains("truncated");
            let failed = fixture.file.contains("error");
            assert_eq!(
                fixture.terminated,
                !truncated && !failed,
                "{}",
                fixture.file
            );
            assert_eq!(fixture.error.is_some(), failed, "{}", fixture.file);
            assert_eq!(
                fixture.refused,
                fixture.file.contains("refusal"),
                "{}",
                fixture.file
            );
        }
    }
}
