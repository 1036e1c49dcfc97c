//! Network faults injected between the client and vcsim by `testing::fault_proxy`: each
//! case ends in a typed error or a correct retry, within the client's configured timeouts;
//! an operation that changes something is never sent twice. One simulator serves the whole
//! binary (the restart case starts a second one).
#![cfg(feature = "vcsim")]

use std::sync::OnceLock;
use std::time::Duration;

use vim_sdk::ops::Managers;
use vim_sdk::session::ConnectOptions;
use vim_sdk::testing::fault_proxy::{CannedReply, Fault, FaultProxy, Upstream};
use vim_sdk::testing::Vcsim;
use vim_sdk::transport::{Transport, TransportConfig, TransportError};
use vim_sdk::{mo, Client, Error, ErrorKind};

#[path = "support/vcsim.rs"]
mod vcsim;

/// The simulator every test of this binary shares (plain HTTP, VPX model).
fn sim() -> &'static Vcsim {
    static SIM: OnceLock<Vcsim> = OnceLock::new();
    SIM.get_or_init(|| vcsim::start(Vcsim::builder()))
}

/// Short limits, so that a stall ends the call quickly.
const LIMIT: Duration = Duration::from_secs(2);

async fn proxy() -> FaultProxy {
    FaultProxy::start(sim().addr()).await.expect("proxy")
}

/// A client through the proxy, with the test's limits.
fn client(proxy: &FaultProxy, max_body: usize) -> Client {
    let config = TransportConfig::new(proxy.url())
        .call_timeout(LIMIT)
        .read_idle_timeout(LIMIT)
        .max_body(max_body);
    Client::new(Transport::new(config).expect("transport"))
}

/// A client through the proxy, logged in, with the service content and its managers.
async fn logged_in(proxy: &FaultProxy) -> (Client, vim_sdk::types::ServiceContent, Managers) {
    let c = client(proxy, 1 << 30);
    let content = c
        .service_instance()
        .retrieve_service_content(&c)
        .await
        .expect("service content");
    session_manager(&content)
        .login(&c, sim().username(), sim().password(), None)
        .await
        .expect("login");
    let m = Managers::from_content(&content);
    (c, content, m)
}

/// The simulator's first virtual machine.
async fn first_vm(c: &Client, m: &Managers) -> mo::VirtualMachine {
    vcsim::all_vms(c, m).await.remove(0).1
}

fn session_manager(content: &vim_sdk::types::ServiceContent) -> mo::SessionManager {
    mo::SessionManager::from_ref(content.session_manager.clone().expect("session manager"))
}

async fn current_time(c: &Client) -> Result<(), Error> {
    c.service_instance().current_time(c).await.map(|_| ())
}

fn transport_error(e: &Error) -> &TransportError {
    match &e.kind {
        ErrorKind::Transport(t) => t,
        other => panic!("expected a transport error, got {other:?} ({e})"),
    }
}

/// Checks that `err` is what a reply body broken by `fault` must give: the transport's own
/// error (a reset connection, the idle timeout), typed, never a decoding error.
fn assert_broken_body(err: &Error, fault: &Fault) {
    let _ = format!("{err} {err:?}");
    match (fault, transport_error(err)) {
        (Fault::ResetMidBody, TransportError::Http { .. }) => {}
        (Fault::StallMidBody, TransportError::Timeout { after, waiting_for }) => {
            assert_eq!((*after, *waiting_for), (LIMIT, "response body"), "{err}");
        }
        (fault, other) => panic!("{fault:?}: {other:?} ({err})"),
    }
}

