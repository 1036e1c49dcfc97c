//! Weakened transports are refused or announced without a `tracing` subscriber: plain http to
//! a host that is not loopback needs an explicit opt-in, and the warnings about it and about
//! `TlsMode::Insecure` reach stderr, once per process.

use std::process::Command;

use vim_sdk::session::ConnectOptions;
use vim_sdk::transport::{TlsMode, Transport, TransportConfig, TransportError};
use vim_sdk::{Client, ErrorKind};

/// Set in the child process that builds the transports.
const CHILD: &str = "VIM_SDK_TEST_WARNINGS_CHILD";

#[test]
fn warnings_reach_stderr_once_per_process_without_a_subscriber() {
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_builds_weakened_transports",
            "--nocapture",
            "--include-ignored",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("run the child");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{stderr}{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let count = |needle: &str| stderr.matches(needle).count();
    assert_eq!(count("TLS certificate verification is OFF"), 1, "{stderr}");
    assert_eq!(count("plain http to"), 1, "{stderr}");
    assert!(stderr.contains("http://vc.example.com/sdk"), "{stderr}");
    assert!(
        !stderr.contains("127.0.0.1"),
        "loopback http is not warned about: {stderr}"
    );
}

/// Run by the test above in a child process, where stderr can be read.
#[test]
#[ignore = "run as a child process by warnings_reach_stderr_once_per_process_without_a_subscriber"]
fn child_builds_weakened_transports() {
    if std::env::var_os(CHILD).is_none() {
        // Not a test of its own (e.g. `--include-ignored`): only the parent reads its stderr.
        return;
    }
    for _ in 0..2 {
        Transport::new(TransportConfig::new("http://127.0.0.1:1/sdk")).expect("loopback http");
        Transport::new(TransportConfig::new("https://vc.example.com/sdk").tls(TlsMode::Insecure))
            .expect("insecure");
        Transport::new(TransportConfig::new("http://vc.example.com/sdk").allow_plain_http(true))
            .expect("allowed plain http");
    }
}

#[test]
fn plain_http_to_a_remote_host_is_refused_by_default() {
    let err = Transport::new(TransportConfig::new("http://vc.example.com/sdk")).unwrap_err();
    assert!(
        matches!(&err, TransportError::PlainHttp { host } if host == "vc.example.com"),
        "{err:?}"
    );
}

#[tokio::test]
async fn connect_refuses_plain_http_before_sending_the_password() {
    let err = Client::connect(
        "http://root@192.0.2.1:1/sdk",
        ConnectOptions::new().credentials("root", "pw-never-sent"),
    )
    .await
    .unwrap_err();
    match &err.kind {
        ErrorKind::Transport(TransportError::PlainHttp { host }) => assert_eq!(host, "192.0.2.1"),
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("pw-never-sent"), "{err}");
}
