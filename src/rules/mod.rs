//! The rule registry. Each rule lives in its own file with its user documentation; this module
//! lists them in one const slice and holds the helpers they share.
//!
//! A rule either inspects the linked project (call sites with their contexts) in `check`, or
//! also contributes an AST-level hook that the module pass runs (`ast_rule`), whose candidates
//! the rule then turns into findings in `check`.

pub mod blocking;
pub mod caching;
pub mod cpu;
pub mod models;
pub mod pooling;
pub mod syntax_error;
pub mod unused_suppression;

use serde::Serialize;

use crate::catalog::{ApiEntry, Catalog};
use crate::facts::collect::AstRule;
use crate::facts::{Call, Candidate, FnKind, FuncId, ModuleFacts, Resolution};
use crate::finding::{Confidence, Estimate, Finding, Severity};
use crate::project::{CallContext, CtxKind, Project};

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
}

pub struct RuleContext<'a> {
    pub project: &'a Project,
    pub catalog: &'a Catalog,
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
    &blocking::blocking_sleep_in_async::BlockingSleepInAsync,
    &blocking::blocking_http_in_async::BlockingHttpInAsync,
    &blocking::blocking_file_io_in_async::BlockingFileIoInAsync,
    &blocking::blocking_subprocess_in_async::BlockingSubprocessInAsync,
    &blocking::blocking_fs_walk_in_async::BlockingFsWalkInAsync,
    &blocking::blocking_db_in_async::BlockingDbInAsync,
    &blocking::blocking_redis_in_async::BlockingRedisInAsync,
    &blocking::blocking_browser_in_async::BlockingBrowserInAsync,
    &blocking::blocking_input_in_async::BlockingInputInAsync,
    &blocking::http_without_timeout::HttpWithoutTimeout,
    &blocking::blocking_call_in_request_loop::BlockingCallInRequestLoop,
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
    cx.project
        .modules
        .iter()
        .enumerate()
        .flat_map(move |(mi, m)| {
            m.calls.iter().filter_map(move |call| {
                let entry = cx.catalog.get(call.api?);
                wanted(entry).then_some((mi, m, call, entry))
            })
        })
}

/// Builds a finding at a call site, reached through `ctx`.
#[allow(clippy::too_many_arguments)]
pub fn call_finding(
    meta: &'static RuleMeta,
    project: &Project,
    module: usize,
    call: &Call,
    ctx: &CallContext,
    estimate: Option<Estimate>,
    severity: Severity,
    message: String,
    help: String,
) -> Finding {
    let m = &project.modules[module];
    let confidence = match call.resolution {
        Resolution::Inferred => ctx.confidence.min(Confidence::Probable),
        _ => ctx.confidence,
    };
    Finding {
        code: meta.code,
        name: meta.name,
        severity,
        confidence,
        path: m.path.clone(),
        line: call.line,
        column: call.column,
        end_line: call.end_line,
        end_column: call.end_column,
        function: m.functions[call.func as usize].qualname.clone(),
        context: ctx.kind.as_str().to_owned(),
        estimate,
        memory_mb: None,
        chain: ctx.chain.clone(),
        agents: Vec::new(),
        reachable: project.is_reachable(module, call.func),
        message,
        help,
        snippet: call.target.clone(),
    }
}

/// Builds a finding at a candidate raised by an AST-level rule, reached through `ctx`.
#[allow(clippy::too_many_arguments)]
pub fn candidate_finding(
    meta: &'static RuleMeta,
    project: &Project,
    module: usize,
    c: &Candidate,
    ctx: &CallContext,
    estimate: Option<Estimate>,
    severity: Severity,
    message: String,
    help: String,
) -> Finding {
    let m = &project.modules[module];
    Finding {
        code: meta.code,
        name: meta.name,
        severity,
        confidence: ctx.confidence,
        path: m.path.clone(),
        line: c.line,
        column: c.column,
        end_line: c.end_line,
        end_column: c.end_column,
        function: m.functions[c.func as usize].qualname.clone(),
        context: ctx.kind.as_str().to_owned(),
        estimate,
        memory_mb: None,
        chain: ctx.chain.clone(),
        agents: Vec::new(),
        reachable: true,
        message,
        help,
        snippet: c.text.clone(),
    }
}

/// Where a per-request cost is paid, for messages: "on every request" (or "in a loop on every
/// request" when loops inside the request repeat it). Any `async def` runs on the event loop,
/// but not every coroutine runs per request, so that context only claims "every call".
pub fn per_request_phrase(loop_depth: u8, ctx: &CallContext) -> &'static str {
    let inner = if ctx.kind == CtxKind::RequestLoop {
        loop_depth.saturating_sub(1)
    } else {
        loop_depth
    };
    match (ctx.kind, inner > 0) {
        (CtxKind::EventLoop, false) => "on every call, on the event loop",
        (CtxKind::EventLoop, true) => "in a loop on every call, on the event loop",
        (_, false) => "on every request",
        (_, true) => "in a loop on every request",
    }
}

/// The first of `contexts` in which code of `func` runs once per request.
///
/// A `Request` or `EventLoop` context is discarded when the function itself only runs once: a
/// startup hook by name (`setup`, `lifespan`, ...) that is not also a handler, or a function
/// the module body or its `__main__` block calls directly (`asyncio.run(main())`). A receive
/// loop inside such a function still runs per request, so `RequestLoop` is always kept.
pub fn request_context<'c>(
    cx: &RuleContext,
    module: usize,
    func: FuncId,
    contexts: &'c [CallContext],
) -> Option<&'c CallContext> {
    let mut once = None;
    contexts.iter().find(|c| {
        c.kind.per_request()
            && (c.kind == CtxKind::RequestLoop
                || !*once.get_or_insert_with(|| runs_once(cx.project, module, func)))
    })
}

/// Whether `func` is startup code that the per-function contexts cannot see as such.
fn runs_once(project: &Project, module: usize, func: FuncId) -> bool {
    let m = &project.modules[module];
    let f = &m.functions[func as usize];
    if !matches!(f.kind, FnKind::Function | FnKind::Method) {
        return false;
    }
    if project.patterns.is_startup_name(&f.name) && !project.is_handler(module, func) {
        return true;
    }
    if f.kind != FnKind::Function {
        return false;
    }
    let target = if m.module.is_empty() {
        f.qualname.clone()
    } else {
        format!("{}.{}", m.module, f.qualname)
    };
    m.calls.iter().any(|c| {
        c.resolution == Resolution::Local
            && c.target == target
            && matches!(
                m.functions[c.func as usize].kind,
                FnKind::Module | FnKind::Main
            )
    })
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
