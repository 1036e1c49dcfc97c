//! Connecting the way admins already have it: govc's variables, a URL with the user in it,
//! the password from the environment, a file or a prompt (never the command line), TLS
//! options, and a session cached between runs.
//!
//! | what | from, first found wins |
//! |---|---|
//! | server | `--url`, else `GOVC_URL`: `HOST`, `HOST:PORT`, `USER@HOST`, `https://USER@HOST/sdk` (scheme `https` and path `/sdk` by default) |
//! | user | the URL's, else `--user`, else `GOVC_USERNAME`, else `VIM_SDK_USER` |
//! | password | `GOVC_URL`'s (the environment is private to the user), else `GOVC_PASSWORD`, else `VIM_SDK_PASSWORD`, else the first line of `--password-file`, else a prompt when standard input is a terminal |
//! | TLS | `--thumbprint HEX` (repeatable: pinned), else `--ca-file PEM` (verified against that file's CAs only, as govc's `GOVC_TLS_CA_CERTS`), else `-k`/`--insecure` or `GOVC_INSECURE=1` (no verification), else verified against the system's roots |
//! | datacenter | `--dc`, else `GOVC_DATACENTER`, else the only one |
//!
//! A password in `--url` is refused before anything is sent, and no message repeats the URL's
//! userinfo. Sessions are kept in vim-sdk's [`SessionCache`] (`$XDG_CACHE_HOME/vim-sdk` or
//! `~/.cache/vim-sdk`, one 0600 file per URL, user and TLS policy) as govc keeps them in
//! `~/.govmomi/sessions`: a later run reuses the session (no password needed, no login) after
//! one check that it is still valid; `--no-session-cache` logs in and out each time.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use clap::Args;
use vim_sdk::mo;
use vim_sdk::ops::Managers;
use vim_sdk::session::{ConnectOptions, Secret, Session, SessionCache};
use vim_sdk::transport::{Thumbprint, TlsMode};
use vim_sdk::Client;

use crate::fail::{Context as _, Failure, Result};

/// The options every example takes (flatten it into the example's own `Args`).
#[derive(Args, Debug, Clone, Default)]
pub struct Common {
    /// Server: HOST, HOST:PORT, USER@HOST or https://USER@HOST/sdk (else $GOVC_URL); never a password
    #[arg(short = 'u', long = "url", value_name = "URL")]
    pub url: Option<String>,
    /// User, when the URL has none (else $GOVC_USERNAME)
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Read the password from the first line of FILE (when $GOVC_PASSWORD is unset)
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Accept any server certificate (also $GOVC_INSECURE=1)
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Accept only a server certificate with this SHA-1 or SHA-256 thumbprint (repeatable)
    #[arg(long, value_name = "HEX")]
    pub thumbprint: Vec<String>,
    /// Trust only the CA certificates of this PEM file (not the system's)
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Datacenter (else $GOVC_DATACENTER, else the only one)
    #[arg(long = "dc", value_name = "NAME")]
    pub datacenter: Option<String>,
    /// Log in and out each time instead of reusing a cached session
    #[arg(long)]
    pub no_session_cache: bool,
    /// Print JSON (the shape each example documents) instead of a table
    #[arg(long)]
    pub json: bool,
}

/// Where and as whom to connect, resolved from [`Common`] and the environment.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL without userinfo, path `/sdk` when none was given.
    pub url: String,
    /// The user.
    pub user: String,
    /// The TLS policy.
    pub tls: TlsMode,
    /// The password carried by `GOVC_URL`, if any.
    url_password: Option<Secret>,
}

/// The environment variable `name`, when set and not empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Whether an environment value means "yes" the way govc reads its booleans.
fn truthy(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "1" | "t" | "true" | "y" | "yes" | "on"
    )
}

