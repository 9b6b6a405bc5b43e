//! The cost model: what one call costs, scaled by how its execution repeats it and banded by
//! how often that execution runs.
//!
//! One execution of the finding's path is costed: the catalog's range for one call (or the
//! literal duration of a sleep), times a documented default repetition when loops inside the
//! execution repeat it, banded by its typical value (the geometric mean of the range) when the
//! execution runs per request. What runs once, in the background or in tests is not request
//! latency: it is reported as information.

use crate::facts::{Call, Retry};
use crate::finding::{Estimate, Severity};
use crate::knowledge::catalog::ApiEntry;
use crate::knowledge::endpoints::{Endpoints, Place};
use crate::project::CtxKind;
use crate::project::context::{Execution, Frequency};

pub use super::cost_meta::{CostFrom, CostMeta, Scaling, explain};

/// How many times a loop body is assumed to run per request when nothing says otherwise.
pub const DEFAULT_LOOP_REPETITIONS: f64 = 10.0;

/// The longest one call can wait, as far as the code says.
#[derive(Debug, Clone, PartialEq)]
pub enum Worst {
    /// Nothing bounds or unbounds it beyond its range (a computation, a local file).
    Unstated,
    /// Its cost is a literal duration (a sleep): that is the cost, not a worst case beside it.
    Literal,
    /// The code states a bound: `why` names it (`its \`timeout=\``).
    Bounded { ms: f64, why: String },
    /// It can wait for ever: `why` says what is missing (`no \`timeout=\``).
    Unbounded(String),
}

/// What one call costs, and where the figure comes from.
#[derive(Debug, Clone)]
pub struct PerCall {
    pub low_ms: f64,
    pub high_ms: f64,
    /// What is costed (`requests.get 1 ms–700 ms`, `time.sleep with a literal 2 s`).
    pub what: String,
    /// The figure's source (a calibration script, a cited measurement).
    pub source: String,
    /// The longest one call can wait, where the code states it.
    pub worst: Worst,
    /// The retry loop around the call: one attempt is typical, all of them the worst.
    pub retry: Option<Retry>,
}

impl PerCall {
    /// A catalog entry's range for one call.
    pub fn entry(entry: &ApiEntry) -> PerCall {
        PerCall {
            low_ms: entry.low_ms,
            high_ms: entry.high_ms,
            what: format!("{} {}", entry.name, fmt_range(entry.low_ms, entry.high_ms)),
            source: entry.source.clone(),
            worst: Worst::Unstated,
            retry: None,
        }
    }

    /// A catalog entry's range for this call, from its literal arguments when they say (a
    /// sleep's seconds), with the worst case the code states (a literal `timeout=`, the
    /// socket's `RCVTIMEO`, the retry loop around it).
    pub fn of(entry: &ApiEntry, call: &Call) -> PerCall {
        if entry.arg_seconds.is_some()
            && let Some(s) = call.seconds()
        {
            let ms = s * 1000.0;
            return PerCall {
                low_ms: ms,
                high_ms: ms,
                what: format!("{} with a literal {s} s", entry.name),
                source: entry.source.clone(),
                worst: Worst::Literal,
                retry: call.retry(),
            };
        }
        let worst = if call.nonblocking() {
            Worst::Unstated
        } else if entry.timeout_kw {
            match call.timeout_s() {
                Some(s) => Worst::Bounded {
                    ms: s * 1000.0,
                    why: "its `timeout=`".to_owned(),
                },
                // `**kwargs` may carry one.
                None if call.has_timeout() => Worst::Unstated,
                None => Worst::Unbounded("no `timeout=`".to_owned()),
            }
        } else if entry.rcvtimeo {
            match call.recv_timeout_s() {
                Some(s) if s >= 0.0 => Worst::Bounded {
                    ms: s * 1000.0,
                    why: "the socket's `RCVTIMEO`".to_owned(),
                },
                Some(_) => Worst::Unbounded("its `RCVTIMEO` is -1".to_owned()),
                None => Worst::Unbounded("no `RCVTIMEO` on the socket".to_owned()),
            }
        } else {
            Worst::Unstated
        };
        PerCall {
            worst,
            retry: call.retry(),
            ..PerCall::entry(entry)
        }
    }

    /// This request's range narrowed by where it goes (`data/endpoints.toml`): capped for a
    /// host on this machine or its network, raised to a public host's floor otherwise. `host`
    /// is the destination as shown (`` `localhost` ``).
    pub fn to(self, name: &str, place: Place, host: &str, endpoints: &Endpoints) -> PerCall {
        let (low_ms, high_ms, bound, where_) = match place {
            Place::Local => {
                let cap = endpoints.local.high_ms.unwrap_or(self.high_ms);
                (
                    self.low_ms.min(cap),
                    self.high_ms.min(cap),
                    &endpoints.local,
                    "a local host, the peer's own work not counted",
                )
            }
            Place::Remote => {
                let floor = endpoints.remote.low_ms.unwrap_or(self.low_ms);
                (
                    self.low_ms.max(floor).min(self.high_ms),
                    self.high_ms,
                    &endpoints.remote,
                    "a public host",
                )
            }
        };
        PerCall {
            low_ms,
            high_ms,
            what: format!("{name} to {host} ({where_}) {}", fmt_range(low_ms, high_ms)),
            source: format!("{}; {}", self.source, bound.source),
            ..self
        }
    }

