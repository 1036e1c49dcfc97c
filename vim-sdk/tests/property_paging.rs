//! `RetrievePropertiesEx` paging and streaming against hand-written replies from a loopback
//! server (vcsim 0.24 ignores `maxObjects`, and answers too fast to show streaming).

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::channel::Channel;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use vim_sdk::mo;
use vim_sdk::property::{objects_spec, retrieve, Paths, PropertyStream};
use vim_sdk::transport::{Transport, TransportConfig};
use vim_sdk::types::{Any, AnyMethodFault};
use vim_sdk::xml::ManagedObjectReference;
use vim_sdk::Client;

type Body = UnsyncBoxBody<Bytes, std::io::Error>;
type Reply = std::pin::Pin<Box<dyn std::future::Future<Output = Response<Body>> + Send>>;

const HEAD: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
    r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" "#,
    r#"xmlns:xsd="http://www.w3.org/2001/XMLSchema" "#,
    r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>"#
);
const TAIL: &str = "</soapenv:Body></soapenv:Envelope>";

/// Starts a loopback server answering every POST with `reply(request body)`; returns its URL.
async fn serve(reply: impl Fn(String) -> Reply + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sdk", listener.local_addr().unwrap());
    let reply = Arc::new(reply);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let reply = reply.clone();
                    async move {
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let text = String::from_utf8_lossy(&body).into_owned();
                        Ok::<_, Infallible>(reply(text).await)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    url
}

fn full(status: u16, text: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "text/xml; charset=utf-8")
        .body(
            Full::new(Bytes::from(text))
                .map_err(|e| match e {})
                .boxed_unsync(),
        )
        .unwrap()
}

fn object(i: usize) -> String {
    format!(
        r#"<objects><obj type="VirtualMachine">vm-{i}</obj><propSet><name>name</name><val xsi:type="xsd:string">vm {i}</val></propSet><propSet><name>summary.quickStats.overallCpuUsage</name><val xsi:type="xsd:int">{i}</val></propSet></objects>"#
    )
}

fn page(op: &str, range: std::ops::Range<usize>, token: Option<&str>) -> String {
    let mut s = format!("{HEAD}<{op}Response xmlns=\"urn:vim25\"><returnval>");
    if let Some(t) = token {
        s.push_str(&format!("<token>{t}</token>"));
    }
    for i in range {
        s.push_str(&object(i));
    }
    s.push_str(&format!("</returnval></{op}Response>{TAIL}"));
    s
}

fn client(url: &str) -> Client {
    Client::new(Transport::new(TransportConfig::new(url)).unwrap())
}

fn collector() -> mo::PropertyCollector {
    mo::PropertyCollector::from_ref(ManagedObjectReference::new(
        "PropertyCollector",
        "propertyCollector",
    ))
}

fn vms(n: usize) -> Vec<ManagedObjectReference> {
    (0..n)
        .map(|i| ManagedObjectReference::new("VirtualMachine", format!("vm-{i}")))
        .collect()
}

