//! [`Conn`]: a logged-in connection for one OpenNebula host, and lookups by exact name.
//!
//! Without `:vcenter:` the action talks to the ESX host itself (its `ha-datacenter` and single
//! host). With `:vcenter:` it goes through vCenter and finds the host inside `:datacenter:` by
//! name, then by DNS name (`SearchIndex.FindByDnsName`), then by IP address (`FindByIp`).
//!
//! Sessions are cached across processes (vim-sdk's `SessionCache`, directory from
//! `:session_cache:`): [`Conn::close`] leaves a valid session in the cache, or logs out when
//! caching is off. Every failure after a login closes the session the same way before it is
//! reported, so no process leaks a session.

use std::collections::HashMap;
use std::net::ToSocketAddrs as _;

use std::path::PathBuf;
use vim_sdk::mo;
use vim_sdk::property::retrieve;

use vim_sdk::session::{tls_identity, Session, SessionCache};
use vim_sdk::transport::Transport;
use vim_sdk::types::{
    AnySelectionSpec, ObjectContent, ObjectSpec, PropertyFilterSpec, PropertySpec, SelectionSpec,
    TraversalSpec,
};
use vim_sdk::xml::ManagedObjectReference;
use vim_sdk::Client;

use crate::config::{Endpoint, VmwareRc};
use crate::error::{DriverError, Result};
use crate::output;

/// A logged-in connection (direct to the ESX host, or through vCenter when `:vcenter:` is
/// set) with the OpenNebula host resolved.
pub struct Conn {
    /// The session (derefs to [`vim_sdk::Client`]: pass `&conn.session` to calls).
    pub session: Session,
    /// The host named by the action.
    pub host: mo::HostSystem,
    /// The OpenNebula name of the host (as given to the action).
    pub host_name: String,
    /// The datacenter holding the host.
    pub datacenter: mo::Datacenter,
    /// The root resource pool of the host's compute resource (standalone host or cluster).
    pub pool: mo::ResourcePool,
    /// The datacenter's VM folder.
    pub vm_folder: mo::Folder,
    /// Whether the connection goes through vCenter.
    pub vcenter: bool,
    /// The configuration it was opened with.
    pub rc: VmwareRc,
    /// The endpoint it talks to.
    pub endpoint: Endpoint,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("endpoint", &self.endpoint.url)
            .field("host", &self.host_name)
            .field("host_ref", &self.host.reference().to_string())
            .field("vcenter", &self.vcenter)
            .finish_non_exhaustive()
    }
}

/// A selection spec that refers to a named traversal spec.
pub(crate) fn sel(name: &str) -> AnySelectionSpec {
    AnySelectionSpec::SelectionSpec(Box::new(SelectionSpec {
        name: Some(name.into()),
    }))
}

/// A named traversal spec.
pub(crate) fn trav(
    name: &str,
    ty: &str,
    path: &str,
    next: Vec<AnySelectionSpec>,
) -> AnySelectionSpec {
    AnySelectionSpec::TraversalSpec(Box::new(TraversalSpec {
        base: SelectionSpec {
            name: Some(name.into()),
        },
        r#type: ty.into(),
        path: path.into(),
        skip: Some(false),
        select_set: next,
    }))
}

fn props(ty: &str, paths: &[&str]) -> PropertySpec {
    PropertySpec {
        r#type: ty.into(),
        all: Some(false),
        path_set: paths.iter().map(|p| p.to_string()).collect(),
    }
}

/// One object of the host inventory query.
#[derive(Debug, Default, Clone)]
struct Node {
    name: Option<String>,
    parent: Option<ManagedObjectReference>,
    vm_folder: Option<ManagedObjectReference>,
    pool: Option<ManagedObjectReference>,
}

/// The host side of the inventory (datacenters, folders, compute resources, hosts), from one
/// `RetrievePropertiesEx`.
#[derive(Debug, Default)]
struct Inventory {
    nodes: HashMap<ManagedObjectReference, Node>,
}

