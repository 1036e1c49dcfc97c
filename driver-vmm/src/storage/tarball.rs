//! Reading a `.tar.gz` image folder as it streams: gzip through `flate2`, then the tar
//! entries (ustar, GNU long names; pax headers skipped), each handed over with its size and
//! a reader of exactly its bytes. Only regular files at the top of the archive or inside one
//! top folder are accepted (`disk.vmdk`, `my image/disk-flat.vmdk`); other paths (absolute,
//! `..`, deeper folders) and links are refused, so nothing can be placed outside the image.

use std::io::Read;

use driver_common::{DriverError, Result};

use super::location::{plain_name, shown};

const BLOCK: usize = 512;
/// Longest GNU long name accepted.
const MAX_LONG_NAME: u64 = 4096;

fn bad(why: impl std::fmt::Display) -> DriverError {
    DriverError::new(format!("the image archive is not a usable tar.gz: {why}"))
}

/// An octal field (NUL/space terminated); base-256 sizes (GNU) too.
fn octal(field: &[u8]) -> Result<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for b in &field[1..] {
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(*b)))
                .ok_or_else(|| bad("size out of range"))?;
        }
        return Ok(v);
    }
    let s: String = field
        .iter()
        .take_while(|b| **b != 0)
        .map(|b| *b as char)
        .collect();
    let t = s.trim();
    if t.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(t, 8).map_err(|_| bad(format_args!("bad number {}", shown(t))))
}

fn cstr(field: &[u8]) -> String {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// The file name an archive path stands for: `name` or `folder/name` (the folder dropped).
pub fn entry_name(path: &str) -> Result<String> {
    let trimmed = path.trim_start_matches("./");
    let parts: Vec<&str> = trimmed.split('/').filter(|p| !p.is_empty()).collect();
    let name = match parts.as_slice() {
        [n] | [_, n] => *n,
        _ => {
            return Err(bad(format_args!(
                "entry {} is not a file of the image folder",
                shown(path)
            )))
        }
    };
    if path.starts_with('/') || parts.iter().any(|p| *p == ".." || *p == ".") || !plain_name(name) {
        return Err(bad(format_args!(
            "entry {} is not a plain file name",
            shown(path)
        )));
    }
    Ok(name.to_string())
}

/// Reads a tar stream: [`next_entry`](Self::next_entry) gives each file's name and size;
/// then exactly that many bytes are read with [`read_data`](Self::read_data).
pub struct TarReader<R: Read> {
    inner: R,
    /// Bytes of the current entry not read yet.
    left: u64,
    /// Padding after the current entry.
    pad: u64,
}

/// A regular file of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarEntry {
    /// Its file name (folder dropped).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
}

impl<R: Read> TarReader<R> {
    /// Reads the tar stream `inner`.
    pub fn new(inner: R) -> Self {
        TarReader {
            inner,
            left: 0,
            pad: 0,
        }
    }

    fn skip(&mut self, n: u64) -> Result<()> {
        let copied =
            std::io::copy(&mut (&mut self.inner).take(n), &mut std::io::sink()).map_err(bad)?;
        if copied != n {
            return Err(bad("truncated"));
        }
        Ok(())
    }

