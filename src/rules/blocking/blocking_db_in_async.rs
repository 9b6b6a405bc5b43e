//! PA106 blocking-db-in-async: Synchronous database call (sqlite3, psycopg2, pymysql, pymongo) inside `async def`.

use super::BlockingInAsync;
use crate::facts::{Call, ModuleFacts};
use crate::finding::Finding;
use crate::finding::Severity;
use crate::knowledge::catalog::Effect;
use crate::knowledge::frameworks::QueryChain;
use crate::knowledge::wildcard::Patterns;
use crate::project::context::Site;
use crate::rules::RuleContext;
use crate::rules::cost::CostMeta;
use crate::rules::emit::{Costed, Hotspot};
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
`pymongo` — executed on the event loop, and queries of an ORM's synchronous API that a
framework profile describes as a query chain (Django: `Product.objects.get(...)`,
`Product.objects.filter(...).first()`; the awaited `aget`/`afirst` forms are fine).

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
    also: Some(query_chains_on_the_loop),
    ..BlockingInAsync::on_loop(&META, &[Effect::Db])
};

/// Queries run by a framework's fluent query API (`Product.objects.filter(...).first()`, from a
/// profile's `query_chain`) on the event loop: the chain's terminal method runs the query
/// synchronously. The awaited async forms (`await Product.objects.afirst()`) do not match.
fn query_chains_on_the_loop(cx: &RuleContext, out: &mut Vec<Finding>) {
    let frameworks = &cx.project.frameworks;
    for (mi, m) in cx.project.modules.iter().enumerate() {
        let set = cx.project.profiles_of(mi);
        let chains: Vec<_> = frameworks.query_chains(&set).collect();
        if chains.is_empty() {
            continue;
        }
        for call in &m.calls {
            if call.awaited() || call.api.is_some() {
                continue;
            }
            let Some((receiver, method)) = call.text.rsplit_once('.') else {
                continue;
            };
            let Some((chain, _)) = chains.iter().find(|(q, root)| {
                q.runs.iter().any(|r| r == method) && starts_chain(m, call, receiver, q, root)
            }) else {
                continue;
            };
            let name = format!("{}.{method}", chain.api);
            let Some(entry) = cx.catalog.lookup(&name).map(|id| cx.catalog.get(id)) else {
                continue;
            };
            let Some(exec) = cx.project.loop_execution(&Site::call(mi, call)) else {
                continue;
            };
            let per = crate::rules::call_cost(cx, mi, call, entry);
            let func = &m.functions[call.func as usize].qualname;
            let message = format!(
                "`{}` runs a {} query synchronously on the event loop in `{func}` (~{} per call)",
                query_text(m, call),
                chain.what,
                per.range()
            );
            let help = entry.async_alternative.as_ref().map_or_else(
                || "Offload it with `await asyncio.to_thread(...)`.".to_owned(),
                |alt| format!("Use {alt}."),
            );
            let cost = Costed::latency(&per, &exec);
            out.push(cx.emit(&META, Hotspot::call(mi, call, &exec, cost), message, help));
        }
    }
}

/// The call made just before `call` in the same chain: same function, same start, ending
/// first (`Product.objects.filter(...)` in `Product.objects.filter(...).first()`).
fn inner_call<'m>(m: &'m ModuleFacts, call: &Call) -> Option<&'m Call> {
    m.calls
        .iter()
        .filter(|c| {
            c.func == call.func
                && (c.line, c.column) == (call.line, call.column)
                && (c.end_line(), c.end_column()) < (call.end_line(), call.end_column())
        })
        .max_by_key(|c| (c.end_line(), c.end_column()))
}

/// Whether `receiver` (the text before a call's method) is a chain's root, or the result of a
/// lazy method of a chain that starts at the root.
fn starts_chain(
    m: &ModuleFacts,
    call: &Call,
    receiver: &str,
    chain: &QueryChain,
    root: &Patterns,
) -> bool {
    if root.is_match(receiver) {
        return true;
    }
    if receiver != "<call>" {
        return false;
    }
    let Some(inner) = inner_call(m, call) else {
        return false;
    };
    let Some((inner_receiver, inner_method)) = inner.text.rsplit_once('.') else {
        return false;
    };
    chain.lazy.iter().any(|l| l == inner_method)
        && starts_chain(m, inner, inner_receiver, chain, root)
}

/// The chain as written, from its root: `Product.objects.filter(...).first`.
fn query_text(m: &ModuleFacts, call: &Call) -> String {
    match call.text.strip_prefix("<call>") {
        Some(rest) => match inner_call(m, call) {
            Some(inner) => format!("{}(...){rest}", query_text(m, inner)),
            None => call.text.to_string(),
        },
        None => call.text.to_string(),
    }
}
