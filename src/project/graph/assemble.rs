//! The graph's edges made module by module and placed into one array by caller, a stretch of
//! modules at a time.
//!
//! Why in stretches: a module's edge list (`ModuleEdges`, 40 bytes an edge, with its seeds,
//! labels and roles) is several times the size of what the graph keeps of it (16 bytes an edge,
//! `GraphEdge`). Made all at once, the lists of the standard library took 10.9 MiB beside the
//! resolver and the facts before the first was placed, the link stage's high-water mark (live
//! heap 60.5 -> 74.9 MiB, where the graph ends at 66.3). Made a stretch at a time, only one
//! stretch's lists exist at once; each stretch's placed edges are an exact-size array, and the
//! arrays are joined at the end, each freed once copied.
//!
//! Every module's edges leave its own nodes (`ModuleCx::node`), and nodes are numbered module
//! by module, so a module fills one stretch of the array right after the previous module's:
//! placing modules in order needs no count of the whole project's edges first.

use std::ops::Range;
use std::sync::Mutex;

use rayon::prelude::*;

use super::compact::{EdgeExtra, GraphEdge, NO_EXTRA, compact};
use super::edges::{self, Memo, ModuleCx, ModuleEdges, NodeIds};
use super::{ClassRef, NO_CLASS, NO_LABEL, RoleId, Seed};
use crate::facts::ModuleFacts;
use crate::knowledge::contexts::ContextPatterns;
use crate::knowledge::frameworks::Frameworks;
use crate::project::resolve::Resolver;

/// About how many stretches a project's modules are cut into (by call sites, so that a stretch
/// of large modules is not one module alone). More stretches keep fewer lists at once; each
/// stretch waits for its slowest module before it is placed.
const STRETCHES: usize = 32;

/// What the modules' edge lists give the graph, merged in module order.
#[derive(Default)]
pub(super) struct Assembled {
    pub edge_start: Vec<u32>,
    pub edges: Vec<GraphEdge>,
    pub extras: Vec<EdgeExtra>,
    pub seeds: Vec<Seed>,
    pub live_roots: Vec<u32>,
    pub live_classes: Vec<ClassRef>,
    pub constructs: Vec<(u32, ClassRef)>,
    pub roles: Vec<(u32, RoleId)>,
    pub labels: Vec<Box<str>>,
    pub registered: Vec<u32>,
    /// The per-module lists, when they are kept for the link cache; empty otherwise.
    pub lists: Vec<ModuleEdges>,
}

/// What the edge functions read about the project.
pub(super) struct Inputs<'a, 'm> {
    pub modules: &'m [ModuleFacts],
    pub resolver: &'m Resolver,
    pub patterns: &'a ContextPatterns,
    pub frameworks: &'a Frameworks,
    pub wrappers: &'a edges::Wrappers,
    pub offsets: &'a [u32],
    pub nodes: usize,
}

/// Makes (or takes from `kept`, the last run's lists) each module's edges and places them.
/// With `keep`, the lists are handed back for the link cache.
pub(super) fn assemble(
    cx: &Inputs<'_, '_>,
    kept: Vec<Option<ModuleEdges>>,
    keep: bool,
) -> Assembled {
    assemble_in(cx, kept, keep, STRETCHES)
}

