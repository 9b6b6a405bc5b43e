//! Models and memory (PA2xx): model loads paid per request, models that crowd one process,
//! containers and caches that grow with traffic, resources that are never released, and log
//! files that grow without rotation.
//!
//! Latency findings (a model load on the request path) take their cost and severity from the
//! catalog through the cost model. Memory findings are banded by how much harm the residency or
//! the growth does (`memory_severity`), since they cost no time per request.

pub mod containers;
pub mod known;
pub mod lazy;
pub mod log_file_without_rotation;
pub mod model_load_in_loop;
pub mod model_load_on_request_path;
pub mod multiple_large_models_resident;
pub mod resource_never_released;
pub mod tensors_accumulated;
pub mod unbounded_cache;
pub mod unbounded_lru_cache;

use lazy::{Laziness, LazySites};

use crate::facts::marks::Mark;
use crate::facts::{Call, FnKind, FuncId, ModuleFacts, Name, Resolution};
use crate::finding::{Finding, Frequency, Severity};
use crate::knowledge::catalog::{ApiEntry, Effect};
use crate::project::CtxKind;
use crate::project::context::{Execution, Site};
use crate::project::resolve::{FnRef, Target};
use crate::rules::cost::{PerCall, fmt_range};
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{RuleContext, RuleMeta};

/// Resident memory from which several models in one process are worth a finding (PA203).
pub const RESIDENT_FLOOR_MB: f64 = 2000.0;
/// Resident memory that takes most of a typical 8–12 GB accelerator, or a small host's RAM.
pub const RESIDENT_HIGH_MB: f64 = 8000.0;
/// Resident memory that takes half of such a device.
pub const RESIDENT_MEDIUM_MB: f64 = 4000.0;

pub use crate::project::context::in_test;

/// The band of a resident footprint: what share of a typical accelerator or host it takes.
pub fn memory_severity(mb: f64) -> Severity {
    if mb >= RESIDENT_HIGH_MB {
        Severity::High
    } else if mb >= RESIDENT_MEDIUM_MB {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// `300 MB`, `4.4 GB`.
pub fn fmt_mb(mb: f64) -> String {
    if mb >= 1000.0 {
        format!("{:.1} GB", mb / 1000.0)
    } else {
        format!("{mb:.0} MB")
    }
}

/// One model load found in the project.
pub struct ModelLoadSite<'a> {
    pub module: usize,
    /// Index of the call in its module's `calls`.
    pub index: usize,
    pub call: &'a Call,
    pub entry: &'a ApiEntry,
    /// Resident memory: the known model's size (`data/models.toml`), else the catalog's, by
    /// the literal model name when the catalog knows it.
    pub memory_mb: Option<f64>,
    /// The known small models it loads, when every name it may receive is one.
    pub known: Option<crate::knowledge::models::KnownLoad>,
}

impl ModelLoadSite<'_> {
    /// What one load costs: the known models' range, else the loader's catalog range.
    pub fn per_call(&self) -> PerCall {
        known::load_per_call(self.entry, self.known.as_ref())
    }
}

/// Every call of a catalog entry whose effect is a model load, in module order.
pub fn model_loads<'a>(cx: &RuleContext<'a>) -> Vec<ModelLoadSite<'a>> {
    let mut out = Vec::new();
    // The project's catalog calls, listed once per run, not every call record scanned.
    for &(mi, index) in cx.catalog_sites() {
        let (mi, index) = (mi as usize, index as usize);
        let m = &cx.project.modules[mi];
        let call = &m.calls[index];
        let Some(api) = call.api else { continue };
        let entry = cx.catalog.get(api);
        if entry.effect != Effect::ModelLoad || calls_instance(entry, call) {
            continue;
        }
        let known = known::known_load(cx, mi, call, entry);
        let memory_mb = match &known {
            Some(k) => Some(k.size_mb),
            None => entry.memory_for(m.str_arg(call).map(Name::as_str)),
        };
        out.push(ModelLoadSite {
            module: mi,
            index,
            call,
            entry,
            memory_mb,
            known,
        });
    }
    out
}

/// Whether `call` calls an instance of the type `entry` constructs (`llm(prompt)` after
/// `llm = Llama(...)`): the name resolves to the type through the variable, but nothing is
/// constructed.
pub fn calls_instance(entry: &ApiEntry, call: &Call) -> bool {
    call.resolution == Resolution::Inferred
        && call.target == entry.name
        && entry.returned_type() == Some(entry.name.as_str())
}

