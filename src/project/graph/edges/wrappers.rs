//! Offload wrappers: project functions that run a callable they are given on a worker
//! thread, inferred once per project before the edges (calls of them offload their callable
//! arguments like the API does). Read from every module's calls, so the link cache
//! (`graph/links.rs`) counts the set they form in the project's interface.

use super::{Memo, targets};
use crate::facts::{Call, FuncId, ModuleFacts, Name};
use crate::knowledge::contexts::ContextPatterns;
use crate::knowledge::frameworks::Frameworks;
use crate::project::resolve::{FnRef, Resolver, Target};

/// Project functions that run a callable they are given on a worker thread: a function that
/// passes one of its parameters (or a closure of its own that calls one) to an offload API (`loop.run_in_executor(None, fn, *args)`,
/// `asyncio.to_thread(fn)`, `hass.async_add_executor_job(fn)`), or to another such function.
/// Calls of them offload their callable arguments like the API does.
pub(in crate::project::graph) fn offload_wrappers(
    modules: &[ModuleFacts],
    resolver: &Resolver,
    patterns: &ContextPatterns,
    frameworks: &Frameworks,
) -> rustc_hash::FxHashSet<FnRef> {
    // Only a call that passes one of its function's parameters as a callable, or a closure
    // that calls one, can make a wrapper; they are few, so the rounds below walk them, not
    // every call of the project.
    let passing: Vec<(u32, &Call)> = modules
        .iter()
        .enumerate()
        .flat_map(|(mi, m)| {
            let relays = relays(m);
            m.callables.iter().filter_map(move |(ci, args)| {
                let call = &m.calls[ci as usize];
                let f = &m.functions[call.func as usize];
                args.iter()
                    .any(|(text, _)| {
                        f.params.iter().any(|p| p == text)
                            || relays.iter().any(|(p, g)| *p == call.func && *g == text)
                    })
                    .then_some((mi as u32, call))
            })
        })
        .collect();
    // What each such call is does not change between rounds: whether it offloads itself, and
    // else the project functions it may call (asked only once some wrapper is known).
    let direct: Vec<bool> = passing
        .iter()
        .map(|(_, call)| patterns.is_offload(&call.target) || frameworks.is_offload(&call.target))
        .collect();
    let mut callees: Vec<Option<Vec<FnRef>>> = vec![None; passing.len()];
    let mut wrappers: rustc_hash::FxHashSet<FnRef> = Default::default();
    let mut memo = Memo::new(resolver);
    // Each round finds the wrappers of the previous round's; three cover the usual layering.
    for _ in 0..3 {
        let mut added = false;
        for (i, &(mi, call)) in passing.iter().enumerate() {
            let here = FnRef {
                module: mi,
                func: call.func,
            };
            if wrappers.contains(&here) {
                continue;
            }
            let offloads = direct[i]
                || (!wrappers.is_empty()
                    && callees[i]
                        .get_or_insert_with(|| {
                            let found = targets(
                                modules,
                                &mut memo,
                                mi,
                                call.func,
                                &call.target,
                                call.resolution,
                                &call.text,
                            );
                            found
                                .into_iter()
                                .filter_map(|(t, _, _)| match t {
                                    Target::Function(f) => Some(f),
                                    Target::Class(_) => None,
                                })
                                .collect()
                        })
                        .iter()
                        .any(|w| wrappers.contains(w)));
            if offloads {
                wrappers.insert(here);
                added = true;
            }
        }
        if !added {
            break;
        }
    }
    wrappers
}

/// The closures of a module that call a parameter of the function they are defined in, as
/// (that function, the closure's name): `g` in `def run(f, *a): def g(): return f(*a)`, which
/// `run` hands to an offload (`deferToThreadPool(reactor, pool, g)`) to run `f` there with
/// something around it (a logging context, a timer).
fn relays(m: &ModuleFacts) -> Vec<(FuncId, &Name)> {
    let mut found: Vec<(FuncId, &Name)> = Vec::new();
    for (call, _) in m.closure_calls_of_params() {
        let g = &m.functions[call.func as usize];
        if let Some(parent) = g.parent
            && !found.contains(&(parent, &g.name))
        {
            found.push((parent, &g.name));
        }
    }
    found
}
