//! Response bodies (buffered or streamed to a blocking reader, gunzipped on the fly), the
//! streaming upload body and the request body written in pieces as it is sent.

use std::fmt;
use std::io::{self, BufRead, Read};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::{Frame, Incoming, SizeHint};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

use super::error::TransportError;
use crate::chunks::{ChunkBuf, ChunkSource};

/// How many body chunks may wait between the network task and a blocking reader. With the
/// chunk the reader works on, the batch being gathered and hyper's own read buffer, a
/// streamed body holds at most about five times [`READER_BATCH`] (its size does not matter):
/// a slow decoder slows the connection instead of letting chunks pile up.
const READER_CHANNEL_CHUNKS: usize = 2;

/// Small frames are joined up to this size before they are handed to a blocking reader:
/// servers send chunked bodies in pieces of a few KiB (vcsim: 4 KiB), and a thread wake-up
/// per piece costs more CPU than decoding it. The same as hyper's read buffer cap
/// ([`super::READ_BUFFER_MAX`]), so a frame that fills hyper's buffer goes on as it is.
const READER_BATCH: usize = super::READ_BUFFER_MAX;

/// The longest a gathered batch waits for the next frame before it is handed on anyway.
const BATCH_DELAY: Duration = Duration::from_millis(1);

/// Size of the chunks an upload reads from its source.
const UPLOAD_CHUNK: usize = 64 * 1024;

/// The inflated bytes of a gzip body, refusing to grow past `limit`.
struct CappedBuffer {
    bytes: Vec<u8>,
    limit: usize,
    exceeded: bool,
}

