//! PA111 blocking-call-in-request-loop: avoidable waits (sleeps, console input, walks over
//! unbounded roots) on the per-request path of a thread or ZMQ service.

use super::blocking_fs_walk_in_async::unbounded_root;
use crate::facts::Call;
use crate::finding::{Finding, Frequency, Severity};
use crate::knowledge::catalog::Effect;
use crate::project::CtxKind;
use crate::project::context::Site;
use crate::rules::cost::CostMeta;
use crate::rules::cost::PerCall;
use crate::rules::cost::background_band;
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta, catalog_calls};

pub struct BlockingCallInRequestLoop;

static META: RuleMeta = RuleMeta {
    code: "PA111",
    name: "blocking-call-in-request-loop",
    category: Category::Blocking,
    default_severity: Severity::High,
    summary: "Avoidable wait (sleep, console input, walk over `/` or `~`) on a sync request path",
    cost: CostMeta::calls(&[Effect::Sleep, Effect::Input, Effect::FsWalk]),
    doc: r#"## What it does
Finds waits that add latency to every request of a synchronous service without doing any of
the request's work:

- `time.sleep(<literal seconds>)` (any catalog entry with the `sleep` effect) in the body of a
  loop that receives work (`recv_json`, `queue.get`, `accept`, ...) or in a request handler;
- `input(...)` in the body of a receive loop: a service that waits for a console (a prompt in a
  function that is a handler only by its name is a command-line tool asking its user, and stays
  silent);
- a directory walk whose literal root is `/`, `~` or a home directory; in a background thread
  too (a monitor that rescans the disk), where no request waits for it but it competes with
  them for the disk and the CPU: medium at most when every round of the thread's loop walks,
  low when the thread walks once.

A loop on a thread that answers nobody consumes events in the background, and its pacing sleep
is not a request's: writing to the process's console (`sys.stdout.write`) and putting work back
on the queue the loop takes from (a terminal spinner's `self.queue.put(1)` after
`self.queue.get()`) are not answers (`contexts.toml` `console_receivers`, `requeue_methods`).

Other blocking I/O in a request loop (an HTTP call, a database query, a file read) is usually
the work the request asks for, so it is not reported here; PA115 reports it when the server
serves one request at a time. Code on the event loop is left to
PA101–PA109, which report the same calls there. A sleep whose duration is computed
(`time.sleep(self.interval)`, a back-off) is not reported: its cost cannot be stated and it is
usually a deliberate rate limit; nor is `time.sleep(0)`, a yield that costs nothing.

## Why is this slow?
A receive loop handles one message at a time: a pause after each reply caps the service's
throughput (100 ms caps it at 10 requests per second) and every queued request waits for the
pauses of all the requests ahead of it. In a threaded handler the pause is added to that
request's latency.

## Example
```python
import time
import zmq

def serve(socket):
    while True:
        msg = socket.recv_json()
        socket.send_json({"ok": True, "echo": msg})
        time.sleep(0.1)
```

## Use instead
```python
import zmq

def serve(socket):
    while True:
        msg = socket.recv_json()
        socket.send_json({"ok": True, "echo": msg})
```

## Cost model
The literal duration of the sleep (`time.sleep(0.1)` costs 100 ms per request); the catalog
range of `input`; a walk over an unbounded root is costed as 2–60 s like PA105. The
receive loop itself is the request, so only loops nested inside it multiply the cost (×10).

## Known false positives
A sleep that deliberately rate-limits an upstream, or paces a poller that found no work, is a
design choice; its latency is still paid by the requests that queue behind it.
"#,
};

