//! JSON output (`findings.json`): `schema_version`, the tool, a summary, the services found,
//! the findings and the file diagnostics, as documented by `schema/findings.schema.json`. Stable key order (serde
//! derive) and no timings, so that the same input gives byte-identical output.
//!
//! Each finding is the `Finding` type as it serialises, plus two derived fields that consumers
//! otherwise recompute: its rule category and a fingerprint that survives line shifts.

use std::io::Write;

use serde::Serialize;

use super::overview::{Overview, category_name, fingerprint};
use crate::audit::{AuditReport, ServiceInfo};
use crate::finding::Finding;
use crate::module::analyze::Diagnostic;

pub const SCHEMA_VERSION: u32 = 2;

#[derive(Serialize)]
pub(crate) struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Tool {
    pub(crate) const PERFAUDIT: Tool = Tool {
        name: "perfaudit",
        version: env!("CARGO_PKG_VERSION"),
    };
}

#[derive(Serialize)]
pub(crate) struct BySeverity {
    critical: usize,
    high: usize,
    medium: usize,
    low: usize,
    info: usize,
}

#[derive(Serialize)]
struct NotRunBy {
    tooling: usize,
    no_service: usize,
    unreachable: usize,
}

/// One entry point's worst single request path (`report::paths`).
#[derive(Serialize)]
struct WorstPath<'a> {
    path: &'a str,
    entry: &'a str,
    low_ms: f64,
    high_ms: f64,
    /// The functions of the path, entry first.
    chain: Vec<&'a str>,
    /// The fingerprints of the findings summed, in chain order.
    findings: Vec<String>,
}

#[derive(Serialize)]
struct Summary<'a> {
    files_scanned: usize,
    files_unparsable: usize,
    files_failed: usize,
    lines: u64,
    findings: usize,
    by_severity: BySeverity,
    /// Reachable, non-syntax findings per band.
    hotspots: BySeverity,
    syntax: usize,
    not_run: usize,
    not_run_by: NotRunBy,
    copies: usize,
    services: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    services_note: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<&'a str>,
    worst_paths: Vec<WorstPath<'a>>,
    memory_mb: f64,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    category: &'static str,
    fingerprint: String,
}

#[derive(Serialize)]
struct Output<'a> {
    schema_version: u32,
    tool: Tool,
    summary: Summary<'a>,
    services: &'a [ServiceInfo],
    frameworks: &'a [String],
    /// Services that several manifests name with different entry modules.
    conflicts: &'a [crate::project::services::ServiceConflict],
    findings: Vec<JsonFinding<'a>>,
    diagnostics: &'a [Diagnostic],
    /// With `--show-suppressed`: the findings that suppression comments silenced.
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<Vec<JsonFinding<'a>>>,
    /// With `--baseline`: how many findings the baseline already records.
    #[serde(skip_serializing_if = "Option::is_none")]
    baselined: Option<usize>,
}

pub(crate) fn by_severity(counts: [usize; 5]) -> BySeverity {
    let [critical, high, medium, low, info] = counts;
    BySeverity {
        critical,
        high,
        medium,
        low,
        info,
    }
}

fn json_findings(findings: &[Finding]) -> Vec<JsonFinding<'_>> {
    findings
        .iter()
        .map(|f| JsonFinding {
            finding: f,
            category: category_name(f.code),
            fingerprint: fingerprint(f),
        })
        .collect()
}

pub fn write(report: &AuditReport, w: &mut dyn Write) -> std::io::Result<()> {
    let overview = Overview::new(report);
    let s = &overview.summary;
    let out = Output {
        schema_version: SCHEMA_VERSION,
        tool: Tool::PERFAUDIT,
        summary: Summary {
            files_scanned: s.files_scanned,
            files_unparsable: s.files_unparsable,
            files_failed: s.files_failed,
            lines: s.lines,
            findings: s.findings,
            by_severity: by_severity(s.by_severity),
            hotspots: by_severity(s.bands),
            syntax: s.syntax,
            not_run: s.not_run,
            not_run_by: NotRunBy {
                tooling: s.not_run_by[0],
                no_service: s.not_run_by[1],
                unreachable: s.not_run_by[2],
            },
            copies: s.copies,
            services: overview.services.clone(),
            services_note: report.services_note.as_deref(),
            environment: report.environment.as_deref(),
            worst_paths: super::paths::worst_paths(report.findings.iter())
                .into_iter()
                .map(|p| WorstPath {
                    path: p.path,
                    entry: p.entry,
                    low_ms: p.cost.low_ms,
                    high_ms: p.cost.high_ms,
                    chain: p.steps,
                    findings: p.findings.iter().map(|f| fingerprint(f)).collect(),
                })
                .collect(),
            memory_mb: overview.memory_mb,
        },
        services: &report.services,
        frameworks: &report.frameworks,
        conflicts: &report.conflicts,
        findings: json_findings(&report.findings),
        diagnostics: &report.diagnostics,
        suppressed: report.suppressed.as_deref().map(json_findings),
        baselined: s.baselined,
    };
    serde_json::to_writer_pretty(&mut *w, &out)?;
    writeln!(w)
}
