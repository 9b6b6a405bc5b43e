//! PA401 client-per-request: a pooled client (HTTP session, Redis client, cloud SDK client,
//! database connection) constructed on every request and thrown away.

use super::{LAZY_INIT_HOOK, report_creations};
use crate::facts::collect::AstRule;
use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::Effect;
use crate::rules::cost::CostMeta;
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct ClientPerRequest;

static META: RuleMeta = RuleMeta {
    code: "PA401",
    name: "client-per-request",
    category: Category::Pooling,
    default_severity: Severity::Low,
    summary: "Client or connection pool created per request instead of once",
    cost: CostMeta::calls(&[Effect::Connection])
        .no_worst()
        .then_on_it(),
    doc: r#"## What it does
Finds constructors of pooled clients — `requests.Session`, `httpx.Client`/`AsyncClient`,
`aiohttp.ClientSession`, `redis.Redis`, `boto3.client`, `pymongo.MongoClient`, gRPC channels,
... (catalog entries with the `connection` effect) — called on a per-request path: a request
handler, a receive loop, or code on the event loop. `with Client() as c:` and
`async with aiohttp.ClientSession() as s:` per request are reported too: closing the client
also closes its pool.

Clients created in `__init__`, at module level, in a startup hook or FastAPI `lifespan`, stored
on an attribute (`self.client = ...`, `app.state.http = ...`) or created lazily under a test
of the name they are assigned to (`if _session is None: _session = ...`) are not reported; nor
are those made in a memoised function (`@functools.cache`), or in a constructor or helper whose
every caller keeps the result per key (`if token not in BOTS: BOTS[token] = Bot(token)`).

## Why is this slow?
A client owns a connection pool. A new one has no open connections, so the request pays a DNS
lookup, a TCP connect and often a TLS handshake (a millisecond on a LAN, tens of milliseconds
across the internet) that a long-lived client would have reused, and the server sees a new
connection per request.

## Example
```python
import requests

def handle_request(msg):
    with requests.Session() as session:
        return session.get(msg["url"], timeout=5).json()
```

## Use instead
```python
import requests

SESSION = requests.Session()

def handle_request(msg):
    return SESSION.get(msg["url"], timeout=5).json()
```

## Cost model
The catalog range for the constructor, which includes the first connection the new pool has
to open, then the catalog range of what the function does on the client it made (its
requests, a `commit()`, the commit a `sqlite3` connection makes at the end of its `with`
block), each with its stated worst case (`timeout=`); ×10 inside a loop, and a call on the
client in a loop the constructor is not in counts that loop too.

## Known false positives
A client that must differ per request (per-tenant credentials) cannot be shared as is; cache
one per tenant instead.
"#,
};

impl Rule for ClientPerRequest {
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
            Effect::Connection,
            &|func, call, phrase, cost| {
                let message = format!(
                    "`{}` builds a new client in `{func}` {phrase}: its pool starts empty, so each \
                 call opens fresh connections (~{cost})",
                    call.target
                );
                let help = "Create the client once (module level, `__init__`, or the app's startup/lifespan) \
             and reuse it across requests."
                .to_owned();
                (message, help)
            },
        );
    }
}
