//! Installed distributions and the summary cache.
//!
//! A distribution's name and version come from its `.dist-info` folder; the top-level import
//! names it installs from `top_level.txt`, else from its `RECORD`. Library summaries are kept
//! under the audit's cache folder (`.perfaudit_cache/deps-v{FORMAT}/`), one JSON file per
//! top-level package, named by distribution, version and the key of this build and catalog:
//! a package upgraded, a rebuilt perfaudit or another catalog never reuses an entry. An entry
//! also records the size and modification time of every library module its summaries were made
//! from, so that a library edited in place under the same version (an editable install, a
//! patched file) is summarised again. Nothing here reads Python source.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use super::summary::Summary;

/// Bump when `Summary` or the way summaries are computed changes meaning.
pub const FORMAT: u32 = 4;

/// What the `.dist-info` folders of an environment say: top-level import name -> (distribution,
/// version).
#[derive(Debug, Default)]
pub struct Distributions {
    by_top: HashMap<String, (String, String)>,
}

impl Distributions {
    pub fn read(site_packages: &[PathBuf]) -> Distributions {
        let mut by_top = HashMap::default();
        for site in site_packages {
            let Ok(dir) = std::fs::read_dir(site) else {
                continue;
            };
            let mut infos: Vec<PathBuf> = dir
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "dist-info"))
                .collect();
            infos.sort();
            for info in infos {
                let Some(stem) = info.file_stem().and_then(|s| s.to_str()) else {
                    continue;
                };
                let Some((name, version)) = stem.split_once('-') else {
                    continue;
                };
                for top in top_levels(&info, name) {
                    by_top
                        .entry(top)
                        .or_insert_with(|| (name.to_owned(), version.to_owned()));
                }
            }
        }
        Distributions { by_top }
    }

    /// The distribution and version that installs the top-level package `top`.
    pub fn of(&self, top: &str) -> Option<&(String, String)> {
        self.by_top.get(top)
    }
}

/// The top-level import names a distribution installs.
fn top_levels(info: &Path, name: &str) -> Vec<String> {
    if let Ok(text) = std::fs::read_to_string(info.join("top_level.txt")) {
        let tops: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        if !tops.is_empty() {
            return tops;
        }
    }
    let mut tops: Vec<String> = std::fs::read_to_string(info.join("RECORD"))
        .map(|text| {
            text.lines()
                .filter_map(|l| l.split(',').next())
                .filter_map(|p| p.split('/').next())
                .filter(|first| {
                    !first.ends_with(".dist-info")
                        && !first.starts_with("..")
                        && !first.starts_with("__")
                        && !first.ends_with(".pth")
                })
                .map(|first| first.strip_suffix(".py").unwrap_or(first).to_owned())
                .collect()
        })
        .unwrap_or_default();
    tops.sort();
    tops.dedup();
    if tops.is_empty() {
        tops.push(name.to_ascii_lowercase().replace('-', "_"));
    }
    tops
}

/// The summaries of one top-level package, as stored, with the library modules they were made
/// from.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Stored {
    /// Every library module read while making them (its path and [`Stamp`]): resolving names
    /// through it or reading its functions' calls.
    pub files: BTreeMap<PathBuf, Stamp>,
    pub summaries: BTreeMap<String, Option<Summary>>,
}

/// A file's size and modification time (nanoseconds since the epoch), or `None` when it cannot
/// be read: what says that a library module changed since it was summarised.
pub type Stamp = Option<(u64, u128)>;

/// The [`Stamp`] of the file at `path` now.
pub fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta.modified().ok()?;
    let nanos = modified
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Some((meta.len(), nanos))
}

impl Stored {
    /// Whether every module the summaries were made from is as it was then.
    pub fn fresh(&self) -> bool {
        self.files.iter().all(|(path, was)| stamp(path) == *was)
    }
}

/// Where summaries are kept for this run, and the key they must carry.
pub struct SummaryCache {
    dir: PathBuf,
    key: String,
}

impl SummaryCache {
    /// The cache under the audit's cache folder of `root`; `None` when it cannot be created
    /// (the run then computes every summary).
    pub fn open(root: &Path, key: String) -> Option<SummaryCache> {
        if !root.is_dir() {
            return None;
        }
        let dir = root
            .join(crate::module::cache::CACHE_DIR)
            .join(format!("deps-v{FORMAT}"));
        std::fs::create_dir_all(&dir).ok()?;
        let ignore = root
            .join(crate::module::cache::CACHE_DIR)
            .join(".gitignore");
        if !ignore.exists() {
            std::fs::write(&ignore, "*\n").ok()?;
        }
        Some(SummaryCache { dir, key })
    }

    fn file(&self, top: &str, (dist, version): &(String, String)) -> PathBuf {
        let key = xxh3_64(format!("{}\u{1f}{dist}\u{1f}{version}", self.key).as_bytes());
        self.dir.join(format!("{top}-{version}-{key:016x}.json"))
    }

    /// The stored summaries of `top`; `None` when there are none, or when a module they were
    /// made from changed since.
    pub fn load(&self, top: &str, dist: &(String, String)) -> Option<Stored> {
        let text = std::fs::read(self.file(top, dist)).ok()?;
        let stored: Stored = serde_json::from_slice(&text).ok()?;
        stored.fresh().then_some(stored)
    }

    /// Writes through a temporary file and a rename: a concurrent audit never reads half a file.
    pub fn store(
        &self,
        top: &str,
        dist: &(String, String),
        stored: &Stored,
    ) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(stored).map_err(std::io::Error::other)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(&bytes)?;
        tmp.flush()?;
        tmp.persist(self.file(top, dist)).map_err(|e| e.error)?;
        Ok(())
    }
}