/// Breaks the reply of the next request of `op` mid-body, once reset and once stalled, and
/// checks that `call` fails each time with the transport's typed error
/// ([`assert_broken_body`]) and was sent once (not again after the break).
async fn check_broken_bodies<T, Fut>(proxy: &FaultProxy, op: &str, mut call: impl FnMut() -> Fut)
where
    T: std::fmt::Debug,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    for fault in [Fault::ResetMidBody, Fault::StallMidBody] {
        let before = proxy.count(op);
        proxy.inject(op, fault.clone());
        let err = call().await.expect_err("the reply was broken");
        assert_broken_body(&err, &fault);
        assert_eq!(proxy.count(op), before + 1, "{op} {fault:?}: sent once");
    }
}

#[tokio::test]
async fn a_read_whose_connection_breaks_is_sent_again_once() {
    let proxy = proxy().await;
    let c = client(&proxy, 1 << 30);
    for fault in [Fault::ResetMidBody, Fault::DropAfterRequest] {
        proxy.reset_counts();
        proxy.inject("RetrieveServiceContent", fault.clone());
        let content = c
            .service_instance()
            .retrieve_service_content(&c)
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert!(content.session_manager.is_some());
        assert_eq!(proxy.count("RetrieveServiceContent"), 2, "{fault:?}");
    }
    // Broken twice: one retry only, then the typed error.
    proxy.reset_counts();
    proxy.inject("RetrieveServiceContent", Fault::ResetMidBody);
    proxy.inject("RetrieveServiceContent", Fault::ResetMidBody);
    let err = c
        .service_instance()
        .retrieve_service_content(&c)
        .await
        .unwrap_err();
    assert!(err.is_connection_failure(), "{err}");
    assert!(matches!(transport_error(&err), TransportError::Http { .. }));
    assert_eq!(proxy.count("RetrieveServiceContent"), 2);
}

#[tokio::test]
async fn a_streamed_read_whose_connection_breaks_before_the_reply_is_sent_again_once() {
    use vim_sdk::property::{objects_spec, retrieve, Paths};

    let proxy = proxy().await;
    let (c, content, _) = logged_in(&proxy).await;
    let collector = mo::PropertyCollector::from_ref(content.property_collector.clone());
    let spec = objects_spec(
        std::slice::from_ref(&content.root_folder),
        &Paths::only(&["name"]),
    );
    proxy.inject("RetrievePropertiesEx", Fault::DropAfterRequest);
    let objects = retrieve(&c, &collector, std::slice::from_ref(&spec), None)
        .await
        .expect("retried");
    assert_eq!(objects.len(), 1);
    assert_eq!(proxy.count("RetrievePropertiesEx"), 2);
    // Cut or stalled while the body streams: the error reaches the caller, typed (the
    // transport's, not a decoding error), not retried.
    check_broken_bodies(&proxy, "RetrievePropertiesEx", || {
        retrieve(&c, &collector, std::slice::from_ref(&spec), None)
    })
    .await;
}

/// The streamed `QueryPerf` (a read, written as it is sent): a connection lost before the
/// reply is sent again once, whole; a body reset or stalled mid-decode is the transport's
/// typed error (as for the property stream), and the call is not sent again.
#[tokio::test]
async fn a_streamed_query_perf_broken_mid_body_is_a_transport_error() {
    use vim_sdk::perf::{query_perf_each, query_perf_each_of, PerfCounters};
    use vim_sdk::types::{PerfMetricId, PerfQuerySpec};

    let proxy = proxy().await;
    let (c, _, m) = logged_in(&proxy).await;
    let vm = first_vm(&c, &m).await;
    let counters = PerfCounters::resolve_default(&c, &["cpu.usage.average"])
        .await
        .expect("resolve");
    let spec = PerfQuerySpec {
        entity: vm.reference().clone(),
        max_sample: Some(3),
        metric_id: vec![PerfMetricId {
            counter_id: counters.id("cpu.usage.average").expect("counter id"),
            instance: String::new(),
        }],
        interval_id: Some(20),
        ..Default::default()
    };
    let specs = vec![spec; 8];
    let whole = query_perf_each(&c, counters.manager(), &specs, |_| {})
        .await
        .expect("QueryPerf through the proxy");
    assert_eq!(whole, specs.len());
    // Lost before the reply: sent again, with the same pieces (`Client::send_pieces`).
    proxy.inject("QueryPerf", Fault::DropAfterRequest);
    let again = query_perf_each_of(
        &c,
        counters.manager(),
        specs.len(),
        |i| specs[i].clone(),
        |_| {},
    )
    .await
    .expect("sent again");
    assert_eq!(again, specs.len());
    assert_eq!(
        proxy.count("QueryPerf"),
        3,
        "the lost one and its repetition"
    );
    check_broken_bodies(&proxy, "QueryPerf", || {
        query_perf_each(&c, counters.manager(), &specs, |_| {})
    })
    .await;
}

