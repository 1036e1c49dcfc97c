//! A loopback HTTP/1.1 proxy that injects network faults between a client and a SOAP server
//! (vcsim, or a fixture), for tests.
//!
//! ```no_run
//! use vim_sdk::testing::fault_proxy::{Fault, FaultProxy};
//! # async fn run(upstream: std::net::SocketAddr) -> std::io::Result<()> {
//! let proxy = FaultProxy::start(upstream).await?;
//! // The next RetrievePropertiesEx is answered with half its body, then a reset.
//! proxy.inject("RetrievePropertiesEx", Fault::ResetMidBody);
//! println!("point the client at {}", proxy.url());
//! # Ok(()) }
//! ```
//!
//! Every request the client sends is counted under its SOAP operation (the first element of
//! the envelope's `Body`; `GET`/`PUT` requests under `"GET /path"`), before any fault is
//! applied, so a test can tell whether a call was sent once or twice. Requests are forwarded
//! on one upstream connection per client connection; replies are read whole from the server
//! and then passed on (or broken, as the fault says). The proxy only ever listens on and
//! connects to 127.0.0.1. Either side may speak TLS: the client side with a certificate the
//! test gives ([`FaultProxy::start_with`]), the server side accepting any certificate
//! (it is the test's own loopback server).
//!
//! The proxy serves on a thread and runtime of its own, so it keeps answering while the
//! test's runtime is blocked: a `#[tokio::test]` (one thread) that runs a client process and
//! waits for it synchronously would otherwise starve a proxy spawned on that runtime, and
//! the client's first request would never be answered.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

/// Largest request or response head (status line and headers) the proxy reads.
const MAX_HEAD: usize = 64 * 1024;
/// Largest request or response body the proxy buffers.
const MAX_BODY: usize = 256 * 1024 * 1024;
/// Size of each chunk of an [`Fault::EndlessBody`].
const ENDLESS_CHUNK: usize = 64 * 1024;

/// What happens to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The request reaches the server; the client gets the reply's head and half its body,
    /// then the connection is reset (RST).
    ResetMidBody,
    /// The request reaches the server (which carries it out); the client's connection is then
    /// reset without a byte of the reply.
    DropAfterRequest,
    /// The request reaches the server; the client never gets a byte of the reply (the
    /// connection stays open until the client gives up).
    StallBeforeReply,
    /// The request reaches the server; the client gets the reply's head and half its body,
    /// then nothing more (the connection stays open until the client gives up).
    StallMidBody,
    /// The request does not reach the server; the client gets this reply instead.
    Reply(CannedReply),
    /// The request does not reach the server; the client gets status 200 and a chunked body
    /// that never ends (XML text after an envelope's start), until it stops reading.
    EndlessBody,
}

/// A reply [`Fault::Reply`] sends instead of the server's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedReply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// `Content-Encoding`, if any (e.g. `gzip` over a body that is not valid gzip).
    pub content_encoding: Option<String>,
    /// The body, sent with its `Content-Length`.
    pub body: Vec<u8>,
}

impl CannedReply {
    /// A reply of `status` with an HTML body, as a load balancer or a restarting server
    /// sends.
    pub fn html(status: u16, body: &str) -> Self {
        CannedReply {
            status,
            content_type: "text/html; charset=utf-8".into(),
            content_encoding: None,
            body: body.as_bytes().to_vec(),
        }
    }

    /// A `200` SOAP reply with these raw bytes as its body.
    pub fn xml(body: impl Into<Vec<u8>>) -> Self {
        CannedReply {
            status: 200,
            content_type: "text/xml; charset=utf-8".into(),
            content_encoding: None,
            body: body.into(),
        }
    }

    /// The same reply, labelled `Content-Encoding: gzip`.
    pub fn gzip_labelled(mut self) -> Self {
        self.content_encoding = Some("gzip".into());
        self
    }
}

/// How a [`FaultProxy`] talks to its upstream server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    /// Plain HTTP.
    Http(SocketAddr),
    /// HTTPS, any certificate accepted (a loopback test server).
    Https(SocketAddr),
}

#[derive(Default)]
struct Plan {
    /// Faults for the next requests of an operation (`"*"`: of any operation), in order.
    faults: BTreeMap<String, VecDeque<Fault>>,
    /// Faults for the next request of an operation whose body holds a text, in order; these
    /// come before [`Plan::faults`].
    matching: Vec<(String, Vec<u8>, Fault)>,
    counts: BTreeMap<String, usize>,
}

