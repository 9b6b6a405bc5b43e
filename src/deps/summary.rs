//! Library summaries: whether a function of an installed library may block its caller's
//! thread, through which call, at which line.
//!
//! Library modules are found in site-packages by their dotted name, parsed on demand with the
//! same per-module fact collection as the project (`module::analyze`), and never become project
//! modules: nothing here reports. A function's summary is the nearest blocking catalog call
//! (the costliest of the equally near) it makes directly, or through the library functions it
//! calls (resolved like the project
//! resolves: imports, re-exports, `self.m()` up the base classes, `Class()` to `__init__`),
//! within the bounds below. Only effects that block the calling thread on something outside
//! the CPU count (`Effect::is_blocking_io`); constructions, model loads and CPU work do not.
//! A call in an `except` branch, behind an optional argument, in a skip branch or made
//! non-blocking is not followed: it is not what an ordinary call pays. An `async def` counts
//! only what it does before its first `await` (and what the coroutine that `await` runs does
//! before its own); calling one without `await` runs nothing; an awaited catalog call is an
//! async API.

use std::path::PathBuf;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::{Deserialize, Serialize};

use crate::facts::{Call, FuncId, ModuleFacts, Resolution};
use crate::knowledge::catalog::Catalog;
use crate::knowledge::contexts::ContextPatterns;
use crate::module::analyze::analyze_bytes;
use crate::module::discover::SourcePath;
use crate::settings::Settings;

use super::dist::{Distributions, Stamp, Stored, SummaryCache, stamp};

/// Calls followed below a library function the project calls: deeper chains are not searched.
pub const MAX_DEPTH: usize = 4;
/// Library modules parsed in one run, at most; past it, unparsed functions summarise as
/// not blocking.
pub const MAX_MODULES: usize = 600;
/// Library functions summarised in one run, at most.
pub const MAX_FUNCTIONS: usize = 20_000;
/// Re-exports and base classes followed to find one name's definition.
const MAX_HOPS: usize = 8;

/// One library frame: the module's path inside site-packages, the line of the call made
/// there, and the function making it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    pub path: String,
    pub line: u32,
    pub function: String,
}

/// A library function that may block: the blocking catalog call found inside (its qualified
/// name, looked up again in the run's catalog) and the frames from the function to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub api: String,
    pub frames: Vec<Frame>,
    /// The other installed packages its frames run through, each with the version it was
    /// summarised against (top-level package, version): filled when stored, checked when
    /// loaded, so upgrading one of them alone summarises the function again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub through: Vec<(String, String)>,
}

/// The top-level package of a frame's path inside site-packages (`lib` of `lib/core.py`).
fn frame_top(path: &str) -> &str {
    let first = path.split('/').next().unwrap_or(path);
    first.strip_suffix(".py").unwrap_or(first)
}

/// A library function: its module's dotted name and its index there.
type LibFn = (String, FuncId);

/// What one library function does, as far as summaries go: its blocking catalog calls (line,
/// qualified name) and the library functions it calls (line, function).
#[derive(Debug, Default)]
struct Edges {
    blocking: Vec<(u32, String)>,
    callees: Vec<(u32, LibFn)>,
}

/// Counts for `PERFAUDIT_TIMINGS` and the tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub modules_parsed: usize,
    pub functions_summarised: usize,
    pub summaries_reused: usize,
}

/// The library side of one run: the modules parsed so far and the summaries computed or
/// loaded.
pub struct Library<'a> {
    site_packages: &'a [PathBuf],
    settings: &'a Settings,
    catalog: &'a Catalog,
    patterns: &'a ContextPatterns,
    dists: Option<Distributions>,
    cache: Option<SummaryCache>,
    modules: HashMap<String, Option<ModuleFacts>>,
    /// Summaries by the name a project call gave (from the cache, or computed this run).
    summaries: HashMap<String, Option<Summary>>,
    edges: HashMap<LibFn, Option<std::rc::Rc<Edges>>>,
    /// The modules read while computing each function's edges (resolving its callees).
    edges_read: HashMap<LibFn, Vec<String>>,
    /// Each parsed module's file and its stamp when it was read.
    files: HashMap<String, (PathBuf, Stamp)>,
    /// The modules read since the current summary began.
    read: HashSet<String>,
    /// Every library module this run's summaries were made from, read now or when a stored
    /// summary was made (what a kept run result must check before it is reused).
    pub sources: std::collections::BTreeMap<PathBuf, Stamp>,
    /// The modules the summaries computed this run were made from, by top-level package.
    made_from: HashMap<String, HashSet<String>>,
    /// Top-level packages whose stored summaries were loaded (or found absent).
    loaded: HashSet<String>,
    /// The names whose summaries came from the cache (what `summaries_reused` counts).
    from_cache: HashSet<String>,
    /// Top-level packages with summaries computed this run, to store.
    dirty: HashSet<String>,
    pub stats: Stats,
}

