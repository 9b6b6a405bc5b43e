//! Report formats: every emitter on one shared fixture report, pinned by snapshots; the JSON
//! and SARIF outputs validated against their schemas; CSV read back; hostile audited code kept
//! inert in HTML, CSV and GitHub annotations; `--output-dir` writing the whole audit.
//!
//! The fixture report is `tests/fixtures/projects/report_fixture` audited with the PA0/PA1
//! rules (so rules still being written cannot change it), plus hand-made findings of the codes
//! whose rules do not exist yet, pointing at real lines of the fixture's `cache.py`.

use std::path::{Path, PathBuf};
use std::process::Command;

use perfaudit::audit::AuditReport;
use perfaudit::finding::{ChainStep, Confidence, Estimate, Finding, Frequency, Severity};
use perfaudit::report;
use perfaudit::settings::Format;
use perfaudit::testing::audit_paths;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_root() -> PathBuf {
    manifest_dir().join("tests/fixtures/projects/report_fixture")
}

fn step(path: &str, line: u32, function: &str) -> ChainStep {
    ChainStep {
        path: path.to_owned(),
        line,
        function: function.to_owned(),
        entry: None,
        via: None,
        library: false,
    }
}

/// A finding as a rule would build it; tests override what they need.
fn finding(code: &'static str, name: &'static str, line: u32, function: &str) -> Finding {
    Finding {
        code,
        name,
        severity: Severity::Medium,
        confidence: Confidence::Probable,
        path: "cache.py".to_owned(),
        line,
        column: 5,
        end_line: line,
        end_column: 30,
        function: function.to_owned(),
        context: "request".to_owned(),
        frequency: Some(Frequency::PerRequest),
        estimate: None,
        memory_mb: None,
        chain: vec![step("cache.py", line, function)],
        agents: vec!["web".to_owned()],
        reachable: true,
        message: String::new(),
        help: String::new(),
        snippet: String::new(),
        not_run: None,
        copies: Vec::new(),
        occurrence: 0,
    }
}

