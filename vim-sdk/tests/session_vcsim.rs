//! Sessions against govmomi's simulator: connect, negotiation, login faults, TLS modes,
//! session loss and re-login, keep-alive, the session cache and logout on drop. The redacted
//! wire dump and logs are checked in session_wire_dump.rs, a process of their own.
#![cfg(feature = "vcsim")]

use std::path::{Path, PathBuf};
use std::time::Duration;

use vim_sdk::session::{current_session, ConnectOptions, Session, VersionSource};
use vim_sdk::testing::Vcsim;
use vim_sdk::transport::{Thumbprint, Transport, TransportConfig, TransportError};
use vim_sdk::types::{InvalidLogin, NoPermission, NotAuthenticated};
use vim_sdk::{Client, ErrorKind};

#[path = "support/vcsim.rs"]
mod vcsim;
use vcsim::start;

fn creds(sim: &Vcsim) -> ConnectOptions {
    ConnectOptions::new().credentials(sim.username(), sim.password())
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "vim-sdk-session-{name}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The one file of a session cache directory that holds one entry.
fn only_entry(cache: &Path) -> PathBuf {
    std::fs::read_dir(cache)
        .unwrap()
        .next()
        .expect("a cache entry")
        .unwrap()
        .path()
}

/// Whether `cookie` is a live session on the simulator, asked through a fresh client.
async fn cookie_is_live(sim: &Vcsim, session: &Session, cookie: &str, tls: bool) -> bool {
    let mut config = TransportConfig::new(sim.url());
    if tls {
        config = config.tls(vim_sdk::transport::TlsMode::Insecure);
    }
    let c = Client::new(Transport::new(config).unwrap());
    c.set_session_cookie(Some(cookie.to_string()));
    current_session(&c, session.content())
        .await
        .expect("currentSession")
        .is_some()
}

async fn call_count(observer: &Session, key: &str) -> i64 {
    observer
        .session_list()
        .await
        .expect("sessionList")
        .into_iter()
        .find(|s| s.key == key)
        .and_then(|s| s.call_count)
        .expect("session listed")
}

#[tokio::test]
async fn esx_http_url_user_negotiates_6_5_and_close_logs_out() {
    let sim = start(Vcsim::builder().esx());
    let url = sim
        .url()
        .replacen("http://", &format!("http://{}@", sim.username()), 1);
    // The URL's user wins over the options'; the password comes from the options only.
    let session = Client::connect(
        &url,
        ConnectOptions::new().credentials("not-this-user", sim.password()),
    )
    .await
    .expect("connect");
    // The transport never sees the userinfo.
    assert_eq!(session.transport().config().base_url, sim.url());
    let n = session.negotiated();
    assert_eq!(n.version, "6.5");
    assert_eq!(n.source, VersionSource::ServiceVersionsFile);
    assert_eq!(n.server_versions, ["6.5", "6.0", "5.5"]);
    assert_eq!(session.api_version(), "6.5");
    assert_eq!(session.content().about.api_type, "HostAgent");
    assert!(!session.is_reused());
    let us = session.user_session().expect("logged in").clone();
    assert_eq!(us.user_name, sim.username());
    let current = session.current_session().await.unwrap().expect("live");
    assert_eq!(current.key, us.key);
    assert!(session.property_collector().reference().value.len() > 1);
    assert!(session.session_manager().is_some());
    let dbg = format!("{session:?}");
    assert!(!dbg.contains(&us.key), "{dbg}");

    let cookie = session.session_cookie().expect("cookie");
    assert!(cookie_is_live(&sim, &session, &cookie, false).await);
    let probe = Client::connect(sim.url(), ConnectOptions::new())
        .await
        .unwrap();
    session.close().await.expect("close");
    assert!(!cookie_is_live(&sim, &probe, &cookie, false).await);
}

#[tokio::test]
async fn vpx_bad_password_is_a_typed_invalid_login() {
    let sim = start(Vcsim::builder().vpx());
    let secret = "Wr0ng-Secret-Value";
    let err = Client::connect(
        sim.url(),
        ConnectOptions::new().credentials(sim.username(), secret),
    )
    .await
    .expect_err("refused");
    assert_eq!(err.fault_type(), Some("InvalidLogin"));
    assert!(err.is::<InvalidLogin>());
    assert!(
        err.find_fault("VimFault").is_some(),
        "InvalidLogin is a VimFault"
    );
    assert!(!err.is_not_authenticated());
    let text = err.to_string();
    assert!(text.starts_with("Login on SessionManager:"), "{text}");
    assert!(!text.contains(secret) && !format!("{err:?}").contains(secret));

    // Good credentials on the same server.
    let session = Client::connect(sim.url(), creds(&sim))
        .await
        .expect("login");
    assert_eq!(session.content().about.api_type, "VirtualCenter");
    assert_eq!(session.api_version(), "6.5");
    session.close().await.unwrap();
}

#[tokio::test]
async fn vpx_https_tls_modes() {
    let sim = start(Vcsim::builder().vpx().tls(true));
    let https = sim.url();
    assert!(https.starts_with("https://127.0.0.1:"));

    // Verified against the platform roots: vcsim's self-signed certificate is refused.
    let err = Client::connect(https, creds(&sim))
        .await
        .expect_err("self-signed refused");
    assert!(
        matches!(err.kind, ErrorKind::Transport(TransportError::Tls { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("vimServiceVersions.xml"), "{err}");

    // The simulator's self-signed certificate (SANs 127.0.0.1, ::1, localhost) as an extra
    // trusted root: verified for 127.0.0.1.
    let cert = sim.cert_file().expect("cert file").to_path_buf();
    let s = Client::connect(https, creds(&sim).extra_ca_pem(&cert))
        .await
        .expect("verified with the extra CA");
    assert_eq!(s.api_version(), "6.5");
    s.close().await.unwrap();

    // Pinned, by SHA-256 and by SHA-1.
    for pin in [sim.thumbprint_sha256(), sim.thumbprint_sha1()] {
        let pin: Thumbprint = pin.unwrap().parse().unwrap();
        let s = Client::connect(https, creds(&sim).pin(pin))
            .await
            .expect("pinned");
        assert_eq!(s.api_version(), "6.5");
        s.close().await.unwrap();
    }

    // A wrong pin is refused.
    let wrong: Thumbprint = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33"
        .parse()
        .unwrap();
    let err = Client::connect(https, creds(&sim).pin(wrong))
        .await
        .expect_err("wrong pin");
    assert!(
        matches!(err.kind, ErrorKind::Transport(TransportError::Tls { .. })),
        "{err}"
    );

    // Insecure, only when asked.
    let s = Client::connect(https, creds(&sim).insecure())
        .await
        .expect("insecure");
    assert!(s.user_session().is_some());
    s.close().await.unwrap();
}

#[tokio::test]
async fn esx_https_pinned_login() {
    let sim = start(Vcsim::builder().esx().tls(true));
    let pin: Thumbprint = sim.thumbprint_sha256().unwrap().parse().unwrap();
    let s = Client::connect(sim.url(), creds(&sim).pin(pin))
        .await
        .expect("pinned ESX");
    assert_eq!(s.content().about.api_type, "HostAgent");
    let cookie = s.session_cookie().unwrap();
    assert!(cookie_is_live(&sim, &s, &cookie, true).await);
    s.close().await.unwrap();
}

#[tokio::test]
async fn terminated_session_fails_plainly_and_recovers_with_relogin() {
    let sim = start(Vcsim::builder().vpx());
    let a = Client::connect(sim.url(), creds(&sim).relogin(true))
        .await
        .expect("a");
    let no_hook = Client::connect(sim.url(), creds(&sim)).await.expect("c");
    let admin = Client::connect(sim.url(), creds(&sim))
        .await
        .expect("admin");
    let keys = [
        a.user_session().unwrap().key.clone(),
        no_hook.user_session().unwrap().key.clone(),
    ];
    admin
        .session_manager()
        .unwrap()
        .terminate_session(&admin, &keys)
        .await
        .expect("terminate");

    let si = a.service_instance();
    let err = si.current_time(&a).await.expect_err("session gone");
    assert!(err.is_not_authenticated(), "{err}");
    assert!(err.is::<NotAuthenticated>() && err.is::<NoPermission>());
    assert!(
        err.to_string()
            .starts_with("CurrentTime on ServiceInstance:ServiceInstance"),
        "{err}"
    );

    // Without a hook, with_relogin hands the fault back.
    let err = no_hook
        .with_relogin(|c| async move { c.service_instance().current_time(&c).await })
        .await
        .expect_err("no hook");
    assert!(err.is_not_authenticated());

    // Two concurrent callers share one new login.
    let before = admin.session_list().await.unwrap().len();
    let call = |c: Client| async move { c.service_instance().current_time(&c).await };
    let (r1, r2) = tokio::join!(a.with_relogin(call), a.with_relogin(call));
    r1.expect("first retried call");
    r2.expect("second retried call");
    let after = admin.session_list().await.unwrap();
    assert_eq!(after.len(), before + 1, "exactly one new session");
    let now = a.current_session().await.unwrap().expect("a is live again");
    assert_ne!(now.key, keys[0]);
    // The session reports the new login, not the terminated one.
    assert_eq!(a.user_session().expect("logged in").key, now.key);
    a.close().await.unwrap();
    admin.close().await.unwrap();
}

#[tokio::test]
async fn keepalive_calls_while_idle_and_stops_on_close() {
    let sim = start(Vcsim::builder().vpx());
    let cache = temp_dir("keepalive");
    let a = Client::connect(
        sim.url(),
        creds(&sim)
            .keepalive(Duration::from_millis(100))
            .session_cache(&cache),
    )
    .await
    .expect("a");
    assert!(a.keepalive_running());
    let key = a.user_session().unwrap().key.clone();
    let observer = Client::connect(sim.url(), creds(&sim)).await.unwrap();
    let c0 = call_count(&observer, &key).await;
    tokio::time::sleep(Duration::from_millis(650)).await;
    let c1 = call_count(&observer, &key).await;
    assert!(c1 - c0 >= 3, "keep-alive calls while idle: {c0} -> {c1}");
    // With the cache on, close keeps the session alive but stops the keep-alive.
    a.close().await.unwrap();
    let c2 = call_count(&observer, &key).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let c3 = call_count(&observer, &key).await;
    assert_eq!(c2, c3, "no keep-alive after close");
    observer.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&cache);
}

#[tokio::test]
async fn session_cache_reuses_and_replaces_an_invalid_session() {
    let sim = start(Vcsim::builder().vpx());
    let cache = temp_dir("cache");
    let dump = temp_dir("cache-dump");
    let options = || creds(&sim).session_cache(&cache);

    let first = Client::connect(sim.url(), options()).await.expect("first");
    assert!(!first.is_reused());
    let cookie1 = first.session_cookie().unwrap();
    let key1 = first.user_session().unwrap().key.clone();
    let first_uuid = first.content().about.instance_uuid.clone();
    first.close().await.unwrap(); // kept alive for the next process
    let files: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert_eq!(files.len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&cache), 0o700);
        assert_eq!(mode(&files[0].as_ref().unwrap().path()), 0o600);
    }

    // Second connect: no Login on the wire, same session.
    let second = Client::connect(sim.url(), options().wire_dump(&dump))
        .await
        .expect("second");
    assert!(second.is_reused());
    assert_eq!(second.negotiated().source, VersionSource::Cache);
    assert_eq!(second.api_version(), "6.5");
    assert_eq!(second.session_cookie().unwrap(), cookie1);
    assert_eq!(second.user_session().unwrap().key, key1);
    let sessions = second.session_list().await.unwrap();
    assert_eq!(sessions.len(), 1, "still one session on the server");
    let dumped: Vec<String> = std::fs::read_dir(&dump)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        dumped.iter().any(|f| f.contains("RetrievePropertiesEx")),
        "{dumped:?}"
    );
    assert!(!dumped.iter().any(|f| f.contains("Login")), "{dumped:?}");
    // One round trip: the cache holds the ServiceContent, as govmomi's does.
    assert!(
        !dumped.iter().any(|f| f.contains("RetrieveServiceContent")),
        "{dumped:?}"
    );
    assert_eq!(second.content().about.instance_uuid, first_uuid);
    second.close().await.unwrap();

    // Cached content the server refuses (a property collector it does not know): the
    // content is read again, the session reused, and the entry rewritten with the content.
    let entry_file = only_entry(&cache);
    let text = std::fs::read_to_string(&entry_file).unwrap();
    let tampered = text.replace(">propertyCollector<", ">gone-1<");
    assert_ne!(tampered, text);
    std::fs::write(&entry_file, &tampered).unwrap();
    let again = Client::connect(sim.url(), options()).await.expect("again");
    assert!(again.is_reused());
    assert_eq!(again.session_cookie().unwrap(), cookie1);
    assert_eq!(
        again.content().property_collector.value,
        "propertyCollector"
    );
    assert!(std::fs::read_to_string(&entry_file)
        .unwrap()
        .contains(">propertyCollector<"));
    again.close().await.unwrap();

    // Invalidate the cached session from another one: the next connect logs in anew.
    let admin = Client::connect(sim.url(), creds(&sim)).await.unwrap();
    admin
        .session_manager()
        .unwrap()
        .terminate_session(&admin, std::slice::from_ref(&key1))
        .await
        .unwrap();
    let third = Client::connect(sim.url(), options()).await.expect("third");
    assert!(!third.is_reused());
    assert_ne!(third.session_cookie().unwrap(), cookie1);
    assert_ne!(third.user_session().unwrap().key, key1);
    // The cache now holds the new session...
    let fourth = Client::connect(sim.url(), options()).await.expect("fourth");
    assert!(fourth.is_reused());
    assert_eq!(fourth.session_cookie(), third.session_cookie());
    // ...until an explicit logout, which also forgets it.
    let cookie3 = third.session_cookie().unwrap();
    fourth.logout().await.unwrap();
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);
    assert!(!cookie_is_live(&sim, &admin, &cookie3, false).await);
    drop(third);
    admin.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&cache);
    let _ = std::fs::remove_dir_all(&dump);
}

