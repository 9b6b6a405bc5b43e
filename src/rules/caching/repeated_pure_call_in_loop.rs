//! PA503 repeated-pure-call-in-loop: an expensive call with only literal arguments, repeated in
//! every iteration of a loop on a per-request path.

use crate::rules::cost::CostMeta;
use ruff_python_ast::Expr;
use ruff_text_size::Ranged;

use super::{call_at, callee_effect, literal_args, may_have_literal_args};
use crate::facts::collect::{AstRule, ExprKinds, LocalContext};
use crate::facts::marks::Mark;
use crate::facts::names::truncate;
use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::Effect;
use crate::project::context::Site;
use crate::rules::cost::PerCall;
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

/// Effects whose calls compute a value from their arguments alone.
const PURE_EFFECTS: &[Effect] = &[
    Effect::ConfigParse,
    Effect::Cpu,
    Effect::Deepcopy,
    Effect::Regex,
    Effect::Serialization,
];

pub struct RepeatedPureCallInLoop;

static META: RuleMeta = RuleMeta {
    code: "PA503",
    name: "repeated-pure-call-in-loop",
    category: Category::Caching,
    default_severity: Severity::Low,
    summary: "An expensive call with only literal arguments is repeated in a loop",
    cost: CostMeta::calls(&[
        Effect::Cpu,
        Effect::Regex,
        Effect::Serialization,
        Effect::ConfigParse,
        Effect::Deepcopy,
    ])
    .no_worst(),
    doc: r#"## What it does
Finds calls of catalog entries that compute a value from their arguments alone — regular
expressions, serialisation, configuration parsing, deep copies, CPU-bound helpers — whose
arguments are all literals, inside a loop that repeats within a request. Every iteration
computes the same value again.

## Why is this slow?
The result never changes, yet it is recomputed once per iteration of every request. Even when a
library keeps an internal cache (as `re` does for compiled patterns), each call still pays the
lookup and the argument handling.

## Example
```python
import json

def handle_request(msg):
    out = []
    for item in msg["items"]:
        defaults = json.loads('{"lang": "en", "limit": 10}')
        out.append({**defaults, **item})
    return out
```

## Use instead
```python
import json

DEFAULTS = json.loads('{"lang": "en", "limit": 10}')

def handle_request(msg):
    return [{**DEFAULTS, **item} for item in msg["items"]]
```

## Cost model
The catalog's range for one call, times the default loop repetition (×10).

## Known false positives
A loop that runs once or twice per request repeats the call less than the model assumes.
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
        if cx.loop_depth == 0 {
            return;
        }
        let catalog = cx.catalog;
        if !may_have_literal_args(c, false)
            || callee_effect(c, cx, catalog).is_none_or(|e| !PURE_EFFECTS.contains(&e))
        {
            return;
        }
        if let Some(args) = literal_args(c, cx, catalog, false) {
            cx.report(
                c.range(),
                Mark::PureCall {
                    args: truncate(&args, 60),
                },
            );
        }
    }
}

impl Rule for RepeatedPureCallInLoop {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        for (mi, m) in cx.project.modules.iter().enumerate() {
            for cand in m.candidates.iter().filter(|c| c.code == META.code) {
                let Some(call) = call_at(m, cand) else {
                    continue;
                };
                let Some(api) = call.api else { continue };
                let entry = cx.catalog.get(api);
                if !PURE_EFFECTS.contains(&entry.effect) || call.loop_depth == 0 {
                    continue;
                }
                let Some(exec) = cx
                    .project
                    .request_execution(&Site::call(mi, call))
                    .filter(|e| e.serves_requests())
                else {
                    continue;
                };
                let Mark::PureCall { args } = &cand.mark else {
                    continue;
                };
                let per = PerCall::entry(entry);
                let cost = Costed::latency(&per, &exec);
                let func = &m.functions[call.func as usize].qualname;
                let message = format!(
                    "`{}{args}` computes the same value in every iteration of a loop in `{func}` \
                     (~{} per call)",
                    call.target,
                    per.range()
                );
                let help = "Compute it once before the loop — at module level if it never \
                            changes — and reuse the result."
                    .to_owned();
                out.push(cx.emit(&META, Hotspot::call(mi, call, &exec, cost), message, help));
            }
        }
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![&Hook]
    }
}
