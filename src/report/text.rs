//! Terminal output in the style of ruff: `path:line:col: CODE [severity, ~cost, confidence]
//! message`, a code frame, the chain when the cost is paid elsewhere, a help line, and a
//! closing summary (hotspots per band, files, services, time; what was left out and why). The
//! one format that shows a timing.
//!
//! Everything that comes from audited files (paths, names in messages, source lines) has its
//! control characters escaped, so that a planted escape sequence never reaches the terminal.
//! File notes are not part of this stream: the command line prints them on stderr.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use anstyle::{AnsiColor, Effects, Style};

use super::Options;
use super::summary::{Kind, Summary};
use crate::audit::AuditReport;
use crate::finding::{Confidence, Finding, Severity};
use crate::rules::cost::fmt_range;

/// The longest source line shown in a frame; longer ones are cut (a minified file would
/// otherwise print megabytes per finding).
const MAX_FRAME_CHARS: usize = 200;

struct Paint {
    color: bool,
}

impl Paint {
    fn paint(&self, style: Style, s: &str) -> String {
        if self.color {
            format!("{}{s}{}", style.render(), style.render_reset())
        } else {
            s.to_owned()
        }
    }

    fn severity(&self, sev: Severity) -> String {
        let style = match sev {
            Severity::Critical => AnsiColor::Red.on_default().effects(Effects::BOLD),
            Severity::High => AnsiColor::Red.on_default(),
            Severity::Medium => AnsiColor::Yellow.on_default(),
            Severity::Low => AnsiColor::Cyan.on_default(),
            Severity::Info => Style::new().effects(Effects::DIMMED),
        };
        self.paint(style, sev.as_str())
    }
}

const BOLD: Style = Style::new().effects(Effects::BOLD);
const DIM: Style = Style::new().effects(Effects::DIMMED);
const CODE: Style = AnsiColor::Red.on_default().effects(Effects::BOLD);

/// Text from an audited file, safe to print: control characters (C0, DEL, C1) and the
/// bidirectional overrides that can make code read differently than it runs are written as
/// `\u{..}` escapes.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A source line for a frame: every character that `escape` would escape becomes one
/// replacement character, so that columns still line up under it; tabs become one space.
fn frame_line(s: &str) -> String {
    s.chars()
        .take(MAX_FRAME_CHARS)
        .map(|c| match c {
            '\t' => ' ',
            c if needs_escape(c) => '\u{fffd}',
            c => c,
        })
        .collect()
}

fn confidence(c: Confidence) -> &'static str {
    match c {
        Confidence::Definite => "definite",
        Confidence::Probable => "probable",
        Confidence::Possible => "possible",
    }
}

pub fn write(report: &AuditReport, opts: &Options, w: &mut dyn Write) -> std::io::Result<()> {
    let paint = Paint { color: opts.color };
    let summary = Summary::new(report);
    let live = |f: &&Finding| !matches!(Kind::of(f), Kind::NotRun(_));
    let listed = |f: &&Finding| opts.show_not_run || live(f);
    if opts.statistics {
        statistics(report, &paint, listed, w)?;
        return write_summary(report, &summary, opts, &paint, w);
    }
    // An audit reads from its conclusion down: the summary, then the findings worst first
    // (by band, then by typical cost).
    write_summary(report, &summary, opts, &paint, w)?;
    let mut ranked: Vec<&Finding> = report.findings.iter().filter(live).collect();
    ranked.sort_by(|a, b| super::overview::rank_order(a, b));
    if !ranked.is_empty() || report.suppressed.as_ref().is_some_and(|s| !s.is_empty()) {
        writeln!(w)?;
    }
    let mut sources: HashMap<String, Option<Vec<String>>> = HashMap::new();
    let mut show = |f: &Finding, w: &mut dyn Write| {
        let lines = sources
            .entry(f.path.clone())
            .or_insert_with(|| super::source_lines(report, &f.path));
        write_finding(w, &paint, f, lines.as_deref())
    };
    for f in ranked {
        show(f, w)?;
    }
    // Apart, after the audit proper: the code that no service runs.
    if opts.show_not_run && summary.not_run > 0 {
        let mut apart: Vec<&Finding> = report.findings.iter().filter(|f| !live(f)).collect();
        apart.sort_by(|a, b| super::overview::rank_order(a, b));
        writeln!(
            w,
            "{}\n",
            paint.paint(
                BOLD,
                &format!(
                    "Not run by any service ({}): not counted, never a reason to fail a run.",
                    summary.not_run
                )
            )
        )?;
        for f in apart {
            show(f, w)?;
        }
    }
    for f in report.suppressed.iter().flatten() {
        writeln!(w, "{} {}", paint.paint(DIM, "suppressed:"), finding_line(f))?;
    }
    Ok(())
}

