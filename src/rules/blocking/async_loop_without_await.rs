//! PA112 async-loop-without-await: a `while True:` loop in `async def` that never awaits and
//! never leaves starves the event loop.

use crate::rules::cost::CostMeta;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use crate::facts::collect::{AstRule, ExprKinds, LocalContext};
use crate::facts::marks::Mark;
use crate::finding::{Finding, Severity};
use crate::project::context::Site;
use crate::rules::cost::cap;
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct AsyncLoopWithoutAwait;

static META: RuleMeta = RuleMeta {
    code: "PA112",
    name: "async-loop-without-await",
    category: Category::Blocking,
    default_severity: Severity::Critical,
    summary: "`while True:` in `async def` that never awaits: the event loop never runs anything else",
    cost: CostMeta::band(
        "The loop holds the event loop for as long as it runs, which no literal states: the band is critical where the coroutine serves requests, capped by its frequency.",
    ),
    doc: r#"## What it does
Finds a `while True:` loop inside `async def` whose body has no `await`, `async for` or
`async with`, and no `break`, `return`, `raise` or `yield` that would leave it.

## Why is this slow?
A coroutine only gives the event loop back at an `await`. A loop that never awaits and never
ends keeps the loop to itself forever: every other request, timer and callback of the process
waits, and the service stops answering while the loop spins.

## Example
```python
async def handle_request(queue):
    while True:
        item = queue.get()
        process(item)
```

## Use instead
```python
async def handle_request(queue):
    while True:
        item = await queue.get()
        process(item)
```

## Cost model
Unbounded: the loop never returns the event loop. Critical where a request entry runs it;
capped by how often the code runs otherwise (medium for a coroutine no request entry is known
to reach, information at startup or in tests).

## Known false positives
A loop that only calls code which raises to leave it (a `StopIteration` from a helper) does
end; the rule does not follow calls to see it.
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
        let Stmt::While(w) = stmt else { return };
        if !cx.in_async || !always_true(&w.test) {
            return;
        }
        let mut scan = Yields::default();
        scan.visit_body(&w.body);
        if !scan.found {
            let header = TextRange::new(w.start(), w.test.end());
            cx.report(header, Mark::Note("while True".to_owned()));
        }
    }
}

/// `True` or a non-zero number.
fn always_true(test: &Expr) -> bool {
    match test {
        Expr::BooleanLiteral(b) => b.value,
        Expr::NumberLiteral(n) => match &n.value {
            ast::Number::Int(i) => i.as_u64() != Some(0),
            _ => false,
        },
        _ => false,
    }
}

/// Whether a loop body gives control back or leaves: an `await`, `async for`/`async with`, a
/// `yield`, or a `break`/`return`/`raise`. Nested definitions run elsewhere and are skipped.
#[derive(Default)]
struct Yields {
    found: bool,
}

impl<'a> Visitor<'a> for Yields {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.found {
            return;
        }
        match stmt {
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
            Stmt::Break(_) | Stmt::Return(_) | Stmt::Raise(_) => self.found = true,
            Stmt::For(f) if f.is_async => self.found = true,
            Stmt::With(w) if w.is_async => self.found = true,
            _ => stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || {
                visitor::walk_stmt(self, stmt)
            }),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.found {
            return;
        }
        match expr {
            Expr::Lambda(_) => {}
            Expr::Await(_) | Expr::Yield(_) | Expr::YieldFrom(_) => self.found = true,
            _ => stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || {
                visitor::walk_expr(self, expr)
            }),
        }
    }
}

impl Rule for AsyncLoopWithoutAwait {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![&Hook]
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        for (mi, m) in cx.project.modules.iter().enumerate() {
            for c in m.candidates.iter().filter(|c| c.code == META.code) {
                let Some(exec) = cx.project.loop_execution(&Site::candidate(mi, c)) else {
                    continue;
                };
                let func = &m.functions[c.func as usize].qualname;
                let message = format!(
                    "`while True:` in async `{func}` never awaits and never leaves: once it \
                     starts, the event loop runs nothing else"
                );
                let help =
                    "Await inside the loop (`await queue.get()`, `await asyncio.sleep(...)`, \
                            an async client), or run the loop in a thread with \
                            `asyncio.to_thread(...)`."
                        .to_owned();
                let cost = Costed::band(cap(exec.frequency, Severity::Critical));
                out.push(cx.emit(&META, Hotspot::candidate(mi, c, &exec, cost), message, help));
            }
        }
    }
}
