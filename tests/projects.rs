//! Multi-file fixture projects for the whole-program analysis. Each folder under
//! `tests/fixtures/projects/` has an `expected.txt`: a `# select: CODES` line naming the rules
//! to run, then one line per finding that must appear, and nothing else may:
//!
//! `CODE path:line severity [service,...] entry>...>function [unreachable] [not-run:REASON]
//! [copies:path:line,...]`
//!
//! A chain step whose call Python makes implicitly shows how the code wrote it in braces
//! (`export{with FileLock()}>FileLock.__enter__`).
//!
//! Code, path, line, severity, services, the chain of functions, reachability, why no service
//! runs the code and the copies a finding stands for are all compared. The findings are also
//! pinned by a snapshot. A `# conflict: NAME CHOSEN <- OTHER,...` line pins a service conflict
//! (every conflict must be pinned) and `# worst: ENTRY LOW_MS HIGH_MS N` the worst request path
//! of an entry.

use std::path::Path;

use perfaudit::report::text::finding_line;
use perfaudit::testing::{self, audit_paths, fixture_spec};

fn describe(f: &perfaudit::finding::Finding) -> String {
    let chain: Vec<String> = f
        .chain
        .iter()
        .map(|s| match &s.via {
            Some(via) => format!("{}{{{via}}}", s.function),
            None => s.function.clone(),
        })
        .collect();
    let chain = if chain.is_empty() {
        f.function.clone()
    } else {
        chain.join(">")
    };
    let mut line = format!(
        "{} {}:{} {} [{}] {}",
        f.code,
        f.path,
        f.line,
        f.severity.as_str(),
        f.agents.join(","),
        chain
    );
    if !f.reachable {
        line.push_str(" unreachable");
    }
    if let Some(why) = f.not_run {
        line.push_str(&format!(" not-run:{}", why.as_str()));
    }
    if !f.copies.is_empty() {
        let copies: Vec<String> = f
            .copies
            .iter()
            .map(|c| format!("{}:{}", c.path, c.line))
            .collect();
        line.push_str(&format!(" copies:{}", copies.join(",")));
    }
    line
}

fn conflicts(report: &perfaudit::audit::AuditReport) -> Vec<String> {
    report
        .conflicts
        .iter()
        .map(|c| {
            let others: Vec<&str> = c.others.iter().map(|o| o.entry.as_str()).collect();
            format!("{} {} <- {}", c.name, c.chosen.entry, others.join(","))
        })
        .collect()
}

fn worst(report: &perfaudit::audit::AuditReport) -> Vec<String> {
    perfaudit::report::paths::worst_paths(report.findings.iter())
        .iter()
        .map(|p| {
            format!(
                "{} {} {} {}",
                p.entry,
                p.cost.low_ms,
                p.cost.high_ms,
                p.findings.len()
            )
        })
        .collect()
}

#[test]
fn project_fixtures() {
    let dirs = testing::project_fixtures(Path::new(env!("CARGO_MANIFEST_DIR")), "expected.txt");
    assert!(dirs.len() >= 9);
    let mut failures = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let (select, spec) = fixture_spec(&dir);
        let select: Vec<&str> = select.iter().map(String::as_str).collect();
        let mut expected: Vec<String> = spec
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| l.trim().to_owned())
            .collect();
        expected.sort();
        let report = audit_paths(&[dir.as_path()], &select);
        let mut actual: Vec<String> = report.findings.iter().map(describe).collect();
        actual.sort();
        if actual != expected {
            failures.push(format!(
                "{name}:\n  expected {expected:#?}\n  actual {actual:#?}"
            ));
            continue;
        }
        let pinned = |prefix: &str| -> Vec<String> {
            spec.lines()
                .filter_map(|l| l.strip_prefix(prefix))
                .map(|l| l.trim().to_owned())
                .collect()
        };
        let (want, got) = (pinned("# conflict:"), conflicts(&report));
        if want != got {
            failures.push(format!(
                "{name}: conflicts: expected {want:?}, actual {got:?}"
            ));
        }
        let want = pinned("# worst:");
        let got: Vec<String> = worst(&report)
            .into_iter()
            .filter(|w| {
                want.iter()
                    .any(|x| x.split(' ').next() == w.split(' ').next())
            })
            .collect();
        if want.len() != got.len() || want.iter().any(|w| !got.contains(w)) {
            failures.push(format!(
                "{name}: worst paths: expected {want:?}, actual {got:?}"
            ));
        }
        // Every chain is acyclic: no function appears twice on it (the shortest chain from an
        // entry never needs to).
        for f in &report.findings {
            let mut steps: Vec<(&str, &str)> = f
                .chain
                .iter()
                .map(|c| (c.path.as_str(), c.function.as_str()))
                .collect();
            let n = steps.len();
            steps.sort_unstable();
            steps.dedup();
            assert_eq!(
                steps.len(),
                n,
                "{name}: a chain repeats a function: {:?}",
                f.chain
            );
        }
        let lines: Vec<String> = report.findings.iter().map(finding_line).collect();
        insta::assert_snapshot!(format!("project_{name}"), lines.join("\n"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