/// Three pages linked by tokens; answers any other request with a fault.
fn paging_server(seen: Arc<Mutex<Vec<String>>>) -> impl Fn(String) -> Reply + Send + Sync {
    move |body: String| {
        seen.lock().unwrap().push(body.clone());
        Box::pin(async move {
            if body.contains("<RetrievePropertiesEx ") {
                assert!(body.contains("<maxObjects>2</maxObjects>"), "{body}");
                full(200, page("RetrievePropertiesEx", 0..2, Some("page-2")))
            } else if body.contains("<token>page-2</token>") {
                full(
                    200,
                    page("ContinueRetrievePropertiesEx", 2..4, Some("page-3")),
                )
            } else if body.contains("<token>page-3</token>") {
                full(200, page("ContinueRetrievePropertiesEx", 4..5, None))
            } else if body.contains("<CancelRetrievePropertiesEx ") {
                full(
                    200,
                    format!(
                        "{HEAD}<CancelRetrievePropertiesExResponse xmlns=\"urn:vim25\"/>{TAIL}"
                    ),
                )
            } else {
                full(500, format!(
                    "{HEAD}<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>bad token</faultstring><detail><InvalidArgumentFault xmlns=\"urn:vim25\" xsi:type=\"InvalidArgument\"><invalidProperty>token</invalidProperty></InvalidArgumentFault></detail></soapenv:Fault>{TAIL}"
                ))
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_pages_follow_the_tokens() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = serve(paging_server(seen.clone())).await;
    let c = client(&url);
    let spec = objects_spec(&vms(5), &Paths::parse_list("name"));
    let objs = retrieve(&c, &collector(), &[spec], Some(2)).await.unwrap();

    let names: Vec<_> = objs.iter().map(|o| o.obj.value.as_str()).collect();
    assert_eq!(names, ["vm-0", "vm-1", "vm-2", "vm-3", "vm-4"]);
    assert!(matches!(&objs[3].prop_set[1].val, Any::Int(3)));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(
        seen[1].contains("<ContinueRetrievePropertiesEx "),
        "{}",
        seen[1]
    );
    assert!(seen[1].contains("<token>page-2</token>"), "{}", seen[1]);
    assert!(
        seen[2].contains("<ContinueRetrievePropertiesEx "),
        "{}",
        seen[2]
    );
    assert!(seen[2].contains("<token>page-3</token>"), "{}", seen[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_releases_the_remaining_pages() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = serve(paging_server(seen.clone())).await;
    let c = client(&url);
    let spec = objects_spec(&vms(5), &Paths::All);
    let mut stream = PropertyStream::start(&c, &collector(), &[spec], Some(2))
        .await
        .unwrap();
    // Reading both objects of the first page gives its token (sent before the objects).
    stream.next().await.unwrap().unwrap();
    stream.next().await.unwrap().unwrap();
    stream.cancel().await.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen[1].contains("<CancelRetrievePropertiesEx "),
        "{}",
        seen[1]
    );
    assert!(seen[1].contains("<token>page-2</token>"), "{}", seen[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_on_a_later_page_is_typed() {
    let url = serve(|body: String| -> Reply {
        Box::pin(async move {
            if body.contains("<RetrievePropertiesEx ") {
                full(200, page("RetrievePropertiesEx", 0..1, Some("stale")))
            } else {
                full(500, format!(
                    "{HEAD}<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>bad token</faultstring><detail><InvalidArgumentFault xmlns=\"urn:vim25\" xsi:type=\"InvalidArgument\"><invalidProperty>token</invalidProperty></InvalidArgumentFault></detail></soapenv:Fault>{TAIL}"
                ))
            }
        })
    })
    .await;
    let c = client(&url);
    let mut stream = PropertyStream::start(
        &c,
        &collector(),
        &[objects_spec(&vms(1), &Paths::All)],
        None,
    )
    .await
    .unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap().obj.value, "vm-0");
    let err = stream.next().await.unwrap_err();
    assert_eq!(err.method, "ContinueRetrievePropertiesEx");
    assert_eq!(err.fault_type(), Some("InvalidArgument"));
    assert!(matches!(
        err.fault().unwrap().detail,
        Some(AnyMethodFault::InvalidArgument(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_reply_is_an_error_not_a_panic() {
    let url = serve(|_| -> Reply {
        Box::pin(async move {
            let mut s = page("RetrievePropertiesEx", 0..3, None);
            s.truncate(s.len() / 2);
            full(200, s)
        })
    })
    .await;
    let c = client(&url);
    let err = retrieve(
        &c,
        &collector(),
        &[objects_spec(&vms(3), &Paths::All)],
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(err.kind, vim_sdk::ErrorKind::Decode(_)), "{err}");
}

/// The first object reaches the caller while the server is still holding the rest of a
/// large reply: the reply is decoded as it arrives, not after it is read whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_arrive_before_the_reply_ends() {
    const OBJECTS: usize = 5000;
    let last_sent = Arc::new(AtomicBool::new(false));
    let (first_tx, first_rx) = tokio::sync::mpsc::channel::<()>(1);
    let first_rx = Arc::new(tokio::sync::Mutex::new(first_rx));
    let sent = last_sent.clone();
    let url = serve(move |_| -> Reply {
        let sent = sent.clone();
        let first_rx = first_rx.clone();
        Box::pin(async move {
            let (mut tx, body) = Channel::<Bytes, std::io::Error>::new(4);
            tokio::spawn(async move {
                let head = format!(
                    "{HEAD}<RetrievePropertiesExResponse xmlns=\"urn:vim25\"><returnval>{}",
                    object(0)
                );
                tx.send_data(Bytes::from(head)).await.unwrap();
                // Hold the rest until the client has the first object (or give up after 10 s).
                let _ = tokio::time::timeout(Duration::from_secs(10), async {
                    first_rx.lock().await.recv().await
                })
                .await;
                for chunk in (1..OBJECTS).collect::<Vec<_>>().chunks(100) {
                    let text: String = chunk.iter().map(|&i| object(i)).collect();
                    tx.send_data(Bytes::from(text)).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                sent.store(true, Ordering::SeqCst);
                let tail = format!("</returnval></RetrievePropertiesExResponse>{TAIL}");
                tx.send_data(Bytes::from(tail)).await.unwrap();
            });
            Response::builder()
                .status(200)
                .body(body.boxed_unsync())
                .unwrap()
        })
    })
    .await;
    let c = client(&url);
    let mut first_seen_before_end = None;
    let mut count = 0;
    let n = vim_sdk::property::retrieve_each(
        &c,
        &collector(),
        &[objects_spec(&vms(1), &Paths::All)],
        None,
        |o| {
            if count == 0 {
                assert_eq!(o.obj.value, "vm-0");
                first_seen_before_end = Some(!last_sent.load(Ordering::SeqCst));
                let _ = first_tx.try_send(());
            }
            count += 1;
        },
    )
    .await
    .unwrap();
    assert_eq!(n, OBJECTS);
    assert_eq!(count, OBJECTS);
    assert_eq!(first_seen_before_end, Some(true));
}
