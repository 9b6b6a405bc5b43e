//! JSON output: `schema_version`, a summary, the findings and the file diagnostics. Stable key
//! order (serde derive) and no timings, so that the same input gives byte-identical output.

use std::io::Write;

use serde::Serialize;

use crate::analyze::Diagnostic;
use crate::audit::AuditReport;
use crate::finding::{Finding, Severity};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct BySeverity {
    critical: usize,
    high: usize,
    medium: usize,
    low: usize,
    info: usize,
}

#[derive(Serialize)]
struct Summary {
    files_scanned: usize,
    files_unparsable: usize,
    lines: u64,
    findings: usize,
    by_severity: BySeverity,
}

#[derive(Serialize)]
struct Output<'a> {
    schema_version: u32,
    tool: Tool,
    summary: Summary,
    findings: &'a [Finding],
    diagnostics: &'a [Diagnostic],
    /// With `--show-suppressed`: the findings that suppression comments silenced.
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<&'a [Finding]>,
    /// With `--baseline`: how many findings the baseline already records.
    #[serde(skip_serializing_if = "Option::is_none")]
    baselined: Option<usize>,
}

pub fn write(report: &AuditReport, w: &mut dyn Write) -> std::io::Result<()> {
    let out = Output {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "perfaudit",
            version: env!("CARGO_PKG_VERSION"),
        },
        summary: Summary {
            files_scanned: report.files_scanned,
            files_unparsable: report.files_unparsable,
            lines: report.lines,
            findings: report.findings.len(),
            by_severity: BySeverity {
                critical: report.count(Severity::Critical),
                high: report.count(Severity::High),
                medium: report.count(Severity::Medium),
                low: report.count(Severity::Low),
                info: report.count(Severity::Info),
            },
        },
        findings: &report.findings,
        diagnostics: &report.diagnostics,
        suppressed: report.suppressed.as_deref(),
        baselined: report.baselined.as_ref().map(Vec::len),
    };
    serde_json::to_writer_pretty(&mut *w, &out)?;
    writeln!(w)
}
