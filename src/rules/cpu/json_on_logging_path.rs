//! PA303 json-on-logging-path: JSON serialisation evaluated eagerly for a log call, or on every
//! record in a custom formatter or handler.

use crate::rules::cost::CostMeta;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, ExprCall};
use ruff_text_size::Ranged;

use super::report_candidates;
use crate::facts::FnKind;
use crate::facts::collect::{AstRule, ExprKinds, LocalContext};
use crate::facts::marks::Mark;
use crate::facts::names::dotted_name;
use crate::finding::{Confidence, Finding, Severity};
use crate::knowledge::catalog::Effect;
use crate::project::CtxKind;
use crate::project::context::{Frequency, Site};
use crate::rules::cost::PerCall;
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct JsonOnLoggingPath;

/// The methods of `logging.Logger` that emit a record (a standard-library fact).
const LEVEL_METHODS: &[&str] = &[
    "critical",
    "debug",
    "error",
    "exception",
    "fatal",
    "info",
    "log",
    "warn",
    "warning",
];

/// Overrides that run once per emitted record: `logging.Formatter.format`, `logging.Handler.emit`.
const PER_RECORD_METHODS: &[&str] = &["emit", "format"];

static META: RuleMeta = RuleMeta {
    code: "PA303",
    name: "json-on-logging-path",
    category: Category::Cpu,
    default_severity: Severity::Low,
    summary: "`json.dumps` evaluated for a log call (even when the record is dropped)",
    cost: CostMeta::calls(&[Effect::Serialization]).no_worst(),
    doc: r#"## What it does
Finds serialisation calls (catalog entries with the `serialization` effect, such as
`json.dumps`) in the arguments of a logging call — `logger.info(json.dumps(event))`,
`logging.debug(f"state {json.dumps(state)}")` — on a per-request path, unless the call is
guarded by `logger.isEnabledFor(...)`. It also finds them in the `format` method of a
`logging.Formatter` subclass and the `emit` method of a `logging.Handler` subclass, which run
once per emitted record.

A logger is recognised by its receiver: the `logging` module, `logging.getLogger(...)`, or a
name such as `logger`, `log`, `_LOGGER`, `self.logger`.

## Why is this slow?
Arguments are evaluated before the logging call decides whether the record is wanted, so the
object is serialised on every call even when the level is disabled or a filter drops the
record. On a busy request path that is pure overhead; when the record is kept, the standard
`json` encoder is several times slower than alternatives such as orjson.

## Example
```python
import json
import logging

logger = logging.getLogger(__name__)

def handle_request(msg):
    logger.debug(json.dumps(msg, sort_keys=True))
    return {"ok": True}
```

## Use instead
```python
import json
import logging

logger = logging.getLogger(__name__)

def handle_request(msg):
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(json.dumps(msg, sort_keys=True))
    return {"ok": True}
```

## Cost model
The catalog range of the serialiser for a typical payload (usually microseconds), ×10 inside a
loop: almost always **low**. A formatter or handler runs for every record a service emits;
when no context reaches it, it is costed as paid on every request, with confidence `possible`.

## Known false positives
A record that is always emitted (an error log) pays the serialisation anyway; only a faster
encoder helps there.
"#,
};

impl Rule for JsonOnLoggingPath {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![self]
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        report_candidates(&META, cx, out, &|m, c, _, entry, cost| {
            let func = &m.functions[c.func as usize].qualname;
            Some((
                format!(
                    "`{}` runs on every `{}(...)` call in `{func}`, even when the record is \
                     filtered out (~{cost})",
                    entry.name,
                    c.mark.note()
                ),
                "Serialise lazily: guard the call with `logger.isEnabledFor(...)`, or pass an \
                 object whose `__str__` serialises it with a `%s` placeholder; a faster encoder \
                 (orjson) cuts the cost of the records that are kept."
                    .to_owned(),
            ))
        });
        per_record_overrides(cx, out);
    }
}

