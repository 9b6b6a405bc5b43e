//! Report emitters: each format is one file that turns an `AuditReport` into bytes. Emitters
//! never decide what is a hotspot or what it costs; the numbers they share (ranks, services,
//! recoverable latency, root causes) come from `overview`, and `files` puts them on disk.
//!
//! Only the text format may show timings: every other format is byte-identical for the same
//! input, so that reports can be diffed and snapshot-tested.

pub mod csv;
pub mod files;
pub mod github;
pub mod gitlab;
pub mod html;
pub mod json;
pub mod leaks;
pub mod markdown;
pub mod overview;
pub mod paths;
pub mod rule_docs;
pub mod sarif;
pub mod summary;
pub mod text;

use std::io::Write;

use crate::audit::AuditReport;
use crate::settings::Format;

/// How a stream is shown; only the text format reads these.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// ANSI colours (`--color`, `NO_COLOR`).
    pub color: bool,
    /// List the findings in code that no service runs, in their own section (`--show-not-run`);
    /// data formats always carry them, with their `not_run` reason.
    pub show_not_run: bool,
    /// Counts per rule instead of each finding (`--statistics`).
    pub statistics: bool,
}

pub fn write(
    report: &AuditReport,
    format: Format,
    opts: &Options,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Text => text::write(report, opts, w),
        Format::Json => json::write(report, w),
        Format::Markdown => markdown::write(report, w),
        Format::Csv => self::csv::write(report, w),
        Format::Sarif => sarif::write(report, w),
        Format::Github => github::write(report, w),
        Format::Gitlab => gitlab::write(report, w),
        Format::Html => html::write(report, w),
        Format::LeakCandidates => leaks::write(report, w),
    }
}

/// The lines of an audited file, for code excerpts; `None` when it cannot be read (deleted
/// since the audit, or the report was loaded elsewhere). Undecodable bytes are replaced, since
/// an excerpt is for reading, not for parsing.
pub fn source_lines(report: &AuditReport, path: &str) -> Option<Vec<String>> {
    let bytes = std::fs::read(report.root.join(path)).ok()?;
    Some(
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}