/// [`assemble`] in about `count` stretches.
fn assemble_in(
    cx: &Inputs<'_, '_>,
    kept: Vec<Option<ModuleEdges>>,
    keep: bool,
    count: usize,
) -> Assembled {
    let ids = NodeIds {
        offsets: cx.offsets,
    };
    // One memo per worker for the whole graph: a memo per stretch would resolve the same
    // targets again in every stretch. A worker only takes its own; `try_lock` makes a fresh
    // one rather than wait, should a worker ever be inside another module's edges.
    let memos: Vec<Mutex<Memo>> = (0..rayon::current_num_threads().max(1))
        .map(|_| Mutex::new(Memo::new(cx.resolver)))
        .collect();
    let mut out = Assembled {
        edge_start: Vec::with_capacity(cx.nodes + 1),
        lists: Vec::with_capacity(if keep { cx.modules.len() } else { 0 }),
        ..Assembled::default()
    };
    out.edge_start.push(0);
    let mut parts: Vec<Vec<GraphEdge>> = Vec::new();
    let mut placed = 0u32;
    let mut kept = kept.into_iter();
    for range in stretches(cx.modules, count) {
        let taken: Vec<Option<ModuleEdges>> = kept.by_ref().take(range.len()).collect();
        let lists: Vec<ModuleEdges> = taken
            .into_par_iter()
            .enumerate()
            .map(|(i, taken)| {
                taken.unwrap_or_else(|| {
                    let worker = rayon::current_thread_index().unwrap_or(0) % memos.len();
                    let mut fresh;
                    let mut guard = memos[worker].try_lock().ok();
                    let memo = match guard.as_deref_mut() {
                        Some(m) => m,
                        None => {
                            fresh = Memo::new(cx.resolver);
                            &mut fresh
                        }
                    };
                    edges::module_edges(&mut ModuleCx {
                        modules: cx.modules,
                        resolver: cx.resolver,
                        patterns: cx.patterns,
                        frameworks: cx.frameworks,
                        wrappers: cx.wrappers,
                        ids: &ids,
                        module: (range.start + i) as u32,
                        memo,
                    })
                })
            })
            .collect();
        let count: usize = lists.iter().map(|l| l.edges.len()).sum();
        let mut part: Vec<GraphEdge> = Vec::with_capacity(count);
        for (i, mut list) in lists.into_iter().enumerate() {
            place(
                &mut out,
                &mut part,
                placed,
                cx,
                range.start + i,
                &mut list,
                keep,
            );
            if keep {
                out.lists.push(list);
            }
        }
        placed += part.len() as u32;
        parts.push(part);
    }
    let total = parts.iter().map(Vec::len).sum();
    out.edges = Vec::with_capacity(total);
    for part in parts {
        out.edges.extend_from_slice(&part);
    }
    out
}

/// Module `mi`'s edges into `part` (the stretch's array; `placed` edges are before it), its
/// nodes' starts into `edge_start`, and the rest of its list into `out`.
fn place(
    out: &mut Assembled,
    part: &mut Vec<GraphEdge>,
    placed: u32,
    cx: &Inputs<'_, '_>,
    mi: usize,
    list: &mut ModuleEdges,
    keep: bool,
) {
    out.roles.extend_from_slice(&list.roles);
    out.registered.extend_from_slice(&list.registered);
    let base = out.labels.len() as u32;
    if keep {
        out.labels.extend(list.labels.iter().cloned());
    } else {
        out.labels.append(&mut list.labels);
    }
    let first = cx.offsets[mi] as usize;
    let end = cx.offsets.get(mi + 1).map_or(cx.nodes, |&e| e as usize);
    // Each of the module's nodes starts where the one before ends.
    let mut next: Vec<u32> = vec![0; end - first];
    for &(from, _) in &list.edges {
        debug_assert!((first..end).contains(&(from as usize)));
        next[from as usize - first] += 1;
    }
    for slot in next.iter_mut() {
        let start = *out.edge_start.last().unwrap_or(&0);
        let count = *slot;
        *slot = start - placed;
        out.edge_start.push(start + count);
    }
    if let Some(&(_, filler)) = list.edges.first() {
        let filler = GraphEdge {
            extra: NO_EXTRA,
            ..compact(&filler)
        };
        part.resize(part.len() + list.edges.len(), filler);
    }
    for &(from, e) in &list.edges {
        let mut stored = compact(&e);
        if e.label != NO_LABEL || e.dispatch != NO_CLASS || e.receiver_class != NO_CLASS {
            stored.extra = out.extras.len() as u32;
            out.extras.push(EdgeExtra {
                label: match e.label {
                    NO_LABEL => NO_LABEL,
                    l => l + base,
                },
                dispatch: e.dispatch,
                receiver_class: e.receiver_class,
            });
        }
        let slot = &mut next[from as usize - first];
        part[*slot as usize] = stored;
        *slot += 1;
    }
    if !keep {
        list.edges = Vec::new();
    }
    out.seeds.extend_from_slice(&list.seeds);
    out.live_roots.extend_from_slice(&list.live_roots);
    out.live_classes.extend_from_slice(&list.live_classes);
    out.constructs.extend_from_slice(&list.constructs);
}

