//! PA301 regex-compiled-in-hot-path: a regular expression built from data and compiled per
//! request or per loop iteration.

use crate::rules::cost::CostMeta;
use ruff_python_ast::{Expr, InterpolatedStringElement};
use ruff_text_size::Ranged;

use super::report_candidates;
use crate::facts::collect::{AstRule, ExprKinds, LocalContext};
use crate::facts::marks::Mark;
use crate::facts::names::dotted_name;
use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::Effect;
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct RegexInHotPath;

static META: RuleMeta = RuleMeta {
    code: "PA301",
    name: "regex-compiled-in-hot-path",
    category: Category::Cpu,
    default_severity: Severity::Low,
    summary: "Regular expression built from data and compiled on every request or iteration",
    cost: CostMeta::calls(&[Effect::Regex]).no_worst(),
    doc: r#"## What it does
Finds `re.compile(...)`, `re.search(...)`, `re.sub(...)` and the other `re` functions (catalog
entries with the `regex` effect) whose pattern is built in place from values that change — an
f-string, a concatenation, a `.join(...)` or `.format(...)` of variables — on a per-request path
or inside a loop there.

A literal pattern, or a pattern held in an upper-case constant, is never reported: `re` keeps
the last 512 compiled patterns in a cache keyed by the pattern text, so compiling the same text
again is a dictionary lookup of well under a microsecond. Compiling a literal at module level is
the usual idiom and costs nothing per request.

## Why is this slow?
Compiling a pattern parses it and builds its matcher: tens of microseconds for a simple
pattern, more for large alternations. A pattern built from request data is new text every time,
so the cache cannot help, and a loop of distinct patterns also evicts the cached ones the rest
of the program relies on.

## Example
```python
import re

def handle_request(msg, routes):
    for route in routes:
        words = "|".join(re.escape(k) for k in route["keywords"])
        if re.search(rf"\b(?:{words})\b", msg["text"]):
            return route["agent"]
```

## Use instead
```python
import re

def compile_routes(routes):
    return [
        (re.compile(r"\b(?:" + "|".join(re.escape(k) for k in r["keywords"]) + r")\b"), r["agent"])
        for r in routes
    ]

def handle_request(msg, compiled_routes):
    for pattern, agent in compiled_routes:
        if pattern.search(msg["text"]):
            return agent
```

## Cost model
The catalog range for the `re` function, from a cache hit to a compile on a miss, ×10 inside a
loop. The result is usually **low**: precompiling is cheap to do, but it rarely dominates.

## Known false positives
A pattern built from a small fixed set of values (configuration read at startup) hits the cache
after the first requests; the finding then overstates the cost but the fix is still free.
"#,
};

impl Rule for RegexInHotPath {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![self]
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        report_candidates(&META, cx, out, &|m, c, ctx, _, cost| {
            let func = &m.functions[c.func as usize].qualname;
            let where_ = ctx.phrase();
            Some((
                format!(
                    "`{}` compiles a pattern built from data in `{func}` {where_} (~{cost})",
                    c.mark.note()
                ),
                "Compile the pattern once (at module level, or when the data it is built from is \
                 loaded) and reuse the compiled object."
                    .to_owned(),
            ))
        });
    }
}

impl AstRule for RegexInHotPath {
    fn code(&self) -> &'static str {
        META.code
    }

    fn exprs(&self) -> ExprKinds {
        ExprKinds::CALL
    }

    fn check_expr(&self, expr: &Expr, cx: &mut LocalContext) {
        let Expr::Call(call) = expr else { return };
        // The pattern's shape first: most calls pass none built in place, and looking their
        // callee up in the catalog was most of this hook's cost (130 M instructions on the
        // standard library).
        let pattern = call.arguments.args.first().or_else(|| {
            call.arguments
                .keywords
                .iter()
                .find(|k| k.arg.as_ref().is_some_and(|a| a.id.as_str() == "pattern"))
                .map(|k| &k.value)
        });
        let Some(pattern) = pattern.filter(|p| built_in_place(p)) else {
            return;
        };
        let Some(api) = cx.callee_api(call) else {
            return;
        };
        if cx.catalog.get(api).effect != Effect::Regex {
            return;
        }
        let Some(callee) = dotted_name(&call.func) else {
            return;
        };
        if varies(pattern) {
            cx.report_api(call.range(), Mark::Note(callee), Some(api));
        }
    }
}

/// A pattern put together at the call: a plain name or attribute may be a constant compiled
/// once and found in `re`'s cache, so only expressions that build text are considered.
fn built_in_place(expr: &Expr) -> bool {
    matches!(expr, Expr::FString(_) | Expr::BinOp(_) | Expr::Call(_))
}

/// Whether the text of `expr` can differ between evaluations: it reads a variable that is not
/// an upper-case constant.
fn varies(expr: &Expr) -> bool {
    // Concatenation chains can nest arbitrarily deep: grow the stack as needed.
    stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || varies_inner(expr))
}

fn varies_inner(expr: &Expr) -> bool {
    match expr {
        Expr::StringLiteral(_)
        | Expr::BytesLiteral(_)
        | Expr::NumberLiteral(_)
        | Expr::BooleanLiteral(_)
        | Expr::NoneLiteral(_) => false,
        Expr::Name(n) => !is_constant_name(n.id.as_str()),
        Expr::Attribute(a) => !is_constant_name(a.attr.id.as_str()),
        Expr::FString(f) => f.value.elements().any(|e| match e {
            InterpolatedStringElement::Interpolation(i) => varies(&i.expression),
            InterpolatedStringElement::Literal(_) => false,
        }),
        Expr::BinOp(b) => varies(&b.left) || varies(&b.right),
        // `"|".join(WORDS)`, `re.escape(word)`, `"{}".format(x)`: what varies is the arguments
        // (and the receiver of a method called on a value).
        Expr::Call(c) => {
            let receiver_varies = match &*c.func {
                Expr::Attribute(a) => !matches!(&*a.value, Expr::Name(_)) && varies(&a.value),
                _ => false,
            };
            receiver_varies
                || c.arguments.args.iter().any(varies)
                || c.arguments.keywords.iter().any(|k| varies(&k.value))
        }
        _ => true,
    }
}

/// `ROUTES`, `_PREFIX`, `RE_2`: the conventional spelling of a module constant.
fn is_constant_name(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}
