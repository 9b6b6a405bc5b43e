//! The execution query: where a piece of code runs, reached from which entry by which chain, and
//! how often. Every rule and every report asks it; nothing else decides whether code runs once
//! per request.
//!
//! An execution pairs the *context* (event loop, request loop, request handler, startup,
//! background: where the code holds a thread) with the *frequency* (per request, on every call of
//! an `async def` no known entry reaches, once, in the background, in tooling). The graph gives
//! the shortest chain from an entry of each context kind; the frequency is read from that chain's
//! entry: a test is tooling, a receive loop or a handler runs per request, a startup hook or a
//! function that module-level code calls runs once.

use super::resolve::FnRef;
use super::{CtxKind, Project};
use crate::facts::{Call, Candidate, FnKind, FuncId, ModuleFacts, Resolution};
use crate::finding::{ChainStep, Confidence};
use crate::knowledge::contexts::ContextPatterns;
use crate::knowledge::frameworks::{Frameworks, RoleId, Runs};

/// A place in the code that a rule asks about: a call site, a hook's candidate, or a `def`.
#[derive(Debug, Clone, Copy)]
pub struct Site {
    pub module: usize,
    pub func: FuncId,
    pub line: u32,
    /// Loops around the site that repeat it within one execution of its function (a receive
    /// loop and a `while` loop are never counted: see `facts::Call::loop_depth`).
    pub loop_depth: u8,
    /// Inside a loop that receives work.
    pub in_recv_loop: bool,
    /// That loop also answers the sender.
    pub recv_replies: bool,
    /// Inside a `while` loop of its function.
    pub in_while: bool,
    /// Inside an `except` handler of its function.
    pub in_except: bool,
    /// Inside an `if` branch that skips to the next iteration.
    pub in_skip_branch: bool,
    /// Inside an `if p is None:` branch for an optional parameter `p`.
    pub in_fallback: bool,
    /// The product of the literal bounds of the loops around it, when all are literal.
    pub loop_bound: Option<u32>,
}

/// A site from a call record or a candidate, which carry the same local facts.
macro_rules! site_of {
    ($module:expr, $c:expr, $loop_bound:expr) => {
        Site {
            module: $module,
            func: $c.func,
            line: $c.line,
            loop_depth: $c.loop_depth,
            in_recv_loop: $c.in_recv_loop(),
            recv_replies: $c.recv_replies(),
            in_while: $c.in_while(),
            in_except: $c.in_except(),
            in_skip_branch: $c.in_skip_branch(),
            in_fallback: $c.in_fallback(),
            loop_bound: $loop_bound,
        }
    };
}

impl Site {
    pub fn call(module: usize, c: &Call) -> Site {
        site_of!(module, c, c.loop_bound())
    }

    /// Hooks do not record loop bounds: a candidate in a loop takes the default repetition.
    pub fn candidate(module: usize, c: &Candidate) -> Site {
        site_of!(module, c, None)
    }

    /// The `def` line of a function: its body as a whole.
    pub fn def(project: &Project, module: usize, func: FuncId) -> Site {
        Site::line(
            module,
            func,
            project.modules[module].functions[func as usize].line,
        )
    }

    /// A line of a function, outside any loop or handler.
    pub fn line(module: usize, func: FuncId, line: u32) -> Site {
        Site {
            module,
            func,
            line,
            loop_depth: 0,
            in_recv_loop: false,
            recv_replies: false,
            in_while: false,
            in_except: false,
            in_skip_branch: false,
            in_fallback: false,
            loop_bound: None,
        }
    }
}

pub use crate::finding::Frequency;

/// One way a site is executed.
#[derive(Debug, Clone)]
pub struct Execution {
    pub kind: CtxKind,
    pub frequency: Frequency,
    /// From the entry to the site, the site's own function last.
    pub chain: Vec<ChainStep>,
    pub confidence: Confidence,
    /// Loops that repeat the site within one execution of the path.
    pub repeats: u8,
    /// How many times they repeat it, when every one iterates a literal `range(...)`.
    pub bound: Option<u32>,
    /// Loops around the calls on the chain, in the callers: each repeats the site too.
    pub fan_out: Vec<CallerLoop>,
    /// The chain's entry serves one request at a time: a synchronous receive loop, or the
    /// handler of a server that its profile says is serial and that the project does not make
    /// concurrent (`socketserver.TCPServer` without `ThreadingMixIn`). What the site waits for,
    /// every request queued behind it waits for too.
    pub serial: bool,
    /// Why the execution is `first-request` when a memoised function or a flag guard on its
    /// chain makes it so: "memoised by `@functools.lru_cache` on `get_settings`", "guarded by
    /// `app.ready`, which it sets once it has run".
    pub memo: Option<String>,
}

