//! What an `if` test says about how often its branch runs: only for callers that leave an
//! optional argument out, or only after a request failed.

use ruff_python_ast::visitor::Visitor;
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use super::CallFlags;
use super::collect::Collector;
use super::names::number_literal;

/// Sets a flag on the calls and candidates of the current function recorded since `start`
/// (a `(calls, candidates)` pair of lengths).
macro_rules! mark_since {
    ($self:ident, $start:expr, $flag:expr) => {{
        let func = $self.func;
        for c in &mut $self.facts.calls[$start.0..] {
            let here = c.func == func;
            c.flag_if($flag, here);
        }
        for c in &mut $self.facts.candidates[$start.1..] {
            let here = c.func == func;
            c.flag_if($flag, here);
        }
    }};
}

impl<'a> Collector<'a> {
    /// Visits an `if` statement: its tests are guards for the calls in its branches, and what
    /// a test says about how often its branch runs is marked on the calls there.
    pub(super) fn visit_if(&mut self, i: &'a ast::StmtIf) {
        self.note_once_guard(i);
        self.visit_expr(&i.test);
        self.guards.push(i.test.range());
        let start = (self.facts.calls.len(), self.facts.candidates.len());
        self.visit_branch(&i.body);
        if tests_left_out(&i.test, &self.optional_params) {
            mark_since!(self, start, CallFlags::IN_FALLBACK);
        }
        // `if response.status_code == 429: time.sleep(1); retry`: the branch runs after a
        // failed request, like an `except` handler.
        // `if not conn.poll(0.01): time.sleep(0.02)`, and the `else` of `if conn.poll(...)`:
        // the branch a poll takes when nothing arrived, an idle wait that only the requests
        // arriving meanwhile see (`contexts.toml` `poll_methods`).
        let polled = self.tests_poll(&i.test);
        if tests_error_status(&i.test) || polled == Some(false) {
            mark_since!(self, start, CallFlags::IN_EXCEPT);
        }
        self.guards.pop();
        for clause in &i.elif_else_clauses {
            if let Some(test) = &clause.test {
                self.visit_expr(test);
                self.guards.push(test.range());
            }
            let start = (self.facts.calls.len(), self.facts.candidates.len());
            self.visit_branch(&clause.body);
            if clause.test.is_some() {
                self.guards.pop();
            } else if polled == Some(true) {
                mark_since!(self, start, CallFlags::IN_EXCEPT);
            }
        }
    }

    /// Whether an `if` test polls for work: `Some(true)` for `x.poll(...)` (its branch runs
    /// when something arrived), `Some(false)` for `not x.poll(...)`.
    fn tests_poll(&self, test: &Expr) -> Option<bool> {
        let (call, arrived) = match test {
            Expr::UnaryOp(u) if matches!(u.op, ast::UnaryOp::Not) => (&*u.operand, false),
            e => (e, true),
        };
        let Expr::Call(c) = call else { return None };
        let Expr::Attribute(a) = &*c.func else {
            return None;
        };
        self.patterns.is_poll(a.attr.id.as_str()).then_some(arrived)
    }

    /// Visits an `if` branch. A branch that only calls things and then skips to the next
    /// iteration (`if not ready(): time.sleep(1); continue`) runs when its condition holds,
    /// not on every iteration: its calls are marked `in_skip_branch`.
    fn visit_branch(&mut self, body: &'a [Stmt]) {
        let start = (self.facts.calls.len(), self.facts.candidates.len());
        self.visit_body(body);
        let skips = matches!(body.last(), Some(Stmt::Continue(_)))
            && body[..body.len() - 1]
                .iter()
                .all(|s| matches!(s, Stmt::Expr(_) | Stmt::Pass(_)));
        if skips {
            mark_since!(self, start, CallFlags::IN_SKIP_BRANCH);
        }
    }
}

/// Whether an `if` test holds when the caller left out an optional parameter:
/// `p is None` or `not p`, for a parameter whose default is `None`.
pub(super) fn tests_left_out(test: &Expr, optional_params: &[String]) -> bool {
    let name = match test {
        Expr::Compare(c)
            if c.ops.len() == 1
                && matches!(c.ops[0], ast::CmpOp::Is)
                && matches!(c.comparators[0], Expr::NoneLiteral(_)) =>
        {
            &*c.left
        }
        Expr::UnaryOp(u) if matches!(u.op, ast::UnaryOp::Not) => &*u.operand,
        _ => return false,
    };
    matches!(name, Expr::Name(n) if optional_params.iter().any(|p| p == n.id.as_str()))
}

/// Whether an `if` test holds only when a request failed: an HTTP status compared with an
/// error code (`r.status_code == 429`, `resp.status >= 500`, `r.status_code != 200`), or
/// `not r.ok`.
pub(super) fn tests_error_status(test: &Expr) -> bool {
    let status_attr = |e: &Expr| matches!(e, Expr::Attribute(a) if matches!(a.attr.id.as_str(), "status_code" | "status"));
    match test {
        Expr::Compare(c) if c.ops.len() == 1 => {
            let Some(code) = number_literal(&c.comparators[0]) else {
                return false;
            };
            status_attr(&c.left)
                && match c.ops[0] {
                    ast::CmpOp::Eq | ast::CmpOp::GtE | ast::CmpOp::Gt => code >= 400.0,
                    ast::CmpOp::NotEq => (200.0..300.0).contains(&code),
                    _ => false,
                }
        }
        Expr::UnaryOp(u) if matches!(u.op, ast::UnaryOp::Not) => {
            matches!(&*u.operand, Expr::Attribute(a) if a.attr.id.as_str() == "ok")
        }
        Expr::BoolOp(b) if matches!(b.op, ast::BoolOp::Or) => {
            b.values.iter().all(tests_error_status)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_python_parser::parse_expression;

    fn left_out(src: &str) -> bool {
        tests_left_out(parse_expression(src).unwrap().expr(), &["p".to_owned()])
    }

    fn error_status(src: &str) -> bool {
        tests_error_status(parse_expression(src).unwrap().expr())
    }

    #[test]
    fn optional_parameter_tests() {
        assert!(left_out("p is None"));
        assert!(left_out("not p"));
        assert!(!left_out("q is None"), "not an optional parameter");
        assert!(
            !left_out("p is not None"),
            "the branch for callers that pass it"
        );
        assert!(!left_out("p == 3"));
    }

    #[test]
    fn error_status_tests() {
        assert!(error_status("r.status_code == 429"));
        assert!(error_status("resp.status >= 500"));
        assert!(error_status("r.status_code != 200"));
        assert!(error_status("not r.ok"));
        assert!(error_status("r.status_code == 429 or r.status_code == 503"));
        assert!(!error_status("r.status_code == 200"), "the success branch");
        assert!(
            !error_status("r.status_code != 404"),
            "taken on success too"
        );
        assert!(!error_status("count == 429"), "not a status");
    }
}
