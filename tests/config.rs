//! Configuration files, end to end through the binary: a `pyproject.toml` that selects and
//! ignores rules, adds a catalog entry with its own cost, marks wrappers as blocking and
//! offloading, and ignores a rule for test files; and a misspelt key that must fail with its
//! file, line and a suggestion, exit code 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
}

fn perfaudit(args: &[&str], path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfaudit"))
        .arg("audit")
        .arg(path)
        .args(["--format", "json", "--no-cache", "--quiet"])
        .args(args)
        .output()
        .expect("run perfaudit")
}

fn findings(out: &Output) -> Vec<(String, String, u64, String)> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn row(code: &str, path: &str, line: u64, severity: &str) -> (String, String, u64, String) {
    (code.into(), path.into(), line, severity.into())
}

#[test]
fn pyproject_configuration_shapes_the_audit() {
    let out = perfaudit(&[], &fixture("project"));
    // `fail-on = "critical"` and the custom entry's 1.5–4 s cost make the run fail.
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        findings(&out),
        vec![
            // The configured catalog entry, with its configured cost.
            row("PA102", "app/main.py", 10, "critical"),
            // A wrapper marked `blocking`.
            row("PA102", "app/main.py", 11, "high"),
            // A coroutine that no request entry is known to reach: medium at most.
            row("PA101", "app/main.py", 23, "medium"),
            // Not reported: PA103 is ignored; `slow_cleanup` runs through a configured offload
            // function, so it does not block the event loop (PA111 is not selected here); and
            // tests/*.py ignore PA101.
        ]
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let custom = &v["findings"][0]["estimate"];
    assert_eq!(custom["low_ms"], 1500.0);
    assert_eq!(custom["high_ms"], 4000.0);
    assert!(custom["basis"].as_str().unwrap().contains("our load test"));
    // `handler-names` made `serve_report` a request handler: its findings are reachable.
    assert_eq!(v["findings"][0]["reachable"], true);
}

#[test]
fn flags_override_the_configuration_and_isolated_ignores_it() {
    let out = perfaudit(
        &["--select", "PA103", "--fail-on", "never"],
        &fixture("project"),
    );
    assert_eq!(out.status.code(), Some(0));
    let codes: Vec<String> = findings(&out).into_iter().map(|f| f.0).collect();
    assert!(
        !codes.is_empty() && codes.iter().all(|c| c == "PA103"),
        "{codes:?}"
    );

    let out = perfaudit(&["--isolated", "--select", "PA101"], &fixture("project"));
    let paths: Vec<String> = findings(&out).into_iter().map(|f| f.1).collect();
    // Without the configuration, the offload and the per-file ignore are gone (the test's
    // sleep is reported as test code), and without `handler-names` the coroutine that reaches
    // `slow_cleanup` is not known to serve requests: medium at most.
    assert!(
        findings(&out).contains(&row("PA101", "tests/test_main.py", 5, "info")),
        "{paths:?}"
    );
    assert!(
        findings(&out).contains(&row("PA101", "app/main.py", 19, "medium")),
        "{:?}",
        findings(&out)
    );
}

#[test]
fn explicit_config_file_wins() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("perfaudit.toml");
    std::fs::write(&cfg, "select = [\"PA103\"]\nfail-on = \"never\"\n").unwrap();
    let out = perfaudit(&["--config", cfg.to_str().unwrap()], &fixture("project"));
    assert_eq!(out.status.code(), Some(0));
    let codes: Vec<String> = findings(&out).into_iter().map(|f| f.0).collect();
    assert!(codes.iter().all(|c| c == "PA103") && !codes.is_empty());
}

#[test]
fn misspelt_key_fails_with_location_and_suggestion() {
    let dir = fixture("misspelt");
    let out = perfaudit(&[], &dir);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let file = dir.join("perfaudit.toml");
    assert!(
        err.contains(&format!("{}:3:1:", file.display())),
        "no file:line:col in {err}"
    );
    assert!(err.contains("`extend-exlude`"), "{err}");
    assert!(err.contains("did you mean `extend-exclude`?"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_value_fails_with_location() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), "x = 1\n").unwrap();
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"x\"\n\n[tool.perfaudit]\nfail-on = \"hihg\"\n",
    )
    .unwrap();
    let out = perfaudit(&[], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pyproject.toml:5:11:"), "{err}");
    assert!(err.contains("did you mean `high`?"), "{err}");
}

#[test]
fn excludes_are_anchored_at_the_configuration_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let slow = "import time\n\n\nasync def handle_request():\n    time.sleep(1)\n";
    for rel in [
        "src/app.py",
        "src/legacy/old.py",
        "vendor/lib.py",
        "gen/x_pb2.py",
    ] {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, slow).unwrap();
    }
    std::fs::write(
        root.join("perfaudit.toml"),
        "exclude = [\"src/legacy/**\"]\nextend-exclude = [\"vendor\", \"*_pb2.py\"]\nfail-on = \"never\"\n",
    )
    .unwrap();
    let paths = |out: &Output| -> Vec<String> { findings(out).into_iter().map(|f| f.1).collect() };
    // From the configuration's directory, and from below it: the same files are left out.
    assert_eq!(paths(&perfaudit(&[], root)), vec!["src/app.py"]);
    assert_eq!(paths(&perfaudit(&[], &root.join("src"))), vec!["app.py"]);
    // `--exclude` replaces `exclude` but keeps `extend-exclude`.
    let out = perfaudit(&["--exclude", "nothing"], root);
    assert_eq!(paths(&out), vec!["src/app.py", "src/legacy/old.py"]);
}

/// A configured catalog entry is looked up by the rules' hooks in the catalog the run audits
/// with: an id from the merged catalog once indexed the shipped one and skipped the whole file
/// with an internal error.
#[test]
fn a_configured_api_reaches_the_hooks() {
    let out = perfaudit(&["--fail-on", "never"], &fixture("configured_api"));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("internal error"), "{stderr}");
    assert_eq!(
        findings(&out),
        vec![
            // The configured 5–50 ms call, repeated in the loop.
            row("PA503", "app.py", 8, "high"),
            row("PA503", "app.py", 9, "low"),
        ]
    );
}

/// A configured `log_file` parameter is honoured like the shipped ones (`filename`).
#[test]
fn a_configured_log_file_parameter_is_honoured() {
    let out = perfaudit(&["--fail-on", "never"], &fixture("configured_log_file"));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(findings(&out), vec![row("PA208", "agent.py", 5, "low")]);
}

/// A framework profile from the configuration works like a shipped one: its entry shape puts a
/// plain `def` on the event loop per request, its registration makes a startup hook, and the
/// report names it.
#[test]
fn a_configured_framework_profile_is_applied() {
    let out = perfaudit(&["--fail-on", "never"], &fixture("configured_framework"));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        findings(&out),
        vec![
            row("PA101", "service.py", 8, "high"),
            row("PA101", "service.py", 14, "info"),
            row("PA101", "service.py", 19, "medium"),
        ]
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["frameworks"], serde_json::json!(["Our RPC"]));
    assert_eq!(json["findings"][0]["chain"][0]["entry"], "Our RPC method");
}

/// A profile missing a required field is a configuration error with the reason.
#[test]
fn a_bad_framework_profile_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("perfaudit.toml"),
        "[[frameworks]]\nname = \"x\"\ndetect = [\"x\"]\n[[frameworks.entry]]\nwhat = \"y\"\nnames = [\"z\"]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("a.py"), "x = 1\n").unwrap();
    let out = perfaudit(&[], dir.path());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("frameworks") && stderr.contains("runs"),
        "{stderr}"
    );
}
