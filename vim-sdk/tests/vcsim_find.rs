//! Inventory lookups against vcsim: by inventory path (search index and walk), by name, by
//! UUID, IP and DNS name, and the inventory path round trip.
#![cfg(feature = "vcsim")]

use vim_sdk::find::{Finder, UuidKind};
use vim_sdk::mo;
use vim_sdk::testing::Vcsim;
use vim_sdk::types::{Any, OptionValue, VirtualMachineConfigSpec};

#[path = "support/vcsim.rs"]
mod vcsim;
use vcsim::{all_vms, connect, start};

#[tokio::test]
async fn paths_names_and_round_trips_on_vpx() {
    let sim = start(Vcsim::builder().vpx());
    let (c, m) = connect(&sim).await;
    let f = Finder::new(&m);
    let root = m.root_folder.reference().clone();

    let vms = all_vms(&c, &m).await;
    assert!(vms.len() >= 4, "{vms:?}");
    let hosts = f
        .list::<mo::HostSystem>(&c, &root, true)
        .await
        .expect("list hosts");
    assert!(hosts.len() >= 4, "{hosts:?}");

    // Every VM's path leads back to it through both the search index and the walk.
    for (name, vm) in &vms {
        let path = f.inventory_path(&c, vm.reference()).await.expect("path");
        assert!(
            path.starts_with("DC0/vm/") && path.ends_with(name.as_str()),
            "{path}"
        );
        let found: Option<mo::VirtualMachine> =
            f.by_inventory_path(&c, &path).await.expect("find by path");
        assert_eq!(found.as_ref(), Some(vm), "{path}");
        let walked: Option<mo::VirtualMachine> = f.walk(&c, &path).await.expect("walk");
        assert_eq!(walked.as_ref(), Some(vm), "{path}");
    }
    // Hosts in a cluster: DC0/host/<cluster>/<host>.
    let (host_name, host) = &hosts[0];
    let hpath = f
        .inventory_path(&c, host.reference())
        .await
        .expect("host path");
    assert!(
        hpath.starts_with("DC0/host/") && hpath.ends_with(host_name.as_str()),
        "{hpath}"
    );
    let back: Option<mo::HostSystem> = f.by_inventory_path(&c, &hpath).await.expect("find");
    assert_eq!(back.as_ref(), Some(host));
    assert_eq!(f.inventory_path(&c, &root).await.expect("root"), "");

    // Datacenter and its folders.
    let dc: mo::Datacenter = f
        .by_inventory_path(&c, "/DC0/")
        .await
        .expect("dc")
        .expect("DC0 exists");
    let kids = f.children(&c, dc.reference()).await.expect("children");
    let names: Vec<&str> = kids.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["datastore", "host", "network", "vm"]);

    // Misses are None; a wrong type is an error.
    let miss: Option<mo::VirtualMachine> = f
        .by_inventory_path(&c, "DC0/vm/no-such-vm")
        .await
        .expect("miss");
    assert!(miss.is_none());
    let miss: Option<mo::VirtualMachine> = f.walk(&c, "DC0/vm/no-such-vm").await.expect("miss");
    assert!(miss.is_none());
    let wrong = f.by_inventory_path::<mo::HostSystem>(&c, "DC0").await;
    assert!(wrong.unwrap_err().to_string().contains("not a HostSystem"));

    // By name, within a container, recursively or not.
    let (vm_name, vm) = &vms[0];
    let by_name: Option<mo::VirtualMachine> = f
        .by_name(&c, dc.reference(), vm_name, true)
        .await
        .expect("by name");
    assert_eq!(by_name.as_ref(), Some(vm));
    let shallow: Option<mo::VirtualMachine> = f
        .by_name(&c, dc.reference(), vm_name, false)
        .await
        .expect("by name");
    assert!(
        shallow.is_none(),
        "VMs are not direct children of the datacenter"
    );
    let none: Option<mo::VirtualMachine> =
        f.by_name(&c, &root, "nope", true).await.expect("by name");
    assert!(none.is_none());
    let nets = f
        .list::<mo::Network>(&c, &root, true)
        .await
        .expect("networks");
    assert!(nets
        .iter()
        .any(|(_, n)| n.reference().r#type == "DistributedVirtualPortgroup"));
}

#[tokio::test]
async fn uuid_ip_and_dns_lookups_on_esx() {
    let sim = start(Vcsim::builder().esx());
    let (c, m) = connect(&sim).await;
    let f = Finder::new(&m);
    let root = m.root_folder.reference().clone();
    let vms = all_vms(&c, &m).await;
    assert_eq!(vms.len(), 2);
    let (_, vm) = &vms[1];

    let p = vm
        .properties(&c, &["config.uuid", "config.instanceUuid"])
        .await
        .expect("props");
    let bios = p.str("config.uuid").expect("bios uuid").to_string();
    let instance = p
        .str("config.instanceUuid")
        .expect("instance uuid")
        .to_string();
    assert_ne!(bios, instance);
    let got = f
        .vm_by_uuid(&c, None, &bios, UuidKind::Bios)
        .await
        .expect("bios");
    assert_eq!(got.as_ref(), Some(vm));
    let got = f
        .vm_by_uuid(&c, None, &instance, UuidKind::Instance)
        .await
        .expect("instance");
    assert_eq!(got.as_ref(), Some(vm));
    let got = f
        .vm_by_uuid(&c, None, &bios, UuidKind::Instance)
        .await
        .expect("crossed");
    assert!(got.is_none(), "a BIOS UUID is not an instance UUID");
    let got = f
        .vm_by_uuid(
            &c,
            None,
            "00000000-0000-0000-0000-000000000000",
            UuidKind::Bios,
        )
        .await
        .expect("miss");
    assert!(got.is_none());

    let (_, host) = &f
        .list::<mo::HostSystem>(&c, &root, true)
        .await
        .expect("hosts")[0];
    let hp = host
        .properties(&c, &["summary.hardware.uuid"])
        .await
        .expect("host props");
    let huuid = hp
        .str("summary.hardware.uuid")
        .expect("host uuid")
        .to_string();
    let got = f.host_by_uuid(&c, None, &huuid).await.expect("host uuid");
    assert_eq!(got.as_ref(), Some(host));

    // vcsim sets guest identity through these extraConfig keys.
    let spec = VirtualMachineConfigSpec {
        extra_config: vec![
            OptionValue {
                key: "SET.guest.ipAddress".into(),
                value: Some(Any::String("10.11.12.13".into())),
            },
            OptionValue {
                key: "SET.guest.hostName".into(),
                value: Some(Any::String("vm-under-test.example.test".into())),
            },
        ]
        .into_iter()
        .map(|o| vim_sdk::types::AnyOptionValue::OptionValue(Box::new(o)))
        .collect(),
        ..Default::default()
    };
    let task = vm.reconfig_vm_task(&c, &spec).await.expect("reconfig");
    m.wait(&c, &task, "ReconfigVM_Task", Some(vm.reference()))
        .await
        .expect("reconfig task");
    let got = f.vm_by_ip(&c, None, "10.11.12.13").await.expect("by ip");
    assert_eq!(got.as_ref(), Some(vm));
    assert!(f
        .vm_by_ip(&c, None, "10.99.99.99")
        .await
        .expect("miss")
        .is_none());
    let got = f
        .vm_by_dns_name(&c, None, "vm-under-test.example.test")
        .await
        .expect("by dns");
    assert_eq!(got.as_ref(), Some(vm));
    assert!(f
        .vm_by_dns_name(&c, None, "nope.example.test")
        .await
        .expect("miss")
        .is_none());
    assert!(f
        .host_by_ip(&c, None, "10.99.99.99")
        .await
        .expect("miss")
        .is_none());
    assert!(f
        .host_by_dns_name(&c, None, "nope.example.test")
        .await
        .expect("miss")
        .is_none());
}
