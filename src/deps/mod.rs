//! Calls into installed third-party libraries: the environment the code runs in (`env.rs`),
//! its distributions and the summary cache (`dist.rs`), and per library function whether it
//! may block (`summary.rs`).
//!
//! This layer runs between the module stage and linking. It reads the project's calls to
//! third-party names, summarises the library functions they reach, and hands the audit a
//! catalog extended with one entry per such call target: the blocking call found inside
//! (its effect and cost, or the curated entry the call already matched) and the library frames
//! down to it. The project's calls are pointed at those entries, so the rules judge them like
//! any catalog call, at the project's line; library code never becomes a project module and is
//! never reported on its own. It never runs or imports the audited code or its libraries.

pub mod dist;
pub mod env;
pub mod summary;

use std::path::Path;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::facts::{ModuleFacts, Name, Resolution};
use crate::knowledge::catalog::{ApiEntry, Catalog, LibraryFrame};
use crate::knowledge::contexts::ContextPatterns;
use crate::settings::{PythonEnv, Settings};
pub use env::Environment;
use summary::{Library, Stats, Summary};

/// What following library calls gave the audit.
pub struct Followed {
    pub environment: Environment,
    /// The run's catalog with an entry per library call target that blocks; `None` when no
    /// call does (the run's catalog is then used as it is).
    pub catalog: Option<Catalog>,
    /// Project call sites pointed at a library summary.
    pub calls: usize,
    pub stats: Stats,
    /// The library modules the summaries used were made from, with their stamps then: a kept
    /// run result is reused only while they are unchanged.
    pub sources: Vec<(std::path::PathBuf, dist::Stamp)>,
}

impl Followed {
    /// One line for the report: the environment and what was found in it.
    pub fn note(&self) -> String {
        format!(
            "{} ({}); {} call site{} into its libraries may block",
            self.environment.root.display(),
            self.environment.origin.as_str(),
            self.calls,
            if self.calls == 1 { "" } else { "s" }
        )
    }
}

/// What following library calls reads besides the modules.
pub struct Inputs<'a> {
    pub settings: &'a Settings,
    /// The run's catalog, before library entries are added.
    pub catalog: &'a Catalog,
    pub patterns: &'a ContextPatterns,
    /// The dotted package the audited folder is (`chainlit` for an audit of `chainlit/`): its
    /// names are the project's own, even when a copy of it is installed in the environment.
    pub own: Option<&'a str>,
    /// The key summaries are cached under (the module cache's key of this build, settings,
    /// catalog and context patterns, `Cache::library_key`); `None` without a cache.
    pub cache_key: Option<&'a str>,
}

impl<'a> Inputs<'a> {
    pub fn new(
        settings: &'a Settings,
        catalog: &'a Catalog,
        patterns: &'a ContextPatterns,
        own: Option<&'a str>,
        module_cache: &'a Option<crate::module::cache::Cache>,
    ) -> Inputs<'a> {
        Inputs {
            settings,
            catalog,
            patterns,
            own,
            cache_key: module_cache.as_ref().map(|c| c.library_key()),
        }
    }
}

/// Why the environment the user named (`--python`, or `VIRTUAL_ENV` without the flag) cannot
/// be used, as (the path, the reason): the audit then goes on without following libraries,
/// and says so. `None` when none was named or the named one is usable.
pub fn unusable(settings: &Settings) -> Option<(std::path::PathBuf, String)> {
    let (path, origin) = match &settings.python {
        PythonEnv::Off => return None,
        PythonEnv::At(p) => (p.clone(), env::Origin::Flag),
        PythonEnv::Discover => (
            std::env::var_os("VIRTUAL_ENV")
                .filter(|v| !v.is_empty())
                .map(std::path::PathBuf::from)?,
            env::Origin::VirtualEnv,
        ),
    };
    let (flag, virtual_env) = match origin {
        env::Origin::Flag => (Some(path.as_path()), None),
        _ => (None, Some(path.as_path())),
    };
    if Environment::discover(flag, virtual_env, Path::new(".")).is_some() {
        return None;
    }
    Some((
        path,
        format!(
            "{} names no Python environment (an interpreter or a venv folder with a \
             site-packages): calls into installed libraries are not followed",
            origin.as_str()
        ),
    ))
}

