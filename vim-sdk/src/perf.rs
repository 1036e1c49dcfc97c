//! Performance counters: resolve counters by name once ([`PerfCounters`]), then read the
//! latest sample of many entities and counters in one `QueryPerf` ([`PerfCounters::latest`]).
//!
//! Counters are named as vSphere documents them, `group.name.rollup`
//! (`net.received.average`, `net.packetsRx.summation`, `cpu.usage.average`). Ids differ
//! between servers, so they are read from `PerformanceManager.perfCounter` (one
//! `RetrievePropertiesEx`) and looked up by name.
//!
//! [`PerfCounters::latest`] asks for the real-time series (`intervalId` = the provider's
//! refresh rate, 20 s on ESX and vCenter, see [`PerfCounters::refresh_rate`]) with
//! `maxSample=1` (the newest sample only; vcsim returns no sample at all without
//! `maxSample`) and instance `*`. Each (entity, counter) then gives one value:
//!
//! - the aggregate instance `""` when the server sends it (ESX sends it for a VM's and a
//!   host's network counters: the total over all NICs), else
//! - the sum of the values of every instance sent (a counter without aggregate, such as
//!   per-datastore ones, or a server that echoes `*` as vcsim does).
//!
//! A negative value (`-1`: no data for the sample) counts as no value. The sample's own
//! interval and timestamp are kept ([`PerfSample`]) so rates can be derived without
//! overlapping windows.
//!
//! [`query_perf_each`] sends a `QueryPerf` and hands each `PerfEntityMetricBase` of the reply
//! to a callback as it is decoded, so a reply for thousands of entities is never held whole
//! (neither its text nor its decoded form), as [`crate::property::retrieve_each`] does for
//! objects; [`query_perf_each_of`] also writes the request as it is sent, one spec at a time.

use std::collections::HashMap;

use crate::client::Client;
use crate::error::Error;
use crate::managed::ManagedType;
use crate::mo;
use crate::types::{AnyPerfEntityMetricBase, AnyPerfMetricSeries, PerfMetricId, PerfQuerySpec};
use crate::xml::{Encode as _, ManagedObjectReference, XmlReader, XmlWriter};

/// Metrics handed from the decoding thread to the caller at once.
const METRIC_BATCH: usize = 64;

/// Batches buffered between the decoding thread and the caller.
const METRIC_BATCHES: usize = 4;

/// Sends `QueryPerf` for `specs` to `manager` and calls `each` with every metric of the reply,
/// in order, as it is decoded: the reply streams through a decoder on tokio's blocking pool
/// and a small bounded channel, so memory holds a few batches of metrics, never the whole
/// reply. Returns how many metrics there were. A SOAP fault, or a reply that is cut off or
/// malformed, is an error (the metrics before it have been handed over).
pub async fn query_perf_each(
    client: &Client,
    manager: &mo::PerformanceManager,
    specs: &[PerfQuerySpec],
    each: impl FnMut(AnyPerfEntityMetricBase),
) -> Result<usize, Error> {
    query_perf_pieces(
        client,
        manager,
        specs.len(),
        |i, w| specs[i].encode(w, "querySpec"),
        each,
    )
    .await
}

/// As [`query_perf_each`], with the `count` specs made one at a time by `spec(i)` (`i` in
/// `0..count`) and encoded as the request is sent ([`Client::send_pieces`]): neither the
/// specs nor the request are ever held whole, so a query for 10,000 entities costs the
/// memory of a few of them. `spec` must give the same spec each time it is called with the
/// same `i` (it is called two or three times per spec: see [`Client::send_pieces`]).
pub async fn query_perf_each_of(
    client: &Client,
    manager: &mo::PerformanceManager,
    count: usize,
    mut spec: impl FnMut(usize) -> PerfQuerySpec,
    each: impl FnMut(AnyPerfEntityMetricBase),
) -> Result<usize, Error> {
    query_perf_pieces(
        client,
        manager,
        count,
        |i, w| spec(i).encode(w, "querySpec"),
        each,
    )
    .await
}

