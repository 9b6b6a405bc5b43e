//! PA106 blocking-db-in-async: Synchronous database call (sqlite3, psycopg2, pymysql, pymongo) inside `async def`.

use super::BlockingInAsync;
use crate::finding::Severity;
use crate::knowledge::catalog::Effect;
use crate::rules::cost::CostMeta;
use crate::rules::{Category, RuleMeta};

static META: RuleMeta = RuleMeta {
    code: "PA106",
    name: "blocking-db-in-async",
    category: Category::Blocking,
    default_severity: Severity::Medium,
    summary: "Synchronous database call (sqlite3, psycopg2, pymysql, pymongo) inside `async def`",
    cost: CostMeta::calls(&[Effect::Db]),
    doc: r#"## What it does
Finds queries and commits of synchronous database drivers — `sqlite3`, `psycopg2`, `pymysql`,
`pymongo` — executed on the event loop.

## Why is this slow?
A query waits for the database: a network round trip plus the query's execution, or a file
lock and an fsync for SQLite. On the event loop, every concurrent request waits too.

## Example
```python
import sqlite3

async def get_user(db: sqlite3.Connection, user_id):
    return db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
```

## Use instead
```python
import aiosqlite

async def get_user(db: aiosqlite.Connection, user_id):
    async with db.execute("SELECT * FROM users WHERE id = ?", (user_id,)) as cur:
        return await cur.fetchone()
```

## Cost model
The catalog range for the driver call (SQLite measured by `bench/calibrate`; server databases
cite a typical round trip).
"#,
};

/// The rule: the shared event-loop check, for this rule's effects.
pub static RULE: BlockingInAsync = BlockingInAsync {
    meta: &META,
    effects: &[Effect::Db],
    adjust: None,
    also: None,
};
