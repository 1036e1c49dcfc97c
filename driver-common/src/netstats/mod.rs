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
//! `~/.one/vmware-netstats/` (read once, line by line, and replaced: see `store.rs`), so that
//! a probe of a host with 1,000 VMs reads and writes one file, not 1,000. The VMM `poll` and
//! the IM probe share it: both ask for the samples newer than the entry's `last`, add each
//! entity's new samples up as they stream in ([`Fresh`]), and apply the sums under an
//! exclusive lock to the entry as it is then, only if it still counts up to where they asked
//! from ([`Totals::apply`]; else another run counted first and the next run asks from there),
//! so concurrent runs neither lose nor double-count an interval. A VM that arrives from another
//! host (or comes back after an absence) takes the newest entry among the stores of the same
//! server, so a vMotion does not restart its totals.

use std::path::PathBuf;

use vim_sdk::mo;
use vim_sdk::types::{AnyPerfEntityMetricBase, AnyPerfMetricSeries, PerfMetricId, PerfQuerySpec};
use vim_sdk::xml::ManagedObjectReference;

use crate::connect::Conn;
use crate::output;

mod store;

/// The samples' ends as numbers (the one `xsd:dateTime` type, from [`crate::datetime`]).
pub use crate::datetime::Stamp;

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

/// Whether `a` has counted a later sample than `b` (any sample is later than none).
fn newer_last(a: &Totals, b: &Totals) -> bool {
    a.last > b.last
}

/// The running totals of one VM.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// The end of the newest sample counted.
    pub last: Option<Stamp>,
    /// Bytes received.
    pub rx: u64,
    /// Bytes sent.
    pub tx: u64,
}

/// The new samples of one entity, added up as they stream in (32 bytes, whatever their
/// number): the bytes they add and the end of the newest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fresh {
    /// Bytes received in the samples.
    pub rx: u64,
    /// Bytes sent in the samples.
    pub tx: u64,
    /// The end of the newest sample (`None`: no sample).
    pub newest: Option<Stamp>,
}

impl Fresh {
    /// Adds the samples of one `QueryPerf` metric that end after `after` (all of them for
    /// `None`), with `rx`/`tx` the counter ids: each sample's rates (KBps; the values of
    /// every series of a counter are added; `-1`, "no value", counts as none) times its
    /// interval. A sample whose timestamp cannot be read is left out. Returns how many
    /// samples were added.
    pub fn add_metric(
        &mut self,
        metric: &AnyPerfEntityMetricBase,
        rx: i32,
        tx: i32,
        after: Option<Stamp>,
    ) -> usize {
        let AnyPerfEntityMetricBase::PerfEntityMetric(m) = metric else {
            return 0;
        };
        let mut added = 0;
        for (i, info) in m.sample_info.iter().enumerate() {
            let Ok(end) = Stamp::parse(&info.timestamp) else {
                continue;
            };
            if after.is_some_and(|a| end <= a) {
                continue;
            }
            let interval = u64::try_from(info.interval).unwrap_or(0);
            for series in &m.value {
                let AnyPerfMetricSeries::PerfMetricIntSeries(s) = series else {
                    continue;
                };
                let Some(kbps) = s.value.get(i).copied().filter(|v| *v >= 0) else {
                    continue;
                };
                let slot = if s.base.id.counter_id == rx {
                    &mut self.rx
                } else if s.base.id.counter_id == tx {
                    &mut self.tx
                } else {
                    continue;
                };
                let bytes = (kbps as u64).saturating_mul(1024).saturating_mul(interval);
                *slot = slot.saturating_add(bytes);
            }
            self.newest = self.newest.max(Some(end));
            added += 1;
        }
        added
    }
}

