//! `clone`: a new image copied from the image at `IMAGE/PATH` (`/vmfs/volumes/<ds>/<name>`):
//! a disk image becomes a thin copy `<new>/disk.vmdk` (legacy's copy got vmkfstools' default
//! format, contract §12.3), an ISO a copied file. A failed copy leaves nothing behind. Prints
//! the new SOURCE.

use driver_common::{output, DriverError, Result};

use crate::storage::location::{parse_image, VOLUMES};
use crate::storage::site::Entry;
use crate::storage::{new_image_name, with_site};

/// Runs clone with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    let (data, id) = super::image_args("clone", args)?;
    let src = parse_image(&data.image()?.path)?;
    let bridge = data.bridge(id)?.to_string();
    let ds = data.datastore.name.clone();
    let name = new_image_name(id);
    with_site(&bridge, async |site| {
        let from = site.store(&src.ds)?;
        let store = site.store(&ds)?;
        match site.entry(from, &src.name).await? {
            None => Err(DriverError::new(format!(
                "image {} to clone not found on host {}",
                src.vmfs(),
                site.conn.host_name
            ))),
            Some(Entry::Folder) => {
                site.mkdir(store, &name).await?;
                let s = from.path(&format!("{}/disk.vmdk", src.name))?;
                let d = format!("{name}/disk.vmdk");
                if let Err(e) = site.copy_disk(&s, store, &d).await {
                    let _ = site.delete(store, &name).await;
                    return Err(e);
                }
                output::info(&format!("copied {s} to [{ds}] {d} (thin)"));
                Ok(format!("{VOLUMES}/{ds}/{name}"))
            }
            Some(Entry::File(_)) => {
                let s = from.path(&src.name)?;
                if let Err(e) = site.copy_file(&s, store, &name).await {
                    let _ = site.delete(store, &name).await;
                    return Err(e);
                }
                output::info(&format!("copied the ISO {s} to [{ds}] {name}"));
                Ok(format!("{VOLUMES}/{ds}/{name}"))
            }
        }
    })
    .await
}
