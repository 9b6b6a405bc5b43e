//! PA402 socket-per-request: a messaging context and socket built, connected and torn down for
//! every call on a request path.

use crate::rules::cost::CostMeta;
use std::collections::BTreeMap;

use super::{LAZY_INIT_HOOK, bypass_note, creation_execution, follow_on, lazy_inits};
use crate::facts::collect::AstRule;
use crate::facts::{Call, FuncId};
use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::Effect;
use crate::project::context::Execution;
use crate::rules::cost::{PerCall, fmt_range};
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct SocketPerRequest;

static META: RuleMeta = RuleMeta {
    code: "PA402",
    name: "socket-per-request",
    category: Category::Pooling,
    default_severity: Severity::Low,
    summary: "Messaging context or socket created (and connected) per request",
    cost: CostMeta::calls(&[Effect::Socket]).no_worst().then_on_it(),
    doc: r#"## What it does
Finds functions on a per-request path that create messaging contexts or sockets — `zmq.Context()`,
`context.socket(...)` and other catalog entries with the `socket` effect — on every call,
typically to connect, send one message, wait for the reply and close. The finding is reported
once per function, at its first creation, with the cost of all of them. Sockets created at
startup, stored on an attribute, created lazily, in a memoised function or below a call whose
result is kept per key are not reported.

## Why is this slow?
A new `zmq.Context` starts its own I/O thread and must be terminated again; a new socket has to
connect and complete the ZMTP handshake before the first message goes out. A long-lived socket
(or one per peer, kept in a dictionary) pays this once. Per call it adds up to a millisecond or
more to every hop, and heavy traffic leaves sockets in `TIME_WAIT`.

## Example
```python
import zmq

def handle_request(msg):
    context = zmq.Context()
    socket = context.socket(zmq.REQ)
    socket.connect("tcp://localhost:5555")
    socket.send_json(msg)
    reply = socket.recv_json()
    socket.close()
    context.term()
    return reply
```

## Use instead
```python
import zmq

class Forwarder:
    def __init__(self):
        self.socket = zmq.Context.instance().socket(zmq.REQ)
        self.socket.connect("tcp://localhost:5555")

    def handle_request(self, msg):
        self.socket.send_json(msg)
        return self.socket.recv_json()
```

## Cost model
The sum of the catalog ranges of the creations in the function, then of what the function does
on the sockets it made (a blocking `recv*`, at worst the socket's `RCVTIMEO` when the function
sets one); ×10 when one of them is in a loop.

## Known false positives
A REQ socket that timed out must be discarded and recreated; creating it again on that error
path only is the right pattern.
"#,
};

impl Rule for SocketPerRequest {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![&LAZY_INIT_HOOK, &crate::rules::models::lazy::HOOK]
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        for (mi, m) in cx.project.modules.iter().enumerate() {
            let lazy = lazy_inits(m);
            // Per function: its creations in source order, with the context of the first.
            let mut per_func: BTreeMap<FuncId, (Vec<&Call>, Execution)> = BTreeMap::new();
            for call in &m.calls {
                let Some(api) = call.api else { continue };
                if cx.catalog.get(api).effect != Effect::Socket {
                    continue;
                }
                let Some(exec) = creation_execution(cx, mi, call, &lazy) else {
                    continue;
                };
                per_func
                    .entry(call.func)
                    .or_insert_with(|| (Vec::new(), exec))
                    .0
                    .push(call);
            }
            for (func, (mut calls, exec)) in per_func {
                calls.sort_by_key(|c| (c.line, c.column));
                let entries: Vec<_> = calls
                    .iter()
                    .filter_map(|c| c.api.map(|a| cx.catalog.get(a)))
                    .collect();
                let low: f64 = entries.iter().map(|e| e.low_ms).sum();
                let high: f64 = entries.iter().map(|e| e.high_ms).sum();
                let names: Vec<String> = calls.iter().map(|c| format!("`{}`", c.target)).collect();
                let mut sources: Vec<&str> = entries.iter().map(|e| e.source.as_str()).collect();
                sources.sort_unstable();
                sources.dedup();
                // What the function then does on the sockets it made (a blocking receive,
                // with the socket's `RCVTIMEO` as its worst case).
                let then: Vec<_> = calls
                    .iter()
                    .flat_map(|c| follow_on(cx, mi, m, c, &calls))
                    .collect();
                let per = PerCall {
                    low_ms: low,
                    high_ms: high,
                    what: format!("{} {}", names.join(" + "), fmt_range(low, high)),
                    source: sources.join("; "),
                    worst: crate::rules::cost::Worst::Unstated,
                    retry: None,
                }
                .then(&then);
                // The deepest loop around any of the creations repeats the set.
                let repeats = calls.iter().map(|c| c.loop_depth).max().unwrap_or(0);
                let exec = Execution { repeats, ..exec };
                let cost = Costed::latency(&per, &exec);
                let qualname = &m.functions[func as usize].qualname;
                let mut message = format!(
                    "`{qualname}` creates {} on every call on a request path, so every call \
                     starts from an unconnected socket (~{} {})",
                    names.join(" and "),
                    cost.range(),
                    if then.is_empty() {
                        "to create, plus the connect".to_owned()
                    } else {
                        let on: Vec<&str> = then.iter().map(|(t, _)| t.as_str()).collect();
                        format!("with what it then does on it: {}", on.join(", "))
                    }
                );
                let help = "Create the context once per process (`zmq.Context.instance()`) and \
                            keep one connected socket per peer, created at startup or cached \
                            on first use."
                    .to_owned();
                let h = Hotspot::call(mi, calls[0], &exec, cost);
                message.push_str(&bypass_note(cx, &exec));
                out.push(cx.emit(&META, h, message, help));
            }
        }
    }
}
