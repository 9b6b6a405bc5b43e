//! Long-lived containers that grow without bound (shared by PA204 and PA207).
//!
//! A container is long-lived when it is an attribute of `self` (or a class attribute) or a
//! module-level name. The AST hook records, one candidate each, what the module does to such
//! containers: where they are created and with what (`{}`, `[]`, `set()`, `defaultdict(...)`,
//! `deque(maxlen=...)`), where they grow (`x[k] = v`, `append`, `add`, `update`, `setdefault`,
//! `+=`), and anything that removes from or bounds them (`pop`, `popitem`, `del`, `clear`, a
//! second assignment, slicing, a `len(x)` comparison, an alias that other code may trim). Each
//! candidate's mark is a typed `ContainerOp`. The hook lives in `hook.rs`.
//!
//! `unbounded` reads the module's candidates back and keeps the containers created exactly once
//! as an unbounded built-in container, that grow somewhere and are never evicted from anywhere in
//! the module; `Unbounded::new` also drops those that some module evicts from through another
//! object (`app.get_blocks().pending.pop(k)`: by the attribute's name). Whether a growth site
//! runs per request is the rules' question.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

mod hook;

pub use hook::{HOOK, HOOK_CODE};

use super::{bound_name, function_at, load_label, marks, method_class};
use crate::facts::marks::ContainerOp;
use crate::facts::{Candidate, FnKind, FuncId, ModuleFacts, Name, Resolution};
use crate::knowledge::catalog::{Catalog, Effect};
use crate::knowledge::contexts::last_segment;
use crate::project::context::Execution;
use crate::project::{CtxKind, Project};

/// Methods that add to a built-in list, deque, set or dict (Python language facts).
const GROW_METHODS: &[&str] = &[
    "add",
    "append",
    "appendleft",
    "extend",
    "extendleft",
    "insert",
    "setdefault",
    "update",
];

/// Methods that remove from a built-in list, deque, set or dict.
const EVICT_METHODS: &[&str] = &[
    "clear",
    "difference_update",
    "discard",
    "intersection_update",
    "pop",
    "popitem",
    "popleft",
    "remove",
    "symmetric_difference_update",
];

/// The prefix of an eviction key written through another object than `self`
/// (`app.get_blocks().pending.pop(k)` is `*.pending`): the module cannot tell whose container
/// it is, so it counts for every module's container of that name.
pub(super) const FOREIGN: &str = "*.";

/// Methods that turn an array or tensor into plain Python values: what is kept is no tensor.
const CONVERSIONS: &[&str] = &["item", "numpy", "tolist"];

/// Methods that return another tensor over the same or copied data: what is kept is a tensor.
const TENSOR_VIEWS: &[&str] = &[
    "clone",
    "contiguous",
    "cpu",
    "cuda",
    "detach",
    "float",
    "half",
    "reshape",
    "squeeze",
    "to",
    "unsqueeze",
    "view",
];

/// What a long-lived container was created as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dict,
    /// A dict display with literal keys (`{"hits": 0}`): a fixed record, not a cache.
    DictFixed,
    DefaultDict,
    Counter,
    /// A list, or a deque without `maxlen`.
    List,
    Set,
    /// Anything else (a bounded deque, a cache class, a call result): never reported.
    Other,
}

impl Kind {
    fn parse(s: &str) -> Kind {
        match s {
            "dict" => Kind::Dict,
            "dict-fixed" => Kind::DictFixed,
            "defaultdict" => Kind::DefaultDict,
            "counter" => Kind::Counter,
            "list" => Kind::List,
            "set" => Kind::Set,
            _ => Kind::Other,
        }
    }

    /// Whether the operation `how` adds entries to a container of this kind.
    fn grows_by(self, how: &str) -> bool {
        use Kind::*;
        let keyed = matches!(self, Dict | DefaultDict | Counter);
        match how {
            "[]=" => keyed,
            "[][]=" => keyed || self == DictFixed,
            "[]+=" => matches!(self, DefaultDict | Counter),
            "+=" => matches!(self, List | Set | Dict | Counter),
            ".append" | ".appendleft" | ".extend" | ".extendleft" | ".insert" => self == List,
            ".add" => self == Set,
            ".update" => keyed || self == Set,
            ".setdefault" => matches!(self, Dict | DefaultDict),
            h if h.starts_with("[].") => keyed || matches!(self, DictFixed | List),
            _ => false,
        }
    }
}

