//! Flag guards: code that runs once because a flag says it has run.
//!
//! ```python
//! if not app.monitoring_enabled:        # the guard
//!     mount_gradio_app(app, dashboard)  # runs for the first request only
//!     app.monitoring_enabled = True     # ... because the branch sets the flag
//!
//! async def start(self):
//!     if self._started:
//!         return
//!     self._started = True
//!     await self._connect()             # once, after the guard
//! ```
//!
//! A lazy initialisation is the same shape with a value for the flag: `if self._index is
//! None: self._index = load()`, `if _thread is None or not _thread.is_alive(): _thread =
//! Thread(...)` (re-armed only when what it holds has died), `if self._x is not None: return
//! self._x` then `self._x = build()`.
//!
//! The walk records each such guard as the lines of its function it covers
//! ([`OnceGuard`]); the execution query reads a per-request chain through one as
//! `first-request`, unless code that runs more than once sets the flag back to `False` or
//! `None` (`flag_resets`, by function: a flag reset on every disconnect or write guards
//! nothing; a constructor, module-level code or an app factory that runs once sets it up).
//!
//! Only a flag that outlives a call is read: one kept on an object (`self._started`,
//! `app.ready`) or a name the function declares `global` or `nonlocal`; a local name (`done =
//! True` in a loop) lives for one call, so its guard runs on every call.

use ruff_python_ast::{self as ast, CmpOp, Expr, Stmt, UnaryOp};
use ruff_text_size::Ranged;
use serde::{Deserialize, Serialize};

use super::collect::Collector;
use super::names::{dotted_name, mentions};
use super::{FnKind, FuncId, Name};

/// Lines of a function that run once per flag (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnceGuard {
    pub func: FuncId,
    /// The flag's text as written (`app.monitoring_enabled`).
    pub flag: Name,
    /// The first and last line the guard covers.
    pub first: u32,
    pub last: u32,
    /// Whether the function sets the flag where the guard says it does. An early return
    /// (`if self._started: return`) is recorded before the walk reaches the statement that
    /// sets the flag; one never confirmed is dropped at the end of the module.
    pub confirmed: bool,
    /// The guard waits for a value (`if self._index is None: self._index = load()`), not for
    /// `True`.
    pub lazy: bool,
}

/// The last segment of a flag's text, by which resets are matched (`self._started` and
/// `client._started` reset each other: the receiver is not known here).
pub fn flag_key(flag: &str) -> &str {
    flag.rsplit('.').next().unwrap_or(flag)
}

impl<'a> Collector<'a> {
    /// An `if` statement is about to be visited: records it when it is a flag guard.
    pub(super) fn note_once_guard(&mut self, i: &'a ast::StmtIf) {
        if self.func == 0 || !i.elif_else_clauses.is_empty() {
            return;
        }
        let (Some(first), Some(last)) = (i.body.first(), i.body.last()) else {
            return;
        };
        if let Some((flag, waits)) = flag_unset(&i.test).and_then(|(f, w)| Some((self.flag(f)?, w)))
            && let Some(lazy) = sets_flag(&i.body, &flag, waits)
        {
            // `if not F: ...; F = True`, `if X is None: X = load()`: the branch.
            self.facts.once_guards.push(OnceGuard {
                func: self.func,
                flag: Name::new(&flag),
                first: self.line(first.range()),
                last: self.line_index.line_index(last.end()).get() as u32,
                confirmed: true,
                lazy,
            });
        } else if let Some((flag, lazy)) =
            flag_set(&i.test).and_then(|(f, l)| Some((self.flag(f)?, l)))
            && let [said @ .., Stmt::Return(_)] = i.body.as_slice()
            && said.iter().all(|s| matches!(s, Stmt::Expr(_)))
        {
            // `if F: return` (a log line before the return allowed), then `F = True`; `if X is
            // not None: return X`, then `X = load()`: the rest of the function, once a
            // statement after the guard sets it (`note_flag_assign`).
            let end = self.facts.functions[self.func as usize].end_line;
            self.facts.once_guards.push(OnceGuard {
                func: self.func,
                flag: Name::new(&flag),
                first: self.line_index.line_index(i.end()).get() as u32 + 1,
                last: end,
                confirmed: false,
                lazy,
            });
        }
    }

    /// The text of a flag that outlives a call: an attribute (`self._started`, `app.ready`),
    /// or a name the function declares `global` or `nonlocal`.
    fn flag(&self, e: &Expr) -> Option<String> {
        match e {
            Expr::Attribute(_) => dotted_name(e),
            Expr::Name(n) => self
                .declared
                .iter()
                .any(|(f, d)| *f == self.func && d == n.id.as_str())
                .then(|| n.id.to_string()),
            _ => None,
        }
    }

