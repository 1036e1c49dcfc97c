//! The SOAP client: one endpoint, one session cookie, the negotiated API version.
//!
//! Every call runs in a `tracing` span `vim_call` (fields `method`, `object`) and ends with a
//! `debug` event giving the status, the bytes sent and received and the duration. Setting
//! `VIM_SDK_WIRE_DUMP=<dir>` (or calling [`Client::set_wire_dump`]) writes each request and
//! response body there, with passwords, session ids and the session cookie redacted (see
//! [`crate::trace`]).
//!
//! [`Client::connect`] is the convenient entry point: it builds the transport, negotiates the
//! version, logs in and returns a [`Session`].

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tracing::Instrument as _;

use crate::error::{Error, ErrorKind};
use crate::session::{ConnectOptions, Session};
use crate::soap::{Request, Response};
use crate::trace::WireDump;
use crate::transport::{SoapResponse, Transport};
use crate::xml::{Limits, ManagedObjectReference, XmlWriter};

/// The API version sent in `SOAPAction` until one is negotiated.
pub const DEFAULT_API_VERSION: &str = "8.0.2.0";

/// Default of the largest reply body accepted by [`Client::invoke`] (decompressed); set
/// another with [`TransportConfig::max_body`](crate::transport::TransportConfig::max_body).
pub const DEFAULT_MAX_BODY: usize = crate::transport::TransportConfig::DEFAULT_MAX_BODY;

/// Default of [`Client::max_pages`]: with 1,000 objects a page, ten million objects.
pub const DEFAULT_MAX_PAGES: usize = 10_000;

/// A future returned by a [`ReloginHook`].
pub type ReloginFuture = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// Logs a client in again after its session was lost (see [`Client::set_relogin`]). It is given
/// a clone of the client, whose cookie has been cleared, and the lost session's cookie (to
/// replace it where it was kept, e.g. in a session cache).
pub type ReloginHook = Arc<dyn Fn(Client, Option<String>) -> ReloginFuture + Send + Sync>;

struct State {
    cookie: Option<String>,
    version: String,
    level: Option<u8>,
    last_activity: Instant,
    relogin: Option<ReloginHook>,
    dump: Option<Arc<WireDump>>,
    /// Values redacted wherever they appear in the wire dump (session keys).
    dump_secrets: Vec<String>,
    /// What replies are decoded under (`max_bytes` aside: see [`Client::decode_limits`]).
    limits: Limits,
    /// The default page limit of property streams.
    max_pages: usize,
}

/// A client for one vSphere endpoint. Cheap to clone: clones share the connection pool and the
/// session.
#[derive(Clone)]
pub struct Client {
    transport: Transport,
    state: Arc<Mutex<State>>,
    relogin_lock: Arc<tokio::sync::Mutex<()>>,
    /// The server's `ServiceContent`, once read (it does not change during a connection).
    content: Arc<tokio::sync::OnceCell<Arc<crate::types::ServiceContent>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("transport", &self.transport)
            .field("version", &self.api_version())
            .finish()
    }
}

