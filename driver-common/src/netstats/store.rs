//! The file of one host's network totals (`~/.one/vmware-netstats/<server>-<host>`), read
//! once, line by line, and rewritten: a probe of a host with 10,000 VMs keeps, per VM, the
//! entry it read (33 bytes), never the file's other lines. As the file is read, its other
//! lines are copied into the file that will replace it; the entries of the run's entities are
//! added at the end once their new samples are known. When the file changed meanwhile
//! (another run replaced it: a rare case), the copy is dropped and the file as it is then is
//! read again and merged instead ([`merge`]).
//!
//! Format: a line `v2 <probed>` (when a probe last listed every VM of the host, seconds
//! since the epoch, 0: never), then `<key> <last> <rx> <tx> <seen>` per entity (a VM's
//! instance UUID, or `host:<id>`; `last` is `-` before the first sample). Malformed lines
//! are skipped, a wrong header reads as an empty file, and a line that cannot be read ends
//! the file there.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{
    newer_last, output, remove_stale_temps, temp_path, write_atomically_with, Fresh, NetEntities,
    Stamp, Totals,
};

/// Entries not seen for this long are dropped when a probe rewrites the file.
const FORGET_AFTER: u64 = 7 * 24 * 3600;

/// One stored entry: the totals and when the entity was last seen on this host (s).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Entry {
    /// The totals.
    pub totals: Totals,
    /// When a poll or probe of this host last saw the entity (seconds since the epoch).
    pub seen: u64,
}

/// One entry line: its key and entry; `None` for a malformed line (a `last` that is not a
/// time reads as none: the totals are kept).
fn parse_line(line: &str) -> Option<(&str, Entry)> {
    let mut f = line.split_whitespace();
    let (Some(key), Some(last), Some(rx), Some(tx), Some(seen), None) =
        (f.next(), f.next(), f.next(), f.next(), f.next(), f.next())
    else {
        return None;
    };
    let (Ok(rx), Ok(tx), Ok(seen)) = (rx.parse(), tx.parse(), seen.parse()) else {
        return None;
    };
    let last = Stamp::parse(last).ok();
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
pub fn read_entries(text: impl BufRead, mut each: impl FnMut(&str, Entry)) -> Option<u64> {
    let (probed, lines) = header(text)?;
    for l in lines {
        if let Some((key, entry)) = parse_line(&l) {
            each(key, entry);
        }
    }
    Some(probed)
}

/// [`read_entries`] of the file at `path` (`None` without one).
pub fn read_file(path: &Path, each: impl FnMut(&str, Entry)) -> Option<u64> {
    let f = File::open(path).ok()?;
    read_entries(std::io::BufReader::new(f), each)
}

/// Writes one entry line.
fn write_entry(out: &mut dyn Write, key: &str, e: &Entry) -> std::io::Result<()> {
    match e.totals.last {
        Some(last) => write!(out, "{key} {last}")?,
        None => write!(out, "{key} -")?,
    }
    writeln!(out, " {} {} {}", e.totals.rx, e.totals.tx, e.seen)
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
    /// A newer entry than this file's, from another host's file of the same server (a VM
    /// that moved).
    Adopted,
}

/// What the file said of the entities before the statistics query, per entity: the totals
/// to count from (its entry, or an adopted one) and how far they can be trusted (33 bytes).
#[derive(Debug)]
pub struct Known {
    /// By entity.
    base: Vec<Totals>,
    /// By entity.
    status: Vec<Status>,
}

impl Known {
    /// Nothing known of `n` entities.
    fn new(n: usize) -> Known {
        Known {
            base: vec![Totals::default(); n],
            status: vec![Status::Missing; n],
        }
    }

    /// Notes the entry of `key`, read from a file whose last probe was at `probed` (the
    /// first line of a key counts, as in [`merge`]).
    fn note<E: NetEntities + ?Sized>(
        &mut self,
        keys: &Keys<'_, E>,
        key: &str,
        e: &Entry,
        probed: u64,
    ) {
        for i in keys.of(key) {
            if self.status[i] == Status::Missing {
                self.base[i] = e.totals;
                self.status[i] = if probed > 0 && e.seen < probed {
                    Status::Stale
                } else {
                    Status::Current
                };
            }
        }
    }
}

/// Whether an entry last seen at `seen` is dropped by a probe at `stamp`.
fn forgotten(stamp: u64, seen: u64) -> bool {
    stamp.saturating_sub(seen) >= FORGET_AFTER
}

/// The file that replaces the host's file, written as the old one is read (`None` once
/// it could not be written; removed unless it replaces the old one).
struct Replacement(Option<(PathBuf, BufWriter<File>)>);

impl Replacement {
    /// Starts the replacement of `path` with its header.
    fn start(path: &Path, probed: u64) -> Replacement {
        remove_stale_temps(path);
        let tmp = temp_path(path);
        let made = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| File::create(&tmp));
        let mut r = Replacement(made.ok().map(|f| (tmp, BufWriter::new(f))));
        r.write(|out| writeln!(out, "v2 {probed}"));
        r
    }

    /// Writes with `w`; gives the replacement up if that fails.
    fn write(&mut self, w: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
        if let Some((_, out)) = &mut self.0 {
            if w(out).is_err() {
                self.give_up();
            }
        }
    }

    /// Removes the replacement.
    fn give_up(&mut self) {
        if let Some((tmp, out)) = self.0.take() {
            drop(out);
            let _ = std::fs::remove_file(tmp);
        }
    }
}