/// Splits `raw` (`host`, `user@host:port`, `https://user@host/sdk`...) into the URL without
/// userinfo, the user and the password. Errors never quote `raw`.
fn split_url(raw: &str) -> Result<(String, Option<String>, Option<Secret>)> {
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    let mut url = url::Url::parse(&with_scheme)
        .map_err(|e| Failure::usage(format!("cannot parse the server URL: {e}")))?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    };
    let user = decode(url.username());
    let password = url.password().and_then(decode).map(Secret::new);
    if url.set_username("").is_err() || url.set_password(None).is_err() {
        return Err(Failure::usage("the server URL cannot carry a user"));
    }
    if url.path().is_empty() || url.path() == "/" {
        url.set_path("/sdk");
    }
    Ok((url.to_string(), user, password))
}

impl Common {
    /// The server, user and TLS policy (no password yet: see [`Common::connect`]).
    pub fn target(&self) -> Result<Target> {
        let (url, user, url_password) = match (&self.url, env("GOVC_URL")) {
            (Some(raw), _) => {
                let (url, user, password) = split_url(raw)?;
                if password.is_some() {
                    return Err(Failure::usage(
                        "the URL must not carry a password (other users can read the command \
                         line): set GOVC_PASSWORD, use --password-file, or type it at the prompt",
                    ));
                }
                (url, user, None)
            }
            (None, Some(raw)) => split_url(&raw).context("GOVC_URL")?,
            (None, None) => {
                return Err(Failure::usage(
                    "no server: give --url https://USER@HOST/sdk or set GOVC_URL",
                ))
            }
        };
        let user = user
            .or_else(|| self.user.clone())
            .or_else(|| env("GOVC_USERNAME"))
            .or_else(|| env("VIM_SDK_USER"))
            .ok_or_else(|| {
                Failure::usage(
                    "no user: put it in the URL (https://USER@HOST/sdk), or use --user or GOVC_USERNAME",
                )
            })?;
        Ok(Target {
            url,
            user,
            tls: self.tls()?,
            url_password,
        })
    }

    fn tls(&self) -> Result<TlsMode> {
        if !self.thumbprint.is_empty() {
            let thumbprints = self
                .thumbprint
                .iter()
                .map(|t| {
                    t.parse::<Thumbprint>()
                        .map_err(|e| Failure::usage(format!("bad --thumbprint {t}: {e}")))
                })
                .collect::<Result<Vec<_>>>()?;
            return Ok(TlsMode::Pinned { thumbprints });
        }
        if let Some(ca) = &self.ca_file {
            return Ok(TlsMode::CaFile { ca_pem: ca.clone() });
        }
        if self.insecure || env("GOVC_INSECURE").is_some_and(|v| truthy(&v)) {
            return Ok(TlsMode::Insecure);
        }
        Ok(TlsMode::Verified { extra_ca_pem: None })
    }

    /// The password without asking: `GOVC_URL`'s, the environment's or the file's.
    fn known_password(&self, target: &Target) -> Result<Option<Secret>> {
        if let Some(p) = &target.url_password {
            return Ok(Some(p.clone()));
        }
        if let Some(p) = env("GOVC_PASSWORD").or_else(|| env("VIM_SDK_PASSWORD")) {
            return Ok(Some(Secret::new(p)));
        }
        if let Some(file) = &self.password_file {
            let text = Secret::new(std::fs::read_to_string(file).map_err(|e| {
                Failure::usage(format!(
                    "cannot read the password file {}: {e}",
                    file.display()
                ))
            })?);
            return Ok(Some(Secret::new(
                text.expose().lines().next().unwrap_or(""),
            )));
        }
        Ok(None)
    }

    /// The password, asked on the terminal when nothing else gives it.
    fn password(&self, target: &Target) -> Result<Secret> {
        if let Some(p) = self.known_password(target)? {
            return Ok(p);
        }
        if std::io::stdin().is_terminal() {
            return rpassword::prompt_password(format!("password for {}: ", target.user))
                .map(Secret::new)
                .map_err(|e| Failure::new(format!("cannot read the password: {e}")));
        }
        Err(Failure::usage(
            "no password: set GOVC_PASSWORD, use --password-file, or run on a terminal to be asked",
        ))
    }

