//! Call records: every call site of the module with the local context it was made in (loop
//! depth, receive loop, `with`, `await`, literal arguments, callables passed by reference).
//!
//! A call is recorded after its children (post-order), unresolved; `bindings.rs` resolves its
//! target once the walk is over. Nothing here consults the catalog or other modules.

use std::num::NonZeroU32;

use ruff_python_ast::visitor::Visitor;
use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::{Ranged, TextSize};

use super::collect::Collector;
use super::names::{
    Base, Dotted, dotted, dotted_name, is_dotted, is_literal, number_literal, through_imports,
    truncate,
};
use super::{
    ByCall, Call, CallExtra, CallFlags, CallableArgs, FAR, FuncId, NO_CALL, Name, Resolution,
    near_end,
};
use crate::knowledge::contexts::{ContextPatterns, last_segment, split_last};

pub(super) struct RawCall {
    pub callee: Dotted,
    /// Takes the next item of work from the queue its first argument names
    /// (`heapq.heappop(self.jobs)`): a loop around it is a worker loop.
    pub takes_work: bool,
    /// Bindings visible at the call: (function, name) -> binding index at the time.
    pub binding_mark: usize,
    /// Where the call starts in the source: the same place as its line and column, without
    /// a line lookup.
    pub start: TextSize,
    /// A keyword of the catalog's `unless_keyword` the call passes, and the call that builds
    /// its value in place (`NO_CALL` when the value is not built there).
    pub handed: Option<(u8, u32)>,
    /// What only some calls have, kept here while the module is collected and moved beside
    /// the call records at its end (`facts/by_call.rs`): the first string literal, the name
    /// the result is bound to, the callables passed by reference.
    pub str_arg: Option<Name>,
    pub assigned_to: Option<Name>,
    pub callable_args: Vec<(Name, Resolution)>,
}

impl<'a> Collector<'a> {
    /// Moves what only some calls have beside the call records (`facts/by_call.rs`), once
    /// nothing in the walk changes it any more.
    pub(super) fn finish_calls(&mut self) {
        let raw = &mut self.raw;
        self.facts.str_args = ByCall::from_calls(raw.iter_mut().map(|r| r.str_arg.take()));
        self.facts.assigned = ByCall::from_calls(raw.iter_mut().map(|r| r.assigned_to.take()));
        self.facts.callables =
            CallableArgs::from_calls(raw.iter_mut().map(|r| &mut r.callable_args));
    }

    /// Marks calls recorded since `start` in the current function as inside a receive loop when
    /// one of them receives work.
    pub(super) fn close_loop(&mut self, start: usize, cand_start: usize, iter_receives: bool) {
        let func = self.func;
        let receives = iter_receives
            || self.facts.calls[start..]
                .iter()
                .zip(&self.raw[start..])
                .any(|(c, r)| c.func == func && (r.takes_work || self.receives(&r.callee.text)));
        if receives {
            // What the loop receives from (`self.queue` of `self.queue.get()`): a `put` back
            // onto it feeds the loop itself and answers nobody (`ContextPatterns::answers`).
            let sources: Vec<&str> = self.facts.calls[start..]
                .iter()
                .zip(&self.raw[start..])
                .filter(|(c, r)| c.func == func && self.receives(&r.callee.text))
                .filter_map(|(_, r)| split_last(&r.callee.text, b'.').map(|(head, _)| head))
                .collect();
            let replies = self.facts.calls[start..]
                .iter()
                .zip(&self.raw[start..])
                .any(|(c, r)| c.func == func && self.patterns.answers(&r.callee.text, &sources));
            // A `for` loop over received messages is the request loop itself, not a repetition
            // within a request.
            let outer = u8::from(iter_receives);
            for c in &mut self.facts.calls[start..] {
                if c.func == func {
                    c.flag_if(CallFlags::IN_RECV_LOOP, true);
                    c.flag_if(CallFlags::RECV_REPLIES, replies);
                    c.loop_depth = c.loop_depth.saturating_sub(outer);
                }
            }
            for c in &mut self.facts.candidates[cand_start..] {
                if c.func == func {
                    c.flag_if(CallFlags::IN_RECV_LOOP, true);
                    c.flag_if(CallFlags::RECV_REPLIES, replies);
                    c.loop_depth = c.loop_depth.saturating_sub(outer);
                }
            }
        }
    }

