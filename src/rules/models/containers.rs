//! Long-lived containers that grow without bound (shared by PA204 and PA207).
//!
//! A container is long-lived when it is an attribute of `self` (or a class attribute) or a
//! module-level name. The AST hook records, one candidate each, what the module does to such
//! containers: where they are created and with what (`{}`, `[]`, `set()`, `defaultdict(...)`,
//! `deque(maxlen=...)`), where they grow (`x[k] = v`, `append`, `add`, `update`, `setdefault`,
//! `+=`), and anything that removes from or bounds them (`pop`, `popitem`, `del`, `clear`, a
//! second assignment, slicing, a `len(x)` comparison, an alias that other code may trim). The
//! message of a candidate is the operation and its operands, tab-separated.
//!
//! `unbounded` reads the module's candidates back and keeps the containers created exactly once
//! as an unbounded built-in container, that grow somewhere and are never evicted from anywhere in
//! the module. Whether a growth site runs per request is the rules' question.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Operator, Stmt};
use ruff_text_size::{Ranged, TextRange};

use super::{bound_name, function_at, load_label, marks, method_class};
use crate::catalog::{Catalog, Effect};
use crate::contexts::last_segment;
use crate::facts::collect::{LocalContext, ModuleEnd, SharedHook};
use crate::facts::marks::{ContainerOp, Mark};
use crate::facts::names::{dotted_name, is_literal, number_literal};
use crate::facts::{Candidate, FnKind, FuncId, ModuleFacts, Resolution};
use crate::project::context::Execution;
use crate::project::{CtxKind, Project};

/// Methods that add to a built-in list, deque, set or dict (Python language facts).
const GROW_METHODS: &[&str] = &[
    "add",
    "append",
    "appendleft",
    "extend",
    "extendleft",
    "insert",
    "setdefault",
    "update",
];

/// Methods that remove from a built-in list, deque, set or dict.
const EVICT_METHODS: &[&str] = &[
    "clear",
    "difference_update",
    "discard",
    "intersection_update",
    "pop",
    "popitem",
    "popleft",
    "remove",
    "symmetric_difference_update",
];

/// Methods that turn an array or tensor into plain Python values: what is kept is no tensor.
const CONVERSIONS: &[&str] = &["item", "numpy", "tolist"];

/// Methods that return another tensor over the same or copied data: what is kept is a tensor.
const TENSOR_VIEWS: &[&str] = &[
    "clone",
    "contiguous",
    "cpu",
    "cuda",
    "detach",
    "float",
    "half",
    "reshape",
    "squeeze",
    "to",
    "unsqueeze",
    "view",
];

/// What a long-lived container was created as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dict,
    /// A dict display with literal keys (`{"hits": 0}`): a fixed record, not a cache.
    DictFixed,
    DefaultDict,
    Counter,
    /// A list, or a deque without `maxlen`.
    List,
    Set,
    /// Anything else (a bounded deque, a cache class, a call result): never reported.
    Other,
}

impl Kind {
    fn parse(s: &str) -> Kind {
        match s {
            "dict" => Kind::Dict,
            "dict-fixed" => Kind::DictFixed,
            "defaultdict" => Kind::DefaultDict,
            "counter" => Kind::Counter,
            "list" => Kind::List,
            "set" => Kind::Set,
            _ => Kind::Other,
        }
    }

