//! Framework profiles: what a framework runs, where and how often. One data file per
//! framework under `data/frameworks/`, applied when the audited code imports the framework
//! (or is the framework). A profile names:
//!
//! - **entries**: functions and methods the framework calls, by name, decorator, base class of
//!   their class, or the call that registers them, with where they run (`on`: the event loop,
//!   a worker thread or process, or wherever an `async def`/`def` would) and how often (`runs`:
//!   per request, per session, periodically, once, in the background);
//! - **offloads**: calls and decorators that run a callable on a worker thread;
//! - **blocking**: library calls known to block inside (their cost lives in the API catalog,
//!   `data/apis.toml`, like every other cost).
//!
//! Configuration adds profiles of its own (`[[tool.perfaudit.frameworks]]`, the same shape).

use rustc_hash::FxHashSet;
use serde::Deserialize;

use super::wildcard::{Patterns, Star};

/// How often a framework runs an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Runs {
    /// Once per request, event, message, command or job it serves.
    PerRequest,
    /// Once per session (a call, a conversation): a user waits for it when the session starts.
    PerSession,
    /// On a timer or a polling interval.
    Periodic,
    /// Once, when the service (or an integration) starts or stops.
    Once,
    /// Off every request path.
    Background,
    /// As often as its callers run it: the profile only says where it runs (Home Assistant's
    /// `@callback` marks code that runs on the event loop, whoever calls it).
    AsCalled,
}

/// Where a framework runs an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum On {
    /// Where Python would: an `async def` on the event loop, a `def` on the caller's thread.
    #[default]
    Own,
    /// On the event loop, even a plain `def` (Home Assistant `@callback`s and properties,
    /// tornado handlers).
    Loop,
    /// On a worker thread (FastAPI `def` routes, Home Assistant `update()`).
    Thread,
    /// In a worker process (task queues).
    Process,
}

/// One entry shape. Every constraint that is given must hold; `names` is required unless
/// `decorators` is given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryShape {
    /// What the entry is, for chains and messages ("Home Assistant entity action").
    pub what: String,
    pub runs: Runs,
    #[serde(default)]
    pub on: On,
    /// Function or method names (`*` = any run of characters).
    #[serde(default)]
    pub names: Vec<String>,
    /// Names excluded from `names`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Resolved decorator names, any one of which makes the entry.
    #[serde(default)]
    pub decorators: Vec<String>,
    /// Qualified names of base classes (project or library, at any depth of the project's
    /// hierarchy): the entry is a method of a class deriving from one of them.
    #[serde(default)]
    pub bases: Vec<String>,
    /// Only module-level functions (`"function"`) or only methods (`"method"`).
    #[serde(default)]
    pub kind: Option<EntryKind>,
    /// The name of the function's first parameter (arq jobs take `ctx`).
    #[serde(default)]
    pub first_param: Option<String>,
    /// The server that runs this entry serves one request at a time, unless the project names
    /// one of these (a call target or a base class, resolved): the mixins and server classes
    /// that give each request a thread or process of its own (`socketserver.ThreadingMixIn`).
    /// Empty: the entry's concurrency is not the profile's to say.
    #[serde(default)]
    pub concurrent_with: Vec<String>,
    /// The framework builds a new instance of the entry's class for each request or
    /// connection (a tornado `RequestHandler`, a Django class-based view): what the instance
    /// keeps (`self._x`, a flag it sets) lasts one request or connection, not the process.
    #[serde(default)]
    pub fresh_instance: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    Function,
    Method,
}

/// What an entry shape is matched against: a function's name, whether it is a method, its
/// resolved decorators and its first parameter.
#[derive(Debug, Clone, Copy)]
pub struct EntryCandidate<'a> {
    pub name: &'a str,
    pub is_method: bool,
    pub decorators: &'a [String],
    pub first_param: Option<&'a str>,
    /// Defined inside another function (a route in an app factory, `def create_app(): ...
    /// @app.get("/") def index(): ...`): only its decorators can make it an entry, never its
    /// name (a nested `handle` is a local helper).
    pub nested: bool,
}

