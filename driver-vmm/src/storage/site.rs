//! [`Site`]: the datastores one host sees, and the file and disk operations the storage
//! actions are made of (contract §11.3): `MakeDirectory`, `CreateVirtualDisk_Task`,
//! `CopyVirtualDisk_Task`, `CopyDatastoreFile_Task`, `DeleteDatastoreFile_Task`, the datastore
//! browser, and small uploads over the datastore HTTP interface. Every path goes through
//! vim-sdk's [`check_relative_path`](vim_sdk::datastore::check_relative_path) before it is
//! sent, so nothing outside the datastore's root can be named.

use std::collections::BTreeMap;

use vim_sdk::datastore::{DatastoreFiles, DatastoreLocation};
use vim_sdk::managed::TaskOf;
use vim_sdk::mo;
use vim_sdk::ops::{retrieve_properties, Managers};
use vim_sdk::types::{
    AnyFileInfo, AnyFileQuery, AnyVirtualDiskSpec, FileBackedVirtualDiskSpec, FileQueryFlags,
    HostDatastoreBrowserSearchSpec, VirtualDiskSpec,
};
use vim_sdk::xml::ManagedObjectReference;

use driver_common::connect::Conn;
use driver_common::{output, DriverError, Result};

use super::location::shown;

/// The adapter type written into new disk descriptors (deploy picks the controller).
pub const ADAPTER: &str = "lsiLogic";

/// One datastore as a host sees it.
#[derive(Debug, Clone)]
pub struct Store {
    /// Its name (an OpenNebula datastore id).
    pub name: String,
    /// The datastore.
    pub ds: mo::Datastore,
    /// Its browser.
    pub browser: Option<mo::HostDatastoreBrowser>,
    /// `summary.capacity` (bytes).
    pub capacity: i64,
    /// `summary.freeSpace` (bytes).
    pub free: i64,
    /// `summary.accessible`.
    pub accessible: bool,
    /// File access through the file manager and the HTTP interface.
    pub files: DatastoreFiles,
}

impl Store {
    /// `[name] rel`, after checking `rel` stays inside the datastore.
    pub fn path(&self, rel: &str) -> Result<String> {
        self.files
            .location()
            .datastore_path(rel)
            .map_err(|e| DriverError::new(format!("refused path: {e}")))
    }
}

/// What a datastore path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// A folder (a disk image, a VM directory).
    Folder,
    /// A file (an ISO image), with its size when the server gives it.
    File(Option<i64>),
}

/// The storage operations of one connection (the host named by the action).
pub struct Site<'a> {
    /// The connection.
    pub conn: &'a Conn,
    managers: Managers,
    stores: BTreeMap<String, Store>,
}

fn is_not_found(e: &vim_sdk::Error) -> bool {
    matches!(e.fault_type(), Some("FileNotFound" | "NotFound"))
}