/// Serialisation inside `Formatter.format` / `Handler.emit` overrides of `logging` classes.
fn per_record_overrides(cx: &RuleContext, out: &mut Vec<Finding>) {
    for (mi, m) in cx.project.modules.iter().enumerate() {
        for call in &m.calls {
            let Some(api) = call.api else { continue };
            let entry = cx.catalog.get(api);
            if entry.effect != Effect::Serialization {
                continue;
            }
            let f = &m.functions[call.func as usize];
            let overrides_logging = f.kind == FnKind::Method
                && PER_RECORD_METHODS.contains(&f.name.as_str())
                && f.class.is_some_and(|k| {
                    m.classes[k as usize]
                        .bases
                        .iter()
                        .any(|b| b.starts_with("logging."))
                });
            if !overrides_logging {
                continue;
            }
            let site = Site::call(mi, call);
            let exec = cx.project.request_execution(&site).unwrap_or_else(|| {
                cx.project.assumed(
                    &site,
                    CtxKind::Request,
                    Frequency::PerRequest,
                    Confidence::Possible,
                )
            });
            let cost = Costed::latency(&PerCall::of(entry, call), &exec);
            let message = format!(
                "`{}` in `{}` runs for every log record the service emits (~{})",
                entry.name,
                f.qualname,
                cost.range()
            );
            let help = "Use a faster encoder (orjson) for structured logs, and keep the \
                        per-record work minimal."
                .to_owned();
            out.push(cx.emit(&META, Hotspot::call(mi, call, &exec, cost), message, help));
        }
    }
}

impl AstRule for JsonOnLoggingPath {
    fn code(&self) -> &'static str {
        META.code
    }

    fn exprs(&self) -> ExprKinds {
        ExprKinds::CALL
    }

    fn check_expr(&self, expr: &Expr, cx: &mut LocalContext) {
        let Expr::Call(call) = expr else { return };
        let Expr::Attribute(method) = &*call.func else {
            return;
        };
        if !LEVEL_METHODS.contains(&method.attr.id.as_str()) || !is_logger(&method.value, cx) {
            return;
        }
        if cx.guards().any(|g| g.contains("isEnabledFor")) {
            return;
        }
        let mut inner = InnerCalls::default();
        for arg in call.arguments.args.iter() {
            inner.visit_expr(arg);
        }
        for kw in call.arguments.keywords.iter() {
            inner.visit_expr(&kw.value);
        }
        let log_call = cx.source_text(call.func.range()).to_owned();
        for c in inner.calls {
            let Some(api) = cx.callee_api(c) else {
                continue;
            };
            if cx.catalog.get(api).effect == Effect::Serialization {
                cx.report_api(c.range(), Mark::Note(log_call.clone()), Some(api));
            }
        }
    }
}

/// The `logging` module, `logging.getLogger(...)`, or a receiver named like a logger.
fn is_logger(receiver: &Expr, cx: &LocalContext) -> bool {
    if let Expr::Call(c) = receiver {
        return dotted_name(&c.func).is_some_and(|n| cx.resolve(&n) == "logging.getLogger");
    }
    let Some(text) = dotted_name(receiver) else {
        return false;
    };
    if cx.resolve(&text) == "logging" {
        return true;
    }
    let last = text
        .rsplit('.')
        .next()
        .unwrap_or(&text)
        .to_ascii_lowercase();
    last == "log" || last == "_log" || last.ends_with("logger") || last.ends_with("_log")
}

/// Calls evaluated with the arguments (not those inside a lambda, which may never run).
#[derive(Default)]
struct InnerCalls<'a> {
    calls: Vec<&'a ExprCall>,
}

impl<'a> Visitor<'a> for InnerCalls<'a> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        // Arguments can nest arbitrarily deep (long `+` chains): grow the stack as needed.
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || match expr {
            Expr::Lambda(_) => {}
            Expr::Call(c) => {
                self.calls.push(c);
                visitor::walk_expr(self, expr);
            }
            _ => visitor::walk_expr(self, expr),
        });
    }
}
