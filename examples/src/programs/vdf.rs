//! Datastore space, like `df`: capacity, free, provisioned (used plus what thin disks may
//! still claim) and use, for each datastore of the datacenter.
//!
//! `vdf [NAME...]`: the datastores of `--dc` / `GOVC_DATACENTER` (else of the whole
//! inventory), or only those named. One `summary` read of every datastore (a container view).
//! Provisioned = capacity − free + uncommitted; above 100% of capacity means overcommitted.
//!
//! `--json`: an array of `{"name", "type", "url", "capacity", "free", "uncommitted",
//! "provisioned", "accessible"}`, sizes in bytes.

use crate::{output, Common, Context as _, Result};
use clap::Parser;
use serde::Serialize;
use vim_sdk::mo;
use vim_sdk::property::typed_in_container;

/// Shows datastore capacity, free and provisioned space
#[derive(Parser)]
#[command(name = "vdf")]
struct Args {
    /// Only these datastores (by name)
    #[arg(value_name = "NAME")]
    names: Vec<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(Serialize)]
struct Space {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    url: String,
    capacity: i64,
    free: i64,
    uncommitted: i64,
    provisioned: i64,
    accessible: bool,
}

async fn body(args: Args) -> Result<()> {
    let conn = args.common.connect().await?;
    let scope = match conn.datacenter_name() {
        Some(_) => conn.datacenter().await?.1.reference().clone(),
        None => conn.managers.root_folder.reference().clone(),
    };
    let found = typed_in_container::<mo::Datastore>(&conn.session, &scope, true, &["summary"])
        .await
        .context("cannot read the datastores")?;
    let mut rows: Vec<Space> = found
        .into_iter()
        .filter_map(|d| d.props.summary)
        .filter(|s| args.names.is_empty() || args.names.contains(&s.name))
        .map(|s| {
            let uncommitted = s.uncommitted.unwrap_or(0);
            Space {
                provisioned: s
                    .capacity
                    .saturating_sub(s.free_space)
                    .saturating_add(uncommitted),
                name: s.name,
                kind: s.r#type,
                url: s.url,
                capacity: s.capacity,
                free: s.free_space,
                uncommitted,
                accessible: s.accessible,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(missing) = args
        .names
        .iter()
        .find(|n| !rows.iter().any(|r| &r.name == *n))
    {
        return Err(crate::Failure::new(format!(
            "datastore {missing} not found"
        )));
    }
    if conn.json {
        output::json(&rows)?;
    } else {
        let mut table = output::Table::new(&[
            "Name",
            "Type",
            "Capacity",
            "Free",
            "Provisioned",
            "Used",
            "Prov",
        ])
        .right(&[2, 3, 4, 5, 6]);
        for r in &rows {
            table.row([
                r.name.clone(),
                r.kind.clone(),
                output::bytes(r.capacity),
                output::bytes(r.free),
                output::bytes(r.provisioned),
                output::percent(r.capacity - r.free, r.capacity),
                output::percent(r.provisioned, r.capacity),
            ]);
        }
        table.print()?;
    }
    conn.close().await
}

/// The `vdf` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> std::process::ExitCode {
    crate::run(body)
}
