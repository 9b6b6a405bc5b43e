//! What a function's callers pass it: the first argument of every call into it, read from the
//! callers' call records (`fetch_json(KNOWLEDGE_URL)` passes the constant's text). The cost
//! model reads it for a parameter that a catalog call uses as its URL.
//!
//! `destinations` is the whole question for one call: the addresses its first argument may
//! hold, from a literal, an f-string, a configuration read (the default the code gives, and the
//! values the system's manifests give the key), a parameter (its callers' arguments), or a
//! project function's result (what it returns).

use std::sync::OnceLock;

use crate::facts::{Call, FnKind, FuncId, Value};

use super::Project;
use super::graph::Graph;
use super::resolve::{FnRef, Target};

/// How many helpers a value is followed back through (`get(url)` → `fetch(url)` → a caller).
const DEPTH: u8 = 3;

/// Every call edge, by callee: for each node, the `(from, line)` of the calls into it,
/// sorted and without repeats.
#[derive(Debug, Default)]
pub(crate) struct Callers(OnceLock<CallerIndex>);

/// The calls into each node, in one array cut by node (`start[id]..start[id + 1]`): built
/// by counting edges per callee, so that only each node's few callers are sorted, not every
/// edge of the project.
#[derive(Debug)]
struct CallerIndex {
    start: Vec<u32>,
    calls: Vec<(u32, u32)>,
    /// Nodes some edge the index leaves out leads into (a dispatch to a subclass override, a
    /// thread or task started, a registration, an import): they run otherwise than as called.
    otherwise: Vec<bool>,
}

impl Callers {
    /// Whether an edge this index leaves out (dispatch, spawn, import) leads into `to`.
    pub(super) fn reached_otherwise(&self, graph: &Graph, to: u32) -> bool {
        let index = self.0.get_or_init(|| CallerIndex::build(graph));
        index.otherwise.get(to as usize).copied().unwrap_or(false)
    }

    /// The `(from, line)` of every call edge into node `to`.
    pub(super) fn of(&self, graph: &Graph, to: u32) -> &[(u32, u32)] {
        let index = self.0.get_or_init(|| CallerIndex::build(graph));
        match (
            index.start.get(to as usize),
            index.start.get(to as usize + 1),
        ) {
            (Some(&a), Some(&b)) => &index.calls[a as usize..b as usize],
            _ => &[],
        }
    }
}

impl CallerIndex {
    fn build(graph: &Graph) -> CallerIndex {
        let counted = |e: &super::graph::GraphEdge| Graph::is_call(e) && !e.is_dispatch();
        let nodes = graph.len();
        let mut start = vec![0u32; nodes + 1];
        let mut otherwise = vec![false; nodes];
        for from in 0..nodes as u32 {
            for e in graph.edges_from(from) {
                if counted(e) {
                    start[e.to as usize + 1] += 1;
                } else if let Some(o) = otherwise.get_mut(e.to as usize) {
                    *o = true;
                }
            }
        }
        for i in 0..nodes {
            start[i + 1] += start[i];
        }
        let mut next = start.clone();
        let mut calls = vec![(0u32, 0u32); start[nodes] as usize];
        for from in 0..nodes as u32 {
            for e in graph.edges_from(from).iter().filter(|e| counted(e)) {
                let slot = &mut next[e.to as usize];
                calls[*slot as usize] = (from, e.line);
                *slot += 1;
            }
        }
        // Sort each callee's calls and drop repeats, closing the gaps they leave.
        let mut kept = 0usize;
        let mut bucket_start = 0usize;
        for i in 0..nodes {
            let end = start[i + 1] as usize;
            let bucket = &mut calls[bucket_start..end];
            bucket.sort_unstable();
            let mut last = None;
            let begin = kept;
            for j in bucket_start..end {
                let c = calls[j];
                if last != Some(c) {
                    calls[kept] = c;
                    kept += 1;
                    last = Some(c);
                }
            }
            start[i] = begin as u32;
            bucket_start = end;
        }
        start[nodes] = kept as u32;
        calls.truncate(kept);
        CallerIndex {
            start,
            calls,
            otherwise,
        }
    }
}

impl Project {
    /// The addresses the first argument (or `url=`) of `call`, in `module`, may hold; `None`
    /// when any of them is not known.
    pub fn destinations(&self, module: usize, call: &Call) -> Option<Vec<String>> {
        let mut out = Vec::new();
        self.arg_destinations(module, call, 0, DEPTH, &mut out)
            .then_some(out)
            .filter(|v| !v.is_empty())
    }

    /// The addresses positional argument `position` of `call` may hold; `false` when any is
    /// not known.
    fn arg_destinations(
        &self,
        module: usize,
        call: &Call,
        position: u8,
        depth: u8,
        out: &mut Vec<String>,
    ) -> bool {
        let m = &self.modules[module];
        if let Some(v) = m.call_index(call).and_then(|i| m.arg_value(i, position)) {
            return self.value_destinations(module, call.func, v, depth, out);
        }
        if position != 0 {
            return false;
        }
        match (m.str_arg(call), call.url_param()) {
            (Some(text), _) => {
                out.push(text.to_string());
                true
            }
            (None, Some(p)) => {
                let f = FnRef {
                    module: module as u32,
                    func: call.func,
                };
                self.collect_args(f, p, depth, out)
            }
            (None, None) => false,
        }
    }