    /// Whether a call (its callee text) takes work: a receive method, or a helper of this
    /// module that calls one (`self._receive()`, `_next_job()`).
    pub(super) fn receives(&self, text: &str) -> bool {
        if self.patterns.is_receive(text, text) {
            return true;
        }
        let (head, method) = split_last(text, b'.').unwrap_or(("", text));
        matches!(head, "" | "self" | "cls") && self.receive_helpers.contains(method)
    }

    pub(super) fn visit_call(&mut self, call: &'a ast::ExprCall) {
        // Children first: the callee chain (which may hold an inner call) and the arguments.
        let before = self.facts.calls.len();
        let funcs_before = self.facts.functions.len();
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
        let mut handed = None;
        for kw in call.arguments.keywords.iter() {
            let calls_before = self.facts.calls.len();
            self.visit_expr(&kw.value);
            if handed.is_none()
                && let Some(k) = kw.arg.as_ref()
                && let Some(k) = self.catalog.unless_keyword_index(k.id.as_str())
            {
                // A value built in place is the last call its walk recorded.
                handed = match &kw.value {
                    Expr::Call(_) if self.facts.calls.len() > calls_before => {
                        Some((k, self.facts.calls.len() as u32 - 1))
                    }
                    Expr::Call(_) => None,
                    _ => Some((k, NO_CALL)),
                };
            }
        }
        let mut callee = dotted(&call.func, inner);
        // `(Path(__file__).parent / "x").read_text()`: the receiver's type went through an
        // operator or an attribute, not a call the resolver can follow.
        if callee.base != Base::Name
            && let Expr::Attribute(a) = &*call.func
            && let Some(t) = self.operator_type(&a.value)
        {
            callee = Dotted {
                base: Base::Typed,
                text: format!("{t}.{}", a.attr.id),
            };
        }
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
                                "model"
                                    | "model_name"
                                    | "model_path"
                                    | "name"
                                    | "path"
                                    | "pattern"
                                    | "url"
                            )
                        })
                    })
                    .and_then(|k| self.literal_hint(&k.value, 0))
            })
            .map(|s| Name::from(truncate(&s, 120)));
        // The parameter of the enclosing function passed on as the first argument (or `url=`):
        // its callers' arguments say what the call receives (`fetch(url)` in `def get(url)`).
        let url_param = first
            .or_else(|| super::names::keyword(call, "url"))
            .and_then(|a| match a {
                Expr::Name(n) => self.facts.functions[self.func as usize]
                    .params
                    .iter()
                    .position(|p| p == n.id.as_str())
                    .and_then(|i| u8::try_from(i).ok()),
                _ => None,
            });
        let has_timeout =
            call.arguments.keywords.iter().any(|k| {
                k.arg.as_ref().is_some_and(|a| a.id.as_str() == "timeout") || k.arg.is_none()
            });
        let timeout_s = call
            .arguments
            .keywords
            .iter()
            .find(|k| k.arg.as_ref().is_some_and(|a| a.id.as_str() == "timeout"))
            .and_then(|k| match &k.value {
                Expr::Tuple(t) => t.elts.iter().map(number_literal).sum(),
                v => number_literal(v),
            })
            .filter(|s| *s > 0.0);
        // A literal zero timeout (`poller.poll(0)`, `timeout=0`) returns at once.
        let zero = |e: &Expr| number_literal(e) == Some(0.0);
        // Both lists below are asked only for a call ending like one of their entries.
        let last = callee.last();
        let listed = self.listed_lasts.contains(&last);
        let zero_timeout = listed
            && self
                .patterns
                .zero_timeout_index(&callee.text, || {
                    through_imports(&self.imports, &callee.text)
                })
                .and_then(|i| call.arguments.args.get(i))
                .is_some_and(zero)
            || call.arguments.keywords.iter().any(|k| {
                k.arg.as_ref().is_some_and(|a| a.id.as_str() == "timeout") && zero(&k.value)
            });
        let nonblocking = zero_timeout
            || call.arguments.args.iter().any(|a| self.nonblocking_arg(a))
            || call.arguments.keywords.iter().any(|k| {
                k.arg.as_ref().is_some_and(|a| {
                    self.patterns
                        .nonblocking_keywords
                        .iter()
                        .any(|n| n == a.id.as_str())
                }) && matches!(
                    k.value,
                    Expr::BooleanLiteral(ast::ExprBooleanLiteral { value: false, .. })
                )
            });
        // Sized for the arguments below that may be callables, so that the common case
        // allocates once and the boxed slice needs no shrinking.
        let maybe_callables = call
            .arguments
            .args
            .iter()
            .filter(|a| matches!(a, Expr::Name(_) | Expr::Attribute(_) | Expr::Lambda(_)));
        let mut callable_args = Vec::with_capacity(maybe_callables.count());
        // `f(partial(g, x))` passes `g`: the callables of a `functools.partial(...)` argument
        // move to this call (so `run_in_executor(None, partial(g, x))` offloads `g`, and the
        // `partial` call itself makes no call of `g`).
        for arg in call.arguments.args.iter() {
            if let Expr::Call(inner) = arg
                && is_partial(&inner.func)
                && let Some(i) = self.recorded_call(before, inner.start(), Last)
            {
                callable_args.append(&mut self.raw[i].callable_args);
            }
        }
        // Lambdas passed as arguments, in order: the `<lambda>` functions this call's
        // arguments defined (their parent is the current function).
        let mut lambdas = (funcs_before..self.facts.functions.len()).filter(|&i| {
            let f = &self.facts.functions[i];
            f.kind == super::FnKind::Lambda && f.parent == Some(self.func)
        });
        for arg in call.arguments.args.iter() {
            if matches!(arg, Expr::Name(_) | Expr::Attribute(_))
                && let Some(n) = dotted_name(arg)
            {
                callable_args.push((n.into(), Resolution::Unresolved));
            } else if matches!(arg, Expr::Lambda(_))
                && let Some(id) = lambdas.next()
            {
                callable_args.push((super::lambda_ref(id as FuncId).into(), Resolution::Local));
            }
        }
        for kw in call.arguments.keywords.iter() {
            if kw.arg.as_ref().is_some_and(|a| {
                self.patterns
                    .callable_keywords
                    .iter()
                    .any(|k| k == a.id.as_str())
            }) && let Some(n) = dotted_name(&kw.value)
            {
                callable_args.push((n.into(), Resolution::Unresolved));
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
        .map(|h| Name::from(truncate(&h, 120)));
        let text = Name::from(callee.text.as_str());
        let mut flags = CallFlags::default();
        flags.insert_if(CallFlags::HAS_TIMEOUT, has_timeout);
        flags.insert_if(CallFlags::NONBLOCKING, nonblocking);
        flags.insert_if(
            CallFlags::DYNAMIC_FIRST_ARG,
            first.is_some_and(|a| !is_literal(a)),
        );
        let near = near_end(line, end_line, end_column);
        let (end_lines, end_col) = near.unwrap_or((FAR, 0));
        self.facts.calls.push(Call {
            func: self.func,
            target: text.clone(),
            resolution: Resolution::Unresolved,
            line,
            column,
            end_lines,
            end_col,
            api: None,
            loop_depth: self.loop_depth,
            flags,
            extra: CallExtra {
                url_param,
                receiver_hint,
                timeout_s,
                loop_bound: self.loop_bound(),
                receiver_call: inner.and_then(|i| NonZeroU32::new(i.wrapping_add(1))),
                end: if near.is_none() {
                    (end_line, end_column)
                } else {
                    (0, 0)
                },
                ..CallExtra::default()
            }
            .boxed(),
            text,
        });
        self.note_dest_arg(call, self.facts.calls.len() as u32 - 1);
        self.note_setsockopt(call, &callee.text, line);
        self.note_append(call);
        self.note_dispatch(call);
        // Keep the literal numeric arguments for sleep-like calls until resolution.
        let mut nums = [None; 4];
        for (n, a) in nums.iter_mut().zip(call.arguments.args.iter()) {
            *n = self.stated_number(a);
        }
        let kw_secs = call
            .arguments
            .keywords
            .iter()
            .find(|k| {
                k.arg
                    .as_ref()
                    .is_some_and(|a| matches!(a.id.as_str(), "secs" | "seconds" | "delay"))
            })
            .and_then(|k| self.stated_number(&k.value));
        self.numeric_args.push((nums, kw_secs));
        let takes_work = listed
            && self.patterns.takes_from_queue(
                &callee.text,
                || through_imports(&self.imports, &callee.text),
                || first.and_then(dotted_name),
            );
        self.raw.push(RawCall {
            takes_work,
            callee,
            binding_mark: self.bindings.len(),
            start: call.start(),
            handed,
            str_arg,
            assigned_to: None,
            callable_args,
        });
    }

    /// The index of a call recorded at or after `from` in the current function that starts
    /// at `start`: the first such call or the last. A call and a call on its result start at
    /// the same place (`a.b().c()`), as their line and column do. The call being recorded
    /// (its record pushed, its raw part not yet) is not looked at: no argument of a call
    /// starts where the call does.
    pub(super) fn recorded_call(
        &self,
        from: usize,
        start: TextSize,
        which: Which,
    ) -> Option<usize> {
        let func = self.func;
        let at = |i: &usize| self.facts.calls[*i].func == func && self.raw[*i].start == start;
        let mut range = from..self.raw.len();
        match which {
            Which::First => range.find(at),
            Which::Last => range.rfind(at),
        }
    }

    /// Whether a positional argument names a flag that makes the call return at once
    /// (`zmq.NOBLOCK`). The resolved name's last segment is compared first: most arguments
    /// name no such flag, and building and resolving their text would be the whole cost.
    fn nonblocking_arg(&self, arg: &Expr) -> bool {
        let last = match arg {
            Expr::Attribute(a) => a.attr.id.as_str(),
            Expr::Name(n) => {
                let id = n.id.as_str();
                last_segment(self.imports.get(id).map_or(id, String::as_str))
            }
            _ => return false,
        };
        let flags = &self.patterns.nonblocking_args;
        self.patterns.may_be_nonblocking_arg(last)
            && dotted_name(arg).is_some_and(|n| flags.contains(&through_imports(&self.imports, &n)))
    }

    /// The index of the call that `value` is, if it is a call (recorded last, post-order).
    pub(super) fn value_call(&self, value: &Expr, before: usize) -> Option<u32> {
        let v = match value {
            Expr::Await(a) => &*a.value,
            v => v,
        };
        (matches!(v, Expr::Call(_)) && self.facts.calls.len() > before)
            .then(|| self.facts.calls.len() as u32 - 1)
    }
}

