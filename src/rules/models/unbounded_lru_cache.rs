//! PA205 unbounded-lru-cache: `functools.lru_cache(maxsize=None)` / `functools.cache` on a
//! method, or on a function whose arguments take many distinct values.

use crate::rules::cost::CostMeta;
use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::Ranged;

use crate::facts::collect::{AstRule, ExprKinds, LocalContext};
use crate::facts::marks::Mark;
use crate::facts::names::dotted_name;
use crate::facts::{FnKind, FuncId, ModuleFacts, Name, Resolution};
use crate::finding::{ChainStep, Finding, Severity};
use crate::project::context::{Execution, Site};
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

/// Parameter names (or `_`-separated parts of them) that usually carry free text, paths or
/// payloads: values that rarely repeat, so a memo keyed by them only grows.
const HIGH_CARDINALITY: &[&str] = &[
    "body", "content", "data", "document", "html", "input", "message", "msg", "path", "payload",
    "prompt", "query", "question", "sentence", "sql", "string", "text", "uri", "url",
];

pub struct UnboundedLruCache;

static META: RuleMeta = RuleMeta {
    code: "PA205",
    name: "unbounded-lru-cache",
    category: Category::Models,
    default_severity: Severity::Medium,
    summary: "Unbounded `lru_cache`/`cache` on a method or on free-text arguments",
    cost: CostMeta::band(
        "Memory growth, not latency: an unbounded memo on a request path is medium, lower off it.",
    ),
    doc: r#"## What it does
Finds `@functools.lru_cache(maxsize=None)` and `@functools.cache` on a method that takes
arguments, or on a function with a parameter that usually carries free text, paths or payloads
(`text`, `prompt`, `query`, `url`, `path`, `message`, ...), when the function is called on a
per-request path. A bounded `lru_cache(maxsize=N)` on a module function is fine and is not
reported.

## Why is this slow?
An unbounded memo keeps every distinct argument tuple and its result for the life of the
process. Keyed by prompts or URLs, it grows with traffic and never shrinks. On a method the key
includes `self`, so the cache also keeps every instance (and everything it holds — a model, a
connection) alive forever.

## Example
```python
import functools

class Tokenizer:
    @functools.lru_cache(maxsize=None)
    def count(self, text):
        return len(text.split())

    def handle_request(self, msg):
        return {"tokens": self.count(msg["text"])}
```

## Use instead
```python
import functools

@functools.lru_cache(maxsize=4096)
def count_tokens(text):
    return len(text.split())

class Tokenizer:
    def handle_request(self, msg):
        return {"tokens": count_tokens(msg["text"])}
```

## Cost model
A memory band, not a latency: medium when the arguments are free text, paths or payloads, low
for a method whose other arguments are not.

## Known false positives
A parameter named like free text that only takes a few values in practice keeps a small memo.
"#,
};

struct Hook;

impl AstRule for Hook {
    fn code(&self) -> &'static str {
        META.code
    }

    fn exprs(&self) -> ExprKinds {
        ExprKinds::NONE
    }

    fn check_stmt(&self, stmt: &Stmt, cx: &mut LocalContext) {
        let Stmt::FunctionDef(f) = stmt else { return };
        for d in &f.decorator_list {
            let (callee, call) = match &d.expression {
                Expr::Call(c) => (&*c.func, Some(c)),
                e => (e, None),
            };
            let Some(name) = dotted_name(callee).map(|n| cx.resolve(&n)) else {
                continue;
            };
            let unbounded = match (name.as_str(), call) {
                ("functools.cache", _) => Some("@functools.cache"),
                ("functools.lru_cache", Some(c)) => {
                    let maxsize = c
                        .arguments
                        .keywords
                        .iter()
                        .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "maxsize"))
                        .map(|k| &k.value)
                        .or(c.arguments.args.first());
                    matches!(maxsize, Some(Expr::NoneLiteral(_)))
                        .then_some("@functools.lru_cache(maxsize=None)")
                }
                _ => None,
            };
            if let Some(kind) = unbounded {
                let params: Vec<String> = f
                    .parameters
                    .iter()
                    .map(|p| p.name().id.to_string())
                    .collect();
                let decorator = Name::from(kind);
                let params = params.into_boxed_slice();
                cx.report(d.range(), Mark::Memo { decorator, params });
            }
        }
    }
}

