//! Worst cases the code states, beyond a call's own `timeout=`: the receive timeout of a ZMQ
//! socket (`sock.setsockopt(zmq.RCVTIMEO, 15000)` or `sock.RCVTIMEO = 15000`) set before a
//! blocking receive on the same socket, and retry loops (a `for` loop over a literal
//! `range(n)` that exits on success and sleeps between attempts).
//!
//! The collector notes both while it walks; `resolve_waits` turns them into `Call` facts once
//! call targets (and so the catalog entries and literal sleep durations) are known.

use std::ops::Range;

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use super::collect::Collector;
use super::names::{dotted_name, number_literal};
use super::{FuncId, Retry};
use crate::knowledge::catalog::Effect;

/// A receive timeout set on a socket.
#[derive(Debug, Clone)]
pub(super) struct RecvTimeout {
    func: FuncId,
    /// The socket as source text (`sock`, `self.socket`).
    receiver: String,
    line: u32,
    /// Milliseconds; `None` for `-1` (wait for ever).
    ms: Option<f64>,
}

/// A `for` loop over a literal `range(n)` whose body can exit early (`break`, `return`).
#[derive(Debug, Clone)]
pub(super) struct RetryLoop {
    func: FuncId,
    attempts: u32,
    /// The calls recorded in its body.
    calls: Range<usize>,
}