/// A call that registers its callable arguments as entries (`hass.services.async_register(d,
/// s, handler)`, `app.router.add_get(path, handler)`, `CommandHandler("start", start)`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub what: String,
    pub runs: Runs,
    #[serde(default)]
    pub on: On,
    /// The call: its resolved target or its source text (`*` = any run of characters).
    pub calls: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    /// Module prefixes whose import (or presence in the audited tree) turns the profile on.
    pub detect: Vec<String>,
    #[serde(default, rename = "entry")]
    pub entries: Vec<EntryShape>,
    #[serde(default, rename = "registration")]
    pub registrations: Vec<Registration>,
    /// Resolved call targets that run a callable argument on a worker thread.
    #[serde(default)]
    pub offload_functions: Vec<String>,
    /// Method names that do so whatever their receiver.
    #[serde(default)]
    pub offload_methods: Vec<String>,
    /// Decorators that make every call of the decorated function run it on a worker thread.
    #[serde(default)]
    pub offload_decorators: Vec<String>,
    /// Library calls known to block inside: names of `data/apis.toml` entries.
    #[serde(default)]
    pub blocking: Vec<String>,
    /// Fluent query builders whose terminal methods run a query (`Model.objects.filter(...)
    /// .first()`).
    #[serde(default, rename = "query_chain")]
    pub query_chains: Vec<QueryChain>,
}

/// A fluent query API: a chain starts at a `root` (`Product.objects`), goes through `lazy`
/// methods that only build the query, and runs it at one of the `runs` methods. Its cost is
/// the catalog entry `api.METHOD` (or the `api.*` pattern).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryChain {
    pub what: String,
    /// Source text of the chain's root (`*.objects`; `*` = any run of characters).
    pub root: Vec<String>,
    pub lazy: Vec<String>,
    pub runs: Vec<String>,
    pub api: String,
}

static SHIPPED: &[(&str, &str)] = &[
    (
        "aiohttp",
        include_str!("../../data/frameworks/aiohttp.toml"),
    ),
    ("arq", include_str!("../../data/frameworks/arq.toml")),
    ("bots", include_str!("../../data/frameworks/bots.toml")),
    ("django", include_str!("../../data/frameworks/django.toml")),
    (
        "esphome",
        include_str!("../../data/frameworks/esphome.toml"),
    ),
    (
        "fastapi",
        include_str!("../../data/frameworks/fastapi.toml"),
    ),
    ("grpc", include_str!("../../data/frameworks/grpc.toml")),
    (
        "homeassistant",
        include_str!("../../data/frameworks/homeassistant.toml"),
    ),
    (
        "socketio",
        include_str!("../../data/frameworks/socketio.toml"),
    ),
    (
        "stdlib_servers",
        include_str!("../../data/frameworks/stdlib_servers.toml"),
    ),
    ("tasks", include_str!("../../data/frameworks/tasks.toml")),
    (
        "tornado",
        include_str!("../../data/frameworks/tornado.toml"),
    ),
    (
        "twisted",
        include_str!("../../data/frameworks/twisted.toml"),
    ),
    ("voice", include_str!("../../data/frameworks/voice.toml")),
];

/// A profile's entry or registration, as the graph records it: which profile, which shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleId {
    pub profile: u16,
    /// Entry shapes first, then registrations.
    pub shape: u16,
}

/// What a role says about its entry.
#[derive(Debug, Clone, Copy)]
pub struct Role<'a> {
    pub framework: &'a str,
    pub what: &'a str,
    pub runs: Runs,
    pub on: On,
    /// See `EntryShape::concurrent_with` (registrations have none).
    pub concurrent_with: &'a [String],
    /// See `EntryShape::fresh_instance` (registrations register callables, not classes).
    pub fresh_instance: bool,
}

/// Which profiles apply (to one module, or anywhere in the project).
#[derive(Debug, Clone, Default)]
pub struct ProfileSet(Vec<bool>);

/// The profiles of one run: the shipped ones and the configured ones, each on or off.
#[derive(Debug, Clone)]
pub struct Frameworks {
    profiles: Vec<Profile>,
    /// Each profile's patterns, compiled once: its entry shapes, registrations and offload
    /// decorators.
    compiled: Vec<CompiledProfile>,
    /// Every profile's offload functions and methods, for one lookup each per call.
    offload_functions: FxHashSet<String>,
    offload_methods: FxHashSet<String>,
    active: Vec<bool>,
}

