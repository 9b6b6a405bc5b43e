//! The Markdown report (`report.md`): what an auditor hands over. An executive summary with the
//! few numbers that matter, the hotspot ranking per band, one section per concern (memory, CPU,
//! pooling, caching), action items grouped by root cause, a per-service table, and, apart, the
//! files that did not parse and the findings in code that no service runs.
//!
//! Audited code reaches the text (function names, call text in messages), so every value goes
//! through `code` or `prose`: table pipes and line breaks are escaped, and angle brackets outside
//! code spans are entities, so a `<module>` or a `<script>` in a message shows as written.

use std::io::Write;

use super::files::ARTEFACTS;
use super::leaks::is_leak_candidate;
use super::overview::{
    ActionItem, Overview, UNATTRIBUTED, category, chain_short, cost_text, services_of, thousands,
};
use crate::audit::AuditReport;
use crate::finding::{Finding, Severity};
use crate::rules::Category;

mod apart;
use apart::{broken_files, not_run, worst_paths};

/// How many places an action item lists before pointing at the CSV for the rest.
const MAX_PLACES: usize = 20;

/// Where a value is written: table cells need `|` escaped, prose does not.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Table,
    Prose,
}

/// An inline code span holding `s` verbatim: the fence is longer than any backtick run inside.
fn code(s: &str, ctx: Ctx) -> String {
    let s = one_line(s);
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    let body = if ctx == Ctx::Table {
        s.replace('|', "\\|")
    } else {
        s
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

fn one_line(s: &str) -> String {
    s.replace("\r\n", " ").replace(['\r', '\n'], " ")
}

/// Text that may hold code spans (rule messages and help): the spans are kept, and outside them
/// `<`, `>` and `&` become entities so that nothing renders as HTML.
fn prose(s: &str, ctx: Ctx) -> String {
    let s = one_line(s);
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            let run = chars[i..].iter().take_while(|&&c| c == '`').count();
            if let Some(close) = closing_run(&chars, i + run, run) {
                for &c in &chars[i..close + run] {
                    push_escaped_pipe(&mut out, c, ctx);
                }
                i = close + run;
                continue;
            }
            // An unmatched backtick is literal text.
            out.push_str(&"\\`".repeat(run));
            i += run;
            continue;
        }
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            _ => push_escaped_pipe(&mut out, c, ctx),
        }
        i += 1;
    }
    out
}

fn push_escaped_pipe(out: &mut String, c: char, ctx: Ctx) {
    if c == '|' && ctx == Ctx::Table {
        out.push_str("\\|");
    } else {
        out.push(c);
    }
}

