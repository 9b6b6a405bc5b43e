//! Fuzzing harnesses, shared by the cargo-fuzz targets in `fuzz/` and by the test that replays
//! every input they ever crashed on (`tests/fuzz_regressions.rs`), so both run the same code.
//!
//! Each harness takes the fuzzer's bytes, runs one stage of the auditor and panics when an
//! invariant breaks. An error the auditor reports (a bad configuration, an unreadable manifest)
//! is a normal outcome, not a failure.
//!
//! - `module`: the bytes are one Python file; decode, parse, facts and every rule, in memory.
//! - `project`: the bytes drive a generator of a small multi-module project (packages, imports
//!   between modules, classes, async code, catalog calls, service manifests); the project is
//!   audited from disk and in memory (the two must agree), and every report format is rendered.
//! - `config`: the bytes are `perfaudit.toml`, `pyproject.toml`, and the body of a
//!   `[tool.perfaudit]` table; a configuration that loads is layered under the command line and
//!   used for an audit.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use ruff_source_file::LineIndex;

use crate::audit::{AuditReport, run, run_sources};
use crate::cli::{AuditArgs, Cli, Command};
use crate::config::load_text;
use crate::finding::Finding;
use crate::settings::{Format, Settings};

mod generate;

pub use generate::generate_project;

/// Where in-memory audits say their files are. Nothing exists there, so reports rendered from
/// them have no code excerpts.
const MEMORY_ROOT: &str = "/nonexistent/perfaudit-fuzz";

/// The one file of the `module` harness.
pub const MODULE_PATH: &str = "fuzzed.py";

/// Every rule, including the explicit-only ones, on one thread, with suppressed findings kept.
fn fuzz_settings() -> Settings {
    Settings {
        select: vec!["ALL".to_owned(), "PA002".to_owned()],
        threads: 1,
        format: Format::Json,
        progress: false,
        quiet: true,
        show_suppressed: true,
        cache: false,
        ..Settings::default()
    }
}

/// The number of lines the auditor counts in a file, or `None` when it skips the file.
fn line_count(bytes: &[u8]) -> Option<u32> {
    let decoded = crate::module::source::decode(bytes).ok()?;
    Some(LineIndex::from_source_text(&decoded.text).line_count() as u32)
}

/// Every finding (reported, suppressed or baselined) is in an audited file, on a line it has.
fn check_findings(report: &AuditReport, lines: &BTreeMap<String, u32>) {
    let all = report
        .findings
        .iter()
        .chain(report.suppressed.iter().flatten())
        .chain(report.baselined.iter().flatten());
    for f in all {
        let Some(&n) = lines.get(&f.path) else {
            panic!("{} finding in `{}`, which is not audited", f.code, f.path);
        };
        assert!(
            f.line >= 1 && f.line <= n,
            "{} finding at {}:{} outside the file's {n} lines",
            f.code,
            f.path,
            f.line
        );
        assert!(
            f.end_line >= f.line && f.end_line <= n,
            "{} finding at {}:{} ends on line {} (the file has {n} lines)",
            f.code,
            f.path,
            f.line,
            f.end_line
        );
    }
}

/// PA001 findings, reported or suppressed, in `path`.
fn syntax_findings(report: &AuditReport, path: &str) -> usize {
    let is_pa001 = |f: &&Finding| f.code == "PA001" && f.path == path;
    report.findings.iter().filter(is_pa001).count()
        + report.suppressed.iter().flatten().filter(is_pa001).count()
}

/// Audits `data` as one Python file, in memory.
pub fn module(data: &[u8]) {
    let report = run_sources(
        Path::new(MEMORY_ROOT),
        vec![(MODULE_PATH.to_owned(), data.to_vec())],
        &fuzz_settings(),
    )
    .expect("an in-memory audit has no usage errors");
    let Some(n) = line_count(data) else {
        // UTF-16: skipped with a note, never analysed.
        assert_eq!(report.files_scanned, 0);
        assert_eq!(report.diagnostics.len(), 1, "{:?}", report.diagnostics);
        assert!(report.findings.is_empty());
        return;
    };
    assert_eq!(report.files_scanned, 1);
    check_findings(&report, &BTreeMap::from([(MODULE_PATH.to_owned(), n)]));
    assert_eq!(
        syntax_findings(&report, MODULE_PATH),
        report.files_unparsable,
        "a file with syntax errors has exactly one PA001, a clean file none"
    );
}

/// Generates a project from `data`, audits it from disk and from memory, and renders every
/// report format.
pub fn project(data: &[u8]) {
    let files = generate_project(data);
    let dir = tempfile::tempdir().expect("temporary directory");
    for (rel, bytes) in &files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write a generated file");
    }
    let settings = Settings {
        paths: vec![dir.path().to_path_buf()],
        ..fuzz_settings()
    };
    let report = run(&settings).expect("the audit runs");
    let lines: BTreeMap<String, u32> = files
        .iter()
        .filter(|(rel, _)| rel.ends_with(".py"))
        .filter_map(|(rel, bytes)| Some((rel.clone(), line_count(bytes)?)))
        .collect();
    assert_eq!(report.files_scanned, lines.len(), "every module is audited");
    check_findings(&report, &lines);
    for rel in lines.keys() {
        assert!(
            syntax_findings(&report, rel) <= 1,
            "one PA001 at most in {rel}"
        );
    }

    // The same files audited in memory give the same findings, services and diagnostics.
    let memory = run_sources(Path::new(MEMORY_ROOT), files, &fuzz_settings())
        .expect("an in-memory audit has no usage errors");
    let json = |f: &[Finding]| serde_json::to_string(f).expect("findings serialise");
    assert_eq!(json(&report.findings), json(&memory.findings));
    assert_eq!(report.services, memory.services);
    assert_eq!(report.diagnostics, memory.diagnostics);

    render_all(&report);
}

