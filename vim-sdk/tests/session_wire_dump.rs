//! The wire dump and the logs of a session against govmomi's simulator hold no password,
//! cookie or session key, through a re-login after the session was terminated.
//!
//! vcsim uses the session key as the cookie, so here redacting one hides the other;
//! `session_secrets.rs` checks each secret apart on a loopback server where they all differ.
//!
//! This is the only test in its binary, and it installs its log collector as the global
//! subscriber: `tracing` caches per call site whether anyone listens, and a thread-local
//! subscriber set while other tests run on other threads can miss events (the cache was
//! filled by a thread that had none), which made this check flaky when it shared a binary.
#![cfg(feature = "vcsim")]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use vim_sdk::session::ConnectOptions;
use vim_sdk::testing::Vcsim;
use vim_sdk::Client;

fn start(b: vim_sdk::testing::VcsimBuilder) -> Vcsim {
    b.start().expect("start vcsim (run scripts/setup)")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vim-sdk-session-{name}-{}", std::process::id(),));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn wire_dump_and_logs_hold_no_password_or_cookie() {
    let sim = start(Vcsim::builder().esx().strict_login(false));
    let password = "Unguessable-P4ssw0rd";
    let dump = temp_dir("dump");
    let logs = Buf::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("only subscriber");

    let s = Client::connect(
        sim.url(),
        ConnectOptions::new()
            .credentials("someone", password)
            .wire_dump(&dump)
            .relogin(true),
    )
    .await
    .expect("connect");
    let cookie = s.session_cookie().unwrap();
    let key = s.user_session().unwrap().key.clone();
    s.current_session().await.unwrap().expect("live");
    // A second session to terminate the first one: the sessionId goes over the wire.
    let other = Client::connect(
        sim.url(),
        ConnectOptions::new()
            .credentials("other", password)
            .wire_dump(&dump),
    )
    .await
    .unwrap();
    other
        .session_manager()
        .unwrap()
        .terminate_session(&other, std::slice::from_ref(&key))
        .await
        .unwrap();
    s.with_relogin(|c| async move { c.service_instance().current_time(&c).await })
        .await
        .expect("relogin");
    let cookie2 = s.session_cookie().unwrap();
    s.close().await.unwrap();
    other.close().await.unwrap();

    let mut names = Vec::new();
    let mut all = String::new();
    for e in std::fs::read_dir(&dump).unwrap() {
        let e = e.unwrap();
        names.push(e.file_name().to_string_lossy().into_owned());
        all.push_str(&std::fs::read_to_string(e.path()).unwrap());
    }
    assert!(
        names.iter().any(|n| n.ends_with("-Login.request.xml")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.ends_with("-Login.response.xml")),
        "{names:?}"
    );
    assert!(all.contains("<password>***</password>"), "{all}");
    assert!(all.contains("<sessionId>***</sessionId>"), "{all}");
    assert!(all.contains("<userName>someone</userName>"));
    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(log_text.contains("vim_call"), "{log_text}");
    assert!(
        log_text.contains("method=\"Login\"") || log_text.contains("method=Login"),
        "{log_text}"
    );
    assert!(log_text.contains("bytes_in="), "{log_text}");
    assert!(log_text.contains("session lost"), "{log_text}");
    for secret in [
        password,
        cookie.trim_matches('"'),
        cookie2.trim_matches('"'),
        &key,
    ] {
        assert!(!all.contains(secret), "dump leaks a secret");
        assert!(!log_text.contains(secret), "logs leak a secret");
    }
    let _ = std::fs::remove_dir_all(&dump);
}
