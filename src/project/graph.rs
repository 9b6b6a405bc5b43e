//! The project call graph and the execution contexts propagated over it.
//!
//! Nodes are every function of every module (module bodies and `__main__` blocks included).
//! Edges come from resolved call sites, constructor calls (to `__init__` along the MRO),
//! `self.m()` dispatch (to the MRO method and, with lower confidence, subclass overrides),
//! callbacks, implicit calls (`with`, `for`, property reads, dispatch tables; labelled with how
//! the code wrote them, for the chain), and a unique-method-name fallback (lowest confidence). Contexts spread from their
//! seeds by breadth-first search, one pass per context kind, so each function keeps the shortest
//! chain from an entry point of each kind; cycles and recursion need no special casing.
//!
//! Context follows the receiver's type: the search carries what is known of `self` (built as
//! exactly one class on the chain, or entered through a method of a subclass), and a dispatch
//! edge to an override is only followed when `self` can be an instance of the override's class.
//! A node is visited at most once per distinct receiver, and at most [`RECEIVER_STATES`] times
//! with a known one before it is visited as "any receiver": the search stays linear.
//! Which edges exist is decided in `graph/edges.rs`, one function per edge kind.

use std::collections::VecDeque;

use rustc_hash::{FxHashMap, FxHashSet};

use super::CtxKind;
use super::resolve::{ClassRef, FnRef, Resolver};
use crate::facts::ModuleFacts;
use crate::finding::Confidence;
use crate::knowledge::contexts::ContextPatterns;
use crate::knowledge::frameworks::{Frameworks, RoleId};
use edges::NodeIds;
use links::LinkReuse;

mod assemble;
mod compact;
mod edge_codec;
mod edges;
pub mod links;

use compact::EdgeExtra;
pub use compact::GraphEdge;

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

/// A call edge, 32 bytes: the two optional classes are plain `ClassRef`s ([`NO_CLASS`] for
/// none) and the receiver's kind one byte, where `Option<ClassRef>` and the `Receiver` enum
/// took 12 bytes each (40 in all). The standard library has 177,514 edges, each held in its
/// module's list (and the link cache) and then, compacted, in the graph's array
/// ([`GraphEdge`]).
#[derive(Debug, Clone, Copy)]
pub struct Edge {
    pub to: u32,
    pub line: u32,
    /// For a call Python makes without `f()` at the site (`with Lock()`, `for r in Reader()`,
    /// a property read): how the code wrote it, an index into its module's labels, or
    /// [`NO_LABEL`].
    label: u32,
    /// For `self.m()` dispatched to a subclass override: the class that defines it, or
    /// [`NO_CLASS`] (read through [`Graph::dispatch`]).
    dispatch: ClassRef,
    /// The class of a `Built` or `Typed` receiver (read through `Graph::receiver`).
    receiver_class: ClassRef,
    kind: EdgeKind,
    pub confidence: Confidence,
    receiver_kind: ReceiverKind,
}

const _: () = assert!(std::mem::size_of::<Edge>() == 32);

/// `Edge::dispatch` when the edge is not a dispatch to an override.
const NO_CLASS: ClassRef = ClassRef {
    module: u32::MAX,
    class: u32::MAX,
};

/// The variant of an edge's [`Receiver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReceiverKind {
    Fresh,
    Same,
    Built,
    Typed,
}

impl Edge {
    fn new(
        to: u32,
        line: u32,
        kind: EdgeKind,
        confidence: Confidence,
        dispatch: Option<ClassRef>,
        receiver: Receiver,
        label: u32,
    ) -> Edge {
        let (receiver_kind, receiver_class) = match receiver {
            Receiver::Fresh => (ReceiverKind::Fresh, NO_CLASS),
            Receiver::Same => (ReceiverKind::Same, NO_CLASS),
            Receiver::Built(c) => (ReceiverKind::Built, c),
            Receiver::Typed(c) => (ReceiverKind::Typed, c),
        };
        Edge {
            to,
            line,
            label,
            dispatch: dispatch.unwrap_or(NO_CLASS),
            receiver_class,
            kind,
            confidence,
            receiver_kind,
        }
    }
}

/// An edge whose call is written as a plain call: its chain step needs no label.
const NO_LABEL: u32 = u32::MAX;