/// Renders every report format into memory; the JSON ones must parse, the CSV must be regular.
pub fn render_all(report: &AuditReport) {
    let formats = [
        (Format::Text, true),
        (Format::Text, false),
        (Format::Json, false),
        (Format::Markdown, false),
        (Format::Csv, false),
        (Format::Sarif, false),
        (Format::Github, false),
        (Format::Gitlab, false),
        (Format::Html, false),
        (Format::LeakCandidates, false),
    ];
    for (format, color) in formats {
        let mut out = Vec::new();
        let opts = crate::report::Options {
            color,
            show_not_run: color,
            statistics: false,
        };
        crate::report::write(report, format, &opts, &mut out).expect("rendering into memory");
        match format {
            Format::Json | Format::Sarif | Format::Gitlab | Format::LeakCandidates => {
                serde_json::from_slice::<serde_json::Value>(&out)
                    .unwrap_or_else(|e| panic!("{format:?} output is not JSON: {e}"));
            }
            Format::Csv => {
                for row in csv::Reader::from_reader(out.as_slice()).records() {
                    row.expect("CSV rows have the header's width");
                }
            }
            _ => {}
        }
    }
}

/// Default command-line arguments, as `perfaudit audit` parses them.
fn default_args() -> &'static AuditArgs {
    static ARGS: OnceLock<Box<AuditArgs>> = OnceLock::new();
    ARGS.get_or_init(|| {
        let cli = <Cli as clap::Parser>::try_parse_from(["perfaudit", "audit", "--threads", "1"])
            .expect("default arguments parse");
        match cli.command {
            Command::Audit(args) => args,
            _ => unreachable!("the audit command"),
        }
    })
}

/// A small project whose calls and names the configuration can reach (a `blocking` wrapper,
/// an `apis` entry, handler and route names, a receive loop, an offload helper).
const CONFIG_PROJECT: &[(&str, &str)] = &[
    (
        "app/main.py",
        "import time\nimport requests\nfrom fastapi import FastAPI\nfrom mypkg import client, io\n\
         app = FastAPI()\n\n@app.get('/x')\nasync def route():\n    time.sleep(1)\n    \
         client.fetch('u')\n    io.read_all()\n\nasync def serve_one(req):\n    \
         requests.get('u')  # noqa: PA101\n\ndef loop(sock):\n    while True:\n        \
         msg = sock.take()\n        client.fetch(msg)\n\nasync def bg():\n    \
         await mypkg.run_bg(client.fetch)\n",
    ),
    (
        "mypkg/client.py",
        "import requests\n\ndef fetch(u):\n    return requests.get(u)\n",
    ),
    (
        "mypkg/io.py",
        "def read_all():\n    return open('f').read()\n",
    ),
    ("mypkg/__init__.py", ""),
    (
        "tests/test_a.py",
        "import time\nasync def t():\n    time.sleep(1)\n",
    ),
];

/// Loads `data` as each kind of configuration file; whatever loads is applied to an audit.
pub fn config(data: &[u8]) {
    // `load` reads the file as UTF-8: other bytes are an error before any parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let wrapped = format!("[tool.perfaudit]\n{text}");
    let root = Path::new(MEMORY_ROOT);
    for (name, text) in [
        ("perfaudit.toml", text),
        ("pyproject.toml", text),
        ("pyproject.toml", wrapped.as_str()),
    ] {
        match load_text(&root.join(name), text) {
            Err(e) => {
                let shown = e.to_string();
                assert!(
                    !e.message.is_empty(),
                    "an error says what is wrong: {shown}"
                );
                assert!(
                    e.line <= text.split('\n').count() && (e.line == 0) == (e.column == 0),
                    "error located outside the text: {shown}"
                );
            }
            Ok(file) => {
                let Ok(mut settings) = default_args().settings_over(file) else {
                    continue;
                };
                // Nothing is read from disk: no services file, no baseline.
                settings.agents_file = None;
                settings.baseline = None;
                settings.progress = false;
                settings.quiet = true;
                settings.cache = false;
                let files = CONFIG_PROJECT
                    .iter()
                    .map(|(p, s)| (p.to_string(), s.as_bytes().to_vec()))
                    .collect();
                if let Ok(report) = run_sources(root, files, &settings) {
                    let lines = CONFIG_PROJECT
                        .iter()
                        .map(|(p, s)| (p.to_string(), line_count(s.as_bytes()).unwrap_or(0)))
                        .collect();
                    check_findings(&report, &lines);
                }
            }
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_makes_projects_of_two_to_six_modules() {
        for seed in [&b""[..], b"\x04\x01\x02\x03abcdef", &[0xff; 300]] {
            let files = generate_project(seed);
            let modules = files
                .iter()
                .filter(|(p, _)| p.ends_with(".py") && !p.ends_with("__init__.py"))
                .count();
            assert!((1..=6).contains(&modules), "{files:?}");
            project(seed);
        }
    }

    #[test]
    fn harnesses_accept_trivial_inputs() {
        module(b"");
        module(b"def f(:\n");
        module(b"\xff\xfe");
        config(b"");
        config(b"select = [\"PA1\"]\n");
        config(b"\xff");
    }
}
