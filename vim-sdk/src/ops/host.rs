//! Following references from hosts, datastores and other inventory objects.

use crate::client::Client;
use crate::error::Error;
use crate::managed::TypedObject;
use crate::mo;
use crate::types::Any;
use crate::xml::ManagedObjectReference;

use super::follow::{follow_many, follow_one};

impl mo::HostSystem {
    /// The datastores mounted on the host (`datastore`).
    pub async fn datastores(&self, client: &Client) -> Result<Vec<mo::Datastore>, Error> {
        follow_many(client, self, "datastore").await
    }

    /// The VMs registered on the host (`vm`). vcsim leaves a relocated VM listed on its
    /// source host; derive a VM's host from [`mo::VirtualMachine::host`] where it matters.
    pub async fn vms(&self, client: &Client) -> Result<Vec<mo::VirtualMachine>, Error> {
        follow_many(client, self, "vm").await
    }

    /// The VMs whose `runtime.host` is this host, among every VM in `container` and below
    /// (the host's datacenter, or its compute resource when VMs do not move between compute
    /// resources), with `paths` read into typed [`mo::VirtualMachineProperties`]: one
    /// `CreateContainerView`, one `RetrievePropertiesEx` (more only when the server pages),
    /// one `DestroyView` (see [`typed_in_container`](crate::property::typed_in_container)).
    ///
    /// The host is matched on each VM's own `runtime.host`, read in the same call (added to
    /// the request when `paths` holds neither `runtime` nor `runtime.host`, and then left out
    /// of the result), never on the host's `vm` list: vcsim leaves a relocated VM listed on
    /// its source host.
    pub async fn vms_with_properties(
        &self,
        client: &Client,
        container: &ManagedObjectReference,
        paths: &[&str],
    ) -> Result<Vec<TypedObject<mo::VirtualMachineProperties>>, Error> {
        let asked = paths
            .iter()
            .any(|p| *p == "runtime" || *p == "runtime.host");
        let mut all: Vec<&str> = paths.to_vec();
        if !asked {
            all.push("runtime.host");
        }
        let vms = crate::property::typed_in_container::<mo::VirtualMachine>(
            client, container, true, &all,
        )
        .await?;
        let me = self.reference();
        Ok(vms
            .into_iter()
            .filter_map(|mut vm| {
                let host = match vm.props.runtime.as_ref() {
                    Some(runtime) => runtime.host.clone(),
                    None => {
                        vm.other
                            .iter()
                            .find(|p| p.name == "runtime.host")
                            .and_then(|p| match &p.val {
                                Any::Reference(r) => Some(r.clone()),
                                _ => None,
                            })
                    }
                };
                if !asked {
                    vm.other.retain(|p| p.name != "runtime.host");
                }
                (host.as_ref() == Some(me)).then_some(vm)
            })
            .collect())
    }

    /// The networks the host is connected to (`network`).
    pub async fn networks(&self, client: &Client) -> Result<Vec<mo::Network>, Error> {
        follow_many(client, self, "network").await
    }

    /// The compute resource (standalone host or cluster) holding the host (`parent`).
    pub async fn compute_resource(
        &self,
        client: &Client,
    ) -> Result<Option<mo::ComputeResource>, Error> {
        follow_one(client, self, "parent").await
    }
}

impl mo::Datastore {
    /// The datastore's file browser (`browser`).
    pub async fn browser(&self, client: &Client) -> Result<mo::HostDatastoreBrowser, Error> {
        follow_one(client, self, "browser").await?.ok_or_else(|| {
            super::unexpected(
                "RetrievePropertiesEx",
                Some(self.reference().to_string()),
                "the datastore has no browser".into(),
            )
        })
    }

    /// The hosts that mount the datastore (`host[].key`).
    pub async fn hosts(&self, client: &Client) -> Result<Vec<mo::HostSystem>, Error> {
        let mut props = self.properties(client, &["host"]).await?;
        Ok(match props.take("host") {
            Some(crate::types::Any::Array(crate::types::AnyArray::DatastoreHostMount(mounts))) => {
                mounts
                    .into_iter()
                    .map(|m| mo::HostSystem::from_ref(m.key))
                    .collect()
            }
            _ => Vec::new(),
        })
    }

    /// The VMs with files on the datastore (`vm`).
    pub async fn vms(&self, client: &Client) -> Result<Vec<mo::VirtualMachine>, Error> {
        follow_many(client, self, "vm").await
    }
}

impl mo::ComputeResource {
    /// The hosts of the compute resource (`host`): one for a standalone host, all for a
    /// cluster.
    pub async fn hosts(&self, client: &Client) -> Result<Vec<mo::HostSystem>, Error> {
        follow_many(client, self, "host").await
    }

    /// The root resource pool (`resourcePool`).
    pub async fn root_pool(&self, client: &Client) -> Result<Option<mo::ResourcePool>, Error> {
        follow_one(client, self, "resourcePool").await
    }
}
