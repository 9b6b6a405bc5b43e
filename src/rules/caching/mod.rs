//! Caching (PA5xx): work that gives the same result every time it runs on a per-request path —
//! configuration parsed per request, the same artefact loaded in several places, pure calls
//! with literal arguments repeated in a loop — and should be done once and kept.

pub mod config_parsed_per_request;
pub mod repeated_pure_call_in_loop;
pub mod same_artifact_loaded_repeatedly;

use ruff_python_ast::{Expr, ExprCall};
use ruff_text_size::Ranged;

use crate::facts::collect::LocalContext;
use crate::facts::names::{is_literal, number_literal};
use crate::facts::{Call, Candidate, ModuleFacts};
use crate::knowledge::catalog::{Catalog, Effect};

/// The source text of a call's arguments when every one of them is a literal (a string, bytes,
/// number, boolean, `None`, or a tuple of those): such a call returns the same value each time.
/// With `disk_args`, an argument may also be a call of a catalog disk entry with literal
/// arguments (`open("settings.json")`), so that a parse of a fixed file has a signature too.
pub fn literal_args(
    call: &ExprCall,
    cx: &LocalContext,
    catalog: &Catalog,
    disk_args: bool,
) -> Option<String> {
    let args = &call.arguments;
    if args.args.is_empty() && args.keywords.is_empty() {
        return None;
    }
    let fixed = |e: &Expr| -> bool {
        literal(e)
            || (disk_args
                && matches!(e, Expr::Call(inner)
                    if callee_effect(inner, cx, catalog) == Some(Effect::Disk)
                        && literal_args(inner, cx, catalog, false).is_some()))
    };
    let all = args.args.iter().all(fixed)
        && args
            .keywords
            .iter()
            .all(|k| k.arg.is_some() && fixed(&k.value));
    all.then(|| cx.source_text(args.range()).to_owned())
}

/// Whether [`literal_args`] can give a signature for this call, from its syntax alone: asked
/// before the callee's catalog entry, which most calls (a name among the arguments, or none)
/// need not look up.
pub fn may_have_literal_args(call: &ExprCall, disk_args: bool) -> bool {
    let args = &call.arguments;
    let maybe = |e: &Expr| literal(e) || (disk_args && matches!(e, Expr::Call(_)));
    !(args.args.is_empty() && args.keywords.is_empty())
        && args.args.iter().all(maybe)
        && args
            .keywords
            .iter()
            .all(|k| k.arg.is_some() && maybe(&k.value))
}

fn literal(e: &Expr) -> bool {
    is_literal(e)
        || number_literal(e).is_some()
        || matches!(e, Expr::Tuple(t) if t.elts.iter().all(literal))
}

/// The catalog effect of a call's callee when it resolves through the module's imports.
pub fn callee_effect(call: &ExprCall, cx: &LocalContext, catalog: &Catalog) -> Option<Effect> {
    cx.callee_api(call).map(|id| catalog.get(id).effect)
}

/// The call fact a candidate was raised at (same function, same start).
pub fn call_at<'a>(m: &'a ModuleFacts, cand: &Candidate) -> Option<&'a Call> {
    m.calls
        .iter()
        .find(|c| c.func == cand.func && c.line == cand.line && c.column == cand.column)
}
