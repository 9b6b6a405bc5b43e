//! The incremental cache: per-module facts kept under `.perfaudit_cache/` in the audited root,
//! so that a second audit re-parses only the files that changed. The rules run again unless
//! nothing changed at all (the run cache, `audit/reuse.rs`, keeps the whole result in this
//! folder); linking reuses each unchanged module's results while the project's interface is
//! unchanged (`audit/links.rs`, also in this folder).
//!
//! One file per module, named by a hash of its relative path: a magic tag, a checksum of the
//! payload, and the payload in postcard (a compact binary serde format; JSON entries were four
//! times larger and their parsing ate most of the gain). An entry is used only when its
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
use crate::knowledge::catalog::Catalog;
use crate::knowledge::contexts::ContextPatterns;
use crate::module::analyze::{Diagnostic, FileResult, analyze_bytes, read_file};
use crate::module::discover::SourcePath;
use crate::settings::Settings;

/// Bump when `ModuleFacts` (the typed `Mark`s of its candidates included) or the way entries
/// are written changes meaning.
pub const CACHE_FORMAT: u32 = 28;

/// First bytes of every entry file.
const MAGIC: &[u8; 8] = b"PAFACTS\0";

pub const CACHE_DIR: &str = ".perfaudit_cache";

/// An opened cache directory and the key every entry of this run must carry.
pub struct Cache {
    dir: PathBuf,
    key: String,
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

#[derive(Serialize, Deserialize)]
struct Entry {
    format: u32,
    key: String,
    path: String,
    content: String,
    facts: ModuleFacts,
}

/// Borrowing twin of `Entry` for writing, so facts are not cloned.
#[derive(Serialize)]
struct EntryRef<'a> {
    format: u32,
    key: &'a str,
    path: &'a str,
    content: &'a str,
    facts: &'a ModuleFacts,
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
        Some(Cache {
            dir,
            key: settings_key(settings, catalog, patterns, rules)?,
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
        // The checksum comes first: postcard is not self-describing, so damaged bytes could
        // otherwise decode into plausible but wrong facts.
        let (head, payload) = bytes.split_at_checked(16)?;
        let checksum = u64::from_le_bytes(head[8..16].try_into().ok()?);
        if &head[..8] != MAGIC || checksum != xxh3_64(payload) {
            return None;
        }
        let entry: Entry = postcard::from_bytes(payload).ok()?;
        (entry.format == CACHE_FORMAT
            && entry.key == self.key
            && entry.path == rel
            && entry.content == content
            && entry.facts.path == rel)
            .then_some(entry.facts)
    }

    fn store(
        &self,
        entry_path: &Path,
        rel: &str,
        content: &str,
        facts: &ModuleFacts,
    ) -> std::io::Result<()> {
        let entry = EntryRef {
            format: CACHE_FORMAT,
            key: &self.key,
            path: rel,
            content,
            facts,
        };
        let payload = postcard::to_stdvec(&entry).map_err(std::io::Error::other)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(MAGIC)?;
        tmp.write_all(&xxh3_64(&payload).to_le_bytes())?;
        tmp.write_all(&payload)?;
        tmp.flush()?;
        tmp.persist(entry_path).map_err(|e| e.error)?;
        Ok(())
    }
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

/// Everything besides a file's bytes that shapes its facts, hashed: a change to any of it
/// invalidates every entry. `None` when the running executable cannot be identified.
pub(crate) fn settings_key(
    settings: &Settings,
    catalog: &Catalog,
    patterns: &ContextPatterns,
    rules: &[&dyn AstRule],
) -> Option<String> {
    let mut codes: Vec<&str> = rules.iter().map(|r| r.code()).collect();
    codes.sort_unstable();
    let text = format!(
        "{}\u{1f}{}\u{1f}{:?}\u{1f}{:?}\u{1f}{:?}\u{1f}{:?}",
        env!("CARGO_PKG_VERSION"),
        build_identity()?,
        settings.target_version,
        codes,
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
