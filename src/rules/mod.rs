//! The rule registry. Each rule lives in its own file with its user documentation; this module
//! lists them in one const slice and holds the helpers they share.
//!
//! A rule either inspects the linked project (call sites with their contexts) in `check`, or
//! also contributes an AST-level hook that the module pass runs (`ast_rule`), whose candidates
//! the rule then turns into findings in `check`.

pub mod blocking;
pub mod caching;
pub mod cost;
pub mod cost_meta;
pub mod cpu;
pub mod emit;
pub mod models;
pub mod pooling;
pub mod syntax_error;
pub mod unused_suppression;

use serde::Serialize;

use crate::facts::collect::AstRule;
use crate::facts::{Call, ModuleFacts};
use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::{ApiEntry, Catalog};
use crate::knowledge::endpoints::Endpoints;
use crate::project::Project;
use crate::project::context::{Execution, Site};
use crate::rules::cost::PerCall;
use emit::{Costed, Hotspot};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Syntax,
    Blocking,
    Models,
    Cpu,
    Pooling,
    Caching,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Syntax => "syntax",
            Category::Blocking => "blocking",
            Category::Models => "models-memory",
            Category::Cpu => "cpu",
            Category::Pooling => "pooling",
            Category::Caching => "caching",
        }
    }
}

/// What a rule is, for `perfaudit rules`, `perfaudit rule CODE` and report rule lists.
#[derive(Debug, Serialize)]
pub struct RuleMeta {
    pub code: &'static str,
    pub name: &'static str,
    pub category: Category,
    /// The severity the rule usually yields; the actual one comes from the cost model.
    pub default_severity: Severity,
    pub summary: &'static str,
    /// Markdown: What it does / Why is this slow? / Example / Use instead / ...
    #[serde(skip)]
    pub doc: &'static str,
    /// How a finding's cost is computed: what `perfaudit rule CODE` explains step by step.
    #[serde(skip)]
    pub cost: cost::CostMeta,
}

pub struct RuleContext<'a> {
    pub project: &'a Project,
    pub catalog: &'a Catalog,
    /// What several rules read alike, made once per run by the first that asks.
    containers: std::sync::OnceLock<models::containers::Unbounded<'a>>,
    /// Every call a catalog entry names, as (module, call) indices in module and call order.
    catalog_sites: std::sync::OnceLock<Vec<(u32, u32)>>,
}

impl<'a> RuleContext<'a> {
    pub fn new(project: &'a Project, catalog: &'a Catalog) -> RuleContext<'a> {
        RuleContext {
            project,
            catalog,
            containers: std::sync::OnceLock::new(),
            catalog_sites: std::sync::OnceLock::new(),
        }
    }

    /// Every call a catalog entry names (`Call::api`), as (module, call) indices in module and
    /// call order. About twenty rules start from these calls: each scanned every call record
    /// of the project for them (327 k records of 88 bytes, 29 MB, on the standard library, of
    /// which 9.4 k name an entry), which made those rules wait on memory.
    pub fn catalog_sites(&self) -> &[(u32, u32)] {
        self.catalog_sites.get_or_init(|| {
            let mut sites = Vec::new();
            for (mi, m) in self.project.modules.iter().enumerate() {
                for (ci, call) in m.calls.iter().enumerate() {
                    if call.api.is_some() {
                        sites.push((mi as u32, ci as u32));
                    }
                }
            }
            sites.shrink_to_fit();
            sites
        })
    }

    /// Every module's unbounded containers, with the project's lifetimes.
    pub fn containers(&self) -> &models::containers::Unbounded<'a> {
        self.containers
            .get_or_init(|| models::containers::Unbounded::new(self.project))
    }
}

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>);
    /// The hooks the module pass runs for this rule. Hooks shared by several rules report
    /// under a code of their own and run once however many of those rules are enabled.
    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        Vec::new()
    }
}

