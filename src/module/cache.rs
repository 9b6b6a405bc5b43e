//! The incremental cache: per-module facts kept under `.perfaudit_cache/` in the audited root,
//! so that a second audit re-parses only the files that changed. The rules run again unless
//! nothing changed at all (the run cache, `audit/reuse.rs`, keeps the whole result in this
//! folder); linking reuses each unchanged module's results while the project's interface is
//! unchanged (`audit/links.rs`, also in this folder).
//!
//! One file per module, named by a hash of its relative path: a magic tag, a checksum of the
//! payload, and the payload in postcard (a compact binary serde format; JSON entries were four
//! times larger and their parsing ate most of the gain): a head (format, key, path, content
//! hash and the table of the facts' distinct name texts), then the facts, whose names are
//! indices into that table (`facts::name::write_with_table`), so that a warm run validates and
//! interns each text once per entry rather than once per use. An entry is used only when its
//! checksum, format version, the tool build, the settings that shape facts (target version,
//! AST rules, catalog, context patterns), the module path and the hash of the file's bytes all
//! match; anything else (stale, corrupt, from another build) is ignored and rewritten. Writes
//! go through a temporary file and a rename, so a concurrent audit never reads half an entry.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{xxh3_64, xxh3_128};

use crate::facts::ModuleFacts;
use crate::facts::collect::AstRule;
use crate::facts::name::{NameTable, read_with_table, write_with_table};
use crate::knowledge::catalog::Catalog;
use crate::knowledge::contexts::ContextPatterns;
use crate::module::analyze::{Diagnostic, FileResult, analyze_bytes, read_file};
use crate::module::discover::SourcePath;
use crate::settings::Settings;

/// Bump when `ModuleFacts` (the typed `Mark`s of its candidates included) or the way entries
/// are written changes meaning.
pub const CACHE_FORMAT: u32 = 34;

/// First bytes of every entry file.
const MAGIC: &[u8; 8] = b"PAFACTS\0";

pub const CACHE_DIR: &str = ".perfaudit_cache";

/// An opened cache directory and the key every entry of this run must carry.
pub struct Cache {
    dir: PathBuf,
    key: String,
    /// [`Cache::library_key`].
    library_key: String,
    reused: AtomicUsize,
    parsed: AtomicUsize,
    /// Files whose bytes, read to be parsed, no longer had the fingerprint taken before the
    /// run: the run's result then describes no single state of the tree and is not kept.
    moved: AtomicUsize,
}

/// What a file is before it is analysed: the hash of its bytes (as a cache entry stores it), or
/// why it cannot be read (the diagnostic the module stage reports for it).
pub type Fingerprint = Result<String, Diagnostic>;

/// Reads a file and takes its fingerprint.
pub fn fingerprint(file: &SourcePath, settings: &Settings) -> Fingerprint {
    read_file(file, settings).map(|bytes| content_hash(&bytes))
}

fn content_hash(bytes: &[u8]) -> String {
    format!("{:032x}", xxh3_128(bytes))
}

/// What an entry holds before its facts: what it must match, and the facts' name table.
/// Borrowed from the entry's bytes, so a mismatch is found without building anything.
#[derive(Serialize, Deserialize)]
struct Head<'a> {
    format: u32,
    key: &'a str,
    path: &'a str,
    content: &'a str,
    /// `NameTable::texts`.
    texts: &'a str,
    /// `NameTable::ends`.
    ends: Vec<u32>,
}

impl Cache {
    /// Opens (creating) the cache under `root`; `None` when it cannot be created, in which case
    /// the audit simply runs uncached.
    pub fn open(
        root: &Path,
        settings: &Settings,
        catalog: &Catalog,
        patterns: &ContextPatterns,
        rules: &[&dyn AstRule],
    ) -> Option<Cache> {
        // Never create the audited root itself (a mistyped path must not appear on disk).
        if !root.as_os_str().is_empty() && !root.is_dir() {
            return None;
        }
        let dir = root.join(CACHE_DIR).join(format!("v{CACHE_FORMAT}"));
        std::fs::create_dir_all(&dir).ok()?;
        let ignore = root.join(CACHE_DIR).join(".gitignore");
        if !ignore.exists() {
            // Keeps the cache out of version control wherever it is created.
            std::fs::write(&ignore, "*\n").ok()?;
        }
        let library_key = settings_key(settings, catalog, patterns)?;
        let mut codes: Vec<&str> = rules.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        let key = format!(
            "{:032x}",
            xxh3_128(format!("{library_key}\u{1f}{codes:?}").as_bytes())
        );
        Some(Cache {
            dir,
            key,
            library_key,
            reused: AtomicUsize::new(0),
            parsed: AtomicUsize::new(0),
            moved: AtomicUsize::new(0),
        })
    }