/// How a model load reads in a message: the callee with its literal model name.
pub fn load_label(m: &ModuleFacts, call: &Call) -> String {
    match m.str_arg(call) {
        Some(lit) => format!("{}(\"{lit}\")", call.target),
        None => call.target.to_string(),
    }
}

/// `load_label`, with the known model it loads when no literal names it (the name reached the
/// load through a parameter): `onnxruntime.InferenceSession` of Silero VAD.
fn site_label(m: &ModuleFacts, site: &ModelLoadSite) -> String {
    match (&site.known, m.str_arg(site.call)) {
        (Some(k), None) => format!("{}` of `{}", site.call.target, k.models.join("` or `")),
        _ => load_label(m, site.call),
    }
}

/// The name a call's result is bound to, following calls chained on the result
/// (`self.tts = TTS(name).to(device)` binds the `TTS(...)` result to `self.tts`).
pub fn bound_name(m: &ModuleFacts, index: usize) -> Option<&str> {
    let mut i = index;
    // A chain is recorded inner call first; the outer call starts where the inner one does.
    for _ in 0..8 {
        let call = &m.calls[i];
        if let Some(name) = m.assigned_to(call) {
            return Some(name);
        }
        i = (i + 1..m.calls.len()).find(|&j| {
            let c = &m.calls[j];
            c.func == call.func
                && c.line == call.line
                && c.column == call.column
                && c.text.starts_with("<call>.")
        })?;
    }
    None
}

/// The class whose method (or a function nested in one) `func` is.
pub fn method_class(m: &ModuleFacts, mut func: FuncId) -> Option<u32> {
    loop {
        let f = &m.functions[func as usize];
        if f.kind == FnKind::Method {
            return f.class;
        }
        func = f.parent?;
    }
}

/// The function defined at `line` directly inside `parent`: how a candidate raised at a `def`
/// statement (whose `func` is the enclosing scope) finds the function it describes.
pub fn function_at(m: &ModuleFacts, parent: FuncId, line: u32) -> Option<FuncId> {
    m.functions
        .iter()
        .position(|f| f.parent == Some(parent) && f.line == line && f.kind != FnKind::Lambda)
        .map(|i| i as FuncId)
}

/// The candidates one hook raised in a module, with their marks.
pub fn marks<'a>(
    m: &'a ModuleFacts,
    code: &'a str,
) -> impl Iterator<Item = (&'a crate::facts::Candidate, &'a Mark)> + 'a {
    m.candidates
        .iter()
        .filter(move |c| c.code == code)
        .map(|c| (c, &c.mark))
}

