//! Warnings about weakened transports: logged through `tracing` every time, and written to
//! stderr once per process and kind, so that a program without a `tracing` subscriber still
//! shows them.

use std::sync::atomic::{AtomicBool, Ordering};

use http::Uri;

static INSECURE_TLS: AtomicBool = AtomicBool::new(false);
static PLAIN_HTTP: AtomicBool = AtomicBool::new(false);

/// A transport with [`TlsMode::Insecure`](super::TlsMode::Insecure) was built.
pub(super) fn insecure_tls(base: &Uri) {
    tracing::warn!(
        base_url = %base,
        "TLS certificate verification is OFF for this transport (TlsMode::Insecure): \
         the connection can be intercepted; pin the server's thumbprint instead"
    );
    once(
        &INSECURE_TLS,
        &format!(
            "TLS certificate verification is OFF for {base}: the connection can be \
             intercepted; pin the server's thumbprint instead"
        ),
    );
}

/// A transport speaking plain http to a host that is not loopback was built (allowed).
pub(super) fn plain_http(base: &Uri) {
    tracing::warn!(
        base_url = %base,
        "plain http to a remote host: the password and session cookie cross the network in clear"
    );
    once(
        &PLAIN_HTTP,
        &format!(
            "plain http to {base}: the password and session cookie cross the network in clear"
        ),
    );
}

fn once(flag: &AtomicBool, message: &str) {
    if !flag.swap(true, Ordering::Relaxed) {
        eprintln!("vim-sdk warning: {message}");
    }
}
