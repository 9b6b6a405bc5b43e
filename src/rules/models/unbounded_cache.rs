//! PA204 unbounded-cache: a long-lived dict, list or set that grows on every request and that
//! nothing ever removes from.

use super::containers::{self, model_objects, tensor_source};
use crate::facts::collect::AstRule;
use crate::finding::{Confidence, Finding, Severity};
use crate::project::context::Site;
use crate::rules::cost::CostMeta;
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct UnboundedCache;

static META: RuleMeta = RuleMeta {
    code: "PA204",
    name: "unbounded-cache",
    category: Category::Models,
    default_severity: Severity::Medium,
    summary: "A long-lived dict/list/set grows on every request and is never evicted from",
    cost: CostMeta::band(
        "Memory growth, not latency: a container that grows on every request is medium (probable); its size per entry is not known.",
    ),
    doc: r#"## What it does
Finds containers that live as long as the process — module-level names grown from a request
entry of their own module, and attributes (or class attributes) of an object that serves the
requests itself (its own receive loop) or is built once at module level or in `__main__` —
created as a plain `dict`, `list`, `set`, `defaultdict`, `Counter`,
`OrderedDict` or a `deque` without `maxlen`, that grow on a per-request path (`x[key] = ...`,
`append`, `add`, `update`, `setdefault`, `+=`, or growth of their entries such as
`x[user].append(...)`), when nothing anywhere in the module ever removes from them: no `pop`,
`popitem`, `popleft`, `remove`, `discard`, `clear` or `del x[...]`, no second assignment or
slice that replaces or trims them, no `len(x)` comparison that bounds them, no alias that other
code could trim through; and no module removes from a container of the same name through
another object (`app.get_blocks().pending.pop(session)` on disconnect trims `self.pending`),
unless that object is an attribute its class builds as another class (`self.oauth =
OAuth()`: `self.oauth._clients.pop(k)` trims the library's dict, not this one). Model outputs
kept this way are PA207.

## Why is this slow?
Every distinct key (or every request, for a list) adds an entry that stays until the process
dies. Memory grows with traffic until the service swaps, slows down in the garbage collector, or
is killed by the out-of-memory killer — usually at the busiest moment.

## Example
```python
class Cache:
    def __init__(self):
        self.responses = {}

    def handle_request(self, msg):
        self.responses[msg["key"]] = msg["value"]
        return {"size": len(self.responses)}

CACHE = Cache()
```

## Use instead
```python
from collections import OrderedDict

MAX_ENTRIES = 10_000

class Cache:
    def __init__(self):
        self.responses = OrderedDict()

    def handle_request(self, msg):
        self.responses[msg["key"]] = msg["value"]
        if len(self.responses) > MAX_ENTRIES:
            self.responses.popitem(last=False)
        return {"size": len(self.responses)}

CACHE = Cache()
```

## Cost model
No latency per request: the severity is a memory band. Growth on every request with no
eviction is medium — it ends in an out-of-memory kill, but not within one request.

## Known false positives
A dict keyed by a small fixed set of values (operation names, configured services, file
names) stops growing after the first requests. Growth in the constructor, with a literal key, or
through an object that is not known to live as long as the service is not reported. Eviction
done by another module is seen by the container's name alone: a same-named container of an
unrelated class, trimmed elsewhere through an object of unknown type, hides this one.
"#,
};

impl Rule for UnboundedCache {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        let shared = cx.containers();
        let lifetimes = &shared.lifetimes;
        for (mi, m) in cx.project.modules.iter().enumerate() {
            let containers = &shared.by_module[mi];
            if containers.is_empty() {
                continue;
            }
            let models = model_objects(cx.catalog, m);
            for c in containers {
                let mut sites: Vec<_> = c
                    .grows
                    .iter()
                    .filter(|g| tensor_source(cx.catalog, m, &models, g).is_none())
                    .filter_map(|g| {
                        let exec = cx
                            .project
                            .request_execution(&Site::candidate(mi, g.cand))
                            .filter(|e| e.serves_requests())?;
                        lifetimes
                            .outlives_request(cx.project, mi, c, g, &exec)
                            .then_some((g, exec))
                    })
                    .collect();
                if sites.is_empty() {
                    continue;
                }
                sites.sort_by_key(|(g, _)| (g.cand.line, g.cand.column));
                let (g, exec) = &sites[0];
                let func = &m.functions[g.cand.func as usize].qualname;
                let more = if sites.len() > 1 {
                    let lines: Vec<String> = sites[1..]
                        .iter()
                        .map(|(g, _)| g.cand.line.to_string())
                        .collect();
                    format!("; it also grows per request at line {}", lines.join(", "))
                } else {
                    String::new()
                };
                let message = format!(
                    "`{}` grows on every request (`{}` in `{func}`) and nothing in this module \
                     ever removes from it: no pop/popitem/del/clear, no reassignment or slice, \
                     no size check{more}",
                    c.name,
                    g.cand.text.trim()
                );
                let help = "Bound it: evict once `len()` passes a limit (`popitem(last=False)` on \
                            an `OrderedDict` makes an LRU), use `collections.deque(maxlen=...)`, \
                            `functools.lru_cache(maxsize=...)` or a `cachetools` cache with a \
                            size or TTL."
                    .to_owned();
                let h = Hotspot::candidate(mi, g.cand, exec, Costed::band(Severity::Medium));
                let mut f = cx.emit(&META, h, message, help);
                f.snippet = c.name.clone();
                // The keys may come from a small fixed set the rule cannot see.
                f.confidence = f.confidence.min(Confidence::Probable);
                out.push(f);
            }
        }
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![&containers::HOOK]
    }
}
