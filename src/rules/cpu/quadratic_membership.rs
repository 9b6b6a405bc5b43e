//! PA302 quadratic-membership: a linear search of a list repeated inside a loop.

use crate::rules::cost::CostMeta;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{CmpOp, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use super::{report_candidates, tracked_name};
use crate::facts::collect::{AstRule, ExprKinds, LocalContext};
use crate::facts::kinds::ValueKind;
use crate::facts::marks::Mark;
use crate::finding::{Finding, Severity};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct QuadraticMembership;

/// List methods that scan the list from the start (a Python-language fact): each is O(len).
const SCANNING_METHODS: &[&str] = &["count", "index", "remove"];

static META: RuleMeta = RuleMeta {
    code: "PA302",
    name: "quadratic-membership",
    category: Category::Cpu,
    default_severity: Severity::Low,
    summary: "`x in some_list` (or `.index`/`.remove`/`.count`) inside a loop: a quadratic scan",
    cost: CostMeta::entries(&["list.__contains__"]),
    doc: r#"## What it does
Finds `x in items`, `x not in items`, `items.index(x)`, `items.remove(x)` and `items.count(x)`
inside a loop (or comprehension), on a per-request path, when `items` is known to be a list
that was built before the loop: bound in the same function to `[]`, a list comprehension,
`list(...)` or `sorted(...)`, annotated as `list`, or (for `self.items`) assigned such a value
in a method of the class seen earlier.

It also finds the same search written by hand: a `for` loop nested in another loop whose body
tests `if <item> == <value from outside>:` and then `break`s or `return`s — a linear search for a
match, repeated for every outer item.

Sets, dicts, strings and tuples are never reported, nor is a name whose kind is not known, nor
a list written out element by element (`["a", "b"]`): its length is fixed by the source text.
An inner loop that visits every pair without stopping at a match, or that compares against a
literal, is not a search and is not reported.

## Why is this slow?
A list membership test compares against every element until it finds a match. Done once per
iteration of a loop over another collection, the work is the product of the two sizes: 10,000
rows checked against 1,000 ids is ten million comparisons, where a set lookup would be 10,000
hash probes.

## Example
```python
def handle_request(msg):
    pinned = [p["id"] for p in msg["pinned"]]
    scored = []
    for row in msg["rows"]:
        if row["id"] in pinned:
            scored.append(row)
    return scored
```

## Use instead
```python
def handle_request(msg):
    pinned = {p["id"] for p in msg["pinned"]}
    scored = []
    for row in msg["rows"]:
        if row["id"] in pinned:
            scored.append(row)
    return scored
```

## Cost model
The catalog range for one scan of a typical list (`list.__contains__`, `list.index`, ...),
×10 for the enclosing loop. Small lists make it **low**; the finding is about growth, since the
cost rises with the product of both sizes. A search loop written in Python costs several times
more per element than `in`, so its estimate is a floor.

## Known false positives
A list that is known by the author to stay tiny (a handful of items) costs nothing measurable.
"#,
};

impl Rule for QuadraticMembership {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![self]
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        report_candidates(&META, cx, out, &|m, c, ctx, _, cost| {
            // A receive loop runs once per request: one scan per request is linear, not
            // quadratic.
            if ctx.repeats == 0 {
                return None;
            }
            let func = &m.functions[c.func as usize].qualname;
            if let Mark::Search { iter } = &c.mark {
                return Some((
                    format!(
                        "`{}` searches `{iter}` for a match on every iteration of an outer loop \
                         in `{func}` (~{cost} or more, growing with both sizes)",
                        c.text
                    ),
                    format!(
                        "Index `{iter}` once before the outer loop (a dict keyed by the compared \
                         value) and look each match up in it."
                    ),
                ));
            }
            Some((
                format!(
                    "`{}` scans the list `{}` on every iteration of a loop in `{func}` (~{cost}, \
                     growing with both sizes)",
                    c.text,
                    c.mark.note()
                ),
                format!(
                    "Build a set (or a dict keyed by what you look up) from `{}` once before the \
                     loop and test membership against it.",
                    c.mark.note()
                ),
            ))
        });
    }
}

