//! The transport's error type.

use std::time::Duration;

/// A boxed error usable as an error source.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong below the SOAP layer.
///
/// No variant ever carries the session cookie or a password: messages name the URL path, the
/// status and what failed, never header values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The base URL (or a path joined to it) is not a usable `http`/`https` URL.
    #[error("invalid URL: {message}")]
    InvalidUrl {
        /// What is wrong with it.
        message: String,
    },

    /// The base URL is `http://` to a host that is not loopback, and the configuration does
    /// not allow it ([`TransportConfig::allow_plain_http`](super::TransportConfig::allow_plain_http)):
    /// `Login` would send the password in clear.
    #[error("refusing plain http to {host}: the password and session cookie would cross the network in clear; use https, or allow plain http explicitly")]
    PlainHttp {
        /// The host of the base URL.
        host: String,
    },

    /// The TCP connection could not be established (refused, unreachable, DNS failure...).
    #[error("cannot connect to {target}: {message}")]
    Connect {
        /// `host:port` the transport tried to reach.
        target: String,
        /// Description of the failure.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<BoxError>,
    },

    /// TLS setup or the TLS handshake failed; when the server's certificate was rejected the
    /// message says so and shows the presented certificate's SHA-1 and SHA-256 thumbprints so
    /// an operator can check and pin it.
    #[error("TLS error: {message}")]
    Tls {
        /// Human-readable explanation.
        message: String,
    },

    /// Nothing (connection, TLS handshake, response headers, or the next body chunk) arrived
    /// within the configured time.
    #[error("timed out after {after:?} waiting for {waiting_for}")]
    Timeout {
        /// The limit that ran out.
        after: Duration,
        /// What the transport was waiting for (`"response headers"`, `"response body"`, ...).
        waiting_for: &'static str,
    },

    /// The server answered with a status the caller does not accept.
    #[error("unexpected HTTP status {status}: {body_snippet}")]
    Status {
        /// The status received.
        status: http::StatusCode,
        /// The start of the response body (at most [`STATUS_SNIPPET_LIMIT`](super::STATUS_SNIPPET_LIMIT)
        /// bytes, lossily decoded as UTF-8) to help diagnose the failure.
        body_snippet: String,
    },

    /// An I/O error, e.g. while reading an upload source or inflating a gzip body.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    /// The (decompressed) response body is larger than the caller's limit.
    #[error("response body exceeds the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },

    /// An HTTP protocol error: malformed response, connection closed mid-message, a header
    /// value that cannot be sent, an unsupported content encoding...
    #[error("HTTP error: {message}")]
    Http {
        /// Description of the failure.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
}

impl TransportError {
    pub(crate) fn http(message: impl Into<String>) -> Self {
        TransportError::Http {
            message: message.into(),
            source: None,
        }
    }

    /// True for the errors a caller may reasonably retry on a new connection (connect
    /// failures and timeouts); false for certificate rejections, statuses and limits.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            TransportError::Connect { .. } | TransportError::Timeout { .. }
        )
    }
}
