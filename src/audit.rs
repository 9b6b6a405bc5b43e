//! The audit pipeline, in five named stages, each a function with its data in and out:
//! `discover` (the files), `summarise_modules` (read, parse and collect each module in
//! parallel, through the cache, dropping the AST), `link` (the project and its services),
//! `judge` (the rules, suppressions and attribution) and `summary` (the sorted report).
//! Output never depends on thread timing: everything is sorted before it leaves. This module
//! drives the stages; it does not format output (that is `report`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::facts::ModuleFacts;
use crate::facts::collect::AstRule;
use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::Catalog;
use crate::knowledge::contexts::ContextPatterns;
use crate::module::analyze::{Diagnostic, analyze_bytes, analyze_file};
use crate::module::discover::{
    Discovered, SourcePath, WalkDiagnostic, build_anchored, build_excludes, discover_anchored,
};
use crate::project::Project;
use crate::project::services::{Ownership, Resolved, ServiceConflict, attribute, resolve_services};
use crate::rules::{RULES, Rule, RuleContext};
use crate::settings::Settings;
use rustc_hash::FxHashMap as HashMap;

#[cfg(debug_assertions)]
mod fault;
mod findings;
mod knowledge;
mod links;
mod manifests;
mod reuse;
mod schedule;
mod timings;
use findings::{
    LiveRule, attribute_findings, dedupe_same_line, fold_missing_timeouts, group_copies,
    number_occurrences,
};
use knowledge::Knowledge;
pub use links::ENTRY as LINKS_CACHE_ENTRY;
pub use reuse::ENTRY as RUN_CACHE_ENTRY;
use timings::Timings;

/// Worker stack size: generous, because our walk and the AST drop recurse (they also grow the
/// stack on demand).
const WORKER_STACK: usize = 16 * 1024 * 1024;

pub struct AuditReport {
    /// The audited root that finding paths are relative to.
    pub root: PathBuf,
    pub files_scanned: usize,
    pub files_unparsable: usize,
    pub lines: u64,
    pub diagnostics: Vec<Diagnostic>,
    /// Files left out because analysing them failed with an internal error (a perfaudit bug):
    /// their paths, sorted. Each also has its diagnostic; a run with any is not a clean run.
    pub failed: Vec<String>,
    pub findings: Vec<Finding>,
    /// Services found (sorted by name), with their entry module path.
    pub services: Vec<ServiceInfo>,
    /// Names of the framework profiles the audited code turned on (data/frameworks/).
    pub frameworks: Vec<String>,
    /// Services that several manifests name with different entry modules: the one used and
    /// the others (see `project::services::conflict_order`).
    pub conflicts: Vec<ServiceConflict>,
    /// Why no manifest declares the services, when none does (the code is then audited as a
    /// library: everything but tooling is live).
    pub services_note: Option<String>,
    /// The Python environment whose libraries calls were followed into, and what was found
    /// there (`deps`); `None` when there is none.
    pub environment: Option<String>,
    pub elapsed_ms: u64,
    /// Findings silenced by suppression comments; kept only with `--show-suppressed`.
    pub suppressed: Option<Vec<Finding>>,
    /// Findings the baseline records (not in `findings`); `None` without a baseline.
    pub baselined: Option<Vec<Finding>>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceInfo {
    pub name: String,
    pub entry: String,
    pub declared_in: String,
}

impl AuditReport {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// The worst band among the findings that may fail a run: those in code a service runs.
    pub fn worst(&self) -> Option<Severity> {
        self.findings
            .iter()
            .filter(|f| f.not_run.is_none())
            .map(|f| f.severity)
            .max()
    }
}

pub fn enabled_rules(settings: &Settings) -> Vec<&'static dyn Rule> {
    RULES
        .iter()
        .copied()
        .filter(|r| settings.rule_enabled(r.meta().code))
        .collect()
}

/// The module-pass hooks of the enabled rules, each shared hook once.
pub fn ast_hooks<'r>(rules: &[&'r dyn Rule]) -> Vec<&'r dyn AstRule> {
    let mut hooks: Vec<&dyn AstRule> = Vec::new();
    for hook in rules.iter().flat_map(|r| r.ast_rules()) {
        if !hooks.iter().any(|h| h.code() == hook.code()) {
            hooks.push(hook);
        }
    }
    hooks
}