/// Finds the environment, summarises the library functions the project calls, and points the
/// calls that reach a blocking one at catalog entries made for them. `None` without an
/// environment.
pub fn follow(root: &Path, inputs: &Inputs, modules: &mut [ModuleFacts]) -> Option<Followed> {
    let &Inputs {
        settings,
        catalog,
        patterns,
        own,
        cache_key,
    } = inputs;
    let virtual_env = std::env::var_os("VIRTUAL_ENV").map(std::path::PathBuf::from);
    let flag = match &settings.python {
        PythonEnv::Off => return None,
        PythonEnv::Discover => None,
        PythonEnv::At(p) => Some(p.as_path()),
    };
    let environment = Environment::discover(flag, virtual_env.as_deref(), root)?;
    // The project's own top-level names are never followed into an installed copy of them.
    let project_tops: HashSet<String> = modules
        .iter()
        .filter_map(|m| m.module.split('.').next())
        .chain(own.and_then(|p| p.split('.').next()))
        .map(str::to_owned)
        .collect();
    let cache = cache_key.and_then(|key| dist::SummaryCache::open(root, key.to_owned()));
    let mut library = Library::new(
        &environment.site_packages,
        settings,
        catalog,
        patterns,
        cache,
    );
    // Each distinct target once, in a stable order: summaries do not depend on module order.
    // Interned targets are told apart by address first (one text is one `Name`), so that only
    // the distinct ones are checked and sorted by text: copying each of the standard library's
    // ~200,000 targets into a `String` to sort them took 39 M instructions of a run with one
    // file changed, when nothing at all was followed.
    let mut targets: Vec<Name> = modules
        .iter()
        .flat_map(|m| m.calls.iter())
        .filter(|c| matches!(c.resolution, Resolution::Import | Resolution::Inferred))
        .map(|c| c.target.clone())
        .collect();
    targets.sort_unstable_by_key(|t| t.as_str().as_ptr() as usize);
    targets.dedup();
    targets.retain(|t| {
        let top = t.split('.').next().unwrap_or(t);
        !project_tops.contains(top)
    });
    targets.sort_unstable();
    let mut entries: Vec<ApiEntry> = Vec::new();
    // The targets given an entry, by address: an entry is named by its target exactly, so only
    // calls to these can be pointed at one (looking every call up in the extended catalog took
    // 22 M instructions of a run with one file changed, for two entries).
    let mut followed: HashSet<usize> = HashSet::default();
    let mut installed: HashMap<String, bool> = HashMap::default();
    for target in &targets {
        let top = target.split('.').next().unwrap_or(target).to_owned();
        let present = *installed
            .entry(top.clone())
            .or_insert_with(|| library.has_top(&top));
        if !present {
            continue;
        }
        // A curated entry keeps its cost; it is followed into the library, for the chain, only
        // where its `implemented_by` names the function doing the work (what a summary finds
        // below `requests.get` is a `.netrc` read, not the request).
        let known = catalog.lookup(target).map(|id| catalog.get(id));
        let implemented = match known {
            Some(e) if !e.effect.is_blocking_io() => continue,
            Some(e) => match &e.implemented_by {
                Some(i) => i.as_str(),
                None => continue,
            },
            None => target.as_str(),
        };
        let Some(found) = library.summary_of(implemented) else {
            continue;
        };
        if let Some(entry) = entry_for(target, known, &found, catalog) {
            entries.push(entry);
            followed.insert(target.as_str().as_ptr() as usize);
        }
    }
    library.store();
    let stats = library.stats;
    let sources: Vec<_> = std::mem::take(&mut library.sources).into_iter().collect();
    if std::env::var_os("PERFAUDIT_TIMINGS").is_some() {
        eprintln!("{}", stats_line(&stats));
    }
    if entries.is_empty() {
        return Some(Followed {
            environment,
            catalog: None,
            calls: 0,
            stats,
            sources,
        });
    }
    let extended = catalog.extended(entries);
    let mut calls = 0;
    for m in modules.iter_mut() {
        for c in &mut m.calls {
            if !matches!(c.resolution, Resolution::Import | Resolution::Inferred)
                || !followed.contains(&(c.target.as_str().as_ptr() as usize))
            {
                continue;
            }
            if let Some(id) = extended.lookup(c.target.as_str())
                && !extended.get(id).through.is_empty()
            {
                c.api = Some(id);
                calls += 1;
            }
        }
    }
    Some(Followed {
        environment,
        catalog: Some(extended),
        calls,
        stats,
        sources,
    })
}

/// The counts `PERFAUDIT_TIMINGS` prints.
fn stats_line(s: &Stats) -> String {
    format!(
        "deps: {} library modules parsed, {} functions summarised, {} summaries reused",
        s.modules_parsed, s.functions_summarised, s.summaries_reused
    )
}

/// The entry for calls of `target`: the curated entry it already matched, or else the
/// blocking call found inside, with the library frames down to that call.
fn entry_for(
    target: &str,
    known: Option<&ApiEntry>,
    found: &Summary,
    catalog: &Catalog,
) -> Option<ApiEntry> {
    let through: Vec<LibraryFrame> = found
        .frames
        .iter()
        .map(|f| LibraryFrame {
            path: f.path.clone(),
            line: f.line,
            function: f.function.clone(),
        })
        .collect();
    let mut entry = match known {
        Some(e) => ApiEntry {
            name: target.to_owned(),
            ..e.clone()
        },
        None => {
            let inner = catalog.get(catalog.lookup(&found.api)?);
            ApiEntry::new(
                target.to_owned(),
                inner.effect,
                (inner.low_ms, inner.high_ms),
                format!(
                    "`{}` called inside the library, {}; {}",
                    found.api,
                    found
                        .frames
                        .last()
                        .map_or(String::new(), |f| format!("{}:{}", f.path, f.line)),
                    inner.source
                ),
            )
        }
    };
    entry.through = through;
    Some(entry)
}
