//! The interface between the module walk and the AST-level rules: what a rule implements
//! ([`AstRule`], [`SharedHook`]), what it sees while the walk is on ([`LocalContext`]) and once
//! it is over ([`ModuleEnd`]), and the one place candidates are built.
//!
//! This module only carries context to rules and their candidates back; it does not walk the
//! AST (that is `collect.rs`) and it does not decide what a name holds (that is `bindings.rs`).

use std::cell::RefCell;

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::statement_visitor::{self, StatementVisitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_source_file::LineIndex;
use ruff_text_size::{Ranged, TextRange};

use super::collect::{Collector, RED_ZONE, STACK_SEGMENT};
use super::kinds::{KindBindings, ValueKind, latest};
use super::marks::Mark;
use super::names::{dotted_name, through_imports, truncate};
use super::{Candidate, FnKind, FuncId, ModuleFacts};
use crate::knowledge::catalog::{ApiId, Catalog};

/// An AST-level rule: looks at statements and expressions during the module pass and raises
/// candidates; the project stage decides their context and cost.
pub trait AstRule: Sync {
    fn code(&self) -> &'static str;
    fn check_stmt(&self, _stmt: &Stmt, _cx: &mut LocalContext) {}
    fn check_expr(&self, _expr: &Expr, _cx: &mut LocalContext) {}
    /// Runs once after the walk, with the module's body and every candidate: a hook may drop
    /// candidates that nothing will read, or add ones that need the whole module first.
    fn finish(&self, _body: &[Stmt], _cx: &mut ModuleEnd) {}
}

/// A hook several rules share, made of plain functions: it runs once per module however many
/// of those rules are enabled, and its candidates carry `code` rather than a rule's code.
pub struct SharedHook {
    pub code: &'static str,
    pub stmt: fn(&Stmt, &mut LocalContext),
    pub expr: fn(&Expr, &mut LocalContext),
    pub finish: fn(&[Stmt], &mut ModuleEnd),
}

impl AstRule for SharedHook {
    fn code(&self) -> &'static str {
        self.code
    }

    fn check_stmt(&self, stmt: &Stmt, cx: &mut LocalContext) {
        (self.stmt)(stmt, cx);
    }

    fn check_expr(&self, expr: &Expr, cx: &mut LocalContext) {
        (self.expr)(expr, cx);
    }

    fn finish(&self, body: &[Stmt], cx: &mut ModuleEnd) {
        (self.finish)(body, cx);
    }
}

/// What an AST-level rule sees when the module's walk is over.
pub struct ModuleEnd<'c> {
    pub facts: &'c mut ModuleFacts,
    pub catalog: &'c Catalog,
    pub(super) line_index: &'c LineIndex,
    pub(super) source: &'c str,
    pub(super) code: &'static str,
}

impl ModuleEnd<'_> {
    /// Reports a candidate at `range`, raised from function `func`.
    pub fn report(&mut self, func: FuncId, range: TextRange, mark: Mark) {
        let cand = candidate(
            self.line_index,
            self.source,
            self.code,
            (func, 0),
            range,
            mark,
            None,
        );
        self.facts.candidates.push(cand);
    }

    pub fn source_text(&self, range: TextRange) -> &str {
        &self.source[range]
    }

    /// Every `def` of the module (nested ones included) with its function id.
    pub fn function_defs<'b>(&self, body: &'b [Stmt]) -> Vec<(FuncId, &'b ast::StmtFunctionDef)> {
        struct Defs<'b>(Vec<&'b ast::StmtFunctionDef>);
        impl<'b> StatementVisitor<'b> for Defs<'b> {
            fn visit_stmt(&mut self, stmt: &'b Stmt) {
                stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || {
                    if let Stmt::FunctionDef(f) = stmt {
                        self.0.push(f);
                    }
                    statement_visitor::walk_stmt(self, stmt);
                });
            }
        }
        let mut defs = Defs(Vec::new());
        defs.visit_body(body);
        // A `def` starts a line of its own: its first line identifies it.
        let by_line: HashMap<u32, FuncId> = self
            .facts
            .functions
            .iter()
            .enumerate()
            .filter(|(_, f)| !matches!(f.kind, FnKind::Module | FnKind::Main | FnKind::Lambda))
            .map(|(i, f)| (f.line, i as FuncId))
            .collect();
        defs.0
            .into_iter()
            .filter_map(|d| {
                let line = self.line_index.line_index(d.range.start()).get() as u32;
                Some((*by_line.get(&line)?, d))
            })
            .collect()
    }
}

/// What an AST-level rule sees of where it is.
pub struct LocalContext<'c> {
    pub func: FuncId,
    pub loop_depth: u8,
    pub in_async: bool,
    pub module: &'c str,
    /// The API catalog, for rules that decide from an entry's effect at the AST level.
    pub catalog: &'c Catalog,
    /// The class of the enclosing method, if any (`self.attr` kinds are shared per class).
    class: Option<u32>,
    kinds: &'c KindBindings,
    guards: &'c [TextRange],
    imports: &'c HashMap<String, String>,
    /// Catalog entries of the callees seen so far, by the callee's range: several rules ask
    /// about the same call.
    api_memo: &'c RefCell<HashMap<TextRange, Option<ApiId>>>,
    line_index: &'c LineIndex,
    source: &'c str,
    out: &'c mut Vec<Candidate>,
    code: &'static str,
}

