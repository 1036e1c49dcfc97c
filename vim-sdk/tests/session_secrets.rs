//! The wire dump and the logs of a session hold none of its secrets, against a loopback server
//! on which every secret differs from every other: the session cookie, `UserSession.key`, the
//! password, and the tickets of `AcquireCloneTicket`, `AcquireGenericServiceTicket` and
//! `AcquireTicket`. (vcsim uses the session key as the cookie, so against it redacting the
//! cookie hides the key too.)
//!
//! This is the only test in its binary, and it installs its log collector as the global
//! subscriber: `tracing` caches per call site whether anyone listens, so log assertions in a
//! binary that runs other tests can miss events.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use http::Response;
use http_body_util::BodyExt;
use vim_sdk::mo;
use vim_sdk::session::ConnectOptions;
use vim_sdk::types::{AnySessionManagerServiceRequestSpec, SessionManagerHttpServiceRequestSpec};
use vim_sdk::xml::ManagedObjectReference;
use vim_sdk::Client;

#[path = "support/loopback.rs"]
mod loopback;
use loopback::*;

const PASSWORD: &str = "Pw-5e7a1c0b-never-logged";
const COOKIE: &str = "cookie-0d9b27c4-e1f3";
const KEY: &str = "52e1c3a8-key-7f0b-4c4d-session";
const CLONE_TICKET: &str = "cst-VCT-52f0-clone-ticket-9a1d";
const SERVICE_TICKET: &str = "generic-ticket-id-3bc94e17";
const VM_TICKET: &str = "vm-mks-ticket-61ad2e08";
const SECRETS: [&str; 6] = [
    PASSWORD,
    COOKIE,
    KEY,
    CLONE_TICKET,
    SERVICE_TICKET,
    VM_TICKET,
];

fn envelope(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope \
         xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>{body}\
         </soapenv:Body></soapenv:Envelope>"
    )
}

fn user_session() -> String {
    format!(
        "<key>{KEY}</key><userName>someone</userName><fullName>Some One</fullName>\
         <loginTime>2026-11-29T10:00:00Z</loginTime><lastActiveTime>2026-11-29T10:00:00Z\
         </lastActiveTime><locale>en</locale><messageLocale>en</messageLocale>"
    )
}