/// The names created somewhere in the module as an unbounded built-in container: the only
/// ones `unbounded` can report.
pub(super) fn wanted_names(candidates: &[Candidate]) -> HashSet<&str> {
    candidates
        .iter()
        .filter(|c| c.code == HOOK_CODE)
        .filter_map(|c| match c.mark.container()? {
            ContainerOp::Init { key, kind } => {
                (Kind::parse(kind) != Kind::Other).then_some(key.as_str())
            }
            _ => None,
        })
        .collect()
}

/// Whether a candidate's container key is one of `wanted` (a class attribute is created bare
/// and used as `self.cache`).
pub(super) fn is_wanted(wanted: &HashSet<&str>, key: &str) -> bool {
    wanted.contains(key)
        || key
            .strip_prefix("self.")
            .is_some_and(|k| wanted.contains(k))
}

/// One place a container grows.
pub struct Growth<'a> {
    pub cand: &'a Candidate,
    /// The operation: `[]=`, `.append`, `+=`, `[].append`, ...
    pub how: &'a str,
    /// The stored value, as `value_desc` wrote it.
    pub value: &'a str,
}

/// A long-lived container that grows and is never evicted from.
pub struct Container<'a> {
    /// As written in the source: `self.cache` or `CACHE`.
    pub name: String,
    /// The class whose attribute it is; `None` for a module-level name.
    pub class: Option<u32>,
    pub kind: Kind,
    pub grows: Vec<Growth<'a>>,
}

#[derive(Default)]
struct Agg<'a> {
    kinds: Vec<Kind>,
    binds: usize,
    evicted: bool,
    grows: Vec<Growth<'a>>,
}

/// Every module's unbounded containers (`unbounded`, by module index) and the project's
/// lifetimes: what `UnboundedCache` and `TensorsAccumulated` both read, made once per run by
/// the first of them (`RuleContext::containers`).
pub struct Unbounded<'a> {
    pub lifetimes: Lifetimes<'a>,
    pub by_module: Vec<Vec<Container<'a>>>,
}

impl<'a> Unbounded<'a> {
    pub fn new(project: &'a Project) -> Unbounded<'a> {
        // What code evicts through another object (`server.sessions.pop(k)`), by name: a
        // container of that name may be trimmed there, by whoever holds its owner. With the
        // class that object is built as, when the module says (`self.oauth = OAuth()`).
        let foreign: Vec<(&str, Option<&str>)> = project
            .modules
            .iter()
            .flat_map(|m| marks(m, HOOK_CODE).map(move |(c, mark)| (m, c, mark)))
            .filter_map(|(m, c, mark)| match mark.container()? {
                ContainerOp::Evict { key, how } => {
                    let attr = key.strip_prefix(FOREIGN)?;
                    Some((attr, built_as(m, c.func, how)))
                }
                _ => None,
            })
            .collect();
        let mut by_module: Vec<Vec<Container>> = project.modules.iter().map(unbounded).collect();
        if !foreign.is_empty() {
            for (mi, containers) in by_module.iter_mut().enumerate() {
                let m = &project.modules[mi];
                containers.retain(|c| {
                    let attr = c.name.strip_prefix("self.").unwrap_or(&c.name);
                    let owner = c.class.map(|k| m.classes[k as usize].name.as_str());
                    !foreign
                        .iter()
                        .any(|&(a, built)| a == attr && (built.is_none() || built == owner))
                });
            }
        }
        Unbounded {
            lifetimes: Lifetimes::new(project),
            by_module,
        }
    }
}

/// For an eviction written through an attribute of `self` (`how` ends `@self.oauth`), the
/// class the module builds that attribute as (`self.oauth = OAuth()` in a method of the same
/// class: `OAuth`), when it does.
fn built_as<'m>(m: &'m ModuleFacts, func: FuncId, how: &str) -> Option<&'m str> {
    let (_, object) = how.split_once('@')?;
    let class = method_class(m, func)?;
    m.calls
        .iter()
        .filter(|c| m.assigned_to(c).map(Name::as_str) == Some(object))
        .filter(|c| method_class(m, c.func) == Some(class))
        .find(|c| c.resolution != Resolution::Unresolved)
        .map(|c| last_segment(&c.target))
}