/// Loops in a caller on the chain around its call to the next step (`for s in services:
/// check(s)`), which repeat everything that call runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerLoop {
    pub function: String,
    pub line: u32,
    /// How many loops (and comprehensions) are around the call.
    pub depth: u8,
    /// How many times they repeat it, when every one iterates a literal `range(...)`.
    pub bound: Option<u32>,
}

impl Execution {
    pub fn per_request(&self) -> bool {
        self.frequency.per_request()
    }

    /// Whether a known request entry (a handler, a route, a receive loop) reaches the site: what
    /// rules about costs that only matter per request (a model load, a growing cache) require.
    pub fn serves_requests(&self) -> bool {
        matches!(
            self.frequency,
            Frequency::PerRequest
                | Frequency::PerSession
                | Frequency::PerFailure
                | Frequency::Conditional
        )
    }

    /// Where a per-request cost is paid, for messages: "on every request" (or "in a loop on
    /// every request"). Any `async def` runs on the event loop, but not every coroutine runs per
    /// request, so that context only claims "every call".
    pub fn phrase(&self) -> &'static str {
        if self.frequency == Frequency::PerSession {
            return "once per session";
        }
        if self.frequency == Frequency::FirstRequest {
            return "once, by the first request that reaches it";
        }
        match (self.kind, self.repeats > 0 || !self.fan_out.is_empty()) {
            (CtxKind::EventLoop, false) => "on every call, on the event loop",
            (CtxKind::EventLoop, true) => "in a loop on every call, on the event loop",
            (_, false) => "on every request",
            (_, true) => "in a loop on every request",
        }
    }
}

impl Project {
    /// Every way the site is executed, one per context kind, most severe kind first, each with
    /// the shortest chain from an entry of that kind and its frequency.
    pub fn executions(&self, site: &Site) -> Vec<Execution> {
        self.executions_of(site, true)
    }

    /// `executions`, without reading flag guards on the chains as once (`flags.rs` asks it
    /// whether a guard's class is built per request).
    pub(super) fn executions_unguarded(&self, site: &Site) -> Vec<Execution> {
        self.executions_of(site, false)
    }