    /// How a part of a larger cost names this call: `` `name` ``, with where it goes when
    /// that narrowed its range (`` `requests.get` to `localhost` (a local host, ...) ``).
    pub fn label(&self, name: &str) -> String {
        let rest = self.what.strip_prefix(name).unwrap_or("");
        let range = fmt_range(self.low_ms, self.high_ms);
        let rest = rest.strip_suffix(range.as_str()).unwrap_or(rest).trim_end();
        if rest.starts_with(" to ") {
            format!("`{name}`{rest}")
        } else {
            format!("`{name}`")
        }
    }

    /// This cost followed by what the code then does with its result (`conn.commit()` after
    /// `sqlite3.connect`): the ranges add up, and so do the worst cases; one that can wait for
    /// ever makes the whole unbounded.
    pub fn then(self, parts: &[(String, PerCall)]) -> PerCall {
        if parts.is_empty() {
            return self;
        }
        let mut sources: Vec<String> = std::iter::once(self.source.clone())
            .chain(parts.iter().map(|(_, p)| p.source.clone()))
            .collect();
        sources.sort_unstable();
        sources.dedup();
        let worst_of = |p: &PerCall| match &p.worst {
            Worst::Bounded { ms, .. } => *ms,
            _ => p.high_ms,
        };
        let all = || std::iter::once(&self).chain(parts.iter().map(|(_, p)| p));
        let worst = if let Some(Worst::Unbounded(why)) = all()
            .map(|p| &p.worst)
            .find(|w| matches!(w, Worst::Unbounded(_)))
        {
            Worst::Unbounded(why.clone())
        } else {
            let whys: Vec<&str> = all()
                .filter_map(|p| match &p.worst {
                    Worst::Bounded { why, .. } => Some(why.as_str()),
                    _ => None,
                })
                .collect();
            if whys.is_empty() {
                Worst::Unstated
            } else {
                Worst::Bounded {
                    ms: all().map(worst_of).sum(),
                    why: whys.join(", "),
                }
            }
        };
        let then: Vec<String> = parts
            .iter()
            .map(|(text, p)| format!("{text} {}", p.range()))
            .collect();
        PerCall {
            low_ms: all().map(|p| p.low_ms).sum(),
            high_ms: all().map(|p| p.high_ms).sum(),
            what: format!("{}, then on it {}", self.what, then.join(" + ")),
            source: sources.join("; "),
            worst,
            retry: self.retry,
        }
    }

