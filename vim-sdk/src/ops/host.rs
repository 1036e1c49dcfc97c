//! Following references from hosts, datastores and other inventory objects.

use crate::client::Client;
use crate::error::Error;
use crate::mo;

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
