//! Inline suppressions: `# perfaudit: ignore[...]` and `# noqa` on the finding's line or on the
//! first line of the statement holding it, one comment on a costly call silencing it for every
//! caller, `--show-suppressed`, and PA002 for comments that silence nothing.

use std::process::Command;

use perfaudit::settings::Settings;

fn audit(files: &[(&str, &str)], select: &[&str], show: bool) -> perfaudit::audit::AuditReport {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let settings = Settings {
        paths: vec![dir.path().to_path_buf()],
        select: select.iter().map(|s| s.to_string()).collect(),
        threads: 1,
        show_suppressed: show,
        ..Settings::default()
    };
    perfaudit::audit::run(&settings).unwrap()
}

fn lines(findings: &[perfaudit::finding::Finding]) -> Vec<(u32, &str)> {
    findings.iter().map(|f| (f.line, f.code)).collect()
}

const SOURCE: &str = r#"import time
import requests


async def handler(url):
    time.sleep(1)  # perfaudit: ignore[PA101]
    time.sleep(2)  # perfaudit: ignore[PA102]
    time.sleep(3)  # noqa: PA101
    time.sleep(4)  # noqa
    time.sleep(5)  # perfaudit: ignore
    result = fetch(  # perfaudit: ignore[PA102]
        url,
        requests.get(url, timeout=3),
    )
    requests.post(url, timeout=3)
    return result


def fetch(url, extra):
    return extra
"#;

#[test]
fn comments_silence_their_line_and_statement() {
    let report = audit(&[("app.py", SOURCE)], &["PA1"], false);
    // Line 7 names another code; line 15 has no comment.
    assert_eq!(lines(&report.findings), vec![(7, "PA101"), (15, "PA102")]);
    assert!(report.suppressed.is_none());
}

#[test]
fn show_suppressed_lists_them() {
    let report = audit(&[("app.py", SOURCE)], &["PA1"], true);
    let suppressed = report.suppressed.as_ref().unwrap();
    assert_eq!(
        lines(suppressed),
        vec![
            (6, "PA101"),
            (8, "PA101"),
            (9, "PA101"),
            (10, "PA101"),
            (13, "PA102")
        ]
    );
    let mut json = Vec::new();
    perfaudit::report::json::write(&report, &mut json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["suppressed"].as_array().unwrap().len(), 5);
    assert_eq!(v["findings"].as_array().unwrap().len(), 2);
    // The published schema documents the extra array.
    let schema_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/findings.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn one_comment_on_the_costly_call_covers_every_chain() {
    let helper = "import time\n\n\ndef slow():\n    time.sleep(1)  # perfaudit: ignore[PA101]\n";
    let app = "import helper\n\n\nasync def a():\n    helper.slow()\n\n\nasync def b():\n    helper.slow()\n";
    let report = audit(&[("helper.py", helper), ("app.py", app)], &["PA101"], true);
    assert!(report.findings.is_empty(), "{:?}", lines(&report.findings));
    let suppressed = report.suppressed.unwrap();
    assert!(!suppressed.is_empty());
    assert!(
        suppressed
            .iter()
            .all(|f| f.path == "helper.py" && f.line == 5)
    );

    let bare = helper.replace("  # perfaudit: ignore[PA101]", "");
    let report = audit(&[("helper.py", &bare), ("app.py", app)], &["PA101"], false);
    assert!(!report.findings.is_empty());
}

#[test]
fn unused_suppressions_are_reported_only_when_selected() {
    let src = "import asyncio\n\n\nasync def f():\n    await asyncio.sleep(1)  # perfaudit: ignore\n    x = 1  # noqa: PA101\n    return x  # noqa\n";
    let quiet = audit(&[("a.py", src)], &["PA1"], false);
    assert!(quiet.findings.is_empty());
    // `ALL` does not switch PA002 on; naming it does.
    let all = audit(&[("a.py", src)], &["ALL"], false);
    assert!(all.findings.is_empty());
    let named = audit(&[("a.py", src)], &["PA1", "PA002"], false);
    assert_eq!(lines(&named.findings), vec![(5, "PA002"), (6, "PA002")]);
    assert!(named.findings[1].message.contains("`PA101`"));
    assert_eq!(named.findings[0].function, "f");
}

#[test]
fn unused_file_suppressions_say_file_not_line() {
    let src = "# perfaudit: ignore-file\nimport asyncio\n\n\nasync def f():\n    await asyncio.sleep(1)\n";
    let named = audit(&[("a.py", src)], &["PA1", "PA002"], false);
    let messages: Vec<(u32, &str)> = named
        .findings
        .iter()
        .map(|f| (f.line, f.message.as_str()))
        .collect();
    assert_eq!(
        messages,
        vec![(1, "suppression comment silences nothing in this file")]
    );
    let codes = src.replace("ignore-file", "ignore-file[PA101, PA110]");
    let named = audit(&[("a.py", &codes)], &["PA1", "PA002"], false);
    assert_eq!(named.findings.len(), 1, "{:?}", named.findings);
    assert_eq!(
        named.findings[0].message,
        "suppression of `PA101`, `PA110` silences nothing in this file"
    );
    // A line comment keeps its wording.
    let line = "import time\nx = 1  # perfaudit: ignore[PA101]\n";
    let named = audit(&[("b.py", line)], &["PA1", "PA002"], false);
    assert_eq!(
        named.findings[0].message,
        "suppression of `PA101` silences nothing on this line"
    );
}

#[test]
fn text_output_marks_suppressed_findings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), SOURCE).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_perfaudit"))
        .arg("audit")
        .arg(dir.path())
        .args([
            "--select",
            "PA1",
            "--show-suppressed",
            "--no-cache",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("suppressed: app.py:").count(), 5, "{text}");
    assert!(text.contains("suppressed: app.py:6:5: PA101"), "{text}");
}
