//! PA304 string-concat-in-loop: a string rebuilt by concatenation on every loop iteration in a
//! form CPython cannot do in place.

use crate::rules::cost::CostMeta;
use ruff_python_ast::{Expr, Operator, Stmt};
use ruff_text_size::Ranged;

use super::{report_candidates, tracked_name};
use crate::facts::collect::{AstRule, ExprKinds, LocalContext};
use crate::facts::kinds::ValueKind;
use crate::facts::marks::Mark;
use crate::finding::{Finding, Severity};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct StringConcatInLoop;

static META: RuleMeta = RuleMeta {
    code: "PA304",
    name: "string-concat-in-loop",
    category: Category::Cpu,
    default_severity: Severity::Low,
    summary: "String grown by concatenation in a loop where each step copies it (quadratic)",
    cost: CostMeta::entries(&["str.__add__"]),
    doc: r#"## What it does
Finds strings built up inside a loop on a per-request path in the two forms that copy the whole
string on every iteration:

- an attribute, `self.buf += piece` or `self.buf = self.buf + piece`, where `self.buf` was
  assigned a string literal or f-string earlier in the class;
- a prepend to a local, `text = piece + text`, where `text` was assigned a string literal or
  f-string in the same function before the loop.

A local appended with `text += piece` is not reported: CPython resizes a string held only by a
local variable in place, so that form is linear there (measured: 100,000 appends take about
10 ms as a local, over 4 s as an attribute). Integers, lists and names with no string evidence
are never reported.

## Why is this slow?
Python strings are immutable. When the in-place shortcut does not apply, `a + b` allocates a
new string and copies both parts, so building an n-character string piece by piece copies
O(n²) characters in total.

## Example
```python
class Report:
    def __init__(self):
        self.body = ""

    def handle_request(self, msg):
        for row in msg["rows"]:
            self.body += f"{row['name']}: {row['value']}\n"
        return self.body
```

## Use instead
```python
class Report:
    def __init__(self):
        self.body = ""

    def handle_request(self, msg):
        lines = [f"{row['name']}: {row['value']}\n" for row in msg["rows"]]
        self.body = "".join(lines)
        return self.body
```

## Cost model
The catalog range for one concatenation that copies a growing string (`str.__add__`), ×10 for
the loop: usually **low** per request, but it grows with the square of the output size.

## Known false positives
Few iterations over short pieces cost nothing measurable. On PyPy a local `+=` is not optimised
either; those are not reported.
"#,
};

impl Rule for StringConcatInLoop {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![self]
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        report_candidates(&META, cx, out, &|m, c, ctx, _, cost| {
            if ctx.repeats == 0 {
                return None;
            }
            let func = &m.functions[c.func as usize].qualname;
            Some((
                format!(
                    "`{}` copies the whole string `{}` on every iteration of a loop in `{func}` \
                     (~{cost}, quadratic in the final length)",
                    c.text,
                    c.mark.note()
                ),
                "Collect the pieces in a list and `\"\".join(...)` them once after the loop, or \
                 write them to an `io.StringIO`."
                    .to_owned(),
            ))
        });
    }
}

impl AstRule for StringConcatInLoop {
    fn code(&self) -> &'static str {
        META.code
    }

    fn exprs(&self) -> ExprKinds {
        ExprKinds::NONE
    }

    fn check_stmt(&self, stmt: &Stmt, cx: &mut LocalContext) {
        if cx.loop_depth == 0 {
            return;
        }
        let target = match stmt {
            Stmt::AugAssign(a) if a.op == Operator::Add => match tracked_name(&a.target) {
                Some(t) if t.starts_with("self.") => t,
                _ => return,
            },
            Stmt::Assign(a) if a.targets.len() == 1 => {
                let Some(t) = tracked_name(&a.targets[0]) else {
                    return;
                };
                let Expr::BinOp(b) = &*a.value else { return };
                if b.op != Operator::Add {
                    return;
                }
                let left = tracked_name(&b.left).is_some_and(|l| l == t);
                let right = tracked_name(&b.right).is_some_and(|r| r == t);
                // `s = s + x` on a local is resized in place like `s += x`.
                let copies = if t.starts_with("self.") {
                    left || right
                } else {
                    right && !left
                };
                if !copies {
                    return;
                }
                t
            }
            _ => return,
        };
        let Some((ValueKind::Str, bound_at)) = cx.value_kind(&target) else {
            return;
        };
        // A local must be bound before the loop (an attribute may be bound in another method).
        if !target.starts_with("self.") && bound_at >= cx.loop_depth {
            return;
        }
        let Some(api) = cx.catalog.lookup("str.__add__") else {
            return;
        };
        cx.report_api(stmt.range(), Mark::Note(target), Some(api));
    }
}
