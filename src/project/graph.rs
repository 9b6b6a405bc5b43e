//! The project call graph and the execution contexts propagated over it.
//!
//! Nodes are every function of every module (module bodies and `__main__` blocks included).
//! Edges come from resolved call sites, constructor calls (to `__init__` along the MRO),
//! `self.m()` dispatch (to the MRO method and, with lower confidence, subclass overrides),
//! callbacks, and a unique-method-name fallback (lowest confidence). Contexts spread from their
//! seeds by breadth-first search, one pass per context kind, so each function keeps the shortest
//! chain from an entry point of each kind; cycles and recursion need no special casing.
//! Which edges exist is decided in `graph/edges.rs`, one function per edge kind.

use std::collections::VecDeque;

use rayon::prelude::*;

use super::CtxKind;
use super::resolve::{ClassRef, FnRef, Resolver};
use crate::facts::ModuleFacts;
use crate::finding::Confidence;
use crate::knowledge::contexts::ContextPatterns;
use crate::knowledge::frameworks::{Frameworks, RoleId};
use edges::{Memo, ModuleCx, ModuleEdges, NodeIds};

mod edges;

/// How a call transfers control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EdgeKind {
    /// The caller runs the callee on its own thread.
    Call,
    /// The callee runs on a worker thread while the caller awaits it (`to_thread`,
    /// `run_in_executor`): request latency, but not the event loop's.
    Offload,
    /// The callee is started elsewhere (a thread target, a registered route): it belongs to the
    /// caller's service but does not run in the caller's context.
    Spawn,
    /// A module body imports another module, running its body once.
    Import,
}

#[derive(Debug, Clone, Copy)]
pub struct Edge {
    pub to: u32,
    pub line: u32,
    kind: EdgeKind,
    pub confidence: Confidence,
    /// For `self.m()` dispatched to a subclass override: the class that defines it. A service
    /// follows the edge only when it instantiates that class (or a subclass of it).
    pub dispatch: Option<ClassRef>,
}

/// How a function was first reached in one context kind.
#[derive(Debug, Clone, Copy)]
pub struct Reach {
    /// The caller and the line of the call, or `None` for an entry point.
    pub pred: Option<(u32, u32)>,
    pub confidence: Confidence,
}

/// An entry point: its context kind, the node, and the caller and line that started it.
type Seed = (CtxKind, u32, Option<(u32, u32)>);

pub const KINDS: [CtxKind; 5] = [
    CtxKind::EventLoop,
    CtxKind::RequestLoop,
    CtxKind::Request,
    CtxKind::Startup,
    CtxKind::Background,
];

fn kind_index(k: CtxKind) -> usize {
    KINDS.iter().position(|&x| x == k).unwrap_or(0)
}

pub struct Graph {
    /// First global id of each module's functions.
    offsets: Vec<u32>,
    nodes: Vec<FnRef>,
    edge_start: Vec<u32>,
    edges: Vec<Edge>,
    /// Per node, per context kind: how it is reached.
    reach: Vec<[Option<Reach>; 5]>,
    /// Reachable from any entry point or module-level code.
    live: Vec<bool>,
    /// Classes instantiated by each node, sorted by node.
    constructs: Vec<(u32, ClassRef)>,
    /// Framework entries and the profile shape that names each, sorted by node (the first
    /// shape found for a node wins).
    roles: Vec<(u32, RoleId)>,
}

impl Graph {
    pub fn id(&self, f: FnRef) -> u32 {
        self.offsets[f.module as usize] + f.func
    }

    pub fn node(&self, id: u32) -> FnRef {
        self.nodes[id as usize]
    }

    pub fn reach(&self, f: FnRef, kind: CtxKind) -> Option<Reach> {
        self.reach[self.id(f) as usize][kind_index(kind)]
    }

