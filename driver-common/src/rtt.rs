//! Counting SOAP round trips for the debug mode (`ONE_MAD_DEBUG` / `VMWARE_DRIVER_DEBUG`).
//!
//! vim-sdk's transport emits one `tracing` debug event per answered SOAP call (it carries a
//! `soap_action` field). When debug output is on, [`install`] registers a tiny subscriber that
//! counts those events and nothing else, and [`report`] (called by
//! [`output::finish`](crate::output::finish)) prints `DEBUG: <action>: N SOAP round trips`.
//! With debug output off nothing is installed and nothing is counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

static COUNT: AtomicU64 = AtomicU64::new(0);
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Counts the transport's "SOAP call answered" events.
struct Counter;

fn is_soap_call(meta: &Metadata<'_>) -> bool {
    meta.is_event()
        && meta.target().starts_with("vim_sdk::transport")
        && meta.fields().field("soap_action").is_some()
}

impl Subscriber for Counter {
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        is_soap_call(meta)
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if is_soap_call(event.metadata()) {
            COUNT.fetch_add(1, Ordering::Relaxed);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Starts counting when debug output is on (once per process; later calls do nothing).
pub fn install() {
    INSTALLED.get_or_init(|| {
        crate::output::debug_enabled() && tracing::subscriber::set_global_default(Counter).is_ok()
    });
}

/// The SOAP round trips answered so far (0 unless [`install`] started counting).
pub fn count() -> u64 {
    COUNT.load(Ordering::Relaxed)
}

/// Prints the count as a debug line, if counting.
pub fn report() {
    if INSTALLED.get().copied().unwrap_or(false) {
        crate::output::debug(&format!("{} SOAP round trips", count()));
    }
}