    /// Whether the operation `how` adds entries to a container of this kind.
    fn grows_by(self, how: &str) -> bool {
        use Kind::*;
        let keyed = matches!(self, Dict | DefaultDict | Counter);
        match how {
            "[]=" => keyed,
            "[][]=" => keyed || self == DictFixed,
            "[]+=" => matches!(self, DefaultDict | Counter),
            "+=" => matches!(self, List | Set | Dict | Counter),
            ".append" | ".appendleft" | ".extend" | ".extendleft" | ".insert" => self == List,
            ".add" => self == Set,
            ".update" => keyed || self == Set,
            ".setdefault" => matches!(self, Dict | DefaultDict),
            h if h.starts_with("[].") => keyed || matches!(self, DictFixed | List),
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// AST hook

/// The code the shared hook's candidates carry: PA204 and PA207 both read them, and the hook
/// runs once when either is enabled.
pub const HOOK_CODE: &str = "containers";

pub static HOOK: SharedHook = SharedHook {
    code: HOOK_CODE,
    stmt: hook_stmt,
    expr: hook_expr,
    finish,
};

/// `self.x` / `cls.x` (as `self.x`) or a bare name (not `self`/`cls`).
fn receiver(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Name(n) if !matches!(n.id.as_str(), "self" | "cls") => Some(n.id.to_string()),
        Expr::Attribute(a) => match &*a.value {
            Expr::Name(b) if matches!(b.id.as_str(), "self" | "cls") => {
                Some(format!("self.{}", a.attr.id))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The container a subscript or attribute chain starts from: `x`, `x[k]`, `x[k][j]`.
fn root_receiver(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Subscript(s) => root_receiver(&s.value),
        e => receiver(e),
    }
}

fn container_kind(value: &Expr, cx: &LocalContext) -> Option<&'static str> {
    Some(match value {
        Expr::Dict(d) if d.items.is_empty() => "dict",
        Expr::Dict(_) => "dict-fixed",
        Expr::DictComp(_) => "dict",
        Expr::List(_) | Expr::ListComp(_) => "list",
        Expr::Set(_) | Expr::SetComp(_) => "set",
        Expr::Call(c) => {
            let name = cx.resolve(&dotted_name(&c.func)?);
            let args = &c.arguments;
            match name.as_str() {
                "dict" if args.keywords.is_empty() => "dict",
                "dict" => "dict-fixed",
                "list" => "list",
                "set" => "set",
                "collections.OrderedDict" => "dict",
                "collections.defaultdict" => "defaultdict",
                "collections.Counter" => "counter",
                "collections.deque" => {
                    let maxlen = args
                        .keywords
                        .iter()
                        .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "maxlen"))
                        .map(|k| &k.value);
                    match (maxlen, args.args.get(1)) {
                        (Some(Expr::NoneLiteral(_)), _) | (None, None) => "list",
                        _ => "other",
                    }
                }
                _ => "other",
            }
        }
        _ => return None,
    })
}

/// What a stored value is, for PA207: `n:NAME` (a name), `c:CALLEE` (the result of a call, the
/// callee resolved through imports), `x` (converted to plain values) or `-`.
fn value_desc(value: Option<&Expr>, cx: &LocalContext) -> String {
    let Some(mut cur) = value else {
        return "-".to_owned();
    };
    loop {
        match cur {
            Expr::Attribute(a) => cur = &a.value,
            Expr::Subscript(s) => cur = &s.value,
            Expr::Call(c) => match &*c.func {
                Expr::Attribute(a) if CONVERSIONS.contains(&a.attr.id.as_str()) => {
                    return "x".to_owned();
                }
                Expr::Attribute(a) if TENSOR_VIEWS.contains(&a.attr.id.as_str()) => cur = &a.value,
                f => {
                    return dotted_name(f)
                        .map_or_else(|| "-".to_owned(), |t| format!("c:{}", cx.resolve(&t)));
                }
            },
            Expr::Name(n) => return format!("n:{}", n.id),
            _ => return "-".to_owned(),
        }
    }
}

/// `x[k][-n:]` / `x[-n:]` on the container itself: keeps a bounded tail.
fn trims(value: &Expr, key: &str) -> bool {
    matches!(value, Expr::Subscript(s) if matches!(&*s.slice, Expr::Slice(_))
        && root_receiver(&s.value).as_deref() == Some(key))
}

fn on_assign(target: &Expr, value: Option<&Expr>, range: TextRange, cx: &mut LocalContext) {
    match target {
        Expr::Name(n) if cx.func == 0 => bind(&n.id, value, target.range(), cx),
        Expr::Attribute(_) => {
            if let Some(key) = receiver(target) {
                bind(&key, value, target.range(), cx);
            }
        }
        Expr::Subscript(s) => {
            if let Some(key) = receiver(&s.value) {
                let op = if matches!(&*s.slice, Expr::Slice(_)) {
                    evict(&key, "slice")
                } else if value.is_some_and(|v| trims(v, &key)) {
                    evict(&key, "trim")
                } else if is_literal(&s.slice) || number_literal(&s.slice).is_some() {
                    // A fixed key (`x["total"] = ...`, `x[0] = ...`) fills one slot, not a new one
                    // per request.
                    return;
                } else {
                    grow(&key, "[]=", value_desc(value, cx))
                };
                cx.report(range, op);
            } else if let Expr::Subscript(inner) = &*s.value
                && let Some(key) = receiver(&inner.value)
            {
                cx.report(range, grow(&key, "[][]=", value_desc(value, cx)));
            }
        }
        Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
            // `a, b = x, y` pairs each target with its value (`_, cache = lock, CACHE` aliases).
            let values: Option<&[Expr]> = match value {
                Some(Expr::Tuple(v)) if v.elts.len() == elts.len() => Some(&v.elts),
                Some(Expr::List(v)) if v.elts.len() == elts.len() => Some(&v.elts),
                _ => None,
            };
            for (i, e) in elts.iter().enumerate() {
                on_assign(e, values.map(|v| &v[i]), range, cx);
            }
        }
        Expr::Starred(s) => on_assign(&s.value, None, range, cx),
        _ => {}
    }
    // Another name for the container: code through the alias may trim it.
    if let Some(v) = value
        && let Some(key) = receiver(v)
        && match target {
            Expr::Name(_) => key.starts_with("self.") || cx.func != 0,
            Expr::Attribute(_) => key.starts_with("self."),
            _ => false,
        }
    {
        cx.report(v.range(), Mark::Container(ContainerOp::Alias { key }));
    }
}

fn grow(key: &str, how: &str, value: String) -> Mark {
    Mark::Container(ContainerOp::Grow {
        key: key.to_owned(),
        how: how.to_owned(),
        value,
    })
}

fn evict(key: &str, how: &str) -> Mark {
    Mark::Container(ContainerOp::Evict {
        key: key.to_owned(),
        how: how.to_owned(),
    })
}

fn bind(key: &str, value: Option<&Expr>, range: TextRange, cx: &mut LocalContext) {
    let kind = value.and_then(|v| container_kind(v, cx));
    let key = key.to_owned();
    let op = match kind {
        Some(kind) => ContainerOp::Init {
            key,
            kind: kind.to_string(),
        },
        None => ContainerOp::Assign { key },
    };
    cx.report(range, Mark::Container(op));
}

/// AST hook at statements: creations, stores, `+=`, `del`, and the scope facts of a `def`.
pub fn hook_stmt(stmt: &Stmt, cx: &mut LocalContext) {
    match stmt {
        Stmt::ClassDef(k) => cx.report(k.range, Mark::Container(ContainerOp::Class)),
        Stmt::Assign(a) => {
            for t in &a.targets {
                on_assign(t, Some(&a.value), stmt.range(), cx);
            }
        }
        Stmt::AnnAssign(a) => {
            if let Some(v) = &a.value {
                on_assign(&a.target, Some(v), stmt.range(), cx);
            }
        }
        Stmt::AugAssign(a) => {
            if let Some(key) = receiver(&a.target) {
                let op = match a.op {
                    Operator::Add | Operator::BitOr => grow(&key, "+=", "-".to_owned()),
                    Operator::Sub | Operator::BitAnd => evict(&key, "-="),
                    _ => return,
                };
                cx.report(stmt.range(), op);
            } else if let Expr::Subscript(s) = &*a.target
                && let Some(key) = receiver(&s.value)
            {
                cx.report(stmt.range(), grow(&key, "[]+=", "-".to_owned()));
            }
        }
        Stmt::Delete(d) => {
            for t in &d.targets {
                if let Some(key) = root_receiver(t) {
                    cx.report(t.range(), evict(&key, "del"));
                }
            }
        }
        _ => {}
    }
}

/// AST hook at expressions: growing and evicting method calls, `len(x)` comparisons.
pub fn hook_expr(expr: &Expr, cx: &mut LocalContext) {
    match expr {
        Expr::Call(c) => {
            let Expr::Attribute(a) = &*c.func else { return };
            let method = a.attr.id.as_str();
            let (key, nested) = match (receiver(&a.value), &*a.value) {
                (Some(k), _) => (k, false),
                (None, Expr::Subscript(s)) => match receiver(&s.value) {
                    Some(k) => (k, true),
                    None => return,
                },
                _ => return,
            };
            let how = if nested {
                format!("[].{method}")
            } else {
                format!(".{method}")
            };
            if GROW_METHODS.contains(&method) {
                let args = &c.arguments.args;
                let stored = match method {
                    "setdefault" => args.get(1),
                    "update" => None,
                    _ => args.last(),
                };
                let op = grow(&key, &how, value_desc(stored, cx));
                cx.report(c.range(), op);
            } else if EVICT_METHODS.contains(&method) {
                cx.report(c.range(), evict(&key, &how));
            }
        }
        Expr::Compare(c) => {
            for operand in std::iter::once(&*c.left).chain(c.comparators.iter()) {
                if let Expr::Call(call) = operand
                    && dotted_name(&call.func).is_some_and(|n| cx.resolve(&n) == "len")
                    && let [arg] = &call.arguments.args[..]
                    && let Some(key) = receiver(arg)
                {
                    cx.report(c.range(), Mark::Container(ContainerOp::Bound { key }));
                }
            }
        }
        _ => {}
    }
}

/// The names created somewhere in the module as an unbounded built-in container: the only
/// ones `unbounded` can report.
fn wanted_names(candidates: &[Candidate]) -> HashSet<&str> {
    candidates
        .iter()
        .filter(|c| c.code == HOOK_CODE)
        .filter_map(|c| match c.mark.container()? {
            ContainerOp::Init { key, kind } => {
                (Kind::parse(kind) != Kind::Other).then_some(key.as_str())
            }
            _ => None,
        })
        .collect()
}

/// Whether a candidate's container key is one of `wanted` (a class attribute is created bare
/// and used as `self.cache`).
fn is_wanted(wanted: &HashSet<&str>, key: &str) -> bool {
    wanted.contains(key)
        || key
            .strip_prefix("self.")
            .is_some_and(|k| wanted.contains(k))
}

/// After the walk: keeps the operations on containers that can be reported (and every class
/// body, which `Lifetimes` reads), then records the scope facts of each `def` for those
/// containers: the names it binds locally (`locals`) and the `global` names it rebinds
/// (`reset`). Most modules create no unbounded container, and skip the scope scans.
fn finish(body: &[Stmt], cx: &mut ModuleEnd) {
    let wanted: HashSet<String> = wanted_names(&cx.facts.candidates)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let wanted_ref: HashSet<&str> = wanted.iter().map(String::as_str).collect();
    cx.facts.candidates.retain(|c| {
        if c.code != HOOK_CODE {
            return true;
        }
        match c.mark.container() {
            Some(ContainerOp::Class) => true,
            Some(op) => op.key().is_some_and(|key| is_wanted(&wanted_ref, key)),
            None => false,
        }
    });
    if wanted.is_empty() {
        return;
    }
    for (id, f) in cx.function_defs(body) {
        let Some(parent) = cx.facts.functions[id as usize].parent else {
            continue;
        };
        // A scan can only record names the definition spells out.
        let text = cx.source_text(f.range);
        if !wanted.iter().any(|w| text.contains(w.as_str())) {
            continue;
        }
        let scan = ScopeScan::of(f, &wanted);
        let mut shadowing: Vec<&String> = scan
            .stores
            .iter()
            .filter(|n| {
                scan.receivers.contains(*n)
                    && !scan.globals.contains(*n)
                    && wanted.contains(n.as_str())
            })
            .collect();
        shadowing.sort();
        if !shadowing.is_empty() {
            let names = shadowing.into_iter().cloned().collect();
            let op = ContainerOp::Locals { names };
            cx.report(parent, f.range, Mark::Container(op));
        }
        let mut rebound: Vec<&String> = scan
            .globals
            .iter()
            .filter(|n| scan.stores.contains(*n) && wanted.contains(n.as_str()))
            .collect();
        rebound.sort();
        for name in rebound {
            let key = name.clone();
            cx.report(parent, f.range, Mark::Container(ContainerOp::Reset { key }));
        }
    }
}

/// The names a `def` binds in its own scope, the names it declares `global`/`nonlocal`, and
/// the bare names used as containers anywhere inside it (nested definitions included).
/// Only names in `wanted` are recorded: the others cannot change what is reported.
struct ScopeScan<'w> {
    wanted: &'w HashSet<String>,
    stores: HashSet<String>,
    globals: HashSet<String>,
    receivers: HashSet<String>,
    nested: u32,
}