impl<'a> Site<'a> {
    /// Reads the host's datastores (name, browser, capacity, free space) in two round trips.
    pub async fn open(conn: &'a Conn) -> Result<Site<'a>> {
        let managers = Managers::from_content(conn.session.content());
        let dc_path = datacenter_path(conn).await?;
        let refs: Vec<ManagedObjectReference> = conn
            .host
            .datastores(&conn.session)
            .await?
            .into_iter()
            .map(|d| d.reference().clone())
            .collect();
        let props = retrieve_properties(
            &conn.session,
            &conn.session.property_collector(),
            &refs,
            &[
                "name",
                "browser",
                "summary.capacity",
                "summary.freeSpace",
                "summary.accessible",
            ],
        )
        .await?;
        let mut stores = BTreeMap::new();
        for p in props {
            let Some(name) = p.str("name").map(str::to_string) else {
                continue;
            };
            let files = DatastoreFiles::new(
                &managers,
                conn.datacenter.clone(),
                DatastoreLocation::new(dc_path.clone(), name.clone()),
            );
            let accessible = p.bool("summary.accessible") != Some(false);
            stores.insert(
                name.clone(),
                Store {
                    name,
                    ds: mo::Datastore::from_ref(p.object().clone()),
                    browser: p
                        .reference("browser")
                        .cloned()
                        .map(mo::HostDatastoreBrowser::from_ref),
                    capacity: p.int("summary.capacity").unwrap_or(0),
                    free: p.int("summary.freeSpace").unwrap_or(0),
                    accessible,
                    files,
                },
            );
        }
        Ok(Site {
            conn,
            managers,
            stores,
        })
    }

    /// The datastore named `name` as this host mounts it; an unknown name is an error naming
    /// the host and the datastores it has.
    pub fn store(&self, name: &str) -> Result<&Store> {
        let s = self.stores.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.stores.keys().map(String::as_str).collect();
            DriverError::new(format!(
                "datastore {} is not mounted on host {} (it has: {})",
                shown(name),
                self.conn.host_name,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })?;
        if !s.accessible {
            return Err(DriverError::new(format!(
                "datastore {name} is not accessible on host {}",
                self.conn.host_name
            )));
        }
        Ok(s)
    }

    fn dc(&self) -> Option<&ManagedObjectReference> {
        Some(self.conn.datacenter.reference())
    }

    fn vdm(&self) -> Result<&mo::VirtualDiskManager> {
        self.managers.virtual_disk_manager.as_ref().ok_or_else(|| {
            DriverError::new(format!(
                "the server of host {} offers no VirtualDiskManager",
                self.conn.host_name
            ))
        })
    }

    fn fm(&self) -> Result<&mo::FileManager> {
        self.managers.file_manager.as_ref().ok_or_else(|| {
            DriverError::new(format!(
                "the server of host {} offers no FileManager",
                self.conn.host_name
            ))
        })
    }

    /// What `rel` is on `store` (`None` when absent), from the browser's listing of its
    /// parent folder. `rel` is checked first.
    pub async fn entry(&self, store: &Store, rel: &str) -> Result<Option<Entry>> {
        store.path(rel)?;
        let (parent, name) = match rel.rsplit_once('/') {
            Some((p, n)) => (format!("[{}] {p}", store.name), n),
            None => (format!("[{}]", store.name), rel),
        };
        let browser = match &store.browser {
            Some(b) => b.clone(),
            None => store.ds.browser(&self.conn.session).await?,
        };
        let spec = HostDatastoreBrowserSearchSpec {
            query: vec![
                AnyFileQuery::FolderFileQuery(Box::default()),
                AnyFileQuery::FileQuery(Box::default()),
            ],
            details: Some(FileQueryFlags {
                file_type: true,
                file_size: true,
                modification: false,
                file_owner: Some(false),
            }),
            match_pattern: vec![name.to_string()],
            ..Default::default()
        };
        let found = browser
            .search_datastore_task(&self.conn.session, &parent, Some(&spec))
            .await?
            .wait(&self.conn.session)
            .await;
        match found {
            Ok(r) => Ok(r
                .file
                .iter()
                .find(|f| f.base().path == name)
                .map(|f| match f {
                    AnyFileInfo::FolderFileInfo(_) => Entry::Folder,
                    other => Entry::File(other.base().file_size),
                })),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(DriverError::from(e).context(format!("cannot list {parent}"))),
        }
    }

    /// Makes folder `rel` (and its parents) on `store`; an existing one is fine.
    pub async fn mkdir(&self, store: &Store, rel: &str) -> Result<()> {
        store
            .files
            .make_directory(&self.conn.session, rel, true)
            .await
            .map_err(|e| {
                DriverError::from(e).context(format!("cannot make folder [{}] {rel}", store.name))
            })
    }

    /// Creates the virtual disk `rel` (a `.vmdk` path) of `size_mb` MB and type
    /// `disk_type` on `store`.
    pub async fn create_disk(
        &self,
        store: &Store,
        rel: &str,
        size_mb: u64,
        disk_type: &str,
    ) -> Result<()> {
        let name = store.path(rel)?;
        let spec = disk_spec(size_mb, disk_type);
        create_disk_with(&self.conn.session, self.vdm()?, self.dc(), &name, &spec)
            .await
            .map_err(|e| {
                e.context(format!(
                    "cannot create the {disk_type} disk {name} of {size_mb} MB"
                ))
            })
    }

    /// Copies the virtual disk `src` (a `[ds] path`) to `dst_rel` on `dst` as a thin disk.
    /// A server that refuses a destination spec (vCenter answers `NotImplemented` for some
    /// set-ups, as the simulator does) gets the copy without one, in its default format,
    /// which is logged.
    pub async fn copy_disk(&self, src: &str, dst: &Store, dst_rel: &str) -> Result<()> {
        let dest = dst.path(dst_rel)?;
        let vdm = self.vdm()?;
        let spec = AnyVirtualDiskSpec::VirtualDiskSpec(Box::new(VirtualDiskSpec {
            disk_type: "thin".into(),
            adapter_type: ADAPTER.into(),
        }));
        let what = || format!("cannot copy disk {src} to {dest}");
        let first =
            copy_disk_with(&self.conn.session, vdm, self.dc(), src, &dest, Some(&spec)).await;
        match first {
            Err(e) if e.fault_type() == Some("NotImplemented") => {
                output::info(&format!(
                    "the server cannot convert while copying ({e}): {dest} keeps the server's default format"
                ));
                copy_disk_with(&self.conn.session, vdm, self.dc(), src, &dest, None)
                    .await
                    .map_err(|e| e.context(what()))
            }
            other => other.map_err(|e| e.context(what())),
        }
    }

    /// Copies the file `src` (a `[ds] path`) to `dst_rel` on `dst`, replacing it.
    pub async fn copy_file(&self, src: &str, dst: &Store, dst_rel: &str) -> Result<()> {
        let dest = dst.path(dst_rel)?;
        self.fm()?
            .copy_datastore_file_task(
                &self.conn.session,
                src,
                self.dc(),
                &dest,
                self.dc(),
                Some(true),
            )
            .await
            .map_err(DriverError::from)?
            .wait(&self.conn.session)
            .await
            .map_err(|e| DriverError::from(e).context(format!("cannot copy {src} to {dest}")))
    }

    /// Deletes the file or folder (recursively) `rel` of `store`; `false` when it was not
    /// there.
    pub async fn delete(&self, store: &Store, rel: &str) -> Result<bool> {
        match store.files.delete(&self.conn.session, rel).await {
            Ok(()) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => {
                Err(DriverError::from(e).context(format!("cannot delete [{}] {rel}", store.name)))
            }
        }
    }

    /// Deletes the virtual disk `rel` (descriptor and extents) of `store`; `false` when it
    /// was not there.
    pub async fn delete_disk(&self, store: &Store, rel: &str) -> Result<bool> {
        let name = store.path(rel)?;
        let task = self
            .vdm()?
            .delete_virtual_disk_task(&self.conn.session, &name, self.dc())
            .await;
        let r = match task {
            Ok(t) => t.wait(&self.conn.session).await,
            Err(e) => Err(e),
        };
        match r {
            Ok(()) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(DriverError::from(e).context(format!("cannot delete disk {name}"))),
        }
    }

    /// Renames the virtual disk `from` to `to` (both on `store`), which must not exist.
    pub async fn move_disk(&self, store: &Store, from: &str, to: &str) -> Result<()> {
        let (src, dst) = (store.path(from)?, store.path(to)?);
        let task = self
            .vdm()?
            .move_virtual_disk_task(
                &self.conn.session,
                &src,
                self.dc(),
                &dst,
                self.dc(),
                Some(false),
                &[],
            )
            .await
            .map_err(DriverError::from)?;
        TaskOf::<()>::new(task.task)
            .wait(&self.conn.session)
            .await
            .map_err(|e| DriverError::from(e).context(format!("cannot move disk {src} to {dst}")))
    }

    /// Uploads the local file `local` to `rel` on `store` over the datastore HTTP interface,
    /// streaming (never the whole file in memory), with an `INFO` line at every tenth of a
    /// file over 64 MiB.
    pub async fn upload_file(
        &self,
        store: &Store,
        local: &std::path::Path,
        rel: &str,
    ) -> Result<u64> {
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::Arc;
        let size = std::fs::metadata(local)
            .map_err(|e| DriverError::new(format!("cannot read {}: {e}", local.display())))?
            .len();
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        let name = format!("[{}] {rel}", store.name);
        let label = name.clone();
        let progress = move |n: u64| {
            let before = counter.fetch_add(n, Ordering::Relaxed);
            let after = before + n;
            if size >= 64 << 20 && before * 10 / size != after * 10 / size {
                output::info(&format!(
                    "{label}: {} of {} MiB sent",
                    after >> 20,
                    size >> 20
                ));
            }
        };
        store
            .files
            .upload_file(&self.conn.session, local, rel, progress)
            .await
            .map_err(|e| {
                DriverError::from(e).context(format!("cannot upload {} to {name}", local.display()))
            })?;
        Ok(sent.load(Ordering::Relaxed))
    }

    /// Uploads exactly `length` bytes of `source` to `rel` on `store` (streaming).
    pub async fn upload_stream<R>(
        &self,
        store: &Store,
        rel: &str,
        source: R,
        length: u64,
    ) -> Result<()>
    where
        R: tokio::io::AsyncRead + Send + Unpin + 'static,
    {
        store
            .files
            .upload(&self.conn.session, rel, source, length, |_| {})
            .await
            .map_err(|e| {
                DriverError::from(e).context(format!("cannot upload [{}] {rel}", store.name))
            })
    }

    /// Renames the file `from` to `to` on `store` (`MoveDatastoreFile_Task`).
    pub async fn move_file(&self, store: &Store, from: &str, to: &str) -> Result<()> {
        self.move_between(store, from, store, to).await
    }

    /// Moves the file or folder `from` of `src_store` to `to` on `dst_store`
    /// (`MoveDatastoreFile_Task`, never replacing an existing `to`).
    pub async fn move_between(
        &self,
        src_store: &Store,
        from: &str,
        dst_store: &Store,
        to: &str,
    ) -> Result<()> {
        let (src, dst) = (src_store.path(from)?, dst_store.path(to)?);
        self.fm()?
            .move_datastore_file_task(
                &self.conn.session,
                &src,
                self.dc(),
                &dst,
                self.dc(),
                Some(false),
            )
            .await
            .map_err(DriverError::from)?
            .wait(&self.conn.session)
            .await
            .map_err(|e| DriverError::from(e).context(format!("cannot move {src} to {dst}")))
    }

    /// Writes the small text file `rel` on `store` over the datastore HTTP interface.
    pub async fn put_text(&self, store: &Store, rel: &str, text: &str) -> Result<()> {
        let bytes = text.as_bytes().to_vec();
        let len = bytes.len() as u64;
        store
            .files
            .upload(
                &self.conn.session,
                rel,
                std::io::Cursor::new(bytes),
                len,
                |_| {},
            )
            .await
            .map_err(|e| {
                DriverError::from(e).context(format!("cannot write [{}] {rel}", store.name))
            })
    }
}

/// The datacenter's inventory path for datastore HTTP URLs: vmwarerc's `:datacenter` or the
/// datacenter's name through vCenter (one round trip), `ha-datacenter` on an ESX host.
pub async fn datacenter_path(conn: &Conn) -> Result<String> {
    Ok(match (&conn.rc.datacenter, conn.vcenter) {
        (Some(dc), true) => dc.clone(),
        (None, true) => {
            let p = retrieve_properties(
                &conn.session,
                &conn.session.property_collector(),
                std::slice::from_ref(conn.datacenter.reference()),
                &["name"],
            )
            .await?;
            p.first()
                .and_then(|p| p.str("name"))
                .unwrap_or("ha-datacenter")
                .to_string()
        }
        (_, false) => "ha-datacenter".to_string(),
    })
}

/// The spec of a new disk of `size_mb` MB and vSphere type `disk_type`.
pub fn disk_spec(size_mb: u64, disk_type: &str) -> AnyVirtualDiskSpec {
    AnyVirtualDiskSpec::FileBackedVirtualDiskSpec(Box::new(FileBackedVirtualDiskSpec {
        base: VirtualDiskSpec {
            disk_type: disk_type.into(),
            adapter_type: ADAPTER.into(),
        },
        capacity_kb: i64::try_from(size_mb.saturating_mul(1024)).unwrap_or(i64::MAX),
        ..Default::default()
    }))
}

/// `CreateVirtualDisk_Task` and its wait (also used with a loopback fixture's client).
pub async fn create_disk_with(
    client: &vim_sdk::Client,
    vdm: &mo::VirtualDiskManager,
    dc: Option<&ManagedObjectReference>,
    name: &str,
    spec: &AnyVirtualDiskSpec,
) -> Result<()> {
    let task = vdm.create_virtual_disk_task(client, name, dc, spec).await?;
    // The result (the disk's name) is not needed: wait without decoding it.
    TaskOf::<()>::new(task.task).wait(client).await?;
    Ok(())
}

/// `CopyVirtualDisk_Task` and its wait, keeping the fault type for the caller.
pub async fn copy_disk_with(
    client: &vim_sdk::Client,
    vdm: &mo::VirtualDiskManager,
    dc: Option<&ManagedObjectReference>,
    src: &str,
    dest: &str,
    spec: Option<&AnyVirtualDiskSpec>,
) -> Result<()> {
    let task = vdm
        .copy_virtual_disk_task(client, src, dc, dest, dc, spec, Some(false))
        .await?;
    // The bindings type the result as a string, but servers (vcsim 0.24 at least) leave it
    // unset: wait without decoding it.
    TaskOf::<()>::new(task.task).wait(client).await?;
    Ok(())
}