/// Findings of rules that are still being written (memory, CPU, pooling, caching).
fn hand_made() -> Vec<Finding> {
    vec![
        Finding {
            severity: Severity::High,
            confidence: Confidence::Definite,
            context: "startup".to_owned(),
            frequency: Some(Frequency::Once),
            memory_mb: Some(6144.0),
            chain: Vec::new(),
            agents: vec!["worker".to_owned()],
            message: "whisper large-v3 stays resident for the life of the process (~6 GB)"
                .to_owned(),
            help: "Load the model in one service and share it, or load a smaller model.".to_owned(),
            snippet: "whisper.load_model".to_owned(),
            not_run: None,
            copies: Vec::new(),
            occurrence: 0,
            column: 9,
            end_column: 39,
            ..finding("PA203", "resident-models", 10, "<module>")
        },
        Finding {
            memory_mb: Some(512.0),
            chain: vec![
                step("api.py", 27, "checkout"),
                step("cache.py", 14, "remember"),
            ],
            message: "`RESPONSES` grows with every distinct key and nothing ever deletes from it"
                .to_owned(),
            help: "Bound it: `cachetools.LRUCache(maxsize=...)` or a TTL cache.".to_owned(),
            snippet: "RESPONSES".to_owned(),
            not_run: None,
            copies: Vec::new(),
            occurrence: 0,
            ..finding("PA204", "unbounded-cache", 14, "remember")
        },
        Finding {
            memory_mb: Some(64.0),
            agents: vec!["worker".to_owned()],
            line: 17,
            end_line: 17,
            column: 2,
            end_column: 35,
            message: "`lru_cache(maxsize=None)` on `tokens` keeps every distinct text forever"
                .to_owned(),
            help: "Give it a bound: `functools.lru_cache(maxsize=1024)`.".to_owned(),
            snippet: "functools.lru_cache".to_owned(),
            not_run: None,
            copies: Vec::new(),
            occurrence: 0,
            ..finding("PA205", "unbounded-lru-cache", 17, "tokens")
        },
        Finding {
            severity: Severity::Low,
            agents: vec!["web".to_owned(), "worker".to_owned()],
            estimate: Some(Estimate {
                worst_ms: None,
                low_ms: 0.01,
                high_ms: 0.1,
                basis: "open 10 µs–100 µs per call (fixture)".to_owned(),
            }),
            message: "the file opened by `open` is never closed: one descriptor leaks per call"
                .to_owned(),
            help: "Use `with open(...) as fh:`.".to_owned(),
            snippet: "open".to_owned(),
            not_run: None,
            copies: Vec::new(),
            occurrence: 0,
            column: 10,
            end_column: 33,
            ..finding("PA206", "resource-never-released", 23, "append_log")
        },
        Finding {
            severity: Severity::Low,
            estimate: Some(Estimate {
                worst_ms: None,
                low_ms: 1.0,
                high_ms: 5.0,
                basis: "list membership per row (fixture); paid on every request".to_owned(),
            }),
            message: "`in pinned_ids` scans a list for every row".to_owned(),
            help: "Make `pinned_ids` a set once, before the loop.".to_owned(),
            snippet: "pinned_ids".to_owned(),
            not_run: None,
            copies: Vec::new(),
            occurrence: 0,
            ..finding("PA302", "list-membership-in-loop", 28, "pinned")
        },
        Finding {
            severity: Severity::Low,
            estimate: Some(Estimate {
                worst_ms: None,
                low_ms: 0.5,
                high_ms: 1.0,
                basis: "requests.Session (fixture); paid on every request".to_owned(),
            }),
            message: "a new `requests.Session` per call discards connection pooling".to_owned(),
            help: "Create one session per process and reuse it.".to_owned(),
            snippet: "requests.Session".to_owned(),
            not_run: None,
            copies: Vec::new(),
            occurrence: 0,
            ..finding("PA401", "client-per-request", 32, "fetch")
        },
        Finding {
            severity: Severity::Medium,
            reachable: false,
            estimate: Some(Estimate {
                worst_ms: None,
                low_ms: 10.0,
                high_ms: 40.0,
                basis: "yaml.safe_load (fixture); paid on every request".to_owned(),
            }),
            message: "`settings.yaml` is read and parsed on every call".to_owned(),
            help: "Load it once at startup and keep the result.".to_owned(),
            snippet: "yaml.safe_load".to_owned(),
            not_run: Some(perfaudit::finding::NotRun::Unreachable),
            copies: Vec::new(),
            occurrence: 0,
            ..finding("PA501", "config-reload-per-request", 38, "settings")
        },
    ]
}

fn fixture_report() -> AuditReport {
    let mut report = audit_paths(&[&fixture_root()], &["PA0", "PA1"]);
    report.elapsed_ms = 0;
    report.findings.extend(hand_made());
    report
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    report
}

fn example_report() -> AuditReport {
    audit_paths(&[&manifest_dir().join("examples/agent_system")], &[])
}

fn render(report: &AuditReport, format: Format) -> String {
    let mut out = Vec::new();
    report::write(report, format, &report::Options::default(), &mut out).expect("render");
    String::from_utf8(out).expect("utf-8")
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json")
}

fn assert_invalid(schema: &serde_json::Value, instance: &serde_json::Value, what: &str) {
    let validator = jsonschema::validator_for(schema).expect("schema compiles");
    assert!(!validator.is_valid(instance), "{what} passes its schema");
}

fn assert_valid(schema: &serde_json::Value, instance: &serde_json::Value, what: &str) {
    let validator = jsonschema::validator_for(schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} fails its schema:\n{}",
        errors.join("\n")
    );
}

