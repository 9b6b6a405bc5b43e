//! PA104 blocking-subprocess-in-async: Synchronous subprocess (`subprocess.run`, `os.system`) inside `async def`.

use super::BlockingInAsync;
use crate::finding::Severity;
use crate::knowledge::catalog::Effect;
use crate::rules::cost::CostMeta;
use crate::rules::{Category, RuleMeta};

static META: RuleMeta = RuleMeta {
    code: "PA104",
    name: "blocking-subprocess-in-async",
    category: Category::Blocking,
    default_severity: Severity::Medium,
    summary: "Synchronous subprocess (`subprocess.run`, `os.system`) inside `async def`",
    cost: CostMeta::calls(&[Effect::Subprocess]),
    doc: r#"## What it does
Finds `subprocess.run/call/check_output/Popen`, `os.system`, `os.popen` and friends executed on
the event loop.

## Why is this slow?
Starting a process costs a fork/exec (milliseconds), and `run`/`check_output`/`os.system` then
wait for the child to finish: the event loop is blocked for the child's whole run time.

## Example
```python
import subprocess

async def transcode(path):
    subprocess.run(["ffmpeg", "-i", path, path + ".wav"], check=True)
```

## Use instead
```python
import asyncio

async def transcode(path):
    proc = await asyncio.create_subprocess_exec("ffmpeg", "-i", path, path + ".wav")
    await proc.wait()
```

## Cost model
The catalog range: process start-up measured by `bench/calibrate`, plus a typical child run.
"#,
};

/// The rule: the shared event-loop check, for this rule's effects.
pub static RULE: BlockingInAsync = BlockingInAsync::on_loop(&META, &[Effect::Subprocess]);
