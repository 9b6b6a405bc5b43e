//! `hotspots.csv`: every finding, ranked, one row each, for spreadsheets and quick scripts.
//!
//! RFC 4180: comma-separated, CRLF line ends, fields quoted when they hold a comma, a quote or
//! a line break. Audited code reaches the cells (function names, call text in messages), so a
//! cell that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR first) is
//! neutralised with a leading `'`.

use std::borrow::Cow;
use std::io::Write;

use super::overview::{Overview, chain_short};
use crate::audit::AuditReport;
use crate::finding::Finding;

pub const HEADER: [&str; 19] = [
    "rank",
    "severity",
    "code",
    "rule",
    "services",
    "path",
    "line",
    "function",
    "context",
    "confidence",
    "est_low_ms",
    "est_high_ms",
    "memory_mb",
    "reachable",
    "not_run",
    "copies",
    "chain",
    "message",
    "recommendation",
];

/// Prefixes a cell that a spreadsheet would evaluate as a formula.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A number without a trailing `.0`, so that integers read as integers.
fn number(x: f64) -> String {
    format!("{x}")
}

fn confidence(f: &Finding) -> &'static str {
    match f.confidence {
        crate::finding::Confidence::Possible => "possible",
        crate::finding::Confidence::Probable => "probable",
        crate::finding::Confidence::Definite => "definite",
    }
}

fn row(rank: usize, f: &Finding) -> [String; 19] {
    let (low, high) = f
        .estimate
        .as_ref()
        .map_or((String::new(), String::new()), |e| {
            (number(e.low_ms), number(e.high_ms))
        });
    [
        rank.to_string(),
        f.severity.as_str().to_owned(),
        f.code.to_owned(),
        f.name.to_owned(),
        f.agents.join(";"),
        f.path.clone(),
        f.line.to_string(),
        f.function.clone(),
        f.context.clone(),
        confidence(f).to_owned(),
        low,
        high,
        f.memory_mb.map(number).unwrap_or_default(),
        f.reachable.to_string(),
        f.not_run.map(|w| w.as_str()).unwrap_or_default().to_owned(),
        f.copies
            .iter()
            .map(|c| format!("{}:{}", c.path, c.line))
            .collect::<Vec<_>>()
            .join(";"),
        chain_short(f),
        f.message.clone(),
        f.help.clone(),
    ]
}

pub fn write(report: &AuditReport, w: &mut dyn Write) -> std::io::Result<()> {
    let overview = Overview::new(report);
    let mut out = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .quote_style(::csv::QuoteStyle::Necessary)
        .from_writer(w);
    out.write_record(HEADER)?;
    for (i, f) in overview.ranked.iter().enumerate() {
        let cells = row(i + 1, f);
        out.write_record(cells.iter().map(|c| neutralise(c).into_owned()))?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-1"), "'-1");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("\rx"), "'\rx");
        assert_eq!(neutralise("a=b"), "a=b");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn numbers_read_as_numbers() {
        assert_eq!(number(500.0), "500");
        assert_eq!(number(0.25), "0.25");
    }
}
