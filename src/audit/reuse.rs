//! The run cache: a whole audit's result, kept beside the module cache and reused when nothing
//! that could change it has changed. A re-run on an unchanged tree then skips loading facts,
//! linking and the rules.
//!
//! The result is keyed by everything the audit reads: the module cache's key (tool build,
//! settings that shape facts, catalog, context patterns, AST hooks), the settings that shape
//! findings (output-only ones left out: format, destination, exit threshold, threads, progress,
//! `--show-suppressed`, the baseline), the audited root and the package it is, the files found
//! and each one's fingerprint (the hash of its bytes, or why it cannot be read; taken by
//! `module::prints`, which reads only files whose metadata changed), what the walk
//! reported, the manifests' and `--agents` file's bytes, and the Python environment libraries
//! are followed into (its folders and the names and times of what is installed there), and the
//! library modules the run's summaries were made from (each one's size and modification time,
//! checked before the result is reused: a library edited in place under the same version).
//! What is kept is the data the reporters read, never text: the findings before the baseline
//! splits them, the suppressed ones, diagnostics, counts, services, frameworks and the
//! environment's note. Any doubt is a miss: a stale, damaged or unreadable entry is ignored
//! and rewritten.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_128;

use super::ServiceInfo;
use crate::deps::dist::{Stamp, stamp};
use crate::finding::{
    ChainStep, Confidence, CopyPlace, Estimate, Finding, Frequency, NotRun, Severity,
};
use crate::module::analyze::Diagnostic;
use crate::module::cache::{Cache, Fingerprint};
use crate::module::discover::Discovered;
use crate::project::services::ServiceConflict;
use crate::rules::RULES;
use crate::settings::{PythonEnv, Settings};

/// Bump when `Outcome` or what the key covers changes meaning.
const RUN_FORMAT: u32 = 2;

/// The entry's file name in the module cache's folder (one entry: the last run's).
pub const ENTRY: &str = "run.json";

/// What an audit found, before the baseline is applied: everything the report is made of
/// besides the root, the elapsed time and what depends only on output settings.
#[derive(Serialize, Deserialize)]
pub(super) struct Outcome {
    pub files_scanned: usize,
    pub files_unparsable: usize,
    pub lines: u64,
    pub diagnostics: Vec<Diagnostic>,
    #[serde(with = "kept")]
    pub findings: Vec<Finding>,
    #[serde(with = "kept")]
    pub suppressed: Vec<Finding>,
    pub services: Vec<ServiceInfo>,
    pub frameworks: Vec<String>,
    pub conflicts: Vec<ServiceConflict>,
    pub services_note: Option<String>,
    pub environment: Option<String>,
}

#[derive(Serialize)]
struct EntryRef<'a> {
    format: u32,
    key: &'a str,
    libraries: &'a [(PathBuf, Stamp)],
    outcome: &'a Outcome,
}

#[derive(Deserialize)]
struct Entry {
    format: u32,
    key: String,
    /// The library modules the run's summaries were made from, as they were then.
    libraries: Vec<(PathBuf, Stamp)>,
    outcome: Outcome,
}

/// A run's key and the fingerprints of its files (which the module stage reuses, so that a
/// file whose facts are cached is read once).
pub(super) struct RunKey {
    key: String,
    pub prints: Vec<Fingerprint>,
}

impl RunKey {
    /// Reads every file found (in parallel) and everything else the audit reads, and hashes it.
    pub fn new(
        pool: &rayon::ThreadPool,
        cache: &Cache,
        settings: &Settings,
        found: &Discovered,
        package: Option<&str>,
    ) -> RunKey {
        let prints: Vec<Fingerprint> =
            pool.install(|| crate::module::prints::take(cache.dir(), &found.files, settings));
        let mut text = format!(
            "{RUN_FORMAT}\u{1f}{}\u{1f}{}\u{1f}{:?}\u{1f}{package:?}\u{1f}{}",
            cache.key(),
            shaping_settings(settings),
            std::path::absolute(&found.root).unwrap_or_else(|_| found.root.clone()),
            environment(settings, &found.root),
        );
        for d in &found.diagnostics {
            let _ = write!(text, "\u{1e}walk {} {}", d.path, d.message);
        }
        for c in &found.configs {
            let _ = write!(text, "\u{1e}config {} {}", c.rel, file_hash(&c.abs));
        }
        // Debug builds make a file's analysis panic on request (`audit::fault`).
        #[cfg(debug_assertions)]
        let _ = write!(
            text,
            "\u{1e}panic {:?}",
            std::env::var_os("PERFAUDIT_DEBUG_PANIC_ON")
        );
        if let Some(agents) = &settings.agents_file {
            let _ = write!(text, "\u{1e}agents {}", file_hash(agents));
        }
        for (f, print) in found.files.iter().zip(&prints) {
            let _ = match print {
                Ok(hash) => write!(text, "\u{1e}{}\u{1f}{hash}", f.rel),
                Err(d) => write!(text, "\u{1e}{}\u{1f}!{}", f.rel, d.message),
            };
        }
        RunKey {
            key: format!("{:032x}", xxh3_128(text.as_bytes())),
            prints,
        }
    }