/// Every rule, in code order.
pub static RULES: &[&dyn Rule] = &[
    &syntax_error::SyntaxError,
    &unused_suppression::UnusedSuppression,
    &blocking::blocking_sleep_in_async::RULE,
    &blocking::blocking_http_in_async::RULE,
    &blocking::blocking_file_io_in_async::RULE,
    &blocking::blocking_subprocess_in_async::RULE,
    &blocking::blocking_fs_walk_in_async::RULE,
    &blocking::blocking_db_in_async::RULE,
    &blocking::blocking_redis_in_async::RULE,
    &blocking::blocking_browser_in_async::RULE,
    &blocking::blocking_input_in_async::RULE,
    &blocking::http_without_timeout::HttpWithoutTimeout,
    &blocking::blocking_call_in_request_loop::BlockingCallInRequestLoop,
    &blocking::async_loop_without_await::AsyncLoopWithoutAwait,
    &blocking::coroutine_never_awaited::CoroutineNeverAwaited,
    &blocking::cpu_heavy_call_in_async::RULE,
    &blocking::blocking_io_in_serial_server::BlockingIoInSerialServer,
    &blocking::blocking_wait_in_async::RULE,
    &models::model_load_on_request_path::ModelLoadOnRequestPath,
    &models::model_load_in_loop::ModelLoadInLoop,
    &models::multiple_large_models_resident::MultipleLargeModelsResident,
    &models::unbounded_cache::UnboundedCache,
    &models::unbounded_lru_cache::UnboundedLruCache,
    &models::resource_never_released::ResourceNeverReleased,
    &models::tensors_accumulated::TensorsAccumulated,
    &models::log_file_without_rotation::LogFileWithoutRotation,
    &cpu::regex_in_hot_path::RegexInHotPath,
    &cpu::quadratic_membership::QuadraticMembership,
    &cpu::json_on_logging_path::JsonOnLoggingPath,
    &cpu::string_concat_in_loop::StringConcatInLoop,
    &cpu::deepcopy_on_request_path::DeepcopyOnRequestPath,
    &cpu::heavy_import_in_function::HeavyImportInFunction,
    &cpu::pandas_row_iteration::PandasRowIteration,
    &pooling::client_per_request::ClientPerRequest,
    &pooling::socket_per_request::SocketPerRequest,
    &pooling::executor_per_call::ExecutorPerCall,
    &pooling::requests_without_session::RequestsWithoutSession,
    &caching::config_parsed_per_request::ConfigParsedPerRequest,
    &caching::same_artifact_loaded_repeatedly::SameArtifactLoadedRepeatedly,
    &caching::repeated_pure_call_in_loop::RepeatedPureCallInLoop,
];

pub fn find_rule(code: &str) -> Option<&'static dyn Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.meta().code.eq_ignore_ascii_case(code))
}

/// Every call site whose catalog entry satisfies `wanted`, with its module index and module:
/// the starting point of the rules that judge catalog calls by their context.
pub fn catalog_calls<'a>(
    cx: &'a RuleContext,
    wanted: impl Fn(&ApiEntry) -> bool + Copy + 'a,
) -> impl Iterator<Item = (usize, &'a ModuleFacts, &'a Call, &'a ApiEntry)> + 'a {
    cx.catalog_sites().iter().filter_map(move |&(mi, ci)| {
        let m = &cx.project.modules[mi as usize];
        let call = &m.calls[ci as usize];
        let entry = cx.catalog.get(call.api?);
        wanted(entry).then_some((mi as usize, m, call, entry))
    })
}

/// What one catalog call costs where it is made: its entry's range for its arguments
/// (`PerCall::of`), narrowed by where it goes when that is known (`Project::destinations`): the
/// URL of a request (catalog `url_arg`), or the peer a receive's socket connected to (`peer_arg`).
pub fn call_cost(cx: &RuleContext, module: usize, call: &Call, entry: &ApiEntry) -> PerCall {
    let per = PerCall::of(entry, call);
    let urls = if entry.url_arg {
        cx.project.destinations(module, call)
    } else if entry.rcvtimeo {
        // A receive waits for the peer its socket connects to.
        peer_of(cx, module, call).and_then(|c| cx.project.destinations(module, c))
    } else {
        None
    };
    let Some(urls) = urls else {
        return per;
    };
    let endpoints = Endpoints::shipped();
    let Some(places) = urls
        .iter()
        .map(|u| endpoints.place(u))
        .collect::<Option<Vec<_>>>()
    else {
        return per;
    };
    let place = places[0].0;
    if places.iter().any(|(p, _)| *p != place) {
        return per;
    }
    let mut hosts: Vec<&str> = places.iter().map(|(_, h)| h.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let host = match hosts.len() {
        1 => format!("`{}`", hosts[0]),
        2 => format!("`{}` and `{}`", hosts[0], hosts[1]),
        n => format!("`{}` and {} more hosts", hosts[0], n - 1),
    };
    per.to(&entry.name, place, &host, endpoints)
}

/// The call that connects the socket `recv` receives on to its peer (catalog `peer_arg`,
/// `sock.connect(address)`), earlier in the same function.
fn peer_of<'a>(cx: &RuleContext<'a>, module: usize, recv: &Call) -> Option<&'a Call> {
    let (socket, _) = recv.text.rsplit_once('.')?;
    cx.project.modules[module].calls.iter().find(|c| {
        c.func == recv.func
            && (c.line, c.column) < (recv.line, recv.column)
            && c.text.strip_suffix(".connect") == Some(socket)
            && c.api.is_some_and(|a| cx.catalog.get(a).peer_arg)
    })
}

