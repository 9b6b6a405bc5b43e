//! PA102 blocking-http-in-async: Synchronous HTTP call (requests, urllib, httpx) inside `async def`.

use super::BlockingInAsync;
use crate::finding::Severity;
use crate::knowledge::catalog::Effect;
use crate::rules::cost::CostMeta;
use crate::rules::{Category, RuleMeta};

static META: RuleMeta = RuleMeta {
    code: "PA102",
    name: "blocking-http-in-async",
    category: Category::Blocking,
    default_severity: Severity::High,
    summary: "Synchronous HTTP call (requests, urllib, httpx) inside `async def`",
    cost: CostMeta::calls(&[Effect::Network]),
    doc: r#"## What it does
Finds synchronous network calls — `requests.get/post/...`, `requests.Session` methods,
`urllib.request.urlopen`, `httpx.get` and `httpx.Client` methods — executed on the event loop.

## Why is this slow?
A synchronous HTTP call holds the thread for a DNS lookup, a TCP (and TLS) handshake and the
remote server's whole response time. On the event loop, every concurrent request waits too.
Without a timeout it can hold the loop indefinitely.

## Example
```python
import requests

async def fetch_profile(user_id):
    return requests.get(f"https://api.example.com/users/{user_id}", timeout=5).json()
```

## Use instead
```python
import httpx

async def fetch_profile(client: httpx.AsyncClient, user_id):
    response = await client.get(f"https://api.example.com/users/{user_id}", timeout=5)
    return response.json()
```

## Cost model
The catalog range of the call: a loopback round trip measured by `bench/calibrate` is the
floor; the top of the range is a typical remote API response.

## Known false positives
Calls to a local sidecar answer in about a millisecond; the finding still holds the loop.
"#,
};

/// The rule: the shared event-loop check, for this rule's effects.
pub static RULE: BlockingInAsync = BlockingInAsync::on_loop(&META, &[Effect::Network]);
