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
    let tasks = progress::Tasks::new();
    let bar = tasks.bar(format!("reconfigure {name}"));
    let done = async {
        vm.reconfig_vm_task(&conn.session, spec)
            .await?
            .wait_with_progress(&conn.session, |p| bar.update(p))
            .await
    }
    .await;
    bar.finish(if done.is_ok() { "done" } else { "failed" });
    done.with_context(|| format!("cannot reconfigure VM {name}"))
}
