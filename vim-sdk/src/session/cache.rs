//! The session cache: one file per (URL, user, TLS identity) holding a session cookie, the
//! negotiated version and the server's `ServiceContent`, so that short-lived processes reuse
//! a session instead of logging in each time, with one round trip (the session's check)
//! instead of two, as govmomi's session cache does.
//!
//! The files are secrets, so on Unix a file is only read when it is a regular file (not a
//! symbolic link: opened with `O_NOFOLLOW`) owned by the process's user with no permission
//! for group or others, in a directory owned by that user and closed to others; at most
//! [`MAX_ENTRY_BYTES`] are read. A new entry is written to a temporary file created
//! exclusively (`O_EXCL`, mode 0600), then renamed over the old one.

use std::fs;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use ring::digest::{digest, Context, SHA256};

use super::options::Secret;
use crate::transport::TlsMode;
use crate::types::ServiceContent;

const MAGIC: &str = "vim-sdk-session 1";

/// The largest cache file read; a larger one is ignored. An entry is a cookie, a version
/// string and a `ServiceContent` (3-5 KiB of XML from vCenter 8).
pub const MAX_ENTRY_BYTES: u64 = 64 * 1024;

/// The line after which an entry holds its `ServiceContent` as an XML document.
const CONTENT_LINE: &str = "content";

/// [`CONTENT_LINE`] as a whole line.
const CONTENT_SEPARATOR: &str = "\ncontent\n";

/// A cached session: the cookie (secret), the version it was negotiated with and, when
/// known, the server's `ServiceContent`.
#[derive(Debug, Clone)]
pub struct CacheEntry {
    /// The session cookie, exactly as the server sent it.
    pub cookie: Secret,
    /// The negotiated API version.
    pub version: String,
    /// The `ServiceContent` the session was made with (not secret: the managers' ids and
    /// `about`), so that a resumed session skips `RetrieveServiceContent`: a session the
    /// server still knows was made by the same server process, whose content has not
    /// changed. `None` when the entry has none (or an undecodable one): the content is then
    /// retrieved again.
    pub content: Option<Box<ServiceContent>>,
}

/// A directory of cached sessions (mode 0700; files 0600).
#[derive(Debug, Clone)]
pub struct SessionCache {
    dir: PathBuf,
}

/// `kind:` and the digest of the CA file's content, not its name (a replaced file is another
/// identity), or `kind-path:` and its name when it cannot be read.
fn ca_identity(kind: &str, path: &Path) -> String {
    let sum = fs::File::open(path).and_then(|f| {
        let mut content = Vec::new();
        f.take(16 << 20).read_to_end(&mut content)?;
        Ok(digest(&SHA256, &content))
    });
    match sum {
        Ok(d) => format!("{kind}:{}", hex(d.as_ref())),
        Err(_) => format!("{kind}-path:{}", path.display()),
    }
}