impl Inventory {
    async fn read(
        client: &Client,
        root: &ManagedObjectReference,
        collector: &mo::PropertyCollector,
    ) -> Result<Self> {
        let select = vec![
            trav(
                "folder",
                "Folder",
                "childEntity",
                vec![sel("folder"), sel("dcHost"), sel("crHost")],
            ),
            trav("dcHost", "Datacenter", "hostFolder", vec![sel("folder")]),
            trav("crHost", "ComputeResource", "host", vec![]),
        ];
        let spec = PropertyFilterSpec {
            prop_set: vec![
                props("Datacenter", &["name", "parent", "vmFolder"]),
                props("Folder", &["parent"]),
                props("ComputeResource", &["parent", "resourcePool"]),
                props("HostSystem", &["name", "parent"]),
            ],
            object_set: vec![ObjectSpec {
                obj: root.clone(),
                skip: Some(false),
                select_set: select,
            }],
            ..Default::default()
        };
        let found = retrieve(client, collector, &[spec], None).await?;
        let mut nodes = HashMap::new();
        for c in found {
            let p = vim_sdk::property::ObjectProps::from(c);
            nodes.insert(
                p.obj.clone(),
                Node {
                    name: p.str("name").map(str::to_string),
                    parent: p.reference("parent").cloned(),
                    vm_folder: p.reference("vmFolder").cloned(),
                    pool: p.reference("resourcePool").cloned(),
                },
            );
        }
        Ok(Inventory { nodes })
    }

    fn datacenters(&self) -> impl Iterator<Item = (&ManagedObjectReference, &Node)> {
        self.nodes.iter().filter(|(r, _)| r.r#type == "Datacenter")
    }

    /// The datacenter above `obj`.
    fn datacenter_of(&self, obj: &ManagedObjectReference) -> Option<&ManagedObjectReference> {
        let mut cur = self.nodes.get(obj)?.parent.as_ref()?;
        for _ in 0..64 {
            if cur.r#type == "Datacenter" {
                return Some(cur);
            }
            cur = self.nodes.get(cur)?.parent.as_ref()?;
        }
        None
    }

    /// The hosts of datacenter `dc` with their names.
    fn hosts_in<'a>(
        &'a self,
        dc: &'a ManagedObjectReference,
    ) -> impl Iterator<Item = (&'a ManagedObjectReference, &'a str)> + 'a {
        self.nodes
            .iter()
            .filter(move |(r, _)| r.r#type == "HostSystem" && self.datacenter_of(r) == Some(dc))
            .map(|(r, n)| (r, n.name.as_deref().unwrap_or("")))
    }

    /// The root pool of the compute resource holding `host`.
    fn pool_of(&self, host: &ManagedObjectReference) -> Option<&ManagedObjectReference> {
        let cr = self.nodes.get(host)?.parent.as_ref()?;
        self.nodes.get(cr)?.pool.as_ref()
    }
}

/// What [`Conn::open`] resolves: datacenter, host, pool, VM folder.
struct Placement {
    datacenter: ManagedObjectReference,
    vm_folder: ManagedObjectReference,
    host: ManagedObjectReference,
    pool: ManagedObjectReference,
}

impl Conn {
    /// Loads vmwarerc and connects for OpenNebula host `host`.
    ///
    /// With a warm cache (a cached session and this host's placement from an earlier run)
    /// this costs one round trip: a `RetrievePropertiesEx` that checks the session and the
    /// host together. Otherwise it logs in (or reuses the cached session after vim-sdk's
    /// check) and resolves the host with one more `RetrievePropertiesEx`.
    pub async fn open(host: &str) -> Result<Conn> {
        let rc = VmwareRc::load()?;
        let endpoint = rc.endpoint(host)?;
        if let Some(conn) = Self::resume(&rc, &endpoint, host)? {
            match conn.check().await {
                Ok(()) => return Ok(conn),
                Err(e) => {
                    output::debug(&format!("cached session or placement not usable: {e}"));
                    conn.forget(e.fault_type() == Some("NotAuthenticated"));
                }
            }
        }
        Self::open_with(rc, host).await
    }

