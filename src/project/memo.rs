//! Memoised functions: a function whose decorator keeps what it returns (`@functools.lru_cache`,
//! `@cached_property`, or a project decorator of that shape) runs its body once per distinct
//! argument, so everything it calls is paid by the first request that reaches it. The
//! execution query (`context.rs`) turns a per-request chain through one into `first-request`.
//!
//! Project decorators are recognised by shape, not by name: a module-level function whose
//! nested wrapper calls the function it is given (its first parameter) and keeps the result in
//! an attribute or a subscript (`self._x = fn(self)`, `cache[key] = fn(*args)`), or hands it to
//! `setattr` (`setattr(self, name, builder(self))`): a dependency container's lazy getter, a
//! hand-written `memoize`.

use std::sync::OnceLock;

use rustc_hash::FxHashSet;

use super::Project;
use crate::facts::{FnKind, FuncId, Function, ModuleFacts};

/// The project's memoising decorators by qualified name (`pkg.server.cache_in_self`), found on
/// first use.
#[derive(Debug, Default)]
pub(super) struct Memoisers(OnceLock<FxHashSet<String>>);

impl Project {
    /// The memoising decorator on `func` or on a function it is nested in, with the function
    /// it decorates: what `func` does runs once per distinct argument.
    pub fn memoised_by(&self, module: usize, func: FuncId) -> Option<(&str, &Function)> {
        let m = &self.modules[module];
        let mut f = Some(func);
        while let Some(id) = f {
            let func = &m.functions[id as usize];
            if let Some(d) = func.decorators.iter().find(|d| self.is_memoiser(d)) {
                return Some((d.as_str(), func));
            }
            f = func.parent;
        }
        None
    }

    fn is_memoiser(&self, decorator: &str) -> bool {
        self.patterns.is_memoising_decorator(decorator)
            || self
                .memoisers
                .0
                .get_or_init(|| project_memoisers(&self.modules))
                .contains(decorator)
    }
}

/// Every module-level function of the project whose nested wrapper memoises the function it
/// is given (see the module's documentation).
fn project_memoisers(modules: &[ModuleFacts]) -> FxHashSet<String> {
    let mut found = FxHashSet::default();
    for m in modules {
        // The closures of module-level functions that call the function they are given (the
        // first parameter), and those of them that keep what it returns.
        let mut calls_param: FxHashSet<FuncId> = FxHashSet::default();
        let mut kept: FxHashSet<FuncId> = FxHashSet::default();
        for (call, position) in m.closure_calls_of_params() {
            let parent = m.functions[call.func as usize].parent;
            if position != 0
                || parent.is_none_or(|d| m.functions[d as usize].kind != FnKind::Function)
            {
                continue;
            }
            calls_param.insert(call.func);
            if m.assigned_to(call)
                .is_some_and(|t| t.contains('.') || t.contains('['))
            {
                kept.insert(call.func);
            }
        }
        if calls_param.is_empty() {
            continue;
        }
        // ... or hand it to `setattr`.
        for call in &m.calls {
            if calls_param.contains(&call.func)
                && (call.target == "setattr" || call.target == "builtins.setattr")
            {
                kept.insert(call.func);
            }
        }
        for w in &kept {
            if let Some(parent) = m.functions[*w as usize].parent {
                let d = &m.functions[parent as usize];
                found.insert(format!("{}.{}", m.module, d.qualname));
            }
        }
    }
    found
}
