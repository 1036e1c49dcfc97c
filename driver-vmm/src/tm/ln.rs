//! `ln <fe:SOURCE> <host>:<sysds path>/<vmid>/disk.<N> <vmid> <imgds>`: a persistent image
//! used in place. Nothing is copied: the link record `[<sysds>] <vmid>/disk.<N>.link` names
//! the image's `disk.vmdk` (or its ISO file), see [`crate::storage::link`].

use driver_common::{output, DriverError, Result};

use crate::storage::link::{record_path, LinkRecord};
use crate::storage::site::{Entry, Site};
use crate::storage::with_site;

use super::clone::{parse_transfer, DiskTransfer};

/// Checks the image and writes the record.
pub async fn link_image(site: &Site<'_>, t: &DiskTransfer) -> Result<String> {
    let img = site.store(&t.image.ds)?;
    let sys = site.store(&t.target.ds)?;
    let n = t.target.disk.unwrap_or(0);
    let descriptor = format!("{}/disk.vmdk", t.image.name);
    let record = match site.entry(img, &t.image.name).await? {
        Some(Entry::File(_)) => LinkRecord {
            disk: false,
            ds: img.name.clone(),
            rel: t.image.name.clone(),
        },
        Some(Entry::Folder) => {
            if site.entry(img, &descriptor).await?.is_none() {
                return Err(DriverError::new(format!(
                    "image {} has no disk.vmdk",
                    t.image.vmfs()
                )));
            }
            LinkRecord {
                disk: true,
                ds: img.name.clone(),
                rel: descriptor,
            }
        }
        None => {
            return Err(DriverError::new(format!(
                "image {} not found on datastore {} (host {})",
                t.image.vmfs(),
                img.name,
                site.conn.host_name
            )))
        }
    };
    site.mkdir(sys, &t.target.vm_dir()).await?;
    let path = record_path(t.target.vmid, n);
    site.put_text(sys, &path, &record.render(t.target.vmid, n))
        .await?;
    output::info(&format!(
        "disk {n} of VM {} uses {} in place (record [{}] {path})",
        t.target.vmid,
        record.source(),
        sys.name
    ));
    Ok(String::new())
}

/// Runs ln with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    let t = parse_transfer("ln", args)?;
    with_site(&t.host, async |site| link_image(site, &t).await).await
}
