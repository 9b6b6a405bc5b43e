//! Fingerprints of the files to audit (`cache::Fingerprint`, the hash of a file's bytes), taken
//! without reading a file whose metadata proves its bytes unchanged since the last run.
//!
//! The last run's row for a file (`stats.bin` in the cache folder) holds its size, modification
//! and status-change times, inode and device, the hash of its bytes and the moment the row's
//! metadata was read. A row is trusted only when all of that metadata is unchanged *and* both
//! file times were older than that moment by more than [`MARGIN_NS`] (git's "racily clean"
//! rule). Why that is enough: any write to a file sets its status-change time to the clock's
//! time, which no user tool can set back (`touch`, `cp -p`, `rsync -t` and `tar` restore the
//! modification time only), so a write after the row was read gets a status-change time
//! later than the row's by at least the margin minus one tick of the file system's clock; a
//! write within the same tick as an earlier one (a same-size edit in one timestamp tick) can
//! only happen to a file whose times were that close to the row's moment, and such a row is
//! not trusted: the file is read and hashed again, and its row taken again, until its times are
//! old enough. Anything unusual (no row, a damaged table, a platform without these times, a
//! file that cannot be read or is over the size cap) is read and hashed as before.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::module::cache::{Fingerprint, checked_payload, fingerprint, write_checked};
use crate::module::discover::SourcePath;
use crate::settings::Settings;

/// The table's file in the cache folder.
pub const STATS_FILE: &str = "stats.bin";

const MAGIC: &[u8; 8] = b"PASTATS\0";

/// How much older than the moment a row was read a file's times must be for the row to be
/// trusted: more than a tick of any local file system's clock (FAT's is 2 s) and than small
/// clock differences with a network file system's server.
pub const MARGIN_NS: i128 = 3_000_000_000;

/// What the file system says about a file, as far as its bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stat {
    len: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
    dev: u64,
}

impl Stat {
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Option<Stat> {
        use std::os::unix::fs::MetadataExt;
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        Some(Stat {
            len: meta.len(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
            ino: meta.ino(),
            dev: meta.dev(),
        })
    }

    #[cfg(not(unix))]
    fn of(_meta: &std::fs::Metadata) -> Option<Stat> {
        None
    }
}

/// A file's metadata, the hash of its bytes, and when the metadata was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Row {
    stat: Stat,
    taken_ns: i128,
    hash: String,
}

impl Row {
    fn trusted(&self, margin_ns: i128) -> bool {
        self.stat.mtime_ns.saturating_add(margin_ns) < self.taken_ns
            && self.stat.ctime_ns.saturating_add(margin_ns) < self.taken_ns
    }
}

fn now_ns() -> Option<i128> {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    Some(d.as_nanos() as i128)
}

/// The fingerprints of `files`, in order (call inside the run's thread pool), through the
/// table in `dir`, which is rewritten when a row changed.
pub fn take(dir: &Path, files: &[SourcePath], settings: &Settings) -> Vec<Fingerprint> {
    take_with_margin(dir, files, settings, MARGIN_NS).0
}

/// [`take`], with the margin given, and how many files were read and hashed.
fn take_with_margin(
    dir: &Path,
    files: &[SourcePath],
    settings: &Settings,
    margin_ns: i128,
) -> (Vec<Fingerprint>, usize) {
    let path = dir.join(STATS_FILE);
    let rows = load(&path).unwrap_or_default();
    // Read before any file's metadata: a write after it gets a later status-change time.
    let now = now_ns();
    let taken: Vec<(Fingerprint, Option<Row>, bool)> = files
        .par_iter()
        .map(|f| one(f, settings, rows.get(f.rel.as_str()), now, margin_ns))
        .collect();
    let hashed = taken.iter().filter(|(_, _, h)| *h).count();
    let kept = taken.iter().filter(|(_, r, _)| r.is_some()).count();
    if hashed > 0 || kept != rows.len() {
        let table: Vec<(&str, &Row)> = files
            .iter()
            .zip(&taken)
            .filter_map(|(f, (_, r, _))| Some((f.rel.as_str(), r.as_ref()?)))
            .collect();
        // A failed write only costs the next run its reads.
        let _ = store(dir, &path, &table);
    }
    let prints = taken.into_iter().map(|(p, _, _)| p).collect();
    (prints, hashed)
}

