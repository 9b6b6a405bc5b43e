//! SARIF 2.1.0 output (`report.sarif`), for code-scanning dashboards: one run whose driver lists
//! every rule with its documentation, and one result per finding with its location, its call
//! chain as a code flow, the cost model's numbers as properties, and a partial fingerprint that
//! survives line shifts so that dashboards keep tracking a finding when code moves.
//!
//! The serde structs are private and cover only what perfaudit emits; the test suite validates
//! the output against the official 2.1.0 schema.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::overview::{category_name, cost_text, fingerprint};
use crate::audit::AuditReport;
use crate::finding::{Confidence, Finding, Severity};
use crate::rules::RULES;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";
/// The key of our fingerprint in `partialFingerprints`; the suffix versions the algorithm.
pub const FINGERPRINT_KEY: &str = "perfaudit/v1";

/// SARIF levels: critical and high fail a scan, medium warns, low and info are notes.
pub fn level(severity: Severity) -> &'static str {
    level_of(severity, true)
}

/// The level of a finding: code that no service runs never fails a run (see
/// `AuditReport::worst`), so its findings are notes whatever their band.
pub fn level_of(severity: Severity, live: bool) -> &'static str {
    if !live {
        return "note";
    }
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    invocations: [Invocation; 1],
    original_uri_base_ids: BTreeMap<&'static str, BaseUri>,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
    properties: RunProperties,
}

