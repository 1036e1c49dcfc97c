//! `migrate <deploy_id> <dst_host> <src_host> <vmid> <src_host>`: live migration (vMotion)
//! through vCenter to the destination host and its resource pool. vCenter's provisioning
//! checker validates the move first where the server has one (`CheckRelocate_Task`; a server
//! that lacks the check is tolerated, a refusal is not); then `RelocateVM_Task` with host and
//! pool (what `MigrateVM_Task` does, and what vcsim implements). A VM already on the
//! destination is a success. The VM's host is read back from `runtime.host` afterwards.

use vim_sdk::mo;
use vim_sdk::types::{
    LocalizedMethodFault, VirtualMachineMovePriority, VirtualMachineRelocateSpec,
};
use vim_sdk::Client;

use driver_common::config::VmwareRc;
use driver_common::connect::Conn;

use super::lifecycle::{describe, fault_is, migrate_args};
use driver_common::{DriverError, Result};

/// What [`migrate_vm`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrate {
    /// The VM moved.
    Moved,
    /// The VM already ran on the destination.
    AlreadyThere,
}

/// Where a migration goes: the destination host (its OpenNebula name for messages) and pool.
#[derive(Debug, Clone)]
pub struct Destination<'a> {
    /// The destination host.
    pub host: &'a mo::HostSystem,
    /// Its compute resource's root pool.
    pub pool: &'a mo::ResourcePool,
    /// Its OpenNebula name.
    pub name: &'a str,
}

/// The faults a server answers for a check it does not offer; only the check may fail so.
fn check_unavailable(e: &vim_sdk::Error) -> bool {
    ["MethodNotFound", "NotSupported", "NotImplemented"]
        .iter()
        .any(|f| fault_is(e, f))
}

fn fault_text(f: &LocalizedMethodFault) -> String {
    match f.localized_message.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => format!("{}: {m}", f.fault.type_name()),
        None => f.fault.type_name().to_string(),
    }
}

/// Runs vCenter's `CheckRelocate_Task` for `spec` when the server has a provisioning checker;
/// the errors it reports refuse the migration. `Ok(false)` when no check was available.
pub async fn check_relocate(
    client: &Client,
    vm: &mo::VirtualMachine,
    spec: &VirtualMachineRelocateSpec,
    what: &str,
) -> Result<bool> {
    let content = client.service_content().await?;
    let Some(checker) = content.vm_provisioning_checker.clone() else {
        return Ok(false);
    };
    let checker = mo::VirtualMachineProvisioningChecker::from_ref(checker);
    let results = match checker
        .check_relocate_task(client, vm.reference(), spec, &[])
        .await
    {
        Ok(task) => task.wait(client).await,
        Err(e) => Err(e),
    };
    let results = match results {
        Ok(r) => r,
        Err(e) if check_unavailable(&e) => return Ok(false),
        Err(e) => {
            return Err(
                DriverError::from(e).context(format!("cannot check the migration of {what}"))
            )
        }
    };
    let errors: Vec<String> = results
        .iter()
        .flat_map(|r| r.error.iter())
        .map(fault_text)
        .collect();
    if errors.is_empty() {
        Ok(true)
    } else {
        Err(DriverError::new(format!(
            "the migration of {what} was refused by vCenter's check: {}",
            errors.join("; ")
        )))
    }
}

/// Moves `vm` live to `dst`. `what` names the VM and its source host in messages.
pub async fn migrate_vm(
    client: &Client,
    vm: &mo::VirtualMachine,
    dst: &Destination<'_>,
    what: &str,
) -> Result<Migrate> {
    let on = vm.host(client).await?;
    if on.as_ref() == Some(dst.host) {
        return Ok(Migrate::AlreadyThere);
    }
    let spec = VirtualMachineRelocateSpec {
        host: Some(dst.host.reference().clone()),
        pool: Some(dst.pool.reference().clone()),
        ..Default::default()
    };
    check_relocate(client, vm, &spec, what).await?;
    let moved = match vm
        .relocate_vm_task(
            client,
            &spec,
            Some(&VirtualMachineMovePriority::DefaultPriority),
        )
        .await
    {
        Ok(task) => task.wait(client).await,
        Err(e) => Err(e),
    };
    moved.map_err(|e| {
        DriverError::from(e).context(format!("cannot migrate {what} to host {}", dst.name))
    })?;
    let now = vm.host(client).await?;
    if now.as_ref() != Some(dst.host) {
        return Err(DriverError::new(format!(
            "the migration of {what} to host {} ended without error, but the VM runs on {}",
            dst.name,
            now.map_or("no host".to_string(), |h| h.reference().to_string())
        )));
    }
    Ok(Migrate::Moved)
}

/// Runs migrate with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    let (target, dst) = migrate_args("migrate", args)?;
    let what = describe(&target);
    let rc = VmwareRc::load()?;
    if rc.vcenter.is_none() {
        return Err(DriverError::new(format!(
            "cannot migrate {what} to host {dst}: live migration needs vCenter, and {} sets no \
             :vcenter: (with :datacenter:)",
            rc.path.display()
        )));
    }
    let conn = Conn::open_with(rc, &target.host).await?;
    let done = conn
        .run(async |conn| {
            let vm = conn.require_vm(&target.deploy_id).await?;
            let (host, pool) = conn
                .find_host(&dst)
                .await
                .map_err(|e| e.context(format!("cannot migrate {what} to host {dst}")))?;
            let to = Destination {
                host: &host,
                pool: &pool,
                name: &dst,
            };
            migrate_vm(&conn.session, &vm, &to, &what).await
        })
        .await?;
    if done == Migrate::AlreadyThere {
        driver_common::output::info(&format!("{what} already runs on host {dst}"));
    }
    Ok(String::new())
}