/// What a call says about the callee's `self`, for following `self.m()` dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Receiver {
    /// Nothing: the callee's `self` is any instance of its class (a plain call, a callback).
    Fresh,
    /// `self.m()`: the callee's `self` is the caller's.
    Same,
    /// A constructor call: `self` is an instance of exactly this class.
    Built(ClassRef),
    /// A call on a receiver typed as this class (`w = Worker(); w.start()` where `start` is
    /// inherited): an instance of this class or of a subclass.
    Typed(ClassRef),
}

/// What the search knows of `self` in the function it visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SelfType {
    /// Any instance of the function's class (or not a method).
    Any,
    /// An instance of exactly this class.
    Exactly(ClassRef),
    /// An instance of this class or a subclass, where this class is below the function's own.
    Within(ClassRef),
}

/// How many known receivers a node is visited with, per context kind, before it is visited as
/// "any receiver" (which follows every dispatch edge, as a search without types would). A
/// component base whose constructor calls `self.postprocess(value)` is built as dozens of
/// classes by one handler (a UI toolkit's components): with a handful, the next class built
/// made every component's override run on that handler's path. Known receivers only travel
/// along `self.m()` and `super().m()` edges, so the visits stay a small multiple of the nodes.
const RECEIVER_STATES: usize = 64;

/// One visit of the search: a node with what is known of its `self`, reached from a visit of
/// its caller (`from`, an index into the same kind's visits) or from outside the search.
#[derive(Debug, Clone, Copy)]
struct Visit {
    node: u32,
    receiver: SelfType,
    /// The caller and the line of the call, or `None` for an entry point.
    pred: Option<(u32, u32)>,
    /// The caller's visit in this kind, or `NO_VISIT` for an entry point or a seed whose caller
    /// lies in another kind's search.
    from: u32,
    confidence: Confidence,
    /// The label of the edge that made this visit, or [`NO_LABEL`].
    label: u32,
}

const NO_VISIT: u32 = u32::MAX;

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
    edges: Vec<GraphEdge>,
    /// The labels and classes of the edges that have any, indexed by `GraphEdge::extra`.
    extras: Vec<EdgeExtra>,
    /// Per context kind, every visit of the search, in the order made.
    visits: [Vec<Visit>; 5],
    /// Per node: `NO_VISIT` when no search reached it, else its row in `first_rows`: per
    /// context kind, its first (shortest) visit, or `NO_VISIT`. Rows only for the nodes
    /// reached: on the standard library 10,122 of 63,294 nodes, so 0.4 MiB where a row for
    /// every node took 1.2 MiB.
    first: Vec<u32>,
    first_rows: Vec<[u32; 5]>,
    /// Reachable from any entry point or module-level code.
    live: Vec<bool>,
    /// Classes instantiated by each node, sorted by node.
    constructs: Vec<(u32, ClassRef)>,
    /// Framework entries and the profile shape that names each, sorted by node (the first
    /// shape found for a node wins).
    roles: Vec<(u32, RoleId)>,
    /// How implicit calls are written (`with FileLock()`), indexed by `Edge::label`.
    labels: Vec<Box<str>>,
    /// Functions a call registers as a handler (a route, a bus subscription), sorted.
    registered: Vec<u32>,
}

impl Graph {
    pub fn id(&self, f: FnRef) -> u32 {
        self.offsets[f.module as usize] + f.func
    }

    pub fn node(&self, id: u32) -> FnRef {
        self.nodes[id as usize]
    }

    pub fn reach(&self, f: FnRef, kind: CtxKind) -> Option<Reach> {
        self.first_visit(self.id(f), kind_index(kind))
            .map(|v| Reach {
                pred: v.pred,
                confidence: v.confidence,
            })
    }

    /// The index of a node's first visit in kind `k`'s visits, or `NO_VISIT`.
    fn first_index(&self, node: u32, k: usize) -> u32 {
        match self.first[node as usize] {
            NO_VISIT => NO_VISIT,
            row => self.first_rows[row as usize][k],
        }
    }