#[test]
fn fixture_finds_what_the_snapshots_assume() {
    let report = fixture_report();
    let codes: Vec<&str> = report.findings.iter().map(|f| f.code).collect();
    assert!(codes.contains(&"PA001"), "broken.py must be reported");
    assert!(codes.iter().filter(|c| **c == "PA101").count() >= 3);
    assert!(report.findings.iter().any(|f| !f.reachable));
    assert!(report.findings.iter().any(|f| f.chain.len() > 1));
    assert_eq!(report.services.len(), 2, "Procfile declares web and worker");
}

#[test]
fn markdown_snapshot() {
    let md = render(&fixture_report(), Format::Markdown);
    let sections: Vec<&str> = md.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(
        sections,
        [
            "## Executive summary",
            "## Hotspot ranking",
            "## Memory",
            "## CPU",
            "## Resource pooling",
            "## Caching",
            "## Action items",
            "## Worst request path per entry point",
            "## Services",
            "## Files that did not parse",
            "## Not run by any service",
            "## Artefacts",
        ]
    );
    insta::assert_snapshot!(md);
}

#[test]
fn text_snapshot() {
    insta::assert_snapshot!(render(&fixture_report(), Format::Text));
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!(render(&fixture_report(), Format::Json));
}

#[test]
fn leak_candidates_snapshot() {
    let out = render(&fixture_report(), Format::LeakCandidates);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    let codes: Vec<&str> = value["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    // Ranked: the high PA203 first, the low PA206 last; PA302/PA401/PA501 are not leaks.
    assert_eq!(codes, ["PA203", "PA204", "PA205", "PA206"]);
    assert_eq!(value["candidates"][1]["resource"], "RESPONSES");
    assert_eq!(value["candidates"][1]["grows_at"]["function"], "remember");
    insta::assert_snapshot!(out);
}

#[test]
fn csv_snapshot_and_round_trip() {
    let report = fixture_report();
    let out = render(&report, Format::Csv);
    assert!(out.contains("\r\n"), "RFC 4180 line ends");
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, perfaudit::report::csv::HEADER);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), report.findings.len());
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], (i + 1).to_string(), "ranks are 1..n in order");
        let f = report
            .findings
            .iter()
            .find(|f| f.path == row[5] && f.line.to_string() == row[6] && f.code == &row[2])
            .expect("every row is a finding");
        assert_eq!(&row[1], f.severity.as_str());
        assert_eq!(row[7], f.function);
        assert_eq!(row[13], f.reachable.to_string());
        assert_eq!(&row[14], f.not_run.map_or("", |w| w.as_str()));
        assert_eq!(row[17], f.message);
        assert_eq!(row[18], f.help);
    }
    let severities: Vec<Severity> = rows
        .iter()
        .map(|r| Severity::parse(&r[1]).unwrap())
        .collect();
    assert!(
        severities.windows(2).all(|w| w[0] >= w[1]),
        "ranked by severity first"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn csv_neutralises_formula_cells() {
    let mut report = fixture_report();
    report.findings = vec![Finding {
        function: "=HYPERLINK(\"http://evil.invalid\",\"click\")".to_owned(),
        message: "=cmd|' /C calc'!A0".to_owned(),
        help: "+1".to_owned(),
        agents: vec!["@svc".to_owned()],
        ..finding("PA204", "unbounded-cache", 14, "remember")
    }];
    let out = render(&report, Format::Csv);
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[4], "'@svc");
    assert_eq!(&row[7], "'=HYPERLINK(\"http://evil.invalid\",\"click\")");
    assert_eq!(&row[17], "'=cmd|' /C calc'!A0");
    assert_eq!(&row[18], "'+1");
    for cell in row.iter() {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "cell `{cell}` would be evaluated"
        );
    }
}

