//! The single pass over a module's AST that produces its `ModuleFacts`.
//!
//! The visitor records definitions and call sites with their local context (enclosing function,
//! loop depth, receive loops, `with`, `await`), and dispatches each statement and expression to
//! the AST-level rules, which also see the value kinds of local names (`kinds`) and the `if`
//! tests guarding the current point. Names are resolved after the walk, when every import,
//! definition and `self.attr = ...` binding of the module is known. Recursion goes through
//! `stacker::maybe_grow`, so deeply nested code cannot overflow the stack.
//!
//! This file owns the walk and the collector's state; the pieces it delegates live next to it:
//! `hooks.rs` (what AST rules see), `bindings.rs` (what a name holds, resolution after the walk),
//! `calls.rs` (call records), `values.rs` (literals). It knows no other module, judges no cost.

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_source_file::LineIndex;
use ruff_text_size::{Ranged, TextRange};

use super::bindings::{Binding, BindingLog};
use super::calls::RawCall;
use super::kinds::{KindBinding, KindBindings, ValueKind, kind_of_annotation, kind_of_expr};
use super::names::{dot_join, dotted_name, number_literal, str_literal, truncate};
use super::{CallFlags, Class, FnKind, FuncId, Function, Import, ModuleFacts, Name, Resolution};
use crate::knowledge::catalog::Catalog;
use crate::knowledge::contexts::ContextPatterns;

pub use super::hooks::{AstRule, ExprKinds, LocalContext, ModuleEnd, SharedHook};
pub use super::values::normalise_path;

/// Stack red zone and segment size for our recursive walk.
pub(super) const RED_ZONE: usize = 128 * 1024;
pub(super) const STACK_SEGMENT: usize = 4 * 1024 * 1024;

pub(super) struct Collector<'a> {
    pub(super) source: &'a str,
    pub(super) line_index: &'a LineIndex,
    pub(super) catalog: &'a Catalog,
    pub(super) patterns: &'a ContextPatterns,
    /// The AST rules, by what they read, with their codes.
    pub(super) hooks: super::hooks::Hooks<'a>,
    pub(super) facts: ModuleFacts,
    pub(super) raw: Vec<RawCall>,
    /// What names are bound to, in source order.
    pub(super) bindings: BindingLog,
    /// Value kinds of names and `self.attr`s, in binding order.
    pub(super) kinds: KindBindings,
    /// Ranges of the `if` tests enclosing the current statement, within the current function.
    pub(super) guards: Vec<TextRange>,
    /// `self.attr = <call>` per class.
    pub(super) attr_bindings: Vec<(u32, String, u32)>,
    /// Literal numeric positional arguments (first four) and `secs=`/`seconds=`/`delay=` per call.
    pub(super) numeric_args: Vec<([Option<f64>; 4], Option<f64>)>,
    /// Module-level names bound to a known string (`ROOT = os.path.expanduser("~")`).
    pub(super) constants: HashMap<String, String>,
    /// Module-level names bound to a number, and parameters with a numeric default.
    pub(super) numbers: HashMap<String, f64>,
    /// Class attributes with a stated number, by class, then name (`waits.rs`).
    pub(super) class_numbers: HashMap<u32, HashMap<String, f64>>,
    pub(super) param_numbers: HashMap<(FuncId, String), f64>,
    /// Receive timeouts set on sockets, and retry loops (`waits.rs`).
    pub(super) recv_timeouts: Vec<super::waits::RecvTimeout>,
    pub(super) retry_loops: Vec<super::waits::RetryLoop>,
    /// Value references to functions, resolved at the end.
    pub(super) raw_refs: Vec<(FuncId, String)>,
    /// Memoised resolution per call; `None` while unresolved, guarded against cycles. A
    /// target of `None` is the callee's own text (`bindings::Same`).
    pub(super) resolved: Vec<Option<(Option<String>, Resolution)>>,
    pub(super) resolving: Vec<bool>,
    /// Memoised `returned_type` per call, kept once the call's resolution is memoised.
    pub(super) returned: Vec<Option<Option<String>>>,
    pub(super) imports: HashMap<String, String>,
    pub(super) module_defs: super::names::DefNames,
    pub(super) func: FuncId,
    pub(super) class: Option<u32>,
    pub(super) loop_depth: u8,
    /// The literal bound of each enclosing `for` loop or comprehension of the current
    /// function (`range(3)` is 3), `None` where it is not literal.
    pub(super) loop_bounds: Vec<Option<u32>>,
    /// Parameters of the current function whose default is `None`: a branch taken when one is
    /// `None` is the fallback for a caller that left it out.
    pub(super) optional_params: Vec<String>,
    /// Names each function declares `global` or `nonlocal` (`once.rs`).
    pub(super) declared: Vec<(FuncId, String)>,
    /// The function whose body holds the class statement being visited (its defs are methods).
    pub(super) class_body_func: Option<FuncId>,
    /// Implicit calls seen by the walk, resolved at its end (`implicit.rs`).
    pub(super) implicit: super::implicit::Pending,
    /// What names, attributes and returns hold as destinations (`destinations.rs`).
    pub(super) dest: super::destinations::Pending,
    /// The module's functions whose body receives work (`facts/receive_helpers.rs`).
    pub(super) receive_helpers: rustc_hash::FxHashSet<String>,
    /// The last segments of the entries of `zero_timeouts` and `queue_functions`: a call
    /// ending otherwise is in neither list.
    pub(super) listed_lasts: Vec<&'a str>,
    /// The zero-based line of the last line lookup, tried first by the next (`hooks::span_near`).
    pub(super) row: std::cell::Cell<usize>,
    /// Depth of our own recursion, to decide whether dropping the AST needs a big stack.
    pub(super) depth: u32,
    pub(super) max_depth: u32,
}

