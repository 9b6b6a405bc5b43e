//! PA105 blocking-fs-walk-in-async: Filesystem walk (`os.walk`, `glob`, `rglob`) inside `async def`.

use super::BlockingInAsync;
use crate::facts::Call;
use crate::finding::Severity;
use crate::knowledge::catalog::{ApiEntry, Effect};
use crate::rules::cost::CostMeta;
use crate::rules::cost::PerCall;
use crate::rules::{Category, RuleMeta};

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
    meta: &META,
    effects: &[Effect::FsWalk],
    adjust: Some(unbounded_root),
};

/// A literal root of `/`, `~` or a home directory: 10^5–10^6 entries at a few µs each.
pub(crate) fn unbounded_root(entry: &ApiEntry, call: &Call) -> Option<PerCall> {
    // `os.walk(root)` names its root first; `Path(root).rglob(pattern)` on its receiver.
    let root = match call.receiver_hint.as_deref() {
        Some(r) if !call.target.starts_with("os.") && !call.target.starts_with("glob.") => r,
        _ => call.str_arg.as_deref()?,
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
