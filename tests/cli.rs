//! The command line end to end, by running the binary: every exit code of the table in
//! `--help` and the README, internal errors, findings that never fail a run, colours and
//! control characters from audited files.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_perfaudit");

/// A request handler on the event loop: its blocking call is reachable, paid per request and
/// high, so the default `--fail-on high` fails on it.
const LIVE_SLEEP: &str = "import asyncio\nimport time\n\n\nasync def handle_request(msg):\n    time.sleep(0.5)\n    return msg\n";
/// The same call in a private coroutine that nothing runs (a library's public one is an entry
/// point).
const DEAD_SLEEP: &str = "import time\n\n\nasync def _never_called():\n    time.sleep(2)\n";
/// A service system: a manifest names `agents/worker.py`; `legacy/` holds another handler that
/// no service runs (a critical sleep), and `tests/` a test.
const SYSTEM: &[(&str, &str)] = &[
    (
        "startup_config.yaml",
        "agents:\n  worker:\n    script_path: agents/worker.py\n",
    ),
    ("agents/worker.py", LIVE_SLEEP),
    (
        "legacy/worker.py",
        "import time\n\n\nasync def handle_request(msg):\n    time.sleep(5)\n    return msg\n",
    ),
    (
        "tests/test_worker.py",
        "import time\n\n\nasync def test_worker():\n    time.sleep(3)\n",
    ),
];

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// Runs `perfaudit audit` in `dir` with no cache and no colour-forcing environment.
fn audit(dir: &Path, args: &[&str]) -> Output {
    run_in(dir, &[], args)
}

fn run_in(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .arg("audit")
        .arg("--no-cache")
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("PERFAUDIT_DEBUG_PANIC_ON");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run perfaudit")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("no JSON on stdout ({e}); stderr: {}", stderr(o)))
}

#[test]
fn exit_0_when_nothing_reaches_fail_on() {
    let dir = project(&[("app.py", "x = 1\n")]);
    let o = audit(dir.path(), &["."]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("Found 0 hotspots"), "{}", stdout(&o));
}

#[test]
fn exit_1_at_or_above_fail_on_and_0_below_it_or_with_exit_zero() {
    let dir = project(&[("app.py", LIVE_SLEEP)]);
    assert_eq!(audit(dir.path(), &["."]).status.code(), Some(1));
    let critical = audit(dir.path(), &[".", "--fail-on", "critical"]);
    assert_eq!(critical.status.code(), Some(0));
    let never = audit(dir.path(), &[".", "--fail-on", "never"]);
    assert_eq!(never.status.code(), Some(0));
    let zero = audit(dir.path(), &[".", "--exit-zero"]);
    assert_eq!(zero.status.code(), Some(0));
    assert!(stdout(&zero).contains("PA101"), "still reported");
}