/// The containers of a module, from the candidates the shared hook recorded, that are
/// created once as an unbounded built-in container, grow, and are never evicted from.
pub fn unbounded(m: &ModuleFacts) -> Vec<Container<'_>> {
    let code = HOOK_CODE;
    // Only names created somewhere as an unbounded container can be reported: the other
    // operations are looked at for those names alone.
    let wanted = wanted_names(&m.candidates);
    if wanted.is_empty() {
        return Vec::new();
    }
    let spans: Vec<(u32, u32, FuncId, u32)> = marks(m, code)
        .filter(|(_, mark)| mark.container() == Some(&ContainerOp::Class))
        .filter_map(|(c, _)| {
            let class = m.classes.iter().position(|k| k.line == c.line)?;
            Some((c.line, c.end_line, c.func, class as u32))
        })
        .collect();
    let mut locals: HashMap<FuncId, Vec<&str>> = HashMap::default();
    for (c, mark) in marks(m, code) {
        // The mark first: `function_at` scans the module's functions, and asked for every
        // candidate it took 26 M instructions of a standard-library run for a few hundred
        // `Locals` marks.
        let Some(ContainerOp::Locals { names }) = mark.container() else {
            continue;
        };
        if let Some(f) = function_at(m, c.func, c.line) {
            locals
                .entry(f)
                .or_default()
                .extend(names.iter().map(String::as_str));
        }
    }
    // The innermost class whose body holds `line`, written directly in scope `func`.
    let class_body = |func: FuncId, line: u32| {
        spans
            .iter()
            .filter(|(s, e, f, _)| *f == func && *s <= line && line <= *e)
            .max_by_key(|(s, ..)| *s)
            .map(|(.., class)| *class)
    };
    let owner = |c: &Candidate, key: &str| -> Option<(Option<u32>, String)> {
        if let Some(attr) = key.strip_prefix("self.") {
            return Some((Some(method_class(m, c.func)?), attr.to_owned()));
        }
        let f = &m.functions[c.func as usize];
        if matches!(f.kind, FnKind::Module | FnKind::Main) {
            return Some((class_body(c.func, c.line), key.to_owned()));
        }
        let mut cur = Some(c.func);
        while let Some(id) = cur {
            let fk = &m.functions[id as usize];
            if matches!(fk.kind, FnKind::Module | FnKind::Main) {
                break;
            }
            if locals.get(&id).is_some_and(|l| l.contains(&key)) {
                return None;
            }
            cur = fk.parent;
        }
        Some((None, key.to_owned()))
    };
    let mut aggs: HashMap<(Option<u32>, String), Agg> = HashMap::default();
    let mut order: Vec<(Option<u32>, String)> = Vec::new();
    for c in m.candidates.iter().filter(|c| c.code == code) {
        let Some(op) = c.mark.container() else {
            continue;
        };
        let Some(key) = op.key() else { continue };
        // A class attribute is created bare (`cache = {}` in the class body) and used as
        // `self.cache`.
        if !is_wanted(&wanted, key) {
            continue;
        }
        let id = match op {
            // A `global` name rebound inside a function.
            ContainerOp::Reset { .. } => Some((None, key.to_owned())),
            _ => owner(c, key),
        };
        let Some(id) = id else { continue };
        let agg = aggs.entry(id.clone()).or_insert_with(|| {
            order.push(id.clone());
            Agg::default()
        });
        match op {
            ContainerOp::Init { kind, .. } => {
                agg.binds += 1;
                agg.kinds.push(Kind::parse(kind));
            }
            ContainerOp::Assign { .. } => agg.binds += 1,
            ContainerOp::Grow { how, value, .. } => {
                agg.grows.push(Growth {
                    cand: c,
                    how,
                    value,
                });
            }
            _ => agg.evicted = true,
        }
    }
    let mut out = Vec::new();
    for id in order {
        let agg = aggs.remove(&id).expect("aggregated");
        let [kind] = agg.kinds[..] else { continue };
        if agg.binds != 1 || agg.evicted || kind == Kind::Other {
            continue;
        }
        let grows: Vec<Growth> = agg
            .grows
            .into_iter()
            .filter(|g| kind.grows_by(g.how))
            .collect();
        if grows.is_empty() {
            continue;
        }
        let name = match id.0 {
            Some(_) => format!("self.{}", id.1),
            None => id.1.clone(),
        };
        out.push(Container {
            name,
            class: id.0,
            kind,
            grows,
        });
    }
    out
}

/// The names a module binds to a loaded model that returns a module (`self.model =
/// AutoModel.from_pretrained(...)`), with how the load reads: calling them runs the model.
pub fn model_objects(catalog: &Catalog, m: &ModuleFacts) -> Vec<(String, String)> {
    m.calls
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let entry = catalog.get(c.api?);
            let loads_module = entry.effect == Effect::ModelLoad
                && entry
                    .returns
                    .as_deref()
                    .is_some_and(|r| r.contains("Module"));
            if !loads_module {
                return None;
            }
            Some((bound_name(m, i)?.to_owned(), load_label(m, c)))
        })
        .collect()
}

