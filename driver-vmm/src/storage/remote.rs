//! Images and context files at http(s) URLs (datastore `cp` and `stat`, TM `context`), read
//! as they stream through vim-sdk's HTTP transport: certificates verified against the
//! system's roots for https, no cookie or credential sent. Redirects are followed up to
//! [`MAX_REDIRECTS`] hops, each hop on a new connection with nothing carried over; a
//! redirect from https to http, to a URL with credentials, or back to a URL already visited
//! is refused. Messages name URLs without their query, which may carry a token.

use driver_common::{DriverError, Result};
use vim_sdk::transport::{BlockingBodyReader, GetReply, Transport, TransportConfig};

use super::location::shown;

/// Whether `path` is an http(s) URL rather than a front-end path.
pub fn is_url(path: &str) -> bool {
    let p = path.trim_start();
    p.starts_with("http://") || p.starts_with("https://")
}

/// The URL as messages show it: without query, fragment or user information.
pub fn shown_url(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let cut = &url[..end];
    let cleaned = match cut.split_once("://") {
        Some((scheme, rest)) => {
            let at = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(at);
            let host = authority.rsplit('@').next().unwrap_or(authority);
            format!("{scheme}://{host}{path}")
        }
        None => cut.to_string(),
    };
    shown(&cleaned)
}

/// The last path component of the URL (without query), e.g. the file name of a context file.
pub fn file_name(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    url[..end].rsplit('/').next().unwrap_or_default()
}

/// What an image URL holds, by its `TYPE` and file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlImage {
    /// A file registered as it is (a CD-ROM image).
    File,
    /// A `.tar.gz` (`.tgz`) of a `.vmdk` folder.
    Tarball,
    /// A `.vmdk` descriptor, its extents beside it on the same server.
    Vmdk,
}

/// The kind of image at `url` (`cdrom`: the image's `TYPE` is CDROM); anything else is
/// refused with what is accepted.
pub fn url_image(url: &str, cdrom: bool) -> Result<UrlImage> {
    let name = file_name(url).to_ascii_lowercase();
    if cdrom {
        return Ok(UrlImage::File);
    }
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        return Ok(UrlImage::Tarball);
    }
    if name.ends_with(".vmdk") {
        return Ok(UrlImage::Vmdk);
    }
    Err(DriverError::new(format!(
        "{} cannot be registered on a vmfs datastore: a URL must name a CD-ROM image (TYPE CDROM), a .vmdk descriptor with its extents beside it, or a .tar.gz of a .vmdk folder (qcow2, raw, bzip2, zip and OVA images must be converted to a VMDK folder first)",
        shown_url(url)
    )))
}

/// `name` as one URL path segment: bytes other than unreserved characters percent-encoded.
pub fn encode_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URLs of a descriptor's extents (`(local name, name in the copy)`, as
/// [`Descriptor::for_copy`](super::vmdk::Descriptor::for_copy) gives them), beside the
/// descriptor fetched from `from`: `(extent URL, name in the copy)`.
pub fn extent_urls(from: &str, extents: &[(String, String)]) -> Vec<(String, String)> {
    extents
        .iter()
        .map(|(local, to)| (resolve(from, &encode_segment(local)), to.clone()))
        .collect()
}

/// The size of a download: its `Content-Length`, else the bytes its body holds, counted as
/// it streams (nothing kept).
pub async fn size_of(dl: Download) -> Result<u64> {
    if let Some(n) = dl.length {
        return Ok(n);
    }
    let label = shown_url(&dl.url);
    let mut body = dl.body;
    tokio::task::spawn_blocking(move || std::io::copy(&mut body, &mut std::io::sink()))
        .await
        .map_err(|e| DriverError::new(format!("download thread failed: {e}")))?
        .map_err(|e| DriverError::new(format!("cannot download {label}: {e}")))
}

/// Splits `scheme://authority/path?query` into the origin and the path with its query.
fn split(url: &str) -> Result<(String, String)> {
    let bad = |why: &str| DriverError::new(format!("URL {} is not usable: {why}", shown_url(url)));
    let url = url.trim();
    let url = url.split('#').next().unwrap_or_default();
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
    if scheme != "http" && scheme != "https" {
        return Err(bad("only http and https are fetched"));
    }
    let at = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(at);
    if authority.is_empty() {
        return Err(bad("no host"));
    }
    if authority.contains('@') {
        return Err(bad("credentials in URLs are refused"));
    }
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("blanks or control characters in the path"));
    }
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    Ok((format!("{scheme}://{authority}"), path))
}

/// Redirects followed at most for one download.
pub const MAX_REDIRECTS: usize = 5;