/// How a connection checks the server's certificate, as a cache key: a session cached under
/// one certificate policy (a pin, a CA set, no verification) is not reused under another,
/// so a session made while talking to one server identity is never handed to another.
pub fn tls_identity(mode: &TlsMode) -> String {
    match mode {
        TlsMode::Verified { extra_ca_pem: None } => "verified".into(),
        TlsMode::Verified {
            extra_ca_pem: Some(path),
        } => ca_identity("verified+ca", path),
        TlsMode::CaFile { ca_pem } => ca_identity("ca-only", ca_pem),
        TlsMode::Pinned { thumbprints } => {
            let mut pins: Vec<String> = thumbprints
                .iter()
                .map(|t| format!("{:?}", t.algorithm()) + ":" + &t.to_string())
                .collect();
            pins.sort();
            pins.dedup();
            format!("pinned:{}", pins.join(","))
        }
        TlsMode::Insecure => "insecure".into(),
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

impl SessionCache {
    /// A cache in `dir` (created on first store).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SessionCache { dir: dir.into() }
    }

    /// `$XDG_CACHE_HOME/vim-sdk` when that is an absolute path, else `$HOME/.cache/vim-sdk`.
    pub fn default_dir() -> Option<PathBuf> {
        let xdg = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute());
        let base = xdg.or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|h| h.join(".cache"))
        })?;
        Some(base.join("vim-sdk"))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file for `url`, `user` and the TLS identity `tls` (see [`tls_identity`]): the hex
    /// SHA-256 of the three, so none shows in the name.
    pub fn path(&self, url: &str, user: &str, tls: &str) -> PathBuf {
        let mut h = Context::new(&SHA256);
        for part in [url, user, tls] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        self.dir
            .join(format!("{}.session", hex(h.finish().as_ref())))
    }

    /// The cached session for `url`, `user` and `tls`, if there is a well-formed one that
    /// passes the checks of the [module](self) (a file failing them is ignored with a
    /// warning; one merely open to others is removed).
    pub fn load(&self, url: &str, user: &str, tls: &str) -> Option<CacheEntry> {
        let text = self.read(&self.path(url, user, tls))?;
        let head = Head::parse(text.expose())?;
        Some(CacheEntry {
            cookie: Secret::new(head.cookie),
            version: head.version.to_string(),
            content: head
                .content
                .and_then(|xml| crate::xml::decode_document::<ServiceContent>(xml.as_bytes()).ok())
                .map(Box::new),
        })
    }

    /// The cookie of the entry at `path` when it is one [`load`](Self::load) would return,
    /// without decoding its `ServiceContent` (comparing cookies needs only this).
    fn held_cookie(&self, path: &Path) -> Option<Secret> {
        let text = self.read(path)?;
        Head::parse(text.expose()).map(|head| Secret::new(head.cookie))
    }

    /// The text of the cache file `path` after the checks of the [module](self): `None` when
    /// there is none, or (with a warning) when it fails them.
    fn read(&self, path: &Path) -> Option<Secret> {
        match read_private(&self.dir, path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "ignoring the session cache file");
                eprintln_once(path, &e);
                None
            }
        }
    }

    /// Stores `entry` for `url`, `user` and `tls`: written to a temporary file created
    /// exclusively with mode 0600 in the 0700 directory, then renamed over the old one.
    pub fn store(&self, url: &str, user: &str, tls: &str, entry: &CacheEntry) -> io::Result<()> {
        self.make_dir()?;
        self.store_at(&self.path(url, user, tls), entry)
    }

    /// [`store`](Self::store) at `path`, the directory made.
    fn store_at(&self, path: &Path, entry: &CacheEntry) -> io::Result<()> {
        if entry.cookie.expose().contains(['\n', '\r']) || entry.version.contains(['\n', '\r']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "line break in cookie or version",
            ));
        }
        let mut text = format!(
            "{MAGIC}\nversion {}\ncookie {}\n",
            entry.version,
            entry.cookie.expose()
        );
        if let Some(content) = &entry.content {
            text.push_str(CONTENT_LINE);
            text.push('\n');
            text.push_str(&String::from_utf8_lossy(&crate::xml::encode_document(
                &**content,
                CONTENT_LINE,
            )));
        }
        let text = Secret::new(text);
        let (mut file, tmp) = create_exclusive(path)?;
        let written = file
            .write_all(text.expose().as_bytes())
            .and_then(|_| file.sync_all())
            .and_then(|_| fs::rename(&tmp, path));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    /// Removes the entry for `url`, `user` and `tls` (absent is fine).
    pub fn remove(&self, url: &str, user: &str, tls: &str) {
        let _ = fs::remove_file(self.path(url, user, tls));
    }

    /// Makes `entry` the cached session for `url`, `user` and `tls` unless another one is
    /// cached: `Ok(true)` when the cache holds `entry` afterwards (stored now, or already
    /// there), `Ok(false)` when it holds a different session (left as it is). Runs under the
    /// cache's lock ([`with_lock`](Self::with_lock)), so that of processes logging in at once
    /// exactly one session is kept and each other process knows its own is not.
    pub fn adopt(&self, url: &str, user: &str, tls: &str, entry: &CacheEntry) -> io::Result<bool> {
        let cookie = entry.cookie.expose();
        self.hold(url, user, tls, cookie, None, || entry)
    }

    /// Makes `entry` the cached session in place of `stale` (a session found gone, which the
    /// caller has just replaced by a new login): stored when the cache holds `stale` or
    /// nothing, left as it is when it holds another session (one a concurrent process cached
    /// meanwhile). Returns whether the cache holds `entry` afterwards, like
    /// [`adopt`](Self::adopt); runs under the cache's lock, so that the check and the write
    /// are one step for every process sharing the cache.
    pub fn replace(
        &self,
        url: &str,
        user: &str,
        tls: &str,
        stale: &str,
        entry: &CacheEntry,
    ) -> io::Result<bool> {
        let cookie = entry.cookie.expose();
        self.hold(url, user, tls, cookie, Some(stale), || entry)
    }

    /// [`adopt`](Self::adopt) (without `stale`) or [`replace`](Self::replace) (with it) of
    /// the session `cookie`, whose entry `make` builds only when it is stored; the held
    /// entry's `ServiceContent` is not decoded to compare cookies. Runs under the lock.
    pub(crate) fn hold<E: std::borrow::Borrow<CacheEntry>>(
        &self,
        url: &str,
        user: &str,
        tls: &str,
        cookie: &str,
        stale: Option<&str>,
        make: impl FnOnce() -> E,
    ) -> io::Result<bool> {
        let path = self.path(url, user, tls);
        self.with_lock(|| match self.held_cookie(&path) {
            Some(held) if stale.is_none_or(|stale| held.expose() != stale) => {
                Ok(held.expose() == cookie)
            }
            _ => {
                let entry = make();
                let entry = entry.borrow();
                debug_assert!(entry.cookie.expose() == cookie, "another session's entry");
                self.store_at(&path, entry).map(|()| true)
            }
        })
    }

    /// Removes the entry for `url`, `user` and `tls` only if it holds the session `cookie`
    /// (one found expired, or logged out): a session that another process cached meanwhile
    /// stays. Runs under the cache's lock.
    pub fn remove_if(&self, url: &str, user: &str, tls: &str, cookie: &str) {
        let path = self.path(url, user, tls);
        let _ = self.with_lock(|| {
            if self
                .held_cookie(&path)
                .is_some_and(|held| held.expose() == cookie)
            {
                let _ = fs::remove_file(&path);
            }
            Ok(())
        });
    }

    /// Runs `f` holding an exclusive `flock` on the cache directory itself (no lock file;
    /// opened without following a link), which the kernel releases when the process ends
    /// however it ends. Only file operations run under it, never a round trip.
    pub fn with_lock<T>(&self, f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
        self.make_dir()?;
        let mut options = fs::OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.custom_flags(libc::O_NOFOLLOW | libc::O_DIRECTORY);
        }
        let lock = options.open(&self.dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd as _;
            loop {
                // SAFETY: flock on a file descriptor this function owns; no memory involved.
                let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
                if rc == 0 {
                    break;
                }
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
        let result = f();
        drop(lock);
        result
    }

    fn make_dir(&self) -> io::Result<()> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&self.dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
            let meta = fs::metadata(&self.dir)?;
            if meta.uid() != owner::current_uid() {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "the session cache directory belongs to another user",
                ));
            }
            if meta.permissions().mode() & 0o077 != 0 {
                fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))?;
            }
        }
        Ok(())
    }
}