async fn query_perf_pieces(
    client: &Client,
    manager: &mo::PerformanceManager,
    count: usize,
    write: impl FnMut(usize, &mut XmlWriter),
    mut each: impl FnMut(AnyPerfEntityMetricBase),
) -> Result<usize, Error> {
    const OP: &str = "QueryPerf";
    let q = client.request(OP, manager.reference());
    let object = manager.reference().to_string();
    let resp = client.send_pieces(q, count, write).await?;
    let reader = resp.body.into_blocking_reader();
    let limits = client.decode_limits();
    let (tx, mut rx) = tokio::sync::mpsc::channel(METRIC_BATCHES);
    let decoder = tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        let walked = {
            let mut r =
                XmlReader::from_chunks(Box::new(|| reader.next_chunk())).with_limits(limits);
            walk_metrics(&mut r, &tx)
        };
        let kind = match walked {
            Ok(()) => {
                // The envelope's closing tags, so the connection can be reused.
                let _ = std::io::copy(
                    &mut std::io::Read::take(&mut reader, 1 << 16),
                    &mut std::io::sink(),
                );
                return;
            }
            Err(MetricStop::Closed) => return,
            // A stalled or reset body is that transport error, not malformed XML.
            Err(MetricStop::Decode(e)) => {
                crate::error::ErrorKind::of_streamed_decode(e, &mut reader)
            }
            Err(MetricStop::Fault(f)) => crate::error::ErrorKind::Fault(Box::new(f)),
        };
        let _ = tx.blocking_send(Err(Error::new(OP, Some(object), kind)));
    });
    let mut n = 0;
    let mut outcome = Ok(());
    while let Some(batch) = rx.recv().await {
        match batch {
            Ok(metrics) => {
                n += metrics.len();
                metrics.into_iter().for_each(&mut each);
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    drop(rx);
    let _ = decoder.await;
    outcome.map(|()| n)
}

/// Why the walk of a `QueryPerf` reply ended early.
enum MetricStop {
    /// The caller is gone.
    Closed,
    Decode(crate::xml::DecodeError),
    Fault(crate::error::Fault),
}

impl From<crate::xml::DecodeError> for MetricStop {
    fn from(e: crate::xml::DecodeError) -> Self {
        MetricStop::Decode(e)
    }
}

type MetricBatch = Result<Vec<AnyPerfEntityMetricBase>, Error>;

/// Walks `Envelope/Body/QueryPerfResponse/returnval*`, sending the metrics in batches.
fn walk_metrics(
    r: &mut XmlReader<'_>,
    tx: &tokio::sync::mpsc::Sender<MetricBatch>,
) -> Result<(), MetricStop> {
    if let crate::soap::BodyContent::Fault(f) = crate::soap::enter_body(r)? {
        r.finish()?;
        return Err(MetricStop::Fault(f));
    }
    let mut batch = Vec::with_capacity(METRIC_BATCH);
    while r.enter_child()? {
        if r.current_name() != b"returnval" {
            r.skip()?;
            continue;
        }
        if let Some(m) = crate::xml::opt::<AnyPerfEntityMetricBase>(r)? {
            batch.push(m);
            if batch.len() == METRIC_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(METRIC_BATCH));
                tx.blocking_send(Ok(full)).map_err(|_| MetricStop::Closed)?;
            }
        }
    }
    // The closing tags: a reply cut after its last metric is an error, not a whole reply.
    r.finish()?;
    if !batch.is_empty() {
        tx.blocking_send(Ok(batch))
            .map_err(|_| MetricStop::Closed)?;
    }
    Ok(())
}

/// Counter names resolved to this server's counter ids.
#[derive(Debug, Clone)]
pub struct PerfCounters {
    manager: mo::PerformanceManager,
    /// `(name, id)` in the order asked for.
    ids: Vec<(String, i32)>,
}

/// The newest sample of one counter of one entity.
#[derive(Debug, Clone, PartialEq)]
pub struct PerfSample {
    /// The value: the aggregate instance, or the sum over instances (see the module docs).
    pub value: i64,
    /// The sample's interval in seconds (`sampleInfo.interval`; 20 for real-time data).
    pub interval: i32,
    /// The end of the sample (`sampleInfo.timestamp`, `xsd:dateTime`).
    pub timestamp: String,
}

/// What one [`PerfCounters::latest`] returned: per entity, per counter name, the newest sample.
#[derive(Debug, Clone, Default)]
pub struct LatestPerf {
    samples: HashMap<ManagedObjectReference, HashMap<String, PerfSample>>,
}

