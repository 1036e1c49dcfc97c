//! The file of one host's network totals (`~/.one/vmware-netstats/<server>-<host>`), read
//! and rewritten line by line: a probe of a host with 10,000 VMs keeps, per VM, the
//! timestamp to ask from and a few flags, never the file's entries.
//!
//! Format: a line `v2 <probed>` (when a probe last listed every VM of the host, seconds
//! since the epoch, 0: never), then `<key> <last> <rx> <tx> <seen>` per entity (a VM's
//! instance UUID, or `host:<id>`; `last` is `-` before the first sample). Malformed lines
//! are skipped, a wrong header reads as an empty file, and a line that cannot be read ends
//! the file there.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;

use super::{newer_last, NetEntities, Sample, Stamps, Totals};

/// Entries not seen for this long are dropped when a probe rewrites the file.
const FORGET_AFTER: u64 = 7 * 24 * 3600;

/// One stored entry: the totals and when the entity was last seen on this host (s).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// The totals.
    pub totals: Totals,
    /// When a poll or probe of this host last saw the entity (seconds since the epoch).
    pub seen: u64,
}

/// One entry line: its key and entry; `None` for a malformed line.
fn parse_line<'l>(line: &'l str, stamps: &mut Stamps) -> Option<(&'l str, Entry)> {
    let mut f = line.split_whitespace();
    let (Some(key), Some(last), Some(rx), Some(tx), Some(seen), None) =
        (f.next(), f.next(), f.next(), f.next(), f.next(), f.next())
    else {
        return None;
    };
    let (Ok(rx), Ok(tx), Ok(seen)) = (rx.parse(), tx.parse(), seen.parse()) else {
        return None;
    };
    let last = (last != "-").then(|| stamps.get(last));
    Some((
        key,
        Entry {
            totals: Totals { last, rx, tx },
            seen,
        },
    ))
}

/// The `probed` time of a file's header and the lines after it; `None` for a wrong header
/// or an empty file.
fn header<R: BufRead>(text: R) -> Option<(u64, impl Iterator<Item = String>)> {
    let mut lines = text.lines().map_while(std::io::Result::ok);
    let head = lines.next()?;
    let mut h = head.split_whitespace();
    if h.next() != Some("v2") {
        return None;
    }
    let probed = h.next().and_then(|t| t.parse().ok()).unwrap_or(0);
    Some((probed, lines))
}

/// Reads a file: returns its `probed` time (`None`: no file or a wrong header, read as
/// empty) and hands each well-formed entry to `each`, in file order.
pub fn read_entries(
    text: impl BufRead,
    stamps: &mut Stamps,
    mut each: impl FnMut(&str, Entry),
) -> Option<u64> {
    let (probed, lines) = header(text)?;
    for l in lines {
        if let Some((key, entry)) = parse_line(&l, stamps) {
            each(key, entry);
        }
    }
    Some(probed)
}

/// [`read_entries`] of the file at `path` (`None` without one).
pub fn read_file(path: &Path, stamps: &mut Stamps, each: impl FnMut(&str, Entry)) -> Option<u64> {
    let f = std::fs::File::open(path).ok()?;
    read_entries(std::io::BufReader::new(f), stamps, each)
}

/// Writes one entry line.
fn write_entry(out: &mut dyn Write, key: &str, e: &Entry) -> std::io::Result<()> {
    writeln!(
        out,
        "{key} {} {} {} {}",
        e.totals.last.as_deref().unwrap_or("-"),
        e.totals.rx,
        e.totals.tx,
        e.seen
    )
}

/// A key as written into the file: no whitespace, never empty (borrowed when it is already
/// so, as UUIDs are).
pub fn clean_key(key: &str) -> Cow<'_, str> {
    // Printable ASCII, as UUIDs are, is checked byte by byte: the binary searches of a
    // 10,000-VM file ask this a million times.
    let printable = |b: u8| b > b' ' && b < 0x7f;
    if !key.is_empty()
        && (key.bytes().all(printable) || !key.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Cow::Borrowed(key);
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

/// The entities sorted by their key in the file (4 bytes an entity), to find the entities
/// of a line by a binary search. Keys that are already clean (UUIDs, `host:<id>`) are
/// compared as they are; the others (never seen in practice) are cleaned and compared one
/// by one.
pub struct Keys<'e, E: NetEntities + ?Sized> {
    entities: &'e E,
    /// The entities of clean keys, sorted by key.
    by_key: Vec<u32>,
    /// The others.
    dirty: Vec<u32>,
}

