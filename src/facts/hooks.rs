//! The interface between the module walk and the AST-level rules: what a rule implements
//! ([`AstRule`], [`SharedHook`]), what it sees while the walk is on ([`LocalContext`]) and once
//! it is over ([`ModuleEnd`]), and the one place candidates are built.
//!
//! This module only carries context to rules and their candidates back; it does not walk the
//! AST (that is `collect.rs`) and it does not decide what a name holds (that is `bindings.rs`).

use std::cell::{Cell, OnceCell};

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::statement_visitor::{self, StatementVisitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_source_file::LineIndex;
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::collect::{Collector, RED_ZONE, STACK_SEGMENT};
use super::kinds::{KindBindings, ValueKind, latest};
use super::marks::Mark;
use super::names::{dotted_name, through_imports, truncate};
use super::{Candidate, FnKind, FuncId, ModuleFacts};
use crate::knowledge::catalog::{ApiId, Catalog};
use crate::knowledge::contexts::{last_segment, split_first};

/// An AST-level rule: looks at statements and expressions during the module pass and raises
/// candidates; the project stage decides their context and cost.
pub trait AstRule: Sync {
    fn code(&self) -> &'static str;
    fn check_stmt(&self, _stmt: &Stmt, _cx: &mut LocalContext) {}
    fn check_expr(&self, _expr: &Expr, _cx: &mut LocalContext) {}
    /// The kinds of expression `check_expr` reads; the walk does not call it at the others
    /// (most expressions are names, attributes and literals, which most hooks ignore).
    fn exprs(&self) -> ExprKinds {
        ExprKinds::ALL
    }
    /// Runs once after the walk, with the module's body and every candidate: a hook may drop
    /// candidates that nothing will read, or add ones that need the whole module first.
    fn finish(&self, _body: &[Stmt], _cx: &mut ModuleEnd) {}
}

/// A set of expression kinds, as a hook declares what its `check_expr` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExprKinds(u8);

impl ExprKinds {
    pub const NONE: ExprKinds = ExprKinds(0);
    pub const CALL: ExprKinds = ExprKinds(1);
    pub const COMPARE: ExprKinds = ExprKinds(2);
    pub const ALL: ExprKinds = ExprKinds(0xff);
    /// Each expression is of one of these kinds: a call, a comparison, anything else.
    const OTHER: ExprKinds = ExprKinds(4);

    pub const fn with(self, other: ExprKinds) -> ExprKinds {
        ExprKinds(self.0 | other.0)
    }

    fn of(expr: &Expr) -> ExprKinds {
        match expr {
            Expr::Call(_) => ExprKinds::CALL,
            Expr::Compare(_) => ExprKinds::COMPARE,
            _ => ExprKinds::OTHER,
        }
    }

    fn contains(self, other: ExprKinds) -> bool {
        self.0 & other.0 != 0
    }
}

/// The enabled hooks with their codes, and the hooks that read each kind of expression:
/// chosen once per module instead of asked at every node.
pub(super) struct Hooks<'a> {
    stmt: Vec<(&'a dyn AstRule, &'static str)>,
    call: Vec<(&'a dyn AstRule, &'static str)>,
    compare: Vec<(&'a dyn AstRule, &'static str)>,
    other: Vec<(&'a dyn AstRule, &'static str)>,
}

