//! PA305 deepcopy-on-request-path: `copy.deepcopy` of request data on every request.

use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::{ApiEntry, Effect};
use crate::rules::cost::CostMeta;
use crate::rules::{Category, Rule, RuleContext, RuleMeta, report_calls};

pub struct DeepcopyOnRequestPath;

static META: RuleMeta = RuleMeta {
    code: "PA305",
    name: "deepcopy-on-request-path",
    category: Category::Cpu,
    default_severity: Severity::Low,
    summary: "`copy.deepcopy` on a per-request path",
    cost: CostMeta::calls(&[Effect::Deepcopy]).no_worst(),
    doc: r#"## What it does
Finds `copy.deepcopy(...)` (catalog entries with the `deepcopy` effect) on a per-request path:
in a request handler, the body of a receive loop, or code on the event loop. Copies made in
`__init__`, at module level or in background threads are not reported.

## Why is this slow?
`deepcopy` walks the whole object graph in Python, recording every visited object in a memo
dictionary so that shared and cyclic references survive. It is one to two orders of magnitude
slower than a shallow copy, and a payload that was just decoded from JSON is already private
to the request: nobody else holds a reference to it.

## Example
```python
import copy

def handle_request(msg, cache):
    cache[msg["key"]] = copy.deepcopy(msg["value"])
    return {"ok": True}
```

## Use instead
```python
def handle_request(msg, cache):
    cache[msg["key"]] = msg["value"]
    return {"ok": True}
```

## Cost model
The catalog range for a typical payload (hundreds of nodes), ×10 inside a loop. Large
documents cost proportionally more.

## Known false positives
A copy that protects shared mutable state (a default template mutated per request) is needed;
a shallow copy of the levels actually mutated is usually enough and much cheaper.
"#,
};

impl Rule for DeepcopyOnRequestPath {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        let wanted = |e: &ApiEntry| e.effect == Effect::Deepcopy;
        report_calls(&META, cx, out, wanted, &|m, call, _, exec, cost| {
            let func = &m.functions[call.func as usize].qualname;
            let message = format!(
                "`{}` copies an object graph in `{func}` {} (~{})",
                call.target,
                exec.phrase(),
                cost.range()
            );
            let help = "Drop the copy when the data is already private (freshly decoded), \
                        copy only the level you mutate (`dict(d)`, `list(l)`), or keep shared \
                        data immutable."
                .to_owned();
            Some((message, help))
        });
    }
}
