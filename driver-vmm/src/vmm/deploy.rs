//! deploy (contract §4.3): creates `one-<vmid>` from the deployment file and powers it on.
//!
//! Arguments: `<dfile> <host> <vmid> <host>`. Prints `one-<vmid>`.
//!
//! - A VM already registered as `one-<vmid>` is recovered (powered on if needed), never
//!   duplicated.
//! - Before anything is created, every port group must exist on the host and every disk and
//!   ISO file on its datastore (vcsim panics on an unknown port group and leaves a half-made
//!   VM; ESX fails late): refused with a message naming what is missing.
//! - `.vmx`, `.nvram` and `vmware.log` left in `[<sysds>] <vmid>/` by an earlier failed run
//!   (which make `CreateVM_Task` fail with `FileAlreadyExists`) are moved aside to
//!   `<name>.stale-<unix time>`, never deleted, and only when no registered VM uses that
//!   `.vmx`.
//! - `CreateVM_Task` in the datacenter's VM folder with the host's pool and the host, then
//!   `PowerOnVM_Task`. If anything after the creation fails, the VM is unregistered
//!   (`UnregisterVM`, never destroyed: the disks are untouched) and the action fails.

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use driver_common::connect::Conn;
use driver_common::{output, DriverError, Result};
use vim_sdk::mo;
use vim_sdk::ops::retrieve_properties;
use vim_sdk::types::{AnyFileInfo, HostDatastoreBrowserSearchSpec, VirtualMachinePowerState};
use vim_sdk::xml::ManagedObjectReference;

use super::links;
use crate::deployment::{self, spec, DatastorePath, Deployment};
use crate::storage::link;

const USAGE: &str = "<deployment_file> <host> <vmid> <host>";

/// Runs deploy.
pub async fn run(args: &[String]) -> Result<String> {
    let (dfile, host, vmid) = match args {
        [d, h, v, ..] if !d.is_empty() && !h.is_empty() && args.len() <= 4 => {
            let vmid: u64 = v
                .parse()
                .map_err(|_| DriverError::usage("deploy", USAGE, args))?;
            (d.as_str(), h.as_str(), vmid)
        }
        _ => return Err(DriverError::usage("deploy", USAGE, args)),
    };
    let dep = read_deployment(dfile, vmid)?;
    Conn::open(host)
        .await?
        .run(async |conn| deploy(conn, &dep, vmid).await)
        .await
        .map_err(|e| e.context(format!("cannot deploy VM {vmid} on host {host}")))
}

