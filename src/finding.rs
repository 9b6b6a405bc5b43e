//! The one finding type that every rule emits and every report format consumes.
//!
//! Rules never format output; emitters never decide what is a hotspot. Everything a report says
//! about a hotspot (where, why, how sure, how costly, which services) lives here.

use serde::{Deserialize, Serialize};

/// Severity bands. Ordered from least to most severe so that `>=` means "at least as bad".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The band for a cost of one execution, in milliseconds: critical >1 s, high 100 ms–1 s,
    /// medium 10–100 ms, low below.
    pub fn from_ms(ms: f64) -> Severity {
        if ms > 1000.0 {
            Severity::Critical
        } else if ms >= 100.0 {
            Severity::High
        } else if ms >= 10.0 {
            Severity::Medium
        } else {
            Severity::Low
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// How sure perfaudit is that the finding is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Possible,
    Probable,
    Definite,
}

/// How often code runs, from the point of view of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Frequency {
    /// Once per request a service receives: a request handler, a receive loop, what they call.
    PerRequest,
    /// Once per session a framework starts (a call, a conversation, a voice-agent job): the
    /// user waits for it when the session starts. Banded like a request.
    PerSession,
    /// On the event loop, every time an `async def` runs that no known entry (handler, receive
    /// loop, startup) reaches: a task, a callback, a public coroutine of a library. It may run
    /// per request or once an hour: banded as request latency, but never above medium.
    PerCall,
    /// On a request path, but only after an exception: an error branch, a retry after a
    /// failure, an idle poll (`except zmq.Again`). Banded as request latency, medium at most.
    PerFailure,
    /// On a request path, but only when an `if` holds that then skips to the next iteration
    /// (back-pressure, an idle wait, rate limiting), or that tests an optional parameter the
    /// caller left out (`if p is None:`). Medium at most.
    Conditional,
    /// Once per process, paid by the first request that reaches it: a lazy load behind a
    /// "not loaded yet" guard, a memoised call, a cold import inside a handler.
    FirstRequest,
    /// Every round of a loop that runs for the life of the process without receiving requests:
    /// polling, a periodic job, a client loop.
    Periodic,
    /// Once per process: startup code, `main`, what module-level code calls.
    Once,
    /// Off the request path: a thread target, a scheduled job.
    Background,
    /// Tests.
    Tooling,
}

impl Frequency {
    /// Whether a cost paid at this frequency is request latency, banded by its size.
    pub fn per_request(self) -> bool {
        matches!(
            self,
            Frequency::PerRequest
                | Frequency::PerSession
                | Frequency::PerCall
                | Frequency::PerFailure
                | Frequency::Conditional
        )
    }
}

/// The floor a zero low end of a range is taken at when banding (1 µs).
pub const ZERO_FLOOR_MS: f64 = 0.001;

/// The representative value of a range (`Estimate::typical_ms`).
pub fn typical_ms(low_ms: f64, high_ms: f64) -> f64 {
    if high_ms <= 0.0 {
        return 0.0;
    }
    (low_ms.max(ZERO_FLOOR_MS) * high_ms).sqrt()
}

/// A latency estimate for one execution of the finding's path, with where the numbers come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub low_ms: f64,
    pub high_ms: f64,
    /// The longest one execution can take where the code states it (a literal `timeout=`),
    /// scaled like the range; absent when the code states no bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst_ms: Option<f64>,
    /// Human-readable derivation: the catalog entry and its source, and the context factor.
    pub basis: String,
}

impl Estimate {
    /// The representative value used for banding: the geometric mean of the range, so that a
    /// wide range is neither inflated to its top nor deflated to its floor.
    /// A range with a zero floor ("returns at once, or waits up to a minute") is taken from a
    /// 1 µs floor: its arithmetic mean would band a call that usually returns at once by half
    /// of its worst case.
    pub fn typical_ms(&self) -> f64 {
        typical_ms(self.low_ms, self.high_ms)
    }
}

