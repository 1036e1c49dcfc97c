//! A small ISO 9660 writer for the CONTEXT CD-ROM: one root directory of plain files,
//! volume label `CONTEXT`, with a Joliet tree so guests see the files' own names (the ISO
//! 9660 tree carries upper-case 8.3-style names for systems without Joliet). What legacy
//! made with `genisoimage -V CONTEXT -J -R`, without running a tool.
//!
//! Layout (2048-byte sectors): 0–15 system area, 16 primary volume descriptor, 17 Joliet
//! supplementary descriptor, 18 terminator, 19–22 path tables, then the two root directories
//! and the files' data, each starting on a sector.

use std::io::{Read, Write};
use std::path::PathBuf;

use driver_common::datetime::{Civil, Stamp};
use driver_common::{DriverError, Result};

/// Sector size.
pub const SECTOR: usize = 2048;
/// Most files on one CONTEXT ISO.
pub const MAX_FILES: usize = 256;
/// Longest Joliet name (UCS-2 characters).
pub const MAX_NAME: usize = 64;

/// A file to put on the ISO: its name there and where its content is.
#[derive(Debug, Clone)]
pub struct IsoFile {
    /// The name in the ISO (the Joliet name; the ISO 9660 name is derived).
    pub name: String,
    /// The local file.
    pub source: PathBuf,
    /// Its size in bytes.
    pub size: u64,
}

fn both16(v: u16) -> [u8; 4] {
    let (l, b) = (v.to_le_bytes(), v.to_be_bytes());
    [l[0], l[1], b[0], b[1]]
}

fn both32(v: u32) -> [u8; 8] {
    let (l, b) = (v.to_le_bytes(), v.to_be_bytes());
    [l[0], l[1], l[2], l[3], b[0], b[1], b[2], b[3]]
}

fn sectors(bytes: u64) -> u64 {
    bytes.div_ceil(SECTOR as u64)
}

/// The ISO 9660 (level 2) name of `name`: upper case, `[A-Z0-9_]` and one dot, `;1`.
fn iso_name(name: &str, taken: &mut Vec<String>) -> Vec<u8> {
    let upper: String = name
        .chars()
        .map(|c| match c.to_ascii_uppercase() {
            c @ ('A'..='Z' | '0'..='9' | '_') => c,
            _ => {
                if c == '.' {
                    '.'
                } else {
                    '_'
                }
            }
        })
        .collect();
    let (stem, ext) = match upper.rsplit_once('.') {
        Some((s, e)) => (s.replace('.', "_"), e.chars().take(8).collect::<String>()),
        None => (upper.clone(), String::new()),
    };
    let stem: String = stem.chars().take(20).collect();
    let mut n = 0u32;
    loop {
        let s = if n == 0 {
            stem.clone()
        } else {
            format!("{}{n}", &stem[..stem.len().min(17)])
        };
        let full = if ext.is_empty() {
            s
        } else {
            format!("{s}.{ext}")
        };
        if !taken.contains(&full) {
            taken.push(full.clone());
            return format!("{full};1").into_bytes();
        }
        n += 1;
    }
}

fn ucs2(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect()
}

/// The 7-byte recording date of directory records (UTC).
fn dir_date(t: &Civil) -> [u8; 7] {
    [
        (t.year - 1900) as u8,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        0,
    ]
}

/// The 17-byte volume descriptor date.
fn vd_date(t: &Civil) -> [u8; 17] {
    let s = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}00",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    );
    let mut out = [0u8; 17];
    out[..16].copy_from_slice(s.as_bytes());
    out
}

/// Now in UTC, the year kept within what a directory record can hold (1900–2155).
fn now() -> Civil {
    let mut t = Stamp::now().civil();
    t.year = t.year.clamp(1900, 2155);
    t
}

/// One directory record.
fn record(extent: u32, size: u32, dir: bool, name: &[u8], t: &Civil) -> Vec<u8> {
    let mut r = vec![0u8; 33];
    r[2..10].copy_from_slice(&both32(extent));
    r[10..18].copy_from_slice(&both32(size));
    r[18..25].copy_from_slice(&dir_date(t));
    r[25] = if dir { 2 } else { 0 };
    r[28..32].copy_from_slice(&both16(1));
    r[32] = name.len() as u8;
    r.extend_from_slice(name);
    if r.len() % 2 == 1 {
        r.push(0);
    }
    r[0] = r.len() as u8;
    r
}

/// Packs records into sectors (a record never crosses a sector boundary).
fn pack(records: &[Vec<u8>]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    for r in records {
        let used = out.len() % SECTOR;
        if used + r.len() > SECTOR {
            out.resize(out.len() + SECTOR - used, 0);
        }
        out.extend_from_slice(r);
    }
    let pad = (SECTOR - out.len() % SECTOR) % SECTOR;
    out.resize(out.len() + pad, 0);
    out
}