/// What a rule says about a catalog call on a request path: the message and help, given the
/// module, the call, its catalog entry, its execution and its cost; `None` drops the call.
pub type SayCall<'a> =
    &'a dyn Fn(&ModuleFacts, &Call, &ApiEntry, &Execution, &Costed) -> Option<(String, String)>;

/// Reports every catalog call satisfying `wanted` that runs per request, costed from its entry
/// for its arguments.
pub fn report_calls(
    meta: &'static RuleMeta,
    cx: &RuleContext,
    out: &mut Vec<Finding>,
    wanted: impl Fn(&ApiEntry) -> bool + Copy,
    say: SayCall,
) {
    for (mi, m, call, entry) in catalog_calls(cx, wanted) {
        let Some(exec) = cx.project.request_execution(&Site::call(mi, call)) else {
            continue;
        };
        let cost = Costed::latency(&call_cost(cx, mi, call, entry), &exec);
        let Some((message, help)) = say(m, call, entry, &exec, &cost) else {
            continue;
        };
        out.push(cx.emit(meta, Hotspot::call(mi, call, &exec, cost), message, help));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_unique_and_sorted() {
        for w in RULES.windows(2) {
            assert!(
                w[0].meta().code < w[1].meta().code,
                "{} / {}",
                w[0].meta().code,
                w[1].meta().code
            );
        }
        let mut names: Vec<_> = RULES.iter().map(|r| r.meta().name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), RULES.len(), "rule names must be unique");
    }

    /// Rules and hooks are handed the run's catalog: one built anywhere else would hand out
    /// ids that index a different table.
    #[test]
    fn rules_and_hooks_never_build_a_catalog() {
        fn scan(dir: &std::path::Path, bad: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    scan(&p, bad);
                } else if p.extension().is_some_and(|x| x == "rs")
                    && std::fs::read_to_string(&p)
                        .unwrap()
                        .contains(concat!("Catalog", "::"))
                {
                    bad.push(p.display().to_string());
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut bad = Vec::new();
        scan(&root.join("rules"), &mut bad);
        scan(&root.join("facts"), &mut bad);
        assert!(bad.is_empty(), "a catalog is built in {bad:?}");
    }

    #[test]
    fn every_rule_documents_its_sections() {
        for r in RULES {
            let m = r.meta();
            for section in [
                "## What it does",
                "## Why is this slow?",
                "## Example",
                "## Use instead",
            ] {
                assert!(m.doc.contains(section), "{} lacks `{section}`", m.code);
            }
            assert!(m.code.starts_with("PA") && m.code.len() == 5, "{}", m.code);
            assert!(!m.summary.is_empty());
        }
    }
}