impl io::Write for CappedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() > self.limit - self.bytes.len() {
            self.exceeded = true;
            return Err(io::Error::other("the inflated body exceeds the limit"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The error of inflating into `buffer`: its limit, or the corrupt stream.
fn inflate_error(buffer: &CappedBuffer, e: io::Error) -> TransportError {
    if buffer.exceeded {
        TransportError::BodyTooLarge {
            limit: buffer.limit,
        }
    } else {
        TransportError::Io(e)
    }
}

/// Where the bytes of a [`ResponseBody`] come from.
enum Source {
    /// A live HTTP response.
    Http(Incoming),
    /// Bytes already in memory (what [`ResponseBody::from_bytes`] makes).
    Memory(Option<Bytes>),
}

/// The body of a response: read it whole with [`collect`](Self::collect), or stream it through
/// [`into_blocking_reader`](Self::into_blocking_reader). A `Content-Encoding: gzip` body is
/// inflated either way, so callers always see the decoded bytes.
///
/// Reading waits at most the transport's `read_idle_timeout` for each chunk. Dropping the body
/// before its end closes the connection instead of returning it to the pool.
pub struct ResponseBody {
    source: Source,
    /// Raw bytes already read from `source` (by [`collect_small`](Self::collect_small)),
    /// handed out before the rest.
    prefix: Option<Bytes>,
    gzip: bool,
    content_length: Option<u64>,
    idle_timeout: Duration,
    path: Arc<str>,
    handle: Option<tokio::runtime::Handle>,
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody")
            .field("path", &self.path)
            .field("gzip", &self.gzip)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

/// Converts a failed body read to the `io::Error` a reader returns.
fn to_io_error(err: TransportError) -> io::Error {
    match err {
        TransportError::Io(e) => e,
        e @ TransportError::Timeout { .. } => io::Error::new(io::ErrorKind::TimedOut, e),
        e => io::Error::other(e),
    }
}

impl ResponseBody {
    pub(crate) fn from_http(
        incoming: Incoming,
        gzip: bool,
        content_length: Option<u64>,
        idle_timeout: Duration,
        path: Arc<str>,
    ) -> Self {
        ResponseBody {
            source: Source::Http(incoming),
            prefix: None,
            gzip,
            content_length,
            idle_timeout,
            path,
            handle: tokio::runtime::Handle::try_current().ok(),
        }
    }

    /// A body holding `bytes` (already decoded), for tests and for layers that replay
    /// recorded responses.
    pub fn from_bytes(bytes: Bytes) -> Self {
        ResponseBody {
            content_length: Some(bytes.len() as u64),
            source: Source::Memory(Some(bytes)),
            prefix: None,
            gzip: false,
            idle_timeout: Duration::MAX,
            path: Arc::from(""),
            handle: None,
        }
    }

    /// The `Content-Length` the server announced (of the encoded body, before gunzip).
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// Whether the server sent the body gzip-encoded.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// The next non-empty chunk of the raw (still encoded) body, `None` at its end.
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, TransportError> {
        if let Some(prefix) = self.prefix.take() {
            return Ok(Some(prefix));
        }
        let idle = self.idle_timeout;
        match &mut self.source {
            Source::Memory(bytes) => Ok(bytes.take().filter(|b| !b.is_empty())),
            Source::Http(incoming) => loop {
                match tokio::time::timeout(idle, incoming.frame()).await {
                    Err(_) => {
                        return Err(TransportError::Timeout {
                            after: idle,
                            waiting_for: "response body",
                        })
                    }
                    Ok(None) => return Ok(None),
                    Ok(Some(Err(e))) => {
                        return Err(TransportError::Http {
                            message: format!("reading the response body failed: {e}"),
                            source: Some(Box::new(e)),
                        })
                    }
                    Ok(Some(Ok(frame))) => {
                        // Trailers carry nothing the SOAP layer needs; skip them.
                        if let Ok(data) = frame.into_data() {
                            if !data.is_empty() {
                                return Ok(Some(data));
                            }
                        }
                    }
                }
            },
        }
    }

    /// Reads the whole body, inflating it when it is gzip-encoded. Fails with
    /// [`TransportError::BodyTooLarge`] as soon as the decoded size would exceed `limit`
    /// bytes (a compressed body is also refused once its compressed size passes
    /// `limit + limit / 8 + 1 KiB`, which no honest gzip stream of `limit` bytes reaches).
    ///
    /// A gzip body is inflated chunk by chunk as it arrives, into the one buffer returned:
    /// memory peaks at `limit` plus a chunk, never at the compressed and the inflated body
    /// together.
    pub async fn collect(mut self, limit: usize) -> Result<Bytes, TransportError> {
        if !self.gzip && self.content_length.is_some_and(|n| n > limit as u64) {
            return Err(TransportError::BodyTooLarge { limit });
        }
        let raw_limit = if self.gzip {
            limit.saturating_add(limit / 8).saturating_add(1024)
        } else {
            limit
        };
        // Reserve the announced length up front (bounded by the limit) to avoid regrowing.
        let announced = self.content_length.unwrap_or(0).min(raw_limit as u64) as usize;
        let mut raw_len = 0usize;
        let decoded = if self.gzip {
            let mut inflate = flate2::write::MultiGzDecoder::new(CappedBuffer {
                bytes: Vec::with_capacity(announced.min(limit)),
                limit,
                exceeded: false,
            });
            while let Some(chunk) = self.next_chunk().await? {
                raw_len += chunk.len();
                if raw_len > raw_limit {
                    return Err(TransportError::BodyTooLarge { limit });
                }
                if let Err(e) = io::Write::write_all(&mut inflate, &chunk) {
                    return Err(inflate_error(inflate.get_ref(), e));
                }
            }
            if raw_len == 0 {
                Vec::new()
            } else {
                match inflate.try_finish() {
                    Ok(()) => std::mem::take(&mut inflate.get_mut().bytes),
                    Err(e) => return Err(inflate_error(inflate.get_ref(), e)),
                }
            }
        } else {
            let mut raw = Vec::with_capacity(announced);
            while let Some(chunk) = self.next_chunk().await? {
                if raw.len() + chunk.len() > raw_limit {
                    return Err(TransportError::BodyTooLarge { limit });
                }
                raw.extend_from_slice(&chunk);
            }
            raw_len = raw.len();
            raw
        };
        tracing::debug!(
            path = %self.path,
            wire_bytes = raw_len,
            bytes = decoded.len(),
            gzip = self.gzip,
            "response body received"
        );
        Ok(Bytes::from(decoded))
    }

    /// Reads the body whole if it is small and already on its way: [`Collected::Whole`] with
    /// the decoded bytes (as [`collect`](Self::collect) with `limit` gives them) when the raw
    /// (still encoded) body ends within `max_raw` bytes with no chunk coming more than `gap`
    /// after the previous one (or after the call); else [`Collected::Large`] with the body,
    /// whose bytes read so far come first when it is read on (streamed with
    /// [`into_blocking_reader`](Self::into_blocking_reader)). A body announcing a
    /// `Content-Length` above `max_raw` is handed back unread.
    ///
    /// For replies usually small but sometimes large: a small one is decoded where it is,
    /// without a thread; a large one, or one that pauses (a server still producing it), is
    /// streamed, so what came first is not held back while the rest is awaited.
    pub async fn collect_small(
        mut self,
        max_raw: usize,
        gap: Duration,
        limit: usize,
    ) -> Result<Collected, TransportError> {
        if self.content_length.is_some_and(|n| n > max_raw as u64) {
            return Ok(Collected::Large(self));
        }
        let mut raw = bytes::BytesMut::new();
        loop {
            // Waiting for a frame is cancel-safe: a frame not returned yet stays in the body.
            let chunk = match tokio::time::timeout(gap, self.next_chunk()).await {
                Ok(next) => match next? {
                    Some(chunk) => chunk,
                    None => break,
                },
                // A pause: stream the rest.
                Err(_) => {
                    self.prefix = Some(raw.freeze()).filter(|p| !p.is_empty());
                    return Ok(Collected::Large(self));
                }
            };
            if raw.is_empty() && chunk.len() > max_raw {
                self.prefix = Some(chunk);
                return Ok(Collected::Large(self));
            }
            raw.extend_from_slice(&chunk);
            if raw.len() > max_raw {
                self.prefix = Some(raw.freeze());
                return Ok(Collected::Large(self));
            }
        }
        self.source = Source::Memory(Some(raw.freeze()));
        self.content_length = None;
        self.collect(limit).await.map(Collected::Whole)
    }

    /// Reads at most about `raw_limit` raw bytes for an error message, waiting at most
    /// `wait` in total; returns what could be decoded, lossily, trimmed and cut to `max`
    /// bytes (plus an ellipsis when cut).
    pub(crate) async fn snippet(mut self, raw_limit: usize, wait: Duration, max: usize) -> String {
        let mut raw = Vec::new();
        let _ = tokio::time::timeout(wait, async {
            while raw.len() < raw_limit {
                match self.next_chunk().await {
                    Ok(Some(chunk)) => raw.extend_from_slice(&chunk),
                    _ => break,
                }
            }
        })
        .await;
        let decoded = if self.gzip {
            let mut out = Vec::new();
            // A partial stream is fine here: keep whatever inflated before the error.
            let _ = flate2::read::MultiGzDecoder::new(&raw[..])
                .take(max as u64)
                .read_to_end(&mut out);
            out
        } else {
            raw
        };
        let text = String::from_utf8_lossy(&decoded);
        let text = text.trim();
        if text.len() <= max {
            return text.to_string();
        }
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &text[..end])
    }

    /// Turns the body into a blocking [`BufRead`] that yields the decoded bytes as they
    /// arrive, so a decoder running in [`tokio::task::spawn_blocking`] can work on a reply
    /// without it ever being buffered whole.
    ///
    /// A task on the current tokio runtime feeds the reader through a bounded channel (a few
    /// chunks), so a slow reader applies back-pressure to the connection. Failures while
    /// streaming (connection reset, idle timeout — [`io::ErrorKind::TimedOut`] — or a corrupt
    /// gzip stream) surface as `io::Error`s from the reader.
    ///
    /// Call this inside a tokio runtime; read the result outside async code (blocking reads
    /// on a runtime thread would stall it, and panic on a current-thread runtime).
    pub fn into_blocking_reader(mut self) -> BlockingBodyReader {
        let gzip = self.gzip;
        let raw = if let Source::Memory(bytes) = &mut self.source {
            // `collect_small` leaves either the bytes or (having taken them) the prefix.
            let bytes = self.prefix.take().or_else(|| bytes.take());
            ChunkBuf::new(bytes.unwrap_or_default(), ChannelChunks::new(None))
        } else {
            let (tx, rx) = mpsc::channel(READER_CHANNEL_CHUNKS);
            let handle = self
                .handle
                .clone()
                .or_else(|| tokio::runtime::Handle::try_current().ok());
            match handle {
                Some(handle) => {
                    handle.spawn(feed(self, tx));
                }
                None => {
                    let _ = tx.try_send(Err(io::Error::other(
                        "into_blocking_reader called outside a tokio runtime",
                    )));
                }
            }
            ChunkBuf::new(Bytes::new(), ChannelChunks::new(Some(rx)))
        };
        let inner = if gzip {
            ReaderInner::GzipPending(Some(raw))
        } else {
            ReaderInner::Plain(raw)
        };
        BlockingBodyReader { inner }
    }
}

/// What [`ResponseBody::collect_small`] read.
#[derive(Debug)]
pub enum Collected {
    /// The whole body, decoded: it was small.
    Whole(Bytes),
    /// The body, larger than asked for, to be read on.
    Large(ResponseBody),
}

/// Moves the body's chunks into the channel until the end, an error, or the reader is gone.
///
/// Small frames are gathered into batches of up to [`READER_BATCH`] bytes; a batch is handed
/// on when full, at the end of the body, or when no frame came for [`BATCH_DELAY`], so a
/// trickling body still reaches the reader promptly.
async fn feed(mut body: ResponseBody, tx: mpsc::Sender<io::Result<Bytes>>) {
    let mut total = 0usize;
    let mut batch = bytes::BytesMut::new();
    loop {
        let next = if batch.is_empty() {
            tokio::select! {
                next = body.next_chunk() => next,
                // The reader was dropped: stop reading (the connection is closed with the body).
                _ = tx.closed() => return,
            }
        } else {
            match tokio::time::timeout(BATCH_DELAY, body.next_chunk()).await {
                Ok(next) => next,
                Err(_) => {
                    total += batch.len();
                    if tx.send(Ok(batch.split().freeze())).await.is_err() {
                        return;
                    }
                    continue;
                }
            }
        };
        match next {
            Ok(Some(chunk)) => {
                let ready = if batch.is_empty() && chunk.len() >= READER_BATCH {
                    chunk
                } else {
                    if batch.is_empty() {
                        batch.reserve(READER_BATCH);
                    }
                    batch.extend_from_slice(&chunk);
                    if batch.len() < READER_BATCH {
                        continue;
                    }
                    batch.split().freeze()
                };
                total += ready.len();
                if tx.send(Ok(ready)).await.is_err() {
                    return;
                }
            }
            Ok(None) => {
                if !batch.is_empty() {
                    total += batch.len();
                    if tx.send(Ok(batch.split().freeze())).await.is_err() {
                        return;
                    }
                }
                tracing::debug!(path = %body.path, wire_bytes = total, gzip = body.gzip,
                    "response body streamed");
                return;
            }
            Err(e) => {
                if !batch.is_empty() {
                    let _ = tx.send(Ok(batch.split().freeze())).await;
                }
                tracing::debug!(path = %body.path, wire_bytes = total, error = %e,
                    "response body stream failed");
                let _ = tx.send(Err(to_io_error(e))).await;
                return;
            }
        }
    }
}

/// The raw (still encoded) chunks of a body, as the feeding task sends them.
struct ChannelChunks {
    rx: Option<mpsc::Receiver<io::Result<Bytes>>>,
    /// Once the stream failed, every later read fails the same way (never a silent EOF).
    failed: Option<(io::ErrorKind, String)>,
    /// The error the stream failed with, as the feeding task sent it (see
    /// [`BlockingBodyReader::take_stream_error`]).
    cause: Option<io::Error>,
    /// Called before the reader blocks waiting for the network.
    on_wait: Option<WaitHook>,
}

/// See [`BlockingBodyReader::on_wait`].
type WaitHook = Box<dyn FnMut() + Send>;

impl ChannelChunks {
    fn new(rx: Option<mpsc::Receiver<io::Result<Bytes>>>) -> Self {
        ChannelChunks {
            rx,
            failed: None,
            cause: None,
            on_wait: None,
        }
    }
}

impl ChunkSource for ChannelChunks {
    fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        if let Some((kind, message)) = &self.failed {
            return Err(io::Error::new(*kind, message.clone()));
        }
        let Some(rx) = self.rx.as_mut() else {
            return Ok(None);
        };
        let next = match rx.try_recv() {
            Ok(next) => Some(next),
            Err(mpsc::error::TryRecvError::Disconnected) => None,
            Err(mpsc::error::TryRecvError::Empty) => {
                if let Some(hook) = &mut self.on_wait {
                    hook();
                }
                rx.blocking_recv()
            }
        };
        match next {
            Some(Ok(chunk)) => Ok(Some(chunk)),
            Some(Err(e)) => {
                let (kind, message) = (e.kind(), e.to_string());
                self.failed = Some((kind, message.clone()));
                self.cause = Some(e);
                self.rx = None;
                Err(io::Error::new(kind, message))
            }
            None => {
                self.rx = None;
                Ok(None)
            }
        }
    }
}

/// The raw chunks as a blocking `BufRead`.
type ChunkReader = ChunkBuf<ChannelChunks>;

enum ReaderInner {
    Plain(ChunkReader),
    /// A gzip body not read yet: flate2 parses the gzip header as soon as its decoder is
    /// built, which must not happen on the async thread that creates the reader.
    GzipPending(Option<ChunkReader>),
    Gzip(io::BufReader<flate2::bufread::MultiGzDecoder<ChunkReader>>),
}

/// A blocking reader over a streamed response body (see
/// [`ResponseBody::into_blocking_reader`]): yields the decoded bytes as they arrive.
pub struct BlockingBodyReader {
    inner: ReaderInner,
}

impl BlockingBodyReader {
    /// Sets `hook` to run on the reading thread each time the reader is about to wait for
    /// more of the body from the network, e.g. to hand on what was decoded so far instead of
    /// holding it while the connection is idle.
    pub fn on_wait(&mut self, hook: impl FnMut() + Send + 'static) {
        let raw = match &mut self.inner {
            ReaderInner::Plain(r) => r,
            ReaderInner::GzipPending(r) => r.as_mut().expect("pending gzip reader is present"),
            ReaderInner::Gzip(r) => r.get_mut().get_mut(),
        };
        raw.source_mut().on_wait = Some(Box::new(hook));
    }

    /// The transport failure that broke the body's stream (an idle timeout, a reset
    /// connection, a corrupt gzip stream), once a read has failed with it; `None` while the
    /// stream is whole. A decoder whose read failed can report this typed error instead of
    /// the I/O error its reader saw.
    pub fn take_stream_error(&mut self) -> Option<TransportError> {
        let raw = match &mut self.inner {
            ReaderInner::Plain(r) => r,
            ReaderInner::GzipPending(r) => r.as_mut()?,
            ReaderInner::Gzip(r) => r.get_mut().get_mut(),
        };
        let cause = raw.source_mut().cause.take()?;
        if !cause.get_ref().is_some_and(|e| e.is::<TransportError>()) {
            return Some(TransportError::Io(cause));
        }
        let inner = cause.into_inner()?.downcast::<TransportError>().ok()?;
        Some(*inner)
    }

    /// The next piece of the decoded body, `Ok(None)` at its end: the chunks as they came
    /// (plain bodies, without copying) or up to 64 KiB inflated (gzip bodies). For
    /// [`XmlReader::from_chunks`](crate::xml::XmlReader::from_chunks).
    pub fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        self.start_gzip();
        match &mut self.inner {
            ReaderInner::Plain(r) => r.take_chunk(),
            ReaderInner::Gzip(r) => {
                let mut buf = vec![0u8; UPLOAD_CHUNK];
                let n = r.read(&mut buf)?;
                buf.truncate(n);
                Ok((n > 0).then(|| Bytes::from(buf)))
            }
            ReaderInner::GzipPending(_) => unreachable!("started above"),
        }
    }

    /// Builds the gzip decoder on first use (see [`ReaderInner::GzipPending`]).
    #[cold]
    fn start_gzip(&mut self) {
        if let ReaderInner::GzipPending(raw) = &mut self.inner {
            let raw = raw.take().expect("pending gzip reader is present");
            self.inner = ReaderInner::Gzip(io::BufReader::new(
                flate2::bufread::MultiGzDecoder::new(raw),
            ));
        }
    }
}

impl fmt::Debug for BlockingBodyReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gzip = !matches!(self.inner, ReaderInner::Plain(_));
        f.debug_struct("BlockingBodyReader")
            .field("gzip", &gzip)
            .finish_non_exhaustive()
    }
}

