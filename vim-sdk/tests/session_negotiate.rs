//! Version negotiation against loopback fixture servers: a `vimServiceVersions.xml` listing
//! versions newer and older than ours, and a server without the file (404), where the version
//! comes from `ServiceContent.about.apiVersion`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use vim_sdk::session::{negotiate, ConnectOptions, VersionSource};
use vim_sdk::transport::{Transport, TransportConfig};
use vim_sdk::Client;

const VERSIONS_8: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<namespaces version="1.0">
 <namespace>
  <name>urn:vim25</name>
  <version>9.0.0.0</version>
  <priorVersions>
   <version>8.0.3.0</version>
   <version>8.0.2.0</version>
   <version>8.0.1.0</version>
   <version>7.0.3.0</version>
  </priorVersions>
 </namespace>
 <namespace>
  <name>urn:vim2</name>
  <version>2.0</version>
 </namespace>
</namespaces>
"#;

fn envelope(inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>{inner}</soapenv:Body></soapenv:Envelope>"#
    )
}

fn service_content(api_version: &str) -> String {
    envelope(&format!(
        r#"<RetrieveServiceContentResponse xmlns="urn:vim25"><returnval><rootFolder type="Folder">group-d1</rootFolder><propertyCollector type="PropertyCollector">propertyCollector</propertyCollector><about><name>VMware vCenter Server</name><fullName>VMware vCenter Server {api_version}</fullName><vendor>VMware, Inc.</vendor><version>{api_version}</version><build>1</build><osType>linux-x64</osType><productLineId>vpx</productLineId><apiType>VirtualCenter</apiType><apiVersion>{api_version}</apiVersion></about><sessionManager type="SessionManager">SessionManager</sessionManager></returnval></RetrieveServiceContentResponse>"#
    ))
}

/// What the fixture saw: `(method, path, SOAPAction, first body element)`.
type Log = Arc<Mutex<Vec<(String, String, String, String)>>>;

/// Serves `versions` (or 404) and answers `RetrieveServiceContent` / `CurrentTime`.
async fn fixture(versions: Option<&'static str>, about_version: &'static str) -> (SocketAddr, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let seen = seen.clone();
                    async move {
                        let method = req.method().to_string();
                        let path = req.uri().path().to_string();
                        let action = req
                            .headers()
                            .get("SOAPAction")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let body = String::from_utf8_lossy(&body).into_owned();
                        let op = ["RetrieveServiceContent", "CurrentTime"]
                            .into_iter()
                            .find(|op| body.contains(&format!("<{op} ")))
                            .unwrap_or("")
                            .to_string();
                        seen.lock().unwrap().push((
                            method.clone(),
                            path.clone(),
                            action,
                            op.clone(),
                        ));
                        let (status, text) = match (method.as_str(), path.as_str(), op.as_str()) {
                            ("GET", "/sdk/vimServiceVersions.xml", _) => match versions {
                                Some(v) => (StatusCode::OK, v.to_string()),
                                None => (StatusCode::NOT_FOUND, "404 page not found".into()),
                            },
                            ("POST", "/sdk", "RetrieveServiceContent") => {
                                (StatusCode::OK, service_content(about_version))
                            }
                            ("POST", "/sdk", "CurrentTime") => (
                                StatusCode::OK,
                                envelope(
                                    r#"<CurrentTimeResponse xmlns="urn:vim25"><returnval>2024-01-01T00:00:00Z</returnval></CurrentTimeResponse>"#,
                                ),
                            ),
                            _ => (StatusCode::NOT_FOUND, String::new()),
                        };
                        let mut resp = Response::new(Full::new(Bytes::from(text)));
                        *resp.status_mut() = status;
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, log)
}

fn actions_of(log: &Log, op: &str) -> Vec<String> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|e| e.3 == op)
        .map(|e| e.2.clone())
        .collect()
}

#[tokio::test]
async fn picks_8_0_2_0_from_a_newer_servers_list() {
    let (addr, log) = fixture(Some(VERSIONS_8), "9.0.0.0").await;
    let session = Client::connect(&format!("http://{addr}/sdk"), ConnectOptions::new())
        .await
        .expect("connect");
    let n = session.negotiated();
    assert_eq!(n.version, "8.0.2.0");
    assert_eq!(n.source, VersionSource::ServiceVersionsFile);
    assert_eq!(n.server_versions[0], "9.0.0.0");
    assert_eq!(session.api_version(), "8.0.2.0");
    assert_eq!(session.content().about.api_version, "9.0.0.0");
    assert_eq!(session.user_session().map(|u| u.key.clone()), None);
    // The version was negotiated before the first SOAP call, which then spoke it.
    let first = log.lock().unwrap()[0].clone();
    assert_eq!(
        (first.0.as_str(), first.1.as_str()),
        ("GET", "/sdk/vimServiceVersions.xml")
    );
    assert_eq!(
        actions_of(&log, "RetrieveServiceContent"),
        ["urn:vim25/8.0.2.0"]
    );
    session.close().await.expect("close without login");
}

#[tokio::test]
async fn falls_back_to_about_api_version_on_404() {
    let (addr, log) = fixture(None, "7.0.3.0").await;
    let session = Client::connect(&format!("http://{addr}"), ConnectOptions::new())
        .await
        .expect("connect");
    let n = session.negotiated();
    assert_eq!(n.version, "7.0.3.0");
    assert_eq!(n.source, VersionSource::AboutInfo);
    assert!(n.server_versions.is_empty());
    // One RetrieveServiceContent (with our default version, nothing better being known).
    assert_eq!(
        actions_of(&log, "RetrieveServiceContent"),
        [format!(
            "urn:vim25/{}",
            vim_sdk::client::DEFAULT_API_VERSION
        )]
    );
    let now = session
        .service_instance()
        .current_time(&session)
        .await
        .expect("CurrentTime");
    assert_eq!(now, "2024-01-01T00:00:00Z");
    assert_eq!(actions_of(&log, "CurrentTime"), ["urn:vim25/7.0.3.0"]);
    session.close().await.unwrap();
}

#[tokio::test]
async fn about_version_newer_than_ours_is_capped() {
    let (addr, _log) = fixture(None, "9.1.0.0").await;
    let c =
        Client::new(Transport::new(TransportConfig::new(format!("http://{addr}/sdk"))).unwrap());
    let n = negotiate(&c).await.expect("negotiate");
    assert_eq!(n.version, vim_sdk::client::DEFAULT_API_VERSION);
    assert_eq!(c.api_version(), vim_sdk::client::DEFAULT_API_VERSION);
}

#[tokio::test]
async fn unreachable_server_is_an_error_naming_the_file() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = Client::connect(&format!("http://{addr}/sdk"), ConnectOptions::new())
        .await
        .expect_err("nothing listens");
    assert!(
        err.to_string().contains("/sdk/vimServiceVersions.xml"),
        "{err}"
    );
}