/// A session resumed from the cache is the cached one, shared with other processes: closing
/// or dropping it neither reads nor locks the cache (a cache directory removed meanwhile is
/// not made again) and never logs it out, even when the cache holds another session by then.
#[tokio::test]
async fn closing_a_resumed_session_leaves_the_cache_and_the_session_alone() {
    let sim = start(Vcsim::builder().vpx());
    let cache = temp_dir("resumed-close");
    let options = || creds(&sim).session_cache(&cache);
    let first = Client::connect(sim.url(), options()).await.expect("first");
    let cookie = first.session_cookie().unwrap();
    first.close().await.unwrap();
    let entry_file = only_entry(&cache);
    let cached = std::fs::read_to_string(&entry_file).unwrap();
    let observer = Client::connect(sim.url(), creds(&sim)).await.unwrap();
    let resume = || async {
        let s = Client::connect(sim.url(), options()).await.expect("resume");
        assert!(s.is_reused());
        assert_eq!(s.session_cookie().unwrap(), cookie);
        s
    };

    // The cache holds another live session when the resumed one closes: both stay.
    let resumed = resume().await;
    let other = observer.session_cookie().unwrap();
    let foreign = cached.replace(&format!("cookie {cookie}\n"), &format!("cookie {other}\n"));
    assert_ne!(foreign, cached);
    std::fs::write(&entry_file, &foreign).unwrap();
    resumed.close().await.unwrap();
    assert!(cookie_is_live(&sim, &observer, &cookie, false).await);
    assert_eq!(std::fs::read_to_string(&entry_file).unwrap(), foreign);

    // The cache directory is gone when they close and drop: not made again.
    std::fs::write(&entry_file, &cached).unwrap();
    let (closed, dropped) = (resume().await, resume().await);
    std::fs::remove_dir_all(&cache).unwrap();
    closed.close().await.unwrap();
    assert!(!cache.exists(), "close read or locked the cache");
    drop(dropped);
    assert!(!cache.exists(), "drop read or locked the cache");
    tokio::task::yield_now().await;
    assert!(cookie_is_live(&sim, &observer, &cookie, false).await);
    observer.close().await.unwrap();
}

#[tokio::test]
async fn dropping_a_session_logs_out() {
    let sim = start(Vcsim::builder().esx());
    let probe = Client::connect(sim.url(), ConnectOptions::new())
        .await
        .unwrap();
    let s = Client::connect(sim.url(), creds(&sim)).await.unwrap();
    let cookie = s.session_cookie().unwrap();
    drop(s);
    let mut live = true;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        live = cookie_is_live(&sim, &probe, &cookie, false).await;
        if !live {
            break;
        }
    }
    assert!(!live, "the session outlived its drop");
}
