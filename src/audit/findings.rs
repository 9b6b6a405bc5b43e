//! What happens to the findings after the rules: their services, whether a service runs their
//! code (and why not), one finding per call and line, numbered equals, and one finding for the
//! same code in near-identical copies of a module.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::facts::ModuleFacts;
use crate::finding::{CopyPlace, Finding, NotRun};
use crate::project::Project;
use crate::project::resolve::FnRef;
use crate::project::services::Ownership;

/// A finding about the code itself (a file that does not parse, an unused suppression).
fn is_syntax(f: &Finding) -> bool {
    crate::rules::find_rule(f.code)
        .is_some_and(|r| r.meta().category == crate::rules::Category::Syntax)
        || f.code.starts_with("PA0")
}

/// Which code is live, for `attribute_findings`.
#[derive(Clone, Copy)]
pub(super) struct LiveRule {
    /// A manifest declared the services: live code is what they run.
    pub declared: bool,
    /// `--include-not-run`: every finding counts.
    pub include_all: bool,
}

/// Why no service runs the function, or `None` when one does (see `LiveRule`). Tests (the
/// execution query's `tooling`) and modules under tooling folders that no manifest names are
/// tooling; with services declared by
/// a manifest, what no service owns is not run; without (a library), live code is what any
/// entry point reaches and the public functions of modules that are not scripts.
fn not_run(
    project: &Project,
    fr: FnRef,
    owned: bool,
    tooling: bool,
    rule: LiveRule,
) -> Option<NotRun> {
    let m = &project.modules[fr.module as usize];
    // (A method named `test_connection` in production code is not a test: the execution
    // query's `tooling` frequency already says when a test function is one.)
    let tooling = tooling
        || (project.patterns.is_tooling_path(&m.path)
            && !project.service_modules.contains(&fr.module));
    let reachable = project.graph.is_live(fr);
    if tooling {
        Some(NotRun::Tooling)
    } else if rule.declared {
        match (owned, reachable) {
            (true, _) => None,
            (false, true) => Some(NotRun::NoService),
            (false, false) => Some(NotRun::Unreachable),
        }
    } else if reachable || (!m.has_main && is_public(m, fr.func)) {
        None
    } else {
        Some(NotRun::Unreachable)
    }
}

/// A library's public function: neither it nor its class starts with `_` (dunder methods are
/// public protocol), and it is not nested in another function.
fn is_public(m: &ModuleFacts, func: crate::facts::FuncId) -> bool {
    let private = |name: &str| name.starts_with('_') && !name.ends_with("__");
    let f = &m.functions[func as usize];
    let nested = f
        .parent
        .is_some_and(|p| m.functions[p as usize].kind != crate::facts::FnKind::Module);
    matches!(
        f.kind,
        crate::facts::FnKind::Function | crate::facts::FnKind::Method
    ) && !nested
        && !private(&f.name)
        && f.class
            .is_none_or(|c| !private(&m.classes[c as usize].name))
}

/// The function each finding is in (the first of its module with that qualified name). Only
/// the findings' functions are indexed: a table of every function of the project would be the
/// largest one alive at the end of the run.
fn finding_functions(project: &Project, findings: &[Finding]) -> Vec<Option<FnRef>> {
    let wanted: HashSet<(&str, &str)> = findings
        .iter()
        .map(|f| (f.path.as_str(), f.function.as_str()))
        .collect();
    let mut by_name: HashMap<(&str, &str), FnRef> = HashMap::default();
    for (mi, m) in project.modules.iter().enumerate() {
        for (fi, f) in m.functions.iter().enumerate() {
            let key = (m.path.as_str(), f.qualname.as_str());
            if wanted.contains(&key) {
                by_name.entry(key).or_insert(FnRef {
                    module: mi as u32,
                    func: fi as u32,
                });
            }
        }
    }
    findings
        .iter()
        .map(|f| {
            by_name
                .get(&(f.path.as_str(), f.function.as_str()))
                .copied()
        })
        .collect()
}

/// Sets each finding's services, reachability and liveness from the function it is in.
pub(super) fn attribute_findings(
    project: &Project,
    ownership: &Ownership,
    rule: LiveRule,
    findings: &mut [Finding],
) {
    let functions = finding_functions(project, findings);
    for (f, fr) in findings.iter_mut().zip(functions) {
        if let Some(fr) = fr {
            f.reachable = project.graph.is_live(fr);
            f.agents = ownership
                .owners(project, fr)
                .into_iter()
                .map(str::to_owned)
                .collect();
            let syntax = is_syntax(f);
            let tooling = f.frequency == Some(crate::finding::Frequency::Tooling);
            f.not_run = if rule.include_all || syntax {
                None
            } else {
                not_run(project, fr, !f.agents.is_empty(), tooling, rule)
            };
        }
    }
}

