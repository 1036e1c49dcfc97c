//! Where OpenNebula's storage arguments point: `host:path` TM arguments, `/vmfs/volumes/<ds>/...`
//! paths, and the layout of contract §9 (a VM's directory `<sysds>/<vmid>`, its disk
//! `<vmid>/disk.<N>`, an image `<imgds>/<hash>`). Everything is checked before any call is
//! sent: a path is refused unless it lies inside the datastore and directory it claims.

use driver_common::{DriverError, Result};

/// Where ESX hosts mount datastores; OpenNebula's `DATASTORE_LOCATION` and `BASE_PATH`.
pub const VOLUMES: &str = "/vmfs/volumes";

/// Longest path accepted (bytes); OpenNebula's are far shorter.
pub const MAX_PATH: usize = 4096;

/// A file or folder on a datastore: `/vmfs/volumes/<ds>/<rel>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsPath {
    /// The datastore's name (an OpenNebula datastore id on a vmfs set-up).
    pub ds: String,
    /// The path's components below the datastore root (none for the root itself).
    pub rel: Vec<String>,
}

impl DsPath {
    /// The path relative to the datastore root (`42/disk.0`).
    pub fn rel_path(&self) -> String {
        self.rel.join("/")
    }

    /// `[ds] rel`, as the file and disk managers name it.
    pub fn ds_name(&self) -> String {
        format!("[{}] {}", self.ds, self.rel_path())
    }

    /// `/vmfs/volumes/<ds>/<rel>`.
    pub fn vmfs(&self) -> String {
        let mut s = format!("{VOLUMES}/{}", self.ds);
        for c in &self.rel {
            s.push('/');
            s.push_str(c);
        }
        s
    }
}

/// Shortens a value for an error message (arguments can be anything).
pub fn shown(v: &str) -> String {
    let mut s: String = v.chars().take(200).collect();
    if s.len() < v.len() {
        s.push_str("...");
    }
    format!("{s:?}")
}

/// Whether `name` is usable as one path component: not empty, `.` or `..`, no `/`, `\`,
/// `[`, `]`, control characters, and no blanks around it.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.trim() == name
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c == '[' || c == ']' || c.is_control())
}

/// Parses `/vmfs/volumes/<ds>[/<rel>...]`. Repeated and trailing slashes are normalised
/// away (as legacy's scripts did); `.` and `..` components, backslashes, control characters
/// and names with brackets are refused, never resolved.
pub fn parse_vmfs(path: &str) -> Result<DsPath> {
    let bad = |why: &str| {
        DriverError::new(format!(
            "path {} is not a datastore path {VOLUMES}/<datastore>/...: {why}",
            shown(path)
        ))
    };
    if path.len() > MAX_PATH {
        return Err(bad("too long"));
    }
    let rest = path
        .strip_prefix(VOLUMES)
        .filter(|r| r.starts_with('/'))
        .ok_or_else(|| bad(&format!("it is not under {VOLUMES}/")))?;
    let comps: Vec<&str> = rest.split('/').filter(|c| !c.is_empty()).collect();
    let Some((ds, rel)) = comps.split_first() else {
        return Err(bad("no datastore named"));
    };
    for c in &comps {
        if *c == "." || *c == ".." {
            return Err(bad("'.' and '..' are not allowed"));
        }
        if !plain_name(c) {
            return Err(bad(&format!("unusable name {}", shown(c))));
        }
    }
    Ok(DsPath {
        ds: ds.to_string(),
        rel: rel.iter().map(|c| c.to_string()).collect(),
    })
}

/// A TM argument `host:path`: the host is the text before the first colon (contract §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPath {
    /// The host (`fe` for the front-end in source arguments, ignored there).
    pub host: String,
    /// The path.
    pub path: String,
}

/// Splits `host:path`; both parts must be non-empty and the host a plain name.
pub fn parse_host_path(arg: &str) -> Result<HostPath> {
    let (host, path) = arg
        .split_once(':')
        .ok_or_else(|| DriverError::new(format!("argument {} is not <host>:<path>", shown(arg))))?;
    if !plain_name(host) || host.contains(':') || host.contains(' ') {
        return Err(DriverError::new(format!(
            "argument {}: unusable host name {}",
            shown(arg),
            shown(host)
        )));
    }
    if path.is_empty() {
        return Err(DriverError::new(format!(
            "argument {}: empty path",
            shown(arg)
        )));
    }
    Ok(HostPath {
        host: host.to_string(),
        path: path.to_string(),
    })
}

