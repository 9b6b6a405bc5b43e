//! Blocking calls (PA1xx): calls that wait on the outside world while holding a thread that
//! other requests need — the event loop of an `async def`, or the single thread of a service's
//! receive loop.

pub mod blocking_browser_in_async;
pub mod blocking_call_in_request_loop;
pub mod blocking_db_in_async;
pub mod blocking_file_io_in_async;
pub mod blocking_fs_walk_in_async;
pub mod blocking_http_in_async;
pub mod blocking_input_in_async;
pub mod blocking_redis_in_async;
pub mod blocking_sleep_in_async;
pub mod blocking_subprocess_in_async;
pub mod http_without_timeout;

use super::{RuleContext, RuleMeta, call_finding};
use crate::catalog::Effect;
use crate::cost::{call_range, estimate, fmt_range};
use crate::facts::Call;
use crate::finding::Finding;
use crate::project::CtxKind;

/// Widens a call's latency range from its literal arguments: `(low_ms, high_ms, what)`.
pub type RangeAdjust = fn(&Call) -> Option<(f64, f64, String)>;

/// Reports every call whose catalog effect is one of `effects` and that runs on the event loop.
/// `adjust` may widen the per-call range from the call's literal arguments (e.g. a walk over `/`).
pub fn blocking_in_async(
    meta: &'static RuleMeta,
    effects: &[Effect],
    cx: &RuleContext,
    out: &mut Vec<Finding>,
    adjust: Option<RangeAdjust>,
) {
    for (mi, m) in cx.project.modules.iter().enumerate() {
        for call in &m.calls {
            let Some(api) = call.api else { continue };
            let entry = cx.catalog.get(api);
            if !effects.contains(&entry.effect) || call.awaited {
                continue;
            }
            let contexts = cx.project.call_contexts(mi, call);
            let Some(ctx) = contexts.iter().find(|c| c.kind == CtxKind::EventLoop) else {
                continue;
            };
            let (low, high, what) = adjust
                .and_then(|f| f(call))
                .unwrap_or_else(|| call_range(entry, call));
            let (est, severity) =
                estimate(low, high, &what, &entry.source, call.loop_depth, ctx.kind);
            let func = &m.functions[call.func as usize].qualname;
            let message = match ctx.chain.first() {
                Some(entry) if ctx.chain.len() > 1 => format!(
                    "`{}` in `{func}` blocks the event loop: it is called from async `{}` ({}:{}) (~{} per call)",
                    call.target,
                    entry.function,
                    entry.path,
                    entry.line,
                    fmt_range(low, high)
                ),
                _ => format!(
                    "`{}` blocks the event loop in async `{func}` (~{} per call)",
                    call.target,
                    fmt_range(low, high)
                ),
            };
            let help = match &entry.async_alternative {
                Some(alt) => {
                    format!("Use {alt}, or offload it with `await asyncio.to_thread(...)`.")
                }
                None => "Offload it with `await asyncio.to_thread(...)` or use an async client."
                    .to_owned(),
            };
            out.push(call_finding(
                meta,
                cx.project,
                mi,
                call,
                ctx,
                Some(est),
                severity,
                message,
                help,
            ));
        }
    }
}
