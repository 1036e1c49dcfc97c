//! Where files are and where new VMs go, for the examples that write: a datastore of the
//! datacenter (named, else the only one) with its HTTP file access ([`datastore_files`]),
//! and for a new VM the datacenter's VM folder, a resource pool and optionally a host
//! ([`Placement`]).
//!
//! The datacenter is [`Conn::datacenter`]'s (`--dc` / `GOVC_DATACENTER`, else the only one).
//! A name that matches nothing, or a choice left open among several, is a one-line failure
//! saying what to pass.

use vim_sdk::datastore::{DatastoreFiles, DatastoreLocation};
use vim_sdk::device::NicBacking;
use vim_sdk::find::Entity;
use vim_sdk::mo;
use vim_sdk::xml::ManagedObjectReference;

use crate::connect::Conn;
use crate::fail::{Context as _, Failure, Result};

/// The one `T` named `name` in `container` (recursively), or when `name` is `None` the only
/// `T` there; `kind` names it in messages, `hint` says how to choose one.
async fn one_in<T: Entity>(
    conn: &Conn,
    container: &ManagedObjectReference,
    name: Option<&str>,
    kind: &str,
    hint: &str,
) -> Result<(String, T)> {
    let mut all = conn
        .finder()
        .list::<T>(&conn.session, container, true)
        .await
        .with_context(|| format!("cannot list the {kind}s"))?;
    if let Some(n) = name {
        all.retain(|(found, _)| found == n);
        if all.is_empty() {
            return Err(Failure::new(format!("{kind} {n} not found")));
        }
    }
    match all.len() {
        1 => Ok(all.remove(0)),
        0 => Err(Failure::new(format!("the datacenter has no {kind}"))),
        n => {
            let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
            Err(Failure::usage(format!(
                "{n} {kind}s ({}): {hint}",
                names.join(", ")
            )))
        }
    }
}

/// The datacenter with its inventory path (`DC0`, `folder/DC1`; `ha-datacenter` on ESX),
/// as the HTTP file interface's `dcPath` wants it.
pub async fn datacenter_path(conn: &Conn) -> Result<(String, mo::Datacenter)> {
    let (_, dc) = conn.datacenter().await?;
    let path = conn
        .finder()
        .inventory_path(&conn.session, dc.reference())
        .await
        .context("cannot read the datacenter's inventory path")?;
    Ok((path, dc))
}

/// File access to the datastore `ds` (else the datacenter's only one), and its handle.
pub async fn datastore_files(
    conn: &Conn,
    ds: Option<&str>,
) -> Result<(DatastoreFiles, mo::Datastore)> {
    let (dc_path, dc) = datacenter_path(conn).await?;
    let (ds_name, datastore) = one_in::<mo::Datastore>(
        conn,
        dc.reference(),
        ds,
        "datastore",
        "choose one with --ds or GOVC_DATASTORE",
    )
    .await?;
    let location = DatastoreLocation::new(dc_path, ds_name);
    Ok((DatastoreFiles::new(&conn.managers, dc, location), datastore))
}

/// The VM folder of `datacenter` (`vmFolder`).
pub async fn vm_folder(conn: &Conn, datacenter: &mo::Datacenter) -> Result<mo::Folder> {
    datacenter
        .reference()
        .properties(&conn.session, &["vmFolder"])
        .await
        .context("cannot read the datacenter's VM folder")?
        .take_as("vmFolder")
        .ok_or_else(|| Failure::new("the datacenter has no VM folder"))
}

/// Where a new VM goes.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The datacenter.
    pub datacenter: mo::Datacenter,
    /// Its VM folder (`vmFolder`).
    pub vm_folder: mo::Folder,
    /// The resource pool: the host's compute resource's root pool, else the datacenter's
    /// first compute resource's (by name).
    pub pool: mo::ResourcePool,
    /// The host asked for, if any.
    pub host: Option<mo::HostSystem>,
    /// The datastore for the VM's files.
    pub datastore: mo::Datastore,
    /// Its name.
    pub datastore_name: String,
}

