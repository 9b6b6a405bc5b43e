//! The HTML report (`report.html`): one self-contained page — no network, no CDN, a content
//! security policy that forbids loading anything — with summary cards, two inline-SVG charts
//! (hotspots per service by band, the worst request path per service), the top action
//! items, and a sortable, filterable findings table whose rows open onto the code excerpt, the
//! call chain and the cost basis.
//!
//! The page is written with `maud`, whose `html!` escapes every value it interpolates (`&`,
//! `<`, `>` and `"`; attribute values are always double-quoted). Audited code is hostile input
//! here: nothing reaches the page unescaped except this module's constants and the JSON island,
//! whose `<`, `>` and `&` are `\u003c`-escaped (so `</script>` in audited code cannot close the
//! element). The table is built by the inline script from that island, and the script only ever
//! assigns `textContent`.
//!
//! Opening the page with `#selftest` makes the script exercise its own table (row count, a band
//! filter, sorting, a detail row) and write the outcome into `<pre id="selftest">`, which a
//! headless browser can dump.

use std::collections::HashMap;
use std::io::Write;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Serialize;

use super::overview::{
    Overview, ServiceStats, category_name, chain_short, cost_text, fingerprint, services_of,
};
use crate::audit::AuditReport;
use crate::finding::{Finding, Severity};

/// Lines of context shown above and below a finding's line.
const EXCERPT_CONTEXT: u32 = 2;
/// Action items shown on the page; the Markdown report has them all.
const MAX_ACTIONS: usize = 10;

/// Band colours, in `Severity::ALL` order.
const BAND_COLOURS: [&str; 5] = ["#b91c1c", "#ea580c", "#ca8a04", "#0e7490", "#64748b"];

/// Rule text (messages, help) with its Markdown code spans as `<code>`, everything else as
/// text. Text with an unmatched backtick is shown as written.
pub fn rich(s: &str) -> Markup {
    let parts: Vec<&str> = s.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return html! { (s) };
    }
    html! {
        @for (i, p) in parts.iter().enumerate() {
            @if i % 2 == 1 { code { (p) } } @else { (p) }
        }
    }
}

/// JSON that is safe inside a `<script>` element: no `<`, `>` or `&` survives, so neither
/// `</script>` nor `<!--` can appear, while `JSON.parse` reads the same value back.
pub fn script_json(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[derive(Serialize)]
struct Step<'a> {
    function: &'a str,
    path: &'a str,
    line: u32,
    /// How the code wrote a call Python makes implicitly (`with FileLock()`).
    via: Option<&'a str>,
    /// A frame inside an installed library.
    library: bool,
}

#[derive(Serialize)]
struct Excerpt {
    /// The line number of `lines[0]`.
    start: u32,
    lines: Vec<String>,
}

#[derive(Serialize)]
struct Row<'a> {
    rank: usize,
    severity: Severity,
    code: &'static str,
    rule: &'static str,
    category: &'static str,
    services: Vec<&'a str>,
    path: &'a str,
    line: u32,
    column: u32,
    function: &'a str,
    context: &'a str,
    confidence: &'static str,
    /// The typical cost in ms for sorting; -1 when there is no estimate.
    typical_ms: f64,
    cost: String,
    basis: Option<&'a str>,
    memory_mb: Option<f64>,
    /// Why no service runs the code (`tooling`, `no-service`, `unreachable`), if none does.
    not_run: Option<&'static str>,
    /// The same finding in near-identical copies of its module.
    copies: Vec<String>,
    chain_short: String,
    chain: Vec<Step<'a>>,
    message: &'a str,
    help: &'a str,
    fingerprint: String,
    excerpt: Option<Excerpt>,
}

#[derive(Serialize)]
struct Data<'a> {
    bands: [&'static str; 5],
    findings: Vec<Row<'a>>,
    /// The page (`docs/rules/`) of each rule with a finding.
    docs: std::collections::BTreeMap<&'static str, String>,
}

fn confidence(f: &Finding) -> &'static str {
    match f.confidence {
        crate::finding::Confidence::Possible => "possible",
        crate::finding::Confidence::Probable => "probable",
        crate::finding::Confidence::Definite => "definite",
    }
}

