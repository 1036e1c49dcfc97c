//! Cumulative network bytes of VMs and hosts for the poll's and the probe's `NETRX`/`NETTX`.
//!
//! vSphere keeps no cumulative byte counter per VM. Its real-time statistics give, every
//! 20 s, the average rate of each interval (`net.received.average`, `net.transmitted.average`,
//! KBps, aggregate instance ""). Each poll asks `QueryPerf` for the samples newer than the last
//! one already counted (`startTime`), adds rate × 1024 × interval seconds for each new sample
//! to a running total kept per VM (by `config.instanceUuid`), and reports the totals. Every
//! 20 s interval is counted once: no overlapping windows (OpenNebula 6's vCenter driver summed
//! overlapping ones, about 6x too much) and bytes, not packets per sample (legacy). The totals
//! start at the driver's first poll of the VM; a VM that is not running keeps its totals. A
//! statistics failure leaves the totals as they were (logged in debug mode) rather than
//! failing the poll.
//!
//! The totals of one host's VMs (and of the host itself) live in one small file under
//! `~/.one/vmware-netstats/` (read and rewritten line by line: see `store.rs`), so that a probe of a host with 1,000 VMs reads and
//! writes one file, not 1,000. The VMM `poll` and the IM probe share it: both ask for the
//! samples newer than the entry's `last`, and re-apply their samples under an exclusive lock
//! to the entry as it is then ([`Totals::add`] skips what is already counted), so concurrent
//! runs neither lose nor double-count an interval. A VM that arrives from another host (or
//! comes back after an absence) takes the newest entry among the stores of the same server,
//! so a vMotion does not restart its totals.

use std::cmp::Ordering;
use std::path::PathBuf;
use std::sync::Arc;

use vim_sdk::mo;
use vim_sdk::types::{AnyPerfEntityMetricBase, AnyPerfMetricSeries, PerfMetricId, PerfQuerySpec};
use vim_sdk::xml::ManagedObjectReference;

use crate::connect::Conn;
use crate::output;

mod store;

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

/// Compares two `xsd:dateTime` values of the same server: the date and time to the second,
/// then the fraction as a number (`10.6Z` is later than `10.59Z`, though not as text).
fn later(a: &str, b: &str) -> Ordering {
    fn split(t: &str) -> (&str, u64) {
        let head = t.get(..19).unwrap_or(t);
        let rest = t.get(19..).unwrap_or("");
        let frac = rest
            .strip_prefix('.')
            .map(|r| {
                let digits: String = r.chars().take_while(char::is_ascii_digit).take(9).collect();
                format!("{digits:0<9}").parse().unwrap_or(0)
            })
            .unwrap_or(0);
        (head, frac)
    }
    split(a).cmp(&split(b))
}

/// Whether `a` has counted a later sample than `b`.
fn newer_last(a: &Totals, b: &Totals) -> bool {
    match (&a.last, &b.last) {
        (Some(x), Some(y)) => later(x, y) == Ordering::Greater,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Timestamps shared by the samples and entries that carry the same text: the last few
/// distinct ones are remembered (on ESX and vCenter the samples of one query carry the same
/// few timestamps for every entity), without a table that would grow with the entities
/// where each has its own (vcsim).
#[derive(Debug, Default)]
pub struct Stamps(Vec<Arc<str>>);

/// How many distinct timestamps [`Stamps`] remembers.
const RECENT_STAMPS: usize = 8;

impl Stamps {
    /// The shared copy of `text`.
    pub fn get(&mut self, text: &str) -> Arc<str> {
        if let Some(s) = self.0.iter().find(|s| s.as_ref() == text) {
            return Arc::clone(s);
        }
        let s: Arc<str> = Arc::from(text);
        if self.0.len() == RECENT_STAMPS {
            self.0.remove(0);
        }
        self.0.push(Arc::clone(&s));
        s
    }
}

/// The running totals of one VM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Timestamp of the newest sample counted (as the server wrote it; shared, see [`Stamps`]).
    pub last: Option<Arc<str>>,
    /// Bytes received.
    pub rx: u64,
    /// Bytes sent.
    pub tx: u64,
}

/// One real-time sample of an entity, as kept between the query and the store update: its
/// end, its length (s) and the two rates (KBps; 0 when the interval has no value, which
/// counts as no bytes). 40 bytes, the timestamp shared ([`Stamps`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The end of the interval (`sampleInfo.timestamp`).
    pub timestamp: Arc<str>,
    /// Its length in seconds.
    pub interval: u64,
    /// Received KBps.
    pub rx: i64,
    /// Sent KBps.
    pub tx: i64,
}