/// An open download: where it ended up, the size the server announced and the body as a
/// blocking reader (read it on a blocking thread, see [`BlockingBodyReader`]).
pub struct Download {
    /// The URL the body came from (the last one of the redirects followed).
    pub url: String,
    /// `Content-Length`, when the server sent one for a plain (not gzip-encoded) body.
    pub length: Option<u64>,
    /// The body.
    pub body: BlockingBodyReader,
}

/// The absolute URL a `Location` header names, relative to `base` (RFC 3986 forms:
/// absolute, `//authority/path`, `/path`, or a path relative to `base`'s folder), with `.`
/// and `..` segments of a relative reference resolved.
pub fn resolve(base: &str, location: &str) -> String {
    let location = location.trim();
    let has_scheme = location.split_once(':').is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if has_scheme {
        return location.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    if let Some(net) = location.strip_prefix("//") {
        return format!("{scheme}://{net}");
    }
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let at = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(at);
    let joined = if location.starts_with('/') {
        location.to_string()
    } else {
        let folder = path.rfind('/').map(|i| &path[..=i]).unwrap_or("/");
        format!("{folder}{location}")
    };
    let q = joined.find(['?', '#']).unwrap_or(joined.len());
    let (path, query) = joined.split_at(q);
    format!("{scheme}://{authority}{}{query}", without_dots(path))
}

/// `path` (absolute) with its `.` and `..` segments removed (RFC 3986 §5.2.4).
fn without_dots(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." | ".." => {
                if *seg == ".." {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

/// GETs `url`, following redirects as the module says; a status other than 2xx or a
/// redirect is an error.
pub async fn open(url: &str) -> Result<Download> {
    let what = || format!("cannot download {}", shown_url(url));
    let mut current = url.trim().to_string();
    let mut visited = vec![current.clone()];
    loop {
        let (origin, path) = split(&current).map_err(|e| e.context(what()))?;
        let transport = Transport::new(TransportConfig::new(origin).allow_plain_http(true))
            .map_err(|e| DriverError::new(format!("{}: {e}", what())))?;
        let reply = transport
            .get_or_redirect(&path, None)
            .await
            .map_err(|e| DriverError::new(format!("{}: {e}", what())))?;
        let (status, location) = match reply {
            GetReply::Body(_, body) => {
                let length = if body.is_gzip() {
                    None
                } else {
                    body.content_length()
                };
                return Ok(Download {
                    url: current,
                    length,
                    body: body.into_blocking_reader(),
                });
            }
            GetReply::Redirect { status, location } => (status, location),
        };
        current = next_hop(&current, status.as_u16(), location.as_deref(), &mut visited)
            .map_err(|why| DriverError::new(format!("{}: {why}", what())))?;
    }
}

/// Where the redirect `status` with `location` from `current` leads (pushed on `visited`),
/// or why it is not followed.
fn next_hop(
    current: &str,
    status: u16,
    location: Option<&str>,
    visited: &mut Vec<String>,
) -> std::result::Result<String, String> {
    let location = location.ok_or_else(|| {
        format!(
            "{} answered {status} without a usable Location",
            shown_url(current)
        )
    })?;
    let next = resolve(current, location);
    if current.starts_with("https://") && !next.starts_with("https://") {
        return Err(format!(
            "{} redirects to {}: from https to plain http is refused",
            shown_url(current),
            shown_url(&next)
        ));
    }
    if visited.contains(&next) {
        return Err(format!("redirects in a loop ({} again)", shown_url(&next)));
    }
    if visited.len() > MAX_REDIRECTS {
        return Err(format!("more than {MAX_REDIRECTS} redirects"));
    }
    visited.push(next.clone());
    Ok(next)
}

/// Copies `source` (named `label` in messages) into the new local file `dest` (created
/// exclusively, owner-only), at most `limit` bytes; returns the size. A partial file is
/// removed on failure. Runs on a blocking thread.
pub async fn spool(
    source: impl std::io::Read + Send + 'static,
    dest: &std::path::Path,
    limit: u64,
    label: String,
) -> Result<u64> {
    let dest = dest.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<u64> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&dest)
            .map_err(|e| DriverError::new(format!("cannot create {}: {e}", dest.display())))?;
        let copied = std::io::copy(&mut source.take(limit + 1), &mut f);
        let out = match copied {
            Ok(n) if n > limit => Err(DriverError::new(format!(
                "{label} is larger than {limit} bytes"
            ))),
            Ok(n) => Ok(n),
            Err(e) => Err(DriverError::new(format!("cannot download {label}: {e}"))),
        };
        if out.is_err() {
            let _ = std::fs::remove_file(&dest);
        }
        out
    })
    .await
    .map_err(|e| DriverError::new(format!("download thread failed: {e}")))?
}