fn excerpt(lines: Option<&Vec<String>>, line: u32) -> Option<Excerpt> {
    let lines = lines?;
    if line == 0 || line as usize > lines.len() {
        return None;
    }
    let start = line.saturating_sub(EXCERPT_CONTEXT).max(1);
    let end = (line + EXCERPT_CONTEXT).min(lines.len() as u32);
    Some(Excerpt {
        start,
        lines: lines[start as usize - 1..end as usize]
            .iter()
            .map(|l| l.replace('\t', "    "))
            .collect(),
    })
}

fn data<'a>(o: &Overview<'a>) -> Data<'a> {
    let mut sources: HashMap<&str, Option<Vec<String>>> = HashMap::new();
    let findings = o
        .ranked
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let lines = sources
                .entry(&f.path)
                .or_insert_with(|| super::source_lines(o.report, &f.path));
            Row {
                rank: i + 1,
                severity: f.severity,
                code: f.code,
                rule: f.name,
                category: category_name(f.code),
                services: services_of(f),
                path: &f.path,
                line: f.line,
                column: f.column,
                function: &f.function,
                context: &f.context,
                confidence: confidence(f),
                typical_ms: f.estimate.as_ref().map_or(-1.0, |e| e.typical_ms()),
                cost: cost_text(f),
                basis: f.estimate.as_ref().map(|e| e.basis.as_str()),
                memory_mb: f.memory_mb,
                not_run: f.not_run.map(|w| w.as_str()),
                copies: f.copies.iter().map(super::overview::copy_text).collect(),
                chain_short: chain_short(f),
                chain: f
                    .chain
                    .iter()
                    .map(|s| Step {
                        function: &s.function,
                        path: &s.path,
                        line: s.line,
                        via: s.via.as_deref(),
                        library: s.library,
                    })
                    .collect(),
                message: &f.message,
                help: &f.help,
                fingerprint: fingerprint(f),
                excerpt: excerpt(lines.as_ref(), f.line),
            }
        })
        .collect();
    let docs = o
        .report
        .findings
        .iter()
        .map(|f| (f.code, super::rule_docs::page_url(f.code)))
        .collect();
    Data {
        bands: Severity::ALL.map(Severity::as_str),
        findings,
        docs,
    }
}

fn card(title: &str, value: &str, detail: Markup) -> Markup {
    html! {
        div.card {
            div.card-title { (title) }
            div.card-value { (value) }
            div.card-detail { (detail) }
        }
    }
}

fn cards(o: &Overview) -> Markup {
    let r = o.report;
    let s = &o.summary;
    let mut others = Vec::new();
    if s.syntax > 0 {
        others.push(format!("{} about syntax", s.syntax));
    }
    if s.not_run > 0 {
        others.push(format!(
            "{} in code that no service runs ({})",
            s.not_run,
            s.not_run_text()
        ));
    }
    let chips = html! {
        @for (band, n) in Severity::ALL.iter().zip(o.bands) {
            span class={ "chip band-" (band.as_str()) } { (n) " " (band.as_str()) }
        }
        @if !others.is_empty() {
            div { "the table also lists " (others.join(" and ")) " (not hotspots)" }
        }
    };
    let (worst, worst_detail) = if o.worst_path.findings == 0 {
        (
            "none".to_owned(),
            "no hotspot paid once per request has an estimate".to_owned(),
        )
    } else {
        (
            o.worst_path.text(),
            format!(
                "one request's costs, summed along one chain from its entry point ({} findings)",
                o.worst_path.findings
            ),
        )
    };
    let failed = if s.files_failed > 0 {
        format!(
            " · {} could not be analysed (internal error)",
            s.files_failed
        )
    } else {
        String::new()
    };
    let scanned = format!(
        "{} lines · {} did not parse{failed}",
        super::overview::thousands(r.lines),
        r.files_unparsable,
    );
    let (services, services_detail) = if o.services.is_empty() {
        (
            "not determined".to_owned(),
            r.services_note
                .clone()
                .unwrap_or_else(|| "no finding could be attributed to a service".to_owned()),
        )
    } else {
        (o.services.len().to_string(), o.services.join(", "))
    };
    let mut services_detail = services_detail;
    for c in &r.conflicts {
        services_detail.push_str(&format!(
            " · conflict: {}",
            super::overview::conflict_text(c)
        ));
    }
    html! {
        section.cards aria-label="Summary" {
            (card("Hotspots", &s.hotspots.to_string(), chips))
            (card("Worst request path", &worst, html! { (worst_detail) }))
            (card(
                "Memory at stake",
                &super::overview::mb_text(o.memory_mb),
                html! { "sum of the memory estimates of the hotspots" },
            ))
            (card("Modules scanned", &r.files_scanned.to_string(), html! { (scanned) }))
            (card("Services", &services, html! { (services_detail) }))
        }
    }
}