/// Why an audit could not run at all (a file that cannot be analysed is a diagnostic, never
/// an error).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Exclude(#[from] crate::module::discover::PatternError),
    #[error("cannot start worker threads: {0}")]
    Threads(#[from] rayon::ThreadPoolBuildError),
    #[error("{0}")]
    Baseline(String),
}

/// How `analyze` words the diagnostic of a file whose analysis panicked (pinned by its test).
const INTERNAL_ERROR: &str = "skipped: internal error";

/// Runs a whole audit. Errors are usage errors (a bad exclude pattern, no thread pool).
pub fn run(settings: &Settings) -> Result<AuditReport, AuditError> {
    let start = Instant::now();
    // The catalog and the context patterns are built from their tables on a thread of their
    // own while the walk finds the files, and the framework profiles after the walk: on the
    // standard library 18 + 13 M instructions of table parsing beside 12 M of walking, which
    // ran one after the other on one thread before the pool had work.
    let (found, knowledge) = std::thread::scope(|s| {
        let tables = s.spawn(|| {
            (
                settings.extensions.catalog(),
                settings.extensions.patterns(),
            )
        });
        let found = discover(settings);
        let frameworks = settings.extensions.frameworks();
        let (catalog, patterns) = tables
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (
            found,
            Knowledge {
                catalog,
                patterns,
                frameworks,
            },
        )
    });
    audit(settings, start, found?, knowledge, None)
}

/// Stage 1: the files to audit and the configuration files that may declare services.
fn discover(settings: &Settings) -> Result<Discovered, AuditError> {
    // Configuration files contribute absolute patterns, anchored at their own directory.
    let (anchored, relative): (Vec<String>, Vec<String>) = settings
        .exclude
        .iter()
        .cloned()
        .partition(|p| Path::new(p).is_absolute());
    let excludes = build_excludes(&relative)?;
    let anchored = build_anchored(&anchored)?;
    Ok(discover_anchored(
        &settings.paths,
        &excludes,
        &anchored,
        settings.follow_links,
    ))
}

/// Audits files held in memory as `run` audits the files it finds: each is a path relative to
/// `root` and its bytes. `.py` files are modules and the files that may declare services
/// (`Procfile`, YAML and JSON manifests, `pyproject.toml`) are read for services; anything else
/// is left out. Nothing is walked, cached or read from disk (`root` is only where reports look
/// for code excerpts), so `settings.paths`, excludes, ignore files and the size cap do not
/// apply. Used by the fuzz targets.
pub fn run_sources(
    root: &Path,
    files: Vec<(String, Vec<u8>)>,
    settings: &Settings,
) -> Result<AuditReport, AuditError> {
    let start = Instant::now();
    let memory: HashMap<String, Vec<u8>> = files.into_iter().collect();
    let mut found = Discovered {
        root: root.to_path_buf(),
        files: Vec::new(),
        configs: Vec::new(),
        diagnostics: Vec::new(),
    };
    for rel in memory.keys() {
        let path = SourcePath {
            rel: rel.clone(),
            abs: root.join(rel),
        };
        if rel.ends_with(".py") {
            found.files.push(path);
        } else if crate::services::is_config_file(rel.rsplit('/').next().unwrap_or(rel)) {
            found.configs.push(path);
        }
    }
    found.files.sort();
    found.configs.sort();
    audit(
        settings,
        start,
        found,
        Knowledge::new(settings),
        Some(&memory),
    )
}

