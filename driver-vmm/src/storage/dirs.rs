//! `RESTRICTED_DIRS` / `SAFE_DIRS` (contract §8): which front-end paths an image may be
//! registered from. As in legacy's `libfs.sh`, OpenNebula's own var and etc directories and
//! the OpenNebula user's home are always restricted, plus the datastore's `RESTRICTED_DIRS`;
//! a path inside one of the `SAFE_DIRS` is allowed anyway. Paths are compared after resolving
//! symlinks and `..`, so a link or `a/../` cannot slip past the check.

use std::path::{Path, PathBuf};

use driver_common::{DriverError, Result};

use super::location::shown;

/// The directories always restricted: `$ONE_LOCATION/var` and `$ONE_LOCATION/etc`, or
/// `/var/lib/one` and `/etc/one` on a system-wide install, and `$HOME`.
pub fn default_restricted() -> Vec<PathBuf> {
    let mut v = match std::env::var_os("ONE_LOCATION").filter(|l| !l.is_empty()) {
        Some(loc) => {
            let loc = PathBuf::from(loc);
            vec![loc.join("var"), loc.join("etc")]
        }
        None => vec![PathBuf::from("/var/lib/one"), PathBuf::from("/etc/one")],
    };
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        v.push(PathBuf::from(home));
    }
    v
}

/// `p` resolved (symlinks, `..`) when it exists, else as given.
fn resolved(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Resolves the local `path` and refuses it when it lies in a restricted directory and in
/// no safe one. A missing path is an error naming it.
pub fn check_local_path(path: &str, restricted: &[String], safe: &[String]) -> Result<PathBuf> {
    if path.is_empty() || !path.starts_with('/') || path.chars().any(char::is_control) {
        return Err(DriverError::new(format!(
            "image path {} is not an absolute path on the front-end",
            shown(path)
        )));
    }
    let real = std::fs::canonicalize(path).map_err(|e| {
        DriverError::new(format!("image path {} is not readable: {e}", shown(path)))
    })?;
    let mut dirs: Vec<PathBuf> = default_restricted();
    dirs.extend(restricted.iter().map(PathBuf::from));
    let inside = |list: &[PathBuf]| {
        list.iter()
            .map(|d| resolved(d))
            .find(|d| real.starts_with(d))
    };
    if let Some(dir) = inside(&dirs) {
        let safe: Vec<PathBuf> = safe.iter().map(PathBuf::from).collect();
        if inside(&safe).is_none() {
            return Err(DriverError::new(format!(
                "image path {} is inside the restricted directory {} (RESTRICTED_DIRS; list it in the datastore's SAFE_DIRS to allow it)",
                shown(path),
                dir.display()
            )));
        }
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_unless_safe() {
        let root = std::env::temp_dir().join(format!("dirs-test-{}", std::process::id()));
        let secret = root.join("secret");
        let ok = secret.join("ok");
        std::fs::create_dir_all(&ok).unwrap();
        std::fs::write(secret.join("f"), b"x").unwrap();
        std::fs::write(ok.join("g"), b"x").unwrap();
        let link = root.join("link");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(secret.join("f"), &link).unwrap();
        let r = vec![secret.display().to_string()];
        let s = vec![ok.display().to_string()];
        let f = secret.join("f").display().to_string();
        assert!(check_local_path(&f, &r, &s).is_err());
        // Through a symlink or `..`, still refused.
        assert!(check_local_path(&link.display().to_string(), &r, &s).is_err());
        let dotted = format!("{}/../secret/f", ok.display());
        assert!(check_local_path(&dotted, &r, &s).is_err());
        assert!(check_local_path(&ok.join("g").display().to_string(), &r, &s).is_ok());
        assert!(check_local_path(&f, &[], &[]).is_ok());
        assert!(check_local_path("relative", &[], &[]).is_err());
        assert!(check_local_path(&root.join("missing").display().to_string(), &[], &[]).is_err());
        let _ = std::fs::remove_dir_all(&root);
    }
}
