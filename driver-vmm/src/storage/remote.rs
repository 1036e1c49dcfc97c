//! Images and context files at http(s) URLs (datastore `cp` and `stat`, TM `context`), read
//! as they stream through vim-sdk's HTTP transport: certificates verified against the
//! system's roots for https, no cookie or credential sent, redirects not followed (a 3xx is
//! an error naming the status). Messages name the URL without its query, which may carry a
//! token.

use std::io::Read as _;

use driver_common::{DriverError, Result};
use vim_sdk::transport::{BlockingBodyReader, Transport, TransportConfig};

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

/// An open download: the size the server announced and the body as a blocking reader (read
/// it on a blocking thread, see [`BlockingBodyReader`]).
pub struct Download {
    /// `Content-Length`, when the server sent one for a plain (not gzip-encoded) body.
    pub length: Option<u64>,
    /// The body.
    pub body: BlockingBodyReader,
}

/// GETs `url`; a status other than 2xx is an error.
pub async fn open(url: &str) -> Result<Download> {
    let (origin, path) = split(url)?;
    let what = || format!("cannot download {}", shown_url(url));
    let transport = Transport::new(TransportConfig::new(origin).allow_plain_http(true))
        .map_err(|e| DriverError::new(format!("{}: {e}", what())))?;
    let (_, body) = transport
        .get(&path, None)
        .await
        .map_err(|e| DriverError::new(format!("{}: {e}", what())))?;
    let length = if body.is_gzip() {
        None
    } else {
        body.content_length()
    };
    Ok(Download {
        length,
        body: body.into_blocking_reader(),
    })
}

/// Downloads `url` into the new local file `dest` (created exclusively), at most `limit`
/// bytes; returns the size. A partial file is removed on failure.
pub async fn fetch_to(url: &str, dest: &std::path::Path, limit: u64) -> Result<u64> {
    let dl = open(url).await?;
    let shown = shown_url(url);
    let dest = dest.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<u64> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&dest)
            .map_err(|e| DriverError::new(format!("cannot create {}: {e}", dest.display())))?;
        let copied = std::io::copy(&mut dl.body.take(limit + 1), &mut f);
        let out = match copied {
            Ok(n) if n > limit => Err(DriverError::new(format!(
                "{shown} is larger than {limit} bytes"
            ))),
            Ok(n) => Ok(n),
            Err(e) => Err(DriverError::new(format!("cannot download {shown}: {e}"))),
        };
        if out.is_err() {
            let _ = std::fs::remove_file(&dest);
        }
        out
    })
    .await
    .map_err(|e| DriverError::new(format!("download thread failed: {e}")))?
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
}