#[test]
fn exit_2_for_a_path_that_does_not_exist() {
    let dir = project(&[("app.py", LIVE_SLEEP)]);
    let o = audit(dir.path(), &["app.py", "missing.py"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.py"), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "no report for a mistyped path");
}

#[test]
fn exit_2_for_a_bad_configuration_file() {
    let dir = project(&[
        ("app.py", "x = 1\n"),
        ("perfaudit.toml", "fail-on = \"hgh\"\n"),
    ]);
    let o = audit(dir.path(), &["."]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("fail-on"), "{}", stderr(&o));
}

#[test]
fn exit_2_for_a_usage_error() {
    let dir = project(&[("app.py", "x = 1\n")]);
    let o = audit(dir.path(), &[".", "--no-such-flag"]);
    assert_eq!(o.status.code(), Some(2));
    let o = audit(dir.path(), &[".", "--select", "PA999"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn exit_2_when_the_output_cannot_be_written() {
    let dir = project(&[("app.py", "x = 1\n")]);
    let o = audit(dir.path(), &[".", "--output", "."]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// A file whose analysis panics is counted in every summary, printed as an error, and fails
/// the run with 2 unless `--keep-going` accepts the incomplete audit.
#[test]
fn an_internal_error_is_never_silent() {
    let dir = project(&[("app.py", LIVE_SLEEP), ("broken.py", "x = 1\n")]);
    let panic_on = [("PERFAUDIT_DEBUG_PANIC_ON", "broken.py")];

    let text = run_in(dir.path(), &panic_on, &["."]);
    assert_eq!(text.status.code(), Some(2));
    assert!(
        stderr(&text).contains("broken.py: error: skipped: internal error"),
        "{}",
        stderr(&text)
    );
    assert!(
        stdout(&text).contains("1 file could not be analysed"),
        "{}",
        stdout(&text)
    );

    let quiet = run_in(dir.path(), &panic_on, &[".", "--quiet", "--format", "json"]);
    assert_eq!(quiet.status.code(), Some(2));
    assert!(
        stderr(&quiet).contains("broken.py: error:"),
        "errors print even with --quiet"
    );
    let report = json(&quiet);
    assert_eq!(report["summary"]["files_failed"], 1);
    assert_eq!(report["summary"]["files_scanned"], 1);

    // With --keep-going the findings decide: app.py's sleep is high, so 1.
    let going = run_in(dir.path(), &panic_on, &[".", "--keep-going"]);
    assert_eq!(going.status.code(), Some(1), "{}", stderr(&going));
    assert!(stdout(&going).contains("1 file could not be analysed"));
    let going = run_in(
        dir.path(),
        &panic_on,
        &[".", "--keep-going", "--fail-on", "never"],
    );
    assert_eq!(going.status.code(), Some(0));

    // Every format counts the failed file.
    let out = tempfile::tempdir().unwrap();
    let o = run_in(
        dir.path(),
        &panic_on,
        &[".", "--output-dir", out.path().to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2));
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(md.contains("could not be analysed"), "{md}");
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains("could not be analysed"));
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.sarif")).unwrap())
            .unwrap();
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false, "{invocation}");

    // The run cache: a run without the fault analyses both files, and a result kept from it
    // does not hide the fault in the run after.
    let cached = |env: &[(&str, &str)]| {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(dir.path())
            .args([
                "audit",
                ".",
                "--quiet",
                "--format",
                "json",
                "--fail-on",
                "never",
            ])
            .env_remove("PERFAUDIT_DEBUG_PANIC_ON");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    assert_eq!(cached(&panic_on).status.code(), Some(2));
    let clean = cached(&[]);
    assert_eq!(
        json(&clean)["summary"]["files_scanned"],
        2,
        "{}",
        stderr(&clean)
    );
    let again = cached(&panic_on);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
}

#[test]
fn unreachable_findings_never_fail_a_run_and_the_text_says_why() {
    let dir = project(&[("app.py", DEAD_SLEEP)]);
    let o = audit(dir.path(), &[".", "--fail-on", "low"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(!out.contains("PA101"), "left out of the listing: {out}");
    assert!(
        out.contains(
            "Left out: 1 finding in code that no service runs (1 that no entry point reaches)"
        ),
        "{out}"
    );
    assert!(out.contains("--show-not-run"), "{out}");
    // An empty service list comes with its reason.
    assert!(out.contains("services not determined"), "{out}");
    assert!(
        out.contains(
            "Services: no manifest, compose file, Procfile or `[project.scripts]` names a \
             service, and no module has a `__main__` block: audited as a library."
        ),
        "{out}"
    );

    // The old flag still lists them; neither flag makes them fail the run.
    for flag in ["--show-not-run", "--show-unreachable"] {
        let shown = audit(dir.path(), &[".", "--fail-on", "low", flag]);
        assert_eq!(shown.status.code(), Some(0));
        let out = stdout(&shown);
        assert!(out.contains("Not run by any service (1)"), "{out}");
        assert!(out.contains("PA101"), "{out}");
        assert!(out.contains("code that no entry point reaches"), "{out}");
    }
    // A library's public coroutine is an entry point: live, and it fails the run.
    let public = project(&[(
        "app.py",
        &DEAD_SLEEP.replace("_never_called", "never_called"),
    )]);
    let o = audit(public.path(), &[".", "--fail-on", "low"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
}

#[test]
fn code_no_service_runs_is_left_out_counted_with_its_reason_and_never_fails_a_run() {
    let dir = project(SYSTEM);
    // The live handler is high: without it, only code no service runs is left, at critical.
    let o = audit(dir.path(), &[".", "--fail-on", "critical"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.starts_with("Found 1 hotspot "), "{out}");
    assert!(
        out.contains(
            "Left out: 2 findings in code that no service runs (1 in tests, scripts, examples, \
             docs or backup copies; 1 that no declared service reaches)"
        ),
        "{out}"
    );
    assert!(!out.contains("legacy/worker.py"), "{out}");
    // JSON counts the same, with the reason on each finding.
    let o = audit(dir.path(), &[".", "--format", "json", "--fail-on", "never"]);
    let v = json(&o);
    assert_eq!(v["summary"]["not_run"], 2);
    assert_eq!(v["summary"]["not_run_by"]["tooling"], 1);
    assert_eq!(v["summary"]["not_run_by"]["no_service"], 1);
    assert_eq!(v["summary"]["hotspots"]["high"], 1);
    let reasons: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["not_run"].as_str())
        .collect();
    assert_eq!(reasons, ["no-service", "tooling"]);

    // --include-not-run counts them as hotspots: listed, in the totals, and failing the run.
    let o = audit(
        dir.path(),
        &[".", "--fail-on", "critical", "--include-not-run"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.starts_with("Found 3 hotspots "), "{out}");
    assert!(!out.contains("Left out:"), "{out}");
    assert!(out.contains("legacy/worker.py"), "{out}");
}

#[test]
fn notes_go_to_stderr() {
    let dir = project(&[("app.py", "x = 1\n")]);
    std::fs::write(dir.path().join("utf16.py"), b"\xff\xfei\x00m\x00").unwrap();
    let o = audit(dir.path(), &["."]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("utf16.py: note:"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("utf16.py"), "{}", stdout(&o));
    let quiet = audit(dir.path(), &[".", "--quiet"]);
    assert!(quiet.stderr.is_empty(), "{}", stderr(&quiet));
}

#[test]
fn help_ends_with_the_exit_code_table_that_the_readme_shows() {
    let o = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let table = &help[help.find("Exit codes:").expect("a table in --help")..];
    for line in table.lines() {
        assert!(
            readme.contains(line.trim_end()),
            "README lacks the --help line {line:?}"
        );
    }
    let o = Command::new(BIN)
        .args(["audit", "--help"])
        .output()
        .unwrap();
    assert!(stdout(&o).contains("Exit codes:"));
}

#[test]
fn no_color_and_the_color_flag() {
    let dir = project(&[("app.py", LIVE_SLEEP)]);
    let ansi = |o: &Output| o.stdout.contains(&0x1b);
    assert!(!ansi(&audit(dir.path(), &["."])), "a pipe gets no colour");
    let forced = run_in(dir.path(), &[("CLICOLOR_FORCE", "1")], &["."]);
    assert!(ansi(&forced));
    let no_color = run_in(
        dir.path(),
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
        &["."],
    );
    assert!(!ansi(&no_color), "NO_COLOR wins over CLICOLOR_FORCE");
    assert!(ansi(&run_in(
        dir.path(),
        &[("NO_COLOR", "1")],
        &[".", "--color", "always"]
    )));
    assert!(!ansi(&run_in(
        dir.path(),
        &[("CLICOLOR_FORCE", "1")],
        &[".", "--color", "never"]
    )));
    // JSON is never coloured.
    let json_out = audit(dir.path(), &[".", "--color", "always", "--format", "json"]);
    assert!(!ansi(&json_out));
}

#[test]
fn control_characters_from_audited_files_are_escaped() {
    let source = LIVE_SLEEP.replace(
        "time.sleep(0.5)",
        "time.sleep(0.5)  # \x1b]0;pwned\x07\x1b[2J\u{202e}",
    );
    let dir = project(&[("odd\x1b[31mname.py", source.as_str())]);
    let o = audit(dir.path(), &["."]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!o.stdout.contains(&0x1b), "{out}");
    assert!(!o.stdout.contains(&0x07), "{out}");
    assert!(!out.contains('\u{202e}'), "{out}");
    assert!(out.contains("odd\\u{1b}[31mname.py:6:5: PA101"), "{out}");
    let gh = audit(dir.path(), &[".", "--format", "github"]);
    assert!(!gh.stdout.contains(&0x1b));
}

#[test]
fn statistics_count_per_rule() {
    let dir = project(&[("app.py", LIVE_SLEEP)]);
    let o = audit(dir.path(), &[".", "--statistics"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let first = out.lines().next().unwrap();
    assert!(
        first.contains("1  PA101") && first.contains("blocking-sleep-in-async"),
        "{out}"
    );
    assert!(!out.contains(" | "), "no code frames: {out}");
    assert!(out.contains("Found 1 hotspot "), "{out}");
}

#[test]
fn write_baseline_prints_one_line() {
    let dir = project(&[("app.py", LIVE_SLEEP)]);
    let o = audit(dir.path(), &[".", "--write-baseline", "base.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "Recorded 1 findings in base.json.\n");
    let o = audit(dir.path(), &[".", "--baseline", "base.json"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("Left out: 1 finding that the baseline records"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn output_dir_alone_prints_the_summary() {
    let dir = project(&[("app.py", LIVE_SLEEP)]);
    let o = audit(dir.path(), &[".", "--output-dir", "out", "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.starts_with("Found 1 hotspot "), "{out}");
    assert!(!out.contains("PA101"), "{out}");
    assert!(dir.path().join("out/report.html").exists());
}

/// The binary's own outputs of one audit of the bundled example agree on the counts: the text
/// summary, every file `--output-dir` writes, and the GitLab and GitHub formats.
#[test]
fn every_format_the_binary_writes_counts_the_same() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/agent_system");
    let out = tempfile::tempdir().unwrap();
    let example_arg = example.to_str().unwrap();
    let o = audit(
        out.path(),
        &[example_arg, "--output-dir", "out", "--fail-on", "never"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let read = |name: &str| std::fs::read_to_string(out.path().join("out").join(name)).unwrap();

    let findings: serde_json::Value = serde_json::from_str(&read("findings.json")).unwrap();
    let s = &findings["summary"];
    let band = |b: &str| s["hotspots"][b].as_u64().unwrap();
    let names = ["critical", "high", "medium", "low", "info"];
    let hotspots: u64 = names.iter().map(|b| band(b)).sum();
    let bands = names
        .iter()
        .map(|b| format!("{} {b}", band(b)))
        .collect::<Vec<_>>()
        .join(", ");
    let total = s["findings"].as_u64().unwrap();
    assert!(hotspots > 10 && total > hotspots, "{s}");

    let text = stdout(&o);
    assert!(
        text.starts_with(&format!("Found {hotspots} hotspots ({bands}) in ")),
        "{text}"
    );
    assert!(
        read("report.md").contains(&format!("- **Hotspots:** {hotspots} ({bands}).")),
        "report.md"
    );
    assert!(read("report.html").contains(&format!(
        "<div class=\"card-title\">Hotspots</div><div class=\"card-value\">{hotspots}</div>"
    )));
    let sarif: serde_json::Value = serde_json::from_str(&read("report.sarif")).unwrap();
    assert_eq!(sarif["runs"][0]["properties"]["hotspots"], hotspots);
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len() as u64,
        total
    );
    let csv = read("hotspots.csv");
    let rows = csv::Reader::from_reader(csv.as_bytes()).records().count() as u64;
    assert_eq!(rows, total, "one CSV row per finding");

    let formats = |format: &str| {
        let o = audit(
            out.path(),
            &[example_arg, "--format", format, "--fail-on", "never"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let gitlab: serde_json::Value = serde_json::from_str(&formats("gitlab")).unwrap();
    assert_eq!(gitlab.as_array().unwrap().len() as u64, total, "gitlab");
    let github = formats("github");
    assert_eq!(
        github.lines().filter(|l| l.contains(",title=PA")).count() as u64,
        total,
        "github"
    );
}

#[test]
fn ignore_file_silences_a_whole_module() {
    let dir = project(&[("app.py", &format!("# perfaudit: ignore-file\n{LIVE_SLEEP}"))]);
    let o = audit(dir.path(), &["."]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let dir = project(&[(
        "app.py",
        &format!("# perfaudit: ignore-file[PA110]\n{LIVE_SLEEP}"),
    )]);
    let o = audit(dir.path(), &["."]);
    assert_eq!(o.status.code(), Some(1), "only PA110 is silenced");
}

#[test]
fn a_binary_file_is_skipped_with_a_note() {
    let dir = project(&[("app.py", "x = 1\n")]);
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("blob.py"), noise).unwrap();
    let o = audit(dir.path(), &["."]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("blob.py: note: skipped"),
        "{}",
        stderr(&o)
    );
    assert!(!stdout(&o).contains("blob.py"), "{}", stdout(&o));
    // Skipped, not scanned: the summary counts the one module that was analysed.
    assert!(stdout(&o).contains("in 1 file,"), "{}", stdout(&o));
}

/// GitHub code scanning resolves SARIF paths against the repository root: an audit of a
/// sub-folder must name `service/app.py`, not `app.py`.
#[test]
fn sarif_paths_from_a_sub_folder_are_relative_to_the_repository() {
    let dir = project(&[("service/app.py", LIVE_SLEEP), ("service/helpers/x.py", "")]);
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let sarif = |cwd: &Path, path: &str| {
        let o = audit(cwd, &[path, "--format", "sarif", "--quiet"]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        json(&o)
    };
    for (cwd, path) in [
        (dir.path().to_path_buf(), "service"),
        (dir.path().join("service"), "."),
        (dir.path().join("service/helpers"), ".."),
    ] {
        let log = sarif(&cwd, path);
        let run = &log["runs"][0];
        let result = &run["results"][0];
        let location = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(
            location["uri"], "service/app.py",
            "from {cwd:?} auditing {path}"
        );
        assert_eq!(location["uriBaseId"], "%SRCROOT%");
        assert!(run["originalUriBaseIds"]["%SRCROOT%"].is_object());
        assert_eq!(result["properties"]["precision"], "high");
        let rule = &run["tool"]["driver"]["rules"][result["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(
            rule["helpUri"],
            perfaudit::report::rule_docs::page_url("PA101").as_str()
        );
    }
    // Outside a repository, paths stay relative to the audited root.
    let bare = project(&[("service/app.py", LIVE_SLEEP)]);
    let log = sarif(bare.path(), "service");
    let uri = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"];
    assert_eq!(uri, "app.py");
}

/// Two identical calls in one function are two findings with two fingerprints, and both
/// fingerprints survive lines moving above them.
#[test]
fn identical_findings_have_distinct_fingerprints_that_survive_line_shifts() {
    let src =
        "import time\n\n\nasync def handle_request(msg):\n    time.sleep(1)\n    time.sleep(1)\n";
    let fingerprints = |text: &str| -> Vec<(u64, String)> {
        let dir = project(&[("app.py", text)]);
        let o = audit(dir.path(), &[".", "--format", "json", "--fail-on", "never"]);
        json(&o)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["line"].as_u64().unwrap(),
                    f["fingerprint"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let before = fingerprints(src);
    assert_eq!(before.len(), 2, "{before:?}");
    assert_ne!(
        before[0].1, before[1].1,
        "distinct findings, distinct fingerprints"
    );
    let after = fingerprints(&format!("# a comment\n\n{src}"));
    assert_eq!((after[0].0, after[1].0), (before[0].0 + 2, before[1].0 + 2));
    assert_eq!(
        (&after[0].1, &after[1].1),
        (&before[0].1, &before[1].1),
        "fingerprints do not depend on lines"
    );
}

/// `perfaudit rule CODE` explains how that rule's cost is computed, from the rule's own cost
/// metadata and the shipped catalog: the figure, the loops, the frequency cap, the worst case.
#[test]
fn rule_explains_its_cost() {
    let explain = |code: &str| {
        let o = Command::new(BIN).args(["rule", code]).output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        let at = text
            .find("## How the cost is computed")
            .unwrap_or_else(|| panic!("{code}: no cost section:\n{text}"));
        text[at..].to_owned()
    };
    // A network call: catalog entries of that effect, the loop factor, the cap, `timeout=` and
    // `RCVTIMEO` as worst cases.
    let http = explain("PA102");
    for part in [
        "with the `network` effect",
        "`requests.get`",
        "× the loop repetition",
        "× n (unknown)",
        "caps the band",
        "literal `timeout=`",
        "`RCVTIMEO`",
        "retry loop",
    ] {
        assert!(http.contains(part), "PA102 lacks {part:?}:\n{http}");
    }
    // A sleep: its literal duration replaces the range.
    let sleep = explain("PA101");
    assert!(
        sleep.contains("3 entries with the `sleep` effect"),
        "{sleep}"
    );
    assert!(sleep.contains("A literal duration replaces the range for `time.sleep`"));
    assert!(!sleep.contains("literal `timeout=`"), "{sleep}");
    // A cold import is paid once, by the first request: loops do not repeat it.
    let import = explain("PA306");
    assert!(import.contains("Not repeated by loops"), "{import}");
    assert!(import.contains("No worst case"), "{import}");
    // Memory is not latency: no estimate, nothing multiplied.
    let memory = explain("PA203");
    assert!(memory.contains("No latency estimate"), "{memory}");
    assert!(memory.contains("Nothing is multiplied"), "{memory}");
    assert!(!memory.contains("entries with the"), "{memory}");
    // A client made per request is costed with what the function then does with it.
    let client = explain("PA401");
    assert!(
        client.contains("Then what the function does with it"),
        "{client}"
    );
    assert!(client.contains("The worst case is that of what it then does"));
    assert!(!http.contains("Then what the function does with it"));
    // Each rule's account is its own.
    assert_ne!(http, explain("PA106"));
}