    /// The next regular file, or `None` at the end of the archive. Unread data of the
    /// previous entry is skipped.
    pub fn next_entry(&mut self) -> Result<Option<TarEntry>> {
        let rest = self.left + self.pad;
        self.skip(rest)?;
        self.left = 0;
        self.pad = 0;
        let mut long_name: Option<String> = None;
        loop {
            let mut h = [0u8; BLOCK];
            let mut got = 0;
            while got < BLOCK {
                match self.inner.read(&mut h[got..]) {
                    Ok(0) if got == 0 => return Ok(None),
                    Ok(0) => return Err(bad("truncated header")),
                    Ok(n) => got += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(bad(e)),
                }
            }
            if h.iter().all(|b| *b == 0) {
                return Ok(None);
            }
            let sum: u64 = h
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    if (148..156).contains(&i) {
                        32
                    } else {
                        u64::from(*b)
                    }
                })
                .sum();
            if octal(&h[148..156])? != sum {
                return Err(bad("header checksum mismatch"));
            }
            let size = octal(&h[124..136])?;
            let padded = size.div_ceil(BLOCK as u64) * BLOCK as u64;
            let kind = h[156];
            match kind {
                b'0' | 0 => {
                    let path = match long_name.take() {
                        Some(n) => n,
                        None => {
                            let prefix = if &h[257..262] == b"ustar" {
                                cstr(&h[345..500])
                            } else {
                                String::new()
                            };
                            let name = cstr(&h[..100]);
                            if prefix.is_empty() {
                                name
                            } else {
                                format!("{prefix}/{name}")
                            }
                        }
                    };
                    let name = entry_name(&path)?;
                    self.left = size;
                    self.pad = padded - size;
                    return Ok(Some(TarEntry { name, size }));
                }
                b'L' => {
                    if size > MAX_LONG_NAME {
                        return Err(bad("long name too long"));
                    }
                    let mut buf = vec![0u8; size as usize];
                    self.inner.read_exact(&mut buf).map_err(bad)?;
                    self.skip(padded - size)?;
                    long_name = Some(cstr(&buf));
                }
                b'5' | b'x' | b'g' => {
                    // Folders, pax headers: nothing to upload.
                    self.skip(padded)?;
                    long_name = None;
                }
                other => {
                    return Err(bad(format_args!(
                        "entry of type {:?} (links and devices are not image files)",
                        other as char
                    )))
                }
            }
        }
    }

    /// Reads up to `buf.len()` bytes of the current entry; 0 at its end.
    pub fn read_data(&mut self, buf: &mut [u8]) -> Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(self.left as usize);
        let n = loop {
            match self.inner.read(&mut buf[..want]) {
                Ok(0) => return Err(bad("truncated file data")),
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(bad(e)),
            }
        };
        self.left -= n as u64;
        Ok(n)
    }

    /// The underlying reader (positioned after what was read of the archive).
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// The total size of the `.vmdk` files in the `.tar.gz` stream `gz` (what cp registers from
/// it: the unpacked disk, not the archive's own size); reads the whole stream.
pub fn unpacked_size(gz: impl Read) -> Result<u64> {
    let mut tar = TarReader::new(flate2::read::GzDecoder::new(std::io::BufReader::new(gz)));
    let mut total = 0u64;
    while let Some(entry) = tar.next_entry()? {
        if entry.name.ends_with(".vmdk") {
            total = total.saturating_add(entry.size);
        }
    }
    Ok(total)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A ustar archive of `files` under `folder/` (for tests).
    pub fn tar(folder: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in files {
            let mut h = [0u8; BLOCK];
            let path = if folder.is_empty() {
                name.to_string()
            } else {
                format!("{folder}/{name}")
            };
            h[..path.len()].copy_from_slice(path.as_bytes());
            h[100..107].copy_from_slice(b"0000644");
            h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
            h[156] = b'0';
            h[257..263].copy_from_slice(b"ustar\0");
            h[148..156].copy_from_slice(b"        ");
            let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
            h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
            out.extend_from_slice(&h);
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        }
        out.resize(out.len() + 2 * BLOCK, 0);
        out
    }

    #[test]
    fn reads_entries_and_refuses_escapes() {
        let t = tar(
            "img",
            &[("disk.vmdk", b"desc"), ("disk-flat.vmdk", &[7u8; 1000])],
        );
        let mut r = TarReader::new(&t[..]);
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!((e.name.as_str(), e.size), ("disk.vmdk", 4));
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!((e.name.as_str(), e.size), ("disk-flat.vmdk", 1000));
        let mut buf = [0u8; 300];
        let mut total = 0;
        loop {
            let n = r.read_data(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            assert!(buf[..n].iter().all(|b| *b == 7));
            total += n;
        }
        assert_eq!(total, 1000);
        assert!(r.next_entry().unwrap().is_none());
        for bad in ["../x", "/etc/passwd", "a/b/c", "a/../b", "./."] {
            assert!(entry_name(bad).is_err(), "{bad}");
        }
        assert_eq!(entry_name("./img/disk.vmdk").unwrap(), "disk.vmdk");
        let mut broken = tar("", &[("x.vmdk", b"abc")]);
        broken[0] = b'y';
        assert!(TarReader::new(&broken[..]).next_entry().is_err());
        let cut = &t[..3 * BLOCK + 100];
        let mut r = TarReader::new(cut);
        r.next_entry().unwrap();
        assert_eq!(r.next_entry().unwrap().unwrap().size, 1000);
        let mut b = [0u8; 2000];
        assert_eq!(r.read_data(&mut b).unwrap(), 100);
        assert!(r.read_data(&mut b).is_err());
    }

    #[test]
    fn unpacked_size_counts_the_disk_files_not_the_archive() {
        use std::io::Write as _;
        let t = tar(
            "img",
            &[
                ("disk.vmdk", b"desc"),
                ("disk-flat.vmdk", &[0u8; 100_000]),
                ("notes.txt", b"not a disk"),
            ],
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&t).unwrap();
        let gz = gz.finish().unwrap();
        assert!(gz.len() < 10_000, "zeros compress");
        assert_eq!(unpacked_size(&gz[..]).unwrap(), 100_004);
        assert!(unpacked_size(&b"\x1f\x8b\x08\x00 not gzip"[..]).is_err());
    }
}
