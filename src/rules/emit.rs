//! The one reporter: a rule says where (a call site or a hook's candidate), in which execution,
//! at what cost, and what to say; this module fills in the rest of the finding — the estimate
//! and its basis, the band, the chain, the context, the confidence, whether a live entry reaches
//! it — so that every finding carries its basis by construction. Services, suppressions and
//! fingerprints are applied to the findings after the rules, in one place each.

use crate::facts::{Call, Candidate, Resolution};
use crate::finding::{ChainStep, Confidence, Estimate, Finding, Severity};
use crate::project::context::{Execution, Frequency};
use crate::rules::cost::{PerCall, estimate, fmt_range};
use crate::rules::{RuleContext, RuleMeta};

/// Where a finding points.
#[derive(Debug, Clone, Copy)]
pub enum At<'a> {
    Call(&'a Call),
    Candidate(&'a Candidate),
}

/// A finding's cost and band. A latency cost is only made by the cost model from an execution,
/// so its estimate always says where the figure comes from.
#[derive(Debug, Clone)]
pub struct Costed {
    estimate: Option<Estimate>,
    severity: Severity,
    /// The frequency the band was decided at, when the cost model changed it (a first-request
    /// cost of a per-request execution).
    frequency: Option<Frequency>,
}

impl Costed {
    /// `per` for each call, in `exec`: scaled by its repeats and banded by its frequency.
    pub fn latency(per: &PerCall, exec: &Execution) -> Costed {
        let (estimate, severity) = estimate(per, exec);
        Costed {
            estimate: Some(estimate),
            severity,
            frequency: None,
        }
    }

    /// `per` paid once per process by the first request that reaches it (a lazy load, a cold
    /// import: the loops around it do not repeat it), banded as that request's wait but never
    /// above medium; `how` says who pays it.
    pub fn first_request(per: &PerCall, exec: &Execution, how: &str) -> Costed {
        Costed::paid_by(per, exec, Frequency::FirstRequest, how)
    }

    /// `per` paid once by the request that does it on a request path, at `frequency` instead
    /// of every request's (the first request's lazy load, the request that swaps a shared
    /// model): the loops around it do not repeat it; `how` says who pays it.
    pub fn paid_by(per: &PerCall, exec: &Execution, frequency: Frequency, how: &str) -> Costed {
        let frequency = if exec.per_request() {
            frequency
        } else {
            exec.frequency
        };
        let once = Execution {
            repeats: 0,
            fan_out: Vec::new(),
            frequency,
            ..exec.clone()
        };
        let (mut estimate, severity) = estimate(per, &once);
        estimate.basis = format!("{} ({}); {how}", per.what, per.source);
        Costed {
            estimate: Some(estimate),
            severity,
            frequency: Some(frequency),
        }
    }

    /// A finding that costs no request time (memory, disk growth, a missing timeout): banded by
    /// the rule's own measure, with no latency estimate.
    pub fn band(severity: Severity) -> Costed {
        Costed {
            estimate: None,
            severity,
            frequency: None,
        }
    }

    /// The same latency, banded otherwise: the rule's measure decides the band (a hang's
    /// severity by where it happens, a first-request load).
    pub fn banded(self, severity: Severity) -> Costed {
        Costed { severity, ..self }
    }

    /// The estimated range as text, for messages (`10 ms–7 s`).
    pub fn range(&self) -> String {
        self.estimate
            .as_ref()
            .map_or_else(String::new, |e| fmt_range(e.low_ms, e.high_ms))
    }
}

/// What a rule reports: the site, its execution and its cost; `RuleContext::emit` adds what
/// the rule says about it.
pub struct Hotspot<'a> {
    pub module: usize,
    pub at: At<'a>,
    pub exec: &'a Execution,
    pub cost: Costed,
}

impl<'a> Hotspot<'a> {
    pub fn call(module: usize, call: &'a Call, exec: &'a Execution, cost: Costed) -> Self {
        Hotspot {
            module,
            at: At::Call(call),
            exec,
            cost,
        }
    }

    pub fn candidate(module: usize, c: &'a Candidate, exec: &'a Execution, cost: Costed) -> Self {
        Hotspot {
            module,
            at: At::Candidate(c),
            exec,
            cost,
        }
    }
}

impl RuleContext<'_> {
    /// The hotspot's chain, continued into the installed library its call enters when the
    /// call's catalog entry was made for it (`deps`): those frames are marked as library.
    fn chain_into_libraries(&self, h: &Hotspot) -> Vec<ChainStep> {
        let mut chain = h.exec.chain.clone();
        if let At::Call(c) = h.at
            && let Some(api) = c.api
        {
            chain.extend(self.catalog.get(api).through.iter().map(|f| ChainStep {
                path: f.path.clone(),
                line: f.line,
                function: f.function.clone(),
                entry: None,
                via: None,
                library: true,
            }));
        }
        chain
    }

    /// The finding for a hotspot, with the rule's message and help.
    pub fn emit(
        &self,
        meta: &'static RuleMeta,
        h: Hotspot,
        message: String,
        help: String,
    ) -> Finding {
        let m = &self.project.modules[h.module];
        let chain = self.chain_into_libraries(&h);
        let (func, (line, column, end_line, end_column), snippet, inferred) = match h.at {
            At::Call(c) => (
                c.func,
                (c.line, c.column, c.end_line(), c.end_column()),
                c.target.as_str(),
                c.resolution == Resolution::Inferred,
            ),
            At::Candidate(c) => (
                c.func,
                (c.line, c.column, c.end_line, c.end_column),
                c.text.as_str(),
                false,
            ),
        };
        let confidence = if inferred {
            h.exec.confidence.min(Confidence::Probable)
        } else {
            h.exec.confidence
        };
        Finding {
            code: meta.code,
            name: meta.name,
            severity: h.cost.severity,
            confidence,
            path: m.path.clone(),
            line,
            column,
            end_line,
            end_column,
            function: m.functions[func as usize].qualname.clone(),
            context: h.exec.kind.as_str().to_owned(),
            frequency: Some(h.cost.frequency.unwrap_or(h.exec.frequency)),
            estimate: h.cost.estimate,
            memory_mb: None,
            chain,
            agents: Vec::new(),
            reachable: self.project.is_reachable(h.module, func),
            message,
            help,
            snippet: snippet.to_owned(),
            not_run: None,
            copies: Vec::new(),
            occurrence: 0,
        }
    }
}