/// The samples of one `QueryPerf` metric, with `rx`/`tx` the counter ids (the values of
/// every series of a counter are added; `-1`, "no value", counts as none), each handed to
/// `each`; their timestamps are taken from `stamps`.
pub fn samples_of(
    metric: &AnyPerfEntityMetricBase,
    rx: i32,
    tx: i32,
    stamps: &mut Stamps,
    mut each: impl FnMut(Sample),
) {
    let AnyPerfEntityMetricBase::PerfEntityMetric(m) = metric else {
        return;
    };
    for (i, info) in m.sample_info.iter().enumerate() {
        let mut sample = Sample {
            timestamp: stamps.get(&info.timestamp),
            interval: u64::try_from(info.interval).unwrap_or(0),
            rx: 0,
            tx: 0,
        };
        for series in &m.value {
            let AnyPerfMetricSeries::PerfMetricIntSeries(s) = series else {
                continue;
            };
            let Some(kbps) = s.value.get(i).copied().filter(|v| *v >= 0) else {
                continue;
            };
            let slot = if s.base.id.counter_id == rx {
                &mut sample.rx
            } else if s.base.id.counter_id == tx {
                &mut sample.tx
            } else {
                continue;
            };
            *slot = slot.saturating_add(kbps);
        }
        each(sample);
    }
}

impl Totals {
    /// Adds the samples of `metrics` newer than [`last`](Self::last); `rx`/`tx` are the
    /// counter ids. Returns how many samples were new.
    pub fn add(&mut self, metrics: &[AnyPerfEntityMetricBase], rx: i32, tx: i32) -> usize {
        let mut stamps = Stamps::default();
        metrics
            .iter()
            .map(|m| {
                let mut samples = Vec::new();
                samples_of(m, rx, tx, &mut stamps, |s| samples.push(s));
                self.add_samples(&samples)
            })
            .sum()
    }

    /// Adds the `samples` newer than [`last`](Self::last). Returns how many were new.
    pub fn add_samples<'s>(&mut self, samples: impl IntoIterator<Item = &'s Sample>) -> usize {
        let mut newest = self.last.clone();
        let mut added = 0;
        for s in samples {
            if self
                .last
                .as_deref()
                .is_some_and(|l| later(&s.timestamp, l) != Ordering::Greater)
            {
                continue;
            }
            let bytes = |kbps: i64| {
                (kbps.max(0) as u64)
                    .saturating_mul(1024)
                    .saturating_mul(s.interval)
            };
            self.rx = self.rx.saturating_add(bytes(s.rx));
            self.tx = self.tx.saturating_add(bytes(s.tx));
            added += 1;
            if newest
                .as_deref()
                .is_none_or(|n| later(&s.timestamp, n) == Ordering::Greater)
            {
                newest = Some(Arc::clone(&s.timestamp));
            }
        }
        self.last = newest;
        added
    }
}

fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    write_atomically_with(path, |f| f.write_all(text.as_bytes()))
}

