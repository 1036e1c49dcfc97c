//! Bounds a caller sets: the largest reply (also counted after gzip decoding, and on the
//! streamed property path), the number of `RetrievePropertiesEx` pages followed, and the
//! decode limits (nesting depth, decoded-size budget) as client settings.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt as _;
use vim_sdk::mo;
use vim_sdk::property::{objects_spec, Paths, PropertyStream};
use vim_sdk::transport::{Transport, TransportConfig, TransportError};
use vim_sdk::xml::{DecodeErrorKind, Limits, ManagedObjectReference};
use vim_sdk::{Client, ErrorKind};

#[path = "support/loopback.rs"]
mod loopback;
use loopback::{full, gzip, handler, reply, TestServer};

const HEAD: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
    r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" "#,
    r#"xmlns:xsd="http://www.w3.org/2001/XMLSchema" "#,
    r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>"#
);
const TAIL: &str = "</soapenv:Body></soapenv:Envelope>";

/// A `CurrentTime` reply padded to about `size` bytes with a comment.
fn padded_time_reply(size: usize) -> String {
    format!(
        "{HEAD}<!--{}--><CurrentTimeResponse xmlns=\"urn:vim25\"><returnval>2024-01-02T03:04:05Z</returnval></CurrentTimeResponse>{TAIL}",
        "x".repeat(size)
    )
}

async fn time_server(size: usize, gzipped: bool) -> TestServer {
    let text = padded_time_reply(size);
    TestServer::start(
        None,
        handler(move |_req| {
            let text = text.clone();
            async move {
                if gzipped {
                    http::Response::builder()
                        .status(200)
                        .header("Content-Type", "text/xml; charset=utf-8")
                        .header("Content-Encoding", "gzip")
                        .body(full(gzip(text.as_bytes())))
                        .unwrap()
                } else {
                    reply(200, text)
                }
            }
        }),
    )
    .await
}

fn client(url: &str, max_body: Option<usize>) -> Client {
    let mut config = TransportConfig::new(url);
    if let Some(n) = max_body {
        config = config.max_body(n);
    }
    Client::new(Transport::new(config).expect("transport"))
}

#[tokio::test]
async fn the_callers_reply_cap_applies_plain_and_after_gzip() {
    for gzipped in [false, true] {
        let server = time_server(64 * 1024, gzipped).await;
        let url = server.http_url();
        let c = client(&url, None);
        c.service_instance()
            .current_time(&c)
            .await
            .expect("within the default cap");
        let c = client(&url, Some(16 * 1024));
        let err = c.service_instance().current_time(&c).await.unwrap_err();
        match err.kind {
            ErrorKind::Transport(TransportError::BodyTooLarge { limit }) => {
                assert_eq!(limit, 16 * 1024, "gzip {gzipped}")
            }
            other => panic!("gzip {gzipped}: {other:?}"),
        }
        let c = client(&url, Some(80 * 1024));
        c.service_instance()
            .current_time(&c)
            .await
            .expect("within a larger cap");
    }
}

#[tokio::test]
async fn a_truncated_or_corrupt_gzip_body_is_an_error() {
    let text = padded_time_reply(4096);
    let packed = gzip(text.as_bytes());
    for cut in [packed.len() - 4, packed.len() / 2, 12] {
        let body = packed[..cut].to_vec();
        let server = TestServer::start(
            None,
            handler(move |_req| {
                let body = body.clone();
                async move {
                    http::Response::builder()
                        .status(200)
                        .header("Content-Encoding", "gzip")
                        .body(full(body))
                        .unwrap()
                }
            }),
        )
        .await;
        let c = client(&server.http_url(), None);
        let err = c.service_instance().current_time(&c).await.unwrap_err();
        assert!(
            matches!(err.kind, ErrorKind::Transport(TransportError::Io(_))),
            "cut at {cut}: {err:?}"
        );
    }
}

fn object(i: usize) -> String {
    format!(
        r#"<objects><obj type="VirtualMachine">vm-{i}</obj><propSet><name>name</name><val xsi:type="xsd:string">vm {i}</val></propSet></objects>"#
    )
}

/// Answers every retrieval with one object and a new continuation token, forever; counts the
/// pages served and the cancellations.
async fn endless_pages(pages: Arc<AtomicUsize>, cancels: Arc<AtomicUsize>) -> TestServer {
    TestServer::start(
        None,
        handler(move |req: http::Request<hyper::body::Incoming>| {
            let (pages, cancels) = (pages.clone(), cancels.clone());
            async move {
                let body = req.into_body().collect().await.unwrap().to_bytes();
                let body = String::from_utf8_lossy(&body).into_owned();
                if body.contains("<CancelRetrievePropertiesEx ") {
                    cancels.fetch_add(1, Ordering::SeqCst);
                    return reply(
                        200,
                        format!(
                            "{HEAD}<CancelRetrievePropertiesExResponse xmlns=\"urn:vim25\"/>{TAIL}"
                        ),
                    );
                }
                let op = if body.contains("<RetrievePropertiesEx ") {
                    "RetrievePropertiesEx"
                } else {
                    "ContinueRetrievePropertiesEx"
                };
                let n = pages.fetch_add(1, Ordering::SeqCst);
                reply(
                    200,
                    format!(
                        "{HEAD}<{op}Response xmlns=\"urn:vim25\"><returnval><token>t-{n}</token>{}</returnval></{op}Response>{TAIL}",
                        object(n)
                    ),
                )
            }
        }),
    )
    .await
}

fn collector() -> mo::PropertyCollector {
    mo::PropertyCollector::from_ref(ManagedObjectReference::new(
        "PropertyCollector",
        "propertyCollector",
    ))
}

