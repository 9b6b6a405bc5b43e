//! `memory_leak_candidates.json`: the findings that say memory (or another resource) grows
//! without bound or is held for good — unbounded caches and memos, resources never released,
//! models kept resident — each with what grows, where it grows, how it is reached, and why no
//! eviction or release was found (the rule's message).
//!
//! It is a view of the same findings as `findings.json`, shaped for whoever hunts a leak in
//! production: ranked, and with the container or resource named first.

use std::io::Write;

use serde::Serialize;

use super::json::{SCHEMA_VERSION, Tool};
use super::overview::{Overview, fingerprint};
use crate::audit::AuditReport;
use crate::finding::{ChainStep, Confidence, Finding, Severity};

/// The rules whose findings are leak candidates: PA203 resident models, PA204 unbounded cache,
/// PA205 unbounded `lru_cache`, PA206 resource never released, PA207 unbounded growth.
pub const LEAK_CODES: &[&str] = &["PA203", "PA204", "PA205", "PA206", "PA207"];

pub fn is_leak_candidate(f: &Finding) -> bool {
    LEAK_CODES.contains(&f.code)
}

#[derive(Serialize)]
struct Place<'a> {
    path: &'a str,
    line: u32,
    column: u32,
    function: &'a str,
}

#[derive(Serialize)]
struct Candidate<'a> {
    code: &'static str,
    rule: &'static str,
    severity: Severity,
    confidence: Confidence,
    /// The container or resource, as the code names it.
    resource: &'a str,
    /// Where it grows (or is acquired).
    grows_at: Place<'a>,
    /// How the place is reached, from the entry point.
    chain: &'a [ChainStep],
    services: &'a [String],
    context: &'a str,
    memory_mb: Option<f64>,
    reachable: bool,
    /// Why no service runs the code, when none does (`tooling`, `no-service`, `unreachable`).
    not_run: Option<&'static str>,
    /// Why no bound, eviction or release was found.
    why: &'a str,
    fix: &'a str,
    fingerprint: String,
}

#[derive(Serialize)]
struct Output<'a> {
    schema_version: u32,
    tool: Tool,
    codes: &'static [&'static str],
    candidates: Vec<Candidate<'a>>,
}

pub fn write(report: &AuditReport, w: &mut dyn Write) -> std::io::Result<()> {
    let overview = Overview::new(report);
    let candidates = overview
        .ranked
        .iter()
        .copied()
        .filter(|f| is_leak_candidate(f))
        .map(|f| Candidate {
            code: f.code,
            rule: f.name,
            severity: f.severity,
            confidence: f.confidence,
            resource: &f.snippet,
            grows_at: Place {
                path: &f.path,
                line: f.line,
                column: f.column,
                function: &f.function,
            },
            chain: &f.chain,
            services: &f.agents,
            context: &f.context,
            memory_mb: f.memory_mb,
            reachable: f.reachable,
            not_run: f.not_run.map(|w| w.as_str()),
            why: &f.message,
            fix: &f.help,
            fingerprint: fingerprint(f),
        })
        .collect();
    let out = Output {
        schema_version: SCHEMA_VERSION,
        tool: Tool::PERFAUDIT,
        codes: LEAK_CODES,
        candidates,
    };
    serde_json::to_writer_pretty(&mut *w, &out)?;
    writeln!(w)
}
