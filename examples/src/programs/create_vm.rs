//! Creates a VM: CPUs, memory, a new thin disk on a SCSI controller, a NIC on a network.
//!
//! ```text
//! create_vm NAME [--cpus 1] [--memory 1024] [--disk 10] [--ds NAME] [--network NAME]
//!                [--guest otherGuest64] [--host NAME] [--on]
//! ```
//!
//! Shows `Folder.CreateVM_Task` with a `VirtualMachineConfigSpec` built from the SDK's device
//! helpers (`vim_sdk::device`: an LSI Logic controller, a disk created with it, a vmxnet3
//! card), waited for with a progress bar. The VM goes into the datacenter's VM folder, its
//! files to `[DS] NAME/NAME.vmx`, on `--host` (its compute resource's root pool) or the
//! datacenter's first compute resource; `--on` powers it on afterwards. `--network` takes a
//! standard port group (a `Network`) or a distributed port group: the card's backing is then
//! the port group's `key` and its switch's `uuid` (`DistributedVirtualSwitchPortConnection`).
//!
//! `--json`: `{"name": NAME, "vm": "vm-42", "path": "DC0/vm/NAME", "vmx": "[DS] NAME/NAME.vmx",
//! "cpus": N, "memory_mb": N, "disk_gb": N, "network": NAME|null, "powered_on": BOOL}`.

use std::process::ExitCode;

use clap::Parser;
use serde_json::json;
use vim_sdk::device::new_controller::{scsi_controller, ScsiModel};
use vim_sdk::device::spec::{new_disk, nic};
use vim_sdk::device::{DeviceList, NicModel};
use vim_sdk::types::{
    AnyVirtualDeviceConfigSpec, VirtualMachineConfigSpec, VirtualMachineFileInfo,
};

use crate::place::Placement;
use crate::{output, progress, Common, Context as _, Result};

/// Creates a VM with a disk and a NIC.
#[derive(Parser)]
#[command(name = "create_vm")]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// The new VM's name.
    name: String,
    /// Virtual CPUs.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=768))]
    cpus: i32,
    /// Memory in MiB.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(i64).range(4..=25_165_824))]
    memory: i64,
    /// Disk size in GiB (0: no disk).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(i64).range(0..=65_536))]
    disk: i64,
    /// The datastore (default: `GOVC_DATASTORE`, else the datacenter's only one).
    #[arg(long = "ds")]
    datastore: Option<String>,
    /// A standard or distributed port group for one vmxnet3 card (default: no card).
    #[arg(long)]
    network: Option<String>,
    /// The guest OS identifier (`otherGuest64`, `ubuntu64Guest`, `windows2019srv_64Guest`).
    #[arg(long, default_value = "otherGuest64")]
    guest: String,
    /// The host to create it on (default: the datacenter's first compute resource).
    #[arg(long)]
    host: Option<String>,
    /// Power it on once created.
    #[arg(long)]
    on: bool,
}

async fn body(cli: Cli) -> Result<()> {
    let conn = cli.common.connect().await?;
    let client = &conn.session;
    let datastore = cli
        .datastore
        .or_else(|| std::env::var("GOVC_DATASTORE").ok());
    let place = Placement::resolve(&conn, cli.host.as_deref(), datastore.as_deref()).await?;
    let vmx = format!("[{}] {}/{}.vmx", place.datastore_name, cli.name, cli.name);

    // Devices: a controller, a disk on it at unit 0, a card. Keys are negative temporary
    // keys, each new one different from those already taken.
    let list = DeviceList::default();
    let mut taken = Vec::new();
    let mut changes = Vec::new();
    if cli.disk > 0 {
        let controller = scsi_controller(&list, &taken, ScsiModel::LsiLogic, 0);
        taken.push(controller.device.base().key);
        let disk = new_disk(
            &list,
            &taken,
            &controller.device,
            0,
            &format!("[{}]", place.datastore_name),
            Some(place.datastore.reference()),
            cli.disk * 1024 * 1024,
            true,
        );
        taken.push(disk.device.base().key);
        changes.push(controller);
        changes.push(disk);
    }
    if let Some(name) = &cli.network {
        let backing = place.nic_backing(&conn, name).await?;
        changes.push(nic(&list, &taken, NicModel::Vmxnet3, &backing, None));
    }
    let config = VirtualMachineConfigSpec {
        name: Some(cli.name.clone()),
        guest_id: Some(cli.guest.clone()),
        num_cp_us: Some(cli.cpus),
        memory_mb: Some(cli.memory),
        files: Some(VirtualMachineFileInfo {
            vm_path_name: Some(vmx.clone()),
            ..Default::default()
        }),
        device_change: changes
            .into_iter()
            .map(|c| AnyVirtualDeviceConfigSpec::VirtualDeviceConfigSpec(Box::new(c)))
            .collect(),
        ..Default::default()
    };

    let host = place.host.as_ref().map(|h| h.reference());
    let vm = progress::task(
        client,
        format!("create {}", cli.name),
        place
            .vm_folder
            .create_vm_task(client, &config, place.pool.reference(), host),
    )
    .await
    .with_context(|| format!("cannot create VM {}", cli.name))?;
    if cli.on {
        let tasks = progress::Tasks::new();
        let bar = tasks.bar(format!("power on {}", cli.name));
        vm.power_on_with_progress(client, |p| bar.update(p))
            .await
            .with_context(|| format!("cannot power on VM {}", cli.name))?;
        bar.finish("done");
    }
    let path = conn
        .finder()
        .inventory_path(client, vm.reference())
        .await
        .context("cannot read the new VM's inventory path")?;
    if conn.json {
        let doc = json!({
            "name": cli.name,
            "vm": vm.reference().value,
            "path": path,
            "vmx": vmx,
            "cpus": cli.cpus,
            "memory_mb": cli.memory,
            "disk_gb": cli.disk,
            "network": cli.network,
            "powered_on": cli.on,
        });
        output::json(&doc)?;
    } else {
        output::line(format!(
            "created VM {} ({}) at {path}, files {vmx}",
            cli.name,
            vm.reference().value
        ))?;
    }
    conn.close().await
}

/// The `create_vm` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> ExitCode {
    crate::run(body)
}