/// Parses a decimal id argument (a VM or datastore id).
pub fn parse_id(what: &str, v: &str) -> Result<u64> {
    if v.is_empty() || v.len() > 19 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DriverError::new(format!(
            "{what} {} is not a number",
            shown(v)
        )));
    }
    v.parse()
        .map_err(|_| DriverError::new(format!("{what} {} is out of range", shown(v))))
}

/// A VM's directory on the system datastore, or one of its disks: `<sysds>/<vmid>` or
/// `<sysds>/<vmid>/disk.<N>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmPath {
    /// The datastore holding the VM's directory.
    pub ds: String,
    /// The VM id (the directory's name).
    pub vmid: u64,
    /// The disk number, for `disk.<N>`.
    pub disk: Option<u32>,
}

impl VmPath {
    /// The VM directory relative to the datastore root (`42`).
    pub fn vm_dir(&self) -> String {
        self.vmid.to_string()
    }

    /// `42/disk.3` (the disk's folder), for a disk path.
    pub fn disk_dir(&self) -> Option<String> {
        self.disk.map(|n| format!("{}/disk.{n}", self.vmid))
    }

    /// `/vmfs/volumes/<ds>/<vmid>[/disk.<N>]`, for messages.
    pub fn vmfs(&self) -> String {
        match self.disk {
            Some(n) => format!("{VOLUMES}/{}/{}/disk.{n}", self.ds, self.vmid),
            None => format!("{VOLUMES}/{}/{}", self.ds, self.vmid),
        }
    }
}

/// Parses `disk.<N>` (decimal, at most 9 digits).
pub fn parse_disk_name(name: &str) -> Option<u32> {
    name.strip_prefix("disk.")
        .filter(|n| !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
}

/// Parses a VM path that must belong to VM `vmid`: `/vmfs/volumes/<ds>/<vmid>` (when
/// `allow_dir`) or `/vmfs/volumes/<ds>/<vmid>/disk.<N>` (when `allow_disk`).
pub fn parse_vm_path(path: &str, vmid: u64, allow_dir: bool, allow_disk: bool) -> Result<VmPath> {
    let p = parse_vmfs(path)?;
    let shape = match (allow_dir, allow_disk) {
        (true, true) => format!("{VOLUMES}/<datastore>/{vmid} or .../{vmid}/disk.<N>"),
        (true, false) => format!("{VOLUMES}/<datastore>/{vmid}"),
        _ => format!("{VOLUMES}/<datastore>/{vmid}/disk.<N>"),
    };
    let bad = |why: &str| DriverError::new(format!("path {} is not {shape}: {why}", shown(path)));
    let Some(dir) = p.rel.first() else {
        return Err(bad("it names a whole datastore"));
    };
    if *dir != vmid.to_string() {
        return Err(bad(&format!("the VM directory is not VM {vmid}'s")));
    }
    match p.rel.as_slice() {
        [_] if allow_dir => Ok(VmPath {
            ds: p.ds,
            vmid,
            disk: None,
        }),
        [_, disk] if allow_disk => match parse_disk_name(disk) {
            Some(n) => Ok(VmPath {
                ds: p.ds,
                vmid,
                disk: Some(n),
            }),
            None => Err(bad("the last component is not disk.<N>")),
        },
        _ => Err(bad("wrong number of path components")),
    }
}

/// An image of an image datastore: `/vmfs/volumes/<imgds>/<name>` (a folder holding
/// `disk.vmdk`, or an ISO file), directly below the datastore root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePath {
    /// The image datastore.
    pub ds: String,
    /// The image's name (legacy: a 32-hex hash).
    pub name: String,
}

impl ImagePath {
    /// `/vmfs/volumes/<ds>/<name>`.
    pub fn vmfs(&self) -> String {
        format!("{VOLUMES}/{}/{}", self.ds, self.name)
    }
}

