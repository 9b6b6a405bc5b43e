//! The linked project: every module's facts, and the execution contexts each call runs in.
//!
//! Rules ask one question here: "in which contexts does this call execute, reached how?" The
//! answer carries the context kind (event loop, request loop, request handler, startup,
//! background), the chain from the entry point to the call, and how sure the chain is.

use serde::Serialize;

use crate::contexts::ContextPatterns;
use crate::facts::{Call, Candidate, FnKind, FuncId, ModuleFacts};
use crate::finding::{ChainStep, Confidence};

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
}

impl Project {
    pub fn new(modules: Vec<ModuleFacts>, patterns: ContextPatterns) -> Project {
        Project { modules, patterns }
    }

    /// The contexts a call executes in, most severe first.
    pub fn call_contexts(&self, module: usize, call: &Call) -> Vec<CallContext> {
        self.contexts_at(module, call.func, call.line, call.in_recv_loop)
    }

    /// The contexts of a candidate raised by an AST-level rule.
    pub fn candidate_contexts(&self, module: usize, c: &Candidate) -> Vec<CallContext> {
        self.contexts_at(module, c.func, c.line, c.in_recv_loop)
    }

    /// The contexts code at `line` of function `func` executes in, most severe first.
    pub fn contexts_at(
        &self,
        module: usize,
        func: FuncId,
        line: u32,
        in_recv_loop: bool,
    ) -> Vec<CallContext> {
        let m = &self.modules[module];
        let f = &m.functions[func as usize];
        let step = ChainStep {
            path: m.path.clone(),
            line,
            function: f.qualname.clone(),
        };
        let direct = |kind| CallContext {
            kind,
            chain: vec![step.clone()],
            confidence: Confidence::Definite,
        };
        let mut out = Vec::new();
        if f.is_async {
            out.push(direct(CtxKind::EventLoop));
        }
        if in_recv_loop && !f.is_async {
            out.push(direct(CtxKind::RequestLoop));
        }
        if !f.is_async && self.is_handler(module, func) {
            out.push(direct(CtxKind::Request));
        }
        if out.is_empty() && self.is_startup(module, func) {
            out.push(direct(CtxKind::Startup));
        }
        out
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

    fn is_startup(&self, module: usize, func: FuncId) -> bool {
        let f = &self.modules[module].functions[func as usize];
        matches!(f.kind, FnKind::Module | FnKind::Main) || f.name == "__init__"
    }
}