impl<'w> ScopeScan<'w> {
    fn of(f: &ast::StmtFunctionDef, wanted: &'w HashSet<String>) -> ScopeScan<'w> {
        let mut s = ScopeScan {
            wanted,
            stores: HashSet::default(),
            globals: HashSet::default(),
            receivers: HashSet::default(),
            nested: 0,
        };
        for p in f.parameters.iter() {
            s.store_name(p.name().id.as_str());
        }
        for stmt in &f.body {
            s.visit_stmt(stmt);
        }
        s
    }

    fn store(&mut self, target: &Expr) {
        if self.nested > 0 {
            return;
        }
        match target {
            Expr::Name(n) => self.store_name(n.id.as_str()),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.store(e)),
            Expr::List(t) => t.elts.iter().for_each(|e| self.store(e)),
            Expr::Starred(s) => self.store(&s.value),
            _ => {}
        }
    }

    fn store_name(&mut self, name: &str) {
        if self.nested == 0 && self.wanted.contains(name) {
            self.stores.insert(name.to_owned());
        }
    }

    fn receiver(&mut self, key: String) {
        if self.wanted.contains(&key) {
            self.receivers.insert(key);
        }
    }
}

impl<'a> Visitor<'a> for ScopeScan<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || match stmt {
            Stmt::FunctionDef(f) => {
                self.store_name(&f.name.id);
                self.nested += 1;
                visitor::walk_stmt(self, stmt);
                self.nested -= 1;
            }
            Stmt::ClassDef(k) => {
                self.store_name(&k.name.id);
                self.nested += 1;
                visitor::walk_stmt(self, stmt);
                self.nested -= 1;
            }
            _ => {
                match stmt {
                    Stmt::Global(ast::StmtGlobal { names, .. })
                    | Stmt::Nonlocal(ast::StmtNonlocal { names, .. })
                        if self.nested == 0 =>
                    {
                        let wanted = self.wanted;
                        self.globals.extend(
                            names
                                .iter()
                                .filter(|n| wanted.contains(n.id.as_str()))
                                .map(|n| n.id.to_string()),
                        );
                    }
                    Stmt::Import(i) => {
                        for a in &i.names {
                            let local = a.asname.as_ref().map_or_else(
                                || a.name.id.split('.').next().unwrap_or("").to_owned(),
                                |n| n.id.to_string(),
                            );
                            self.store_name(&local);
                        }
                    }
                    Stmt::ImportFrom(i) => {
                        for a in &i.names {
                            let local = a.asname.as_ref().unwrap_or(&a.name);
                            self.store_name(&local.id);
                        }
                    }
                    Stmt::Assign(a) => a.targets.iter().for_each(|t| self.store(t)),
                    Stmt::AnnAssign(a) => self.store(&a.target),
                    Stmt::AugAssign(a) => {
                        self.store(&a.target);
                        if let Some(k) = receiver(&a.target) {
                            self.receiver(k);
                        }
                    }
                    Stmt::For(f) => self.store(&f.target),
                    Stmt::With(w) => {
                        for item in &w.items {
                            if let Some(v) = &item.optional_vars {
                                self.store(v);
                            }
                        }
                    }
                    Stmt::Try(t) => {
                        for h in &t.handlers {
                            let ast::ExceptHandler::ExceptHandler(h) = h;
                            if let Some(n) = &h.name {
                                self.store_name(&n.id);
                            }
                        }
                    }
                    _ => {}
                }
                visitor::walk_stmt(self, stmt);
            }
        });
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || {
            match expr {
                Expr::Named(n) => self.store(&n.target),
                Expr::Subscript(s) => {
                    if let Some(k) = receiver(&s.value) {
                        self.receiver(k);
                    }
                }
                Expr::Call(c) => {
                    if let Expr::Attribute(a) = &*c.func
                        && let Some(k) = root_receiver(&a.value)
                    {
                        self.receiver(k);
                    }
                    if let [arg] = &c.arguments.args[..]
                        && let Some(k) = receiver(arg)
                    {
                        self.receiver(k);
                    }
                }
                _ => {}
            }
            if matches!(
                expr,
                Expr::Lambda(_)
                    | Expr::ListComp(_)
                    | Expr::SetComp(_)
                    | Expr::DictComp(_)
                    | Expr::Generator(_)
            ) {
                // Their own scopes: what they bind is not a local of the `def`.
                self.nested += 1;
                visitor::walk_expr(self, expr);
                self.nested -= 1;
            } else {
                visitor::walk_expr(self, expr);
            }
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the candidates back

/// One place a container grows.
pub struct Growth<'a> {
    pub cand: &'a Candidate,
    /// The operation: `[]=`, `.append`, `+=`, `[].append`, ...
    pub how: &'a str,
    /// The stored value, as `value_desc` wrote it.
    pub value: &'a str,
}

