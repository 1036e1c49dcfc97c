//! Sessions: connecting, version negotiation, login and logout, keep-alive, re-login and the
//! session cache.
//!
//! ```no_run
//! use vim_sdk::session::ConnectOptions;
//! use vim_sdk::Client;
//!
//! # async fn run() -> Result<(), vim_sdk::Error> {
//! let options = ConnectOptions::new()
//!     .credentials("administrator@vsphere.local", std::env::var("VC_PASSWORD").unwrap_or_default())
//!     .pin("AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD".parse().unwrap());
//! let session = Client::connect("https://vc.example.com/sdk", options).await?;
//! println!("speaking {}", session.api_version());
//! let now = session.service_instance().current_time(&session).await?;
//! session.close().await?;
//! # let _ = now; Ok(()) }
//! ```

mod cache;
mod keepalive;
mod negotiate;
mod options;

use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

pub use cache::{tls_identity, CacheEntry, SessionCache, MAX_ENTRY_BYTES};
pub use negotiate::{
    min_version, negotiate, parse_service_versions, pick_version, server_versions, Negotiated,
    VersionSource, VIM25,
};
pub use options::{ConnectOptions, Secret};

use crate::client::{Client, ReloginHook};
use crate::error::{Error, ErrorKind};
use crate::mo;
use crate::transport::{Transport, TransportConfig, TransportError};
use crate::types::{
    Any, AnyArray, AnyData, ObjectSpec, PropertyFilterSpec, PropertySpec, RetrieveOptions,
    ServiceContent, UserSession,
};