#[derive(Debug, Clone)]
struct CompiledEntry {
    names: Patterns,
    exclude: Patterns,
    decorators: Patterns,
    bases: Patterns,
}

#[derive(Debug, Clone)]
struct CompiledProfile {
    entries: Vec<CompiledEntry>,
    registrations: Vec<Patterns>,
    offload_decorators: Patterns,
    query_roots: Vec<Patterns>,
}

fn patterns(list: &[String]) -> Patterns {
    Patterns::new(list.iter().map(String::as_str), Star::Any)
}

impl CompiledProfile {
    fn new(p: &Profile) -> CompiledProfile {
        CompiledProfile {
            entries: p
                .entries
                .iter()
                .map(|e| CompiledEntry {
                    names: patterns(&e.names),
                    exclude: patterns(&e.exclude),
                    decorators: patterns(&e.decorators),
                    bases: patterns(&e.bases),
                })
                .collect(),
            registrations: p.registrations.iter().map(|r| patterns(&r.calls)).collect(),
            offload_decorators: patterns(&p.offload_decorators),
            query_roots: p.query_chains.iter().map(|q| patterns(&q.root)).collect(),
        }
    }
}

impl Default for Frameworks {
    fn default() -> Self {
        Frameworks::builtin()
    }
}

impl Frameworks {
    /// The shipped profiles, none active yet.
    pub fn builtin() -> Frameworks {
        Frameworks::with_extensions(&[])
    }

