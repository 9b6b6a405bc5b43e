//! The cost model: a catalog latency range, scaled by the context the call runs in.
//!
//! One execution of the finding's path is costed: the catalog's range for one call (or the
//! literal duration of a sleep), times a documented default repetition per enclosing loop
//! inside the request, banded by its typical value (the geometric mean of the range). Startup
//! and background code is not request latency: it is reported as information.

use crate::catalog::{ApiEntry, Catalog};
use crate::facts::Call;
use crate::finding::{Estimate, Severity};
use crate::project::{CallContext, CtxKind};

/// How many times a loop body is assumed to run per request when nothing says otherwise.
pub const DEFAULT_LOOP_REPETITIONS: f64 = 10.0;

/// The latency range of one call of a catalog entry, from its literal arguments when they say.
pub fn call_range(entry: &ApiEntry, call: &Call) -> (f64, f64, String) {
    if entry.arg_seconds.is_some()
        && let Some(s) = call.seconds
    {
        let ms = s * 1000.0;
        return (ms, ms, format!("{} with a literal {s} s", entry.name));
    }
    (
        entry.low_ms,
        entry.high_ms,
        format!("{} {}", entry.name, fmt_range(entry.low_ms, entry.high_ms)),
    )
}

/// The estimate and severity of a catalog call in a context.
pub fn estimate_call(
    catalog: &Catalog,
    call: &Call,
    ctx: &CallContext,
) -> Option<(Estimate, Severity)> {
    let entry = catalog.get(call.api?);
    let (low, high, what) = call_range(entry, call);
    Some(estimate(
        low,
        high,
        &what,
        &entry.source,
        call.loop_depth,
        ctx.kind,
    ))
}

/// Scales a per-call range by the loops around it and bands it for the context.
pub fn estimate(
    low: f64,
    high: f64,
    what: &str,
    source: &str,
    loop_depth: u8,
    kind: CtxKind,
) -> (Estimate, Severity) {
    // A receive loop is the request itself, not a repetition within it.
    let reps_depth = if kind == CtxKind::RequestLoop {
        loop_depth.saturating_sub(1)
    } else {
        loop_depth
    };
    let factor = if reps_depth > 0 && kind.per_request() {
        DEFAULT_LOOP_REPETITIONS
    } else {
        1.0
    };
    let mut basis = format!("{what} per call ({source})");
    if factor > 1.0 {
        basis.push_str(&format!(
            "; ×{factor} for the enclosing loop (default repetition, nesting counted once)"
        ));
    }
    basis.push_str(match kind {
        CtxKind::EventLoop => "; blocks the event loop, stalling every concurrent request",
        CtxKind::RequestLoop => "; paid on every request the loop receives",
        CtxKind::Request => "; paid on every request",
        CtxKind::Startup => "; paid once at startup, not per request",
        CtxKind::Background => "; runs in the background, off the request path",
    });
    let est = Estimate {
        low_ms: round(low * factor),
        high_ms: round(high * factor),
        basis,
    };
    let sev = if kind.per_request() {
        Severity::from_ms(est.typical_ms())
    } else {
        Severity::Info
    };
    (est, sev)
}

fn round(x: f64) -> f64 {
    if x >= 100.0 {
        x.round()
    } else {
        (x * 1000.0).round() / 1000.0
    }
}

pub fn fmt_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        let s = ms / 1000.0;
        if s >= 10.0 {
            format!("{s:.0} s")
        } else {
            format!("{s:.1} s")
        }
    } else if ms >= 1.0 {
        format!("{ms:.0} ms")
    } else if ms >= 0.001 {
        format!("{:.0} µs", ms * 1000.0)
    } else {
        "<1 µs".to_owned()
    }
}

pub fn fmt_range(low: f64, high: f64) -> String {
    if (low - high).abs() < f64::EPSILON {
        fmt_ms(low)
    } else {
        format!("{}–{}", fmt_ms(low), fmt_ms(high))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_is_info_and_loops_scale() {
        let (e, s) = estimate(500.0, 2000.0, "x", "src", 0, CtxKind::Startup);
        assert_eq!(s, Severity::Info);
        assert_eq!(e.low_ms, 500.0);
        let (e, s) = estimate(1.0, 4.0, "x", "src", 1, CtxKind::EventLoop);
        assert_eq!((e.low_ms, e.high_ms), (10.0, 40.0));
        assert_eq!(s, Severity::Medium);
        let (e, _) = estimate(1.0, 4.0, "x", "src", 1, CtxKind::RequestLoop);
        assert_eq!((e.low_ms, e.high_ms), (1.0, 4.0));
    }

    #[test]
    fn formatting() {
        assert_eq!(fmt_ms(0.01), "10 µs");
        assert_eq!(fmt_ms(150.0), "150 ms");
        assert_eq!(fmt_ms(2500.0), "2.5 s");
        assert_eq!(fmt_range(100.0, 100.0), "100 ms");
    }
}
