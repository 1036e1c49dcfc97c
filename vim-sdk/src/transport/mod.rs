//! The HTTPS transport under the SOAP layer: POSTs envelopes to `/sdk`, carries the
//! `vmware_soap_session` cookie, inflates gzip replies, streams large bodies both ways, and
//! enforces the TLS policy ([`TlsMode`]).
//!
//! One [`Transport`] holds one keep-alive pool of HTTP/1.1 connections (hyper-util's client
//! over a rustls connector); clones share it.
//!
//! Nothing here logs or formats the session cookie: the `Cookie` header is marked sensitive,
//! [`SoapResponse`]'s `Debug` redacts the captured value, and errors never include header
//! values.

mod body;
mod config;
mod error;
mod tls;
mod warnings;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{
    HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, LOCATION,
    SET_COOKIE, USER_AGENT,
};
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

pub use body::{BlockingBodyReader, Collected, ResponseBody};
pub use config::{TlsMode, TransportConfig, DEFAULT_USER_AGENT};
pub use error::TransportError;
pub use tls::{
    sha1_thumbprint, sha256_thumbprint, Thumbprint, ThumbprintAlgorithm, ThumbprintParseError,
};

#[cfg(feature = "vcsim")]
pub(crate) use tls::client_config as tls_client_config;

use body::{PiecesBody, UploadActivity, UploadBody};
use error::BoxError;

/// Largest read buffer of a connection (hyper's `max_buf_size`; hyper's default is about
/// 400 KiB). Each body frame hyper hands on is a slice of this buffer and keeps it alive
/// while it waits to be decoded, and hyper grows a fresh buffer meanwhile: a streamed
/// 7 MB reply held ten 408 KiB buffers at once (heaptrack of the IM probe at 10,000 VMs).
/// It also bounds the response headers, which are a few hundred bytes for SOAP.
pub(crate) const READ_BUFFER_MAX: usize = 64 * 1024;

/// Name of the session cookie vCenter and ESXi set.
pub const SESSION_COOKIE_NAME: &str = "vmware_soap_session";

/// What [`Transport::get_or_redirect`] received.
#[derive(Debug)]
pub enum GetReply {
    /// A 2xx status and the body to read or stream.
    Body(StatusCode, ResponseBody),
    /// A redirect status and its `Location` header (as sent; `None` without a usable one).
    Redirect {
        /// The status received.
        status: StatusCode,
        /// The `Location` header, possibly a relative reference.
        location: Option<String>,
    },
}

/// At most this many bytes of a rejected response's body end up in
/// [`TransportError::Status`].
pub const STATUS_SNIPPET_LIMIT: usize = 1024;

type RequestBody = UnsyncBoxBody<Bytes, BoxError>;

/// A SOAP reply: status 200 (a result) or 500 (a SOAP fault in the body).
pub struct SoapResponse {
    /// 200 or 500.
    pub status: StatusCode,
    /// The value of `vmware_soap_session` when the response set it (after `Login`), exactly as
    /// the server sent it (vCenter includes the double quotes): pass it back unchanged as the
    /// `cookie` argument of later calls. Secret: `Debug` shows it as `<redacted>`.
    pub session_cookie: Option<String>,
    /// The envelope.
    pub body: ResponseBody,
}

impl fmt::Debug for SoapResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoapResponse")
            .field("status", &self.status)
            .field(
                "session_cookie",
                &self.session_cookie.as_ref().map(|_| "<redacted>"),
            )
            .field("body", &self.body)
            .finish()
    }
}

struct Inner {
    client: Client<HttpsConnector<HttpConnector>, RequestBody>,
    /// The SOAP endpoint.
    base: Uri,
    /// `scheme://host[:port]`, to which `get`/`put_stream` paths are appended.
    origin: String,
    /// `host:port`, for error messages.
    target: String,
    config: TransportConfig,
}

/// An HTTP/1.1 client for one vSphere endpoint, with a keep-alive connection pool. Cheap to
/// clone: clones share the pool.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tls = match &self.inner.config.tls {
            TlsMode::Verified { .. } => "verified",
            TlsMode::CaFile { .. } => "verified (CA file only)",
            TlsMode::Pinned { .. } => "pinned",
            TlsMode::Insecure => "insecure",
        };
        f.debug_struct("Transport")
            .field("base_url", &self.inner.base)
            .field("tls", &tls)
            .finish_non_exhaustive()
    }
}