    pub fn is_live(&self, f: FnRef) -> bool {
        self.live[self.id(f) as usize]
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every edge out of a node, for any traversal (services, liveness).
    pub fn edges_from(&self, node: u32) -> &[Edge] {
        self.out_edges(node)
    }

    /// Whether an edge carries control (a call or an offload), as opposed to spawning or
    /// importing.
    pub fn is_call(e: &Edge) -> bool {
        matches!(e.kind, EdgeKind::Call | EdgeKind::Offload)
    }

    /// The framework profile shape that makes `f` an entry, if any.
    pub fn role(&self, f: FnRef) -> Option<RoleId> {
        let id = self.id(f);
        self.roles
            .binary_search_by_key(&id, |(n, _)| *n)
            .ok()
            .map(|i| self.roles[i].1)
    }

    /// Classes a node instantiates.
    pub fn constructs(&self, node: u32) -> impl Iterator<Item = ClassRef> + '_ {
        let start = self.constructs.partition_point(|(n, _)| *n < node);
        self.constructs[start..]
            .iter()
            .take_while(move |(n, _)| *n == node)
            .map(|(_, c)| *c)
    }

    /// The chain of `(function, line of the call it makes)` from the entry point of `kind` to
    /// `f`, entry first; `f` itself is not included.
    pub fn chain_to(&self, f: FnRef, kind: CtxKind) -> Vec<(FnRef, u32)> {
        let k = kind_index(kind);
        let mut out = Vec::new();
        let mut cur = self.id(f);
        let mut guard = 0usize;
        while let Some(Some(Reach {
            pred: Some((from, line)),
            ..
        })) = self.reach.get(cur as usize).map(|r| r[k])
        {
            out.push((self.nodes[from as usize], line));
            cur = from;
            guard += 1;
            if guard > self.nodes.len() {
                break;
            }
        }
        out.reverse();
        out
    }

    /// The graph of a project: nodes for every function, edges collected per module in
    /// parallel (one function per edge kind, in `edges.rs`) and merged in module order, then
    /// contexts spread from their seeds and liveness from its roots.
    pub fn build(
        modules: &[ModuleFacts],
        resolver: &Resolver,
        patterns: &ContextPatterns,
        frameworks: &Frameworks,
    ) -> Graph {
        let (offsets, nodes) = number_nodes(modules);
        let ids = NodeIds { offsets: &offsets };
        let wrappers = edges::offload_wrappers(modules, resolver, patterns, frameworks);
        let per_module: Vec<ModuleEdges> = modules
            .par_iter()
            .enumerate()
            .map_init(
                || Memo::new(resolver),
                |memo, (mi, _)| {
                    edges::module_edges(&mut ModuleCx {
                        modules,
                        resolver,
                        patterns,
                        frameworks,
                        wrappers: &wrappers,
                        ids: &ids,
                        module: mi as u32,
                        memo,
                    })
                },
            )
            .collect();

        // Merged in module order: the graph does not depend on how the work was split.
        let mut adjacency: Vec<Vec<Edge>> = vec![Vec::new(); nodes.len()];
        let mut seeds: Vec<Seed> = Vec::new();
        let mut live_roots: Vec<u32> = Vec::new();
        let mut live_classes: Vec<ClassRef> = Vec::new();
        let mut constructs: Vec<(u32, ClassRef)> = Vec::new();
        let mut roles: Vec<(u32, RoleId)> = Vec::new();
        for out in per_module {
            roles.extend(out.roles);
            for (from, e) in out.edges {
                adjacency[from as usize].push(e);
            }
            seeds.extend(out.seeds);
            live_roots.extend(out.live_roots);
            live_classes.extend(out.live_classes);
            constructs.extend(out.constructs);
        }
        edges::class_method_roots(modules, resolver, &ids, live_classes, &mut live_roots);
        let (edge_start, edges) = flatten(adjacency);
        constructs.sort();
        constructs.dedup();
        // Stable: a node's first role (in module order, shapes before registrations) wins.
        roles.sort_by_key(|(n, _)| *n);
        roles.dedup_by_key(|(n, _)| *n);

        let n = nodes.len();
        let mut g = Graph {
            offsets,
            nodes,
            edge_start,
            edges,
            reach: vec![[None; 5]; n],
            live: vec![false; n],
            constructs,
            roles,
        };
        g.propagate(&seeds);
        g.mark_live(&live_roots);
        g
    }

    fn out_edges(&self, node: u32) -> &[Edge] {
        &self.edges
            [self.edge_start[node as usize] as usize..self.edge_start[node as usize + 1] as usize]
    }