impl<'e, E: NetEntities + ?Sized> Keys<'e, E> {
    /// Sorts the entities' indices by key.
    pub fn new(entities: &'e E) -> Self {
        let (mut by_key, dirty): (Vec<u32>, Vec<u32>) = (0..entities.count())
            .filter_map(|i| u32::try_from(i).ok())
            .partition(|i| matches!(clean_key(entities.key(*i as usize)), Cow::Borrowed(_)));
        by_key.sort_by(|a, b| entities.key(*a as usize).cmp(entities.key(*b as usize)));
        Keys {
            entities,
            by_key,
            dirty,
        }
    }

    /// The key of entity `i`.
    pub fn key(&self, i: usize) -> Cow<'e, str> {
        clean_key(self.entities.key(i))
    }

    /// The entities of `key`.
    fn of<'k>(&'k self, key: &'k str) -> impl Iterator<Item = usize> + 'k {
        let key_of = |i: &u32| self.entities.key(*i as usize);
        let start = self.by_key.partition_point(|i| key_of(i) < key);
        let len = self.by_key[start..].partition_point(|i| key_of(i) == key);
        let dirty = self
            .dirty
            .iter()
            .filter(move |i| self.key(**i as usize) == key);
        self.by_key[start..start + len]
            .iter()
            .chain(dirty)
            .map(|i| *i as usize)
    }

    /// Whether `key` is one of the entities'.
    fn has(&self, key: &str) -> bool {
        self.of(key).next().is_some()
    }
}

/// How far an entity's entry in the file can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// No entry.
    Missing,
    /// An entry, but the entity was absent from this host during a probe since it was last
    /// seen (it may have run elsewhere meanwhile).
    Stale,
    /// An entry, seen by the last probe.
    Current,
}

/// What the file says of the entities before the statistics query: per entity, the sample
/// to count from and how far its entry can be trusted (17 bytes); and the entries adopted
/// from the files of other hosts of the same server.
#[derive(Debug)]
pub struct Known {
    /// By entity: the timestamp of the newest sample counted.
    pub last: Vec<Option<Arc<str>>>,
    /// By entity.
    status: Vec<Status>,
    /// By entity index: newer entries found in other hosts' files (a VM that moved).
    adopted: HashMap<u32, Entry>,
}

impl Known {
    /// Reads the file at `path` for the entities of `keys`.
    pub fn read<E: NetEntities + ?Sized>(
        path: &Path,
        keys: &Keys<'_, E>,
        stamps: &mut Stamps,
    ) -> Known {
        let n = keys.entities.count();
        let mut known = Known {
            last: vec![None; n],
            status: vec![Status::Missing; n],
            adopted: HashMap::new(),
        };
        let Some((probed, lines)) = std::fs::File::open(path)
            .ok()
            .and_then(|f| header(std::io::BufReader::new(f)))
        else {
            return known;
        };
        for l in lines {
            let Some((key, e)) = parse_line(&l, stamps) else {
                continue;
            };
            for i in keys.of(key) {
                known.last[i] = e.totals.last.clone();
                known.status[i] = if probed > 0 && e.seen < probed {
                    Status::Stale
                } else {
                    Status::Current
                };
            }
        }
        known
    }

    /// For each suspect entity, the entry with the newest `last` among the other files of the
    /// same server (`prefix` in `dir`, but `own`), if newer than this file's.
    pub fn adopt<E: NetEntities + ?Sized>(
        &mut self,
        keys: &Keys<'_, E>,
        dir: &Path,
        prefix: &str,
        own: &Path,
        stamps: &mut Stamps,
    ) {
        if !self.status.iter().any(|s| *s != Status::Current) {
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
            read_file(&path, stamps, |key, theirs| {
                for i in keys.of(key) {
                    let mine = Totals {
                        last: self.last[i].clone(),
                        ..Totals::default()
                    };
                    let newer = match self.status[i] {
                        Status::Current => false,
                        Status::Missing => true,
                        Status::Stale => newer_last(&theirs.totals, &mine),
                    };
                    if newer {
                        self.last[i] = theirs.totals.last.clone();
                        self.status[i] = Status::Stale;
                        // `i` came from the keys' u32 indices.
                        self.adopted.insert(i as u32, theirs.clone());
                    }
                }
            });
        }
    }
}