impl Placement {
    /// The placement on host `host` (else the first compute resource) and datastore `ds`
    /// (else the datacenter's only one).
    pub async fn resolve(conn: &Conn, host: Option<&str>, ds: Option<&str>) -> Result<Self> {
        let (_, datacenter) = conn.datacenter().await?;
        let (datastore_name, datastore) = one_in::<mo::Datastore>(
            conn,
            datacenter.reference(),
            ds,
            "datastore",
            "choose one with --ds or GOVC_DATASTORE",
        )
        .await?;
        let vm_folder = vm_folder(conn, &datacenter).await?;
        let (host, compute) = match host {
            Some(name) => {
                let (_, h) =
                    one_in::<mo::HostSystem>(conn, datacenter.reference(), Some(name), "host", "")
                        .await?;
                let compute = h
                    .compute_resource(&conn.session)
                    .await
                    .with_context(|| format!("cannot read host {name}'s compute resource"))?
                    .ok_or_else(|| Failure::new(format!("host {name} has no compute resource")))?;
                (Some(h), compute)
            }
            None => {
                let first = conn
                    .finder()
                    .list::<mo::ComputeResource>(&conn.session, datacenter.reference(), true)
                    .await
                    .context("cannot list the compute resources")?
                    .into_iter()
                    .next()
                    .ok_or_else(|| Failure::new("the datacenter has no host or cluster"))?;
                (None, first.1)
            }
        };
        let pool = compute
            .root_pool(&conn.session)
            .await
            .context("cannot read the resource pool")?
            .ok_or_else(|| Failure::new("the compute resource has no resource pool"))?;
        Ok(Placement {
            datacenter,
            vm_folder,
            pool,
            host,
            datastore,
            datastore_name,
        })
    }

    /// The backing of a card on the network named `name` in the datacenter: a standard port
    /// group (a `Network`), or a distributed port group (its `key` and its switch's `uuid`,
    /// two more reads). Anything else (an NSX `OpaqueNetwork`) is a usage error.
    pub async fn nic_backing(&self, conn: &Conn, name: &str) -> Result<NicBacking> {
        let (_, net) =
            one_in::<mo::Network>(conn, self.datacenter.reference(), Some(name), "network", "")
                .await?;
        let net = net.reference();
        match net.r#type.as_str() {
            "Network" => Ok(NicBacking::PortGroup {
                name: name.to_string(),
                network: net.clone(),
            }),
            "DistributedVirtualPortgroup" => {
                let cannot = || format!("cannot read distributed port group {name}");
                let pg = net
                    .properties(&conn.session, &["key", "config.distributedVirtualSwitch"])
                    .await
                    .with_context(cannot)?;
                let (Some(key), Some(switch)) = (
                    pg.str("key"),
                    pg.reference("config.distributedVirtualSwitch"),
                ) else {
                    return Err(Failure::new(format!("{}: no key or switch", cannot())));
                };
                let uuid = switch
                    .properties(&conn.session, &["uuid"])
                    .await
                    .with_context(|| format!("cannot read the switch of port group {name}"))?
                    .str("uuid")
                    .map(String::from)
                    .ok_or_else(|| {
                        Failure::new(format!("the switch of port group {name} has no uuid"))
                    })?;
                Ok(NicBacking::DistributedPortGroup {
                    switch_uuid: uuid,
                    portgroup_key: key.to_string(),
                })
            }
            other => Err(Failure::usage(format!(
                "{name} is a {other}: this example handles standard and distributed port groups"
            ))),
        }
    }
}

/// Standard output as an asynchronous file, for downloads to `-` (a duplicate of file
/// descriptor 1, so bytes go out unbuffered in the order written).
pub fn stdout_file() -> Result<tokio::fs::File> {
    use std::os::fd::AsFd as _;
    let fd = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .context("cannot use standard output")?;
    Ok(tokio::fs::File::from_std(std::fs::File::from(fd)))
}
