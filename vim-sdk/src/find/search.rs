//! `SearchIndex` lookups of VMs and hosts by UUID, IP address and DNS name.

use crate::client::Client;
use crate::error::Error;
use crate::mo;
use crate::xml::ManagedObjectReference;

use super::{typed, Finder};

/// Which UUID of a VM to look up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UuidKind {
    /// The BIOS UUID (`config.uuid`, the SMBIOS UUID the guest sees).
    Bios,
    /// The vCenter instance UUID (`config.instanceUuid`).
    Instance,
}

impl Finder {
    /// The VM whose BIOS or instance UUID is `uuid`, in `datacenter` or everywhere.
    pub async fn vm_by_uuid(
        &self,
        client: &Client,
        datacenter: Option<&mo::Datacenter>,
        uuid: &str,
        kind: UuidKind,
    ) -> Result<Option<mo::VirtualMachine>, Error> {
        const OP: &str = "FindByUuid";
        let found = self
            .search_index(OP)?
            .find_by_uuid(
                client,
                datacenter.map(|d| d.reference()),
                uuid,
                true,
                Some(kind == UuidKind::Instance),
            )
            .await?;
        found.map(|f| typed(OP, f.reference().clone())).transpose()
    }

    /// The host whose hardware UUID (`hardware.systemInfo.uuid`) is `uuid`.
    pub async fn host_by_uuid(
        &self,
        client: &Client,
        datacenter: Option<&mo::Datacenter>,
        uuid: &str,
    ) -> Result<Option<mo::HostSystem>, Error> {
        const OP: &str = "FindByUuid";
        let found = self
            .search_index(OP)?
            .find_by_uuid(client, datacenter.map(|d| d.reference()), uuid, false, None)
            .await?;
        found.map(|f| typed(OP, f.reference().clone())).transpose()
    }

    async fn by_ip(
        &self,
        client: &Client,
        datacenter: Option<&mo::Datacenter>,
        ip: &str,
        vm: bool,
    ) -> Result<Option<ManagedObjectReference>, Error> {
        let found = self
            .search_index("FindByIp")?
            .find_by_ip(client, datacenter.map(|d| d.reference()), ip, vm)
            .await?;
        Ok(found.map(|f| f.reference().clone()))
    }

    async fn by_dns(
        &self,
        client: &Client,
        datacenter: Option<&mo::Datacenter>,
        name: &str,
        vm: bool,
    ) -> Result<Option<ManagedObjectReference>, Error> {
        let found = self
            .search_index("FindByDnsName")?
            .find_by_dns_name(client, datacenter.map(|d| d.reference()), name, vm)
            .await?;
        Ok(found.map(|f| f.reference().clone()))
    }

    /// The VM whose guest reports IP address `ip` (needs VMware Tools in the guest).
    pub async fn vm_by_ip(
        &self,
        client: &Client,
        datacenter: Option<&mo::Datacenter>,
        ip: &str,
    ) -> Result<Option<mo::VirtualMachine>, Error> {
        let found = self.by_ip(client, datacenter, ip, true).await?;
        found.map(|f| typed("FindByIp", f)).transpose()
    }

    /// The host with a VMkernel NIC on IP address `ip`.
    pub async fn host_by_ip(
        &self,
        client: &Client,
        datacenter: Option<&mo::Datacenter>,
        ip: &str,
    ) -> Result<Option<mo::HostSystem>, Error> {
        let found = self.by_ip(client, datacenter, ip, false).await?;
        found.map(|f| typed("FindByIp", f)).transpose()
    }

    /// The VM whose guest reports host name `name` (needs VMware Tools in the guest).
    pub async fn vm_by_dns_name(
        &self,
        client: &Client,
        datacenter: Option<&mo::Datacenter>,
        name: &str,
    ) -> Result<Option<mo::VirtualMachine>, Error> {
        let found = self.by_dns(client, datacenter, name, true).await?;
        found.map(|f| typed("FindByDnsName", f)).transpose()
    }

    /// The host whose DNS configuration names it `name`.
    pub async fn host_by_dns_name(
        &self,
        client: &Client,
        datacenter: Option<&mo::Datacenter>,
        name: &str,
    ) -> Result<Option<mo::HostSystem>, Error> {
        let found = self.by_dns(client, datacenter, name, false).await?;
        found.map(|f| typed("FindByDnsName", f)).transpose()
    }
}
