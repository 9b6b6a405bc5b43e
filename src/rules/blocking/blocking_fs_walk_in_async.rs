//! PA105 blocking-fs-walk-in-async: Filesystem walk (`os.walk`, `glob`, `rglob`) inside `async def`.

use super::BlockingInAsync;
use crate::facts::{Call, FnKind, ModuleFacts, lambda_ref};
use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::{ApiEntry, Effect};
use crate::project::context::Site;
use crate::rules::cost::CostMeta;
use crate::rules::cost::PerCall;
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, RuleMeta};
use crate::rules::{RuleContext, catalog_calls};

static META: RuleMeta = RuleMeta {
    code: "PA105",
    name: "blocking-fs-walk-in-async",
    category: Category::Blocking,
    default_severity: Severity::Medium,
    summary: "Filesystem walk (`os.walk`, `glob`, `rglob`) inside `async def`",
    cost: CostMeta::calls(&[Effect::FsWalk]),
    doc: r#"## What it does
Finds directory walks and listings — `os.walk`, `os.scandir`, `os.listdir`, `glob.glob`,
`pathlib.Path.glob/rglob/iterdir` — executed on the event loop. A walk over `/` or the home
directory is costed as critical.

It also finds the lazy-iterator trap: a walk handed to an executor in a lambda
(`await hass.async_add_executor_job(lambda: root.rglob("*"))`) whose iterator comes back to the
coroutine. The worker thread only builds the generator; iterating it walks the tree on the
event loop.

## Why is this slow?
A walk touches every directory entry under its root: thousands of system calls for a project
tree, millions for a home directory or `/`. The event loop is blocked for all of it.

## Example
```python
import os

async def find_documents():
    return [f for _, _, files in os.walk("/") for f in files if f.endswith(".pdf")]
```

## Use instead
```python
import asyncio, os

def _scan(root):
    return [f for _, _, files in os.walk(root) for f in files if f.endswith(".pdf")]

async def find_documents(root):
    return await asyncio.to_thread(_scan, root)
```

## Cost model
The catalog range for a walk over a small tree (measured by `bench/calibrate`). A literal root
of `/`, `~` or a home directory is costed as 2–60 s: such trees hold 10^5–10^6 entries, each a
few microseconds to stat.
"#,
};

/// The rule: the shared event-loop check, for this rule's effects.
pub static RULE: BlockingInAsync = BlockingInAsync {
    adjust: Some(unbounded_root),
    also: Some(lazy_walks_handed_back),
    ..BlockingInAsync::on_loop(&META, &[Effect::FsWalk])
};

/// `await loop.run_in_executor(None, lambda: root.rglob("*"))`: the worker thread only builds
/// the lazy iterator (`lazy` in the catalog) and hands it back; iterating it walks the tree on
/// the event loop of the coroutine that awaited it. Not when the lambda consumes the iterator
/// itself (`lambda: list(root.rglob("*"))`).
fn lazy_walks_handed_back(cx: &RuleContext, out: &mut Vec<Finding>) {
    let patterns = &cx.project.patterns;
    let frameworks = &cx.project.frameworks;
    for (mi, m, walk, entry) in catalog_calls(cx, |e| e.effect == Effect::FsWalk && e.lazy) {
        let lambda = &m.functions[walk.func as usize];
        if lambda.kind != FnKind::Lambda {
            continue;
        }
        let consumed = m.calls.iter().any(|c| {
            c.func == walk.func
                && !std::ptr::eq(c, walk)
                && (c.line, c.column) <= (walk.line, walk.column)
                && (c.end_line(), c.end_column()) >= (walk.end_line(), walk.end_column())
        });
        if consumed {
            continue;
        }
        let me = lambda_ref(walk.func);
        let Some(handoff) = m.calls.iter().find(|c| {
            Some(c.func) == lambda.parent
                && m.callable_args(c).iter().any(|(t, _)| *t == me)
                && (patterns.is_offload(&c.target) || frameworks.is_offload(&c.target))
        }) else {
            continue;
        };
        let Some(exec) = cx.project.loop_execution(&Site::call(mi, handoff)) else {
            continue;
        };
        let per = unbounded_root(entry, m, walk).unwrap_or_else(|| PerCall::of(entry, walk));
        let caller = &m.functions[handoff.func as usize].qualname;
        let message = format!(
            "`{}` is handed to `{}` in `{caller}` as a lambda, but it returns a lazy iterator: the \
             worker thread only builds it, and iterating the result walks the filesystem on the \
             event loop (~{} per walk)",
            walk.target,
            handoff.text,
            per.range()
        );
        let help = "Consume the iterator inside the job (`lambda: list(root.rglob(\"*\"))`) so \
                    that the walk runs on the worker thread."
            .to_owned();
        let cost = Costed::latency(&per, &exec);
        out.push(cx.emit(&META, Hotspot::call(mi, walk, &exec, cost), message, help));
    }
}

/// A literal root of `/`, `~` or a home directory: 10^5–10^6 entries at a few µs each.
pub(crate) fn unbounded_root(entry: &ApiEntry, m: &ModuleFacts, call: &Call) -> Option<PerCall> {
    // `os.walk(root)` names its root first; `Path(root).rglob(pattern)` on its receiver.
    let root = match call.receiver_hint().map(|h| h.as_str()) {
        Some(r) if !call.target.starts_with("os.") && !call.target.starts_with("glob.") => r,
        _ => m.str_arg(call)?.as_str(),
    };
    let unbounded = root == "/"
        || root.starts_with("/*")
        || root.starts_with("/{}")
        || root == "~"
        || root.starts_with("~/")
        || root.starts_with("/home")
        || root.starts_with("/Users");
    unbounded.then(|| PerCall {
        low_ms: 2000.0,
        high_ms: 60000.0,
        what: format!("walk over the unbounded root `{root}` (10^5–10^6 entries)"),
        source: entry.source.clone(),
        worst: crate::rules::cost::Worst::Unstated,
        retry: None,
    })
}