    fn executions_of(&self, site: &Site, guards: bool) -> Vec<Execution> {
        let here = FnRef {
            module: site.module as u32,
            func: site.func,
        };
        let m = &self.modules[site.module];
        let f = &m.functions[site.func as usize];
        let last = ChainStep {
            path: m.path.clone(),
            line: site.line,
            function: f.qualname.clone(),
            entry: None,
            via: None,
            library: false,
        };
        let mut out = Vec::new();
        for kind in super::graph::KINDS {
            let direct = kind == CtxKind::RequestLoop && site.in_recv_loop && !f.is_async;
            let (steps, confidence) = if direct {
                (Vec::new(), Confidence::Definite)
            } else {
                match self.graph.reach(here, kind) {
                    None => continue,
                    Some(r) if r.pred.is_none() => (Vec::new(), r.confidence),
                    Some(r) => (self.graph.chain_to(here, kind), r.confidence),
                }
            };
            let entry = steps.first().map_or((here, site.line), |s| (s.0, s.1));
            let mut frequency = self.frequency(kind, entry, steps.len(), site);
            // A memoised function on the chain (`@lru_cache`, a container's lazy getter) runs
            // what is below it once per distinct argument: the first request pays it. The
            // site's own function counts for work in its body, not for its `def` line, which
            // stands for the calls into it (how often the memo itself is asked).
            let body = site.line != f.line;
            let mut memo = if frequency.per_request() {
                steps
                    .iter()
                    .map(|s| s.0)
                    .chain(body.then_some(here))
                    .find_map(|f| self.memoised_by(f.module as usize, f.func))
                    .map(|(d, by)| format!("memoised by `@{d}` on `{}`", by.qualname))
            } else {
                None
            };
            // ... and so does a flag guard around a call on the chain or around the site
            // (`if not app.ready: ...; app.ready = True`; `flags.rs`).
            if guards && memo.is_none() && frequency.per_request() {
                memo = steps
                    .iter()
                    .map(|s| (s.0, s.1))
                    .chain(std::iter::once((here, site.line)))
                    .find_map(|(f, line)| self.once_guard(f.module as usize, f.func, line))
                    .map(|g| match g.lazy {
                        true => format!("kept in `{}` once made", g.flag),
                        false => format!("guarded by `{}`, which it sets once it has run", g.flag),
                    });
            }
            if memo.is_some() {
                frequency = Frequency::FirstRequest;
            }
            let fan_out = self.caller_loops(&steps);
            let mut chain: Vec<ChainStep> = steps
                .into_iter()
                .map(|(fr, line, via)| {
                    let fm = &self.modules[fr.module as usize];
                    ChainStep {
                        path: fm.path.clone(),
                        line,
                        function: fm.functions[fr.func as usize].qualname.clone(),
                        entry: None,
                        via: via.map(str::to_owned),
                        library: false,
                    }
                })
                .collect();
            chain.push(last.clone());
            chain[0].entry = self.entry_role(entry.0);
            let serial = match kind {
                CtxKind::RequestLoop => true,
                CtxKind::Request => self
                    .graph
                    .role(entry.0)
                    .is_some_and(|r| self.entries.serial_roles.contains(&r)),
                _ => false,
            };
            out.push(Execution {
                kind,
                frequency,
                chain,
                confidence,
                repeats: site.loop_depth,
                bound: site.loop_bound,
                fan_out,
                serial,
                memo,
            });
        }
        // A constructor nothing in the project calls runs when the service sets itself up.
        if out.is_empty() && f.name == "__init__" {
            out.push(self.assumed(
                site,
                CtxKind::Startup,
                Frequency::Once,
                Confidence::Probable,
            ));
        }
        out
    }

    /// The execution in which the site costs every request: the first that runs per request,
    /// else the first that runs on every call of a coroutine no known entry reaches, else one
    /// that a memoised function on its chain runs once, for the first request.
    pub fn request_execution(&self, site: &Site) -> Option<Execution> {
        let all = self.executions(site);
        let pick = all
            .iter()
            .position(|e| e.serves_requests())
            .or_else(|| all.iter().position(|e| e.per_request()))
            .or_else(|| {
                all.iter()
                    .position(|e| e.frequency == Frequency::FirstRequest)
            })?;
        all.into_iter().nth(pick)
    }

    /// An execution that a rule knows from the framework although no entry reaches the site
    /// (a logging override runs for every record; a constructor runs when the service sets
    /// itself up): the site alone as its chain.
    pub fn assumed(
        &self,
        site: &Site,
        kind: CtxKind,
        frequency: Frequency,
        confidence: Confidence,
    ) -> Execution {
        let m = &self.modules[site.module];
        Execution {
            kind,
            frequency,
            chain: vec![ChainStep {
                path: m.path.clone(),
                line: site.line,
                function: m.functions[site.func as usize].qualname.clone(),
                entry: None,
                via: None,
                library: false,
            }],
            confidence,
            repeats: site.loop_depth,
            bound: site.loop_bound,
            fan_out: Vec::new(),
            serial: false,
            memo: None,
        }
    }

    /// What a framework runs `f` as, when a profile makes it an entry: "Home Assistant entity
    /// action".
    fn entry_role(&self, f: FnRef) -> Option<String> {
        let r = self.frameworks.role(self.graph.role(f)?);
        Some(r.what.to_owned())
    }

    /// The loops around each call on a chain (callers only, entry first): the fan-out of the
    /// site. A receive loop or a `while` loop is never among them (`facts::Call::loop_depth`).
    fn caller_loops(&self, steps: &[(FnRef, u32, Option<&str>)]) -> Vec<CallerLoop> {
        steps
            .iter()
            .filter_map(|&(fr, line, _)| {
                let f = self.entries.call_lines.get(&(fr.module, fr.func, line))?;
                (f.loop_depth > 0).then(|| CallerLoop {
                    function: self.modules[fr.module as usize].functions[fr.func as usize]
                        .qualname
                        .clone(),
                    line,
                    depth: f.loop_depth,
                    bound: f.loop_bound,
                })
            })
            .collect()
    }

