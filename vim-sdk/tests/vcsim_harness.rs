//! The simulator harness (`vim_sdk::testing::Vcsim`) against the real launcher.
//!
//! Runs with `--all-features` (as `scripts/test` does); it needs the launcher built by
//! `scripts/setup` (or Go and govmomi to build it) and fails, never skips, without them.
#![cfg(feature = "vcsim")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use vim_sdk::testing::{Vcsim, VcsimModel};

/// An HTTP response read from a raw socket.
struct Response {
    status: u16,
    headers: String,
    body: String,
}

/// Sends one HTTP/1.1 request to `addr` (loopback) and reads the whole response.
fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> Response {
    assert!(addr.ip().is_loopback(), "refusing to talk to {addr}");
    let mut stream = TcpStream::connect(addr).expect("connect to vcsim");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        request
            .push_str("Content-Type: text/xml; charset=utf-8\r\nSOAPAction: \"urn:vim25/6.5\"\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let headers = String::from_utf8(raw[..split].to_vec()).unwrap();
    let status = headers
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let mut body = raw[split + 4..].to_vec();
    if headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body: String::from_utf8(body).expect("UTF-8 body"),
    }
}

/// Decodes a chunked transfer-encoded body.
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = std::str::from_utf8(&data[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

const RETRIEVE_SERVICE_CONTENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent></soapenv:Body></soapenv:Envelope>"#;

fn login_envelope(session_manager: &str, user: &str, password: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><Login xmlns="urn:vim25"><_this type="SessionManager">{session_manager}</_this><userName>{user}</userName><password>{password}</password></Login></soapenv:Body></soapenv:Envelope>"#
    )
}

/// The text of the first `<tag ...>text</tag>` element in `xml`.
fn element_text<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"));
    let rest = &xml[start..];
    let text_start = rest.find('>').unwrap() + 1;
    let text_end = rest.find(&format!("</{tag}>")).unwrap();
    &rest[text_start..text_end]
}

/// Checks the SOAP endpoint and the version document of a plain-HTTP simulator.
fn check_http_endpoint(sim: &Vcsim, api_type: &str) {
    let addr = sim.addr();
    assert_eq!(sim.url(), format!("http://{addr}/sdk"));

    let res = http(addr, "POST", "/sdk", RETRIEVE_SERVICE_CONTENT);
    assert_eq!(res.status, 200, "{}\n{}", res.headers, res.body);
    assert!(
        res.body.contains("<RetrieveServiceContentResponse"),
        "{}",
        res.body
    );
    assert!(
        res.body.contains("<rootFolder type=\"Folder\">"),
        "{}",
        res.body
    );
    assert_eq!(element_text(&res.body, "apiVersion"), "6.5");
    assert_eq!(element_text(&res.body, "apiType"), api_type);
    let session_manager = element_text(&res.body, "sessionManager").to_string();

    let res = http(addr, "GET", "/sdk/vimServiceVersions.xml", "");
    assert_eq!(res.status, 200);
    assert!(res.body.contains("<name>urn:vim25</name>"), "{}", res.body);
    assert!(res.body.contains("<version>6.5</version>"), "{}", res.body);

    // The harness starts vcsim with fixed credentials: they log in, others do not.
    let ok = http(
        addr,
        "POST",
        "/sdk",
        &login_envelope(&session_manager, sim.username(), sim.password()),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body.contains("<LoginResponse"), "{}", ok.body);
    assert!(
        ok.headers.contains("vmware_soap_session="),
        "{}",
        ok.headers
    );
    let bad = http(
        addr,
        "POST",
        "/sdk",
        &login_envelope(&session_manager, sim.username(), "wrong"),
    );
    assert_eq!(bad.status, 500);
    assert!(bad.body.contains("InvalidLogin"), "{}", bad.body);
}

#[test]
fn esx_over_http() {
    let sim = Vcsim::builder().esx().start().unwrap();
    assert_eq!(sim.model(), VcsimModel::Esx);
    assert!(!sim.is_tls());
    assert_eq!(sim.thumbprint_sha1(), None);
    assert_eq!(sim.thumbprint_sha256(), None);
    assert_eq!(sim.cert_file(), None);
    check_http_endpoint(&sim, "HostAgent");
}

#[test]
fn vpx_over_http() {
    let sim = Vcsim::builder().vpx().hosts(2).vms(1).start().unwrap();
    assert_eq!(sim.model(), VcsimModel::Vpx);
    check_http_endpoint(&sim, "VirtualCenter");
}

/// Checks the `AA:BB:..` thumbprint format with `bytes` digest bytes.
fn assert_thumbprint(text: &str, bytes: usize) {
    let parts: Vec<&str> = text.split(':').collect();
    assert_eq!(parts.len(), bytes, "{text}");
    for part in parts {
        assert!(
            part.len() == 2
                && part
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)),
            "{text}"
        );
    }
}

#[test]
fn vpx_and_esx_over_https() {
    for builder in [Vcsim::builder().vpx(), Vcsim::builder().esx()] {
        let sim = builder.tls(true).start().unwrap();
        assert!(sim.is_tls());
        assert_eq!(sim.url(), format!("https://{}/sdk", sim.addr()));
        assert_thumbprint(sim.thumbprint_sha1().unwrap(), 20);
        assert_thumbprint(sim.thumbprint_sha256().unwrap(), 32);

        let cert_file = sim.cert_file().unwrap().to_path_buf();
        let pem = std::fs::read_to_string(&cert_file).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");

        // The port speaks TLS: a plain-HTTP request gets no SOAP answer.
        let res = http(sim.addr(), "GET", "/sdk/vimServiceVersions.xml", "");
        assert_eq!(res.status, 400, "{}", res.headers);

        // The launcher's temporary certificate file goes away with the simulator.
        let status = sim.shutdown().unwrap();
        assert!(status.success(), "{status}");
        assert!(!cert_file.exists(), "{} left behind", cert_file.display());
    }
}

#[test]
fn simulators_run_in_parallel_on_distinct_ports() {
    let handles: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(|| Vcsim::builder().esx().vms(1).start().unwrap()))
        .collect();
    let sims: Vec<Vcsim> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_ne!(sims[0].addr().port(), sims[1].addr().port());
    assert_ne!(sims[0].pid(), sims[1].pid());
    for sim in &sims {
        let res = http(sim.addr(), "POST", "/sdk", RETRIEVE_SERVICE_CONTENT);
        assert_eq!(res.status, 200);
        assert!(res.body.contains("<rootFolder"));
    }
}

#[test]
fn drop_stops_and_reaps_the_process() {
    let sim = Vcsim::builder().esx().start().unwrap();
    let pid = sim.pid();
    let addr = sim.addr();
    let log = sim.log_file().to_path_buf();
    let proc_dir = format!("/proc/{pid}");
    assert!(Path::new(&proc_dir).exists());
    assert!(log.exists());
    drop(sim);
    // Reaped, not a zombie: the /proc entry is gone.
    assert!(!Path::new(&proc_dir).exists(), "{proc_dir} still exists");
    assert!(!log.exists(), "{} left behind", log.display());
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err());
}

#[test]
fn shutdown_is_clean() {
    let sim = Vcsim::builder().esx().start().unwrap();
    let log = sim.log_file().to_path_buf();
    let status = sim.shutdown().unwrap();
    // Exit status 0: the launcher saw stdin close and shut down by itself.
    assert!(status.success(), "{status}");
    assert!(!log.exists());
}

#[test]
fn launcher_errors_are_reported() {
    let err = Vcsim::builder().esx().hosts(3).start().unwrap_err();
    assert!(err.to_string().contains("VPX model only"), "{err}");
}