    /// The session cache directory, unless `--no-session-cache`.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        if self.no_session_cache {
            None
        } else {
            SessionCache::default_dir()
        }
    }

    /// Connects: reuses the cached session when it is still valid (one call with the
    /// `ServiceContent` the cache keeps beside it, as govmomi's cache does; no password
    /// needed), else logs in (and caches the new session). Close the result with
    /// [`Conn::close`]: a cached session stays valid for the next run, an uncached one is
    /// logged out.
    pub async fn connect(&self) -> Result<Conn> {
        let target = self.target()?;
        let failed = || format!("cannot log in to {} as {}", target.url, target.user);
        let dir = self.cache_dir();
        if let Some(dir) = &dir {
            let options = ConnectOptions::new()
                .tls(target.tls.clone())
                .user(target.user.clone())
                .session_cache(dir);
            if let Ok(session) = Client::resume_cached(&target.url, options)
                .await
                .with_context(failed)?
            {
                return Ok(Conn::new(session, self, target));
            }
        }
        let password = self.password(&target)?;
        let mut options = ConnectOptions::new()
            .tls(target.tls.clone())
            .credentials(target.user.clone(), password.expose());
        if let Some(dir) = dir {
            options = options.session_cache(dir);
        }
        let session = Client::connect(&target.url, options)
            .await
            .with_context(failed)?;
        Ok(Conn::new(session, self, target))
    }
}

/// A connection: the session (derefs to it, and through it to [`vim_sdk::Client`]), what it
/// was made from, and the inventory managers.
pub struct Conn {
    /// The session: pass `&conn.session` (or `&*conn`) where a `&Client` is wanted.
    pub session: Session,
    /// Where and as whom it is connected.
    pub target: Target,
    /// The service's managers (`root_folder`, `property_collector`, ...).
    pub managers: Managers,
    /// Whether `--json` was given.
    pub json: bool,
    datacenter: Option<String>,
}

impl std::ops::Deref for Conn {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl Conn {
    fn new(session: Session, common: &Common, target: Target) -> Conn {
        Conn {
            managers: Managers::from_content(session.content()),
            session,
            target,
            json: common.json,
            datacenter: common.datacenter.clone().or_else(|| env("GOVC_DATACENTER")),
        }
    }

    /// The datacenter named by `--dc` or `GOVC_DATACENTER`, if any.
    pub fn datacenter_name(&self) -> Option<&str> {
        self.datacenter.as_deref()
    }

    /// An inventory [`Finder`](vim_sdk::find::Finder) on this connection.
    pub fn finder(&self) -> vim_sdk::find::Finder {
        vim_sdk::find::Finder::new(&self.managers)
    }

    /// The datacenter named by `--dc` or `GOVC_DATACENTER` (an inventory path below the root
    /// folder, or a name), else the only one; with its name.
    pub async fn datacenter(&self) -> Result<(String, mo::Datacenter)> {
        let finder = self.finder();
        let all = finder
            .list::<mo::Datacenter>(&self.session, self.managers.root_folder.reference(), true)
            .await
            .context("cannot list the datacenters")?;
        match &self.datacenter {
            Some(want) => {
                let want = want.trim_matches('/');
                if let Some(found) = all.iter().find(|(name, _)| name == want) {
                    return Ok(found.clone());
                }
                let by_path = finder
                    .by_inventory_path::<mo::Datacenter>(&self.session, want)
                    .await
                    .with_context(|| format!("cannot find datacenter {want}"))?;
                by_path
                    .map(|dc| (want.rsplit('/').next().unwrap_or(want).to_string(), dc))
                    .ok_or_else(|| Failure::new(format!("datacenter {want} not found")))
            }
            None => {
                let n = all.len();
                let mut all = all.into_iter();
                match (all.next(), n) {
                    (Some(only), 1) => Ok(only),
                    (None, _) => Err(Failure::new("the server has no datacenter")),
                    _ => Err(Failure::usage(format!(
                        "{n} datacenters: choose one with --dc or GOVC_DATACENTER"
                    ))),
                }
            }
        }
    }

    /// Ends the connection: a cached session is left valid for the next run, an uncached one
    /// is logged out.
    pub async fn close(self) -> Result<()> {
        self.session
            .close()
            .await
            .context("cannot close the session")
    }
}