    /// `global x` / `nonlocal x`: assignments to `x` in this function outlive the call.
    pub(super) fn note_declared(&mut self, names: &[ast::Identifier]) {
        let func = self.func;
        self.declared
            .extend(names.iter().map(|n| (func, n.id.to_string())));
    }

    /// `F = True` (or `X = <a value>`) confirms an early-return guard on it before it in the
    /// function; `F = False` or `X = None` outside a constructor and module-level code resets it.
    pub(super) fn note_flag_assign(&mut self, target: &Expr, value: &Expr) {
        // Most assignments neither reset a flag nor set one a guard waits for: test that
        // before writing the target's text out.
        let unset = is_unset(value);
        let func = self.func;
        if !unset
            && !self
                .facts
                .once_guards
                .iter()
                .any(|g| g.func == func && !g.confirmed)
        {
            return;
        }
        let Some(text) = self.flag(target) else {
            return;
        };
        if unset {
            let f = &self.facts.functions[self.func as usize];
            let setup = matches!(f.kind, FnKind::Module | FnKind::Main)
                || self.class_body_func == Some(self.func)
                || f.name.as_str() == "__init__";
            if !setup {
                // Whether the function runs once (an app factory) is the project's to say.
                let key = Name::new(flag_key(&text));
                self.facts.flag_resets.push((self.func, key));
            }
            return;
        }
        let is_true = matches!(value, Expr::BooleanLiteral(b) if b.value);
        let line = self.line(target.range());
        for g in self.facts.once_guards.iter_mut().rev() {
            if g.func == self.func
                && !g.confirmed
                && (g.lazy || is_true)
                && g.first <= line
                && g.flag.as_str() == text.as_str()
            {
                g.confirmed = true;
            }
        }
    }
}

/// The module's walk is over: drops early-return guards nothing confirmed, and repeated
/// resets.
pub(super) fn finish(guards: &mut Vec<OnceGuard>, resets: &mut Vec<(FuncId, Name)>) {
    guards.retain(|g| g.confirmed);
    guards.shrink_to_fit();
    resets.sort_unstable_by(|a, b| (a.0, a.1.as_str()).cmp(&(b.0, b.1.as_str())));
    resets.dedup();
    resets.shrink_to_fit();
}

/// What a guard waits for before its flag counts as set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waits {
    /// `True` (`if F is False:`).
    True,
    /// A value (`if X is None:`).
    Value,
    /// `True` too (`if not F:`: falsy again once a value it holds is emptied).
    Either,
}

/// The flag a test reads when its branch runs while the flag is unset: `not F`, `F is False`,
/// `F == False`, `X is None`, `X == None`; or such a test `or` a test of the same object
/// (`t is None or not t.is_alive()`: re-armed only when what it holds has died).
fn flag_unset(test: &Expr) -> Option<(&Expr, Waits)> {
    match test {
        Expr::UnaryOp(u) if matches!(u.op, UnaryOp::Not) => Some((&*u.operand, Waits::Either)),
        Expr::Compare(c) if c.ops.len() == 1 && matches!(c.ops[0], CmpOp::Is | CmpOp::Eq) => {
            match &c.comparators[0] {
                Expr::BooleanLiteral(b) if !b.value => Some((&*c.left, Waits::True)),
                Expr::NoneLiteral(_) => Some((&*c.left, Waits::Value)),
                _ => None,
            }
        }
        Expr::BoolOp(b) if matches!(b.op, ast::BoolOp::Or) => {
            let (first, rest) = b.values.split_first()?;
            let (flag, waits) = flag_unset(first)?;
            let text = dotted_name(flag)?;
            rest.iter()
                .all(|e| mentions(e, &text))
                .then_some((flag, waits))
        }
        _ => None,
    }
}

/// The flag a test reads when its branch runs once the flag is set, with whether it holds a
/// value: `F`, `F is True`, `F == True`; `X is not None`, `X != None`.
fn flag_set(test: &Expr) -> Option<(&Expr, bool)> {
    match test {
        Expr::Compare(c)
            if c.ops.len() == 1
                && matches!(c.ops[0], CmpOp::Is | CmpOp::Eq)
                && matches!(&c.comparators[0], Expr::BooleanLiteral(b) if b.value) =>
        {
            Some((&*c.left, false))
        }
        Expr::Compare(c)
            if c.ops.len() == 1
                && matches!(c.ops[0], CmpOp::IsNot | CmpOp::NotEq)
                && matches!(&c.comparators[0], Expr::NoneLiteral(_)) =>
        {
            Some((&*c.left, true))
        }
        Expr::Attribute(_) | Expr::Name(_) => Some((test, false)),
        _ => None,
    }
}

