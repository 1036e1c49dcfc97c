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
//! `~/.one/vmware-netstats/` ([`Store`]), so that a probe of a host with 1,000 VMs reads and
//! writes one file, not 1,000. The VMM `poll` and the IM probe share it: both ask for the
//! samples newer than the entry's `last`, and re-apply their samples under an exclusive lock
//! to the entry as it is then ([`Totals::add`] skips what is already counted), so concurrent
//! runs neither lose nor double-count an interval. A VM that arrives from another host (or
//! comes back after an absence) takes the newest entry among the stores of the same server,
//! so a vMotion does not restart its totals.

use std::cmp::Ordering;
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

/// One real-time sample of an entity, as kept between the query and the store update: its
/// end, its length (s) and the two rates (KBps; `None`: no value for the interval).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The end of the interval (`sampleInfo.timestamp`).
    pub timestamp: String,
    /// Its length in seconds.
    pub interval: u64,
    /// Received KBps.
    pub rx: Option<i64>,
    /// Sent KBps.
    pub tx: Option<i64>,
}

/// The samples of one `QueryPerf` metric, with `rx`/`tx` the counter ids (the values of
/// every series of a counter are added; `-1`, "no value", counts as none).
pub fn samples_of(metric: &AnyPerfEntityMetricBase, rx: i32, tx: i32) -> Vec<Sample> {
    let AnyPerfEntityMetricBase::PerfEntityMetric(m) = metric else {
        return Vec::new();
    };
    m.sample_info
        .iter()
        .enumerate()
        .map(|(i, info)| {
            let mut sample = Sample {
                timestamp: info.timestamp.clone(),
                interval: u64::try_from(info.interval).unwrap_or(0),
                rx: None,
                tx: None,
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
                *slot = Some(slot.unwrap_or(0).saturating_add(kbps));
            }
            sample
        })
        .collect()
}

impl Totals {
    /// Adds the samples of `metrics` newer than [`last`](Self::last); `rx`/`tx` are the
    /// counter ids. Returns how many samples were new.
    pub fn add(&mut self, metrics: &[AnyPerfEntityMetricBase], rx: i32, tx: i32) -> usize {
        metrics
            .iter()
            .map(|m| self.add_samples(&samples_of(m, rx, tx)))
            .sum()
    }

    /// Adds the `samples` newer than [`last`](Self::last). Returns how many were new.
    pub fn add_samples(&mut self, samples: &[Sample]) -> usize {
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
            let bytes = |kbps: Option<i64>| {
                (kbps.unwrap_or(0) as u64)
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
                newest = Some(s.timestamp.clone());
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

/// Entries not seen for this long are dropped when a probe rewrites the store.
const FORGET_AFTER: u64 = 7 * 24 * 3600;

/// One stored entry: the totals and when the entity was last seen on this host (s).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// The totals.
    pub totals: Totals,
    /// When a poll or probe of this host last saw the entity (seconds since the epoch).
    pub seen: u64,
}

/// The totals of one host's VMs and of the host, keyed by VM instance UUID (`host:<id>` for
/// the host). File format: a line `v2 <probed>` (the time of the last probe that saw every
/// VM of the host), then `<key> <last> <rx> <tx> <seen>` per entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Store {
    /// When a probe last listed every VM of the host (seconds since the epoch, 0: never).
    pub probed: u64,
    /// The entries.
    pub entries: std::collections::HashMap<String, Entry>,
}

impl Store {
    /// Parses a store file; malformed lines are skipped, a wrong header gives an empty store.
    pub fn parse(text: &str) -> Store {
        Store::read(text.as_bytes())
    }

