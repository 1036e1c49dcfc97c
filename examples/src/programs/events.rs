//! Recent events of the inventory or of one entity, and new ones as they come (`--follow`).
//!
//! ```text
//! events [ENTITY] [-n N] [--type VmPoweredOnEvent ...] [--follow]
//! ```
//!
//! ENTITY is a name or an inventory path of any entity (a VM, host, cluster, datacenter,
//! folder...); its events and those of everything below it are shown. Without it, every
//! event of the inventory.
//!
//! Shows an `EventHistoryCollector`: `EventManager.CreateCollectorForEvents` with a filter
//! (entity and recursion, event types), `SetCollectorPageSize` to N, the collector's
//! `latestPage` property for the recent events, and for `--follow` a private property
//! collector waiting (`WaitForUpdatesEx`) on changes of `latestPage`: every event newer than
//! the last printed one is printed as it arrives, until Ctrl-C (or `--max` events). The
//! collector is destroyed at the end (`DestroyCollector`); after a Ctrl-C the server drops it
//! with the session. This is the same on ESX and vCenter (`QueryEvents` is vCenter's only).
//!
//! Output, oldest first: a table `TIME TYPE USER ENTITY MESSAGE`; with `--json`, one JSON
//! object a line (also when following): `{"key": N, "chain": N, "type": "VmPoweredOnEvent",
//! "time": "xsd:dateTime", "user": NAME, "entity": NAME|null, "message": TEXT}`.

use std::process::ExitCode;

use clap::Parser;
use serde_json::json;
use vim_sdk::mo;
use vim_sdk::property::{objects_spec, typed_one, Paths};
use vim_sdk::types::{
    Any, AnyArray, AnyEvent, EventFilterSpec, EventFilterSpecByEntity,
    EventFilterSpecRecursionOption,
};
use vim_sdk::Client;

use crate::{follow, output, rows, Common, Context as _, Failure, Result};

/// Recent events, and new ones as they come.
#[derive(Parser)]
#[command(name = "events")]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// A name or inventory path; its events and those below it (default: all events).
    entity: Option<String>,
    /// How many recent events to show (1-1000).
    #[arg(short = 'n', default_value_t = 25, value_parser = clap::value_parser!(i32).range(1..=1000))]
    count: i32,
    /// Only events of these types (`VmPoweredOnEvent`, `VmEvent` for all of a base type).
    #[arg(long = "type")]
    types: Vec<String>,
    /// Keep printing new events until interrupted.
    #[arg(short, long)]
    follow: bool,
    /// With --follow, stop after this many new events.
    #[arg(long, requires = "follow")]
    max: Option<usize>,
}

/// The name of the entity an event is about: VM, host, datastore, network, compute
/// resource, datacenter, in this order.
fn entity_name(e: &AnyEvent) -> Option<&str> {
    let b = e.base();
    b.vm.as_ref()
        .map(|a| a.base.name.as_str())
        .or(b.host.as_ref().map(|a| a.base.name.as_str()))
        .or(b.ds.as_ref().map(|a| a.base.name.as_str()))
        .or(b.net.as_ref().map(|a| a.base.name.as_str()))
        .or(b.compute_resource.as_ref().map(|a| a.base.name.as_str()))
        .or(b.datacenter.as_ref().map(|a| a.base.name.as_str()))
}

/// Prints `events` (oldest first) as JSON lines or table rows.
fn print(events: &[&AnyEvent], json: bool, header: bool) -> Result<()> {
    if json {
        for e in events {
            let b = e.base();
            let line = json!({
                "key": b.key,
                "chain": b.chain_id,
                "type": e.type_name(),
                "time": b.created_time,
                "user": b.user_name,
                "entity": entity_name(e),
                "message": b.full_formatted_message.as_deref().unwrap_or(""),
            });
            output::line(line)?;
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            let b = e.base();
            vec![
                b.created_time.clone(),
                e.type_name().to_string(),
                b.user_name.clone(),
                entity_name(e).unwrap_or("-").to_string(),
                b.full_formatted_message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    rows::print(
        &["TIME", "TYPE", "USER", "ENTITY", "MESSAGE"],
        &rows,
        header,
    )
}

/// The events of `page` newer than key `after`, oldest first.
fn newer(page: &[AnyEvent], after: Option<i32>) -> Vec<&AnyEvent> {
    let mut out: Vec<&AnyEvent> = page
        .iter()
        .filter(|e| after.is_none_or(|k| e.base().key > k))
        .collect();
    out.sort_by_key(|e| e.base().key);
    out
}

/// Prints the recent events, then follows; returns when done. The caller destroys the
/// collector.
async fn show(
    client: &Client,
    cli: &Cli,
    json: bool,
    collector: &mo::EventHistoryCollector,
) -> Result<()> {
    collector
        .set_collector_page_size(client, cli.count)
        .await
        .context("cannot size the event page")?;
    let page = typed_one(client, collector, &["latestPage"])
        .await
        .context("cannot read the latest events")?
        .props
        .latest_page
        .unwrap_or_default();
    let mut recent = newer(&page, None);
    // The newest N only (vcsim keeps more than the page size asked for).
    let extra = recent.len().saturating_sub(cli.count as usize);
    recent.drain(..extra);
    print(&recent, json, true)?;
    if !cli.follow {
        return Ok(());
    }
    let mut last = recent.last().map(|e| e.base().key);
    let mut printed = 0usize;
    let spec = objects_spec(
        std::slice::from_ref(collector.reference()),
        &Paths::only(&["latestPage"]),
    );
    follow::changes(client, &spec, |set| {
        let changes = set
            .filter_set
            .into_iter()
            .flat_map(|f| f.object_set)
            .flat_map(|o| o.change_set);
        for change in changes {
            let Some(Any::Array(AnyArray::Event(page))) = change.val else {
                continue;
            };
            let mut fresh = newer(&page, last);
            if let Some(max) = cli.max {
                fresh.truncate(max - printed);
            }
            if let Some(e) = fresh.last() {
                last = Some(e.base().key);
            }
            printed += fresh.len();
            print(&fresh, json, false)?;
        }
        Ok(cli.max.is_none_or(|m| printed < m))
    })
    .await
}

async fn body(cli: Cli) -> Result<()> {
    let conn = cli.common.connect().await?;
    let client = &conn.session;
    let json = conn.json;
    let entity = match &cli.entity {
        Some(e) => conn
            .find_one::<mo::ManagedEntity>("entity", e)
            .await?
            .reference()
            .clone(),
        None => conn.managers.root_folder.reference().clone(),
    };
    let manager = conn
        .managers
        .event_manager
        .clone()
        .ok_or_else(|| Failure::new("the server has no EventManager"))?;
    let filter = EventFilterSpec {
        entity: Some(EventFilterSpecByEntity {
            entity,
            recursion: EventFilterSpecRecursionOption::All,
        }),
        event_type_id: cli.types.clone(),
        ..Default::default()
    };
    let collector = manager
        .create_collector_for_events(client, &filter)
        .await
        .context("cannot create an event collector")?;
    // The collector is destroyed whether showing failed or not (Ctrl-C ends the process,
    // and the server drops the collector with the session).
    let outcome = show(client, &cli, json, &collector).await;
    let destroyed = collector.destroy_collector(client).await;
    outcome?;
    destroyed.context("cannot remove the event collector")?;
    conn.close().await
}

/// The `events` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> ExitCode {
    crate::run(body)
}