#[test]
fn github_snapshot_and_escaping() {
    let out = render(&fixture_report(), Format::Github);
    for line in out.lines() {
        assert!(
            line.starts_with("::error file=")
                || line.starts_with("::warning file=")
                || line.starts_with("::notice file=")
                || line.starts_with("::notice title=perfaudit summary::"),
            "{line}"
        );
    }
    assert!(out.contains(
        "file=tests/fixtures/projects/report_fixture/jobs.py,line=13,col=9,endLine=13,endColumn=22,\
         title=PA101 blocking-sleep-in-async::"
    ));
    insta::assert_snapshot!(out);

    let mut report = fixture_report();
    report.findings = vec![Finding {
        path: "a,b:c.py".to_owned(),
        message: "100% of\r\nrequests".to_owned(),
        ..finding("PA204", "unbounded-cache", 14, "remember")
    }];
    let out = render(&report, Format::Github);
    assert_eq!(
        out.lines().count(),
        2,
        "one command per finding, then the summary: {out}"
    );
    assert!(out.contains("report_fixture/a%2Cb%3Ac.py,line=14"), "{out}");
    assert!(out.contains("::100%25 of%0D%0Arequests%0A"), "{out}");
}

/// The SARIF log with what depends on the rule registry (which grows as rules land) replaced,
/// after checking that every result points at the right rule.
fn sarif_for_snapshot(out: &str) -> serde_json::Value {
    let mut log: serde_json::Value = serde_json::from_str(out).unwrap();
    let run = &mut log["runs"][0];
    let ids: Vec<String> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    for r in run["results"].as_array_mut().unwrap() {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids[index], r["ruleId"].as_str().unwrap());
        r["ruleIndex"] = "[checked]".into();
    }
    for code in ["PA203", "PA204", "PA302", "PA501"] {
        assert!(ids.iter().any(|id| id == code), "{code} has a descriptor");
    }
    run["tool"]["driver"]["rules"] = "[every rule, checked above]".into();
    log
}

/// The official SARIF 2.1.0 schema. Its `run.language` pattern ends in a stray `]`, which a
/// Unicode-mode regex engine (the validator's meta-schema check) rejects; escaping it keeps the
/// meaning a browser's regex gives it (an optional literal `]`).
fn sarif_schema() -> serde_json::Value {
    let path = manifest_dir().join("tests/schemas/sarif-2.1.0.json");
    let text = std::fs::read_to_string(path).expect("read the SARIF schema");
    let fixed = text.replace(r"[a-zA-Z]{2}]?$", r"[a-zA-Z]{2}\\]?$");
    assert_ne!(fixed, text, "the known typo is where it was");
    serde_json::from_str(&fixed).expect("schema is JSON")
}

#[test]
fn sarif_snapshot_and_schema() {
    let schema = sarif_schema();
    let out = render(&fixture_report(), Format::Sarif);
    let log: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_valid(&schema, &log, "SARIF of the fixture");
    let example: serde_json::Value =
        serde_json::from_str(&render(&example_report(), Format::Sarif)).unwrap();
    assert_valid(&schema, &example, "SARIF of the bundled example");
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert_invalid(&schema, &broken, "a SARIF log with level `fatal`");

    let driver = &example["runs"][0]["tool"]["driver"];
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), perfaudit::rules::RULES.len());
    let pa101 = rules.iter().find(|r| r["id"] == "PA101").unwrap();
    assert_eq!(pa101["defaultConfiguration"]["level"], "error");
    assert!(
        pa101["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Finds `time.sleep")
    );
    assert!(
        pa101["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("## Use instead")
    );
    // Every rule links to its page in the repository that Cargo.toml names.
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        assert_eq!(
            rule["helpUri"],
            perfaudit::report::rule_docs::page_url(id).as_str()
        );
    }
    if option_env!("PERFAUDIT_REPOSITORY_URL").is_none() {
        assert_eq!(
            pa101["helpUri"],
            format!(
                "https://github.com/perfaudit/perfaudit/blob/v{}/docs/rules/PA101.md",
                env!("CARGO_PKG_VERSION")
            )
        );
    }
    insta::assert_json_snapshot!(sarif_for_snapshot(&out));
}

