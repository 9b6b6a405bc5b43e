//! The edges of the call graph, one function per edge kind, collected one module at a time.
//!
//! Each module's facts are turned into a [`ModuleEdges`] in parallel; the caller merges them
//! in module order, so the graph never depends on how the work was split. This module only
//! resolves names into edges, entry seeds and liveness roots: it does not traverse the graph
//! (that is `graph.rs`) and does not judge what a context costs.
//!
//! Within one module the order of the calls below is part of the output: edges leaving one
//! node on one line keep the order in which they are pushed here (the merge sorts stably by
//! line and target), and the first seed of a kind wins. A new edge kind is one more function,
//! called from [`module_edges`] at the place marked for it.

use rustc_hash::FxHashMap;

mod implicit;
mod wrappers;

pub(super) use wrappers::{Wrappers, wrappers};

use super::{Edge, EdgeKind, NO_LABEL, Receiver, Seed};
use crate::facts::{Call, Callables, FnKind, ModuleFacts, Name, Resolution};
use crate::finding::Confidence;
use crate::knowledge::contexts::ContextPatterns;
use crate::knowledge::frameworks::{EntryCandidate, Frameworks, On, ProfileSet, RoleId, Runs};
use crate::project::CtxKind;
use crate::project::resolve::{ClassRef, FnRef, Resolver, Target};

/// What one module contributes to the graph: its edges (by source node), seeds, live roots,
/// live classes and constructions (kept between runs by `links.rs`).
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub(super) struct ModuleEdges {
    /// The link cache writes them as one block (`graph/edge_codec.rs`).
    #[serde(with = "super::edge_codec")]
    pub edges: Vec<(u32, Edge)>,
    pub seeds: Vec<Seed>,
    pub live_roots: Vec<u32>,
    pub live_classes: Vec<ClassRef>,
    pub constructs: Vec<(u32, ClassRef)>,
    /// Functions a framework profile names as entries, with the shape that named them.
    #[serde(with = "super::links::roles")]
    pub roles: Vec<(u32, RoleId)>,
    /// How this module's implicit calls are written, indexed by their edges' `label`.
    pub labels: Vec<Box<str>>,
    /// Functions registered as handlers by a call (`app.add_route(p, fn)`,
    /// `bus.subscribe("t", fn)`): entries that run once per request or message.
    pub registered: Vec<u32>,
}

impl ModuleEdges {
    /// A label for an implicit call's edge: how the code wrote the call.
    pub fn label(&mut self, text: String) -> u32 {
        self.labels.push(text.into_boxed_str());
        self.labels.len() as u32 - 1
    }
}

/// Global node ids: the first id of each module's functions.
pub(super) struct NodeIds<'a> {
    pub offsets: &'a [u32],
}

impl NodeIds<'_> {
    pub fn id(&self, f: FnRef) -> u32 {
        self.offsets[f.module as usize] + f.func
    }
}

/// Everything an edge function reads about the project and the module it works on.
pub(super) struct ModuleCx<'a, 'm> {
    pub modules: &'m [ModuleFacts],
    pub resolver: &'m Resolver,
    pub patterns: &'a ContextPatterns,
    pub frameworks: &'a Frameworks,
    /// Project functions that hand a callable parameter to an offload or a background API
    /// (inferred).
    pub wrappers: &'a Wrappers,
    pub ids: &'a NodeIds<'a>,
    pub module: u32,
    pub memo: &'a mut Memo<'m>,
}

impl<'m> ModuleCx<'_, 'm> {
    fn facts(&self) -> &'m ModuleFacts {
        &self.modules[self.module as usize]
    }

    fn node(&self, func: u32) -> u32 {
        self.ids.id(FnRef {
            module: self.module,
            func,
        })
    }

    fn targets(
        &mut self,
        func: u32,
        target: &'m str,
        resolution: Resolution,
        text: &str,
    ) -> Vec<(Target, Confidence, Option<ClassRef>)> {
        targets(
            self.modules,
            self.memo,
            self.module,
            func,
            target,
            resolution,
            text,
        )
    }

    /// What a callable passed as a value denotes: the lambda it is (a `lambda_ref`), or
    /// whatever its name resolves to.
    fn callable_targets(
        &mut self,
        func: u32,
        text: &'m str,
        resolution: Resolution,
    ) -> Vec<(Target, Confidence, Option<ClassRef>)> {
        match crate::facts::lambda_id(text) {
            Some(id) => vec![(
                Target::Function(FnRef {
                    module: self.module,
                    func: id,
                }),
                Confidence::Definite,
                None,
            )],
            None => self.targets(func, text, resolution, ""),
        }
    }
}

