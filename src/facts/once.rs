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
//! The walk records each such guard as the lines of its function it covers
//! ([`OnceGuard`]); the execution query reads a per-request chain through one as
//! `first-request`, unless code that runs more than once sets the flag back to `False`
//! (`flag_resets`, by function: a flag reset on every disconnect or write guards nothing; a
//! constructor, module-level code or an app factory that runs once sets it up).
//!
//! Only a flag kept on an object is read (`self._started`, `app.ready`): a local name
//! (`done = True` in a loop) lives for one call, so its guard runs on every call.

use ruff_python_ast::{self as ast, CmpOp, Expr, Stmt, UnaryOp};
use ruff_text_size::Ranged;
use serde::{Deserialize, Serialize};

use super::collect::Collector;
use super::names::{dotted_name, is_dotted};
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
        if let Some(flag) = flag_tested(&i.test, false).and_then(dotted_name)
            && sets_flag(&i.body, &flag)
        {
            // `if not F: ...; F = True`: the branch.
            self.facts.once_guards.push(OnceGuard {
                func: self.func,
                flag: Name::new(&flag),
                first: self.line(first.range()),
                last: self.line_index.line_index(last.end()).get() as u32,
                confirmed: true,
            });
        } else if let Some(flag) = flag_tested(&i.test, true).and_then(dotted_name)
            && let [said @ .., Stmt::Return(_)] = i.body.as_slice()
            && said.iter().all(|s| matches!(s, Stmt::Expr(_)))
        {
            // `if F: return` (a log line before the return allowed), then `F = True`: the rest
            // of the function, once a statement after the guard sets the flag
            // (`note_flag_assign`).
            let end = self.facts.functions[self.func as usize].end_line;
            self.facts.once_guards.push(OnceGuard {
                func: self.func,
                flag: Name::new(&flag),
                first: self.line_index.line_index(i.end()).get() as u32 + 1,
                last: end,
                confirmed: false,
            });
        }
    }

    /// `F = True` confirms an early-return guard on `F` before it in the function;
    /// `F = False` outside a constructor and module-level code resets `F`.
    pub(super) fn note_flag_assign(&mut self, target: &Expr, value: &Expr) {
        let Expr::BooleanLiteral(b) = value else {
            return;
        };
        if !matches!(target, Expr::Attribute(_)) {
            return;
        }
        let Some(text) = dotted_name(target) else {
            return;
        };
        if b.value {
            let line = self.line(target.range());
            for g in self.facts.once_guards.iter_mut().rev() {
                if g.func != self.func {
                    break;
                }
                if !g.confirmed && g.first <= line && g.flag.as_str() == text.as_str() {
                    g.confirmed = true;
                }
            }
            return;
        }
        let f = &self.facts.functions[self.func as usize];
        let setup = matches!(f.kind, FnKind::Module | FnKind::Main)
            || self.class_body_func == Some(self.func)
            || f.name.as_str() == "__init__";
        if !setup {
            // Whether the function runs once (an app factory) is the project's to say.
            let key = Name::new(flag_key(&text));
            self.facts.flag_resets.push((self.func, key));
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

/// The flag an `if` test reads: `not F` / `F is False` / `F == False` when `set` is false
/// (the branch runs while the flag is unset), `F` / `F is True` / `F == True` when it is true.
fn flag_tested(test: &Expr, set: bool) -> Option<&Expr> {
    let flag = match test {
        Expr::UnaryOp(u) if matches!(u.op, UnaryOp::Not) && !set => &*u.operand,
        Expr::Compare(c)
            if c.ops.len() == 1
                && matches!(c.ops[0], CmpOp::Is | CmpOp::Eq)
                && matches!(&c.comparators[0], Expr::BooleanLiteral(b) if b.value == set) =>
        {
            &*c.left
        }
        e if set => e,
        _ => return None,
    };
    (matches!(flag, Expr::Attribute(_)) && is_dotted(flag)).then_some(flag)
}

/// Whether a branch sets the flag `text` to `True` in one of its statements (or in the body of
/// a `try` or `with` among them).
fn sets_flag(body: &[Stmt], text: &str) -> bool {
    body.iter().any(|s| match s {
        Stmt::Assign(a) => {
            matches!(&*a.value, Expr::BooleanLiteral(b) if b.value)
                && a.targets.iter().any(|t| is_text(t, text))
        }
        Stmt::AnnAssign(ast::StmtAnnAssign {
            target,
            value: Some(v),
            ..
        }) => matches!(&**v, Expr::BooleanLiteral(b) if b.value) && is_text(target, text),
        Stmt::Try(t) => sets_flag(&t.body, text) || sets_flag(&t.orelse, text),
        Stmt::With(w) => sets_flag(&w.body, text),
        _ => false,
    })
}

/// Whether `e` is the dotted name `text`.
fn is_text(e: &Expr, text: &str) -> bool {
    dotted_name(e).as_deref() == Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_python_parser::parse_expression;

    fn tested(src: &str, set: bool) -> Option<String> {
        let parsed = parse_expression(src).unwrap();
        flag_tested(parsed.expr(), set).and_then(super::super::names::dotted_name)
    }

    #[test]
    fn guard_tests() {
        assert_eq!(
            tested("not self._started", false).as_deref(),
            Some("self._started")
        );
        assert_eq!(
            tested("app.ready is False", false).as_deref(),
            Some("app.ready")
        );
        assert_eq!(
            tested("app.ready == False", false).as_deref(),
            Some("app.ready")
        );
        assert_eq!(
            tested("self._started", true).as_deref(),
            Some("self._started")
        );
        assert_eq!(
            tested("self._started is True", true).as_deref(),
            Some("self._started")
        );
        assert_eq!(
            tested("not done", false),
            None,
            "a local name lives for one call"
        );
        assert_eq!(
            tested("not self.ready()", false),
            None,
            "a call, not a flag"
        );
        assert_eq!(
            tested("self.model is None", false),
            None,
            "a lazy load, not a flag"
        );
        assert_eq!(tested("not self._started", true), None);
        assert_eq!(tested("self._started", false), None);
    }

    #[test]
    fn flag_keys() {
        assert_eq!(flag_key("self._started"), "_started");
        assert_eq!(flag_key("app.state.ready"), "ready");
    }
}
