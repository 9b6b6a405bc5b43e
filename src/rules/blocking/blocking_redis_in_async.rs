//! PA107 blocking-redis-in-async: Synchronous Redis command inside `async def`.

use super::BlockingInAsync;
use crate::finding::Severity;
use crate::knowledge::catalog::Effect;
use crate::rules::cost::CostMeta;
use crate::rules::{Category, RuleMeta};

static META: RuleMeta = RuleMeta {
    code: "PA107",
    name: "blocking-redis-in-async",
    category: Category::Blocking,
    default_severity: Severity::Low,
    summary: "Synchronous Redis command inside `async def`",
    cost: CostMeta::calls(&[Effect::Redis]),
    doc: r#"## What it does
Finds commands of the synchronous `redis` client (`redis.Redis`, `StrictRedis`, `from_url`)
executed on the event loop.

## Why is this slow?
Each command is a network round trip. Fast on loopback, but a remote Redis, a large value or a
blocking command (`blpop`, `brpop`) holds the event loop for the whole wait.

## Example
```python
import redis

cache = redis.Redis()

async def get_session(token):
    return cache.get(f"session:{token}")
```

## Use instead
```python
import redis.asyncio as redis

cache = redis.Redis()

async def get_session(token):
    return await cache.get(f"session:{token}")
```

## Cost model
The catalog range: a command against a local `redis-server` measured by `bench/calibrate` is the
floor; blocking commands are costed by their timeout.
"#,
};

/// The rule: the shared event-loop check, for this rule's effects.
pub static RULE: BlockingInAsync = BlockingInAsync::on_loop(&META, &[Effect::Redis]);
