//! The numbers of one audit, counted once: what is a hotspot, what is listed but not counted
//! (a file that does not parse, an unused suppression), what is left apart (code that no
//! service runs: tooling, code no declared service reaches, code no entry point reaches, each
//! counted with its reason) and which files could not be analysed. Every format reads its counts
//! from here, so that the text, Markdown, HTML, JSON, CSV, SARIF and GitHub outputs of one
//! audit never disagree.

use serde::Serialize;

use super::overview::{BandCounts, band_index, category};
use crate::audit::AuditReport;
use crate::finding::{Finding, NotRun, Severity};
use crate::rules::Category;

/// What a finding is, for counting: exactly one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A finding about performance in code that a service runs.
    Hotspot,
    /// A finding about the code itself (a file that does not parse, an unused suppression):
    /// listed, never a hotspot.
    Syntax,
    /// A performance finding in code that no service runs (with the reason): listed apart,
    /// never a hotspot and never a reason to fail a run.
    NotRun(NotRun),
}

impl Kind {
    pub fn of(f: &Finding) -> Kind {
        if category(f.code) == Some(Category::Syntax) {
            Kind::Syntax
        } else if let Some(why) = f.not_run {
            Kind::NotRun(why)
        } else {
            Kind::Hotspot
        }
    }
}

/// Counts of one audit. `findings == hotspots + syntax + not_run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files_scanned: usize,
    pub files_unparsable: usize,
    /// Files left out because analysing them failed (a perfaudit bug).
    pub files_failed: usize,
    pub lines: u64,
    /// Every finding of the report.
    pub findings: usize,
    /// Every finding per band, indexed like `Severity::ALL`.
    pub by_severity: BandCounts,
    /// Hotspots per band, indexed like `Severity::ALL`.
    pub bands: BandCounts,
    pub hotspots: usize,
    pub syntax: usize,
    /// Findings in code that no service runs: listed in their own section.
    pub not_run: usize,
    /// `not_run` per reason, indexed like `NotRun::ALL`.
    pub not_run_by: [usize; 3],
    /// Places folded into another finding as near-identical copies of its module (not in
    /// `findings`).
    pub copies: usize,
    /// Findings silenced by suppression comments, when they were kept (`--show-suppressed`).
    pub suppressed: Option<usize>,
    /// Findings a baseline already records, when a baseline was given.
    pub baselined: Option<usize>,
}

impl Summary {
    pub fn new(report: &AuditReport) -> Summary {
        let mut s = Summary {
            files_scanned: report.files_scanned,
            files_unparsable: report.files_unparsable,
            files_failed: report.failed.len(),
            lines: report.lines,
            findings: report.findings.len(),
            by_severity: [0; 5],
            bands: [0; 5],
            hotspots: 0,
            syntax: 0,
            not_run: 0,
            not_run_by: [0; 3],
            copies: report.findings.iter().map(|f| f.copies.len()).sum(),
            suppressed: report.suppressed.as_ref().map(Vec::len),
            baselined: report.baselined.as_ref().map(Vec::len),
        };
        for f in &report.findings {
            s.by_severity[band_index(f.severity)] += 1;
            match Kind::of(f) {
                Kind::Hotspot => {
                    s.bands[band_index(f.severity)] += 1;
                    s.hotspots += 1;
                }
                Kind::Syntax => s.syntax += 1,
                Kind::NotRun(why) => {
                    s.not_run += 1;
                    s.not_run_by[not_run_index(why)] += 1;
                }
            }
        }
        s
    }

    /// The findings left apart, per reason in words: `2 in tests, …; 1 that no entry point
    /// reaches`.
    pub fn not_run_text(&self) -> String {
        NotRun::ALL
            .iter()
            .zip(self.not_run_by)
            .filter(|(_, n)| *n > 0)
            .map(|(why, n)| format!("{n} {}", why.reason()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Hotspots in one band.
    pub fn band(&self, severity: Severity) -> usize {
        self.bands[band_index(severity)]
    }

    /// `9 critical, 8 high, 5 medium, 18 low, 5 info`: the hotspots per band.
    pub fn bands_text(&self) -> String {
        Severity::ALL
            .iter()
            .zip(self.bands)
            .map(|(s, n)| format!("{n} {}", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub fn not_run_index(why: NotRun) -> usize {
    NotRun::ALL.iter().position(|&w| w == why).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Confidence;

    fn finding(code: &'static str, sev: Severity, not_run: Option<NotRun>) -> Finding {
        Finding {
            code,
            name: "n",
            severity: sev,
            confidence: Confidence::Definite,
            path: "a.py".to_owned(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
            function: "f".to_owned(),
            context: "request".to_owned(),
            frequency: None,
            estimate: None,
            memory_mb: None,
            chain: Vec::new(),
            agents: Vec::new(),
            reachable: not_run != Some(NotRun::Unreachable),
            message: String::new(),
            help: String::new(),
            snippet: String::new(),
            not_run,
            copies: Vec::new(),
            occurrence: 0,
        }
    }

    #[test]
    fn every_finding_is_counted_once() {
        let report = AuditReport {
            root: ".".into(),
            files_scanned: 2,
            files_unparsable: 1,
            lines: 3,
            diagnostics: Vec::new(),
            failed: vec!["b.py".to_owned()],
            findings: vec![
                finding("PA101", Severity::High, None),
                finding("PA001", Severity::Info, None),
                finding("PA101", Severity::Critical, Some(NotRun::Unreachable)),
                finding("PA002", Severity::Low, Some(NotRun::Unreachable)),
                finding("PA102", Severity::High, Some(NotRun::Tooling)),
            ],
            services: Vec::new(),
            frameworks: Vec::new(),
            conflicts: Vec::new(),
            services_note: None,
            environment: None,
            elapsed_ms: 0,
            suppressed: None,
            baselined: Some(Vec::new()),
        };
        let s = Summary::new(&report);
        assert_eq!((s.hotspots, s.syntax, s.not_run), (1, 2, 2));
        assert_eq!(s.findings, s.hotspots + s.syntax + s.not_run);
        assert_eq!(s.not_run_by, [1, 0, 1]);
        assert_eq!(
            s.not_run_text(),
            "1 in tests, scripts, examples, docs or backup copies; 1 that no entry point reaches"
        );
        assert_eq!(s.band(Severity::High), 1);
        assert_eq!(s.by_severity, [1, 2, 0, 1, 1]);
        assert_eq!(s.files_failed, 1);
        assert_eq!(s.baselined, Some(0));
        assert_eq!(
            s.bands_text(),
            "0 critical, 1 high, 0 medium, 0 low, 0 info"
        );
    }
}