    /// Like [`open`](Self::open), but with a warm cache it trusts the cached session and
    /// placement without any round trip (the second field is then `true`). The caller's
    /// first call tells: on an error whose [`is_stale`] holds, call [`forget`](Self::forget)
    /// and [`open`](Self::open) again. Used by poll to stay within two round trips.
    pub async fn open_trusting(host: &str) -> Result<(Conn, bool)> {
        let rc = VmwareRc::load()?;
        let endpoint = rc.endpoint(host)?;
        if let Some(conn) = Self::resume(&rc, &endpoint, host)? {
            return Ok((conn, true));
        }
        Ok((Self::open_with(rc, host).await?, false))
    }

    /// Connects for OpenNebula host `host` with an already loaded configuration.
    pub async fn open_with(rc: VmwareRc, host: &str) -> Result<Conn> {
        let endpoint = rc.endpoint(host)?;
        if endpoint.plain_http {
            output::info(&format!(
                "warning: {} is plain http (no TLS): only for a local simulator",
                endpoint.url
            ));
        }
        let what = if endpoint.vcenter {
            "vCenter"
        } else {
            "ESX host"
        };
        let session = Client::connect(&endpoint.url, rc.connect_options(&endpoint))
            .await
            .map_err(|e| {
                DriverError::from(e).context(format!(
                    "cannot log in to {what} {} as {}",
                    endpoint.url, rc.username
                ))
            })?;
        let placed = resolve(&session, &rc, &endpoint, host).await;
        if let (Ok(p), Some(dir)) = (&placed, rc.session_cache_dir()) {
            Saved {
                datacenter: p.datacenter.clone(),
                vm_folder: p.vm_folder.clone(),
                host: p.host.clone(),
                pool: p.pool.clone(),
            }
            .store(&saved_path(&dir, &endpoint, &rc, host));
        }
        match placed {
            Ok(p) => Ok(Conn {
                session,
                host: mo::HostSystem::from_ref(p.host),
                host_name: host.to_string(),
                datacenter: mo::Datacenter::from_ref(p.datacenter),
                pool: mo::ResourcePool::from_ref(p.pool),
                vm_folder: mo::Folder::from_ref(p.vm_folder),
                vcenter: endpoint.vcenter,
                rc,
                endpoint,
            }),
            Err(e) => {
                let _ = session.close().await;
                Err(e)
            }
        }
    }

    /// A connection from the caches, with no round trip; `None` when either cache lacks it.
    fn resume(rc: &VmwareRc, endpoint: &Endpoint, host: &str) -> Result<Option<Conn>> {
        let Some(dir) = rc.session_cache_dir() else {
            return Ok(None);
        };
        let Some(entry) =
            SessionCache::new(&dir).load(&endpoint.url, &rc.username, &tls_identity(&endpoint.tls))
        else {
            return Ok(None);
        };
        // The server's `ServiceContent` comes with the cached session (an entry written
        // without one is rewritten with it by the next login or resume).
        let Some(content) = entry.content else {
            return Ok(None);
        };
        let Some(saved) = Saved::load(&saved_path(&dir, endpoint, rc, host)) else {
            return Ok(None);
        };
        let transport = Transport::new(rc.transport_config(endpoint)).map_err(|e| {
            DriverError::new(format!(
                "cannot set up the connection to {}: {e}",
                endpoint.url
            ))
        })?;
        let client = Client::new(transport);
        client.set_api_version(&entry.version);
        client.set_session_cookie(Some(entry.cookie.expose().to_string()));
        let session = Session::resume(client, *content);
        Ok(Some(Conn {
            session,
            host: mo::HostSystem::from_ref(saved.host),
            host_name: host.to_string(),
            datacenter: mo::Datacenter::from_ref(saved.datacenter),
            pool: mo::ResourcePool::from_ref(saved.pool),
            vm_folder: mo::Folder::from_ref(saved.vm_folder),
            vcenter: endpoint.vcenter,
            rc: rc.clone(),
            endpoint: endpoint.clone(),
        }))
    }