/// A coordinate or length in a chart, to a tenth of a unit.
fn n(x: f64) -> String {
    format!("{x:.1}")
}

fn svg_text(x: f64, y: f64, anchor: &str, class: &str, text: &str) -> Markup {
    html! {
        text x=(n(x)) y=(n(y)) text-anchor=(anchor) class=(class) { (text) }
    }
}

/// Service labels are audited data of any length: cut them to fit the label column.
fn label(s: &str) -> String {
    const MAX: usize = 24;
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX - 1).collect();
        format!("{cut}…")
    } else {
        s.to_owned()
    }
}

const CHART_W: f64 = 620.0;
const LABEL_W: f64 = 170.0;
const ROW_H: f64 = 26.0;
const TOP: f64 = 34.0;

/// An SVG chart of `rows` rows and `extra` units below them. SVG elements are written with
/// their closing tags, which the HTML parser reads as the self-closing form.
fn chart(title: &str, rows: usize, extra: f64, body: Markup) -> Markup {
    let h = TOP + ROW_H * rows.max(1) as f64 + extra;
    html! {
        svg.chart role="img" viewBox={ "0 0 " (CHART_W) " " (h) } width=(CHART_W) height=(h)
            xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            (body)
        }
    }
}

/// Hotspots per service, one stacked bar per service with a segment per band.
fn band_chart(services: &[ServiceStats]) -> Markup {
    let plot_w = CHART_W - LABEL_W - 50.0;
    let max = services
        .iter()
        .map(ServiceStats::hotspots)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let body = html! {
        @for (i, (band, colour)) in Severity::ALL.iter().zip(BAND_COLOURS).enumerate() {
            @let x = LABEL_W + 72.0 * i as f64;
            rect x=(n(x)) y="8" width="12" height="12" rx="2" fill=(colour) {}
            (svg_text(x + 16.0, 18.5, "start", "legend", band.as_str()))
        }
        @if services.is_empty() {
            (svg_text(LABEL_W, TOP + 17.0, "start", "muted", "No hotspots"))
        }
        @for (i, s) in services.iter().enumerate() {
            @let y = TOP + ROW_H * i as f64;
            @let (segments, end) = bar(s, plot_w / max);
            (svg_text(LABEL_W - 8.0, y + 16.0, "end", "label", &label(&s.name)))
            @for (x, w, band, colour, count) in segments {
                rect x=(n(x)) y=(n(y + 4.0)) width=(n(w)) height=(n(ROW_H - 8.0)) fill=(colour) {
                    title { (s.name) ": " (count) " " (band.as_str()) }
                }
            }
            (svg_text(end + 6.0, y + 16.0, "start", "value", &s.hotspots().to_string()))
        }
    };
    chart("Hotspots per service by band", services.len(), 10.0, body)
}

