//! Finding the objects an example is asked about, by name or by inventory path.
//!
//! An argument with a `/` is an inventory path (`DC0/vm/web1`, `FindByInventoryPath`); any
//! other is a name, looked up among the objects of that type in the datacenter of `--dc` /
//! `GOVC_DATACENTER`, or in the whole inventory without one. A name held by several objects
//! is an error asking for the path.

use vim_sdk::find::Entity;
use vim_sdk::mo;

use crate::connect::Conn;
use crate::fail::{Context as _, Failure, Result};

impl Conn {
    /// The `T` (`kind` says what it is in messages: "VM", "host") named or at path `arg`.
    pub async fn find_one<T: Entity>(&self, kind: &str, arg: &str) -> Result<T> {
        let mut found = self.find_all::<T>(kind, arg).await?;
        match found.len() {
            1 => found
                .pop()
                .map(|(_, t)| t)
                .ok_or_else(|| Failure::new(format!("{kind} {arg} not found"))),
            0 => Err(Failure::new(format!("{kind} {arg} not found"))),
            n => Err(Failure::new(format!(
                "{n} {kind}s are named {arg}: give the inventory path (see `find -n {arg}`)"
            ))),
        }
    }

    /// Every `T` named `arg` (or the one at path `arg`), with its name.
    pub async fn find_all<T: Entity>(&self, kind: &str, arg: &str) -> Result<Vec<(String, T)>> {
        let finder = self.finder();
        if arg.contains('/') {
            let path = arg.trim_matches('/');
            let found = finder
                .by_inventory_path::<T>(&self.session, path)
                .await
                .with_context(|| format!("cannot look {kind} {arg} up"))?;
            let name = path.rsplit('/').next().unwrap_or(path).to_string();
            return Ok(found.into_iter().map(|t| (name.clone(), t)).collect());
        }
        let scope = match self.datacenter_name() {
            Some(_) => self.datacenter().await?.1.reference().clone(),
            None => self.managers.root_folder.reference().clone(),
        };
        let all = finder
            .list::<T>(&self.session, &scope, true)
            .await
            .with_context(|| format!("cannot look {kind} {arg} up"))?;
        Ok(all.into_iter().filter(|(n, _)| n == arg).collect())
    }

    /// The VM named or at path `arg`.
    pub async fn vm(&self, arg: &str) -> Result<mo::VirtualMachine> {
        self.find_one("VM", arg).await
    }

    /// The host named or at path `arg`.
    pub async fn host(&self, arg: &str) -> Result<mo::HostSystem> {
        self.find_one("host", arg).await
    }

    /// The datastore named or at path `arg`.
    pub async fn datastore(&self, arg: &str) -> Result<mo::Datastore> {
        self.find_one("datastore", arg).await
    }
}
