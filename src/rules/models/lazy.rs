//! Lazy model loads: a load guarded by "not loaded yet" (`if self.model is None:`,
//! `if name not in self.models:`, or the `else:` of `if name in self.models:`), stored into the
//! cache directly or through a local name, or made inside a memoised function runs once, for the first
//! request that needs it, not on every request — unless other code resets what it loaded, in
//! which case the next request pays the full load again.
//!
//! The AST hook records guarded load sites and resets as candidates (`lazy\tKEY`,
//! `reset\tKEY`); `LazySites` reads them back for PA201 and PA202.

use ruff_python_ast::{self as ast, CmpOp, Expr, Stmt, UnaryOp};
use ruff_text_size::{Ranged, TextRange};

use super::{marks, method_class};
use crate::facts::collect::{ExprKinds, LocalContext, SharedHook};
use crate::facts::hooks::ModuleEnd;
use crate::facts::marks::Mark;
use crate::facts::names::{dotted_name, is_dotted, mentions, str_literal};
use crate::facts::{Call, FnKind, FuncId, ModuleFacts};
use crate::project::Project;

/// Methods that empty a dict used as a model cache.
const RESET_METHODS: &[&str] = &["clear", "pop", "popitem"];

/// The code the shared hook's candidates carry (read by PA201, PA202 and PA502).
pub const HOOK_CODE: &str = "lazy-loads";

pub static HOOK: SharedHook = SharedHook {
    code: HOOK_CODE,
    stmt: hook_stmt,
    expr: hook_expr,
    exprs: ExprKinds::CALL,
    finish: hook_finish,
};

/// At the end of the module: keyed memos in every function body (`cached = getattr(app.state,
/// "tok", None)`, `if cached ...: return cached`, then a load stored back into `app.state.tok`).
fn hook_finish(_body: &[Stmt], cx: &mut ModuleEnd) {
    for &(func, def) in cx.function_defs() {
        let mut found = Vec::new();
        keyed_memos(&def.body, &mut found);
        for (range, key) in found {
            cx.report(func, range, Mark::Lazy { key });
        }
    }
}

/// The shape of a memo read at the head of `v = getattr(K, "a", None)`, `v = K.a` or
/// `v = K.get(...)`: the variable and the value, before its key is written ([`memo_key`]).
fn memo_read(stmt: &Stmt) -> Option<(&str, &Expr)> {
    let Stmt::Assign(a) = stmt else { return None };
    let [Expr::Name(v)] = a.targets.as_slice() else {
        return None;
    };
    // The tests `memo_key` makes, without writing the key: it is dotted, so it has a dot.
    let read = match &*a.value {
        Expr::Call(c) => match (&*c.func, &c.arguments.args[..]) {
            (Expr::Name(f), [obj, attr, ..]) if f.id.as_str() == "getattr" => {
                is_dotted(obj) && str_literal(attr).is_some()
            }
            (Expr::Attribute(at), _) if at.attr.id.as_str() == "get" => {
                matches!(&*at.value, Expr::Attribute(_)) && is_dotted(&at.value)
            }
            _ => false,
        },
        value @ Expr::Attribute(_) => is_dotted(value),
        _ => false,
    };
    read.then_some((v.id.as_str(), &*a.value))
}

/// The key a memo read reads (`K.a`, or `K` for a dict's `get`).
fn memo_key(value: &Expr) -> Option<String> {
    let key = match value {
        Expr::Call(c) if matches!(&*c.func, Expr::Name(f) if f.id.as_str() == "getattr") => {
            let args = &c.arguments.args;
            let obj = args.first().and_then(key_of)?;
            let attr = args.get(1).and_then(str_literal)?;
            format!("{obj}.{attr}")
        }
        Expr::Call(c) => match &*c.func {
            Expr::Attribute(at) if at.attr.id.as_str() == "get" => key_of(&at.value)?,
            _ => return None,
        },
        Expr::Attribute(_) => key_of(value)?,
        _ => return None,
    };
    // A memo lives on something long-lived: an attribute (`self.x`, `app.state.x`), not a
    // local name.
    key.contains('.').then_some(key)
}