/// The steps after discovery, shared by `run` and `run_sources` (`memory` holds the files'
/// bytes when they are not read from disk): summarise each module, link the project, judge,
/// and put the report together.
fn audit(
    settings: &Settings,
    start: Instant,
    found: Discovered,
    knowledge: Knowledge,
    memory: Option<&HashMap<String, Vec<u8>>>,
) -> Result<AuditReport, AuditError> {
    let Knowledge {
        catalog,
        patterns,
        frameworks,
    } = knowledge;
    let catalog = &catalog;
    let rules = enabled_rules(settings);
    let ast_rules = ast_hooks(&rules);
    let cache = if settings.cache && memory.is_none() {
        crate::module::cache::Cache::open(&found.root, settings, catalog, &patterns, &ast_rules)
    } else {
        None
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads)
        .stack_size(WORKER_STACK)
        .build()?;
    let mut timings = Timings::new(start);
    // With a cache, the whole last result when nothing it read has changed.
    let run_key = cache.as_ref().map(|c| {
        let package = package_of(&found.root, memory);
        reuse::RunKey::new(&pool, c, settings, &found, package.as_deref())
    });
    if let (Some(c), Some(key)) = (&cache, &run_key)
        && let Some(outcome) = key.load(c)
    {
        timings.print_reused(outcome.files_scanned);
        return finish(settings, start, found.root, outcome);
    }
    // The last run's link results, read while the modules are summarised.
    let previous_links = cache.as_ref().and_then(links::load_in_background);

    let inputs = ModuleInputs {
        settings,
        catalog,
        patterns: &patterns,
        ast_rules: &ast_rules,
        memory,
        cache: cache.as_ref(),
        prints: run_key.as_ref().map(|k| k.prints.as_slice()),
    };
    let Discovered {
        root,
        files,
        configs,
        diagnostics: walk_diagnostics,
    } = found;
    let Summaries {
        mut modules,
        link_keys,
        mut diagnostics,
        counts,
    } = summarise_modules(&pool, &inputs, &files, walk_diagnostics);
    // Calls into installed libraries: the run's catalog gains an entry for each that blocks.
    let own = package_of(&root, memory);
    let deps = crate::deps::Inputs::new(settings, catalog, &patterns, own.as_deref(), &cache);
    let followed = memory
        .is_none()
        .then(|| crate::deps::follow(&root, &deps, &mut modules));
    let followed = followed.flatten();
    if followed.is_none()
        && memory.is_none()
        && let Some((path, message)) = crate::deps::unusable(settings)
    {
        diagnostics.push(Diagnostic {
            path: path.display().to_string(),
            message,
        });
    }
    let catalog = followed
        .as_ref()
        .and_then(|f| f.catalog.as_ref())
        .unwrap_or(catalog);
    timings.modules_done();
    let mut link_reuse = match (&cache, &run_key) {
        (Some(c), Some(k)) => {
            links::reuse(c, settings, &files, &k.prints, link_keys, previous_links)
        }
        _ => None,
    };
    let Linked {
        project,
        ownership,
        services,
        copies,
    } = link(
        &pool,
        &root,
        modules,
        patterns,
        frameworks,
        settings,
        &configs,
        memory,
        &mut diagnostics,
        &mut timings,
        link_reuse.as_mut(),
    );
    // This run's link results, written while the rules run.
    let links_stored = match (&cache, link_reuse.and_then(|r| r.next)) {
        (Some(c), Some(next)) => links::store_in_background(c.dir().to_path_buf(), next),
        _ => None,
    };
    let Judged {
        findings,
        suppressed,
    } = judge(
        &pool,
        &rules,
        &project,
        &ownership,
        &services,
        catalog,
        settings,
        &root,
        &mut timings,
    );
    timings.print(cache.as_ref());
    let (note, libraries) = followed.map_or((None, Vec::new()), |f| (Some(f.note()), f.sources));
    let outcome = outcome(
        note,
        counts,
        diagnostics,
        Judged {
            findings,
            suppressed,
        },
        Linked {
            project,
            ownership,
            services,
            copies,
        },
    );
    // A file that changed while the run read it leaves a result of no one state of the tree;
    // an internal error may not happen again.
    let internal_error = outcome
        .diagnostics
        .iter()
        .any(|d| d.message.starts_with(INTERNAL_ERROR));
    if let (Some(c), Some(key)) = (&cache, &run_key)
        && !c.moved()
        && !internal_error
    {
        key.store(c, &libraries, &outcome);
    }
    if let Some(h) = links_stored {
        let _ = h.join();
    }
    finish(settings, start, root, outcome)
}

