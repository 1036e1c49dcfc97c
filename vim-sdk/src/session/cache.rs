//! The session cache: one file per (URL, user) holding a session cookie and the negotiated
//! version, so that short-lived processes reuse a session instead of logging in each time.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::options::Secret;

const MAGIC: &str = "vim-sdk-session 1";

/// A cached session: the cookie (secret) and the version it was negotiated with.
#[derive(Debug, Clone)]
pub struct CacheEntry {
    /// The session cookie, exactly as the server sent it.
    pub cookie: Secret,
    /// The negotiated API version.
    pub version: String,
}

/// A directory of cached sessions (mode 0700; files 0600).
#[derive(Debug, Clone)]
pub struct SessionCache {
    dir: PathBuf,
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

    /// The file for `url` and `user`: the hex SHA-256 of both, so neither shows in the name.
    pub fn path(&self, url: &str, user: &str) -> PathBuf {
        let mut h = Sha256::new();
        h.update(url.as_bytes());
        h.update([0]);
        h.update(user.as_bytes());
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{hex}.session"))
    }

    /// The cached session for `url` and `user`, if there is a well-formed one. A file
    /// readable by others is ignored (and removed).
    pub fn load(&self, url: &str, user: &str) -> Option<CacheEntry> {
        let path = self.path(url, user);
        let meta = fs::metadata(&path).ok()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(file = %path.display(), "session cache file is accessible to others; discarding it");
                let _ = fs::remove_file(&path);
                return None;
            }
        }
        #[cfg(not(unix))]
        let _ = meta;
        let text = Secret::new(fs::read_to_string(&path).ok()?);
        let mut lines = text.expose().lines();
        if lines.next() != Some(MAGIC) {
            return None;
        }
        let mut version = None;
        let mut cookie = None;
        for line in lines {
            if let Some(v) = line.strip_prefix("version ") {
                version = Some(v.to_string());
            } else if let Some(c) = line.strip_prefix("cookie ") {
                cookie = Some(Secret::new(c));
            }
        }
        Some(CacheEntry {
            cookie: cookie.filter(|c| !c.expose().is_empty())?,
            version: version.filter(|v| !v.is_empty())?,
        })
    }

    /// Stores `entry` for `url` and `user`: written to a 0600 temporary file in the 0700
    /// directory, then renamed over the old one.
    pub fn store(&self, url: &str, user: &str, entry: &CacheEntry) -> io::Result<()> {
        if entry.cookie.expose().contains(['\n', '\r']) || entry.version.contains(['\n', '\r']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "line break in cookie or version",
            ));
        }
        self.make_dir()?;
        let path = self.path(url, user);
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let text = Secret::new(format!(
            "{MAGIC}\nversion {}\ncookie {}\n",
            entry.version,
            entry.cookie.expose()
        ));
        let written = options
            .open(&tmp)
            .and_then(|mut f| f.write_all(text.expose().as_bytes()))
            .and_then(|_| fs::rename(&tmp, &path));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    /// Removes the entry for `url` and `user` (absent is fine).
    pub fn remove(&self, url: &str, user: &str) {
        let _ = fs::remove_file(self.path(url, user));
    }

    fn make_dir(&self) -> io::Result<()> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&self.dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&self.dir)?.permissions().mode();
            if mode & 0o077 != 0 {
                fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))?;
            }
        }
        Ok(())
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

    #[test]
    fn round_trip_with_private_modes() {
        let dir = tmpdir("rt");
        let cache = SessionCache::new(dir.join("sub"));
        let url = "https://127.0.0.1:1/sdk";
        assert!(cache.load(url, "u").is_none());
        let entry = CacheEntry {
            cookie: Secret::new("\"52ab-cookie\""),
            version: "6.5".into(),
        };
        cache.store(url, "u", &entry).unwrap();
        let back = cache.load(url, "u").unwrap();
        assert_eq!(back.cookie.expose(), "\"52ab-cookie\"");
        assert_eq!(back.version, "6.5");
        assert!(cache.load(url, "other").is_none());
        let path = cache.path(url, "u");
        assert!(!path.to_string_lossy().contains("127.0.0.1"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(cache.dir()), 0o700);
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(
                cache.load(url, "u").is_none(),
                "a world-readable file is refused"
            );
            assert!(!path.exists());
        }
        assert!(!format!("{back:?}").contains("52ab"));
        cache.remove(url, "u");
        let _ = fs::remove_dir_all(&dir);
    }
}