/// A long-lived container that grows and is never evicted from.
pub struct Container<'a> {
    /// As written in the source: `self.cache` or `CACHE`.
    pub name: String,
    /// The class whose attribute it is; `None` for a module-level name.
    pub class: Option<u32>,
    pub kind: Kind,
    pub grows: Vec<Growth<'a>>,
}

#[derive(Default)]
struct Agg<'a> {
    kinds: Vec<Kind>,
    binds: usize,
    evicted: bool,
    grows: Vec<Growth<'a>>,
}

/// The containers of a module, from the candidates the shared hook recorded, that are
/// created once as an unbounded built-in container, grow, and are never evicted from.
pub fn unbounded(m: &ModuleFacts) -> Vec<Container<'_>> {
    let code = HOOK_CODE;
    // Only names created somewhere as an unbounded container can be reported: the other
    // operations are looked at for those names alone.
    let wanted = wanted_names(&m.candidates);
    if wanted.is_empty() {
        return Vec::new();
    }
    let spans: Vec<(u32, u32, FuncId, u32)> = marks(m, code)
        .filter(|(_, mark)| mark.container() == Some(&ContainerOp::Class))
        .filter_map(|(c, _)| {
            let class = m.classes.iter().position(|k| k.line == c.line)?;
            Some((c.line, c.end_line, c.func, class as u32))
        })
        .collect();
    let mut locals: HashMap<FuncId, Vec<&str>> = HashMap::default();
    for (c, mark) in marks(m, code) {
        if let (Some(f), Some(ContainerOp::Locals { names })) =
            (function_at(m, c.func, c.line), mark.container())
        {
            locals
                .entry(f)
                .or_default()
                .extend(names.iter().map(String::as_str));
        }
    }
    // The innermost class whose body holds `line`, written directly in scope `func`.
    let class_body = |func: FuncId, line: u32| {
        spans
            .iter()
            .filter(|(s, e, f, _)| *f == func && *s <= line && line <= *e)
            .max_by_key(|(s, ..)| *s)
            .map(|(.., class)| *class)
    };
    let owner = |c: &Candidate, key: &str| -> Option<(Option<u32>, String)> {
        if let Some(attr) = key.strip_prefix("self.") {
            return Some((Some(method_class(m, c.func)?), attr.to_owned()));
        }
        let f = &m.functions[c.func as usize];
        if matches!(f.kind, FnKind::Module | FnKind::Main) {
            return Some((class_body(c.func, c.line), key.to_owned()));
        }
        let mut cur = Some(c.func);
        while let Some(id) = cur {
            let fk = &m.functions[id as usize];
            if matches!(fk.kind, FnKind::Module | FnKind::Main) {
                break;
            }
            if locals.get(&id).is_some_and(|l| l.contains(&key)) {
                return None;
            }
            cur = fk.parent;
        }
        Some((None, key.to_owned()))
    };
    let mut aggs: HashMap<(Option<u32>, String), Agg> = HashMap::default();
    let mut order: Vec<(Option<u32>, String)> = Vec::new();
    for c in m.candidates.iter().filter(|c| c.code == code) {
        let Some(op) = c.mark.container() else {
            continue;
        };
        let Some(key) = op.key() else { continue };
        // A class attribute is created bare (`cache = {}` in the class body) and used as
        // `self.cache`.
        if !is_wanted(&wanted, key) {
            continue;
        }
        let id = match op {
            // A `global` name rebound inside a function.
            ContainerOp::Reset { .. } => Some((None, key.to_owned())),
            _ => owner(c, key),
        };
        let Some(id) = id else { continue };
        let agg = aggs.entry(id.clone()).or_insert_with(|| {
            order.push(id.clone());
            Agg::default()
        });
        match op {
            ContainerOp::Init { kind, .. } => {
                agg.binds += 1;
                agg.kinds.push(Kind::parse(kind));
            }
            ContainerOp::Assign { .. } => agg.binds += 1,
            ContainerOp::Grow { how, value, .. } => {
                agg.grows.push(Growth {
                    cand: c,
                    how,
                    value,
                });
            }
            _ => agg.evicted = true,
        }
    }
    let mut out = Vec::new();
    for id in order {
        let agg = aggs.remove(&id).expect("aggregated");
        let [kind] = agg.kinds[..] else { continue };
        if agg.binds != 1 || agg.evicted || kind == Kind::Other {
            continue;
        }
        let grows: Vec<Growth> = agg
            .grows
            .into_iter()
            .filter(|g| kind.grows_by(g.how))
            .collect();
        if grows.is_empty() {
            continue;
        }
        let name = match id.0 {
            Some(_) => format!("self.{}", id.1),
            None => id.1.clone(),
        };
        out.push(Container {
            name,
            class: id.0,
            kind,
            grows,
        });
    }
    out
}

