//! Hot-plug of network cards, over vim-sdk types: the card models OpenNebula names, MACs,
//! finding a VM's card by MAC, the port groups a host offers, and the `ReconfigVM_Task`
//! that adds or removes one card.

use std::fmt;

use vim_sdk::device::{spec, DeviceList};
use vim_sdk::mo;
use vim_sdk::types::{
    AnyVirtualDevice, AnyVirtualDeviceBackingInfo, HostNetworkInfo, VirtualDevice,
    VirtualDeviceConfigSpec, VirtualDeviceConfigSpecOperation, VirtualDeviceConnectInfo,
    VirtualDeviceDeviceBackingInfo, VirtualE1000, VirtualE1000e, VirtualEthernetCard,
    VirtualEthernetCardNetworkBackingInfo, VirtualPCNet32, VirtualVmxnet, VirtualVmxnet2,
    VirtualVmxnet3,
};
use vim_sdk::Client;

use crate::vnm::portgroup;

/// A network card model, as OpenNebula's NIC `MODEL` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// `e1000` (the default).
    E1000,
    /// `e1000e`.
    E1000e,
    /// `vmxnet3`.
    Vmxnet3,
    /// `vmxnet2`.
    Vmxnet2,
    /// `vmxnet`.
    Vmxnet,
    /// `pcnet32` or `vlance`.
    PcNet32,
}

impl Model {
    /// The model named `name` (case-insensitive); `-` or empty is the default, e1000.
    pub fn parse(name: &str) -> Result<Model, String> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "" | "-" | "e1000" => Model::E1000,
            "e1000e" => Model::E1000e,
            "vmxnet3" => Model::Vmxnet3,
            "vmxnet2" => Model::Vmxnet2,
            "vmxnet" => Model::Vmxnet,
            "pcnet32" | "vlance" => Model::PcNet32,
            other => {
                return Err(format!(
                "unknown NIC model {other:?} (known: e1000, e1000e, vmxnet3, vmxnet2, vmxnet, pcnet32, vlance)"
            ))
            }
        })
    }

    /// The model of an existing device, if it is a card of one of these models.
    pub fn of(device: &AnyVirtualDevice) -> Option<Model> {
        use AnyVirtualDevice as D;
        Some(match device {
            D::VirtualE1000(_) => Model::E1000,
            D::VirtualE1000e(_) => Model::E1000e,
            D::VirtualVmxnet3(_) => Model::Vmxnet3,
            D::VirtualVmxnet2(_) => Model::Vmxnet2,
            D::VirtualVmxnet(_) => Model::Vmxnet,
            D::VirtualPCNet32(_) => Model::PcNet32,
            _ => return None,
        })
    }

    /// The vSphere device type.
    pub fn wire_type(self) -> &'static str {
        match self {
            Model::E1000 => "VirtualE1000",
            Model::E1000e => "VirtualE1000e",
            Model::Vmxnet3 => "VirtualVmxnet3",
            Model::Vmxnet2 => "VirtualVmxnet2",
            Model::Vmxnet => "VirtualVmxnet",
            Model::PcNet32 => "VirtualPCNet32",
        }
    }

    fn device(self, card: VirtualEthernetCard) -> AnyVirtualDevice {
        use AnyVirtualDevice as D;
        match self {
            Model::E1000 => D::VirtualE1000(Box::new(VirtualE1000 { base: card })),
            Model::E1000e => D::VirtualE1000e(Box::new(VirtualE1000e { base: card })),
            Model::Vmxnet3 => D::VirtualVmxnet3(Box::new(VirtualVmxnet3 {
                base: VirtualVmxnet { base: card },
            })),
            Model::Vmxnet2 => D::VirtualVmxnet2(Box::new(VirtualVmxnet2 {
                base: VirtualVmxnet { base: card },
            })),
            Model::Vmxnet => D::VirtualVmxnet(Box::new(VirtualVmxnet { base: card })),
            Model::PcNet32 => D::VirtualPCNet32(Box::new(VirtualPCNet32 { base: card })),
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire_type())
    }
}

/// `mac` checked as six two-digit hex groups separated by `:`, in lower case.
pub fn parse_mac(mac: &str) -> Result<String, String> {
    let groups: Vec<&str> = mac.split(':').collect();
    if groups.len() == 6
        && groups
            .iter()
            .all(|g| g.len() == 2 && g.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        Ok(mac.to_ascii_lowercase())
    } else {
        Err(format!(
            "malformed MAC address {mac:?} (expected xx:xx:xx:xx:xx:xx)"
        ))
    }
}

