//! Attributing code to services. A service owns everything its entry module runs: the module
//! body and `__main__` block, the request handlers it defines, what they call, the modules they import (and the handlers those
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

/// Where a `__main__`-block service is declared: not a manifest.
pub const MAIN_BLOCK: &str = "__main__ block";

/// Several manifests name different modules for one service: the one used and the others.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceConflict {
    pub name: String,
    /// The entry module used (its path) and the manifest that names it.
    pub chosen: ConflictEntry,
    /// The entries not used, in the order of the rule.
    pub others: Vec<ConflictEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConflictEntry {
    pub entry: String,
    pub declared_in: String,
}

/// The services of an audit and what the report says about them.
pub struct Resolved {
    pub services: Vec<Service>,
    /// Entries from the configuration that no audited module matched.
    pub unmatched: Vec<ServiceDef>,
    pub conflicts: Vec<ServiceConflict>,
    /// Whether a manifest (not a `__main__` block) declared a service that was found: then
    /// live code is what the services run; otherwise the code is audited as a library.
    pub declared: bool,
    /// Why no manifest declares the services, when none does: what the report says instead.
    pub note: Option<String>,
}

/// Resolves service definitions to modules; with none, every module with a `__main__` block is
/// a service named after its file. When manifests name different modules for one service, one
/// is picked by `conflict_order` and the conflict is returned.
pub fn resolve_services(project: &Project, defs: &[ServiceDef]) -> Resolved {
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
    let conflicts = pick_among_conflicts(project, &mut services);
    let declared = !services.is_empty();
    let mut note = None;
    if defs.is_empty() {
        for (i, m) in project.modules.iter().enumerate() {
            if m.has_main {
                let stem = m.path.rsplit('/').next().unwrap_or(&m.path);
                services.push(Service {
                    name: stem.strip_suffix(".py").unwrap_or(stem).to_owned(),
                    module: i as u32,
                    declared_in: MAIN_BLOCK.to_owned(),
                });
            }
        }
        note = Some(if services.len() > MAX_HEURISTIC_SERVICES {
            let n = services.len();
            services.clear();
            format!(
                "no manifest names a service, and {n} modules have a `__main__` block (more \
                 than {MAX_HEURISTIC_SERVICES}): audited as a library or a tool collection"
            )
        } else if services.is_empty() {
            "no manifest, compose file, Procfile or `[project.scripts]` names a service, and no \
             module has a `__main__` block: audited as a library"
                .to_owned()
        } else {
            "no manifest names a service: the services listed are the modules with a \
             `__main__` block, and the code is audited as a library"
                .to_owned()
        });
    } else if !declared {
        note = Some(format!(
            "the configuration names {} but none of their entry modules was audited: audited \
             as a library",
            match defs.len() {
                1 => "1 service".to_owned(),
                n => format!("{n} services"),
            }
        ));
    }
    services.sort_by(|a, b| a.name.cmp(&b.name).then(a.module.cmp(&b.module)));
    services.dedup_by(|a, b| a.name == b.name && a.module == b.module);
    Resolved {
        services,
        unmatched,
        conflicts,
        declared,
        note,
    }
}

/// The order in which the manifests that name different modules for one service are
/// preferred: an entry outside tooling and backup folders (`tests/`, `scripts/`, `backups/`,
/// `old/`, ...) first, then the manifest nearest the audited root (fewest folders in its
/// path), then manifest path and entry path in alphabetical order.
fn conflict_order(project: &Project, s: &Service) -> (bool, usize, String, String) {
    let entry = &project.modules[s.module as usize].path;
    (
        project.patterns.is_tooling_path(entry),
        s.declared_in.matches('/').count(),
        s.declared_in.clone(),
        entry.clone(),
    )
}

/// Keeps one entry module per service name (by `conflict_order`) and returns the conflicts.
fn pick_among_conflicts(project: &Project, services: &mut Vec<Service>) -> Vec<ServiceConflict> {
    let path = |s: &Service| project.modules[s.module as usize].path.clone();
    let mut by_name: std::collections::BTreeMap<String, Vec<Service>> = Default::default();
    for s in services.drain(..) {
        let same = by_name.entry(s.name.clone()).or_default();
        if !same.iter().any(|t| t.module == s.module) {
            same.push(s);
        }
    }
    let mut conflicts = Vec::new();
    for (name, mut same) in by_name {
        same.sort_by_cached_key(|s| conflict_order(project, s));
        let mut rest = same.split_off(1);
        let chosen = same.remove(0);
        if !rest.is_empty() {
            conflicts.push(ServiceConflict {
                name,
                chosen: ConflictEntry {
                    entry: path(&chosen),
                    declared_in: chosen.declared_in.clone(),
                },
                others: rest
                    .drain(..)
                    .map(|s| ConflictEntry {
                        entry: path(&s),
                        declared_in: s.declared_in,
                    })
                    .collect(),
            });
        }
        services.push(chosen);
    }
    conflicts
}

pub fn attribute(
    project: &Project,
    services: Vec<Service>,
    unmatched: Vec<ServiceDef>,
) -> Ownership {
    let n = project.graph.len();
    let inits = constructors(project);
    let owned = services
        .iter()
        .map(|s| owned_by(project, s.module, n, &inits))
        .collect();
    Ownership {
        services,
        owned,
        unmatched,
    }
}

/// Each class's own `__init__`, as a graph node.
fn constructors(project: &Project) -> std::collections::HashMap<ClassRef, u32> {
    let mut out = std::collections::HashMap::new();
    for (mi, m) in project.modules.iter().enumerate() {
        for (fi, f) in m.functions.iter().enumerate() {
            if let (FnKind::Method, Some(class), "__init__") = (f.kind, f.class, f.name.as_str()) {
                let node = project.graph.id(FnRef {
                    module: mi as u32,
                    func: fi as u32,
                });
                out.insert(
                    ClassRef {
                        module: mi as u32,
                        class,
                    },
                    node,
                );
            }
        }
    }
    out
}

/// What one service owns. Constructing a class runs the constructors of its whole MRO (each
/// `__init__` calling `super().__init__()`, as is the norm), so every class the service
/// instantiates contributes the `__init__` of each class in its MRO.
fn owned_by(
    project: &Project,
    module: u32,
    n: usize,
    inits: &std::collections::HashMap<ClassRef, u32>,
) -> Vec<u64> {
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
    // The entry module's body and `__main__` block, and the request handlers it defines (by
    // name or route): the framework that the service runs calls them.
    for (fi, f) in m.functions.iter().enumerate() {
        let handler = f.kind == FnKind::Function
            && project.is_handler(module as usize, fi as u32)
            && !super::context::in_test(&project.patterns, m, fi as u32);
        if matches!(f.kind, FnKind::Module | FnKind::Main) || handler {
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
                let mro: Vec<ClassRef> = match project.resolver.mro(c) {
                    Some(mro) => mro.to_vec(),
                    None => vec![c],
                };
                for class in mro {
                    if live_mro.insert(class)
                        && let Some(&init) = inits.get(&class)
                    {
                        visit(init, &mut bits, &mut stack);
                    }
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
                match graph.dispatch(e) {
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
