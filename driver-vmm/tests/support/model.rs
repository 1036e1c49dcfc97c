//! The simulator's own inventory, without an OpenNebula tree, for tests that call the
//! actions' logic directly: a vCenter model started and logged in to in one call
//! ([`vpx`]), and independent reads of it (VMs and hosts by name, power states, the files a
//! VM has on disk).

use std::path::PathBuf;

use vim_sdk::find::Finder;
use vim_sdk::mo;
use vim_sdk::ops::Managers;
use vim_sdk::testing::Vcsim;
use vim_sdk::transport::{Transport, TransportConfig};
use vim_sdk::types::{Any, AnyArray};
use vim_sdk::Client;

/// A vCenter model (vcsim's defaults: datacenter `DC0`, one cluster `DC0_C0` of three
/// hosts, a standalone host `DC0_H0`, two powered-on VMs per host and pool such as
/// `DC0_H0_VM0`), and a client logged in to it with the managers. Keep the simulator alive
/// for as long as the client is used.
pub async fn vpx() -> (Vcsim, Client, Managers) {
    let sim = Vcsim::builder()
        .vpx()
        .start()
        .expect("start vcsim (run scripts/setup)");
    let (c, m) = connect(&sim).await;
    (sim, c, m)
}

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

/// The host named exactly `name`, which must exist.
pub async fn host_named(c: &Client, m: &Managers, name: &str) -> mo::HostSystem {
    Finder::new(m)
        .list::<mo::HostSystem>(c, m.root_folder.reference(), true)
        .await
        .expect("hosts")
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, h)| h)
        .unwrap_or_else(|| panic!("no host {name}"))
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