/// The modules cut into about `count` runs of consecutive modules with about as many call
/// sites each (at least one module each).
fn stretches(modules: &[ModuleFacts], count: usize) -> Vec<Range<usize>> {
    let total: usize = modules.iter().map(|m| m.calls.len() + 1).sum();
    let each = total.div_ceil(count.max(1)).max(1);
    let mut out = Vec::with_capacity(count.min(modules.len()) + 1);
    let (mut start, mut size) = (0, 0);
    for (mi, m) in modules.iter().enumerate() {
        size += m.calls.len() + 1;
        if size >= each {
            out.push(start..mi + 1);
            (start, size) = (mi + 1, 0);
        }
    }
    if start < modules.len() {
        out.push(start..modules.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stretches cover every module once, in order.
    #[test]
    fn stretches_cover_the_modules_in_order() {
        let modules = crate::dev::testing::example_modules();
        for count in [1, 2, 5, STRETCHES, 1000] {
            let cut = stretches(&modules, count);
            assert_eq!(cut.first().map(|r| r.start), Some(0), "{count}");
            assert_eq!(cut.last().map(|r| r.end), Some(modules.len()), "{count}");
            assert!(cut.windows(2).all(|w| w[0].end == w[1].start), "{count}");
            assert!(cut.iter().all(|r| !r.is_empty()), "{count}");
            assert!(cut.len() <= count.max(1) + 1, "{count}: {}", cut.len());
        }
        assert_eq!(stretches(&modules, 1000).len(), modules.len());
    }

    /// What the graph gets does not depend on how the modules were cut: one stretch, one per
    /// module, and the default give the same arrays, and the lists kept for the link cache are
    /// the lists.
    #[test]
    fn the_graph_does_not_depend_on_the_stretches() {
        use crate::knowledge::contexts::ContextPatterns;
        use crate::knowledge::frameworks::Frameworks;
        let modules = crate::dev::testing::example_modules();
        let resolver = Resolver::new(&modules, None);
        let (patterns, frameworks) = (ContextPatterns::builtin(), Frameworks::builtin());
        let wrappers = edges::wrappers(&modules, &resolver, &patterns, &frameworks);
        let mut offsets = Vec::new();
        let mut nodes = 0;
        for m in &modules {
            offsets.push(nodes as u32);
            nodes += m.functions.len();
        }
        let cx = Inputs {
            modules: &modules,
            resolver: &resolver,
            patterns: &patterns,
            frameworks: &frameworks,
            wrappers: &wrappers,
            offsets: &offsets,
            nodes,
        };
        let shape = |a: &Assembled| {
            format!(
                "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
                a.edge_start,
                a.edges,
                a.extras,
                a.seeds,
                a.live_roots,
                a.live_classes,
                a.constructs,
                a.roles,
                a.labels,
                a.registered
            )
        };
        let none = || modules.iter().map(|_| None).collect::<Vec<_>>();
        let one = assemble_in(&cx, none(), false, 1);
        assert!(one.edges.len() > 50, "{}", one.edges.len());
        assert_eq!(one.edge_start.len(), nodes + 1);
        assert_eq!(*one.edge_start.last().unwrap() as usize, one.edges.len());
        assert!(one.lists.is_empty());
        for count in [3, STRETCHES, 1000] {
            assert_eq!(
                shape(&assemble_in(&cx, none(), false, count)),
                shape(&one),
                "{count}"
            );
        }
        let kept = assemble_in(&cx, none(), true, 4);
        assert_eq!(shape(&kept), shape(&one));
        assert_eq!(kept.lists.len(), modules.len());
        assert_eq!(
            kept.lists.iter().map(|l| l.edges.len()).sum::<usize>(),
            one.edges.len()
        );
    }
}