// The XML reader calls `fill_buf` and `consume` for nearly every token: the plain case is
// matched directly rather than through a `dyn BufRead`.
impl Read for BlockingBodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.start_gzip();
        match &mut self.inner {
            ReaderInner::Plain(r) => r.read(buf),
            ReaderInner::Gzip(r) => r.read(buf),
            ReaderInner::GzipPending(_) => unreachable!("started above"),
        }
    }
}

impl BufRead for BlockingBodyReader {
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if let ReaderInner::GzipPending(_) = self.inner {
            self.start_gzip();
        }
        match &mut self.inner {
            ReaderInner::Plain(r) => r.fill_buf(),
            ReaderInner::Gzip(r) => r.fill_buf(),
            ReaderInner::GzipPending(_) => unreachable!("started above"),
        }
    }

    #[inline]
    fn consume(&mut self, amt: usize) {
        match &mut self.inner {
            ReaderInner::Plain(r) => r.consume(amt),
            ReaderInner::Gzip(r) => r.consume(amt),
            // Nothing was read yet, so there is nothing to consume.
            ReaderInner::GzipPending(_) => {}
        }
    }
}

/// Progress and completion of an upload, shared with the watchdog in `put_stream`.
#[derive(Debug)]
pub(crate) struct UploadActivity {
    start: Instant,
    /// Milliseconds since `start` at the last chunk handed to the connection.
    last_ms: AtomicU64,
    /// Whether the whole declared length has been handed over.
    done: AtomicBool,
}

