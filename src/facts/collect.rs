//! The single pass over a module's AST that produces its `ModuleFacts`.
//!
//! The visitor records definitions and call sites with their local context (enclosing function,
//! loop depth, receive loops, `with`, `await`), and dispatches each statement and expression to
//! the AST-level rules, which also see the value kinds of local names (`kinds`) and the `if`
//! tests guarding the current point. Names are resolved after the walk, when every import,
//! definition and `self.attr = ...` binding of the module is known. Recursion goes through
//! `stacker::maybe_grow`, so deeply nested code cannot overflow the stack.

use std::cell::RefCell;

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::statement_visitor::{self, StatementVisitor};
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_source_file::LineIndex;
use ruff_text_size::{Ranged, TextRange};

use super::kinds::{
    KindBinding, KindBindings, ValueKind, kind_of_annotation, kind_of_expr, latest,
};
use super::names::{
    Base, Dotted, dot_join, dotted, dotted_name, is_literal, number_literal, str_literal, truncate,
};
use super::{Call, Candidate, Class, FnKind, FuncId, Function, Import, ModuleFacts, Resolution};
use crate::catalog::{ApiId, Catalog};
use crate::contexts::ContextPatterns;

/// Stack red zone and segment size for our recursive walk.
const RED_ZONE: usize = 128 * 1024;
const STACK_SEGMENT: usize = 4 * 1024 * 1024;

/// The builtins whose bare names resolve to themselves when not shadowed.
const BUILTIN_CALLABLES: &[&str] = &["__import__", "eval", "exec", "input", "open", "print"];

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
    line_index: &'c LineIndex,
    source: &'c str,
    code: &'static str,
}