impl<'a> Hooks<'a> {
    pub(super) fn new(rules: &[&'a dyn AstRule]) -> Hooks<'a> {
        let with = |kind: Option<ExprKinds>| {
            rules
                .iter()
                .filter(|r| kind.is_none_or(|k| r.exprs().contains(k)))
                .map(|r| (*r, r.code()))
                .collect::<Vec<_>>()
        };
        Hooks {
            stmt: with(None),
            call: with(Some(ExprKinds::CALL)),
            compare: with(Some(ExprKinds::COMPARE)),
            other: with(Some(ExprKinds::OTHER)),
        }
    }

    fn for_expr(&self, expr: &Expr) -> &[(&'a dyn AstRule, &'static str)] {
        let kind = ExprKinds::of(expr);
        if kind == ExprKinds::CALL {
            &self.call
        } else if kind == ExprKinds::COMPARE {
            &self.compare
        } else {
            &self.other
        }
    }
}

/// A hook several rules share, made of plain functions: it runs once per module however many
/// of those rules are enabled, and its candidates carry `code` rather than a rule's code.
pub struct SharedHook {
    pub code: &'static str,
    pub stmt: fn(&Stmt, &mut LocalContext),
    pub expr: fn(&Expr, &mut LocalContext),
    /// The kinds of expression `expr` reads.
    pub exprs: ExprKinds,
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

    fn exprs(&self) -> ExprKinds {
        self.exprs
    }

    fn finish(&self, body: &[Stmt], cx: &mut ModuleEnd) {
        (self.finish)(body, cx);
    }
}

/// What an AST-level rule sees when the module's walk is over (`'b`: the module's body).
pub struct ModuleEnd<'c, 'b> {
    pub facts: &'c mut ModuleFacts,
    pub catalog: &'c Catalog,
    pub(super) line_index: &'c LineIndex,
    pub(super) source: &'c str,
    pub(super) code: &'static str,
    pub(super) body: &'b [Stmt],
    /// The module's `def`s with their ids, found for the first hook that asks.
    pub(super) defs: &'c OnceCell<Vec<(FuncId, &'b ast::StmtFunctionDef)>>,
}

impl<'c, 'b> ModuleEnd<'c, 'b> {
    /// Reports a candidate at `range`, raised from function `func`.
    pub fn report(&mut self, func: FuncId, range: TextRange, mark: Mark) {
        let cand = candidate(
            self.line_index,
            self.source,
            &Cell::new(0),
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

    /// Every `def` of the module (nested ones included) with its function id: found once per
    /// module, however many hooks ask.
    pub fn function_defs(&self) -> &'c [(FuncId, &'b ast::StmtFunctionDef)] {
        let defs = self.defs;
        defs.get_or_init(|| self.find_defs())
    }

    fn find_defs(&self) -> Vec<(FuncId, &'b ast::StmtFunctionDef)> {
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
        defs.visit_body(self.body);
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
    /// The catalog entry of the last callee asked about, by the callee's range: several rules
    /// ask about the call at this node.
    api_memo: Cell<Option<(TextRange, Option<ApiId>)>>,
    line_index: &'c LineIndex,
    source: &'c str,
    /// The walk's last line lookup (`span_near`).
    row: &'c Cell<usize>,
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
        if let Some((range, known)) = self.api_memo.get()
            && range == key
        {
            return known;
        }
        let api = self
            .could_be_in_catalog(&call.func)
            .then(|| dotted_name(&call.func))
            .flatten()
            .and_then(|n| self.catalog.lookup(&self.resolve(&n)));
        self.api_memo.set(Some((key, api)));
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
        let first = split_first(resolved, b'.').map_or(resolved, |(first, _)| first);
        let last = last.unwrap_or_else(|| last_segment(resolved));
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
            self.row,
            self.code,
            (self.func, self.loop_depth),
            range,
            mark,
            api,
        );
        self.out.push(cand);
    }
}

/// Line and column (one-based, in characters) of a range's start and end. An end on the
/// start's line is counted from the start instead of being looked up again: most ranges
/// (calls, candidates) end on the line they start on.
#[cfg(test)]
pub(super) fn span(line_index: &LineIndex, source: &str, range: TextRange) -> (u32, u32, u32, u32) {
    span_near(line_index, source, range, &Cell::new(0))
}

/// [`span`], trying the line of the last lookup (`row`, zero-based, updated) and the one after
/// it before searching: the walk asks in source order or close to it.
pub(super) fn span_near(
    line_index: &LineIndex,
    source: &str,
    range: TextRange,
    row: &Cell<usize>,
) -> (u32, u32, u32, u32) {
    let (line, column) = line_column(line_index, source, range.start(), row);
    // The line after the start's: `line_starts` is zero-based, `line` one-based. A byte order
    // mark is not a column, on the first line only: that line takes the long way.
    let next = line_index.line_starts().get(line as usize);
    if line > 1
        && let Some(&next) = next
        && range.end() < next
    {
        let text = &source[range];
        let chars = if text.is_ascii() {
            text.len()
        } else {
            text.chars().count()
        } as u32;
        return (line, column, line, column + chars);
    }
    let (end_line, end_column) = line_column(line_index, source, range.end(), row);
    (line, column, end_line, end_column)
}

