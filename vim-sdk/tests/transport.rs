//! Loopback tests of the HTTPS SOAP transport against small hyper servers on 127.0.0.1, with
//! certificates generated per test by rcgen. No traffic leaves the machine.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::channel::Channel;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use vim_sdk::transport::{
    sha1_thumbprint, sha256_thumbprint, Collected, Thumbprint, TlsMode, Transport, TransportConfig,
    TransportError,
};

#[path = "support/loopback.rs"]
mod loopback;
use loopback::*;

#[tokio::test]
async fn soap_call_sends_expected_headers_and_captures_session_cookie() {
    let seen: Arc<Mutex<Option<(HeaderMap, Bytes, String)>>> = Arc::default();
    let record = seen.clone();
    let server = TestServer::start(
        None,
        handler(move |req: Request<Incoming>| {
            let record = record.clone();
            async move {
                let (parts, body) = req.into_parts();
                let body = body.collect().await.unwrap().to_bytes();
                let target = parts.uri.to_string();
                *record.lock().unwrap() = Some((parts.headers, body.clone(), target));
                Response::builder()
                    .status(200)
                    .header("Set-Cookie", "other=1; Path=/")
                    .header(
                        "Set-Cookie",
                        "vmware_soap_session=\"52ab-secret-cd\"; Path=/; HttpOnly; Secure",
                    )
                    .body(full(body))
                    .unwrap()
            }
        }),
    )
    .await;
    let transport = http_transport(&server);
    let envelope = Bytes::from_static(b"<soapenv:Envelope>hello</soapenv:Envelope>");
    let response = transport
        .soap_call(
            "urn:vim25/8.0.2.0",
            Some("\"old-cookie\""),
            envelope.clone(),
        )
        .await
        .unwrap();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.session_cookie.as_deref(),
        Some("\"52ab-secret-cd\"")
    );
    let debug = format!("{response:?}");
    assert!(!debug.contains("52ab-secret-cd"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
    assert_eq!(response.body.collect(1024).await.unwrap(), envelope);

    let (headers, body, target) = seen.lock().unwrap().take().unwrap();
    assert_eq!(body, envelope);
    assert_eq!(target, "/sdk");
    assert_eq!(headers["soapaction"], "urn:vim25/8.0.2.0");
    assert_eq!(headers["content-type"], "text/xml; charset=utf-8");
    assert_eq!(headers["accept-encoding"], "gzip");
    assert_eq!(headers["cookie"], "vmware_soap_session=\"old-cookie\"");
    assert_eq!(
        headers["user-agent"],
        format!("vim-sdk/{}", env!("CARGO_PKG_VERSION")).as_str()
    );
    assert_eq!(
        headers["content-length"],
        envelope.len().to_string().as_str()
    );
    assert_eq!(headers["host"], server.addr.to_string().as_str());
}

#[tokio::test]
async fn no_cookie_header_without_a_session_and_custom_user_agent() {
    let seen: Arc<Mutex<Option<HeaderMap>>> = Arc::default();
    let record = seen.clone();
    let server = TestServer::start(
        None,
        handler(move |req: Request<Incoming>| {
            *record.lock().unwrap() = Some(req.headers().clone());
            async { reply(200, "ok") }
        }),
    )
    .await;
    let transport =
        Transport::new(TransportConfig::new(server.http_url()).user_agent("my-tool/2.0")).unwrap();
    let response = transport
        .soap_call("urn:vim25/7.0", None, Bytes::new())
        .await
        .unwrap();
    assert_eq!(response.session_cookie, None);
    let headers = seen.lock().unwrap().take().unwrap();
    assert!(headers.get("cookie").is_none());
    assert_eq!(headers["user-agent"], "my-tool/2.0");
}

#[tokio::test]
async fn status_500_is_a_soap_response_carrying_the_fault() {
    let fault = "<soapenv:Fault><faultstring>nope</faultstring></soapenv:Fault>";
    let server = TestServer::start(None, handler(move |_| async move { reply(500, fault) })).await;
    let response = http_transport(&server)
        .soap_call("urn:vim25/8.0.2.0", None, Bytes::from_static(b"<x/>"))
        .await
        .unwrap();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        &response.body.collect(4096).await.unwrap()[..],
        fault.as_bytes()
    );
}

