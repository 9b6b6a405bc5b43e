//! Flag guards in the execution query: the lines a flag guard covers (`facts/once.rs`) run
//! once per flag, so a per-request chain through one runs for the first request only, like a
//! chain through a memoised function.
//!
//! Read as once only when the flag outlives a request:
//! - no code that may run more than once sets it back to `False` (matched by the flag's last
//!   segment across the project: a flag reset on every disconnect or write guards nothing; a
//!   constructor, module-level code, or a function only code that runs once calls, such as an
//!   app factory, sets it up: `Project::called_only_once`);
//! - a flag on `self` lives as long as the instance: when the project builds an instance of
//!   the guard's class on a request path (its `__init__` runs per request), or a framework
//!   builds one per request or connection (a method of the class is an entry whose profile
//!   says `fresh_instance`: a tornado `RequestHandler`, a Django class-based view), the guard
//!   runs on every request too.

use std::sync::{Mutex, OnceLock};

use rustc_hash::{FxHashMap, FxHashSet};

use super::Project;
use super::context::Site;
use super::resolve::FnRef;
use crate::facts::once::flag_key;
use crate::facts::{FnKind, FuncId, OnceGuard};

/// The flags set back to `False` by code that may run more than once, by last segment, found
/// on first use; and whether each class asked about is built per request (every site on a
/// chain through a guard asks again).
#[derive(Debug, Default)]
pub(super) struct Resets(
    OnceLock<FxHashSet<String>>,
    Mutex<FxHashMap<(usize, u32), bool>>,
);

impl Project {
    /// The flag guard that makes `line` of `func` run once, if any (see the module's
    /// documentation).
    pub(super) fn once_guard(&self, module: usize, func: FuncId, line: u32) -> Option<&OnceGuard> {
        let m = &self.modules[module];
        let g = m
            .once_guards
            .iter()
            .find(|g| g.func == func && (g.first..=g.last).contains(&line))?;
        let flag = g.flag.as_str();
        if self
            .flag_resets
            .0
            .get_or_init(|| self.resets())
            .contains(flag_key(flag))
        {
            return None;
        }
        let on_self = flag.split('.').next() == Some("self");
        if on_self && self.built_per_request(module, func) {
            return None;
        }
        Some(g)
    }

    /// Whether the class of method `func` is instantiated per request: a framework builds one
    /// for each request or connection (one of its methods is an entry whose profile says
    /// `fresh_instance`), or its own `__init__` runs per request. A class without its own
    /// `__init__` and no such entry is not known to be.
    fn built_per_request(&self, module: usize, func: FuncId) -> bool {
        let m = &self.modules[module];
        let Some(class) = m.functions[func as usize].class else {
            return false;
        };
        let known = self
            .flag_resets
            .1
            .lock()
            .ok()
            .and_then(|k| k.get(&(module, class)).copied());
        if let Some(answer) = known {
            return answer;
        }
        let answer = self.class_built_per_request(module, class);
        if let Ok(mut k) = self.flag_resets.1.lock() {
            k.insert((module, class), answer);
        }
        answer
    }

    fn class_built_per_request(&self, module: usize, class: u32) -> bool {
        let m = &self.modules[module];
        let fresh = m.functions.iter().enumerate().any(|(i, f)| {
            f.class == Some(class)
                && self
                    .graph
                    .role(FnRef {
                        module: module as u32,
                        func: i as FuncId,
                    })
                    .is_some_and(|r| self.frameworks.role(r).fresh_instance)
        });
        if fresh {
            return true;
        }
        let init = m.functions.iter().position(|f| {
            f.kind == FnKind::Method && f.class == Some(class) && f.name.as_str() == "__init__"
        });
        init.is_some_and(|init| {
            let site = Site::def(self, module, init as FuncId);
            self.executions_unguarded(&site)
                .iter()
                .any(|e| e.per_request())
        })
    }

    fn resets(&self) -> FxHashSet<String> {
        let mut out = FxHashSet::default();
        for (mi, m) in self.modules.iter().enumerate() {
            for (func, key) in &m.flag_resets {
                if out.contains(key.as_str()) {
                    continue;
                }
                let f = FnRef {
                    module: mi as u32,
                    func: *func,
                };
                if !self.called_only_once(f) {
                    out.insert(key.as_str().to_owned());
                }
            }
        }
        out
    }
}