/// Everything one module contributes, edge kind by edge kind.
pub(super) fn module_edges(cx: &mut ModuleCx<'_, '_>) -> ModuleEdges {
    let mut out = ModuleEdges::default();
    let profiles =
        crate::project::module_profiles(cx.frameworks, cx.facts(), cx.resolver.package.as_deref());
    entry_seeds(cx, &profiles, &mut out);
    referenced_callables(cx, &mut out);
    let m = cx.facts();
    let mut callables = m.callables.iter().peekable();
    for (i, call) in m.calls.iter().enumerate() {
        let args = callables
            .next_if(|(c, _)| *c == i as u32)
            .map_or(Callables::default(), |(_, a)| a);
        callable_arg_edges(cx, &profiles, call, args, &mut out);
        if call.api.is_none() {
            call_edges(cx, call, &mut out);
        }
    }
    // Implicit calls (`__iter__` of a `for`, property getters, dispatch tables); those of a
    // `with` and of calling an instance come with their call, in `call_edges`.
    implicit::implicit_edges(cx, &mut out);
    import_edges(cx, &mut out);
    // Exact-size: every module's list is held until the graph's array is filled (the
    // standard library's lists had 4 MiB of spare capacity).
    out.edges.shrink_to_fit();
    out
}

/// Entry points by shape: async functions (the event loop), handlers and routes (a request),
/// module bodies and lifespans (startup); module bodies, handlers and decorated functions are
/// live roots.
fn entry_seeds(cx: &mut ModuleCx<'_, '_>, profiles: &ProfileSet, out: &mut ModuleEdges) {
    let patterns = cx.patterns;
    let ancestors = class_ancestors(cx, profiles);
    for (fi, f) in cx.facts().functions.iter().enumerate() {
        let g = cx.node(fi as u32);
        let (lifespan, handler_name) = if f.decorators.is_empty() {
            cx.memo.name_roles(patterns, &f.name)
        } else {
            (
                patterns.is_lifespan(&f.name, &f.decorators),
                patterns.is_handler_name(&f.name),
            )
        };
        if f.is_async && !lifespan {
            out.seeds.push((CtxKind::EventLoop, g, None));
        }
        // A framework entry the profile says how often runs: its role seeds it, and a name
        // that usually handles requests (`handle`) says nothing more (a Django management
        // command's `handle()` runs once per command line).
        // A nested function is an entry only by its decorators (a route in an app factory).
        let nested = f.kind == FnKind::Nested && !f.decorators.is_empty();
        let role = if matches!(f.kind, FnKind::Function | FnKind::Method) || nested {
            let ancestors = f
                .class
                .map_or(&[][..], |c| ancestors[c as usize].as_slice());
            cx.frameworks.entry_role(
                EntryCandidate {
                    name: &f.name,
                    is_method: f.kind == FnKind::Method,
                    decorators: &f.decorators,
                    first_param: f.params.first().map(Name::as_str),
                    nested,
                },
                ancestors,
                profiles,
            )
        } else {
            None
        };
        let profiled = role.is_some_and(|r| cx.frameworks.role(r).runs != Runs::AsCalled);
        let handler = (matches!(f.kind, FnKind::Function | FnKind::Method) || nested)
            && ((handler_name && !profiled && !nested)
                || f.decorators.iter().any(|d| patterns.is_route_decorator(d)));
        // A request handler serves one request per call, on a thread or (async) on the event
        // loop: what it calls runs per request.
        if handler {
            out.seeds.push((CtxKind::Request, g, None));
        }
        if matches!(f.kind, FnKind::Module | FnKind::Main) || lifespan {
            out.seeds.push((CtxKind::Startup, g, None));
        }
        if matches!(f.kind, FnKind::Module | FnKind::Main) || handler || !f.decorators.is_empty() {
            out.live_roots.push(g);
        }
        if let Some(role) = role {
            framework_entry(cx.frameworks, role, g, f.is_async, None, out);
        }
    }
}

