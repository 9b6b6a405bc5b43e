//! The HTML report (`report.html`): one self-contained page — no network, no CDN, a content
//! security policy that forbids loading anything — with summary cards, two inline-SVG charts
//! (hotspots per service by band, estimated per-request cost per service), the top action
//! items, and a sortable, filterable findings table whose rows open onto the code excerpt, the
//! call chain and the cost basis.
//!
//! Audited code is hostile input here. Everything rendered on the server side goes through
//! `esc`; the table is built by the inline script from a JSON island whose `<`, `>` and `&` are
//! `\u003c`-escaped (so `</script>` in audited code cannot close the element), and the script
//! only ever assigns `textContent`.
//!
//! Opening the page with `#selftest` makes the script exercise its own table (row count, a band
//! filter, sorting, a detail row) and write the outcome into `<pre id="selftest">`, which a
//! headless browser can dump.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;

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

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Rule text (messages, help) with its Markdown code spans as `<code>`, everything escaped.
/// Text with an unmatched backtick is shown as written.
pub fn rich(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return esc(s);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", esc(p))
            } else {
                esc(p)
            }
        })
        .collect()
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
    reachable: bool,
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
                reachable: f.reachable,
                chain_short: chain_short(f),
                chain: f
                    .chain
                    .iter()
                    .map(|s| Step {
                        function: &s.function,
                        path: &s.path,
                        line: s.line,
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

fn card(out: &mut String, title: &str, value: &str, detail: &str) {
    let _ = write!(
        out,
        "<div class=\"card\"><div class=\"card-title\">{}</div><div class=\"card-value\">{}</div>\
         <div class=\"card-detail\">{}</div></div>",
        esc(title),
        esc(value),
        detail
    );
}

fn cards(o: &Overview) -> String {
    let r = o.report;
    let mut out = String::from("<section class=\"cards\" aria-label=\"Summary\">");
    let chips: String = Severity::ALL
        .iter()
        .zip(o.bands)
        .map(|(s, n)| {
            format!(
                "<span class=\"chip band-{}\">{n} {}</span>",
                s.as_str(),
                s.as_str()
            )
        })
        .collect();
    let s = &o.summary;
    let mut chips = chips;
    let mut others = Vec::new();
    if s.syntax > 0 {
        others.push(format!("{} about syntax", s.syntax));
    }
    if s.unreachable > 0 {
        others.push(format!("{} in unreachable code", s.unreachable));
    }
    if !others.is_empty() {
        let _ = write!(
            chips,
            "<div>the table also lists {} (not hotspots)</div>",
            esc(&others.join(" and "))
        );
    }
    card(&mut out, "Hotspots", &s.hotspots.to_string(), &chips);
    let (value, detail) = if o.recoverable.findings == 0 {
        (
            "none".to_owned(),
            "no critical or high hotspot on a request path".to_owned(),
        )
    } else {
        (
            o.recoverable.text(),
            format!(
                "by fixing the {} critical and high hotspots on request paths",
                o.recoverable.findings
            ),
        )
    };
    card(
        &mut out,
        "Latency recoverable per request",
        &value,
        &esc(&detail),
    );
    card(
        &mut out,
        "Memory at stake",
        &super::overview::mb_text(o.memory_mb),
        "sum of the memory estimates of reachable findings",
    );
    card(
        &mut out,
        "Modules scanned",
        &r.files_scanned.to_string(),
        &esc(&format!(
            "{} lines · {} did not parse{}",
            super::overview::thousands(r.lines),
            r.files_unparsable,
            if s.files_failed > 0 {
                format!(
                    " · {} could not be analysed (internal error)",
                    s.files_failed
                )
            } else {
                String::new()
            }
        )),
    );
    let (value, detail) = if o.services.is_empty() {
        (
            "not determined".to_owned(),
            "no finding could be attributed to a service".to_owned(),
        )
    } else {
        (o.services.len().to_string(), o.services.join(", "))
    };
    card(&mut out, "Services", &value, &esc(&detail));
    out.push_str("</section>");
    out
}

fn svg_text(x: f64, y: f64, anchor: &str, class: &str, text: &str) -> String {
    format!(
        "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" class=\"{class}\">{}</text>",
        esc(text)
    )
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

/// Hotspots per service, one stacked bar per service with a segment per band.
fn band_chart(services: &[ServiceStats]) -> String {
    let plot_w = CHART_W - LABEL_W - 50.0;
    let h = TOP + ROW_H * services.len().max(1) as f64 + 10.0;
    let mut out = format!(
        "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 {CHART_W} {h}\" width=\"{CHART_W}\" \
         height=\"{h}\" xmlns=\"http://www.w3.org/2000/svg\"><title>Hotspots per service by band</title>"
    );
    let mut x = LABEL_W;
    for (s, colour) in Severity::ALL.iter().zip(BAND_COLOURS) {
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"8\" width=\"12\" height=\"12\" rx=\"2\" fill=\"{colour}\"/>"
        );
        out.push_str(&svg_text(x + 16.0, 18.5, "start", "legend", s.as_str()));
        x += 72.0;
    }
    if services.is_empty() {
        out.push_str(&svg_text(
            LABEL_W,
            TOP + 17.0,
            "start",
            "muted",
            "No hotspots",
        ));
        out.push_str("</svg>");
        return out;
    }
    let max = services
        .iter()
        .map(ServiceStats::hotspots)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    for (i, s) in services.iter().enumerate() {
        let y = TOP + ROW_H * i as f64;
        out.push_str(&svg_text(
            LABEL_W - 8.0,
            y + 16.0,
            "end",
            "label",
            &label(&s.name),
        ));
        let mut x = LABEL_W;
        for ((band, colour), n) in Severity::ALL.iter().zip(BAND_COLOURS).zip(s.bands) {
            if n == 0 {
                continue;
            }
            let w = plot_w * n as f64 / max;
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{colour}\">\
                 <title>{}: {n} {}</title></rect>",
                y + 4.0,
                ROW_H - 8.0,
                esc(&s.name),
                band.as_str()
            );
            x += w;
        }
        out.push_str(&svg_text(
            x + 6.0,
            y + 16.0,
            "start",
            "value",
            &s.hotspots().to_string(),
        ));
    }
    out.push_str("</svg>");
    out
}

/// Estimated per-request cost per service on a log scale (costs span microseconds to minutes):
/// a bar up to the low end and a lighter extension to the high end.
fn cost_chart(services: &[ServiceStats]) -> String {
    let costed: Vec<&ServiceStats> = services
        .iter()
        .filter(|s| s.per_request.findings > 0 && s.per_request.high_ms > 0.0)
        .collect();
    let plot_w = CHART_W - LABEL_W - 90.0;
    let h = TOP + ROW_H * costed.len().max(1) as f64 + 24.0;
    let mut out = format!(
        "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 {CHART_W} {h}\" width=\"{CHART_W}\" \
         height=\"{h}\" xmlns=\"http://www.w3.org/2000/svg\"><title>Estimated per-request cost per service</title>"
    );
    if costed.is_empty() {
        out.push_str(&svg_text(
            LABEL_W,
            TOP + 17.0,
            "start",
            "muted",
            "No per-request cost estimated",
        ));
        out.push_str("</svg>");
        return out;
    }
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
    let mut e = min_exp;
    while e <= max_exp {
        let x = LABEL_W + scale(10f64.powf(e));
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{axis_y:.1}\" class=\"grid\"/>",
            TOP - 4.0
        );
        out.push_str(&svg_text(
            x,
            axis_y + 14.0,
            "middle",
            "tick",
            &super::overview::ms_text(10f64.powf(e)),
        ));
        e += 1.0;
    }
    out.push_str(&svg_text(
        LABEL_W,
        20.0,
        "start",
        "legend",
        "log scale · solid to the low end, light to the high end",
    ));
    for (i, s) in costed.iter().enumerate() {
        let y = TOP + ROW_H * i as f64;
        out.push_str(&svg_text(
            LABEL_W - 8.0,
            y + 16.0,
            "end",
            "label",
            &label(&s.name),
        ));
        let low = scale(s.per_request.low_ms);
        let high = scale(s.per_request.high_ms).max(low + 2.0);
        let worst = s.bands.iter().position(|&n| n > 0).unwrap_or(4);
        let colour = BAND_COLOURS[worst];
        let _ = write!(
            out,
            "<rect x=\"{LABEL_W:.1}\" y=\"{:.1}\" width=\"{high:.1}\" height=\"{:.1}\" fill=\"{colour}\" \
             fill-opacity=\"0.3\"/><rect x=\"{LABEL_W:.1}\" y=\"{:.1}\" width=\"{low:.1}\" height=\"{:.1}\" \
             fill=\"{colour}\"><title>{}: {}</title></rect>",
            y + 4.0,
            ROW_H - 8.0,
            y + 4.0,
            ROW_H - 8.0,
            esc(&s.name),
            esc(&s.per_request.text())
        );
        out.push_str(&svg_text(
            LABEL_W + high + 6.0,
            y + 16.0,
            "start",
            "value",
            &s.per_request.text(),
        ));
    }
    out.push_str("</svg>");
    out
}