/// Whether the audit covered every file: a file whose analysis failed makes the run
/// unsuccessful, with one error notification per such file.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Message,
    locations: [NotificationLocation; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationLocation {
    physical_location: ArtifactOnly,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactOnly {
    artifact_location: ArtifactLocation,
}

/// The counts every format shows (`report::summary`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties {
    hotspots: usize,
    hotspots_by_severity: super::json::BySeverity,
    syntax: usize,
    not_run: usize,
    copies: usize,
    files_scanned: usize,
    files_unparsable: usize,
    files_failed: usize,
}

#[derive(Serialize)]
struct BaseUri {
    description: Message,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Descriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    id: String,
    name: String,
    short_description: Message,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_description: Option<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<MultiformatMessage>,
    /// The rule's page (`docs/rules/`); none for a rule this build does not list.
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: Configuration,
    properties: DescriptorProperties,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DescriptorProperties {
    category: &'static str,
    default_severity: Severity,
    tags: [&'static str; 2],
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
struct MultiformatMessage {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: [Location; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    code_flows: Vec<CodeFlow>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeFlow {
    message: Message,
    thread_flows: [ThreadFlow; 1],
}

#[derive(Serialize)]
struct ThreadFlow {
    locations: Vec<ThreadFlowLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ThreadFlowLocation {
    location: Location,
    nesting_level: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Estimate<'a> {
    low_ms: f64,
    high_ms: f64,
    basis: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    severity: Severity,
    confidence: Confidence,
    /// The confidence in the words code-scanning tools use (GitHub's `precision`).
    precision: &'static str,
    category: &'static str,
    context: &'a str,
    function: &'a str,
    reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    estimate: Option<Estimate<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory_mb: Option<f64>,
    agents: &'a [String],
}

/// SARIF `precision` from a finding's confidence: a chain resolved statically is high, one
/// resting on an inferred type medium, a unique-name match low.
pub fn precision(c: Confidence) -> &'static str {
    match c {
        Confidence::Definite => "high",
        Confidence::Probable => "medium",
        Confidence::Possible => "low",
    }
}

/// The text of one `## Heading` section of a rule's documentation.
pub fn doc_section<'a>(doc: &'a str, heading: &str) -> Option<&'a str> {
    let marker = format!("## {heading}\n");
    let start = doc.find(&marker)? + marker.len();
    let rest = &doc[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// A path relative to the audited root as a relative URI reference: every byte outside the
/// unreserved set and `/` is percent-encoded, so spaces, `#` and non-ASCII names stay valid.
pub fn relative_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn descriptors(report: &AuditReport) -> Vec<Descriptor> {
    let mut rules: Vec<Descriptor> = RULES
        .iter()
        .map(|r| {
            let m = r.meta();
            Descriptor {
                id: m.code.to_owned(),
                name: m.name.to_owned(),
                short_description: Message {
                    text: m.summary.to_owned(),
                },
                full_description: doc_section(m.doc, "What it does")
                    .map(|t| Message { text: t.to_owned() }),
                help: Some(MultiformatMessage {
                    text: m.doc.trim().to_owned(),
                    markdown: m.doc.trim().to_owned(),
                }),
                help_uri: Some(super::rule_docs::page_url(m.code)),
                default_configuration: Configuration {
                    level: level(m.default_severity),
                },
                properties: DescriptorProperties {
                    category: m.category.as_str(),
                    default_severity: m.default_severity,
                    tags: ["performance", m.category.as_str()],
                },
            }
        })
        .collect();
    // A finding of a rule this build does not list (merged from another version, or built by
    // hand) still needs a descriptor for its `ruleIndex` to point at.
    let mut extra: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in &report.findings {
        if !rules.iter().any(|d| d.id == f.code) {
            extra.entry(f.code).or_insert(f);
        }
    }
    for (code, f) in extra {
        let category = category_name(code);
        rules.push(Descriptor {
            id: code.to_owned(),
            name: f.name.to_owned(),
            short_description: Message {
                text: f.name.to_owned(),
            },
            full_description: None,
            help: None,
            help_uri: None,
            default_configuration: Configuration {
                level: level(f.severity),
            },
            properties: DescriptorProperties {
                category,
                default_severity: f.severity,
                tags: ["performance", category],
            },
        });
    }
    rules
}

fn region(line: u32, column: u32, end_line: u32, end_column: u32) -> Region {
    let start_line = line.max(1);
    let start_column = column.max(1);
    let end_line = end_line.max(start_line);
    let end_column = if end_line == start_line {
        end_column.max(start_column)
    } else {
        end_column.max(1)
    };
    Region {
        start_line,
        start_column: Some(start_column),
        end_line: Some(end_line),
        end_column: Some(end_column),
    }
}

/// The audited root relative to the repository that holds it, as a `dir/` prefix: SARIF
/// consumers (GitHub code scanning) resolve paths against the repository root, so an audit of
/// a sub-folder must still name `pkg/mod.py`, not `mod.py`. The repository is the closest
/// ancestor with a `.git` (a directory, or a file in a worktree); without one, paths stay
/// relative to the audited root.
pub fn repository_prefix(root: &Path) -> String {
    let Ok(root) = std::fs::canonicalize(root) else {
        return String::new();
    };
    let Some(repo) = root.ancestors().find(|d| d.join(".git").exists()) else {
        return String::new();
    };
    match root.strip_prefix(repo) {
        Ok(rel) if !rel.as_os_str().is_empty() => {
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            format!("{}/", rel.join("/"))
        }
        _ => String::new(),
    }
}

/// A location under `%SRCROOT%`; `prefix` is the audited root's `repository_prefix`.
/// The base of library frames' paths: the environment's site-packages, outside the sources.
const SITE_PACKAGES: &str = "SITEPACKAGES";

fn artifact(prefix: &str, path: &str) -> ArtifactLocation {
    ArtifactLocation {
        uri: relative_uri(&format!("{prefix}{path}")),
        uri_base_id: SRCROOT,
    }
}

fn code_flows(f: &Finding, prefix: &str) -> Vec<CodeFlow> {
    if f.chain.len() <= 1 {
        return Vec::new();
    }
    let locations = f
        .chain
        .iter()
        .enumerate()
        .map(|(i, step)| ThreadFlowLocation {
            location: Location {
                physical_location: PhysicalLocation {
                    artifact_location: if step.library {
                        ArtifactLocation {
                            uri: relative_uri(&step.path),
                            uri_base_id: SITE_PACKAGES,
                        }
                    } else {
                        artifact(prefix, &step.path)
                    },
                    region: Region {
                        start_line: step.line.max(1),
                        start_column: None,
                        end_line: None,
                        end_column: None,
                    },
                },
                logical_locations: Vec::new(),
                message: Some(Message {
                    text: match (&step.via, step.library) {
                        (Some(via), _) => format!("{} (`{via}`)", step.function),
                        (None, true) => format!("{} (library)", step.function),
                        (None, false) => step.function.clone(),
                    },
                }),
            },
            nesting_level: i,
        })
        .collect();
    vec![CodeFlow {
        message: Message {
            text: format!("Reached through {}", super::overview::chain_short(f)),
        },
        thread_flows: [ThreadFlow { locations }],
    }]
}

fn result<'a>(f: &'a Finding, rules: &[Descriptor], prefix: &str) -> SarifResult<'a> {
    let rule_index = rules.iter().position(|d| d.id == f.code).unwrap_or(0);
    let mut text = f.message.clone();
    if f.estimate.is_some() {
        text.push_str(&format!(
            " [{}, ~{} per execution, {}]",
            f.severity.as_str(),
            cost_text(f),
            f.context
        ));
    }
    if let Some(why) = f.not_run {
        text.push_str(&format!(" (not run by any service: code {})", why.reason()));
    }
    if !f.copies.is_empty() {
        let places: Vec<String> = f.copies.iter().map(super::overview::copy_text).collect();
        text.push_str(&format!(" (also in copies: {})", places.join(", ")));
    }
    SarifResult {
        rule_id: f.code,
        rule_index,
        level: level_of(f.severity, f.not_run.is_none()),
        message: Message { text },
        locations: [Location {
            physical_location: PhysicalLocation {
                artifact_location: artifact(prefix, &f.path),
                region: region(f.line, f.column, f.end_line, f.end_column),
            },
            logical_locations: vec![LogicalLocation {
                fully_qualified_name: f.function.clone(),
                kind: if f.function == "<module>" {
                    "module"
                } else {
                    "function"
                },
            }],
            message: None,
        }],
        code_flows: code_flows(f, prefix),
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fingerprint(f))]),
        properties: ResultProperties {
            severity: f.severity,
            confidence: f.confidence,
            precision: precision(f.confidence),
            category: category_name(f.code),
            context: &f.context,
            function: &f.function,
            reachable: f.reachable,
            estimate: f.estimate.as_ref().map(|e| Estimate {
                low_ms: e.low_ms,
                high_ms: e.high_ms,
                basis: &e.basis,
            }),
            memory_mb: f.memory_mb,
            agents: &f.agents,
        },
    }
}

fn invocation(report: &AuditReport, prefix: &str) -> Invocation {
    Invocation {
        execution_successful: report.failed.is_empty(),
        tool_execution_notifications: report
            .failed
            .iter()
            .map(|path| Notification {
                level: "error",
                message: Message {
                    text: "internal error while analysing this file; it was left out".to_owned(),
                },
                locations: [NotificationLocation {
                    physical_location: ArtifactOnly {
                        artifact_location: artifact(prefix, path),
                    },
                }],
            })
            .collect(),
    }
}

pub fn write(report: &AuditReport, w: &mut dyn Write) -> std::io::Result<()> {
    let s = super::summary::Summary::new(report);
    let rules = descriptors(report);
    let prefix = repository_prefix(&report.root);
    let results = report
        .findings
        .iter()
        .map(|f| result(f, &rules, &prefix))
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "perfaudit",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            invocations: [invocation(report, &prefix)],
            original_uri_base_ids: BTreeMap::from([(
                SRCROOT,
                BaseUri {
                    description: Message {
                        text: "The root of the repository that holds the audited code (the \
                               closest folder with a .git), or the audited root outside a \
                               repository; result paths are relative to it."
                            .to_owned(),
                    },
                },
            )]),
            column_kind: "unicodeCodePoints",
            results,
            properties: RunProperties {
                hotspots: s.hotspots,
                hotspots_by_severity: super::json::by_severity(s.bands),
                syntax: s.syntax,
                not_run: s.not_run,
                copies: s.copies,
                files_scanned: s.files_scanned,
                files_unparsable: s.files_unparsable,
                files_failed: s.files_failed,
            },
        }],
    };
    serde_json::to_writer_pretty(&mut *w, &log)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(relative_uri("agents/a b.py"), "agents/a%20b.py");
        assert_eq!(relative_uri("x#1/é.py"), "x%231/%C3%A9.py");
    }

    #[test]
    fn sections_are_cut_at_the_next_heading() {
        let doc = "## What it does\nFinds X.\n\n## Why is this slow?\nBecause.\n";
        assert_eq!(doc_section(doc, "What it does"), Some("Finds X."));
        assert_eq!(doc_section(doc, "Why is this slow?"), Some("Because."));
        assert_eq!(doc_section(doc, "Example"), None);
    }
}
