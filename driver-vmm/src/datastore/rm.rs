//! `rm`: deletes the image `IMAGE/SOURCE` (`/vmfs/volumes/<ds>/<name>`, a folder or an ISO
//! file directly in this datastore: any other path is refused). An image already gone is no
//! error (OpenNebula retries).

use driver_common::{output, Result};

use crate::storage::location::{check_same_ds, parse_image};
use crate::storage::with_site;

/// Runs rm with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    let (data, id) = super::image_args("rm", args)?;
    let img = parse_image(&data.image()?.source)?;
    check_same_ds(&format!("image {}", img.vmfs()), &img.ds, data.datastore.id)?;
    let bridge = data.bridge(id)?.to_string();
    with_site(&bridge, async |site| {
        let store = site.store(&img.ds)?;
        if site.delete(store, &img.name).await? {
            output::info(&format!("deleted {}", img.vmfs()));
        } else {
            output::info(&format!("{} is already gone", img.vmfs()));
        }
        Ok(String::new())
    })
    .await
}
