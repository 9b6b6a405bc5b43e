//! Baselines: record today's findings so that an audit reports (and fails on) new ones only.
//!
//! A finding's fingerprint must survive edits that do not touch it, so it leaves line numbers
//! out: it hashes the rule, the path, the enclosing function, the normalised text of the costly
//! call (or, for findings without one, the message with its numbers removed), and the finding's
//! index among findings with that same key in file order. Moving code or renaming an unrelated
//! function changes none of these; a second identical hotspot in the same function gets a new
//! index and is reported.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

/// Format version of the baseline file; a file with another version is refused, not guessed at.
pub const BASELINE_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    tool: String,
    /// Readable entries, sorted, so that a baseline diffs well in review.
    findings: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    path: String,
    code: String,
    function: String,
    text: String,
    occurrence: u32,
    fingerprint: String,
}

/// What identifies a finding apart from where it sits in the file.
fn key(f: &Finding) -> (String, String) {
    let text = if f.snippet.is_empty() {
        let stripped: String = f.message.chars().filter(|c| !c.is_ascii_digit()).collect();
        normalise(&stripped)
    } else {
        normalise(&f.snippet)
    };
    let key = format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}",
        f.code, f.path, f.function, text
    );
    (key, text)
}

/// Whitespace runs collapse to nothing: formatting changes do not change the fingerprint.
fn normalise(s: &str) -> String {
    s.split_whitespace().collect()
}

/// Fingerprints of `findings`, in their order (which must be the report's sorted order, so that
/// occurrence indices follow the file).
pub fn fingerprints(findings: &[Finding]) -> Vec<String> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    findings
        .iter()
        .map(|f| {
            let (key, _) = key(f);
            let n = seen.entry(key.clone()).or_insert(0);
            let fp = fingerprint(&key, *n);
            *n += 1;
            fp
        })
        .collect()
}

fn fingerprint(key: &str, occurrence: u32) -> String {
    let h = xxhash_rust::xxh3::xxh3_128(format!("{key}\u{1f}{occurrence}").as_bytes());
    format!("{h:032x}")
}

/// Writes a baseline recording `findings`.
pub fn write(path: &Path, findings: &[Finding]) -> Result<(), String> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut entries: Vec<Entry> = findings
        .iter()
        .map(|f| {
            let (key, text) = key(f);
            let n = seen.entry(key.clone()).or_insert(0);
            let occurrence = *n;
            *n += 1;
            Entry {
                path: f.path.clone(),
                code: f.code.to_owned(),
                function: f.function.clone(),
                text,
                occurrence,
                fingerprint: fingerprint(&key, occurrence),
            }
        })
        .collect();
    entries.sort();
    let file = BaselineFile {
        version: BASELINE_VERSION,
        tool: format!("perfaudit {}", env!("CARGO_PKG_VERSION")),
        findings: entries,
    };
    let mut text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
    text.push('\n');
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The fingerprints a baseline file records.
pub fn load(path: &Path) -> Result<HashSet<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read baseline {}: {e}", path.display()))?;
    let file: BaselineFile = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a perfaudit baseline: {e}", path.display()))?;
    if file.version != BASELINE_VERSION {
        return Err(format!(
            "{} is a version {} baseline; this perfaudit reads version {BASELINE_VERSION} (write a new one with --write-baseline)",
            path.display(),
            file.version
        ));
    }
    Ok(file.findings.into_iter().map(|e| e.fingerprint).collect())
}

/// Splits sorted `findings` into new ones and those the baseline records.
pub fn split(findings: Vec<Finding>, known: &HashSet<String>) -> (Vec<Finding>, Vec<Finding>) {
    let prints = fingerprints(&findings);
    let mut new = Vec::new();
    let mut old = Vec::new();
    for (f, fp) in findings.into_iter().zip(prints) {
        if known.contains(&fp) {
            old.push(f);
        } else {
            new.push(f);
        }
    }
    (new, old)
}