impl Rule for BlockingCallInRequestLoop {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        for (mi, m, call, entry) in catalog_calls(cx, |_| true) {
            if call.awaited() || call.nonblocking() {
                continue;
            }
            let per = match entry.effect {
                // A computed duration (a back-off, a configured rate limit) has no cost we
                // can state, and a zero sleep is a deliberate yield.
                Effect::Sleep if call.seconds().is_none_or(|s| s <= 0.0) => continue,
                Effect::Sleep | Effect::Input => PerCall::of(entry, call),
                Effect::FsWalk => match unbounded_root(entry, m, call) {
                    Some(r) => r,
                    None => continue,
                },
                _ => continue,
            };
            let site = Site::call(mi, call);
            // On the event loop, PA101 (sleep), PA105 (walks) and PA109 (input) report it.
            if cx.project.loop_execution(&site).is_some() {
                continue;
            }
            if entry.effect == Effect::FsWalk
                && let Some(f) = background_walk(cx, mi, call, &site, &per)
            {
                out.push(f);
                continue;
            }
            // A sync request path: a receive loop or a handler that a known entry reaches (work
            // offloaded from a coroutine that serves nothing known is not one).
            let Some(exec) = cx
                .project
                .request_execution(&site)
                .filter(|e| e.serves_requests())
            else {
                continue;
            };
            // A prompt reached only through a handler *name* is a command-line tool asking
            // its user (pip's `handle_401` asking for a password), not a service waiting on
            // a console: only a real receive loop makes `input()` a request cost.
            if entry.effect == Effect::Input && exec.kind != CtxKind::RequestLoop {
                continue;
            }
            let cost = Costed::latency(&per, &exec);
            let func = &m.functions[call.func as usize].qualname;
            let range = cost.range();
            let which = match exec.frequency {
                Frequency::PerFailure => "the requests that follow a failure or an empty poll",
                Frequency::Conditional => "each request that takes its branch",
                _ => "every request",
            };
            let message = match exec.kind {
                CtxKind::RequestLoop => format!(
                    "`{}` in the receive loop of `{func}` holds up {which} (~{range} per \
                     request, and nothing else is served meanwhile)",
                    call.target
                ),
                _ => format!(
                    "`{}` in request handler `{func}` adds ~{range} to {which}",
                    call.target
                ),
            };
            let help = match entry.effect {
                Effect::Sleep => "Remove the pause; to wait for work, block on the socket or \
                                      queue (or `poller.poll(timeout)`), and pace background \
                                      work in a thread of its own."
                    .to_owned(),
                Effect::Input => "A service has no console: take the value from the request \
                                      or from configuration."
                    .to_owned(),
                _ => "Walk a bounded directory, or build the listing once in the background \
                          and serve requests from it."
                    .to_owned(),
            };
            out.push(cx.emit(&META, Hotspot::call(mi, call, &exec, cost), message, help));
        }
    }
}

/// A walk over an unbounded root in a background thread that serves no request: reported with
/// the background context, banded by `cost::background_band`.
fn background_walk(
    cx: &RuleContext,
    mi: usize,
    call: &Call,
    site: &Site,
    per: &PerCall,
) -> Option<Finding> {
    let all = cx.project.executions(site);
    if all.iter().any(|e| e.serves_requests()) {
        return None;
    }
    let exec = all.into_iter().find(|e| e.kind == CtxKind::Background)?;
    let every_round = call.in_while() || call.loop_depth > 0;
    let band = background_band(per, every_round);
    let m = &cx.project.modules[mi];
    let func = &m.functions[call.func as usize].qualname;
    let thread = exec
        .chain
        .first()
        .map_or(func.as_str(), |s| s.function.as_str());
    let when = if every_round {
        "on every round of"
    } else {
        "once in"
    };
    let message = format!(
        "`{}` walks an unbounded root in `{func}` {when} a background thread (reached from \
         `{thread}`, ~{} per walk): off the request path, but it competes with the requests for the disk and the CPU",
        call.target,
        per.range()
    );
    let help = "Walk the directories the service owns, or watch them for changes instead of \
                rescanning the whole file system."
        .to_owned();
    let cost = Costed::latency(per, &exec).banded(band);
    Some(cx.emit(&META, Hotspot::call(mi, call, &exec, cost), message, help))
}