    /// The last run's result, when it was made with this key.
    pub fn load(&self, cache: &Cache) -> Option<Outcome> {
        let bytes = std::fs::read(cache.dir().join(ENTRY)).ok()?;
        let entry: Entry = serde_json::from_slice(&bytes).ok()?;
        let unchanged = |(path, was): &(PathBuf, Stamp)| stamp(path) == *was;
        (entry.format == RUN_FORMAT
            && entry.key == self.key
            && entry.libraries.iter().all(unchanged))
        .then_some(entry.outcome)
    }

    /// Keeps this run's result for the next run (a failed write only costs that run the work).
    pub fn store(&self, cache: &Cache, libraries: &[(PathBuf, Stamp)], outcome: &Outcome) {
        let entry = EntryRef {
            format: RUN_FORMAT,
            key: &self.key,
            libraries,
            outcome,
        };
        let write = || -> std::io::Result<()> {
            let bytes = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
            let mut tmp = tempfile::NamedTempFile::new_in(cache.dir())?;
            tmp.write_all(&bytes)?;
            tmp.flush()?;
            tmp.persist(cache.dir().join(ENTRY)).map_err(|e| e.error)?;
            Ok(())
        };
        let _ = write();
    }
}

/// The settings, with those that only shape output (or are applied to a kept result) reset.
pub(super) fn shaping_settings(settings: &Settings) -> String {
    let neutral = Settings::default();
    let shaping = Settings {
        threads: 0,
        fail_on: None,
        format: neutral.format,
        output: None,
        output_dir: None,
        quiet: false,
        progress: false,
        show_suppressed: false,
        baseline: None,
        ..settings.clone()
    };
    format!("{shaping:?}")
}

/// A file's bytes, hashed, or why they cannot be read.
fn file_hash(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => format!("{:032x}", xxh3_128(&bytes)),
        Err(e) => format!("! {:?}", e.kind()),
    }
}

/// The Python environment libraries are followed into, as `deps::follow` finds it, with the
/// names and modification times of what its site-packages folders hold (a package installed,
/// removed or upgraded changes them).
fn environment(settings: &Settings, root: &Path) -> String {
    let virtual_env = std::env::var_os("VIRTUAL_ENV").map(PathBuf::from);
    let flag = match &settings.python {
        PythonEnv::Off => return "off".to_owned(),
        PythonEnv::Discover => None,
        PythonEnv::At(p) => Some(p.as_path()),
    };
    let mut text = format!("{virtual_env:?}");
    let Some(env) = crate::deps::Environment::discover(flag, virtual_env.as_deref(), root) else {
        return text;
    };
    let _ = write!(text, " {:?} {:?}", env.root, env.origin);
    for site in &env.site_packages {
        let mut entries: Vec<(String, Option<std::time::SystemTime>)> = std::fs::read_dir(site)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                let modified = e.metadata().ok().and_then(|m| m.modified().ok());
                (e.file_name().to_string_lossy().into_owned(), modified)
            })
            .collect();
        entries.sort();
        let _ = write!(text, "\u{1e}{site:?} {entries:?}");
    }
    text
}

/// A finding as the run cache keeps it: its report fields (`Finding`'s own serialisation)
/// and the two the report leaves out, which baselines read.
mod kept {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(findings: &[Finding], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            findings
                .iter()
                .map(|f| (f, f.snippet.as_str(), f.occurrence)),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Finding>, D::Error> {
        let kept: Vec<(Stored, String, u32)> = Vec::deserialize(d)?;
        kept.into_iter()
            .map(|(f, snippet, occurrence)| {
                f.into_finding(snippet, occurrence)
                    .ok_or_else(|| serde::de::Error::custom("unknown rule"))
            })
            .collect()
    }
}

/// `Finding` as its serialisation writes it; a field it does not know makes the entry unusable
/// (a miss), so a field added to `Finding` can never be dropped silently.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    code: String,
    name: String,
    severity: Severity,
    confidence: Confidence,
    path: String,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    function: String,
    context: String,
    frequency: Option<Frequency>,
    estimate: Option<Estimate>,
    memory_mb: Option<f64>,
    chain: Vec<ChainStep>,
    agents: Vec<String>,
    reachable: bool,
    not_run: Option<NotRun>,
    #[serde(default)]
    copies: Vec<CopyPlace>,
    message: String,
    help: String,
}

impl Stored {
    /// The finding, with its rule's code and name as the rule table holds them; `None` for a
    /// rule this build does not have.
    fn into_finding(self, snippet: String, occurrence: u32) -> Option<Finding> {
        let meta = RULES
            .iter()
            .map(|r| r.meta())
            .find(|m| m.code == self.code && m.name == self.name)?;
        Some(Finding {
            code: meta.code,
            name: meta.name,
            severity: self.severity,
            confidence: self.confidence,
            path: self.path,
            line: self.line,
            column: self.column,
            end_line: self.end_line,
            end_column: self.end_column,
            function: self.function,
            context: self.context,
            frequency: self.frequency,
            estimate: self.estimate,
            memory_mb: self.memory_mb,
            chain: self.chain,
            agents: self.agents,
            reachable: self.reachable,
            not_run: self.not_run,
            copies: self.copies,
            message: self.message,
            help: self.help,
            snippet,
            occurrence,
        })
    }
}