/// Whether a value leaves a flag unset: `False`, `None`.
fn is_unset(value: &Expr) -> bool {
    matches!(value, Expr::NoneLiteral(_)) || matches!(value, Expr::BooleanLiteral(b) if !b.value)
}

/// Whether a branch sets the flag `text` in one of its statements (or in the body of a `try`
/// or `with` among them) to what its guard waits for: `Some(true)` when it stores a value,
/// `Some(false)` when it stores `True`.
fn sets_flag(body: &[Stmt], text: &str, waits: Waits) -> Option<bool> {
    body.iter().find_map(|s| match s {
        Stmt::Assign(a) if a.targets.iter().any(|t| is_text(t, text)) => stored(&a.value, waits),
        Stmt::AnnAssign(ast::StmtAnnAssign {
            target,
            value: Some(v),
            ..
        }) if is_text(target, text) => stored(v, waits),
        Stmt::Try(t) => {
            sets_flag(&t.body, text, waits).or_else(|| sets_flag(&t.orelse, text, waits))
        }
        Stmt::With(w) => sets_flag(&w.body, text, waits),
        _ => None,
    })
}

/// What storing `value` tells a guard that waits for `waits` (see [`sets_flag`]).
fn stored(value: &Expr, waits: Waits) -> Option<bool> {
    let is_true = matches!(value, Expr::BooleanLiteral(b) if b.value);
    match waits {
        Waits::True | Waits::Either if is_true => Some(false),
        Waits::True => None,
        // `if not self._batch: self._batch = fetch()` refills whatever empties: only `is
        // None` waits for a value.
        Waits::Either => None,
        Waits::Value if !is_unset(value) && !is_true => Some(true),
        Waits::Value => None,
    }
}

/// Whether `e` is the dotted name `text`.
fn is_text(e: &Expr, text: &str) -> bool {
    dotted_name(e).as_deref() == Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_python_parser::parse_expression;

    fn unset(src: &str) -> Option<(String, Waits)> {
        let parsed = parse_expression(src).unwrap();
        let (flag, waits) = flag_unset(parsed.expr())?;
        Some((dotted_name(flag)?, waits))
    }

    fn set(src: &str) -> Option<(String, bool)> {
        let parsed = parse_expression(src).unwrap();
        let (flag, lazy) = flag_set(parsed.expr())?;
        Some((dotted_name(flag)?, lazy))
    }

    fn stores(src: &str, waits: Waits) -> Option<bool> {
        stored(parse_expression(src).unwrap().expr(), waits)
    }

    #[test]
    fn guard_tests() {
        let s = |t: &str, w| Some((t.to_owned(), w));
        assert_eq!(
            unset("not self._started"),
            s("self._started", Waits::Either)
        );
        assert_eq!(unset("app.ready is False"), s("app.ready", Waits::True));
        assert_eq!(unset("app.ready == False"), s("app.ready", Waits::True));
        assert_eq!(unset("self._index is None"), s("self._index", Waits::Value));
        assert_eq!(
            unset("t is None or not t.is_alive()"),
            s("t", Waits::Value),
            "re-armed only when the thread it holds has died"
        );
        assert_eq!(
            unset("t is None or force"),
            None,
            "re-armed by anything else"
        );
        assert_eq!(unset("not self.ready()"), None, "a call, not a flag");
        assert_eq!(unset("self._started"), None);
        assert_eq!(
            set("self._started"),
            Some(("self._started".to_owned(), false))
        );
        assert_eq!(
            set("self._started is True"),
            Some(("self._started".to_owned(), false))
        );
        assert_eq!(
            set("self._index is not None"),
            Some(("self._index".to_owned(), true))
        );
        assert_eq!(set("not self._started"), None);
    }

    #[test]
    fn what_a_store_tells_a_guard() {
        assert_eq!(stores("True", Waits::Either), Some(false));
        assert_eq!(stores("True", Waits::True), Some(false));
        assert_eq!(
            stores("load()", Waits::True),
            None,
            "the flag waits for True"
        );
        assert_eq!(stores("load()", Waits::Value), Some(true));
        assert_eq!(
            stores("load()", Waits::Either),
            None,
            "`not x` is true again once what it holds is emptied"
        );
        assert_eq!(stores("None", Waits::Value), None, "still unset");
        assert_eq!(stores("False", Waits::Either), None, "still unset");
    }

    #[test]
    fn flag_keys() {
        assert_eq!(flag_key("self._started"), "_started");
        assert_eq!(flag_key("app.state.ready"), "ready");
    }
}