    /// The addresses a value in function `func` of `module` may hold (see `facts::Value`).
    fn value_destinations(
        &self,
        module: usize,
        func: FuncId,
        v: &Value,
        depth: u8,
        out: &mut Vec<String>,
    ) -> bool {
        if let Some(p) = v.param {
            let f = FnRef {
                module: module as u32,
                func,
            };
            return self.collect_args(f, p, depth, out);
        }
        if let Some(i) = v.from_call {
            let m = &self.modules[module];
            let Some(call) = m.calls.get(i as usize) else {
                return false;
            };
            let Some((Target::Function(f), _)) = self.resolver.resolve(&call.target) else {
                return false;
            };
            let fm = &self.modules[f.module as usize];
            let mut any = false;
            for r in fm.return_values(f.func) {
                any = true;
                if depth == 0
                    || !self.value_destinations(f.module as usize, f.func, r, depth - 1, out)
                {
                    return false;
                }
            }
            return any;
        }
        let text = v.text.as_deref().filter(|t| !t.is_empty());
        let Some(key) = v.key.as_deref() else {
            return match text {
                Some(t) => {
                    out.push(t.to_owned());
                    true
                }
                None => false,
            };
        };
        let values = self.configured.get(key);
        match text.and_then(|t| t.split_once("://")) {
            // The key fills the host: each value the manifests give it is a host.
            Some((scheme, rest)) => {
                for h in values {
                    if h.contains("://") {
                        out.push(h.clone());
                    } else {
                        out.push(format!("{scheme}://{h}"));
                    }
                }
                // The code's default, unless there is none (`cfg["host"]`) and the manifests
                // give the key.
                if !rest.starts_with("{}") || values.is_empty() {
                    out.push(text.unwrap_or_default().to_owned());
                }
                true
            }
            // The key holds the whole address.
            None => {
                let before = out.len();
                out.extend(values.iter().filter(|u| u.contains("://")).cloned());
                // A default without a scheme (`""`, a path) is not an address of its own.
                if let Some(t) = text.filter(|t| t.contains("://")) {
                    out.push(t.to_owned());
                }
                out.len() > before
            }
        }
    }

    /// The addresses that reach parameter `param` of `f` from every call into it: the
    /// argument at its position in a direct call, or the one passed on to it by a call that is
    /// given `f` (`to_thread(f, url)`), following callers that pass on a parameter of their own
    /// (up to `DEPTH` helpers). `false` when any caller passes something not known, or nothing
    /// calls it.
    fn collect_args(&self, f: FnRef, param: u8, depth: u8, out: &mut Vec<String>) -> bool {
        let func = &self.modules[f.module as usize].functions[f.func as usize];
        // A method's first parameter is its receiver: a caller's first argument is its second.
        let first = match func.kind {
            FnKind::Method => 1,
            _ => 0,
        };
        if depth == 0 || param < first || func.params.len() <= param as usize {
            return false;
        }
        let position = param - first;
        let id = self.graph.id(f);
        // A constructor is called by its class's name (`Vad(path)` runs `Vad.__init__`).
        let class = match (func.kind, func.class, func.name.as_str()) {
            (FnKind::Method, Some(c), "__init__") => self.modules[f.module as usize]
                .classes
                .get(c as usize)
                .map(|c| c.name.as_str()),
            _ => None,
        };
        let mut any = false;
        for &(from, line) in self.callers.of(&self.graph, id) {
            any = true;
            let caller = self.graph.node(from);
            let m = &self.modules[caller.module as usize];
            let name = Some(func.name.as_str());
            let at_line = |c: &&Call| c.func == caller.func && c.line == line;
            let calls_it = |c: &&Call| {
                let last = c.target.rsplit('.').next();
                last == name || (class.is_some() && last == class)
            };
            let mut direct = m.calls.iter().filter(|c| at_line(c) && calls_it(c));
            let (call, position) = match (direct.next(), direct.next()) {
                (Some(call), None) => (call, position),
                (None, _) => {
                    // `to_thread(f, url)`: the call given `f` passes it the arguments after it.
                    let mut given = m.calls.iter().filter_map(|c| {
                        if !at_line(&c) {
                            return None;
                        }
                        let i = m.call_index(c)?;
                        m.arg_names(i)
                            .find(|(_, n)| n.rsplit('.').next() == name)
                            .map(|(p, _)| (c, p + 1 + position))
                    });
                    match (given.next(), given.next()) {
                        (Some(found), None) => found,
                        _ => return false,
                    }
                }
                _ => return false,
            };
            if !self.arg_destinations(caller.module as usize, call, position, depth - 1, out) {
                return false;
            }
        }
        any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::contexts::ContextPatterns;
    use crate::knowledge::frameworks::Frameworks;

    /// The index by callee holds exactly what sorting every call edge by `(to, from, line)`
    /// and dropping repeats gives, node by node.
    #[test]
    fn caller_index_is_the_sorted_edge_list() {
        let modules = crate::dev::testing::example_modules();
        let project = Project::new(
            modules,
            ContextPatterns::builtin(),
            Frameworks::builtin(),
            None,
        );
        let graph = &project.graph;
        let mut sorted = Vec::new();
        for from in 0..graph.len() as u32 {
            for e in graph.edges_from(from) {
                if Graph::is_call(e) && !e.is_dispatch() {
                    sorted.push((e.to, from, e.line));
                }
            }
        }
        sorted.sort_unstable();
        sorted.dedup();
        assert!(sorted.len() > 50, "the example has call edges");
        assert!(
            sorted.windows(2).any(|w| w[0].0 == w[1].0),
            "some node has two callers"
        );
        let callers = Callers::default();
        let mut rebuilt = Vec::new();
        for to in 0..graph.len() as u32 {
            rebuilt.extend(callers.of(graph, to).iter().map(|&(f, l)| (to, f, l)));
        }
        assert_eq!(rebuilt, sorted);
        assert!(callers.of(graph, graph.len() as u32).is_empty());
    }
}
