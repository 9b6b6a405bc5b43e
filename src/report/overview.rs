//! The audit seen as a whole, computed once and shared by every report format: the ranking of
//! findings, the services they belong to, the latency a fix would recover, the memory at stake,
//! per-service totals and the action items grouped by root cause.
//!
//! Emitters format these numbers; they never compute their own, so the Markdown, HTML, JSON
//! and CSV outputs of one audit always agree with each other.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use crate::audit::AuditReport;
use crate::finding::{Finding, Severity};
use crate::rules::{Category, find_rule};

/// The service column of a finding that no service could be attributed to.
pub const UNATTRIBUTED: &str = "(unattributed)";

/// The rule family of a finding. Codes of rules this build does not know (hand-made findings,
/// a report from a newer version) fall back on the numbering scheme, whose hundreds digit is
/// the family.
pub fn category(code: &str) -> Option<Category> {
    if let Some(rule) = find_rule(code) {
        return Some(rule.meta().category);
    }
    match code.strip_prefix("PA")?.as_bytes().first()? {
        b'0' => Some(Category::Syntax),
        b'1' => Some(Category::Blocking),
        b'2' => Some(Category::Models),
        b'3' => Some(Category::Cpu),
        b'4' => Some(Category::Pooling),
        b'5' => Some(Category::Caching),
        _ => None,
    }
}

/// The category name used in every output, `other` when the code is not recognised.
pub fn category_name(code: &str) -> &'static str {
    category(code).map_or("other", Category::as_str)
}

/// Whether a finding's code runs on a request path, so that its estimate is request latency:
/// the execution query's frequency decides.
pub fn per_request(f: &Finding) -> bool {
    f.frequency.is_some_and(|q| q.per_request())
}

/// A file that did not parse is reported, but it is not a hotspot.
pub fn is_broken_file(f: &Finding) -> bool {
    category(f.code) == Some(Category::Syntax)
}

/// A hotspot is a reachable finding about performance (not about syntax); `Summary` counts
/// them.
pub fn is_hotspot(f: &Finding) -> bool {
    super::summary::Kind::of(f) == super::summary::Kind::Hotspot
}

fn typical(f: &Finding) -> f64 {
    f.estimate.as_ref().map_or(-1.0, |e| e.typical_ms())
}

/// Rank order: severity (worst first), then estimated cost, then memory (largest first), then
/// place. Total and deterministic, so ranks never depend on the order rules ran in.
pub fn rank_order(a: &Finding, b: &Finding) -> Ordering {
    b.severity
        .cmp(&a.severity)
        .then_with(|| typical(b).total_cmp(&typical(a)))
        .then_with(|| {
            b.memory_mb
                .unwrap_or(-1.0)
                .total_cmp(&a.memory_mb.unwrap_or(-1.0))
        })
        .then_with(|| a.sort_key().cmp(&b.sort_key()))
}

