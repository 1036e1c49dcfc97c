//! `cp`: registers an image from the front-end path `IMAGE/PATH` into
//! `/vmfs/volumes/<ds>/<new name>` and prints that SOURCE.
//!
//! - a folder of `.vmdk` files: its descriptor (`disk.vmdk`, else the one `.vmdk` that is not
//!   an extent) is uploaded as `disk.vmdk` with the extents it names; a single extent becomes
//!   `disk-flat.vmdk` and the copy's descriptor says so. The user's folder is only read (legacy
//!   renamed the descriptor inside it, contract §12.14). Hosted sparse and streamOptimized
//!   disks are refused: ESX cannot run them as they are;
//! - a CD-ROM image (`TYPE` CDROM): the file itself becomes the image.
//!
//! The path is checked against `RESTRICTED_DIRS`/`SAFE_DIRS`. Uploads stream over the
//! datastore HTTP interface with the session cookie; a failure deletes the new folder or
//! file, so no half-written image is left. Not built yet: http(s) URLs, `.tar.gz` folders,
//! `MD5`/`SHA1` checks, a single `.vmdk` file.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use driver_common::{output, DriverError, Result};

use crate::storage::dirs::check_local_path;
use crate::storage::location::{plain_name, shown, VOLUMES};
use crate::storage::site::{Site, Store};
use crate::storage::vmdk::{pick_descriptor, Descriptor, MAX_DESCRIPTOR};
use crate::storage::{new_image_name, not_implemented, with_site};

/// What to upload: `(local file, name in the new image folder)`, plus the descriptor text.
struct FolderPlan {
    descriptor: String,
    files: Vec<(PathBuf, String)>,
}

/// Reads the folder and plans the copy (nothing is uploaded yet).
fn plan_folder(dir: &Path) -> Result<FolderPlan> {
    let io = |e: std::io::Error| DriverError::new(format!("cannot read {}: {e}", dir.display()));
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io)? {
        let e = e.map_err(io)?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".vmdk") && std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()) {
            names.push(name);
        }
    }
    names.sort();
    let desc_name = pick_descriptor(&names)?;
    let desc_path = dir.join(&desc_name);
    let mut bytes = Vec::new();
    std::fs::File::open(&desc_path)
        .and_then(|f| f.take(MAX_DESCRIPTOR + 1).read_to_end(&mut bytes))
        .map_err(io)?;
    if bytes.len() as u64 > MAX_DESCRIPTOR {
        return Err(DriverError::new(format!(
            "{} is larger than a VMDK descriptor: a monolithic disk ESX cannot run as it is (convert it with vmkfstools -i first)",
            desc_path.display()
        )));
    }
    let d = Descriptor::parse(&bytes)
        .map_err(|e| e.context(format!("image {}", desc_path.display())))?;
    let (text, extents) = d.for_copy();
    let mut files = Vec::new();
    for (local, remote) in extents {
        let p = dir.join(&local);
        if !p.is_file() {
            return Err(DriverError::new(format!(
                "the descriptor {} names the extent {} which is not in the folder",
                desc_path.display(),
                shown(&local)
            )));
        }
        if !plain_name(&remote) || remote == "disk.vmdk" {
            return Err(DriverError::new(format!(
                "unusable extent name {}",
                shown(&remote)
            )));
        }
        files.push((p, remote));
    }
    Ok(FolderPlan {
        descriptor: text,
        files,
    })
}

/// Uploads the plan into `name/` of `store`.
async fn upload_folder(
    site: &Site<'_>,
    store: &Store,
    name: &str,
    plan: &FolderPlan,
) -> Result<()> {
    site.mkdir(store, name).await?;
    for (local, remote) in &plan.files {
        let n = site
            .upload_file(store, local, &format!("{name}/{remote}"))
            .await?;
        output::info(&format!(
            "uploaded {} as [{}] {name}/{remote} ({n} bytes)",
            local.display(),
            store.name
        ));
    }
    site.put_text(store, &format!("{name}/disk.vmdk"), &plan.descriptor)
        .await
}

/// Runs cp with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    let (data, id) = super::image_args("cp", args)?;
    let image = data.image()?.clone();
    let path = image.path.trim().to_string();
    if path.starts_with("http://") || path.starts_with("https://") {
        return Err(not_implemented("datastore/vmfs", "cp of an http(s) URL"));
    }
    let real = check_local_path(
        &path,
        &data.datastore.restricted_dirs,
        &data.datastore.safe_dirs,
    )?;
    let md = std::fs::metadata(&real)
        .map_err(|e| DriverError::new(format!("cannot read {}: {e}", shown(&path))))?;
    enum What {
        Folder(FolderPlan),
        Iso(PathBuf),
    }
    let what = if md.is_dir() {
        What::Folder(plan_folder(&real)?)
    } else if image.cdrom && md.is_file() {
        What::Iso(real.clone())
    } else if path.ends_with(".tar.gz") || path.ends_with(".tgz") {
        return Err(not_implemented("datastore/vmfs", "cp of a .tar.gz image"));
    } else {
        return Err(not_implemented(
            "datastore/vmfs",
            "cp of a single file that is not a CD-ROM image (register a folder of .vmdk files)",
        ));
    };
    let bridge = data.bridge(id)?.to_string();
    let ds = data.datastore.name.clone();
    let name = new_image_name(id);
    with_site(&bridge, async |site| {
        let store = site.store(&ds)?;
        let done = match &what {
            What::Folder(plan) => upload_folder(site, store, &name, plan).await,
            What::Iso(file) => site.upload_file(store, file, &name).await.map(|n| {
                output::info(&format!(
                    "uploaded {} as [{ds}] {name} ({n} bytes)",
                    file.display()
                ));
            }),
        };
        if let Err(e) = done {
            if site.delete(store, &name).await.unwrap_or(false) {
                output::info(&format!("removed the partial image [{ds}] {name}"));
            }
            return Err(e);
        }
        Ok(format!("{VOLUMES}/{ds}/{name}"))
    })
    .await
}