impl UploadActivity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(UploadActivity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            done: AtomicBool::new(false),
        })
    }

    fn touch(&self) {
        let ms = self.start.elapsed().as_millis().min(u64::MAX as u128) as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Time since the last chunk (or since the start).
    pub(crate) fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }

    /// Whether the body has been handed over completely.
    pub(crate) fn is_done(&self) -> bool {
        self.done.load(Ordering::Relaxed)
    }
}

/// A request body read from an [`AsyncRead`] in chunks, exactly `remaining` bytes long, without
/// buffering more than one chunk. Calls `progress` with each chunk's size as it is handed to
/// the connection.
pub(crate) struct UploadBody<R> {
    reader: R,
    remaining: u64,
    buf: Vec<u8>,
    progress: Box<dyn Fn(u64) + Send>,
    activity: Arc<UploadActivity>,
}

impl<R> UploadBody<R> {
    pub(crate) fn new(
        reader: R,
        content_length: u64,
        progress: Box<dyn Fn(u64) + Send>,
        activity: Arc<UploadActivity>,
    ) -> Self {
        let cap = content_length.min(UPLOAD_CHUNK as u64) as usize;
        if content_length == 0 {
            activity.done.store(true, Ordering::Relaxed);
        }
        UploadBody {
            reader,
            remaining: content_length,
            buf: vec![0; cap],
            progress,
            activity,
        }
    }
}

