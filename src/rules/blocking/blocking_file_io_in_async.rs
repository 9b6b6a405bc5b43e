//! PA103 blocking-file-io-in-async: Synchronous file I/O (`open`, `pathlib` reads and writes) inside `async def`.

use super::BlockingInAsync;
use crate::finding::Severity;
use crate::knowledge::catalog::Effect;
use crate::rules::cost::CostMeta;
use crate::rules::{Category, RuleMeta};

static META: RuleMeta = RuleMeta {
    code: "PA103",
    name: "blocking-file-io-in-async",
    category: Category::Blocking,
    default_severity: Severity::Low,
    summary: "Synchronous file I/O (`open`, `pathlib` reads and writes) inside `async def`",
    cost: CostMeta::calls(&[Effect::Disk]),
    doc: r#"## What it does
Finds synchronous file operations — `open`, `pathlib.Path.read_text/write_text/...`, `shutil`
copies and removals — executed on the event loop.

## Why is this slow?
Local file I/O is usually fast when the page cache is warm, but a cold read, a network file
system or a large file blocks the loop for milliseconds to seconds, and every concurrent
request waits with it.

## Example
```python
async def read_prompt(name):
    with open(f"prompts/{name}.txt") as f:
        return f.read()
```

## Use instead
```python
import asyncio
from pathlib import Path

async def read_prompt(name):
    return await asyncio.to_thread(Path(f"prompts/{name}.txt").read_text)
```

## Cost model
The catalog range for the operation (measured on a small file by `bench/calibrate`). Usually
low; it matters inside loops and on slow disks.

## Known false positives
Reading a small file once per process is harmless; move it to startup to silence the finding.
"#,
};

/// The rule: the shared event-loop check, for this rule's effects.
pub static RULE: BlockingInAsync = BlockingInAsync::on_loop(&META, &[Effect::Disk]);