/// What the module stage reads besides the files: settings, catalog, context patterns, AST
/// hooks, the files' bytes when they are held in memory, and the cache.
struct ModuleInputs<'a> {
    settings: &'a Settings,
    catalog: &'a Catalog,
    patterns: &'a ContextPatterns,
    ast_rules: &'a [&'a dyn AstRule],
    memory: Option<&'a HashMap<String, Vec<u8>>>,
    cache: Option<&'a crate::module::cache::Cache>,
    /// Each file's fingerprint, in `files` order, when the run key has taken them.
    prints: Option<&'a [crate::module::cache::Fingerprint]>,
}

/// The module stage's output: every module's facts (in discovery order), the file-level
/// diagnostics (sorted), and the counts the summary reports.
struct Summaries {
    modules: Vec<ModuleFacts>,
    /// Each module's own key for the link stage (`project::module_key`), in `modules` order:
    /// `None` without a fingerprint taken before the run.
    link_keys: Vec<Option<u128>>,
    diagnostics: Vec<Diagnostic>,
    counts: Counts,
}

struct Counts {
    files_scanned: usize,
    files_unparsable: usize,
    lines: u64,
}

/// Stage 2: read, parse and collect each module in parallel (through the cache when there is
/// one), keeping only its facts.
fn summarise_modules(
    pool: &rayon::ThreadPool,
    inputs: &ModuleInputs<'_>,
    files: &[SourcePath],
    walk_diagnostics: Vec<WalkDiagnostic>,
) -> Summaries {
    let ModuleInputs {
        settings,
        catalog,
        patterns,
        ast_rules,
        memory,
        cache,
        prints,
    } = *inputs;
    // Room in the interner for the texts the modules will bring: the standard library's
    // 1,788 modules have ~92 distinct texts each (164,198 in all).
    crate::facts::name::reserve(files.len() * 96);
    let progress = crate::progress::Progress::new(settings, files.len());
    let results: Vec<_> = pool.install(|| {
        files
            .par_iter()
            .enumerate()
            .map(|(i, f)| {
                #[cfg(debug_assertions)]
                if let Some(r) = fault::inject(f, settings, catalog, patterns) {
                    progress.tick();
                    return (r, None);
                }
                let r = match (memory, cache) {
                    (Some(m), _) => {
                        let bytes = m.get(&f.rel).cloned().unwrap_or_default();
                        analyze_bytes(f, bytes, settings, catalog, patterns, ast_rules)
                    }
                    (None, Some(c)) => {
                        let print = prints.map(|p| &p[i]);
                        c.analyze(f, print, settings, catalog, patterns, ast_rules)
                    }
                    (None, None) => analyze_file(f, settings, catalog, patterns, ast_rules),
                };
                // The module's own key for the link stage, taken here on the pool (a scan of
                // its calls) rather than for every module on one thread after this stage.
                let key = match (prints.map(|p| &p[i]), &r.facts) {
                    (Some(Ok(content)), Some(m)) if m.path == f.rel => {
                        Some(crate::project::module_key(content, m))
                    }
                    _ => None,
                };
                progress.tick();
                (r, key)
            })
            .collect()
    });
    progress.finish();

    let mut diagnostics: Vec<Diagnostic> = walk_diagnostics
        .into_iter()
        .map(|d| Diagnostic {
            path: d.path,
            message: d.message,
        })
        .collect();
    let mut modules: Vec<ModuleFacts> = Vec::with_capacity(results.len());
    let mut link_keys = Vec::with_capacity(results.len());
    for (r, key) in results {
        diagnostics.extend(r.diagnostic);
        if let Some(m) = r.facts {
            modules.push(m);
            link_keys.push(key);
        }
    }
    diagnostics.sort();
    let counts = Counts {
        files_scanned: modules.len(),
        files_unparsable: modules.iter().filter(|m| m.syntax_error.is_some()).count(),
        lines: modules.iter().map(|m| u64::from(m.lines)).sum(),
    };
    Summaries {
        modules,
        link_keys,
        diagnostics,
        counts,
    }
}

