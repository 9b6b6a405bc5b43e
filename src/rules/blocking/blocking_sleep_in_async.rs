//! PA101 blocking-sleep-in-async: `time.sleep` inside `async def` blocks the event loop.

use super::BlockingInAsync;
use crate::finding::Severity;
use crate::knowledge::catalog::Effect;
use crate::rules::cost::CostMeta;
use crate::rules::{Category, RuleMeta};

static META: RuleMeta = RuleMeta {
    code: "PA101",
    name: "blocking-sleep-in-async",
    category: Category::Blocking,
    default_severity: Severity::High,
    summary: "`time.sleep` inside `async def` blocks the event loop",
    cost: CostMeta::calls(&[Effect::Sleep]),
    doc: r#"## What it does
Finds `time.sleep(...)` executed on the event loop: directly inside an `async def`.

## Why is this slow?
`time.sleep` suspends the whole thread. In an `async def` that thread is the event loop, so
every other coroutine of the service — every concurrent request, heartbeat and timeout — waits
for the full duration. The cost is the literal duration when it is written as a number.

## Example
```python
import time

async def handle(request):
    time.sleep(0.5)
    return {"ok": True}
```

## Use instead
```python
import asyncio

async def handle(request):
    await asyncio.sleep(0.5)
    return {"ok": True}
```

## Cost model
The literal duration (`time.sleep(0.5)` costs 500 ms); otherwise the catalog range for
`time.sleep`. Inside a loop, ×10 (the default repetition).

## Known false positives
A service that runs a private event loop for one request at a time pays the same latency but
stalls nothing else; the finding's cost is still real.
"#,
};

/// The rule: the shared event-loop check, for this rule's effects.
pub static RULE: BlockingInAsync = BlockingInAsync::on_loop(&META, &[Effect::Sleep]);
