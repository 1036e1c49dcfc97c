//! OpenNebula's VMware drivers (VMM actions, the network driver, the IM probe, the `vmfs`
//! transfer manager and datastore drivers), natively on vim-sdk.
//!
//! One multi-call binary, `driver-vmm`: installed once under `remotes/vmware-native/` with
//! relative symlinks `remotes/vmm/vmware/<action>`, `remotes/vnm/vmware/{pre,post,clean}`,
//! `remotes/im/vmware.d/probe`, `remotes/tm/vmfs/<action>` and
//! `remotes/datastore/vmfs/<action>` pointing to it ([`install`]). It dispatches on the last
//! three components of the name it is called by (`vmm/vmware/deploy`), or on a first argument
//! naming the action when called as `driver-vmm` ([`dispatch`]).

#![warn(missing_docs)]

pub mod datastore;
pub mod deployment;
pub mod disk_target;
pub mod im;
pub mod install;
pub mod storage;
pub mod tm;
pub mod vmm;
pub mod vnm;

use driver_common::Result;

/// The VMM actions, as named in `remotes/vmm/vmware/`.
pub const VMM_ACTIONS: [&str; 16] = [
    "deploy",
    "shutdown",
    "cancel",
    "reboot",
    "reset",
    "save",
    "restore",
    "migrate",
    "poll",
    "attach_disk",
    "detach_disk",
    "attach_nic",
    "detach_nic",
    "snapshot_create",
    "snapshot_revert",
    "snapshot_delete",
];

/// The network driver's actions, as named in `remotes/vnm/vmware/`.
pub const VNM_ACTIONS: [&str; 3] = ["pre", "post", "clean"];

/// The transfer manager's actions, as named in `remotes/tm/vmfs/` (contract §7).
pub const TM_ACTIONS: [&str; 11] = [
    "clone",
    "ln",
    "mkimage",
    "mkswap",
    "mvds",
    "cpds",
    "delete",
    "context",
    "mv",
    "premigrate",
    "postmigrate",
];

/// The datastore driver's actions, as named in `remotes/datastore/vmfs/` (contract §8).
pub const DS_ACTIONS: [&str; 6] = ["cp", "mkfs", "rm", "stat", "clone", "monitor"];

/// The IM probes, as named in `remotes/im/vmware.d/` (`run_probes` runs every executable
/// there).
pub const IM_PROBES: [&str; 1] = ["probe"];

/// Which driver an action belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `vmm/vmware/<action>`.
    Vmm,
    /// `vnm/vmware/<action>`.
    Vnm,
    /// `im/vmware.d/<probe>`.
    Im,
    /// `tm/vmfs/<action>`.
    Tm,
    /// `datastore/vmfs/<action>`.
    Ds,
}

impl Kind {
    /// The directory of the remotes tree holding this driver's actions (`vmm/vmware`).
    pub fn dir(&self) -> &'static str {
        match self {
            Kind::Vmm => "vmm/vmware",
            Kind::Vnm => "vnm/vmware",
            Kind::Im => "im/vmware.d",
            Kind::Tm => "tm/vmfs",
            Kind::Ds => "datastore/vmfs",
        }
    }

    /// The driver's actions.
    pub fn actions(&self) -> &'static [&'static str] {
        match self {
            Kind::Vmm => &VMM_ACTIONS,
            Kind::Vnm => &VNM_ACTIONS,
            Kind::Im => &IM_PROBES,
            Kind::Tm => &TM_ACTIONS,
            Kind::Ds => &DS_ACTIONS,
        }
    }
}

/// An action resolved from a name such as `vmm/vmware/deploy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    /// The driver.
    pub kind: Kind,
    /// The action's name (`deploy`).
    pub name: &'static str,
}

impl Action {
    /// Resolves `vmm/vmware/<action>`, `vnm/vmware/<action>`, `im/vmware.d/<probe>`,
    /// `tm/vmfs/<action>` or `datastore/vmfs/<action>` (a path ending in those three
    /// components, as argv\[0\] of an installed symlink is).
    pub fn from_path(path: &str) -> Option<Action> {
        let mut parts = path.rsplit('/');
        let name = parts.next()?;
        let driver = parts.next()?;
        let kind = parts.next()?;
        let kind = match (kind, driver) {
            ("vmm", "vmware") => Kind::Vmm,
            ("vnm", "vmware") => Kind::Vnm,
            ("im", "vmware.d") => Kind::Im,
            ("tm", "vmfs") => Kind::Tm,
            ("datastore", "vmfs") => Kind::Ds,
            _ => return None,
        };
        kind.actions()
            .iter()
            .find(|a| **a == name)
            .map(|a| Action { kind, name: a })
    }