/// Datastore file bodies: a download whose body is reset or stalls is the transport's typed
/// error (and leaves no local file); an upload whose reply stalls or is lost is a typed
/// error too, and is never sent twice.
#[tokio::test]
async fn datastore_bodies_broken_mid_transfer_are_transport_errors() {
    use vim_sdk::datastore::{DatastoreFiles, DatastoreLocation};

    let proxy = proxy().await;
    let (c, _, m) = logged_in(&proxy).await;
    let dc: mo::Datacenter = vim_sdk::find::Finder::new(&m)
        .by_inventory_path(&c, "DC0")
        .await
        .expect("find DC0")
        .expect("DC0");
    let files = DatastoreFiles::new(&m, dc, DatastoreLocation::new("DC0", "LocalDS_0"));
    let remote = "fault-proxy/body.bin";
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    files
        .make_directory(&c, "fault-proxy", true)
        .await
        .expect("mkdir");
    files
        .upload(
            &c,
            remote,
            std::io::Cursor::new(data.clone()),
            data.len() as u64,
            |_| {},
        )
        .await
        .expect("upload through the proxy");
    let mut back = Vec::new();
    files
        .download(&c, remote, &mut back, |_| {})
        .await
        .expect("download through the proxy");
    assert!(back == data, "the file came back whole");
    let counts = proxy.counts();
    let key = |method: &str| {
        let found: Vec<&String> = counts.keys().filter(|k| k.starts_with(method)).collect();
        assert_eq!(found.len(), 1, "{method}: {counts:?}");
        found[0].clone()
    };
    let (get, put) = (key("GET /folder/"), key("PUT /folder/"));

    let dir = std::env::temp_dir().join(format!("vim-sdk-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let local = dir.join("body.bin");
    check_broken_bodies(&proxy, &get, || {
        files.download_file(&c, remote, &local, |_| {})
    })
    .await;
    let left: Vec<_> = std::fs::read_dir(&dir).expect("read dir").collect();
    assert!(left.is_empty(), "nothing left behind: {left:?}");
    // An upload's reply stalls (the call timeout) or is lost (a connection failure).
    proxy.inject(&put, Fault::StallBeforeReply);
    proxy.inject(&put, Fault::DropAfterRequest);
    for waiting in [true, false] {
        let err = files
            .upload(
                &c,
                remote,
                std::io::Cursor::new(data.clone()),
                data.len() as u64,
                |_| {},
            )
            .await
            .unwrap_err();
        match transport_error(&err) {
            TransportError::Timeout { after, waiting_for } if waiting => {
                assert_eq!((*after, *waiting_for), (LIMIT, "response headers"), "{err}");
            }
            _ if !waiting => assert!(err.is_connection_failure(), "{err:?}"),
            other => panic!("{other:?} ({err})"),
        }
    }
    assert_eq!(proxy.count(&put), 3, "each upload sent once");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn calls_that_change_something_are_never_sent_twice() {
    let proxy = proxy().await;
    let (c, content, m) = logged_in(&proxy).await;
    let root = mo::Folder::from_ref(content.root_folder.clone());

    // The server creates the folder; the reply is lost.
    proxy.inject("CreateFolder", Fault::DropAfterRequest);
    let err = root
        .create_folder(&c, "fault-proxy-folder")
        .await
        .unwrap_err();
    assert!(err.is_connection_failure(), "{err}");
    assert_eq!(proxy.count("CreateFolder"), 1);
    let search = mo::SearchIndex::from_ref(content.search_index.clone().expect("search index"));
    let found = search
        .find_child(&c, root.reference(), "fault-proxy-folder")
        .await
        .expect("FindChild");
    assert!(found.is_some(), "the server did create it, once");

    // A reconfiguration whose reply is cut mid-body, and a task whose reply never comes.
    let vm = first_vm(&c, &m).await;
    let spec = vim_sdk::types::VirtualMachineConfigSpec {
        annotation: Some("fault proxy".into()),
        ..Default::default()
    };
    proxy.inject("ReconfigVM_Task", Fault::ResetMidBody);
    let err = vm.reconfig_vm_task(&c, &spec).await.unwrap_err();
    assert!(err.is_connection_failure(), "{err}");
    proxy.inject("PowerOffVM_Task", Fault::StallBeforeReply);
    let err = vm.power_off_vm_task(&c).await.unwrap_err();
    assert!(
        matches!(transport_error(&err), TransportError::Timeout { after, waiting_for: "response headers" } if *after == LIMIT),
        "{err}"
    );
    // A login whose reply is lost is not repeated either (it would leave a session behind).
    proxy.inject("Login", Fault::DropAfterRequest);
    let err = session_manager(&content)
        .login(&c, sim().username(), sim().password(), None)
        .await
        .unwrap_err();
    assert!(err.is_connection_failure(), "{err}");

    let counts = proxy.counts();
    for op in ["CreateFolder", "ReconfigVM_Task", "PowerOffVM_Task"] {
        assert_eq!(counts.get(op), Some(&1), "{op}: {counts:?}");
    }
    assert_eq!(
        counts.get("Login"),
        Some(&2),
        "the first login and the lost one"
    );
}

#[tokio::test]
async fn stalls_end_with_the_configured_timeouts() {
    let proxy = proxy().await;
    let c = client(&proxy, 1 << 30);
    proxy.inject("CurrentTime", Fault::StallBeforeReply);
    let err = current_time(&c).await.unwrap_err();
    match transport_error(&err) {
        TransportError::Timeout { after, waiting_for } => {
            assert_eq!(*after, LIMIT);
            assert_eq!(*waiting_for, "response headers");
        }
        other => panic!("{other:?}"),
    }
    proxy.inject("CurrentTime", Fault::StallMidBody);
    let err = current_time(&c).await.unwrap_err();
    match transport_error(&err) {
        TransportError::Timeout { after, waiting_for } => {
            assert_eq!(*after, LIMIT);
            assert_eq!(*waiting_for, "response body");
        }
        other => panic!("{other:?}"),
    }
    // Timeouts are not retried; the next call works.
    assert_eq!(proxy.count("CurrentTime"), 2);
    c.service_instance()
        .retrieve_service_content(&c)
        .await
        .expect("after the stalls");
}

#[tokio::test]
async fn html_error_pages_are_status_errors() {
    let proxy = proxy().await;
    let c = client(&proxy, 1 << 30);
    for status in [500u16, 503] {
        let page = format!(
            "<html><head><title>{status}</title></head><body><h1>Service unavailable</h1></body></html>"
        );
        proxy.inject(
            "CurrentTime",
            Fault::Reply(CannedReply::html(status, &page)),
        );
        let err = current_time(&c).await.unwrap_err();
        match transport_error(&err) {
            TransportError::Status {
                status: got,
                body_snippet,
            } => {
                assert_eq!(got.as_u16(), status);
                assert!(
                    body_snippet.contains("Service unavailable"),
                    "{body_snippet}"
                );
            }
            other => panic!("{status}: {other:?}"),
        }
    }
    assert_eq!(proxy.count("CurrentTime"), 2, "statuses are not retried");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

const TIME_REPLY: &str = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><CurrentTimeResponse xmlns="urn:vim25"><returnval>2026-11-30T01:02:03.000Z</returnval></CurrentTimeResponse></soapenv:Body></soapenv:Envelope>"#;

#[tokio::test]
async fn broken_gzip_and_invalid_utf8_are_typed_errors() {
    let proxy = proxy().await;
    let c = client(&proxy, 1 << 30);
    // Sanity: the canned reply decodes when gzip is intact.
    proxy.inject(
        "CurrentTime",
        Fault::Reply(CannedReply::xml(gzip(TIME_REPLY.as_bytes())).gzip_labelled()),
    );
    current_time(&c).await.expect("intact gzip");

    let whole = gzip(TIME_REPLY.as_bytes());
    let truncated = whole[..whole.len() / 2].to_vec();
    let mut corrupt = whole.clone();
    for b in &mut corrupt[12..whole.len() - 8] {
        *b ^= 0x5a;
    }
    let not_gzip = TIME_REPLY.as_bytes().to_vec();
    for (what, body) in [
        ("truncated", truncated),
        ("corrupt", corrupt),
        ("not gzip", not_gzip),
    ] {
        proxy.inject(
            "CurrentTime",
            Fault::Reply(CannedReply::xml(body).gzip_labelled()),
        );
        let err = current_time(&c).await.unwrap_err();
        assert!(
            matches!(&err.kind, ErrorKind::Transport(TransportError::Io(_))),
            "{what}: {err:?}"
        );
        let _ = format!("{err} {err:?}");
    }

    let mut invalid = TIME_REPLY.as_bytes().to_vec();
    let at = TIME_REPLY.find("2026").expect("date");
    invalid.splice(at..at + 4, [0xff, 0xfe, 0xc3, 0x28]);
    proxy.inject("CurrentTime", Fault::Reply(CannedReply::xml(invalid)));
    let err = current_time(&c).await.unwrap_err();
    assert!(matches!(&err.kind, ErrorKind::Decode(_)), "{err:?}");
    let _ = format!("{err} {err:?}");
    // Nothing of it was retried.
    assert_eq!(proxy.count("CurrentTime"), 5);
}

#[tokio::test]
async fn a_never_ending_body_stops_at_the_size_limit() {
    const CAP: usize = 4 << 20;
    let proxy = proxy().await;
    let c = client(&proxy, CAP);
    proxy.inject("RetrieveServiceContent", Fault::EndlessBody);
    let err = c
        .service_instance()
        .retrieve_service_content(&c)
        .await
        .unwrap_err();
    assert!(
        matches!(transport_error(&err), TransportError::BodyTooLarge { limit } if *limit == CAP),
        "{err}"
    );
    assert_eq!(proxy.count("RetrieveServiceContent"), 1);
    // The client dropped the connection at the cap: the proxy's writes failed soon after,
    // having handed to the socket no more than the cap plus the loopback socket buffers.
    let sent = proxy
        .endless_body_abandoned(Duration::from_secs(60))
        .await
        .expect("the client stopped reading the endless body");
    eprintln!("endless body: the proxy handed {sent} bytes to the socket for a cap of {CAP}");
    assert!(sent as usize >= CAP, "{sent}");
    assert!(sent as usize <= CAP + (24 << 20), "{sent} bytes sent");
}

#[tokio::test]
async fn a_server_restart_mid_session_means_a_new_login_and_a_replaced_cache_entry() {
    let proxy = proxy().await;
    let cache = std::env::temp_dir().join(format!("vim-sdk-faults-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let options = || {
        ConnectOptions::new()
            .credentials(sim().username(), sim().password())
            .session_cache(&cache)
            .relogin(true)
            .call_timeout(LIMIT)
            .read_idle_timeout(LIMIT)
    };
    let session = Client::connect(&proxy.url(), options())
        .await
        .expect("connect");
    assert!(!session.is_reused());
    assert_eq!(proxy.count("Login"), 1);

    // The server restarts: open connections reset, sessions forgotten.
    let second = vcsim::start(Vcsim::builder());
    proxy.set_upstream(Upstream::Http(second.addr()));
    session
        .with_relogin(|c| async move { current_time(&c).await })
        .await
        .expect("a read after the restart logs in again");
    assert_eq!(proxy.count("Login"), 2);
    // The new session went to the cache: the next process reuses it.
    let again = Client::connect(&proxy.url(), options())
        .await
        .expect("reuse");
    assert!(again.is_reused());
    assert_eq!(proxy.count("Login"), 2);
    drop(again);

    // Back to the first server, which never knew the cached session: replaced by a login.
    proxy.set_upstream(Upstream::Http(sim().addr()));
    let replaced = Client::connect(&proxy.url(), options())
        .await
        .expect("replace");
    assert!(!replaced.is_reused());
    assert_eq!(proxy.count("Login"), 3);
    let reused = Client::connect(&proxy.url(), options())
        .await
        .expect("reuse");
    assert!(reused.is_reused());
    assert_eq!(proxy.count("Login"), 3);
    for s in [session, replaced, reused] {
        let _ = s.logout().await;
    }
    let _ = std::fs::remove_dir_all(&cache);
}

/// A GET without a body (the version negotiation's `vimServiceVersions.xml`) through a
/// TLS-terminating proxy in front of a TLS simulator, sent from another thread while this
/// test's one-thread runtime is blocked waiting for it, as a test blocks while a driver
/// process runs: the proxy serves on a thread of its own, so the GET gets the server's reply,
/// and then a reply injected for it.
#[tokio::test]
async fn a_get_through_a_tls_proxy_is_answered_while_the_test_blocks() {
    use vim_sdk::testing::pki::self_signed;
    use vim_sdk::transport::TlsMode;

    const PATH: &str = "/sdk/vimServiceVersions.xml";
    let tls_sim = vcsim::start(Vcsim::builder().tls(true));
    let cert = self_signed(&["127.0.0.1"]);
    let proxy = FaultProxy::start_with(
        Upstream::Https(tls_sim.addr()),
        Some(cert.server_config.clone()),
    )
    .await
    .expect("proxy");
    // A GET from a thread and runtime of its own, waited for synchronously.
    let blocking_get = |url: String| {
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let config = TransportConfig::new(url)
                    .tls(TlsMode::Insecure)
                    .call_timeout(LIMIT)
                    .read_idle_timeout(LIMIT);
                let transport = Transport::new(config)?;
                let (status, body) = transport.get(PATH, None).await?;
                Ok::<_, TransportError>((status.as_u16(), body.collect(1 << 20).await?))
            })
        })
        .join()
        .expect("GET thread")
    };
    let direct = blocking_get(tls_sim.url().to_string()).expect("GET from the simulator");
    assert_eq!(direct.0, 200);
    assert!(
        String::from_utf8_lossy(&direct.1).contains("urn:vim25"),
        "{direct:?}"
    );
    let proxied = blocking_get(proxy.url()).expect("GET through the proxy");
    assert_eq!(proxied, direct, "the proxy passes the reply on unchanged");
    assert_eq!(proxy.count(&format!("GET {PATH}")), 1);

    let canned = "<namespaces version=\"1.0\"></namespaces>";
    proxy.inject(
        &format!("GET {PATH}"),
        Fault::Reply(CannedReply::xml(canned)),
    );
    let replaced = blocking_get(proxy.url()).expect("GET answered by the proxy");
    assert_eq!(replaced, (200, bytes::Bytes::from(canned)));
    assert_eq!(proxy.count(&format!("GET {PATH}")), 2);
}
