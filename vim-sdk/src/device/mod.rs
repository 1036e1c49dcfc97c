//! Editing a VM's devices (`config.hardware.device`): find controllers and free unit numbers
//! ([`controller`]), build `VirtualDeviceConfigSpec`s for disks, CD-ROMs and NICs and for
//! removals ([`spec`]), and apply them with `ReconfigVM_Task`.

pub mod controller;
pub mod list;
pub mod new_controller;
pub mod spec;

pub use controller::ControllerKind;
pub use list::DeviceList;
pub use spec::{NicBacking, NicModel};

use crate::client::Client;
use crate::error::Error;
use crate::mo;
use crate::ops::TaskProgress;
use crate::types::{AnyVirtualDeviceConfigSpec, VirtualDeviceConfigSpec, VirtualMachineConfigSpec};

impl mo::VirtualMachine {
    /// The VM's devices (`config.hardware.device`, one property read).
    pub async fn devices(&self, client: &Client) -> Result<DeviceList, Error> {
        let mut props = self.properties(client, &["config.hardware.device"]).await?;
        Ok(DeviceList::from_property(
            props.take("config.hardware.device"),
        ))
    }

    /// Applies `changes` in one `ReconfigVM_Task` and waits for it.
    pub async fn change_devices(
        &self,
        client: &Client,
        changes: Vec<VirtualDeviceConfigSpec>,
    ) -> Result<(), Error> {
        self.change_devices_with_progress(client, changes, |_| {})
            .await
    }

    /// [`change_devices`](Self::change_devices), calling `progress` on each change of the
    /// task.
    pub async fn change_devices_with_progress(
        &self,
        client: &Client,
        changes: Vec<VirtualDeviceConfigSpec>,
        progress: impl FnMut(TaskProgress),
    ) -> Result<(), Error> {
        let spec = VirtualMachineConfigSpec {
            device_change: changes
                .into_iter()
                .map(|c| AnyVirtualDeviceConfigSpec::VirtualDeviceConfigSpec(Box::new(c)))
                .collect(),
            ..Default::default()
        };
        let task = self.reconfig_vm_task(client, &spec).await?;
        crate::ops::vm::finish(client, task, "ReconfigVM_Task", self.reference(), progress).await
    }
}