impl Rule for UnboundedLruCache {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        for (mi, m) in cx.project.modules.iter().enumerate() {
            for cand in m.candidates.iter().filter(|c| c.code == META.code) {
                let Mark::Memo {
                    decorator: kind,
                    params,
                } = &cand.mark
                else {
                    continue;
                };
                let Some(fid) = decorated(m, cand.func, cand.line) else {
                    continue;
                };
                let f = &m.functions[fid as usize];
                let bound_first =
                    f.kind == FnKind::Method && !f.decorators.iter().any(|d| d == "staticmethod");
                let is_method = bound_first && !f.decorators.iter().any(|d| d == "classmethod");
                let args: Vec<&str> = params
                    .iter()
                    .map(String::as_str)
                    .skip(usize::from(bound_first))
                    .collect();
                let free_text: Vec<&str> =
                    args.iter().copied().filter(|p| is_free_text(p)).collect();
                let severity = match (is_method, free_text.is_empty(), args.is_empty()) {
                    (_, false, _) => Severity::Medium,
                    (true, true, false) => Severity::Low,
                    _ => continue,
                };
                let Some(exec) = repeated_execution(cx, mi, fid) else {
                    continue;
                };
                let mut why = Vec::new();
                if !free_text.is_empty() {
                    why.push(format!(
                        "keyed by `{}`, which rarely repeats",
                        free_text.join("`, `")
                    ));
                }
                if is_method {
                    why.push("the key includes `self`, so every instance stays alive".to_owned());
                }
                let message = format!(
                    "`{kind}` on `{}` memoises without bound: {}; the memo grows with every \
                     distinct call and is never evicted",
                    f.qualname,
                    why.join("; ")
                );
                let help = if is_method {
                    "Move the memo to a module-level function with `lru_cache(maxsize=N)` keyed by \
                     the arguments only, or keep a bounded per-instance cache."
                } else {
                    "Give the memo a bound: `functools.lru_cache(maxsize=N)` (or a `cachetools` \
                     cache with a TTL)."
                };
                let snippet = f.qualname.clone();
                let h = Hotspot::candidate(mi, cand, &exec, Costed::band(severity));
                let mut finding = cx.emit(&META, h, message, help.to_owned());
                finding.snippet = snippet;
                out.push(finding);
            }
        }
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![&Hook]
    }
}

/// The function whose decorator sits at `line`, defined directly in scope `parent`.
fn decorated(m: &ModuleFacts, parent: FuncId, line: u32) -> Option<FuncId> {
    m.functions
        .iter()
        .position(|f| {
            f.parent == Some(parent)
                && f.kind != FnKind::Lambda
                && f.line <= line
                && line <= f.end_line
        })
        .map(|i| i as FuncId)
}

fn is_free_text(param: &str) -> bool {
    let lower = param.to_ascii_lowercase();
    lower.split('_').any(|part| {
        HIGH_CARDINALITY
            .iter()
            .any(|h| part == *h || part.strip_suffix('s') == Some(h))
    })
}

/// A per-request execution of the memoised function: its own, or that of a call to it from
/// this module (with the function appended to the chain).
fn repeated_execution(cx: &RuleContext, mi: usize, fid: FuncId) -> Option<Execution> {
    let m = &cx.project.modules[mi];
    let f = &m.functions[fid as usize];
    if let Some(exec) = cx
        .project
        .request_execution(&Site::def(cx.project, mi, fid))
        .filter(|e| e.serves_requests())
    {
        return Some(exec);
    }
    let target = if m.module.is_empty() {
        f.qualname.clone()
    } else {
        format!("{}.{}", m.module, f.qualname)
    };
    m.calls
        .iter()
        .filter(|c| {
            matches!(c.resolution, Resolution::SelfMethod | Resolution::Local) && c.target == target
        })
        .find_map(|c| {
            cx.project
                .request_execution(&Site::call(mi, c))
                .filter(|e| e.serves_requests())
        })
        .map(|mut exec| {
            exec.chain.push(ChainStep {
                path: m.path.clone(),
                line: f.line,
                function: f.qualname.clone(),
                entry: None,
                via: None,
                library: false,
            });
            exec
        })
}