impl LatestPerf {
    /// The sample of counter `name` for `entity`, if the server sent one.
    pub fn get(&self, entity: &ManagedObjectReference, name: &str) -> Option<&PerfSample> {
        self.samples.get(entity)?.get(name)
    }

    /// The value of counter `name` for `entity`, if the server sent one.
    pub fn value(&self, entity: &ManagedObjectReference, name: &str) -> Option<i64> {
        self.get(entity, name).map(|s| s.value)
    }

    /// The entities with at least one sample.
    pub fn entities(&self) -> impl Iterator<Item = &ManagedObjectReference> {
        self.samples.keys()
    }
}

impl PerfCounters {
    /// Reads the server's counters (`perfCounter` of `manager`, one `RetrievePropertiesEx`)
    /// and resolves `names`; a name the server does not know is an error naming it.
    pub async fn resolve(
        client: &Client,
        manager: &mo::PerformanceManager,
        names: &[&str],
    ) -> Result<Self, Error> {
        let read = crate::property::typed_one(client, manager, &["perfCounter"]).await?;
        let mut known: HashMap<String, i32> = HashMap::new();
        for c in read.props.perf_counter.unwrap_or_default() {
            let name = format!(
                "{}.{}.{}",
                c.group_info.base().key,
                c.name_info.base().key,
                c.rollup_type.as_str()
            );
            known.entry(name).or_insert(c.key);
        }
        let mut ids = Vec::with_capacity(names.len());
        for n in names {
            match known.get(*n) {
                Some(id) => ids.push((n.to_string(), *id)),
                None => {
                    return Err(crate::ops::unexpected(
                        "RetrievePropertiesEx",
                        Some(manager.as_reference().to_string()),
                        format!("the server has no performance counter {n}"),
                    ))
                }
            }
        }
        Ok(PerfCounters {
            manager: manager.clone(),
            ids,
        })
    }

    /// The counters of the server `client` talks to (its `PerformanceManager`, which a
    /// server may lack: [`ErrorKind::MissingManager`](crate::ErrorKind::MissingManager)).
    pub async fn resolve_default(client: &Client, names: &[&str]) -> Result<Self, Error> {
        let content = client.service_content().await?;
        let manager = content
            .perf_manager
            .clone()
            .map(mo::PerformanceManager::from_ref)
            .ok_or_else(|| Error::missing_manager("QueryPerf", "PerformanceManager"))?;
        Self::resolve(client, &manager, names).await
    }

    /// The id of counter `name`, if it was resolved.
    pub fn id(&self, name: &str) -> Option<i32> {
        self.ids.iter().find(|(n, _)| n == name).map(|(_, id)| *id)
    }

    /// The performance manager the counters were read from.
    pub fn manager(&self) -> &mo::PerformanceManager {
        &self.manager
    }

    /// The real-time refresh rate of `entity`'s provider, in seconds
    /// (`QueryPerfProviderSummary`; `None` when the entity has no real-time statistics).
    /// It is the same for every entity of a type on a server, so ask once per type.
    pub async fn refresh_rate(
        &self,
        client: &Client,
        entity: &ManagedObjectReference,
    ) -> Result<Option<i32>, Error> {
        let summary = self
            .manager
            .query_perf_provider_summary(client, entity)
            .await?;
        Ok(summary
            .current_supported
            .then_some(summary.refresh_rate)
            .flatten())
    }

    /// The newest sample of every resolved counter for every entity of `entities` (VMs and
    /// hosts may be mixed), in one `QueryPerf` with `maxSample=1`, `intervalId` =
    /// `interval` (the refresh rate, see [`PerfCounters::refresh_rate`]) and instance `*`.
    /// See the module docs for how instances are combined.
    pub async fn latest(
        &self,
        client: &Client,
        entities: &[ManagedObjectReference],
        interval: i32,
    ) -> Result<LatestPerf, Error> {
        if entities.is_empty() || self.ids.is_empty() {
            return Ok(LatestPerf::default());
        }
        let metric_id: Vec<PerfMetricId> = self
            .ids
            .iter()
            .map(|(_, id)| PerfMetricId {
                counter_id: *id,
                instance: "*".into(),
            })
            .collect();
        let specs: Vec<PerfQuerySpec> = entities
            .iter()
            .map(|e| PerfQuerySpec {
                entity: e.clone(),
                max_sample: Some(1),
                metric_id: metric_id.clone(),
                interval_id: Some(interval),
                ..Default::default()
            })
            .collect();
        let reply = self.manager.query_perf(client, &specs).await?;
        Ok(self.combine(reply))
    }