impl Plan {
    /// The fault for the request of `op` with `body`, taken from the plan.
    fn take(&mut self, op: &str, body: &[u8]) -> Option<Fault> {
        let holds =
            |needle: &[u8]| needle.is_empty() || body.windows(needle.len()).any(|w| w == needle);
        if let Some(i) = self
            .matching
            .iter()
            .position(|(o, needle, _)| o == op && holds(needle))
        {
            return Some(self.matching.remove(i).2);
        }
        let mut from = |key: &str| self.faults.get_mut(key).and_then(VecDeque::pop_front);
        from(op).or_else(|| from("*"))
    }
}

struct Shared {
    upstream: Mutex<Upstream>,
    plan: Mutex<Plan>,
    /// Bumped to close every open connection (a restart, or the proxy's end).
    generation: watch::Sender<u64>,
    endless_sent: AtomicU64,
    endless_done: AtomicBool,
    endless_notify: Notify,
    stalls: AtomicU64,
}

impl Shared {
    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running fault-injecting proxy on 127.0.0.1; stops (closing its connections) on drop.
pub struct FaultProxy {
    addr: SocketAddr,
    tls: bool,
    shared: Arc<Shared>,
    /// Ends the proxy's thread, whose runtime then drops every connection.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}
type BoxStream = Pin<Box<dyn Stream>>;

impl FaultProxy {
    /// A plain-HTTP proxy in front of the plain-HTTP server at `upstream`.
    pub async fn start(upstream: SocketAddr) -> io::Result<FaultProxy> {
        Self::start_with(Upstream::Http(upstream), None).await
    }

    /// A proxy in front of `upstream`, serving TLS with `tls` when given (else plain HTTP),
    /// on a thread of its own.
    pub async fn start_with(
        upstream: Upstream,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> io::Result<FaultProxy> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (generation, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            plan: Mutex::new(Plan::default()),
            generation,
            endless_sent: AtomicU64::new(0),
            endless_done: AtomicBool::new(false),
            endless_notify: Notify::new(),
            stalls: AtomicU64::new(0),
        });
        let is_tls = tls.is_some();
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let accept_shared = shared.clone();
        std::thread::Builder::new()
            .name("fault-proxy".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        _ = accept(listener, accept_shared, acceptor) => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime drops every connection's task, closing it.
            })?;
        Ok(FaultProxy {
            addr,
            tls: is_tls,
            shared,
            stop: Some(stop),
        })
    }

    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http(s)://127.0.0.1:PORT/sdk`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}/sdk", self.addr)
    }

    /// Applies `fault` to the next request of operation `op` (`"*"`: of any operation). Faults
    /// queue up: several for one operation apply to its next requests in turn.
    pub fn inject(&self, op: &str, fault: Fault) {
        self.shared
            .plan()
            .faults
            .entry(op.to_string())
            .or_default()
            .push_back(fault);
    }

    /// Applies `fault` to the next request of operation `op` whose body holds `text` (a
    /// moref's value, a property path): for answering one call among many of the same
    /// operation, such as the `RetrievePropertiesEx` reading a canned task's `info`.
    pub fn inject_when(&self, op: &str, text: &str, fault: Fault) {
        self.shared
            .plan()
            .matching
            .push((op.to_string(), text.as_bytes().to_vec(), fault));
    }

    /// How many requests of `op` the client has sent through the proxy.
    pub fn count(&self, op: &str) -> usize {
        self.shared.plan().counts.get(op).copied().unwrap_or(0)
    }

    /// The number of requests per operation so far.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.shared.plan().counts.clone()
    }

    /// Forgets the counts.
    pub fn reset_counts(&self) {
        self.shared.plan().counts.clear();
    }

    /// Points the proxy at another server (a restarted one) and closes every open connection,
    /// as a server restart does.
    pub fn set_upstream(&self, upstream: Upstream) {
        *self
            .shared
            .upstream
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = upstream;
        self.shared.generation.send_modify(|g| *g += 1);
    }

    /// How many requests were stalled ([`Fault::StallBeforeReply`], [`Fault::StallMidBody`])
    /// and then given up by the client.
    pub fn stalls_abandoned(&self) -> u64 {
        self.shared.stalls.load(Ordering::SeqCst)
    }

    /// Waits until the client has stopped reading an [`Fault::EndlessBody`] (the proxy's
    /// write failed), and returns how many body bytes the proxy managed to hand to the
    /// socket; `None` if that did not happen within `limit`.
    pub async fn endless_body_abandoned(&self, limit: Duration) -> Option<u64> {
        let wait = async {
            loop {
                let notified = self.shared.endless_notify.notified();
                if self.shared.endless_done.load(Ordering::SeqCst) {
                    return self.shared.endless_sent.load(Ordering::SeqCst);
                }
                notified.await;
            }
        };
        tokio::time::timeout(limit, wait).await.ok()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.generation.send_modify(|g| *g += 1);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Accepts client connections and serves each on a task of its own (on the proxy's runtime).
async fn accept(
    listener: TcpListener,
    shared: Arc<Shared>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let mut closed = shared.generation.subscribe();
            // Every close is a reset (RST): a fault that ends the connection is one.
            let _ = stream.set_zero_linger();
            let client: BoxStream = match acceptor {
                None => Box::pin(stream),
                Some(a) => match a.accept(stream).await {
                    Ok(s) => Box::pin(s),
                    Err(_) => return,
                },
            };
            tokio::select! {
                _ = serve(shared, client) => {}
                _ = closed.changed() => {}
            }
        });
    }
}