/// Collects the facts of one parsed module: `path` relative to the root, `module` its dotted name.
#[allow(clippy::too_many_arguments)]
pub fn collect(
    body: &[Stmt],
    source: &str,
    line_index: &LineIndex,
    path: &str,
    module: &str,
    is_package: bool,
    catalog: &Catalog,
    patterns: &ContextPatterns,
    rules: &[&dyn AstRule],
) -> (ModuleFacts, u32) {
    let mut c = Collector {
        source,
        line_index,
        catalog,
        patterns,
        hooks: super::hooks::Hooks::new(rules),
        facts: ModuleFacts {
            path: path.to_owned(),
            module: module.to_owned(),
            is_package,
            ..ModuleFacts::default()
        },
        raw: Vec::new(),
        bindings: BindingLog::default(),
        kinds: KindBindings::default(),
        guards: Vec::new(),
        attr_bindings: Vec::new(),
        numeric_args: Vec::new(),
        raw_refs: Vec::new(),
        constants: HashMap::default(),
        numbers: HashMap::default(),
        class_numbers: HashMap::default(),
        param_numbers: HashMap::default(),
        recv_timeouts: Vec::new(),
        retry_loops: Vec::new(),
        resolved: Vec::new(),
        resolving: Vec::new(),
        returned: Vec::new(),
        imports: HashMap::default(),
        module_defs: Default::default(),
        func: 0,
        class: None,
        loop_depth: 0,
        loop_bounds: Vec::new(),
        optional_params: Vec::new(),
        class_body_func: None,
        declared: Vec::new(),
        implicit: Default::default(),
        dest: Default::default(),
        receive_helpers: super::receive_helpers::receive_helpers(body, patterns),
        listed_lasts: super::calls::listed_lasts(patterns),
        row: std::cell::Cell::new(0),
        depth: 0,
        max_depth: 0,
    };
    // Every call has an opening parenthesis: the per-call vectors are sized once, not grown.
    let parens = super::calls::count_byte(source.as_bytes(), b'(');
    c.facts.calls.reserve_exact(parens);
    c.raw.reserve_exact(parens);
    c.numeric_args.reserve_exact(parens);
    let end_line = line_index.line_count() as u32;
    c.facts.functions.push(Function {
        name: Name::from("<module>"),
        qualname: "<module>".to_owned(),
        kind: FnKind::Module,
        class: None,
        parent: None,
        is_async: false,
        decorators: Box::default(),
        params: Box::default(),
        line: 1,
        end_line,
    });
    c.facts.lines = end_line;
    for stmt in body {
        match stmt {
            Stmt::FunctionDef(f) => {
                c.module_defs.insert(f.name.id.to_string());
            }
            Stmt::ClassDef(k) => {
                c.module_defs.insert(k.name.id.to_string());
            }
            _ => {}
        }
    }
    c.visit_body(body);
    c.resolve_all();
    c.resolve_implicit();
    c.resolve_waits();
    c.finish_destinations();
    c.finish_calls();
    let defs = std::cell::OnceCell::new();
    for rule in rules {
        rule.finish(
            body,
            &mut ModuleEnd {
                facts: &mut c.facts,
                catalog,
                line_index,
                source,
                code: rule.code(),
                body,
                defs: &defs,
            },
        );
    }
    let max_depth = c.max_depth;
    let mut facts = c.facts;
    facts.finish();
    (facts, max_depth)
}