/// Writes a temporary file beside `path` with `write`, then renames it over `path`.
fn write_atomically_with(
    path: &std::path::Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|f| {
        let mut out = std::io::BufWriter::new(f);
        write(&mut out)?;
        out.flush()
    });
    written
        .and_then(|()| std::fs::rename(&tmp, path))
        .inspect_err(|_| {
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
    let pm = perf_manager(conn)?;
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

fn perf_manager(conn: &Conn) -> crate::Result<mo::PerformanceManager> {
    conn.session
        .content()
        .perf_manager
        .clone()
        .map(mo::PerformanceManager::from_ref)
        .ok_or_else(|| crate::DriverError::new("the server has no PerformanceManager"))
}

/// Seconds since the epoch.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// One entity whose totals are wanted.
#[derive(Debug, Clone, Copy)]
pub struct NetEntity<'a> {
    /// The type of the VM or host (`VirtualMachine`, `HostSystem`).
    pub kind: &'a str,
    /// Its id (the value of its managed object reference).
    pub id: &'a str,
    /// Its key in the store (a VM's `config.instanceUuid`, else its id).
    pub key: &'a str,
    /// Whether it runs (only running entities get new samples).
    pub running: bool,
}

/// The store files of the connection's server: prefix, and this host's file.
fn store_paths(conn: &Conn, dir: &std::path::Path) -> (String, PathBuf) {
    let prefix = format!("{}-", fnv(&[&conn.endpoint.url]));
    let file = dir.join(format!(
        "{prefix}{}",
        fnv(&[&conn.endpoint.url, &conn.host.reference().value])
    ));
    (prefix, file)
}

/// An exclusive lock on `<store>.lock`, released when dropped.
struct Lock(Option<std::fs::File>);

impl Lock {
    fn take(store: &std::path::Path) -> Lock {
        let path = store.with_extension("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path);
        match file {
            Ok(f) => {
                use std::os::fd::AsRawFd as _;
                // SAFETY: flock on a descriptor this function owns; no memory is shared.
                let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
                if rc != 0 {
                    output::debug(&format!("cannot lock {}", path.display()));
                }
                Lock(Some(f))
            }
            Err(e) => {
                output::debug(&format!("cannot open {}: {e}", path.display()));
                Lock(None)
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            use std::os::fd::AsRawFd as _;
            // SAFETY: as in `take`.
            unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_UN) };
        }
    }
}

/// What [`cumulative_many`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetTotals {
    /// The cumulative (received, sent) bytes of each entity, in order.
    pub totals: Vec<(u64, u64)>,
    /// Whether the server said the entity no longer exists (`ManagedObjectNotFound` from
    /// `QueryPerf`: it vanished since it was read), in order.
    pub gone: Vec<bool>,
}

/// Most entities dropped from one `QueryPerf` because the server no longer knows them, each
/// costing one more round trip; after that the statistics of this run are given up.
const MAX_GONE_RETRIES: usize = 3;

/// The entity a `QueryPerf` fault says is gone (`ManagedObjectNotFound`).
fn gone_entity(e: &vim_sdk::Error) -> Option<&ManagedObjectReference> {
    match e.fault()?.detail.as_ref()? {
        vim_sdk::types::AnyMethodFault::ManagedObjectNotFound(m) => Some(&m.obj),
        _ => None,
    }
}

/// The entities of [`cumulative_many`], by index: the caller's records, never copied.
pub trait NetEntities {
    /// How many there are.
    fn count(&self) -> usize;
    /// The `i`th (`i < count()`).
    fn entity(&self, i: usize) -> NetEntity<'_>;
    /// The key of the `i`th (what [`entity`](Self::entity) gives, which an implementation
    /// may give faster: it is looked up a million times for 10,000 VMs).
    fn key(&self, i: usize) -> &str {
        self.entity(i).key
    }
    /// The (id, type) of the `i`th (as [`key`](Self::key)).
    fn id(&self, i: usize) -> (&str, &str) {
        let e = self.entity(i);
        (e.id, e.kind)
    }
}

impl NetEntities for [NetEntity<'_>] {
    fn count(&self) -> usize {
        self.len()
    }

    fn entity(&self, i: usize) -> NetEntity<'_> {
        self[i]
    }
}