    /// The execution on the event loop, if the site runs there (whatever its frequency).
    pub fn loop_execution(&self, site: &Site) -> Option<Execution> {
        self.executions(site)
            .into_iter()
            .find(|e| e.kind == CtxKind::EventLoop)
    }

    /// How often a site reached in `kind` from `entry` (the entry function and the line of its
    /// call on the chain) runs; `hops` is the number of calls on the chain.
    fn frequency(&self, kind: CtxKind, entry: (FnRef, u32), hops: usize, site: &Site) -> Frequency {
        let (fr, line) = entry;
        let (mi, fid) = (fr.module as usize, fr.func);
        let m = &self.modules[mi];
        match kind {
            CtxKind::Startup => return Frequency::Once,
            CtxKind::Background => return Frequency::Background,
            _ => {}
        }
        let tooling_path =
            self.patterns.is_tooling_path(&m.path) && !self.service_modules.contains(&fr.module);
        if in_test(&self.patterns, m, fid) || tooling_path {
            return Frequency::Tooling;
        }
        // The loops and handlers around the site (or around the entry's call on the chain).
        let (receives, replies, in_while, in_except) = if hops == 0 {
            let s = site;
            (s.in_recv_loop, s.recv_replies, s.in_while, s.in_except)
        } else {
            let f = self.entries.line(fr.module, fid, line);
            (f.in_recv_loop, f.recv_replies, f.in_while, f.in_except)
        };
        // A thread that takes events from a queue or socket and answers nobody consumes events
        // in the background; it does not serve requests.
        if (receives || kind == CtxKind::RequestLoop)
            && !replies
            && self.graph.reach(fr, CtxKind::Background).is_some()
        {
            return Frequency::Background;
        }
        let on_request_path = match self.graph.role(fr) {
            // A framework entry: its profile says how often the framework runs it.
            Some(role) if !receives => match self.frameworks.role(role).runs {
                Runs::PerRequest => Frequency::PerRequest,
                Runs::PerSession => Frequency::PerSession,
                Runs::Periodic => Frequency::Periodic,
                Runs::Once => Frequency::Once,
                Runs::Background => Frequency::Background,
                Runs::AsCalled => self.request_frequency(kind, fr, receives, in_while, site),
            },
            _ => self.request_frequency(kind, fr, receives, in_while, site),
        };
        // Code that runs on a request path only after an exception (in a handler around the
        // site itself, or around the entry's call on the chain).
        // (A coroutine that no request entry reaches stays per-call: medium at most either way.)
        if (in_except || site.in_except) && on_request_path == Frequency::PerRequest {
            return Frequency::PerFailure;
        }
        // ... or only when a guard holds that then skips the iteration (back-pressure).
        // ... or only for callers that leave an optional argument out (`if p is None:`).
        if (site.in_skip_branch || site.in_fallback) && on_request_path == Frequency::PerRequest {
            return Frequency::Conditional;
        }
        on_request_path
    }