#[test]
fn sarif_fingerprints_survive_line_shifts() {
    let fingerprints = |report: &AuditReport| -> Vec<String> {
        let log: serde_json::Value = serde_json::from_str(&render(report, Format::Sarif)).unwrap();
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["perfaudit/v1"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let report = fixture_report();
    let mut shifted = fixture_report();
    for f in &mut shifted.findings {
        f.line += 7;
        f.end_line += 7;
    }
    let before = fingerprints(&report);
    assert_eq!(before, fingerprints(&shifted));
    let mut unique = before.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        before.len(),
        "distinct findings, distinct prints"
    );
}

#[test]
fn json_matches_its_schema() {
    let schema = read_json(&manifest_dir().join("schema/findings.schema.json"));
    for (what, report) in [
        ("bundled example", example_report()),
        ("fixture", fixture_report()),
    ] {
        let value: serde_json::Value =
            serde_json::from_str(&render(&report, Format::Json)).unwrap();
        assert_valid(&schema, &value, what);
        // The schema is closed: a field it does not document is an error, so it cannot drift.
        let mut undocumented = value.clone();
        undocumented["findings"][0]["new_field"] = 1.into();
        assert_invalid(
            &schema,
            &undocumented,
            "a finding with an undocumented field",
        );
        assert_eq!(
            value["findings"].as_array().unwrap().len(),
            report.findings.len()
        );
    }
    let leaks = read_json(&manifest_dir().join("schema/memory_leak_candidates.schema.json"));
    let value: serde_json::Value =
        serde_json::from_str(&render(&fixture_report(), Format::LeakCandidates)).unwrap();
    assert_valid(&leaks, &value, "memory_leak_candidates.json");
}

/// The page without its fixed stylesheet and script, which are code rather than output, with
/// a line break between adjacent tags so that a diff shows what changed (the page has none:
/// text never holds a raw `>`, so `><` only ever joins two tags).
fn html_for_snapshot(html: &str) -> String {
    let cut = |s: &str, open: &str, close: &str, what: &str| -> String {
        let start = s.find(open).expect(open) + open.len();
        let end = start + s[start..].find(close).expect(close);
        format!("{}/* {what} */{}", &s[..start], &s[end..])
    };
    let html = cut(html, "<style>", "</style>", "style");
    cut(&html, "<script>", "</script>", "script").replace("><", ">\n<")
}

#[test]
fn html_snapshot() {
    let html = render(&fixture_report(), Format::Html);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains(" src="), "nothing is loaded from anywhere");
    insta::assert_snapshot!(html_for_snapshot(&html));
}