    /// Reads a store file line by line (never its whole text: 10,000 VMs are 1 MB of it), as
    /// [`parse`](Self::parse); a line that cannot be read ends the store there.
    pub fn read(text: impl std::io::BufRead) -> Store {
        let mut lines = text.lines().map_while(std::io::Result::ok);
        let mut store = Store::default();
        let Some(head) = lines.next() else {
            return store;
        };
        let mut h = head.split_whitespace();
        if h.next() != Some("v2") {
            return store;
        }
        store.probed = h.next().and_then(|t| t.parse().ok()).unwrap_or(0);
        for l in lines {
            let mut f = l.split_whitespace();
            let (Some(key), Some(last), Some(rx), Some(tx), Some(seen), None) =
                (f.next(), f.next(), f.next(), f.next(), f.next(), f.next())
            else {
                continue;
            };
            let (Ok(rx), Ok(tx), Ok(seen)) = (rx.parse(), tx.parse(), seen.parse()) else {
                continue;
            };
            store.entries.insert(
                key.to_string(),
                Entry {
                    totals: Totals {
                        last: (last != "-").then(|| last.to_string()),
                        rx,
                        tx,
                    },
                    seen,
                },
            );
        }
        store
    }

    /// The file's text (entries sorted by key).
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_to(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Writes the file's text (as [`render`](Self::render) gives it) to `out`, entry by entry.
    pub fn write_to(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        let mut entries: Vec<(&String, &Entry)> = self.entries.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        writeln!(out, "v2 {}", self.probed)?;
        for (k, e) in entries {
            writeln!(
                out,
                "{k} {} {} {} {}",
                e.totals.last.as_deref().unwrap_or("-"),
                e.totals.rx,
                e.totals.tx,
                e.seen
            )?;
        }
        out.flush()
    }

    /// Whether the entry of `key` may be out of date: missing, or absent from this host
    /// during a probe since it was last seen (it may have run elsewhere meanwhile).
    fn suspect(&self, key: &str) -> bool {
        self.entries
            .get(key)
            .is_none_or(|e| self.probed > 0 && e.seen < self.probed)
    }
}

/// A key is written into the store's lines: no whitespace, never empty (borrowed when it is
/// already so, as UUIDs are).
fn clean_key(key: &str) -> std::borrow::Cow<'_, str> {
    if !key.is_empty() && !key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return std::borrow::Cow::Borrowed(key);
    }
    let k: String = key
        .chars()
        .map(|c| {
            if c.is_whitespace() || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if k.is_empty() {
        "-".into()
    } else {
        k.into()
    }
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

fn read_store(path: &std::path::Path) -> Store {
    std::fs::File::open(path)
        .map(|f| Store::read(std::io::BufReader::new(f)))
        .unwrap_or_default()
}

/// For each suspect key, the entry with the newest `last` among the other stores of the same
/// server, if newer than ours (a VM that ran on another host meanwhile).
fn adopt_from_siblings(
    store: &mut Store,
    keys: &[impl AsRef<str>],
    dir: &std::path::Path,
    prefix: &str,
    own: &std::path::Path,
) {
    let want: Vec<&str> = keys
        .iter()
        .map(AsRef::as_ref)
        .filter(|k| store.suspect(k))
        .collect();
    if want.is_empty() {
        return;
    }
    let Ok(list) = std::fs::read_dir(dir) else {
        return;
    };
    for f in list.flatten() {
        let path = f.path();
        let name = f.file_name();
        let name = name.to_string_lossy();
        if path == own || !name.starts_with(prefix) || name.contains('.') {
            continue;
        }
        let other = read_store(&path);
        for k in &want {
            let Some(theirs) = other.entries.get(*k) else {
                continue;
            };
            let newer = match store.entries.get(*k) {
                None => true,
                Some(mine) => newer_last(&theirs.totals, &mine.totals),
            };
            if newer {
                store.entries.insert(k.to_string(), theirs.clone());
            }
        }
    }
}

/// Which version of a file is on disk: inode, length and modification time (every write
/// renames a new file over the old one, so the inode changes); `None` without a file.
fn file_version(path: &std::path::Path) -> Option<(u64, u64, Option<std::time::SystemTime>)> {
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(path).ok()?;
    Some((m.ino(), m.len(), m.modified().ok()))
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

/// Whether `obj` is `e`.
fn is_entity(obj: &ManagedObjectReference, e: &NetEntity<'_>) -> bool {
    obj.value == e.id && obj.r#type == e.kind
}

/// The entity a `QueryPerf` fault says is gone (`ManagedObjectNotFound`).
fn gone_entity(e: &vim_sdk::Error) -> Option<&ManagedObjectReference> {
    match e.fault()?.detail.as_ref()? {
        vim_sdk::types::AnyMethodFault::ManagedObjectNotFound(m) => Some(&m.obj),
        _ => None,
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
pub async fn cumulative_many(
    conn: &Conn,
    entities: &[NetEntity<'_>],
    full_view: bool,
) -> NetTotals {
    let mut gone = vec![false; entities.len()];
    let Some(dir) = dir() else {
        return NetTotals {
            totals: vec![(0, 0); entities.len()],
            gone,
        };
    };
    let (prefix, file) = store_paths(conn, &dir);
    let keys: Vec<std::borrow::Cow<'_, str>> = entities.iter().map(|e| clean_key(e.key)).collect();
    let version = file_version(&file);
    let mut store = read_store(&file);
    adopt_from_siblings(&mut store, &keys, &dir, &prefix, &file);
    let running: Vec<usize> = (0..entities.len())
        .filter(|i| entities[*i].running)
        .collect();
    // The new samples of each entity, compact: the reply itself streams by, never held.
    let mut fresh: Vec<Vec<Sample>> = Vec::new();
    if !running.is_empty() {
        let query = async {
            let (rx, tx) = counter_ids(conn, &dir).await?;
            let metric = |id| PerfMetricId {
                counter_id: id,
                instance: String::new(),
            };
            // The specs are made one at a time as the request is written and sent: for
            // 10,000 VMs neither they nor the 3 MB request are ever held whole.
            let mut asked = running.clone();
            let spec = |i: usize| {
                let last = store
                    .entries
                    .get(keys[i].as_ref())
                    .and_then(|e| e.totals.last.clone());
                PerfQuerySpec {
                    entity: ManagedObjectReference::new(entities[i].kind, entities[i].id),
                    max_sample: Some(if last.is_some() { MAX_SAMPLES } else { 1 }),
                    start_time: last,
                    metric_id: vec![metric(rx), metric(tx)],
                    interval_id: Some(REALTIME),
                    ..Default::default()
                }
            };
            // By id (the type is checked on a match): smaller than whole references.
            let index: std::collections::HashMap<&str, usize> = entities
                .iter()
                .enumerate()
                .map(|(i, e)| (e.id, i))
                .collect();
            let find = |obj: &ManagedObjectReference| {
                index
                    .get(obj.value.as_str())
                    .copied()
                    .filter(|i| is_entity(obj, &entities[*i]))
            };
            let manager = perf_manager(conn)?;
            let mut retries = 0;
            loop {
                let mut got: Vec<Vec<Sample>> = vec![Vec::new(); entities.len()];
                let answered = vim_sdk::perf::query_perf_each_of(
                    &conn.session,
                    &manager,
                    asked.len(),
                    |n| spec(asked[n]),
                    |m| {
                        let AnyPerfEntityMetricBase::PerfEntityMetric(pm) = &m else {
                            return;
                        };
                        if let Some(i) = find(&pm.base.entity) {
                            got[i].extend(samples_of(&m, rx, tx));
                        }
                    },
                )
                .await;
                let e = match answered {
                    Ok(_) => return Ok::<_, crate::DriverError>(got),
                    Err(e) => e,
                };
                let missing = gone_entity(&e).and_then(find);
                match missing {
                    Some(i) if retries < MAX_GONE_RETRIES && !gone[i] => {
                        output::debug(&format!(
                            "{}:{} is gone: asking for the statistics of the others again",
                            entities[i].kind, entities[i].id
                        ));
                        gone[i] = true;
                        let (kind, id) = (entities[i].kind, entities[i].id);
                        asked.retain(|a| !(entities[*a].kind == kind && entities[*a].id == id));
                        retries += 1;
                        if asked.is_empty() {
                            return Ok(got);
                        }
                    }
                    _ => return Err(e.into()),
                }
            }
        };
        match query.await {
            Ok(got) => fresh = got,
            Err(e) => output::debug(&format!("network statistics unavailable: {e}")),
        }
    }
    // Apply under the lock to the store as it is now: another run may have written since.
    let _lock = Lock::take(&file);
    let mut current = if version.is_some() && file_version(&file) == version {
        // Nobody wrote it since it was read: no second copy (10,000 VMs are 1 MB of text).
        store
    } else {
        let mut current = read_store(&file);
        // What was adopted from other hosts' stores, unless this store has something newer.
        for k in &keys {
            if let Some(adopted) = store.entries.get(k.as_ref()) {
                let newer = current
                    .entries
                    .get(k.as_ref())
                    .is_none_or(|c| newer_last(&adopted.totals, &c.totals));
                if newer {
                    current.entries.insert(k.to_string(), adopted.clone());
                }
            }
        }
        current
    };
    let stamp = now();
    for (i, samples) in fresh.iter().enumerate() {
        if !samples.is_empty() {
            let entry = current.entries.entry(keys[i].to_string()).or_default();
            entry.totals.add_samples(samples);
        }
    }
    drop(fresh);
    let totals = keys
        .iter()
        .map(|k| {
            let e = current.entries.entry(k.to_string()).or_default();
            e.seen = stamp;
            (e.totals.rx, e.totals.tx)
        })
        .collect();
    if full_view {
        current.probed = stamp;
        current
            .entries
            .retain(|_, e| stamp.saturating_sub(e.seen) < FORGET_AFTER);
    }
    if let Err(e) = write_atomically_with(&file, |out| current.write_to(out)) {
        output::debug(&format!(
            "cannot store network totals in {}: {e}",
            file.display()
        ));
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
    cumulative_many(
        conn,
        &[NetEntity {
            kind: &vm.r#type,
            id: &vm.value,
            key: uuid,
            running,
        }],
        false,
    )
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
        let mut store = Store::default();
        store.entries.insert(
            "uuid-1".into(),
            Entry {
                totals: t.clone(),
                seen: 5,
            },
        );
        let back = Store::parse(&store.render());
        assert_eq!(back, store);
        assert_eq!(Store::parse("garbage"), Store::default());
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

    #[test]
    fn store_skips_bad_lines_and_marks_suspects() {
        let s =
            Store::parse("v2 100\nvm-a 2026-01-01T00:00:20Z 1 2 150\nbroken line\nvm-b - 0 0 50\n");
        assert_eq!(s.probed, 100);
        assert_eq!(s.entries.len(), 2);
        assert!(!s.suspect("vm-a"), "seen after the last probe");
        assert!(s.suspect("vm-b"), "absent from the last probe");
        assert!(s.suspect("vm-c"), "unknown");
        assert_eq!(clean_key("a b\nc"), "a_b_c");
        assert_eq!(clean_key(""), "-");
    }

    #[test]
    fn a_moved_vm_keeps_its_newest_totals() {
        let dir = std::env::temp_dir().join(format!("netstats-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let own = dir.join("p-own");
        let other = dir.join("p-other");
        let unrelated = dir.join("q-other");
        std::fs::write(&other, "v2 0\nvm-a 2026-01-01T00:01:00Z 70 80 10\n").unwrap();
        std::fs::write(&unrelated, "v2 0\nvm-a 2026-01-01T00:09:00Z 999 999 10\n").unwrap();
        let mut mine = Store::parse("v2 100\nvm-a 2026-01-01T00:00:20Z 7 8 50\n");
        adopt_from_siblings(&mut mine, &["vm-a"], &dir, "p-", &own);
        let e = &mine.entries["vm-a"];
        assert_eq!(
            (e.totals.rx, e.totals.tx),
            (70, 80),
            "newest of the same server"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