impl ModuleEnd<'_> {
    /// Reports a candidate at `range`, raised from function `func`.
    pub fn report(&mut self, func: FuncId, range: TextRange, message: String) {
        let cand = candidate(
            self.line_index,
            self.source,
            self.code,
            (func, 0),
            range,
            message,
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

    pub fn report(&mut self, range: TextRange, message: String) {
        self.report_api(range, message, None);
    }

    /// Reports a candidate whose cost comes from a catalog entry.
    pub fn report_api(&mut self, range: TextRange, message: String, api: Option<ApiId>) {
        let cand = candidate(
            self.line_index,
            self.source,
            self.code,
            (self.func, self.loop_depth),
            range,
            message,
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
    message: String,
    api: Option<ApiId>,
) -> Candidate {
    let start = line_index.line_column(range.start(), source);
    let end = line_index.line_column(range.end(), source);
    Candidate {
        code: code.to_owned(),
        func,
        line: start.line.get() as u32,
        column: start.column.get() as u32,
        end_line: end.line.get() as u32,
        end_column: end.column.get() as u32,
        loop_depth: depth,
        in_recv_loop: false,
        in_while: false,
        message,
        text: truncate(source[range].lines().next().unwrap_or(""), 80),
        api,
    }
}

/// `text` with its first segment replaced by what the module imported under that name
/// (`np.array` -> `numpy.array`); unchanged when the name is not imported.
fn through_imports(imports: &HashMap<String, String>, text: &str) -> String {
    let (head, rest) = text.split_once('.').unwrap_or((text, ""));
    match imports.get(head) {
        Some(t) if rest.is_empty() => t.clone(),
        Some(t) => dot_join(&[t, rest]),
        None => text.to_owned(),
    }
}

/// What a name is bound to inside one function, for type inference.
#[derive(Debug, Clone)]
enum Binding {
    /// The result of the call with this index.
    Call(u32),
    /// An annotation's dotted text (`client: httpx.Client`).
    Annotation(String),
    /// Bound, type unknown (a parameter, a loop variable, ...).
    Unknown,
}

struct RawCall {
    callee: Dotted,
    /// Bindings visible at the call: (function, name) -> binding index at the time.
    binding_mark: usize,
}

struct Collector<'a> {
    source: &'a str,
    line_index: &'a LineIndex,
    catalog: &'a Catalog,
    patterns: &'a ContextPatterns,
    rules: &'a [&'a dyn AstRule],
    facts: ModuleFacts,
    raw: Vec<RawCall>,
    /// Append-only log of bindings: (function, name, binding, call index watermark).
    bindings: Vec<(FuncId, String, Binding)>,
    /// (function, name) -> positions in `bindings`, ascending.
    binding_index: HashMap<(FuncId, u32), Vec<u32>>,
    /// Names bound anywhere in the module, numbered for `binding_index`.
    binding_names: HashMap<String, u32>,
    /// Value kinds of names and `self.attr`s, in binding order.
    kinds: KindBindings,
    /// Ranges of the `if` tests enclosing the current statement, within the current function.
    guards: Vec<TextRange>,
    /// `self.attr = <call>` per class.
    attr_bindings: Vec<(u32, String, u32)>,
    /// Literal numeric positional arguments (first four) and `secs=`/`seconds=`/`delay=` per call.
    numeric_args: Vec<(Vec<Option<f64>>, Option<f64>)>,
    /// Module-level names bound to a known string (`ROOT = os.path.expanduser("~")`).
    constants: HashMap<String, String>,
    /// Value references to functions, resolved at the end.
    raw_refs: Vec<(FuncId, String)>,
    /// Memoised resolution per call; `None` while unresolved, guarded against cycles.
    resolved: Vec<Option<(String, Resolution)>>,
    resolving: Vec<bool>,
    imports: HashMap<String, String>,
    api_memo: RefCell<HashMap<TextRange, Option<ApiId>>>,
    module_defs: HashMap<String, ()>,
    func: FuncId,
    class: Option<u32>,
    loop_depth: u8,
    /// The function whose body holds the class statement being visited (its defs are methods).
    class_body_func: Option<FuncId>,
    /// Depth of our own recursion, to decide whether dropping the AST needs a big stack.
    depth: u32,
    max_depth: u32,
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
        rules,
        facts: ModuleFacts {
            path: path.to_owned(),
            module: module.to_owned(),
            is_package,
            ..ModuleFacts::default()
        },
        raw: Vec::new(),
        bindings: Vec::new(),
        binding_index: HashMap::default(),
        binding_names: HashMap::default(),
        kinds: KindBindings::new(),
        guards: Vec::new(),
        attr_bindings: Vec::new(),
        numeric_args: Vec::new(),
        raw_refs: Vec::new(),
        constants: HashMap::default(),
        resolved: Vec::new(),
        resolving: Vec::new(),
        imports: HashMap::default(),
        api_memo: RefCell::default(),
        module_defs: HashMap::default(),
        func: 0,
        class: None,
        loop_depth: 0,
        class_body_func: None,
        depth: 0,
        max_depth: 0,
    };
    let end_line = line_index.line_count() as u32;
    c.facts.functions.push(Function {
        name: "<module>".to_owned(),
        qualname: "<module>".to_owned(),
        kind: FnKind::Module,
        class: None,
        parent: None,
        is_async: false,
        decorators: Vec::new(),
        line: 1,
        end_line,
    });
    c.facts.lines = end_line;
    for stmt in body {
        match stmt {
            Stmt::FunctionDef(f) => {
                c.module_defs.insert(f.name.id.to_string(), ());
            }
            Stmt::ClassDef(k) => {
                c.module_defs.insert(k.name.id.to_string(), ());
            }
            _ => {}
        }
    }
    c.visit_body(body);
    c.resolve_all();
    for rule in rules {
        rule.finish(
            body,
            &mut ModuleEnd {
                facts: &mut c.facts,
                catalog,
                line_index,
                source,
                code: rule.code(),
            },
        );
    }
    let max_depth = c.max_depth;
    let mut facts = c.facts;
    // Every module's facts stay in memory until the end of the run: give back what the
    // vectors grew by and will not use.
    facts.calls.shrink_to_fit();
    facts.functions.shrink_to_fit();
    facts.candidates.shrink_to_fit();
    facts.imports.shrink_to_fit();
    facts.classes.shrink_to_fit();
    facts.refs.shrink_to_fit();
    (facts, max_depth)
}

impl<'a> Collector<'a> {
    fn loc(&self, range: TextRange) -> (u32, u32, u32, u32) {
        let s = self.line_index.line_column(range.start(), self.source);
        let e = self.line_index.line_column(range.end(), self.source);
        (
            s.line.get() as u32,
            s.column.get() as u32,
            e.line.get() as u32,
            e.column.get() as u32,
        )
    }

    fn line(&self, range: TextRange) -> u32 {
        self.line_index.line_index(range.start()).get() as u32
    }

    fn run_rules_stmt(&mut self, stmt: &Stmt) {
        self.run_rules(|rule, cx| rule.check_stmt(stmt, cx));
    }

    fn run_rules_expr(&mut self, expr: &Expr) {
        self.run_rules(|rule, cx| rule.check_expr(expr, cx));
    }