impl Totals {
    /// Adds `fresh`, the samples that end after `asked_from`, if these totals still count
    /// up to `asked_from`. Totals that moved meanwhile (another run counted some of the same
    /// samples and wrote them first) are left as they are: the next run asks from their
    /// `last` and counts the rest, so nothing is counted twice and nothing is lost. Returns
    /// whether `fresh` was added.
    pub fn apply(&mut self, fresh: &Fresh, asked_from: Option<Stamp>) -> bool {
        if fresh.newest.is_none() || self.last != asked_from {
            return false;
        }
        self.rx = self.rx.saturating_add(fresh.rx);
        self.tx = self.tx.saturating_add(fresh.tx);
        self.last = self.last.max(fresh.newest);
        true
    }
}

fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    write_atomically_with(path, |f| f.write_all(text.as_bytes()))
}

/// The temporary file beside `path` that replaces it (its name has a dot: no store file's
/// has).
fn temp_path(path: &std::path::Path) -> PathBuf {
    path.with_extension(format!("tmp.{}", std::process::id()))
}

/// How old a temporary file beside a store file must be to count as left behind (by a run
/// killed between creating and renaming it): no run takes this long.
const STALE_TEMP_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes the temporary files of `path` ([`temp_path`] of any process) older than
/// [`STALE_TEMP_AFTER`], so that runs killed mid-write do not pile them up.
fn remove_stale_temps(path: &std::path::Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let mut prefix = name.to_os_string();
    prefix.push(".tmp.");
    let prefix = prefix.as_encoded_bytes();
    let Ok(list) = std::fs::read_dir(dir) else {
        return;
    };
    for f in list.flatten() {
        if !f.file_name().as_encoded_bytes().starts_with(prefix) {
            continue;
        }
        let old = f
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= STALE_TEMP_AFTER);
        if old {
            let _ = std::fs::remove_file(f.path());
        }
    }
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
    remove_stale_temps(path);
    let tmp = temp_path(path);
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