impl LocalContext<'_> {
    /// Resolves a dotted name through the module's imports seen so far (`np.array` -> `numpy.array`).
    pub fn resolve(&self, text: &str) -> String {
        through_imports(self.imports, text)
    }

    /// The catalog entry of a call's callee, resolved through the imports seen so far.
    pub fn callee_api(&self, call: &ast::ExprCall) -> Option<ApiId> {
        let key = call.func.range();
        if let Some(&known) = self.api_memo.borrow().get(&key) {
            return known;
        }
        let api = self
            .could_be_in_catalog(&call.func)
            .then(|| dotted_name(&call.func))
            .flatten()
            .and_then(|n| self.catalog.lookup(&self.resolve(&n)));
        self.api_memo.borrow_mut().insert(key, api);
        api
    }

    /// Whether a callee, resolved through the imports, may name a catalog entry: its first and
    /// last segments are checked without building the name.
    fn could_be_in_catalog(&self, func: &Expr) -> bool {
        let mut last = None;
        let mut cur = func;
        while let Expr::Attribute(a) = cur {
            last.get_or_insert(a.attr.id.as_str());
            cur = &a.value;
        }
        let Expr::Name(head) = cur else {
            return false;
        };
        let head = head.id.as_str();
        let resolved = self.imports.get(head).map_or(head, String::as_str);
        let first = resolved.split('.').next().unwrap_or(resolved);
        let last = last.unwrap_or_else(|| resolved.rsplit('.').next().unwrap_or(resolved));
        self.catalog.could_match(first, last)
    }

    pub fn source_text(&self, range: TextRange) -> &str {
        &self.source[range]
    }

    /// The kind of value `name` (or `self.attr`) was last bound to before this point, with the
    /// loop depth of that binding; `None` when no binding was seen.
    pub fn value_kind(&self, name: &str) -> Option<(ValueKind, u8)> {
        latest(self.kinds, self.func, self.class, name).map(|b| (b.kind, b.loop_depth))
    }

    /// The source text of the `if`/`elif` tests guarding this point in the current function,
    /// innermost last.
    pub fn guards(&self) -> impl Iterator<Item = &str> {
        self.guards.iter().map(|r| &self.source[*r])
    }

    pub fn report(&mut self, range: TextRange, mark: Mark) {
        self.report_api(range, mark, None);
    }

    /// Reports a candidate whose cost comes from a catalog entry.
    pub fn report_api(&mut self, range: TextRange, mark: Mark, api: Option<ApiId>) {
        let cand = candidate(
            self.line_index,
            self.source,
            self.code,
            (self.func, self.loop_depth),
            range,
            mark,
            api,
        );
        self.out.push(cand);
    }
}

/// A candidate at `range`, raised from function `func` at loop depth `depth`.
fn candidate(
    line_index: &LineIndex,
    source: &str,
    code: &str,
    (func, depth): (FuncId, u8),
    range: TextRange,
    mark: Mark,
    api: Option<ApiId>,
) -> Candidate {
    let start = line_index.line_column(range.start(), source);
    let end = line_index.line_column(range.end(), source);
    Candidate::new(
        code,
        func,
        (start.line.get() as u32, start.column.get() as u32),
        (end.line.get() as u32, end.column.get() as u32),
        depth,
        mark,
        truncate(source[range].lines().next().unwrap_or(""), 80),
        api,
    )
}

impl Collector<'_> {
    pub(super) fn run_rules_stmt(&mut self, stmt: &Stmt) {
        self.run_rules(|rule, cx| rule.check_stmt(stmt, cx));
    }

    pub(super) fn run_rules_expr(&mut self, expr: &Expr) {
        self.run_rules(|rule, cx| rule.check_expr(expr, cx));
    }

    pub(super) fn run_rules(&mut self, check: impl Fn(&dyn AstRule, &mut LocalContext)) {
        let rules = self.rules;
        if rules.is_empty() {
            return;
        }
        let in_async = self.facts.functions[self.func as usize].is_async;
        let class = self.method_class(self.func);
        // One context for every rule at this node; only the code its candidates carry changes.
        let mut cx = LocalContext {
            func: self.func,
            loop_depth: self.loop_depth,
            in_async,
            module: &self.facts.module,
            catalog: self.catalog,
            class,
            kinds: &self.kinds,
            guards: &self.guards,
            imports: &self.imports,
            api_memo: &self.api_memo,
            line_index: self.line_index,
            source: self.source,
            out: &mut self.facts.candidates,
            code: "",
        };
        for rule in rules {
            cx.code = rule.code();
            check(*rule, &mut cx);
        }
    }
}