/// Which of several recorded calls starting at the same place [`Collector::recorded_call`]
/// gives.
#[derive(Clone, Copy)]
pub(super) enum Which {
    First,
    Last,
}

use Which::Last;

/// `partial` or `x.partial` (`functools.partial`), without writing the name out.
fn is_partial(func: &Expr) -> bool {
    match func {
        Expr::Name(n) => n.id.as_str() == "partial",
        Expr::Attribute(a) => a.attr.id.as_str() == "partial" && is_dotted(func),
        _ => false,
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

/// How many times `byte` occurs in `bytes`, counted in blocks small enough for a byte-wide
/// counter (which the compiler turns into vector compares).
pub(super) fn count_byte(bytes: &[u8], byte: u8) -> usize {
    let mut blocks = bytes.chunks_exact(255);
    let mut n = 0;
    for block in &mut blocks {
        n += usize::from(
            block
                .iter()
                .fold(0u8, |acc, &b| acc.wrapping_add(u8::from(b == byte))),
        );
    }
    n + blocks.remainder().iter().filter(|&&b| b == byte).count()
}

/// The last segments of the names in `zero_timeouts` (`name:index`) and `queue_functions`.
pub(super) fn listed_lasts(patterns: &ContextPatterns) -> Vec<&str> {
    let zero = patterns
        .zero_timeouts
        .iter()
        .map(|e| split_last(e, b':').map_or(e.as_str(), |(name, _)| name));
    let queue = patterns.queue_functions.iter().map(String::as_str);
    zero.chain(queue).map(last_segment).collect()
}

#[cfg(test)]
mod tests {
    use super::count_byte;

    #[test]
    fn count_byte_counts_across_blocks() {
        for len in [0, 1, 254, 255, 256, 510, 1000] {
            let bytes: Vec<u8> = (0..len)
                .map(|i| if i % 3 == 0 { b'(' } else { b'x' })
                .collect();
            let want = bytes.iter().filter(|&&b| b == b'(').count();
            assert_eq!(count_byte(&bytes, b'('), want, "{len}");
        }
        // A block of 255 matches does not wrap the byte-wide counter.
        assert_eq!(count_byte(&[b'('; 255], b'('), 255);
    }
}