    /// The shipped profiles, then configured ones.
    pub fn with_extensions(extra: &[Profile]) -> Frameworks {
        let mut profiles: Vec<Profile> = shipped().to_vec();
        profiles.extend(extra.iter().cloned());
        let active = vec![false; profiles.len()];
        let compiled = profiles.iter().map(CompiledProfile::new).collect();
        let offload_functions = profiles
            .iter()
            .flat_map(|p| p.offload_functions.iter().cloned())
            .collect();
        let offload_methods = profiles
            .iter()
            .flat_map(|p| p.offload_methods.iter().cloned())
            .collect();
        Frameworks {
            profiles,
            compiled,
            offload_functions,
            offload_methods,
            active,
        }
    }

    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    /// Turns on every profile whose `detect` prefix one of `modules` (imported or defined)
    /// starts with: the profiles the report names.
    pub fn detect<'a>(&mut self, modules: impl IntoIterator<Item = &'a str>) {
        self.active = self.matching(modules).0;
    }

    /// The profiles that apply to one module: those of the frameworks it imports (or is part
    /// of). A profile's entry shapes and registrations are matched only in such modules, so a
    /// project that uses aiohttp as a client elsewhere does not read its handlers as aiohttp's.
    pub fn matching<'a>(&self, modules: impl IntoIterator<Item = &'a str>) -> ProfileSet {
        let mut heads: rustc_hash::FxHashSet<&str> = Default::default();
        for m in modules {
            // Every dotted prefix: `homeassistant.core` -> `homeassistant`, `homeassistant.core`.
            let mut end = 0;
            for (i, c) in m.char_indices() {
                if c == '.' {
                    heads.insert(&m[..i]);
                }
                end = i + c.len_utf8();
            }
            heads.insert(&m[..end]);
        }
        ProfileSet(
            self.profiles
                .iter()
                .map(|p| p.detect.iter().any(|d| heads.contains(d.as_str())))
                .collect(),
        )
    }

    /// Names of the active profiles, in file order.
    pub fn detected(&self) -> Vec<String> {
        self.active_profiles()
            .map(|(_, p)| p.name.clone())
            .collect()
    }

    fn active_profiles(&self) -> impl Iterator<Item = (usize, &Profile)> {
        self.profiles
            .iter()
            .enumerate()
            .filter(|(i, _)| self.active[*i])
    }

    fn profiles_in<'s>(
        &'s self,
        set: &'s ProfileSet,
    ) -> impl Iterator<Item = (usize, &'s Profile)> {
        self.profiles
            .iter()
            .enumerate()
            .filter(|(i, _)| set.0.get(*i).copied().unwrap_or(false))
    }

    pub fn role(&self, id: RoleId) -> Role<'_> {
        let p = &self.profiles[id.profile as usize];
        let shape = id.shape as usize;
        let (what, runs, on, concurrent_with, fresh_instance) = match p.entries.get(shape) {
            Some(e) => (
                &e.what,
                e.runs,
                e.on,
                e.concurrent_with.as_slice(),
                e.fresh_instance,
            ),
            None => {
                let r = &p.registrations[shape - p.entries.len()];
                (&r.what, r.runs, r.on, &[][..], false)
            }
        };
        Role {
            framework: &p.name,
            what,
            runs,
            on,
            concurrent_with,
            fresh_instance,
        }
    }

    /// The active entry shapes whose server serves one request at a time unless the project
    /// names one of their `concurrent_with` classes, with those names compiled.
    pub(crate) fn serial_shapes(&self) -> Vec<(RoleId, Patterns)> {
        self.active_profiles()
            .flat_map(|(pi, p)| {
                p.entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| !e.concurrent_with.is_empty())
                    .map(move |(si, e)| {
                        let id = RoleId {
                            profile: pi as u16,
                            shape: si as u16,
                        };
                        (id, patterns(&e.concurrent_with))
                    })
            })
            .collect()
    }

    /// Whether an active profile matches methods by base class (so the graph needs each
    /// class's ancestors).
    pub fn matches_bases(&self, set: &ProfileSet) -> bool {
        self.profiles_in(set)
            .any(|(_, p)| p.entries.iter().any(|e| !e.bases.is_empty()))
    }

    /// The first active entry shape that a function matches. `ancestors` are the qualified
    /// names of its class and of every base class above it.
    pub fn entry_role(
        &self,
        f: EntryCandidate<'_>,
        ancestors: &[String],
        set: &ProfileSet,
    ) -> Option<RoleId> {
        let EntryCandidate {
            name,
            is_method,
            decorators,
            first_param,
            nested,
        } = f;
        for (pi, p) in self.profiles_in(set) {
            for (si, (e, c)) in p.entries.iter().zip(&self.compiled[pi].entries).enumerate() {
                if e.kind == Some(EntryKind::Function) && is_method
                    || e.kind == Some(EntryKind::Method) && !is_method
                {
                    continue;
                }
                if !e.names.is_empty() && (nested || !c.names.is_match(name)) {
                    continue;
                }
                if c.exclude.is_match(name) {
                    continue;
                }
                if !e.decorators.is_empty() && !decorators.iter().any(|d| c.decorators.is_match(d))
                {
                    continue;
                }
                if e.names.is_empty() && e.decorators.is_empty() {
                    continue;
                }
                if e.first_param.is_some() && e.first_param.as_deref() != first_param {
                    continue;
                }
                if !e.bases.is_empty() {
                    if !is_method {
                        continue;
                    }
                    if !ancestors.iter().any(|b| c.bases.is_match(b)) {
                        continue;
                    }
                }
                return Some(RoleId {
                    profile: pi as u16,
                    shape: si as u16,
                });
            }
        }
        None
    }

    /// The active registration that a call (its resolved target and source text) makes.
    pub fn registration(&self, target: &str, text: &str, set: &ProfileSet) -> Option<RoleId> {
        for (pi, p) in self.profiles_in(set) {
            for (ri, calls) in self.compiled[pi].registrations.iter().enumerate() {
                if calls.is_match(target) || calls.is_match(text) {
                    return Some(RoleId {
                        profile: pi as u16,
                        shape: (p.entries.len() + ri) as u16,
                    });
                }
            }
        }
        None
    }

    /// Whether a call runs its callable arguments on a worker thread, by any profile (offload
    /// APIs are specific names: they apply whether or not the profile was detected).
    pub fn is_offload(&self, target: &str) -> bool {
        self.offload_functions.contains(target)
            || self
                .offload_methods
                .contains(super::contexts::last_segment(target))
    }

    /// The query chains of the profiles in `set`.
    pub(crate) fn query_chains<'s>(
        &'s self,
        set: &'s ProfileSet,
    ) -> impl Iterator<Item = (&'s QueryChain, &'s Patterns)> + 's {
        self.profiles_in(set).flat_map(move |(pi, p)| {
            p.query_chains
                .iter()
                .zip(self.compiled[pi].query_roots.iter())
        })
    }

    /// Whether a decorator makes calls of the decorated function run on a worker thread.
    pub fn is_offload_decorator(&self, decorator: &str) -> bool {
        self.compiled
            .iter()
            .any(|c| c.offload_decorators.is_match(decorator))
    }
}