/// The start of the next run of exactly `len` backticks at or after `from`.
fn closing_run(chars: &[char], from: usize, len: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == '`' {
            let run = chars[i..].iter().take_while(|&&c| c == '`').count();
            if run == len {
                return Some(i);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn mb(x: f64) -> String {
    super::overview::mb_text(x)
}

/// Where a finding is, with the near-identical copies of its module that it stands for.
fn location(f: &Finding) -> String {
    let here = code(&format!("{}:{}", f.path, f.line), Ctx::Table);
    if f.copies.is_empty() {
        return here;
    }
    let copies: Vec<String> = f
        .copies
        .iter()
        .map(|c| code(&super::overview::copy_text(c), Ctx::Table))
        .collect();
    format!("{here} (copies: {})", copies.join(", "))
}

fn band_title(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

fn services_cell(f: &Finding) -> String {
    if f.agents.is_empty() {
        "—".to_owned()
    } else {
        f.agents
            .iter()
            .map(|a| prose(a, Ctx::Table))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn confidence(f: &Finding) -> &'static str {
    match f.confidence {
        crate::finding::Confidence::Possible => "possible",
        crate::finding::Confidence::Probable => "probable",
        crate::finding::Confidence::Definite => "definite",
    }
}

fn cost_cell(f: &Finding) -> String {
    match &f.estimate {
        Some(_) => format!("{} ({})", cost_text(f), prose(&f.context, Ctx::Table)),
        None => "—".to_owned(),
    }
}

/// The table used by the concern sections: enough to find the place and judge it.
fn finding_table(w: &mut dyn Write, o: &Overview, findings: &[&Finding]) -> std::io::Result<()> {
    writeln!(
        w,
        "| Rank | Location | Function | Rule | Severity | Cost | Finding |"
    )?;
    writeln!(w, "|---:|---|---|---|---|---|---|")?;
    for f in findings {
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} |",
            o.rank_of(f),
            location(f),
            code(&f.function, Ctx::Table),
            code(f.code, Ctx::Table),
            f.severity.as_str(),
            cost_cell(f),
            prose(&f.message, Ctx::Table)
        )?;
    }
    writeln!(w)
}

fn section(
    w: &mut dyn Write,
    o: &Overview,
    title: &str,
    intro: &str,
    findings: &[&Finding],
    none: &str,
) -> std::io::Result<()> {
    writeln!(w, "{title}\n\n{intro}\n")?;
    if findings.is_empty() {
        writeln!(w, "{none}\n")
    } else {
        finding_table(w, o, findings)
    }
}

fn in_category<'a>(o: &Overview<'a>, cat: Category) -> Vec<&'a Finding> {
    o.hotspots()
        .filter(|f| category(f.code) == Some(cat))
        .collect()
}

fn executive_summary(w: &mut dyn Write, o: &Overview) -> std::io::Result<()> {
    let r = o.report;
    writeln!(w, "## Executive summary\n")?;
    let unparsable = if r.files_unparsable == 0 {
        "all parsed".to_owned()
    } else {
        format!(
            "{} did not parse (analysed on the parser's recovered tree; see \
             [Files that did not parse](#files-that-did-not-parse))",
            r.files_unparsable
        )
    };
    writeln!(
        w,
        "- **Modules scanned:** {} ({} lines); {unparsable}.",
        thousands(r.files_scanned as u64),
        thousands(r.lines)
    )?;
    if o.services.is_empty() {
        writeln!(
            w,
            "- **Services found:** not determined ({}).",
            prose(
                r.services_note
                    .as_deref()
                    .unwrap_or("no finding was attributed to a service"),
                Ctx::Prose
            )
        )?;
    } else {
        let names: Vec<String> = o.services.iter().map(|s| code(s, Ctx::Prose)).collect();
        writeln!(
            w,
            "- **Services found:** {}: {}.",
            o.services.len(),
            names.join(", ")
        )?;
    }
    writeln!(
        w,
        "- **Hotspots:** {} ({}).",
        o.summary.hotspots,
        o.summary.bands_text()
    )?;
    if let (false, Some(note)) = (o.services.is_empty(), &r.services_note) {
        writeln!(w, "  {}.", prose(note, Ctx::Prose))?;
    }
    for c in &r.conflicts {
        writeln!(
            w,
            "- **Service conflict:** {}.",
            prose(&super::overview::conflict_text(c), Ctx::Prose)
        )?;
    }
    let not_run = o.summary.not_run;
    if not_run > 0 {
        writeln!(
            w,
            "  Left out: {} in code that no service runs ({}), listed \
             [apart](#not-run-by-any-service).",
            plural(not_run, "finding", "findings"),
            o.summary.not_run_text()
        )?;
    }
    if o.summary.copies > 0 {
        writeln!(
            w,
            "  Grouped: {} in near-identical copies of a module, listed under the copy a \
             service runs.",
            plural(o.summary.copies, "finding", "findings")
        )?;
    }
    if o.summary.files_failed > 0 {
        writeln!(
            w,
            "- **Incomplete:** {} could not be analysed (an internal error, a perfaudit bug); \
             see [Files not analysed](#files-not-analysed).",
            plural(o.summary.files_failed, "file", "files")
        )?;
    }
    let paths = super::paths::worst_paths(r.findings.iter());
    match paths.first() {
        None => writeln!(
            w,
            "- **Worst request path:** none estimated (no hotspot paid once per request has an \
             estimate)."
        )?,
        Some(p) => writeln!(
            w,
            "- **Worst request path:** ~{} in {} ({}), {} on one chain: {}.",
            p.cost.text(),
            code(p.entry, Ctx::Prose),
            code(p.path, Ctx::Prose),
            plural(p.findings.len(), "finding", "findings"),
            prose(&super::paths::steps_text(p), Ctx::Prose)
        )?,
    }
    if o.memory_mb > 0.0 {
        writeln!(w, "- **Memory at stake:** {}.", mb(o.memory_mb))?;
    } else {
        writeln!(
            w,
            "- **Memory at stake:** 0 MB (no finding estimates a memory footprint)."
        )?;
    }
    writeln!(w)?;
    let top: Vec<&Finding> = o.hotspots().take(3).collect();
    if !top.is_empty() {
        writeln!(w, "The worst hotspots:\n")?;
        for (i, f) in top.iter().enumerate() {
            writeln!(
                w,
                "{}. **{}**, ~{} per execution, at {} ({}): {}.",
                i + 1,
                f.severity.as_str(),
                cost_text(f),
                code(&format!("{}:{}", f.path, f.line), Ctx::Prose),
                code(f.code, Ctx::Prose),
                prose(&f.message, Ctx::Prose),
            )?;
        }
        writeln!(w)?;
    }
    writeln!(
        w,
        "*How these numbers are computed.* Each estimate is the cost of one execution of the \
         finding's path: the catalog's latency range for the call (or the literal duration it is \
         given), times a default repetition for each enclosing loop. The worst request path of an \
         entry point sums the estimates of the hotspots paid once per request on one chain from \
         that entry (each finding once); costs on different paths are never added, since no \
         request takes them together. Memory at stake is the sum of the memory estimates of \
         the hotspots. Nothing was executed: these \
         are static estimates.\n"
    )
}

fn ranking(w: &mut dyn Write, o: &Overview) -> std::io::Result<()> {
    writeln!(w, "## Hotspot ranking\n")?;
    writeln!(
        w,
        "Reachable hotspots, worst first; ranks are those of `hotspots.csv`. Bands are for one \
         execution: **critical** over 1 s, **high** 100 ms–1 s, **medium** 10–100 ms, **low** \
         under 10 ms, **info** off the request path (startup, background).\n"
    )?;
    if o.hotspots == 0 {
        return writeln!(w, "No reachable hotspots.\n");
    }
    for band in Severity::ALL {
        let findings: Vec<&Finding> = o.hotspots().filter(|f| f.severity == band).collect();
        if findings.is_empty() {
            continue;
        }
        writeln!(w, "### {} ({})\n", band_title(band), findings.len())?;
        writeln!(
            w,
            "| Rank | Service | Location | Function | Rule | Cost per execution | Chain | Confidence |"
        )?;
        writeln!(w, "|---:|---|---|---|---|---|---|---|")?;
        for f in findings {
            writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                o.rank_of(f),
                services_cell(f),
                location(f),
                code(&f.function, Ctx::Table),
                code(&format!("{} {}", f.code, f.name), Ctx::Table),
                cost_cell(f),
                match chain_short(f).as_str() {
                    "" => "—".to_owned(),
                    chain => prose(chain, Ctx::Table),
                },
                confidence(f)
            )?;
        }
        writeln!(w)?;
    }
    Ok(())
}