fn padded(field: &mut [u8], text: &[u8], pad: &[u8]) {
    for (i, b) in field.iter_mut().enumerate() {
        *b = pad[i % pad.len()];
    }
    let n = text.len().min(field.len());
    field[..n].copy_from_slice(&text[..n]);
}

/// Checks a name for the ISO: not empty, no `/`, NUL or control characters, at most
/// [`MAX_NAME`] UCS-2 characters.
pub fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.contains('/')
        || name.chars().any(char::is_control)
        || name.encode_utf16().count() > MAX_NAME
    {
        return Err(DriverError::new(format!(
            "unusable name {:?} for a file on the CONTEXT ISO",
            name.chars().take(80).collect::<String>()
        )));
    }
    Ok(())
}

/// Writes the ISO with volume label `label` holding `files` to `out`; returns its size.
pub fn write_iso(out: &mut impl Write, label: &str, files: &[IsoFile]) -> Result<u64> {
    if files.len() > MAX_FILES {
        return Err(DriverError::new(format!(
            "{} files for the CONTEXT ISO: at most {MAX_FILES}",
            files.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for f in files {
        check_name(&f.name)?;
        if !seen.insert(f.name.clone()) {
            return Err(DriverError::new(format!(
                "two files named {:?} for the CONTEXT ISO",
                f.name
            )));
        }
        if f.size > u64::from(u32::MAX) {
            return Err(DriverError::new(format!(
                "{:?} is too large for the ISO",
                f.name
            )));
        }
    }
    let t = now();
    // ISO 9660 names, and the order of each tree (sorted by its own names).
    let mut taken = Vec::new();
    let iso_names: Vec<Vec<u8>> = files
        .iter()
        .map(|f| iso_name(&f.name, &mut taken))
        .collect();
    let jol_names: Vec<Vec<u8>> = files.iter().map(|f| ucs2(&f.name)).collect();
    let mut iso_order: Vec<usize> = (0..files.len()).collect();
    iso_order.sort_by(|a, b| iso_names[*a].cmp(&iso_names[*b]));
    let mut jol_order: Vec<usize> = (0..files.len()).collect();
    jol_order.sort_by(|a, b| jol_names[*a].cmp(&jol_names[*b]));
    // Directory sizes first (they do not depend on extents' values).
    let dir_len = |names: &[Vec<u8>], order: &[usize]| {
        let mut recs = vec![record(0, 0, true, &[0], &t), record(0, 0, true, &[1], &t)];
        for i in order {
            recs.push(record(0, 0, false, &names[*i], &t));
        }
        pack(&recs).len()
    };
    let iso_dir_sectors = sectors(dir_len(&iso_names, &iso_order) as u64);
    let jol_dir_sectors = sectors(dir_len(&jol_names, &jol_order) as u64);
    let iso_root = 23u64;
    let jol_root = iso_root + iso_dir_sectors;
    let mut next = jol_root + jol_dir_sectors;
    let mut extents = vec![0u64; files.len()];
    for (i, f) in files.iter().enumerate() {
        extents[i] = next;
        next += sectors(f.size).max(1);
    }
    let total = next;
    if total > u64::from(u32::MAX) {
        return Err(DriverError::new("the CONTEXT ISO would be too large"));
    }
    let root_rec = |extent: u64, sectors_n: u64| {
        record(
            extent as u32,
            (sectors_n as usize * SECTOR) as u32,
            true,
            &[0],
            &t,
        )
    };
    let dir = |names: &[Vec<u8>], order: &[usize], me: u64, n: u64| {
        let mut recs = vec![root_rec(me, n), {
            let mut r = root_rec(me, n);
            r[33] = 1;
            r
        }];
        for i in order {
            recs.push(record(
                extents[*i] as u32,
                files[*i].size as u32,
                false,
                &names[*i],
                &t,
            ));
        }
        pack(&recs)
    };
    let vd = |joliet: bool, root: u64, root_sectors: u64, lpath: u32, mpath: u32| {
        let mut d = vec![0u8; SECTOR];
        d[0] = if joliet { 2 } else { 1 };
        d[1..6].copy_from_slice(b"CD001");
        d[6] = 1;
        let (text, pad): (Vec<u8>, &[u8]) = if joliet {
            (ucs2(label), &[0, b' '])
        } else {
            (label.as_bytes().to_vec(), b" ")
        };
        let (sys, none): (Vec<u8>, Vec<u8>) = if joliet {
            (ucs2("LINUX"), Vec::new())
        } else {
            (b"LINUX".to_vec(), Vec::new())
        };
        padded(&mut d[8..40], &sys, pad);
        padded(&mut d[40..72], &text, pad);
        d[80..88].copy_from_slice(&both32(total as u32));
        if joliet {
            d[88..91].copy_from_slice(b"%/E");
        }
        d[120..124].copy_from_slice(&both16(1));
        d[124..128].copy_from_slice(&both16(1));
        d[128..132].copy_from_slice(&both16(SECTOR as u16));
        d[132..140].copy_from_slice(&both32(10));
        d[140..144].copy_from_slice(&lpath.to_le_bytes());
        d[148..152].copy_from_slice(&mpath.to_be_bytes());
        d[156..190].copy_from_slice(&root_rec(root, root_sectors));
        for range in [
            190..318,
            318..446,
            446..574,
            574..702,
            702..739,
            739..776,
            776..813,
        ] {
            padded(&mut d[range], &none, pad);
        }
        d[813..830].copy_from_slice(&vd_date(&t));
        d[830..847].copy_from_slice(&vd_date(&t));
        d[847..863].copy_from_slice(b"0000000000000000");
        d[864..880].copy_from_slice(b"0000000000000000");
        d[881] = 1;
        d
    };
    let path_table = |root: u64, big: bool| {
        let mut s = vec![0u8; SECTOR];
        s[0] = 1;
        let loc = if big {
            (root as u32).to_be_bytes()
        } else {
            (root as u32).to_le_bytes()
        };
        s[2..6].copy_from_slice(&loc);
        let parent = if big {
            1u16.to_be_bytes()
        } else {
            1u16.to_le_bytes()
        };
        s[6..8].copy_from_slice(&parent);
        s
    };
    let io = |e: std::io::Error| DriverError::new(format!("cannot write the CONTEXT ISO: {e}"));
    out.write_all(&vec![0u8; 16 * SECTOR]).map_err(io)?;
    out.write_all(&vd(false, iso_root, iso_dir_sectors, 19, 20))
        .map_err(io)?;
    out.write_all(&vd(true, jol_root, jol_dir_sectors, 21, 22))
        .map_err(io)?;
    let mut term = vec![0u8; SECTOR];
    term[0] = 255;
    term[1..6].copy_from_slice(b"CD001");
    term[6] = 1;
    out.write_all(&term).map_err(io)?;
    for (root, big) in [
        (iso_root, false),
        (iso_root, true),
        (jol_root, false),
        (jol_root, true),
    ] {
        out.write_all(&path_table(root, big)).map_err(io)?;
    }
    out.write_all(&dir(&iso_names, &iso_order, iso_root, iso_dir_sectors))
        .map_err(io)?;
    out.write_all(&dir(&jol_names, &jol_order, jol_root, jol_dir_sectors))
        .map_err(io)?;
    for f in files {
        let mut src = std::fs::File::open(&f.source)
            .map_err(|e| DriverError::new(format!("cannot read {}: {e}", f.source.display())))?;
        let copied = std::io::copy(&mut (&mut src).take(f.size), out).map_err(io)?;
        if copied != f.size {
            return Err(DriverError::new(format!(
                "{} changed size while the ISO was built",
                f.source.display()
            )));
        }
        let pad = (sectors(f.size).max(1) * SECTOR as u64 - f.size) as usize;
        out.write_all(&vec![0u8; pad]).map_err(io)?;
    }
    out.flush().map_err(io)?;
    Ok(total * SECTOR as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_in_utc() {
        let t = Stamp::parse("2026-11-30T18:09:21.5+02:00")
            .expect("a date")
            .civil();
        assert_eq!(dir_date(&t), [126, 11, 30, 16, 9, 21, 0]);
        assert_eq!(&vd_date(&t), b"2026113016092100\0");
        let n = now();
        assert!((1900..=2155).contains(&n.year) && (1..=12).contains(&n.month));
    }

    #[test]
    fn names_and_layout() {
        let mut taken = Vec::new();
        assert_eq!(iso_name("context.sh", &mut taken), b"CONTEXT.SH;1");
        assert_eq!(iso_name("Context.sh", &mut taken), b"CONTEXT1.SH;1");
        assert_eq!(iso_name("a b.tar.gz", &mut taken), b"A_B_TAR.GZ;1");
        assert!(check_name("../x").is_err() && check_name("").is_err());

        let dir = std::env::temp_dir().join(format!("iso-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a");
        std::fs::write(&a, b"ONE=1\n").unwrap();
        let files = vec![IsoFile {
            name: "context.sh".into(),
            source: a.clone(),
            size: 6,
        }];
        let mut buf = Vec::new();
        let n = write_iso(&mut buf, "CONTEXT", &files).unwrap();
        assert_eq!(n as usize, buf.len());
        assert_eq!(buf.len() % SECTOR, 0);
        assert_eq!(&buf[16 * SECTOR + 1..16 * SECTOR + 6], b"CD001");
        assert_eq!(&buf[16 * SECTOR + 40..16 * SECTOR + 47], b"CONTEXT");
        assert_eq!(&buf[17 * SECTOR + 88..17 * SECTOR + 91], b"%/E");
        // The data sits at the extent its record names.
        let root = 23 * SECTOR;
        let rec = &buf[root + 34 + 34..];
        let extent = u32::from_le_bytes(rec[2..6].try_into().unwrap()) as usize;
        assert_eq!(&buf[extent * SECTOR..extent * SECTOR + 6], b"ONE=1\n");
        let dup = vec![files[0].clone(), files[0].clone()];
        assert!(write_iso(&mut Vec::new(), "CONTEXT", &dup).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
