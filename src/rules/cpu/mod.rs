//! CPU work on the request path (PA3xx): computation that is repeated per request or per loop
//! iteration although it could be done once, done lazily, or done with a better structure.

pub mod deepcopy_on_request_path;
pub mod heavy_import_in_function;
pub mod json_on_logging_path;
pub mod pandas_row_iteration;
pub mod quadratic_membership;
pub mod regex_in_hot_path;
pub mod string_concat_in_loop;

use ruff_python_ast::Expr;

use super::emit::{Costed, Hotspot};
use super::{RuleContext, RuleMeta};
use crate::facts::{Candidate, ModuleFacts};
use crate::finding::Finding;
use crate::knowledge::catalog::ApiEntry;
use crate::project::context::{Execution, Site};
use crate::rules::cost::PerCall;

/// What a rule says about one of its candidates: the message and the help, given the module,
/// the candidate, its per-request execution, the catalog entry that costs it and the formatted
/// cost; `None` drops the candidate.
pub type Describe<'a> =
    &'a dyn Fn(&ModuleFacts, &Candidate, &Execution, &ApiEntry, &str) -> Option<(String, String)>;

/// Turns a rule's candidates into findings where they run once per request, costed from the
/// catalog entry each candidate carries (candidates without one are dropped).
pub fn report_candidates(
    meta: &'static RuleMeta,
    cx: &RuleContext,
    out: &mut Vec<Finding>,
    describe: Describe,
) {
    for (mi, m) in cx.project.modules.iter().enumerate() {
        for c in m.candidates.iter().filter(|c| c.code == meta.code) {
            let Some(api) = c.api else { continue };
            let entry = cx.catalog.get(api);
            let Some(exec) = cx.project.request_execution(&Site::candidate(mi, c)) else {
                continue;
            };
            let cost = Costed::latency(&PerCall::entry(entry), &exec);
            let Some((message, help)) = describe(m, c, &exec, entry, &cost.range()) else {
                continue;
            };
            out.push(cx.emit(meta, Hotspot::candidate(mi, c, &exec, cost), message, help));
        }
    }
}

/// `name` or `self.attr` as written, for expressions whose kind the module pass records.
pub fn tracked_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Name(n) => Some(n.id.to_string()),
        Expr::Attribute(a) => match &*a.value {
            Expr::Name(base) if base.id.as_str() == "self" => Some(format!("self.{}", a.attr.id)),
            _ => None,
        },
        _ => None,
    }
}