/// PA201 and PA202: model loads on a per-request path, outside loops (`in_loop == false`) or
/// inside a loop that repeats within the request. A load guarded by "not loaded yet" or made in
/// a memoised function is paid by the first request only: it is reported as information, or
/// at full cost when other code resets what it loaded.
pub fn request_path_loads(
    meta: &'static RuleMeta,
    cx: &RuleContext,
    out: &mut Vec<Finding>,
    in_loop: bool,
) {
    let mut lazy: Option<(usize, LazySites)> = None;
    for site in model_loads(cx) {
        let call = site.call;
        // `loop_depth` counts only loops that repeat within one execution (not `while` loops,
        // not the loop over received messages).
        if (call.loop_depth > 0) != in_loop {
            continue;
        }
        let at = Site::call(site.module, call);
        let Some(exec) = cx
            .project
            .request_execution(&at)
            .filter(|e| e.serves_requests() || e.memo.is_some())
        else {
            // A load that only runs at startup is not a request cost, but its time and memory
            // belong in the audit's footprint: reported as information.
            let startup = cx
                .project
                .executions(&at)
                .into_iter()
                .find(|e| e.kind == CtxKind::Startup);
            if let (false, Some(exec)) = (in_loop, startup) {
                let func = &cx.project.modules[site.module].functions[call.func as usize].qualname;
                let memory = site
                    .memory_mb
                    .map(|mb| format!(", ~{} resident", fmt_mb(mb)))
                    .unwrap_or_default();
                let exec = Execution {
                    repeats: 0,
                    fan_out: Vec::new(),
                    ..exec
                };
                let per = site.per_call();
                let cost = Costed::latency(&per, &exec);
                let message = format!(
                    "`{}` loads a model at startup in `{func}` (~{} once{memory}): not a request \
                     cost",
                    site_label(&cx.project.modules[site.module], &site),
                    fmt_range(per.low_ms, per.high_ms)
                );
                let help = "Nothing to do for latency; keep the model loaded once and shared.";
                let h = Hotspot::call(site.module, call, &exec, cost);
                let mut f = cx.emit(meta, h, message, help.to_owned());
                f.memory_mb = site.memory_mb;
                out.push(f);
            }
            continue;
        };
        let m = &cx.project.modules[site.module];
        if lazy.as_ref().is_none_or(|(mi, _)| *mi != site.module) {
            lazy = Some((
                site.module,
                LazySites::of(cx.project, site.module, lazy::HOOK_CODE),
            ));
        }
        let (laziness, bypass) = match lazy
            .as_ref()
            .map_or(Laziness::Every, |(_, l)| l.laziness(call))
        {
            // A memoised function on the chain (`@lru_cache` on a getter) runs it once.
            Laziness::Every if exec.memo.is_some() => (
                Laziness::Once {
                    how: exec.memo.clone().unwrap_or_default(),
                },
                None,
            ),
            Laziness::Every => {
                let memo = memoised_on_chain(cx, &exec);
                (memo.laziness(), memo.bypass_note())
            }
            other => (other, None),
        };
        let per = site.per_call();
        let func = &m.functions[call.func as usize].qualname;
        let label = site_label(m, &site);
        let memory = site
            .memory_mb
            .map(|mb| format!(", ~{} resident", fmt_mb(mb)))
            .unwrap_or_default();
        let swap = (laziness == Laziness::Every)
            .then(|| swapped_into(cx, &exec, site.module, call))
            .flatten();
        let (cost, message) = match (&laziness, &swap) {
            // The path keeps what it loaded where every later request shares it: a swap of the
            // shared model (a reconfiguration), paid by the request that changes it.
            (_, Some((into, by))) => (
                Costed::paid_by(
                    &PerCall {
                        what: format!("{} per load", per.what),
                        ..per.clone()
                    },
                    &exec,
                    // After a failure only, it stays so (a retry of the swap).
                    match exec.frequency {
                        Frequency::PerFailure => Frequency::PerFailure,
                        _ => Frequency::Conditional,
                    },
                    &format!(
                        "paid by the request that swaps the model kept in `{into}`, not by the \
                         requests that use it"
                    ),
                ),
                format!(
                    "`{label}` loads a model in `{func}` that `{by}` keeps in `{into}` for the \
                     requests after it: the request that changes it waits for the load (~{} per \
                     load{memory})",
                    per.range()
                ),
            ),
            // One execution of this path — the first request's — pays the whole load, so the
            // band is that request's cost; the message and basis say it is paid once.
            (Laziness::Once { how }, None) => (
                Costed::first_request(
                    &PerCall {
                        what: format!("{} per load", per.what),
                        ..per.clone()
                    },
                    &exec,
                    "paid by the first request that needs it, then kept",
                ),
                format!(
                    "`{label}` loads a model lazily in `{func}`, {how}: the first request waits \
                     for it (~{} once{memory})",
                    per.range()
                ),
            ),
            (Laziness::Every | Laziness::Reloaded { .. }, None) => {
                let session = exec.frequency == Frequency::PerSession;
                let place = match (in_loop, session) {
                    (true, false) => "inside a loop, once per iteration of every request",
                    (false, false) => "on every request",
                    (true, true) => "inside a loop, once per iteration of every session",
                    (false, true) => "once per session, each time one starts",
                };
                let again = match (&laziness, &bypass) {
                    (Laziness::Reloaded { key, reset_in }, _) => format!(
                        "; it is guarded, but `{reset_in}` resets `{key}`, so the next request \
                         loads it again"
                    ),
                    (_, Some(note)) => format!("; {note}"),
                    _ => String::new(),
                };
                (
                    Costed::latency(&per, &exec),
                    format!(
                        "`{label}` loads a model in `{func}` {place} (~{} per load{memory}){again}",
                        per.range()
                    ),
                )
            }
        };
        let help = if in_loop {
            "Load the model once, before the loop — better, once at startup — and reuse it for \
             every iteration."
        } else {
            "Load the model once at startup (module level or `__init__`) and reuse it for every \
             request; if it must load lazily, keep it after the first load."
        };
        let h = Hotspot::call(site.module, call, &exec, cost);
        let mut f = cx.emit(meta, h, message, help.to_owned());
        f.memory_mb = site.memory_mb;
        out.push(f);
    }
}

/// What a memo on the chain to a site makes of it ([`memoised_on_chain`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ChainMemo {
    /// No call on the chain keeps its result under a not-loaded-yet check.
    None,
    /// A call on the chain keeps its result per key, and so does every other call of that
    /// helper: what the helper reaches runs once per key.
    Kept { how: String },
    /// The chain's caller keeps the helper's result, but another call of the helper does not:
    /// what the helper reaches runs on each of that caller's calls. The chain shown is the
    /// shortest, the kept one; this names the other (for the message).
    Bypassed {
        helper: String,
        kept_by: String,
        by: String,
        path: String,
        line: u32,
    },
}

