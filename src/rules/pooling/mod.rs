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
use crate::facts::collect::{ExprKinds, LocalContext, SharedHook};
use crate::facts::marks::Mark;
use crate::facts::{Call, FuncId, ModuleFacts};
use crate::finding::Finding;
use crate::knowledge::catalog::Effect;
use crate::project::context::{Execution, Site};
use crate::rules::cost::{DEFAULT_LOOP_REPETITIONS, PerCall};
use crate::rules::models::{ChainMemo, memoised_on_chain};

/// The hook PA401, PA402 and PA403 share: it runs once when any of them is enabled.
pub static LAZY_INIT_HOOK: SharedHook = SharedHook {
    code: HOOK_CODE,
    stmt: mark_lazy_init,
    expr: |_, _| {},
    exprs: ExprKinds::NONE,
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
    // Most assignments are guarded by no test at all.
    if cx.guards().next().is_none() {
        return;
    }
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
/// afterwards: not kept on an attribute or in a container, not a lazy initialisation, not in a
/// memoised function (`@functools.cache`), not below a call whose result is kept per key.
pub fn creation_execution(
    cx: &RuleContext,
    module: usize,
    call: &Call,
    lazy: &HashSet<(FuncId, u32)>,
) -> Option<Execution> {
    let kept = cx.project.modules[module]
        .assigned_to(call)
        .is_some_and(|t| t.contains('.') || t.contains('['));
    if kept
        || lazy.contains(&(call.func, call.line))
        || cx.project.memoised_by(module, call.func).is_some()
    {
        return None;
    }
    let exec = cx.project.request_execution(&Site::call(module, call))?;
    // Made inside a constructor or helper whose every caller keeps the result once per key
    // (`if token not in self.bots: self.bots[token] = Bot(token)`): not per request.
    match memoised_on_chain(cx, &exec) {
        ChainMemo::Kept { .. } => None,
        _ => Some(exec),
    }
}

/// For a message: the caller that makes a creation below a kept call run on every call anyway
/// (`"; `Pool.get` keeps what `Pool._build` returns, but ..."`), or nothing.
pub fn bypass_note(cx: &RuleContext, exec: &Execution) -> String {
    memoised_on_chain(cx, exec)
        .bypass_note()
        .map(|n| format!("; {n}"))
        .unwrap_or_default()
}

/// What a function does, after creating something, with what it created: the catalog calls
/// made on the same name later in the same function (`conn.commit()` after
/// `conn = sqlite3.connect(...)`, `sock.recv_json()` after `sock = ctx.socket(...)`), each
/// costed for its own arguments and worst case (a receive's `RCVTIMEO`), and, for a creation
/// used as a `with` block, the method the block's end calls (`exit` in the catalog: sqlite3
/// commits) unless every statement run on it is a literal `SELECT` (calls on what those
/// return, `fetchall()`, run none of their own). `skip` holds calls costed
/// otherwise (the other creations of a socket).
pub fn follow_on(
    cx: &RuleContext,
    mi: usize,
    m: &ModuleFacts,
    creation: &Call,
    skip: &[&Call],
) -> Vec<(String, PerCall)> {
    let plain = |n: &&crate::facts::Name| n.chars().all(|c| c.is_alphanumeric() || c == '_');
    let Some(name) = m
        .assigned_to(creation)
        .filter(plain)
        .or(creation.with_as().filter(plain))
    else {
        return Vec::new();
    };
    let prefix = format!("{name}.");
    let after = |c: &Call| (c.line, c.column) > (creation.line, creation.column);
    // Calls on the name, and calls on what those return (`conn.execute(...).fetchall()`):
    // calls are recorded after their receiver, so one pass in order finds both.
    let mut on_it: Vec<usize> = Vec::new();
    for (i, c) in m.calls.iter().enumerate() {
        if c.func != creation.func || !after(c) || skip.iter().any(|s| std::ptr::eq(*s, c)) {
            continue;
        }
        let on_name = c.text.starts_with(&prefix);
        let on_result = c
            .receiver_call()
            .is_some_and(|r| on_it.contains(&(r as usize)));
        if on_name || on_result {
            on_it.push(i);
        }
    }
    let on_it: Vec<&Call> = on_it.into_iter().map(|i| &m.calls[i]).collect();
    let mut out: Vec<(String, PerCall)> = on_it
        .iter()
        .filter_map(|c| {
            let entry = cx.catalog.get(c.api?);
            if entry.effect == Effect::Local {
                return None;
            }
            let per = crate::rules::call_cost(cx, mi, c, entry);
            // In a loop that the creation is not in (`for url in urls: session.get(url)`): the
            // loop rule, its literal bound or the default repetition.
            if c.loop_depth > creation.loop_depth {
                let (n, shown) = match (c.loop_bound(), creation.loop_depth) {
                    (Some(b), 0) => (f64::from(b), b.to_string()),
                    _ => (DEFAULT_LOOP_REPETITIONS, "n (unknown, ×10)".to_owned()),
                };
                return Some((
                    format!("{} × {shown} in a loop", per.label(&entry.name)),
                    per.times(n),
                ));
            }
            Some((per.label(&entry.name), per))
        })
        .collect();
    let exit = creation
        .api
        .and_then(|a| cx.catalog.get(a).exit.as_deref())
        .and_then(|e| cx.catalog.lookup(e));
    // The statements run on it (`execute("...")`): a commit of reads only writes nothing.
    let statements: Vec<&str> = on_it
        .iter()
        .filter_map(|c| m.str_arg(c).map(|n| n.as_str()))
        .collect();
    let reads_only = !statements.is_empty()
        && on_it
            .iter()
            .all(|c| m.str_arg(c).is_some() || c.receiver_call().is_some())
        && statements
            .iter()
            .all(|q| q.trim_start().to_ascii_uppercase().starts_with("SELECT"));
    if let Some(exit) = exit
        && creation.with_as().is_some()
        && !on_it.is_empty()
        && !reads_only
    {
        let entry = cx.catalog.get(exit);
        let text = format!("`{}` at the end of its `with` block", entry.name);
        out.push((text, PerCall::entry(entry)));
    }
    out
}

/// How deep `submitted_work` follows calls from the callable a pool is handed.
const TASK_DEPTH: usize = 3;

/// The work a pool made per request is handed (`pool.map(fn, ...)`, `pool.submit(fn, ...)`,
/// a lambda or a function): the catalog calls of one task, outside `except` handlers,
/// following project calls up to `TASK_DEPTH` deep. Leaving the pool's `with` block waits for
/// every task; they run in parallel, so the wait is at least one task's.
pub fn submitted_work(
    cx: &RuleContext,
    module: usize,
    creation: &Call,
) -> Option<(String, PerCall)> {
    use crate::project::resolve::{FnRef, Target};
    let m = &cx.project.modules[module];
    let name = creation
        .with_as()
        .or(m.assigned_to(creation))
        .filter(|n| n.chars().all(|c| c.is_alphanumeric() || c == '_'))?;
    let (map, submit) = (format!("{name}.map"), format!("{name}.submit"));
    let mut starts: Vec<FnRef> = Vec::new();
    for c in m.calls.iter().filter(|c| {
        c.func == creation.func && c.line >= creation.line && (c.text == map || c.text == submit)
    }) {
        for (i, f) in m.functions.iter().enumerate() {
            if f.kind == crate::facts::FnKind::Lambda
                && f.parent == Some(creation.func)
                && f.line == c.line
            {
                starts.push(FnRef {
                    module: module as u32,
                    func: i as FuncId,
                });
            }
        }
        for (target, res) in m.callable_args(c) {
            if *res == crate::facts::Resolution::Unresolved {
                continue;
            }
            if let Some((Target::Function(fr), _)) = cx.project.resolver.resolve(target) {
                starts.push(fr);
            }
        }
    }
    let graph = &cx.project.graph;
    let mut seen: Vec<u32> = Vec::new();
    let mut stack: Vec<(u32, usize)> = starts.iter().map(|f| (graph.id(*f), 0)).collect();
    let mut parts: Vec<(String, PerCall)> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    while let Some((node, depth)) = stack.pop() {
        if seen.contains(&node) {
            continue;
        }
        seen.push(node);
        let fr = graph.node(node);
        let fm = &cx.project.modules[fr.module as usize];
        for c in fm
            .calls
            .iter()
            .filter(|c| c.func == fr.func && !c.in_except())
        {
            let Some(api) = c.api else { continue };
            let entry = cx.catalog.get(api);
            if entry.effect == Effect::Local {
                continue;
            }
            let per = crate::rules::call_cost(cx, fr.module as usize, c, entry);
            names.push(per.label(&entry.name));
            parts.push((String::new(), per));
        }
        if depth < TASK_DEPTH {
            for e in graph.edges_from(node) {
                if crate::project::graph::Graph::is_call(e) {
                    stack.push((e.to, depth + 1));
                }
            }
        }
    }
    if parts.is_empty() {
        return None;
    }
    let none = PerCall {
        low_ms: 0.0,
        high_ms: 0.0,
        what: String::new(),
        source: String::new(),
        worst: crate::rules::cost::Worst::Unstated,
        retry: None,
    };
    let mut task = none.then(&parts);
    task.source = task.source.trim_start_matches("; ").to_owned();
    names.dedup();
    Some((
        format!(
            "the wait at the end of its `with` for one task ({})",
            names.join(" + ")
        ),
        task,
    ))
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
        let mut then = follow_on(cx, mi, m, call, &[]);
        if effect == Effect::Executor {
            then.extend(submitted_work(cx, mi, call));
        }
        let per = crate::rules::call_cost(cx, mi, call, entry).then(&then);
        let cost = Costed::latency(&per, &exec);
        let func = &m.functions[call.func as usize].qualname;
        let mut range = cost.range();
        if !then.is_empty() {
            let names: Vec<&str> = then.iter().map(|(t, _)| t.as_str()).collect();
            range.push_str(&format!(
                " with what it then does with it: {}",
                names.join(", ")
            ));
        }
        let (mut message, help) = say(func, call, exec.phrase(), &range);
        message.push_str(&bypass_note(cx, &exec));
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
