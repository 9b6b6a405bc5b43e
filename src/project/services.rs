//! Attributing code to services. A service owns everything its entry module runs: the module
//! body and `__main__` block, what they call, the modules they import (and the handlers those
//! register), threads they start, and `self.m()` dispatch only to the overrides of classes the
//! service itself instantiates — so a base class's request loop is charged to each service that
//! inherits it, and one agent's handler is never charged to its siblings.

use std::collections::HashSet;

use super::Project;
use super::resolve::{ClassRef, FnRef};
use crate::facts::FnKind;
use crate::services::ServiceDef;

/// Above this many services found only from `__main__` blocks, the code is a library or a tool
/// collection, not a service system: attribution is skipped.
pub const MAX_HEURISTIC_SERVICES: usize = 64;

/// A service resolved to its entry module.
#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub module: u32,
    pub declared_in: String,
}

/// Per service, the set of nodes it owns (a bitset over the graph's nodes).
pub struct Ownership {
    pub services: Vec<Service>,
    owned: Vec<Vec<u64>>,
    /// Entries from the configuration that no audited module matched.
    pub unmatched: Vec<ServiceDef>,
}

impl Ownership {
    pub fn owners(&self, project: &Project, f: FnRef) -> Vec<&str> {
        let id = project.graph.id(f) as usize;
        let mut names: Vec<&str> = self
            .services
            .iter()
            .zip(&self.owned)
            .filter(|(_, bits)| bits[id / 64] & (1 << (id % 64)) != 0)
            .map(|(s, _)| s.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// Resolves service definitions to modules; with none, every module with a `__main__` block is
/// a service named after its file.
pub fn resolve_services(project: &Project, defs: &[ServiceDef]) -> (Vec<Service>, Vec<ServiceDef>) {
    let mut services = Vec::new();
    let mut unmatched = Vec::new();
    for d in defs {
        let by_path = project.modules.iter().position(|m| {
            m.path == d.entry
                || (d.entry.ends_with(".py") && m.path.ends_with(&format!("/{}", d.entry)))
        });
        let module = by_path
            .map(|i| i as u32)
            .or_else(|| project.resolver.module(&d.entry).map(|(m, _)| m));
        match module {
            Some(module) => services.push(Service {
                name: d.name.clone(),
                module,
                declared_in: d.declared_in.clone(),
            }),
            None => unmatched.push(d.clone()),
        }
    }
    if defs.is_empty() {
        for (i, m) in project.modules.iter().enumerate() {
            if m.has_main {
                let stem = m.path.rsplit('/').next().unwrap_or(&m.path);
                services.push(Service {
                    name: stem.strip_suffix(".py").unwrap_or(stem).to_owned(),
                    module: i as u32,
                    declared_in: "__main__ block".to_owned(),
                });
            }
        }
        if services.len() > MAX_HEURISTIC_SERVICES {
            services.clear();
        }
    }
    services.sort_by(|a, b| a.name.cmp(&b.name).then(a.module.cmp(&b.module)));
    services.dedup_by(|a, b| a.name == b.name && a.module == b.module);
    (services, unmatched)
}

pub fn attribute(
    project: &Project,
    services: Vec<Service>,
    unmatched: Vec<ServiceDef>,
) -> Ownership {
    let n = project.graph.len();
    let owned = services
        .iter()
        .map(|s| owned_by(project, s.module, n))
        .collect();
    Ownership {
        services,
        owned,
        unmatched,
    }
}

fn owned_by(project: &Project, module: u32, n: usize) -> Vec<u64> {
    let graph = &project.graph;
    let mut bits = vec![0u64; n.div_ceil(64)];
    let mut stack: Vec<u32> = Vec::new();
    let visit = |node: u32, bits: &mut Vec<u64>, stack: &mut Vec<u32>| {
        let i = node as usize;
        if bits[i / 64] & (1 << (i % 64)) == 0 {
            bits[i / 64] |= 1 << (i % 64);
            stack.push(node);
        }
    };
    let m = &project.modules[module as usize];
    for (fi, f) in m.functions.iter().enumerate() {
        if matches!(f.kind, FnKind::Module | FnKind::Main) {
            visit(
                graph.id(FnRef {
                    module,
                    func: fi as u32,
                }),
                &mut bits,
                &mut stack,
            );
        }
    }
    // Classes in the MRO of something this service instantiates.
    let mut live_mro: HashSet<ClassRef> = HashSet::new();
    let mut pending: Vec<(u32, ClassRef)> = Vec::new();
    loop {
        while let Some(node) = stack.pop() {
            let f = graph.node(node);
            for c in graph.constructs(node) {
                if let Some(mro) = project.resolver.mro.get(&c) {
                    live_mro.extend(mro.iter().copied());
                } else {
                    live_mro.insert(c);
                }
            }
            if f.func == 0 {
                // Importing a module registers its decorated handlers.
                for (fi, func) in project.modules[f.module as usize]
                    .functions
                    .iter()
                    .enumerate()
                {
                    if func.kind == FnKind::Function && !func.decorators.is_empty() {
                        visit(
                            graph.id(FnRef {
                                module: f.module,
                                func: fi as u32,
                            }),
                            &mut bits,
                            &mut stack,
                        );
                    }
                }
            }
            for e in graph.edges_from(node) {
                match e.dispatch {
                    Some(c) if !live_mro.contains(&c) => pending.push((e.to, c)),
                    _ => visit(e.to, &mut bits, &mut stack),
                }
            }
        }
        let (ready, still): (Vec<_>, Vec<_>) =
            pending.into_iter().partition(|(_, c)| live_mro.contains(c));
        pending = still;
        if ready.is_empty() {
            break;
        }
        for (to, _) in ready {
            visit(to, &mut bits, &mut stack);
        }
    }
    bits
}