    /// `vmm/vmware/deploy`.
    pub fn path(&self) -> String {
        format!("{}/{}", self.kind.dir(), self.name)
    }
}

/// Runs `action` with OpenNebula's arguments.
pub async fn dispatch(action: Action, args: &[String]) -> Result<String> {
    match (action.kind, action.name) {
        (Kind::Vmm, "deploy") => vmm::deploy::run(args).await,
        (Kind::Vmm, "shutdown") => vmm::shutdown::run(args).await,
        (Kind::Vmm, "cancel") => vmm::cancel::run(args).await,
        (Kind::Vmm, "reboot") => vmm::reboot::run(args).await,
        (Kind::Vmm, "reset") => vmm::reset::run(args).await,
        (Kind::Vmm, "save") => vmm::save::run(args).await,
        (Kind::Vmm, "restore") => vmm::restore::run(args).await,
        (Kind::Vmm, "migrate") => vmm::migrate::run(args).await,
        (Kind::Vmm, "poll") => vmm::poll::run(args).await,
        (Kind::Vmm, "attach_disk") => vmm::attach_disk::run(args).await,
        (Kind::Vmm, "detach_disk") => vmm::detach_disk::run(args).await,
        (Kind::Vmm, "attach_nic") => vmm::attach_nic::run(args).await,
        (Kind::Vmm, "detach_nic") => vmm::detach_nic::run(args).await,
        (Kind::Vmm, "snapshot_create") => vmm::snapshot_create::run(args).await,
        (Kind::Vmm, "snapshot_revert") => vmm::snapshot_revert::run(args).await,
        (Kind::Vmm, "snapshot_delete") => vmm::snapshot_delete::run(args).await,
        (Kind::Vnm, "pre") => vnm::pre::run(args).await,
        (Kind::Vnm, "post") => vnm::post::run(args).await,
        (Kind::Vnm, "clean") => vnm::clean::run(args).await,
        (Kind::Im, "probe") => im::probe::run(args).await,
        (Kind::Tm, name) => tm::dispatch(name, args).await,
        (Kind::Ds, name) => datastore::dispatch(name, args).await,
        (_, other) => Err(driver_common::DriverError::new(format!(
            "unknown action {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve() {
        let a = Action::from_path("/var/lib/one/remotes/vmm/vmware/deploy").unwrap();
        assert_eq!((a.kind, a.name), (Kind::Vmm, "deploy"));
        assert_eq!(a.path(), "vmm/vmware/deploy");
        let a = Action::from_path("vnm/vmware/pre").unwrap();
        assert_eq!((a.kind, a.name), (Kind::Vnm, "pre"));
        assert!(Action::from_path("vnm/vmware/deploy").is_none());
        assert!(Action::from_path("vmm/kvm/deploy").is_none());
        assert!(Action::from_path("deploy").is_none());
        let a = Action::from_path("/var/lib/one/remotes/tm/vmfs/clone").unwrap();
        assert_eq!((a.kind, a.name), (Kind::Tm, "clone"));
        assert_eq!(a.path(), "tm/vmfs/clone");
        let a = Action::from_path("datastore/vmfs/clone").unwrap();
        assert_eq!((a.kind, a.name), (Kind::Ds, "clone"));
        assert!(Action::from_path("tm/vmware/clone").is_none());
        assert!(Action::from_path("datastore/vmfs/deploy").is_none());
        let a = Action::from_path("/var/lib/one/remotes/im/vmware.d/probe").unwrap();
        assert_eq!((a.kind, a.name), (Kind::Im, "probe"));
        assert_eq!(a.path(), "im/vmware.d/probe");
        assert!(Action::from_path("im/vmware/probe").is_none());
        assert!(Action::from_path("vmm/vmware.d/poll").is_none());
        for a in VMM_ACTIONS {
            assert_eq!(
                Action::from_path(&format!("vmm/vmware/{a}")).unwrap().name,
                a
            );
        }
    }
}
