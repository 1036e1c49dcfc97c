//! Loopback HTTP(S) servers and a test PKI for the transport tests: hyper servers on
//! 127.0.0.1 with certificates generated per test (`vim_sdk::testing::pki`). No traffic leaves the machine.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;
use vim_sdk::testing::pki::{TestCa, Validity};
use vim_sdk::transport::{Transport, TransportConfig, TransportError};

pub type ServerBody = UnsyncBoxBody<Bytes, std::io::Error>;
pub type Handler = Arc<
    dyn Fn(Request<Incoming>) -> Pin<Box<dyn Future<Output = Response<ServerBody>> + Send>>
        + Send
        + Sync,
>;

pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<ServerBody>> + Send + 'static,
{
    Arc::new(move |req| Box::pin(f(req)))
}

pub fn full(data: impl Into<Bytes>) -> ServerBody {
    Full::new(data.into())
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

pub fn reply(status: u16, body: impl Into<Bytes>) -> Response<ServerBody> {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(full(body))
        .unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// A loopback HTTP(S) server; counts accepted TCP connections.
pub struct TestServer {
    pub addr: SocketAddr,
    pub accepts: Arc<AtomicUsize>,
}

impl TestServer {
    pub async fn start(tls: Option<Arc<rustls::ServerConfig>>, handler: Handler) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepts = Arc::new(AtomicUsize::new(0));
        let counter = accepts.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                let handler = handler.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        let handler = handler.clone();
                        async move { Ok::<_, Infallible>(handler(req).await) }
                    });
                    let http = hyper::server::conn::http1::Builder::new();
                    match tls {
                        None => {
                            let _ = http.serve_connection(TokioIo::new(stream), svc).await;
                        }
                        Some(config) => {
                            let acceptor = tokio_rustls::TlsAcceptor::from(config);
                            if let Ok(tls_stream) = acceptor.accept(stream).await {
                                let _ = http.serve_connection(TokioIo::new(tls_stream), svc).await;
                            }
                        }
                    }
                });
            }
        });
        TestServer { addr, accepts }
    }

    pub fn http_url(&self) -> String {
        format!("http://{}/sdk", self.addr)
    }

    pub fn https_url(&self) -> String {
        format!("https://{}/sdk", self.addr)
    }
}

pub fn http_transport(server: &TestServer) -> Transport {
    Transport::new(TransportConfig::new(server.http_url())).unwrap()
}

/// A test CA and a server certificate for 127.0.0.1 signed by it.
pub struct Pki {
    pub ca_pem_path: PathBuf,
    pub ca_der: CertificateDer<'static>,
    pub leaf_der: CertificateDer<'static>,
    pub server_config: Arc<rustls::ServerConfig>,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_pem_path);
    }
}

pub fn pki() -> Pki {
    pki_for(&["127.0.0.1", "localhost"])
}

pub fn pki_for(names: &[&str]) -> Pki {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let ca = TestCa::new("vim-sdk transport test CA");
    let leaf = ca.issue(names, Validity::Current);
    let ca_pem_path = std::env::temp_dir().join(format!(
        "vim-sdk-transport-test-ca-{}-{}.pem",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::write(&ca_pem_path, ca.pem()).unwrap();
    Pki {
        ca_pem_path,
        ca_der: ca.der(),
        leaf_der: leaf.der,
        server_config: leaf.server_config,
    }
}

pub async fn ok_server(tls: Option<Arc<rustls::ServerConfig>>) -> TestServer {
    TestServer::start(
        tls,
        handler(|_req| async { reply(200, "<soapenv:Envelope>ok</soapenv:Envelope>") }),
    )
    .await
}

pub async fn call_ok(transport: &Transport) -> Result<Bytes, TransportError> {
    let response = transport
        .soap_call("urn:vim25/8.0.2.0", None, Bytes::from_static(b"<x/>"))
        .await?;
    assert_eq!(response.status, StatusCode::OK);
    response.body.collect(1 << 20).await
}

pub fn tls_message(err: TransportError) -> String {
    match err {
        TransportError::Tls { message } => message,
        other => panic!("expected a TLS error, got {other:?}"),
    }
}