/// Sends the one `QueryPerf` of [`cumulative_many`] (again without an entity the server
/// says is gone, at most [`MAX_GONE_RETRIES`] times, marking it in `gone`), adding up each
/// entity's samples newer than its `base` totals in `fresh` (by entity) as they stream in.
async fn query_fresh(
    conn: &Conn,
    dir: &std::path::Path,
    entities: &(impl NetEntities + ?Sized),
    base: &[Totals],
    fresh: &mut [Fresh],
    gone: &mut [bool],
) -> crate::Result<()> {
    let n = entities.count();
    let (rx, tx) = counter_ids(conn, dir).await?;
    let metric = |id| PerfMetricId {
        counter_id: id,
        instance: String::new(),
    };
    let last = |i: usize| base.get(i).and_then(|b| b.last);
    // Indices fit in u32: the entities are VMs of one host and the host.
    let mut asked: Vec<u32> = (0..n)
        .filter(|i| entities.entity(*i).running)
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    // The specs are made one at a time as the request is written and sent: for 10,000 VMs
    // neither they nor the 3 MB request are ever held whole. The samples after the last one
    // counted (an hour of them at most: what ESX keeps); only the newest for an entity
    // counted never.
    let spec = |i: usize| {
        let e = entities.entity(i);
        let from = last(i);
        PerfQuerySpec {
            entity: ManagedObjectReference::new(e.kind, e.id),
            max_sample: Some(if from.is_some() { MAX_SAMPLES } else { 1 }),
            start_time: from.map(|t| t.to_string()),
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
        fresh.fill(Fresh::default());
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
                    if let Some(f) = fresh.get_mut(i) {
                        f.add_metric(&m, rx, tx, last(i));
                    }
                }
            },
        )
        .await;
        let e = match answered {
            Ok(_) => return Ok(()),
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
                    fresh.fill(Fresh::default());
                    return Ok(());
                }
            }
            _ => {
                fresh.fill(Fresh::default());
                return Err(e.into());
            }
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
/// The host's file is read once (see [`store::Store`]). Memory, per entity, whatever the
/// number of new samples: 8 bytes of indices by key and by id, the 33 bytes of what the
/// file said, the 32 bytes of its new samples added up ([`Fresh`]), and the 17 bytes of the
/// result.
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
    let stamp = now();
    let mut store = store::Store::open(&file, &keys, stamp, full_view);
    store.adopt(&keys, &dir, &prefix);
    let mut fresh = vec![Fresh::default(); n];
    if (0..n).any(|i| entities.entity(i).running) {
        let base = store.base();
        if let Err(e) = query_fresh(conn, &dir, entities, base, &mut fresh, &mut gone).await {
            output::debug(&format!("network statistics unavailable: {e}"));
        }
    }
    // Applied under the lock to the file as it is now: another run may have written since.
    let _lock = Lock::take(&file);
    store.finish(&keys, &fresh, stamp, &mut totals);
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

    fn at(text: &str) -> Stamp {
        Stamp::parse(text).unwrap()
    }

    #[test]
    fn each_interval_counts_once() {
        let mut t = Totals::default();
        let first = metric(&[("2026-01-01T00:00:20Z", 10, 1)]);
        let mut f = Fresh::default();
        assert_eq!(f.add_metric(&first, 7, 8, t.last), 1);
        assert!(t.apply(&f, None));
        assert_eq!((t.rx, t.tx), (10 * 1024 * 20, 20 * 1024));
        // The same sample again, and two new ones (one without data): only new ones count,
        // however many there are, added up as they come.
        let mut f = Fresh::default();
        assert_eq!(f.add_metric(&first, 7, 8, t.last), 0);
        assert_eq!(f.newest, None);
        let next = metric(&[
            ("2026-01-01T00:00:20Z", 10, 1),
            ("2026-01-01T00:00:40Z", 5, -1),
            ("not a time", 1000, 1000),
        ]);
        let later = metric(&[("2026-01-01T00:01:00Z", 1, 2)]);
        assert_eq!(f.add_metric(&next, 7, 8, t.last), 1);
        assert_eq!(f.add_metric(&later, 7, 8, t.last), 1);
        let asked_from = t.last;
        assert!(t.apply(&f, asked_from));
        assert_eq!(t.rx, (10 + 5 + 1) * 1024 * 20);
        assert_eq!(t.tx, (1 + 2) * 1024 * 20);
        assert_eq!(t.last, Some(at("2026-01-01T00:01:00Z")));
        // Applied again (or to totals that moved since the query was asked): nothing.
        assert!(!t.apply(&f, asked_from));
        assert_eq!(t.rx, (10 + 5 + 1) * 1024 * 20);
        // Empty: nothing either.
        assert!(!t.apply(&Fresh::default(), t.last));
    }

    #[test]
    fn later_totals_are_newer() {
        let t = |s: Option<&str>| Totals {
            last: s.map(at),
            ..Totals::default()
        };
        assert!(newer_last(
            &t(Some("2026-01-01T00:00:40Z")),
            &t(Some("2026-01-01T00:00:20Z"))
        ));
        assert!(newer_last(&t(Some("2026-01-01T00:00:40Z")), &t(None)));
        assert!(!newer_last(&t(None), &t(None)));
        assert!(!newer_last(
            &t(Some("2026-01-01T00:00:20Z")),
            &t(Some("2026-01-01T00:00:20.0Z"))
        ));
    }

    #[test]
    fn temporary_files_left_by_killed_runs_are_removed_once_stale() {
        let dir = std::env::temp_dir().join(format!("netstats-temps-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("host-0123");
        let stale = dir.join("host-0123.tmp.4242");
        let recent = dir.join("host-0123.tmp.4343");
        let other = dir.join("host-9999.tmp.4242");
        for f in [&stale, &recent, &other] {
            std::fs::write(f, "v2 1\n").unwrap();
        }
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        for f in [&stale, &other] {
            let file = std::fs::File::options().write(true).open(f).unwrap();
            file.set_modified(two_hours_ago).unwrap();
        }
        write_atomically(&path, "v2 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "v2 2\n");
        assert!(
            !stale.exists(),
            "a stale temporary file of this store is removed"
        );
        assert!(
            recent.exists(),
            "a recent one may belong to a run still writing"
        );
        assert!(other.exists(), "another store's files are left alone");
        assert!(!temp_path(&path).exists(), "this run's own is renamed");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
