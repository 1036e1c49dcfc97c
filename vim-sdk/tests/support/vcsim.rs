//! Starting govmomi's simulator and logging in to it, for the vcsim integration tests.
#![allow(dead_code)]

use vim_sdk::mo;
use vim_sdk::testing::{Vcsim, VcsimBuilder};
use vim_sdk::transport::{Transport, TransportConfig};
use vim_sdk::types::ServiceContent;
use vim_sdk::Client;

/// Starts the simulator `builder` describes; a missing launcher fails the test with a hint.
pub fn start(builder: VcsimBuilder) -> Vcsim {
    builder.start().expect("start vcsim (run scripts/setup)")
}

/// A client for `sim`, not logged in, over plain HTTP (a simulator started with `tls(true)`
/// needs the client's TLS settings too).
pub fn client(sim: &Vcsim) -> Client {
    Client::new(Transport::new(TransportConfig::new(sim.url())).expect("transport"))
}

/// A new client logged in to `sim` with the simulator's credentials, and the server's
/// `ServiceContent` (read before the login).
pub async fn login(sim: &Vcsim) -> (Client, ServiceContent) {
    let c = client(sim);
    let content = c
        .service_instance()
        .retrieve_service_content(&c)
        .await
        .expect("service content");
    mo::SessionManager::from_ref(content.session_manager.clone().expect("session manager"))
        .login(&c, sim.username(), sim.password(), None)
        .await
        .expect("login");
    (c, content)
}

/// [`login`], with the managers of the service content.
#[cfg(feature = "helpers")]
pub async fn connect(sim: &Vcsim) -> (Client, vim_sdk::ops::Managers) {
    let (c, content) = login(sim).await;
    (c, vim_sdk::ops::Managers::from_content(&content))
}

/// Every VM of the inventory with its name, sorted by name (a recursive `Finder::list` from
/// the root folder).
#[cfg(feature = "helpers")]
pub async fn all_vms(c: &Client, m: &vim_sdk::ops::Managers) -> Vec<(String, mo::VirtualMachine)> {
    vim_sdk::find::Finder::new(m)
        .list(c, m.root_folder.reference(), true)
        .await
        .expect("list VMs")
}
