//! The cost model: what one call costs, scaled by how its execution repeats it and banded by
//! how often that execution runs.
//!
//! One execution of the finding's path is costed: the catalog's range for one call (or the
//! literal duration of a sleep), times a documented default repetition when loops inside the
//! execution repeat it, banded by its typical value (the geometric mean of the range) when the
//! execution runs per request. What runs once, in the background or in tests is not request
//! latency: it is reported as information.

use crate::facts::Call;
use crate::finding::{Estimate, Severity};
use crate::knowledge::catalog::ApiEntry;
use crate::project::CtxKind;
use crate::project::context::{Execution, Frequency};

/// How many times a loop body is assumed to run per request when nothing says otherwise.
pub const DEFAULT_LOOP_REPETITIONS: f64 = 10.0;

/// What one call costs, and where the figure comes from.
#[derive(Debug, Clone)]
pub struct PerCall {
    pub low_ms: f64,
    pub high_ms: f64,
    /// What is costed (`requests.get 1 ms–700 ms`, `time.sleep with a literal 2 s`).
    pub what: String,
    /// The figure's source (a calibration script, a cited measurement).
    pub source: String,
    /// The longest one call can wait, where the code states it (a literal `timeout=`).
    pub worst_ms: Option<f64>,
}

impl PerCall {
    /// A catalog entry's range for one call.
    pub fn entry(entry: &ApiEntry) -> PerCall {
        PerCall {
            low_ms: entry.low_ms,
            high_ms: entry.high_ms,
            what: format!("{} {}", entry.name, fmt_range(entry.low_ms, entry.high_ms)),
            source: entry.source.clone(),
            worst_ms: None,
        }
    }

    /// A catalog entry's range for this call, from its literal arguments when they say (a
    /// sleep's seconds).
    pub fn of(entry: &ApiEntry, call: &Call) -> PerCall {
        if entry.arg_seconds.is_some()
            && let Some(s) = call.seconds
        {
            let ms = s * 1000.0;
            return PerCall {
                low_ms: ms,
                high_ms: ms,
                what: format!("{} with a literal {s} s", entry.name),
                source: entry.source.clone(),
                worst_ms: None,
            };
        }
        let worst_ms = call
            .timeout_s
            .filter(|_| entry.timeout_kw)
            .map(|s| s * 1000.0);
        PerCall {
            worst_ms,
            ..PerCall::entry(entry)
        }
    }

    /// The range as text (`1 ms–700 ms`).
    pub fn range(&self) -> String {
        fmt_range(self.low_ms, self.high_ms)
    }
}

/// The estimate and band of a call costing `per` in `exec`: scaled by the loops that repeat it
/// within the execution, banded when the execution runs per request, information otherwise.
pub fn estimate(per: &PerCall, exec: &Execution) -> (Estimate, Severity) {
    let per_request = exec.per_request();
    let (factor, why) = match (exec.repeats > 0 && per_request, exec.bound) {
        (false, _) => (1.0, ""),
        (true, Some(n)) => (
            f64::from(n),
            "the literal `range` bounds of the enclosing loops",
        ),
        (true, None) => (
            DEFAULT_LOOP_REPETITIONS,
            "the enclosing loop (default repetition, nesting counted once)",
        ),
    };
    let mut basis = format!("{} per call ({})", per.what, per.source);
    if !why.is_empty() && factor != 1.0 {
        basis.push_str(&format!("; ×{factor} for {why}"));
    }
    basis.push_str(match (exec.kind, exec.frequency) {
        (_, Frequency::Tooling) => "; test code, not a request path",
        (_, Frequency::FirstRequest) => "; once per process, paid by the first request",
        (_, Frequency::PerSession) => "; once per session, paid when each session starts",
        (_, Frequency::Conditional) => {
            "; only when its `if` holds (back-pressure or an idle wait that skips to the next \
             iteration, or an optional argument the caller left out), not on every request: \
             medium at most"
        }
        (_, Frequency::PerFailure) => {
            "; only after an exception (an error, a timeout, nothing to receive), not on every \
             request: medium at most"
        }
        (_, Frequency::Periodic) => {
            "; every round of a polling loop or periodic job, not per request"
        }
        (CtxKind::EventLoop | CtxKind::Request | CtxKind::RequestLoop, Frequency::Once) => {
            "; runs once per process (startup or `main`), not per request"
        }
        (CtxKind::EventLoop, Frequency::PerCall) => {
            "; blocks the event loop whenever it runs, but no known request entry (handler, \
             route, receive loop) reaches it, so how often is not known: medium at most"
        }
        (CtxKind::EventLoop, _) => "; blocks the event loop, stalling every concurrent request",
        (CtxKind::RequestLoop, _) => "; paid on every request the loop receives",
        (CtxKind::Request, _) => "; paid on every request",
        (CtxKind::Startup, _) => "; paid once at startup, not per request",
        (CtxKind::Background, _) => "; runs in the background, off the request path",
    });
    let worst_ms = per.worst_ms.map(|w| round(w * factor));
    if let Some(w) = worst_ms {
        basis.push_str(&format!("; at worst {} (its `timeout=`)", fmt_ms(w)));
    }
    let est = Estimate {
        low_ms: round(per.low_ms * factor),
        high_ms: round(per.high_ms * factor),
        worst_ms,
        basis,
    };
    let sev = cap(exec.frequency, Severity::from_ms(est.typical_ms()));
    (est, sev)
}

