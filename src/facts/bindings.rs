//! What a name holds: the collector's binding log (name -> call result, annotation or
//! unknown, in source order), the value kinds recorded for rules, and the resolution, after
//! the walk, of every call target and callable reference through those bindings, the imports
//! and the module's definitions.
//!
//! Resolution is per module and textual: it never looks at other modules (that is the project
//! stage's resolver) and never reads the AST.

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::Expr;

use super::collect::{Collector, RED_ZONE, STACK_SEGMENT};
use super::kinds::{KindBinding, ValueKind};
use super::names::{Base, dot_join};
use super::{FnKind, FuncId, NO_CALL, Resolution};
use crate::knowledge::contexts::{last_segment, split_first};

/// The builtins whose bare names resolve to themselves when not shadowed.
const BUILTIN_CALLABLES: &[&str] = &["__import__", "eval", "exec", "input", "open", "print"];

/// What a name is bound to inside one function, for type inference.
#[derive(Debug, Clone)]
pub(super) enum Binding {
    /// The result of the call with this index.
    Call(u32),
    /// An annotation's dotted text (`client: httpx.Client`).
    Annotation(String),
    /// A value whose type an operator or attribute kept (`d = base / "x"` is a `Path`).
    Type(String),
    /// Bound, type unknown (a parameter, a loop variable, ...).
    Unknown,
}

/// The bindings of one module in source order, with an index by (function, name): a lookup
/// sees only the bindings made before a given position, as a call site does.
///
/// A binding holds its name's number, not its text, and a (function, name) bound once (most:
/// parameters, single assignments) keeps its one position without a vector: the log cost
/// 0.13 G instructions on the standard library, most of it a `String` and a `Vec` per binding.
#[derive(Default)]
pub(super) struct BindingLog {
    /// Append-only log of bindings: (function, name number, binding).
    bindings: Vec<(FuncId, u32, Binding)>,
    /// (function, name) -> positions in `bindings`, ascending.
    binding_index: HashMap<(FuncId, u32), Positions>,
    /// Names bound anywhere in the module, numbered; `names` holds their texts by number.
    binding_names: HashMap<String, u32>,
    names: Vec<String>,
}

/// The positions of one (function, name)'s bindings in the log, ascending.
enum Positions {
    One(u32),
    Many(Vec<u32>),
}

impl Positions {
    fn push(&mut self, pos: u32) {
        match self {
            Positions::One(first) => *self = Positions::Many(vec![*first, pos]),
            Positions::Many(all) => all.push(pos),
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Positions::One(one) => std::slice::from_ref(one),
            Positions::Many(all) => all,
        }
    }
}

impl BindingLog {
    /// The position the next binding will take: a call records it to see only earlier ones.
    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    /// The number of `name`, given it a new one when the module has not bound it yet (its
    /// text is copied once). A number alone binds nothing: lookups read the index.
    pub fn number(&mut self, name: &str) -> u32 {
        match self.binding_names.get(name) {
            Some(&id) => id,
            None => {
                let next = self.names.len() as u32;
                self.binding_names.insert(name.to_owned(), next);
                self.names.push(name.to_owned());
                next
            }
        }
    }

    pub fn bind(&mut self, func: FuncId, name: &str, binding: Binding) {
        let pos = self.bindings.len() as u32;
        let id = self.number(name);
        self.binding_index
            .entry((func, id))
            .and_modify(|p| p.push(pos))
            .or_insert(Positions::One(pos));
        self.bindings.push((func, id, binding));
    }

    /// Logs a binding that lookups by name do not see (an annotation with no value): it takes
    /// a position, and only module-wide passes over the log read it.
    pub fn push_unindexed(&mut self, func: FuncId, name: &str, binding: Binding) {
        let id = self.number(name);
        self.bindings.push((func, id, binding));
    }

    /// The latest binding of `name` in `func` made before position `limit` of the log.
    pub fn before(&self, func: FuncId, name: &str, limit: usize) -> Option<Binding> {
        self.before_id(func, self.name_id(name)?, limit)
    }

    /// The number of a name bound anywhere in the module, for [`Self::before_id`].
    pub fn name_id(&self, name: &str) -> Option<u32> {
        self.binding_names.get(name).copied()
    }

    /// [`Self::before`] by the name's number: one text lookup for several functions.
    pub fn before_id(&self, func: FuncId, id: u32, limit: usize) -> Option<Binding> {
        let positions = self.binding_index.get(&(func, id))?.as_slice();
        let i = positions.partition_point(|&p| (p as usize) < limit);
        (i > 0).then(|| self.bindings[positions[i - 1] as usize].2.clone())
    }