    /// `frequency` before the `except` handlers around the site are taken into account; `site`
    /// is where the chain ends.
    fn request_frequency(
        &self,
        kind: CtxKind,
        fr: FnRef,
        receives: bool,
        in_while: bool,
        site: &Site,
    ) -> Frequency {
        let (mi, fid) = (fr.module as usize, fr.func);
        let m = &self.modules[mi];
        // A loop that receives work runs its body once per request, wherever it is.
        if kind == CtxKind::RequestLoop || receives {
            return Frequency::PerRequest;
        }
        if self.is_handler(mi, fid) || self.graph.is_registered(fr) {
            let f = &m.functions[fid as usize];
            let routed = f
                .decorators
                .iter()
                .any(|d| self.patterns.is_route_decorator(d));
            let startup = self.patterns.is_startup_name(&f.name);
            return if startup && !routed {
                Frequency::Once
            } else {
                Frequency::PerRequest
            };
        }
        // A `while` loop that receives nothing, in code that runs once, is a polling loop or a
        // periodic job: it repeats per round. (In a coroutine that may serve requests, a `while`
        // loop is as often pagination, streaming or a retry: it is not taken for one.)
        if self.runs_once(mi, fid) {
            return if in_while {
                Frequency::Periodic
            } else {
                Frequency::Once
            };
        }
        let coroutine = m.functions[fid as usize].is_async;
        match kind {
            // A coroutine that a request entry awaits (a helper of an async handler) runs per
            // request; otherwise how often it runs is not known.
            CtxKind::EventLoop if self.request_reaches(fr) => Frequency::PerRequest,
            // ... unless only code that runs once awaits it (a start-up step's helper).
            // The site's own function, not the chain's entry: another chain may reach it.
            CtxKind::EventLoop | CtxKind::Request
                if self.called_only_once(FnRef {
                    module: site.module as u32,
                    func: site.func,
                }) =>
            {
                // ... and repeated there only by a polling loop of its own.
                if site.in_while {
                    Frequency::Periodic
                } else {
                    Frequency::Once
                }
            }
            CtxKind::EventLoop => Frequency::PerCall,
            // Work offloaded from a coroutine that no request entry reaches.
            CtxKind::Request if coroutine => Frequency::PerCall,
            _ => Frequency::PerRequest,
        }
    }

    /// Whether a request entry (a handler, a receive loop) reaches `f` through calls.
    fn request_reaches(&self, f: FnRef) -> bool {
        let Some(reach) = self.graph.reach(f, CtxKind::Request) else {
            return false;
        };
        let (entry, line, hops) = match reach.pred {
            None => (
                f,
                self.modules[f.module as usize].functions[f.func as usize].line,
                0,
            ),
            Some(_) => {
                let chain = self.graph.chain_to(f, CtxKind::Request);
                let (e, l, _) = chain[0];
                (e, l, chain.len())
            }
        };
        let probe = Site::line(entry.module as usize, entry.func, line);
        self.frequency(CtxKind::Request, (entry, line), hops, &probe) == Frequency::PerRequest
    }

    /// Whether `func` is startup code that the context kinds cannot see as such: a startup hook
    /// by name (`setup`, `lifespan`, ...) that is not also a handler, or a function the module
    /// body or its `__main__` block calls directly (`asyncio.run(main())`).
    pub(super) fn runs_once(&self, module: usize, func: FuncId) -> bool {
        let m = &self.modules[module];
        let f = &m.functions[func as usize];
        if !matches!(f.kind, FnKind::Function | FnKind::Method) {
            return false;
        }
        if self.patterns.is_startup_name(&f.name) {
            return true;
        }
        if f.kind != FnKind::Function {
            return false;
        }
        self.entries
            .called_at_module_level
            .contains(&(module as u32, func))
    }
}

/// The loop and handler facts of the calls on one line of a function, OR-ed together.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineFlags {
    pub in_recv_loop: bool,
    pub recv_replies: bool,
    pub in_while: bool,
    pub in_except: bool,
    /// The deepest loop nesting of a call on the line, and its literal bound.
    pub loop_depth: u8,
    pub loop_bound: Option<u32>,
}

/// What the execution query looks up about a chain's entry, indexed once per project (a scan
/// of the module's calls per question made the query quadratic in the size of a module).
#[derive(Debug, Default)]
pub struct EntryIndex {
    /// (module, function, line) -> the facts of the calls it makes there.
    pub call_lines: CallLines,
    /// Functions that their own module's body or `__main__` block call directly.
    pub called_at_module_level: rustc_hash::FxHashSet<(u32, FuncId)>,
    /// Framework entry roles whose server serves one request at a time in this project: the
    /// profile names the classes that would make it concurrent, and no module calls or
    /// subclasses one of them.
    pub serial_roles: rustc_hash::FxHashSet<RoleId>,
}