/// A local file removed when dropped (a spooled download).
pub struct TempFile(pub std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Downloads `url` into the new local file `dest` (created exclusively), at most `limit`
/// bytes; returns the size. A partial file is removed on failure.
pub async fn fetch_to(url: &str, dest: &std::path::Path, limit: u64) -> Result<u64> {
    let dl = open(url).await?;
    spool(dl.body, dest, limit, shown_url(url)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_and_show_without_secrets() {
        assert_eq!(
            split("http://127.0.0.1:8080/a/b.iso?x=1#f").unwrap(),
            ("http://127.0.0.1:8080".into(), "/a/b.iso?x=1".into())
        );
        assert_eq!(
            split("https://h").unwrap(),
            ("https://h".into(), "/".into())
        );
        for bad in [
            "ftp://h/x",
            "http:///x",
            "http://u:p@h/x",
            "http://h/a b",
            "h/x",
        ] {
            assert!(split(bad).is_err(), "{bad}");
        }
        assert_eq!(
            shown_url("http://h/x.iso?token=secret"),
            "\"http://h/x.iso\""
        );
        assert!(!shown_url("http://u:pw@h/x").contains("pw"));
        assert_eq!(file_name("http://h/dir/init.sh?x=1"), "init.sh");
        assert!(is_url("https://h/x") && !is_url("/var/tmp/x"));
    }

    #[test]
    fn locations_resolve_against_the_url_they_came_from() {
        let base = "http://h:1/a/b/c.iso?t=1";
        for (loc, want) in [
            ("https://o/x.iso", "https://o/x.iso"),
            ("//o:2/x.iso", "http://o:2/x.iso"),
            ("/x.iso?k=2", "http://h:1/x.iso?k=2"),
            ("d.iso", "http://h:1/a/b/d.iso"),
            (" e.iso ", "http://h:1/a/b/e.iso"),
            ("../d.iso", "http://h:1/a/d.iso"),
            ("./../../../d.iso?x=/..", "http://h:1/d.iso?x=/.."),
            ("/a/./b/..", "http://h:1/a/"),
            ("/go?u=http://x/", "http://h:1/go?u=http://x/"),
            ("ftp://x/y", "ftp://x/y"),
        ] {
            assert_eq!(resolve(base, loc), want, "{loc}");
        }
        assert_eq!(resolve("https://h", "x"), "https://h/x");
        assert_eq!(encode_segment("my disk-flat.vmdk"), "my%20disk-flat.vmdk");
    }

    #[test]
    fn redirects_are_bounded_and_never_downgrade() {
        let found = 302;
        let mut seen = vec!["https://a/x.iso".to_string()];
        let next =
            |cur: &str, loc: Option<&str>, seen: &mut Vec<String>| next_hop(cur, found, loc, seen);
        assert_eq!(
            next("https://a/x.iso", Some("/y.iso?t=secret"), &mut seen).unwrap(),
            "https://a/y.iso?t=secret"
        );
        let e = next(
            "https://a/y.iso",
            Some("http://b/z.iso?t=secret"),
            &mut seen,
        )
        .unwrap_err();
        assert!(
            e.contains("from https to plain http") && !e.contains("secret"),
            "{e}"
        );
        let e = next("https://a/y.iso", Some("/x.iso"), &mut seen).unwrap_err();
        assert!(e.contains("loop"), "{e}");
        assert!(next("https://a/y.iso", None, &mut seen)
            .unwrap_err()
            .contains("Location"));
        let mut chain = vec!["http://a/0".to_string()];
        for i in 1..=MAX_REDIRECTS {
            next(
                &format!("http://a/{}", i - 1),
                Some(&format!("/{i}")),
                &mut chain,
            )
            .unwrap();
        }
        let e = next("http://a/5", Some("/6"), &mut chain).unwrap_err();
        assert!(e.contains("more than 5 redirects"), "{e}");
    }

    #[test]
    fn url_images_are_isos_tarballs_or_descriptors() {
        assert_eq!(url_image("http://h/x.img?a", true).unwrap(), UrlImage::File);
        assert_eq!(
            url_image("http://h/x.TGZ", false).unwrap(),
            UrlImage::Tarball
        );
        assert_eq!(
            url_image("http://h/d.vmdk?t=1", false).unwrap(),
            UrlImage::Vmdk
        );
        for bad in [
            "http://h/x.qcow2",
            "http://h/x.tar.bz2",
            "http://h/x.ova",
            "http://h/x.iso",
        ] {
            assert!(url_image(bad, false).is_err(), "{bad}");
        }
    }
}