impl<R: AsyncRead + Unpin> hyper::body::Body for UploadBody<R> {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let want = this.remaining.min(this.buf.len() as u64) as usize;
        let mut read_buf = ReadBuf::new(&mut this.buf[..want]);
        match Pin::new(&mut this.reader).poll_read(cx, &mut read_buf) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) => {
                let n = read_buf.filled().len();
                if n == 0 {
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "upload source ended {} bytes short of the declared length",
                            this.remaining
                        ),
                    ))));
                }
                this.remaining -= n as u64;
                let chunk = Bytes::copy_from_slice(&this.buf[..n]);
                this.activity.touch();
                if this.remaining == 0 {
                    this.activity.done.store(true, Ordering::Relaxed);
                }
                (this.progress)(n as u64);
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// A request body that arrives in pieces through a channel from the task writing it, exactly
/// `remaining` bytes long: the channel's bound is all it buffers.
pub(crate) struct PiecesBody {
    pieces: mpsc::Receiver<Bytes>,
    remaining: u64,
}

impl PiecesBody {
    pub(crate) fn new(pieces: mpsc::Receiver<Bytes>, content_length: u64) -> Self {
        PiecesBody {
            pieces,
            remaining: content_length,
        }
    }
}

impl hyper::body::Body for PiecesBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        match this.pieces.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(piece)) => {
                let n = piece.len() as u64;
                if n > this.remaining {
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the request body runs past its declared length",
                    ))));
                }
                this.remaining -= n;
                Poll::Ready(Some(Ok(Frame::data(piece))))
            }
            Poll::Ready(None) if this.remaining == 0 => Poll::Ready(None),
            Poll::Ready(None) => Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the request body ended {} bytes short of its declared length",
                    this.remaining
                ),
            )))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn chunk_reader_reports_errors_again_after_the_first() {
        let (tx, rx) = mpsc::channel(4);
        tx.try_send(Ok(Bytes::from_static(b"abc"))).unwrap();
        tx.try_send(Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset")))
            .unwrap();
        drop(tx);
        let mut r = ChunkBuf::new(Bytes::new(), ChannelChunks::new(Some(rx)));
        let mut buf = [0u8; 8];
        assert_eq!(r.read(&mut buf).unwrap(), 3);
        assert_eq!(&buf[..3], b"abc");
        assert_eq!(
            r.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::ConnectionReset
        );
        assert_eq!(
            r.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::ConnectionReset
        );
    }

    #[test]
    fn gzip_reader_over_chunks_inflates() {
        let data = b"hello hello hello hello gzip".repeat(100);
        let compressed = gzip(&data);
        let (tx, rx) = mpsc::channel(1024);
        for piece in compressed.chunks(7) {
            tx.try_send(Ok(Bytes::copy_from_slice(piece))).unwrap();
        }
        drop(tx);
        let raw = ChunkBuf::new(Bytes::new(), ChannelChunks::new(Some(rx)));
        let mut r = BlockingBodyReader {
            inner: ReaderInner::GzipPending(Some(raw)),
        };
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
    }

    #[tokio::test]
    async fn memory_body_collects_and_enforces_limit() {
        let body = ResponseBody::from_bytes(Bytes::from_static(b"0123456789"));
        assert_eq!(&body.collect(10).await.unwrap()[..], b"0123456789");
        let body = ResponseBody::from_bytes(Bytes::from_static(b"0123456789"));
        assert!(matches!(
            body.collect(9).await,
            Err(TransportError::BodyTooLarge { limit: 9 })
        ));
        let mut r = ResponseBody::from_bytes(Bytes::from_static(b"xyz")).into_blocking_reader();
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "xyz");
    }

    #[tokio::test]
    async fn pieces_body_is_exactly_its_declared_length() {
        let body = |pieces: &[&'static [u8]], length: u64| {
            let (tx, rx) = mpsc::channel(pieces.len().max(1));
            for p in pieces {
                tx.try_send(Bytes::from_static(p)).unwrap();
            }
            PiecesBody::new(rx, length)
        };
        let whole = body(&[b"<a>", b"12", b"</a>"], 9).collect().await.unwrap();
        assert_eq!(&whole.to_bytes()[..], b"<a>12</a>");
        let short = body(&[b"<a>", b"12"], 9).collect().await.unwrap_err();
        assert_eq!(short.kind(), io::ErrorKind::UnexpectedEof, "{short}");
        let long = body(&[b"<a>", b"12", b"</a>!"], 9)
            .collect()
            .await
            .unwrap_err();
        assert_eq!(long.kind(), io::ErrorKind::InvalidData, "{long}");
    }
}
