//! PA116 blocking-wait-in-async: waiting for a thread or a `concurrent.futures` future
//! (`Thread.join()`, `Future.result()`, `Event.wait()`) inside `async def`.

use super::BlockingInAsync;
use crate::finding::Severity;
use crate::knowledge::catalog::Effect;
use crate::rules::cost::CostMeta;
use crate::rules::{Category, RuleMeta};

static META: RuleMeta = RuleMeta {
    code: "PA116",
    name: "blocking-wait-in-async",
    category: Category::Blocking,
    default_severity: Severity::Medium,
    summary: "`Thread.join()`, `Future.result()` or `Event.wait()` inside `async def`",
    cost: CostMeta::calls(&[Effect::Wait]),
    doc: r#"## What it does
Finds calls that wait for work running on another thread — `threading.Thread.join()`,
`concurrent.futures.Future.result()`, `threading.Event.wait()` (catalog effect `wait`) —
executed on the event loop. (`asyncio.run()` and `loop.run_until_complete()` called while a
loop runs in the same thread do not wait: they raise `RuntimeError`, so they are not costed.)

## Why is this slow?
The event loop stops until the other thread finishes: every coroutine, including the ones the
other thread may need to make progress, waits with it. Handing work to a thread and then
joining it on the loop gives back everything the thread was for, and can deadlock when the
thread schedules work on the loop it is blocking.

## Example
```python
import threading

async def export(job):
    worker = threading.Thread(target=job.run)
    worker.start()
    worker.join()
    return job.result
```

## Use instead
```python
import asyncio

async def export(job):
    await asyncio.to_thread(job.run)
    return job.result
```
(`await asyncio.wrap_future(future)` for a `concurrent.futures.Future`, an `asyncio.Event`
for an event.)

## Cost model
As long as the other work takes: the catalog range runs from an already finished future
(microseconds) to a placeholder minute, so the band read from it is low; the real wait is the
other work's length, which the code does not state.

## Known false positives
`future.result()` on a future that `concurrent.futures.wait` already returned as done does not
wait.
"#,
};

/// The rule: the shared event-loop check, for this rule's effect.
pub static RULE: BlockingInAsync = BlockingInAsync::on_loop(&META, &[Effect::Wait]);