/// The qualified names of each class of the module and of every class above it: its MRO's
/// project classes and the bases they name (library classes included), for profiles that
/// match methods by base class.
fn class_ancestors(cx: &ModuleCx<'_, '_>, profiles: &ProfileSet) -> Vec<Vec<String>> {
    let m = cx.facts();
    if !cx.frameworks.matches_bases(profiles) {
        return vec![Vec::new(); m.classes.len()];
    }
    (0..m.classes.len() as u32)
        .map(|class| {
            let me = ClassRef {
                module: cx.module,
                class,
            };
            let mro = cx.resolver.mro(me).unwrap_or(std::slice::from_ref(&me));
            let mut names = Vec::new();
            for c in mro {
                let cm = &cx.modules[c.module as usize];
                let k = &cm.classes[c.class as usize];
                let module = match (&cx.resolver.package, cm.module.is_empty()) {
                    (Some(p), true) => p.clone(),
                    (Some(p), false) => format!("{p}.{}", cm.module),
                    (None, _) => cm.module.clone(),
                };
                names.push(if module.is_empty() {
                    k.qualname.clone()
                } else {
                    format!("{module}.{}", k.qualname)
                });
                names.extend(k.bases.iter().cloned());
            }
            names.sort();
            names.dedup();
            names
        })
        .collect()
}

/// Seeds a function that a framework runs (by its shape or a registration), in the context and
/// at the frequency its profile gives, and records the role for the execution query.
fn framework_entry(
    frameworks: &Frameworks,
    role: RoleId,
    node: u32,
    is_async: bool,
    pred: Option<(u32, u32)>,
    out: &mut ModuleEdges,
) {
    let r = frameworks.role(role);
    out.live_roots.push(node);
    // A plain `def` the framework calls on its event loop blocks it like an `async def`.
    if r.on == On::Loop && !is_async {
        out.seeds.push((CtxKind::EventLoop, node, pred));
    }
    let kind = match r.runs {
        Runs::PerRequest | Runs::PerSession | Runs::Periodic => CtxKind::Request,
        Runs::Once => CtxKind::Startup,
        Runs::Background => CtxKind::Background,
        // Only where it runs: how often is its callers' business.
        Runs::AsCalled => return,
    };
    out.roles.push((node, role));
    out.seeds.push((kind, node, pred));
}

/// Functions and classes used as values (`HANDLERS = {"a": on_a}`): live, with no edge.
fn referenced_callables<'m>(cx: &mut ModuleCx<'_, 'm>, out: &mut ModuleEdges) {
    let m = cx.facts();
    for (func, target, res) in &m.refs {
        for (t, _, _) in cx.targets(*func, target, *res, "") {
            match t {
                Target::Function(f) => out.live_roots.push(cx.ids.id(f)),
                Target::Class(c) => out.live_classes.push(c),
            }
        }
    }
}

