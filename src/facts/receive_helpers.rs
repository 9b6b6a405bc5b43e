//! Receive helpers: the functions and methods of a module that return what they take from a
//! socket or queue (`def _receive(self): return self.sock.recv_json()`, or a name bound to a
//! receive and returned). A loop that calls one (`msg = self._receive()`) receives work as
//! surely as one that calls `recv_json` itself. A function that only calls a receive method on
//! the way (`event.listen(engine, ...)` while it sets up a connection) is not one. Only the
//! module's own helpers are known here; the collector reads the names when it closes a loop.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, Stmt};
use rustc_hash::FxHashSet;

use super::names::dotted_name;
use crate::knowledge::contexts::ContextPatterns;

/// Names of the module-level functions and class methods (one class level deep) that return
/// the result of a receive call.
pub(super) fn receive_helpers(body: &[Stmt], patterns: &ContextPatterns) -> FxHashSet<String> {
    let mut out = FxHashSet::default();
    let mut defs: Vec<&ruff_python_ast::StmtFunctionDef> = Vec::new();
    for stmt in body {
        match stmt {
            Stmt::FunctionDef(f) => defs.push(f),
            Stmt::ClassDef(k) => defs.extend(k.body.iter().filter_map(|s| match s {
                Stmt::FunctionDef(f) => Some(f),
                _ => None,
            })),
            _ => {}
        }
    }
    for f in defs {
        let mut finder = Finder {
            patterns,
            steps: Vec::new(),
        };
        for s in &f.body {
            finder.visit_stmt(s);
        }
        if finder.found() {
            out.insert(f.name.id.to_string());
        }
    }
    out
}

/// What the helper's body does that matters, in source order: assignments and returns.
enum Step<'a> {
    Assign(&'a Expr, &'a [Expr]),
    Return(&'a Expr),
}

/// Gathers a body's steps first and probes expressions for receive calls only as far as a
/// return needs: most functions return nothing or nothing named, and probing every
/// assignment's value was most of this pre-walk's cost.
struct Finder<'a, 'p> {
    patterns: &'p ContextPatterns,
    steps: Vec<Step<'a>>,
}

impl Finder<'_, '_> {
    /// Whether evaluating `expr` calls a receive method (outside lambdas).
    fn receives(&self, expr: &Expr) -> bool {
        let mut probe = Probe {
            patterns: self.patterns,
            hit: false,
        };
        probe.visit_expr(expr);
        probe.hit
    }

    /// Whether some return gives what a receive gave: a receive call, or a name bound to one
    /// before it.
    fn found(&self) -> bool {
        let returns = || {
            self.steps.iter().filter_map(|s| match s {
                Step::Return(v) => Some(*v),
                Step::Assign(..) => None,
            })
        };
        if !returns().any(|v| matches!(v, Expr::Name(_))) {
            // No name returned: the assignments do not matter.
            return returns().any(|v| self.receives(v));
        }
        let mut received: FxHashSet<&str> = FxHashSet::default();
        for step in &self.steps {
            match step {
                Step::Assign(value, targets) => {
                    if self.receives(value) {
                        for t in *targets {
                            if let Expr::Name(n) = t {
                                received.insert(n.id.as_str());
                            }
                        }
                    }
                }
                Step::Return(v) => {
                    let returns_received = match v {
                        Expr::Name(n) => received.contains(n.id.as_str()),
                        e => self.receives(e),
                    };
                    if returns_received {
                        return true;
                    }
                }
            }
        }
        false
    }
}

impl<'a> Visitor<'a> for Finder<'a, '_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        // A nested definition is not run by the helper's call.
        if matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_)) {
            return;
        }
        match stmt {
            Stmt::Assign(a) => self.steps.push(Step::Assign(&a.value, &a.targets)),
            Stmt::Return(r) => {
                if let Some(v) = &r.value {
                    self.steps.push(Step::Return(v));
                }
            }
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, _expr: &'a Expr) {}
}

/// Looks for a receive call in one expression.
struct Probe<'p> {
    patterns: &'p ContextPatterns,
    hit: bool,
}

impl<'a> Visitor<'a> for Probe<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.hit || matches!(expr, Expr::Lambda(_)) {
            return;
        }
        // The method's name rules most calls out before their text is written.
        let method = match expr {
            Expr::Call(c) => match &*c.func {
                Expr::Attribute(a) => Some(a.attr.id.as_str()),
                Expr::Name(n) => Some(n.id.as_str()),
                _ => None,
            },
            _ => None,
        };
        if let Expr::Call(c) = expr
            && method.is_some_and(|m| self.patterns.may_receive(m))
            && let Some(text) = dotted_name(&c.func)
            && self.patterns.is_receive(&text, &text)
        {
            self.hit = true;
            return;
        }
        visitor::walk_expr(self, expr);
    }
}
