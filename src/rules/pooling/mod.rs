//! Pooling (PA4xx): clients, sockets and worker pools that are built per request and thrown
//! away, instead of being created once and reused.
//!
//! A creation is per request when it runs in a per-request context and its result is not kept
//! for later requests: stored on an attribute or in a container (`self.client = ...`), or
//! assigned under a test of the name it assigns (`if _session is None: _session = ...`). The
//! AST-level half of each rule marks those lazy initialisations; the project half skips them.

pub mod client_per_request;
pub mod executor_per_call;
pub mod requests_without_session;
pub mod socket_per_request;

use std::collections::HashSet;

use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::Ranged;

use super::emit::{Costed, Hotspot};
use super::{RuleContext, RuleMeta, catalog_calls};
use crate::facts::collect::{LocalContext, SharedHook};
use crate::facts::marks::Mark;
use crate::facts::{Call, FuncId, ModuleFacts};
use crate::finding::Finding;
use crate::knowledge::catalog::Effect;
use crate::project::context::{Execution, Site};
use crate::rules::cost::PerCall;

/// The hook PA401, PA402 and PA403 share: it runs once when any of them is enabled.
pub static LAZY_INIT_HOOK: SharedHook = SharedHook {
    code: HOOK_CODE,
    stmt: mark_lazy_init,
    expr: |_, _| {},
    finish: |_, _| {},
};

/// The code of the shared hook's candidates.
const HOOK_CODE: &str = "lazy-init";

/// Marks an assignment guarded by a test of its own target (a lazy initialisation) as a
/// candidate that the rule's `check` reads as "kept for reuse", never as a finding.
fn mark_lazy_init(stmt: &Stmt, cx: &mut LocalContext) {
    let target = match stmt {
        Stmt::Assign(a) if a.targets.len() == 1 => &a.targets[0],
        Stmt::AnnAssign(a) if a.value.is_some() => &*a.target,
        _ => return,
    };
    // `self._pools[key] = ...` is guarded by a test of `self._pools`.
    let base = match target {
        Expr::Subscript(s) => &*s.value,
        t => t,
    };
    let name = cx.source_text(base.range()).to_owned();
    if name.is_empty() || !cx.guards().any(|g| mentions(g, &name)) {
        return;
    }
    cx.report(stmt.range(), Mark::LazyInit);
}

/// Whether `text` mentions `name` as a whole identifier path.
fn mentions(text: &str, name: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(|c| ident(c) || c == '.') && !after.is_some_and(ident)
    })
}

/// The (function, line) pairs of the lazy-initialisation markers in a module.
pub fn lazy_inits(m: &ModuleFacts) -> HashSet<(FuncId, u32)> {
    m.candidates
        .iter()
        .filter(|c| c.code == HOOK_CODE && c.mark == Mark::LazyInit)
        .map(|c| (c.func, c.line))
        .collect()
}

/// The per-request execution in which `call` creates something that is thrown away
/// afterwards: not kept on an attribute or in a container, not a lazy initialisation.
pub fn creation_execution(
    cx: &RuleContext,
    module: usize,
    call: &Call,
    lazy: &HashSet<(FuncId, u32)>,
) -> Option<Execution> {
    let kept = call
        .assigned_to
        .as_deref()
        .is_some_and(|t| t.contains('.') || t.contains('['));
    if kept || lazy.contains(&(call.func, call.line)) {
        return None;
    }
    cx.project.request_execution(&Site::call(module, call))
}

/// The message and help for a creation, given the enclosing function's name, the call, where
/// it runs (`on every request`) and its cost.
pub type SayCreation<'a> = &'a dyn Fn(&str, &Call, &str, &str) -> (String, String);

/// Reports calls of one catalog effect that build a client or pool per request and throw it
/// away, with `say` giving the message (from the call, the execution phrase and the cost) and
/// the help.
pub fn report_creations(
    meta: &'static RuleMeta,
    cx: &RuleContext,
    out: &mut Vec<Finding>,
    effect: Effect,
    say: SayCreation,
) {
    let mut lazy: Option<(usize, HashSet<(FuncId, u32)>)> = None;
    for (mi, m, call, entry) in catalog_calls(cx, |e| e.effect == effect) {
        if lazy.as_ref().is_none_or(|(lm, _)| *lm != mi) {
            lazy = Some((mi, lazy_inits(m)));
        }
        let lazy_sites = &lazy.as_ref().expect("set above").1;
        let Some(exec) = creation_execution(cx, mi, call, lazy_sites) else {
            continue;
        };
        let cost = Costed::latency(&PerCall::of(entry, call), &exec);
        let func = &m.functions[call.func as usize].qualname;
        let (message, help) = say(func, call, exec.phrase(), &cost.range());
        out.push(cx.emit(meta, Hotspot::call(mi, call, &exec, cost), message, help));
    }
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn mentions_whole_names_only() {
        assert!(mentions("_session is None", "_session"));
        assert!(mentions("not self._client", "self._client"));
        assert!(mentions("key not in self._pools", "self._pools"));
        assert!(!mentions("self._session_count > 3", "self._session"));
        assert!(!mentions("other._session is None", "_session"));
    }
}
