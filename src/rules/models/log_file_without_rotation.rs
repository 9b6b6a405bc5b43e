//! PA208 log-file-without-rotation: a long-running service logs to a file that is never
//! rotated.

use crate::rules::cost::CostMeta;
use ruff_python_ast::Expr;
use ruff_text_size::Ranged;

use super::in_test;
use crate::facts::collect::{AstRule, ExprKinds, LocalContext};
use crate::facts::marks::Mark;
use crate::facts::{FnKind, FuncId};
use crate::finding::{Confidence, Finding, Severity};
use crate::project::CtxKind;
use crate::project::context::{Frequency, Site};
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct LogFileWithoutRotation;

static META: RuleMeta = RuleMeta {
    code: "PA208",
    name: "log-file-without-rotation",
    category: Category::Models,
    default_severity: Severity::Low,
    summary: "A long-running service logs to a file that is never rotated",
    cost: CostMeta::band("Disk growth, not latency: a log file that is never rotated is low."),
    doc: r#"## What it does
Finds calls that make logging append to a file with no size or age limit — the catalog entries
with a `log_file` parameter, such as `logging.FileHandler(...)` and
`logging.basicConfig(filename=...)` — in a module that runs as a long-lived service: it has a
receive loop, request handlers, async code, or a `__main__` block with a loop.
`RotatingFileHandler` and `TimedRotatingFileHandler` cap the file and are not reported.

## Why is this slow?
A service logs at least one line per request for as long as it runs. Without rotation the file
grows until the disk is full; then writes fail, and often the service or its neighbours with
them. It costs no latency per request: it is a slow-burning outage.

## Example
```python
import logging

logging.basicConfig(filename="service.log", level=logging.INFO)

def handle_request(msg):
    logging.info("request %s", msg)
    return {"ok": True}
```

## Use instead
```python
import logging
import logging.handlers

logging.basicConfig(
    handlers=[logging.handlers.RotatingFileHandler("service.log", maxBytes=10_000_000, backupCount=5)],
    level=logging.INFO,
)

def handle_request(msg):
    logging.info("request %s", msg)
    return {"ok": True}
```

## Cost model
Always low: a disk-growth risk with no per-request latency.

Logging set up by tests (`test*` functions, `Test*` classes) is not reported.

## Known false positives
A file rotated by an external tool (logrotate with `copytruncate`, or a `WatchedFileHandler`
set up elsewhere) is bounded after all.
"#,
};

struct Hook;

impl AstRule for Hook {
    fn code(&self) -> &'static str {
        META.code
    }

    fn exprs(&self) -> ExprKinds {
        ExprKinds::CALL
    }

    fn check_expr(&self, expr: &Expr, cx: &mut LocalContext) {
        let Expr::Call(c) = expr else { return };
        for k in c.arguments.keywords.iter() {
            if let Some(arg) = &k.arg
                && cx
                    .catalog
                    .log_file_params()
                    .iter()
                    .any(|p| p == arg.as_str())
            {
                cx.report(
                    c.range(),
                    Mark::LogFileKeyword {
                        param: arg.to_string(),
                    },
                );
            }
        }
    }
}

impl Rule for LogFileWithoutRotation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        for (mi, m) in cx.project.modules.iter().enumerate() {
            let mut why: Option<String> = None;
            for call in &m.calls {
                let Some(param) = call
                    .api
                    .and_then(|id| cx.catalog.get(id).log_file.as_deref())
                else {
                    continue;
                };
                let named = m.candidates.iter().any(|c| {
                    c.code == META.code
                        && c.line == call.line
                        && c.column == call.column
                        && matches!(&c.mark, Mark::LogFileKeyword { param: p } if p == param)
                });
                if (!named && !call.dynamic_first_arg() && m.str_arg(call).is_none())
                    || in_test(&cx.project.patterns, m, call.func)
                {
                    continue;
                }
                if why.is_none() {
                    why = Some(match long_running(cx, mi) {
                        Some(w) => w,
                        None => break,
                    });
                }
                let reason = why.as_deref().unwrap_or_default();
                let site = Site::call(mi, call);
                let found = cx.project.executions(&site).into_iter().next();
                let module_level = found.is_none();
                let exec = found.unwrap_or_else(|| {
                    let (kind, once) = (CtxKind::Startup, Frequency::Once);
                    cx.project.assumed(&site, kind, once, Confidence::Definite)
                });
                let message = format!(
                    "`{}` appends to a log file that is never rotated, in a long-running service \
                     ({reason}): the file grows with every request until the disk is full",
                    call.target
                );
                let help = "Use `logging.handlers.RotatingFileHandler(..., maxBytes=..., \
                            backupCount=...)` or `TimedRotatingFileHandler`, or log to stderr and \
                            let the service manager keep the logs."
                    .to_owned();
                let h = Hotspot::call(mi, call, &exec, Costed::band(Severity::Low));
                let mut finding = cx.emit(&META, h, message, help);
                if module_level {
                    finding.context = "module".to_owned();
                }
                out.push(finding);
            }
        }
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![&Hook]
    }
}

/// Why module `mi` runs as a long-lived service, if it does: a receive loop, a request handler
/// of its own, or a `__main__` block that loops.
fn long_running(cx: &RuleContext, mi: usize) -> Option<String> {
    let m = &cx.project.modules[mi];
    if let Some(c) = m.calls.iter().find(|c| c.in_recv_loop()) {
        let f = &m.functions[c.func as usize].qualname;
        return Some(format!("`{f}` receives requests in a loop"));
    }
    for (i, f) in m.functions.iter().enumerate() {
        // The module's own request entries, not helpers that other modules' handlers reach.
        let entry = cx
            .project
            .executions(&Site::def(cx.project, mi, i as FuncId))
            .iter()
            .any(|e| e.frequency == Frequency::PerRequest && e.chain.len() == 1);
        if f.kind != FnKind::Lambda && entry {
            return Some(format!("`{}` runs per request", f.qualname));
        }
    }
    m.calls
        .iter()
        .find(|c| c.loop_depth > 0 && m.functions[c.func as usize].kind == FnKind::Main)
        .map(|_| "its `__main__` block loops".to_owned())
}