/// The Ethernet-card part of `device`, if it is a network card.
pub fn card(device: &AnyVirtualDevice) -> Option<&VirtualEthernetCard> {
    use AnyVirtualDevice as D;
    Some(match device {
        D::VirtualEthernetCard(c) => c,
        D::VirtualE1000(c) => &c.base,
        D::VirtualE1000e(c) => &c.base,
        D::VirtualPCNet32(c) => &c.base,
        D::VirtualVmxnet(c) => &c.base,
        D::VirtualVmxnet2(c) => &c.base.base,
        D::VirtualVmxnet3(c) => &c.base.base,
        D::VirtualVmxnet3Vrdma(c) => &c.base.base.base,
        D::VirtualSriovEthernetCard(c) => &c.base,
        _ => return None,
    })
}

/// The card of `devices` whose MAC is `mac` (compared case-insensitively).
pub fn find_by_mac<'a>(devices: &'a DeviceList, mac: &str) -> Option<&'a AnyVirtualDevice> {
    devices.all().iter().find(|d| {
        card(d)
            .and_then(|c| c.mac_address.as_deref())
            .is_some_and(|m| m.eq_ignore_ascii_case(mac))
    })
}

/// The port group name a card's standard-switch backing names (`deviceName`).
pub fn portgroup_of(device: &AnyVirtualDevice) -> Option<&str> {
    match &device.base().backing {
        Some(AnyVirtualDeviceBackingInfo::VirtualEthernetCardNetworkBackingInfo(b)) => {
            Some(b.base.device_name.as_str())
        }
        _ => None,
    }
}

/// Whether the host has a standard port group named exactly `name`.
pub fn host_has_portgroup(info: &HostNetworkInfo, name: &str) -> bool {
    info.portgroup.iter().any(|p| p.spec.name == name)
}

/// The only `one-pg-*` port group on `vswitch`, when there is exactly one; the error says
/// why none could be chosen.
pub fn sole_managed_portgroup(info: &HostNetworkInfo, vswitch: &str) -> Result<String, String> {
    let found: Vec<&str> = info
        .portgroup
        .iter()
        .filter(|p| {
            p.spec.vswitch_name == vswitch
                && p.spec
                    .name
                    .strip_prefix(portgroup::PREFIX)
                    .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|p| p.spec.name.as_str())
        .collect();
    match found.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(format!(
            "no {}<id> port group on vSwitch {vswitch} (the network driver's pre step makes it)",
            portgroup::PREFIX
        )),
        many => Err(format!(
            "several port groups on vSwitch {vswitch} ({}) and no record of which one this NIC's network uses",
            many.join(", ")
        )),
    }
}

/// The spec adding a card of `model` with the static MAC `mac` on standard port group
/// `portgroup`, connected now and at power on.
pub fn add_spec(
    devices: &DeviceList,
    model: Model,
    portgroup: &str,
    mac: &str,
) -> VirtualDeviceConfigSpec {
    let backing = AnyVirtualDeviceBackingInfo::VirtualEthernetCardNetworkBackingInfo(Box::new(
        VirtualEthernetCardNetworkBackingInfo {
            base: VirtualDeviceDeviceBackingInfo {
                device_name: portgroup.to_string(),
                ..Default::default()
            },
            ..Default::default()
        },
    ));
    let card = VirtualEthernetCard {
        base: VirtualDevice {
            key: devices.new_key(&[]),
            backing: Some(backing),
            connectable: Some(VirtualDeviceConnectInfo {
                start_connected: true,
                allow_guest_control: true,
                connected: true,
                ..Default::default()
            }),
            ..Default::default()
        },
        address_type: Some("manual".into()),
        mac_address: Some(mac.to_string()),
        ..Default::default()
    };
    VirtualDeviceConfigSpec {
        operation: Some(VirtualDeviceConfigSpecOperation::Add),
        device: model.device(card),
        ..Default::default()
    }
}

/// What an attach found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attached {
    /// A card was added.
    Added,
    /// A card with that MAC on that port group was already there (a retry).
    AlreadyThere,
}

