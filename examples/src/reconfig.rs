//! Changing a VM's configuration: one `ReconfigVM_Task` waited for with a progress bar.

use vim_sdk::mo;
use vim_sdk::types::VirtualMachineConfigSpec;

use crate::connect::Conn;
use crate::fail::{Context as _, Result};
use crate::progress;

/// Applies `spec` to `vm` (called `name` in messages) and waits, with a bar on a terminal.
/// What `spec` leaves unset stays as it is.
pub async fn reconfigure(
    conn: &Conn,
    vm: &mo::VirtualMachine,
    name: &str,
    spec: &VirtualMachineConfigSpec,
) -> Result<()> {
    progress::task(
        &conn.session,
        format!("reconfigure {name}"),
        vm.reconfig_vm_task(&conn.session, spec),
    )
    .await
    .with_context(|| format!("cannot reconfigure VM {name}"))
}