/// One HTTP message as read: the head (up to and including the blank line) and the body.
struct Message {
    head: Vec<u8>,
    body: Vec<u8>,
    /// The raw bytes of the body as framed on the wire (chunked framing kept).
    raw_body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<String> {
        let text = String::from_utf8_lossy(&self.head);
        text.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    fn start_line(&self) -> String {
        String::from_utf8_lossy(&self.head)
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    }

    fn wire(&self) -> Vec<u8> {
        let mut out = self.head.clone();
        out.extend_from_slice(&self.raw_body);
        out
    }
}

/// A buffered reader of HTTP/1.1 messages.
struct Reader<S> {
    stream: S,
    buf: Vec<u8>,
}

fn bad(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

impl<S: AsyncRead + Unpin> Reader<S> {
    async fn fill(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    async fn take(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if !self.fill().await? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    async fn line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                return Ok(self.buf.drain(..i + 2).collect());
            }
            if self.buf.len() > MAX_HEAD || !self.fill().await? {
                return Err(bad("no line end"));
            }
        }
    }

    /// The next message's head, or `None` at a clean end of stream.
    async fn head(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                return Ok(Some(self.buf.drain(..i + 4).collect()));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(bad("head too large"));
            }
            if !self.fill().await? {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
        }
    }

    /// A whole message; `to_close` reads a body without length until the end of stream.
    async fn message(&mut self, to_close: bool) -> io::Result<Option<Message>> {
        let Some(head) = self.head().await? else {
            return Ok(None);
        };
        let mut msg = Message {
            head,
            body: Vec::new(),
            raw_body: Vec::new(),
        };
        let chunked = msg
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if chunked {
            loop {
                let size_line = self.line().await?;
                msg.raw_body.extend_from_slice(&size_line);
                let text = String::from_utf8_lossy(&size_line);
                let size = usize::from_str_radix(text.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| bad("bad chunk size"))?;
                if msg.body.len() + size > MAX_BODY {
                    return Err(bad("body too large"));
                }
                let data = self.take(size + 2).await?;
                msg.body.extend_from_slice(&data[..size]);
                msg.raw_body.extend_from_slice(&data);
                if size == 0 {
                    break;
                }
            }
        } else if let Some(len) = msg.header("content-length") {
            let len: usize = len.parse().map_err(|_| bad("bad Content-Length"))?;
            if len > MAX_BODY {
                return Err(bad("body too large"));
            }
            msg.body = self.take(len).await?;
            msg.raw_body = msg.body.clone();
        } else if to_close {
            while self.fill().await? {
                if self.buf.len() > MAX_BODY {
                    return Err(bad("body too large"));
                }
            }
            msg.body = std::mem::take(&mut self.buf);
            msg.raw_body = msg.body.clone();
        }
        Ok(Some(msg))
    }
}