    fn run_rules(&mut self, check: impl Fn(&dyn AstRule, &mut LocalContext)) {
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

    /// Records the kind of value an assignment target now holds; unpacking targets get `Other`.
    fn record_kind(&mut self, target: &Expr, kind: ValueKind) {
        let name = match target {
            Expr::Name(n) => n.id.to_string(),
            Expr::Attribute(a) => match &*a.value {
                Expr::Name(base) if base.id.as_str() == "self" => {
                    dot_join(&["self", a.attr.id.as_str()])
                }
                _ => return,
            },
            Expr::Tuple(t) => {
                for e in t.elts.iter() {
                    self.record_kind(e, ValueKind::Other);
                }
                return;
            }
            Expr::List(t) => {
                for e in t.elts.iter() {
                    self.record_kind(e, ValueKind::Other);
                }
                return;
            }
            Expr::Starred(st) => return self.record_kind(&st.value, ValueKind::Other),
            _ => return,
        };
        let class = self.method_class(self.func);
        self.kinds.entry(name).or_default().push(KindBinding {
            func: self.func,
            class,
            kind,
            loop_depth: self.loop_depth,
        });
    }

    fn enter_function(
        &mut self,
        name: &str,
        kind: FnKind,
        is_async: bool,
        decorators: Vec<String>,
        range: TextRange,
    ) -> (FuncId, Option<u32>, u8, Vec<TextRange>) {
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
            name: name.to_owned(),
            qualname,
            kind,
            class: if kind == FnKind::Method {
                self.class
            } else {
                None
            },
            parent: Some(parent),
            is_async,
            decorators,
            line: self.line(range),
            end_line: self.line_index.line_index(range.end()).get() as u32,
        });
        // A nested body runs when it is called, not under the tests around its definition.
        let saved = (
            self.func,
            self.class,
            self.loop_depth,
            std::mem::take(&mut self.guards),
        );
        self.func = id;
        self.loop_depth = 0;
        saved
    }

    fn leave_function(&mut self, saved: (FuncId, Option<u32>, u8, Vec<TextRange>)) {
        self.func = saved.0;
        self.class = saved.1;
        self.loop_depth = saved.2;
        self.guards = saved.3;
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
        for p in f.parameters.iter_non_variadic_params() {
            if let Some(def) = &p.default {
                self.visit_expr(def);
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
        for p in f.parameters.iter() {
            let binding = match p.annotation().and_then(dotted_name) {
                Some(t) => Binding::Annotation(t),
                None => Binding::Unknown,
            };
            self.bind(id, p.name().id.to_string(), binding);
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
                format!("{}.{}", self.facts.classes[c as usize].qualname, k.name.id)
            }
            _ if self.func == 0 => k.name.id.to_string(),
            _ => format!(
                "{}.{}",
                self.facts.functions[self.func as usize].qualname, k.name.id
            ),
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
            local,
            target,
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

    /// Marks calls recorded since `start` in the current function as inside a receive loop when
    /// one of them receives work.
    fn close_loop(&mut self, start: usize, cand_start: usize, iter_receives: bool) {
        let func = self.func;
        let receives = iter_receives
            || self.facts.calls[start..]
                .iter()
                .zip(&self.raw[start..])
                .any(|(c, r)| {
                    c.func == func && self.patterns.is_receive(&r.callee.text, &r.callee.text)
                });
        if receives {
            // A `for` loop over received messages is the request loop itself, not a repetition
            // within a request.
            let outer = u8::from(iter_receives);
            for c in &mut self.facts.calls[start..] {
                if c.func == func {
                    c.in_recv_loop = true;
                    c.loop_depth = c.loop_depth.saturating_sub(outer);
                }
            }
            for c in &mut self.facts.candidates[cand_start..] {
                if c.func == func {
                    c.in_recv_loop = true;
                    c.loop_depth = c.loop_depth.saturating_sub(outer);
                }
            }
        }
    }

    fn visit_call(&mut self, call: &'a ast::ExprCall) {
        // Children first: the callee chain (which may hold an inner call) and the arguments.
        let before = self.facts.calls.len();
        // The callee itself is not a value reference; its receiver may be.
        match &*call.func {
            Expr::Name(_) => {}
            Expr::Attribute(a) => self.visit_expr(&a.value),
            other => self.visit_expr(other),
        }
        let inner = match &*call.func {
            Expr::Attribute(a) if matches!(&*a.value, Expr::Call(_)) || has_call_base(&a.value) => {
                (self.facts.calls.len() > before).then(|| self.facts.calls.len() as u32 - 1)
            }
            _ => None,
        };
        for arg in call.arguments.args.iter() {
            self.visit_expr(arg);
        }
        for kw in call.arguments.keywords.iter() {
            self.visit_expr(&kw.value);
        }
        let callee = dotted(&call.func, inner);
        let (line, column, end_line, end_column) = self.loc(call.range());
        let first = call.arguments.args.first();
        let str_arg = first
            .and_then(|a| self.literal_hint(a, 0))
            .or_else(|| {
                call.arguments
                    .keywords
                    .iter()
                    .find(|k| {
                        k.arg.as_ref().is_some_and(|a| {
                            matches!(
                                a.id.as_str(),
                                "model" | "model_name" | "model_path" | "name" | "path" | "pattern"
                            )
                        })
                    })
                    .and_then(|k| self.literal_hint(&k.value, 0))
            })
            .map(|s| truncate(&s, 120));
        let has_timeout =
            call.arguments.keywords.iter().any(|k| {
                k.arg.as_ref().is_some_and(|a| a.id.as_str() == "timeout") || k.arg.is_none()
            });
        let mut callable_args = Vec::new();
        for arg in call.arguments.args.iter() {
            if matches!(arg, Expr::Name(_) | Expr::Attribute(_))
                && let Some(n) = dotted_name(arg)
            {
                callable_args.push((n, Resolution::Unresolved));
            }
        }
        for kw in call.arguments.keywords.iter() {
            if kw.arg.as_ref().is_some_and(|a| {
                matches!(a.id.as_str(), "target" | "func" | "function" | "callback")
            }) && let Some(n) = dotted_name(&kw.value)
            {
                callable_args.push((n, Resolution::Unresolved));
            }
        }
        let receiver_hint = match &*call.func {
            Expr::Attribute(a) => match &*a.value {
                Expr::Call(inner) => inner
                    .arguments
                    .args
                    .first()
                    .and_then(|x| self.literal_hint(x, 0)),
                other => self.literal_hint(other, 0),
            },
            _ => None,
        }
        .map(|h| truncate(&h, 120));
        let text = callee.text.clone();
        self.facts.calls.push(Call {
            func: self.func,
            target: text.clone(),
            resolution: Resolution::Unresolved,
            line,
            column,
            end_line,
            end_column,
            api: None,
            loop_depth: self.loop_depth,
            in_recv_loop: false,
            in_while: false,
            awaited: false,
            in_with: false,
            str_arg,
            receiver_hint,
            seconds: None,
            has_timeout,
            dynamic_first_arg: first.is_some_and(|a| !is_literal(a)),
            callable_args,
            assigned_to: None,
            text,
        });
        // Keep the literal numeric arguments for sleep-like calls until resolution.
        let nums: Vec<Option<f64>> = call
            .arguments
            .args
            .iter()
            .take(4)
            .map(number_literal)
            .collect();
        let kw_secs = call
            .arguments
            .keywords
            .iter()
            .find(|k| {
                k.arg
                    .as_ref()
                    .is_some_and(|a| matches!(a.id.as_str(), "secs" | "seconds" | "delay"))
            })
            .and_then(|k| number_literal(&k.value));
        self.numeric_args.push((nums, kw_secs));
        self.raw.push(RawCall {
            callee,
            binding_mark: self.bindings.len(),
        });
    }

    fn bind(&mut self, func: FuncId, name: String, binding: Binding) {
        let pos = self.bindings.len() as u32;
        let next = self.binding_names.len() as u32;
        let id = *self.binding_names.entry(name.clone()).or_insert(next);
        self.binding_index.entry((func, id)).or_default().push(pos);
        self.bindings.push((func, name, binding));
    }

    /// The latest binding of `name` in `func` made before position `limit` of the log.
    fn binding_before(&self, func: FuncId, name: &str, limit: usize) -> Option<Binding> {
        let id = *self.binding_names.get(name)?;
        let positions = self.binding_index.get(&(func, id))?;
        let i = positions.partition_point(|&p| (p as usize) < limit);
        (i > 0).then(|| self.bindings[positions[i - 1] as usize].2.clone())
    }

    fn bind_target(&mut self, target: &Expr, value_call: Option<u32>) {
        match target {
            Expr::Name(n) => {
                let b = value_call.map_or(Binding::Unknown, Binding::Call);
                self.bind(self.func, n.id.to_string(), b);
            }
            Expr::Attribute(a) => {
                if let (Expr::Name(base), Some(call), Some(class)) =
                    (&*a.value, value_call, self.class)
                    && (base.id.as_str() == "self" || base.id.as_str() == "cls")
                {
                    self.attr_bindings
                        .push((class, a.attr.id.to_string(), call));
                }
            }
            Expr::Tuple(t) => {
                for e in t.elts.iter() {
                    self.bind_target(e, None);
                }
            }
            Expr::List(t) => {
                for e in t.elts.iter() {
                    self.bind_target(e, None);
                }
            }
            _ => {}
        }
    }

    /// The index of the call that `value` is, if it is a call (recorded last, post-order).
    fn value_call(&self, value: &Expr, before: usize) -> Option<u32> {
        let v = match value {
            Expr::Await(a) => &*a.value,
            v => v,
        };
        (matches!(v, Expr::Call(_)) && self.facts.calls.len() > before)
            .then(|| self.facts.calls.len() as u32 - 1)
    }

    fn record_sys_path(&mut self, call: &ast::ExprCall) {
        let Some(text) = dotted_name(&call.func) else {
            return;
        };
        let resolved = self.resolve_head(&text);
        if resolved != "sys.path.insert" && resolved != "sys.path.append" {
            return;
        }
        let arg = if resolved.ends_with("insert") {
            call.arguments.args.get(1)
        } else {
            call.arguments.args.first()
        };
        if let Some(dir) = arg.and_then(|a| self.eval_path(a, 0)) {
            self.facts.sys_path.push(dir);
        }
    }

    /// Evaluates a path expression relative to the module's own directory, as a `/`-joined list
    /// of segments relative to the audited root (`..` allowed). Only `__file__`, literals,
    /// `os.path.dirname/abspath/realpath/normpath/join`, `pathlib.Path(...)`, `.parent`,
    /// `.resolve()` and `/` are understood.
    fn eval_path(&self, expr: &Expr, depth: u32) -> Option<String> {
        if depth > 16 {
            return None;
        }
        match expr {
            Expr::Name(n) if n.id.as_str() == "__file__" => Some(self.facts.path.clone()),
            Expr::StringLiteral(s) => {
                let v = s.value.to_str();
                (!v.starts_with('/')).then(|| v.to_owned())
            }
            Expr::Attribute(a) if a.attr.id.as_str() == "parent" => {
                self.eval_path(&a.value, depth + 1).map(|p| parent_of(&p))
            }
            Expr::BinOp(b) if matches!(b.op, ast::Operator::Div) => {
                let l = self.eval_path(&b.left, depth + 1)?;
                let r = str_literal(&b.right)?;
                Some(join_path(&l, r))
            }
            Expr::Call(c) => {
                let f = dotted(&c.func, None);
                let name = match &f.base {
                    Base::Name => self.resolve_head(&f.text),
                    _ => f.attrs().rsplit('.').next().unwrap_or("").to_owned(),
                };
                let last = name.rsplit('.').next().unwrap_or("");
                match (name.as_str(), last) {
                    ("os.path.dirname", _) => self
                        .eval_path(c.arguments.args.first()?, depth + 1)
                        .map(|p| parent_of(&p)),
                    (
                        "os.path.abspath" | "os.path.realpath" | "os.path.normpath"
                        | "pathlib.Path" | "str",
                        _,
                    ) => self.eval_path(c.arguments.args.first()?, depth + 1),
                    ("os.path.join", _) => {
                        let mut it = c.arguments.args.iter();
                        let mut acc = self.eval_path(it.next()?, depth + 1)?;
                        for part in it {
                            acc = join_path(&acc, str_literal(part)?);
                        }
                        Some(acc)
                    }
                    (_, "resolve" | "absolute") => match &*c.func {
                        Expr::Attribute(a) => self.eval_path(&a.value, depth + 1),
                        _ => None,
                    },
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// What a string argument is known to hold: a literal, an f-string's literal parts with `{}`
    /// for each interpolation, a module-level constant, or `~` for the home directory
    /// (`os.path.expanduser("~")`, `Path.home()`).
    fn literal_hint(&self, expr: &Expr, depth: u32) -> Option<String> {
        if depth > 8 {
            return None;
        }
        match expr {
            Expr::StringLiteral(s) => Some(s.value.to_str().to_owned()),
            Expr::FString(f) => {
                let mut out = String::new();
                for part in f.value.iter() {
                    match part {
                        ast::FStringPart::Literal(l) => out.push_str(&l.value),
                        ast::FStringPart::FString(fs) => {
                            for el in fs.elements.iter() {
                                match el {
                                    ast::InterpolatedStringElement::Literal(l) => {
                                        out.push_str(&l.value)
                                    }
                                    ast::InterpolatedStringElement::Interpolation(_) => {
                                        out.push_str("{}")
                                    }
                                }
                            }
                        }
                    }
                }
                Some(out)
            }
            Expr::Name(n) => self.constants.get(n.id.as_str()).cloned(),
            Expr::Call(c) => {
                let callee = dotted_name(&c.func)?;
                match self.resolve_head(&callee).as_str() {
                    "pathlib.Path.home" | "os.getcwd" if c.arguments.args.is_empty() => {
                        Some(if callee.ends_with("home") {
                            "~".to_owned()
                        } else {
                            ".".to_owned()
                        })
                    }
                    "os.path.expanduser" | "os.path.abspath" | "os.path.realpath"
                    | "os.path.normpath" | "pathlib.Path" | "str" => {
                        self.literal_hint(c.arguments.args.first()?, depth + 1)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn resolve_head(&self, text: &str) -> String {
        through_imports(&self.imports, text)
    }
}

fn has_call_base(expr: &Expr) -> bool {
    let mut cur = expr;
    loop {
        match cur {
            Expr::Attribute(a) => cur = &a.value,
            Expr::Call(_) => return true,
            _ => return false,
        }
    }
}

/// `a/b/c.py` -> `a/b`; `a` -> `` ; `` -> `..`.
fn parent_of(path: &str) -> String {
    if path.is_empty() || path == "." {
        return "..".to_owned();
    }
    if path.ends_with("..") {
        return format!("{path}/..");
    }
    match path.rfind('/') {
        Some(i) => path[..i].to_owned(),
        None => String::new(),
    }
}

fn join_path(base: &str, part: &str) -> String {
    let mut segs: Vec<String> = base
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .map(str::to_owned)
        .collect();
    for p in part.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if segs.last().is_some_and(|s| s != "..") {
                    segs.pop();
                } else {
                    segs.push("..".to_owned());
                }
            }
            _ => segs.push(p.to_owned()),
        }
    }
    segs.join("/")
}

/// Normalises a relative path with `..` segments (`a/b/../c` -> `a/c`).
pub fn normalise_path(path: &str) -> String {
    join_path("", path)
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
                        (false, false) => format!("{b}.{module}"),
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
                        format!("{base}.{name}")
                    };
                    self.record_import(local, target, alias.range);
                }
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
                    c.in_while |= c.func == func;
                }
                for c in &mut self.facts.candidates[cand_start..] {
                    c.in_while |= c.func == func;
                }
                self.visit_body(&w.orelse);
            }
            Stmt::For(f) => {
                let before = self.facts.calls.len();
                self.visit_expr(&f.iter);
                let iter_receives = self.value_call(&f.iter, before).is_some_and(|i| {
                    let t = &self.raw[i as usize].callee.text;
                    self.patterns.is_receive(t, t)
                });
                self.loop_depth = self.loop_depth.saturating_add(1);
                let start = self.facts.calls.len();
                let cand_start = self.facts.candidates.len();
                self.bind_target(&f.target, None);
                self.record_kind(&f.target, ValueKind::Other);
                self.visit_expr(&f.target);
                self.visit_body(&f.body);
                self.close_loop(start, cand_start, iter_receives);
                self.loop_depth -= 1;
                self.visit_body(&f.orelse);
            }
            Stmt::With(w) => {
                for item in &w.items {
                    let before = self.facts.calls.len();
                    self.visit_expr(&item.context_expr);
                    let vc = self.value_call(&item.context_expr, before);
                    if let Some(i) = vc {
                        self.facts.calls[i as usize].in_with = true;
                    }
                    if let Some(vars) = &item.optional_vars {
                        self.bind_target(vars, vc);
                        self.record_kind(vars, ValueKind::Other);
                    }
                }
                self.visit_body(&w.body);
            }
            Stmt::Assign(a) => {
                let before = self.facts.calls.len();
                self.visit_expr(&a.value);
                let vc = self.value_call(&a.value, before);
                let kind = kind_of_expr(&a.value);
                for t in &a.targets {
                    self.visit_expr(t);
                    self.bind_target(t, vc);
                    self.record_kind(t, kind);
                }
                if self.func == 0
                    && let [Expr::Name(n)] = a.targets.as_slice()
                    && let Some(hint) = self.literal_hint(&a.value, 0)
                {
                    self.constants.insert(n.id.to_string(), hint);
                }
                if let (Some(i), Some(t)) = (vc, a.targets.first()) {
                    self.facts.calls[i as usize].assigned_to =
                        Some(truncate(&self.source[t.range()], 80));
                }
            }
            Stmt::AnnAssign(a) => {
                let before = self.facts.calls.len();
                if let Some(v) = &a.value {
                    self.visit_expr(v);
                }
                let vc = a.value.as_ref().and_then(|v| self.value_call(v, before));
                match (vc, dotted_name(&a.annotation), &*a.target) {
                    (None, Some(ann), Expr::Name(n)) => {
                        self.bindings
                            .push((self.func, n.id.to_string(), Binding::Annotation(ann)));
                    }
                    _ => self.bind_target(&a.target, vc),
                }
                let kind = match a.value.as_deref().map(kind_of_expr) {
                    Some(k) if k != ValueKind::Other => k,
                    _ => kind_of_annotation(&a.annotation),
                };
                self.record_kind(&a.target, kind);
                if let Some(i) = vc {
                    self.facts.calls[i as usize].assigned_to =
                        Some(truncate(&self.source[a.target.range()], 80));
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
            Stmt::If(i) => {
                self.visit_expr(&i.test);
                self.guards.push(i.test.range());
                self.visit_body(&i.body);
                self.guards.pop();
                for clause in &i.elif_else_clauses {
                    if let Some(test) = &clause.test {
                        self.visit_expr(test);
                        self.guards.push(test.range());
                    }
                    self.visit_body(&clause.body);
                    if clause.test.is_some() {
                        self.guards.pop();
                    }
                }
            }
            Stmt::Expr(e) => {
                if let Expr::Call(c) = &*e.value {
                    self.record_sys_path(c);
                }
                visitor::walk_stmt(self, stmt);
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
                    self.facts.calls[i as usize].awaited = true;
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
                visitor::walk_expr(self, expr);
            }
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) | Expr::Generator(_) => {
                self.loop_depth = self.loop_depth.saturating_add(1);
                visitor::walk_expr(self, expr);
                self.loop_depth -= 1;
            }
            _ => visitor::walk_expr(self, expr),
        }
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

impl Collector<'_> {
    fn resolve_all(&mut self) {
        let n = self.facts.calls.len();
        self.resolved = vec![None; n];
        self.resolving = vec![false; n];
        for i in 0..n {
            let (target, resolution) = self.resolve_call(i as u32);
            let api = match resolution {
                Resolution::Import | Resolution::Inferred => self.catalog.lookup(&target),
                _ => None,
            };
            let seconds = api.and_then(|id| {
                let idx = self.catalog.get(id).arg_seconds?;
                let (nums, kw) = &self.numeric_args[i];
                nums.get(idx).copied().flatten().or(*kw)
            });
            let call = &mut self.facts.calls[i];
            call.target = target;
            call.resolution = resolution;
            call.api = api;
            call.seconds = seconds;
        }
        for i in 0..n {
            let func = self.facts.calls[i].func;
            let mark = self.raw[i].binding_mark;
            let args = std::mem::take(&mut self.facts.calls[i].callable_args);
            self.facts.calls[i].callable_args = args
                .into_iter()
                .map(|(text, _)| self.resolve_text(func, &text, mark))
                .collect();
        }
        let mut refs = std::mem::take(&mut self.raw_refs);
        refs.sort();
        refs.dedup();
        for (func, text) in refs {
            let (target, res) = self.resolve_text(func, &text, usize::MAX);
            if res != Resolution::Unresolved {
                self.facts.refs.push((func, target, res));
            }
        }
        for f in 1..self.facts.functions.len() {
            let parent = self.facts.functions[f].parent.unwrap_or(0);
            let decos = std::mem::take(&mut self.facts.functions[f].decorators);
            self.facts.functions[f].decorators = decos
                .into_iter()
                .map(|d| self.resolve_text(parent, &d, usize::MAX).0)
                .collect();
        }
        for c in 0..self.facts.classes.len() {
            let bases = std::mem::take(&mut self.facts.classes[c].bases);
            self.facts.classes[c].bases = bases
                .into_iter()
                .map(|b| self.resolve_text(0, &b, usize::MAX).0)
                .collect();
        }
        let mut attr_types: Vec<(u32, String, String)> = Vec::new();
        for (class, attr, call) in self.attr_bindings.clone() {
            if let Some(t) = self.returned_type(call) {
                attr_types.push((class, attr, t));
            }
        }
        for (class, attr, t) in attr_types {
            let types = &mut self.facts.classes[class as usize].attr_types;
            if !types.iter().any(|(a, _)| *a == attr) {
                types.push((attr, t));
            }
        }
        let globals: Vec<(String, u32)> = self
            .bindings
            .iter()
            .filter_map(|(f, name, b)| match b {
                Binding::Call(i) if *f == 0 => Some((name.clone(), *i)),
                _ => None,
            })
            .collect();
        for (name, call) in globals {
            if let Some(t) = self.returned_type(call) {
                self.facts.globals.retain(|(n, _)| *n != name);
                self.facts.globals.push((name, t));
            }
        }
    }

    fn resolve_call(&mut self, i: u32) -> (String, Resolution) {
        let iu = i as usize;
        if let Some(r) = &self.resolved[iu] {
            return r.clone();
        }
        if self.resolving[iu] {
            return (self.raw[iu].callee.text.clone(), Resolution::Unresolved);
        }
        self.resolving[iu] = true;
        let r = stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || {
            let base = self.raw[iu].callee.base;
            match base {
                Base::CallResult(j) => match self.returned_type(j) {
                    Some(t) => (join(&t, self.raw[iu].callee.attrs()), Resolution::Inferred),
                    None => (self.raw[iu].callee.text.clone(), Resolution::Unresolved),
                },
                Base::Other => (self.raw[iu].callee.text.clone(), Resolution::Unresolved),
                Base::Name => {
                    let func = self.facts.calls[iu].func;
                    let text = self.raw[iu].callee.text.clone();
                    self.resolve_text(func, &text, self.raw[iu].binding_mark)
                }
            }
        });
        self.resolving[iu] = false;
        self.resolved[iu] = Some(r.clone());
        r
    }

    /// The type of the value a call returns: the catalog's `returns`, or the class itself when
    /// the call instantiates a class (`Client()` -> `pkg.mod.Client`).
    fn returned_type(&mut self, i: u32) -> Option<String> {
        let (target, res) = self.resolve_call(i);
        if res == Resolution::Unresolved {
            return None;
        }
        if res != Resolution::Local
            && let Some(id) = self.catalog.lookup(&target)
        {
            return self.catalog.get(id).returned_type().map(str::to_owned);
        }
        let last = target.rsplit('.').next().unwrap_or(&target);
        last.starts_with(|c: char| c.is_ascii_uppercase())
            .then_some(target)
    }

    /// Resolves dotted text used in function `func`, seeing the bindings made before `mark`.
    fn resolve_text(&mut self, func: FuncId, text: &str, mark: usize) -> (String, Resolution) {
        // `head.rest`: `rest` holds the attributes, dot-separated (empty for a bare name).
        let (head, rest) = text.split_once('.').unwrap_or((text, ""));
        let limit = mark.min(self.bindings.len());
        let is_self = head == "self" || head == "cls";
        let local = if is_self {
            None
        } else {
            self.binding_before(func, head, limit)
        };
        if let Some(b) = local {
            return self.resolve_binding(b, rest, text);
        }
        if is_self {
            if let Some(class) = self.method_class(func) {
                if !rest.is_empty() && !rest.contains('.') {
                    let cq = &self.facts.classes[class as usize].qualname;
                    return (
                        dot_join(&[&self.facts.module, cq, rest]),
                        Resolution::SelfMethod,
                    );
                }
                if !rest.is_empty() {
                    let (first, after) = rest.split_once('.').unwrap_or((rest, ""));
                    let found = self
                        .attr_bindings
                        .iter()
                        .find(|(c, a, _)| *c == class && a == first)
                        .map(|(_, _, call)| *call);
                    if let Some(call) = found
                        && let Some(t) = self.returned_type(call)
                    {
                        return (join(&t, after), Resolution::Inferred);
                    }
                }
            }
            return (text.to_owned(), Resolution::Unresolved);
        }
        if let Some(t) = self.imports.get(head) {
            return (join(t, rest), Resolution::Import);
        }
        if self.module_defs.contains_key(head) {
            let target = if self.facts.module.is_empty() {
                text.to_owned()
            } else {
                dot_join(&[&self.facts.module, text])
            };
            return (target, Resolution::Local);
        }
        if func != 0 {
            let global = self.binding_before(0, head, usize::MAX);
            if let Some(b) = global {
                return self.resolve_binding(b, rest, text);
            }
        }
        if rest.is_empty() && BUILTIN_CALLABLES.contains(&head) {
            return (head.to_owned(), Resolution::Import);
        }
        (text.to_owned(), Resolution::Unresolved)
    }

    /// `rest` is the attribute path after the bound name, dot-separated.
    fn resolve_binding(&mut self, b: Binding, rest: &str, text: &str) -> (String, Resolution) {
        let ty = match b {
            Binding::Call(i) => self.returned_type(i),
            Binding::Annotation(ann) => {
                let (t, r) = self.resolve_text(0, &ann, usize::MAX);
                (r != Resolution::Unresolved).then_some(t)
            }
            Binding::Unknown => None,
        };
        match ty {
            Some(t) => (join(&t, rest), Resolution::Inferred),
            None => (text.to_owned(), Resolution::Unresolved),
        }
    }

    fn method_class(&self, mut func: FuncId) -> Option<u32> {
        loop {
            let f = &self.facts.functions[func as usize];
            if f.kind == FnKind::Method {
                return f.class;
            }
            func = f.parent?;
        }
    }
}

/// `base.rest`, or `base` when `rest` is empty.
fn join(base: &str, rest: &str) -> String {
    if rest.is_empty() {
        return base.to_owned();
    }
    let mut s = String::with_capacity(base.len() + 1 + rest.len());
    s.push_str(base);
    s.push('.');
    s.push_str(rest);
    s
}