impl Collector<'_> {
    /// The value a duration argument states: a literal, a module-level numeric constant, or
    /// `self.NAME` where the class body gives `NAME` a literal (or a configurable trait's literal
    /// default, `Float(0.5)`) and no method seen so far stores `self.NAME`. A parameter's
    /// default is not taken: callers may pass another.
    pub(super) fn stated_number(&self, e: &Expr) -> Option<f64> {
        if let Some(n) = number_literal(e) {
            return Some(n);
        }
        match e {
            Expr::Name(n) => self.numbers.get(n.id.as_str()).copied(),
            Expr::Attribute(a) if matches!(&*a.value, Expr::Name(b) if b.id.as_str() == "self") => {
                let class = self.method_class(self.func)?;
                let attr = a.attr.id.as_str();
                let n = *self.class_numbers.get(&class)?.get(attr)?;
                (!self.implicit_stores(class, attr)).then_some(n)
            }
            _ => None,
        }
    }

    /// `NAME = 0.5` or `NAME = Float(0.5)` (a wrapper in `contexts.toml` `default_wrappers`,
    /// its first argument or `default_value=`) in a class body: what `self.NAME` states.
    pub(super) fn note_class_number(&mut self, targets: &[Expr], value: &Expr) {
        let (Some(class), true) = (self.class, self.class_body_func == Some(self.func)) else {
            return;
        };
        let [Expr::Name(n)] = targets else { return };
        // `Float(0.5).tag(config=True)`: a method chained on the wrapper returns the trait.
        let mut value = value;
        while let Expr::Call(c) = value
            && let Expr::Attribute(a) = &*c.func
            && matches!(&*a.value, Expr::Call(_))
        {
            value = &a.value;
        }
        let v = number_literal(value).or_else(|| {
            let Expr::Call(c) = value else { return None };
            let callee = dotted_name(&c.func)?;
            let resolved = super::names::through_imports(&self.imports, &callee);
            if !self.patterns.default_wrappers.contains(&resolved) {
                return None;
            }
            c.arguments
                .args
                .first()
                .and_then(number_literal)
                .or_else(|| {
                    c.arguments
                        .keywords
                        .iter()
                        .find(|k| {
                            k.arg
                                .as_ref()
                                .is_some_and(|a| a.id.as_str() == "default_value")
                        })
                        .and_then(|k| number_literal(&k.value))
                })
        });
        if let Some(v) = v {
            self.class_numbers
                .entry(class)
                .or_default()
                .insert(n.id.to_string(), v);
        }
    }

    /// The value of a numeric expression when the code states it: a literal, a module-level
    /// numeric constant, or a parameter of the current function with a literal default.
    pub(super) fn number_value(&self, e: &Expr) -> Option<f64> {
        if let Some(n) = number_literal(e) {
            return Some(n);
        }
        let Expr::Name(n) = e else { return None };
        let name = n.id.as_str();
        self.param_numbers
            .get(&(self.func, name.to_owned()))
            .or_else(|| self.numbers.get(name))
            .copied()
    }

    /// `sock.setsockopt(zmq.RCVTIMEO, 15000)`: notes the receive timeout of `sock`.
    pub(super) fn note_setsockopt(&mut self, call: &ast::ExprCall, callee: &str, line: u32) {
        let Some(receiver) = callee.strip_suffix(".setsockopt") else {
            return;
        };
        let [opt, value, ..] = &call.arguments.args[..] else {
            return;
        };
        if dotted_name(opt).is_none_or(|n| n.rsplit('.').next() != Some("RCVTIMEO")) {
            return;
        }
        if let Some(ms) = self.number_value(value) {
            self.recv_timeouts.push(RecvTimeout {
                func: self.func,
                receiver: receiver.to_owned(),
                line,
                ms: (ms >= 0.0).then_some(ms),
            });
        }
    }

    /// `sock.RCVTIMEO = 15000` (pyzmq's option attributes, any case).
    pub(super) fn note_option_assign(&mut self, target: &Expr, value: &Expr) {
        let Expr::Attribute(a) = target else { return };
        if !a.attr.id.as_str().eq_ignore_ascii_case("rcvtimeo") {
            return;
        }
        let Some(ms) = self.number_value(value) else {
            return;
        };
        let receiver = self.source[a.value.range()].to_owned();
        let line = self.loc(target.range()).0;
        self.recv_timeouts.push(RecvTimeout {
            func: self.func,
            receiver,
            line,
            ms: (ms >= 0.0).then_some(ms),
        });
    }

    /// A `for` loop's body has been visited: notes it as a retry loop when it iterates a
    /// literal `range(n)` and can exit early.
    pub(super) fn note_retry_loop(&mut self, f: &ast::StmtFor, bound: Option<u32>, start: usize) {
        let Some(attempts) = bound.filter(|n| *n > 1) else {
            return;
        };
        if exits_early(&f.body, true) {
            self.retry_loops.push(RetryLoop {
                func: self.func,
                attempts,
                calls: start..self.facts.calls.len(),
            });
        }
    }

    /// Once targets are resolved: the receive timeout of each blocking receive, and the retry
    /// loop (attempts and the pauses between them) around each call.
    pub(super) fn resolve_waits(&mut self) {
        for i in 0..self.facts.calls.len() {
            let c = &self.facts.calls[i];
            let Some(api) = c.api else { continue };
            if !self.catalog.get(api).rcvtimeo || c.nonblocking() {
                continue;
            }
            let text = &self.raw[i].callee.text;
            let Some((receiver, _)) = text.rsplit_once('.') else {
                continue;
            };
            let class = self.facts.functions[c.func as usize].class;
            // The latest setting before the receive in its function, else one on `self.` in
            // another method of the same class.
            let set = self
                .recv_timeouts
                .iter()
                .filter(|t| t.receiver == receiver)
                .filter(|t| {
                    (t.func == c.func && t.line <= c.line)
                        || (receiver.starts_with("self.")
                            && t.func != c.func
                            && class.is_some()
                            && self.facts.functions[t.func as usize].class == class)
                })
                .max_by_key(|t| (t.func == c.func, t.line));
            if let Some(t) = set {
                self.facts.calls[i].extra_mut().recv_timeout_s =
                    Some(t.ms.map_or(-1.0, |ms| ms / 1000.0));
            }
        }
        // Inner loops are noted first (they close first): the innermost retry loop wins.
        for l in &self.retry_loops {
            let backoff_s: f64 = self.facts.calls[l.calls.clone()]
                .iter()
                .filter(|c| c.func == l.func)
                .filter(|c| {
                    c.api
                        .is_some_and(|a| self.catalog.get(a).effect == Effect::Sleep)
                })
                .filter_map(|c| c.seconds())
                .filter(|s| *s > 0.0)
                .sum();
            if backoff_s <= 0.0 {
                continue;
            }
            for c in &mut self.facts.calls[l.calls.clone()] {
                if c.func == l.func && c.retry().is_none() {
                    c.extra_mut().retry = Some(Retry {
                        attempts: l.attempts,
                        backoff_s,
                    });
                }
            }
        }
    }
}

/// Whether `body` can leave its loop early: a `return`, or a `break` of this loop (not of a
/// loop nested in it), outside nested functions and classes.
fn exits_early(body: &[Stmt], own_loop: bool) -> bool {
    body.iter().any(|s| match s {
        Stmt::Return(_) => true,
        Stmt::Break(_) => own_loop,
        Stmt::If(i) => {
            exits_early(&i.body, own_loop)
                || i.elif_else_clauses
                    .iter()
                    .any(|c| exits_early(&c.body, own_loop))
        }
        Stmt::Try(t) => {
            exits_early(&t.body, own_loop)
                || t.handlers.iter().any(|h| {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    exits_early(&h.body, own_loop)
                })
                || exits_early(&t.orelse, own_loop)
                || exits_early(&t.finalbody, own_loop)
        }
        Stmt::With(w) => exits_early(&w.body, own_loop),
        Stmt::For(f) => exits_early(&f.body, false) || exits_early(&f.orelse, own_loop),
        Stmt::While(w) => exits_early(&w.body, false) || exits_early(&w.orelse, own_loop),
        Stmt::Match(m) => m.cases.iter().any(|c| exits_early(&c.body, own_loop)),
        _ => false,
    })
}