/// The parts of a cache file's text: its cookie and version (both non-empty) and its
/// `ServiceContent`'s XML, if any.
struct Head<'a> {
    cookie: &'a str,
    version: &'a str,
    content: Option<&'a str>,
}

impl<'a> Head<'a> {
    /// `None` unless `text` starts with the format's magic line and has a cookie and a
    /// version.
    fn parse(text: &'a str) -> Option<Head<'a>> {
        // The lines before the content; the content's XML is not read as lines.
        let (head, content) = match text.split_once(CONTENT_SEPARATOR) {
            Some((head, xml)) => (head, Some(xml)),
            None => (text, None),
        };
        let mut lines = head.lines();
        if lines.next() != Some(MAGIC) {
            return None;
        }
        let mut version = None;
        let mut cookie = None;
        for line in lines {
            if let Some(v) = line.strip_prefix("version ") {
                version = Some(v);
            } else if let Some(c) = line.strip_prefix("cookie ") {
                cookie = Some(c);
            }
        }
        Some(Head {
            cookie: cookie.filter(|c| !c.is_empty())?,
            version: version.filter(|v| !v.is_empty())?,
            content,
        })
    }
}

/// Creates a temporary file beside `path`, exclusively, mode 0600, never through a link.
fn create_exclusive(path: &Path) -> io::Result<(fs::File, PathBuf)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut tries = 0;
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = path.with_extension(format!("tmp.{}.{n}", std::process::id()));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        match options.open(&tmp) {
            Ok(f) => return Ok((f, tmp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 16 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Reads the cache file `path` in `dir` after the checks of the [module](self).
fn read_private(dir: &Path, path: &Path) -> io::Result<Secret> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Not blocking on a FIFO planted under the name.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| {
        // ELOOP: the name is a symbolic link.
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return io::Error::new(
                io::ErrorKind::InvalidData,
                "the session cache file is a symbolic link",
            );
        }
        e
    })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the session cache file is not a regular file",
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
        let uid = owner::current_uid();
        if meta.uid() != uid {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the session cache file belongs to another user",
            ));
        }
        let dir_meta = fs::metadata(dir)?;
        if dir_meta.uid() != uid || dir_meta.permissions().mode() & 0o022 != 0 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the session cache directory belongs to another user or is writable by others",
            ));
        }
        if meta.permissions().mode() & 0o077 != 0 {
            let _ = fs::remove_file(path);
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the session cache file is accessible to others (removed)",
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    if meta.len() > MAX_ENTRY_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the session cache file is too large",
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_ENTRY_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_ENTRY_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the session cache file is too large",
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let mut bytes = e.into_bytes();
        bytes.iter_mut().for_each(|b| *b = 0);
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the session cache file is not UTF-8",
        )
    })?;
    Ok(Secret::new(text))
}

