//! PA002 unused-suppression: a `# perfaudit: ignore`, `# perfaudit: ignore-file` or
//! `# noqa: PA...` comment that silenced nothing. It judges the other rules' output, so it cannot run beside them: the audit calls
//! `report` once suppressions have been applied, and the rule's own `check` has nothing to do.
//! Off unless selected by its exact code, because a stale comment costs nothing at run time.

use super::{Category, Rule, RuleContext, RuleMeta, find_rule};
use crate::facts::{FnKind, ModuleFacts};
use crate::finding::{Confidence, Finding, Severity};
use crate::rules::cost::CostMeta;
use crate::suppress::{SuppressionKind, Usage};

pub struct UnusedSuppression;

pub const CODE: &str = "PA002";

static META: RuleMeta = RuleMeta {
    code: "PA002",
    name: "unused-suppression",
    category: Category::Syntax,
    default_severity: Severity::Low,
    summary: "Suppression comment that silences nothing (off unless selected as `PA002`)",
    cost: CostMeta::band(
        "A suppression comment that silences nothing is reported as information about the code itself.",
    ),
    doc: r#"## What it does
Reports a `# perfaudit: ignore[...]`, `# perfaudit: ignore-file[...]` or `# noqa: PA...` comment
that silenced no finding in this run (on its line, or anywhere in the module for `ignore-file`),
naming the codes that were not needed. A code whose rule is not enabled in the run is not
judged; an unknown code always is. A bare `# perfaudit: ignore` is judged against the rules
that ran, so add PA002 to the usual selection rather than running it alone. A bare `# noqa` is
never reported, since other linters share it.

It runs only when selected by its exact code (`--select PA002` or `extend-select = ["PA002"]`);
`ALL` and prefixes do not turn it on.

## Why is this slow?
It is not slow. A stale suppression hides the next real hotspot written on that line, so
removing it keeps the audit honest.

## Example
```python
import asyncio

async def handle(request):
    await asyncio.sleep(0.5)  # perfaudit: ignore
```

## Use instead
```python
import asyncio

async def handle(request):
    await asyncio.sleep(0.5)
```
"#,
};

impl Rule for UnusedSuppression {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    /// Nothing to do here: the findings come from `report`, after suppressions are applied.
    fn check(&self, _cx: &RuleContext, _out: &mut Vec<Finding>) {}
}

/// One finding per suppression comment that silenced nothing it names.
pub fn report(
    modules: &[ModuleFacts],
    used: &Usage,
    enabled: &dyn Fn(&str) -> bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (m, used_m) in modules.iter().zip(used) {
        for (s, slots) in m.suppressions.iter().zip(used_m) {
            let unused: Vec<&str> = if s.codes.is_empty() {
                // A bare `# noqa` may well be meant for another linter.
                if s.kind == SuppressionKind::Noqa || slots[0] {
                    continue;
                }
                Vec::new()
            } else {
                s.codes
                    .iter()
                    .zip(slots)
                    .filter(|(code, hit)| {
                        !**hit
                            && match find_rule(code) {
                                Some(r) => enabled(r.meta().code),
                                None => true,
                            }
                    })
                    .map(|(code, _)| code.as_str())
                    .collect()
            };
            if !s.codes.is_empty() && unused.is_empty() {
                continue;
            }
            // A file-level comment covers the whole module, not its own line.
            let scope = if s.kind == SuppressionKind::File {
                "in this file"
            } else {
                "on this line"
            };
            let message = if unused.is_empty() {
                format!("suppression comment silences nothing {scope}")
            } else {
                format!(
                    "suppression of {} silences nothing {scope}",
                    unused
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            out.push(Finding {
                code: META.code,
                name: META.name,
                severity: Severity::Low,
                confidence: Confidence::Definite,
                path: m.path.clone(),
                line: s.line,
                column: s.column,
                end_line: s.line,
                end_column: s.column,
                function: enclosing_function(m, s.line),
                context: "module".to_owned(),
                frequency: None,
                estimate: None,
                memory_mb: None,
                chain: Vec::new(),
                agents: Vec::new(),
                reachable: true,
                message,
                help: "Remove the comment, or the codes it no longer needs.".to_owned(),
                snippet: String::new(),
                not_run: None,
                copies: Vec::new(),
                occurrence: 0,
            });
        }
    }
    out
}

/// The innermost function whose lines hold `line` (`<module>` outside any).
fn enclosing_function(m: &ModuleFacts, line: u32) -> String {
    m.functions
        .iter()
        .filter(|f| f.kind != FnKind::Module && f.line <= line && line <= f.end_line)
        .max_by_key(|f| f.line)
        .map_or_else(|| "<module>".to_owned(), |f| f.qualname.clone())
}