/// The names a module binds to a loaded model that returns a module (`self.model =
/// AutoModel.from_pretrained(...)`), with how the load reads: calling them runs the model.
pub fn model_objects(catalog: &Catalog, m: &ModuleFacts) -> Vec<(String, String)> {
    m.calls
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let entry = catalog.get(c.api?);
            let loads_module = entry.effect == Effect::ModelLoad
                && entry
                    .returns
                    .as_deref()
                    .is_some_and(|r| r.contains("Module"));
            if !loads_module {
                return None;
            }
            Some((bound_name(m, i)?.to_owned(), load_label(c)))
        })
        .collect()
}

/// Why the value stored at a growth site is a tensor, when it is one: the result of a catalog
/// call that returns a tensor, or of calling one of the module's `models` (`model_objects`).
pub fn tensor_source(
    catalog: &Catalog,
    m: &ModuleFacts,
    models: &[(String, String)],
    g: &Growth,
) -> Option<String> {
    let returns_tensor = |name: &str| {
        catalog
            .lookup(name)
            .and_then(|id| catalog.get(id).returns.as_deref())
            .is_some_and(|r| r.contains("Tensor"))
    };
    let explain = |callee: &str, text: &str| {
        if returns_tensor(callee) {
            Some(format!("`{callee}` returns a tensor"))
        } else {
            models
                .iter()
                .find(|(name, _)| name == text)
                .map(|(_, load)| format!("`{text}(...)` runs the model loaded by `{load}`"))
        }
    };
    if let Some(callee) = g.value.strip_prefix("c:") {
        return explain(callee, callee);
    }
    let name = g.value.strip_prefix("n:")?;
    let call = m.calls.iter().rev().find(|c| {
        c.func == g.cand.func && c.line <= g.cand.line && c.assigned_to.as_deref() == Some(name)
    })?;
    explain(&call.target, &call.text)
}

