//! GitLab Code Quality (`--format gitlab`): the subset of the Code Climate issue format that
//! GitLab documents for `artifacts:reports:codequality`, one issue per finding, so that merge
//! requests show the hotspots. Paths are relative to the repository root (as in SARIF), since
//! GitLab resolves them against the project; the fingerprint is the one that survives line
//! shifts, so GitLab tracks an issue as code moves. `tests/schemas/gitlab-codequality.json`
//! checks the output.

use std::io::Write;

use serde::Serialize;

use super::overview::{cost_text, fingerprint};
use crate::audit::AuditReport;
use crate::finding::{Finding, Severity};

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: String,
    fingerprint: String,
    severity: &'static str,
    location: Location,
    categories: [&'static str; 1],
    #[serde(rename = "type")]
    kind: &'static str,
    content: Content<'a>,
}

#[derive(Serialize)]
struct Content<'a> {
    body: &'a str,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
    end: u32,
}

/// GitLab's scale: critical is a blocker, high critical, medium major, low minor; code that no
/// service runs is info, since it never fails a run.
pub fn severity(f: &Finding) -> &'static str {
    if f.not_run.is_some() {
        return "info";
    }
    match f.severity {
        Severity::Critical => "blocker",
        Severity::High => "critical",
        Severity::Medium => "major",
        Severity::Low => "minor",
        Severity::Info => "info",
    }
}

fn issue<'a>(f: &'a Finding, prefix: &str) -> Issue<'a> {
    let mut description = f.message.clone();
    if f.estimate.is_some() {
        description.push_str(&format!(" [{}, ~{}]", f.severity.as_str(), cost_text(f)));
    }
    Issue {
        description,
        check_name: format!("{} {}", f.code, f.name),
        fingerprint: fingerprint(f),
        severity: severity(f),
        location: Location {
            path: format!("{prefix}{}", f.path),
            lines: Lines {
                begin: f.line.max(1),
                end: f.end_line.max(f.line).max(1),
            },
        },
        categories: ["Performance"],
        kind: "issue",
        content: Content { body: &f.help },
    }
}

pub fn write(report: &AuditReport, w: &mut dyn Write) -> std::io::Result<()> {
    let prefix = super::sarif::repository_prefix(&report.root);
    let issues: Vec<Issue> = report.findings.iter().map(|f| issue(f, &prefix)).collect();
    serde_json::to_writer_pretty(&mut *w, &issues)?;
    writeln!(w)
}