impl<'a> Collector<'a> {
    pub(super) fn loc(&self, range: TextRange) -> (u32, u32, u32, u32) {
        super::hooks::span_near(self.line_index, self.source, range, &self.row)
    }

    pub(super) fn line(&self, range: TextRange) -> u32 {
        self.line_index.line_index(range.start()).get() as u32
    }

    fn enter_function(
        &mut self,
        name: &str,
        kind: FnKind,
        is_async: bool,
        decorators: Vec<String>,
        range: TextRange,
    ) -> SavedScope {
        let parent = self.func;
        let parent_q = &self.facts.functions[parent as usize].qualname;
        let qualname = match (kind, self.class) {
            (FnKind::Method, Some(c)) => {
                dot_join(&[&self.facts.classes[c as usize].qualname, name])
            }
            (FnKind::Main, _) => "<main>".to_owned(),
            _ if parent == 0 => name.to_owned(),
            _ => dot_join(&[parent_q, name]),
        };
        let id = self.facts.functions.len() as FuncId;
        self.facts.functions.push(Function {
            name: Name::from(name),
            qualname,
            kind,
            class: if kind == FnKind::Method {
                self.class
            } else {
                None
            },
            parent: Some(parent),
            is_async,
            decorators: decorators.into_boxed_slice(),
            params: Box::default(),
            line: self.line(range),
            end_line: self.line_index.line_index(range.end()).get() as u32,
        });
        // A nested body runs when it is called, not under the tests around its definition.
        let saved = (
            self.func,
            self.class,
            self.loop_depth,
            std::mem::take(&mut self.guards),
            std::mem::take(&mut self.loop_bounds),
            std::mem::take(&mut self.optional_params),
        );
        self.func = id;
        self.loop_depth = 0;
        saved
    }

    fn leave_function(&mut self, saved: SavedScope) {
        self.func = saved.0;
        self.class = saved.1;
        self.loop_depth = saved.2;
        self.guards = saved.3;
        self.loop_bounds = saved.4;
        self.optional_params = saved.5;
    }

    /// The product of the enclosing loops' literal bounds, if every one has one.
    pub(super) fn loop_bound(&self) -> Option<u32> {
        if self.loop_bounds.is_empty() {
            return None;
        }
        self.loop_bounds
            .iter()
            .try_fold(1u32, |acc, b| b.map(|b| acc.saturating_mul(b)))
    }