fn memory(w: &mut dyn Write, o: &Overview) -> std::io::Result<()> {
    writeln!(w, "## Memory\n")?;
    writeln!(
        w,
        "Findings of the models and memory rules: what grows without bound, what stays \
         resident, and model loads paid on the request path.\n"
    )?;
    let all = in_category(o, Category::Models);
    let footprint_code = |f: &Finding| f.code == "PA203";
    let leaks: Vec<&Finding> = all
        .iter()
        .copied()
        .filter(|f| is_leak_candidate(f) && !footprint_code(f))
        .collect();
    let footprint: Vec<&Finding> = all
        .iter()
        .copied()
        .filter(|f| footprint_code(f) || (!is_leak_candidate(f) && f.memory_mb.is_some()))
        .collect();
    let loads: Vec<&Finding> = all
        .iter()
        .copied()
        .filter(|f| !is_leak_candidate(f) && f.memory_mb.is_none())
        .collect();

    writeln!(w, "### Leak risks\n")?;
    writeln!(
        w,
        "Caches, memos and resources that grow with traffic or are never released; \
         `memory_leak_candidates.json` has them with their chains.\n"
    )?;
    if leaks.is_empty() {
        writeln!(w, "No leak risk found.\n")?;
    } else {
        writeln!(
            w,
            "| Rank | Location | Function | Rule | Severity | What grows | Memory | Why no eviction was found |"
        )?;
        writeln!(w, "|---:|---|---|---|---|---|---|---|")?;
        for f in &leaks {
            writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                o.rank_of(f),
                location(f),
                code(&f.function, Ctx::Table),
                code(f.code, Ctx::Table),
                f.severity.as_str(),
                if f.snippet.is_empty() {
                    "—".to_owned()
                } else {
                    code(&f.snippet, Ctx::Table)
                },
                f.memory_mb.map_or_else(|| "—".to_owned(), mb),
                prose(&f.message, Ctx::Table)
            )?;
        }
        writeln!(w)?;
    }

    writeln!(w, "### Resident footprint\n")?;
    if footprint.is_empty() {
        writeln!(w, "No resident footprint estimated.\n")?;
    } else {
        let total: f64 = footprint.iter().filter_map(|f| f.memory_mb).sum();
        writeln!(
            w,
            "Models and data held for the life of the process: {} in total.\n",
            mb(super::overview::tidy(total))
        )?;
        writeln!(
            w,
            "| Rank | Location | Function | Rule | Severity | Footprint | Finding |"
        )?;
        writeln!(w, "|---:|---|---|---|---|---|---|")?;
        for f in &footprint {
            writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} | {} |",
                o.rank_of(f),
                location(f),
                code(&f.function, Ctx::Table),
                code(f.code, Ctx::Table),
                f.severity.as_str(),
                f.memory_mb.map_or_else(|| "—".to_owned(), mb),
                prose(&f.message, Ctx::Table)
            )?;
        }
        writeln!(w)?;
    }

    writeln!(w, "### Model loading\n")?;
    if loads.is_empty() {
        writeln!(w, "No model load on a request path.\n")
    } else {
        finding_table(w, o, &loads)
    }
}