/// Rewrites the file, line by line: `current` (the file as it is now, read under the lock)
/// to `out`, with each entity's entry (as `current` has it, or as adopted when that is newer,
/// or a new one at the end) given the `fresh` samples of the entity (sorted by entity) and
/// `seen` = `stamp`, and its (received, sent) totals put in `totals`. `full_view` (a probe:
/// every entity of the host) sets `probed` and drops the other entries not seen for a week.
pub fn merge<E: NetEntities + ?Sized>(
    current: Option<impl BufRead>,
    out: &mut dyn Write,
    (keys, known, fresh): (&Keys<'_, E>, &Known, &[(u32, Sample)]),
    stamp: u64,
    full_view: bool,
    totals: &mut [(u64, u64)],
) -> std::io::Result<()> {
    let mut done = vec![false; keys.entities.count()];
    let samples_of = |i: usize| {
        let start = fresh.partition_point(|(e, _)| (*e as usize) < i);
        let end = start + fresh[start..].partition_point(|(e, _)| *e as usize == i);
        fresh[start..end].iter().map(|(_, s)| s)
    };
    // The entry of the entities of `key` from `base` (the adopted one instead when there is
    // no base or it is newer), updated; `None` if they were done already (a second line of
    // the same key).
    let mut update = |key: &str, base: Option<Entry>, done: &mut [bool]| -> Option<Entry> {
        let first = keys.of(key).find(|i| !done[*i])?;
        let adopted = known.adopted.get(&(first as u32));
        let mut e = match (base, adopted) {
            (Some(b), Some(a)) if !newer_last(&a.totals, &b.totals) => b,
            (_, Some(a)) => a.clone(),
            (b, None) => b.unwrap_or_default(),
        };
        for i in keys.of(key) {
            e.totals.add_samples(samples_of(i));
            done[i] = true;
        }
        e.seen = stamp;
        for i in keys.of(key) {
            totals[i] = (e.totals.rx, e.totals.tx);
        }
        Some(e)
    };
    let mut stamps = Stamps::default();
    let (probed, lines) = match current.and_then(header) {
        Some((probed, lines)) => (probed, Some(lines)),
        None => (0, None),
    };
    writeln!(out, "v2 {}", if full_view { stamp } else { probed })?;
    for l in lines.into_iter().flatten() {
        let Some((key, e)) = parse_line(&l, &mut stamps) else {
            continue;
        };
        if !keys.has(key) {
            if !(full_view && stamp.saturating_sub(e.seen) >= FORGET_AFTER) {
                write_entry(out, key, &e)?;
            }
        } else if let Some(e) = update(key, Some(e), &mut done) {
            write_entry(out, key, &e)?;
        }
    }
    for i in 0..done.len() {
        if !done[i] {
            let key = keys.key(i);
            if let Some(e) = update(&key, None, &mut done) {
                write_entry(out, &key, &e)?;
            }
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::super::NetEntity;
    use super::*;

    /// VMs keyed by their names, all running.
    fn vms<'a>(keys: &[&'a str]) -> Vec<NetEntity<'a>> {
        keys.iter()
            .map(|k| NetEntity {
                kind: "VirtualMachine",
                id: k,
                key: k,
                running: true,
            })
            .collect()
    }

    fn sample(ts: &str, rx: i64, tx: i64) -> Sample {
        Sample {
            timestamp: Arc::from(ts),
            interval: 20,
            rx,
            tx,
        }
    }

    #[test]
    fn lines_are_read_one_by_one_and_bad_ones_skipped() {
        let mut stamps = Stamps::default();
        let mut got = Vec::new();
        let text = "v2 100\nvm-a 2026-01-01T00:00:20Z 1 2 150\nbroken line\nvm-b - 0 0 50\n";
        let probed = read_entries(text.as_bytes(), &mut stamps, |k, e| {
            got.push((k.to_string(), e))
        });
        assert_eq!(probed, Some(100));
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].1.totals.last.as_deref(),
            Some("2026-01-01T00:00:20Z")
        );
        assert_eq!(
            (got[0].1.totals.rx, got[0].1.totals.tx, got[0].1.seen),
            (1, 2, 150)
        );
        assert_eq!(got[1].1.totals.last, None);
        assert_eq!(
            read_entries(
                &b"garbage\nvm-a - 1 1 1\n"[..],
                &mut stamps,
                |_, _| panic!()
            ),
            None
        );
        assert_eq!(clean_key("a b\nc"), "a_b_c");
        assert_eq!(clean_key(""), "-");
    }

    /// A scratch directory, removed when dropped.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!("netstats-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn suspects_take_the_newest_entry_of_the_same_server() {
        let dir = Scratch::new("adopt");
        let own = dir.0.join("p-own");
        std::fs::write(
            &own,
            "v2 100\nvm-a 2026-01-01T00:00:20Z 7 8 50\nvm-b 2026-01-01T00:00:20Z 1 1 150\n",
        )
        .unwrap();
        std::fs::write(
            dir.0.join("p-other"),
            "v2 0\nvm-a 2026-01-01T00:01:00Z 70 80 10\nvm-b 2026-01-01T00:09:00Z 5 5 10\nvm-c - 3 4 10\n",
        )
        .unwrap();
        std::fs::write(
            dir.0.join("q-other"),
            "v2 0\nvm-a 2026-01-01T00:09:00Z 999 999 10\n",
        )
        .unwrap();
        let entities = vms(&["vm-a", "vm-b", "vm-c", "vm-d"]);
        let keys = Keys::new(&entities[..]);
        let mut stamps = Stamps::default();
        let mut known = Known::read(&own, &keys, &mut stamps);
        assert_eq!(
            known.status,
            [
                Status::Stale,
                Status::Current,
                Status::Missing,
                Status::Missing
            ]
        );
        known.adopt(&keys, &dir.0, "p-", &own, &mut stamps);
        // vm-a: absent from the last probe, newer on the other host of the same server;
        // vm-b: seen by the last probe, kept; vm-c: new here, known there; vm-d: unknown.
        assert_eq!(known.last[0].as_deref(), Some("2026-01-01T00:01:00Z"));
        assert_eq!(known.last[1].as_deref(), Some("2026-01-01T00:00:20Z"));
        assert_eq!(known.last[2], None);
        let mut totals = vec![(0, 0); 4];
        let mut out = Vec::new();
        let current = std::fs::read(&own).unwrap();
        merge(
            Some(&current[..]),
            &mut out,
            (&keys, &known, &[]),
            500,
            true,
            &mut totals,
        )
        .unwrap();
        assert_eq!(totals, [(70, 80), (1, 1), (3, 4), (0, 0)]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "v2 500\nvm-a 2026-01-01T00:01:00Z 70 80 500\nvm-b 2026-01-01T00:00:20Z 1 1 500\n\
             vm-c - 3 4 500\nvm-d - 0 0 500\n"
        );
    }

    #[test]
    fn the_rewrite_counts_new_samples_once_and_keeps_the_others() {
        let entities = vms(&["vm-a", "vm-b"]);
        let keys = Keys::new(&entities[..]);
        let known = Known {
            last: vec![None; 2],
            status: vec![Status::Current; 2],
            adopted: HashMap::new(),
        };
        // vm-a's line counted the 00:20 sample already (another run wrote it meanwhile).
        let current = "v2 7\nold 2026-01-01T00:00:20Z 1 1 1\nvm-a 2026-01-01T00:00:20Z 100 100 9\n\
                       other - 5 6 999999\nvm-a - 0 0 9\n";
        let fresh = [
            (0, sample("2026-01-01T00:00:20Z", 1, 1)),
            (0, sample("2026-01-01T00:00:40Z", 2, 3)),
            (1, sample("2026-01-01T00:00:40Z", 1, 0)),
        ];
        let mut totals = vec![(0, 0); 2];
        let mut out = Vec::new();
        let parts = (&keys, &known, &fresh[..]);
        merge(
            Some(current.as_bytes()),
            &mut out,
            parts,
            1_000_000,
            false,
            &mut totals,
        )
        .unwrap();
        let a = 100 + 2 * 1024 * 20;
        assert_eq!(totals, [(a, 100 + 3 * 1024 * 20), (1024 * 20, 0)]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
                "v2 7\nold 2026-01-01T00:00:20Z 1 1 1\nvm-a 2026-01-01T00:00:40Z {a} {} 1000000\n\
                 other - 5 6 999999\nvm-b 2026-01-01T00:00:40Z 20480 0 1000000\n",
                100 + 3 * 1024 * 20
            ),
            "a second line of vm-a is dropped, vm-b added at the end"
        );
        // A probe (full view) notes itself and forgets entries not seen for a week.
        let mut out = Vec::new();
        merge(
            Some(current.as_bytes()),
            &mut out,
            (&keys, &known, &[]),
            1_000_000,
            true,
            &mut totals,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("v2 1000000\n"), "{text}");
        assert!(!text.contains("old "), "{text}");
        assert!(text.contains("other - 5 6 999999"), "{text}");
    }
}