/// The linked project, which services own which code, what the report says about the
/// services, and the groups of near-identical modules.
struct Linked {
    project: Project,
    ownership: Ownership,
    services: ServiceFacts,
    copies: Vec<Vec<u32>>,
}

/// What the services resolved to, besides the ownership.
struct ServiceFacts {
    conflicts: Vec<ServiceConflict>,
    /// A manifest declared a service that was found: live code is what services run.
    declared: bool,
    note: Option<String>,
}

/// The dotted package the audited folder is, when it holds an `__init__.py` (and so do the
/// folders above it, for a sub-package): an audit of `homeassistant/` sees
/// `from homeassistant.core import ...` as its own `core` module.
fn package_of(root: &Path, memory: Option<&HashMap<String, Vec<u8>>>) -> Option<String> {
    let is_package = |dir: &Path, top: bool| match memory {
        Some(files) => top && files.contains_key("__init__.py"),
        None => dir.join("__init__.py").is_file(),
    };
    let mut parts = Vec::new();
    let abs = std::path::absolute(root).ok()?;
    let mut dir = Some(abs.as_path());
    let mut top = true;
    while let Some(d) = dir {
        if !is_package(d, top) {
            break;
        }
        let name = d.file_name()?.to_str()?;
        if !crate::knowledge::is_identifier(name) {
            break;
        }
        parts.push(name.to_owned());
        dir = d.parent();
        top = false;
    }
    parts.reverse();
    (!parts.is_empty()).then(|| parts.join("."))
}

/// Stage 3: link the modules into a project (resolution, call graph, contexts) and attribute
/// code to the services declared in configuration files (or `--agents`).
#[allow(clippy::too_many_arguments)]
fn link(
    pool: &rayon::ThreadPool,
    root: &Path,
    modules: Vec<ModuleFacts>,
    patterns: ContextPatterns,
    frameworks: crate::knowledge::frameworks::Frameworks,
    settings: &Settings,
    configs: &[SourcePath],
    memory: Option<&HashMap<String, Vec<u8>>>,
    diagnostics: &mut Vec<Diagnostic>,
    timings: &mut Timings,
    mut reuse: Option<&mut crate::project::LinkReuse>,
) -> Linked {
    // Linking fans out over modules on the run's own worker threads.
    let package = package_of(root, memory);
    let total = modules.len();
    let mut project = pool.install(|| {
        Project::link(
            modules,
            patterns,
            frameworks,
            package.as_deref(),
            reuse.as_deref_mut(),
        )
    });
    timings.project_done();
    timings.links(reuse.map(|r| r.reused), total);
    let (defs, configured) = manifests::service_definitions(settings, configs, memory, diagnostics);
    project.configured = configured;
    let Resolved {
        services,
        unmatched,
        conflicts,
        declared,
        note,
    } = resolve_services(&project, &defs);
    // Only a manifest makes a module under a tooling folder (`scripts/`) live: a `__main__`
    // block alone is how every script starts.
    if declared {
        project
            .service_modules
            .extend(services.iter().map(|s| s.module));
    }
    let copies = std::mem::take(&mut project.copies);
    let ownership = attribute(&project, services, unmatched);
    for d in &ownership.unmatched {
        diagnostics.push(Diagnostic {
            path: d.declared_in.clone(),
            message: format!(
                "service `{}` names `{}`, which is not among the audited modules",
                d.name, d.entry
            ),
        });
    }
    diagnostics.sort();
    Linked {
        project,
        ownership,
        services: ServiceFacts {
            conflicts,
            declared,
            note,
        },
        copies,
    }
}

/// The findings to report and those silenced by suppression comments, each with its services
/// and reachability, one per rule and line.
struct Judged {
    findings: Vec<Finding>,
    suppressed: Vec<Finding>,
}

