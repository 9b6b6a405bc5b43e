//! Keeping the link stage's per-module results between runs (`project/graph/links.rs` decides
//! what may be reused): one entry in the module cache's folder, read on a worker thread while
//! the modules are summarised and written on one while the rules run. The entry is a magic
//! tag, a checksum of the payload and the payload in postcard; a damaged, foreign or stale
//! entry is ignored (each module is then linked again) and rewritten.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use crate::module::cache::{Cache, Fingerprint, checked_payload, write_checked};
use crate::module::discover::SourcePath;
use crate::project::{LinkReuse, Links, settings_key};
use crate::settings::Settings;

/// The entry's file name in the module cache's folder (one entry: the last run's).
pub const ENTRY: &str = "links.bin";

/// First bytes of the entry.
const MAGIC: &[u8; 8] = b"PALINKS\0";

/// Reads and decodes the last run's links on a thread of its own.
pub(super) fn load_in_background(cache: &Cache) -> Option<JoinHandle<Option<Links>>> {
    let path = cache.dir().join(ENTRY);
    std::thread::Builder::new()
        .name("perfaudit-links".to_owned())
        .spawn(move || load(&path))
        .ok()
}

fn load(path: &Path) -> Option<Links> {
    let bytes = std::fs::read(path).ok()?;
    postcard::from_bytes(checked_payload(&bytes, MAGIC)?).ok()
}

/// What the link stage may reuse: the settings that shape it, each module's own key (from the
/// fingerprint its file had when the run began: `project::module_key`, taken by the module
/// stage, one per analysed module in module order) and the last run's links. `None` when a
/// file changed while the run read it: its facts then match no fingerprint.
pub(super) fn reuse(
    cache: &Cache,
    settings: &Settings,
    files: &[SourcePath],
    prints: &[Fingerprint],
    keys: Vec<Option<u128>>,
    previous: Option<JoinHandle<Option<Links>>>,
) -> Option<LinkReuse> {
    let previous = previous.and_then(|h| h.join().ok()).flatten();
    if cache.moved() || prints.len() != files.len() {
        return None;
    }
    let key = settings_key(&[cache.key(), &super::reuse::shaping_settings(settings)]);
    Some(LinkReuse::new(key, keys, previous))
}

/// Writes this run's links, when they changed, on a thread of its own; the caller joins it
/// before the run ends.
pub(super) fn store_in_background(dir: PathBuf, links: Links) -> Option<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("perfaudit-links".to_owned())
        .spawn(move || {
            // A failed write only costs the next run its links.
            let _ = store(&dir, &links);
        })
        .ok()
}

fn store(dir: &Path, links: &Links) -> std::io::Result<()> {
    let payload = postcard::to_stdvec(links).map_err(std::io::Error::other)?;
    write_checked(dir, &dir.join(ENTRY), MAGIC, &payload)
}