    /// One `RetrievePropertiesEx`: the session's `currentSession` and the host's `name`.
    async fn check(&self) -> Result<()> {
        let sm = self
            .session
            .content()
            .session_manager
            .clone()
            .ok_or_else(|| DriverError::new("the server has no SessionManager"))?;
        let spec = |obj: &ManagedObjectReference, ty: &str, path: &str| PropertyFilterSpec {
            prop_set: vec![props(ty, &[path])],
            object_set: vec![ObjectSpec {
                obj: obj.clone(),
                skip: Some(false),
                ..Default::default()
            }],
            ..Default::default()
        };
        let found = retrieve(
            &self.session,
            &self.session.property_collector(),
            &[
                spec(&sm, "SessionManager", "currentSession"),
                spec(self.host.reference(), "HostSystem", "name"),
            ],
            None,
        )
        .await?;
        let has = |obj: &ManagedObjectReference, path: &str| {
            found
                .iter()
                .any(|c| c.obj == *obj && c.prop_set.iter().any(|p| p.name == path))
        };
        if !has(&sm, "currentSession") {
            let mut e = DriverError::from(vim_sdk::Error::new(
                "RetrievePropertiesEx",
                None,
                vim_sdk::ErrorKind::Fault(Box::new(vim_sdk::Fault {
                    code: "ServerFaultCode".into(),
                    message: "the cached session has expired".into(),
                    detail: Some(vim_sdk::types::AnyMethodFault::NotAuthenticated(
                        Box::default(),
                    )),
                })),
            ));
            e = e.context("checking the cached session");
            return Err(e);
        }
        if !has(self.host.reference(), "name") {
            return Err(DriverError::new(format!(
                "the cached host {} is gone",
                self.host.reference()
            )));
        }
        Ok(())
    }

    /// Drops what the caches held for this connection: the host's placement always, and the
    /// session too when `session_expired` (without logging out: it is gone or not ours to
    /// end).
    pub fn forget(self, session_expired: bool) {
        if let Some(dir) = self.rc.session_cache_dir() {
            let _ =
                std::fs::remove_file(saved_path(&dir, &self.endpoint, &self.rc, &self.host_name));
            // Only if the cache still holds this session: another process may have cached a
            // fresh one meanwhile, which must stay reachable.
            if let (true, Some(cookie)) = (session_expired, self.session.session_cookie()) {
                SessionCache::new(&dir).remove_if(
                    &self.endpoint.url,
                    &self.rc.username,
                    &tls_identity(&self.endpoint.tls),
                    &cookie,
                );
            }
        }
    }

    /// The VM named exactly `name` (e.g. "one-42"), on this host or, through vCenter,
    /// anywhere in the datacenter; `None` if there is none. Never a substring match. When
    /// several VMs of the datacenter carry the name, the one on this host wins; several on
    /// this host (or none of them on it) is an error.
    pub async fn find_vm(&self, name: &str) -> Result<Option<mo::VirtualMachine>> {
        let found = self.vms_named(name, &["name"]).await?;
        let mut refs: Vec<ManagedObjectReference> = found.into_iter().map(|c| c.obj).collect();
        match refs.len() {
            0 => Ok(None),
            1 => Ok(refs.pop().map(mo::VirtualMachine::from_ref)),
            _ => {
                let hosts = vim_sdk::ops::retrieve_properties(
                    &self.session,
                    &self.session.property_collector(),
                    &refs,
                    &["runtime.host"],
                )
                .await?;
                let mine: Vec<_> = hosts
                    .iter()
                    .filter(|p| p.reference("runtime.host") == Some(self.host.reference()))
                    .collect();
                match mine.as_slice() {
                    [one] => Ok(Some(mo::VirtualMachine::from_ref(one.obj.clone()))),
                    _ => Err(DriverError::new(format!(
                        "{} VMs are named {name} in the datacenter ({} on host {}): refusing to pick one",
                        refs.len(),
                        mine.len(),
                        self.host_name
                    ))),
                }
            }
        }
    }