/// Adds a card of `model` with `mac` on `portgroup` to `vm`, which runs on `host`.
/// Idempotent: a card with the same MAC on the same port group is success without a second
/// card; one on another port group is an error. The port group must exist on the host
/// (checked before any change: a card on a missing network would be unusable, and vcsim
/// panics on it).
pub async fn attach(
    client: &Client,
    vm: &mo::VirtualMachine,
    host: &mo::HostSystem,
    mac: &str,
    model: Model,
    portgroup: &str,
) -> Result<Attached, String> {
    let devices = vm.devices(client).await.map_err(|e| e.to_string())?;
    if let Some(existing) = find_by_mac(&devices, mac) {
        return match portgroup_of(existing) {
            Some(pg) if pg == portgroup => Ok(Attached::AlreadyThere),
            other => Err(format!(
                "the VM already has a card with MAC {mac}, on {} rather than port group {portgroup}",
                other.map_or("another kind of network".to_string(), |p| format!(
                    "port group {p}"
                ))
            )),
        };
    }
    let ns = portgroup::network_system(client, host).await?;
    let info = portgroup::network_info(client, &ns).await?;
    if !host_has_portgroup(&info, portgroup) {
        return Err(format!(
            "port group {portgroup} does not exist on the host; nothing was changed"
        ));
    }
    vm.change_devices(client, vec![add_spec(&devices, model, portgroup, mac)])
        .await
        .map_err(|e| e.to_string())?;
    Ok(Attached::Added)
}

/// Removes the card with `mac` from `vm`, sent back exactly as read. `Ok(false)` when the
/// VM has no such card (a retry: nothing to do).
pub async fn detach(client: &Client, vm: &mo::VirtualMachine, mac: &str) -> Result<bool, String> {
    let mut devices = vm.devices(client).await.map_err(|e| e.to_string())?;
    let Some(key) = find_by_mac(&devices, mac).map(|d| d.base().key) else {
        return Ok(false);
    };
    let Some(device) = devices.take(key) else {
        return Ok(false);
    };
    vm.change_devices(client, vec![spec::remove(device, false)])
        .await
        .map_err(|e| e.to_string())?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vim_sdk::types::{HostPortGroup, HostPortGroupSpec};

    #[test]
    fn models() {
        assert_eq!(Model::parse("-").unwrap(), Model::E1000);
        assert_eq!(Model::parse("").unwrap(), Model::E1000);
        assert_eq!(Model::parse("VMXNET3").unwrap(), Model::Vmxnet3);
        assert_eq!(Model::parse("vlance").unwrap(), Model::PcNet32);
        assert_eq!(Model::parse("vmxnet").unwrap(), Model::Vmxnet);
        assert!(Model::parse("virtio").is_err());
        for m in [
            Model::E1000,
            Model::E1000e,
            Model::Vmxnet3,
            Model::Vmxnet2,
            Model::Vmxnet,
            Model::PcNet32,
        ] {
            let s = add_spec(&DeviceList::default(), m, "pg", "02:00:00:00:00:01");
            assert_eq!(Model::of(&s.device), Some(m));
            assert_eq!(s.device.type_name(), m.wire_type());
            let c = card(&s.device).unwrap();
            assert_eq!(c.mac_address.as_deref(), Some("02:00:00:00:00:01"));
            assert_eq!(c.address_type.as_deref(), Some("manual"));
            assert_eq!(portgroup_of(&s.device), Some("pg"));
        }
    }

    #[test]
    fn macs() {
        assert_eq!(parse_mac("02:00:0A:00:00:01").unwrap(), "02:00:0a:00:00:01");
        for bad in [
            "",
            "02:00:0a:00:00",
            "02:00:0a:00:00:01:02",
            "02-00-0a-00-00-01",
            "0g:00:00:00:00:00",
            "2:00:0a:00:00:011",
        ] {
            assert!(parse_mac(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sole_portgroup() {
        let pg = |n: &str, s: &str| HostPortGroup {
            spec: HostPortGroupSpec {
                name: n.into(),
                vswitch_name: s.into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let info = HostNetworkInfo {
            portgroup: vec![
                pg("VM Network", "vSwitch0"),
                pg("one-pg-3", "vSwitch0"),
                pg("one-pg-4", "vSwitch1"),
                pg("one-pg-5", "vSwitch1"),
                pg("one-pg-x", "vSwitch2"),
            ],
            ..Default::default()
        };
        assert_eq!(
            sole_managed_portgroup(&info, "vSwitch0").unwrap(),
            "one-pg-3"
        );
        assert!(sole_managed_portgroup(&info, "vSwitch1")
            .unwrap_err()
            .contains("several"));
        assert!(sole_managed_portgroup(&info, "vSwitch2").is_err());
        assert!(host_has_portgroup(&info, "one-pg-3"));
        assert!(!host_has_portgroup(&info, "one-pg-"));
    }
}