impl Client {
    /// A client over `transport`, speaking [`DEFAULT_API_VERSION`] until told otherwise.
    ///
    /// When the environment variable [`WIRE_DUMP_ENV`](crate::trace::WIRE_DUMP_ENV) names a
    /// directory, request and response bodies are dumped there (redacted).
    pub fn new(transport: Transport) -> Self {
        let dump = std::env::var_os(crate::trace::WIRE_DUMP_ENV)
            .filter(|d| !d.is_empty())
            .map(|d| Arc::new(WireDump::new(PathBuf::from(d))));
        Client {
            transport,
            state: Arc::new(Mutex::new(State {
                cookie: None,
                version: DEFAULT_API_VERSION.into(),
                level: None,
                last_activity: Instant::now(),
                relogin: None,
                dump,
                dump_secrets: Vec::new(),
                limits: Limits::default(),
                max_pages: DEFAULT_MAX_PAGES,
            })),
            relogin_lock: Arc::new(tokio::sync::Mutex::new(())),
            content: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// The server's `ServiceContent` (its managers and `about`): read with one
    /// `RetrieveServiceContent` the first time (no login needed), then kept for the life of
    /// the client and its clones.
    pub async fn service_content(&self) -> Result<Arc<crate::types::ServiceContent>, Error> {
        self.content
            .get_or_try_init(|| async {
                let content = self
                    .service_instance()
                    .retrieve_service_content(self)
                    .await?;
                Ok(Arc::new(content))
            })
            .await
            .cloned()
    }

    /// Keeps `content` as the server's `ServiceContent` (for a session that has just read
    /// it), unless one is kept already.
    pub fn remember_service_content(&self, content: &crate::types::ServiceContent) {
        if !self.content.initialized() {
            self.share_service_content(Arc::new(content.clone()));
        }
    }

    /// Like [`remember_service_content`](Self::remember_service_content), without a copy:
    /// the client keeps `content` itself, unless one is kept already.
    pub(crate) fn share_service_content(&self, content: Arc<crate::types::ServiceContent>) {
        let _ = self.content.set(content);
    }

    /// The `ServiceContent` already retrieved or remembered, without a round trip.
    pub(crate) fn known_service_content(&self) -> Option<Arc<crate::types::ServiceContent>> {
        self.content.get().cloned()
    }

    /// Connects to `url` (`https://[user@]host[:port][/sdk]`): builds the transport with the
    /// options' TLS policy, negotiates the API version, retrieves the `ServiceContent` and logs
    /// in (or reuses a cached session). See [`Session`].
    ///
    /// A user in the URL's userinfo takes precedence over the options' and is removed from
    /// the URL the transport sees. A URL carrying a password is refused with
    /// [`ErrorKind::PasswordInUrl`](crate::ErrorKind::PasswordInUrl) before anything is sent:
    /// the password comes from
    /// [`ConnectOptions::credentials`](crate::session::ConnectOptions::credentials).
    pub async fn connect(url: &str, options: ConnectOptions) -> Result<Session, Error> {
        crate::session::connect(url, options).await
    }

    /// Resumes the session cached for `url`, the user (the URL's, else
    /// [`ConnectOptions::user`](crate::session::ConnectOptions::user)) and the TLS policy in
    /// [`ConnectOptions::session_cache`](crate::session::ConnectOptions::session_cache),
    /// without credentials: the entry's cookie and version, one `RetrieveServiceContent`
    /// and one read of `currentSession` that must name the user. No `Login` is ever sent:
    /// when there is no usable cached session the answer is `Ok(Err(_))` saying why
    /// ([`NoCachedSession`](crate::session::NoCachedSession); a stale entry is removed), and
    /// the caller logs in ([`Client::connect`]). [`Client::connect`] starts the same way.
    /// The session is left in the cache on close unless the options say otherwise.
    pub async fn resume_cached(
        url: &str,
        options: ConnectOptions,
    ) -> Result<Result<Session, crate::session::NoCachedSession>, Error> {
        crate::session::resume_cached(url, options).await
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The transport.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The limits every reply is decoded under: element nesting, `anyType` nesting and the
    /// decoded-size budget of [`set_decode_limits`](Self::set_decode_limits) (default
    /// [`Limits::default`]), with `max_bytes` the transport's reply size cap
    /// ([`TransportConfig::max_body`](crate::transport::TransportConfig::max_body)).
    pub fn decode_limits(&self) -> Limits {
        Limits {
            max_bytes: self.transport.config().max_body as u64,
            ..self.state().limits
        }
    }

    /// Sets the limits replies are decoded under from now on (this client and its clones;
    /// also [`ConnectOptions::decode_limits`](crate::session::ConnectOptions::decode_limits)):
    /// a reply nested deeper, or costing more, fails with a typed
    /// [`DecodeErrorKind`](crate::xml::DecodeErrorKind). `limits.max_bytes` is not used: the
    /// reply size cap is the transport's.
    pub fn set_decode_limits(&self, limits: Limits) {
        self.state().limits = limits;
    }

    /// How many `RetrievePropertiesEx` pages a property stream follows before it fails with
    /// [`ErrorKind::TooManyPages`] (default [`DEFAULT_MAX_PAGES`]; a stream can set its own).
    pub fn max_pages(&self) -> usize {
        self.state().max_pages
    }

    /// Sets [`max_pages`](Self::max_pages) for the streams started from now on (also
    /// [`ConnectOptions::max_pages`](crate::session::ConnectOptions::max_pages)).
    pub fn set_max_pages(&self, pages: usize) {
        self.state().max_pages = pages;
    }

    /// The longest a call should ask the server to hold its reply (`WaitForUpdatesEx`'s
    /// `maxWaitSeconds`), in whole seconds: half the transport's call timeout (at least one),
    /// so that the wait ends before the call times out.
    pub fn longest_server_wait(&self) -> i32 {
        let half = self.transport.config().call_timeout.as_secs() / 2;
        i32::try_from(half).unwrap_or(i32::MAX).max(1)
    }

    /// The API version sent as `SOAPAction: urn:vim25/<version>`.
    pub fn api_version(&self) -> String {
        self.state().version.clone()
    }

    /// Sets the API version to speak; fields and parameters the model first saw in a release
    /// newer than `version` are then not sent.
    pub fn set_api_version(&self, version: &str) {
        let level = server_level(version);
        let mut s = self.state();
        s.version = version.to_string();
        s.level = Some(level);
    }

    /// The session cookie, if logged in (a secret: never log it).
    pub fn session_cookie(&self) -> Option<String> {
        self.state().cookie.clone()
    }

    /// Replaces the session cookie (e.g. from a session cache).
    pub fn set_session_cookie(&self, cookie: Option<String>) {
        self.state().cookie = cookie;
    }

    /// How long since the last call was sent (or since the client was made).
    pub fn idle_for(&self) -> Duration {
        self.state().last_activity.elapsed()
    }

    /// Dumps request and response bodies into `dir` (redacted, see [`crate::trace`]), or stops
    /// dumping with `None`.
    pub fn set_wire_dump(&self, dir: Option<PathBuf>) {
        self.state().dump = dir.map(|d| Arc::new(WireDump::new(d)));
    }

    /// Redacts `secret` wherever it appears in the wire dump from now on (besides the secret
    /// elements [`crate::trace::redact_call`] knows). A session records its `UserSession.key`
    /// here when it logs in.
    pub fn redact_in_dumps(&self, secret: &str) {
        let mut s = self.state();
        if !s.dump_secrets.iter().any(|k| k == secret) {
            s.dump_secrets.push(secret.to_string());
        }
    }

    /// The directory bodies are dumped into, if any.
    pub fn wire_dump_dir(&self) -> Option<PathBuf> {
        self.state().dump.as_ref().map(|d| d.dir().to_path_buf())
    }

    /// Installs (or removes) the hook [`with_relogin`](Self::with_relogin) uses to log in
    /// again. [`Client::connect`] installs one holding the credentials when
    /// [`ConnectOptions::relogin`] is set.
    pub fn set_relogin(&self, hook: Option<ReloginHook>) {
        self.state().relogin = hook;
    }

    /// Whether a re-login hook is installed.
    pub fn has_relogin(&self) -> bool {
        self.state().relogin.is_some()
    }

    /// Runs `call` and, if it fails with `NotAuthenticated` (the session expired or was
    /// terminated) and a re-login hook is installed, logs in again and runs `call` once more.
    ///
    /// Only wrap idempotent calls (reads, or changes that are safe to repeat): the first attempt
    /// may have been carried out before the fault. Concurrent callers that lose the session at
    /// the same time share one new login.
    pub async fn with_relogin<T, F, Fut>(&self, call: F) -> Result<T, Error>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let before = self.session_cookie();
        match call(self.clone()).await {
            Err(e) if e.is_not_authenticated() && self.has_relogin() => {
                tracing::info!(method = %e.method, "session lost (NotAuthenticated); logging in again");
                self.relogin(before).await?;
                call(self.clone()).await
            }
            other => other,
        }
    }

    /// Logs in again through the hook unless another task did since `lost` was the cookie.
    pub(crate) async fn relogin(&self, lost: Option<String>) -> Result<(), Error> {
        let _guard = self.relogin_lock.lock().await;
        if self.session_cookie() != lost {
            return Ok(());
        }
        let Some(hook) = self.state().relogin.clone() else {
            return Ok(());
        };
        self.set_session_cookie(None);
        hook(self.clone(), lost).await
    }

    /// The `ServiceInstance` handle every session starts from.
    pub fn service_instance(&self) -> crate::mo::ServiceInstance {
        crate::mo::ServiceInstance::from_ref(ManagedObjectReference::new(
            "ServiceInstance",
            "ServiceInstance",
        ))
    }

    /// Starts a request for `op` on `this`.
    pub fn request(&self, op: &'static str, this: &ManagedObjectReference) -> Request {
        Request::new(op, this, self.state().level)
    }

    /// Sends a request and returns the reply with its body not yet read (status 200 or 500), so
    /// that it can be decoded as it arrives; a session cookie it sets is kept.
    ///
    /// Runs in a `vim_call` span; the response body is not dumped (it is streamed), the
    /// request is. A read among [`RETRIED_READS`] whose connection fails before the reply's
    /// headers arrive is sent once more (as by [`invoke`](Self::invoke)); a failure while the
    /// caller reads the body is the caller's to handle.
    pub async fn send(&self, req: Request) -> Result<SoapResponse, Error> {
        let span = call_span(req.op(), req.object());
        let op = req.op();
        let object = req.object().to_string();
        let body = bytes::Bytes::from(req.finish());
        retried_once(op, || self.send_body(op, &object, body.clone(), None))
            .instrument(span)
            .await
    }

    /// As [`send`](Self::send), with `pieces` more parameters after those already in `req`,
    /// each written by `write(i, writer)` (`i` in `0..pieces`) as the connection takes the
    /// body: memory holds a few pieces of the envelope at a time, never all of it, whatever
    /// its size (e.g. a `QueryPerf` of 10,000 entities). `write` must write the same bytes
    /// each time it is called with the same `i`: the pieces are written once to measure the
    /// body (servers are sent a `Content-Length`, not a chunked body), once more as it is
    /// sent, and again if the call is sent once more (as [`send`](Self::send) does for a
    /// read whose connection fails). With a wire dump on, the body is written whole, as
    /// the dump shows it.
    pub async fn send_pieces(
        &self,
        mut req: Request,
        pieces: usize,
        mut write: impl FnMut(usize, &mut XmlWriter),
    ) -> Result<SoapResponse, Error> {
        if self.state().dump.is_some() {
            for i in 0..pieces {
                write(i, req.writer());
            }
            return self.send(req).await;
        }
        let span = call_span(req.op(), req.object());
        let op = req.op();
        let object = req.object().to_string();
        let (head, tail, mut w) = req.split();
        let mut length = (head.len() + tail.len()) as u64;
        for i in 0..pieces {
            w.clear();
            write(i, &mut w);
            length += w.as_bytes().len() as u64;
        }
        let (head, tail) = (bytes::Bytes::from(head), bytes::Bytes::from(tail));
        // The writer and its buffer, used by one attempt at a time.
        let writing = tokio::sync::Mutex::new((write, w));
        let (head, tail, object, writing) = (&head, &tail, object.as_str(), &writing);
        let attempt = move || async move {
            let (tx, rx) = tokio::sync::mpsc::channel(REQUEST_PIECES);
            let body = OutBody::Pieces { length, rx };
            let feed = async {
                // Owned here, so that the body ends if the writing stops early.
                let tx = tx;
                let mut writing = writing.lock().await;
                let (write, w) = &mut *writing;
                let piece = |w: &XmlWriter| bytes::Bytes::copy_from_slice(w.as_bytes());
                if tx.send(head.clone()).await.is_err() {
                    return;
                }
                w.clear();
                for i in 0..pieces {
                    write(i, w);
                    if w.as_bytes().len() >= REQUEST_PIECE {
                        if tx.send(piece(w)).await.is_err() {
                            return;
                        }
                        w.clear();
                    }
                }
                if !w.as_bytes().is_empty() && tx.send(piece(w)).await.is_err() {
                    return;
                }
                let _ = tx.send(tail.clone()).await;
            };
            let (sent, ()) = tokio::join!(self.send_body(op, object, body, None), feed);
            sent
        };
        retried_once(op, attempt).instrument(span).await
    }

    async fn send_body(
        &self,
        op: &'static str,
        object: &str,
        body: impl Into<OutBody>,
        seq: Option<u64>,
    ) -> Result<SoapResponse, Error> {
        let body = body.into();
        let object = object.to_string();
        let (action, cookie, dump, dump_secrets) = {
            let mut s = self.state();
            s.last_activity = Instant::now();
            let secrets = if s.dump.is_some() {
                s.dump_secrets.clone()
            } else {
                Vec::new()
            };
            (
                format!("urn:vim25/{}", s.version),
                s.cookie.clone(),
                s.dump.clone(),
                secrets,
            )
        };
        let bytes_out = body.len();
        if let (Some(d), OutBody::Whole(body)) = (&dump, &body) {
            let seq = seq.unwrap_or_else(crate::trace::next_sequence);
            let mut secrets = vec![cookie.as_deref()];
            secrets.extend(dump_secrets.iter().map(|k| Some(k.as_str())));
            d.write(seq, op, "request", body, &secrets);
        }
        let started = Instant::now();
        let sent = match body {
            OutBody::Whole(body) => {
                self.transport
                    .soap_call(&action, cookie.as_deref(), body)
                    .await
            }
            OutBody::Pieces { length, rx } => {
                self.transport
                    .soap_call_pieces(&action, cookie.as_deref(), length, rx)
                    .await
            }
        };
        let resp = sent.map_err(|e| {
            tracing::debug!(bytes_out, elapsed_us = elapsed_us(started), error = %e, "call failed");
            Error::new(op, Some(object), ErrorKind::Transport(e))
        })?;
        if let Some(c) = &resp.session_cookie {
            self.state().cookie = Some(c.clone());
        }
        if seq.is_none() {
            tracing::debug!(
                status = resp.status.as_u16(),
                bytes_out,
                elapsed_us = elapsed_us(started),
                "call answered (body streamed)"
            );
        }
        Ok(resp)
    }

    /// Sends a request and reads the whole reply; SOAP faults become errors when the result is
    /// read from the [`Response`].
    ///
    /// A read among [`RETRIED_READS`] whose connection fails before its whole reply has
    /// arrived (refused, reset, closed mid-body: [`Error::is_connection_failure`]) is sent once
    /// more, on a new connection. Nothing else is ever sent twice: an operation that changes
    /// something (`*_Task`, `Create*`, `Register*`, `Login`...) may have been carried out
    /// before the connection broke, so its error is returned as it is. Timeouts are not
    /// retried either (the call already waited as long as it was allowed to).
    pub async fn invoke(&self, req: Request) -> Result<Response, Error> {
        let span = call_span(req.op(), req.object());
        self.invoke_inner(req).instrument(span).await
    }

    async fn invoke_inner(&self, req: Request) -> Result<Response, Error> {
        let op = req.op();
        let object = req.object().to_string();
        let body = bytes::Bytes::from(req.finish());
        retried_once(op, || self.invoke_once(op, &object, body.clone())).await
    }

    async fn invoke_once(
        &self,
        op: &'static str,
        object: &str,
        body: bytes::Bytes,
    ) -> Result<Response, Error> {
        let object = object.to_string();
        let started = Instant::now();
        let seq = crate::trace::next_sequence();
        let cookie_before = self.session_cookie();
        let resp = self.send_body(op, &object, body, Some(seq)).await?;
        let status = resp.status.as_u16();
        let body = resp
            .body
            .collect(self.transport.config().max_body)
            .await
            .map_err(|e| Error::new(op, Some(object.clone()), ErrorKind::Transport(e)))?;
        tracing::debug!(
            status,
            bytes_in = body.len(),
            elapsed_us = elapsed_us(started),
            "call answered"
        );
        if resp.status == http::StatusCode::INTERNAL_SERVER_ERROR && !looks_like_soap(&body) {
            // An error page (a proxy's, or a server's that is restarting), not a SOAP fault.
            let end = body.len().min(crate::transport::STATUS_SNIPPET_LIMIT);
            return Err(Error::new(
                op,
                Some(object),
                ErrorKind::Transport(crate::transport::TransportError::Status {
                    status: resp.status,
                    body_snippet: String::from_utf8_lossy(&body[..end]).into_owned(),
                }),
            ));
        }
        let (dump, dump_secrets) = {
            let s = self.state();
            (s.dump.clone(), s.dump_secrets.clone())
        };
        if let Some(d) = dump {
            let cookie_after = self.session_cookie();
            let mut secrets = vec![cookie_before.as_deref(), cookie_after.as_deref()];
            secrets.extend(dump_secrets.iter().map(|k| Some(k.as_str())));
            d.write(seq, op, "response", &body, &secrets);
        }
        Ok(Response::new(op, object, body).with_limits(self.decode_limits()))
    }
}

/// The operations [`Client::invoke`] sends once more when their connection fails: reads
/// without side effects on the server, whose repetition returns the same kind of answer.
/// (`ContinueRetrievePropertiesEx` is left out: its token is used up by a first attempt the
/// server may have answered; `WaitForUpdatesEx` too, as it moves a version.)
pub const RETRIED_READS: &[&str] = &[
    "RetrieveServiceContent",
    "RetrieveProperties",
    "RetrievePropertiesEx",
    "CurrentTime",
    "SessionIsActive",
    "QueryPerf",
    "QueryPerfCounter",
    "QueryAvailablePerfMetric",
    "FindByIp",
    "FindByDnsName",
    "FindByUuid",
    "FindByInventoryPath",
    "FindChild",
    "FindAllByIp",
    "FindAllByDnsName",
    "FindAllByUuid",
];

/// Runs `attempt` (one sending of a call of `op`), and once more when `op` is a read among
/// [`RETRIED_READS`] whose connection failed ([`Error::is_connection_failure`]): the one
/// place that decides whether a call is sent twice (see [`Client::invoke`]).
async fn retried_once<T, F, Fut>(op: &'static str, mut attempt: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    match attempt().await {
        Err(e) if is_retried_read(op) && e.is_connection_failure() => {
            tracing::debug!(error = %e, "connection failed during a read; sending it again once");
            attempt().await
        }
        other => other,
    }
}

/// Whether a reply body looks like a SOAP envelope (names `Envelope` near its start).
fn looks_like_soap(body: &[u8]) -> bool {
    body[..body.len().min(4096)]
        .windows(8)
        .any(|w| w == b"Envelope")
}

/// The pieces of a request body written as it is sent are handed over at this size or more.
const REQUEST_PIECE: usize = 32 * 1024;

/// Pieces waiting between the writer and the connection.
const REQUEST_PIECES: usize = 2;

/// A request body: whole, or in pieces arriving through a channel.
enum OutBody {
    Whole(bytes::Bytes),
    Pieces {
        length: u64,
        rx: tokio::sync::mpsc::Receiver<bytes::Bytes>,
    },
}

impl OutBody {
    fn len(&self) -> u64 {
        match self {
            OutBody::Whole(b) => b.len() as u64,
            OutBody::Pieces { length, .. } => *length,
        }
    }
}

impl From<bytes::Bytes> for OutBody {
    fn from(b: bytes::Bytes) -> Self {
        OutBody::Whole(b)
    }
}

fn is_retried_read(op: &str) -> bool {
    RETRIED_READS.contains(&op)
}

fn call_span(op: &str, object: &str) -> tracing::Span {
    tracing::debug_span!("vim_call", method = op, object = object)
}

fn elapsed_us(started: Instant) -> u64 {
    started.elapsed().as_micros() as u64
}

/// The number of compared releases (see [`crate::meta::COMPARED`]) strictly older than
/// `version`: a field first seen in compared release `n` may be sent iff `n <= level`.
pub fn server_level(version: &str) -> u8 {
    let key = version_key(version);
    crate::meta::COMPARED
        .iter()
        .filter(|c| version_key(c) < key)
        .count() as u8
}

/// A version string as numbers for comparison (`"8.0.2.0"` → `[8, 0, 2, 0]`); trailing zeros
/// do not count, so `8.0` and `8.0.0.0` compare equal.
pub(crate) fn version_key(v: &str) -> Vec<u32> {
    let mut key: Vec<u32> = v
        .split('.')
        .map(|p| p.trim().parse().unwrap_or(0))
        .collect();
    while key.last() == Some(&0) {
        key.pop();
    }
    key
}
