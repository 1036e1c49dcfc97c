//! `mkfs`: a new empty image (datablock) of `SIZE` MB in the format `FSTYPE` (or `FORMAT`)
//! asks for, `/vmfs/volumes/<ds>/<new name>/disk.vmdk`, or with `FSTYPE=save_as` only the
//! folder (a placeholder filled later by mvds/cpds). `raw` or no format makes a thin disk (a
//! datablock on VMFS is a virtual disk); a filesystem such as ext3 cannot be made on VMFS and
//! is refused. Thick disks are checked against the free space first. Prints the new SOURCE.

use driver_common::{output, DriverError, Result};

use crate::storage::format::{parse_format, parse_size_mb, DiskFormat};
use crate::storage::location::VOLUMES;
use crate::storage::{new_image_name, with_site};

/// Runs mkfs with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    let (data, id) = super::image_args("mkfs", args)?;
    let image = data.image()?;
    let save_as = image.fstype.trim().eq_ignore_ascii_case("save_as");
    let (size, ty) = if save_as {
        (0, None)
    } else {
        let size = parse_size_mb(&image.size)?;
        let ty = match parse_format(&image.fstype)? {
            DiskFormat::Vmdk(t) => t,
            DiskFormat::Raw => "thin",
        };
        (size, Some(ty))
    };
    let bridge = data.bridge(id)?.to_string();
    let ds = data.datastore.name.clone();
    let name = new_image_name(id);
    with_site(&bridge, async |site| {
        let store = site.store(&ds)?;
        if let Some(ty) = ty {
            let free_mb = store.free.max(0) as u64 / (1024 * 1024);
            if ty != "thin" && size > free_mb {
                return Err(DriverError::new(format!(
                    "datastore {ds} has {free_mb} MB free: a {ty} disk of {size} MB does not fit"
                )));
            }
        }
        site.mkdir(store, &name).await?;
        if let Some(ty) = ty {
            let disk = format!("{name}/disk.vmdk");
            if let Err(e) = site.create_disk(store, &disk, size, ty).await {
                let _ = site.delete(store, &name).await;
                return Err(e);
            }
            output::info(&format!("created [{ds}] {disk}: {size} MB, {ty}"));
        } else {
            output::info(&format!("made the save_as placeholder [{ds}] {name}"));
        }
        Ok(format!("{VOLUMES}/{ds}/{name}"))
    })
    .await
}