    /// Every VM of the datacenter's VM folder (recursively, through folders and vApps)
    /// named exactly `name`, with `paths` (which must include `name`).
    pub async fn vms_named(&self, name: &str, paths: &[&str]) -> Result<Vec<ObjectContent>> {
        let spec = PropertyFilterSpec {
            prop_set: vec![props("VirtualMachine", paths)],
            object_set: vec![ObjectSpec {
                obj: self.vm_folder.reference().clone(),
                skip: Some(true),
                select_set: vec![
                    trav(
                        "vmf",
                        "Folder",
                        "childEntity",
                        vec![sel("vmf"), sel("vapp")],
                    ),
                    trav("vapp", "VirtualApp", "vm", vec![]),
                ],
            }],
            ..Default::default()
        };
        let all = retrieve(
            &self.session,
            &self.session.property_collector(),
            &[spec],
            None,
        )
        .await?;
        Ok(all
            .into_iter()
            .filter(|c| {
                c.obj.r#type == "VirtualMachine"
                    && c.prop_set.iter().any(|p| {
                        p.name == "name"
                            && matches!(&p.val, vim_sdk::types::Any::String(s) if s == name)
                    })
            })
            .collect())
    }

    /// Another host of the same datacenter by OpenNebula name (migrate's destination): the
    /// host and its pool.
    pub async fn find_host(&self, name: &str) -> Result<(mo::HostSystem, mo::ResourcePool)> {
        let inv = Inventory::read(
            &self.session,
            &self.session.content().root_folder,
            &self.session.property_collector(),
        )
        .await?;
        let (host, pool) =
            pick_host(&self.session, &inv, self.datacenter.reference(), name).await?;
        Ok((
            mo::HostSystem::from_ref(host),
            mo::ResourcePool::from_ref(pool),
        ))
    }

    /// Logs out, or leaves a valid session in the session cache.
    pub async fn close(self) -> Result<()> {
        self.session.close().await.map_err(DriverError::from)
    }

    /// Runs `op` on this connection, then closes it (logged out, or left valid in the
    /// session cache) whatever `op` returned, and returns `op`'s result. A failure to close
    /// changes nothing for the action: it is only logged in debug mode.
    pub async fn run<T>(self, op: impl AsyncFnOnce(&Conn) -> Result<T>) -> Result<T> {
        let result = op(&self).await;
        if let Err(e) = self.close().await {
            output::debug(&format!("closing the session: {e}"));
        }
        result
    }

    /// The shape of most actions: connects for OpenNebula host `host`, looks the VM named
    /// exactly `name` up ([`find_vm`](Self::find_vm)), runs `op` with the connection and the
    /// VM (`None` when no VM has that name), and closes the connection whatever happened
    /// ([`run`](Self::run)).
    pub async fn with_vm_if_any<T>(
        host: &str,
        name: &str,
        op: impl AsyncFnOnce(&Conn, Option<mo::VirtualMachine>) -> Result<T>,
    ) -> Result<T> {
        Conn::open(host)
            .await?
            .run(async |conn| {
                let vm = conn.find_vm(name).await?;
                op(conn, vm).await
            })
            .await
    }

    /// [`with_vm_if_any`](Self::with_vm_if_any) for actions whose VM must exist: without a
    /// VM of that name the result is [`vm_not_found`](Self::vm_not_found)'s error, and `op`
    /// does not run.
    pub async fn with_vm<T>(
        host: &str,
        name: &str,
        op: impl AsyncFnOnce(&Conn, mo::VirtualMachine) -> Result<T>,
    ) -> Result<T> {
        Self::with_vm_if_any(host, name, async |conn, vm| match vm {
            Some(vm) => op(conn, vm).await,
            None => Err(conn.vm_not_found(name)),
        })
        .await
    }

    /// The VM named exactly `name` ([`find_vm`](Self::find_vm)), which must exist.
    pub async fn require_vm(&self, name: &str) -> Result<mo::VirtualMachine> {
        self.find_vm(name)
            .await?
            .ok_or_else(|| self.vm_not_found(name))
    }