fn cpu(w: &mut dyn Write, o: &Overview) -> std::io::Result<()> {
    writeln!(w, "## CPU\n")?;
    section(
        w,
        o,
        "### Computation on the request path",
        "Work the interpreter repeats per request that a better data structure, a precompiled \
         pattern or a hoisted import removes.",
        &in_category(o, Category::Cpu),
        "No CPU hotspot found.",
    )?;
    section(
        w,
        o,
        "### Async opportunities",
        "Blocking calls that hold the event loop (or a single-threaded request loop): every \
         concurrent request waits for them. Awaiting an async client or offloading the call to \
         a worker thread frees the loop.",
        &in_category(o, Category::Blocking),
        "No blocking call on an event loop found.",
    )
}

fn action_items(w: &mut dyn Write, o: &Overview) -> std::io::Result<()> {
    writeln!(w, "## Action items\n")?;
    if o.actions.is_empty() {
        return writeln!(w, "Nothing to fix.\n");
    }
    writeln!(
        w,
        "Grouped by root cause (the same rule on the same call), most severe first, then by the \
         latency the fix saves: the sum of the estimates of its places on request paths, one \
         execution each.\n"
    )?;
    for (i, a) in o.actions.iter().enumerate() {
        action_item(w, i + 1, a)?;
    }
    Ok(())
}

fn action_item(w: &mut dyn Write, n: usize, a: &ActionItem) -> std::io::Result<()> {
    let what = if a.root.is_empty() {
        String::new()
    } else {
        format!(": {}", code(a.root, Ctx::Prose))
    };
    let saving = if a.saving.findings > 0 {
        format!("saves ~{}", a.saving.text())
    } else if a.memory_mb > 0.0 {
        format!("frees ~{}", mb(a.memory_mb))
    } else {
        "no cost estimate".to_owned()
    };
    writeln!(w, "### {n}. {} {}{what} — {saving}\n", a.code, a.name)?;
    let mut services: Vec<&str> = a.findings.iter().flat_map(|f| services_of(f)).collect();
    services.sort_unstable();
    services.dedup();
    let services: Vec<String> = services
        .into_iter()
        .filter(|s| *s != UNATTRIBUTED)
        .map(|s| code(s, Ctx::Prose))
        .collect();
    let services = if services.is_empty() {
        String::new()
    } else {
        format!(" · services: {}", services.join(", "))
    };
    writeln!(
        w,
        "{} · {}{services}\n",
        band_title(a.severity),
        plural(a.findings.len(), "place", "places")
    )?;
    for fix in &a.fixes {
        writeln!(w, "**Fix:** {}\n", prose(fix, Ctx::Prose))?;
    }
    writeln!(w, "Applies to:\n")?;
    for f in a.findings.iter().take(MAX_PLACES) {
        writeln!(
            w,
            "- {} in {} — {}",
            code(&format!("{}:{}", f.path, f.line), Ctx::Prose),
            code(&f.function, Ctx::Prose),
            match &f.estimate {
                Some(_) => format!("{}, ~{} ({})", f.severity.as_str(), cost_text(f), f.context),
                None => f.severity.as_str().to_owned(),
            }
        )?;
    }
    if a.findings.len() > MAX_PLACES {
        writeln!(
            w,
            "- … and {} more (see `hotspots.csv`)",
            a.findings.len() - MAX_PLACES
        )?;
    }
    writeln!(w)
}