#[test]
fn html_keeps_hostile_code_as_text() {
    let root = manifest_dir().join("tests/fixtures/projects/injection");
    let mut report = audit_paths(&[&root], &[]);
    assert!(
        report.findings.iter().any(|f| f.line == 7),
        "the hostile line produces a finding"
    );
    // Hostile names also reach the server-rendered parts: charts, cards and action items.
    report.findings.push(Finding {
        path: "app.py".to_owned(),
        function: "</script><script>alert(1)</script>".to_owned(),
        agents: vec!["<img src=x onerror=alert(1)>".to_owned()],
        snippet: "</script><script>alert(1)</script>".to_owned(),
        not_run: None,
        copies: Vec::new(),
        occurrence: 0,
        message: "<b>bold</b>".to_owned(),
        help: "</style><script>alert(1)</script>".to_owned(),
        estimate: Some(Estimate {
            worst_ms: None,
            low_ms: 1.0,
            high_ms: 2.0,
            basis: "<script>alert(1)</script>".to_owned(),
        }),
        ..finding("PA204", "unbounded-cache", 8, "handler")
    });
    let html = render(&report, Format::Html);
    assert_eq!(html.matches("<script").count(), 2, "only our two scripts");
    assert_eq!(html.matches("</script>").count(), 2);
    assert!(!html.contains("<img"));
    assert!(!html.contains("<b>bold"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    // The excerpt of the hostile line travels in the JSON island, escaped but intact.
    let island_start = html.find("id=\"perfaudit-data\">").unwrap() + 20;
    let island_end = island_start + html[island_start..].find("</script>").unwrap();
    let data: serde_json::Value = serde_json::from_str(&html[island_start..island_end]).unwrap();
    let excerpt = data["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "PA101")
        .unwrap()["excerpt"]["lines"]
        .to_string();
    assert!(excerpt.contains("# </script><script>alert(1)</script>"));

    let md = render(&report, Format::Markdown);
    assert!(!md.contains("<b>bold"), "Markdown prose escapes HTML");
    let csv = render(&report, Format::Csv);
    assert!(
        csv.contains("</script><script>alert(1)</script>"),
        "CSV is data"
    );
}

#[test]
fn output_dir_writes_the_whole_audit() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("audit");
    let run = Command::new(env!("CARGO_BIN_EXE_perfaudit"))
        .args(["audit", "--fail-on", "never", "--output-dir"])
        .arg(&dir)
        .arg(fixture_root())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary = String::from_utf8_lossy(&run.stdout);
    assert!(
        summary.starts_with("Found ") && !summary.contains(" | "),
        "--output-dir alone prints the summary, no stream: {summary}"
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    let files = [
        "report.md",
        "hotspots.csv",
        "findings.json",
        "memory_leak_candidates.json",
        "report.sarif",
        "report.html",
    ];
    for f in files {
        let path = dir.join(f);
        assert!(std::fs::metadata(&path).unwrap().len() > 0, "{f} is empty");
        assert!(
            stderr.contains(&path.display().to_string()),
            "where {f} went is printed"
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = files.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(names, expected, "no temporary file is left behind");

    // Quiet, with a stream as well: stdout has the stream, stderr stays silent.
    let run = Command::new(env!("CARGO_BIN_EXE_perfaudit"))
        .args(["audit", "--quiet", "--fail-on", "never", "--format", "csv"])
        .arg("--output-dir")
        .arg(&dir)
        .arg(fixture_root())
        .output()
        .unwrap();
    assert!(run.status.success());
    assert!(
        run.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).starts_with("rank,severity,code"));
}

#[test]
fn output_file_replaces_a_symlink_without_following_it() {
    let out = tempfile::tempdir().unwrap();
    let victim = out.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    let link = out.path().join("report.md");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_perfaudit"))
        .args([
            "audit",
            "--fail-on",
            "never",
            "--format",
            "markdown",
            "--output",
        ])
        .arg(&link)
        .arg(fixture_root())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert!(
        std::fs::read_to_string(&link)
            .unwrap()
            .starts_with("# Performance audit: report_fixture")
    );
}

#[test]
fn every_format_is_deterministic() {
    for format in [
        Format::Json,
        Format::Markdown,
        Format::Csv,
        Format::Sarif,
        Format::Github,
        Format::Html,
        Format::LeakCandidates,
    ] {
        let mut a = example_report();
        let b = example_report();
        a.elapsed_ms += 12345;
        assert_eq!(render(&a, format), render(&b, format), "{format:?}");
    }
}

/// Item by item, every format of one audit of the example says the same numbers: how many
/// hotspots per band, how many findings in all, and what is not a hotspot.
#[test]
fn every_format_counts_the_same_on_the_example() {
    assert_counts_agree(&example_report(), true);
}

/// Projects with code that no service runs (tooling, no service, unreachable), copies and
/// manifest conflicts: every format leaves out and groups the same findings.
#[test]
fn every_format_counts_the_same_with_code_no_service_runs() {
    for name in ["live_system", "copies", "library", "manifest_conflict"] {
        let dir = manifest_dir().join("tests/fixtures/projects").join(name);
        let report = audit_paths(&[&dir], &[]);
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.not_run.is_some() || !f.copies.is_empty()),
            "{name}: something is left out or grouped"
        );
        assert_counts_agree(&report, false);
    }
    let copies = audit_paths(
        &[&manifest_dir().join("tests/fixtures/projects/copies")],
        &[],
    );
    assert!(copies.findings.iter().any(|f| !f.copies.is_empty()));
    let text = render(&copies, Format::Text);
    assert!(
        text.contains("= copies: agents_v2/gateway.py:26 (high, not run: no-service)"),
        "{text}"
    );
    assert!(text.contains("Grouped: 2 findings in near-identical copies"));

    // A manifest conflict is listed by every format that lists services.
    let conflict = audit_paths(
        &[&manifest_dir().join("tests/fixtures/projects/manifest_conflict")],
        &[],
    );
    let expected = "`api` is `api/main.py` in `startup_config.yaml`, but also `api_v2/main.py` in \
                    `deploy/compose.yml`: `api/main.py` is used";
    let text = render(&conflict, Format::Text);
    assert!(
        text.contains(&format!("Service conflict: {expected}")),
        "{text}"
    );
    assert!(render(&conflict, Format::Markdown).contains(expected));
    assert!(render(&conflict, Format::Html).contains("conflict: "));
    let json: serde_json::Value = serde_json::from_str(&render(&conflict, Format::Json)).unwrap();
    assert_eq!(json["conflicts"].as_array().unwrap().len(), 2);
    assert_eq!(json["conflicts"][0]["chosen"]["entry"], "api/main.py");
}

/// Real code nobody here wrote: the asyncio, email and http packages of the Python that runs
/// the tests (its standard library, the corpus `tests/stdlib.rs` sweeps).
#[test]
fn every_format_counts_the_same_on_real_code() {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("python3 runs");
    let stdlib = std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    for package in ["asyncio", "email", "http"] {
        let report = audit_paths(&[&stdlib.join(package)], &[]);
        assert!(report.files_scanned >= 4, "{package}: no modules found");
        assert_counts_agree(&report, false);
    }
}

fn assert_counts_agree(report: &AuditReport, has_syntax_error: bool) {
    let json: serde_json::Value = serde_json::from_str(&render(report, Format::Json)).unwrap();
    let s = &json["summary"];
    let band = |b: &str| s["hotspots"][b].as_u64().unwrap();
    let bands = format!(
        "{} critical, {} high, {} medium, {} low, {} info",
        band("critical"),
        band("high"),
        band("medium"),
        band("low"),
        band("info")
    );
    let hotspots: u64 = ["critical", "high", "medium", "low", "info"]
        .iter()
        .map(|b| band(b))
        .sum();
    let findings = s["findings"].as_u64().unwrap();
    let (syntax, not_run) = (
        s["syntax"].as_u64().unwrap(),
        s["not_run"].as_u64().unwrap(),
    );
    assert_eq!(findings, hotspots + syntax + not_run);
    let by_reason: u64 = ["tooling", "no_service", "unreachable"]
        .iter()
        .map(|r| s["not_run_by"][r].as_u64().unwrap())
        .sum();
    assert_eq!(by_reason, not_run);
    let copies: u64 = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["copies"].as_array().map_or(0, |c| c.len() as u64))
        .sum();
    assert_eq!(s["copies"].as_u64().unwrap(), copies);
    assert_eq!(syntax > 0, has_syntax_error, "a file that does not parse");

    let text = render(report, Format::Text);
    let noun = if hotspots == 1 { "hotspot" } else { "hotspots" };
    assert!(
        text.contains(&format!("Found {hotspots} {noun} ({bands}) in ")),
        "{}",
        text.lines().rev().take(3).collect::<Vec<_>>().join("\n")
    );
    let listed = text
        .lines()
        .filter(|l| l.contains(": PA") && l.contains(" ["))
        .count() as u64;
    assert_eq!(
        listed,
        hotspots + syntax,
        "the text lists the findings in code that services run"
    );
    let left_out = format!("Left out: {not_run} finding");
    assert_eq!(text.contains(&left_out), not_run > 0, "text: {left_out}");

    let md = render(report, Format::Markdown);
    assert!(
        md.contains(&format!("- **Hotspots:** {hotspots} ({bands}).")),
        "markdown"
    );
    assert_eq!(md.contains(&left_out), not_run > 0, "markdown: {left_out}");

    let html = render(report, Format::Html);
    assert!(
        html.contains(&format!(
            "<div class=\"card-title\">Hotspots</div><div class=\"card-value\">{hotspots}</div>"
        )),
        "html card"
    );
    if syntax > 0 {
        assert!(html.contains(&format!("the table also lists {syntax} about syntax")));
    }
    let table_rows = html.matches("\"code\":\"PA").count() as u64;
    assert_eq!(table_rows, findings, "the HTML table holds every finding");

    let csv = render(report, Format::Csv);
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (not_run_col, code) = (col("not_run"), col("code"));
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(records.len() as u64, findings);
    let csv_hotspots = records
        .iter()
        .filter(|r| r[not_run_col].is_empty() && !r[code].starts_with("PA0"))
        .count() as u64;
    assert_eq!(csv_hotspots, hotspots, "csv");

    let sarif: serde_json::Value = serde_json::from_str(&render(report, Format::Sarif)).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(run["results"].as_array().unwrap().len() as u64, findings);
    assert_eq!(run["properties"]["hotspots"], hotspots);
    assert_eq!(run["properties"]["syntax"], syntax);
    assert_eq!(run["properties"]["notRun"], not_run);
    assert_eq!(run["properties"]["copies"], s["copies"]);

    let gitlab: serde_json::Value = serde_json::from_str(&render(report, Format::Gitlab)).unwrap();
    assert_eq!(gitlab.as_array().unwrap().len() as u64, findings, "gitlab");

    let github = render(report, Format::Github);
    let annotations = github.lines().filter(|l| l.contains(",title=PA")).count() as u64;
    assert_eq!(annotations, findings, "github");
    assert!(
        github.contains(&format!("summary::{hotspots} {noun} ({bands}) in ")),
        "github summary"
    );
    assert_eq!(
        github.contains(&format!("left out: {not_run} in code")),
        not_run > 0,
        "github: left out"
    );
}

#[test]
fn gitlab_code_quality_matches_its_documented_schema() {
    let schema = read_json(&manifest_dir().join("tests/schemas/gitlab-codequality.json"));
    for report in [fixture_report(), example_report()] {
        let out: serde_json::Value =
            serde_json::from_str(&render(&report, Format::Gitlab)).expect("json");
        assert_valid(&schema, &out, "gitlab code quality");
        let issues = out.as_array().unwrap();
        assert_eq!(issues.len(), report.findings.len());
        let mut fingerprints: Vec<&str> = issues
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap())
            .collect();
        fingerprints.sort_unstable();
        assert!(!fingerprints.is_empty());
    }
    assert_invalid(
        &schema,
        &serde_json::json!([{"description": "d", "check_name": "c", "fingerprint": "f",
            "severity": "high", "location": {"path": "a.py", "lines": {"begin": 1}}}]),
        "a severity GitLab does not know",
    );
    let out: serde_json::Value =
        serde_json::from_str(&render(&fixture_report(), Format::Gitlab)).unwrap();
    let first = &out[0];
    assert_eq!(
        first["location"]["path"], "tests/fixtures/projects/report_fixture/api.py",
        "paths are relative to the repository root"
    );
}

/// A chain step through a call Python makes implicitly carries how the code wrote it, in every
/// format that shows chain steps one by one.
#[test]
fn implicit_steps_say_how_the_code_wrote_them() {
    let root = manifest_dir().join("tests/fixtures/projects/implicit_calls");
    let report = audit_paths(&[&root], &[]);
    assert!(
        report.findings.iter().any(|f| f
            .chain
            .iter()
            .any(|s| s.via.as_deref() == Some("with FileLock()"))),
        "the fixture's `with FileLock()` step"
    );
    for format in [
        Format::Text,
        Format::Json,
        Format::Github,
        Format::Sarif,
        Format::Html,
    ] {
        let out = render(&report, format);
        assert!(
            out.contains("with FileLock()"),
            "{format:?} does not show how the code wrote the implicit call"
        );
    }
}
