//! Terminal output in the style of ruff: `path:line:col: CODE [severity, ~cost] message`, a code
//! frame, the chain when the cost is paid elsewhere, a help line, and a closing summary (counts
//! per band, files, services, time). The one format that shows a timing.

use std::collections::HashMap;
use std::io::Write;

use crate::audit::AuditReport;
use crate::cost::fmt_range;
use crate::finding::{Finding, Severity};

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    fn severity(&self, sev: Severity) -> String {
        let code = match sev {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.paint(code, sev.as_str())
    }
}

pub fn write(report: &AuditReport, color: bool, w: &mut dyn Write) -> std::io::Result<()> {
    let style = Style { color };
    let mut sources: HashMap<&str, Option<Vec<String>>> = HashMap::new();
    for f in &report.findings {
        let lines = sources.entry(&f.path).or_insert_with(|| {
            std::fs::read(report.root.join(&f.path)).ok().map(|b| {
                String::from_utf8_lossy(&b)
                    .lines()
                    .map(str::to_owned)
                    .collect()
            })
        });
        write_finding(w, &style, f, lines.as_deref())?;
    }
    for f in report.suppressed.iter().flatten() {
        writeln!(w, "{} {}", style.paint("2", "suppressed:"), finding_line(f))?;
    }
    for d in &report.diagnostics {
        writeln!(w, "{}: {} {}", d.path, style.paint("2", "note:"), d.message)?;
    }
    let counts: Vec<String> = Severity::ALL
        .iter()
        .map(|&s| format!("{} {}", report.count(s), s.as_str()))
        .collect();
    let services = match super::overview::service_names(report).len() {
        0 => "services not determined".to_owned(),
        1 => "1 service".to_owned(),
        n => format!("{n} services"),
    };
    writeln!(
        w,
        "Found {} hotspots ({}) in {} files ({} did not parse), {services}, in {} ms.",
        report.findings.len(),
        counts.join(", "),
        report.files_scanned,
        report.files_unparsable,
        report.elapsed_ms
    )?;
    if let Some(known) = &report.baselined {
        writeln!(
            w,
            "{} findings recorded in the baseline were not reported.",
            known.len()
        )?;
    }
    Ok(())
}

/// One line per finding, without colour or frame: the form used by snapshots.
pub fn finding_line(f: &Finding) -> String {
    let cost = f
        .estimate
        .as_ref()
        .map(|e| format!(", ~{}", fmt_range(e.low_ms, e.high_ms)))
        .unwrap_or_default();
    let chain = if f.chain.len() > 1 {
        let steps: Vec<String> = f
            .chain
            .iter()
            .map(|s| format!("{}:{}", s.function, s.line))
            .collect();
        format!(" [chain: {}]", steps.join(" -> "))
    } else {
        String::new()
    };
    format!(
        "{}:{}:{}: {} [{}{cost}] [{}] {}{chain}",
        f.path,
        f.line,
        f.column,
        f.code,
        f.severity.as_str(),
        f.context,
        f.message
    )
}

fn write_finding(
    w: &mut dyn Write,
    style: &Style,
    f: &Finding,
    lines: Option<&[String]>,
) -> std::io::Result<()> {
    let cost = f
        .estimate
        .as_ref()
        .map(|e| format!(", ~{}", fmt_range(e.low_ms, e.high_ms)))
        .unwrap_or_default();
    writeln!(
        w,
        "{}:{}:{}: {} [{}{cost}] {}",
        style.paint("1", &f.path),
        f.line,
        f.column,
        style.paint("1;31", f.code),
        style.severity(f.severity),
        f.message
    )?;
    if let Some(text) = lines.and_then(|l| l.get(f.line.saturating_sub(1) as usize)) {
        let num = f.line.to_string();
        let pad = " ".repeat(num.len());
        let col = f.column.saturating_sub(1) as usize;
        let width = if f.end_line == f.line {
            (f.end_column.saturating_sub(f.column) as usize).max(1)
        } else {
            text.chars().count().saturating_sub(col).max(1)
        };
        let text = text.replace('\t', " ");
        writeln!(w, "{pad} |")?;
        writeln!(w, "{num} | {text}")?;
        writeln!(
            w,
            "{pad} | {}{}",
            " ".repeat(col),
            style.paint("31", &"^".repeat(width.min(120)))
        )?;
    }
    if f.chain.len() > 1 {
        let chain: Vec<String> = f
            .chain
            .iter()
            .map(|s| format!("{} ({}:{})", s.function, s.path, s.line))
            .collect();
        writeln!(w, "  = chain: {}", chain.join(" → "))?;
    }
    if let Some(e) = &f.estimate {
        writeln!(w, "  = cost: {}", e.basis)?;
    }
    writeln!(w, "  = help: {}", f.help)?;
    writeln!(w)
}
