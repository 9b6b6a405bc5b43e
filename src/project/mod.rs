//! The linked project: every module's facts, and the execution contexts each call runs in.
//!
//! Rules ask one question here: "in which contexts does this call execute, reached how?" The
//! answer carries the context kind (event loop, request loop, request handler, startup,
//! background), the chain from the entry point to the call, and how sure the chain is.

use serde::Serialize;

use crate::contexts::ContextPatterns;
pub mod graph;
pub mod resolve;
pub mod services;

use crate::facts::{Call, Candidate, FnKind, FuncId, ModuleFacts};
use crate::finding::{ChainStep, Confidence};
use graph::{Graph, KINDS, Reach};
use resolve::{FnRef, Resolver};

/// Where a piece of code runs, from the point of view of request latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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

    /// Whether code in this context runs once per request.
    pub fn per_request(self) -> bool {
        matches!(
            self,
            CtxKind::EventLoop | CtxKind::RequestLoop | CtxKind::Request
        )
    }
}

/// One way a call is reached.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub kind: CtxKind,
    pub chain: Vec<ChainStep>,
    pub confidence: Confidence,
}

pub struct Project {
    pub modules: Vec<ModuleFacts>,
    pub patterns: ContextPatterns,
    pub resolver: Resolver,
    pub graph: Graph,
}

impl Project {
    pub fn new(modules: Vec<ModuleFacts>, patterns: ContextPatterns) -> Project {
        let resolver = Resolver::new(&modules);
        let graph = Graph::build(&modules, &resolver, &patterns);
        Project {
            modules,
            patterns,
            resolver,
            graph,
        }
    }

    /// The contexts a call executes in, most severe first.
    pub fn call_contexts(&self, module: usize, call: &Call) -> Vec<CallContext> {
        self.contexts_at(module, call.func, call.line, call.in_recv_loop)
    }

    /// The contexts of a candidate raised by an AST-level rule.
    pub fn candidate_contexts(&self, module: usize, c: &Candidate) -> Vec<CallContext> {
        self.contexts_at(module, c.func, c.line, c.in_recv_loop)
    }

    /// The contexts code at `line` of function `func` executes in, most severe first: one per
    /// kind, each with the shortest chain from an entry point of that kind.
    pub fn contexts_at(
        &self,
        module: usize,
        func: FuncId,
        line: u32,
        in_recv_loop: bool,
    ) -> Vec<CallContext> {
        let here = FnRef {
            module: module as u32,
            func,
        };
        let m = &self.modules[module];
        let f = &m.functions[func as usize];
        let last = ChainStep {
            path: m.path.clone(),
            line,
            function: f.qualname.clone(),
        };
        let mut out = Vec::new();
        for kind in KINDS {
            let reach = if kind == CtxKind::RequestLoop && in_recv_loop && !f.is_async {
                Some(Reach {
                    pred: None,
                    confidence: Confidence::Definite,
                })
            } else {
                self.graph.reach(here, kind)
            };
            let Some(reach) = reach else { continue };
            let mut chain: Vec<ChainStep> = if reach.pred.is_none() {
                Vec::new()
            } else {
                self.graph
                    .chain_to(here, kind)
                    .into_iter()
                    .map(|(fr, l)| {
                        let fm = &self.modules[fr.module as usize];
                        ChainStep {
                            path: fm.path.clone(),
                            line: l,
                            function: fm.functions[fr.func as usize].qualname.clone(),
                        }
                    })
                    .collect()
            };
            chain.push(last.clone());
            out.push(CallContext {
                kind,
                chain,
                confidence: reach.confidence,
            });
        }
        // A constructor nothing in the project calls runs when the service sets itself up.
        if out.is_empty() && f.name == "__init__" {
            out.push(CallContext {
                kind: CtxKind::Startup,
                chain: vec![last],
                confidence: Confidence::Probable,
            });
        }
        out
    }

    /// Whether any entry point or module-level code reaches the function.
    pub fn is_reachable(&self, module: usize, func: FuncId) -> bool {
        self.graph.is_live(FnRef {
            module: module as u32,
            func,
        })
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
