//! The linked project: every module's facts, and the execution contexts each call runs in.
//!
//! Rules ask one question here (`context`): "how is this site executed, reached how, and how
//! often?" The answer carries the context kind (event loop, request loop, request handler,
//! startup, background), the frequency, the chain from the entry point, and how sure it is.

use serde::{Deserialize, Serialize};

use crate::knowledge::contexts::ContextPatterns;
use crate::knowledge::frameworks::{Frameworks, ProfileSet};
mod arguments;
pub mod context;
pub mod copies;
mod flags;
pub mod graph;
mod memo;
mod once;
pub mod resolve;
pub mod services;

use crate::facts::{FnKind, FuncId, ModuleFacts};
use graph::Graph;
pub use graph::links::{LinkReuse, Links, module_key, settings_key};
use resolve::{FnRef, Resolver};

/// Where a piece of code runs, from the point of view of request latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CtxKind {
    /// Inside `async def` (or called synchronously from one): blocks every coroutine.
    EventLoop,
    /// The body of a loop that receives work in a thread/ZMQ service: runs once per request.
    RequestLoop,
    /// A request handler (route, `handle_*`): runs once per request.
    Request,
    /// Startup: module level, `__init__`, `__main__`: runs once.
    Startup,
    /// A thread target, executor job or offloaded call: off the request path.
    Background,
}

impl CtxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CtxKind::EventLoop => "event-loop",
            CtxKind::RequestLoop => "request-loop",
            CtxKind::Request => "request",
            CtxKind::Startup => "startup",
            CtxKind::Background => "background",
        }
    }
}

pub struct Project {
    pub modules: Vec<ModuleFacts>,
    pub patterns: ContextPatterns,
    /// The framework profiles, with those the audited code imports turned on.
    pub frameworks: Frameworks,
    pub resolver: Resolver,
    pub graph: Graph,
    /// Modules that a service manifest names as a service's entry: live code, even under a
    /// folder that usually holds tooling (`scripts/`).
    pub service_modules: rustc_hash::FxHashSet<u32>,
    /// What the execution query looks up about chain entries.
    pub entries: context::EntryIndex,
    /// Groups of near-identical modules (`copies.rs`), by module index.
    pub copies: Vec<Vec<u32>>,
    /// Every call edge by callee, built on first use (what callers pass a parameter).
    callers: arguments::Callers,
    /// What `called_only_once` answered, by node (asked again for every site in a function).
    called_once: once::Answers,
    /// The project's own memoising decorators, found on first use (`memo.rs`).
    memoisers: memo::Memoisers,
    /// The flags set back to `False` somewhere, found on first use (`flags.rs`).
    flag_resets: flags::Resets,
    /// The values the system's manifests give to configuration keys.
    pub configured: Configured,
}

/// The string values the files that declare services give to configuration keys
/// (`alert_webhook: http://localhost:9000/hooks`), by key.
#[derive(Debug, Default)]
pub struct Configured(rustc_hash::FxHashMap<String, Vec<String>>);

impl Configured {
    /// Adds one file's `(key, value)` pairs.
    pub fn add(&mut self, pairs: Vec<(String, String)>) {
        for (k, v) in pairs {
            let values = self.0.entry(k).or_default();
            if !values.contains(&v) {
                values.push(v);
            }
        }
    }

    /// The values given to `key`, in the order first seen.
    pub fn get(&self, key: &str) -> &[String] {
        self.0.get(key).map_or(&[], Vec::as_slice)
    }
}

impl Project {
    pub fn new(
        modules: Vec<ModuleFacts>,
        patterns: ContextPatterns,
        frameworks: Frameworks,
        package: Option<&str>,
    ) -> Project {
        Project::link(modules, patterns, frameworks, package, None)
    }