fn actions(o: &Overview) -> String {
    if o.actions.is_empty() {
        return "<p class=\"muted\">Nothing to fix.</p>".to_owned();
    }
    let mut out = String::from("<ol class=\"actions\">");
    for a in o.actions.iter().take(MAX_ACTIONS) {
        let saving = if a.saving.findings > 0 {
            format!("saves ~{}", a.saving.text())
        } else if a.memory_mb > 0.0 {
            format!("frees ~{}", super::overview::mb_text(a.memory_mb))
        } else {
            "no cost estimate".to_owned()
        };
        let root = if a.root.is_empty() {
            String::new()
        } else {
            format!(": <code>{}</code>", esc(a.root))
        };
        let places: Vec<String> = a
            .findings
            .iter()
            .take(5)
            .map(|f| format!("<code>{}</code>", esc(&format!("{}:{}", f.path, f.line))))
            .collect();
        let more = if a.findings.len() > 5 {
            format!(" and {} more", a.findings.len() - 5)
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<li><div class=\"action-head\"><span class=\"badge band-{}\">{}</span> <strong>{} {}</strong>{root} \
             <span class=\"muted\">— {}</span></div><div>{}</div><div class=\"muted\">{} {}: {}{more}</div></li>",
            a.severity.as_str(),
            a.severity.as_str(),
            esc(a.code),
            esc(a.name),
            esc(&saving),
            a.fixes
                .iter()
                .map(|f| rich(f))
                .collect::<Vec<_>>()
                .join("<br>"),
            a.findings.len(),
            if a.findings.len() == 1 {
                "place"
            } else {
                "places"
            },
            places.join(", ")
        );
    }
    out.push_str("</ol>");
    if o.actions.len() > MAX_ACTIONS {
        let _ = write!(
            out,
            "<p class=\"muted\">{} more in <code>report.md</code>.</p>",
            o.actions.len() - MAX_ACTIONS
        );
    }
    out
}