/// Whether the URL's host is loopback: `127.0.0.0/8`, `::1` or `localhost`.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn invalid_url(message: impl Into<String>) -> TransportError {
    TransportError::InvalidUrl {
        message: message.into(),
    }
}

/// The messages of an error and its sources, joined with `": "`.
fn chain_message(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// Whether an `io::Error` of kind `TimedOut` is in the error's source chain.
fn has_timed_out(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The value of `vmware_soap_session` among the response's `Set-Cookie` headers.
fn session_cookie(response: &Response<Incoming>) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|set_cookie| {
            let pair = set_cookie.split(';').next()?;
            let (name, value) = pair.split_once('=')?;
            (name.trim() == SESSION_COOKIE_NAME).then(|| value.trim().to_string())
        })
}

/// The `Cookie` header for a session cookie value, marked sensitive.
fn cookie_header(cookie: &str) -> Result<HeaderValue, TransportError> {
    let mut value = HeaderValue::from_str(&format!("{SESSION_COOKIE_NAME}={cookie}"))
        .map_err(|_| TransportError::http("the session cookie holds characters a header cannot"))?;
    value.set_sensitive(true);
    Ok(value)
}

impl Transport {
    /// Builds the transport (connection pool and TLS configuration); connects lazily, on the
    /// first call. Fails on an unusable base URL or TLS setup (unreadable extra CA file, empty
    /// pin list, no trusted roots).
    pub fn new(config: TransportConfig) -> Result<Self, TransportError> {
        let url = url::Url::parse(&config.base_url)
            .map_err(|e| invalid_url(format!("cannot parse the base URL: {e}")))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(invalid_url(format!(
                "scheme must be https or http, not {:?}",
                url.scheme()
            )));
        }
        let host = url
            .host_str()
            .ok_or_else(|| invalid_url("the base URL has no host"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid_url(
                "the base URL must not carry credentials; log in through the session manager",
            ));
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| invalid_url("the base URL has no port"))?;
        let target = format!("{host}:{port}");
        let origin = url.origin().ascii_serialization();
        let base: Uri = url
            .as_str()
            .parse()
            .map_err(|e| invalid_url(format!("cannot use the base URL: {e}")))?;