/// The roles of `frameworks` (active profiles) that are served serially here: no module calls
/// or derives from one of their `concurrent_with` classes.
pub fn serial_roles(
    modules: &[ModuleFacts],
    frameworks: &Frameworks,
) -> rustc_hash::FxHashSet<RoleId> {
    frameworks
        .serial_shapes()
        .into_iter()
        .filter(|(_, concurrent)| {
            !modules.iter().any(|m| {
                m.calls.iter().any(|c| concurrent.is_match(&c.target))
                    || m.classes
                        .iter()
                        .any(|k| k.bases.iter().any(|b| concurrent.is_match(b)))
            })
        })
        .map(|(role, _)| role)
        .collect()
}

impl EntryIndex {
    /// The loop and handler facts of the calls a function makes at `line` (none when it
    /// makes none there).
    pub fn line(&self, module: u32, func: FuncId, line: u32) -> LineFlags {
        self.call_lines
            .get(&(module, func, line))
            .unwrap_or_default()
    }

    pub fn build(modules: &[ModuleFacts]) -> EntryIndex {
        let mut index = EntryIndex::default();
        let lines = &mut index.call_lines;
        lines.start.reserve_exact(modules.len() + 1);
        let mut module_lines: Vec<(FuncId, u32, LineFlags)> = Vec::new();
        for (mi, m) in modules.iter().enumerate() {
            let mi = mi as u32;
            let mut by_qualname: Option<rustc_hash::FxHashMap<&str, FuncId>> = None;
            lines.start.push(lines.keys.len() as u32);
            for c in &m.calls {
                // Most calls sit in no loop or handler: only the others are kept (a missing
                // line reads as all-false).
                if c.in_recv_loop() || c.in_while() || c.in_except() || c.loop_depth > 0 {
                    module_lines.push((
                        c.func,
                        c.line,
                        LineFlags {
                            in_recv_loop: c.in_recv_loop(),
                            recv_replies: c.recv_replies(),
                            in_while: c.in_while(),
                            in_except: c.in_except(),
                            loop_depth: c.loop_depth,
                            loop_bound: if c.loop_depth > 0 {
                                c.loop_bound()
                            } else {
                                None
                            },
                        },
                    ));
                }
                let at_module_level = matches!(
                    m.functions[c.func as usize].kind,
                    FnKind::Module | FnKind::Main
                );
                if c.resolution != Resolution::Local || !at_module_level {
                    continue;
                }
                let local = if m.module.is_empty() {
                    Some(c.target.as_str())
                } else {
                    c.target
                        .strip_prefix(m.module.as_str())
                        .and_then(|r| r.strip_prefix('.'))
                };
                let names = by_qualname.get_or_insert_with(|| {
                    m.functions
                        .iter()
                        .enumerate()
                        .filter(|(_, f)| f.kind == FnKind::Function)
                        .map(|(i, f)| (f.qualname.as_str(), i as FuncId))
                        .collect()
                });
                if let Some(&f) = local.and_then(|q| names.get(q)) {
                    index.called_at_module_level.insert((mi, f));
                }
            }
            lines.add_module(&mut module_lines);
        }
        lines.start.push(lines.keys.len() as u32);
        lines.keys.shrink_to_fit();
        lines.flags.shrink_to_fit();
        index
    }
}

/// The loop and handler facts of every (module, function, line) where a call sits in a loop
/// or handler: per module (`start[m]..start[m + 1]`), the (function, line) keys sorted, and
/// beside them their flags in 8 bytes. On the standard library 34,640 lines: 0.5 MiB, where a
/// hash map of `(u32, FuncId, u32) -> LineFlags` took 1.8 MiB (28-byte entries, the table
/// under half full after its last doubling).
#[derive(Debug, Default)]
pub struct CallLines {
    start: Vec<u32>,
    keys: Vec<(FuncId, u32)>,
    flags: Vec<PackedFlags>,
}

/// A [`LineFlags`] in 8 bytes: the four yes/no facts and whether a bound is known as bits.
#[derive(Debug, Clone, Copy)]
struct PackedFlags {
    bits: u8,
    loop_depth: u8,
    loop_bound: u32,
}

const RECV_LOOP: u8 = 1;
const RECV_REPLIES: u8 = 2;
const IN_WHILE: u8 = 4;
const IN_EXCEPT: u8 = 8;
const BOUNDED: u8 = 16;

