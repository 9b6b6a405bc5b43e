//! Receive helpers: the functions and methods of a module whose own body takes work from a
//! socket or queue (`def _receive(self): return self.sock.recv_json()`). A loop that calls one
//! (`msg = self._receive()`) receives work as surely as one that calls `recv_json` itself. Only
//! the module's own helpers are known here; the collector reads the names when it closes a loop.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, Stmt};
use rustc_hash::FxHashSet;

use super::names::dotted_name;
use crate::knowledge::contexts::ContextPatterns;

/// Names of the module-level functions and class methods (one class level deep) whose body,
/// outside nested definitions, calls a receive method.
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
            found: false,
        };
        for s in &f.body {
            finder.visit_stmt(s);
        }
        if finder.found {
            out.insert(f.name.id.to_string());
        }
    }
    out
}

struct Finder<'p> {
    patterns: &'p ContextPatterns,
    found: bool,
}

impl<'a> Visitor<'a> for Finder<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        // A nested definition is not run by the helper's call.
        if matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_)) || self.found {
            return;
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.found {
            return;
        }
        if let Expr::Call(c) = expr
            && let Some(text) = dotted_name(&c.func)
            && self.patterns.is_receive(&text, &text)
        {
            self.found = true;
            return;
        }
        if matches!(expr, Expr::Lambda(_)) {
            return;
        }
        visitor::walk_expr(self, expr);
    }
}
