//! The AST half of the container analysis: records, one candidate each, what a module does to
//! its long-lived containers (creations, growth, evictions, bounds, aliases), and after the walk
//! the scope facts of each `def` for the containers that can be reported. It judges nothing.

use rustc_hash::FxHashSet as HashSet;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Operator, Stmt};
use ruff_text_size::{Ranged, TextRange};

use super::{
    CONVERSIONS, EVICT_METHODS, FOREIGN, GROW_METHODS, TENSOR_VIEWS, is_wanted, wanted_names,
};
use crate::facts::Name;
use crate::facts::collect::{ExprKinds, LocalContext, ModuleEnd, SharedHook};
use crate::facts::marks::{ContainerOp, Mark};
use crate::facts::names::{dotted_name, is_literal, number_literal};

/// The code the shared hook's candidates carry: PA204 and PA207 both read them, and the hook
/// runs once when either is enabled.
pub const HOOK_CODE: &str = "containers";

pub static HOOK: SharedHook = SharedHook {
    code: HOOK_CODE,
    stmt: hook_stmt,
    expr: hook_expr,
    exprs: ExprKinds::CALL.with(ExprKinds::COMPARE),
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
        let key = key.into();
        cx.report(v.range(), Mark::Container(ContainerOp::Alias { key }));
    }
}

/// The key of an eviction written through an object other than `self` (`other.cache.pop(k)`):
/// the attribute's name behind [`FOREIGN`], matched against containers of every module.
fn foreign_key(attr: &str) -> String {
    format!("{FOREIGN}{attr}")
}

/// How a foreign eviction is written, and through which object when it is an attribute of
/// `self` (`.pop@self.oauth`): the class may say what that object is (`self.oauth = OAuth()`).
fn foreign_how(how: &str, object: &Expr) -> String {
    match receiver(object) {
        Some(key) if key.starts_with("self.") => format!("{how}@{key}"),
        _ => how.to_owned(),
    }
}

fn grow(key: &str, how: &str, value: String) -> Mark {
    Mark::Container(ContainerOp::Grow {
        key: key.into(),
        how: how.into(),
        value: value.into(),
    })
}

fn evict(key: &str, how: &str) -> Mark {
    Mark::Container(ContainerOp::Evict {
        key: key.into(),
        how: how.into(),
    })
}

fn bind(key: &str, value: Option<&Expr>, range: TextRange, cx: &mut LocalContext) {
    let kind = value.and_then(|v| container_kind(v, cx));
    let key = Name::from(key);
    let op = match kind {
        Some(kind) => ContainerOp::Init {
            key,
            kind: Name::from(kind.to_string()),
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
                } else if let Expr::Subscript(s) = t
                    && let Expr::Attribute(a) = &*s.value
                {
                    // `del server.sessions[k]`: through another object.
                    let how = foreign_how("del", &a.value);
                    cx.report(t.range(), evict(&foreign_key(&a.attr.id), &how));
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
            callback_evictions(c, cx);
            let Expr::Attribute(a) = &*c.func else { return };
            let method = a.attr.id.as_str();
            // Most method calls neither grow nor evict: test that before naming the receiver.
            let grows = GROW_METHODS.contains(&method);
            if !grows && !EVICT_METHODS.contains(&method) {
                return;
            }
            let (key, nested) = match (receiver(&a.value), &*a.value) {
                (Some(k), _) => (k, false),
                (None, Expr::Subscript(s)) => match receiver(&s.value) {
                    Some(k) => (k, true),
                    None => return,
                },
                // `app.get_blocks().pending.pop(k)`: eviction through another object, which
                // may be the one whose container grows elsewhere.
                (None, Expr::Attribute(inner)) if !grows => {
                    let how = foreign_how(&format!(".{method}"), &inner.value);
                    cx.report(c.range(), evict(&foreign_key(&inner.attr.id), &how));
                    return;
                }
                _ => return,
            };
            let how = if nested {
                format!("[].{method}")
            } else {
                format!(".{method}")
            };
            if grows {
                let args = &c.arguments.args;
                let stored = match method {
                    "setdefault" => args.get(1),
                    "update" => None,
                    _ => args.last(),
                };
                let op = grow(&key, &how, value_desc(stored, cx));
                cx.report(c.range(), op);
            } else {
                cx.report(c.range(), evict(&key, &how));
            }
        }
        Expr::Compare(c) => {
            for operand in std::iter::once(&*c.left).chain(c.comparators.iter()) {
                // Only a bare name can resolve to `len` (through the imports, the head of a
                // dotted callee keeps its dots).
                if let Expr::Call(call) = operand
                    && matches!(&*call.func, Expr::Name(_))
                    && dotted_name(&call.func).is_some_and(|n| cx.resolve(&n) == "len")
                    && let [arg] = &call.arguments.args[..]
                    && let Some(key) = receiver(arg)
                {
                    let key = key.into();
                    cx.report(c.range(), Mark::Container(ContainerOp::Bound { key }));
                }
            }
        }
        _ => {}
    }
}

/// An evicting method handed over as a callable evicts when it is called
/// (`task.add_done_callback(tasks.discard)`, `loop.call_later(60, cache.pop, key)`).
fn callback_evictions(c: &ast::ExprCall, cx: &mut LocalContext) {
    let args = c.arguments.args.iter();
    for arg in args.chain(c.arguments.keywords.iter().map(|k| &k.value)) {
        if let Expr::Attribute(m) = arg
            && EVICT_METHODS.contains(&m.attr.id.as_str())
            && let Some(key) = receiver(&m.value)
        {
            let how = format!(".{} (handed over as a callable)", m.attr.id);
            cx.report(arg.range(), evict(&key, &how));
        }
    }
}

/// After the walk: keeps the operations on containers that can be reported (and every class
/// body, which `Lifetimes` reads), then records the scope facts of each `def` for those
/// containers: the names it binds locally (`locals`) and the `global` names it rebinds
/// (`reset`). Most modules create no unbounded container, and skip the scope scans.
fn finish(_body: &[Stmt], cx: &mut ModuleEnd) {
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
            Some(op) => op
                .key()
                .is_some_and(|key| is_wanted(&wanted_ref, key) || key.starts_with(FOREIGN)),
            None => false,
        }
    });
    if wanted.is_empty() {
        return;
    }
    for &(id, f) in cx.function_defs() {
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
            let key = Name::from(name.as_str());
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