/// What the rules know about how long objects live, built once per check.
pub struct Lifetimes<'a> {
    /// Last name segments of the callees whose result lives for the whole process: bound to a
    /// module-level name (`CACHE = Cache()`, not a class attribute) or called in `__main__`
    /// (`Agent().run()`).
    built_once: HashSet<&'a str>,
    /// Base class name (last segment) -> names of its subclasses.
    subclasses: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> Lifetimes<'a> {
    pub fn new(project: &'a Project) -> Lifetimes<'a> {
        let mut built_once = HashSet::default();
        let mut subclasses: HashMap<&str, Vec<&str>> = HashMap::default();
        for m in &project.modules {
            let class_bodies: Vec<(u32, u32)> = marks(m, HOOK_CODE)
                .filter(|(_, mark)| mark.container() == Some(&ContainerOp::Class))
                .map(|(c, _)| (c.line, c.end_line))
                .collect();
            for c in &m.calls {
                if c.resolution == Resolution::Unresolved {
                    continue;
                }
                let once = match m.functions[c.func as usize].kind {
                    FnKind::Main => true,
                    FnKind::Module => {
                        c.assigned_to
                            .as_deref()
                            .is_some_and(|n| n.chars().all(|ch| ch == '_' || ch.is_alphanumeric()))
                            && !class_bodies
                                .iter()
                                .any(|(s, e)| *s <= c.line && c.line <= *e)
                    }
                    _ => false,
                };
                if once {
                    built_once.insert(last_segment(&c.target));
                }
            }
            for k in &m.classes {
                for b in &k.bases {
                    subclasses
                        .entry(last_segment(b))
                        .or_default()
                        .push(k.name.as_str());
                }
            }
        }
        Lifetimes {
            built_once,
            subclasses,
        }
    }

    /// Whether a container outlives the request that grows it at `g`, reached in `exec`.
    ///
    /// `exec` is a per-request execution. A module-level container must be grown from an entry of its own module. An attribute must belong to an
    /// object that lives as long as the service — the object whose own receive loop serves the
    /// requests (the entry is a method of its class, a base or a subclass), or one built at
    /// module level or in `__main__` — and grow outside the constructor. Objects built per
    /// request (parsers, per-call callbacks, connection handlers) take their containers with
    /// them.
    pub fn outlives_request(
        &self,
        project: &Project,
        mi: usize,
        c: &Container,
        g: &Growth,
        exec: &Execution,
    ) -> bool {
        let m = &project.modules[mi];
        let Some(entry) = exec.chain.first() else {
            return false;
        };
        let Some(class) = c.class else {
            return entry.path == m.path;
        };
        if m.functions[g.cand.func as usize].name == "__init__" {
            return false;
        }
        let own = &m.classes[class as usize];
        // Instances of the class or of a subclass carry the attribute.
        let mut instances = vec![own.name.as_str()];
        if let Some(subs) = self.subclasses.get(own.name.as_str()) {
            instances.extend(subs.iter().copied());
        }
        // The serving loop may be written in a base class (`BaseAgent.run`).
        let serving_loop = exec.kind == CtxKind::RequestLoop
            && entry.function.rsplit_once('.').is_some_and(|(k, _)| {
                let k = last_segment(k);
                instances.contains(&k) || own.bases.iter().any(|b| last_segment(b) == k)
            });
        serving_loop || instances.iter().any(|n| self.built_once.contains(n))
    }
}