/// One file's fingerprint, its row for the next run, and whether it was read and hashed.
fn one(
    file: &SourcePath,
    settings: &Settings,
    row: Option<&Row>,
    now: Option<i128>,
    margin_ns: i128,
) -> (Fingerprint, Option<Row>, bool) {
    let stat = std::fs::metadata(&file.abs)
        .ok()
        .filter(|m| m.is_file() && m.len() <= settings.max_file_size)
        .and_then(|m| Stat::of(&m));
    if let (Some(stat), Some(row)) = (stat, row)
        && row.stat == stat
        && row.trusted(margin_ns)
    {
        return (Ok(row.hash.clone()), Some(row.clone()), false);
    }
    let print = fingerprint(file, settings);
    let row = match (&print, stat, now) {
        (Ok(hash), Some(stat), Some(taken_ns)) => Some(Row {
            stat,
            taken_ns,
            hash: hash.clone(),
        }),
        _ => None,
    };
    (print, row, true)
}

fn load(path: &Path) -> Option<FxHashMap<String, Row>> {
    let bytes = std::fs::read(path).ok()?;
    let rows: Vec<(String, Row)> = postcard::from_bytes(checked_payload(&bytes, MAGIC)?).ok()?;
    Some(rows.into_iter().collect())
}

fn store(dir: &Path, path: &Path, rows: &[(&str, &Row)]) -> std::io::Result<()> {
    let payload = postcard::to_stdvec(rows).map_err(std::io::Error::other)?;
    write_checked(dir, path, MAGIC, &payload)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, text: &str) -> SourcePath {
        std::fs::write(dir.join(name), text).unwrap();
        SourcePath {
            rel: name.to_owned(),
            abs: dir.join(name),
        }
    }

    fn hash(text: &str) -> Fingerprint {
        Ok(format!(
            "{:032x}",
            xxhash_rust::xxh3::xxh3_128(text.as_bytes())
        ))
    }

    /// With the real margin, a file written just now is read every time: a same-size edit
    /// right after a run (in the same timestamp tick) is seen.
    #[test]
    fn a_file_written_within_the_margin_is_always_read() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::default();
        let a = file(dir.path(), "a.py", "x = 1\n");
        let (prints, hashed) =
            take_with_margin(dir.path(), std::slice::from_ref(&a), &settings, MARGIN_NS);
        assert_eq!((prints, hashed), (vec![hash("x = 1\n")], 1));
        std::fs::write(&a.abs, "x = 2\n").unwrap();
        let (prints, hashed) =
            take_with_margin(dir.path(), std::slice::from_ref(&a), &settings, MARGIN_NS);
        assert_eq!((prints, hashed), (vec![hash("x = 2\n")], 1));
    }

    /// An old enough row is trusted; any write after it is seen, a same-size one whose
    /// modification time is set back included (its status-change time moves); a damaged table
    /// is read as none.
    #[test]
    fn a_trusted_row_skips_the_read_and_any_write_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::default();
        let a = file(dir.path(), "a.py", "x = 1\n");
        let b = file(dir.path(), "b.py", "y = 1\n");
        let files = [a.clone(), b.clone()];
        std::thread::sleep(std::time::Duration::from_millis(30));
        let margin = 10_000_000; // 10 ms, so that the test need not wait seconds
        assert_eq!(take_with_margin(dir.path(), &files, &settings, margin).1, 2);
        let (prints, hashed) = take_with_margin(dir.path(), &files, &settings, margin);
        assert_eq!(prints, vec![hash("x = 1\n"), hash("y = 1\n")]);
        assert_eq!(hashed, 0, "rows older than the margin are trusted");

        std::thread::sleep(std::time::Duration::from_millis(30));
        let modified = std::fs::metadata(&a.abs).unwrap().modified().unwrap();
        std::fs::write(&a.abs, "x = 7\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&a.abs)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let (prints, hashed) = take_with_margin(dir.path(), &files, &settings, margin);
        assert_eq!(prints, vec![hash("x = 7\n"), hash("y = 1\n")]);
        assert_eq!(hashed, 1);

        let table = dir.path().join(STATS_FILE);
        let mut bytes = std::fs::read(&table).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&table, bytes).unwrap();
        let (prints, hashed) = take_with_margin(dir.path(), &files, &settings, margin);
        assert_eq!(prints, vec![hash("x = 7\n"), hash("y = 1\n")]);
        assert_eq!(hashed, 2, "a damaged table is not trusted");
    }
}