/// Why the value stored at a growth site is a tensor, when it is one: the result of a catalog
/// call that returns a tensor, or of calling one of the module's `models` (`model_objects`).
pub fn tensor_source(
    catalog: &Catalog,
    m: &ModuleFacts,
    models: &[(String, String)],
    g: &Growth,
) -> Option<String> {
    let returns_tensor = |name: &str| {
        catalog
            .lookup(name)
            .and_then(|id| catalog.get(id).returns.as_deref())
            .is_some_and(|r| r.contains("Tensor"))
    };
    let explain = |callee: &str, text: &str| {
        if returns_tensor(callee) {
            Some(format!("`{callee}` returns a tensor"))
        } else {
            models
                .iter()
                .find(|(name, _)| name == text)
                .map(|(_, load)| format!("`{text}(...)` runs the model loaded by `{load}`"))
        }
    };
    if let Some(callee) = g.value.strip_prefix("c:") {
        return explain(callee, callee);
    }
    let name = g.value.strip_prefix("n:")?;
    let call = m.calls.iter().rev().find(|c| {
        c.func == g.cand.func
            && c.line <= g.cand.line
            && m.assigned_to(c).map(Name::as_str) == Some(name)
    })?;
    explain(&call.target, &call.text)
}

/// What the rules know about how long objects live, built once per check.
pub struct Lifetimes<'a> {
    /// Last name segments of the callees whose result lives for the whole process: bound to a
    /// module-level name (`CACHE = Cache()`, not a class attribute) or called in `__main__`
    /// (`Agent().run()`).
    built_once: HashSet<&'a str>,
    /// Base class name (last segment) -> names of its subclasses.
    subclasses: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> Lifetimes<'a> {
    pub fn new(project: &'a Project) -> Lifetimes<'a> {
        let mut built_once = HashSet::default();
        let mut subclasses: HashMap<&str, Vec<&str>> = HashMap::default();
        for m in &project.modules {
            let class_bodies: Vec<(u32, u32)> = marks(m, HOOK_CODE)
                .filter(|(_, mark)| mark.container() == Some(&ContainerOp::Class))
                .map(|(c, _)| (c.line, c.end_line))
                .collect();
            for c in &m.calls {
                if c.resolution == Resolution::Unresolved {
                    continue;
                }
                let once = match m.functions[c.func as usize].kind {
                    FnKind::Main => true,
                    FnKind::Module => {
                        m.assigned_to(c)
                            .is_some_and(|n| n.chars().all(|ch| ch == '_' || ch.is_alphanumeric()))
                            && !class_bodies
                                .iter()
                                .any(|(s, e)| *s <= c.line && c.line <= *e)
                    }
                    _ => false,
                };
                if once {
                    built_once.insert(last_segment(&c.target));
                }
            }
            for k in &m.classes {
                for b in &k.bases {
                    subclasses
                        .entry(last_segment(b))
                        .or_default()
                        .push(k.name.as_str());
                }
            }
        }
        Lifetimes {
            built_once,
            subclasses,
        }
    }

    /// Whether a container outlives the request that grows it at `g`, reached in `exec`.
    ///
    /// `exec` is a per-request execution. A module-level container must be grown from an entry of its own module. An attribute must belong to an
    /// object that lives as long as the service — the object whose own receive loop serves the
    /// requests (the entry is a method of its class, a base or a subclass), or one built at
    /// module level or in `__main__` — and grow outside the constructor. Objects built per
    /// request (parsers, per-call callbacks, connection handlers) take their containers with
    /// them.
    pub fn outlives_request(
        &self,
        project: &Project,
        mi: usize,
        c: &Container,
        g: &Growth,
        exec: &Execution,
    ) -> bool {
        let m = &project.modules[mi];
        let Some(entry) = exec.chain.first() else {
            return false;
        };
        let Some(class) = c.class else {
            return entry.path == m.path;
        };
        if m.functions[g.cand.func as usize].name == "__init__" {
            return false;
        }
        let own = &m.classes[class as usize];
        // Instances of the class or of a subclass carry the attribute.
        let mut instances = vec![own.name.as_str()];
        if let Some(subs) = self.subclasses.get(own.name.as_str()) {
            instances.extend(subs.iter().copied());
        }
        // The serving loop may be written in a base class (`BaseAgent.run`).
        let serving_loop = exec.kind == CtxKind::RequestLoop
            && entry.function.rsplit_once('.').is_some_and(|(k, _)| {
                let k = last_segment(k);
                instances.contains(&k) || own.bases.iter().any(|b| last_segment(b) == k)
            });
        serving_loop || instances.iter().any(|n| self.built_once.contains(n))
    }
}
