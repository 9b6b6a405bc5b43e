//! GitHub Actions annotations (`--format github`): one workflow command per finding,
//! `::error file=...,line=...,col=...,endLine=...,endColumn=...,title=CODE name::message`, so
//! that a CI run marks the hotspots on the pull request's diff.
//!
//! Workflow commands are parsed line by line, so every value is escaped as the runner expects:
//! `%`, CR and LF in the message; additionally `:` and `,` in properties. Paths are made
//! relative to the working directory (the checkout, in Actions) when the audited root lies
//! inside it, since GitHub resolves annotation paths against the repository root.

use std::io::Write;
use std::path::Path;

use super::overview::{chain_long, cost_text};
use crate::audit::AuditReport;
use crate::finding::{Finding, Severity};

/// Annotation levels, matching SARIF's: critical and high are errors, medium warnings, and a
/// finding in code that no service runs is a notice, since it never fails a run.
pub fn command(severity: Severity, live: bool) -> &'static str {
    if !live {
        return "notice";
    }
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

/// Escapes a value for a workflow command; other control characters from audited files are
/// written as `\u{..}`, as in the text output, so that the job log shows them inert.
pub fn escape_data(s: &str) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    super::text::escape(&s).into_owned()
}

pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The audited root relative to the working directory, as a `dir/` prefix (empty when the root
/// is the working directory or lies outside it).
fn path_prefix(root: &Path) -> String {
    let cwd = std::env::current_dir().and_then(std::fs::canonicalize);
    let root = std::fs::canonicalize(root);
    let (Ok(cwd), Ok(root)) = (cwd, root) else {
        return String::new();
    };
    match root.strip_prefix(&cwd) {
        Ok(rel) if !rel.as_os_str().is_empty() => {
            format!("{}/", rel.to_string_lossy().replace('\\', "/"))
        }
        _ => String::new(),
    }
}

fn message(f: &Finding) -> String {
    let mut m = f.message.clone();
    m.push('\n');
    m.push_str(f.severity.as_str());
    if f.estimate.is_some() {
        m.push_str(&format!(", ~{} per execution", cost_text(f)));
    }
    m.push_str(&format!(" ({})", f.context));
    if let Some(why) = f.not_run {
        m.push_str(&format!(", not run by any service (code {})", why.reason()));
    }
    if !f.copies.is_empty() {
        let places: Vec<String> = f.copies.iter().map(super::overview::copy_text).collect();
        m.push_str(&format!("\nAlso in copies: {}", places.join(", ")));
    }
    if f.chain.len() > 1 {
        m.push_str(&format!("\nChain: {}", chain_long(f)));
    }
    m.push_str(&format!("\nFix: {}", f.help));
    m
}

pub fn write(report: &AuditReport, w: &mut dyn Write) -> std::io::Result<()> {
    let prefix = path_prefix(&report.root);
    for f in &report.findings {
        let start_col = f.column.max(1);
        let end_col = if f.end_line == f.line {
            f.end_column.max(start_col)
        } else {
            f.end_column.max(1)
        };
        writeln!(
            w,
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            command(f.severity, f.not_run.is_none()),
            escape_property(&format!("{prefix}{}", f.path)),
            f.line.max(1),
            start_col,
            f.end_line.max(f.line).max(1),
            end_col,
            escape_property(&format!("{} {}", f.code, f.name)),
            escape_data(&message(f)),
        )?;
    }
    for d in &report.diagnostics {
        // Walk diagnostics may name a path as given on the command line, already absolute.
        let path = if Path::new(&d.path).is_absolute() {
            d.path.clone()
        } else {
            format!("{prefix}{}", d.path)
        };
        let level = if report.failed.contains(&d.path) {
            "error"
        } else {
            "warning"
        };
        writeln!(
            w,
            "::{level} file={},title=perfaudit::{}",
            escape_property(&path),
            escape_data(&d.message)
        )?;
    }
    let s = super::summary::Summary::new(report);
    let mut text = format!(
        "{} hotspot{} ({}) in {} files",
        s.hotspots,
        if s.hotspots == 1 { "" } else { "s" },
        s.bands_text(),
        s.files_scanned
    );
    if s.syntax > 0 {
        text.push_str(&format!("; {} about syntax", s.syntax));
    }
    if s.not_run > 0 {
        text.push_str(&format!(
            "; left out: {} in code that no service runs ({})",
            s.not_run,
            s.not_run_text()
        ));
    }
    if s.files_failed > 0 {
        text.push_str(&format!("; {} files could not be analysed", s.files_failed));
    }
    writeln!(
        w,
        "::notice title=perfaudit summary::{}",
        escape_data(&text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        // `::` inside a message cannot end the command early once it is on one line.
        assert!(!escape_data("x\n::error::y").contains('\n'));
    }
}