    /// The key every entry of this run carries (tool build, settings that shape facts, catalog,
    /// context patterns, AST hooks), hashed.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The key of everything but the AST hooks (tool build, settings that shape facts, catalog,
    /// context patterns): the summaries of installed libraries (`deps::summary`) are kept under
    /// it. Made once with the module key: each formats the whole catalog.
    pub fn library_key(&self) -> &str {
        &self.library_key
    }

    /// The folder this run's entries are kept in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Analyses one file, through the cache. With the file's fingerprint taken earlier in the
    /// run, a file whose entry matches it is not read again.
    pub fn analyze(
        &self,
        file: &SourcePath,
        print: Option<&Fingerprint>,
        settings: &Settings,
        catalog: &Catalog,
        patterns: &ContextPatterns,
        rules: &[&dyn AstRule],
    ) -> FileResult {
        let entry_path = self
            .dir
            .join(format!("{:016x}.bin", xxh3_64(file.rel.as_bytes())));
        if let Some(Ok(content)) = print
            && let Some(facts) = self.load(&entry_path, &file.rel, content)
        {
            self.reused.fetch_add(1, Ordering::Relaxed);
            return reused(file, facts);
        }
        let bytes = match read_file(file, settings) {
            Ok(b) => b,
            Err(skipped) => {
                if print.is_some_and(|p| p.as_ref().err() != Some(&skipped)) {
                    self.moved.fetch_add(1, Ordering::Relaxed);
                }
                return FileResult {
                    facts: None,
                    diagnostic: Some(skipped),
                };
            }
        };
        let content = content_hash(&bytes);
        if print.is_some_and(|p| p.as_ref().ok() != Some(&content)) {
            self.moved.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(facts) = self.load(&entry_path, &file.rel, &content) {
            self.reused.fetch_add(1, Ordering::Relaxed);
            return reused(file, facts);
        }
        self.parsed.fetch_add(1, Ordering::Relaxed);
        let result = analyze_bytes(file, bytes, settings, catalog, patterns, rules);
        if let Some(facts) = &result.facts {
            // A failed write only costs the next run a parse.
            let _ = self.store(&entry_path, &file.rel, &content, facts);
        }
        result
    }

    /// Whether some file changed between its fingerprint and its analysis in this run.
    pub fn moved(&self) -> bool {
        self.moved.load(Ordering::Relaxed) > 0
    }

    /// Modules taken from the cache and modules parsed, so far.
    pub fn stats(&self) -> (usize, usize) {
        (
            self.reused.load(Ordering::Relaxed),
            self.parsed.load(Ordering::Relaxed),
        )
    }

    fn load(&self, entry_path: &Path, rel: &str, content: &str) -> Option<ModuleFacts> {
        let bytes = std::fs::read(entry_path).ok()?;
        let payload = checked_payload(&bytes, MAGIC)?;
        let (head, facts) = postcard::take_from_bytes::<Head>(payload).ok()?;
        if head.format != CACHE_FORMAT
            || head.key != self.key
            || head.path != rel
            || head.content != content
        {
            return None;
        }
        let names = NameTable::names(head.texts, &head.ends)?;
        let facts: ModuleFacts = read_with_table(names, || postcard::from_bytes(facts)).ok()?;
        (facts.path == rel).then_some(facts)
    }

    fn store(
        &self,
        entry_path: &Path,
        rel: &str,
        content: &str,
        facts: &ModuleFacts,
    ) -> std::io::Result<()> {
        let (facts, table) = write_with_table(|| postcard::to_stdvec(facts));
        let facts = facts.map_err(std::io::Error::other)?;
        let head = Head {
            format: CACHE_FORMAT,
            key: &self.key,
            path: rel,
            content,
            texts: &table.texts,
            ends: table.ends,
        };
        let mut payload = postcard::to_stdvec(&head).map_err(std::io::Error::other)?;
        payload.extend_from_slice(&facts);
        write_checked(&self.dir, entry_path, MAGIC, &payload)
    }
}

/// The payload of a file the cache wrote with [`write_checked`]: `None` unless it starts with
/// `magic` and its checksum matches. The checksum comes first because postcard is not
/// self-describing: damaged bytes could otherwise decode into plausible but wrong data.
pub(crate) fn checked_payload<'a>(bytes: &'a [u8], magic: &[u8; 8]) -> Option<&'a [u8]> {
    let (head, payload) = bytes.split_at_checked(16)?;
    let checksum = u64::from_le_bytes(head[8..16].try_into().ok()?);
    (&head[..8] == magic && checksum == xxh3_64(payload)).then_some(payload)
}

/// Writes `magic`, the payload's checksum and the payload to `path` through a temporary file in
/// `dir` and a rename: a concurrent audit never reads half a file.
pub(crate) fn write_checked(
    dir: &Path,
    path: &Path,
    magic: &[u8; 8],
    payload: &[u8],
) -> std::io::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(magic)?;
    tmp.write_all(&xxh3_64(payload).to_le_bytes())?;
    tmp.write_all(payload)?;
    tmp.flush()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A module's facts taken from the cache, with the diagnostic its decoding left.