    fn visit_function_def(&mut self, f: &'a ast::StmtFunctionDef) {
        let mut decorators = Vec::new();
        for d in &f.decorator_list {
            self.visit_expr(&d.expression);
            let callee = match &d.expression {
                Expr::Call(c) => &*c.func,
                e => e,
            };
            decorators.push(dotted_name(callee).unwrap_or_default());
        }
        let mut defaults = Vec::new();
        for p in f.parameters.iter_non_variadic_params() {
            if let Some(def) = &p.default {
                self.visit_expr(def);
                if let Some(n) = self.number_value(def) {
                    defaults.push((p.parameter.name.id.to_string(), n));
                }
            }
        }
        let in_class_body = self.class.is_some() && self.class_body_func == Some(self.func);
        let kind = if in_class_body {
            FnKind::Method
        } else if self.func == 0 || self.facts.functions[self.func as usize].kind == FnKind::Main {
            FnKind::Function
        } else {
            FnKind::Nested
        };
        let saved = self.enter_function(&f.name.id, kind, f.is_async, decorators, f.range);
        let id = self.func;
        self.facts.functions[id as usize].params = f
            .parameters
            .iter()
            .map(|p| Name::from(p.name().id.as_str()))
            .collect();
        self.optional_params = f
            .parameters
            .iter_non_variadic_params()
            .filter(|p| matches!(p.default.as_deref(), Some(Expr::NoneLiteral(_))))
            .map(|p| p.parameter.name.id.to_string())
            .collect();
        for (name, n) in defaults {
            self.param_numbers.insert((id, name), n);
        }
        for p in f.parameters.iter() {
            let binding = match p.annotation().and_then(dotted_name) {
                Some(t) => Binding::Annotation(t),
                None => Binding::Unknown,
            };
            self.bindings.bind(id, p.name().id.as_str(), binding);
            let kind = p.annotation().map_or(ValueKind::Other, kind_of_annotation);
            self.kinds
                .entry(p.name().id.to_string())
                .or_default()
                .push(KindBinding {
                    func: id,
                    class: None,
                    kind,
                    loop_depth: 0,
                });
        }
        let saved_class_body = self.class_body_func.take();
        self.visit_body(&f.body);
        self.class_body_func = saved_class_body;
        self.leave_function(saved);
    }
}

impl<'a> Collector<'a> {
    fn visit_class_def(&mut self, k: &'a ast::StmtClassDef) {
        for d in &k.decorator_list {
            self.visit_expr(&d.expression);
        }
        let mut bases = Vec::new();
        if let Some(args) = &k.arguments {
            for b in args.args.iter() {
                self.visit_expr(b);
                if let Some(n) = dotted_name(b) {
                    bases.push(n);
                }
            }
        }
        let qualname = match self.class {
            Some(c) if self.class_body_func == Some(self.func) => {
                dot_join(&[&self.facts.classes[c as usize].qualname, k.name.id.as_str()])
            }
            _ if self.func == 0 => k.name.id.to_string(),
            _ => dot_join(&[
                &self.facts.functions[self.func as usize].qualname,
                k.name.id.as_str(),
            ]),
        };
        let idx = self.facts.classes.len() as u32;
        self.facts.classes.push(Class {
            name: k.name.id.to_string(),
            qualname,
            bases,
            line: self.line(k.range),
            attr_types: Vec::new(),
        });
        let saved = (self.class, self.class_body_func);
        self.class = Some(idx);
        self.class_body_func = Some(self.func);
        self.visit_body(&k.body);
        self.class = saved.0;
        self.class_body_func = saved.1;
    }

    fn record_import(&mut self, local: String, target: String, range: TextRange) {
        let line = self.line(range);
        self.imports.insert(local.clone(), target.clone());
        self.facts.imports.push(Import {
            local: local.into(),
            target: target.into(),
            line,
        });
    }

    /// Base package for a relative import of `level` dots.
    fn relative_base(&self, level: u32) -> String {
        let mut parts: Vec<&str> = self.facts.module.split('.').collect();
        // A module's own name is dropped once; a package's `__init__` already is the package.
        let drop = if self.facts.is_package {
            level - 1
        } else {
            level
        };
        for _ in 0..drop {
            parts.pop();
        }
        parts.join(".")
    }
}

impl<'a> Visitor<'a> for Collector<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || {
            self.depth += 1;
            self.max_depth = self.max_depth.max(self.depth);
            self.visit_stmt_inner(stmt);
            self.depth -= 1;
        });
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || {
            self.depth += 1;
            self.max_depth = self.max_depth.max(self.depth);
            self.visit_expr_inner(expr);
            self.depth -= 1;
        });
    }
}