    /// Folds a `QueryPerf` reply into one sample per (entity, counter).
    fn combine(&self, reply: Vec<AnyPerfEntityMetricBase>) -> LatestPerf {
        let by_id: HashMap<i32, &str> = self.ids.iter().map(|(n, id)| (*id, n.as_str())).collect();
        let mut out = LatestPerf::default();
        for metric in reply {
            let AnyPerfEntityMetricBase::PerfEntityMetric(m) = metric else {
                continue; // CSV or an unknown form: not asked for
            };
            let Some(info) = m.sample_info.last() else {
                continue;
            };
            // (aggregate, sum of instances) per counter.
            let mut per: HashMap<i32, (Option<i64>, Option<i64>)> = HashMap::new();
            for series in &m.value {
                let AnyPerfMetricSeries::PerfMetricIntSeries(s) = series else {
                    continue;
                };
                let Some(&v) = s.value.last().filter(|v| **v >= 0) else {
                    continue;
                };
                let slot = per.entry(s.base.id.counter_id).or_default();
                if s.base.id.instance.is_empty() {
                    slot.0 = Some(v);
                } else {
                    slot.1 = Some(slot.1.unwrap_or(0).saturating_add(v));
                }
            }
            let entity = out.samples.entry(m.base.entity.clone()).or_default();
            for (id, (aggregate, sum)) in per {
                let (Some(name), Some(value)) = (by_id.get(&id), aggregate.or(sum)) else {
                    continue;
                };
                entity.insert(
                    name.to_string(),
                    PerfSample {
                        value,
                        interval: info.interval,
                        timestamp: info.timestamp.clone(),
                    },
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{
        PerfEntityMetric, PerfEntityMetricBase, PerfMetricIntSeries, PerfMetricSeries,
        PerfSampleInfo,
    };

    fn series(counter_id: i32, instance: &str, values: Vec<i64>) -> AnyPerfMetricSeries {
        AnyPerfMetricSeries::PerfMetricIntSeries(Box::new(PerfMetricIntSeries {
            base: PerfMetricSeries {
                id: PerfMetricId {
                    counter_id,
                    instance: instance.into(),
                },
            },
            value: values,
        }))
    }

    #[test]
    fn aggregate_instance_wins_else_instances_add_up() {
        let counters = PerfCounters {
            manager: mo::PerformanceManager::from_ref(ManagedObjectReference::new(
                "PerformanceManager",
                "PerfMgr",
            )),
            ids: vec![
                ("net.received.average".into(), 10),
                ("disk.read.average".into(), 20),
            ],
        };
        let vm = ManagedObjectReference::new("VirtualMachine", "vm-1");
        let reply = vec![AnyPerfEntityMetricBase::PerfEntityMetric(Box::new(
            PerfEntityMetric {
                base: PerfEntityMetricBase { entity: vm.clone() },
                sample_info: vec![PerfSampleInfo {
                    timestamp: "2024-01-01T00:00:20Z".into(),
                    interval: 20,
                }],
                value: vec![
                    series(10, "4000", vec![5, 7]),
                    series(10, "", vec![9, 11]),
                    series(10, "4001", vec![3]),
                    series(20, "disk-a", vec![100]),
                    series(20, "disk-b", vec![50]),
                    series(20, "disk-c", vec![-1]),
                    series(99, "", vec![1]),
                ],
            },
        ))];
        let latest = counters.combine(reply);
        // The aggregate's newest value, not 7 + 3.
        assert_eq!(latest.value(&vm, "net.received.average"), Some(11));
        // No aggregate: the instances add up; -1 (no data) is left out.
        assert_eq!(latest.value(&vm, "disk.read.average"), Some(150));
        let s = latest.get(&vm, "disk.read.average").unwrap();
        assert_eq!(
            (s.interval, s.timestamp.as_str()),
            (20, "2024-01-01T00:00:20Z")
        );
        assert_eq!(latest.entities().count(), 1);
        assert!(latest.value(&vm, "cpu.usage.average").is_none());
    }
}
