//! Naming a datastore file: `[ds] dir/file` paths and the HTTP `/folder` URL.

use url::Url;

pub use crate::error::{DatastorePathError, PathProblem};

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

    /// `[datastore] path`, the name the file manager and VM configurations use, for a file
    /// or folder `path` relative to the datastore root (see [`check_relative_path`] for what
    /// is refused: the root itself, absolute paths, `..`, control characters...).
    pub fn datastore_path(&self, path: &str) -> Result<String, DatastorePathError> {
        check_relative_path(path)?;
        Ok(format!("[{}] {}", self.datastore, path))
    }

    /// `/folder/<path>?dcPath=<dc>&dsName=<ds>`, each path segment and query value
    /// percent-encoded (spaces, `#`, `?`, `%` and non-ASCII in names are safe). `path` is
    /// checked as for [`datastore_path`](Self::datastore_path), so a name cannot climb out
    /// of the datastore.
    pub fn url_path(&self, path: &str) -> Result<String, DatastorePathError> {
        check_relative_path(path)?;
        let mut url = Url::parse("http://localhost/folder").expect("a constant, valid URL");
        url.path_segments_mut()
            .expect("an http URL has path segments")
            .extend(path.split('/'));
        url.query_pairs_mut()
            .append_pair("dcPath", &self.datacenter_path)
            .append_pair("dsName", &self.datastore);
        Ok(url[url::Position::BeforePath..].to_string())
    }
}

/// Checks a caller's path of a file or folder relative to a datastore's root: `/`-separated
/// names, none of them empty, `.` or `..`. Refused with the reason: the empty path (the
/// datastore's root: deleting it would delete every file), a leading `/` (absolute) or `[`
/// (another datastore's name), empty, `.` and `..` components (climbing out: servers join
/// the path onto the datastore's folder unchecked), backslashes (a separator on some
/// servers), and NUL or other control characters.
pub fn check_relative_path(path: &str) -> Result<(), DatastorePathError> {
    let problem = if path.is_empty() {
        Some(PathProblem::Root)
    } else if path.starts_with('/') {
        Some(PathProblem::Absolute)
    } else if path.starts_with('[') {
        Some(PathProblem::OtherDatastore)
    } else if path.chars().any(char::is_control) {
        Some(PathProblem::ControlCharacter)
    } else if path.contains('\\') {
        Some(PathProblem::Backslash)
    } else {
        path.split('/').find_map(|c| match c {
            "" => Some(PathProblem::EmptyComponent),
            "." | ".." => Some(PathProblem::DotComponent),
            _ => None,
        })
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(DatastorePathError {
            path: path.escape_debug().to_string(),
            problem,
        }),
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
        assert_eq!(loc.datastore_path("a/b.vmdk").unwrap(), "[ds #1] a/b.vmdk");
    }

    #[test]
    fn both_names_refuse_the_root_climbing_and_odd_characters() {
        use PathProblem::*;
        let loc = DatastoreLocation::new("dc", "ds");
        for (bad, want) in [
            ("", Root),
            ("/", Absolute),
            ("/etc/passwd", Absolute),
            ("[other] x", OtherDatastore),
            ("../etc/passwd", DotComponent),
            ("a/../../b", DotComponent),
            ("..", DotComponent),
            ("a/./b", DotComponent),
            ("a//b", EmptyComponent),
            ("a/", EmptyComponent),
            ("a\\..\\b", Backslash),
            ("a\0b", ControlCharacter),
            ("a\nb", ControlCharacter),
            ("a\u{7f}", ControlCharacter),
        ] {
            let e = loc.datastore_path(bad).unwrap_err();
            assert_eq!(e.problem, want, "{bad:?}");
            assert_eq!(loc.url_path(bad).unwrap_err(), e, "{bad:?}");
        }
        // Dots inside names, spaces and non-ASCII are names like any other.
        for good in ["a..b/.hidden", "vm 1/disk.vmdk", "caf\u{e9}/x", "a/b/c"] {
            assert_eq!(loc.datastore_path(good).unwrap(), format!("[ds] {good}"));
            assert!(loc.url_path(good).is_ok(), "{good}");
        }
    }
}