/// Callables passed to a call (`to_thread(fn)`, `Thread(target=fn)`, `app.add_route(p, fn)`):
/// an offload, a spawned background task, a registered request handler, or (for any other
/// callee) a probable call.
fn callable_arg_edges<'m>(
    cx: &mut ModuleCx<'_, 'm>,
    profiles: &ProfileSet,
    call: &'m Call,
    callables: Callables<'m>,
    out: &mut ModuleEdges,
) {
    if callables.is_empty() {
        return;
    }
    let from = cx.node(call.func);
    let roles = cx.patterns.call_roles(&call.target);
    let wrappers = cx.wrappers;
    let offload = roles.offload()
        || cx.frameworks.is_offload(&call.target)
        || cx.calls_wrapper(call, &wrappers.offload);
    let background = roles.background() || cx.calls_wrapper(call, &wrappers.background);
    let role = cx
        .frameworks
        .registration(&call.target, &call.text, profiles);
    let registration = roles.route_registration();
    let at_exit = roles.exit_callback();
    let subscription = cx.patterns.is_subscription(&call.text);
    let on_loop = roles.loop_callback();
    for (text, res) in callables {
        let targets = cx.callable_targets(call.func, text, *res);
        for (t, conf, _) in targets {
            let f = match t {
                Target::Function(f) => f,
                Target::Class(c) => {
                    out.live_classes.push(c);
                    continue;
                }
            };
            let to = cx.ids.id(f);
            out.live_roots.push(to);
            let mut label = NO_LABEL;
            if at_exit || subscription || on_loop {
                let arg = match crate::facts::lambda_id(text) {
                    Some(_) => "lambda",
                    None => text.rsplit('.').next().unwrap_or(text),
                };
                label = out.label(format!("{}(..., {arg})", call.text));
            }
            let kind = if at_exit {
                // Once, when the process exits or gets the signal: never a request's cost.
                out.seeds
                    .push((CtxKind::Startup, to, Some((from, call.line))));
                EdgeKind::Spawn
            } else if subscription && role.is_none() {
                // Once per message the bus delivers: an entry of its own.
                out.seeds.push((CtxKind::Request, to, None));
                out.registered.push(to);
                EdgeKind::Spawn
            } else if let Some(role) = role {
                let is_async = cx.modules[f.module as usize].functions[f.func as usize].is_async;
                framework_entry(cx.frameworks, role, to, is_async, None, out);
                EdgeKind::Spawn
            } else if background {
                out.seeds
                    .push((CtxKind::Background, to, Some((from, call.line))));
                EdgeKind::Spawn
            } else if registration {
                out.seeds.push((CtxKind::Request, to, None));
                out.registered.push(to);
                EdgeKind::Spawn
            } else if offload {
                EdgeKind::Offload
            } else {
                if on_loop {
                    // Run later on the event loop, whoever schedules it (a worker thread
                    // through `call_soon_threadsafe`).
                    out.seeds
                        .push((CtxKind::EventLoop, to, Some((from, call.line))));
                }
                EdgeKind::Call
            };
            let confidence = if kind == EdgeKind::Call {
                conf.min(Confidence::Probable)
            } else {
                conf
            };
            out.edges.push((
                from,
                Edge::new(
                    to,
                    call.line,
                    kind,
                    confidence,
                    None,
                    Receiver::Fresh,
                    label,
                ),
            ));
        }
    }
}

/// The call itself, to each project function its target may denote (a class goes through
/// [`constructor_edge`]); a call made in a receive loop seeds the request-loop context.
fn call_edges<'m>(cx: &mut ModuleCx<'_, 'm>, call: &'m Call, out: &mut ModuleEdges) {
    let from = cx.node(call.func);
    for (t, confidence, dispatch) in
        cx.targets(call.func, &call.target, call.resolution, &call.text)
    {
        let mut kind = EdgeKind::Call;
        let mut receiver = receiver(cx, call, t);
        let mut label = NO_LABEL;
        if let Some(written) = constructor_label(cx.facts(), call) {
            label = out.label(written);
        }
        let to = match t {
            Target::Function(f) => {
                let (offload, property) =
                    cx.memo.decorated(cx.modules, cx.frameworks, cx.patterns, f);
                // `@run_on_executor`: every call runs the function on a worker thread.
                if offload {
                    kind = EdgeKind::Offload;
                }
                // `self.model(x)` where `model` is a property: the read runs its getter, and
                // the call is made on what it returns.
                if property {
                    label = out.label(call.text.to_string());
                }
                cx.ids.id(f)
            }
            // Calling an instance (`client = Client(); client(x)`) runs its `__call__`.
            Target::Class(c) if call.resolution == Resolution::Inferred => {
                // An instance of the class or of a subclass: any `self` of `__call__`'s class.
                receiver = Receiver::Fresh;
                match cx.resolver.lookup_method(c, "__call__") {
                    Some(f) => {
                        label = out.label(format!("{}(...)", call.text));
                        cx.ids.id(f)
                    }
                    None => continue,
                }
            }
            Target::Class(c) => {
                // `with Resource() as r:` also runs its `__enter__` and `__exit__`.
                if call.in_with() {
                    implicit_dunders(cx, from, call, c, confidence, out);
                }
                match constructor_edge(cx, from, c, out) {
                    Some(init) => init,
                    None => continue,
                }
            }
        };
        out.edges.push((
            from,
            Edge::new(to, call.line, kind, confidence, dispatch, receiver, label),
        ));
        if call.in_recv_loop() {
            // An async receive loop's callees run on the event loop, once per request: a
            // request context, not a thread's request loop.
            let kind = if cx.facts().functions[call.func as usize].is_async {
                CtxKind::Request
            } else {
                CtxKind::RequestLoop
            };
            out.seeds.push((kind, to, Some((from, call.line))));
        }
    }
}

