//! PA114 cpu-heavy-call-in-async: CPU-heavy library work (password hashing, image processing)
//! inside `async def`.

use super::BlockingInAsync;
use crate::finding::Severity;
use crate::knowledge::catalog::Effect;
use crate::rules::cost::CostMeta;
use crate::rules::{Category, RuleMeta};

static META: RuleMeta = RuleMeta {
    code: "PA114",
    name: "cpu-heavy-call-in-async",
    category: Category::Blocking,
    default_severity: Severity::High,
    summary: "CPU-heavy library call (password hashing, image processing) inside `async def`",
    cost: CostMeta::calls(&[Effect::Cpu]),
    doc: r#"## What it does
Finds catalog calls that keep a CPU busy for a millisecond or more — `bcrypt.hashpw`,
`bcrypt.checkpw`, `hashlib.pbkdf2_hmac`, Pillow's `resize` and `thumbnail`, `pandas` row
iteration — executed on the event loop. Cheaper CPU calls (a list scan, a path join) are left
to the rules about loops and lookups.

## Why is this slow?
The event loop runs one callback at a time. A 200 ms password hash in a login handler holds
every other request for 200 ms, whatever they wait for; `asyncio` cannot switch away from code
that never awaits.

## Example
```python
import bcrypt

async def login(form):
    user = await users.get(form.name)
    return bcrypt.checkpw(form.password.encode(), user.hash)
```

## Use instead
```python
import asyncio
import bcrypt

async def login(form):
    user = await users.get(form.name)
    return await asyncio.to_thread(bcrypt.checkpw, form.password.encode(), user.hash)
```
(`bcrypt` and `hashlib` release the GIL while they hash, so a thread runs them in parallel; for
pure-Python CPU work use a process pool.)

## Cost model
The catalog's measured range for one call (`bench/calibrate/crypto_hash.py`,
`bench/calibrate/sdk_ops.py`); calls whose typical cost is under 1 ms are not reported.
"#,
};

/// The rule: the shared event-loop check, for CPU work of a millisecond or more.
pub static RULE: BlockingInAsync = BlockingInAsync {
    floor_ms: 1.0,
    ..BlockingInAsync::on_loop(&META, &[Effect::Cpu])
};
