//! VMDK descriptors of images being registered: which `.vmdk` of a folder is the descriptor,
//! its extents, whether ESX can run it as it is, and the copy's descriptor renamed to
//! `disk.vmdk` (the user's folder is never touched: contract §12.14).

use driver_common::{DriverError, Result};

use super::location::{plain_name, shown};

/// Largest descriptor read (bytes); real ones are well under 2 KiB.
pub const MAX_DESCRIPTOR: u64 = 64 * 1024;

/// Whether `name` is an extent or side file rather than a descriptor: `-flat`, `-delta`,
/// `-ctk` or `-sNNN` before `.vmdk`.
pub fn is_extent_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".vmdk") else {
        return false;
    };
    if stem.ends_with("-flat") || stem.ends_with("-delta") || stem.ends_with("-ctk") {
        return true;
    }
    match stem.rsplit_once("-s") {
        Some((_, n)) => n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

/// The descriptor among the `.vmdk` names of a folder: `disk.vmdk` when present, else the
/// only name that is not an extent.
pub fn pick_descriptor(names: &[String]) -> Result<String> {
    if names.iter().any(|n| n == "disk.vmdk") {
        return Ok("disk.vmdk".into());
    }
    let cands: Vec<&String> = names
        .iter()
        .filter(|n| n.ends_with(".vmdk") && !is_extent_name(n))
        .collect();
    match cands.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(DriverError::new(
            "the image folder holds no VMDK descriptor (a .vmdk that is not -flat, -delta or -sNNN)",
        )),
        many => Err(DriverError::new(format!(
            "the image folder holds several VMDK descriptors ({}): keep one disk per image",
            many.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// A parsed text descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// `createType`.
    pub create_type: String,
    /// The extent file names, in order.
    pub extents: Vec<String>,
    lines: Vec<String>,
}

/// `createType`s ESX cannot run as they are: hosted (Workstation) sparse and flat disks and
/// the streamOptimized disks of OVAs.
pub const NOT_RUNNABLE: [&str; 5] = [
    "streamOptimized",
    "monolithicSparse",
    "twoGbMaxExtentSparse",
    "twoGbMaxExtentFlat",
    "monolithicFlat",
];

/// The quoted file name of an extent line (`RW 2048 VMFS "x-flat.vmdk"`), if `line` is one.
fn extent_file(line: &str) -> Option<(usize, usize)> {
    let t = line.trim_start();
    if !(t.starts_with("RW ") || t.starts_with("RDONLY ") || t.starts_with("NOACCESS ")) {
        return None;
    }
    let open = line.find('"')?;
    let close = open + 1 + line[open + 1..].find('"')?;
    Some((open + 1, close))
}

impl Descriptor {
    /// Reads and parses the descriptor `source` (named `label` in messages), at most
    /// [`MAX_DESCRIPTOR`] bytes: anything larger is a single-file (monolithic) disk, refused.
    pub fn read(source: impl std::io::Read, label: &str) -> Result<Descriptor> {
        use std::io::Read as _;
        let mut bytes = Vec::new();
        source
            .take(MAX_DESCRIPTOR + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| DriverError::new(format!("cannot read {label}: {e}")))?;
        if bytes.len() as u64 > MAX_DESCRIPTOR {
            return Err(DriverError::new(format!(
                "{label} is larger than a VMDK descriptor: a monolithic disk ESX cannot run as it is (convert it with vmkfstools -i first)"
            )));
        }
        Descriptor::parse(&bytes).map_err(|e| e.context(format!("image {label}")))
    }

    /// Parses `bytes` (a text descriptor; a binary sparse header is refused).
    pub fn parse(bytes: &[u8]) -> Result<Descriptor> {
        if bytes.starts_with(b"KDMV") || bytes.starts_with(b"COWD") {
            return Err(DriverError::new(
                "the disk is a hosted sparse VMDK (binary, Workstation/OVA format), which ESX cannot run as it is: convert it first (e.g. vmkfstools -i, or qemu-img convert -O vmdk -o subformat=monolithicFlat, then register the folder)",
            ));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| DriverError::new("the VMDK descriptor is not text"))?;
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut create_type = String::new();
        let mut extents = Vec::new();
        for l in &lines {
            let t = l.trim();
            if let Some(v) = t.strip_prefix("createType") {
                create_type = v
                    .trim_start_matches([' ', '='])
                    .trim()
                    .trim_matches('"')
                    .to_string();
            } else if let Some((a, b)) = extent_file(l) {
                let f = &l[a..b];
                if !plain_name(f) {
                    return Err(DriverError::new(format!(
                        "the VMDK descriptor names an extent outside its folder: {}",
                        shown(f)
                    )));
                }
                extents.push(f.to_string());
            }
        }
        if create_type.is_empty() {
            return Err(DriverError::new("the VMDK descriptor has no createType"));
        }
        if NOT_RUNNABLE.contains(&create_type.as_str()) {
            return Err(DriverError::new(format!(
                "the disk's format {create_type} is one ESX cannot run as it is (hosted or streamOptimized VMDK): convert it to a VMFS disk first (vmkfstools -i)"
            )));
        }
        if extents.is_empty() {
            return Err(DriverError::new("the VMDK descriptor names no extent"));
        }
        Ok(Descriptor {
            create_type,
            extents,
            lines,
        })
    }

    /// The copy's layout: a single extent is renamed `disk-flat.vmdk` (what `vmkfstools`
    /// makes, and what vcsim expects); several keep their names. Returns the new descriptor
    /// text and `(local name, uploaded name)` for each extent.
    pub fn for_copy(&self) -> (String, Vec<(String, String)>) {
        let single = self.extents.len() == 1;
        let mut out = String::new();
        for l in &self.lines {
            match extent_file(l) {
                Some((a, b)) if single => {
                    out.push_str(&l[..a]);
                    out.push_str("disk-flat.vmdk");
                    out.push_str(&l[b..]);
                }
                _ => out.push_str(l),
            }
            out.push('\n');
        }
        let map = self
            .extents
            .iter()
            .map(|e| {
                let to = if single {
                    "disk-flat.vmdk".to_string()
                } else {
                    e.clone()
                };
                (e.clone(), to)
            })
            .collect();
        (out, map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "# Disk DescriptorFile\nversion=1\ncreateType=\"vmfs\"\n\n# Extent description\nRW 2048 VMFS \"my disk-flat.vmdk\"\n\nddb.adapterType = \"lsilogic\"\n";

    #[test]
    fn picks_the_descriptor() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            pick_descriptor(&v(&["a.vmdk", "a-flat.vmdk"])).unwrap(),
            "a.vmdk"
        );
        assert_eq!(
            pick_descriptor(&v(&["a.vmdk", "a-s001.vmdk", "a-s002.vmdk"])).unwrap(),
            "a.vmdk"
        );
        assert_eq!(
            pick_descriptor(&v(&["disk.vmdk", "x.vmdk"])).unwrap(),
            "disk.vmdk"
        );
        assert!(pick_descriptor(&v(&["a-flat.vmdk"])).is_err());
        assert!(pick_descriptor(&v(&["a.vmdk", "b.vmdk"])).is_err());
    }

    #[test]
    fn renames_a_single_extent_and_refuses_what_esx_cannot_run() {
        let d = Descriptor::parse(D.as_bytes()).unwrap();
        assert_eq!(d.create_type, "vmfs");
        assert_eq!(d.extents, ["my disk-flat.vmdk"]);
        let (text, map) = d.for_copy();
        assert!(text.contains("RW 2048 VMFS \"disk-flat.vmdk\""), "{text}");
        assert!(text.contains("ddb.adapterType"));
        assert_eq!(
            map,
            [(
                "my disk-flat.vmdk".to_string(),
                "disk-flat.vmdk".to_string()
            )]
        );
        for bad in [
            D.replace("vmfs\"", "streamOptimized\""),
            D.replace("vmfs\"", "monolithicSparse\""),
            D.replace("my disk-flat.vmdk", "../0/x-flat.vmdk"),
            D.replace("createType=\"vmfs\"", ""),
            "KDMV binary".to_string(),
        ] {
            assert!(Descriptor::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