/// Parses an image `SOURCE`: `/vmfs/volumes/<ds>/<name>`, nothing more or less.
pub fn parse_image(path: &str) -> Result<ImagePath> {
    let p = parse_vmfs(path)?;
    match p.rel.as_slice() {
        [name] => Ok(ImagePath {
            ds: p.ds,
            name: name.clone(),
        }),
        _ => Err(DriverError::new(format!(
            "image path {} is not {VOLUMES}/<datastore>/<image>: an image lies directly in its datastore",
            shown(path)
        ))),
    }
}

/// Checks that `ds` (a datastore named by a path) is the datastore `id` the action was
/// given.
pub fn check_same_ds(what: &str, ds: &str, id: u64) -> Result<()> {
    if ds != id.to_string() {
        return Err(DriverError::new(format!(
            "{what} is on datastore {}, not on datastore {id} named by the action",
            shown(ds)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmfs_paths_normalise_and_refuse_escapes() {
        let p = parse_vmfs("/vmfs/volumes/0//42/disk.1/").unwrap();
        assert_eq!(p.ds, "0");
        assert_eq!(p.rel_path(), "42/disk.1");
        assert_eq!(p.ds_name(), "[0] 42/disk.1");
        assert_eq!(p.vmfs(), "/vmfs/volumes/0/42/disk.1");
        for bad in [
            "/vmfs/volumes",
            "/vmfs/volumes/",
            "/vmfs/volumesX/0/1",
            "/var/lib/one/0/1",
            "vmfs/volumes/0/1",
            "/vmfs/volumes/0/../1/x",
            "/vmfs/volumes/../etc",
            "/vmfs/volumes/0/./x",
            "/vmfs/volumes/[1] x/y",
            "/vmfs/volumes/0/a\\..\\b",
            "/vmfs/volumes/0/a\nb",
        ] {
            assert!(parse_vmfs(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn host_paths_split_at_the_first_colon() {
        let hp = parse_host_path("esx1:/vmfs/volumes/0/7/disk.0").unwrap();
        assert_eq!(hp.host, "esx1");
        assert_eq!(hp.path, "/vmfs/volumes/0/7/disk.0");
        assert_eq!(parse_host_path("fe:/a:b").unwrap().path, "/a:b");
        for bad in ["/vmfs/volumes/0/7", ":/x", "esx1:", "a b:/x", "../h:/x"] {
            assert!(parse_host_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn vm_paths_belong_to_their_vm() {
        let d = parse_vm_path("/vmfs/volumes/0/42/disk.3", 42, true, true).unwrap();
        assert_eq!(d.disk, Some(3));
        assert_eq!(d.disk_dir().unwrap(), "42/disk.3");
        let v = parse_vm_path("/vmfs/volumes/0/42", 42, true, true).unwrap();
        assert_eq!((v.disk, v.vm_dir()), (None, "42".to_string()));
        assert!(parse_vm_path("/vmfs/volumes/0/43/disk.3", 42, true, true).is_err());
        assert!(parse_vm_path("/vmfs/volumes/0/42", 42, false, true).is_err());
        assert!(parse_vm_path("/vmfs/volumes/0/42/disk.3", 42, true, false).is_err());
        assert!(parse_vm_path("/vmfs/volumes/0/42/disk.x", 42, true, true).is_err());
        assert!(parse_vm_path("/vmfs/volumes/0/42/disk.1/x", 42, true, true).is_err());
        assert!(parse_vm_path("/vmfs/volumes/0", 42, true, true).is_err());
    }

    #[test]
    fn images_lie_directly_in_their_datastore() {
        let i = parse_image("/vmfs/volumes/1/abc").unwrap();
        assert_eq!((i.ds.as_str(), i.name.as_str()), ("1", "abc"));
        assert!(parse_image("/vmfs/volumes/1").is_err());
        assert!(parse_image("/vmfs/volumes/1/a/b").is_err());
        assert!(check_same_ds("image", "1", 1).is_ok());
        assert!(check_same_ds("image", "1", 2).is_err());
        assert!(parse_id("vmid", "12").is_ok());
        for bad in ["", "-1", "1a", "99999999999999999999"] {
            assert!(parse_id("vmid", bad).is_err(), "{bad}");
        }
    }
}