        let https = url.scheme() == "https";
        if !https && !is_loopback(&url) {
            if !config.allow_plain_http {
                return Err(TransportError::PlainHttp {
                    host: host.to_string(),
                });
            }
            warnings::plain_http(&base);
        }
        let tls_config = if https {
            tls::client_config(&config.tls)?
        } else {
            tls::unused_config()?
        };
        if https && config.tls == TlsMode::Insecure {
            warnings::insecure_tls(&base);
        }

        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(config.connect_timeout));
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(60)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .http1_max_buf_size(READ_BUFFER_MAX)
            .pool_idle_timeout(config.pool_idle_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .pool_timer(TokioTimer::new())
            .build(connector);

        Ok(Transport {
            inner: Arc::new(Inner {
                client,
                base,
                origin,
                target,
                config,
            }),
        })
    }

    /// The configuration the transport was built with.
    pub fn config(&self) -> &TransportConfig {
        &self.inner.config
    }

    /// POSTs a SOAP envelope to the base URL.
    ///
    /// Sends `Content-Type: text/xml; charset=utf-8`, `SOAPAction: <soap_action>` (verbatim:
    /// pass e.g. `urn:vim25/8.0.2.0`), `Accept-Encoding: gzip`, the user agent and, when
    /// `cookie` is given, `Cookie: vmware_soap_session=<cookie>`. Status 200 and 500 (a SOAP
    /// fault) come back as a [`SoapResponse`]; any other status is a
    /// [`TransportError::Status`]. The call timeout covers connecting, the TLS handshake,
    /// sending the envelope and receiving the response headers; reading the body is bounded by
    /// the idle timeout between chunks.
    pub async fn soap_call(
        &self,
        soap_action: &str,
        cookie: Option<&str>,
        body: Bytes,
    ) -> Result<SoapResponse, TransportError> {
        let length = body.len() as u64;
        self.soap_post(soap_action, cookie, length, full_body(body))
            .await
    }

    /// As [`soap_call`](Self::soap_call), but the envelope, exactly `content_length` bytes,
    /// arrives in pieces through `pieces` while the call runs: the caller writes them
    /// concurrently (e.g. in a future joined with this one), and the channel's bound keeps
    /// only a few pieces in memory, never the whole envelope. Pieces that end before
    /// `content_length` bytes, or run past it, fail the call.
    pub async fn soap_call_pieces(
        &self,
        soap_action: &str,
        cookie: Option<&str>,
        content_length: u64,
        pieces: tokio::sync::mpsc::Receiver<Bytes>,
    ) -> Result<SoapResponse, TransportError> {
        let body = PiecesBody::new(pieces, content_length)
            .map_err(BoxError::from)
            .boxed_unsync();
        self.soap_post(soap_action, cookie, content_length, body)
            .await
    }

    async fn soap_post(
        &self,
        soap_action: &str,
        cookie: Option<&str>,
        request_bytes: u64,
        body: RequestBody,
    ) -> Result<SoapResponse, TransportError> {
        let action = HeaderValue::from_str(soap_action)
            .map_err(|_| TransportError::http("the SOAPAction holds characters a header cannot"))?;
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(self.inner.base.clone())
            .header(CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", action)
            .header(ACCEPT_ENCODING, "gzip")
            .header(CONTENT_LENGTH, request_bytes);
        if let Some(cookie) = cookie {
            builder = builder.header(COOKIE, cookie_header(cookie)?);
        }
        let request = self.finish_request(builder, body)?;

        let started = Instant::now();
        let response = self.send_with_timeout(request).await?;
        let status = response.status();
        tracing::debug!(
            method = "POST",
            path = %self.inner.base.path(),
            soap_action,
            status = status.as_u16(),
            request_bytes,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "SOAP call answered"
        );
        let session_cookie = session_cookie(&response);
        let body = self.response_body(response, self.inner.base.path())?;
        if status != StatusCode::OK && status != StatusCode::INTERNAL_SERVER_ERROR {
            return Err(self.status_error(status, body).await);
        }
        Ok(SoapResponse {
            status,
            session_cookie,
            body,
        })
    }

    /// GETs `path_and_query` (starting with `/`, e.g. `/sdk/vimServiceVersions.xml` or
    /// `/folder/dir/file.vmdk?dcPath=dc1&dsName=ds1`) from the base URL's origin. A 2xx status
    /// comes back with the body to read or stream; any other status is a
    /// [`TransportError::Status`]. Timeouts as for [`soap_call`](Self::soap_call).
    pub async fn get(
        &self,
        path_and_query: &str,
        cookie: Option<&str>,
    ) -> Result<(StatusCode, ResponseBody), TransportError> {
        let response = self.get_response(path_and_query, cookie).await?;
        let status = response.status();
        let body = self.response_body(response, path_and_query)?;
        if !status.is_success() {
            return Err(self.status_error(status, body).await);
        }
        Ok((status, body))
    }

    /// As [`get`](Self::get), but a redirect status (301, 302, 303, 307, 308) comes back as
    /// [`GetReply::Redirect`] with its `Location` header as sent (possibly relative), for a
    /// caller that follows redirects itself and decides which targets it accepts. Its body
    /// is discarded.
    pub async fn get_or_redirect(
        &self,
        path_and_query: &str,
        cookie: Option<&str>,
    ) -> Result<GetReply, TransportError> {
        let response = self.get_response(path_and_query, cookie).await?;
        let status = response.status();
        if matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            return Ok(GetReply::Redirect { status, location });
        }
        let body = self.response_body(response, path_and_query)?;
        if !status.is_success() {
            return Err(self.status_error(status, body).await);
        }
        Ok(GetReply::Body(status, body))
    }

    /// Sends a GET and returns the response as received.
    async fn get_response(
        &self,
        path_and_query: &str,
        cookie: Option<&str>,
    ) -> Result<Response<Incoming>, TransportError> {
        let uri = self.uri_for(path_and_query)?;
        let mut builder = Request::builder().method(Method::GET).uri(uri);
        if let Some(cookie) = cookie {
            builder = builder.header(COOKIE, cookie_header(cookie)?);
        }
        let request = self.finish_request(builder, full_body(Bytes::new()))?;
        let started = Instant::now();
        let response = self.send_with_timeout(request).await?;
        let status = response.status();
        tracing::debug!(
            method = "GET",
            path = path_and_query,
            status = status.as_u16(),
            content_length = response_length(&response),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "GET answered"
        );
        Ok(response)
    }

    /// PUTs exactly `content_length` bytes read from `body` to `path_and_query` (as for
    /// [`get`](Self::get)), e.g. a datastore file upload, without buffering it: the source is
    /// read in 64 KiB chunks as the connection takes them, and `progress` is called with the
    /// size of each chunk handed to the connection (the calls add up to `content_length`).
    /// A source that ends early fails the upload.
    ///
    /// Returns the 2xx status; any other status is a [`TransportError::Status`]. The upload
    /// fails with [`TransportError::Timeout`] when no chunk moves for the idle timeout, or
    /// when the response headers do not arrive within the call timeout after the last chunk.
    pub async fn put_stream<R, F>(
        &self,
        path_and_query: &str,
        cookie: Option<&str>,
        content_length: u64,
        body: R,
        progress: F,
    ) -> Result<StatusCode, TransportError>
    where
        R: tokio::io::AsyncRead + Send + Unpin + 'static,
        F: Fn(u64) + Send + 'static,
    {
        let uri = self.uri_for(path_and_query)?;
        let mut builder = Request::builder()
            .method(Method::PUT)
            .uri(uri)
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(CONTENT_LENGTH, content_length);
        if let Some(cookie) = cookie {
            builder = builder.header(COOKIE, cookie_header(cookie)?);
        }
        let activity = UploadActivity::new();
        let upload = UploadBody::new(body, content_length, Box::new(progress), activity.clone());
        let request =
            self.finish_request(builder, upload.map_err(BoxError::from).boxed_unsync())?;

        let started = Instant::now();
        let mut pending = std::pin::pin!(self.inner.client.request(request));
        let idle = self.inner.config.read_idle_timeout;
        let call = self.inner.config.call_timeout;
        let tick = idle
            .min(call)
            .min(Duration::from_secs(1))
            .max(Duration::from_millis(10));
        let response = loop {
            tokio::select! {
                result = &mut pending => break result.map_err(|e| self.map_client_error(e))?,
                _ = tokio::time::sleep(tick) => {
                    let (limit, waiting_for) = if activity.is_done() {
                        (call, "response headers")
                    } else {
                        (idle, "the connection to accept upload data")
                    };
                    if activity.idle_for() >= limit {
                        return Err(TransportError::Timeout { after: limit, waiting_for });
                    }
                }
            }
        };
        let status = response.status();
        tracing::debug!(
            method = "PUT",
            path = path_and_query,
            status = status.as_u16(),
            bytes = content_length,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "upload answered"
        );
        let body = self.response_body(response, path_and_query)?;
        if !status.is_success() {
            return Err(self.status_error(status, body).await);
        }
        // Drain a short reply so the connection can go back to the pool.
        let _ = body.collect(64 * 1024).await;
        Ok(status)
    }

    fn uri_for(&self, path_and_query: &str) -> Result<Uri, TransportError> {
        if !path_and_query.starts_with('/') {
            return Err(invalid_url(format!(
                "path must start with '/': {path_and_query:?}"
            )));
        }
        format!("{}{}", self.inner.origin, path_and_query)
            .parse()
            .map_err(|e| invalid_url(format!("cannot use path {path_and_query:?}: {e}")))
    }

    fn finish_request(
        &self,
        builder: http::request::Builder,
        body: RequestBody,
    ) -> Result<Request<RequestBody>, TransportError> {
        let ua = HeaderValue::from_str(&self.inner.config.user_agent)
            .map_err(|_| TransportError::http("the user agent holds characters a header cannot"))?;
        builder
            .header(USER_AGENT, ua)
            .body(body)
            .map_err(|e| TransportError::Http {
                message: format!("cannot build the request: {e}"),
                source: Some(Box::new(e)),
            })
    }

    async fn send_with_timeout(
        &self,
        request: Request<RequestBody>,
    ) -> Result<Response<Incoming>, TransportError> {
        let limit = self.inner.config.call_timeout;
        match tokio::time::timeout(limit, self.inner.client.request(request)).await {
            Err(_) => Err(TransportError::Timeout {
                after: limit,
                waiting_for: "response headers",
            }),
            Ok(result) => result.map_err(|e| self.map_client_error(e)),
        }
    }

    fn map_client_error(&self, err: hyper_util::client::legacy::Error) -> TransportError {
        if let Some(message) = tls::describe_tls_failure(&err) {
            tracing::debug!(target_host = %self.inner.target, %message, "TLS failure");
            return TransportError::Tls { message };
        }
        if err.is_connect() {
            if has_timed_out(&err) {
                return TransportError::Timeout {
                    after: self.inner.config.connect_timeout,
                    waiting_for: "the TCP connection",
                };
            }
            return TransportError::Connect {
                target: self.inner.target.clone(),
                message: chain_message(&err),
                source: Some(Box::new(err)),
            };
        }
        TransportError::Http {
            message: chain_message(&err),
            source: Some(Box::new(err)),
        }
    }

    fn response_body(
        &self,
        response: Response<Incoming>,
        path: &str,
    ) -> Result<ResponseBody, TransportError> {
        let gzip = match response.headers().get(CONTENT_ENCODING) {
            None => false,
            Some(v) => {
                let v = v.to_str().unwrap_or("").trim();
                if v.eq_ignore_ascii_case("gzip") || v.eq_ignore_ascii_case("x-gzip") {
                    true
                } else if v.is_empty() || v.eq_ignore_ascii_case("identity") {
                    false
                } else {
                    return Err(TransportError::http(format!(
                        "unsupported Content-Encoding {v:?}"
                    )));
                }
            }
        };
        let content_length = response_length(&response);
        Ok(ResponseBody::from_http(
            response.into_body(),
            gzip,
            content_length,
            self.inner.config.read_idle_timeout,
            Arc::from(path),
        ))
    }

    async fn status_error(&self, status: StatusCode, body: ResponseBody) -> TransportError {
        let wait = self
            .inner
            .config
            .read_idle_timeout
            .min(Duration::from_secs(5));
        let body_snippet = body.snippet(16 * 1024, wait, STATUS_SNIPPET_LIMIT).await;
        TransportError::Status {
            status,
            body_snippet,
        }
    }
}

