//! Baselines: findings recorded once stay quiet after the code around them moves (lines shift,
//! an unrelated function is renamed), while a new hotspot in the same function is reported.

use std::path::Path;
use std::process::{Command, Output};

const BEFORE: &str = r#"import time
import requests


def unrelated():
    return 1


async def handle_request(url):
    time.sleep(1)
    return requests.get(url, timeout=3)
"#;

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfaudit"))
        .arg("audit")
        .arg(dir)
        .args([
            "--format",
            "json",
            "--quiet",
            "--no-cache",
            "--select",
            "PA1",
        ])
        .args(args)
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn baseline_survives_moves_and_reports_new_hotspots() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let app = src.join("app.py");
    std::fs::write(&app, BEFORE).unwrap();
    let baseline = dir.path().join("perfaudit-baseline.json");
    let b = baseline.to_str().unwrap();

    let out = run(&src, &["--write-baseline", b]);
    assert_eq!(out.status.code(), Some(0), "writing a baseline succeeds");
    assert_eq!(json(&out)["findings"].as_array().unwrap().len(), 2);
    let written = std::fs::read_to_string(&baseline).unwrap();
    assert!(
        !written.contains("\"line\""),
        "fingerprints carry no line numbers"
    );

    // Without the baseline the findings fail the run; with it, nothing is new.
    assert_eq!(run(&src, &[]).status.code(), Some(1));
    let out = run(&src, &["--baseline", b]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["findings"].as_array().unwrap().len(), 0);
    assert_eq!(json(&out)["baselined"], 2);
    let schema_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/findings.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    assert!(
        jsonschema::validator_for(&schema)
            .unwrap()
            .is_valid(&json(&out))
    );

    // Twenty lines further down, an unrelated function renamed: still all known.
    let moved = format!(
        "{}{}",
        "# padding\n".repeat(20),
        BEFORE.replace("def unrelated", "def renamed_helper")
    );
    std::fs::write(&app, &moved).unwrap();
    let out = run(&src, &["--baseline", b]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["baselined"], 2);

    // A new hotspot in the same function is reported, and fails the run.
    let grown = moved.replace(
        "    time.sleep(1)\n",
        "    time.sleep(1)\n    time.sleep(2)\n",
    );
    std::fs::write(&app, &grown).unwrap();
    let out = run(&src, &["--baseline", b]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    let new = v["findings"].as_array().unwrap();
    assert_eq!(new.len(), 1, "{v}");
    assert_eq!(new[0]["code"], "PA101");
    assert_eq!(v["baselined"], 2);
}

#[test]
fn a_broken_baseline_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.py"), "x = 1\n").unwrap();
    let bad = dir.path().join("baseline.json");
    std::fs::write(&bad, "{not json").unwrap();
    let out = run(dir.path(), &["--baseline", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a perfaudit baseline"));
}