    /// The error for a VM that is not there: "VM `name` not found on host `host`".
    pub fn vm_not_found(&self, name: &str) -> DriverError {
        DriverError::new(format!("VM {name} not found on host {}", self.host_name))
    }
}

async fn resolve(session: &Session, rc: &VmwareRc, ep: &Endpoint, host: &str) -> Result<Placement> {
    let inv = Inventory::read(
        session,
        &session.content().root_folder,
        &session.property_collector(),
    )
    .await?;
    let place = |dc: &ManagedObjectReference,
                 h: ManagedObjectReference,
                 pool: ManagedObjectReference|
     -> Result<Placement> {
        let vm_folder = inv
            .nodes
            .get(dc)
            .and_then(|n| n.vm_folder.clone())
            .ok_or_else(|| DriverError::new(format!("datacenter {dc} has no VM folder")))?;
        Ok(Placement {
            datacenter: dc.clone(),
            vm_folder,
            host: h,
            pool,
        })
    };
    if !ep.vcenter {
        // The ESX host itself: its only datacenter and host, whatever their names.
        let dcs: Vec<_> = inv.datacenters().map(|(r, _)| r.clone()).collect();
        let [dc] = dcs.as_slice() else {
            return Err(DriverError::new(format!(
                "ESX host {host} ({}) shows {} datacenters, expected one (is it a vCenter? then set :vcenter: in {})",
                ep.url,
                dcs.len(),
                rc.path.display()
            )));
        };
        let hosts: Vec<_> = inv.hosts_in(dc).map(|(r, _)| r.clone()).collect();
        let [h] = hosts.as_slice() else {
            return Err(DriverError::new(format!(
                "ESX host {host} ({}) shows {} hosts, expected one (is it a vCenter? then set :vcenter: in {})",
                ep.url,
                hosts.len(),
                rc.path.display()
            )));
        };
        let pool = inv
            .pool_of(h)
            .cloned()
            .ok_or_else(|| DriverError::new(format!("ESX host {host} has no resource pool")))?;
        return place(dc, h.clone(), pool);
    }
    let dc_name = rc.datacenter.as_deref().unwrap_or_default();
    let dc = inv
        .datacenters()
        .find(|(_, n)| n.name.as_deref() == Some(dc_name))
        .map(|(r, _)| r.clone())
        .ok_or_else(|| {
            let mut known: Vec<&str> = inv
                .datacenters()
                .filter_map(|(_, n)| n.name.as_deref())
                .collect();
            known.sort_unstable();
            DriverError::new(format!(
                "vCenter {} has no datacenter named {dc_name} (key :datacenter: of {}; it has: {})",
                ep.url,
                rc.path.display(),
                known.join(", ")
            ))
        })?;
    let (h, pool) = pick_host(session, &inv, &dc, host).await?;
    place(&dc, h, pool)
}