impl AstRule for QuadraticMembership {
    fn code(&self) -> &'static str {
        META.code
    }

    fn exprs(&self) -> ExprKinds {
        ExprKinds::CALL.with(ExprKinds::COMPARE)
    }

    fn check_stmt(&self, stmt: &Stmt, cx: &mut LocalContext) {
        // The `for` statement is seen before its own loop is entered: depth 1 means nested.
        let Stmt::For(f) = stmt else { return };
        if cx.loop_depth == 0 {
            return;
        }
        let mut targets = Names::default();
        targets.visit_expr(&f.target);
        if targets.names.is_empty() || !f.body.iter().any(|s| is_match_test(s, &targets.names)) {
            return;
        }
        let Some(api) = cx.catalog.lookup("list.__contains__") else {
            return;
        };
        let iter = cx.source_text(f.iter.range()).to_owned();
        let header = TextRange::new(f.start(), f.iter.end());
        cx.report_api(header, Mark::Search { iter }, Some(api));
    }

    fn check_expr(&self, expr: &Expr, cx: &mut LocalContext) {
        if cx.loop_depth == 0 {
            return;
        }
        match expr {
            Expr::Compare(cmp) => {
                for (op, right) in cmp.ops.iter().zip(cmp.comparators.iter()) {
                    if matches!(op, CmpOp::In | CmpOp::NotIn) {
                        report_if_list(cx, right, "list.__contains__", expr);
                    }
                }
            }
            Expr::Call(call) => {
                if let Expr::Attribute(a) = &*call.func
                    && SCANNING_METHODS.contains(&a.attr.id.as_str())
                {
                    let api = format!("list.{}", a.attr.id);
                    report_if_list(cx, &a.value, &api, expr);
                }
            }
            _ => {}
        }
    }
}

/// `if <expr of the loop item> == <non-literal expr without it>:` whose body stops the loop.
fn is_match_test(stmt: &Stmt, targets: &[String]) -> bool {
    let Stmt::If(i) = stmt else { return false };
    let Expr::Compare(cmp) = &*i.test else {
        return false;
    };
    if cmp.ops.len() != 1 || cmp.ops[0] != CmpOp::Eq {
        return false;
    }
    let uses = |e: &Expr| {
        let mut n = Names::default();
        n.visit_expr(e);
        n.names.iter().any(|x| targets.contains(x))
    };
    let (left, right) = (&*cmp.left, &cmp.comparators[0]);
    let one_sided = match (uses(left), uses(right)) {
        (true, false) => !is_literal(right),
        (false, true) => !is_literal(left),
        _ => false,
    };
    one_sided
        && i.body
            .iter()
            .any(|s| matches!(s, Stmt::Break(_) | Stmt::Return(_)))
}

fn is_literal(e: &Expr) -> bool {
    matches!(
        e,
        Expr::StringLiteral(_)
            | Expr::NumberLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
            | Expr::BytesLiteral(_)
    )
}

/// The plain names an expression reads or binds.
#[derive(Default)]
struct Names {
    names: Vec<String>,
}

impl<'a> Visitor<'a> for Names {
    fn visit_expr(&mut self, expr: &'a Expr) {
        // Expressions can nest arbitrarily deep: grow the stack as needed.
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || match expr {
            Expr::Name(n) => self.names.push(n.id.to_string()),
            _ => visitor::walk_expr(self, expr),
        });
    }
}

/// Reports `whole` when `container` is a growable list bound outside the current loop.
fn report_if_list(cx: &mut LocalContext, container: &Expr, api_name: &str, whole: &Expr) {
    let Some(name) = tracked_name(container) else {
        return;
    };
    let Some((kind, bound_at)) = cx.value_kind(&name) else {
        return;
    };
    // An attribute bound in another method counts as built before the loop.
    let outside = name.starts_with("self.") || bound_at < cx.loop_depth;
    if kind != ValueKind::List || !outside {
        return;
    }
    let Some(api) = cx.catalog.lookup(api_name) else {
        return;
    };
    cx.report_api(whole.range(), Mark::Note(name), Some(api));
}
