//! PA404 requests-without-session-in-loop: module-level HTTP functions (`requests.get`) called
//! repeatedly on one request, each opening its own connection.

use crate::rules::cost::CostMeta;
use std::collections::BTreeMap;

use crate::facts::{Call, FuncId, Resolution};
use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::{ApiEntry, Effect};
use crate::project::context::{Execution, Site};
use crate::rules::cost::{PerCall, fmt_range};
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct RequestsWithoutSession;

static META: RuleMeta = RuleMeta {
    code: "PA404",
    name: "requests-without-session-in-loop",
    category: Category::Pooling,
    default_severity: Severity::Low,
    summary: "`requests.get`/`post` without a Session, in a loop or repeated in one request",
    cost: CostMeta::calls(&[Effect::Connection]).no_worst(),
    doc: r#"## What it does
Finds module-level HTTP functions — `requests.get`, `requests.post`, `httpx.get`, ... — called
inside a loop, or more than once in the same function, on a per-request path. A function
counts as session-less when the catalog also lists a pooled client of the same package that
offers the same method (`requests.Session.get` for `requests.get`). One finding is reported
per function, at the first repeated call.

## Why is this slow?
Each module-level call builds a throw-away session: a new connection (DNS, TCP, often TLS)
per call, closed right after. A `Session` keeps connections to the same host open and reuses
them, so only the first call pays the handshake.

## Example
```python
import requests

def handle_request(msg):
    return [requests.get(url, timeout=5).status_code for url in msg["urls"]]
```

## Use instead
```python
import requests

SESSION = requests.Session()

def handle_request(msg):
    return [SESSION.get(url, timeout=5).status_code for url in msg["urls"]]
```

## Cost model
The catalog range of the pooled client's first connection (its constructor entry), for each
call after the first: ×10 when the calls are in a loop, ×(n − 1) for n calls in one function.

## Known false positives
Calls to many different hosts gain little from a session (each host needs its own
connection anyway).
"#,
};

impl Rule for RequestsWithoutSession {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        for (mi, m) in cx.project.modules.iter().enumerate() {
            let mut per_func: BTreeMap<FuncId, Vec<(&Call, &ApiEntry, Execution)>> =
                BTreeMap::new();
            for call in &m.calls {
                let Some(api) = call.api else { continue };
                if call.resolution != Resolution::Import
                    || cx.catalog.get(api).effect != Effect::Network
                {
                    continue;
                }
                let Some(pooled) = pooled_alternative(cx, &call.target) else {
                    continue;
                };
                let Some(exec) = cx.project.request_execution(&Site::call(mi, call)) else {
                    continue;
                };
                per_func
                    .entry(call.func)
                    .or_default()
                    .push((call, pooled, exec));
            }
            for (func, mut calls) in per_func {
                calls.sort_by_key(|(c, _, _)| (c.line, c.column));
                let looped = calls.iter().find(|(_, _, exec)| exec.repeats > 0);
                let (call, pooled, exec, repeats, how) = match looped {
                    Some((c, p, exec)) => (*c, *p, exec.clone(), 1.0, "inside a loop".to_owned()),
                    None if calls.len() >= 2 => {
                        let (c, p, exec) = &calls[0];
                        let n = calls.len();
                        (*c, *p, exec.clone(), (n - 1) as f64, format!("{n} times"))
                    }
                    None => continue,
                };
                let per = PerCall {
                    low_ms: pooled.low_ms * repeats,
                    high_ms: pooled.high_ms * repeats,
                    what: format!(
                        "a new connection per call ({} {}), ×{repeats} for the calls after the \
                         first",
                        pooled.name,
                        fmt_range(pooled.low_ms, pooled.high_ms)
                    ),
                    source: pooled.source.clone(),
                    worst: crate::rules::cost::Worst::Unstated,
                    retry: None,
                };
                let cost = Costed::latency(&per, &exec);
                let qualname = &m.functions[func as usize].qualname;
                let message = format!(
                    "`{}` is called {how} in `{qualname}` without a session: every call opens \
                     a new connection (~{} per request)",
                    call.target,
                    cost.range()
                );
                let help = format!(
                    "Create one `{}` (at startup, or at least once per request) and call its \
                     methods, so that connections are reused.",
                    pooled.name
                );
                out.push(cx.emit(&META, Hotspot::call(mi, call, &exec, cost), message, help));
            }
        }
    }
}

/// The pooled client that offers the same method as the module-level function `target`: a
/// `connection` entry of the same package whose `<client>.<method>` is also in the catalog.
fn pooled_alternative<'a>(cx: &'a RuleContext, target: &str) -> Option<&'a ApiEntry> {
    let (package, method) = target.rsplit_once('.')?;
    cx.catalog.entries().iter().find(|e| {
        e.effect == Effect::Connection
            && e.name
                .strip_prefix(package)
                .is_some_and(|rest| rest.starts_with('.') && !rest[1..].contains('.'))
            && cx.catalog.lookup(&format!("{}.{method}", e.name)).is_some()
    })
}
