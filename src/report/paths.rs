//! The worst single request path per entry point: what one request can pay, instead of a sum
//! of latencies across paths that no request takes together.
//!
//! A path is one chain from an entry (a handler, a receive loop, a route): the findings on it
//! are those whose own chain is a prefix of it (the entry's own findings, those of the functions
//! it calls on the way, and the costly call at its end). Each finding is counted once, at its
//! estimate for one execution. Only hotspots paid once per request (`per-request`) take part:
//! a cost paid after a failure, once per process or on an unknown schedule is not a request's.
//! The worst path of an entry is the one whose summed typical cost is highest.

use std::io::Write;

use super::overview::{MsRange, range_text};
use super::summary::Kind;
use crate::audit::AuditReport;
use crate::finding::{Finding, Frequency};

/// How many entries the text summary lists (JSON lists them all).
pub const TEXT_ENTRIES: usize = 5;

#[derive(Debug)]
pub struct WorstPath<'a> {
    /// The entry's module path and function.
    pub path: &'a str,
    pub entry: &'a str,
    /// The sum over the findings on the path.
    pub cost: MsRange,
    /// The findings on the path, in chain order.
    pub findings: Vec<&'a Finding>,
    /// The functions of the path, entry first.
    pub steps: Vec<&'a str>,
}

/// Whether a finding takes part: a hotspot paid once per request, with an estimate and a chain.
fn on_request_path(f: &Finding) -> bool {
    Kind::of(f) == Kind::Hotspot
        && f.frequency == Some(Frequency::PerRequest)
        && f.estimate.is_some()
        && !f.chain.is_empty()
}

fn is_prefix(short: &Finding, long: &Finding) -> bool {
    short.chain.len() <= long.chain.len()
        && short
            .chain
            .iter()
            .zip(&long.chain)
            .all(|(a, b)| a.path == b.path && a.function == b.function)
}

/// Per entry point, its worst single request path; worst first (then by entry).
pub fn worst_paths<'a>(findings: impl Iterator<Item = &'a Finding>) -> Vec<WorstPath<'a>> {
    let mut by_entry: std::collections::BTreeMap<(&str, &str), Vec<&Finding>> = Default::default();
    for f in findings.filter(|f| on_request_path(f)) {
        let e = &f.chain[0];
        by_entry
            .entry((e.path.as_str(), e.function.as_str()))
            .or_default()
            .push(f);
    }
    let mut out: Vec<WorstPath> = Vec::new();
    for ((path, entry), mut group) in by_entry {
        group.sort_by(|a, b| (a.chain.len(), a.sort_key()).cmp(&(b.chain.len(), b.sort_key())));
        let mut best: Option<WorstPath> = None;
        for leaf in &group {
            let on: Vec<&Finding> = group
                .iter()
                .copied()
                .filter(|g| is_prefix(g, leaf))
                .collect();
            let mut cost = MsRange::default();
            for g in &on {
                cost.add(g);
            }
            if best
                .as_ref()
                .is_none_or(|b| cost.typical_ms() > b.cost.typical_ms())
            {
                best = Some(WorstPath {
                    path,
                    entry,
                    cost,
                    findings: on,
                    steps: leaf.chain.iter().map(|s| s.function.as_str()).collect(),
                });
            }
        }
        out.extend(best);
    }
    out.sort_by(|a, b| {
        b.cost
            .typical_ms()
            .total_cmp(&a.cost.typical_ms())
            .then_with(|| (a.path, a.entry).cmp(&(b.path, b.entry)))
    });
    out
}

/// The steps of a path, with consecutive repeats of one function (a finding in the entry
/// itself) shown once.
pub fn steps_text(p: &WorstPath) -> String {
    let mut steps = p.steps.clone();
    steps.dedup();
    steps.join(" → ")
}

/// The text summary's lines: the worst entries, one line each.
pub fn write_text(report: &AuditReport, w: &mut dyn Write) -> std::io::Result<()> {
    let paths = worst_paths(report.findings.iter());
    if paths.is_empty() {
        return Ok(());
    }
    writeln!(
        w,
        "Worst request path per entry point (one request's costs, summed along one chain):"
    )?;
    for p in paths.iter().take(TEXT_ENTRIES) {
        writeln!(
            w,
            "  ~{} in {} ({}): {} on {}",
            range_text(p.cost.low_ms, p.cost.high_ms),
            super::text::escape(p.entry),
            super::text::escape(p.path),
            match p.findings.len() {
                1 => "1 finding".to_owned(),
                n => format!("{n} findings"),
            },
            super::text::escape(&steps_text(p))
        )?;
    }
    if paths.len() > TEXT_ENTRIES {
        writeln!(
            w,
            "  … and {} more entry points (the JSON report lists them all).",
            paths.len() - TEXT_ENTRIES
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::ChainStep;
    use crate::finding::Severity;
    use crate::report::overview::tests::finding;

    fn step(function: &str) -> ChainStep {
        ChainStep {
            path: "a.py".to_owned(),
            line: 1,
            function: function.to_owned(),
            entry: None,
            via: None,
            library: false,
        }
    }

    fn at(line: u32, ms: f64, chain: &[&str]) -> Finding {
        Finding {
            chain: chain.iter().map(|f| step(f)).collect(),
            function: chain.last().unwrap().to_string(),
            ..finding("PA101", line, Severity::High, ms)
        }
    }

    #[test]
    fn one_chain_is_summed_and_unrelated_paths_are_not() {
        let findings = [
            // On the entry itself, and on two branches below it.
            at(1, 10.0, &["run"]),
            at(2, 100.0, &["run", "a"]),
            at(3, 1000.0, &["run", "b"]),
            at(4, 5.0, &["run", "b", "c"]),
            // Another entry.
            at(5, 1.0, &["other"]),
            // Not per request: left out.
            Finding {
                frequency: Some(Frequency::PerFailure),
                ..at(6, 99999.0, &["run", "a"])
            },
        ];
        let paths = worst_paths(findings.iter());
        assert_eq!(paths.len(), 2);
        let run = &paths[0];
        assert_eq!(run.entry, "run");
        // run (10) + b (1000) + c (5), not a (100): the two branches are two requests.
        assert_eq!(run.cost.low_ms, 1015.0);
        assert_eq!(run.cost.high_ms, 2030.0);
        assert_eq!(run.findings.len(), 3);
        assert_eq!(steps_text(run), "run → b → c");
        assert_eq!(paths[1].entry, "other");
        assert_eq!(paths[1].cost.findings, 1);
    }
}