fn response_length(response: &Response<Incoming>) -> Option<u64> {
    response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn full_body(bytes: Bytes) -> RequestBody {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_rejects_bad_urls() {
        for url in [
            "not a url",
            "ftp://host/sdk",
            "https://user:pw@host/sdk",
            "file:///sdk",
        ] {
            let err =
                Transport::new(TransportConfig::new(url).tls(TlsMode::Insecure)).expect_err(url);
            assert!(
                matches!(err, TransportError::InvalidUrl { .. }),
                "{url}: {err}"
            );
        }
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        for url in [
            "http://127.0.0.1:8989/sdk",
            "http://127.3.4.5/sdk",
            "http://[::1]:80/sdk",
            "http://localhost/sdk",
            "http://LOCALHOST:1/sdk",
        ] {
            Transport::new(TransportConfig::new(url)).expect(url);
        }
        for (url, host) in [
            ("http://vc.example.com/sdk", "vc.example.com"),
            ("http://10.0.0.5:80/sdk", "10.0.0.5"),
            ("http://[2001:db8::1]/sdk", "[2001:db8::1]"),
            ("http://localhost.example.com/sdk", "localhost.example.com"),
            ("http://128.0.0.1/sdk", "128.0.0.1"),
        ] {
            match Transport::new(TransportConfig::new(url)) {
                Err(TransportError::PlainHttp { host: h }) => assert_eq!(h, host),
                other => panic!("{url}: {other:?}"),
            }
            Transport::new(TransportConfig::new(url).allow_plain_http(true)).expect(url);
        }
    }

    #[test]
    fn pinned_without_thumbprints_is_refused() {
        let err = Transport::new(TransportConfig::new("https://127.0.0.1/sdk").tls(
            TlsMode::Pinned {
                thumbprints: vec![],
            },
        ))
        .unwrap_err();
        assert!(matches!(err, TransportError::Tls { .. }), "{err}");
    }

    #[test]
    fn cookie_header_is_sensitive_and_redacted_in_debug() {
        let v = cookie_header("\"secret-value\"").unwrap();
        assert!(v.is_sensitive());
        assert!(!format!("{v:?}").contains("secret"));
        assert!(cookie_header("a\r\nX-Evil: 1").is_err());
    }

    #[test]
    fn default_user_agent_names_the_crate_version() {
        assert_eq!(
            TransportConfig::default().user_agent,
            format!("vim-sdk/{}", env!("CARGO_PKG_VERSION"))
        );
    }
}
