//! A hand-written SOAP server on 127.0.0.1 for what vcsim cannot show (a guest that never
//! powers off, a guest that reboots, methods vcsim lacks, faults it never answers): one
//! request per HTTP/1.1 exchange, keep-alive, each answered by a closure from the method name
//! and the request body; every request is recorded (method and body).
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the closure answers: an HTTP status and the SOAP body's inner XML (the
/// `<XResponse>` or `<soapenv:Fault>` element).
pub type Answer = (u16, String);

/// A handler: method name, request body → answer (async, so it may hold a wait).
pub type Handler = Arc<
    dyn Fn(String, String) -> std::pin::Pin<Box<dyn std::future::Future<Output = Answer> + Send>>
        + Send
        + Sync,
>;

/// A running fixture server.
pub struct Fixture {
    /// `http://127.0.0.1:PORT/sdk`.
    pub url: String,
    calls: Arc<Mutex<Vec<(String, String)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Fixture {
    /// The methods called so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|(m, _)| m.clone())
            .collect()
    }

    /// The request bodies (SOAP envelopes) received so far, in order.
    pub fn bodies(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// How many times `method` was called.
    pub fn count(&self, method: &str) -> usize {
        self.calls().iter().filter(|m| *m == method).count()
    }

    /// A client of this server (plain http on loopback, no login).
    pub fn client(&self) -> vim_sdk::Client {
        vim_sdk::Client::new(
            vim_sdk::transport::Transport::new(vim_sdk::transport::TransportConfig::new(&self.url))
                .expect("transport"),
        )
    }
}

/// The VM `id` (`vm-1`) of a fixture.
pub fn vm(id: &str) -> vim_sdk::mo::VirtualMachine {
    vim_sdk::mo::VirtualMachine::from_ref(vim_sdk::xml::ManagedObjectReference::new(
        "VirtualMachine",
        id,
    ))
}

/// The answer for what most fixtures share: `RetrieveServiceContent` ([`SERVICE_CONTENT`]),
/// the property collector a wait creates and destroys around `WaitForUpdatesEx`
/// (`CreatePropertyCollector` gives `pc-1`, `CreateFilter` `f-1`), and `MethodNotFound` for
/// anything else. Handlers end their `match` with it.
pub fn common(method: &str) -> Answer {
    match method {
        "RetrieveServiceContent" => response("RetrieveServiceContent", Some(SERVICE_CONTENT)),
        "CreatePropertyCollector" => {
            response_ref("CreatePropertyCollector", "PropertyCollector", "pc-1")
        }
        "CreateFilter" => response_ref("CreateFilter", "PropertyFilter", "f-1"),
        "DestroyPropertyCollector" => response("DestroyPropertyCollector", None),
        _ => fault("MethodNotFound", "not in this fixture"),
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Wraps `inner` in a SOAP envelope.
pub fn envelope(inner: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
         <soapenv:Body>{inner}</soapenv:Body></soapenv:Envelope>"
    )
}

/// A `<MethodResponse>` with `returnval` content (or none).
pub fn response(method: &str, returnval: Option<&str>) -> Answer {
    let rv = returnval.map_or(String::new(), |r| format!("<returnval>{r}</returnval>"));
    (
        200,
        format!("<{method}Response xmlns=\"urn:vim25\">{rv}</{method}Response>"),
    )
}

/// A `<MethodResponse>` returning a managed object reference.
pub fn response_ref(method: &str, ty: &str, value: &str) -> Answer {
    (
        200,
        format!(
            "<{method}Response xmlns=\"urn:vim25\"><returnval type=\"{ty}\">{value}</returnval></{method}Response>"
        ),
    )
}

/// A SOAP fault with typed detail `fault` (e.g. `MethodNotFound`) and message `msg`.
pub fn fault(fault: &str, msg: &str) -> Answer {
    (
        500,
        format!(
            "<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>{msg}</faultstring>\
             <detail><{fault}Fault xmlns=\"urn:vim25\" xsi:type=\"{fault}\"></{fault}Fault></detail></soapenv:Fault>"
        ),
    )
}

/// A minimal vCenter-like `ServiceContent`.
pub const SERVICE_CONTENT: &str = "<rootFolder type=\"Folder\">group-d1</rootFolder>\
<propertyCollector type=\"PropertyCollector\">propertyCollector</propertyCollector>\
<viewManager type=\"ViewManager\">ViewManager</viewManager>\
<about><name>Fixture</name><fullName>Fixture 7.0</fullName><vendor>test</vendor>\
<version>7.0.0</version><build>1</build><localeVersion>INTL</localeVersion><localeBuild>000</localeBuild>\
<osType>linux-x64</osType><productLineId>vpx</productLineId><apiType>VirtualCenter</apiType>\
<apiVersion>7.0</apiVersion><instanceUuid>0</instanceUuid></about>\
<sessionManager type=\"SessionManager\">SessionManager</sessionManager>";

/// The method named by the first element inside the SOAP body.
fn method_of(body: &str) -> String {
    let Some(start) = body.find("Body>") else {
        return String::new();
    };
    let rest = &body[start + 5..];
    let Some(lt) = rest.find('<') else {
        return String::new();
    };
    let tag: String = rest[lt + 1..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
        .collect();
    tag.rsplit(':').next().unwrap_or("").to_string()
}

/// Starts a server answering with `handler`.
pub async fn start(handler: Handler) -> Fixture {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/sdk", listener.local_addr().unwrap());
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(serve(stream, handler.clone(), seen.clone()));
        }
    });
    Fixture { url, calls, task }
}

async fn serve(mut stream: TcpStream, handler: Handler, calls: Arc<Mutex<Vec<(String, String)>>>) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // Headers.
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
        buf.drain(..head_end + len);
        let method = method_of(&body);
        calls.lock().unwrap().push((method.clone(), body.clone()));
        let (status, inner) = handler(method, body).await;
        let out = envelope(&inner);
        let reason = if status == 200 {
            "OK"
        } else {
            "Internal Server Error"
        };
        let reply = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n\r\n{out}",
            out.len()
        );
        if stream.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}