/// The same finding (rule, function, call text and its order among equals) in near-identical
/// copies of a module is one hotspot: the copy a service runs stands for them (a live copy
/// first, then a service's entry module, then the worst band, then path order), the others
/// are listed in its `copies` and leave the findings.
pub(super) fn group_copies(project: &Project, groups: &[Vec<u32>], findings: &mut Vec<Finding>) {
    if groups.is_empty() {
        return;
    }
    let mut group_of: HashMap<&str, (usize, u32)> = HashMap::default();
    for (gi, g) in groups.iter().enumerate() {
        for &mi in g {
            group_of.insert(project.modules[mi as usize].path.as_str(), (gi, mi));
        }
    }
    type Key = (usize, &'static str, String, String, u32);
    let mut buckets: HashMap<Key, Vec<usize>> = HashMap::default();
    for (i, f) in findings.iter().enumerate() {
        if is_syntax(f) {
            continue;
        }
        if let Some(&(gi, _)) = group_of.get(f.path.as_str()) {
            let key = (
                gi,
                f.code,
                f.function.clone(),
                f.snippet.clone(),
                f.occurrence,
            );
            buckets.entry(key).or_default().push(i);
        }
    }
    let mut drop = vec![false; findings.len()];
    let mut moves: Vec<(usize, Vec<CopyPlace>)> = Vec::new();
    for (_, mut members) in buckets {
        members.sort_by_key(|&i| findings[i].path.clone());
        members.dedup_by_key(|i| findings[*i].path.clone());
        if members.len() < 2 {
            continue;
        }
        let rank = |i: &usize| {
            let f = &findings[*i];
            let entry = group_of
                .get(f.path.as_str())
                .is_some_and(|(_, mi)| project.service_modules.contains(mi));
            (
                f.not_run.is_some(),
                !entry,
                std::cmp::Reverse(f.severity),
                f.path.clone(),
                f.line,
            )
        };
        members.sort_by_cached_key(rank);
        let places = members[1..]
            .iter()
            .map(|&i| {
                drop[i] = true;
                let f = &findings[i];
                CopyPlace {
                    path: f.path.clone(),
                    line: f.line,
                    severity: f.severity,
                    not_run: f.not_run,
                }
            })
            .collect();
        moves.push((members[0], places));
    }
    for (i, places) in moves {
        findings[i].copies = places;
        findings[i]
            .copies
            .sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    }
    let mut i = 0;
    findings.retain(|_| {
        i += 1;
        !drop[i - 1]
    });
}

/// One finding per rule and line: `db.execute(q).fetchall()` is one hotspot, not two. The most
/// severe (then most costly) finding of the line is kept.
/// One call, one finding: a missing `timeout=` (PA110) on a call that a blocking rule already
/// reports is an aspect of that finding (its worst case has no bound), not a second row. The
/// band stays the one its typical cost gives; the message says the worst case.
/// A serial server's finding (PA115) does not absorb it: its band is the request's own work
/// held against the queue, while a call that can hang for good is a finding of its own.
pub(super) fn fold_missing_timeouts(findings: &mut Vec<Finding>) {
    const TIMEOUT: &str = "PA110";
    const SERIAL: &str = "PA115";
    let blocking = |f: &Finding| {
        f.code != TIMEOUT
            && f.code != SERIAL
            && crate::rules::find_rule(f.code)
                .is_some_and(|r| r.meta().category == crate::rules::Category::Blocking)
    };
    let at = |f: &Finding| (f.path.clone(), f.line, f.column);
    let hangs: std::collections::HashSet<(String, u32, u32)> = findings
        .iter()
        .filter(|f| f.code == TIMEOUT)
        .map(at)
        .collect();
    if hangs.is_empty() {
        return;
    }
    let mut folded = std::collections::HashSet::new();
    for f in findings.iter_mut().filter(|f| blocking(f)) {
        if hangs.contains(&at(f)) {
            f.message.push_str(
                "; it has no `timeout=` either, so a stalled server can hang it for good",
            );
            f.help.push_str(" Pass `timeout=` as well.");
            folded.insert(at(f));
        }
    }
    findings.retain(|f| f.code != TIMEOUT || !folded.contains(&at(f)));
}

/// Numbers identical findings (same code, path, function and call text) in line order, so that
/// each has a fingerprint of its own that does not change when lines move.
pub(super) fn number_occurrences(findings: &mut [Finding]) {
    let mut seen: HashMap<(&'static str, String, String, String), u32> = HashMap::default();
    for f in findings.iter_mut() {
        let key = (
            f.code,
            f.path.clone(),
            f.function.clone(),
            f.snippet.clone(),
        );
        let n = seen.entry(key).or_insert(0);
        f.occurrence = *n;
        *n += 1;
    }
}

pub(super) fn dedupe_same_line(findings: &mut Vec<Finding>) {
    let key = |f: &Finding| (f.path.clone(), f.line, f.code);
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.code, a.column).cmp(&(&b.path, b.line, b.code, b.column))
    });
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings.drain(..) {
        match out.last_mut() {
            Some(prev) if key(prev) == key(&f) => {
                let cost = |x: &Finding| x.estimate.as_ref().map_or(0.0, |e| e.high_ms);
                if (f.severity, cost(&f)) > (prev.severity, cost(prev)) {
                    *prev = f;
                }
            }
            _ => out.push(f),
        }
    }
    *findings = out;
}