/// One service's stacked bar, `unit` wide per hotspot: `(x, width, band, colour, count)` for
/// each band it has, and where the bar ends.
type Segment = (f64, f64, Severity, &'static str, usize);

fn bar(s: &ServiceStats, unit: f64) -> (Vec<Segment>, f64) {
    let mut x = LABEL_W;
    let mut segments = Vec::new();
    for ((&band, colour), count) in Severity::ALL.iter().zip(BAND_COLOURS).zip(s.bands) {
        if count > 0 {
            let w = unit * count as f64;
            segments.push((x, w, band, colour, count));
            x += w;
        }
    }
    (segments, x)
}

/// The worst request path per service on a log scale (costs span microseconds to minutes):
/// a bar up to the low end and a lighter extension to the high end.
fn cost_chart(services: &[ServiceStats]) -> Markup {
    let costed: Vec<&ServiceStats> = services
        .iter()
        .filter(|s| s.per_request.findings > 0 && s.per_request.high_ms > 0.0)
        .collect();
    let title = "Worst request path per service";
    if costed.is_empty() {
        let none = svg_text(
            LABEL_W,
            TOP + 17.0,
            "start",
            "muted",
            "No per-request cost estimated",
        );
        return chart(title, 0, 24.0, none);
    }
    let plot_w = CHART_W - LABEL_W - 90.0;
    let positive_low = costed
        .iter()
        .map(|s| s.per_request.low_ms)
        .filter(|&x| x > 0.0)
        .fold(f64::INFINITY, f64::min);
    let min_exp = positive_low
        .min(
            costed
                .iter()
                .map(|s| s.per_request.high_ms)
                .fold(f64::INFINITY, f64::min),
        )
        .log10()
        .floor();
    let max_exp = costed
        .iter()
        .map(|s| s.per_request.high_ms)
        .fold(0.0, f64::max)
        .log10()
        .ceil()
        .max(min_exp + 1.0);
    let scale = |ms: f64| -> f64 {
        if ms <= 0.0 {
            return 0.0;
        }
        ((ms.log10() - min_exp) / (max_exp - min_exp)).clamp(0.0, 1.0) * plot_w
    };
    let axis_y = TOP + ROW_H * costed.len() as f64 + 2.0;
    let mut exponents = Vec::new();
    let mut e = min_exp;
    while e <= max_exp {
        exponents.push(e);
        e += 1.0;
    }
    let body = html! {
        @for e in exponents {
            @let x = LABEL_W + scale(10f64.powf(e));
            line x1=(n(x)) y1=(n(TOP - 4.0)) x2=(n(x)) y2=(n(axis_y)) class="grid" {}
            (svg_text(x, axis_y + 14.0, "middle", "tick", &super::overview::ms_text(10f64.powf(e))))
        }
        (svg_text(
            LABEL_W,
            20.0,
            "start",
            "legend",
            "log scale · solid to the low end, light to the high end",
        ))
        @for (i, s) in costed.iter().enumerate() {
            @let y = TOP + ROW_H * i as f64;
            @let low = scale(s.per_request.low_ms);
            @let high = scale(s.per_request.high_ms).max(low + 2.0);
            @let colour = BAND_COLOURS[s.bands.iter().position(|&c| c > 0).unwrap_or(4)];
            (svg_text(LABEL_W - 8.0, y + 16.0, "end", "label", &label(&s.name)))
            rect x=(n(LABEL_W)) y=(n(y + 4.0)) width=(n(high)) height=(n(ROW_H - 8.0))
                fill=(colour) fill-opacity="0.3" {}
            rect x=(n(LABEL_W)) y=(n(y + 4.0)) width=(n(low)) height=(n(ROW_H - 8.0)) fill=(colour) {
                title { (s.name) ": " (s.per_request.text()) }
            }
            (svg_text(LABEL_W + high + 6.0, y + 16.0, "start", "value", &s.per_request.text()))
        }
    };
    chart(title, costed.len(), 24.0, body)
}

fn actions(o: &Overview) -> Markup {
    if o.actions.is_empty() {
        return html! { p.muted { "Nothing to fix." } };
    }
    html! {
        ol.actions {
            @for a in o.actions.iter().take(MAX_ACTIONS) {
                @let saving = if a.saving.findings > 0 {
                    format!("saves ~{}", a.saving.text())
                } else if a.memory_mb > 0.0 {
                    format!("frees ~{}", super::overview::mb_text(a.memory_mb))
                } else {
                    "no cost estimate".to_owned()
                };
                li {
                    div.action-head {
                        span class={ "badge band-" (a.severity.as_str()) } { (a.severity.as_str()) }
                        " "
                        strong { (a.code) " " (a.name) }
                        @if !a.root.is_empty() {
                            ": " code { (a.root) }
                        }
                        " "
                        span.muted { "— " (saving) }
                    }
                    div {
                        @for (i, fix) in a.fixes.iter().enumerate() {
                            @if i > 0 { br; }
                            (rich(fix))
                        }
                    }
                    div.muted {
                        (a.findings.len())
                        (if a.findings.len() == 1 { " place: " } else { " places: " })
                        @for (i, f) in a.findings.iter().take(5).enumerate() {
                            @if i > 0 { ", " }
                            code { (f.path) ":" (f.line) }
                        }
                        @if a.findings.len() > 5 {
                            " and " (a.findings.len() - 5) " more"
                        }
                    }
                }
            }
        }
        @if o.actions.len() > MAX_ACTIONS {
            p.muted { (o.actions.len() - MAX_ACTIONS) " more in " code { "report.md" } "." }
        }
    }
}

/// The findings table's filters and head; the script fills in the rows.
fn findings_table() -> Markup {
    let columns = [
        ("rank", "#", true),
        ("severity", "Band", false),
        ("code", "Rule", false),
        ("services", "Service", false),
        ("path", "Location", false),
        ("function", "Function", false),
        ("cost", "Cost", true),
        ("confidence", "Confidence", false),
        ("message", "Finding", false),
    ];
    html! {
        section #findings {
            h2 { "Findings" }
            div.filters {
                label { "Band " select #f-band { option value="" { "all" } } }
                label { "Rule " select #f-rule { option value="" { "all" } } }
                label { "Service " select #f-service { option value="" { "all" } } }
                label {
                    "Search "
                    input #f-text type="search" placeholder="path, function, message…";
                }
                span id="f-count" class="muted" {}
            }
            noscript {
                p {
                    "The findings table needs JavaScript; " code { "report.md" } " and "
                    code { "hotspots.csv" } " hold the same findings."
                }
            }
            div.table-wrap {
                table #findings-table {
                    thead {
                        tr {
                            @for (key, name, num) in columns {
                                th data-key=(key) class=[num.then_some("num")] { (name) }
                            }
                        }
                    }
                    tbody {}
                }
            }
        }
    }
}

pub fn write(report: &AuditReport, w: &mut dyn Write) -> std::io::Result<()> {
    let o = Overview::new(report);
    let name = o.project_name();
    let json = serde_json::to_string(&data(&o)).map_err(std::io::Error::other)?;
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy"
                    content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";
                title { "Performance audit: " (name) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { "Performance audit: " span.project { (name) } }
                    p.muted {
                        "perfaudit " (env!("CARGO_PKG_VERSION"))
                        " · static analysis: the code was read, never run · paths are relative to the audited root"
                    }
                }
                main {
                    (cards(&o))
                    section.charts {
                        figure {
                            figcaption { "Hotspots per service, by band" }
                            (band_chart(&o.per_service))
                        }
                        figure {
                            figcaption { "Worst request path per service (costs summed along one chain)" }
                            (cost_chart(&o.per_service))
                        }
                    }
                    section {
                        h2 { "Action items" }
                        (actions(&o))
                    }
                    (findings_table())
                    pre #selftest hidden {}
                }
                script type="application/json" id="perfaudit-data" { (PreEscaped(script_json(&json))) }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    w.write_all(page.into_string().as_bytes())?;
    w.write_all(b"\n")
}

/// The page's style sheet and script, kept as their own files so that they read (and diff) as
/// CSS and JavaScript.
const STYLE: &str = include_str!("html.css");

const SCRIPT: &str = include_str!("html.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rich_text_marks_code_spans() {
        assert_eq!(
            rich("use `a<b` now").into_string(),
            "use <code>a&lt;b</code> now"
        );
        assert_eq!(rich("odd ` tick <").into_string(), "odd ` tick &lt;");
        assert_eq!(
            rich("`</code><b>`").into_string(),
            "<code>&lt;/code&gt;&lt;b&gt;</code>"
        );
    }

    /// The page relies on maud escaping every interpolated value, in text and in
    /// (double-quoted) attribute values alike.
    #[test]
    fn interpolated_text_is_escaped() {
        let hostile = "</script><b a=\"x\">&'";
        assert_eq!(
            html! { span title=(hostile) { (hostile) } }.into_string(),
            "<span title=\"&lt;/script&gt;&lt;b a=&quot;x&quot;&gt;&amp;'\">\
             &lt;/script&gt;&lt;b a=&quot;x&quot;&gt;&amp;'</span>"
        );
        let text = svg_text(1.0, 2.0, "start", "label", "<svg onload=x>").into_string();
        assert_eq!(
            text,
            "<text x=\"1.0\" y=\"2.0\" text-anchor=\"start\" class=\"label\">\
             &lt;svg onload=x&gt;</text>"
        );
    }

    #[test]
    fn script_json_cannot_close_the_element() {
        let raw = serde_json::to_string(&"</script><!-- & -->").unwrap();
        let safe = script_json(&raw);
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "</script><!-- & -->");
    }
}
