//! PA115 blocking-io-in-serial-server: blocking file, HTTP, database, browser, subprocess or
//! socket work on the path of a server that serves one request at a time (a synchronous receive
//! loop, a handler of a non-threaded `socketserver`/`http.server` server), where every request
//! queued behind it waits for it too.

use crate::finding::{Finding, Frequency, Severity};
use crate::knowledge::catalog::Effect;
use crate::project::CtxKind;
use crate::project::context::Site;
use crate::rules::cost::CostMeta;
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta, catalog_calls};

pub struct BlockingIoInSerialServer;

/// The work a handler does that holds the serving thread (sleeps, console input and walks
/// over `/` are PA111's: they do no work at all).
const EFFECTS: &[Effect] = &[
    Effect::Network,
    Effect::Disk,
    Effect::Db,
    Effect::Redis,
    Effect::Browser,
    Effect::Subprocess,
    Effect::Socket,
];

/// Calls whose typical cost is below this are not worth a thread of their own (a `stat`, a
/// small local read): they are left out rather than reported as noise.
const FLOOR_MS: f64 = 0.5;

static META: RuleMeta = RuleMeta {
    code: "PA115",
    name: "blocking-io-in-serial-server",
    category: Category::Blocking,
    default_severity: Severity::Medium,
    summary: "Blocking I/O in a server that serves one request at a time",
    cost: CostMeta::calls(EFFECTS),
    doc: r#"## What it does
Finds blocking file, HTTP, database, Redis, browser, subprocess and socket calls on the path of
a server that serves one request at a time:

- the body of a synchronous loop that receives work and answers it (a ZMQ `REP`/`ROUTER`
  `recv_json()` loop, an `accept()` loop, a queue worker that puts a reply back), and what it
  calls;
- `handle()` of a `socketserver.BaseRequestHandler` and `do_GET()`/`do_POST()`/... of an
  `http.server.BaseHTTPRequestHandler`, when the project runs them in a `TCPServer`,
  `UDPServer` or `HTTPServer` without `ThreadingMixIn`/`ForkingMixIn` (the server classes that
  make a stdlib server concurrent are data: `data/frameworks/stdlib_servers.toml`).

A loop that hands each message to a thread or an executor, a threaded server
(`ThreadingHTTPServer`, `ThreadingTCPServer`, a class deriving from `ThreadingMixIn`), a
handler known only by its name, and a worker loop that answers nobody (it consumes jobs in the
background) stay silent: each request there has a thread of its own, or no requester waits.
Calls whose typical cost is under 0.5 ms (a `stat`, opening a local file, creating a socket)
are left out. Receives, replies and polls (`recv_json`, `send_json`, `accept`, `poll`, ...) are
left out too: in the loop they are the loop itself (a receive in a helper it calls, an RPC to another
service, is not told apart from the loop's own receive, so it is not reported either).

## Why is this slow?
A serial server accepts the next request only when the current one is done. The 300 ms HTTP
call of one request is 300 ms that every request queued behind it waits before it is even read:
with four clients, the last waits four times as long as its own work takes, and the server's
throughput is capped at one over the handler's latency whatever the machine can do.

## Example
```python
import requests
import zmq

def serve(socket):
    while True:
        msg = socket.recv_json()
        reply = requests.get(msg["url"], timeout=5).json()
        socket.send_json(reply)
```

## Use instead
```python
from concurrent.futures import ThreadPoolExecutor

import requests
import zmq

def fetch(socket, msg):
    return requests.get(msg["url"], timeout=5).json()

def serve(socket, pool: ThreadPoolExecutor):
    while True:
        msg = socket.recv_json()
        pool.submit(fetch, socket, msg)  # and a ROUTER socket to answer out of order
```
For the standard library servers, use `socketserver.ThreadingTCPServer` or
`http.server.ThreadingHTTPServer` (or mix in `ThreadingMixIn`).

## Cost model
The catalog range of the call (`data/apis.toml`), paid once per request the loop receives
(the receive loop is the request, so only loops nested inside it multiply the cost, ×10 or
their literal `range` bound); the same time is added to the wait of every request queued
behind it, which the range does not count. Inside an `except` branch or a branch that skips to
the next message it is medium at most.

## Known false positives
A service that only ever has one client at a time (a local tool's helper process, a
development server) pays no queueing. A stdlib handler is taken as served serially when the
project names no threading server or mixin; a server built in another package may be threaded.
"#,
};

impl Rule for BlockingIoInSerialServer {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        let patterns = &cx.project.patterns;
        for (mi, m, call, entry) in catalog_calls(cx, |e| EFFECTS.contains(&e.effect)) {
            if call.awaited() || call.nonblocking() {
                continue;
            }
            // Only a serial execution is reported, so that is asked first: it reads two first
            // visits, where costing every blocking call (6,031) and building the executions of
            // those above the floor took 45 M instructions of a standard-library run.
            let site = Site::call(mi, call);
            if !cx.project.may_be_serial(&site) {
                continue;
            }
            // The loop's own receive, reply and poll are what make it a server.
            if patterns.is_receive(&call.target, &call.target)
                || patterns.is_reply(&call.target)
                || patterns.is_poll(&call.target)
            {
                continue;
            }
            let per = crate::rules::call_cost(cx, mi, call, entry);
            if crate::finding::typical_ms(per.low_ms, per.high_ms) < FLOOR_MS {
                continue;
            }
            // On the event loop, PA101–PA109 report it.
            if cx.project.loop_execution(&site).is_some() {
                continue;
            }
            let Some(exec) = cx
                .project
                .request_execution(&site)
                .filter(|e| e.serves_requests() && e.serial)
            else {
                continue;
            };
            let cost = Costed::latency(&per, &exec);
            let func = &m.functions[call.func as usize].qualname;
            let range = cost.range();
            let which = match exec.frequency {
                Frequency::PerFailure => "requests that fail",
                Frequency::Conditional => "requests that take its branch",
                _ => "every request",
            };
            let message = match (exec.kind, exec.chain.first()) {
                (CtxKind::Request, Some(e)) if e.entry.is_some() => format!(
                    "`{}` in `{func}` holds {} `{}` (~{range} for {which}), and the server \
                     serves one request at a time: every request queued behind waits too",
                    call.target,
                    e.entry.as_deref().unwrap_or_default(),
                    e.function
                ),
                _ => format!(
                    "`{}` in `{func}` holds the receive loop (~{range} for {which}): nothing \
                     else is received until it returns",
                    call.target
                ),
            };
            let help = match exec.kind {
                CtxKind::RequestLoop => {
                    "Hand each message to a worker (a thread pool, and a \
                                         ROUTER socket to answer out of order), or do this \
                                         work before the loop if it does not depend on the \
                                         request."
                }
                _ => {
                    "Serve each request on its own thread: `ThreadingHTTPServer`, \
                      `ThreadingTCPServer`, or a server class that mixes in `ThreadingMixIn`."
                }
            };
            out.push(cx.emit(
                &META,
                Hotspot::call(mi, call, &exec, cost),
                message,
                help.to_owned(),
            ));
        }
    }
}