/// Whether the call is `super().m(...)`.
fn is_super_call(m: &ModuleFacts, call: &Call) -> bool {
    call.receiver_call()
        .is_some_and(|i| &*m.calls[i as usize].text == "super")
}

/// How a call that names no class or method wrote it, when it runs one: `cls(...)` in a
/// classmethod, `super().__init__(...)`.
fn constructor_label(m: &ModuleFacts, call: &Call) -> Option<String> {
    if &*call.text == "cls" {
        return Some("cls(...)".to_owned());
    }
    let method = call.text.strip_prefix("<call>.")?;
    is_super_call(m, call).then(|| format!("super().{method}(...)"))
}

/// The context-manager methods a `with` statement runs on an instance of a project class:
/// `__enter__`/`__exit__`, or `__aenter__`/`__aexit__` for `async with`, whichever it defines
/// (along the MRO).
fn implicit_dunders(
    cx: &ModuleCx<'_, '_>,
    from: u32,
    call: &Call,
    class: ClassRef,
    confidence: Confidence,
    out: &mut ModuleEdges,
) {
    for name in ["__enter__", "__exit__", "__aenter__", "__aexit__"] {
        if let Some(f) = cx.resolver.lookup_method(class, name) {
            let with = if name.starts_with("__a") {
                "async with"
            } else {
                "with"
            };
            let label = out.label(format!("{with} {}()", call.text));
            out.edges.push((
                from,
                Edge::new(
                    cx.ids.id(f),
                    call.line,
                    EdgeKind::Call,
                    confidence,
                    None,
                    // The `with` statement's object is the instance just built.
                    Receiver::Built(class),
                    label,
                ),
            ));
        }
    }
}

/// What a call says about its callee's `self`: a constructor builds exactly its class,
/// `self.m()` passes the caller's on, and a method found on a typed receiver's base class
/// (`w = Worker(); w.start()`, `start` defined in a base) runs on that receiver's type.
fn receiver<'m>(cx: &mut ModuleCx<'_, 'm>, call: &'m Call, t: Target) -> Receiver {
    match (t, call.resolution) {
        (Target::Class(c), _) => Receiver::Built(c),
        (Target::Function(_), Resolution::SelfMethod) => Receiver::Same,
        // `super().m()` runs the base's method on the caller's own `self`.
        (Target::Function(_), _) if is_super_call(cx.facts(), call) => Receiver::Same,
        (Target::Function(f), Resolution::Inferred) => {
            let Some((typed, _)) = call.target.rsplit_once('.') else {
                return Receiver::Fresh;
            };
            match cx.memo.resolve(typed) {
                Some((Target::Class(c), _)) if cx.resolver.class_of(cx.modules, f) != Some(c) => {
                    Receiver::Typed(c)
                }
                _ => Receiver::Fresh,
            }
        }
        _ => Receiver::Fresh,
    }
}

