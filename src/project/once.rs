//! Code that runs only as often as its callers, when every caller runs once: a coroutine that
//! only a start-up step awaits (`async def to_code(config): await write_icon(config)` in a
//! build step, `async def async_setup_entry(...): await _probe(...)`) runs once too, though as
//! an `async def` it is also an entry of the event loop in its own right, whose frequency
//! would otherwise not be known (per call).
//!
//! Conservative by construction: any caller that may run more often (a handler, a registered
//! callback, a call inside a `while` or receive loop, a caller of unknown frequency), any
//! edge into the function other than a direct call (a dispatch to an override, a thread or
//! task started, a registration), a cycle, or a search that grows past its budget answers
//! "not only once".

use std::sync::Mutex;

use rustc_hash::FxHashMap;

use super::Project;
use super::resolve::FnRef;
use crate::facts::FnKind;
use crate::knowledge::frameworks::Runs;

/// The answers given so far, by node: every site of a function asks for the same node.
#[derive(Debug, Default)]
pub(super) struct Answers(Mutex<FxHashMap<u32, bool>>);

/// How many callers up the search follows before it gives up (answers "not only once").
const MAX_DEPTH: usize = 6;
/// How many functions one question may visit in all.
const BUDGET: u32 = 64;

impl Project {
    /// Whether every call into `f` in the project comes from code that runs once: a module
    /// body, a `__main__` block, a module-level start-up function (`contexts.toml`
    /// `startup_names`; a method so named is judged by its callers), one called from a module
    /// body, a framework entry whose profile runs it once, or a function whose own callers
    /// are all such code; and nothing else leads into `f`. Not a call inside a `while` or
    /// receive loop of the caller, and not a callable handed to another call.
    pub(crate) fn called_only_once(&self, f: FnRef) -> bool {
        let id = self.graph.id(f);
        let known = |a: &Answers| a.0.lock().ok().and_then(|m| m.get(&id).copied());
        if let Some(answer) = known(&self.called_once) {
            return answer;
        }
        let mut path = Vec::new();
        let mut budget = BUDGET;
        let answer = self.callers_run_once(id, &mut path, &mut budget);
        if let Ok(mut m) = self.called_once.0.lock() {
            m.insert(id, answer);
        }
        answer
    }

    fn callers_run_once(&self, id: u32, path: &mut Vec<u32>, budget: &mut u32) -> bool {
        let callers = self.callers.of(&self.graph, id);
        if callers.is_empty() || self.callers.reached_otherwise(&self.graph, id) {
            return false;
        }
        path.push(id);
        let once = callers.iter().all(|&(from, line)| {
            self.call_runs_once(from, line, path, budget)
                && !self.passed_as_callable(from, line, id)
        });
        path.pop();
        once
    }

    /// Whether the edge from `from` at `line` into `to` may be a callable handed over rather
    /// than a call (`entry.add_update_listener(self.on_update)`, `loop.call_later(5, cb)`): the
    /// code it is handed to may run it any number of times, later. A call on that line of the
    /// caller that passes a callable named like `to` (or a lambda, when `to` is one) counts.
    fn passed_as_callable(&self, from: u32, line: u32, to: u32) -> bool {
        let caller = self.graph.node(from);
        let callee = self.graph.node(to);
        let target = &self.modules[callee.module as usize].functions[callee.func as usize];
        let lambda = target.kind == FnKind::Lambda;
        let name = target.name.as_str();
        let m = &self.modules[caller.module as usize];
        m.calls
            .iter()
            .filter(|c| c.func == caller.func && c.line == line)
            .flat_map(|c| m.callable_args(c).iter())
            .any(|(text, _)| match crate::facts::lambda_id(text) {
                Some(_) => lambda,
                None => text.rsplit('.').next() == Some(name),
            })
    }

    /// Whether the call at `line` of node `from` runs once.
    fn call_runs_once(&self, from: u32, line: u32, path: &mut Vec<u32>, budget: &mut u32) -> bool {
        if *budget == 0 || path.len() > MAX_DEPTH || path.contains(&from) {
            return false;
        }
        *budget -= 1;
        let caller = self.graph.node(from);
        let (mi, fid) = (caller.module as usize, caller.func);
        // A call repeated by a loop that polls or serves runs as often as the loop.
        let flags = self.entries.line(caller.module, fid, line);
        if flags.in_while || flags.in_recv_loop {
            return false;
        }
        let func = &self.modules[mi].functions[fid as usize];
        match func.kind {
            FnKind::Module | FnKind::Main => return true,
            FnKind::Function | FnKind::Method => {}
            FnKind::Nested | FnKind::Lambda => return self.callers_run_once(from, path, budget),
        }
        if let Some(role) = self.graph.role(caller) {
            return self.frameworks.role(role).runs == Runs::Once;
        }
        if self.is_handler(mi, fid) || self.graph.is_registered(caller) {
            return false;
        }
        // A start-up name (`main`, `setup`) is taken at its word for a module-level function;
        // a method so named runs once per object (`AvatarSession.start()`, a pipeline
        // processor's `setup()` once per session): its own callers decide.
        if func.kind == FnKind::Function && self.runs_once(mi, fid) {
            return true;
        }
        self.callers_run_once(from, path, budget)
    }
}