/// A logged-in (or reused, or anonymous) connection to one endpoint, made by
/// [`Client::connect`]. Derefs to its [`Client`].
///
/// [`close`](Self::close) logs out (unless a session cache keeps the session); dropping the
/// session without closing it logs out in a task spawned on the current tokio runtime, if
/// there is one (best effort: a runtime that shuts down at once may not run it). Logging out
/// ends the session for every clone of the client.
pub struct Session {
    client: Client,
    /// Shared with the client ([`Client::share_service_content`]).
    content: Arc<ServiceContent>,
    /// Shared with the re-login hook, which replaces it after a new `Login`.
    user_session: Arc<Mutex<Option<UserSession>>>,
    negotiated: Negotiated,
    reused: bool,
    cache: CacheSlot,
    /// The cookie the session was resumed from the cache with: while the client still holds
    /// it, the session is the cached one (shared with other processes), which closing leaves
    /// alive without reading the cache again. `None` after a fresh login.
    resumed_cookie: Option<Secret>,
    logout_on_close: bool,
    logged_in: bool,
    keepalive: Option<JoinHandle<()>>,
    closed: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("client", &self.client)
            .field("negotiated", &self.negotiated)
            .field("user", &self.user_session().map(|u| u.user_name))
            .field("reused", &self.reused)
            .field("logged_in", &self.logged_in)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for Session {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// The parts of a connect URL (one with a password is refused).
#[derive(Debug)]
struct Target {
    /// The URL without userinfo, path defaulting to `/sdk`.
    base: String,
    user: Option<String>,
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_target(url: &str) -> Result<Target, Error> {
    let invalid = |message: &str| {
        Error::new(
            "connect",
            None,
            ErrorKind::Transport(TransportError::InvalidUrl {
                message: message.into(),
            }),
        )
    };
    // The parser's messages never quote the input, which may hold a password.
    let mut u = url::Url::parse(url).map_err(|e| invalid(&format!("cannot parse the URL: {e}")))?;
    if u.password().is_some() {
        return Err(Error::new("connect", None, ErrorKind::PasswordInUrl));
    }
    let user = (!u.username().is_empty()).then(|| percent_decode(u.username()));
    if u.set_username("").is_err() {
        return Err(invalid("the URL cannot carry credentials"));
    }
    if u.path().is_empty() || u.path() == "/" {
        u.set_path("/sdk");
    }
    Ok(Target {
        base: u.to_string(),
        user,
    })
}

fn property_spec(obj: &crate::xml::ManagedObjectReference, path: &str) -> PropertyFilterSpec {
    PropertyFilterSpec {
        prop_set: vec![PropertySpec {
            r#type: obj.r#type.clone(),
            path_set: vec![path.into()],
            ..Default::default()
        }],
        object_set: vec![ObjectSpec {
            obj: obj.clone(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Reads one property of the session manager through `RetrievePropertiesEx`.
async fn session_manager_property(
    client: &Client,
    content: &ServiceContent,
    path: &str,
) -> Result<Option<Any>, Error> {
    let Some(sm) = &content.session_manager else {
        return Ok(None);
    };
    let pc = mo::PropertyCollector::from_ref(content.property_collector.clone());
    let res = pc
        .retrieve_properties_ex(
            client,
            &[property_spec(sm, path)],
            &RetrieveOptions::default(),
        )
        .await?;
    Ok(res
        .into_iter()
        .flat_map(|r| r.objects)
        .flat_map(|o| o.prop_set)
        .find(|p| p.name == path)
        .map(|p| p.val))
}

/// `SessionManager.currentSession` of the client's session: `None` when the client has no
/// valid session (unset, or `NotAuthenticated`).
pub async fn current_session(
    client: &Client,
    content: &ServiceContent,
) -> Result<Option<UserSession>, Error> {
    match session_manager_property(client, content, "currentSession").await {
        Ok(Some(Any::Data(AnyData::UserSession(s)))) => Ok(Some(*s)),
        Ok(_) => Ok(None),
        Err(e) if e.is_not_authenticated() => Ok(None),
        Err(e) => Err(e),
    }
}

/// `SessionManager.sessionList`: the server's sessions (needs the `Sessions.TerminateSession`
/// privilege on a real server). Their keys are secrets: do not log them.
pub async fn session_list(
    client: &Client,
    content: &ServiceContent,
) -> Result<Vec<UserSession>, Error> {
    match session_manager_property(client, content, "sessionList").await? {
        Some(Any::Array(AnyArray::UserSession(list))) => Ok(list),
        Some(Any::Data(AnyData::UserSession(s))) => Ok(vec![*s]),
        _ => Ok(Vec::new()),
    }
}

fn session_manager(content: &ServiceContent) -> Result<mo::SessionManager, Error> {
    content
        .session_manager
        .clone()
        .map(mo::SessionManager::from_ref)
        .ok_or_else(|| Error::missing_manager("connect", "SessionManager"))
}

/// A cache slot: the cache, and the URL, the user and the TLS identity
/// ([`cache::tls_identity`]) it is keyed by.
type CacheSlot = Option<(SessionCache, String, String, String)>;

/// Makes the client's session the cached one unless the cache holds another
/// ([`SessionCache::adopt`]), or, given the `stale` cookie it replaces, unless the cache holds
/// one that is not `stale` ([`SessionCache::replace`]): whether the cache holds it afterwards
/// (`false` without a cache, a cookie, or when the cache cannot be written).
fn adopt_in_cache(slot: &CacheSlot, client: &Client, stale: Option<&str>) -> bool {
    let (Some((cache, url, user, tls)), Some(cookie)) = (slot, client.session_cookie()) else {
        return false;
    };
    let cookie = Secret::new(cookie);
    // The entry (a copy of the content) is only made when it is stored.
    let entry = || CacheEntry {
        cookie: cookie.clone(),
        version: client.api_version(),
        content: client
            .known_service_content()
            .map(|c| Box::new(ServiceContent::clone(&c))),
    };
    let held = cache.hold(url, user, tls, cookie.expose(), stale, entry);
    match held {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(dir = %cache.dir().display(), error = %e, "cannot store the session in the cache");
            false
        }
    }
}

/// Forgets the cache entry of `slot` if it holds `cookie` ([`SessionCache::remove_if`]).
fn forget_in_cache(slot: &CacheSlot, cookie: Option<&str>) {
    if let (Some((cache, url, user, tls)), Some(cookie)) = (slot, cookie) {
        cache.remove_if(url, user, tls, cookie);
    }
}

fn relogin_hook(
    sm: mo::SessionManager,
    user: String,
    password: Secret,
    slot: CacheSlot,
    current: Arc<Mutex<Option<UserSession>>>,
) -> ReloginHook {
    Arc::new(move |c: Client, lost: Option<String>| {
        let (sm, user, password, slot, current) = (
            sm.clone(),
            user.clone(),
            password.clone(),
            slot.clone(),
            current.clone(),
        );
        Box::pin(async move {
            // The client's cookie is already cleared: the lost one comes from the caller.
            // It is replaced under the cache's lock in one step, so that a fresh session
            // another process cached meanwhile is kept (and this one is logged out on close).
            let session = sm.login(&c, &user, password.expose(), None).await?;
            c.redact_in_dumps(&session.key);
            *current.lock().unwrap_or_else(|p| p.into_inner()) = Some(session);
            adopt_in_cache(&slot, &c, lost.as_deref());
            Ok(())
        })
    })
}

/// Why [`Client::resume_cached`] gave no session: the typed "no usable cached session"
/// outcome (the caller then logs in, e.g. with [`Client::connect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoCachedSession {
    /// The options name no session cache ([`ConnectOptions::session_cache`]).
    NoCache,
    /// The cache holds no entry for this URL, user and TLS policy.
    NotCached,
    /// The cached session is gone on the server (or belongs to another user): its entry was
    /// removed from the cache, unless another process had replaced it meanwhile.
    Stale,
}

impl std::fmt::Display for NoCachedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NoCachedSession::NoCache => "no session cache configured",
            NoCachedSession::NotCached => "no cached session",
            NoCachedSession::Stale => "the cached session is no longer valid",
        })
    }
}

/// A resumed session: the `ServiceContent` and the `currentSession` read to check it, and
/// the cached cookie it was resumed with.
struct Resumed {
    content: Arc<ServiceContent>,
    session: UserSession,
    cookie: Secret,
}

/// What [`connect`] and [`resume_cached`] share before any round trip: the client built from
/// the options, the cache slot and the user.
struct Prepared {
    client: Client,
    slot: CacheSlot,
    user: Option<String>,
}

fn prepare(url: &str, options: &ConnectOptions) -> Result<Prepared, Error> {
    let target = parse_target(url)?;
    let user = target.user.or_else(|| options.username.clone());
    let mut config = TransportConfig::new(target.base.clone()).tls(options.tls.clone());
    if let Some(t) = options.connect_timeout {
        config = config.connect_timeout(t);
    }
    if let Some(t) = options.call_timeout {
        config = config.call_timeout(t);
    }
    if let Some(t) = options.read_idle_timeout {
        config = config.read_idle_timeout(t);
    }
    if let Some(ua) = &options.user_agent {
        config = config.user_agent(ua.clone());
    }
    config = config.allow_plain_http(options.allow_plain_http);
    if let Some(n) = options.max_body {
        config = config.max_body(n);
    }
    let transport = Transport::new(config).map_err(|e| {
        Error::new(
            "connect",
            Some(target.base.clone()),
            ErrorKind::Transport(e),
        )
    })?;
    let client = Client::new(transport);
    if let Some(limits) = options.decode_limits {
        client.set_decode_limits(limits);
    }
    if let Some(pages) = options.max_pages {
        client.set_max_pages(pages);
    }
    if let Some(dir) = &options.wire_dump {
        client.set_wire_dump(Some(dir.clone()));
    }
    let slot: CacheSlot = options.cache_dir.as_ref().map(|d| {
        (
            SessionCache::new(d.clone()),
            target.base.clone(),
            user.clone().unwrap_or_default(),
            cache::tls_identity(&options.tls),
        )
    });
    Ok(Prepared { client, slot, user })
}

/// Resumes the cached session of `p` without credentials: loads the entry, sets its version
/// and cookie on the client and checks `currentSession`: one round trip with the entry's
/// `ServiceContent`, two for an entry without one (or when the cached content's session
/// manager or property collector is refused: then the content is read again and the entry
/// rewritten with it). A stale entry is removed and the client's cookie cleared.
async fn resume_in(p: &Prepared) -> Result<Result<Resumed, NoCachedSession>, Error> {
    let Some((cache, url, user_key, tls)) = &p.slot else {
        return Ok(Err(NoCachedSession::NoCache));
    };
    let Some(entry) = cache.load(url, user_key, tls) else {
        return Ok(Err(NoCachedSession::NotCached));
    };
    let client = &p.client;
    client.set_api_version(&entry.version);
    client.set_session_cookie(Some(entry.cookie.expose().to_string()));
    let cached = match entry.content {
        Some(content) => match current_session(client, &content).await {
            Ok(s) => Some((Arc::from(content), s)),
            // Not the server the content came from (a fault about the cached ids): read the
            // content again below. Anything else (the connection) fails as it would have.
            Err(e) if e.fault().is_some() => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let (content, session, rewrite) = match cached {
        Some((content, s)) => (content, s, false),
        None => {
            let content = client
                .service_instance()
                .retrieve_service_content(client)
                .await?;
            let s = current_session(client, &content).await?;
            (Arc::new(content), s, true)
        }
    };
    match session {
        Some(s) if p.user.as_deref().is_none_or(|u| u == s.user_name) => {
            tracing::debug!("reusing the cached session");
            client.redact_in_dumps(&s.key);
            if rewrite {
                // The next process resumes with one round trip.
                client.share_service_content(content.clone());
                adopt_in_cache(&p.slot, client, Some(entry.cookie.expose()));
            }
            Ok(Ok(Resumed {
                content,
                session: s,
                cookie: entry.cookie,
            }))
        }
        _ => {
            tracing::debug!("cached session is no longer valid");
            cache.remove_if(url, user_key, tls, entry.cookie.expose());
            client.set_session_cookie(None);
            Ok(Err(NoCachedSession::Stale))
        }
    }
}

/// See [`Client::resume_cached`].
pub(crate) async fn resume_cached(
    url: &str,
    options: ConnectOptions,
) -> Result<Result<Session, NoCachedSession>, Error> {
    let p = prepare(url, &options)?;
    match resume_in(&p).await? {
        Ok(reused) => finish(p, options, Some(reused)).await.map(Ok),
        Err(why) => Ok(Err(why)),
    }
}

/// See [`Client::connect`].
pub(crate) async fn connect(url: &str, options: ConnectOptions) -> Result<Session, Error> {
    let p = prepare(url, &options)?;
    let reused = resume_in(&p).await?.ok();
    finish(p, options, reused).await
}

/// Completes a connection: with the resumed session's content, or else negotiating and
/// logging in; then the cache, the re-login hook and the keep-alive.
async fn finish(
    p: Prepared,
    options: ConnectOptions,
    reused: Option<Resumed>,
) -> Result<Session, Error> {
    let Prepared { client, slot, user } = p;
    let password = options.password.clone();
    let logout_on_close = options.logout_on_close.unwrap_or(slot.is_none());

    let (content, negotiated, user_session, resumed_cookie) = match reused {
        Some(r) => {
            let n = Negotiated {
                version: client.api_version(),
                source: VersionSource::Cache,
                server_versions: Vec::new(),
            };
            (r.content, n, Some(r.session), Some(r.cookie))
        }
        None => {
            let (negotiated, content) = match &options.api_version {
                Some(v) => {
                    client.set_api_version(v);
                    let n = Negotiated {
                        version: v.clone(),
                        source: VersionSource::Forced,
                        server_versions: Vec::new(),
                    };
                    (n, None)
                }
                None => negotiate::negotiate_inner(&client).await?,
            };
            let content = match content {
                Some(c) => c,
                None => {
                    client
                        .service_instance()
                        .retrieve_service_content(&client)
                        .await?
                }
            };
            let user_session = match &user {
                Some(u) => {
                    let sm = session_manager(&content)?;
                    let pw = password.clone().unwrap_or_default();
                    let s = sm.login(&client, u, pw.expose(), None).await?;
                    client.redact_in_dumps(&s.key);
                    Some(s)
                }
                None => None,
            };
            (Arc::new(content), negotiated, user_session, None)
        }
    };
    let fresh_login = resumed_cookie.is_none();
    client.share_service_content(content.clone());
    let logged_in = user_session.is_some();
    if fresh_login && logged_in {
        // Cached at once (so that a process killed before close leaves it for the next),
        // unless another process cached its own first: then close logs this one out.
        adopt_in_cache(&slot, &client, None);
    }
    let user_session = Arc::new(Mutex::new(user_session));
    if options.relogin {
        if let (Some(u), Some(p)) = (&user, &password) {
            let sm = session_manager(&content)?;
            let hook = relogin_hook(sm, u.clone(), p.clone(), slot.clone(), user_session.clone());
            client.set_relogin(Some(hook));
        }
    }
    let keepalive = options
        .keepalive
        .filter(|_| logged_in)
        .map(|every| keepalive::spawn(client.clone(), every));
    Ok(Session {
        client,
        content,
        user_session,
        negotiated,
        reused: !fresh_login,
        cache: slot,
        resumed_cookie,
        logout_on_close,
        logged_in,
        keepalive,
        closed: false,
    })
}

impl Session {
    /// A session over `client`, whose cookie and API version the caller has restored (from a
    /// [`SessionCache`] entry) and whose `ServiceContent` the caller kept: no round trip at
    /// all. Nothing is checked: the first call tells whether the session is still valid
    /// (`NotAuthenticated` when not; then forget the entry and [`Client::connect`] again).
    /// [`close`](Self::close) and drop leave the session alive (it belongs to the cache);
    /// [`logout`](Self::logout) ends it. For short-lived processes that must not spend a
    /// round trip on validation, such as a monitoring probe.
    pub fn resume(client: Client, content: ServiceContent) -> Session {
        let content = Arc::new(content);
        client.share_service_content(content.clone());
        Session {
            negotiated: Negotiated {
                version: client.api_version(),
                source: VersionSource::Cache,
                server_versions: Vec::new(),
            },
            client,
            content,
            user_session: Arc::new(Mutex::new(None)),
            reused: true,
            cache: None,
            resumed_cookie: None,
            logout_on_close: false,
            logged_in: true,
            keepalive: None,
            closed: false,
        }
    }
}

impl Session {
    /// The client (also reachable through `Deref`).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The `ServiceContent` retrieved at connect time.
    pub fn content(&self) -> &ServiceContent {
        &self.content
    }

    /// The negotiated API version and where it came from.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// The user session from `Login`, or from validating a cached session, or from the
    /// latest re-login; `None` when no credentials were given. Its `key` is a secret: do not
    /// log it.
    pub fn user_session(&self) -> Option<UserSession> {
        self.user_session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether the session came from the session cache (no `Login` was sent).
    pub fn is_reused(&self) -> bool {
        self.reused
    }

    /// The root folder.
    pub fn root_folder(&self) -> mo::Folder {
        mo::Folder::from_ref(self.content.root_folder.clone())
    }

    /// The default property collector.
    pub fn property_collector(&self) -> mo::PropertyCollector {
        mo::PropertyCollector::from_ref(self.content.property_collector.clone())
    }

    /// The session manager.
    pub fn session_manager(&self) -> Option<mo::SessionManager> {
        self.content
            .session_manager
            .clone()
            .map(mo::SessionManager::from_ref)
    }

    /// The view manager (vCenter and ESXi both have one).
    pub fn view_manager(&self) -> Option<mo::ViewManager> {
        self.content
            .view_manager
            .clone()
            .map(mo::ViewManager::from_ref)
    }

    /// The search index.
    pub fn search_index(&self) -> Option<mo::SearchIndex> {
        self.content
            .search_index
            .clone()
            .map(mo::SearchIndex::from_ref)
    }

    /// `SessionManager.currentSession`, read now: `None` once the session is gone.
    pub async fn current_session(&self) -> Result<Option<UserSession>, Error> {
        current_session(&self.client, &self.content).await
    }

    /// `SessionManager.sessionList`, read now.
    pub async fn session_list(&self) -> Result<Vec<UserSession>, Error> {
        session_list(&self.client, &self.content).await
    }

    /// [`Client::with_relogin`] on this session's client.
    pub async fn with_relogin<T, F, Fut>(&self, call: F) -> Result<T, Error>
    where
        F: Fn(Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, Error>>,
    {
        self.client.with_relogin(call).await
    }

    /// Whether the keep-alive task is running.
    pub fn keepalive_running(&self) -> bool {
        self.keepalive.as_ref().is_some_and(|h| !h.is_finished())
    }

    fn stop(&mut self) {
        self.closed = true;
        if let Some(h) = self.keepalive.take() {
            h.abort();
        }
        self.client.set_relogin(None);
    }

    async fn do_logout(&mut self) -> Result<(), Error> {
        forget_in_cache(&self.cache, self.client.session_cookie().as_deref());
        if !self.logged_in {
            return Ok(());
        }
        self.logged_in = false;
        let sm = session_manager(&self.content)?;
        let result = sm.logout(&self.client).await;
        self.client.set_session_cookie(None);
        result
    }

    /// Stops the keep-alive and logs out, unless the session is cached (then it stays alive
    /// for the next process; see [`ConnectOptions::logout_on_close`]). With a session cache,
    /// a session that the cache does not hold (another process cached its own meanwhile)
    /// is logged out too, so that no session is left alive that nobody can reach. A session
    /// resumed from the cache, still on the cookie it was resumed with, is the cached one:
    /// it is left alive without reading the cache again.
    pub async fn close(mut self) -> Result<(), Error> {
        self.stop();
        if self.must_log_out() {
            self.do_logout().await
        } else {
            Ok(())
        }
    }

    /// Whether closing (or dropping) this session must log it out: when asked to, or when a
    /// session cache is in use and does not hold it ([`adopt_in_cache`]). A session still on
    /// the cookie it was resumed with is the cached one: it is kept without reading or
    /// locking the cache (a session re-logged in since, or logged in fresh, is checked).
    fn must_log_out(&self) -> bool {
        if self.logout_on_close {
            return true;
        }
        if !self.logged_in || self.cache.is_none() || self.is_on_resumed_cookie() {
            return false;
        }
        !adopt_in_cache(&self.cache, &self.client, None)
    }

    /// Whether the client still holds the cookie the session was resumed from the cache with.
    fn is_on_resumed_cookie(&self) -> bool {
        self.resumed_cookie.as_ref().is_some_and(|resumed| {
            self.client
                .session_cookie()
                .is_some_and(|now| Secret::new(now).expose() == resumed.expose())
        })
    }

    /// Stops the keep-alive, logs out and forgets the cached session, whatever the options.
    pub async fn logout(mut self) -> Result<(), Error> {
        self.stop();
        self.do_logout().await
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        self.stop();
        if !(self.logged_in && self.must_log_out()) {
            return;
        }
        let (Ok(handle), Some(sm)) = (
            tokio::runtime::Handle::try_current(),
            self.content
                .session_manager
                .clone()
                .map(mo::SessionManager::from_ref),
        ) else {
            return;
        };
        let client = self.client.clone();
        handle.spawn(async move {
            if let Err(e) = sm.logout(&client).await {
                tracing::debug!(error = %e, "logout on drop failed");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_is_taken_out_of_the_url() {
        let t = parse_target("https://admin%40vsphere.local@127.0.0.1:8989").unwrap();
        assert_eq!(t.base, "https://127.0.0.1:8989/sdk");
        assert_eq!(t.user.as_deref(), Some("admin@vsphere.local"));
        let t = parse_target("http://127.0.0.1:1/other").unwrap();
        assert_eq!(t.base, "http://127.0.0.1:1/other");
        assert!(t.user.is_none());
        let e = parse_target("https://u:topsecret@[bad").unwrap_err();
        assert!(!e.to_string().contains("topsecret"), "{e}");
        assert_eq!(percent_decode("a%2"), "a%2");
    }

    #[test]
    fn the_options_decode_limits_and_page_limit_reach_the_client() {
        let limits = crate::xml::Limits {
            max_depth: 40,
            max_any_depth: 5,
            ..Default::default()
        };
        let options = ConnectOptions::new()
            .decode_limits(limits)
            .max_pages(7)
            .max_body(1 << 20);
        let p = prepare("http://127.0.0.1:1/sdk", &options).unwrap();
        let got = p.client.decode_limits();
        assert_eq!((got.max_depth, got.max_any_depth), (40, 5));
        assert_eq!(got.max_bytes, 1 << 20, "the size cap is the transport's");
        assert_eq!(p.client.max_pages(), 7);
        let p = prepare("http://127.0.0.1:1/sdk", &ConnectOptions::new()).unwrap();
        assert_eq!(p.client.max_pages(), crate::client::DEFAULT_MAX_PAGES);
        assert_eq!(p.client.decode_limits().max_depth, 128);
    }

    #[test]
    fn a_password_in_the_url_is_refused_without_repeating_it() {
        for url in [
            "https://admin%40vsphere.local:p%3Ass-Secr3t@127.0.0.1:8989/sdk",
            "http://u:p%3Ass-Secr3t@127.0.0.1:1",
            "https://:p%3Ass-Secr3t@vc.example.com",
        ] {
            let e = parse_target(url).unwrap_err();
            assert!(matches!(e.kind, ErrorKind::PasswordInUrl), "{url}: {e:?}");
            let shown = format!("{e} {e:?}");
            assert!(shown.contains("ConnectOptions::credentials"), "{shown}");
            for leak in ["Secr3t", "p:ss", "p%3Ass", "127.0.0.1", "vc.example"] {
                assert!(!shown.contains(leak), "{url}: {shown}");
            }
        }
    }
}