#[tokio::test]
async fn status_404_is_a_status_error_with_a_bounded_snippet() {
    let server = TestServer::start(
        None,
        handler(|_| async { reply(404, format!("Not Found{}", "x".repeat(100_000))) }),
    )
    .await;
    let err = http_transport(&server)
        .soap_call("urn:vim25/8.0.2.0", None, Bytes::from_static(b"<x/>"))
        .await
        .unwrap_err();
    match err {
        TransportError::Status {
            status,
            body_snippet,
        } => {
            assert_eq!(status, StatusCode::NOT_FOUND);
            assert!(body_snippet.starts_with("Not Found"), "{body_snippet}");
            assert!(body_snippet.len() <= 1024 + 3, "{}", body_snippet.len());
        }
        other => panic!("expected Status, got {other:?}"),
    }
}

#[tokio::test]
async fn gzip_reply_is_inflated_by_collect_and_by_the_streaming_reader() {
    let xml =
        "<soapenv:Envelope>".to_string() + &"<obj>vm-42</obj>".repeat(5000) + "</soapenv:Envelope>";
    let compressed = Bytes::from(gzip(xml.as_bytes()));
    assert!(compressed.len() < xml.len() / 10);
    let server = TestServer::start(
        None,
        handler(move |_| {
            let compressed = compressed.clone();
            async move {
                Response::builder()
                    .status(200)
                    .header("Content-Encoding", "gzip")
                    .body(full(compressed))
                    .unwrap()
            }
        }),
    )
    .await;
    let transport = http_transport(&server);

    let response = transport
        .soap_call("urn:vim25/8.0.2.0", None, Bytes::new())
        .await
        .unwrap();
    assert!(response.body.is_gzip());
    assert_eq!(
        response.body.collect(1 << 20).await.unwrap(),
        xml.as_bytes()
    );

    let response = transport
        .soap_call("urn:vim25/8.0.2.0", None, Bytes::new())
        .await
        .unwrap();
    let mut reader = response.body.into_blocking_reader();
    let text = tokio::task::spawn_blocking(move || {
        let mut s = String::new();
        reader.read_to_string(&mut s).map(|_| s)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(text, xml);
}

#[tokio::test]
async fn body_limit_applies_to_the_decoded_size() {
    let plain = Bytes::from(vec![b'a'; 1000]);
    let bomb = Bytes::from(gzip(&vec![0u8; 1_000_000]));
    assert!(bomb.len() < 10_000);
    let server = TestServer::start(
        None,
        handler(move |req: Request<Incoming>| {
            let (plain, bomb) = (plain.clone(), bomb.clone());
            async move {
                if req.headers()["soapaction"] == "bomb" {
                    Response::builder()
                        .status(200)
                        .header("Content-Encoding", "gzip")
                        .body(full(bomb))
                        .unwrap()
                } else {
                    reply(200, plain)
                }
            }
        }),
    )
    .await;
    let transport = http_transport(&server);
    let call = |action: &'static str| transport.soap_call(action, None, Bytes::new());

    let body = call("plain").await.unwrap().body;
    assert_eq!(body.collect(1000).await.unwrap().len(), 1000);
    let body = call("plain").await.unwrap().body;
    assert!(matches!(
        body.collect(999).await,
        Err(TransportError::BodyTooLarge { limit: 999 })
    ));
    let body = call("bomb").await.unwrap().body;
    assert!(matches!(
        body.collect(100_000).await,
        Err(TransportError::BodyTooLarge { limit: 100_000 })
    ));
    let body = call("bomb").await.unwrap().body;
    assert_eq!(body.collect(1_000_000).await.unwrap().len(), 1_000_000);
}

/// A server whose reply is sent in two parts: the second only once the test says so.
async fn two_part_server(
    first: &'static [u8],
    second: Option<&'static [u8]>,
) -> (TestServer, tokio::sync::mpsc::Sender<()>) {
    let (go_tx, go_rx) = tokio::sync::mpsc::channel::<()>(1);
    let go_rx = Arc::new(tokio::sync::Mutex::new(go_rx));
    let server = TestServer::start(
        None,
        handler(move |_| {
            let go_rx = go_rx.clone();
            async move {
                let (mut tx, body) = Channel::<Bytes, std::io::Error>::new(2);
                tokio::spawn(async move {
                    tx.send_data(Bytes::from_static(first)).await.unwrap();
                    let _ = go_rx.lock().await.recv().await;
                    match second {
                        Some(rest) => {
                            let _ = tx.send_data(Bytes::from_static(rest)).await;
                        }
                        None => tx.abort(std::io::Error::other("server gives up")),
                    }
                });
                Response::builder()
                    .status(200)
                    .body(body.boxed_unsync())
                    .unwrap()
            }
        }),
    )
    .await;
    (server, go_tx)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::time::timeout(Duration::from_secs(10), tokio::task::spawn_blocking(f))
        .await
        .expect("blocking read did not finish in time")
        .unwrap()
}

/// A SOAP call to `server` over HTTP, its body as a blocking reader.
async fn streamed(server: &TestServer) -> vim_sdk::transport::BlockingBodyReader {
    let response = http_transport(server)
        .soap_call("urn:vim25/8.0.2.0", None, Bytes::new())
        .await
        .unwrap();
    response.body.into_blocking_reader()
}

/// The rest of `reader`'s body, read on the blocking pool.
async fn read_all(mut reader: vim_sdk::transport::BlockingBodyReader) -> String {
    blocking(move || {
        let mut all = String::new();
        reader.read_to_string(&mut all).unwrap();
        all
    })
    .await
}

/// The two parts of [`two_part_server`]'s reply in the tests of a paused reply.
const PART1: &[u8] = b"<Envelope><part1/>";
const PART2: &[u8] = b"<part2/></Envelope>";

/// Reads [`PART1`] from `reader` on the blocking pool while the server still holds part 2
/// back, and hands the reader back: a reader that waited for the rest of the reply first
/// would never return (the test fails when [`blocking`] gives up).
async fn read_first_part(
    mut reader: vim_sdk::transport::BlockingBodyReader,
) -> vim_sdk::transport::BlockingBodyReader {
    let (reader, first) = blocking(move || {
        let mut buf = vec![0u8; PART1.len()];
        reader.read_exact(&mut buf).unwrap();
        (reader, buf)
    })
    .await;
    assert_eq!(first, PART1);
    reader
}

#[tokio::test]
async fn streaming_reader_yields_chunks_before_the_reply_is_complete() {
    let (server, go) = two_part_server(PART1, Some(PART2)).await;
    // The server holds part 2 back until `go`: reading part 1 must not wait for it.
    let reader = read_first_part(streamed(&server).await).await;
    go.send(()).await.unwrap();
    let rest = read_all(reader).await;
    assert_eq!(rest.as_bytes(), PART2);
}

/// A SOAP call to `server` over HTTP, its body through `collect_small` (1 KiB, 1 ms gap).
async fn collected_small(server: &TestServer) -> Collected {
    let response = http_transport(server)
        .soap_call("urn:vim25/8.0.2.0", None, Bytes::new())
        .await
        .unwrap();
    response
        .body
        .collect_small(1024, Duration::from_millis(1), 1 << 20)
        .await
        .unwrap()
}

#[tokio::test]
async fn collect_small_reads_a_small_body_whole_and_hands_back_a_large_or_pausing_one() {
    // Small and complete (a `Content-Length` body sent in one write): read whole.
    let server = ok_server(None).await;
    match collected_small(&server).await {
        Collected::Whole(bytes) => {
            assert_eq!(&bytes[..], b"<soapenv:Envelope>ok</soapenv:Envelope>")
        }
        Collected::Large(body) => panic!("a small body was not read whole: {body:?}"),
    }

    // Larger than the limit: handed back, and streaming it gives every byte in order.
    let big: &'static [u8] = "<x/>".repeat(1000).leak().as_bytes();
    let (server, go) = two_part_server(b"<Envelope>", Some(big)).await;
    go.send(()).await.unwrap();
    let Collected::Large(body) = collected_small(&server).await else {
        panic!("a 4 KB body was read whole under a 1 KiB limit");
    };
    let all = read_all(body.into_blocking_reader()).await;
    assert_eq!(all, format!("<Envelope>{}", "<x/>".repeat(1000)));

    // Small but pausing (part 2 held back): handed back after the first part, which is not
    // held until the end; the rest follows when the server sends it.
    let (server, go) = two_part_server(PART1, Some(PART2)).await;
    let Collected::Large(body) = collected_small(&server).await else {
        panic!("a body paused by the server was awaited whole");
    };
    let reader = read_first_part(body.into_blocking_reader()).await;
    go.send(()).await.unwrap();
    assert_eq!(read_all(reader).await.as_bytes(), PART2);
}

#[tokio::test]
async fn streaming_reader_runs_its_wait_hook_before_waiting_for_the_network() {
    let (server, go) = two_part_server(PART1, Some(PART2)).await;
    let mut reader = streamed(&server).await;
    // The server sends part 2 only when the hook runs: without the hook the read would hang.
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    reader.on_wait(move || {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            go.try_send(()).unwrap();
        }
    });
    let all = read_all(reader).await;
    assert_eq!(all, "<Envelope><part1/><part2/></Envelope>");
    assert!(calls.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn many_small_frames_reach_the_reader_whole_and_in_order() {
    // Frames of a few bytes, some immediately after each other and some after a pause, so
    // that batches are cut both by size and by the wait for the next frame.
    let expected: String = (0..3000).map(|i| format!("<n>{i}</n>")).collect();
    let server = TestServer::start(
        None,
        handler(|_| async {
            let (mut tx, body) = Channel::<Bytes, std::io::Error>::new(4);
            tokio::spawn(async move {
                for i in 0..3000 {
                    tx.send_data(Bytes::from(format!("<n>{i}</n>")))
                        .await
                        .unwrap();
                    if i % 500 == 0 {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            });
            Response::builder()
                .status(200)
                .body(body.boxed_unsync())
                .unwrap()
        }),
    )
    .await;
    let reader = streamed(&server).await;
    let all = read_all(reader).await;
    assert_eq!(all, expected);
}

#[tokio::test]
async fn streaming_reader_reports_a_broken_connection_as_io_error() {
    let (server, go) = two_part_server(b"<Envelope>", None).await;
    let mut reader = streamed(&server).await;
    go.send(()).await.unwrap();
    let (data, err) = blocking(move || {
        let mut data = Vec::new();
        let err = reader.read_to_end(&mut data).unwrap_err();
        (data, err)
    })
    .await;
    assert_eq!(data, b"<Envelope>");
    assert!(
        err.to_string().contains("response body"),
        "unexpected error: {err}"
    );
}

#[tokio::test]
async fn streaming_reader_times_out_when_the_body_stalls() {
    let (server, _go) = two_part_server(b"<Envelope>", Some(b"</Envelope>")).await;
    let transport = Transport::new(
        TransportConfig::new(server.http_url()).read_idle_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let response = transport
        .soap_call("urn:vim25/8.0.2.0", None, Bytes::new())
        .await
        .unwrap();
    let mut reader = response.body.into_blocking_reader();
    let started = Instant::now();
    let err = blocking(move || {
        let mut data = Vec::new();
        reader.read_to_end(&mut data).unwrap_err()
    })
    .await;
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = TestServer::start(
        None,
        handler(|_| async {
            std::future::pending::<()>().await;
            unreachable!()
        }),
    )
    .await;
    let transport = Transport::new(
        TransportConfig::new(server.http_url()).call_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let started = Instant::now();
    let err = transport
        .soap_call("urn:vim25/8.0.2.0", None, Bytes::new())
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    match err {
        TransportError::Timeout { after, .. } => assert_eq!(after, Duration::from_millis(300)),
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(elapsed >= Duration::from_millis(290) && elapsed < Duration::from_secs(5));
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let transport = Transport::new(TransportConfig::new(format!("http://{addr}/sdk"))).unwrap();
    let err = transport
        .soap_call("urn:vim25/8.0.2.0", None, Bytes::new())
        .await
        .unwrap_err();
    match &err {
        TransportError::Connect { target, .. } => assert_eq!(target, &addr.to_string()),
        other => panic!("expected Connect, got {other:?}"),
    }
    assert!(err.is_transient());
}

#[tokio::test]
async fn keep_alive_reuses_one_connection_across_calls_and_clones() {
    let server = ok_server(None).await;
    let transport = http_transport(&server);
    for _ in 0..3 {
        call_ok(&transport).await.unwrap();
    }
    call_ok(&transport.clone()).await.unwrap();
    assert_eq!(server.accepts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn without_a_pool_every_call_opens_a_connection() {
    // Control for the keep-alive test: the accept counter does see new connections.
    let server = ok_server(None).await;
    let mut config = TransportConfig::new(server.http_url());
    config.pool_max_idle_per_host = 0;
    let transport = Transport::new(config).unwrap();
    for _ in 0..3 {
        call_ok(&transport).await.unwrap();
    }
    assert_eq!(server.accepts.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn verified_mode_rejects_an_unknown_ca_and_accepts_it_as_extra_ca() {
    let pki = pki();
    let server = ok_server(Some(pki.server_config.clone())).await;

    let strict = Transport::new(TransportConfig::new(server.https_url())).unwrap();
    let message = tls_message(call_ok(&strict).await.unwrap_err());
    assert!(message.contains("certificate"), "{message}");
    assert!(
        message.contains(&sha256_thumbprint(&pki.leaf_der)),
        "{message}"
    );

    let with_ca = Transport::new(
        TransportConfig::new(server.https_url()).tls(TlsMode::Verified {
            extra_ca_pem: Some(pki.ca_pem_path.clone()),
        }),
    )
    .unwrap();
    assert_eq!(
        &call_ok(&with_ca).await.unwrap()[..],
        b"<soapenv:Envelope>ok</soapenv:Envelope>"
    );
}

#[tokio::test]
async fn ca_file_mode_trusts_its_ca_and_no_other() {
    let pki = pki();
    let other = pki_for(&["127.0.0.1"]);
    let server = ok_server(Some(pki.server_config.clone())).await;

    let own_ca = Transport::new(
        TransportConfig::new(server.https_url()).tls(TlsMode::CaFile {
            ca_pem: pki.ca_pem_path.clone(),
        }),
    )
    .unwrap();
    assert_eq!(
        &call_ok(&own_ca).await.unwrap()[..],
        b"<soapenv:Envelope>ok</soapenv:Envelope>"
    );

    let other_ca = Transport::new(
        TransportConfig::new(server.https_url()).tls(TlsMode::CaFile {
            ca_pem: other.ca_pem_path.clone(),
        }),
    )
    .unwrap();
    // (Both test CAs have the same name: the other one is taken for the issuer and its
    // signature does not check out.)
    let message = tls_message(call_ok(&other_ca).await.unwrap_err());
    assert!(message.contains("server certificate rejected"), "{message}");
    assert!(
        message.contains(&sha256_thumbprint(&pki.leaf_der)),
        "{message}"
    );

    // Without the platform's roots, a file without a certificate leaves nothing to trust.
    let empty = std::env::temp_dir().join(format!("vim-sdk-empty-ca-{}.pem", std::process::id()));
    std::fs::write(&empty, "no certificate here\n").unwrap();
    let err = Transport::new(
        TransportConfig::new(server.https_url()).tls(TlsMode::CaFile {
            ca_pem: empty.clone(),
        }),
    )
    .unwrap_err();
    let _ = std::fs::remove_file(&empty);
    assert!(tls_message(err).contains("holds no PEM certificate"));
}

#[tokio::test]
async fn verified_mode_checks_the_host_name() {
    let pki = pki_for(&["vc.example.invalid"]);
    let server = ok_server(Some(pki.server_config.clone())).await;
    let transport = Transport::new(TransportConfig::new(server.https_url()).tls(
        TlsMode::Verified {
            extra_ca_pem: Some(pki.ca_pem_path.clone()),
        },
    ))
    .unwrap();
    let message = tls_message(call_ok(&transport).await.unwrap_err());
    assert!(message.contains("certificate rejected"), "{message}");
    assert!(message.contains("not valid for name"), "{message}");
    assert!(message.contains("vc.example.invalid"), "{message}");
}

#[tokio::test]
async fn missing_extra_ca_file_fails_at_construction() {
    let err = Transport::new(TransportConfig::new("https://127.0.0.1:1/sdk").tls(
        TlsMode::Verified {
            extra_ca_pem: Some(PathBuf::from("/nonexistent/vim-sdk-ca.pem")),
        },
    ))
    .unwrap_err();
    assert!(tls_message(err).contains("/nonexistent/vim-sdk-ca.pem"));
}

#[tokio::test]
async fn pinned_mode_accepts_matching_sha1_or_sha256_and_rejects_others() {
    let pki = pki();
    let server = ok_server(Some(pki.server_config.clone())).await;
    let pinned = |pins: Vec<String>| {
        Transport::new(
            TransportConfig::new(server.https_url()).tls(TlsMode::Pinned {
                thumbprints: pins
                    .iter()
                    .map(|p| p.parse::<Thumbprint>().unwrap())
                    .collect(),
            }),
        )
        .unwrap()
    };
    let sha1 = sha1_thumbprint(&pki.leaf_der);
    let sha256 = sha256_thumbprint(&pki.leaf_der);

    call_ok(&pinned(vec![sha256.clone()])).await.unwrap();
    // ESXi style SHA-1, lower case and without colons.
    call_ok(&pinned(vec![sha1.replace(':', "").to_lowercase()]))
        .await
        .unwrap();
    // One matching pin among others is enough.
    call_ok(&pinned(vec!["00".repeat(32), sha1.clone()]))
        .await
        .unwrap();

    let message = tls_message(
        call_ok(&pinned(vec!["AB".repeat(32), "CD".repeat(20)]))
            .await
            .unwrap_err(),
    );
    assert!(message.contains("pinned"), "{message}");
    assert!(message.contains(&sha1), "{message}");
    assert!(message.contains(&sha256), "{message}");

    // Pins are for the end-entity certificate: the issuing CA's thumbprint does not match.
    let ca_pin = sha256_thumbprint(&pki.ca_der);
    assert!(matches!(
        call_ok(&pinned(vec![ca_pin])).await,
        Err(TransportError::Tls { .. })
    ));
}

#[tokio::test]
async fn get_reads_a_path_from_the_base_origin() {
    let server = TestServer::start(
        None,
        handler(|req: Request<Incoming>| async move {
            match req.uri().path() {
                "/sdk/vimServiceVersions.xml" => reply(200, "<namespaces/>"),
                _ => reply(404, "no such file"),
            }
        }),
    )
    .await;
    let transport = http_transport(&server);
    let (status, body) = transport
        .get("/sdk/vimServiceVersions.xml", None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body.collect(1024).await.unwrap()[..], b"<namespaces/>");
    assert!(matches!(
        transport.get("/folder/missing?dsName=ds1", None).await,
        Err(TransportError::Status {
            status: StatusCode::NOT_FOUND,
            ..
        })
    ));
    assert!(matches!(
        transport.get("relative", None).await,
        Err(TransportError::InvalidUrl { .. })
    ));
}

#[tokio::test]
async fn put_stream_uploads_intact_with_progress_adding_up() {
    let received: Arc<Mutex<Option<(HeaderMap, Bytes)>>> = Arc::default();
    let record = received.clone();
    let server = TestServer::start(
        None,
        handler(move |req: Request<Incoming>| {
            let record = record.clone();
            async move {
                let (parts, body) = req.into_parts();
                match body.collect().await {
                    Ok(body) => {
                        *record.lock().unwrap() = Some((parts.headers, body.to_bytes()));
                        reply(201, "")
                    }
                    Err(_) => reply(400, "broken upload"),
                }
            }
        }),
    )
    .await;
    let transport = http_transport(&server);
    let data: Vec<u8> = (0..(1 << 20) + 123).map(|i: u32| (i % 251) as u8).collect();
    let total = Arc::new(AtomicU64::new(0));
    let calls = Arc::new(AtomicUsize::new(0));
    let (t, c) = (total.clone(), calls.clone());
    let status = transport
        .put_stream(
            "/folder/disk.vmdk?dcPath=dc1&dsName=ds1",
            Some("\"sess\""),
            data.len() as u64,
            std::io::Cursor::new(data.clone()),
            move |n| {
                t.fetch_add(n, Ordering::SeqCst);
                c.fetch_add(1, Ordering::SeqCst);
            },
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(total.load(Ordering::SeqCst), data.len() as u64);
    assert!(
        calls.load(Ordering::SeqCst) >= 16,
        "uploaded in too few chunks"
    );
    let (headers, body) = received.lock().unwrap().take().unwrap();
    assert_eq!(body.len(), data.len());
    assert!(body[..] == data[..], "upload corrupted");
    assert_eq!(headers["content-length"], data.len().to_string().as_str());
    assert_eq!(headers["cookie"], "vmware_soap_session=\"sess\"");
}

/// A server that reads every request body and answers 201 Created.
async fn accepting_server() -> TestServer {
    TestServer::start(
        None,
        handler(|req: Request<Incoming>| async move {
            let _ = req.into_body().collect().await;
            reply(201, "")
        }),
    )
    .await
}

#[tokio::test]
async fn put_stream_fails_when_the_source_is_short() {
    let server = accepting_server().await;
    let err = http_transport(&server)
        .put_stream(
            "/folder/f",
            None,
            1000,
            std::io::Cursor::new(vec![7u8; 500]),
            |_| {},
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("500 bytes short"), "{err}");
}

#[tokio::test]
async fn put_stream_times_out_when_the_upload_stalls() {
    let server = accepting_server().await;
    let transport = Transport::new(
        TransportConfig::new(server.http_url()).read_idle_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    // The source delivers 10 bytes of the announced 100, then nothing, without ending.
    let (mut writer, reader) = tokio::io::duplex(64);
    tokio::io::AsyncWriteExt::write_all(&mut writer, b"0123456789")
        .await
        .unwrap();
    let started = Instant::now();
    let err = transport
        .put_stream("/folder/f", None, 100, reader, |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Timeout { after, .. } if after == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(writer);
}

#[tokio::test]
async fn verified_mode_refuses_a_self_signed_or_expired_certificate_saying_which() {
    use vim_sdk::testing::pki::{self_signed, TestCa, Validity};

    let own = self_signed(&["127.0.0.1"]);
    let server = ok_server(Some(own.server_config.clone())).await;
    let strict = Transport::new(TransportConfig::new(server.https_url())).unwrap();
    let message = tls_message(call_ok(&strict).await.unwrap_err());
    assert!(
        message.contains("not signed by a trusted certificate authority (self-signed?"),
        "{message}"
    );
    assert!(message.contains(&own.sha256()), "{message}");

    let ca = TestCa::new("expired test CA");
    let ca_file =
        std::env::temp_dir().join(format!("vim-sdk-expired-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let expired = ca.issue(&["127.0.0.1"], Validity::Expired);
    let server = ok_server(Some(expired.server_config.clone())).await;
    let with_ca = Transport::new(
        TransportConfig::new(server.https_url()).tls(TlsMode::Verified {
            extra_ca_pem: Some(ca_file.clone()),
        }),
    )
    .unwrap();
    let message = tls_message(call_ok(&with_ca).await.unwrap_err());
    assert!(message.contains("certificate rejected"), "{message}");
    assert!(message.contains("expired"), "{message}");
    // A pin accepts it: pinning checks the certificate's identity, not its dates.
    let pinned = Transport::new(
        TransportConfig::new(server.https_url()).tls(TlsMode::Pinned {
            thumbprints: vec![expired.sha256().parse().unwrap()],
        }),
    )
    .unwrap();
    call_ok(&pinned).await.unwrap();
    let _ = std::fs::remove_file(&ca_file);
}

#[tokio::test]
async fn pins_parse_in_every_written_form() {
    use vim_sdk::testing::pki::self_signed;

    let cert = self_signed(&["127.0.0.1"]);
    let server = ok_server(Some(cert.server_config.clone())).await;
    for pin in [cert.sha1(), cert.sha256()] {
        for form in [
            pin.clone(),
            pin.to_lowercase(),
            pin.replace(':', ""),
            pin.replace(':', "").to_lowercase(),
            format!("  {pin}  "),
        ] {
            let thumbprint: Thumbprint = form.parse().unwrap_or_else(|e| panic!("{form}: {e}"));
            let t = Transport::new(
                TransportConfig::new(server.https_url()).tls(TlsMode::Pinned {
                    thumbprints: vec![thumbprint],
                }),
            )
            .unwrap();
            call_ok(&t).await.unwrap_or_else(|e| panic!("{form}: {e}"));
        }
    }
}