/// Whether a statement stores into `key`: `K.a = ...`, `K[...] = ...`, `setattr(K, "a", ...)`.
fn stores(stmt: &Stmt, key: &str) -> bool {
    match stmt {
        Stmt::Assign(a) => a.targets.iter().any(|t| targets_key(t, key)),
        Stmt::AnnAssign(a) => targets_key(&a.target, key),
        Stmt::Expr(e) => match &*e.value {
            Expr::Call(c) if dotted_name(&c.func).as_deref() == Some("setattr") => {
                let args = &c.arguments.args;
                match (
                    args.first().and_then(key_of),
                    args.get(1).and_then(str_literal),
                ) {
                    (Some(obj), Some(attr)) => format!("{obj}.{attr}") == key,
                    _ => false,
                }
            }
            _ => false,
        },
        _ => false,
    }
}

/// Keyed memos in a block and the blocks nested in it: a memo read, an `if` on it that returns,
/// and a later store into the same key. The calls assigned between the `if` and the store
/// (the store included) run once per key, not on every call.
fn keyed_memos(block: &[Stmt], out: &mut Vec<(TextRange, String)>) {
    for (i, stmt) in block.iter().enumerate() {
        if let Some((v, value)) = memo_read(stmt)
            && let Some(j) = block[i + 1..].iter().position(|s| {
                matches!(s, Stmt::If(t) if mentions(&t.test, v)
                    && matches!(t.body.last(), Some(Stmt::Return(_))))
            })
            && let Some(key) = memo_key(value)
        {
            let after = i + 1 + j + 1;
            if let Some(k) = block[after..].iter().position(|s| stores(s, &key)) {
                let mut ranges = Vec::new();
                for s in &block[after..=after + k] {
                    match s {
                        Stmt::Assign(a) => push_call(&a.value, &mut ranges),
                        Stmt::AnnAssign(ast::StmtAnnAssign { value: Some(v), .. }) => {
                            push_call(v, &mut ranges)
                        }
                        _ => {}
                    }
                }
                out.extend(ranges.into_iter().map(|r| (r, key.clone())));
            }
        }
        match stmt {
            Stmt::If(t) => {
                keyed_memos(&t.body, out);
                for clause in &t.elif_else_clauses {
                    keyed_memos(&clause.body, out);
                }
            }
            Stmt::With(w) => keyed_memos(&w.body, out),
            Stmt::Try(t) => {
                keyed_memos(&t.body, out);
                keyed_memos(&t.orelse, out);
            }
            _ => {}
        }
    }
}

/// AST hook: guarded loads and resets, at statements.
pub fn hook_stmt(stmt: &Stmt, cx: &mut LocalContext) {
    match stmt {
        Stmt::If(i) => {
            let mut sites = Vec::new();
            let key = if let Some(key) = guard_key(&i.test) {
                assignments_to(&i.body, &key, &mut sites);
                key
            } else if let Some(key) = loaded_key(&i.test) {
                // `if k in cache: m = cache[k]` / `else: m = load(k); cache[k] = m`: the other
                // branches run only while the key is not loaded yet.
                for clause in &i.elif_else_clauses {
                    assignments_to(&clause.body, &key, &mut sites);
                }
                key
            } else {
                return;
            };
            for range in sites {
                cx.report(range, Mark::Lazy { key: key.clone() });
            }
        }
        Stmt::Assign(a) if matches!(&*a.value, Expr::NoneLiteral(_)) => {
            for t in &a.targets {
                if let Some(key) = key_of(t) {
                    cx.report(t.range(), Mark::Reset { key });
                }
            }
        }
        Stmt::Delete(d) => {
            for t in &d.targets {
                let base = match t {
                    Expr::Subscript(s) => &*s.value,
                    t => t,
                };
                if let Some(key) = key_of(base) {
                    cx.report(t.range(), Mark::Reset { key });
                }
            }
        }
        _ => {}
    }
}

/// AST hook: `cache.clear()` / `.pop(...)` / `.popitem()` reset a dict of loaded models.
pub fn hook_expr(expr: &Expr, cx: &mut LocalContext) {
    let Expr::Call(c) = expr else { return };
    let Expr::Attribute(a) = &*c.func else { return };
    if RESET_METHODS.contains(&a.attr.id.as_str())
        && let Some(key) = key_of(&a.value)
    {
        cx.report(c.range(), Mark::Reset { key });
    }
}