    /// The log in order: (function, name, binding).
    pub fn iter(&self) -> impl Iterator<Item = (FuncId, &str, &Binding)> {
        self.bindings
            .iter()
            .map(|(f, id, b)| (*f, self.names[*id as usize].as_str(), b))
    }
}

impl Collector<'_> {
    /// Records the kind of value an assignment target now holds; unpacking targets get `Other`.
    pub(super) fn record_kind(&mut self, target: &Expr, kind: ValueKind) {
        let joined;
        let name = match target {
            Expr::Name(n) => n.id.as_str(),
            Expr::Attribute(a) => match &*a.value {
                Expr::Name(base) if base.id.as_str() == "self" => {
                    joined = dot_join(&["self", a.attr.id.as_str()]);
                    joined.as_str()
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
        let binding = KindBinding {
            func: self.func,
            class: self.method_class(self.func),
            kind,
            loop_depth: self.loop_depth,
        };
        // Most names are bound more than once: copy the text only for a new one.
        match self.kinds.get_mut(name) {
            Some(seen) => seen.push(binding),
            None => {
                self.kinds.insert(name.to_owned(), vec![binding]);
            }
        }
    }

    pub(super) fn bind_target(&mut self, target: &Expr, value_call: Option<u32>) {
        match target {
            Expr::Name(n) => {
                let b = value_call.map_or(Binding::Unknown, Binding::Call);
                self.bindings.bind(self.func, n.id.as_str(), b);
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
}

impl Collector<'_> {
    pub(super) fn resolve_all(&mut self) {
        let n = self.facts.calls.len();
        self.resolved = vec![None; n];
        self.resolving = vec![false; n];
        self.returned = vec![None; n];
        for i in 0..n {
            let (target, resolution) = self.resolve_call(i as u32);
            let api = match resolution {
                Resolution::Import | Resolution::Inferred => self
                    .catalog
                    .lookup(target.as_deref().unwrap_or(&self.facts.calls[i].text)),
                _ => None,
            };
            // `httpx.AsyncClient(transport=...)`: handed its transport, the client builds no
            // pool of its own.
            let api = api.filter(|&id| {
                !self.raw[i].handed.is_some_and(|(k, by)| {
                    let built = (by != NO_CALL).then(|| self.facts.calls[by as usize].api);
                    self.catalog.handed_over(id, k, built)
                })
            });
            let seconds = api.and_then(|id| {
                let idx = self.catalog.get(id).arg_seconds?;
                let (nums, kw) = &self.numeric_args[i];
                nums.get(idx).copied().flatten().or(*kw)
            });
            let call = &mut self.facts.calls[i];
            // An unresolved target is the text itself: no need to intern it again.
            call.target = match target {
                Some(t) if *call.text != *t => t.into(),
                _ => call.text.clone(),
            };
            call.resolution = resolution;
            call.api = api;
            if seconds.is_some() || call.seconds().is_some() {
                call.extra_mut().seconds = seconds;
            }
        }
        for i in 0..n {
            let func = self.facts.calls[i].func;
            let mark = self.raw[i].binding_mark;
            let args = std::mem::take(&mut self.raw[i].callable_args);
            if args.is_empty() {
                continue;
            }
            let args = args
                .into_iter()
                .map(|(text, res)| match super::lambda_id(&text) {
                    // A lambda is already known: its own function in this module.
                    Some(_) => (text, res),
                    None => match self.resolve_same(func, &text, mark) {
                        (Some(t), r) if *t != *text => (t.into(), r),
                        (_, r) => (text, r),
                    },
                })
                .collect();
            self.raw[i].callable_args = args;
        }
        let mut refs = std::mem::take(&mut self.raw_refs);
        refs.sort();
        refs.dedup();
        for (func, text) in refs {
            let (target, res) = self.resolve_text(func, &text, usize::MAX);
            if res != Resolution::Unresolved {
                self.facts.refs.push((func, target.into(), res));
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
                Binding::Call(i) if f == 0 => Some((name.to_owned(), *i)),
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

    /// The target of call `i`; `None` for the callee's own text.
    fn resolve_call(&mut self, i: u32) -> (Same, Resolution) {
        let iu = i as usize;
        if let Some(r) = &self.resolved[iu] {
            return r.clone();
        }
        if self.resolving[iu] {
            return (None, Resolution::Unresolved);
        }
        self.resolving[iu] = true;
        let r = stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || {
            let base = self.raw[iu].callee.base;
            match base {
                // `super().m()`: the method of the class's first base, along its MRO.
                Base::CallResult(j) if self.raw[j as usize].callee.text == "super" => {
                    let func = self.facts.calls[iu].func;
                    let attrs = self.raw[iu].callee.attrs().to_owned();
                    match self.first_base(func) {
                        Some(b) => (Some(join(&b, &attrs)), Resolution::Local),
                        None => (None, Resolution::Unresolved),
                    }
                }
                Base::CallResult(j) => match self.returned_type(j) {
                    Some(t) => (
                        Some(join(&t, self.raw[iu].callee.attrs())),
                        Resolution::Inferred,
                    ),
                    None => (None, Resolution::Unresolved),
                },
                Base::Other => (None, Resolution::Unresolved),
                Base::Typed => (None, Resolution::Inferred),
                Base::Name => {
                    // The record's interned text is the callee's: a reference, not a copy.
                    let func = self.facts.calls[iu].func;
                    let text = self.facts.calls[iu].text.clone();
                    self.resolve_same(func, &text, self.raw[iu].binding_mark)
                }
            }
        });
        self.resolving[iu] = false;
        self.resolved[iu] = Some(r.clone());
        r
    }

    /// The type of the value a call returns: the catalog's `returns`, or the class itself when
    /// the call instantiates a class (`Client()` -> `pkg.mod.Client`).
    pub(super) fn returned_type(&mut self, i: u32) -> Option<String> {
        if let Some(Some(known)) = self.returned.get(i as usize) {
            return known.clone();
        }
        let t = self.returned_type_uncached(i);
        // Only a memoised resolution is final (one inside a cycle is not).
        if self.resolved.get(i as usize).is_some_and(Option::is_some) {
            self.returned[i as usize] = Some(t.clone());
        }
        t
    }

    fn returned_type_uncached(&mut self, i: u32) -> Option<String> {
        let (target, res) = self.resolve_call(i);
        if res == Resolution::Unresolved {
            return None;
        }
        let target = target.unwrap_or_else(|| self.raw[i as usize].callee.text.clone());
        if res != Resolution::Local
            && let Some(id) = self.catalog.lookup(&target)
        {
            let literal = self.raw[i as usize].str_arg.as_deref();
            return self
                .catalog
                .get(id)
                .returned_type_for(literal)
                .map(str::to_owned);
        }
        let last = last_segment(&target);
        last.starts_with(|c: char| c.is_ascii_uppercase())
            .then_some(target)
    }

    /// Resolves dotted text used in function `func`, seeing the bindings made before `mark`.
    pub(super) fn resolve_text(
        &mut self,
        func: FuncId,
        text: &str,
        mark: usize,
    ) -> (String, Resolution) {
        let (t, r) = self.resolve_same(func, text, mark);
        (t.unwrap_or_else(|| text.to_owned()), r)
    }

    /// [`Self::resolve_text`] without copying `text` when it is the target (`None`): most
    /// names resolve to nothing else.
    fn resolve_same(&mut self, func: FuncId, text: &str, mark: usize) -> (Same, Resolution) {
        // `head.rest`: `rest` holds the attributes, dot-separated (empty for a bare name).
        let (head, rest) = split_first(text, b'.').unwrap_or((text, ""));
        let limit = mark.min(self.bindings.len());
        let is_self = head == "self" || head == "cls";
        // Not bound anywhere in the module: neither here nor at module level.
        let id = if is_self {
            None
        } else {
            self.bindings.name_id(head)
        };
        let local = id.and_then(|id| self.bindings.before_id(func, id, limit));
        if let Some(b) = local {
            return self.resolve_binding(b, rest);
        }
        if is_self {
            if let Some(class) = self.method_class(func) {
                // `cls(...)` in a classmethod builds the class.
                if head == "cls" && rest.is_empty() {
                    let cq = &self.facts.classes[class as usize].qualname;
                    return (Some(dot_join(&[&self.facts.module, cq])), Resolution::Local);
                }
                // `self.tokenizer(text)` where a method set `self.tokenizer = Tokenizer(...)`:
                // calling the instance (its class's `__call__`), not a method. Library types
                // stay out: a catalog constructor is not what calling its instance costs.
                if !rest.is_empty()
                    && !rest.as_bytes().contains(&b'.')
                    && let Some(t) = self.attr_type(class, rest)
                    && self.catalog.lookup(&t).is_none()
                {
                    return (Some(t), Resolution::Inferred);
                }
                if !rest.is_empty() && !rest.as_bytes().contains(&b'.') {
                    let cq = &self.facts.classes[class as usize].qualname;
                    return (
                        Some(dot_join(&[&self.facts.module, cq, rest])),
                        Resolution::SelfMethod,
                    );
                }
                if !rest.is_empty() {
                    let (first, after) = split_first(rest, b'.').unwrap_or((rest, ""));
                    let found = self
                        .attr_bindings
                        .iter()
                        .find(|(c, a, _)| *c == class && a == first)
                        .map(|(_, _, call)| *call);
                    if let Some(call) = found
                        && let Some(t) = self.returned_type(call)
                    {
                        return (Some(join(&t, after)), Resolution::Inferred);
                    }
                }
            }
            return (None, Resolution::Unresolved);
        }
        if let Some(t) = self.imports.get(head) {
            return (Some(join(t, rest)), Resolution::Import);
        }
        if self.module_defs.contains_key(head) {
            let target = if self.facts.module.is_empty() {
                None
            } else {
                Some(dot_join(&[&self.facts.module, text]))
            };
            return (target, Resolution::Local);
        }
        if func != 0 {
            let global = id.and_then(|id| self.bindings.before_id(0, id, usize::MAX));
            if let Some(b) = global {
                return self.resolve_binding(b, rest);
            }
        }
        if rest.is_empty() && BUILTIN_CALLABLES.contains(&head) {
            let trimmed = (head.len() != text.len()).then(|| head.to_owned());
            return (trimmed, Resolution::Import);
        }
        (None, Resolution::Unresolved)
    }

    /// `rest` is the attribute path after the bound name, dot-separated; `None` is `text`.
    fn resolve_binding(&mut self, b: Binding, rest: &str) -> (Same, Resolution) {
        // `m = import_module("torch")`: `m` is the module, as if imported.
        if let Binding::Call(i) = b
            && let Some(module) = self.imported_module(i)
        {
            return (Some(join(&module, rest)), Resolution::Import);
        }
        let ty = match b {
            Binding::Call(i) => self.returned_type(i),
            Binding::Annotation(ann) => {
                let (t, r) = self.resolve_text(0, &ann, usize::MAX);
                (r != Resolution::Unresolved).then_some(t)
            }
            Binding::Type(t) => Some(t),
            Binding::Unknown => None,
        };
        match ty {
            Some(t) => (Some(join(&t, rest)), Resolution::Inferred),
            None => (None, Resolution::Unresolved),
        }
    }

    /// The module call `i` imports by name and returns (`importlib.import_module("torch")`:
    /// a catalog entry with `returns_module`, called with a literal module name).
    fn imported_module(&mut self, i: u32) -> Option<String> {
        let (target, res) = self.resolve_call(i);
        if matches!(res, Resolution::Unresolved | Resolution::Local) {
            return None;
        }
        let target = target.unwrap_or_else(|| self.raw[i as usize].callee.text.clone());
        let entry = self.catalog.get(self.catalog.lookup(&target)?);
        entry.returns_module?;
        let literal = self.raw[i as usize].str_arg.as_deref();
        entry.returned_type_for(literal).map(str::to_owned)
    }

    /// The type a method of `class` assigned to `self.attr` (`self.attr = Type(...)`).
    fn attr_type(&mut self, class: u32, attr: &str) -> Option<String> {
        let call = self
            .attr_bindings
            .iter()
            .find(|(c, a, _)| *c == class && a == attr)
            .map(|(_, _, call)| *call)?;
        self.returned_type(call)
    }

    /// The first base of the class of method `func`, resolved in the module (`super()`'s
    /// class for single inheritance).
    fn first_base(&mut self, func: FuncId) -> Option<String> {
        let class = self.method_class(func)?;
        let base = self.facts.classes[class as usize].bases.first()?.clone();
        let (t, r) = self.resolve_text(0, &base, usize::MAX);
        (r != Resolution::Unresolved).then_some(t)
    }

    pub(super) fn method_class(&self, mut func: FuncId) -> Option<u32> {
        loop {
            let f = &self.facts.functions[func as usize];
            if f.kind == FnKind::Method {
                return f.class;
            }
            func = f.parent?;
        }
    }
}

/// A resolved target, `None` when it is the text that was resolved.
type Same = Option<String>;

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
