//! Naming a datastore file: `[ds] dir/file` paths and the HTTP `/folder` URL.

use url::Url;

/// A datastore as the HTTP file interface names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatastoreLocation {
    /// The datacenter's inventory path (`DC0`, `folder/DC1`, or `ha-datacenter` on ESX).
    pub datacenter_path: String,
    /// The datastore's name (`LocalDS_0`).
    pub datastore: String,
}

impl DatastoreLocation {
    /// The datastore `datastore` of the datacenter at `datacenter_path`.
    pub fn new(datacenter_path: impl Into<String>, datastore: impl Into<String>) -> Self {
        DatastoreLocation {
            datacenter_path: datacenter_path.into(),
            datastore: datastore.into(),
        }
    }

    /// `[datastore] path`, the name the file manager and VM configurations use.
    pub fn datastore_path(&self, path: &str) -> String {
        let path = path.trim_start_matches('/');
        format!("[{}] {}", self.datastore, path)
    }

    /// `/folder/<path>?dcPath=<dc>&dsName=<ds>`, each path segment and query value
    /// percent-encoded (spaces, `#`, `?`, `%` and non-ASCII in names are safe). Empty
    /// segments and `.`/`..` are refused, so a name cannot climb out of the datastore.
    pub fn url_path(&self, path: &str) -> Result<String, String> {
        let mut url = Url::parse("http://localhost/folder").map_err(|e| e.to_string())?;
        {
            let mut segments = url
                .path_segments_mut()
                .map_err(|_| "cannot build the URL path".to_string())?;
            for segment in path.trim_start_matches('/').split('/') {
                if segment.is_empty() || segment == "." || segment == ".." {
                    return Err(format!("invalid datastore file path {path:?}"));
                }
                segments.push(segment);
            }
        }
        url.query_pairs_mut()
            .append_pair("dcPath", &self.datacenter_path)
            .append_pair("dsName", &self.datastore);
        Ok(url[url::Position::BeforePath..].to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_path_encodes_segments_and_query() {
        let loc = DatastoreLocation::new("My DC/sub", "ds #1");
        assert_eq!(
            loc.url_path("dir a/f?x%.iso").unwrap(),
            "/folder/dir%20a/f%3Fx%25.iso?dcPath=My+DC%2Fsub&dsName=ds+%231"
        );
        assert_eq!(loc.datastore_path("/a/b.vmdk"), "[ds #1] a/b.vmdk");
    }

    #[test]
    fn url_path_refuses_climbing_and_empty_segments() {
        let loc = DatastoreLocation::new("dc", "ds");
        for bad in ["../etc/passwd", "a//b", "a/./b", "", "a/"] {
            assert!(loc.url_path(bad).is_err(), "{bad}");
        }
    }
}