    /// This cost repeated `n` times (a follow-on call in a loop that its creation is not in).
    pub fn times(self, n: f64) -> PerCall {
        let worst = match self.worst {
            Worst::Bounded { ms, why } => Worst::Bounded { ms: ms * n, why },
            w => w,
        };
        PerCall {
            low_ms: self.low_ms * n,
            high_ms: self.high_ms * n,
            worst,
            ..self
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
    // A retry loop is one of the loops around the call, but it repeats the call only when an
    // attempt fails: the typical cost is one attempt, the worst case every attempt.
    let retry = per.retry.filter(|_| exec.repeats > 0);
    let repeats = exec.repeats - u8::from(retry.is_some());
    let own_bound = match (exec.bound, retry) {
        (Some(b), Some(r)) => Some(b / r.attempts.max(1)),
        (b, _) => b,
    };
    let (factor, why) = repetition(exec, repeats, own_bound);
    let mut basis = format!("{} per call ({})", per.what, per.source);
    if !why.is_empty() {
        basis.push_str(&format!("; ×{factor} for {why}"));
    }
    basis.push_str(frequency_note(exec));
    if let (Frequency::FirstRequest, Some(memo)) = (exec.frequency, &exec.memo) {
        basis.push_str(&format!(" ({memo})"));
    }
    let worst_ms = match (&per.worst, retry) {
        (Worst::Bounded { ms, why }, None) => {
            basis.push_str(&format!("; at worst {} ({why})", fmt_ms(ms * factor)));
            Some(round(ms * factor))
        }
        (Worst::Literal | Worst::Unstated, None) => None,
        (Worst::Bounded { .. } | Worst::Literal | Worst::Unstated, Some(r)) => {
            let pause = r.backoff_s * 1000.0;
            let (attempt, each) = match &per.worst {
                // The call is the pause itself.
                Worst::Literal => (0.0, format!("{} pause", fmt_ms(pause))),
                Worst::Bounded { ms, why } => (
                    *ms,
                    format!("({} {why} + {} pause)", fmt_ms(*ms), fmt_ms(pause)),
                ),
                _ => (
                    per.high_ms,
                    format!(
                        "({} high of the range + {} pause)",
                        fmt_ms(per.high_ms),
                        fmt_ms(pause)
                    ),
                ),
            };
            let total = f64::from(r.attempts) * (attempt + pause) * factor;
            basis.push_str(&format!(
                "; at worst {} ({} attempts × {each}, its retry loop)",
                fmt_ms(total),
                r.attempts
            ));
            Some(round(total))
        }
        (Worst::Unbounded(why), r) => {
            basis.push_str(&format!("; no bound ({why})"));
            if let Some(r) = r {
                basis.push_str(&format!(
                    ", retried {} times with {} pauses",
                    r.attempts,
                    fmt_ms(r.backoff_s * 1000.0)
                ));
            }
            None
        }
    };
    // A stated bound caps the range (a receive's 30 s placeholder under a 15 s `RCVTIMEO`).
    let high_ms = match &per.worst {
        Worst::Bounded { ms, .. } if *ms < per.high_ms && retry.is_none() => {
            basis.push_str(", which caps the range");
            ms.max(per.low_ms)
        }
        _ => per.high_ms,
    };
    let est = Estimate {
        low_ms: round(per.low_ms * factor),
        high_ms: round(high_ms * factor),
        worst_ms,
        basis,
    };
    let sev = cap(exec.frequency, Severity::from_ms(est.typical_ms()));
    (est, sev)
}

/// How many times the loops around the site, in its function (`repeats` of them, with their
/// literal bound) and around the calls of the chain in its callers, repeat it per execution,
/// and why, for the basis: one rule for all of them — the product of their literal `range`
/// bounds when every one has one, else the default repetition once. Only per-request costs
/// are multiplied.
fn repetition(exec: &Execution, repeats: u8, own_bound: Option<u32>) -> (f64, String) {
    let callers: u32 = exec.fan_out.iter().map(|l| u32::from(l.depth)).sum();
    if !exec.per_request() || u32::from(repeats) + callers == 0 {
        return (1.0, String::new());
    }
    let own = if repeats == 0 { Some(1) } else { own_bound };
    let bounds: Option<Vec<u32>> = std::iter::once(own)
        .chain(exec.fan_out.iter().map(|l| l.bound))
        .collect();
    let shown: Vec<String> = exec
        .fan_out
        .iter()
        .map(|l| {
            let n = l
                .bound
                .map_or_else(|| "n (unknown)".to_owned(), |b| b.to_string());
            format!("× {n} in caller `{}` (line {})", l.function, l.line)
        })
        .collect();
    let callers_text = if shown.is_empty() {
        String::new()
    } else {
        format!(": {}", shown.join(", "))
    };
    match bounds {
        Some(v) => {
            let n: f64 = v.iter().map(|b| f64::from(*b)).product();
            let whose = match (repeats > 0, callers > 0) {
                (true, false) => "the literal `range` bounds of the enclosing loops",
                (false, true) => "the literal `range` bounds of the loops in its callers",
                _ => "the literal `range` bounds of the enclosing loops and those in its callers",
            };
            (n, format!("{whose}{callers_text}"))
        }
        None => (
            DEFAULT_LOOP_REPETITIONS,
            format!(
                "the {} (default repetition, nesting counted once){callers_text}",
                match (repeats > 0, callers > 0) {
                    (true, false) => "enclosing loop",
                    (false, true) => "loops in its callers",
                    _ => "enclosing loops and those in its callers",
                }
            ),
        ),
    }
}

/// Where the cost is paid, for the basis.
fn frequency_note(exec: &Execution) -> &'static str {
    match (exec.kind, exec.frequency) {
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
    }
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

/// The band of a cost paid in a background thread, which `cap` makes information: a few
/// shapes are still worth seeing there (a walk over a whole file system, a model load), because
/// they compete with the requests for the disk, the CPU and the GIL while they run. Repeated on
/// every round of the thread's loop, medium at most; once per thread start, low at most.
pub fn background_band(per: &PerCall, every_round: bool) -> Severity {
    let band = Severity::from_ms(crate::finding::typical_ms(per.low_ms, per.high_ms));
    band.min(if every_round {
        Severity::Medium
    } else {
        Severity::Low
    })
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
            fan_out: Vec::new(),
            serial: false,
            memo: None,
        }
    }

    fn per(low_ms: f64, high_ms: f64) -> PerCall {
        PerCall {
            low_ms,
            high_ms,
            what: "x".into(),
            source: "src".into(),
            worst: Worst::Unstated,
            retry: None,
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
            worst: Worst::Bounded {
                ms: 5000.0,
                why: "its `timeout=`".into(),
            },
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