fn services(w: &mut dyn Write, o: &Overview) -> std::io::Result<()> {
    writeln!(w, "## Services\n")?;
    if o.services.is_empty() {
        writeln!(
            w,
            "Services were not determined for this audit: every hotspot is counted as {}.\n",
            code(UNATTRIBUTED, Ctx::Prose)
        )?;
    }
    if o.per_service.is_empty() {
        return writeln!(w, "No hotspots.\n");
    }
    writeln!(
        w,
        "| Service | Entry | Hotspots | Critical | High | Medium | Low | Info | Worst request path | Memory |"
    )?;
    writeln!(w, "|---|---|---:|---:|---:|---:|---:|---:|---|---:|")?;
    for s in &o.per_service {
        let [c, h, m, l, i] = s.bands;
        let entry = o
            .report
            .services
            .iter()
            .find(|info| info.name == s.name)
            .map_or_else(|| "—".to_owned(), |info| code(&info.entry, Ctx::Table));
        writeln!(
            w,
            "| {} | {entry} | {} | {c} | {h} | {m} | {l} | {i} | {} | {} |",
            code(&s.name, Ctx::Table),
            s.hotspots(),
            if s.per_request.findings > 0 {
                s.per_request.text()
            } else {
                "—".to_owned()
            },
            if s.memory_mb > 0.0 {
                mb(s.memory_mb)
            } else {
                "—".to_owned()
            }
        )?;
    }
    writeln!(
        w,
        "\nWorst request path is the service's costliest single chain from one entry point (its \
         hotspots paid once per request, summed along that chain). A hotspot in shared code \
         counts for every service that reaches it.\n"
    )
}

fn notes(w: &mut dyn Write, o: &Overview) -> std::io::Result<()> {
    if o.report.diagnostics.is_empty() {
        return Ok(());
    }
    writeln!(w, "## Files not analysed\n")?;
    for d in &o.report.diagnostics {
        writeln!(
            w,
            "- {}: {}",
            code(&d.path, Ctx::Prose),
            prose(&d.message, Ctx::Prose)
        )?;
    }
    writeln!(w)
}

fn artefacts(w: &mut dyn Write) -> std::io::Result<()> {
    writeln!(w, "## Artefacts\n")?;
    writeln!(
        w,
        "`perfaudit audit --output-dir DIR` writes these files side by side:\n"
    )?;
    writeln!(w, "| File | Contents |")?;
    writeln!(w, "|---|---|")?;
    for a in ARTEFACTS {
        writeln!(w, "| [`{}`]({}) | {} |", a.file, a.file, a.purpose)?;
    }
    Ok(())
}

pub fn write(report: &AuditReport, w: &mut dyn Write) -> std::io::Result<()> {
    let o = Overview::new(report);
    writeln!(
        w,
        "# Performance audit: {}\n",
        prose(&o.project_name(), Ctx::Prose)
    )?;
    writeln!(
        w,
        "Static performance audit by perfaudit {}. The code was read, never run; paths are \
         relative to the audited root.\n",
        env!("CARGO_PKG_VERSION")
    )?;
    executive_summary(w, &o)?;
    ranking(w, &o)?;
    memory(w, &o)?;
    cpu(w, &o)?;
    section(
        w,
        &o,
        "## Resource pooling",
        "Clients, sessions, pools and connections created per request instead of once per \
         process: each pays a fresh connect or thread start.",
        &in_category(&o, Category::Pooling),
        "No pooling issue found.",
    )?;
    section(
        w,
        &o,
        "## Caching",
        "Work repeated on every request whose result could be computed once and kept.",
        &in_category(&o, Category::Caching),
        "No caching opportunity found.",
    )?;
    action_items(w, &o)?;
    worst_paths(w, &o)?;
    services(w, &o)?;
    broken_files(w, &o)?;
    not_run(w, &o)?;
    notes(w, &o)?;
    artefacts(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("a|b", Ctx::Table), "`a\\|b`");
        assert_eq!(code("a`b", Ctx::Prose), "``a`b``");
        assert_eq!(code("`x`", Ctx::Prose), "`` `x` ``");
        assert_eq!(code("a\nb", Ctx::Prose), "`a b`");
    }

    #[test]
    fn prose_escapes_html_outside_code_spans() {
        assert_eq!(
            prose("`<module>` in <script> & a|b", Ctx::Table),
            "`<module>` in &lt;script&gt; &amp; a\\|b"
        );
        assert_eq!(prose("odd ` tick", Ctx::Prose), "odd \\` tick");
        assert_eq!(prose("line\nbreak", Ctx::Prose), "line break");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(1269), "1,269");
        assert_eq!(thousands(12), "12");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(mb(2.5), "2.5 MB");
        assert_eq!(mb(512.0), "512 MB");
        assert_eq!(mb(6144.0), "6 GB");
    }
}
