//! Offload and background wrappers: project functions that run a callable they are given on
//! a worker thread, or start a thread of their own on it, inferred once per project before the
//! edges (calls of them offload their callable arguments, or start them in the background,
//! like the API does). Read from every module's calls, so the link cache (`graph/links.rs`)
//! counts the sets they form in the project's interface.

use super::{Memo, ModuleCx, targets};
use crate::facts::{Call, FuncId, ModuleFacts, Name};
use crate::knowledge::contexts::ContextPatterns;
use crate::knowledge::frameworks::Frameworks;
use crate::project::resolve::{FnRef, Resolver, Target};

/// The project's wrappers, by what they do with the callable they are given.
#[derive(Default)]
pub(in crate::project::graph) struct Wrappers {
    /// Run it on a worker thread and wait for it (`loop.run_in_executor(None, fn)`).
    pub offload: FxHashSet<FnRef>,
    /// Start a thread or process on it and return (`threading.Thread(target=fn).start()`).
    pub background: FxHashSet<FnRef>,
}

type FxHashSet<T> = rustc_hash::FxHashSet<T>;

impl<'m> ModuleCx<'_, 'm> {
    /// Whether `call` may call one of `set`'s wrappers.
    pub(super) fn calls_wrapper(&mut self, call: &'m Call, set: &FxHashSet<FnRef>) -> bool {
        !set.is_empty()
            && self
                .targets(call.func, &call.target, call.resolution, &call.text)
                .iter()
                .any(|(t, _, _)| matches!(t, Target::Function(f) if set.contains(f)))
    }
}

/// Project functions that run a callable they are given on a worker thread: a function that
/// passes one of its parameters (or a closure of its own that calls one) to an offload API (`loop.run_in_executor(None, fn, *args)`,
/// `asyncio.to_thread(fn)`, `hass.async_add_executor_job(fn)`), or to another such function;
/// and, apart, those that pass it to a background API (`threading.Thread(target=fn)`,
/// `multiprocessing.Process(target=fn)`: `start_worker(target=run, args=...)`).
pub(in crate::project::graph) fn wrappers(
    modules: &[ModuleFacts],
    resolver: &Resolver,
    patterns: &ContextPatterns,
    frameworks: &Frameworks,
) -> Wrappers {
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
    if passing.is_empty() {
        return Wrappers::default();
    }
    let mut memo = Memo::new(resolver);
    // What each such call is does not change between rounds: whether it offloads (starts a
    // thread) itself, and else the project functions it may call (asked only once some
    // wrapper is known).
    let mut callees: Vec<Option<Vec<FnRef>>> = vec![None; passing.len()];
    let offload: Vec<bool> = passing
        .iter()
        .map(|(_, call)| patterns.is_offload(&call.target) || frameworks.is_offload(&call.target))
        .collect();
    let background: Vec<bool> = passing
        .iter()
        .map(|(_, call)| patterns.is_background(&call.target))
        .collect();
    Wrappers {
        offload: infer(modules, &mut memo, &passing, &offload, &mut callees),
        background: infer(modules, &mut memo, &passing, &background, &mut callees),
    }
}

/// The wrappers of one kind: the functions of the `passing` calls that are `direct`, then,
/// for up to three rounds (the usual layering), those whose call may call a wrapper.
fn infer<'m>(
    modules: &'m [ModuleFacts],
    memo: &mut Memo<'m>,
    passing: &[(u32, &'m Call)],
    direct: &[bool],
    callees: &mut [Option<Vec<FnRef>>],
) -> FxHashSet<FnRef> {
    let mut wrappers: FxHashSet<FnRef> = Default::default();
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
            let wraps = direct[i]
                || (!wrappers.is_empty()
                    && callees[i]
                        .get_or_insert_with(|| {
                            let found = targets(
                                modules,
                                memo,
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
            if wraps {
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