impl ChainMemo {
    /// The site's laziness when the site itself is not guarded.
    pub fn laziness(&self) -> Laziness {
        match self {
            ChainMemo::Kept { how } => Laziness::Once { how: how.clone() },
            _ => Laziness::Every,
        }
    }

    /// For a message: which caller makes the kept chain pay on every call anyway.
    pub fn bypass_note(&self) -> Option<String> {
        match self {
            ChainMemo::Bypassed {
                helper,
                kept_by,
                by,
                path,
                line,
            } => Some(match helper.strip_suffix(".__init__") {
                // A constructor returns the instance: say so in the class's terms.
                Some(class) => format!(
                    "`{kept_by}` keeps the `{class}` it builds, but `{by}` ({path}:{line}) \
                     builds one without keeping it"
                ),
                None => format!(
                    "`{kept_by}` keeps what `{helper}` returns, but `{by}` ({path}:{line}) \
                     calls it without keeping it"
                ),
            }),
            _ => None,
        }
    }
}

/// A call on the chain to a load whose result the caller keeps under a "not loaded yet" check
/// (`t = self._cache.get(key)`, `if t is not None: return t`, `t = self._build(key)`,
/// `self._cache[key] = t`): what the called helper loads runs once per key, like a guarded
/// load at the site — provided every call of that helper in the project is kept so, or made
/// by a module body (a helper some other code calls for its own use loads on that code's
/// every call).
pub fn memoised_on_chain(cx: &RuleContext, exec: &Execution) -> ChainMemo {
    let project = cx.project;
    let locate = |step: &crate::finding::ChainStep| {
        let mi = project.modules.iter().position(|m| m.path == step.path)?;
        let fi = project.modules[mi]
            .functions
            .iter()
            .position(|f| f.qualname == step.function)?;
        Some(FnRef {
            module: mi as u32,
            func: fi as FuncId,
        })
    };
    let mut sites: Vec<(u32, LazySites)> = Vec::new();
    let mut at_line = |f: FnRef, line: u32| -> Laziness {
        let i = match sites.iter().position(|(mi, _)| *mi == f.module) {
            Some(i) => i,
            None => {
                sites.push((
                    f.module,
                    LazySites::of(project, f.module as usize, lazy::HOOK_CODE),
                ));
                sites.len() - 1
            }
        };
        sites[i].1.at_line(f.func, line)
    };
    let mut bypassed = ChainMemo::None;
    for pair in exec.chain.windows(2) {
        let (Some(caller), Some(callee)) = (locate(&pair[0]), locate(&pair[1])) else {
            continue;
        };
        let Laziness::Once { how } = at_line(caller, pair[0].line) else {
            continue;
        };
        let graph = &project.graph;
        let target = graph.id(callee);
        // The first call of the helper that does not keep its result, if any; a module body
        // or `__main__` block runs once, so its call is no per-request cost either way.
        let once = |from: u32| {
            let f = graph.node(from);
            let kind = project.modules[f.module as usize].functions[f.func as usize].kind;
            matches!(kind, FnKind::Module | FnKind::Main)
        };
        let unkept = (0..graph.len() as u32)
            .filter(|&from| !once(from))
            .find_map(|from| {
                graph
                    .edges_from(from)
                    .iter()
                    .filter(|e| e.to == target && crate::project::graph::Graph::is_call(e))
                    .find(|e| !matches!(at_line(graph.node(from), e.line), Laziness::Once { .. }))
                    .map(|e| (graph.node(from), e.line))
            });
        match unkept {
            None => {
                return ChainMemo::Kept {
                    how: format!("built by `{}`, {how}", pair[0].function),
                };
            }
            Some((by, line)) if bypassed == ChainMemo::None => {
                let m = &project.modules[by.module as usize];
                bypassed = ChainMemo::Bypassed {
                    helper: pair[1].function.clone(),
                    kept_by: pair[0].function.clone(),
                    by: m.functions[by.func as usize].qualname.clone(),
                    path: m.path.clone(),
                    line,
                };
            }
            Some(_) => {}
        }
    }
    bypassed
}