    /// Breadth-first from the seeds of each kind. Offload edges carry the event-loop context
    /// over as request latency; every other kind crosses them unchanged.
    fn propagate(&mut self, seeds: &[Seed]) {
        for kind in KINDS {
            let k = kind_index(kind);
            let mut queue = VecDeque::new();
            for &(sk, node, pred) in seeds {
                if sk == kind && self.reach[node as usize][k].is_none() {
                    self.reach[node as usize][k] = Some(Reach {
                        pred,
                        confidence: Confidence::Definite,
                    });
                    queue.push_back(node);
                }
            }
            // Request latency that arrives through an offload from the event loop.
            if kind == CtxKind::Request {
                let el = kind_index(CtxKind::EventLoop);
                for node in 0..self.nodes.len() as u32 {
                    if self.reach[node as usize][el].is_none() {
                        continue;
                    }
                    let conf = self.reach[node as usize][el]
                        .map_or(Confidence::Definite, |r| r.confidence);
                    for e in self.out_edges(node).to_vec() {
                        if e.kind == EdgeKind::Offload && self.reach[e.to as usize][k].is_none() {
                            self.reach[e.to as usize][k] = Some(Reach {
                                pred: Some((node, e.line)),
                                confidence: conf.min(e.confidence),
                            });
                            queue.push_back(e.to);
                        }
                    }
                }
            }
            while let Some(node) = queue.pop_front() {
                let conf =
                    self.reach[node as usize][k].map_or(Confidence::Definite, |r| r.confidence);
                let (start, end) = (
                    self.edge_start[node as usize] as usize,
                    self.edge_start[node as usize + 1] as usize,
                );
                for i in start..end {
                    let e = self.edges[i];
                    match e.kind {
                        EdgeKind::Spawn | EdgeKind::Import => continue,
                        EdgeKind::Offload if kind == CtxKind::EventLoop => continue,
                        _ => {}
                    }
                    let slot = &mut self.reach[e.to as usize][k];
                    if slot.is_none() {
                        *slot = Some(Reach {
                            pred: Some((node, e.line)),
                            confidence: conf.min(e.confidence),
                        });
                        queue.push_back(e.to);
                    }
                }
            }
        }
    }

    fn mark_live(&mut self, roots: &[u32]) {
        let mut stack: Vec<u32> = Vec::new();
        for &r in roots {
            if !self.live[r as usize] {
                self.live[r as usize] = true;
                stack.push(r);
            }
        }
        for (i, r) in self.reach.iter().enumerate() {
            // Anything a context reached from a seed is live, and so is what it calls.
            if r.iter().any(|x| x.is_some_and(|x| x.pred.is_some())) && !self.live[i] {
                self.live[i] = true;
                stack.push(i as u32);
            }
        }
        while let Some(node) = stack.pop() {
            let (start, end) = (
                self.edge_start[node as usize] as usize,
                self.edge_start[node as usize + 1] as usize,
            );
            for i in start..end {
                let to = self.edges[i].to as usize;
                if !self.live[to] {
                    self.live[to] = true;
                    stack.push(to as u32);
                }
            }
        }
    }
}

/// One node per function of every module, numbered module by module: the first id of each
/// module, and the function of each id.
fn number_nodes(modules: &[ModuleFacts]) -> (Vec<u32>, Vec<FnRef>) {
    let mut offsets = Vec::with_capacity(modules.len());
    let mut nodes = Vec::new();
    for (mi, m) in modules.iter().enumerate() {
        offsets.push(nodes.len() as u32);
        for fi in 0..m.functions.len() {
            nodes.push(FnRef {
                module: mi as u32,
                func: fi as u32,
            });
        }
    }
    (offsets, nodes)
}

/// Adjacency lists as one edge array with a start index per node, each node's edges sorted
/// (stably) by line and target.
fn flatten(adjacency: Vec<Vec<Edge>>) -> (Vec<u32>, Vec<Edge>) {
    let mut edge_start = Vec::with_capacity(adjacency.len() + 1);
    let mut edges = Vec::new();
    for mut adj in adjacency {
        edge_start.push(edges.len() as u32);
        adj.sort_by_key(|e| (e.line, e.to));
        edges.extend(adj);
    }
    edge_start.push(edges.len() as u32);
    (edge_start, edges)
}