impl PackedFlags {
    fn pack(f: &LineFlags) -> PackedFlags {
        let bit = |yes: bool, b: u8| if yes { b } else { 0 };
        PackedFlags {
            bits: bit(f.in_recv_loop, RECV_LOOP)
                | bit(f.recv_replies, RECV_REPLIES)
                | bit(f.in_while, IN_WHILE)
                | bit(f.in_except, IN_EXCEPT)
                | bit(f.loop_bound.is_some(), BOUNDED),
            loop_depth: f.loop_depth,
            loop_bound: f.loop_bound.unwrap_or(0),
        }
    }

    fn unpack(self) -> LineFlags {
        LineFlags {
            in_recv_loop: self.bits & RECV_LOOP != 0,
            recv_replies: self.bits & RECV_REPLIES != 0,
            in_while: self.bits & IN_WHILE != 0,
            in_except: self.bits & IN_EXCEPT != 0,
            loop_depth: self.loop_depth,
            loop_bound: (self.bits & BOUNDED != 0).then_some(self.loop_bound),
        }
    }
}

impl CallLines {
    /// The facts of the calls a function makes at a line, OR-ed together; `None` when none
    /// of them sits in a loop or handler.
    pub fn get(&self, &(module, func, line): &(u32, FuncId, u32)) -> Option<LineFlags> {
        let (a, b) = (
            *self.start.get(module as usize)? as usize,
            *self.start.get(module as usize + 1)? as usize,
        );
        let i = self.keys[a..b].binary_search(&(func, line)).ok()?;
        Some(self.flags[a + i].unpack())
    }

    /// Adds one module's lines (in call order; emptied): sorted by (function, line), the
    /// calls of one line merged as the map did, in call order: the yes/no facts OR-ed, and the
    /// deepest loop with the bound of the first call at that depth.
    fn add_module(&mut self, lines: &mut Vec<(FuncId, u32, LineFlags)>) {
        // Stable: calls of one line stay in call order.
        lines.sort_by_key(|&(f, l, _)| (f, l));
        let mut last: Option<(FuncId, u32, LineFlags)> = None;
        for (f, l, c) in lines.drain(..) {
            match &mut last {
                Some((lf, ll, flags)) if (*lf, *ll) == (f, l) => {
                    flags.in_recv_loop |= c.in_recv_loop;
                    flags.recv_replies |= c.recv_replies;
                    flags.in_while |= c.in_while;
                    flags.in_except |= c.in_except;
                    if c.loop_depth > flags.loop_depth {
                        flags.loop_depth = c.loop_depth;
                        flags.loop_bound = c.loop_bound;
                    }
                }
                _ => {
                    if let Some((lf, ll, flags)) = last.take() {
                        self.keys.push((lf, ll));
                        self.flags.push(PackedFlags::pack(&flags));
                    }
                    last = Some((f, l, c));
                }
            }
        }
        if let Some((lf, ll, flags)) = last {
            self.keys.push((lf, ll));
            self.flags.push(PackedFlags::pack(&flags));
        }
    }
}

/// Whether `func` is test code, by the pytest and unittest conventions: a `test*` function or
/// method in a test module (or under a tooling folder), a method of a `Test*` class there, or a
/// method of a `unittest.TestCase` subclass anywhere; or a function nested in one. A `test*`
/// name alone is not enough: `ConfigFlow.test_connection` in production code is not a test.
pub fn in_test(patterns: &ContextPatterns, m: &ModuleFacts, func: FuncId) -> bool {
    let test_module = patterns.is_tooling_path(&m.path);
    let mut cur = Some(func);
    while let Some(id) = cur {
        let f = &m.functions[id as usize];
        let class = f.class.map(|c| &m.classes[c as usize]);
        let test_case = class.is_some_and(|c| c.bases.iter().any(|b| is_test_case(b)));
        let test_class = class.is_some_and(|c| c.name.starts_with("Test"));
        if test_case || (test_module && (f.name.starts_with("test") || test_class)) {
            return true;
        }
        cur = f.parent;
    }
    false
}

/// A base class that makes a unittest test case: `unittest.TestCase`,
/// `unittest.IsolatedAsyncioTestCase`, `django.test.TestCase`, `AioHTTPTestCase`.
fn is_test_case(base: &str) -> bool {
    base.rsplit('.')
        .next()
        .is_some_and(|name| name.ends_with("TestCase"))
}