fn reused(file: &SourcePath, facts: ModuleFacts) -> FileResult {
    FileResult {
        diagnostic: facts.decode_note.clone().map(|message| Diagnostic {
            path: file.rel.clone(),
            message,
        }),
        facts: Some(facts),
    }
}

/// Everything besides a file's bytes and the AST hooks that shapes its facts, hashed: a change
/// to any of it invalidates every entry. `None` when the running executable cannot be
/// identified.
fn settings_key(
    settings: &Settings,
    catalog: &Catalog,
    patterns: &ContextPatterns,
) -> Option<String> {
    let text = format!(
        "{}\u{1f}{}\u{1f}{:?}\u{1f}{:?}\u{1f}{:?}",
        env!("CARGO_PKG_VERSION"),
        build_identity()?,
        settings.target_version,
        catalog.entries(),
        patterns
    );
    Some(format!("{:032x}", xxh3_128(text.as_bytes())))
}

/// The running executable's size and modification time: a rebuilt perfaudit (whose facts may
/// differ under the same version number) never trusts entries written by another build.
fn build_identity() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(exe).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("{}:{}", meta.len(), modified.as_nanos()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "import os\n\ndef f(self, p):\n    os.path.join(p, 'x')\n    os.path.join(p, 'y')\n    self.g(p)\n";

    fn setup(dir: &Path) -> (Cache, SourcePath, Settings, Catalog, ContextPatterns) {
        let settings = Settings::default();
        let catalog = Catalog::with_extensions(&[]);
        let patterns = ContextPatterns::builtin();
        std::fs::write(dir.join("m.py"), SOURCE).unwrap();
        let file = SourcePath {
            rel: "m.py".to_owned(),
            abs: dir.join("m.py"),
        };
        let cache = Cache::open(dir, &settings, &catalog, &patterns, &[]).unwrap();
        (cache, file, settings, catalog, patterns)
    }

    fn json(facts: &ModuleFacts) -> String {
        serde_json::to_string(facts).unwrap()
    }

    /// An entry reads back the facts it was written from, names included; an entry whose
    /// name table or name indices are damaged (with a checksum that still matches) is a miss.
    #[test]
    fn entries_round_trip_and_damaged_tables_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let (cache, file, settings, catalog, patterns) = setup(dir.path());
        let print = fingerprint(&file, &settings);
        let first = cache.analyze(&file, Some(&print), &settings, &catalog, &patterns, &[]);
        let facts = first.facts.unwrap();
        assert_eq!(cache.stats(), (0, 1));
        let content = print.unwrap();
        let entry = cache.dir().join(format!("{:016x}.bin", xxh3_64(b"m.py")));
        let loaded = cache.load(&entry, "m.py", &content).expect("a hit");
        assert_eq!(json(&loaded), json(&facts));
        assert!(loaded.calls.iter().any(|c| c.target == "os.path.join"));

        let bytes = std::fs::read(&entry).unwrap();
        let payload = &bytes[16..];
        let (head, rest) = postcard::take_from_bytes::<Head>(payload).unwrap();
        assert!(head.texts.contains("os.path.join"));
        assert_eq!(
            head.texts.matches("os.path.join").count(),
            1,
            "{}",
            head.texts
        );
        let rewrite = |head: &Head, rest: &[u8]| {
            let mut payload = postcard::to_stdvec(head).unwrap();
            payload.extend_from_slice(rest);
            let mut out = MAGIC.to_vec();
            out.extend_from_slice(&xxh3_64(&payload).to_le_bytes());
            out.extend_from_slice(&payload);
            std::fs::write(&entry, out).unwrap();
        };
        // One text fewer: some index points past the table.
        let mut short = Head {
            ends: head.ends[..head.ends.len() - 1].to_vec(),
            ..head
        };
        short.texts = &short.texts[..*short.ends.last().unwrap() as usize];
        rewrite(&short, rest);
        assert!(cache.load(&entry, "m.py", &content).is_none());
        // Ends that cut the table's text out of order.
        let (head, _) = postcard::take_from_bytes::<Head>(payload).unwrap();
        let mut reversed = Head { ..head };
        reversed.ends.reverse();
        rewrite(&reversed, rest);
        assert!(cache.load(&entry, "m.py", &content).is_none());
        // The facts cut short.
        let (head, _) = postcard::take_from_bytes::<Head>(payload).unwrap();
        rewrite(&head, &rest[..rest.len() / 2]);
        assert!(cache.load(&entry, "m.py", &content).is_none());
        // A miss is parsed again and rewritten.
        let again = cache.analyze(
            &file,
            Some(&Ok(content.clone())),
            &settings,
            &catalog,
            &patterns,
            &[],
        );
        assert_eq!(json(&again.facts.unwrap()), json(&facts));
        assert_eq!(cache.stats(), (0, 2));
        assert!(cache.load(&entry, "m.py", &content).is_some());
    }
}