/// Reads and parses the deployment file `path` of VM `vmid` (its `<name>` must be
/// `one-<vmid>`); warnings go to the log.
pub(crate) fn read_deployment(path: &str, vmid: u64) -> Result<Deployment> {
    let meta = std::fs::metadata(path)
        .map_err(|e| DriverError::new(format!("cannot read deployment file {path}: {e}")))?;
    if meta.len() > deployment::MAX_DEPLOYMENT_BYTES as u64 {
        return Err(DriverError::new(format!(
            "deployment file {path}: {} bytes, more than the {} accepted",
            meta.len(),
            deployment::MAX_DEPLOYMENT_BYTES
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| DriverError::new(format!("cannot read deployment file {path}: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| DriverError::new(format!("deployment file {path}: not UTF-8")))?;
    let dep = deployment::parse(&text).map_err(|e| DriverError::new(format!("{path}: {e}")))?;
    for w in &dep.warnings {
        output::info(w);
    }
    let expected = spec::vm_name(vmid);
    if dep.name != expected {
        return Err(DriverError::new(format!(
            "deployment file {path} names the VM {:?}, not {expected}",
            dep.name
        )));
    }
    Ok(dep)
}

async fn deploy(conn: &Conn, dep: &Deployment, vmid: u64) -> Result<String> {
    let name = spec::vm_name(vmid);
    if let Some(vm) = conn.find_vm(&name).await? {
        output::info(&format!("{name} is already registered: recovering it"));
        ensure_powered_on(conn, &vm).await?;
        return Ok(name);
    }
    let vm = create(conn, dep, vmid).await?;
    if let Err(e) = ensure_powered_on(conn, &vm).await {
        return Err(unregister_after_failure(conn, &vm, e.context("power on")).await);
    }
    Ok(name)
}

/// Powers `vm` on unless it already is.
pub(crate) async fn ensure_powered_on(conn: &Conn, vm: &mo::VirtualMachine) -> Result<()> {
    let state = vm.power_state(&conn.session).await?;
    if state != VirtualMachinePowerState::PoweredOn {
        vm.power_on_vm_task(&conn.session, None)
            .await?
            .wait(&conn.session)
            .await?;
    }
    Ok(())
}

/// Unregisters `vm` after `error` (files kept) and returns the error to report.
pub(crate) async fn unregister_after_failure(
    conn: &Conn,
    vm: &mo::VirtualMachine,
    error: DriverError,
) -> DriverError {
    match vm.unregister_vm(&conn.session).await {
        Ok(()) => error.context("the VM was unregistered again (its files are kept)"),
        Err(u) => DriverError::new(format!(
            "{error}; unregistering the VM failed too ({}), unregister it by hand",
            DriverError::from(u)
        )),
    }
}

/// Creates (registers, powered off) VM `vmid` from `dep` after the checks described in the
/// module documentation.
pub(crate) async fn create(conn: &Conn, dep: &Deployment, vmid: u64) -> Result<mo::VirtualMachine> {
    let networks = check_networks(conn, dep).await?;
    let datastores = host_datastores(conn).await?;
    let vmx = spec::vmx_path(dep, vmid).map_err(|e| DriverError::new(e.to_string()))?;
    let resolved = resolve_links(conn, dep, vmid, &datastores).await?;
    let dep = &resolved;
    // One search per datastore folder for both checks (the VM's own folder usually holds
    // an ISO and the stale files looked for), one browser read per datastore.
    let disk_files = files_by_folder(dep);
    let stale_names = stale_candidates(&vmx);
    let stale_folder = (vmx.datastore.clone(), vmx.dir().to_string());
    let mut wanted = disk_files.clone();
    let names = wanted.entry(stale_folder.clone()).or_default();
    for n in &stale_names {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    for (ds_name, _) in wanted.keys() {
        if !datastores.contains_key(ds_name) {
            let what = if disk_files.keys().any(|(d, _)| d == ds_name) {
                "datastore"
            } else {
                "system datastore"
            };
            return Err(DriverError::new(format!(
                "{what} {ds_name} is not mounted on host {}: nothing was created",
                conn.host_name
            )));
        }
    }
    let found = search_folders(conn, &datastores, &wanted).await?;
    check_files(&disk_files, &found)?;
    let stale: Vec<String> = stale_names
        .into_iter()
        .filter(|n| found.get(&stale_folder).is_some_and(|f| f.contains(n)))
        .collect();
    move_stale_files(conn, &vmx, &datastores, stale).await?;
    let (config, warnings) =
        spec::build(dep, vmid, &networks).map_err(|e| DriverError::new(e.to_string()))?;
    for w in &warnings {
        output::info(w);
    }
    let vm = conn
        .vm_folder
        .create_vm_task(
            &conn.session,
            &config,
            conn.pool.reference(),
            Some(conn.host.reference()),
        )
        .await?
        .wait(&conn.session)
        .await
        .map_err(|e| DriverError::from(e).context("CreateVM_Task"))?;
    Ok(vm)
}

/// The host's networks by name, after checking that every port group of `dep` is one.
async fn check_networks(
    conn: &Conn,
    dep: &Deployment,
) -> Result<HashMap<String, ManagedObjectReference>> {
    let refs: Vec<ManagedObjectReference> = conn
        .host
        .networks(&conn.session)
        .await?
        .into_iter()
        .map(|n| n.reference().clone())
        .collect();
    let mut by_name = by_name(conn, &refs).await?;
    let mut missing: Vec<&str> = dep
        .interfaces
        .iter()
        .map(|i| i.bridge.as_str())
        .filter(|b| !by_name.contains_key(*b))
        .collect();
    if !missing.is_empty() {
        from_host_portgroups(conn, &missing, &mut by_name).await?;
        missing.retain(|b| !by_name.contains_key(*b));
    }
    if !missing.is_empty() {
        return Err(DriverError::new(format!(
            "port group(s) {} do not exist on host {}: nothing was created",
            missing.join(", "),
            conn.host_name
        )));
    }
    Ok(by_name)
}

/// Adds to `by_name` each of `names` that the host's own network configuration has as a
/// standard port group, with the datacenter's `Network` of that name. A host's `network`
/// lists its standard port groups on ESX and vCenter, but vcsim 0.24's `AddPortGroup` (what
/// the network driver's `pre` calls) only makes a datacenter-wide `Network`, never listed by
/// any host. Costs three round trips, only when a name is missing.
async fn from_host_portgroups(
    conn: &Conn,
    names: &[&str],
    by_name: &mut HashMap<String, ManagedObjectReference>,
) -> Result<()> {
    let ns = crate::vnm::portgroup::network_system(&conn.session, &conn.host)
        .await
        .map_err(DriverError::new)?;
    let info = crate::vnm::portgroup::network_info(&conn.session, &ns)
        .await
        .map_err(DriverError::new)?;
    let on_host: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| super::nic::host_has_portgroup(&info, n))
        .collect();
    if on_host.is_empty() {
        return Ok(());
    }
    let dc = conn
        .datacenter
        .reference()
        .properties(&conn.session, &["network"])
        .await?;
    let in_dc = self::by_name(conn, dc.references("network")).await?;
    for name in on_host {
        if let Some(r) = in_dc.get(name) {
            by_name.insert(name.to_string(), r.clone());
        }
    }
    Ok(())
}

/// The host's datastores by name.
async fn host_datastores(conn: &Conn) -> Result<HashMap<String, mo::Datastore>> {
    let refs: Vec<ManagedObjectReference> = conn
        .host
        .datastores(&conn.session)
        .await?
        .into_iter()
        .map(|d| d.reference().clone())
        .collect();
    Ok(by_name(conn, &refs)
        .await?
        .into_iter()
        .map(|(name, r)| (name, mo::Datastore::from_ref(r)))
        .collect())
}

/// `refs` by their `name`, read in one `RetrievePropertiesEx`.
async fn by_name(
    conn: &Conn,
    refs: &[ManagedObjectReference],
) -> Result<HashMap<String, ManagedObjectReference>> {
    let props = retrieve_properties(
        &conn.session,
        &conn.session.property_collector(),
        refs,
        &["name"],
    )
    .await?;
    Ok(props
        .iter()
        .filter_map(|p| Some((p.str("name")?.to_string(), p.object().clone())))
        .collect())
}

/// A datastore folder: the datastore's name and the folder's path in it (`42/disk.0`).
type Folder = (String, String);

/// For each folder in `wanted`, the names among its list that exist there: one
/// `SearchDatastore_Task` per folder, one browser read per datastore. A folder that does
/// not exist holds nothing.
async fn search_folders(
    conn: &Conn,
    datastores: &HashMap<String, mo::Datastore>,
    wanted: &BTreeMap<Folder, Vec<String>>,
) -> Result<HashMap<Folder, Vec<String>>> {
    let mut browsers: HashMap<&str, mo::HostDatastoreBrowser> = HashMap::new();
    let mut found = HashMap::new();
    for ((ds_name, dir), names) in wanted {
        if !browsers.contains_key(ds_name.as_str()) {
            let ds = datastores.get(ds_name).ok_or_else(|| {
                DriverError::new(format!(
                    "datastore {ds_name} is not mounted on host {}",
                    conn.host_name
                ))
            })?;
            browsers.insert(ds_name.as_str(), ds.browser(&conn.session).await?);
        }
        let browser = &browsers[ds_name.as_str()];
        let spec = HostDatastoreBrowserSearchSpec {
            match_pattern: names.clone(),
            ..Default::default()
        };
        let path = format!("[{ds_name}] {dir}");
        let result = browser
            .search_datastore_task(&conn.session, &path, Some(&spec))
            .await?
            .wait(&conn.session)
            .await;
        let existing = match result {
            Ok(r) => r
                .file
                .iter()
                .map(|f: &AnyFileInfo| f.base().path.clone())
                .filter(|p| names.contains(p))
                .collect(),
            Err(e) if is_not_found(&e) => Vec::new(),
            Err(e) => return Err(DriverError::from(e).context(format!("searching {path}"))),
        };
        found.insert((ds_name.clone(), dir.clone()), existing);
    }
    Ok(found)
}

/// `FileNotFound` (ESX, vcsim) or `NotFound`: the searched folder does not exist.
fn is_not_found(e: &vim_sdk::Error) -> bool {
    matches!(e.fault_type(), Some("FileNotFound" | "NotFound"))
}

/// `dep` with each disk or CD-ROM that a link record of the system datastore stands for
/// pointed at the record's image ([`links`]): no round trip when no source has the shape
/// `<vmid>/disk.<N>/disk.vmdk` or `<vmid>/disk.<N>.iso` on the system datastore.
async fn resolve_links(
    conn: &Conn,
    dep: &Deployment,
    vmid: u64,
    datastores: &HashMap<String, mo::Datastore>,
) -> Result<Deployment> {
    let mut dep = dep.clone();
    let Some(sysds) = dep.system_datastore().map(str::to_string) else {
        return Ok(dep);
    };
    let slots: Vec<(usize, links::Slot)> = dep
        .disks
        .iter()
        .enumerate()
        .filter(|(_, d)| d.source.datastore == sysds)
        .filter_map(|(i, d)| Some((i, links::slot(&d.source.path, vmid)?)))
        .collect();
    if slots.is_empty() {
        return Ok(dep);
    }
    let Some(ds) = datastores.get(&sysds) else {
        return Err(DriverError::new(format!(
            "system datastore {sysds} is not mounted on host {}: nothing was created",
            conn.host_name
        )));
    };
    let wanted: Vec<u32> = slots.iter().map(|(_, s)| s.n).collect();
    let browser = ds.browser(&conn.session).await?;
    let records = links::read_records(conn, &browser, &sysds, vmid, &wanted).await?;
    for (i, slot) in slots {
        let Some(record) = records.get(&slot.n) else {
            continue;
        };
        let shown = format!("[{sysds}] {}", link::record_path(vmid, slot.n));
        links::check_kind(record, slot, &shown).map_err(|e| e.context("nothing was created"))?;
        output::info(&format!(
            "{} uses {} in place (link record {shown})",
            dep.disks[i].source,
            record.source()
        ));
        dep.disks[i].linked = Some(DatastorePath {
            datastore: record.ds.clone(),
            path: record.rel.clone(),
        });
    }
    Ok(dep)
}

/// The disk and ISO files of `dep` by folder.
fn files_by_folder(dep: &Deployment) -> BTreeMap<Folder, Vec<String>> {
    let mut by_dir: BTreeMap<Folder, Vec<String>> = BTreeMap::new();
    for d in &dep.disks {
        let file = d
            .device_file()
            .path
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        by_dir
            .entry((
                d.device_file().datastore.clone(),
                d.device_file().dir().to_string(),
            ))
            .or_default()
            .push(file);
    }
    by_dir
}

/// Checks that every file of `files` is among what [`search_folders`] `found`.
fn check_files(
    files: &BTreeMap<Folder, Vec<String>>,
    found: &HashMap<Folder, Vec<String>>,
) -> Result<()> {
    let mut missing = Vec::new();
    for (folder, names) in files {
        let (ds_name, dir) = folder;
        for f in names {
            if !found.get(folder).is_some_and(|there| there.contains(f)) {
                let path = if dir.is_empty() {
                    f.clone()
                } else {
                    format!("{dir}/{f}")
                };
                missing.push(format!("[{ds_name}] {path}"));
            }
        }
    }
    if !missing.is_empty() {
        return Err(DriverError::new(format!(
            "disk file(s) {} do not exist: nothing was created",
            missing.join(", ")
        )));
    }
    Ok(())
}

/// The files an earlier run may have left beside `vmx`: the `.vmx`, its `.nvram` and
/// `vmware.log`.
fn stale_candidates(vmx: &DatastorePath) -> Vec<String> {
    let stem = vmx
        .path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .trim_end_matches(".vmx");
    vec![
        format!("{stem}.vmx"),
        format!("{stem}.nvram"),
        "vmware.log".to_string(),
    ]
}

/// Moves aside the `stale` files (of [`stale_candidates`], found beside `vmx`) an earlier run
/// left, unless a registered VM uses that `.vmx`.
async fn move_stale_files(
    conn: &Conn,
    vmx: &DatastorePath,
    datastores: &HashMap<String, mo::Datastore>,
    stale: Vec<String>,
) -> Result<()> {
    let Some(ds) = datastores.get(&vmx.datastore) else {
        return Err(DriverError::new(format!(
            "system datastore {} is not mounted on host {}",
            vmx.datastore, conn.host_name
        )));
    };
    let dir = vmx.dir().to_string();
    if stale.is_empty() {
        return Ok(());
    }
    // Only when no registered VM uses this .vmx.
    let vmx_path = vmx.to_string();
    let vms: Vec<ManagedObjectReference> = ds
        .vms(&conn.session)
        .await?
        .into_iter()
        .map(|v| v.reference().clone())
        .collect();
    let props = retrieve_properties(
        &conn.session,
        &conn.session.property_collector(),
        &vms,
        &["name", "summary.config.vmPathName"],
    )
    .await?;
    if let Some(user) = props
        .iter()
        .find(|p| p.str("summary.config.vmPathName") == Some(vmx_path.as_str()))
    {
        return Err(DriverError::new(format!(
            "{vmx_path} belongs to the registered VM {:?}: not touched",
            user.str("name").unwrap_or("?")
        )));
    }
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let fm = mo::FileManager::from_ref(conn.session.content().file_manager.clone().ok_or_else(
        || DriverError::new("the server has no FileManager: cannot move stale files"),
    )?);
    for f in stale {
        let from = format!("[{}] {dir}/{f}", vmx.datastore);
        let to = format!("{from}.stale-{stamp}");
        output::info(&format!("moving the stale {from} aside to {to}"));
        fm.move_datastore_file_task(
            &conn.session,
            &from,
            Some(conn.datacenter.reference()),
            &to,
            Some(conn.datacenter.reference()),
            Some(false),
        )
        .await?
        .wait(&conn.session)
        .await
        .map_err(|e| DriverError::from(e).context(format!("moving {from} aside")))?;
    }
    Ok(())
}