/// The highest band a cost paid at `frequency` can have: only per-request code is critical or
/// high.
pub fn cap(frequency: Frequency, band: Severity) -> Severity {
    let most = match frequency {
        Frequency::PerRequest | Frequency::PerSession => Severity::Critical,
        // No known request entry reaches it (how often is not known); only after an exception;
        // only when a guard holds; or once per process, by whichever request comes first: a real
        // wait for that request, never one every request pays.
        Frequency::PerCall
        | Frequency::PerFailure
        | Frequency::Conditional
        | Frequency::FirstRequest => Severity::Medium,
        // Every round of a polling loop or periodic job: it delays that job (and, on the event
        // loop, whatever else is scheduled then), but no request waits on it every time.
        Frequency::Periodic => Severity::Low,
        Frequency::Once | Frequency::Background | Frequency::Tooling => Severity::Info,
    };
    band.min(most)
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

    fn exec(kind: CtxKind, frequency: Frequency, repeats: u8) -> Execution {
        Execution {
            kind,
            frequency,
            chain: Vec::new(),
            confidence: crate::finding::Confidence::Definite,
            repeats,
            bound: None,
        }
    }

    fn per(low_ms: f64, high_ms: f64) -> PerCall {
        PerCall {
            low_ms,
            high_ms,
            what: "x".into(),
            source: "src".into(),
            worst_ms: None,
        }
    }

    #[test]
    fn startup_is_info_and_loops_scale() {
        let startup = exec(CtxKind::Startup, Frequency::Once, 0);
        let (e, s) = estimate(&per(500.0, 2000.0), &startup);
        assert_eq!(s, Severity::Info);
        assert_eq!(e.low_ms, 500.0);
        let looped = exec(CtxKind::EventLoop, Frequency::PerCall, 1);
        let (e, s) = estimate(&per(1.0, 4.0), &looped);
        assert_eq!((e.low_ms, e.high_ms), (10.0, 40.0));
        assert_eq!(s, Severity::Medium);
        // A coroutine no request entry is known to reach: medium at most.
        let task = exec(CtxKind::EventLoop, Frequency::PerCall, 0);
        assert_eq!(estimate(&per(2000.0, 2000.0), &task).1, Severity::Medium);
        let handler = exec(CtxKind::EventLoop, Frequency::PerRequest, 0);
        assert_eq!(
            estimate(&per(2000.0, 2000.0), &handler).1,
            Severity::Critical
        );
        // Only after an exception: medium at most.
        let failure = exec(CtxKind::RequestLoop, Frequency::PerFailure, 0);
        assert_eq!(estimate(&per(2000.0, 2000.0), &failure).1, Severity::Medium);
        // A literal `range(3)` repeats three times, not the default ten.
        let bounded = Execution {
            bound: Some(3),
            ..exec(CtxKind::Request, Frequency::PerRequest, 1)
        };
        let (e, s) = estimate(&per(2.0, 2.0), &bounded);
        assert_eq!((e.low_ms, s), (6.0, Severity::Low));
        assert!(
            e.basis.contains("×3 for the literal `range` bounds"),
            "{}",
            e.basis
        );
        // A literal timeout is the worst case, shown beside the band, not banded.
        let with_timeout = PerCall {
            worst_ms: Some(5000.0),
            ..per(1.0, 700.0)
        };
        let handler = exec(CtxKind::EventLoop, Frequency::PerRequest, 0);
        let (e, s) = estimate(&with_timeout, &handler);
        assert_eq!((e.worst_ms, s), (Some(5000.0), Severity::Medium));
        assert!(
            e.basis.ends_with("at worst 5.0 s (its `timeout=`)"),
            "{}",
            e.basis
        );
        // The receive loop is never among the repeats: one loop inside it repeats the call.
        let received = exec(CtxKind::RequestLoop, Frequency::PerRequest, 1);
        let (e, _) = estimate(&per(1.0, 4.0), &received);
        assert_eq!((e.low_ms, e.high_ms), (10.0, 40.0));
        // An `async def main()` on the loop runs once: information, whatever it costs.
        let main = exec(CtxKind::EventLoop, Frequency::Once, 0);
        assert_eq!(estimate(&per(2000.0, 2000.0), &main).1, Severity::Info);
        // A lazy 2 s load waits one request, once: medium at most.
        let lazy = exec(CtxKind::Request, Frequency::FirstRequest, 0);
        assert_eq!(estimate(&per(2000.0, 2000.0), &lazy).1, Severity::Medium);
    }

    #[test]
    fn formatting() {
        assert_eq!(fmt_ms(0.01), "10 µs");
        assert_eq!(fmt_ms(150.0), "150 ms");
        assert_eq!(fmt_ms(2500.0), "2.5 s");
        assert_eq!(fmt_range(100.0, 100.0), "100 ms");
    }
}