    /// Links the modules into a project; with `reuse`, taking the last run's per-module link
    /// results where they cannot have changed (`graph/links.rs`).
    pub fn link(
        modules: Vec<ModuleFacts>,
        patterns: ContextPatterns,
        mut frameworks: Frameworks,
        package: Option<&str>,
        reuse: Option<&mut LinkReuse>,
    ) -> Project {
        // The entry index and the copy groups (70 M instructions on the standard library)
        // read only the modules' facts: they are built on one side of the caller's pool while
        // the other resolves and links, so that they also fill the resolver's serial stretch
        // (its method index and class tables, through which a one-changed run's profile
        // showed the second core idle), not only the graph's.
        let ((resolver, graph, serial_roles), (mut entries, copies)) = rayon::join(
            || {
                // A profile applies when the audited code imports its framework, or is the
                // framework. Detection reads every import on one thread: done beside the
                // resolver, which reads nothing of the profiles.
                let ((), resolver) = rayon::join(
                    || {
                        frameworks.detect(
                            modules
                                .iter()
                                .flat_map(|m| m.imports.iter().map(|i| i.target.as_str()))
                                .chain(modules.iter().map(|m| m.module.as_str())),
                        )
                    },
                    || Resolver::new(&modules, package),
                );
                let (graph, serial_roles) = rayon::join(
                    || Graph::build(&modules, &resolver, &patterns, &frameworks, reuse),
                    || context::serial_roles(&modules, &frameworks),
                );
                let mut resolver = resolver;
                resolver.drop_link_only();
                (resolver, graph, serial_roles)
            },
            || {
                (
                    context::EntryIndex::build(&modules),
                    copies::copy_groups(&modules),
                )
            },
        );
        entries.serial_roles = serial_roles;
        Project {
            modules,
            patterns,
            frameworks,
            resolver,
            graph,
            service_modules: Default::default(),
            entries,
            copies,
            callers: Default::default(),
            called_once: Default::default(),
            memoisers: Default::default(),
            flag_resets: Default::default(),
            configured: Configured::default(),
        }
    }

    /// Whether some execution of the site can be `serial` (`Execution::serial`): it is reached
    /// in a request loop (or sits in a synchronous function's receive loop), or reached from a
    /// request entry while some framework role is served serially. Only reads what
    /// `executions` would find first, without building a chain: a rule that reports only
    /// serial executions asks it before costing the call.
    pub fn may_be_serial(&self, site: &context::Site) -> bool {
        let here = FnRef {
            module: site.module as u32,
            func: site.func,
        };
        let f = &self.modules[site.module].functions[site.func as usize];
        (site.in_recv_loop && !f.is_async)
            || self.graph.reach(here, CtxKind::RequestLoop).is_some()
            || (!self.entries.serial_roles.is_empty()
                && self.graph.reach(here, CtxKind::Request).is_some())
    }

    /// Whether any entry point or module-level code reaches the function.
    pub fn is_reachable(&self, module: usize, func: FuncId) -> bool {
        self.graph.is_live(FnRef {
            module: module as u32,
            func,
        })
    }

    /// The framework profiles that apply to a module: those of the frameworks it imports or is
    /// part of.
    pub fn profiles_of(&self, module: usize) -> ProfileSet {
        module_profiles(
            &self.frameworks,
            &self.modules[module],
            self.resolver.package.as_deref(),
        )
    }

    /// A request handler by name (`handle_*`, ...) or by a route decorator.
    pub fn is_handler(&self, module: usize, func: FuncId) -> bool {
        let f = &self.modules[module].functions[func as usize];
        matches!(f.kind, FnKind::Function | FnKind::Method)
            && (self.patterns.is_handler_name(&f.name)
                || f.decorators
                    .iter()
                    .any(|d| self.patterns.is_route_decorator(d)))
    }
}

/// The framework profiles that apply to a module: those of the frameworks it imports, or that
/// it is part of (its name with the audited package's in front, when there is one).
pub(crate) fn module_profiles(
    frameworks: &Frameworks,
    m: &ModuleFacts,
    package: Option<&str>,
) -> ProfileSet {
    let own = match package {
        Some(p) if m.module.is_empty() => p.to_owned(),
        Some(p) => format!("{p}.{}", m.module),
        None => m.module.clone(),
    };
    frameworks.matching(
        m.imports
            .iter()
            .map(|i| i.target.as_str())
            .chain(std::iter::once(own.as_str())),
    )
}