/// The reply to `op`: what a vCenter would send, with this test's secrets.
fn answer(op: &str) -> String {
    let inner = match op {
        "RetrieveServiceContent" => {
            let full = std::fs::read_to_string(format!(
                "{}/tests/fixtures/vcsim/service-content.xml",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            return full;
        }
        "Login" => format!("<returnval>{}</returnval>", user_session()),
        "AcquireCloneTicket" => format!("<returnval>{CLONE_TICKET}</returnval>"),
        "AcquireGenericServiceTicket" => format!(
            "<returnval><id>{SERVICE_TICKET}</id><hostName>esx-1.example.invalid</hostName>\
             <sslThumbprint>AA:BB</sslThumbprint></returnval>"
        ),
        "AcquireTicket" => format!(
            "<returnval><ticket>{VM_TICKET}</ticket><cfgFile>[ds] vm/vm.vmx</cfgFile>\
             <host>esx-1.example.invalid</host><port>902</port></returnval>"
        ),
        "RetrievePropertiesEx" => format!(
            "<returnval><objects><obj type=\"SessionManager\">SessionManager</obj><propSet>\
             <name>currentSession</name><val xsi:type=\"UserSession\">{}</val></propSet>\
             </objects></returnval>",
            user_session()
        ),
        "TerminateSession" | "Logout" => String::new(),
        other => panic!("the test server does not answer {other}"),
    };
    envelope(&format!(
        "<{op}Response xmlns=\"urn:vim25\">{inner}</{op}Response>"
    ))
}

/// The operation of a SOAP request: the first element in the body.
fn operation(body: &str) -> String {
    let after = body.split("<soapenv:Body>").nth(1).expect("a SOAP body");
    after[1..]
        .split(|c: char| c.is_whitespace() || c == '>')
        .next()
        .unwrap()
        .to_string()
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
async fn wire_dump_and_logs_hold_no_cookie_key_ticket_or_password() {
    let logs = Buf::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("only subscriber");

    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let ops = seen.clone();
    let server = TestServer::start(
        None,
        handler(move |req| {
            let ops = ops.clone();
            async move {
                let body = req.into_body().collect().await.unwrap().to_bytes();
                let op = operation(&String::from_utf8_lossy(&body));
                ops.lock().unwrap().push(op.clone());
                Response::builder()
                    .status(200)
                    .header("Content-Type", "text/xml; charset=utf-8")
                    .header(
                        "Set-Cookie",
                        format!("vmware_soap_session=\"{COOKIE}\"; Path=/; HttpOnly"),
                    )
                    .body(full(answer(&op)))
                    .unwrap()
            }
        }),
    )
    .await;

    let dump = std::env::temp_dir().join(format!("vim-sdk-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dump);
    let s = Client::connect(
        &server.http_url(),
        ConnectOptions::new()
            .credentials("someone", PASSWORD)
            .api_version("8.0.2.0")
            .wire_dump(&dump),
    )
    .await
    .expect("connect");
    assert_eq!(
        s.session_cookie().as_deref(),
        Some(&*format!("\"{COOKIE}\""))
    );
    assert_eq!(s.user_session().unwrap().key, KEY);

    let sm = s.session_manager().unwrap();
    assert_eq!(sm.acquire_clone_ticket(&s).await.unwrap(), CLONE_TICKET);
    let spec = AnySessionManagerServiceRequestSpec::SessionManagerHttpServiceRequestSpec(Box::new(
        SessionManagerHttpServiceRequestSpec {
            method: Some("httpGet".into()),
            url: "https://esx-1.example.invalid/folder".into(),
        },
    ));
    let ticket = sm.acquire_generic_service_ticket(&s, &spec).await.unwrap();
    assert_eq!(ticket.id, SERVICE_TICKET);
    let vm = mo::VirtualMachine::from_ref(ManagedObjectReference::new("VirtualMachine", "vm-1"));
    let vm_ticket = vm.acquire_ticket(&s, "webmks").await.unwrap();
    assert_eq!(vm_ticket.ticket, VM_TICKET);
    let current = s.current_session().await.unwrap().expect("a session");
    assert_eq!(current.key, KEY);
    sm.terminate_session(&s, &[KEY.to_string()]).await.unwrap();
    s.close().await.unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "RetrieveServiceContent",
            "Login",
            "AcquireCloneTicket",
            "AcquireGenericServiceTicket",
            "AcquireTicket",
            "RetrievePropertiesEx",
            "TerminateSession",
            "Logout"
        ]
    );

    let mut files: Vec<PathBuf> = std::fs::read_dir(&dump)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut all = String::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for secret in SECRETS {
            assert!(
                !text.contains(secret),
                "{} holds {secret}:\n{text}",
                f.display()
            );
        }
        all.push_str(&text);
    }
    // Both directions of every call were dumped, with the secrets' places marked and the rest
    // intact.
    assert_eq!(files.len(), 16, "{files:?}");
    for expected in [
        "<password>***</password>",
        "<userName>someone</userName>",
        "<key>***</key><userName>someone</userName>",
        "<AcquireCloneTicketResponse xmlns=\"urn:vim25\"><returnval>***</returnval>",
        "<id>***</id><hostName>esx-1.example.invalid</hostName>",
        "<ticket>***</ticket><cfgFile>[ds] vm/vm.vmx</cfgFile>",
        "<val xsi:type=\"UserSession\"><key>***</key>",
        "<sessionId>***</sessionId>",
        "<url>https://esx-1.example.invalid/folder</url>",
    ] {
        assert!(all.contains(expected), "no {expected} in the dump:\n{all}");
    }

    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    for op in [
        "Login",
        "AcquireCloneTicket",
        "AcquireGenericServiceTicket",
        "AcquireTicket",
    ] {
        assert!(
            log_text.contains(&format!("method=\"{op}\""))
                || log_text.contains(&format!("method={op}")),
            "{op} not logged:\n{log_text}"
        );
    }
    for secret in SECRETS {
        assert!(
            !log_text.contains(secret),
            "the logs hold {secret}:\n{log_text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dump);
}