/// Stage 4: run the rules over the project, then apply per-file ignores and suppression
/// comments, attribute each finding to its services, and keep one per rule and line.
#[allow(clippy::too_many_arguments)]
fn judge(
    pool: &rayon::ThreadPool,
    rules: &[&'static dyn Rule],
    project: &Project,
    ownership: &Ownership,
    services: &ServiceFacts,
    catalog: &Catalog,
    settings: &Settings,
    root: &Path,
    timings: &mut Timings,
) -> Judged {
    let cx = RuleContext::new(project, catalog);
    let mut findings = schedule::run_rules(pool, rules, &cx);
    timings.rules_done();
    let root_abs = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    let per_file_kept = |f: &Finding| {
        settings.per_file_ignores.is_empty() || {
            let abs = root_abs.join(&f.path);
            !settings
                .per_file_ignores
                .iter()
                .any(|p| p.applies(&abs, f.code))
        }
    };
    findings.retain(per_file_kept);
    let (mut findings, mut suppressed, used) = crate::suppress::apply(&project.modules, findings);
    if settings.rule_enabled(crate::rules::unused_suppression::CODE) {
        let unused = crate::rules::unused_suppression::report(&project.modules, &used, &|code| {
            settings.rule_enabled(code)
        });
        findings.extend(unused.into_iter().filter(per_file_kept));
    }
    let live = LiveRule {
        declared: services.declared,
        include_all: settings.include_not_run,
    };
    attribute_findings(project, ownership, live, &mut findings);
    attribute_findings(project, ownership, live, &mut suppressed);
    Judged {
        findings,
        suppressed,
    }
}

/// Stage 5: the report's data: findings sorted and numbered, copies grouped, services listed,
/// and the project freed off the critical path. The run cache keeps this, before the baseline.
fn outcome(
    environment: Option<String>,
    counts: Counts,
    diagnostics: Vec<Diagnostic>,
    judged: Judged,
    linked: Linked,
) -> reuse::Outcome {
    let Judged {
        mut findings,
        mut suppressed,
    } = judged;
    let Linked {
        project,
        ownership,
        services: service_facts,
        copies,
    } = linked;
    fold_missing_timeouts(&mut findings);
    dedupe_same_line(&mut findings);
    dedupe_same_line(&mut suppressed);
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    number_occurrences(&mut findings);
    group_copies(&project, &copies, &mut findings);
    suppressed.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let frameworks = project.frameworks.detected();
    let services = ownership
        .services
        .iter()
        .map(|s| ServiceInfo {
            name: s.name.clone(),
            entry: project.modules[s.module as usize].path.clone(),
            declared_in: s.declared_in.clone(),
        })
        .collect();
    // Freeing every module's facts takes a noticeable share of a large run: hand the project to
    // a thread of its own while the report is written (the memory is freed either way).
    let _ = std::thread::Builder::new()
        .name("perfaudit-drop".to_owned())
        .spawn(move || drop((project, ownership)));
    reuse::Outcome {
        files_scanned: counts.files_scanned,
        files_unparsable: counts.files_unparsable,
        lines: counts.lines,
        diagnostics,
        findings,
        suppressed,
        services,
        frameworks,
        conflicts: service_facts.conflicts,
        services_note: service_facts.note,
        environment,
    }
}

/// The report: the outcome split against the baseline, with what the output settings ask for.
fn finish(
    settings: &Settings,
    start: Instant,
    root: PathBuf,
    outcome: reuse::Outcome,
) -> Result<AuditReport, AuditError> {
    let reuse::Outcome {
        files_scanned,
        files_unparsable,
        lines,
        diagnostics,
        mut findings,
        suppressed,
        services,
        frameworks,
        conflicts,
        services_note,
        environment,
    } = outcome;
    let baselined = match &settings.baseline {
        Some(path) => {
            let known = crate::baseline::load(path).map_err(AuditError::Baseline)?;
            let (new, old) = crate::baseline::split(findings, &known);
            findings = new;
            Some(old)
        }
        None => None,
    };
    let failed: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.message.starts_with(INTERNAL_ERROR))
        .map(|d| d.path.clone())
        .collect();
    Ok(AuditReport {
        root,
        files_scanned,
        files_unparsable,
        lines,
        diagnostics,
        failed,
        findings,
        services,
        frameworks,
        conflicts,
        services_note,
        environment,
        elapsed_ms: start.elapsed().as_millis() as u64,
        suppressed: settings.show_suppressed.then_some(suppressed),
        baselined,
    })
}