/// Calling a class constructs it: the class is live, `from` constructs it, and the call goes
/// to `__init__` along the MRO (the node returned), if the project defines one.
fn constructor_edge(
    cx: &ModuleCx<'_, '_>,
    from: u32,
    class: ClassRef,
    out: &mut ModuleEdges,
) -> Option<u32> {
    out.live_classes.push(class);
    out.constructs.push((from, class));
    cx.resolver
        .lookup_method(class, "__init__")
        .map(|init| cx.ids.id(init))
}

/// Importing a module runs its body: an edge from this module's body to the body of the
/// longest dotted prefix of the import target that is a module of the project.
fn import_edges(cx: &ModuleCx<'_, '_>, out: &mut ModuleEdges) {
    let from = cx.node(0);
    for imp in &cx.facts().imports {
        let t = imp.target.as_str();
        let mut end = t.len();
        let found = loop {
            if let Some(m) = cx.resolver.module(&t[..end]) {
                break Some(m);
            }
            match t[..end].rfind('.') {
                Some(dot) => end = dot,
                None => break None,
            }
        };
        if let Some((target, confidence)) = found
            && target != cx.module
        {
            out.edges.push((
                from,
                Edge::new(
                    cx.ids.id(FnRef {
                        module: target,
                        func: 0,
                    }),
                    imp.line,
                    EdgeKind::Import,
                    confidence,
                    None,
                    Receiver::Fresh,
                    NO_LABEL,
                ),
            ));
        }
    }
}

/// Liveness roots that need the whole project: every method of a class that is constructed,
/// referenced or subclassed.
pub(super) fn class_method_roots(
    modules: &[ModuleFacts],
    resolver: &Resolver,
    ids: &NodeIds<'_>,
    mut live_classes: Vec<ClassRef>,
    live_roots: &mut Vec<u32>,
) {
    live_classes.extend_from_slice(&resolver.subclassed);
    live_classes.sort();
    live_classes.dedup();
    // Walked module by module beside the sorted classes: a module's live classes are a flag
    // each, not a search among every live class of the project per method.
    let mut next = 0;
    let mut live: Vec<bool> = Vec::new();
    for (mi, m) in modules.iter().enumerate() {
        let end = next + live_classes[next..].partition_point(|c| c.module <= mi as u32);
        if next == end {
            continue;
        }
        // Sorted by class within the module: the last is the largest index.
        live.clear();
        live.resize(live_classes[end - 1].class as usize + 1, false);
        for c in &live_classes[next..end] {
            live[c.class as usize] = true;
        }
        next = end;
        for (fi, f) in m.functions.iter().enumerate() {
            if let (FnKind::Method, Some(c)) = (f.kind, f.class)
                && live.get(c as usize).copied().unwrap_or(false)
            {
                live_roots.push(ids.id(FnRef {
                    module: mi as u32,
                    func: fi as u32,
                }));
            }
        }
    }
}

/// Resolved names, once per distinct name: most call targets repeat (`os.path.join`).
pub(super) struct Memo<'m> {
    resolver: &'m Resolver,
    known: FxHashMap<&'m str, Option<(Target, Confidence)>>,
    /// What an undecorated function's name says (a lifespan, a handler), by the address of
    /// the interned name: `__init__`, `run`, `get` repeat across a project.
    name_roles: FxHashMap<usize, (bool, bool)>,
    /// [`Memo::decorated`], by function.
    decorated: FxHashMap<FnRef, (bool, bool)>,
}

