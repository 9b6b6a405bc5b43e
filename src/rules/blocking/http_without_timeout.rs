//! PA110 http-without-timeout: a network call that can wait forever because no timeout is set.

use crate::facts::{Call, Callables, Resolution};
use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::ApiEntry;
use crate::project::CtxKind;
use crate::project::context::{Execution, Frequency, Site};
use crate::rules::cost::CostMeta;
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct HttpWithoutTimeout;

static META: RuleMeta = RuleMeta {
    code: "PA110",
    name: "http-without-timeout",
    category: Category::Blocking,
    default_severity: Severity::High,
    summary: "Network call without `timeout=`: a stalled server hangs the caller forever",
    cost: CostMeta::band(
        "The wait has no bound at all, so there is nothing to add up: the band says where the hang would land (high on a request path or the event loop, medium in a background thread, low at startup).",
    ),
    doc: r#"## What it does
Finds calls to network APIs that wait without limit unless given a timeout — `requests.get`,
`requests.post`, `Session.get`, `urllib.request.urlopen`, ... (catalog entries marked
`timeout_kw`) — made without a `timeout=` argument, directly or through
`asyncio.to_thread(requests.get, url)`. A call that forwards `**kwargs` may carry a timeout and
is not reported.

## Why is this slow?
This is a hang rather than a cost. `requests` and `urllib` have no default timeout: when the
peer accepts the connection but never answers (an overloaded upstream, a dropped packet behind
a NAT, a half-open TCP connection), the call blocks until the process is restarted. In a
request handler the request never completes and its thread is lost; in a single-threaded agent
the whole service stops answering.

## Example
```python
import requests

def handle_request(msg):
    reply = requests.post(msg["webhook"], json=msg["payload"])
    return {"status": reply.status_code}
```

## Use instead
```python
import requests

def handle_request(msg):
    reply = requests.post(msg["webhook"], json=msg["payload"], timeout=(3.05, 10))
    return {"status": reply.status_code}
```

## Cost model
No latency estimate: the wait is unbounded. The severity says where the hang would land:
**high** on a per-request path (a request, a receive loop, the event loop), **medium** in a
background thread (the job silently stops, e.g. a health probe that never reports again), and
**low** in startup code (the service visibly fails to come up). Calls in code that no context
reaches are not reported.

## Known false positives
A socket-level default set elsewhere (`socket.setdefaulttimeout(...)`) or a session whose
adapter enforces a timeout bounds the wait without a `timeout=` argument at the call.
"#,
};

impl Rule for HttpWithoutTimeout {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        // Only a catalog call or a call that passes callables can need a timeout
        // (`timeout_api`): those two lists are merged in call order, module by module, where
        // visiting every call of the project (327,153 on the standard library) took 19 M
        // instructions.
        let sites = cx.catalog_sites();
        let mut next_site = 0;
        for (mi, m) in cx.project.modules.iter().enumerate() {
            let first = next_site;
            while sites.get(next_site).is_some_and(|&(sm, _)| sm == mi as u32) {
                next_site += 1;
            }
            let mut apis = sites[first..next_site].iter().map(|&(_, ci)| ci).peekable();
            let mut callables = m.callables.iter().peekable();
            loop {
                let i = match (apis.peek(), callables.peek()) {
                    (None, None) => break,
                    (Some(&a), None) => a,
                    (None, Some(&(c, _))) => c,
                    (Some(&a), Some(&(c, _))) => a.min(c),
                };
                apis.next_if_eq(&i);
                let passed = callables.next_if(|(c, _)| *c == i);
                let call = &m.calls[i as usize];
                if call.has_timeout() {
                    continue;
                }
                let passed = passed.map_or(Callables::default(), |(_, a)| a);
                let Some((entry, offloaded)) = timeout_api(cx, call, passed) else {
                    continue;
                };
                let Some((exec, severity)) = worst_execution(cx, mi, call) else {
                    continue;
                };
                let place = match severity {
                    Severity::High => "the request never completes",
                    Severity::Medium => "this background job stops for good",
                    _ => "startup (or the construction of this object) never finishes",
                };
                let via = if offloaded {
                    format!(" (run through `{}`)", call.target)
                } else {
                    String::new()
                };
                let message = format!(
                    "`{}`{via} has no `timeout=`: if the server stalls, {place}",
                    entry.name
                );
                let help = "Pass `timeout=` in seconds (e.g. `timeout=(3.05, 30)` for connect \
                            and read) so that a stalled peer raises an error instead of hanging."
                    .to_owned();
                let h = Hotspot::call(mi, call, &exec, Costed::band(severity));
                out.push(cx.emit(&META, h, message, help));
            }
        }
    }
}

/// The catalog entry that needs a timeout at this call, and whether it is passed by reference
/// to an offloading call (`asyncio.to_thread(requests.get, url)`, whose keywords it receives);
/// `callables` are what the call passes by reference.
fn timeout_api<'a>(
    cx: &'a RuleContext,
    call: &Call,
    callables: Callables<'_>,
) -> Option<(&'a ApiEntry, bool)> {
    if let Some(api) = call.api {
        let entry = cx.catalog.get(api);
        return entry.timeout_kw.then_some((entry, false));
    }
    // Most calls pass no callable, or none that names a library function: that is known
    // before the offload names are looked up (137,186 lookups, 20.8 M instructions, on the
    // standard library when only emptiness was asked first).
    let library = |res: &Resolution| matches!(res, Resolution::Import | Resolution::Inferred);
    if !callables.iter().any(|(_, res)| library(res))
        || !cx.project.patterns.is_offload(&call.target)
    {
        return None;
    }
    callables.iter().find_map(|(name, res)| {
        if !library(res) {
            return None;
        }
        let entry = cx.catalog.get(cx.catalog.lookup(name)?);
        entry.timeout_kw.then_some((entry, true))
    })
}

/// The execution where a hang hurts most, with its severity (see the rule's cost model).
fn worst_execution(cx: &RuleContext, module: usize, call: &Call) -> Option<(Execution, Severity)> {
    let site = Site::call(module, call);
    if let Some(exec) = cx.project.request_execution(&site) {
        // A request that hangs is high; code that no known request entry reaches, or that runs
        // only after a failure, is medium at most, as its latency would be.
        let band = if exec.frequency == Frequency::PerRequest {
            Severity::High
        } else {
            Severity::Medium
        };
        return Some((exec, band));
    }
    // What is left runs once (startup, or a per-request kind whose function only runs once)
    // or off the request path.
    let rank = |k: CtxKind| match k {
        CtxKind::Background => Severity::Medium,
        _ => Severity::Low,
    };
    cx.project
        .executions(&site)
        .into_iter()
        .map(|e| {
            let s = rank(e.kind);
            (e, s)
        })
        .max_by_key(|(_, s)| *s)
}