/// Where the chain to a load keeps what it loaded for every later request, as (the assigned
/// text, the function that assigns it): the load itself assigned to shared state
/// (`contexts.toml` `shared_state`: `request.app.state.model = Model(name)`), or the chain's
/// call of the loading function when every use of that function in the project keeps its
/// result there (`request.app.state.model = await asyncio.to_thread(load, name)`). A loading
/// function that some other code calls for its own use is not a swap on any chain.
fn swapped_into(
    cx: &RuleContext,
    exec: &Execution,
    module: usize,
    call: &Call,
) -> Option<(String, String)> {
    let project = cx.project;
    let shared = |m: &ModuleFacts, c: &Call| {
        m.assigned_to(c)
            .filter(|t| project.patterns.is_shared_state(t.as_str()))
            .map(|t| t.as_str().to_owned())
    };
    let m = &project.modules[module];
    let loader = &m.functions[call.func as usize];
    if let Some(into) = shared(m, call) {
        return Some((into, loader.qualname.clone()));
    }
    let [.., caller, _] = exec.chain.as_slice() else {
        return None;
    };
    let cm = project.modules.iter().find(|m| m.path == caller.path)?;
    let into = cm
        .calls
        .iter()
        .filter(|c| c.line == caller.line)
        .filter(|c| cm.functions[c.func as usize].qualname == caller.function)
        .find_map(|c| shared(cm, c))?;
    // Every use of the loading function keeps its result in shared state.
    let this = FnRef {
        module: module as u32,
        func: call.func,
    };
    let is_loader = |name: &str| {
        name.rsplit('.').next() == Some(loader.name.as_str())
            && matches!(project.resolver.resolve(name), Some((Target::Function(f), _)) if f == this)
    };
    for m in &project.modules {
        // A reference that no call passes on (`HANDLERS = {"a": load}`) is a use of its own.
        let passed = |g: FuncId| {
            m.calls.iter().any(|c| {
                c.func == g
                    && m.callable_args(c)
                        .iter()
                        .any(|(n, _)| is_loader(n.as_str()))
            })
        };
        if m.refs
            .iter()
            .any(|(g, name, _)| is_loader(name.as_str()) && !passed(*g))
        {
            return None;
        }
        for c in &m.calls {
            let uses = is_loader(c.target.as_str())
                || m.callable_args(c)
                    .iter()
                    .any(|(n, _)| is_loader(n.as_str()));
            if uses && shared(m, c).is_none() {
                return None;
            }
        }
    }
    Some((into, caller.function.clone()))
}

/// Model loads repeated on every round of a background thread's loop (a daemon that reloads its
/// model each pass): off every request path, but each round pays the load's time and memory
/// churn beside the requests, so it is banded by `cost::background_band` (medium at most)
/// instead of the information a background cost gets.
pub fn background_round_loads(meta: &'static RuleMeta, cx: &RuleContext, out: &mut Vec<Finding>) {
    for site in model_loads(cx) {
        let call = site.call;
        if !(call.in_while() || call.loop_depth > 0) {
            continue;
        }
        let at = Site::call(site.module, call);
        let all = cx.project.executions(&at);
        if all
            .iter()
            .any(|e| e.serves_requests() || e.kind == CtxKind::EventLoop)
        {
            continue;
        }
        let Some(exec) = all.into_iter().find(|e| e.kind == CtxKind::Background) else {
            continue;
        };
        let per = site.per_call();
        let band = crate::rules::cost::background_band(&per, true);
        let m = &cx.project.modules[site.module];
        let func = &m.functions[call.func as usize].qualname;
        let thread = exec
            .chain
            .first()
            .map_or(func.as_str(), |s| s.function.as_str());
        let memory = site
            .memory_mb
            .map(|mb| format!(", ~{} resident", fmt_mb(mb)))
            .unwrap_or_default();
        let message = format!(
            "`{}` loads a model in `{func}` on every round of a background thread (reached from \
             `{thread}`, ~{} per load{memory}): off the request path, but each round competes with the \
             requests for CPU, disk and memory",
            site_label(m, &site),
            per.range()
        );
        let help = "Load the model once when the thread starts, before its loop, and reuse it.";
        let cost = Costed::latency(&per, &exec).banded(band);
        let h = Hotspot::call(site.module, call, &exec, cost);
        let mut f = cx.emit(meta, h, message, help.to_owned());
        f.memory_mb = site.memory_mb;
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_bands_and_formatting() {
        assert_eq!(memory_severity(13000.0), Severity::High);
        assert_eq!(memory_severity(5000.0), Severity::Medium);
        assert_eq!(memory_severity(2500.0), Severity::Low);
        assert_eq!(fmt_mb(300.0), "300 MB");
        assert_eq!(fmt_mb(4400.0), "4.4 GB");
    }
}
