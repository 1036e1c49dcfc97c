//! The SOAP client: one endpoint, one session cookie, the negotiated API version.

use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Error, ErrorKind};
use crate::soap::{Request, Response};
use crate::transport::{SoapResponse, Transport};
use crate::xml::ManagedObjectReference;

/// The API version sent in `SOAPAction` until one is negotiated.
pub const DEFAULT_API_VERSION: &str = "8.0.2.0";

/// Largest reply body accepted by [`Client::invoke`] (decompressed).
pub const DEFAULT_MAX_BODY: usize = 1 << 30;

struct State {
    cookie: Option<String>,
    version: String,
    level: Option<u8>,
}

/// A client for one vSphere endpoint. Cheap to clone: clones share the connection pool and the
/// session.
#[derive(Clone)]
pub struct Client {
    transport: Transport,
    state: Arc<Mutex<State>>,
    max_body: usize,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("transport", &self.transport)
            .field("version", &self.api_version())
            .finish()
    }
}

impl Client {
    /// A client over `transport`, speaking [`DEFAULT_API_VERSION`] until told otherwise.
    pub fn new(transport: Transport) -> Self {
        Client {
            transport,
            state: Arc::new(Mutex::new(State {
                cookie: None,
                version: DEFAULT_API_VERSION.into(),
                level: None,
            })),
            max_body: DEFAULT_MAX_BODY,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The transport.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The API version sent as `SOAPAction: urn:vim25/<version>`.
    pub fn api_version(&self) -> String {
        self.state().version.clone()
    }

    /// Sets the API version to speak; fields and parameters the model first saw in a release
    /// newer than `version` are then not sent.
    pub fn set_api_version(&self, version: &str) {
        let level = server_level(version);
        let mut s = self.state();
        s.version = version.to_string();
        s.level = Some(level);
    }

    /// The session cookie, if logged in (a secret: never log it).
    pub fn session_cookie(&self) -> Option<String> {
        self.state().cookie.clone()
    }

    /// Replaces the session cookie (e.g. from a session cache).
    pub fn set_session_cookie(&self, cookie: Option<String>) {
        self.state().cookie = cookie;
    }

    /// The `ServiceInstance` handle every session starts from.
    pub fn service_instance(&self) -> crate::mo::ServiceInstance {
        crate::mo::ServiceInstance::from_ref(ManagedObjectReference::new(
            "ServiceInstance",
            "ServiceInstance",
        ))
    }

    /// Starts a request for `op` on `this`.
    pub fn request(&self, op: &'static str, this: &ManagedObjectReference) -> Request {
        Request::new(op, this, self.state().level)
    }

    /// Sends a request and returns the reply with its body not yet read (status 200 or 500), so
    /// that it can be decoded as it arrives; a session cookie it sets is kept.
    pub async fn send(&self, req: Request) -> Result<SoapResponse, Error> {
        let op = req.op();
        let object = req.object().to_string();
        let (action, cookie) = {
            let s = self.state();
            (format!("urn:vim25/{}", s.version), s.cookie.clone())
        };
        let body = bytes::Bytes::from(req.finish());
        let resp = self
            .transport
            .soap_call(&action, cookie.as_deref(), body)
            .await
            .map_err(|e| Error::new(op, Some(object), ErrorKind::Transport(e)))?;
        if let Some(c) = &resp.session_cookie {
            self.state().cookie = Some(c.clone());
        }
        Ok(resp)
    }

    /// Sends a request and reads the whole reply; SOAP faults become errors when the result is
    /// read from the [`Response`].
    pub async fn invoke(&self, req: Request) -> Result<Response, Error> {
        let op = req.op();
        let object = req.object().to_string();
        let resp = self.send(req).await?;
        let body = resp
            .body
            .collect(self.max_body)
            .await
            .map_err(|e| Error::new(op, Some(object.clone()), ErrorKind::Transport(e)))?;
        Ok(Response::new(op, object, body))
    }
}

/// The number of compared releases (see [`crate::meta::COMPARED`]) strictly older than
/// `version`: a field first seen in compared release `n` may be sent iff `n <= level`.
pub fn server_level(version: &str) -> u8 {
    let key = version_key(version);
    crate::meta::COMPARED
        .iter()
        .filter(|c| version_key(c) < key)
        .count() as u8
}

fn version_key(v: &str) -> Vec<u32> {
    v.split('.')
        .map(|p| p.trim().parse().unwrap_or(0))
        .collect()
}