/// `self.x` / `cls.x` / `name` / `app.state.x`, with `cls.` normalised to `self.`.
fn key_of(expr: &Expr) -> Option<String> {
    let name = dotted_name(expr)?;
    Some(match name.strip_prefix("cls.") {
        Some(rest) => format!("self.{rest}"),
        None => name,
    })
}

/// What an `if` test checks is not loaded yet: `X is None`, `not X`, `k not in X`,
/// `not hasattr(self, "x")`, or one of those inside `and`/`or`.
fn guard_key(test: &Expr) -> Option<String> {
    match test {
        Expr::Compare(c) if c.ops.len() == 1 => match (&c.ops[0], &c.comparators[0]) {
            (CmpOp::Is | CmpOp::Eq, Expr::NoneLiteral(_)) => key_of(&c.left),
            (CmpOp::NotIn, container) => key_of(container),
            _ => None,
        },
        Expr::UnaryOp(u) if matches!(u.op, UnaryOp::Not) => match &*u.operand {
            Expr::Call(call) if dotted_name(&call.func).as_deref() == Some("hasattr") => {
                hasattr_key(call)
            }
            operand => key_of(operand),
        },
        Expr::BoolOp(b) => b.values.iter().find_map(guard_key),
        _ => None,
    }
}

/// The attribute `hasattr(obj, "attr")` tests, as a key (`self.attr` for `self` and `cls`).
fn hasattr_key(call: &ast::ExprCall) -> Option<String> {
    let args = &call.arguments.args;
    let obj = args.first().and_then(dotted_name)?;
    let attr = args.get(1).and_then(str_literal)?;
    Some(match obj.as_str() {
        "self" | "cls" => format!("self.{attr}"),
        _ => format!("{obj}.{attr}"),
    })
}

/// What an `if` test checks is loaded already: `k in X`, `X is not None`, `hasattr(self, "x")`,
/// or `X` itself (an attribute: a local name says nothing about a long-lived cache), alone or
/// inside `and`; its other branches run only while `X` is not loaded.
fn loaded_key(test: &Expr) -> Option<String> {
    match test {
        Expr::Compare(c) if c.ops.len() == 1 => match (&c.ops[0], &c.comparators[0]) {
            (CmpOp::IsNot | CmpOp::NotEq, Expr::NoneLiteral(_)) => key_of(&c.left),
            (CmpOp::In, container) => key_of(container),
            _ => None,
        },
        Expr::Call(call) if dotted_name(&call.func).as_deref() == Some("hasattr") => {
            hasattr_key(call)
        }
        Expr::Attribute(_) => key_of(test),
        Expr::BoolOp(b) if matches!(b.op, ast::BoolOp::And) => b.values.iter().find_map(loaded_key),
        _ => None,
    }
}

/// Ranges of the calls assigned to `key` (or to `key[...]`) inside `body`, directly or through
/// a local name the same block then stores there (`m = load(k)`, `cache[k] = m`), nested blocks
/// included, nested definitions excluded.
fn assignments_to(body: &[Stmt], key: &str, out: &mut Vec<TextRange>) {
    for (i, stmt) in body.iter().enumerate() {
        match stmt {
            Stmt::Assign(a) if a.targets.iter().any(|t| targets_key(t, key)) => {
                push_call(&a.value, out);
            }
            Stmt::Assign(a)
                if matches!(a.targets.as_slice(), [Expr::Name(v)]
                    if stored_later(&body[i + 1..], v.id.as_str(), key)) =>
            {
                push_call(&a.value, out);
            }
            Stmt::AnnAssign(ast::StmtAnnAssign {
                target,
                value: Some(v),
                ..
            }) if targets_key(target, key) => push_call(v, out),
            Stmt::If(i) => {
                assignments_to(&i.body, key, out);
                for clause in &i.elif_else_clauses {
                    assignments_to(&clause.body, key, out);
                }
            }
            Stmt::With(w) => assignments_to(&w.body, key, out),
            Stmt::Try(t) => {
                assignments_to(&t.body, key, out);
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    assignments_to(&h.body, key, out);
                }
                assignments_to(&t.orelse, key, out);
            }
            _ => {}
        }
    }
}

