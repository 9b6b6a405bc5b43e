//! What a function's callers pass it: the first argument of every call into it, read from the
//! callers' call records (`fetch_json(KNOWLEDGE_URL)` passes the constant's text). The cost
//! model reads it for a parameter that a catalog call uses as its URL.

use std::sync::OnceLock;

use crate::facts::{Call, FnKind};

use super::Project;
use super::graph::Graph;
use super::resolve::FnRef;

/// How many helpers a value is followed back through (`get(url)` → `fetch(url)` → a caller).
const DEPTH: u8 = 3;

/// Every call edge, by callee: `(to, from, line)`, sorted.
#[derive(Debug, Default)]
pub(crate) struct Callers(OnceLock<Vec<(u32, u32, u32)>>);

impl Callers {
    fn get(&self, graph: &Graph) -> &[(u32, u32, u32)] {
        self.0.get_or_init(|| {
            let mut out = Vec::new();
            for from in 0..graph.len() as u32 {
                for e in graph.edges_from(from) {
                    if Graph::is_call(e) && e.dispatch.is_none() {
                        out.push((e.to, from, e.line));
                    }
                }
            }
            out.sort_unstable();
            out.dedup();
            out
        })
    }
}

impl Project {
    /// The literal texts that reach parameter `param` of `f` as a call's first argument, from
    /// every call into `f` (following callers that pass on a parameter of their own, up to
    /// `DEPTH` helpers). `None` when any caller passes something else, or nothing calls it:
    /// the value is then not known.
    pub fn first_arg_values(&self, f: FnRef, param: u8) -> Option<Vec<String>> {
        let mut out = Vec::new();
        self.collect_first_args(f, param, DEPTH, &mut out)
            .then_some(out)
            .filter(|v| !v.is_empty())
    }

    fn collect_first_args(&self, f: FnRef, param: u8, depth: u8, out: &mut Vec<String>) -> bool {
        let func = &self.modules[f.module as usize].functions[f.func as usize];
        // A method's first parameter is its receiver: a caller's first argument is its second.
        let first = match func.kind {
            FnKind::Method => 1,
            _ => 0,
        };
        if depth == 0 || param != first || func.params.len() <= param as usize {
            return false;
        }
        let id = self.graph.id(f);
        let edges = self.callers.get(&self.graph);
        let start = edges.partition_point(|e| e.0 < id);
        let mut any = false;
        for &(_, from, line) in edges[start..].iter().take_while(|e| e.0 == id) {
            any = true;
            let caller = self.graph.node(from);
            let m = &self.modules[caller.module as usize];
            let mut calls = m.calls.iter().filter(|c: &&Call| {
                c.func == caller.func
                    && c.line == line
                    && c.target.rsplit('.').next() == Some(func.name.as_str())
            });
            let (Some(call), None) = (calls.next(), calls.next()) else {
                return false;
            };
            match (&call.str_arg, call.url_param()) {
                (Some(text), _) => out.push(text.to_string()),
                (None, Some(p)) => {
                    if !self.collect_first_args(caller, p, depth - 1, out) {
                        return false;
                    }
                }
                (None, None) => return false,
            }
        }
        any
    }
}