/// A refused cache file is worth a line on stderr once per process: without a `tracing`
/// subscriber the user would otherwise only see logins that the cache should have saved.
fn eprintln_once(path: &Path, e: &io::Error) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static SHOWN: AtomicBool = AtomicBool::new(false);
    if !SHOWN.swap(true, Ordering::Relaxed) {
        eprintln!(
            "vim-sdk warning: ignoring the session cache file {}: {e}",
            path.display()
        );
    }
}

#[cfg(unix)]
mod owner {
    /// The effective user id of the process.
    pub(super) fn current_uid() -> u32 {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("vim-sdk-cache-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn entry() -> CacheEntry {
        CacheEntry {
            cookie: Secret::new("\"52ab-cookie\""),
            version: "6.5".into(),
            content: None,
        }
    }

    const URL: &str = "https://127.0.0.1:1/sdk";

    #[test]
    fn the_service_content_round_trips_and_is_optional() {
        let dir = tmpdir("content");
        let cache = SessionCache::new(&dir);
        let mut content = ServiceContent::default();
        content.about.name = "VMware vCenter Server".into();
        content.about.instance_uuid = Some("8f2e".into());
        content.property_collector =
            crate::xml::ManagedObjectReference::new("PropertyCollector", "propertyCollector");
        let with = CacheEntry {
            content: Some(Box::new(content)),
            ..entry()
        };
        cache.store(URL, "u", "t", &with).unwrap();
        let back = cache.load(URL, "u", "t").unwrap();
        assert_eq!(back.cookie.expose(), "\"52ab-cookie\"");
        let c = back.content.expect("content");
        assert_eq!(c.about.name, "VMware vCenter Server");
        assert_eq!(c.about.instance_uuid.as_deref(), Some("8f2e"));
        assert_eq!(c.property_collector.value, "propertyCollector");
        // An entry without content (written before the content was kept) still loads, and
        // one whose content does not decode keeps its session.
        cache.store(URL, "u", "t", &entry()).unwrap();
        assert!(cache.load(URL, "u", "t").unwrap().content.is_none());
        let path = cache.path(URL, "u", "t");
        let text = fs::read_to_string(&path).unwrap() + "content\n<content><about>";
        fs::write(&path, text).unwrap();
        let back = cache.load(URL, "u", "t").unwrap();
        assert!(back.content.is_none());
        assert_eq!(back.version, "6.5");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn round_trip_with_private_modes() {
        let dir = tmpdir("rt");
        let cache = SessionCache::new(dir.join("sub"));
        assert!(cache.load(URL, "u", "verified").is_none());
        cache.store(URL, "u", "verified", &entry()).unwrap();
        let back = cache.load(URL, "u", "verified").unwrap();
        assert_eq!(back.cookie.expose(), "\"52ab-cookie\"");
        assert_eq!(back.version, "6.5");
        assert!(cache.load(URL, "other", "verified").is_none());
        let path = cache.path(URL, "u", "verified");
        assert!(!path.to_string_lossy().contains("127.0.0.1"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(cache.dir()), 0o700);
        }
        assert!(!format!("{back:?}").contains("52ab"));
        cache.remove(URL, "u", "verified");
        assert!(!path.exists());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_entry_is_only_reused_under_the_same_tls_identity() {
        let dir = tmpdir("tls");
        let cache = SessionCache::new(&dir);
        let a: crate::transport::Thumbprint =
            "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD"
                .parse()
                .unwrap();
        let b: crate::transport::Thumbprint =
            "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DE"
                .parse()
                .unwrap();
        let pinned = |t: Vec<crate::transport::Thumbprint>| {
            tls_identity(&TlsMode::Pinned { thumbprints: t })
        };
        let under_a = pinned(vec![a.clone()]);
        cache.store(URL, "u", &under_a, &entry()).unwrap();
        assert!(cache.load(URL, "u", &under_a).is_some());
        assert_eq!(pinned(vec![a.clone(), a.clone()]), under_a);
        for other in [
            pinned(vec![b.clone()]),
            pinned(vec![a.clone(), b.clone()]),
            tls_identity(&TlsMode::Insecure),
            tls_identity(&TlsMode::default()),
        ] {
            assert_ne!(other, under_a);
            assert!(cache.load(URL, "u", &other).is_none(), "{other}");
        }
        // A CA file counts by its content.
        let ca = dir.join("ca.pem");
        fs::write(&ca, "one").unwrap();
        let with_ca = || {
            tls_identity(&TlsMode::Verified {
                extra_ca_pem: Some(ca.clone()),
            })
        };
        let first = with_ca();
        assert_ne!(first, tls_identity(&TlsMode::default()));
        // The same file as the only roots is another policy.
        let only = tls_identity(&TlsMode::CaFile { ca_pem: ca.clone() });
        assert_ne!(only, first);
        assert!(only.starts_with("ca-only:"), "{only}");
        fs::write(&ca, "two").unwrap();
        assert_ne!(tls_identity(&TlsMode::CaFile { ca_pem: ca.clone() }), only);
        assert_ne!(with_ca(), first);
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn files_open_to_others_links_and_oversized_files_are_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tmpdir("checks");
        let cache = SessionCache::new(&dir);
        cache.store(URL, "u", "t", &entry()).unwrap();
        let path = cache.path(URL, "u", "t");

        // Group-readable, then world-writable: refused (and removed).
        for mode in [0o640, 0o602] {
            cache.store(URL, "u", "t", &entry()).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            assert!(cache.load(URL, "u", "t").is_none(), "{mode:o}");
            assert!(!path.exists(), "{mode:o}");
        }

        // A symbolic link to a well-formed private entry elsewhere is not followed.
        let elsewhere = dir.join("elsewhere");
        cache.store(URL, "other", "t", &entry()).unwrap();
        fs::rename(cache.path(URL, "other", "t"), &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        assert!(cache.load(URL, "u", "t").is_none());
        assert!(path.symlink_metadata().unwrap().file_type().is_symlink());
        fs::remove_file(&path).unwrap();

        // Oversized: refused, however well-formed its start.
        let mut big = format!("{MAGIC}\nversion 6.5\ncookie x\n");
        big.push_str(&"#".repeat(MAX_ENTRY_BYTES as usize));
        let mut f = fs::OpenOptions::new();
        std::os::unix::fs::OpenOptionsExt::mode(&mut f, 0o600);
        f.write(true)
            .create_new(true)
            .open(&path)
            .unwrap()
            .write_all(big.as_bytes())
            .unwrap();
        assert!(cache.load(URL, "u", "t").is_none());
        fs::remove_file(&path).unwrap();

        // A directory writable by others is refused.
        cache.store(URL, "u", "t", &entry()).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        assert!(cache.load(URL, "u", "t").is_none());
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        assert!(cache.load(URL, "u", "t").is_some());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn of_sessions_adopted_at_once_exactly_one_is_kept() {
        let dir = tmpdir("adopt");
        let cache = SessionCache::new(&dir);
        let cookie = |i: usize| format!("\"cookie-{i}\"");
        let kept: Vec<usize> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16)
                .map(|i| {
                    let cache = &cache;
                    s.spawn(move || {
                        let e = CacheEntry {
                            cookie: Secret::new(cookie(i)),
                            version: "6.5".into(),
                            content: None,
                        };
                        (i, cache.adopt(URL, "u", "t", &e).unwrap())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|(_, kept)| *kept)
                .map(|(i, _)| i)
                .collect()
        });
        assert_eq!(kept.len(), 1, "{kept:?}");
        let held = cache.load(URL, "u", "t").unwrap();
        assert_eq!(held.cookie.expose(), cookie(kept[0]));
        // Adopting the held session again keeps it; another is refused.
        let again = CacheEntry {
            cookie: Secret::new(cookie(kept[0])),
            version: "6.5".into(),
            content: None,
        };
        assert!(cache.adopt(URL, "u", "t", &again).unwrap());
        // Removing another session's entry leaves the held one; its own removes it.
        cache.remove_if(URL, "u", "t", &cookie(kept[0] + 1));
        assert!(cache.load(URL, "u", "t").is_some());
        cache.remove_if(URL, "u", "t", &cookie(kept[0]));
        assert!(cache.load(URL, "u", "t").is_none());
        // Nothing else was left in the directory (no lock file, no temporary file).
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_relogin_replaces_only_the_stale_entry() {
        let dir = tmpdir("replace");
        let cache = SessionCache::new(&dir);
        let entry = |c: &str| CacheEntry {
            cookie: Secret::new(c),
            version: "6.5".into(),
            content: None,
        };
        let held = |cache: &SessionCache| {
            cache
                .load(URL, "u", "t")
                .unwrap()
                .cookie
                .expose()
                .to_string()
        };
        cache.store(URL, "u", "t", &entry("old")).unwrap();
        // The stale session is replaced, where adopt would have kept it.
        assert!(!cache.adopt(URL, "u", "t", &entry("new")).unwrap());
        assert!(cache.replace(URL, "u", "t", "old", &entry("new")).unwrap());
        assert_eq!(held(&cache), "new");
        // Another process's fresh session stays; the caller learns its own is not cached.
        assert!(!cache.replace(URL, "u", "t", "old", &entry("mine")).unwrap());
        assert_eq!(held(&cache), "new");
        // Replacing with the held session itself, or into an empty cache, holds it.
        assert!(cache.replace(URL, "u", "t", "old", &entry("new")).unwrap());
        cache.remove(URL, "u", "t");
        assert!(cache
            .replace(URL, "u", "t", "old", &entry("other"))
            .unwrap());
        assert_eq!(held(&cache), "other");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_entry_is_built_only_when_it_is_stored() {
        let dir = tmpdir("hold");
        let cache = SessionCache::new(&dir);
        assert_eq!(CONTENT_SEPARATOR, format!("\n{CONTENT_LINE}\n"));
        let held = |c: &str| CacheEntry {
            cookie: Secret::new(c),
            version: "6.5".into(),
            content: Some(Box::default()),
        };
        assert!(cache.hold(URL, "u", "t", "a", None, || held("a")).unwrap());
        // Held (or another held): nothing is built, nothing written.
        let unused = || -> CacheEntry { panic!("the entry was built") };
        assert!(cache.hold(URL, "u", "t", "a", None, unused).unwrap());
        assert!(!cache.hold(URL, "u", "t", "b", None, unused).unwrap());
        assert!(!cache.hold(URL, "u", "t", "b", Some("z"), unused).unwrap());
        // The held entry's content is not needed to compare cookies: one that does not
        // decode leaves the comparisons as they were.
        let path = cache.path(URL, "u", "t");
        let text = fs::read_to_string(&path).unwrap();
        let (head, _) = text.split_once(CONTENT_SEPARATOR).unwrap();
        fs::write(&path, format!("{head}{CONTENT_SEPARATOR}<content><about>")).unwrap();
        assert!(cache.hold(URL, "u", "t", "a", None, unused).unwrap());
        assert!(cache
            .hold(URL, "u", "t", "b", Some("a"), || held("b"))
            .unwrap());
        assert_eq!(cache.load(URL, "u", "t").unwrap().cookie.expose(), "b");
        cache.remove_if(URL, "u", "t", "a");
        assert!(cache.load(URL, "u", "t").is_some());
        cache.remove_if(URL, "u", "t", "b");
        assert!(cache.load(URL, "u", "t").is_none());
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn the_temporary_file_is_created_exclusively() {
        let dir = tmpdir("excl");
        let cache = SessionCache::new(&dir);
        cache.store(URL, "u", "t", &entry()).unwrap();
        // A link planted where the temporary file goes is neither followed nor replaced.
        let target = dir.join("victim");
        fs::write(&target, "untouched").unwrap();
        let path = cache.path(URL, "u", "t");
        let (_, probe) = create_exclusive(&path).unwrap();
        fs::remove_file(&probe).unwrap();
        let next = |n: u64| {
            let name = probe.to_string_lossy().to_string();
            let (stem, last) = name.rsplit_once('.').unwrap();
            PathBuf::from(format!("{stem}.{}", last.parse::<u64>().unwrap() + n))
        };
        for n in 1..4 {
            std::os::unix::fs::symlink(&target, next(n)).unwrap();
        }
        cache.store(URL, "u", "t", &entry()).unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "untouched");
        for n in 1..4 {
            assert!(next(n).symlink_metadata().unwrap().file_type().is_symlink());
        }
        assert!(cache.load(URL, "u", "t").is_some());
        let _ = fs::remove_dir_all(&dir);
    }
}