/// The entity `obj` is, as an index of `entities`: by a binary search of `by_id`
/// (the indices sorted by id and type), 4 bytes an entity instead of a hash table.
fn find_entity(
    entities: &(impl NetEntities + ?Sized),
    by_id: &[u32],
    obj: &ManagedObjectReference,
) -> Option<usize> {
    let want = (obj.value.as_str(), obj.r#type.as_str());
    by_id
        .binary_search_by(|i| entities.id(*i as usize).cmp(&want))
        .ok()
        .and_then(|n| by_id.get(n))
        .map(|i| *i as usize)
}

/// The new samples of one query, compact: (entity index, sample), in reply order.
type Fresh = Vec<(u32, Sample)>;

/// Sends the one `QueryPerf` of [`cumulative_many`] (again without an entity the server
/// says is gone, at most [`MAX_GONE_RETRIES`] times, marking it in `gone`).
async fn query_fresh(
    conn: &Conn,
    dir: &std::path::Path,
    entities: &(impl NetEntities + ?Sized),
    last: &[Option<Arc<str>>],
    gone: &mut [bool],
) -> crate::Result<Fresh> {
    let n = entities.count();
    let (rx, tx) = counter_ids(conn, dir).await?;
    let metric = |id| PerfMetricId {
        counter_id: id,
        instance: String::new(),
    };
    // Indices fit in u32: the entities are VMs of one host and the host.
    let mut asked: Vec<u32> = (0..n)
        .filter(|i| entities.entity(*i).running)
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    // The specs are made one at a time as the request is written and sent: for 10,000 VMs
    // neither they nor the 3 MB request are ever held whole.
    let spec = |i: usize| {
        let e = entities.entity(i);
        let last = last.get(i).and_then(|l| l.as_deref().map(str::to_string));
        PerfQuerySpec {
            entity: ManagedObjectReference::new(e.kind, e.id),
            max_sample: Some(if last.is_some() { MAX_SAMPLES } else { 1 }),
            start_time: last,
            metric_id: vec![metric(rx), metric(tx)],
            interval_id: Some(REALTIME),
            ..Default::default()
        }
    };
    let mut by_id: Vec<u32> = (0..n).filter_map(|i| u32::try_from(i).ok()).collect();
    by_id.sort_unstable_by(|a, b| entities.id(*a as usize).cmp(&entities.id(*b as usize)));
    let manager = perf_manager(conn)?;
    let mut retries = 0;
    loop {
        // One sample per entity, usually: no regrowing.
        let mut got = Fresh::with_capacity(asked.len());
        let mut stamps = Stamps::default();
        let answered = vim_sdk::perf::query_perf_each_of(
            &conn.session,
            &manager,
            asked.len(),
            |k| spec(asked[k] as usize),
            |m| {
                let AnyPerfEntityMetricBase::PerfEntityMetric(pm) = &m else {
                    return;
                };
                if let Some(i) = find_entity(entities, &by_id, &pm.base.entity) {
                    // `i` came from `by_id`, so it fits in u32.
                    let i = i as u32;
                    samples_of(&m, rx, tx, &mut stamps, |s| got.push((i, s)));
                }
            },
        )
        .await;
        let e = match answered {
            Ok(_) => {
                got.shrink_to_fit();
                return Ok(got);
            }
            Err(e) => e,
        };
        let missing = gone_entity(&e).and_then(|obj| find_entity(entities, &by_id, obj));
        match missing {
            Some(i) if retries < MAX_GONE_RETRIES && !gone[i] => {
                let vanished = entities.entity(i);
                output::debug(&format!(
                    "{}:{} is gone: asking for the statistics of the others again",
                    vanished.kind, vanished.id
                ));
                gone[i] = true;
                asked.retain(|a| {
                    let e = entities.entity(*a as usize);
                    (e.kind, e.id) != (vanished.kind, vanished.id)
                });
                retries += 1;
                if asked.is_empty() {
                    return Ok(got);
                }
            }
            _ => return Err(e.into()),
        }
    }
}

/// The cumulative (received, sent) bytes of each of `entities` (in order), updated with the
/// samples newer than those already counted for the running ones: one `QueryPerf` for all
/// of them, its reply decoded as it streams (plus, once per server and machine, one read of
/// the counter ids). An entity the server reports gone (`ManagedObjectNotFound`) is marked
/// so and the query is sent again without it, so that one vanished VM does not cost the
/// others their statistics (at most [`MAX_GONE_RETRIES`] times).
/// `full_view`: the entities are every VM of the host (the probe), so the store notes the
/// probe and drops entries not seen for a week.
///
/// Memory, per entity: 4 bytes of index by key and 4 by id, the 17 bytes of what the store
/// said ([`store::Known`]), 48 bytes of each new sample (usually one), and the 17 bytes of
/// the result; the store file is read and rewritten line by line, never held.
pub async fn cumulative_many(
    conn: &Conn,
    entities: &(impl NetEntities + ?Sized),
    full_view: bool,
) -> NetTotals {
    let n = entities.count();
    let mut gone = vec![false; n];
    let mut totals = vec![(0, 0); n];
    let Some(dir) = dir() else {
        return NetTotals { totals, gone };
    };
    let (prefix, file) = store_paths(conn, &dir);
    let keys = store::Keys::new(entities);
    let mut stamps = Stamps::default();
    let mut known = store::Known::read(&file, &keys, &mut stamps);
    known.adopt(&keys, &dir, &prefix, &file, &mut stamps);
    drop(stamps);
    // The new samples, compact: the reply itself streams by, never held.
    let mut fresh = Fresh::new();
    if (0..n).any(|i| entities.entity(i).running) {
        match query_fresh(conn, &dir, entities, &known.last, &mut gone).await {
            Ok(got) => fresh = got,
            Err(e) => output::debug(&format!("network statistics unavailable: {e}")),
        }
    }
    // In entity order (the reply's, usually: then this costs one pass and no memory).
    fresh.sort_unstable_by_key(|(i, _)| *i);
    // Applied under the lock to the store as it is now: another run may have written since.
    let _lock = Lock::take(&file);
    let stamp = now();
    let mut rewrite = |out: &mut dyn std::io::Write| {
        let current = std::fs::File::open(&file).ok().map(std::io::BufReader::new);
        let parts = (&keys, &known, fresh.as_slice());
        store::merge(current, out, parts, stamp, full_view, &mut totals)
    };
    if let Err(e) = write_atomically_with(&file, |out| rewrite(out)) {
        output::debug(&format!(
            "cannot store network totals in {}: {e}",
            file.display()
        ));
        // The totals all the same.
        let _ = rewrite(&mut std::io::sink());
    }
    NetTotals { totals, gone }
}

/// The VM's cumulative (received, sent) bytes, updated with new samples when `running`
/// (the VMM poll: [`cumulative_many`] for one VM).
pub async fn cumulative(
    conn: &Conn,
    vm: &ManagedObjectReference,
    uuid: &str,
    running: bool,
) -> (u64, u64) {
    let one = [NetEntity {
        kind: &vm.r#type,
        id: &vm.value,
        key: uuid,
        running,
    }];
    cumulative_many(conn, &one[..], false)
        .await
        .totals
        .first()
        .copied()
        .unwrap_or((0, 0))
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
    }

    #[test]
    fn recent_timestamps_are_shared() {
        let mut stamps = Stamps::default();
        let a = stamps.get("2026-01-01T00:00:20Z");
        let b = stamps.get("2026-01-01T00:00:40Z");
        assert!(Arc::ptr_eq(&a, &stamps.get("2026-01-01T00:00:20Z")));
        assert!(!Arc::ptr_eq(&a, &b));
        for i in 0..RECENT_STAMPS {
            stamps.get(&format!("2026-01-01T01:00:{i:02}Z"));
        }
        let again = stamps.get("2026-01-01T00:00:20Z");
        assert_eq!(again, a, "the same text");
        assert!(
            !Arc::ptr_eq(&a, &again),
            "forgotten after {RECENT_STAMPS} others"
        );
    }

    #[test]
    fn timestamps_compare_as_times() {
        assert_eq!(
            later("2026-11-29T21:46:10.6Z", "2026-11-29T21:46:10.59Z"),
            Ordering::Greater
        );
        assert_eq!(
            later(
                "2026-11-29T21:46:10.60180256Z",
                "2026-11-29T21:46:10.601802560Z"
            ),
            Ordering::Equal
        );
        assert_eq!(
            later("2026-11-29T21:46:10Z", "2026-11-29T21:46:20Z"),
            Ordering::Less
        );
        assert_eq!(later("garbage", "2026-11-29T21:46:20Z"), Ordering::Greater);
    }
}
