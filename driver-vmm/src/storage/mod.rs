//! What the storage drivers (`tm/vmfs`, `datastore/vmfs`) share: argument and path parsing
//! ([`location`], [`ds_data`]), disk formats ([`format`]), the front-end path policy
//! ([`dirs`]), image checksums ([`checksum`]), the link record that replaces symlinks
//! ([`link`]), the records of uploads in progress ([`pending`]), the datastore operations of one host ([`site`]), VMDK descriptors of images
//! being registered ([`vmdk`]), the CONTEXT ISO writer ([`iso`]), `.tar.gz` image folders
//! read as they stream ([`tarball`]) and images and context files fetched from http(s) URLs
//! ([`remote`]).

pub mod checksum;
pub mod dirs;
pub mod ds_data;
pub mod format;
pub mod iso;
pub mod link;
pub mod location;
pub mod pending;
pub mod remote;
pub mod site;
pub mod tarball;
pub mod vmdk;

use driver_common::{DriverError, Result};

/// The error of an action that is laid out but not built yet.
pub fn not_implemented(driver: &str, action: &str) -> DriverError {
    DriverError::new(format!(
        "{driver}/{action}: not implemented yet in the native VMware drivers (see the README, storage drivers: what is not done)"
    ))
}

/// Refuses any argument list whose length is not `n`.
pub fn expect_args(action: &str, expected: &str, args: &[String], n: usize) -> Result<()> {
    if args.len() != n {
        return Err(DriverError::usage(action, expected, args));
    }
    Ok(())
}

/// Connects for OpenNebula host `host`, reads its datastores, runs `op`, and closes the
/// connection whatever happened.
pub async fn with_site<T>(
    host: &str,
    op: impl AsyncFnOnce(&site::Site<'_>) -> Result<T>,
) -> Result<T> {
    driver_common::connect::Conn::open(host)
        .await?
        .run(async |conn| {
            let site = site::Site::open(conn).await?;
            op(&site).await
        })
        .await
}

/// A new image's name: 32 hex digits from the time, the image id and the process id, like
/// legacy's md5 of `"<time>:<image_id>"` (only uniqueness matters).
pub fn new_image_name(image_id: u64) -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut out = String::with_capacity(32);
    for salt in 0u8..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(nanos);
        h.write_u64(image_id);
        h.write_u32(std::process::id());
        h.write_u8(salt);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn image_names_are_32_hex_and_differ() {
        let a = super::new_image_name(7);
        let b = super::new_image_name(7);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
