//! Cumulative network bytes of a VM for the poll's `NETRX`/`NETTX`.
//!
//! vSphere keeps no cumulative byte counter per VM. Its real-time statistics give, every
//! 20 s, the average rate of each interval (`net.received.average`, `net.transmitted.average`,
//! KBps, aggregate instance ""). Each poll asks `QueryPerf` for the samples newer than the last
//! one already counted (`startTime`), adds rate × 1024 × interval seconds for each new sample
//! to a running total kept per VM (by `config.instanceUuid`) in a small file under
//! `~/.one/vmware-netstats/`, and reports the totals. Every 20 s interval is counted once:
//! no overlapping windows (OpenNebula 6's vCenter driver summed overlapping ones, about 6x too
//! much) and bytes, not packets per sample (legacy). The totals start at the driver's first
//! poll of the VM; a VM that is not running keeps its totals. A statistics failure leaves the
//! totals as they were (logged in debug mode) rather than failing the poll.

use std::path::PathBuf;

use vim_sdk::mo;
use vim_sdk::types::{AnyPerfEntityMetricBase, AnyPerfMetricSeries, PerfMetricId, PerfQuerySpec};
use vim_sdk::xml::ManagedObjectReference;

use crate::connect::Conn;
use crate::output;

/// The real-time statistics interval (s).
const REALTIME: i32 = 20;
/// At most one hour of real-time samples per query.
const MAX_SAMPLES: i32 = 180;

/// FNV-1a, for file names that do not show the URL or UUID.
pub fn fnv(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// `~/.one/vmware-netstats`.
fn dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_absolute())
        .map(|h| h.join(".one").join("vmware-netstats"))
}

/// The running totals of one VM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Timestamp of the newest sample counted (as the server wrote it).
    pub last: Option<String>,
    /// Bytes received.
    pub rx: u64,
    /// Bytes sent.
    pub tx: u64,
}

impl Totals {
    fn parse(text: &str) -> Option<Totals> {
        let mut it = text.split_whitespace();
        if it.next()? != "v1" {
            return None;
        }
        let last = it.next()?;
        Some(Totals {
            last: (last != "-").then(|| last.to_string()),
            rx: it.next()?.parse().ok()?,
            tx: it.next()?.parse().ok()?,
        })
    }

    fn render(&self) -> String {
        format!(
            "v1 {} {} {}\n",
            self.last.as_deref().unwrap_or("-"),
            self.rx,
            self.tx
        )
    }

    /// Adds the samples of `metrics` newer than [`last`](Self::last); `rx`/`tx` are the
    /// counter ids. Returns how many samples were new.
    pub fn add(&mut self, metrics: &[AnyPerfEntityMetricBase], rx: i32, tx: i32) -> usize {
        let mut newest = self.last.clone();
        let mut added = 0;
        for m in metrics {
            let AnyPerfEntityMetricBase::PerfEntityMetric(m) = m else {
                continue;
            };
            for (i, info) in m.sample_info.iter().enumerate() {
                if self
                    .last
                    .as_deref()
                    .is_some_and(|l| info.timestamp.as_str() <= l)
                {
                    continue;
                }
                let secs = u64::try_from(info.interval).unwrap_or(0);
                for series in &m.value {
                    let AnyPerfMetricSeries::PerfMetricIntSeries(s) = series else {
                        continue;
                    };
                    // -1 means "no value for this interval".
                    let Some(kbps) = s.value.get(i).copied().filter(|v| *v >= 0) else {
                        continue;
                    };
                    let bytes = (kbps as u64).saturating_mul(1024).saturating_mul(secs);
                    if s.base.id.counter_id == rx {
                        self.rx = self.rx.saturating_add(bytes);
                    } else if s.base.id.counter_id == tx {
                        self.tx = self.tx.saturating_add(bytes);
                    }
                }
                added += 1;
                if newest
                    .as_deref()
                    .is_none_or(|n| info.timestamp.as_str() > n)
                {
                    newest = Some(info.timestamp.clone());
                }
            }
        }
        self.last = newest;
        added
    }
}

fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The ids of `net.received.average` and `net.transmitted.average`, cached per endpoint.
async fn counter_ids(conn: &Conn, dir: &std::path::Path) -> crate::Result<(i32, i32)> {
    let file = dir.join(format!("counters-{}", fnv(&[&conn.endpoint.url])));
    if let Ok(text) = std::fs::read_to_string(&file) {
        let ids: Vec<i32> = text
            .split_whitespace()
            .filter_map(|t| t.parse().ok())
            .collect();
        if let [rx, tx] = ids.as_slice() {
            return Ok((*rx, *tx));
        }
    }
    let content = conn.session.content();
    let pm = content
        .perf_manager
        .clone()
        .map(mo::PerformanceManager::from_ref)
        .ok_or_else(|| crate::DriverError::new("the server has no PerformanceManager"))?;
    let mut props = pm
        .reference()
        .properties(&conn.session, &["perfCounter"])
        .await?;
    let counters = match props.take("perfCounter") {
        Some(vim_sdk::types::Any::Array(vim_sdk::types::AnyArray::PerfCounterInfo(c))) => c,
        _ => Vec::new(),
    };
    let find = |name: &str| {
        counters
            .iter()
            .find(|c| {
                c.group_info.base().key == "net"
                    && c.name_info.base().key == name
                    && c.rollup_type.as_str() == "average"
            })
            .map(|c| c.key)
            .ok_or_else(|| crate::DriverError::new(format!("no counter net.{name}.average")))
    };
    let ids = (find("received")?, find("transmitted")?);
    let _ = write_atomically(&file, &format!("{} {}\n", ids.0, ids.1));
    Ok(ids)
}

/// The VM's cumulative (received, sent) bytes, updated with new samples when `running`.
pub async fn cumulative(
    conn: &Conn,
    vm: &ManagedObjectReference,
    uuid: &str,
    running: bool,
) -> (u64, u64) {
    let Some(dir) = dir() else {
        return (0, 0);
    };
    let file = dir.join(fnv(&[&conn.endpoint.url, uuid]));
    let mut totals = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| Totals::parse(&t))
        .unwrap_or_default();
    if !running {
        return (totals.rx, totals.tx);
    }
    let update = async {
        let (rx, tx) = counter_ids(conn, &dir).await?;
        let pm = conn
            .session
            .content()
            .perf_manager
            .clone()
            .map(mo::PerformanceManager::from_ref)
            .ok_or_else(|| crate::DriverError::new("the server has no PerformanceManager"))?;
        let metric = |id| PerfMetricId {
            counter_id: id,
            instance: String::new(),
        };
        let spec = PerfQuerySpec {
            entity: vm.clone(),
            start_time: totals.last.clone(),
            max_sample: Some(if totals.last.is_some() {
                MAX_SAMPLES
            } else {
                1
            }),
            metric_id: vec![metric(rx), metric(tx)],
            interval_id: Some(REALTIME),
            ..Default::default()
        };
        let res = pm.query_perf(&conn.session, &[spec]).await?;
        Ok::<_, crate::DriverError>((res, rx, tx))
    };
    match update.await {
        Ok((res, rx, tx)) => {
            if totals.add(&res, rx, tx) > 0 {
                if let Err(e) = write_atomically(&file, &totals.render()) {
                    output::debug(&format!(
                        "cannot store network totals in {}: {e}",
                        file.display()
                    ));
                }
            }
        }
        Err(e) => output::debug(&format!("network statistics unavailable: {e}")),
    }
    (totals.rx, totals.tx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vim_sdk::types::{PerfEntityMetric, PerfMetricIntSeries, PerfSampleInfo};

    fn metric(samples: &[(&str, i64, i64)]) -> AnyPerfEntityMetricBase {
        let sample_info = samples
            .iter()
            .map(|(ts, _, _)| PerfSampleInfo {
                timestamp: ts.to_string(),
                interval: 20,
            })
            .collect();
        let series = |id: i32, vals: Vec<i64>| {
            let mut s = PerfMetricIntSeries::default();
            s.base.id.counter_id = id;
            s.value = vals;
            AnyPerfMetricSeries::PerfMetricIntSeries(Box::new(s))
        };
        AnyPerfEntityMetricBase::PerfEntityMetric(Box::new(PerfEntityMetric {
            sample_info,
            value: vec![
                series(7, samples.iter().map(|s| s.1).collect()),
                series(8, samples.iter().map(|s| s.2).collect()),
            ],
            ..Default::default()
        }))
    }

    #[test]
    fn each_interval_counts_once() {
        let mut t = Totals::default();
        let first = metric(&[("2026-01-01T00:00:20Z", 10, 1)]);
        assert_eq!(t.add(std::slice::from_ref(&first), 7, 8), 1);
        assert_eq!((t.rx, t.tx), (10 * 1024 * 20, 20 * 1024));
        // The same sample again, and two new ones (one without data): only new ones count.
        assert_eq!(t.add(&[first], 7, 8), 0);
        let next = metric(&[
            ("2026-01-01T00:00:20Z", 10, 1),
            ("2026-01-01T00:00:40Z", 5, -1),
            ("2026-01-01T00:01:00Z", 1, 2),
        ]);
        assert_eq!(t.add(&[next], 7, 8), 2);
        assert_eq!(t.rx, (10 + 5 + 1) * 1024 * 20);
        assert_eq!(t.tx, (1 + 2) * 1024 * 20);
        assert_eq!(t.last.as_deref(), Some("2026-01-01T00:01:00Z"));
        let back = Totals::parse(&t.render()).unwrap();
        assert_eq!(back, t);
        assert_eq!(Totals::parse("garbage"), None);
    }
}