    fn first_visit(&self, node: u32, k: usize) -> Option<&Visit> {
        match self.first_index(node, k) {
            NO_VISIT => None,
            i => Some(&self.visits[k][i as usize]),
        }
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
    pub fn edges_from(&self, node: u32) -> &[GraphEdge] {
        self.out_edges(node)
    }

    /// Whether an edge carries control (a call or an offload), as opposed to spawning or
    /// importing.
    pub fn is_call(e: &GraphEdge) -> bool {
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

    /// Whether a call registers `f` as a handler (`app.add_route(p, f)`,
    /// `bus.subscribe("t", f)`): it runs once per request or message.
    pub fn is_registered(&self, f: FnRef) -> bool {
        self.registered.binary_search(&self.id(f)).is_ok()
    }

    /// Classes a node instantiates.
    pub fn constructs(&self, node: u32) -> impl Iterator<Item = ClassRef> + '_ {
        let start = self.constructs.partition_point(|(n, _)| *n < node);
        self.constructs[start..]
            .iter()
            .take_while(move |(n, _)| *n == node)
            .map(|(_, c)| *c)
    }

    /// The chain of `(function, line of the call it makes, how the call is written when Python
    /// makes it implicitly)` from the entry point of `kind` to `f`, entry first; `f` itself is
    /// not included.
    pub fn chain_to(&self, f: FnRef, kind: CtxKind) -> Vec<(FnRef, u32, Option<&str>)> {
        let k = kind_index(kind);
        let mut out = Vec::new();
        let mut cur = self.first_index(self.id(f), k);
        let mut guard = 0usize;
        while cur != NO_VISIT {
            let v = &self.visits[k][cur as usize];
            let Some((from, line)) = v.pred else { break };
            // A seed made by a callback registration carries no label: its call's edge does.
            let label = match v.label {
                NO_LABEL => self
                    .out_edges(from)
                    .iter()
                    .find(|e| e.to == v.node && e.line == line && self.label_of(e) != NO_LABEL)
                    .map_or(NO_LABEL, |e| self.label_of(e)),
                l => l,
            };
            let label = self.labels.get(label as usize).map(|l| &**l);
            out.push((self.nodes[from as usize], line, label));
            // The caller's own visit, or (for a seed whose caller is outside this search) the
            // caller's first visit in this kind, if any.
            cur = if v.from != NO_VISIT {
                v.from
            } else {
                self.first_index(from, k)
            };
            guard += 1;
            if guard > self.visits[k].len() {
                break;
            }
        }
        out.reverse();
        out
    }

    /// The graph of a project: nodes for every function, edges collected per module in
    /// parallel (one function per edge kind, in `edges.rs`) and merged in module order, then
    /// contexts spread from their seeds and liveness from its roots. With `reuse`, a module
    /// whose own facts and the project's interface are those of the last run takes that run's
    /// edges (`links.rs`).
    pub fn build(
        modules: &[ModuleFacts],
        resolver: &Resolver,
        patterns: &ContextPatterns,
        frameworks: &Frameworks,
        mut reuse: Option<&mut LinkReuse>,
    ) -> Graph {
        let (offsets, nodes) = number_nodes(modules);
        let ids = NodeIds { offsets: &offsets };
        let wrappers = edges::wrappers(modules, resolver, patterns, frameworks);
        let interface = reuse
            .as_deref()
            .map(|r| links::interface(r.settings, modules, resolver.package.as_deref(), &wrappers));
        let kept = match (reuse.as_deref_mut(), interface) {
            (Some(r), Some(i)) => r.take(i, modules.len()),
            _ => (0..modules.len()).map(|_| None).collect(),
        };
        let keep = reuse.is_some();
        let assemble::Assembled {
            edge_start,
            mut edges,
            mut extras,
            seeds,
            mut live_roots,
            live_classes,
            mut constructs,
            mut roles,
            mut labels,
            mut registered,
            lists,
        } = assemble::assemble(
            &assemble::Inputs {
                modules,
                resolver,
                patterns,
                frameworks,
                wrappers: &wrappers,
                offsets: &offsets,
                nodes: nodes.len(),
            },
            kept,
            keep,
        );
        // A caller's edges by line, then callee; equal ones in module order (a stable sort).
        for w in edge_start.windows(2) {
            edges[w[0] as usize..w[1] as usize].sort_by_key(|e| (e.line, e.to));
        }
        // Kept for the next run.
        if let (Some(r), Some(i)) = (reuse, interface) {
            r.keep(i, lists);
        }
        edges::class_method_roots(modules, resolver, &ids, live_classes, &mut live_roots);
        constructs.sort();
        constructs.dedup();
        constructs.shrink_to_fit();
        extras.shrink_to_fit();
        labels.shrink_to_fit();
        // Stable: a node's first role (in module order, shapes before registrations) wins.
        roles.sort_by_key(|(n, _)| *n);
        roles.dedup_by_key(|(n, _)| *n);
        registered.sort_unstable();
        registered.dedup();

        let n = nodes.len();
        let mut g = Graph {
            offsets,
            nodes,
            edge_start,
            edges,
            extras,
            visits: Default::default(),
            first: Vec::new(),
            first_rows: Vec::new(),
            live: vec![false; n],
            constructs,
            roles,
            labels,
            registered,
        };
        g.propagate(&seeds, modules, resolver);
        g.mark_live(&live_roots);
        g
    }

    fn out_edges(&self, node: u32) -> &[GraphEdge] {
        &self.edges
            [self.edge_start[node as usize] as usize..self.edge_start[node as usize + 1] as usize]
    }

    /// Breadth-first from the seeds of each kind. Offload edges carry the event-loop context
    /// over as request latency; every other kind crosses them unchanged. A dispatch edge is
    /// followed only when the receiver can be an instance of the override's class.
    fn propagate(&mut self, seeds: &[Seed], modules: &[ModuleFacts], resolver: &Resolver) {
        let types = Types { modules, resolver };
        let mut first = vec![[NO_VISIT; 5]; self.nodes.len()];
        for kind in KINDS {
            let k = kind_index(kind);
            let mut search = Search {
                visits: Vec::new(),
                first: &mut first,
                k,
                any: vec![false; self.nodes.len()],
                known: FxHashSet::default(),
                counts: FxHashMap::default(),
                queue: VecDeque::new(),
            };
            for &(sk, node, pred) in seeds {
                if sk == kind {
                    search.visit(
                        &types,
                        &self.nodes,
                        node,
                        SelfType::Any,
                        pred,
                        NO_VISIT,
                        Confidence::Definite,
                        NO_LABEL,
                    );
                }
            }
            // Request latency that arrives through an offload from the event loop.
            if kind == CtxKind::Request {
                let el = kind_index(CtxKind::EventLoop);
                for node in 0..self.nodes.len() as u32 {
                    let i = search.first[node as usize][el];
                    if i == NO_VISIT {
                        continue;
                    }
                    let conf = self.visits[el][i as usize].confidence;
                    for e in self.out_edges(node) {
                        if e.kind == EdgeKind::Offload {
                            search.visit(
                                &types,
                                &self.nodes,
                                e.to,
                                SelfType::Any,
                                Some((node, e.line)),
                                NO_VISIT,
                                conf.min(e.confidence),
                                self.label_of(e),
                            );
                        }
                    }
                }
            }
            while let Some(vi) = search.queue.pop_front() {
                let v = search.visits[vi as usize];
                for e in self.out_edges(v.node) {
                    match e.kind {
                        EdgeKind::Spawn | EdgeKind::Import => continue,
                        EdgeKind::Offload if kind == CtxKind::EventLoop => continue,
                        _ => {}
                    }
                    let receiver = match self.receiver(e) {
                        Receiver::Fresh => SelfType::Any,
                        Receiver::Same => match v.receiver {
                            SelfType::Any => types
                                .class_of(self.nodes[v.node as usize])
                                .map_or(SelfType::Any, SelfType::Within),
                            known => known,
                        },
                        Receiver::Built(c) => SelfType::Exactly(c),
                        Receiver::Typed(c) => SelfType::Within(c),
                    };
                    if let Some(owner) = self.dispatch(e)
                        && !types.admits(receiver, owner)
                    {
                        continue;
                    }
                    search.visit(
                        &types,
                        &self.nodes,
                        e.to,
                        receiver,
                        Some((v.node, e.line)),
                        vi,
                        v.confidence.min(e.confidence),
                        self.label_of(e),
                    );
                }
            }
            self.visits[k] = search.visits;
        }
        for v in &mut self.visits {
            v.shrink_to_fit();
        }
        // Only the rows of reached nodes are kept (see `Graph::first`).
        let reached = first.iter().filter(|r| **r != [NO_VISIT; 5]).count();
        self.first = Vec::with_capacity(first.len());
        self.first_rows = Vec::with_capacity(reached);
        for row in first {
            if row == [NO_VISIT; 5] {
                self.first.push(NO_VISIT);
            } else {
                self.first.push(self.first_rows.len() as u32);
                self.first_rows.push(row);
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
        for i in 0..self.nodes.len() {
            // Anything a context reached from a seed is live, and so is what it calls.
            let reached = (0..KINDS.len()).any(|k| {
                self.first_visit(i as u32, k)
                    .is_some_and(|v| v.pred.is_some())
            });
            if reached && !self.live[i] {
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

/// The class hierarchy, as the search needs it.
struct Types<'a> {
    modules: &'a [ModuleFacts],
    resolver: &'a Resolver,
}

impl Types<'_> {
    fn class_of(&self, f: FnRef) -> Option<ClassRef> {
        self.resolver.class_of(self.modules, f)
    }

    /// Whether `class` is `ancestor` or a subclass of it.
    fn is_a(&self, class: ClassRef, ancestor: ClassRef) -> bool {
        class == ancestor
            || self
                .resolver
                .mro(class)
                .is_some_and(|mro| mro.contains(&ancestor))
    }

    /// Whether a receiver can be an instance of `owner`, so that `owner`'s override runs.
    fn admits(&self, receiver: SelfType, owner: ClassRef) -> bool {
        match receiver {
            SelfType::Any => true,
            SelfType::Exactly(c) => self.is_a(c, owner),
            SelfType::Within(c) => self.is_a(c, owner) || self.is_a(owner, c),
        }
    }

    /// The receiver as the callee `f` sees it: "this class or a subclass" says nothing new in
    /// a method of that class or of a subclass, nor anywhere outside a method.
    fn normalise(&self, receiver: SelfType, f: FnRef) -> SelfType {
        match (receiver, self.class_of(f)) {
            (_, None) => SelfType::Any,
            (SelfType::Within(c), Some(own)) if self.is_a(own, c) => SelfType::Any,
            (r, _) => r,
        }
    }
}

/// One kind's breadth-first search over (node, receiver) pairs.
struct Search<'g> {
    visits: Vec<Visit>,
    first: &'g mut [[u32; 5]],
    k: usize,
    /// Nodes visited with any receiver: no other visit can follow more edges.
    any: Vec<bool>,
    known: FxHashSet<(u32, SelfType)>,
    counts: FxHashMap<u32, usize>,
    queue: VecDeque<u32>,
}

impl Search<'_> {
    #[allow(clippy::too_many_arguments)]
    fn visit(
        &mut self,
        types: &Types<'_>,
        nodes: &[FnRef],
        node: u32,
        receiver: SelfType,
        pred: Option<(u32, u32)>,
        from: u32,
        confidence: Confidence,
        label: u32,
    ) {
        let n = node as usize;
        if self.any[n] {
            return;
        }
        let mut receiver = types.normalise(receiver, nodes[n]);
        if receiver != SelfType::Any {
            if self.known.contains(&(node, receiver)) {
                return;
            }
            let count = self.counts.entry(node).or_default();
            if *count >= RECEIVER_STATES {
                receiver = SelfType::Any;
            } else {
                *count += 1;
                self.known.insert((node, receiver));
            }
        }
        if receiver == SelfType::Any {
            self.any[n] = true;
        }
        let i = self.visits.len() as u32;
        self.visits.push(Visit {
            node,
            receiver,
            pred,
            from,
            confidence,
            label,
        });
        if self.first[n][self.k] == NO_VISIT {
            self.first[n][self.k] = i;
        }
        self.queue.push_back(i);
    }
}

/// One node per function of every module, numbered module by module: the first id of each
/// module, and the function of each id.
fn number_nodes(modules: &[ModuleFacts]) -> (Vec<u32>, Vec<FnRef>) {
    let mut offsets = Vec::with_capacity(modules.len());
    let mut nodes = Vec::with_capacity(modules.iter().map(|m| m.functions.len()).sum());
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