fn spec() -> vim_sdk::types::PropertyFilterSpec {
    objects_spec(
        &[ManagedObjectReference::new("VirtualMachine", "vm-0")],
        &Paths::parse_list("name"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_stops_paging_hits_the_page_limit() {
    let (pages, cancels) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let server = endless_pages(pages.clone(), cancels.clone()).await;
    let c = client(&server.http_url(), None);
    let run = async {
        let mut stream = PropertyStream::start(&c, &collector(), &[spec()], Some(1))
            .await
            .expect("first page")
            .max_pages(3);
        let mut seen = 0;
        let err = loop {
            match stream.next().await {
                Ok(Some(_)) => seen += 1,
                Ok(None) => panic!("the server never ends its pages"),
                Err(e) => break e,
            }
        };
        (seen, err, stream)
    };
    let (seen, err, stream) = tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("the stream stops by itself");
    assert_eq!(seen, 3);
    assert_eq!(pages.load(Ordering::SeqCst), 3);
    match err.kind {
        ErrorKind::TooManyPages { limit } => assert_eq!(limit, 3),
        other => panic!("{other:?}"),
    }
    assert_eq!(stream.pages(), 3);
    // The pages the server still holds are released.
    stream.cancel().await.expect("cancel");
    assert_eq!(cancels.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reply_cap_bounds_a_streamed_page_too() {
    let big = format!(
        "{HEAD}<RetrievePropertiesExResponse xmlns=\"urn:vim25\"><returnval>{}</returnval></RetrievePropertiesExResponse>{TAIL}",
        (0..2000).map(object).collect::<String>()
    );
    let server = TestServer::start(
        None,
        handler(move |_req| {
            let big = big.clone();
            async move { reply(200, big) }
        }),
    )
    .await;
    let c = client(&server.http_url(), Some(32 * 1024));
    let mut stream = PropertyStream::start(&c, &collector(), &[spec()], None)
        .await
        .expect("start");
    let err = loop {
        match stream.next().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("a page over the cap was read to its end"),
            Err(e) => break e,
        }
    };
    match err.kind {
        ErrorKind::Decode(e) => assert!(
            matches!(e.kind, DecodeErrorKind::TooLarge { limit } if limit == 32 * 1024),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
    let c = client(&server.http_url(), None);
    let all = PropertyStream::start(&c, &collector(), &[spec()], None)
        .await
        .expect("start")
        .collect()
        .await
        .expect("within the default cap");
    assert_eq!(all.len(), 2000);
}

#[tokio::test]
async fn the_clients_depth_limit_applies_at_its_bound() {
    let server = time_server(16, false).await;
    let c = client(&server.http_url(), None);
    // Envelope, Body, CurrentTimeResponse, returnval: four levels.
    c.set_decode_limits(Limits {
        max_depth: 4,
        ..Limits::default()
    });
    assert_eq!(c.decode_limits().max_depth, 4);
    c.service_instance()
        .current_time(&c)
        .await
        .expect("four levels within a depth of 4");
    c.set_decode_limits(Limits {
        max_depth: 3,
        ..Limits::default()
    });
    let err = c.service_instance().current_time(&c).await.unwrap_err();
    match err.kind {
        ErrorKind::Decode(e) => assert!(
            matches!(e.kind, DecodeErrorKind::TooDeep { limit: 3 }),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
}

/// Serves one page of `n` objects to every retrieval.
async fn one_page(n: usize) -> TestServer {
    let page = format!(
        "{HEAD}<RetrievePropertiesExResponse xmlns=\"urn:vim25\"><returnval>{}</returnval></RetrievePropertiesExResponse>{TAIL}",
        (0..n).map(object).collect::<String>()
    );
    TestServer::start(
        None,
        handler(move |_req| {
            let page = page.clone();
            async move { reply(200, page) }
        }),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clients_cost_budget_applies_to_whole_and_streamed_replies() {
    let server = one_page(50).await;
    let c = client(&server.http_url(), None);
    let retrieve = |c: Client| async move {
        collector()
            .retrieve_properties_ex(&c, &[spec()], &Default::default())
            .await
    };
    let streamed = |c: Client| async move {
        PropertyStream::start(&c, &collector(), &[spec()], None)
            .await?
            .collect()
            .await
    };
    let whole = retrieve(c.clone())
        .await
        .expect("within the default budget");
    assert_eq!(whole.iter().map(|r| r.objects.len()).sum::<usize>(), 50);
    assert_eq!(streamed(c.clone()).await.expect("streamed").len(), 50);
    // No floor and nothing per byte: the first charged object is over the budget.
    c.set_decode_limits(Limits {
        cost_floor: 0,
        cost_per_byte: 0,
        ..Limits::default()
    });
    for err in [
        retrieve(c.clone()).await.map(|_| ()).unwrap_err(),
        streamed(c.clone()).await.map(|_| ()).unwrap_err(),
    ] {
        match err.kind {
            ErrorKind::Decode(e) => assert!(
                matches!(
                    e.kind,
                    DecodeErrorKind::TooCostly {
                        per_byte: 0,
                        floor: 0
                    }
                ),
                "{e}"
            ),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clients_page_limit_is_every_streams_default() {
    let (pages, cancels) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let server = endless_pages(pages.clone(), cancels).await;
    let c = client(&server.http_url(), None);
    assert_eq!(c.max_pages(), vim_sdk::client::DEFAULT_MAX_PAGES);
    c.set_max_pages(2);
    let run = PropertyStream::start(&c, &collector(), &[spec()], Some(1))
        .await
        .expect("first page")
        .collect();
    let err = tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("the stream stops by itself")
        .unwrap_err();
    match err.kind {
        ErrorKind::TooManyPages { limit } => assert_eq!(limit, 2),
        other => panic!("{other:?}"),
    }
    assert_eq!(pages.load(Ordering::SeqCst), 2);
}
