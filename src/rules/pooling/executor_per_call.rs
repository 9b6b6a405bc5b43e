//! PA403 executor-per-call: a thread or process pool created per request and shut down after.

use super::{LAZY_INIT_HOOK, report_creations};
use crate::facts::collect::AstRule;
use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::Effect;
use crate::rules::cost::CostMeta;
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct ExecutorPerCall;

static META: RuleMeta = RuleMeta {
    code: "PA403",
    name: "executor-per-call",
    category: Category::Pooling,
    default_severity: Severity::Low,
    summary: "Thread or process pool created per request",
    cost: CostMeta::calls(&[Effect::Executor]).no_worst().then_on_it(),
    doc: r#"## What it does
Finds constructors of worker pools — `concurrent.futures.ThreadPoolExecutor`,
`ProcessPoolExecutor`, `multiprocessing.Pool` (catalog entries with the `executor` effect) —
on a per-request path, including inside loops there. Pools created at startup, stored on an
attribute, created lazily under a test of their name, in a memoised function or below a call
whose result is kept per key are not reported.

## Why is this slow?
A pool starts its workers on demand and `shutdown()` (the end of a `with` block) joins them:
every request pays thread creation and teardown, and a process pool pays process start-up and
module imports in each worker, tens to hundreds of milliseconds. A long-lived pool also bounds
the total concurrency of the service; pools per request multiply it without limit under load.

## Example
```python
from concurrent.futures import ThreadPoolExecutor

def handle_request(msg, fetch):
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(fetch, msg["urls"]))
```

## Use instead
```python
from concurrent.futures import ThreadPoolExecutor

POOL = ThreadPoolExecutor(max_workers=8)

def handle_request(msg, fetch):
    return list(POOL.map(fetch, msg["urls"]))
```

## Cost model
The catalog range for starting and joining the pool, then the wait at the end of its `with`
block for the work it was handed (`pool.map(fn, ...)`, `pool.submit(fn, ...)`, a function or a
lambda): the catalog calls of one task, outside `except` handlers, following project calls
three deep, with their stated worst case (a `timeout=`, a socket's `RCVTIMEO`). Tasks run in
parallel, so one task is the least the wait can be. ×10 inside a loop.

## Known false positives
A pool whose size must follow each request's data (one worker per item) can still be shared,
with the size set to the service's concurrency limit.
"#,
};

impl Rule for ExecutorPerCall {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![&LAZY_INIT_HOOK, &crate::rules::models::lazy::HOOK]
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        report_creations(
            &META,
            cx,
            out,
            Effect::Executor,
            &|func, call, phrase, cost| {
                let message = format!(
                    "`{}` starts and joins a new worker pool in `{func}` {phrase} (~{cost})",
                    call.target
                );
                let help =
                    "Create the pool once at startup and submit to it from every request; shut it \
             down when the service stops."
                        .to_owned();
                (message, help)
            },
        );
    }
}
