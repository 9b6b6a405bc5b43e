//! Calls Python makes without a plain `f()` at the site: the iteration protocol of a `for`
//! loop, attribute reads that may run a property getter, callables called through a dispatch
//! table (`handlers[action](data)`, `handlers.get(a)(d)`, a bound method kept in
//! `self._cb`), and methods looked up by a name with a literal prefix
//! (`getattr(self, "handle_" + kind)(msg)`).
//!
//! The walk records what it sees (`note_*`); [`Collector::resolve_implicit`] resolves it once
//! every binding and table of the module is known, into [`Implicit`] records that the project
//! stage turns into edges. Whether an attribute is a property is decided there, against the
//! project's definitions: this file never looks at other modules.

use ruff_python_ast::visitor::Visitor;
use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::Ranged;
use serde::{Deserialize, Serialize};

use super::collect::Collector;
use super::names::{dot_join, dotted_name, truncate};
use super::{FnKind, FuncId, Name, Resolution};

/// What an implicit call runs, given its resolved target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImplicitKind {
    /// `for x in obj` (`async for` when `is_async`): `target` is the type of `obj`, whose
    /// `__iter__`/`__next__` (`__aiter__`/`__anext__`) run.
    Iter { is_async: bool },
    /// A read of `self.attr` or `obj.attr`: `target` is `Class.attr`, a call only when it
    /// names a property getter.
    AttrRead,
    /// A callable held by a dispatch table, called through it: `target` is the callable.
    Dispatch,
    /// `getattr(recv, "prefix" + x)(...)`: `target` is `Class.prefix`, and every method of the
    /// class whose name starts with the prefix may run.
    MethodPrefix,
}

/// One implicit call, resolved like a call target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Implicit {
    pub func: FuncId,
    pub line: u32,
    pub kind: ImplicitKind,
    pub target: Name,
    pub resolution: Resolution,
    /// How the code wrote it (`for row in Reader()`, `self.model`, `handlers[action](...)`).
    pub label: Name,
}

/// What the walk saw, before resolution.
#[derive(Default)]
pub(super) struct Pending {
    seen: Vec<Seen>,
    /// Dispatch tables: dicts and lists of callables, and bound methods kept in attributes.
    tables: Vec<Table>,
    /// Local names that hold an entry of a table or a prefixed method (`handler =
    /// handlers.get(a)`, `for h in self._handlers:`, `fn = getattr(self, "on_" + x)`).
    aliases: Vec<Alias>,
    /// The aliases of each function, as indices into `aliases` in order: a call by a plain
    /// name looks among its own function's only (scanning every alias of the module made a
    /// large module quadratic).
    aliases_of: rustc_hash::FxHashMap<FuncId, Vec<u32>>,
    /// Attribute reads already recorded, per function: one record each is enough.
    reads: rustc_hash::FxHashSet<(FuncId, String)>,
    /// `self.attr` stored by a method of the class: an instance attribute, not a property.
    stored: rustc_hash::FxHashSet<(u32, String)>,
}

impl Pending {
    fn add_alias(&mut self, alias: Alias) {
        self.aliases_of
            .entry(alias.func)
            .or_default()
            .push(self.aliases.len() as u32);
        self.aliases.push(alias);
    }

    /// The aliases named `name` in function `func`, in the order the walk found them.
    fn aliases_named<'p>(&'p self, func: FuncId, name: &'p str) -> impl Iterator<Item = &'p Alias> {
        self.aliases_of
            .get(&func)
            .into_iter()
            .flatten()
            .map(|&i| &self.aliases[i as usize])
            .filter(move |a| a.name == name)
    }
}

struct Alias {
    func: FuncId,
    name: String,
    source: Source,
    /// For a loop over the table (`for h in self._handlers: h(m)`): the line and text of the
    /// `for`. Each callable runs once per pass, so the call is charged to the `for` line,
    /// outside the loop, rather than repeated by it.
    each: Option<(u32, String)>,
}

struct Seen {
    func: FuncId,
    line: u32,
    what: What,
    label: String,
    /// The binding log's length at the site: what a name held there.
    mark: usize,
}

enum What {
    /// The iterated value is the result of this call.
    IterCall(u32, bool),
    /// The iterated value is this name or attribute.
    IterName(String, bool),
    AttrRead(String),
    /// A call through whatever this source holds.
    Through(Source),
    /// A call of a plain name that may be an alias (resolved at the end, when every alias
    /// of the function is known).
    Name(String),
}

#[derive(Clone)]
enum Source {
    /// The table named this way (`handlers`, `self._handlers`, `cls.HANDLERS`).
    Table(String),
    /// The methods of `recv` whose names start with `prefix`: `recv.prefix`.
    Prefix(String),
}