/// Why a finding is in code that no service runs: reported in its own section, never among the
/// hotspots, in the totals or in the exit code (unless `--include-not-run` is given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotRun {
    /// Tests, scripts, examples, docs, benchmarks, backup or retired copies: code that a
    /// developer runs, not a service (the execution query's `tooling` frequency).
    Tooling,
    /// Services are declared, and none of them reaches this code from its entry module.
    NoService,
    /// No entry point at all reaches the code (dead code, or a call the analysis cannot see).
    Unreachable,
}

impl NotRun {
    pub fn as_str(self) -> &'static str {
        match self {
            NotRun::Tooling => "tooling",
            NotRun::NoService => "no-service",
            NotRun::Unreachable => "unreachable",
        }
    }

    /// The reason in words, to follow "N findings": `in tests, …`, `that no … reaches`.
    pub fn reason(self) -> &'static str {
        match self {
            NotRun::Tooling => "in tests, scripts, examples, docs or backup copies",
            NotRun::NoService => "that no declared service reaches",
            NotRun::Unreachable => "that no entry point reaches",
        }
    }

    pub const ALL: [NotRun; 3] = [NotRun::Tooling, NotRun::NoService, NotRun::Unreachable];
}

/// Another place of the same finding in a near-identical copy of its module (a service copied
/// under `backups/`, `old/` or another folder): listed with the finding, not a row of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyPlace {
    pub path: String,
    pub line: u32,
    pub severity: Severity,
    /// Why the copy is not run by any service; `None` when a service runs it too.
    pub not_run: Option<NotRun>,
}

/// One step of the call chain from an entry point to the costly call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainStep {
    pub path: String,
    pub line: u32,
    pub function: String,
    /// On the first step, when a framework profile makes it an entry: what the framework runs
    /// it as ("Home Assistant entity action", "FastAPI route").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// When this step's call is one Python makes without `f()` at the site: how the code
    /// wrote it (`with FileLock()`, `for row in Reader()`, `self.model`, `handlers[action]()`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// A frame inside an installed library (`path` is then relative to its site-packages):
    /// the chain continues there from the project's call to the blocking call inside.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub library: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub confidence: Confidence,
    /// Path relative to the audited root, with `/` separators.
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// Qualified name of the enclosing function (`Class.method`), or `<module>`.
    pub function: String,
    /// Execution context that decided the severity (e.g. `event-loop`, `request-loop`).
    pub context: String,
    /// How often that code runs (`None` for findings about a file, not an execution).
    pub frequency: Option<Frequency>,
    pub estimate: Option<Estimate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<f64>,
    pub chain: Vec<ChainStep>,
    pub agents: Vec<String>,
    pub reachable: bool,
    /// Why no service runs this code (`None`: live code, a hotspot like any other).
    pub not_run: Option<NotRun>,
    /// The same finding in near-identical copies of its module, when this is the copy chosen
    /// to stand for them all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub copies: Vec<CopyPlace>,
    pub message: String,
    pub help: String,
    /// Normalised source text of the costly call, for fingerprints that survive line shifts.
    #[serde(skip)]
    pub snippet: String,
    /// How many findings before this one (in line order) share its code, path, function and
    /// snippet: two `time.sleep(1)` in one function are two findings with two fingerprints.
    #[serde(skip)]
    pub occurrence: u32,
}

impl Finding {
    /// Deterministic order: path, line, column, code.
    pub fn sort_key(&self) -> (&str, u32, u32, &str) {
        (&self.path, self.line, self.column, self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typical_is_the_geometric_mean_with_a_floor_for_zero() {
        assert_eq!(typical_ms(1.0, 100.0), 10.0);
        // "At once, or up to a minute" is not 30 s typically: the floor is 1 µs.
        assert!((typical_ms(0.0, 60_000.0) - 60f64.sqrt()).abs() < 1e-9);
        assert_eq!(Severity::from_ms(typical_ms(0.0, 60_000.0)), Severity::Low);
        assert_eq!(typical_ms(0.0, 0.0), 0.0);
    }
}