/// The shipped profiles, parsed once per process.
fn shipped() -> &'static [Profile] {
    static PROFILES: std::sync::OnceLock<Vec<Profile>> = std::sync::OnceLock::new();
    PROFILES.get_or_init(|| {
        SHIPPED
            .iter()
            .map(|(name, text)| {
                toml::from_str::<Profile>(text).unwrap_or_else(|e| {
                    panic!("data/frameworks/{name}.toml is validated by the test suite: {e}")
                })
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::catalog::Catalog;

    #[test]
    fn shipped_profiles_load_and_name_catalog_entries() {
        let catalog = Catalog::with_extensions(&[]);
        let f = Frameworks::builtin();
        assert_eq!(f.profiles().len(), SHIPPED.len());
        for p in f.profiles() {
            assert!(!p.detect.is_empty(), "{}: no detect prefix", p.name);
            for e in &p.entries {
                assert!(
                    !e.names.is_empty() || !e.decorators.is_empty(),
                    "{}: entry `{}` matches nothing",
                    p.name,
                    e.what
                );
            }
            for b in &p.blocking {
                assert!(
                    catalog.lookup(b).is_some(),
                    "{}: blocking `{b}` has no entry in data/apis.toml",
                    p.name
                );
            }
        }
    }

    #[test]
    fn detection_is_by_module_prefix() {
        let mut f = Frameworks::builtin();
        f.detect(["os.path", "homeassistant.core"]);
        assert_eq!(f.detected(), vec!["Home Assistant".to_owned()]);
        let mut f = Frameworks::builtin();
        f.detect(["homeassistantx"]);
        assert!(f.detected().is_empty());
    }

    fn method(name: &str) -> EntryCandidate<'_> {
        EntryCandidate {
            name,
            is_method: true,
            decorators: &[],
            first_param: Some("self"),
            nested: false,
        }
    }

    fn function<'a>(name: &'a str, decorators: &'a [String]) -> EntryCandidate<'a> {
        EntryCandidate {
            name,
            is_method: false,
            decorators,
            first_param: None,
            nested: false,
        }
    }

    #[test]
    fn entries_match_by_name_base_and_decorator() {
        let f = Frameworks::builtin();
        let ha = f.matching(["homeassistant"]);
        let bases = vec!["homeassistant.components.sensor.SensorEntity".to_owned()];
        let id = f
            .entry_role(method("async_turn_on"), &bases, &ha)
            .expect("an entity action");
        assert_eq!(f.role(id).runs, Runs::PerRequest);
        assert!(f.entry_role(method("async_turn_on"), &[], &ha).is_none());
        let none = f.matching(["fastapi"]);
        assert!(
            f.entry_role(method("async_turn_on"), &bases, &none)
                .is_none()
        );
        let id = f
            .entry_role(function("async_setup_entry", &[]), &[], &ha)
            .expect("integration setup");
        assert_eq!(f.role(id).runs, Runs::Once);
        let cb = vec!["homeassistant.core.callback".to_owned()];
        let id = f
            .entry_role(function("_handle", &cb), &[], &ha)
            .expect("a callback");
        assert_eq!(f.role(id).on, On::Loop);
    }

    #[test]
    fn nested_functions_are_entries_by_decorators_only() {
        let f = Frameworks::builtin();
        let ha = f.matching(["homeassistant"]);
        let nested = |name, decorators| EntryCandidate {
            nested: true,
            ..function(name, decorators)
        };
        // A module-level `async_setup_entry` is an entry by its name; one nested in another
        // function is a local helper.
        assert!(
            f.entry_role(function("async_setup_entry", &[]), &[], &ha)
                .is_some()
        );
        assert!(
            f.entry_role(nested("async_setup_entry", &[]), &[], &ha)
                .is_none()
        );
        // A decorator makes it one wherever it is defined (a callback in a setup function).
        let cb = vec!["homeassistant.core.callback".to_owned()];
        assert!(f.entry_role(nested("_handle", &cb), &[], &ha).is_some());
    }
}