/// Where a table is defined: a function's local (the module body for globals) or a class
/// attribute (`HANDLERS = {...}` in the class body, `self._handlers = {...}` in a method).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Func(FuncId),
    Class(u32),
}

struct Table {
    scope: Scope,
    name: String,
    /// The function the values were written in, and each value's text (or lambda reference).
    func: FuncId,
    values: Vec<String>,
}

/// How long a label may grow: enough for `for row in self.reader.rows(limit)`.
const LABEL_LEN: usize = 60;

impl Collector<'_> {
    fn source_text(&self, e: &Expr) -> String {
        truncate(&self.source[e.range()], LABEL_LEN)
    }

    /// `for target in iter`: the iteration protocol of the iterated object.
    pub(super) fn note_iteration(&mut self, f: &ast::StmtFor, before: usize) {
        let label = format!(
            "{}for {} in {}",
            if f.is_async { "async " } else { "" },
            self.source_text(&f.target),
            self.source_text(&f.iter)
        );
        let what = match self.value_call(&f.iter, before) {
            Some(i) => What::IterCall(i, f.is_async),
            None => match dotted_name(&f.iter) {
                Some(n) => {
                    if let Expr::Name(v) = &*f.target {
                        let line = self.line(f.range());
                        self.implicit.add_alias(Alias {
                            func: self.func,
                            name: v.id.to_string(),
                            source: Source::Table(n.clone()),
                            each: Some((line, label.clone())),
                        });
                    }
                    What::IterName(n, f.is_async)
                }
                None => return,
            },
        };
        self.seen(f.range(), what, label);
    }

    /// The parts of a comprehension its loop repeats: every generator but the first one's
    /// iterable (which the caller visits outside the loop), then the element.
    pub(super) fn visit_comprehension<'a>(
        &mut self,
        expr: &'a Expr,
        generators: &'a [ast::Comprehension],
    ) where
        Self: Visitor<'a>,
    {
        for (i, g) in generators.iter().enumerate() {
            self.visit_expr(&g.target);
            if i > 0 {
                self.visit_expr(&g.iter);
            }
            for cond in &g.ifs {
                self.visit_expr(cond);
            }
        }
        match expr {
            Expr::ListComp(c) => self.visit_expr(&c.elt),
            Expr::SetComp(c) => self.visit_expr(&c.elt),
            Expr::Generator(c) => self.visit_expr(&c.elt),
            Expr::DictComp(c) => {
                if let Some(key) = &c.key {
                    self.visit_expr(key);
                }
                self.visit_expr(&c.value);
            }
            _ => {}
        }
    }

    /// `[x for x in Reader()]`: the iteration protocol of each generator's iterated object
    /// (its call found among those recorded since `before`).
    pub(super) fn note_comprehension(&mut self, generators: &[ast::Comprehension], before: usize) {
        for g in generators {
            let label = format!(
                "{}for {} in {}",
                if g.is_async { "async " } else { "" },
                self.source_text(&g.target),
                self.source_text(&g.iter)
            );
            let what = match &g.iter {
                Expr::Call(c) => {
                    let first = super::calls::Which::First;
                    let Some(i) = self.recorded_call(before, c.start(), first) else {
                        continue;
                    };
                    What::IterCall(i as u32, g.is_async)
                }
                e => match dotted_name(e) {
                    Some(n) => What::IterName(n, g.is_async),
                    None => continue,
                },
            };
            self.seen(g.range(), what, label);
        }
    }

    /// Whether a method of `class` seen so far stores `self.attr`.
    pub(super) fn implicit_stores(&self, class: u32, attr: &str) -> bool {
        self.implicit.stored.contains(&(class, attr.to_owned()))
    }

    /// A read of `self.attr` or `name.attr` (not a call of it, not a store).
    pub(super) fn note_attr_read(&mut self, a: &ast::ExprAttribute) {
        // `self.repo.schema`: a property of what an attribute of `self` holds.
        if let Expr::Attribute(inner) = &*a.value
            && let Expr::Name(root) = &*inner.value
            && root.id.as_str() == "self"
            && a.ctx.is_load()
        {
            let text = dot_join(&["self", inner.attr.id.as_str(), a.attr.id.as_str()]);
            if self.implicit.reads.insert((self.func, text.clone())) {
                let label = text.clone();
                self.seen(a.range(), What::AttrRead(text), label);
            }
            return;
        }
        let Expr::Name(base) = &*a.value else { return };
        if !a.ctx.is_load() {
            if base.id.as_str() == "self"
                && let Some(class) = self.method_class(self.func)
            {
                self.implicit.stored.insert((class, a.attr.id.to_string()));
            }
            return;
        }
        let text = dot_join(&[base.id.as_str(), a.attr.id.as_str()]);
        if !self.implicit.reads.insert((self.func, text.clone())) {
            return;
        }
        let label = text.clone();
        self.seen(a.range(), What::AttrRead(text), label);
    }

    /// `name = {...}` / `self.name = [...]` / `self._cb = self.on_msg`: a table of
    /// callables; `h = table.get(k)`, `h = table[k]`, `h = getattr(self, "on_" + x)`: an
    /// alias. `lambdas` are the functions the value defined, in order.
    pub(super) fn note_assign(&mut self, target: &Expr, value: &Expr, lambdas: usize) {
        // Most assignments keep neither: the value is looked at before the target is written.
        let alias = match target {
            Expr::Name(_) => self.through(value),
            _ => None,
        };
        let table = matches!(
            value,
            Expr::Dict(_) | Expr::List(_) | Expr::Tuple(_) | Expr::Attribute(_)
        );
        let held = alias.is_none() && matches!(target, Expr::Name(_)) && self.names_callable(value);
        if alias.is_none() && !table && !held {
            return;
        }
        let Some(name) = dotted_name(target) else {
            return;
        };
        // `factory = Recorder`, `load = models.load_model`: a local name that holds a class or
        // a function the module defines or imports; calling it runs what it holds (a table of
        // one, seen through an alias).
        if held && let Some(value) = dotted_name(value) {
            self.add_table(&name, vec![value]);
            self.implicit.add_alias(Alias {
                func: self.func,
                name: name.clone(),
                source: Source::Table(name),
                each: None,
            });
            return;
        }
        if let Some(source) = alias {
            self.implicit.add_alias(Alias {
                func: self.func,
                name: name.clone(),
                source,
                each: None,
            });
        }
        let mut lambda = (lambdas..self.facts.functions.len())
            .filter(|&i| self.facts.functions[i].kind == FnKind::Lambda)
            .filter(|&i| self.facts.functions[i].parent == Some(self.func));
        let mut value_text = |e: &Expr| match e {
            Expr::Lambda(_) => lambda.next().map(|id| super::lambda_ref(id as FuncId)),
            e => dotted_name(e),
        };
        let values: Vec<String> = match value {
            Expr::Dict(d) => d
                .items
                .iter()
                .filter_map(|i| value_text(&i.value))
                .collect(),
            Expr::List(l) => l.elts.iter().filter_map(&mut value_text).collect(),
            Expr::Tuple(l) => l.elts.iter().filter_map(&mut value_text).collect(),
            // A bound method kept in an attribute (`self._cb = self.on_msg`).
            Expr::Attribute(_) if name.starts_with("self.") => {
                dotted_name(value).into_iter().collect()
            }
            _ => return,
        };
        if values.is_empty() {
            return;
        }
        self.add_table(&name, values);
    }

    /// `self._handlers.append(self.on_x)`: one more callable in a table.
    pub(super) fn note_append(&mut self, call: &ast::ExprCall) {
        let Expr::Attribute(a) = &*call.func else {
            return;
        };
        if !matches!(a.attr.id.as_str(), "append" | "add")
            || !matches!(&*a.value, Expr::Attribute(_))
        {
            return;
        }
        let (Some(name), [arg]) = (dotted_name(&a.value), &call.arguments.args[..]) else {
            return;
        };
        if let Some(v) = dotted_name(arg) {
            self.add_table(&name, vec![v]);
        }
    }

    /// Whether `value` is a name that may hold a class or a function: one the module defines or
    /// imports. A local variable's copy is not kept, nor an attribute of `self`: `tok =
    /// self.tokenizer; tok(text)` calls an instance, not its class.
    fn names_callable(&self, value: &Expr) -> bool {
        if !matches!(value, Expr::Name(_) | Expr::Attribute(_)) {
            return false;
        }
        let Some(text) = dotted_name(value) else {
            return false;
        };
        let head = text.split('.').next().unwrap_or(&text);
        self.imports.contains_key(head) || self.module_defs.contains_key(head)
    }

    fn add_table(&mut self, name: &str, values: Vec<String>) {
        let (scope, key) = match name.split_once('.') {
            Some(("self" | "cls", attr)) if !attr.contains('.') => {
                match self.method_class(self.func) {
                    Some(c) => (Scope::Class(c), attr.to_owned()),
                    None => return,
                }
            }
            Some(_) => return,
            None if self.class.is_some() && self.class_body_func == Some(self.func) => (
                Scope::Class(self.class.unwrap_or_default()),
                name.to_owned(),
            ),
            None => (Scope::Func(self.func), name.to_owned()),
        };
        let func = self.func;
        match self
            .implicit
            .tables
            .iter_mut()
            .find(|t| t.scope == scope && t.name == key)
        {
            Some(t) => t.values.extend(values),
            None => self.implicit.tables.push(Table {
                scope,
                name: key,
                func,
                values,
            }),
        }
    }

    /// A call through a table or a prefixed method: `handlers[action](data)`,
    /// `handlers.get(action)(data)`, `getattr(self, "handle_" + kind)(msg)`, or a plain
    /// name that may alias one (`handler(d)`, `self._cb(m)`).
    pub(super) fn note_dispatch(&mut self, call: &ast::ExprCall) {
        let what = match &*call.func {
            // Only a name that holds a table's entry or a prefixed method.
            Expr::Name(n) => {
                let func = self.func;
                let n = n.id.as_str();
                if self.implicit.aliases_named(func, n).next().is_none() {
                    return;
                }
                What::Name(n.to_owned())
            }
            // `self._cb(m)` is found at the end, among the calls (`self_tables`).
            Expr::Attribute(_) => return,
            other => match self.through(other) {
                Some(source) => What::Through(source),
                None => return,
            },
        };
        let label = format!("{}(...)", self.source_text(&call.func));
        self.seen(call.range(), what, label);
    }

    /// What an expression takes from a table or a prefixed method lookup, if it does.
    fn through(&self, e: &Expr) -> Option<Source> {
        match e {
            Expr::Subscript(s) => dotted_name(&s.value).map(Source::Table),
            Expr::Call(c) => {
                if let Expr::Attribute(a) = &*c.func
                    && a.attr.id.as_str() == "get"
                {
                    return dotted_name(&a.value).map(Source::Table);
                }
                if !matches!(&*c.func, Expr::Name(n) if n.id.as_str() == "getattr") {
                    return None;
                }
                let [recv, name, ..] = &c.arguments.args[..] else {
                    return None;
                };
                let prefix = literal_prefix(name)?;
                Some(Source::Prefix(dot_join(&[&dotted_name(recv)?, &prefix])))
            }
            _ => None,
        }
    }

    fn seen(&mut self, range: ruff_text_size::TextRange, what: What, label: String) {
        let line = self.line(range);
        self.implicit.seen.push(Seen {
            func: self.func,
            line,
            what,
            label,
            mark: self.bindings.len(),
        });
    }

    /// Resolves what the walk saw, once every binding, table and alias is known.
    pub(super) fn resolve_implicit(&mut self) {
        let seen = std::mem::take(&mut self.implicit.seen);
        for s in &seen {
            let (kind, sources) = match &s.what {
                What::IterCall(i, is_async) => {
                    let Some(t) = self.returned_type(*i) else {
                        continue;
                    };
                    let kind = ImplicitKind::Iter {
                        is_async: *is_async,
                    };
                    self.push_implicit(s, kind, t, Resolution::Inferred);
                    continue;
                }
                What::IterName(n, is_async) => {
                    let (t, r) = self.resolve_text(s.func, n, s.mark);
                    if r == Resolution::Inferred {
                        let kind = ImplicitKind::Iter {
                            is_async: *is_async,
                        };
                        self.push_implicit(s, kind, t, r);
                    }
                    continue;
                }
                What::AttrRead(text) => {
                    // An instance attribute its class stores is no property (a property with
                    // a setter is left out: its getter rarely does the work).
                    if let (Some(attr), Some(class)) =
                        (text.strip_prefix("self."), self.method_class(s.func))
                        && self.implicit.stored.contains(&(class, attr.to_owned()))
                    {
                        continue;
                    }
                    let (t, r) = self.resolve_text(s.func, text, s.mark);
                    if matches!(r, Resolution::SelfMethod | Resolution::Inferred) {
                        self.push_implicit(s, ImplicitKind::AttrRead, t, r);
                    }
                    continue;
                }
                What::Through(source) => (ImplicitKind::Dispatch, vec![(source.clone(), None)]),
                What::Name(n) => {
                    let sources: Vec<(Source, Option<(u32, String)>)> = self
                        .implicit
                        .aliases_named(s.func, n)
                        .map(|a| (a.source.clone(), a.each.clone()))
                        .collect();
                    (ImplicitKind::Dispatch, sources)
                }
            };
            for (source, each) in sources {
                // A call through a loop over the table is charged to the `for` line.
                let (line, label) = match each {
                    Some((line, label)) => (line, format!("{label}: {}", s.label)),
                    None => (s.line, s.label.clone()),
                };
                let at = Seen {
                    func: s.func,
                    line,
                    what: What::Name(String::new()),
                    label,
                    mark: s.mark,
                };
                match source {
                    Source::Table(name) => {
                        for (t, r) in self.table_values(s.func, &name) {
                            self.push_implicit(&at, kind, t, r);
                        }
                    }
                    Source::Prefix(text) => {
                        let (t, r) = self.resolve_text(s.func, &text, s.mark);
                        if matches!(r, Resolution::SelfMethod | Resolution::Inferred) {
                            self.push_implicit(&at, ImplicitKind::MethodPrefix, t, r);
                        }
                    }
                }
            }
        }
        self.self_tables();
        self.facts.implicit.shrink_to_fit();
    }

    /// `self._cb(m)` where a method stored a callable (or a table of them) in `self._cb`.
    fn self_tables(&mut self) {
        if self.implicit.tables.is_empty() {
            return;
        }
        for i in 0..self.facts.calls.len() {
            let text = &self.raw[i].callee.text;
            let Some(attr) = text.strip_prefix("self.") else {
                continue;
            };
            let func = self.facts.calls[i].func;
            let Some(class) = self.method_class(func) else {
                continue;
            };
            if attr.contains('.')
                || !self
                    .implicit
                    .tables
                    .iter()
                    .any(|t| t.scope == Scope::Class(class) && t.name == attr)
            {
                continue;
            }
            let at = Seen {
                func,
                line: self.facts.calls[i].line,
                what: What::Name(String::new()),
                label: format!("{text}(...)"),
                mark: self.raw[i].binding_mark,
            };
            let name = text.clone();
            for (t, r) in self.table_values(func, &name) {
                self.push_implicit(&at, ImplicitKind::Dispatch, t, r);
            }
        }
    }

    fn push_implicit(&mut self, s: &Seen, kind: ImplicitKind, target: String, r: Resolution) {
        self.facts.implicit.push(Implicit {
            func: s.func,
            line: s.line,
            kind,
            target: target.into(),
            resolution: r,
            label: Name::from(s.label.as_str()),
        });
    }

    /// The callables of the table `name` as seen from `func`, resolved where they were
    /// written: a local table, then a class attribute, then a global one.
    fn table_values(&mut self, func: FuncId, name: &str) -> Vec<(String, Resolution)> {
        let class = self.method_class(func);
        let (scopes, key): (Vec<Scope>, &str) = match name.split_once('.') {
            Some(("self" | "cls", attr)) => (class.map(Scope::Class).into_iter().collect(), attr),
            Some(_) => return Vec::new(),
            None => (vec![Scope::Func(func), Scope::Func(0)], name),
        };
        let Some(t) = scopes.iter().find_map(|sc| {
            self.implicit
                .tables
                .iter()
                .position(|t| t.scope == *sc && t.name == key)
        }) else {
            return Vec::new();
        };
        let (scope, written, values) = {
            let t = &self.implicit.tables[t];
            (t.scope, t.func, t.values.clone())
        };
        let mut out = Vec::new();
        for v in values {
            if super::lambda_id(&v).is_some() {
                out.push((v, Resolution::Local));
                continue;
            }
            // In a class body, a bare name is one of the class's own functions.
            let (t, r) = match scope {
                Scope::Class(c) if !v.contains('.') && self.method_class(written) != Some(c) => {
                    let cq = &self.facts.classes[c as usize].qualname;
                    (
                        dot_join(&[&self.facts.module, cq, &v]),
                        Resolution::SelfMethod,
                    )
                }
                _ => self.resolve_text(written, &v, usize::MAX),
            };
            if r != Resolution::Unresolved {
                out.push((t, r));
            }
        }
        out
    }
}

/// The literal start of a computed name: `"handle_" + kind`, `f"on_{x}"`; at least three
/// characters (a shorter prefix, like `_`, names too many methods).
fn literal_prefix(e: &Expr) -> Option<String> {
    let prefix = match e {
        Expr::BinOp(b) if b.op == ast::Operator::Add => match &*b.left {
            Expr::StringLiteral(s) => s.value.to_str().to_owned(),
            _ => return None,
        },
        Expr::FString(f) => {
            let first = f.value.elements().next()?;
            match first {
                ast::InterpolatedStringElement::Literal(l) => l.value.to_string(),
                _ => return None,
            }
        }
        _ => return None,
    };
    (prefix.len() >= 3).then_some(prefix)
}
