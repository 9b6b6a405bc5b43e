//! PA109 blocking-input-in-async: `input()` inside `async def` blocks the event loop until a human answers.

use super::BlockingInAsync;
use crate::finding::Severity;
use crate::knowledge::catalog::Effect;
use crate::rules::cost::CostMeta;
use crate::rules::{Category, RuleMeta};

static META: RuleMeta = RuleMeta {
    code: "PA109",
    name: "blocking-input-in-async",
    category: Category::Blocking,
    default_severity: Severity::Critical,
    summary: "`input()` inside `async def` blocks the event loop until a human answers",
    cost: CostMeta::calls(&[Effect::Input]),
    doc: r#"## What it does
Finds the builtin `input()` executed on the event loop.

## Why is this slow?
`input()` waits for a person to type a line. Nothing else on the event loop runs until they do.

## Example
```python
async def confirm(action):
    return input(f"Run {action}? [y/N] ") == "y"
```

## Use instead
```python
import asyncio

async def confirm(action):
    answer = await asyncio.to_thread(input, f"Run {action}? [y/N] ")
    return answer == "y"
```

## Cost model
Unbounded: costed by the catalog as human response time (seconds).
"#,
};

/// The rule: the shared event-loop check, for this rule's effects.
pub static RULE: BlockingInAsync = BlockingInAsync::on_loop(&META, &[Effect::Input]);