/// Whether one of `rest` stores the local name `v` into `key` (`key[...] = v`, `key = v`).
fn stored_later(rest: &[Stmt], v: &str, key: &str) -> bool {
    rest.iter().any(|s| {
        matches!(s, Stmt::Assign(a)
            if matches!(&*a.value, Expr::Name(n) if n.id.as_str() == v)
                && a.targets.iter().any(|t| targets_key(t, key)))
    })
}

fn targets_key(target: &Expr, key: &str) -> bool {
    let base = match target {
        Expr::Subscript(s) => &*s.value,
        t => t,
    };
    key_of(base).as_deref() == Some(key)
}

fn push_call(value: &Expr, out: &mut Vec<TextRange>) {
    match value {
        Expr::Call(c) => out.push(c.range()),
        Expr::Await(a) => push_call(&a.value, out),
        _ => {}
    }
}

/// How often a model load runs, given the guards and memoisation around it.
#[derive(Debug, Clone, PartialEq)]
pub enum Laziness {
    /// Every time the code runs.
    Every,
    /// Once (per distinct key): `how` says what keeps it.
    Once { how: String },
    /// Once, but `reset_in` drops what it loaded, so a later request loads it again.
    Reloaded { key: String, reset_in: String },
}

/// The guarded loads and resets a rule's AST hook recorded in one module.
pub struct LazySites<'a> {
    project: &'a Project,
    module: usize,
    m: &'a ModuleFacts,
    guarded: Vec<(FuncId, u32, u32, &'a str)>,
    resets: Vec<(FuncId, &'a str)>,
}

impl<'a> LazySites<'a> {
    pub fn of(project: &'a Project, module: usize, code: &'a str) -> LazySites<'a> {
        let m = &project.modules[module];
        let guarded = marks(m, code)
            .filter_map(|(c, mark)| match mark {
                Mark::Lazy { key } => Some((c.func, c.line, c.column, key.as_str())),
                _ => None,
            })
            .collect();
        let resets = marks(m, code)
            .filter_map(|(c, mark)| match mark {
                Mark::Reset { key } => Some((c.func, key.as_str())),
                _ => None,
            })
            .collect();
        LazySites {
            project,
            module,
            m,
            guarded,
            resets,
        }
    }

    pub fn laziness(&self, call: &Call) -> Laziness {
        if let Some((d, func)) = self.project.memoised_by(self.module, call.func) {
            return Laziness::Once {
                how: format!("memoised by `@{d}` on `{}`", func.qualname),
            };
        }
        let Some(&(_, _, _, key)) = self.guarded.iter().find(|(func, line, col, _)| {
            *func == call.func && *line == call.line && *col == call.column
        }) else {
            return Laziness::Every;
        };
        self.keyed(call.func, key)
    }

    /// How often the call `func` makes at `line` runs, for a call on the chain to a load (a
    /// chain step names a line, not a column): once per key when a guarded store of its result
    /// into something other than one of `func`'s parameters is on that line.
    pub fn at_line(&self, func: FuncId, line: u32) -> Laziness {
        // A parameter tested for `None` (`def f(client=None): if client is None: client =
        // Client()`) keeps nothing: the callers that leave it out build one on every call.
        let params = &self.m.functions[func as usize].params;
        match self.guarded.iter().find(|(f, l, _, key)| {
            *f == func && *l == line && !params.iter().any(|p| p.as_str() == *key)
        }) {
            Some(&(_, _, _, key)) => self.keyed(func, key),
            None => Laziness::Every,
        }
    }

    /// A guarded load in `func` of what `key` keeps: once, unless other code resets `key`.
    fn keyed(&self, func: FuncId, key: &str) -> Laziness {
        let m = self.m;
        let class = method_class(m, func);
        let reset = self.resets.iter().find(|(func, k)| {
            let f = &m.functions[*func as usize];
            *k == key
                && f.name != "__init__"
                && !matches!(f.kind, FnKind::Module | FnKind::Main)
                && (!key.starts_with("self.") || method_class(m, *func) == class)
        });
        match reset {
            Some((func, _)) => Laziness::Reloaded {
                key: key.to_owned(),
                reset_in: m.functions[*func as usize].qualname.clone(),
            },
            None => Laziness::Once {
                how: format!("guarded by a not-loaded-yet check on `{key}`"),
            },
        }
    }
}