impl Drop for Replacement {
    fn drop(&mut self) {
        self.give_up();
    }
}

/// Whether `path` is still the file `read` (no file then and now: also the same). Runs
/// replace the file by renaming a new one over it, never write into it, and `read` is
/// kept open so its inode cannot be reused: the same inode is the same content.
fn same_file(read: Option<&File>, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (read.map(File::metadata), std::fs::metadata(path)) {
        (None, Err(e)) => e.kind() == std::io::ErrorKind::NotFound,
        (Some(Ok(a)), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

/// The host's file, read once: what it says of the entities ([`Known`]) and its
/// replacement, holding its other lines, to which [`finish`](Store::finish) adds the
/// entities' entries.
pub struct Store {
    path: PathBuf,
    /// The file as read (`None`: there was none), kept open until the rewrite.
    read: Option<File>,
    replacement: Replacement,
    known: Known,
    full_view: bool,
}

impl Store {
    /// Reads the file at `path` for the entities of `keys` and copies its other lines into
    /// its replacement; `full_view` (a probe at `stamp`: every entity of the host) sets the
    /// header's `probed` and leaves out the other entries not seen for a week.
    pub fn open<E: NetEntities + ?Sized>(
        path: &Path,
        keys: &Keys<'_, E>,
        stamp: u64,
        full_view: bool,
    ) -> Store {
        let read = File::open(path).ok();
        let mut known = Known::new(keys.entities.count());
        let (probed, lines) = match read
            .as_ref()
            .and_then(|f| header(std::io::BufReader::new(f)))
        {
            Some((probed, lines)) => (probed, Some(lines)),
            None => (0, None),
        };
        let mut replacement = Replacement::start(path, if full_view { stamp } else { probed });
        for l in lines.into_iter().flatten() {
            let Some((key, e)) = parse_line(&l) else {
                continue;
            };
            if keys.has(key) {
                known.note(keys, key, &e, probed);
            } else if !(full_view && forgotten(stamp, e.seen)) {
                replacement.write(|out| write_entry(out, key, &e));
            }
        }
        Store {
            path: path.to_path_buf(),
            read,
            replacement,
            known,
            full_view,
        }
    }

    /// By entity: the totals to count from; the statistics are asked from their `last`.
    pub fn base(&self) -> &[Totals] {
        &self.known.base
    }

    /// For each suspect entity, the entry with the newest `last` among the other files of
    /// the same server (`prefix` in `dir`), if newer than this file's.
    pub fn adopt<E: NetEntities + ?Sized>(&mut self, keys: &Keys<'_, E>, dir: &Path, prefix: &str) {
        let known = &mut self.known;
        if known.status.iter().all(|s| *s == Status::Current) {
            return;
        }
        let Ok(list) = std::fs::read_dir(dir) else {
            return;
        };
        for f in list.flatten() {
            let path = f.path();
            let name = f.file_name();
            let name = name.to_string_lossy();
            if path == self.path || !name.starts_with(prefix) || name.contains('.') {
                continue;
            }
            read_file(&path, |key, theirs| {
                for i in keys.of(key) {
                    let newer = match known.status[i] {
                        Status::Current => false,
                        Status::Missing => true,
                        Status::Stale | Status::Adopted => {
                            newer_last(&theirs.totals, &known.base[i])
                        }
                    };
                    if newer {
                        known.base[i] = theirs.totals;
                        known.status[i] = Status::Adopted;
                    }
                }
            });
        }
    }

    /// Writes the entities' entries, given their `fresh` samples and `seen` = `stamp`, and
    /// their (received, sent) totals in `totals`, then puts the replacement in place. When
    /// the file changed since it was read, it is read again and merged instead ([`merge`]).
    /// The caller holds the file's lock.
    pub fn finish<E: NetEntities + ?Sized>(
        mut self,
        keys: &Keys<'_, E>,
        fresh: &[Fresh],
        stamp: u64,
        totals: &mut [(u64, u64)],
    ) {
        let parts = (keys, &self.known, fresh);
        if same_file(self.read.as_ref(), &self.path) {
            if let Some((tmp, mut out)) = self.replacement.0.take() {
                let mut done = vec![false; keys.entities.count()];
                let written = append_rest(&mut out, parts, stamp, &mut done, totals)
                    .and_then(|()| out.into_inner().map_err(|e| e.into_error()))
                    .and_then(|f| {
                        drop(f);
                        std::fs::rename(&tmp, &self.path)
                    });
                match written {
                    Ok(()) => return,
                    Err(e) => {
                        let _ = std::fs::remove_file(&tmp);
                        output::debug(&format!("cannot replace {}: {e}", self.path.display()));
                    }
                }
            }
        }
        self.replacement.give_up();
        let path = &self.path;
        let full_view = self.full_view;
        let mut rewrite = |out: &mut dyn Write| {
            let current = File::open(path).ok().map(std::io::BufReader::new);
            merge(current, out, parts, stamp, full_view, totals)
        };
        if let Err(e) = write_atomically_with(path, |out| rewrite(out)) {
            output::debug(&format!(
                "cannot store network totals in {}: {e}",
                path.display()
            ));
            // The totals all the same.
            let _ = rewrite(&mut std::io::sink());
        }
    }
}

/// The entry of the entities of `key`, counting from `file` (its entry in the file as it is
/// now, if any; the one read before the query, or adopted, when that is newer or there is
/// none), given their `fresh` samples and seen at `stamp`, their totals put in `totals`;
/// `None` if they were done already (a second line of the same key).
fn update<E: NetEntities + ?Sized>(
    (keys, known, fresh): (&Keys<'_, E>, &Known, &[Fresh]),
    key: &str,
    file: Option<Entry>,
    stamp: u64,
    done: &mut [bool],
    totals: &mut [(u64, u64)],
) -> Option<Entry> {
    let first = keys.of(key).find(|i| !done[*i])?;
    let mine = known.base[first];
    let mut e = match file {
        Some(f) if !(known.status[first] == Status::Adopted && newer_last(&mine, &f.totals)) => f,
        _ => Entry {
            totals: mine,
            seen: 0,
        },
    };
    for i in keys.of(key) {
        if let Some(f) = fresh.get(i) {
            e.totals.apply(f, known.base[i].last);
        }
        done[i] = true;
    }
    e.seen = e.seen.max(stamp);
    for i in keys.of(key) {
        totals[i] = (e.totals.rx, e.totals.tx);
    }
    Some(e)
}

/// Writes the entries of the entities not `done` (in entity order).
fn append_rest<E: NetEntities + ?Sized>(
    out: &mut dyn Write,
    parts: (&Keys<'_, E>, &Known, &[Fresh]),
    stamp: u64,
    done: &mut [bool],
    totals: &mut [(u64, u64)],
) -> std::io::Result<()> {
    for i in 0..done.len() {
        if !done[i] {
            let key = parts.0.key(i);
            if let Some(e) = update(parts, &key, None, stamp, done, totals) {
                write_entry(out, &key, &e)?;
            }
        }
    }
    out.flush()
}

/// Rewrites the file, line by line: `current` (the file as it is now, read under the lock)
/// to `out`, with each entity's entry (as `current` has it, or as read before the query
/// when that was adopted and is newer, or a new one at the end) given the `fresh` samples
/// of the entity and `seen` = `stamp`, and its (received, sent) totals put in `totals`.
/// `full_view` (a probe: every entity of the host) sets `probed` and drops the other
/// entries not seen for a week.
pub fn merge<E: NetEntities + ?Sized>(
    current: Option<impl BufRead>,
    out: &mut dyn Write,
    parts: (&Keys<'_, E>, &Known, &[Fresh]),
    stamp: u64,
    full_view: bool,
    totals: &mut [(u64, u64)],
) -> std::io::Result<()> {
    let keys = parts.0;
    let mut done = vec![false; keys.entities.count()];
    let (probed, lines) = match current.and_then(header) {
        Some((probed, lines)) => (probed, Some(lines)),
        None => (0, None),
    };
    writeln!(out, "v2 {}", if full_view { stamp } else { probed })?;
    for l in lines.into_iter().flatten() {
        let Some((key, e)) = parse_line(&l) else {
            continue;
        };
        if !keys.has(key) {
            if !(full_view && forgotten(stamp, e.seen)) {
                write_entry(out, key, &e)?;
            }
        } else if let Some(e) = update(parts, key, Some(e), stamp, &mut done, totals) {
            write_entry(out, key, &e)?;
        }
    }
    append_rest(out, parts, stamp, &mut done, totals)
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

    fn at(text: &str) -> Stamp {
        Stamp::parse(text).unwrap()
    }

    /// New samples ending at `newest`, adding `rx`/`tx` KBps over 20 s.
    fn fresh(newest: &str, rx: u64, tx: u64) -> Fresh {
        Fresh {
            rx: rx * 1024 * 20,
            tx: tx * 1024 * 20,
            newest: Some(at(newest)),
        }
    }

    #[test]
    fn lines_are_read_one_by_one_and_bad_ones_skipped() {
        let mut got = Vec::new();
        let text = "v2 100\nvm-a 2026-01-01T00:00:20Z 1 2 150\nbroken line\nvm-b - 0 0 50\n\
                    vm-c not-a-time 3 4 60\n";
        let probed = read_entries(text.as_bytes(), |k, e| got.push((k.to_string(), e)));
        assert_eq!(probed, Some(100));
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].1.totals.last, Some(at("2026-01-01T00:00:20Z")));
        assert_eq!(
            (got[0].1.totals.rx, got[0].1.totals.tx, got[0].1.seen),
            (1, 2, 150)
        );
        assert_eq!(got[1].1.totals.last, None);
        assert_eq!(got[2].1.totals.last, None, "kept, counting from scratch");
        assert_eq!((got[2].1.totals.rx, got[2].1.totals.tx), (3, 4));
        assert_eq!(
            read_entries(&b"garbage\nvm-a - 1 1 1\n"[..], |_, _| panic!()),
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

        /// The names of the files in it, sorted.
        fn names(&self) -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(&self.0)
                .unwrap()
                .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
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
        let mut store = Store::open(&own, &keys, 500, true);
        assert_eq!(
            store.known.status,
            [
                Status::Stale,
                Status::Current,
                Status::Missing,
                Status::Missing
            ]
        );
        store.adopt(&keys, &dir.0, "p-");
        // vm-a: absent from the last probe, newer on the other host of the same server;
        // vm-b: seen by the last probe, kept; vm-c: new here, known there; vm-d: unknown.
        let last: Vec<_> = store.base().iter().map(|b| b.last).collect();
        assert_eq!(
            last,
            [
                Some(at("2026-01-01T00:01:00Z")),
                Some(at("2026-01-01T00:00:20Z")),
                None,
                None
            ]
        );
        let mut totals = vec![(0, 0); 4];
        let none = [Fresh::default(); 4];
        store.finish(&keys, &none, 500, &mut totals);
        assert_eq!(totals, [(70, 80), (1, 1), (3, 4), (0, 0)]);
        assert_eq!(
            std::fs::read_to_string(&own).unwrap(),
            "v2 500\nvm-a 2026-01-01T00:01:00Z 70 80 500\nvm-b 2026-01-01T00:00:20Z 1 1 500\n\
             vm-c - 3 4 500\nvm-d - 0 0 500\n"
        );
        assert_eq!(
            dir.names(),
            ["p-other", "p-own", "q-other"],
            "no temporary file left"
        );
    }

    #[test]
    fn the_file_is_read_once_unless_replaced_meanwhile() {
        let dir = Scratch::new("once");
        let own = dir.0.join("p-own");
        let before = "v2 0\nold - 1 1 1\nvm-a 2026-01-01T00:00:20Z 100 100 9\n";
        std::fs::write(&own, before).unwrap();
        let entities = vms(&["vm-a", "vm-b"]);
        let keys = Keys::new(&entities[..]);
        let samples = [
            fresh("2026-01-01T00:00:40Z", 1, 2),
            fresh("2026-01-01T00:00:40Z", 3, 0),
        ];
        // Written into in place (which runs never do: they rename a new file over it):
        // the file is not read again, so the change is not seen.
        let store = Store::open(&own, &keys, 1000, false);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&own)
            .and_then(|mut f| f.write_all(b"v2 0\nvm-a - 5 5 5\n"))
            .unwrap();
        let mut totals = vec![(0, 0); 2];
        store.finish(&keys, &samples, 1000, &mut totals);
        let (a_rx, a_tx) = (100 + 1024 * 20, 100 + 2 * 1024 * 20);
        assert_eq!(totals, [(a_rx, a_tx), (3 * 1024 * 20, 0)]);
        assert_eq!(
            std::fs::read_to_string(&own).unwrap(),
            format!(
                "v2 0\nold - 1 1 1\nvm-a 2026-01-01T00:00:40Z {a_rx} {a_tx} 1000\n\
                 vm-b 2026-01-01T00:00:40Z 61440 0 1000\n"
            )
        );
        // Replaced meanwhile by another run that counted vm-a's sample of 00:40 and added a
        // line: read again and merged, vm-a's samples not counted twice.
        std::fs::write(&own, before).unwrap();
        let store = Store::open(&own, &keys, 2000, false);
        let other = dir.0.join("by-another-run");
        std::fs::write(
            &other,
            "v2 0\nold - 1 1 1\nvm-a 2026-01-01T00:00:40Z 300 300 1500\nnew - 2 2 1500\n",
        )
        .unwrap();
        std::fs::rename(&other, &own).unwrap();
        store.finish(&keys, &samples, 2000, &mut totals);
        assert_eq!(totals, [(300, 300), (3 * 1024 * 20, 0)]);
        assert_eq!(
            std::fs::read_to_string(&own).unwrap(),
            "v2 0\nold - 1 1 1\nvm-a 2026-01-01T00:00:40Z 300 300 2000\nnew - 2 2 1500\n\
             vm-b 2026-01-01T00:00:40Z 61440 0 2000\n"
        );
        assert_eq!(dir.names(), ["p-own"], "no temporary file left");
    }

    #[test]
    fn the_merge_counts_new_samples_once_and_keeps_the_others() {
        let entities = vms(&["vm-a", "vm-b", "vm-c"]);
        let keys = Keys::new(&entities[..]);
        let mut known = Known::new(3);
        // vm-c was read counting up to 00:20, vm-a and vm-b never counted.
        known.base[2].last = Some(at("2026-01-01T00:00:20Z"));
        known.status[2] = Status::Current;
        // vm-a's line counted the 00:20 sample already (another run wrote it meanwhile).
        let current = "v2 7\nold 2026-01-01T00:00:20Z 1 1 1\nvm-a 2026-01-01T00:00:20Z 100 100 9\n\
                       other - 5 6 999999\nvm-a - 0 0 9\nvm-c 2026-01-01T00:00:20Z 50 50 9\n";
        let samples = [
            fresh("2026-01-01T00:00:40Z", 3, 4),
            fresh("2026-01-01T00:00:40Z", 1, 0),
            fresh("2026-01-01T00:00:40Z", 1, 1),
        ];
        let mut totals = vec![(0, 0); 3];
        let mut out = Vec::new();
        let parts = (&keys, &known, &samples[..]);
        merge(
            Some(current.as_bytes()),
            &mut out,
            parts,
            1_000_000,
            false,
            &mut totals,
        )
        .unwrap();
        let c = 50 + 1024 * 20;
        assert_eq!(totals, [(100, 100), (1024 * 20, 0), (c, c)]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
                "v2 7\nold 2026-01-01T00:00:20Z 1 1 1\nvm-a 2026-01-01T00:00:20Z 100 100 1000000\n\
                 other - 5 6 999999\nvm-c 2026-01-01T00:00:40Z {c} {c} 1000000\n\
                 vm-b 2026-01-01T00:00:40Z 20480 0 1000000\n"
            ),
            "vm-a left for the next run to count from 00:20; its second line dropped; vm-b \
             added at the end"
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
