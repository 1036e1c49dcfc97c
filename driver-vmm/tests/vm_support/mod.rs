//! Reading the simulator's state independently of the driver: logging in, finding VMs by
//! name, power states, the files a VM has on disk.
#![allow(dead_code)]

use std::path::PathBuf;

use vim_sdk::find::Finder;
use vim_sdk::mo;
use vim_sdk::ops::Managers;
use vim_sdk::testing::Vcsim;
use vim_sdk::transport::{Transport, TransportConfig};
use vim_sdk::types::{Any, AnyArray};
use vim_sdk::Client;

/// A client logged in to `sim`, with the managers.
pub async fn connect(sim: &Vcsim) -> (Client, Managers) {
    let c = Client::new(Transport::new(TransportConfig::new(sim.url())).expect("transport"));
    let content = c
        .service_instance()
        .retrieve_service_content(&c)
        .await
        .expect("service content");
    mo::SessionManager::from_ref(content.session_manager.clone().expect("session manager"))
        .login(&c, sim.username(), sim.password(), None)
        .await
        .expect("login");
    (c, Managers::from_content(&content))
}

/// The VM named exactly `name`, if registered.
pub async fn find(c: &Client, m: &Managers, name: &str) -> Option<mo::VirtualMachine> {
    Finder::new(m)
        .list::<mo::VirtualMachine>(c, m.root_folder.reference(), true)
        .await
        .ok()?
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// The VM named `name`, which must exist.
pub async fn vm_named(c: &Client, m: &Managers, name: &str) -> (String, mo::VirtualMachine) {
    let vm = find(c, m, name)
        .await
        .unwrap_or_else(|| panic!("no VM {name}"));
    (name.to_string(), vm)
}

/// `runtime.powerState`.
pub async fn state(c: &Client, vm: &mo::VirtualMachine) -> Option<String> {
    vm.properties(c, &["runtime.powerState"])
        .await
        .ok()?
        .str("runtime.powerState")
        .map(str::to_string)
}

/// The VM's files (`layoutEx.file`) as paths on the machine: vcsim keeps a datastore in a
/// local folder (`info.url`).
pub async fn files_of(c: &Client, vm: &mo::VirtualMachine) -> Vec<PathBuf> {
    let mut p = vm
        .properties(c, &["layoutEx.file", "datastore"])
        .await
        .expect("layoutEx");
    let names: Vec<String> = match p.take("layoutEx.file") {
        Some(Any::Array(AnyArray::VirtualMachineFileLayoutExFileInfo(files))) => {
            files.into_iter().map(|f| f.name).collect()
        }
        _ => Vec::new(),
    };
    let mut roots = Vec::new();
    for ds in p.references("datastore") {
        let dp = ds
            .properties(c, &["name", "info.url"])
            .await
            .expect("datastore");
        roots.push((
            dp.str("name").unwrap_or("").to_string(),
            PathBuf::from(dp.str("info.url").unwrap_or("")),
        ));
    }
    names
        .iter()
        .filter_map(|n| {
            let (ds, rel) = n.strip_prefix('[')?.split_once("] ")?;
            let (_, root) = roots.iter().find(|(name, _)| name == ds)?;
            Some(root.join(rel))
        })
        .filter(|p| p.exists())
        .collect()
}
