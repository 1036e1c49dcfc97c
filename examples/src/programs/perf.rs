//! The newest real-time sample of performance counters of a VM or host.
//!
//! ```text
//! perf ENTITY [COUNTER ...]    # default: cpu.usage.average mem.usage.average net.usage.average
//! ```
//!
//! ENTITY is the name or inventory path of a VM, else of a host. A COUNTER is
//! named as vSphere documents it, `group.name.rollup` (`cpu.usagemhz.average`,
//! `disk.read.average`, `net.packetsRx.summation`).
//!
//! Shows `vim_sdk::perf::PerfCounters`: counter names resolved to this server's ids (one read
//! of `PerformanceManager.perfCounter`), `QueryPerfProviderSummary` for the entity's
//! real-time interval (20 s), and one `QueryPerf` with `maxSample=1` and instance `*` (the
//! aggregate instance, else the sum over instances). The counter list gives each
//! counter's unit; percentages come in hundredths of a percent and are shown as percent.
//!
//! Output: a table `COUNTER VALUE UNIT TIME`; with `--json`, `{"entity": NAME, "type":
//! "VirtualMachine", "interval": 20, "counters": [{"name", "value", "unit", "time"}]}`
//! where `value` is the raw number the server sent (hundredths for percent counters) or
//! null when it sent no sample, `unit` the server's unit key (`percent`, `kiloBytes`,
//! `megaHertz`, `kiloBytesPerSecond`, `number`, ...).

use std::process::ExitCode;

use clap::Parser;
use serde_json::json;
use vim_sdk::mo;
use vim_sdk::perf::PerfCounters;
use vim_sdk::property::typed_one;

use crate::{output, rows, Common, Context as _, Failure, Result};

const DEFAULT_COUNTERS: [&str; 3] = [
    "cpu.usage.average",
    "mem.usage.average",
    "net.usage.average",
];

/// The newest sample of performance counters of a VM or host.
#[derive(Parser)]
#[command(name = "perf")]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// A VM, else a host: a name or an inventory path.
    entity: String,
    /// Counters as `group.name.rollup` (default: cpu.usage.average mem.usage.average
    /// net.usage.average).
    counters: Vec<String>,
}

/// `value` in `unit` for people: percent from hundredths, sizes and rates with units.
fn human(value: i64, unit: &str) -> String {
    match unit {
        "percent" => format!("{:.2} %", value as f64 / 100.0),
        "kiloBytes" => output::bytes(value.saturating_mul(1024)),
        "megaBytes" => output::bytes(value.saturating_mul(1 << 20)),
        "kiloBytesPerSecond" => format!("{value} KB/s"),
        "megaBytesPerSecond" => format!("{value} MB/s"),
        "megaHertz" => format!("{value} MHz"),
        "millisecond" => format!("{value} ms"),
        "microsecond" => format!("{value} µs"),
        "second" => format!("{value} s"),
        "watt" => format!("{value} W"),
        "joule" => format!("{value} J"),
        "celsius" => format!("{value} °C"),
        _ => value.to_string(),
    }
}

async fn body(cli: Cli) -> Result<()> {
    let conn = cli.common.connect().await?;
    let client = &conn.session;
    // A VM of that name or path, else a host.
    let vms = conn
        .find_all::<mo::VirtualMachine>("VM", &cli.entity)
        .await?;
    let entity = if vms.is_empty() {
        conn.host(&cli.entity).await?.reference().clone()
    } else {
        conn.vm(&cli.entity).await?.reference().clone()
    };
    let names: Vec<&str> = if cli.counters.is_empty() {
        DEFAULT_COUNTERS.to_vec()
    } else {
        cli.counters.iter().map(String::as_str).collect()
    };
    let counters = PerfCounters::resolve_default(client, &names)
        .await
        .context("cannot resolve the counters")?;
    // The units, from the manager's counter list (vcsim drops the connection on
    // `QueryPerfCounter`, which would read just these).
    let infos = typed_one(client, counters.manager(), &["perfCounter"])
        .await
        .context("cannot read the counters' units")?
        .props
        .perf_counter
        .unwrap_or_default();
    let unit_of = |name: &str| -> String {
        let id = counters.id(name);
        infos
            .iter()
            .find(|i| Some(i.key) == id)
            .map(|i| i.unit_info.base().key.clone())
            .unwrap_or_default()
    };
    let interval = counters
        .refresh_rate(client, &entity)
        .await
        .with_context(|| format!("cannot read the statistics interval of {}", cli.entity))?
        .ok_or_else(|| Failure::new(format!("{} has no real-time statistics", cli.entity)))?;
    let latest = counters
        .latest(client, std::slice::from_ref(&entity), interval)
        .await
        .with_context(|| format!("cannot read the statistics of {}", cli.entity))?;
    if conn.json {
        let list: Vec<_> = names
            .iter()
            .map(|n| {
                let s = latest.get(&entity, n);
                json!({
                    "name": n,
                    "value": s.map(|s| s.value),
                    "unit": unit_of(n),
                    "time": s.map(|s| s.timestamp.clone()),
                })
            })
            .collect();
        let doc = json!({
            "entity": cli.entity,
            "type": entity.r#type,
            "interval": interval,
            "counters": list,
        });
        output::json(&doc)?;
        return conn.close().await;
    }
    let rows: Vec<Vec<String>> = names
        .iter()
        .map(|n| {
            let unit = unit_of(n);
            match latest.get(&entity, n) {
                Some(s) => vec![
                    n.to_string(),
                    human(s.value, &unit),
                    unit,
                    s.timestamp.clone(),
                ],
                None => vec![n.to_string(), "-".into(), unit, "-".into()],
            }
        })
        .collect();
    rows::print(&["COUNTER", "VALUE", "UNIT", "TIME"], &rows, true)?;
    conn.close().await
}

/// The `perf` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> ExitCode {
    crate::run(body)
}
