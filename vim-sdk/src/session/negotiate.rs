//! API version negotiation: `/sdk/vimServiceVersions.xml`, falling back to
//! `ServiceContent.about.apiVersion`.

use http::StatusCode;

use crate::client::{version_key, Client, DEFAULT_API_VERSION};
use crate::error::{Error, ErrorKind};
use crate::transport::TransportError;
use crate::types::ServiceContent;
use crate::xml::{DecodeError, XmlReader};

/// The namespace whose versions are negotiated.
pub const VIM25: &str = "urn:vim25";

/// Where the negotiated version came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSource {
    /// The server's `vimServiceVersions.xml`.
    ServiceVersionsFile,
    /// `ServiceContent.about.apiVersion` (the file was missing or unreadable).
    AboutInfo,
    /// The session cache.
    Cache,
    /// [`ConnectOptions::api_version`](super::ConnectOptions::api_version).
    Forced,
}

/// The outcome of [`negotiate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The version spoken (`SOAPAction: urn:vim25/<version>`).
    pub version: String,
    /// Where it came from.
    pub source: VersionSource,
    /// The `urn:vim25` versions the server listed, newest first (empty unless read from the
    /// file).
    pub server_versions: Vec<String>,
}

/// The `urn:vim25` versions of a `vimServiceVersions.xml` document: the current `version`
/// first, then the `priorVersions` in document order.
pub fn parse_service_versions(xml: &[u8]) -> Result<Vec<String>, DecodeError> {
    let mut r = XmlReader::from_slice(xml);
    r.enter_root()?;
    let mut found = Vec::new();
    while r.enter_child()? {
        if r.current_name() != b"namespace" {
            r.skip()?;
            continue;
        }
        let mut name = String::new();
        let mut versions = Vec::new();
        while r.enter_child()? {
            let element = r.current_name().to_vec();
            match element.as_slice() {
                b"name" => name = r.read_text()?.trim().to_string(),
                b"version" => versions.insert(0, r.read_text()?.trim().to_string()),
                b"priorVersions" => {
                    while r.enter_child()? {
                        if r.current_name() == b"version" {
                            versions.push(r.read_text()?.trim().to_string());
                        } else {
                            r.skip()?;
                        }
                    }
                }
                _ => r.skip()?,
            }
        }
        if name == VIM25 {
            found = versions;
        }
    }
    found.retain(|v| !v.is_empty());
    Ok(found)
}

/// The highest of `server` versions that is not newer than `ours`; `None` if all are newer
/// (or there are none).
pub fn pick_version(server: &[String], ours: &str) -> Option<String> {
    let ours = version_key(ours);
    server
        .iter()
        .filter(|v| version_key(v) <= ours)
        .max_by_key(|v| version_key(v))
        .cloned()
}

/// The older of `server` and `ours`.
pub fn min_version(server: &str, ours: &str) -> String {
    if version_key(server) < version_key(ours) {
        server.to_string()
    } else {
        ours.to_string()
    }
}

/// The path of `vimServiceVersions.xml` next to the client's SOAP endpoint.
fn versions_path(client: &Client) -> String {
    let base = &client.transport().config().base_url;
    let path = url::Url::parse(base)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_else(|_| "/sdk".into());
    format!("{path}/vimServiceVersions.xml")
}

/// Fetches the server's `urn:vim25` versions; `Ok(None)` when the file is missing (404) or
/// unreadable.
pub async fn server_versions(client: &Client) -> Result<Option<Vec<String>>, Error> {
    let path = versions_path(client);
    let err = |e| Error::new("GET", Some(path.clone()), ErrorKind::Transport(e));
    let body = match client.transport().get(&path, None).await {
        Ok((_, body)) => body.collect(1 << 20).await.map_err(err)?,
        Err(TransportError::Status { status, .. }) if status == StatusCode::NOT_FOUND => {
            tracing::debug!(%path, "no vimServiceVersions.xml (404)");
            return Ok(None);
        }
        Err(e) => return Err(err(e)),
    };
    match parse_service_versions(&body) {
        Ok(v) if !v.is_empty() => Ok(Some(v)),
        Ok(_) => {
            tracing::warn!(%path, "vimServiceVersions.xml lists no urn:vim25 version");
            Ok(None)
        }
        Err(e) => {
            tracing::warn!(%path, error = %e, "cannot parse vimServiceVersions.xml");
            Ok(None)
        }
    }
}

/// Negotiates the version with the server, sets it on `client` and returns it with the
/// `ServiceContent` when it had to be retrieved for the fallback.
pub(crate) async fn negotiate_inner(
    client: &Client,
) -> Result<(Negotiated, Option<ServiceContent>), Error> {
    let ours = DEFAULT_API_VERSION;
    let (negotiated, content) = match server_versions(client).await? {
        Some(list) => {
            let version = pick_version(&list, ours).unwrap_or_else(|| ours.to_string());
            let n = Negotiated {
                version,
                source: VersionSource::ServiceVersionsFile,
                server_versions: list,
            };
            (n, None)
        }
        None => {
            let content = client
                .service_instance()
                .retrieve_service_content(client)
                .await?;
            let n = Negotiated {
                version: min_version(&content.about.api_version, ours),
                source: VersionSource::AboutInfo,
                server_versions: Vec::new(),
            };
            (n, Some(content))
        }
    };
    client.set_api_version(&negotiated.version);
    tracing::debug!(version = %negotiated.version, source = ?negotiated.source, "API version negotiated");
    Ok((negotiated, content))
}

/// Negotiates the API version: the highest `urn:vim25` version listed in the server's
/// `vimServiceVersions.xml` that this client knows ([`DEFAULT_API_VERSION`]), else the older of
/// `about.apiVersion` and ours when the file is missing. Sets it on `client` (which then leaves
/// out fields the server cannot know) and returns it.
pub async fn negotiate(client: &Client) -> Result<Negotiated, Error> {
    negotiate_inner(client).await.map(|(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VCENTER: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<namespaces version="1.0">
 <namespace>
  <name>urn:vim25</name>
  <version>9.0.0.0</version>
  <priorVersions>
   <version>8.0.3.0</version>
   <version>8.0.2.0</version>
   <version>7.0</version>
  </priorVersions>
 </namespace>
 <namespace>
  <name>urn:vim2</name>
  <version>2.0</version>
 </namespace>
</namespaces>"#;

    #[test]
    fn parses_the_file() {
        let v = parse_service_versions(VCENTER.as_bytes()).unwrap();
        assert_eq!(v, ["9.0.0.0", "8.0.3.0", "8.0.2.0", "7.0"]);
        assert!(parse_service_versions(b"<namespaces/>").unwrap().is_empty());
        assert!(parse_service_versions(b"<namespaces><namespace>").is_err());
    }

    #[test]
    fn picks_the_highest_known() {
        let v = parse_service_versions(VCENTER.as_bytes()).unwrap();
        assert_eq!(pick_version(&v, "8.0.2.0").as_deref(), Some("8.0.2.0"));
        let sim: Vec<String> = ["6.5", "6.0", "5.5"].map(String::from).into();
        assert_eq!(pick_version(&sim, "8.0.2.0").as_deref(), Some("6.5"));
        assert_eq!(pick_version(&sim, "6.0").as_deref(), Some("6.0"));
        assert_eq!(pick_version(&sim, "5.1"), None);
        assert_eq!(min_version("6.7.3", "8.0.2.0"), "6.7.3");
        assert_eq!(min_version("9.0.0.0", "8.0.2.0"), "8.0.2.0");
    }
}
