//! The image's `MD5`/`SHA1` (template attributes) checked against the file to register,
//! before anything is uploaded. MD5 (RFC 1321) is small enough to carry here; SHA-1 comes
//! from the `sha1` crate vim-sdk already builds.

use std::io::Read;
use std::path::Path;

use sha1::Digest as _;

use driver_common::{DriverError, Result};

use super::location::shown;

/// MD5 (RFC 1321), streaming.
#[derive(Clone)]
pub struct Md5 {
    state: [u32; 4],
    buf: Vec<u8>,
    len: u64,
}

const S: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
    14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15,
    21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];

fn k(i: usize) -> u32 {
    // floor(abs(sin(i + 1)) * 2^32), as RFC 1321 defines the table.
    ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32
}

impl Default for Md5 {
    fn default() -> Self {
        Md5 {
            state: [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476],
            buf: Vec::with_capacity(64),
            len: 0,
        }
    }
}

impl Md5 {
    fn block(&mut self, chunk: &[u8]) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = self.state;
        for (i, shift) in S.iter().enumerate() {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k(i)).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(*shift));
        }
        for (s, v) in self.state.iter_mut().zip([a, b, c, d]) {
            *s = s.wrapping_add(v);
        }
    }

    /// Adds `data`.
    pub fn update(&mut self, mut data: &[u8]) {
        self.len = self.len.wrapping_add(data.len() as u64);
        if !self.buf.is_empty() {
            let take = (64 - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == 64 {
                let b = std::mem::take(&mut self.buf);
                self.block(&b);
            }
        }
        while data.len() >= 64 {
            self.block(&data[..64]);
            data = &data[64..];
        }
        self.buf.extend_from_slice(data);
    }

    /// The digest as lower-case hex.
    pub fn hex(mut self) -> String {
        let bits = self.len.wrapping_mul(8);
        let mut pad = vec![0x80u8];
        let rem = (self.len as usize + 1) % 64;
        pad.resize(1 + if rem <= 56 { 56 - rem } else { 120 - rem }, 0);
        pad.extend_from_slice(&bits.to_le_bytes());
        let len = self.len;
        self.update(&pad);
        self.len = len;
        self.state
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The digests an image asks for (`MD5`, `SHA1`, either may be empty), computed over bytes
/// as they stream by ([`update`](Self::update)) and compared at the end
/// ([`check`](Self::check)).
pub struct Digests {
    md5: Option<(Md5, String)>,
    sha1: Option<(sha1::Sha1, String)>,
}

impl Digests {
    /// The digests to compute for the expected hex values `md5` and `sha1` (empty: not asked).
    pub fn new(md5: &str, sha1: &str) -> Digests {
        let want = |v: &str| Some(v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty());
        Digests {
            md5: want(md5).map(|w| (Md5::default(), w)),
            sha1: want(sha1).map(|w| (sha1::Sha1::new(), w)),
        }
    }

    /// Whether any digest is asked for.
    pub fn wanted(&self) -> bool {
        self.md5.is_some() || self.sha1.is_some()
    }

    /// Adds `data`.
    pub fn update(&mut self, data: &[u8]) {
        if let Some((m, _)) = &mut self.md5 {
            m.update(data);
        }
        if let Some((s, _)) = &mut self.sha1 {
            s.update(data);
        }
    }

    /// Compares the digests of what was added with the expected ones; `what` names the data
    /// in the error.
    pub fn check(self, what: &str) -> Result<()> {
        if let Some((m, want)) = self.md5 {
            let got = m.hex();
            if got != want {
                return Err(DriverError::new(format!(
                    "checksum mismatch: {what} has MD5 {got}, the image says {}",
                    shown(&want)
                )));
            }
        }
        if let Some((s, want)) = self.sha1 {
            let got: String = s.finalize().iter().map(|b| format!("{b:02x}")).collect();
            if got != want {
                return Err(DriverError::new(format!(
                    "checksum mismatch: {what} has SHA1 {got}, the image says {}",
                    shown(&want)
                )));
            }
        }
        Ok(())
    }
}

/// A reader that adds what it reads to shared [`Digests`] (for data read on another thread).
pub struct DigestReader<R> {
    /// The reader.
    pub inner: R,
    /// The digests, shared with whoever checks them at the end.
    pub digests: std::sync::Arc<std::sync::Mutex<Digests>>,
}

impl<R: Read> Read for DigestReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut d) = self.digests.lock() {
            d.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// Checks `file` against the `md5` and `sha1` hex digests given (either may be empty);
/// reads the file once.
pub fn verify(file: &Path, md5: &str, sha1: &str) -> Result<()> {
    let mut d = Digests::new(md5, sha1);
    if !d.wanted() {
        return Ok(());
    }
    let io = |e: std::io::Error| DriverError::new(format!("cannot read {}: {e}", file.display()));
    let mut f = std::fs::File::open(file).map_err(io)?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        d.update(&buf[..n]);
    }
    d.check(&file.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md5(s: &[u8]) -> String {
        let mut m = Md5::default();
        m.update(s);
        m.hex()
    }

    #[test]
    fn rfc1321_vectors() {
        assert_eq!(md5(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            md5(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            ),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
        // Fed in pieces, the same.
        let mut m = Md5::default();
        for c in b"message digest".chunks(3) {
            m.update(c);
        }
        assert_eq!(m.hex(), "f96b697d7cb7938d525a2f31aaf161d0");
    }

    #[test]
    fn verify_files() {
        let p = std::env::temp_dir().join(format!("cksum-{}", std::process::id()));
        std::fs::write(&p, b"abc").unwrap();
        assert!(verify(&p, "900150983CD24FB0D6963F7D28E17F72", "").is_ok());
        assert!(verify(&p, "", "a9993e364706816aba3e25717850c26c9cd0d89d").is_ok());
        assert!(verify(&p, "00", "").is_err());
        assert!(verify(&p, "", "00").is_err());
        assert!(verify(&p, "", "").is_ok());
        let _ = std::fs::remove_file(&p);
    }
}