/// The chain in short form: function names from the entry point to the costly call (a library
/// frame with its package path); `direct`
/// when the cost is paid in the entry point itself, empty when the finding has no chain.
pub fn chain_short(f: &Finding) -> String {
    match f.chain.len() {
        0 => return String::new(),
        1 => return "direct".to_owned(),
        _ => {}
    }
    f.chain
        .iter()
        .map(|s| match s.library {
            // A frame inside an installed library, named with its package path.
            true => format!("{} (library {})", s.function, s.path),
            false => s.function.clone(),
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

/// The chain with every step's location, for readers who follow it in the code, and how the
/// code wrote a call Python makes implicitly (`` `with FileLock()` ``).
pub fn chain_long(f: &Finding) -> String {
    f.chain
        .iter()
        .map(step_long)
        .collect::<Vec<_>>()
        .join(" → ")
}

/// One step with its location, how the code wrote an implicit call, and whether the frame is
/// inside an installed library.
pub fn step_long(s: &crate::finding::ChainStep) -> String {
    let via = s
        .via
        .as_ref()
        .map(|v| format!(", `{v}`"))
        .unwrap_or_default();
    let library = if s.library { ", library" } else { "" };
    format!("{} ({}:{}{via}{library})", s.function, s.path, s.line)
}

/// The estimate as a short human range, or `—` when the rule gives none.
pub fn cost_text(f: &Finding) -> String {
    f.estimate
        .as_ref()
        .map_or_else(|| "—".to_owned(), |e| range_text(e.low_ms, e.high_ms))
}

/// A duration with three significant digits and no trailing zeros (`20.5 s`, `1.2 ms`): sums
/// of estimates need more precision than one estimate's rounded range shows.
pub fn ms_text(ms: f64) -> String {
    let (value, unit) = if ms >= 1000.0 {
        (ms / 1000.0, "s")
    } else if ms >= 1.0 {
        (ms, "ms")
    } else if ms >= 0.001 {
        (ms * 1000.0, "µs")
    } else if ms > 0.0 {
        return "<1 µs".to_owned();
    } else {
        return "0 ms".to_owned();
    };
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let mut text = format!("{value:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    format!("{text} {unit}")
}

/// An integer with thousands separators (`1,269`).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Megabytes, or gigabytes from 1024 MB up, with three significant digits.
pub fn mb_text(mb: f64) -> String {
    let (value, unit) = if mb >= 1024.0 {
        (mb / 1024.0, "GB")
    } else {
        (mb, "MB")
    };
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let mut text = format!("{value:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    format!("{text} {unit}")
}

/// A range as `low–high unit`, one value when both ends read the same.
pub fn range_text(low_ms: f64, high_ms: f64) -> String {
    let (low, high) = (ms_text(low_ms), ms_text(high_ms));
    if low == high {
        return low;
    }
    match (low.rsplit_once(' '), high.rsplit_once(' ')) {
        (Some((l, lu)), Some((h, hu))) if lu == hu && !l.starts_with('<') => {
            format!("{l}–{h} {hu}")
        }
        _ => format!("{low}–{high}"),
    }
}

/// The services of a finding, or the unattributed bucket.
pub fn services_of(f: &Finding) -> Vec<&str> {
    if f.agents.is_empty() {
        vec![UNATTRIBUTED]
    } else {
        f.agents.iter().map(String::as_str).collect()
    }
}

/// The services of the audit, sorted: those the audit found in the project's manifests, and
/// any other that a finding names. Empty when services could not be determined.
pub fn service_names(report: &AuditReport) -> Vec<&str> {
    report
        .services
        .iter()
        .map(|s| s.name.as_str())
        .chain(
            report
                .findings
                .iter()
                .flat_map(|f| f.agents.iter().map(String::as_str)),
        )
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// A service conflict in words: `` `worker` is `a.py` in `x.yaml`, also `b.py` in `y.yml`:
/// `a.py` is used ``.
pub fn conflict_text(c: &crate::project::services::ServiceConflict) -> String {
    let others: Vec<String> = c
        .others
        .iter()
        .map(|o| format!("`{}` in `{}`", o.entry, o.declared_in))
        .collect();
    format!(
        "`{}` is `{}` in `{}`, but also {}: `{}` is used (an entry outside tooling and backup \
         folders first, then the manifest nearest the root)",
        c.name,
        c.chosen.entry,
        c.chosen.declared_in,
        others.join(", "),
        c.chosen.entry
    )
}

/// A copy of a finding in words: `backups/w.py:12 (info, in tests, … copies)`.
pub fn copy_text(c: &crate::finding::CopyPlace) -> String {
    match c.not_run {
        Some(why) => format!(
            "{}:{} ({}, not run: {})",
            c.path,
            c.line,
            c.severity.as_str(),
            why.as_str()
        ),
        None => format!("{}:{} ({})", c.path, c.line, c.severity.as_str()),
    }
}

/// A stable identity for a finding that survives unrelated edits moving it to another line:
/// FNV-1a 64 over code, path, function and the normalised call text. std's hasher is seeded
/// per process, so it cannot be used for anything that is compared across runs.
pub fn fingerprint(f: &Finding) -> String {
    let mut h = Fnv1a::new();
    for part in [f.code, f.path.as_str(), f.function.as_str()] {
        h.write(part.as_bytes());
        h.write(&[0]);
    }
    if f.snippet.is_empty() {
        // Without call text (e.g. a file-level finding) the message is the next best identity.
        h.write(f.message.as_bytes());
    } else {
        h.write(f.snippet.as_bytes());
    }
    // The second and later of identical findings in one function: their order, not their line.
    if f.occurrence > 0 {
        h.write(&[0]);
        h.write(&f.occurrence.to_le_bytes());
    }
    format!("{:016x}", h.finish())
}

struct Fnv1a(u64);

impl Fnv1a {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        Fnv1a(Self::OFFSET)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A latency range summed over several findings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MsRange {
    pub low_ms: f64,
    pub high_ms: f64,
    /// How many findings contributed.
    pub findings: usize,
}

impl MsRange {
    pub(crate) fn add(&mut self, f: &Finding) {
        if let Some(e) = &f.estimate {
            self.low_ms = tidy(self.low_ms + e.low_ms);
            self.high_ms = tidy(self.high_ms + e.high_ms);
            self.findings += 1;
        }
    }

    /// The geometric mean of the ends: the value action items are ordered by.
    pub fn typical_ms(&self) -> f64 {
        crate::finding::typical_ms(self.low_ms, self.high_ms)
    }

    pub fn text(&self) -> String {
        range_text(self.low_ms, self.high_ms)
    }
}

/// Rounds a sum to a thousandth, so that float noise (`0.1 + 0.2`) never reaches a report.
pub fn tidy(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Hotspot counts indexed like `Severity::ALL` (critical first).
pub type BandCounts = [usize; 5];

pub fn band_index(s: Severity) -> usize {
    Severity::ALL
        .iter()
        .position(|&b| b == s)
        .unwrap_or(Severity::ALL.len() - 1)
}

#[derive(Debug, Clone)]
pub struct ServiceStats {
    pub name: String,
    pub bands: BandCounts,
    /// The service's worst single request path (`paths`): its costs summed along one chain.
    pub per_request: MsRange,
    pub memory_mb: f64,
}

impl ServiceStats {
    fn empty(name: &str) -> Self {
        ServiceStats {
            name: name.to_owned(),
            bands: [0; 5],
            per_request: MsRange::default(),
            memory_mb: 0.0,
        }
    }

    pub fn hotspots(&self) -> usize {
        self.bands.iter().sum()
    }
}

/// Findings that share a root cause: the same rule on the same call text, or the same rule
/// when the rule gives no call text. One fix (the rule's help) removes all of them.
#[derive(Debug)]
pub struct ActionItem<'a> {
    pub code: &'static str,
    pub name: &'static str,
    /// The normalised call text; empty when grouped by rule alone.
    pub root: &'a str,
    pub severity: Severity,
    /// In rank order.
    pub findings: Vec<&'a Finding>,
    /// The per-request latency that fixing every place would remove.
    pub saving: MsRange,
    pub memory_mb: f64,
    /// The distinct help texts, in rank order of the findings that carry them.
    pub fixes: Vec<&'a str>,
}

pub struct Overview<'a> {
    pub report: &'a AuditReport,
    /// The counts every format shows.
    pub summary: super::summary::Summary,
    /// Every finding in rank order.
    pub ranked: Vec<&'a Finding>,
    /// 1-based ranks by finding address, so that tables look ranks up in constant time.
    ranks: HashMap<usize, usize>,
    /// The distinct services named by any finding, sorted; empty until attribution exists.
    pub services: Vec<&'a str>,
    /// Hotspot counts per band (reachable, non-syntax findings), as `summary` counts them.
    pub bands: BandCounts,
    pub hotspots: usize,
    /// The worst single request path of the audit (`paths`): one request's costs, summed
    /// along one chain from its entry point.
    pub worst_path: MsRange,
    /// Sum of `memory_mb` over the hotspots.
    pub memory_mb: f64,
    pub per_service: Vec<ServiceStats>,
    pub actions: Vec<ActionItem<'a>>,
}

impl<'a> Overview<'a> {
    pub fn new(report: &'a AuditReport) -> Self {
        let mut ranked: Vec<&Finding> = report.findings.iter().collect();
        ranked.sort_by(|a, b| rank_order(a, b));
        let services = service_names(report);
        let summary = super::summary::Summary::new(report);

        let mut memory_mb = 0.0;
        // Every known service gets a row, so that a service without hotspots shows as clean.
        let mut per_service: BTreeMap<&str, ServiceStats> = services
            .iter()
            .map(|&s| (s, ServiceStats::empty(s)))
            .collect();
        for f in ranked.iter().copied().filter(|f| is_hotspot(f)) {
            memory_mb = tidy(memory_mb + f.memory_mb.unwrap_or(0.0));
            for s in services_of(f) {
                let stats = per_service
                    .entry(s)
                    .or_insert_with(|| ServiceStats::empty(s));
                stats.bands[band_index(f.severity)] += 1;
                stats.memory_mb = tidy(stats.memory_mb + f.memory_mb.unwrap_or(0.0));
            }
        }
        let worst_path = super::paths::worst_paths(report.findings.iter())
            .first()
            .map(|p| p.cost)
            .unwrap_or_default();
        for (name, stats) in per_service.iter_mut() {
            let theirs = report
                .findings
                .iter()
                .filter(|f| services_of(f).contains(name));
            if let Some(p) = super::paths::worst_paths(theirs).first() {
                stats.per_request = p.cost;
            }
        }
        let mut per_service: Vec<ServiceStats> = per_service.into_values().collect();
        // The unattributed bucket is a remainder, not a service: it goes last.
        per_service.sort_by_key(|s| s.name == UNATTRIBUTED);

        let ranks = ranked
            .iter()
            .enumerate()
            .map(|(i, f)| (std::ptr::from_ref::<Finding>(f) as usize, i + 1))
            .collect();
        Overview {
            report,
            ranks,
            actions: action_items(&ranked),
            ranked,
            services,
            hotspots: summary.hotspots,
            bands: summary.bands,
            summary,
            worst_path,
            memory_mb,
            per_service,
        }
    }

    /// Reachable, non-syntax findings in rank order.
    pub fn hotspots(&self) -> impl Iterator<Item = &'a Finding> + '_ {
        self.ranked.iter().copied().filter(|f| is_hotspot(f))
    }

    /// The 1-based rank of a finding among all findings.
    pub fn rank_of(&self, f: &Finding) -> usize {
        self.ranks
            .get(&(std::ptr::from_ref(f) as usize))
            .copied()
            .unwrap_or(0)
    }

    /// A name for the audited project: the last component of its root, resolved so that `.`
    /// gives the directory's name. Never the full path, so reports do not depend on where the
    /// project was checked out.
    pub fn project_name(&self) -> String {
        project_name(&self.report.root)
    }
}

pub fn project_name(root: &Path) -> String {
    std::fs::canonicalize(root)
        .ok()
        .as_deref()
        .unwrap_or(root)
        .file_name()
        .map_or_else(
            || "project".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        )
}

fn action_items<'a>(ranked: &[&'a Finding]) -> Vec<ActionItem<'a>> {
    let mut groups: Vec<ActionItem<'a>> = Vec::new();
    let mut index: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for f in ranked.iter().copied().filter(|f| is_hotspot(f)) {
        let key = (f.code, f.snippet.as_str());
        let i = *index.entry(key).or_insert_with(|| {
            groups.push(ActionItem {
                code: f.code,
                name: f.name,
                root: &f.snippet,
                severity: f.severity,
                findings: Vec::new(),
                saving: MsRange::default(),
                memory_mb: 0.0,
                fixes: Vec::new(),
            });
            groups.len() - 1
        });
        let g = &mut groups[i];
        g.severity = g.severity.max(f.severity);
        g.findings.push(f);
        if per_request(f) {
            g.saving.add(f);
        }
        g.memory_mb = tidy(g.memory_mb + f.memory_mb.unwrap_or(0.0));
        if !g.fixes.contains(&f.help.as_str()) {
            g.fixes.push(&f.help);
        }
    }
    // Severity first: a memory leak has no latency saving to compare, and its band already says
    // how much harm it does. Within a band, the larger saving first.
    groups.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| b.saving.typical_ms().total_cmp(&a.saving.typical_ms()))
            .then_with(|| b.memory_mb.total_cmp(&a.memory_mb))
            .then_with(|| (a.code, a.root).cmp(&(b.code, b.root)))
    });
    groups
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::finding::{ChainStep, Confidence, Estimate, Frequency};

    pub(crate) fn finding(code: &'static str, line: u32, sev: Severity, ms: f64) -> Finding {
        Finding {
            code,
            name: "test-rule",
            severity: sev,
            confidence: Confidence::Definite,
            path: "a.py".to_owned(),
            line,
            column: 1,
            end_line: line,
            end_column: 5,
            function: "f".to_owned(),
            context: "event-loop".to_owned(),
            frequency: Some(Frequency::PerRequest),
            estimate: Some(Estimate {
                worst_ms: None,
                low_ms: ms,
                high_ms: ms * 2.0,
                basis: "b".to_owned(),
            }),
            memory_mb: None,
            chain: vec![ChainStep {
                path: "a.py".to_owned(),
                line,
                function: "f".to_owned(),
                entry: None,
                via: None,
                library: false,
            }],
            agents: Vec::new(),
            reachable: true,
            message: "m".to_owned(),
            help: "h".to_owned(),
            snippet: "time.sleep".to_owned(),
            not_run: None,
            copies: Vec::new(),
            occurrence: 0,
        }
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(ms_text(20500.0), "20.5 s");
        assert_eq!(ms_text(21000.0), "21 s");
        assert_eq!(ms_text(500.0), "500 ms");
        assert_eq!(ms_text(1.25), "1.25 ms");
        assert_eq!(ms_text(0.01), "10 µs");
        assert_eq!(ms_text(0.0), "0 ms");
        assert_eq!(range_text(20500.0, 21000.0), "20.5–21 s");
        assert_eq!(range_text(0.01, 1.0), "10 µs–1 ms");
        assert_eq!(range_text(500.0, 500.0), "500 ms");
        assert_eq!(mb_text(512.0), "512 MB");
        assert_eq!(mb_text(6720.0), "6.56 GB");
        assert_eq!(mb_text(0.5), "0.5 MB");
    }

    #[test]
    fn categories_fall_back_on_the_numbering() {
        assert_eq!(category("PA101"), Some(Category::Blocking));
        assert_eq!(category("PA204"), Some(Category::Models));
        assert_eq!(category("PA499"), Some(Category::Pooling));
        assert_eq!(category("XX1"), None);
        assert_eq!(category_name("PA9"), "other");
    }

    #[test]
    fn fingerprint_ignores_lines_but_not_code() {
        let a = finding("PA101", 3, Severity::High, 100.0);
        let b = finding("PA101", 30, Severity::High, 100.0);
        let c = finding("PA102", 3, Severity::High, 100.0);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&c));
        // Pinned: the hash must never change between builds or platforms.
        let mut h = Fnv1a::new();
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn worst_path_sums_one_chain_of_live_per_request_hotspots() {
        let report = AuditReport {
            root: ".".into(),
            files_scanned: 1,
            files_unparsable: 0,
            lines: 10,
            diagnostics: Vec::new(),
            failed: Vec::new(),
            services: Vec::new(),
            frameworks: Vec::new(),
            conflicts: Vec::new(),
            services_note: None,
            environment: None,
            suppressed: None,
            baselined: None,
            findings: vec![
                finding("PA101", 1, Severity::Critical, 1000.0),
                finding("PA101", 2, Severity::High, 100.0),
                finding("PA101", 3, Severity::Medium, 10.0),
                Finding {
                    reachable: false,
                    not_run: Some(crate::finding::NotRun::Unreachable),
                    ..finding("PA101", 4, Severity::Critical, 5000.0)
                },
                Finding {
                    context: "startup".to_owned(),
                    frequency: Some(Frequency::Once),
                    ..finding("PA101", 5, Severity::High, 300.0)
                },
            ],
            elapsed_ms: 0,
        };
        let o = Overview::new(&report);
        // One entry (`f`), every live per-request finding on its one chain; not the one no
        // service runs, not the one paid once.
        assert_eq!(o.worst_path.low_ms, 1110.0);
        assert_eq!(o.worst_path.high_ms, 2220.0);
        assert_eq!(o.worst_path.findings, 3);
        assert_eq!(o.hotspots, 4);
        assert_eq!(o.ranked[0].line, 4, "rank covers unreachable findings too");
        assert_eq!(
            o.actions.len(),
            1,
            "same code and call text: one root cause"
        );
        assert_eq!(o.actions[0].findings.len(), 4);
        assert_eq!(o.per_service.len(), 1);
        assert_eq!(o.per_service[0].name, UNATTRIBUTED);
    }
}
