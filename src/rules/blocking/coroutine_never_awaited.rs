//! PA113 coroutine-never-awaited: a project coroutine called as a statement, never awaited,
//! scheduled or stored: its work never happens.

use rustc_hash::FxHashMap;

use crate::facts::Resolution;
use crate::finding::{Finding, Severity};
use crate::project::context::Site;
use crate::project::resolve::{FnRef, Target};
use crate::rules::cost::CostMeta;
use crate::rules::cost::cap;
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct CoroutineNeverAwaited;

static META: RuleMeta = RuleMeta {
    code: "PA113",
    name: "coroutine-never-awaited",
    category: Category::Blocking,
    default_severity: Severity::Medium,
    summary: "An `async def` of the project called as a statement and never awaited: its work never runs",
    cost: CostMeta::band(
        "The coroutine never runs, so its work is lost rather than slow: the band is medium, capped by its frequency.",
    ),
    doc: r#"## What it does
Finds a call of an `async def` defined in the project that stands alone as a statement: not
awaited, not passed to `asyncio.create_task`/`gather`, not stored.

## Why is this slow?
Calling a coroutine function only creates the coroutine object; nothing runs until it is
awaited or scheduled. The call is dropped with a "coroutine was never awaited" warning, and
whatever it should have done — refresh a cache, flush a buffer, release a slot — never
happens, so the work piles up or is redone elsewhere.

## Example
```python
async def refresh_cache(key):
    ...

async def handle_request(key):
    refresh_cache(key)
    return {"ok": True}
```

## Use instead
```python
import asyncio

async def refresh_cache(key):
    ...

async def handle_request(key):
    await refresh_cache(key)
    return {"ok": True}
```

## Cost model
Not a latency: the lost work has no cost the audit can state. Medium where a request entry
runs it, capped by how often the code runs otherwise.

## Known false positives
A function that a decorator turns into a plain callable (a sync wrapper around a coroutine)
is seen as the `async def` it wraps.
"#,
};

impl Rule for CoroutineNeverAwaited {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        // The coroutine (an undecorated `async def`) each distinct target resolves to, or
        // `None`: a project calls the same names from many places. Keyed by the interned
        // target's address (one text is one `Name`), not its text: hashing the text of each of
        // the standard library's ~103,000 such calls took 15.7 M instructions.
        let mut coroutines: FxHashMap<usize, Option<FnRef>> = FxHashMap::default();
        for (mi, m) in cx.project.modules.iter().enumerate() {
            for call in m.calls.iter().filter(|c| c.bare() && !c.awaited()) {
                if !matches!(
                    call.resolution,
                    Resolution::Local | Resolution::Import | Resolution::SelfMethod
                ) {
                    continue;
                }
                let target = call.target.as_str();
                let coroutine = *coroutines
                    .entry(target.as_ptr() as usize)
                    .or_insert_with(|| coroutine(cx, target));
                let Some(f) = coroutine else {
                    continue;
                };
                let callee = &cx.project.modules[f.module as usize].functions[f.func as usize];
                let site = Site::call(mi, call);
                let Some(exec) = cx
                    .project
                    .request_execution(&site)
                    .or_else(|| cx.project.executions(&site).into_iter().next())
                else {
                    continue;
                };
                let func = &m.functions[call.func as usize].qualname;
                let message = format!(
                    "`{}(...)` in `{func}` creates a coroutine and drops it: `{}` is `async def`, \
                     so nothing of it runs",
                    call.text, callee.qualname
                );
                let help = "Await it (`await ...`), or schedule it and keep the task \
                            (`task = asyncio.create_task(...)`)."
                    .to_owned();
                let cost = Costed::band(cap(exec.frequency, Severity::Medium));
                out.push(cx.emit(&META, Hotspot::call(mi, call, &exec, cost), message, help));
            }
        }
    }
}

/// The function a call target names when it is an undecorated `async def` of the project.
fn coroutine(cx: &RuleContext, target: &str) -> Option<FnRef> {
    let Some((Target::Function(f), _)) = cx.project.resolver.resolve(target) else {
        return None;
    };
    let callee = &cx.project.modules[f.module as usize].functions[f.func as usize];
    (callee.is_async && callee.decorators.is_empty()).then_some(f)
}