impl<'a> Library<'a> {
    pub fn new(
        site_packages: &'a [PathBuf],
        settings: &'a Settings,
        catalog: &'a Catalog,
        patterns: &'a ContextPatterns,
        cache: Option<SummaryCache>,
    ) -> Library<'a> {
        Library {
            site_packages,
            settings,
            catalog,
            patterns,
            dists: None,
            cache,
            modules: HashMap::default(),
            summaries: HashMap::default(),
            loaded: HashSet::default(),
            from_cache: HashSet::default(),
            dirty: HashSet::default(),
            edges: HashMap::default(),
            edges_read: HashMap::default(),
            files: HashMap::default(),
            read: HashSet::default(),
            made_from: HashMap::default(),
            sources: Default::default(),
            stats: Stats::default(),
        }
    }

    /// Whether `top` is a package or module installed in the environment.
    pub fn has_top(&self, top: &str) -> bool {
        self.site_packages.iter().any(|s| {
            s.join(top).join("__init__.py").is_file() || s.join(format!("{top}.py")).is_file()
        })
    }

    /// The summary of the library function (or class, through its `__init__`) that a
    /// qualified name denotes; `None` when it is not found or does not block.
    /// What a name was found to denote is kept under the name itself too, so that a second
    /// run answers it from the cache without parsing the modules that lead to it.
    pub fn summary_of(&mut self, qualified: &str) -> Option<Summary> {
        let top = qualified.split('.').next().unwrap_or(qualified).to_owned();
        self.load_stored(&top);
        if let Some(known) = self.summaries.get(qualified) {
            if self.from_cache.remove(qualified) {
                self.stats.summaries_reused += 1;
            }
            return known.clone();
        }
        self.read.clear();
        let found = self
            .resolve(qualified, 0)
            .and_then(|(module, func)| self.summarise(&module, func));
        self.summaries.insert(qualified.to_owned(), found.clone());
        if self.dists().of(&top).is_some() {
            let read = std::mem::take(&mut self.read);
            self.made_from.entry(top.clone()).or_default().extend(read);
            self.dirty.insert(top);
        }
        found
    }

    /// The environment's distributions, read on first use.
    fn dists(&mut self) -> &Distributions {
        self.dists
            .get_or_insert_with(|| Distributions::read(self.site_packages))
    }

    /// Writes the summaries computed this run to the cache.
    pub fn store(&mut self) {
        if self.cache.is_none() {
            return;
        }
        self.dists();
        let (Some(cache), Some(dists)) = (&self.cache, &self.dists) else {
            return;
        };
        for top in &self.dirty {
            let Some(dist) = dists.of(top) else {
                continue;
            };
            let mut stored: Stored = cache.load(top, dist).unwrap_or_default();
            for (name, s) in &self.summaries {
                if name.split('.').next() == Some(top.as_str()) {
                    let mut s = s.clone();
                    if let Some(s) = &mut s {
                        s.through = through(s, top, dists);
                    }
                    stored.summaries.insert(name.clone(), s);
                }
            }
            for module in self.made_from.get(top).into_iter().flatten() {
                if let Some((path, stamp)) = self.files.get(module) {
                    stored.files.insert(path.clone(), *stamp);
                }
            }
            // A failed write only costs the next run the analysis.
            let _ = cache.store(top, dist, &stored);
        }
    }

    /// The facts of a library module, parsed on first use; `None` when no source file has that
    /// name (a compiled module, a namespace, a stdlib module) or the module budget is spent.
    fn module(&mut self, name: &str) -> Option<&ModuleFacts> {
        if !self.read.contains(name) {
            self.read.insert(name.to_owned());
        }
        if !self.modules.contains_key(name) {
            let facts = self.parse(name);
            self.modules.insert(name.to_owned(), facts);
        }
        self.modules.get(name)?.as_ref()
    }

    fn parse(&mut self, name: &str) -> Option<ModuleFacts> {
        if self.stats.modules_parsed >= MAX_MODULES {
            return None;
        }
        let rel_base = name.replace('.', "/");
        let (site, rel) = self.site_packages.iter().find_map(|s| {
            [format!("{rel_base}.py"), format!("{rel_base}/__init__.py")]
                .into_iter()
                .find(|rel| s.join(rel).is_file())
                .map(|rel| (s, rel))
        })?;
        let file = SourcePath {
            abs: site.join(&rel),
            rel,
        };
        // Stamped before it is read: a change made while it is read shows next run.
        let stamped = stamp(&file.abs);
        let bytes = std::fs::read(&file.abs).ok()?;
        self.files
            .insert(name.to_owned(), (file.abs.clone(), stamped));
        self.sources.insert(file.abs.clone(), stamped);
        self.stats.modules_parsed += 1;
        let result = analyze_bytes(
            &file,
            bytes,
            self.settings,
            self.catalog,
            self.patterns,
            &[],
        );
        result.facts
    }

    /// The module and function a qualified name denotes: the longest module prefix with a
    /// source file, then the rest as a function or method there, a class's `__init__`, a
    /// method of a base class, or a name the module imports (a re-export).
    fn resolve(&mut self, qualified: &str, hops: usize) -> Option<(String, FuncId)> {
        if hops > MAX_HOPS {
            return None;
        }
        let segments: Vec<&str> = qualified.split('.').collect();
        for split in (1..segments.len()).rev() {
            let module = segments[..split].join(".");
            let rest = segments[split..].join(".");
            let Some(m) = self.module(&module) else {
                continue;
            };
            if let Some(id) = find_function(m, &rest) {
                return Some((module, id));
            }
            if m.classes.iter().any(|c| c.qualname == rest) {
                let init = format!("{rest}.__init__");
                return find_function(m, &init).map(|id| (module, id));
            }
            // A method inherited from a base class.
            if let Some((class, method)) = rest.rsplit_once('.')
                && let Some(c) = m.classes.iter().find(|c| c.qualname == class)
            {
                let bases = c.bases.clone();
                for base in bases {
                    let base = if base.contains('.') {
                        base
                    } else {
                        format!("{module}.{base}")
                    };
                    if let Some(found) = self.resolve(&format!("{base}.{method}"), hops + 1) {
                        return Some(found);
                    }
                }
                return None;
            }
            // A name the module imports: follow it where it is defined.
            let (first, tail) = rest.split_once('.').map_or((rest.as_str(), ""), |p| p);
            let target = m
                .imports
                .iter()
                .find(|i| i.local == first)
                .map(|i| i.target.clone())?;
            let next = if tail.is_empty() {
                target.to_string()
            } else {
                format!("{target}.{tail}")
            };
            if next == qualified {
                return None;
            }
            return self.resolve(&next, hops + 1);
        }
        None
    }

    /// The nearest blocking call below one library function: a breadth-first search over the
    /// library calls it makes, level by level, at most `MAX_DEPTH` calls deep; at the first
    /// level that has one, the costliest. A deep call is more often on a path that rarely
    /// runs (a timeout's clean-up, a reconnect), and the shortest chain is the one a reader
    /// checks first.
    fn summarise(&mut self, module: &str, func: FuncId) -> Option<Summary> {
        // Each node: its function, and the node and call line it was reached from.
        let mut nodes: Vec<(LibFn, Option<(usize, u32)>)> = vec![((module.to_owned(), func), None)];
        let mut seen: HashSet<LibFn> = HashSet::default();
        seen.insert((module.to_owned(), func));
        let mut level = 0..1;
        for _depth in 0..=MAX_DEPTH {
            let mut best: Option<(f64, usize, u32, String)> = None;
            let mut next: Vec<(LibFn, Option<(usize, u32)>)> = Vec::new();
            for i in level.clone() {
                let Some(edges) = self.edges(&nodes[i].0) else {
                    continue;
                };
                for (line, api) in &edges.blocking {
                    let typical = self.typical_ms(api);
                    if best.as_ref().is_none_or(|(t, ..)| typical > *t) {
                        best = Some((typical, i, *line, api.clone()));
                    }
                }
                for (line, callee) in &edges.callees {
                    if seen.insert(callee.clone()) {
                        next.push((callee.clone(), Some((i, *line))));
                    }
                }
            }
            if let Some((_, i, line, api)) = best {
                return Some(Summary {
                    api,
                    frames: self.frames(&nodes, i, line),
                    through: Vec::new(),
                });
            }
            if next.is_empty() || self.stats.functions_summarised >= MAX_FUNCTIONS {
                return None;
            }
            level = nodes.len()..nodes.len() + next.len();
            nodes.extend(next);
        }
        None
    }

    /// The frames from the searched function down to node `i`'s call at `line`.
    fn frames(
        &self,
        nodes: &[(LibFn, Option<(usize, u32)>)],
        mut i: usize,
        mut line: u32,
    ) -> Vec<Frame> {
        let mut frames = Vec::new();
        loop {
            let ((module, func), from) = &nodes[i];
            if let Some(facts) = self.modules.get(module).and_then(Option::as_ref) {
                frames.push(Frame {
                    path: facts.path.clone(),
                    line,
                    function: facts.functions[*func as usize].qualname.clone(),
                });
            }
            match from {
                Some((parent, at)) => (i, line) = (*parent, *at),
                None => break,
            }
        }
        frames.reverse();
        frames
    }

    /// A library function's blocking catalog calls and the library functions it calls,
    /// computed once per run.
    fn edges(&mut self, f: &LibFn) -> Option<std::rc::Rc<Edges>> {
        if let Some(known) = self.edges.get(f) {
            // What they were computed from counts for this summary too.
            for m in self.edges_read.get(f).into_iter().flatten() {
                if !self.read.contains(m) {
                    self.read.insert(m.clone());
                }
            }
            return known.clone();
        }
        self.stats.functions_summarised += 1;
        let outer = std::mem::take(&mut self.read);
        self.read.insert(f.0.clone());
        let found = self.compute(&f.0, f.1).map(std::rc::Rc::new);
        let read = std::mem::replace(&mut self.read, outer);
        self.edges_read
            .insert(f.clone(), read.iter().cloned().collect());
        self.read.extend(read);
        self.edges.insert(f.clone(), found.clone());
        found
    }

    fn compute(&mut self, module: &str, func: FuncId) -> Option<Edges> {
        let facts = self.modules.get(module)?.as_ref()?;
        let f = facts.functions.get(func as usize)?;
        // An `async def` blocks its caller only with what it does before its first `await`.
        let until = if f.is_async {
            facts
                .calls
                .iter()
                .filter(|c| c.func == func && c.awaited())
                .map(|c| c.line)
                .min()
                .unwrap_or(u32::MAX)
        } else {
            u32::MAX
        };
        // The first `await` itself runs the awaited coroutine up to its own first `await`.
        let calls: Vec<Call> = facts
            .calls
            .iter()
            .filter(|c| c.func == func && ordinary(c))
            .filter(|c| c.line < until || (c.line == until && c.awaited() && c.api.is_none()))
            .cloned()
            .collect();
        let mut edges = Edges::default();
        for call in calls {
            match call.api {
                // An awaited catalog call is an async API: it does not block.
                Some(_) if call.awaited() => {}
                Some(id) => {
                    if self.catalog.get(id).effect.is_blocking_io() {
                        edges
                            .blocking
                            .push((call.line, call.target.as_str().to_owned()));
                    }
                }
                None => {
                    if let Some(callee) = self.callee(&call, module) {
                        edges.callees.push((call.line, callee));
                    }
                }
            }
        }
        Some(edges)
    }

    /// The library function a call inside the library calls, when it resolves there.
    fn callee(&mut self, call: &Call, module: &str) -> Option<LibFn> {
        let target = call.target.as_str();
        match call.resolution {
            Resolution::Unresolved => return None,
            Resolution::Import if !self.has_top(target.split('.').next()?) => return None,
            _ => {}
        }
        let (m, f) = self.resolve(target, 0)?;
        if m == module && call.resolution == Resolution::Import {
            return None;
        }
        // Calling an `async def` without awaiting it only makes a coroutine: nothing runs.
        let is_async = self.modules.get(&m)?.as_ref()?.functions[f as usize].is_async;
        if is_async && !call.awaited() {
            return None;
        }
        Some((m, f))
    }

    fn load_stored(&mut self, top: &str) {
        if !self.loaded.insert(top.to_owned()) || self.cache.is_none() {
            return;
        }
        self.dists();
        let (Some(cache), Some(dist)) = (&self.cache, self.dists.as_ref().and_then(|d| d.of(top)))
        else {
            return;
        };
        if let Some(stored) = cache.load(top, dist) {
            let dists = self.dists.as_ref().expect("read above");
            self.sources.extend(stored.files);
            for (name, summary) in stored.summaries {
                // Summarised against another version of a package it runs through: again.
                if let Some(s) = &summary
                    && s.through != through(s, top, dists)
                {
                    continue;
                }
                self.from_cache.insert(name.clone());
                self.summaries.entry(name).or_insert(summary);
            }
        }
    }

    fn typical_ms(&self, api: &str) -> f64 {
        self.catalog.lookup(api).map_or(0.0, |id| {
            let e = self.catalog.get(id);
            crate::finding::typical_ms(e.low_ms, e.high_ms)
        })
    }
}

/// The packages other than `top` that a summary's frames run through, with their installed
/// versions (sorted, each once).
fn through(s: &Summary, top: &str, dists: &Distributions) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = s
        .frames
        .iter()
        .map(|f| frame_top(&f.path))
        .filter(|t| *t != top)
        .map(|t| {
            let version = dists.of(t).map_or_else(String::new, |(_, v)| v.clone());
            (t.to_owned(), version)
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether a call runs whenever its function runs, and waits when it does: not only after a
/// failure or for callers that leave an argument out, not made non-blocking.
fn ordinary(c: &Call) -> bool {
    !(c.in_except() || c.in_fallback() || c.in_skip_branch() || c.nonblocking())
}

fn find_function(m: &ModuleFacts, qualname: &str) -> Option<FuncId> {
    m.functions
        .iter()
        .position(|f| f.qualname == qualname)
        .map(|i| i as FuncId)
}