/// The SOAP operation of a request: the first element in the envelope's `Body`, without
/// prefix; `"<METHOD> <path>"` for a request that is not a SOAP POST.
fn operation(req: &Message) -> String {
    let start = req.start_line();
    let mut parts = start.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let body = String::from_utf8_lossy(&req.body);
    let soap_op = body.find(":Body").and_then(|i| {
        let rest = &body[i..];
        let open = rest.find('>')?;
        let after = &rest[open + 1..];
        let lt = after.find('<')?;
        let name: String = after[lt + 1..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        Some(name.rsplit(':').next().unwrap_or("").to_string())
    });
    match soap_op {
        Some(op) if method == "POST" && !op.is_empty() => op,
        _ => format!("{method} {}", path.split('?').next().unwrap_or("")),
    }
}

async fn connect_upstream(upstream: Upstream) -> io::Result<BoxStream> {
    match upstream {
        Upstream::Http(addr) => {
            let s = TcpStream::connect(addr).await?;
            let _ = s.set_nodelay(true);
            Ok(Box::pin(s))
        }
        Upstream::Https(addr) => {
            let s = TcpStream::connect(addr).await?;
            let _ = s.set_nodelay(true);
            let config = crate::transport::tls_client_config(&crate::transport::TlsMode::Insecure)
                .map_err(|e| io::Error::other(e.to_string()))?;
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
            Ok(Box::pin(connector.connect(name, s).await?))
        }
    }
}

/// Serves one client connection until it closes or a fault ends it (returning drops the
/// connection, which resets it).
async fn serve(shared: Arc<Shared>, client: BoxStream) {
    let (read_half, mut write_half) = tokio::io::split(client);
    let mut requests = Reader {
        stream: read_half,
        buf: Vec::new(),
    };
    let mut server: Option<(
        Reader<tokio::io::ReadHalf<BoxStream>>,
        tokio::io::WriteHalf<BoxStream>,
    )> = None;
    loop {
        let req = match requests.message(false).await {
            Ok(Some(r)) => r,
            _ => return,
        };
        let op = operation(&req);
        let fault = {
            let mut plan = shared.plan();
            *plan.counts.entry(op.clone()).or_insert(0) += 1;
            plan.take(&op, &req.body)
        };
        match &fault {
            Some(Fault::Reply(reply)) => {
                if write_half.write_all(&canned(reply)).await.is_err() {
                    return;
                }
                continue;
            }
            Some(Fault::EndlessBody) => {
                endless(&shared, &mut write_half).await;
                return;
            }
            _ => {}
        }
        // Forward to the server.
        if server.is_none() {
            let upstream = *shared
                .upstream
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let Ok(s) = connect_upstream(upstream).await else {
                return;
            };
            let (r, w) = tokio::io::split(s);
            server = Some((
                Reader {
                    stream: r,
                    buf: Vec::new(),
                },
                w,
            ));
        }
        let Some((from_server, to_server)) = server.as_mut() else {
            return;
        };
        if to_server.write_all(&req.wire()).await.is_err() {
            return;
        }
        let reply = match from_server.message(true).await {
            Ok(Some(m)) => m,
            _ => {
                return;
            }
        };
        let wire = reply.wire();
        let half = reply.head.len() + reply.raw_body.len() / 2;
        match fault {
            None => {
                if write_half.write_all(&wire).await.is_err() {
                    return;
                }
                if reply
                    .header("connection")
                    .is_some_and(|v| v.eq_ignore_ascii_case("close"))
                {
                    return;
                }
            }
            Some(Fault::ResetMidBody) => {
                let _ = write_half.write_all(&wire[..half]).await;
                let _ = write_half.flush().await;
                return;
            }
            Some(Fault::DropAfterRequest) => {
                return;
            }
            Some(Fault::StallBeforeReply) | Some(Fault::StallMidBody) => {
                if fault == Some(Fault::StallMidBody) {
                    let _ = write_half.write_all(&wire[..half]).await;
                    let _ = write_half.flush().await;
                }
                // Hold the connection until the client closes it.
                let mut sink = [0u8; 1024];
                while matches!(requests.stream.read(&mut sink).await, Ok(n) if n > 0) {}
                shared.stalls.fetch_add(1, Ordering::SeqCst);
                return;
            }
            Some(Fault::Reply(_)) | Some(Fault::EndlessBody) => return,
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn canned(reply: &CannedReply) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
        reply.status,
        reason(reply.status),
        reply.content_type,
        reply.body.len()
    );
    if let Some(enc) = &reply.content_encoding {
        head.push_str(&format!("Content-Encoding: {enc}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(&reply.body);
    out
}

/// Writes a never-ending chunked SOAP reply until the client stops reading.
async fn endless<W: AsyncWrite + Unpin>(shared: &Shared, out: &mut W) {
    let start = "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n";
    let prologue = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><RetrievePropertiesExResponse xmlns=\"urn:vim25\"><returnval>";
    let mut chunk = format!("{:x}\r\n", prologue.len()).into_bytes();
    chunk.extend_from_slice(prologue.as_bytes());
    chunk.extend_from_slice(b"\r\n");
    let filler: Vec<u8> = {
        let mut c = format!("{ENDLESS_CHUNK:x}\r\n").into_bytes();
        c.extend(std::iter::repeat_n(b' ', ENDLESS_CHUNK));
        c.extend_from_slice(b"\r\n");
        c
    };
    let mut ok =
        out.write_all(start.as_bytes()).await.is_ok() && out.write_all(&chunk).await.is_ok();
    shared
        .endless_sent
        .fetch_add(prologue.len() as u64, Ordering::SeqCst);
    while ok {
        ok = out.write_all(&filler).await.is_ok();
        if ok {
            shared
                .endless_sent
                .fetch_add(ENDLESS_CHUNK as u64, Ordering::SeqCst);
        }
    }
    shared.endless_done.store(true, Ordering::SeqCst);
    shared.endless_notify.notify_waiters();
}