pub fn write(report: &AuditReport, w: &mut dyn Write) -> std::io::Result<()> {
    let o = Overview::new(report);
    let name = o.project_name();
    let json = serde_json::to_string(&data(&o)).map_err(std::io::Error::other)?;
    let page = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>Performance audit: {title}</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>Performance audit: <span class="project">{title}</span></h1>
<p class="muted">perfaudit {version} · static analysis: the code was read, never run · paths are relative to the audited root</p>
</header>
<main>
{cards}
<section class="charts">
<figure><figcaption>Hotspots per service, by band</figcaption>{band_chart}</figure>
<figure><figcaption>Estimated per-request cost per service</figcaption>{cost_chart}</figure>
</section>
<section>
<h2>Action items</h2>
{actions}
</section>
<section id="findings">
<h2>Findings</h2>
<div class="filters">
<label>Band <select id="f-band"><option value="">all</option></select></label>
<label>Rule <select id="f-rule"><option value="">all</option></select></label>
<label>Service <select id="f-service"><option value="">all</option></select></label>
<label>Search <input id="f-text" type="search" placeholder="path, function, message…"></label>
<span id="f-count" class="muted"></span>
</div>
<noscript><p>The findings table needs JavaScript; <code>report.md</code> and <code>hotspots.csv</code> hold the same findings.</p></noscript>
<div class="table-wrap">
<table id="findings-table">
<thead><tr>
<th data-key="rank" class="num">#</th>
<th data-key="severity">Band</th>
<th data-key="code">Rule</th>
<th data-key="services">Service</th>
<th data-key="path">Location</th>
<th data-key="function">Function</th>
<th data-key="cost" class="num">Cost</th>
<th data-key="confidence">Confidence</th>
<th data-key="message">Finding</th>
</tr></thead>
<tbody></tbody>
</table>
</div>
</section>
<pre id="selftest" hidden></pre>
</main>
<script type="application/json" id="perfaudit-data">{json}</script>
<script>{SCRIPT}</script>
</body>
</html>
"#,
        title = esc(&name),
        version = env!("CARGO_PKG_VERSION"),
        cards = cards(&o),
        band_chart = band_chart(&o.per_service),
        cost_chart = cost_chart(&o.per_service),
        actions = actions(&o),
        json = script_json(&json),
    );
    w.write_all(page.as_bytes())
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
        assert_eq!(rich("use `a<b` now"), "use <code>a&lt;b</code> now");
        assert_eq!(rich("odd ` tick <"), "odd ` tick &lt;");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("</script><b a=\"x\">&'"),
            "&lt;/script&gt;&lt;b a=&quot;x&quot;&gt;&amp;&#39;"
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