/// One-based line and column (in characters) of `offset`, as `LineIndex::line_column` gives
/// them; see [`span_near`] for `row`.
fn line_column(
    line_index: &LineIndex,
    source: &str,
    offset: TextSize,
    row: &Cell<usize>,
) -> (u32, u32) {
    let starts = line_index.line_starts();
    let holds = |r: usize| {
        starts.get(r).is_some_and(|&start| start <= offset)
            && starts.get(r + 1).is_none_or(|&next| offset < next)
    };
    let last = row.get();
    let r = if holds(last) {
        last
    } else if holds(last + 1) {
        last + 1
    } else {
        starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1)
    };
    row.set(r);
    if r == 0 {
        // A byte order mark is not a column, on the first line only: the long way.
        let s = line_index.line_column(offset, source);
        return (s.line.get() as u32, s.column.get() as u32);
    }
    let before = &source[TextRange::new(starts[r], offset)];
    let chars = if before.is_ascii() {
        before.len()
    } else {
        before.chars().count()
    };
    (r as u32 + 1, chars as u32 + 1)
}

/// A candidate at `range`, raised from function `func` at loop depth `depth`.
#[allow(clippy::too_many_arguments)]
fn candidate(
    line_index: &LineIndex,
    source: &str,
    row: &Cell<usize>,
    code: &str,
    (func, depth): (FuncId, u8),
    range: TextRange,
    mark: Mark,
    api: Option<ApiId>,
) -> Candidate {
    let (line, column, end_line, end_column) = span_near(line_index, source, range, row);
    Candidate::new(
        code,
        func,
        (line, column),
        (end_line, end_column),
        depth,
        mark,
        truncate(source[range].lines().next().unwrap_or(""), 80),
        api,
    )
}

impl<'a> Collector<'a> {
    pub(super) fn run_rules_stmt(&mut self, stmt: &Stmt) {
        self.run_rules(|h| &h.stmt, |rule, cx| rule.check_stmt(stmt, cx));
    }

    pub(super) fn run_rules_expr(&mut self, expr: &Expr) {
        self.run_rules(|h| h.for_expr(expr), |rule, cx| rule.check_expr(expr, cx));
    }

    fn run_rules(
        &mut self,
        pick: impl for<'h> Fn(&'h Hooks<'a>) -> &'h [(&'a dyn AstRule, &'static str)],
        check: impl Fn(&dyn AstRule, &mut LocalContext),
    ) {
        let hooks = pick(&self.hooks);
        if hooks.is_empty() {
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
            api_memo: Cell::new(None),
            line_index: self.line_index,
            source: self.source,
            row: &self.row,
            out: &mut self.facts.candidates,
            code: "",
        };
        for &(rule, code) in hooks {
            cx.code = code;
            check(rule, &mut cx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_text_size::TextSize;

    #[test]
    fn span_is_the_line_index_of_both_ends() {
        let texts = [
            "x = f(1)\ny = g(a, b)\n",
            "\u{feff}f(1)\n  é = g('ü', h(2))\n",
            "a = 1\r\nb = f(\r\n  2)\r\n",
            "s = '日本語' + f(x)\nt = g()",
        ];
        for text in texts {
            let index = LineIndex::from_source_text(text);
            let ends: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            // One hint for every lookup, as the walk keeps it: the lookups go forwards,
            // back to the start of the file and far ahead.
            let hint = Cell::new(0);
            for (i, &a) in ends.iter().enumerate() {
                for &b in &ends[i..] {
                    let range = TextRange::new(
                        TextSize::try_from(a).unwrap(),
                        TextSize::try_from(b).unwrap(),
                    );
                    let s = index.line_column(range.start(), text);
                    let e = index.line_column(range.end(), text);
                    let want = (
                        s.line.get() as u32,
                        s.column.get() as u32,
                        e.line.get() as u32,
                        e.column.get() as u32,
                    );
                    assert_eq!(span(&index, text, range), want, "{text:?} {a}..{b}");
                    assert_eq!(
                        span_near(&index, text, range, &hint),
                        want,
                        "{text:?} {a}..{b} after row {}",
                        hint.get()
                    );
                }
            }
        }
    }
}
