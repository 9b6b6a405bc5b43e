//! Blocking calls (PA1xx): calls that wait on the outside world while holding a thread that
//! other requests need — the event loop of an `async def`, or the single thread of a service's
//! receive loop.

pub mod async_loop_without_await;
pub mod blocking_browser_in_async;
pub mod blocking_call_in_request_loop;
pub mod blocking_db_in_async;
pub mod blocking_file_io_in_async;
pub mod blocking_fs_walk_in_async;
pub mod blocking_http_in_async;
pub mod blocking_input_in_async;
pub mod blocking_io_in_serial_server;
pub mod blocking_redis_in_async;
pub mod blocking_sleep_in_async;
pub mod blocking_subprocess_in_async;
pub mod blocking_wait_in_async;
pub mod coroutine_never_awaited;
pub mod cpu_heavy_call_in_async;
pub mod http_without_timeout;

use super::emit::{Costed, Hotspot};
use super::{Rule, RuleContext, RuleMeta};
use crate::facts::{Call, ModuleFacts};
use crate::finding::Finding;
use crate::knowledge::catalog::{ApiEntry, Effect};
use crate::project::context::Site;
use crate::rules::cost::PerCall;

/// Widens a call's cost from its literal arguments (e.g. a walk over `/`).
pub type RangeAdjust = fn(&ApiEntry, &ModuleFacts, &Call) -> Option<PerCall>;

/// A rule that reports every call whose catalog effect is one of `effects` and that runs on
/// the event loop (PA101–PA109): each rule file holds its documentation and one of these.
pub struct BlockingInAsync {
    pub meta: &'static RuleMeta,
    pub effects: &'static [Effect],
    /// May widen the per-call cost from the call's literal arguments.
    pub adjust: Option<RangeAdjust>,
    /// More of the rule's own findings, beyond calls made on the event loop.
    pub also: Option<fn(&RuleContext, &mut Vec<Finding>)>,
    /// Calls whose typical cost is below this many milliseconds are left out (CPU work: a
    /// microsecond list scan on the loop is not a blocking call).
    pub floor_ms: f64,
}

impl BlockingInAsync {
    /// The plain check: every call with one of `effects` made on the event loop, costed from
    /// its catalog entry; the other fields are set with struct update where a rule needs them.
    pub const fn on_loop(meta: &'static RuleMeta, effects: &'static [Effect]) -> Self {
        BlockingInAsync {
            meta,
            effects,
            adjust: None,
            also: None,
            floor_ms: 0.0,
        }
    }
}

impl Rule for BlockingInAsync {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        blocking_in_async(self, cx, out);
        if let Some(also) = self.also {
            also(cx, out);
        }
    }
}

fn blocking_in_async(rule: &BlockingInAsync, cx: &RuleContext, out: &mut Vec<Finding>) {
    let (meta, effects, adjust) = (rule.meta, rule.effects, rule.adjust);
    for (mi, m, call, entry) in super::catalog_calls(cx, |e| effects.contains(&e.effect)) {
        // Awaited, or told not to wait (`os.WNOHANG`, `block=False`): it does not block. An
        // awaited library coroutine still blocks with the work it does before its first `await`
        // (the only work its summary, `entry.through`, counts).
        if (call.awaited() && entry.through.is_empty()) || call.nonblocking() {
            continue;
        }
        let Some(exec) = cx.project.loop_execution(&Site::call(mi, call)) else {
            continue;
        };
        let per = adjust
            .and_then(|f| f(entry, m, call))
            .unwrap_or_else(|| super::call_cost(cx, mi, call, entry));
        if crate::finding::typical_ms(per.low_ms, per.high_ms) < rule.floor_ms {
            continue;
        }
        let func = &m.functions[call.func as usize].qualname;
        // A plain `def` that a framework runs on its loop (a Home Assistant property, a tornado
        // handler) is named as that, not as `async`.
        let how = |step: &crate::finding::ChainStep| match &step.entry {
            Some(what) => format!("{what} `{}`", step.function),
            None => format!("async `{}`", step.function),
        };
        let message = match exec.chain.first() {
            Some(entry) if exec.chain.len() > 1 => format!(
                "`{}` in `{func}` blocks the event loop: it is called from {} ({}:{}) (~{} per call)",
                call.target,
                how(entry),
                entry.path,
                entry.line,
                per.range()
            ),
            Some(entry) => format!(
                "`{}` blocks the event loop in {} (~{} per call)",
                call.target,
                how(entry),
                per.range()
            ),
            None => format!(
                "`{}` blocks the event loop in async `{func}` (~{} per call)",
                call.target,
                per.range()
            ),
        };
        let help = match &entry.async_alternative {
            Some(alt) => format!("Use {alt}, or offload it with `await asyncio.to_thread(...)`."),
            None => {
                "Offload it with `await asyncio.to_thread(...)` or use an async client.".to_owned()
            }
        };
        let cost = Costed::latency(&per, &exec);
        out.push(cx.emit(meta, Hotspot::call(mi, call, &exec, cost), message, help));
    }
}