/// The closing summary alone: what `--output-dir` prints once the files are written.
pub fn write_summary_only(
    report: &AuditReport,
    opts: &Options,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let paint = Paint { color: opts.color };
    write_summary(report, &Summary::new(report), opts, &paint, w)
}

/// `--statistics`: one line per rule with its count, most frequent first.
fn statistics(
    report: &AuditReport,
    paint: &Paint,
    listed: impl Fn(&&Finding) -> bool,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let mut per_rule: BTreeMap<&str, (usize, &str, Severity)> = BTreeMap::new();
    for f in report.findings.iter().filter(listed) {
        let e = per_rule.entry(f.code).or_insert((0, f.name, f.severity));
        e.0 += 1;
        e.2 = e.2.max(f.severity);
    }
    let mut rows: Vec<_> = per_rule.into_iter().collect();
    rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    for (code, (n, name, worst)) in rows {
        writeln!(
            w,
            "{n:>5}  {}  {name:<36} worst {}",
            paint.paint(CODE, code),
            paint.severity(worst)
        )?;
    }
    if !report.findings.is_empty() {
        writeln!(w)?;
    }
    Ok(())
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn write_summary(
    report: &AuditReport,
    s: &Summary,
    opts: &Options,
    paint: &Paint,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let services = match super::overview::service_names(report).len() {
        0 => "services not determined".to_owned(),
        n => plural(n, "service", "services"),
    };
    let unparsable = if s.files_unparsable > 0 {
        format!(" ({} did not parse)", s.files_unparsable)
    } else {
        String::new()
    };
    writeln!(
        w,
        "{} ({}) in {}{unparsable}, {services}, in {} ms.",
        paint.paint(
            BOLD,
            &format!("Found {}", plural(s.hotspots, "hotspot", "hotspots"))
        ),
        s.bands_text(),
        plural(s.files_scanned, "file", "files"),
        report.elapsed_ms
    )?;
    if s.syntax > 0 {
        writeln!(
            w,
            "Also listed: {} about the code itself (a file that does not parse, an unused \
             suppression); not hotspots.",
            plural(s.syntax, "finding", "findings")
        )?;
    }
    if s.not_run > 0 {
        writeln!(
            w,
            "Left out: {} in code that no service runs ({}): not counted, never a reason to fail \
             a run ({} them, --include-not-run counts them).",
            plural(s.not_run, "finding", "findings"),
            s.not_run_text(),
            if opts.show_not_run {
                "listed at the end; --show-not-run lists"
            } else {
                "--show-not-run lists"
            }
        )?;
    }
    if !report.frameworks.is_empty() {
        writeln!(
            w,
            "Frameworks: {} (their profiles decide where and how often entries run).",
            report.frameworks.join(", ")
        )?;
    }
    if s.copies > 0 {
        writeln!(
            w,
            "Grouped: {} in near-identical copies of a module, listed under the copy a service \
             runs.",
            plural(s.copies, "finding", "findings")
        )?;
    }
    if let Some(note) = &report.services_note {
        writeln!(w, "Services: {}.", escape(note))?;
    }
    if let Some(environment) = &report.environment {
        writeln!(w, "Environment: {}.", escape(environment))?;
    }
    for c in &report.conflicts {
        writeln!(
            w,
            "Service conflict: {}.",
            escape(&super::overview::conflict_text(c))
        )?;
    }
    super::paths::write_text(report, w)?;
    if let Some(n) = s.baselined {
        writeln!(
            w,
            "Left out: {} that the baseline records.",
            plural(n, "finding", "findings")
        )?;
    }
    if s.files_failed > 0 {
        writeln!(
            w,
            "{} {} could not be analysed (internal error): the audit is incomplete.",
            paint.paint(CODE, "error:"),
            plural(s.files_failed, "file", "files")
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
            .map(|s| {
                let via = s
                    .via
                    .as_ref()
                    .map(|v| format!(" ({v})"))
                    .unwrap_or_default();
                match s.library {
                    true => format!("{}:{}{via} (library {})", s.function, s.line, s.path),
                    false => format!("{}:{}{via}", s.function, s.line),
                }
            })
            .collect();
        format!(" [chain: {}]", steps.join(" -> "))
    } else {
        String::new()
    };
    escape(&format!(
        "{}:{}:{}: {} [{}{cost}] [{}] {}{chain}",
        f.path,
        f.line,
        f.column,
        f.code,
        f.severity.as_str(),
        f.context,
        f.message
    ))
    .into_owned()
}

/// The code frame of a finding, drawn by `annotate-snippets` (as ruff does) from the one line
/// the finding starts on.
fn frame(f: &Finding, text: &str, color: bool) -> String {
    let line = frame_line(text);
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let byte_at = |col: usize| chars.get(col).map_or(line.len(), |&(i, _)| i);
    let col = f.column.saturating_sub(1) as usize;
    let start = byte_at(col);
    let end = if f.end_line == f.line {
        byte_at(f.end_column.saturating_sub(1) as usize)
    } else {
        line.len()
    };
    let end = if end <= start {
        (start + line[start..].chars().next().map_or(0, char::len_utf8)).max(start)
    } else {
        end
    };
    let level = match f.severity {
        Severity::Critical | Severity::High => Level::ERROR,
        Severity::Medium => Level::WARNING,
        Severity::Low | Severity::Info => Level::NOTE,
    };
    let group = Group::with_level(level).element(
        Snippet::source(line.as_str())
            .line_start(f.line as usize)
            .annotation(AnnotationKind::Primary.span(start..end)),
    );
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    renderer.render(&[group])
}

fn write_finding(
    w: &mut dyn Write,
    paint: &Paint,
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
        "{}:{}:{}: {} [{}{cost}, {}] {}",
        paint.paint(BOLD, &escape(&f.path)),
        f.line,
        f.column,
        paint.paint(CODE, f.code),
        paint.severity(f.severity),
        confidence(f.confidence),
        escape(&f.message)
    )?;
    if let Some(text) = lines.and_then(|l| l.get(f.line.saturating_sub(1) as usize)) {
        writeln!(w, "{}", frame(f, text, paint.color))?;
    }
    if let Some(entry) = f.chain.first().and_then(|s| s.entry.as_deref()) {
        writeln!(
            w,
            "  = entry: {} (`{}`)",
            escape(entry),
            escape(&f.chain[0].function)
        )?;
    }
    if f.chain.len() > 1 {
        let chain: Vec<String> = f.chain.iter().map(super::overview::step_long).collect();
        writeln!(w, "  = chain: {}", escape(&chain.join(" → ")))?;
    }
    if let Some(e) = &f.estimate {
        writeln!(w, "  = cost: {}", escape(&e.basis))?;
    }
    if !f.copies.is_empty() {
        let places: Vec<String> = f.copies.iter().map(super::overview::copy_text).collect();
        writeln!(w, "  = copies: {}", escape(&places.join(", ")))?;
    }
    if let Some(why) = f.not_run {
        writeln!(
            w,
            "  = note: not run by any service (code {}), so it never fails a run",
            why.reason()
        )?;
    }
    writeln!(w, "  = help: {}", escape(&f.help))?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(frame_line("\tx\x1by"), " x\u{fffd}y");
    }
}
