//! The Markdown report's sections apart from the audit proper: the worst request path per
//! entry point, the files that did not parse and the findings in code that no service runs.

use std::io::Write;

use super::{Ctx, code, finding_table, plural, prose};
use crate::finding::Finding;
use crate::report::overview::{Overview, is_broken_file};

pub(super) fn broken_files(w: &mut dyn Write, o: &Overview) -> std::io::Result<()> {
    writeln!(w, "## Files that did not parse\n")?;
    let broken: Vec<&Finding> = o
        .report
        .findings
        .iter()
        .filter(|f| is_broken_file(f))
        .collect();
    if broken.is_empty() {
        if o.report.files_unparsable == 0 {
            return writeln!(w, "Every module parsed.\n");
        }
        return writeln!(
            w,
            "{} did not parse (the syntax rule was not enabled, so they are not listed).\n",
            plural(o.report.files_unparsable, "module", "modules")
        );
    }
    writeln!(
        w,
        "Python cannot import these modules. They were still analysed on the parser's \
         recovered tree, but findings near the broken lines may be missing.\n"
    )?;
    for f in broken {
        writeln!(
            w,
            "- {}: {}",
            code(&format!("{}:{}:{}", f.path, f.line, f.column), Ctx::Prose),
            prose(&f.message, Ctx::Prose)
        )?;
    }
    writeln!(w)
}

pub(super) fn not_run(w: &mut dyn Write, o: &Overview) -> std::io::Result<()> {
    writeln!(w, "## Not run by any service\n")?;
    let findings: Vec<&Finding> = o
        .ranked
        .iter()
        .copied()
        .filter(|f| f.not_run.is_some() && !is_broken_file(f))
        .collect();
    if findings.is_empty() {
        return writeln!(w, "None: a service runs the code of every finding.\n");
    }
    writeln!(
        w,
        "Costly code that no service runs: {}. Not counted in the numbers above, never a reason \
         to fail a run.\n",
        o.summary.not_run_text()
    )?;
    finding_table(w, o, &findings)
}

pub(super) fn worst_paths(w: &mut dyn Write, o: &Overview) -> std::io::Result<()> {
    writeln!(w, "## Worst request path per entry point\n")?;
    let paths = crate::report::paths::worst_paths(o.report.findings.iter());
    if paths.is_empty() {
        return writeln!(w, "No hotspot paid once per request has an estimate.\n");
    }
    writeln!(
        w,
        "What one request can pay: per entry point, the estimates of the hotspots paid once per \
         request on one chain from it, each counted once.\n"
    )?;
    writeln!(w, "| Entry | Module | Cost | Findings | Path |")?;
    writeln!(w, "|---|---|---|---:|---|")?;
    for p in &paths {
        writeln!(
            w,
            "| {} | {} | {} | {} | {} |",
            code(p.entry, Ctx::Table),
            code(p.path, Ctx::Table),
            p.cost.text(),
            p.findings.len(),
            prose(&crate::report::paths::steps_text(p), Ctx::Table)
        )?;
    }
    writeln!(w)
}
