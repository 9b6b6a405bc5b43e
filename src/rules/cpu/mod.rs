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

use super::{RuleContext, RuleMeta, candidate_finding, request_context};
use crate::catalog::ApiEntry;
use crate::cost::{estimate, fmt_range};
use crate::facts::{Candidate, ModuleFacts};
use crate::finding::Finding;
use crate::project::{CallContext, CtxKind};

/// What a rule says about one of its candidates: the message and the help, given the module,
/// the candidate, its per-request context, the catalog entry that costs it and the formatted
/// cost; `None` drops the candidate.
pub type Describe<'a> =
    &'a dyn Fn(&ModuleFacts, &Candidate, &CallContext, &ApiEntry, &str) -> Option<(String, String)>;

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
            let contexts = cx.project.candidate_contexts(mi, c);
            let Some(ctx) = request_context(cx, mi, c.func, &contexts) else {
                continue;
            };
            let what = format!("{} {}", entry.name, fmt_range(entry.low_ms, entry.high_ms));
            let (est, severity) = estimate(
                entry.low_ms,
                entry.high_ms,
                &what,
                &entry.source,
                c.loop_depth,
                ctx.kind,
            );
            let cost = fmt_range(est.low_ms, est.high_ms);
            let Some((message, help)) = describe(m, c, ctx, entry, &cost) else {
                continue;
            };
            out.push(candidate_finding(
                meta,
                cx.project,
                mi,
                c,
                ctx,
                Some(est),
                severity,
                message,
                help,
            ));
        }
    }
}

/// Loops around a site that repeat work within one request: a receive loop is the request
/// itself, so it does not count.
pub fn inner_loops(loop_depth: u8, ctx: &CallContext) -> u8 {
    if ctx.kind == CtxKind::RequestLoop {
        loop_depth.saturating_sub(1)
    } else {
        loop_depth
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