impl<'m> Memo<'m> {
    pub fn new(resolver: &'m Resolver) -> Memo<'m> {
        Memo {
            resolver,
            known: FxHashMap::default(),
            name_roles: FxHashMap::default(),
            decorated: FxHashMap::default(),
        }
    }

    /// Whether a called function's decorators run it on a worker thread (`@run_on_executor`,
    /// matched against every profile's patterns) and make it a property, once per function.
    fn decorated(
        &mut self,
        modules: &[ModuleFacts],
        frameworks: &Frameworks,
        patterns: &ContextPatterns,
        f: FnRef,
    ) -> (bool, bool) {
        let decorators = &modules[f.module as usize].functions[f.func as usize].decorators;
        if decorators.is_empty() {
            return (false, false);
        }
        *self.decorated.entry(f).or_insert_with(|| {
            (
                decorators
                    .iter()
                    .any(|d| frameworks.is_offload_decorator(d)),
                decorators.iter().any(|d| patterns.is_property_decorator(d)),
            )
        })
    }

    /// Whether an undecorated function named `name` is a lifespan and has a handler's name.
    /// Keyed by address, which only ever misses: equal texts share one interned `Name`, and
    /// the facts that hold the names outlive the memo.
    fn name_roles(&mut self, patterns: &ContextPatterns, name: &Name) -> (bool, bool) {
        *self
            .name_roles
            .entry(name.as_ptr() as usize)
            .or_insert_with(|| {
                (
                    patterns.is_lifespan(name, &[]),
                    patterns.is_handler_name(name),
                )
            })
    }

    fn resolve(&mut self, name: &'m str) -> Option<(Target, Confidence)> {
        *self
            .known
            .entry(name)
            .or_insert_with(|| self.resolver.resolve(name))
    }
}

/// Whether a method is declared abstract (`@abc.abstractmethod`): only its overrides run.
fn is_abstract(modules: &[ModuleFacts], f: FnRef) -> bool {
    modules[f.module as usize].functions[f.func as usize]
        .decorators
        .iter()
        .any(|d| d == "abc.abstractmethod")
}

/// The project definitions a call target (or callable reference) may denote, with confidence.
fn targets<'m>(
    modules: &[ModuleFacts],
    memo: &mut Memo<'m>,
    module: u32,
    func: u32,
    target: &'m str,
    resolution: Resolution,
    text: &str,
) -> Vec<(Target, Confidence, Option<ClassRef>)> {
    let resolver = memo.resolver;
    match resolution {
        Resolution::Import | Resolution::Local => memo
            .resolve(target)
            .map(|(t, c)| (t, c, None))
            .into_iter()
            .collect(),
        Resolution::Inferred => {
            let mut out: Vec<_> = memo
                .resolve(target)
                .map(|(t, c)| (t, c.min(Confidence::Probable), None))
                .into_iter()
                .collect();
            // A call on a receiver typed as an interface (`data_layer: BaseDataLayer`) to one of
            // its abstract methods runs one of the implementations.
            if let Some((Target::Function(f), _, _)) = out.first().copied()
                && is_abstract(modules, f)
                && let Some(class) = resolver.class_of(modules, f)
            {
                let method = &modules[f.module as usize].functions[f.func as usize].name;
                for o in resolver.overrides(modules, class, method) {
                    let owner = resolver.class_of(modules, o);
                    out.push((Target::Function(o), Confidence::Probable, owner));
                }
            }
            out
        }
        Resolution::SelfMethod => {
            let mut out: Vec<_> = memo
                .resolve(target)
                .map(|(t, c)| (t, c, None))
                .into_iter()
                .collect();
            // `self.m()` written in a base class also dispatches to subclass overrides.
            let (class_name, method) = split_last_dot(target).unwrap_or((target, ""));
            let class = match memo.resolve(class_name) {
                Some((Target::Class(c), _)) => Some(c),
                _ => resolver.class_of(modules, FnRef { module, func }),
            };
            if let Some(c) = class {
                for f in resolver.overrides(modules, c, method) {
                    let owner = resolver.class_of(modules, f);
                    out.push((Target::Function(f), Confidence::Probable, owner));
                }
            }
            out
        }
        Resolution::Unresolved => {
            // A method name defined exactly once in the project, called on an untyped receiver.
            let Some((_, method)) = split_last_dot(text) else {
                return Vec::new();
            };
            if method.len() < 4 || method.starts_with("__") {
                return Vec::new();
            }
            match resolver.methods_named(method) {
                [only] => vec![(Target::Function(*only), Confidence::Possible, None)],
                _ => Vec::new(),
            }
        }
    }
}

/// `rsplit_once('.')` by byte search: it runs for most call sites of the project.
fn split_last_dot(text: &str) -> Option<(&str, &str)> {
    memchr::memrchr(b'.', text.as_bytes()).map(|dot| (&text[..dot], &text[dot + 1..]))
}