impl<'a> Collector<'a> {
    fn visit_stmt_inner(&mut self, stmt: &'a Stmt) {
        self.run_rules_stmt(stmt);
        match stmt {
            Stmt::FunctionDef(f) => self.visit_function_def(f),
            Stmt::ClassDef(k) => self.visit_class_def(k),
            Stmt::Import(i) => {
                for alias in &i.names {
                    let name = alias.name.id.to_string();
                    match &alias.asname {
                        Some(a) => self.record_import(a.id.to_string(), name, alias.range),
                        None => {
                            let head = name.split('.').next().unwrap_or(&name).to_owned();
                            self.record_import(head.clone(), head, alias.range);
                        }
                    }
                }
            }
            Stmt::ImportFrom(i) => {
                let module = i
                    .module
                    .as_ref()
                    .map(|m| m.id.to_string())
                    .unwrap_or_default();
                let base = if i.level > 0 {
                    let b = self.relative_base(i.level);
                    match (b.is_empty(), module.is_empty()) {
                        (true, _) => module,
                        (false, true) => b,
                        (false, false) => dot_join(&[&b, &module]),
                    }
                } else {
                    module
                };
                for alias in &i.names {
                    let name = alias.name.id.as_str();
                    if name == "*" {
                        continue;
                    }
                    let local = alias
                        .asname
                        .as_ref()
                        .map_or(name, |a| a.id.as_str())
                        .to_owned();
                    let target = if base.is_empty() {
                        name.to_owned()
                    } else {
                        dot_join(&[&base, name])
                    };
                    self.record_import(local, target, alias.range);
                }
            }
            Stmt::Try(t) => {
                self.visit_body(&t.body);
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    if let Some(ty) = &h.type_ {
                        self.visit_expr(ty);
                    }
                    let start = (self.facts.calls.len(), self.facts.candidates.len());
                    self.visit_body(&h.body);
                    // Code in a handler runs only after an exception.
                    let func = self.func;
                    for c in &mut self.facts.calls[start.0..] {
                        let here = c.func == func;
                        c.flag_if(CallFlags::IN_EXCEPT, here);
                    }
                    for c in &mut self.facts.candidates[start.1..] {
                        let here = c.func == func;
                        c.flag_if(CallFlags::IN_EXCEPT, here);
                    }
                }
                self.visit_body(&t.orelse);
                self.visit_body(&t.finalbody);
            }
            Stmt::While(w) => {
                // A `while` loop has no per-execution bound: its iterations are separate
                // executions (polling, serving), not a repetition inside one request, so it does
                // not count in `loop_depth`.
                let start = self.facts.calls.len();
                let cand_start = self.facts.candidates.len();
                self.visit_expr(&w.test);
                self.visit_body(&w.body);
                self.close_loop(start, cand_start, false);
                let func = self.func;
                for c in &mut self.facts.calls[start..] {
                    let here = c.func == func;
                    c.flag_if(CallFlags::IN_WHILE, here);
                }
                for c in &mut self.facts.candidates[cand_start..] {
                    let here = c.func == func;
                    c.flag_if(CallFlags::IN_WHILE, here);
                }
                self.visit_body(&w.orelse);
            }
            Stmt::For(f) => {
                let before = self.facts.calls.len();
                self.visit_expr(&f.iter);
                let iter_receives = self.value_call(&f.iter, before).is_some_and(|i| {
                    let t = &self.raw[i as usize].callee.text;
                    self.receives(t)
                });
                self.note_iteration(f, before);
                self.loop_depth = self.loop_depth.saturating_add(1);
                self.loop_bounds.push(range_bound(&f.iter));
                let start = self.facts.calls.len();
                let cand_start = self.facts.candidates.len();
                self.bind_target(&f.target, None);
                self.record_kind(&f.target, ValueKind::Other);
                self.visit_expr(&f.target);
                self.visit_body(&f.body);
                self.close_loop(start, cand_start, iter_receives);
                let bound = self.loop_bounds.last().copied().flatten();
                self.note_retry_loop(f, bound, start);
                self.loop_depth -= 1;
                self.loop_bounds.pop();
                self.visit_body(&f.orelse);
            }
            Stmt::With(w) => {
                for item in &w.items {
                    let before = self.facts.calls.len();
                    self.visit_expr(&item.context_expr);
                    let vc = self.value_call(&item.context_expr, before);
                    if let Some(i) = vc {
                        self.facts.calls[i as usize].flag_if(CallFlags::IN_WITH, true);
                    }
                    if let Some(vars) = &item.optional_vars {
                        self.bind_target(vars, vc);
                        self.record_kind(vars, ValueKind::Other);
                        if let Some(i) = vc {
                            self.facts.calls[i as usize].extra_mut().with_as =
                                Some(truncate(&self.source[vars.range()], 80).into());
                        }
                    }
                }
                self.visit_body(&w.body);
            }
            Stmt::Assign(a) => {
                let before = self.facts.calls.len();
                let lambdas = self.facts.functions.len();
                self.visit_expr(&a.value);
                let vc = self.value_call(&a.value, before);
                let kind = kind_of_expr(&a.value);
                for t in &a.targets {
                    self.visit_expr(t);
                    self.bind_target(t, vc);
                    self.record_kind(t, kind);
                    self.note_option_assign(t, &a.value);
                    self.note_flag_assign(t, &a.value);
                    self.note_assign(t, &a.value, lambdas);
                    self.bind_operator_type(t, &a.value);
                    self.note_dest_assign(t, &a.value);
                }
                self.note_class_number(&a.targets, &a.value);
                if self.func == 0
                    && let [Expr::Name(n)] = a.targets.as_slice()
                {
                    if let Some(hint) = self.literal_hint(&a.value, 0) {
                        self.constants.insert(n.id.to_string(), hint);
                    }
                    if let Some(v) = number_literal(&a.value) {
                        self.numbers.insert(n.id.to_string(), v);
                    }
                }
                if let (Some(i), Some(t)) = (vc, a.targets.first()) {
                    self.raw[i as usize].assigned_to =
                        Some(truncate(&self.source[t.range()], 80).into());
                }
            }
            Stmt::AnnAssign(a) => {
                let before = self.facts.calls.len();
                if let Some(v) = &a.value {
                    self.visit_expr(v);
                }
                let vc = a.value.as_ref().and_then(|v| self.value_call(v, before));
                match (vc, dotted_name(&a.annotation), &*a.target) {
                    // The annotation says what the name holds, whatever the call returns
                    // (`layer: DataLayer = get_layer()`).
                    (Some(_), Some(ann), Expr::Name(n)) => {
                        self.bindings
                            .bind(self.func, n.id.as_str(), Binding::Annotation(ann));
                    }
                    (None, Some(ann), Expr::Name(n)) => {
                        self.bindings.push_unindexed(
                            self.func,
                            n.id.as_str(),
                            Binding::Annotation(ann),
                        );
                    }
                    _ => self.bind_target(&a.target, vc),
                }
                if let Some(v) = &a.value {
                    self.note_dest_assign(&a.target, v);
                }
                let kind = match a.value.as_deref().map(kind_of_expr) {
                    Some(k) if k != ValueKind::Other => k,
                    _ => kind_of_annotation(&a.annotation),
                };
                self.record_kind(&a.target, kind);
                if let Some(i) = vc {
                    self.raw[i as usize].assigned_to =
                        Some(truncate(&self.source[a.target.range()], 80).into());
                }
            }
            Stmt::If(i) if self.func == 0 && is_main_test(&i.test) => {
                self.facts.has_main = true;
                let saved = self.enter_function("<main>", FnKind::Main, false, Vec::new(), i.range);
                self.visit_body(&i.body);
                self.leave_function(saved);
                for clause in &i.elif_else_clauses {
                    self.visit_body(&clause.body);
                }
            }
            Stmt::If(i) => self.visit_if(i),
            Stmt::Global(ast::StmtGlobal { names, .. }) => self.note_declared(names),
            Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => self.note_declared(names),
            Stmt::Return(r) => {
                visitor::walk_stmt(self, stmt);
                self.note_dest_return(r.value.as_deref());
            }
            Stmt::Expr(e) => {
                let before = self.facts.calls.len();
                if let Expr::Call(c) = &*e.value {
                    self.record_sys_path(c);
                }
                visitor::walk_stmt(self, stmt);
                if let Expr::Call(c) = &*e.value {
                    // The statement's own call is recorded after the calls inside it.
                    let last = super::calls::Which::Last;
                    if let Some(i) = self.recorded_call(before, c.start(), last) {
                        self.facts.calls[i].flag_if(CallFlags::BARE, true);
                    }
                }
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr_inner(&mut self, expr: &'a Expr) {
        self.run_rules_expr(expr);
        match expr {
            Expr::Call(c) => self.visit_call(c),
            Expr::Await(a) => {
                let before = self.facts.calls.len();
                self.visit_expr(&a.value);
                if let Some(i) = self.value_call(&a.value, before) {
                    self.facts.calls[i as usize].flag_if(CallFlags::AWAITED, true);
                }
            }
            Expr::Named(n) => {
                visitor::walk_expr(self, expr);
                self.record_kind(&n.target, kind_of_expr(&n.value));
            }
            Expr::Lambda(l) => {
                if let Some(params) = &l.parameters {
                    for p in params.iter_non_variadic_params() {
                        if let Some(def) = &p.default {
                            self.visit_expr(def);
                        }
                    }
                }
                let saved =
                    self.enter_function("<lambda>", FnKind::Lambda, false, Vec::new(), l.range);
                self.visit_expr(&l.body);
                self.leave_function(saved);
            }
            Expr::Name(n) => {
                if n.ctx.is_load() && self.module_defs.contains_key(n.id.as_str()) {
                    self.raw_refs.push((self.func, n.id.to_string()));
                }
            }
            Expr::Attribute(a) => {
                if let Expr::Name(base) = &*a.value
                    && a.ctx.is_load()
                    && (base.id.as_str() == "self" || base.id.as_str() == "cls")
                {
                    self.raw_refs
                        .push((self.func, dot_join(&[base.id.as_str(), a.attr.id.as_str()])));
                }
                self.note_attr_read(a);
                visitor::walk_expr(self, expr);
            }
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) | Expr::Generator(_) => {
                let generators = match expr {
                    Expr::ListComp(c) => &c.generators,
                    Expr::SetComp(c) => &c.generators,
                    Expr::DictComp(c) => &c.generators,
                    Expr::Generator(c) => &c.generators,
                    _ => unreachable!("matched above"),
                };
                let bound = match &generators[..] {
                    [one] => range_bound(&one.iter),
                    _ => None,
                };
                // The first iterable is evaluated once, outside the comprehension's loop.
                let before = self.facts.calls.len();
                self.visit_expr(&generators[0].iter);
                self.loop_depth = self.loop_depth.saturating_add(1);
                self.loop_bounds.push(bound);
                self.visit_comprehension(expr, generators);
                self.note_comprehension(generators, before);
                self.loop_bounds.pop();
                self.loop_depth -= 1;
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

/// What a nested definition saves of the enclosing scope: function, class, loop depth, guards
/// and loop bounds.
type SavedScope = (
    FuncId,
    Option<u32>,
    u8,
    Vec<TextRange>,
    Vec<Option<u32>>,
    Vec<String>,
);

/// The number of iterations of `range(n)` / `range(a, b)` with literal integers.
fn range_bound(iter: &Expr) -> Option<u32> {
    let Expr::Call(c) = iter else { return None };
    let Expr::Name(n) = &*c.func else { return None };
    if n.id.as_str() != "range" || !c.arguments.keywords.is_empty() {
        return None;
    }
    let int = |e: &Expr| match e {
        Expr::NumberLiteral(ast::ExprNumberLiteral {
            value: ast::Number::Int(i),
            ..
        }) => i.as_u64().and_then(|v| u32::try_from(v).ok()),
        _ => None,
    };
    match &c.arguments.args[..] {
        [stop] => int(stop),
        [start, stop] => int(stop)?.checked_sub(int(start)?),
        _ => None,
    }
}

fn is_main_test(test: &Expr) -> bool {
    let Expr::Compare(c) = test else {
        return false;
    };
    let is_name = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__name__");
    let is_main = |e: &Expr| str_literal(e) == Some("__main__");
    c.comparators.len() == 1
        && ((is_name(&c.left) && is_main(&c.comparators[0]))
            || (is_main(&c.left) && is_name(&c.comparators[0])))
}