/// Host `name` of datacenter `dc`: by name, then DNS name, then IP address.
async fn pick_host(
    client: &Client,
    inv: &Inventory,
    dc: &ManagedObjectReference,
    name: &str,
) -> Result<(ManagedObjectReference, ManagedObjectReference)> {
    let hosts: Vec<(ManagedObjectReference, String)> = inv
        .hosts_in(dc)
        .map(|(r, n)| (r.clone(), n.to_string()))
        .collect();
    let in_dc = |r: &ManagedObjectReference| hosts.iter().any(|(h, _)| h == r);
    let mut found = hosts
        .iter()
        .find(|(_, n)| n == name)
        .map(|(r, _)| r.clone());
    if found.is_none() {
        let search = client
            .service_content()
            .await?
            .search_index
            .clone()
            .map(mo::SearchIndex::from_ref);
        if let Some(si) = search {
            if let Some(e) = si.find_by_dns_name(client, Some(dc), name, false).await? {
                found = Some(e.reference().clone()).filter(|r| in_dc(r));
            }
            if found.is_none() {
                let name_owned = name.to_string();
                let ips: Vec<String> = tokio::task::spawn_blocking(move || {
                    (name_owned.as_str(), 0)
                        .to_socket_addrs()
                        .map(|a| a.map(|s| s.ip().to_string()).collect())
                        .unwrap_or_default()
                })
                .await
                .unwrap_or_default();
                for ip in ips {
                    if let Some(e) = si.find_by_ip(client, Some(dc), &ip, false).await? {
                        if in_dc(e.reference()) {
                            found = Some(e.reference().clone());
                            break;
                        }
                    }
                }
            }
        }
    }
    let Some(h) = found else {
        let dc_name = inv
            .nodes
            .get(dc)
            .and_then(|n| n.name.clone())
            .unwrap_or_default();
        return Err(DriverError::new(format!(
            "no host named {name} in datacenter {dc_name} (looked up by name, DNS name and IP address)"
        )));
    };
    let pool = inv
        .pool_of(&h)
        .cloned()
        .ok_or_else(|| DriverError::new(format!("host {name} has no resource pool")))?;
    Ok((h, pool))
}

/// Whether an error from a connection made by [`Conn::open_trusting`] means the caches were
/// stale (session expired, cached objects gone), so that opening again may succeed.
pub fn is_stale(e: &DriverError) -> bool {
    matches!(
        e.fault_type(),
        Some("NotAuthenticated" | "ManagedObjectNotFound" | "InvalidArgument")
    )
}

/// The placement file of (endpoint, user, host) in the cache directory.
fn saved_path(dir: &std::path::Path, ep: &Endpoint, rc: &VmwareRc, host: &str) -> PathBuf {
    dir.join(format!(
        "placement-{}",
        crate::netstats::fnv(&[&ep.url, &rc.username, host])
    ))
}

/// What a later process needs, beside the cached session and its `ServiceContent`, to skip
/// the host lookup: the host's placement. Not secret (object ids only).
struct Saved {
    datacenter: ManagedObjectReference,
    vm_folder: ManagedObjectReference,
    host: ManagedObjectReference,
    pool: ManagedObjectReference,
}

/// The first line of a placement file (`v1` files also held the `ServiceContent`, now read
/// from the session cache: they are ignored, and rewritten by the next lookup).
const SAVED_MAGIC: &str = "placement v2";

impl Saved {
    fn load(path: &std::path::Path) -> Option<Saved> {
        let text = std::fs::read_to_string(path).ok()?;
        let mut lines = text.lines();
        if lines.next()? != SAVED_MAGIC {
            return None;
        }
        let mut refs: HashMap<String, ManagedObjectReference> = HashMap::new();
        for l in lines {
            let mut it = l.splitn(3, '\t');
            let (k, t, v) = (it.next()?, it.next()?, it.next()?);
            refs.insert(k.to_string(), ManagedObjectReference::new(t, v));
        }
        Some(Saved {
            datacenter: refs.remove("datacenter")?,
            vm_folder: refs.remove("vm_folder")?,
            host: refs.remove("host")?,
            pool: refs.remove("pool")?,
        })
    }

    fn store(&self, path: &std::path::Path) {
        let mut text = format!("{SAVED_MAGIC}\n");
        for (k, r) in [
            ("datacenter", &self.datacenter),
            ("vm_folder", &self.vm_folder),
            ("host", &self.host),
            ("pool", &self.pool),
        ] {
            if r.r#type.contains(['\t', '\n']) || r.value.contains(['\t', '\n']) {
                return;
            }
            text.push_str(&format!("{k}\t{}\t{}\n", r.r#type, r.value));
        }
        // Not secret, but beside the sessions: private like them (mode 0600 from creation).
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let ok = options
            .open(&tmp)
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
            .and_then(|_| std::fs::rename(&tmp, path));
        if let Err(e) = ok {
            let _ = std::fs::remove_file(&tmp);
            output::debug(&format!("cannot store {}: {e}", path.display()));
        }
    }
}
