//! Following calls into installed libraries: a fake venv is built in a temporary folder from
//! `tests/fixtures/deps/` (its `site/` copied into `lib/python3.12/site-packages/`, a
//! `pyvenv.cfg` and a `.dist-info` beside it), no network. The project's own line is the
//! finding, its chain continues into the library, and the traps stay quiet.

use std::path::{Path, PathBuf};
use std::process::Command;

use perfaudit::audit::run;
use perfaudit::dev::testing::copy_tree;
use perfaudit::finding::{Finding, Frequency, Severity};
use perfaudit::settings::{Format, PythonEnv, Settings};

const BIN: &str = env!("CARGO_BIN_EXE_perfaudit");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/deps")
}

/// A venv at `venv` holding the fixture library `lib` 1.0, with an interpreter stub.
fn make_venv(venv: &Path) {
    let site = venv.join("lib/python3.12/site-packages");
    copy_tree(&fixtures().join("site"), &site);
    let info = site.join("lib-1.0.dist-info");
    std::fs::create_dir_all(&info).unwrap();
    std::fs::write(
        info.join("METADATA"),
        "Metadata-Version: 2.1\nName: lib\nVersion: 1.0\n",
    )
    .unwrap();
    std::fs::write(info.join("top_level.txt"), "lib\n").unwrap();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.12.1\n",
    )
    .unwrap();
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::write(venv.join("bin/python"), "").unwrap();
}

/// A temporary folder with `project/` (the fixture project) and `env/` (a venv by a name
/// that discovery does not look for).
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join("project"), &dir.path().join("project"));
    make_venv(&dir.path().join("env"));
    dir
}

fn audit(project: &Path, python: PythonEnv) -> Vec<Finding> {
    let settings = Settings {
        paths: vec![project.to_path_buf()],
        select: vec!["PA1".to_owned()],
        threads: 1,
        format: Format::Json,
        quiet: true,
        python,
        ..Settings::default()
    };
    run(&settings).expect("audit runs").findings
}

fn line_of(project: &Path, needle: &str) -> u32 {
    let text = std::fs::read_to_string(project.join("app.py")).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle}")) as u32
        + 1
}

#[test]
fn a_call_into_a_library_that_blocks_is_found_at_the_projects_line() {
    let ws = workspace();
    let project = ws.path().join("project");
    let findings = audit(&project, PythonEnv::At(ws.path().join("env")));
    let mut got: Vec<(&str, u32, Severity)> = findings
        .iter()
        .filter(|f| f.not_run.is_none())
        .map(|f| (f.code, f.line, f.severity))
        .collect();
    got.sort();
    let fetch = line_of(&project, "return lib.fetch(url)  # blocks inside");
    let pull = line_of(&project, "return client.pull()");
    let failure = line_of(&project, "only after a failure");
    let connect = line_of(&project, "blocks before its first await");
    let within = line_of(&project, "five library frames down");
    let mut want = vec![
        ("PA102", within, Severity::Medium),
        ("PA102", connect, Severity::Medium),
        ("PA102", fetch, Severity::Medium),
        ("PA102", pull, Severity::Medium),
        ("PA102", failure, Severity::Medium),
    ];
    want.sort();
    assert_eq!(got, want, "{findings:#?}");
    // Banded as `requests.get` on a route is (~30 ms typically); the except branch is capped.
    let frequency = |line: u32| findings.iter().find(|f| f.line == line).unwrap().frequency;
    assert_eq!(frequency(fetch), Some(Frequency::PerRequest));
    assert_eq!(frequency(failure), Some(Frequency::PerFailure));

    // The chain goes on into the library, down to the blocking call; library frames only.
    let f = findings.iter().find(|f| f.line == fetch).unwrap();
    let library: Vec<(&str, &str, bool)> = f
        .chain
        .iter()
        .map(|s| (s.function.as_str(), s.path.as_str(), s.library))
        .collect();
    assert_eq!(
        library,
        [
            ("fetch_route", "app.py", false),
            ("fetch", "lib/core.py", true),
            ("_get", "lib/core.py", true),
        ]
    );
    let core = std::fs::read_to_string(fixtures().join("site/lib/core.py")).unwrap();
    let get = core
        .lines()
        .position(|l| l.contains("return requests.get(url, timeout=5)"))
        .unwrap() as u32
        + 1;
    assert_eq!(
        f.chain.last().unwrap().line,
        get,
        "the line of requests.get"
    );
    assert!(f.message.contains("lib.fetch"), "{}", f.message);
    let basis = &f.estimate.as_ref().unwrap().basis;
    assert!(basis.contains("requests.get"), "{basis}");
}

#[test]
fn without_an_environment_the_same_project_has_no_such_finding() {
    let ws = workspace();
    let project = ws.path().join("project");
    let findings = audit(&project, PythonEnv::Off);
    assert!(
        findings.iter().all(|f| f.chain.iter().all(|s| !s.library)),
        "{findings:#?}"
    );
    let fetch = line_of(&project, "return lib.fetch(url)  # blocks inside");
    assert!(findings.iter().all(|f| f.line != fetch), "{findings:#?}");
}

fn perfaudit(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> (String, String) {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .args(["audit", "--select", "PA1", "--fail-on", "never"])
        .args(args)
        .env_remove("VIRTUAL_ENV")
        .env("PERFAUDIT_TIMINGS", "1")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("perfaudit runs");
    assert!(out.status.success(), "{out:?}");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Removes the last run's result (the run cache), so that the next run follows library calls
/// again, through the summary cache.
fn forget_run(project: &Path) {
    std::fs::remove_file(project.join(format!(
        ".perfaudit_cache/v{}/{}",
        perfaudit::module::cache::CACHE_FORMAT,
        perfaudit::audit::RUN_CACHE_ENTRY
    )))
    .unwrap();
}

/// `deps: P library modules parsed, F functions summarised, R summaries reused`.
fn deps_counts(stderr: &str) -> (usize, usize, usize) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("deps: "))
        .unwrap_or_else(|| panic!("no deps line in {stderr}"));
    let n: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse().ok())
        .collect();
    (n[0], n[1], n[2])
}

#[test]
fn a_second_run_reuses_the_cached_summaries_and_no_cache_bypasses_them() {
    let ws = workspace();
    let project = ws.path().join("project");
    let venv = ws.path().join("env");
    let venv = venv.to_str().unwrap();
    let (first_out, first) = perfaudit(&project, &[".", "--python", venv], &[]);
    let (parsed, summarised, reused) = deps_counts(&first);
    assert!(parsed >= 2 && summarised >= 3, "{first}");
    assert_eq!(reused, 0, "{first}");
    assert!(
        std::fs::read_dir(project.join(format!(
            ".perfaudit_cache/deps-v{}",
            perfaudit::deps::dist::FORMAT
        )))
        .unwrap()
        .any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("lib-1.0-")),
        "summaries are stored by package and version"
    );

    forget_run(&project);
    let (second_out, second) = perfaudit(&project, &[".", "--python", venv], &[]);
    let (parsed, summarised, reused) = deps_counts(&second);
    assert_eq!((parsed, summarised), (0, 0), "{second}");
    assert!(reused >= 2, "{second}");
    assert_eq!(
        first_out,
        second_out.replace(ms(&second_out), ms(&first_out))
    );

    let (_, bypass) = perfaudit(&project, &[".", "--python", venv, "--no-cache"], &[]);
    let (parsed, _, reused) = deps_counts(&bypass);
    assert!(parsed >= 2 && reused == 0, "{bypass}");
}

/// The run time in a summary line (`in 12 ms.`), which differs between runs.
fn ms(out: &str) -> &str {
    let start = out.find(" in ").unwrap() + 4;
    let end = start + out[start..].find('.').unwrap();
    &out[start..end]
}

#[test]
fn the_environment_comes_from_the_flag_virtual_env_or_a_venv_beside_the_code() {
    let ws = workspace();
    let project = ws.path().join("project");
    let venv = ws.path().join("env");
    let interpreter = venv.join("bin/python");
    let environment = |out: &str| {
        out.lines()
            .find(|l| l.starts_with("Environment: "))
            .map(str::to_owned)
    };

    let (out, _) = perfaudit(
        &project,
        &[".", "--no-cache", "--python", interpreter.to_str().unwrap()],
        &[],
    );
    let line = environment(&out).expect("an environment");
    assert!(
        line.contains("(--python)") && line.contains("6 call sites"),
        "{line}"
    );

    let (out, _) = perfaudit(&project, &[".", "--no-cache"], &[("VIRTUAL_ENV", &venv)]);
    let line = environment(&out).expect("an environment");
    assert!(
        line.contains("(VIRTUAL_ENV)") && line.contains("6 call sites"),
        "{line}"
    );

    // None found: the audit runs as before and says nothing about an environment.
    let (out, _) = perfaudit(&project, &[".", "--no-cache"], &[]);
    assert_eq!(environment(&out), None, "{out}");

    // A `.venv` in a parent of the audited folder.
    std::fs::rename(&venv, ws.path().join(".venv")).unwrap();
    let (out, _) = perfaudit(&project, &[".", "--no-cache"], &[]);
    let line = environment(&out).expect("an environment");
    assert!(line.contains("(found beside the code)"), "{line}");
    assert!(line.contains("6 call sites"), "{line}");
}

/// Every format that shows a chain marks the library frames (text, JSON, Markdown's chains,
/// GitHub annotations, SARIF code flows, the HTML page).
#[test]
fn every_format_marks_library_frames() {
    let ws = workspace();
    let project = ws.path().join("project");
    let venv = ws.path().join("env");
    for (format, marker) in [
        ("text", "(lib/core.py:17, library)"),
        ("json", "\"library\": true"),
        ("markdown", "(library lib/core.py)"),
        ("github", "lib/core.py:"),
        ("sarif", "(library)"),
        ("html", "\"library\":true"),
    ] {
        let (out, _) = perfaudit(
            &project,
            &[
                ".",
                "--no-cache",
                "--format",
                format,
                "--python",
                venv.to_str().unwrap(),
            ],
            &[],
        );
        assert!(out.contains(marker), "{format}: no `{marker}` in\n{out}");
    }
}

/// A library installed without its source (a compiled extension only) is not followed: its
/// calls fall back to the catalog, and the run goes on.
#[test]
fn a_compiled_library_falls_back_to_the_catalog() {
    let ws = workspace();
    let project = ws.path().join("project");
    let site = ws.path().join("env/lib/python3.12/site-packages");
    // `requests` as a compiled module only (no `.py`): `requests.get` is still the catalog's.
    std::fs::create_dir_all(site.join("requests")).unwrap();
    std::fs::write(
        site.join("requests/__init__.cpython-312-x86_64-linux-gnu.so"),
        b"\x7fELF",
    )
    .unwrap();
    std::fs::write(
        project.join("direct.py"),
        "import requests\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n\
         @app.get(\"/direct\")\nasync def direct(url: str):\n    return requests.get(url, timeout=5)\n",
    )
    .unwrap();
    let findings = audit(&project, PythonEnv::At(ws.path().join("env")));
    let direct: Vec<&Finding> = findings.iter().filter(|f| f.path == "direct.py").collect();
    assert_eq!(direct.len(), 1, "{findings:#?}");
    assert_eq!((direct[0].code, direct[0].line), ("PA102", 9));
    assert!(direct[0].chain.iter().all(|s| !s.library));
    assert!(
        direct[0]
            .estimate
            .as_ref()
            .unwrap()
            .basis
            .starts_with("requests.get"),
        "{:?}",
        direct[0].estimate
    );
}

/// Installs a package `name` at `version` into `site`: its `__init__.py` and `.dist-info`.
fn install(site: &Path, name: &str, version: &str, source: &str) {
    std::fs::create_dir_all(site.join(name)).unwrap();
    std::fs::write(site.join(name).join("__init__.py"), source).unwrap();
    let info = site.join(format!("{name}-{version}.dist-info"));
    std::fs::create_dir_all(&info).unwrap();
    std::fs::write(
        info.join("METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
    )
    .unwrap();
    std::fs::write(info.join("top_level.txt"), format!("{name}\n")).unwrap();
}

/// A project whose FastAPI route calls `outer.fetch`, which calls `inner.get`, which calls
/// `requests.get`: two packages installed in the workspace's environment, as (the workspace,
/// its site-packages, the project).
fn outer_through_inner() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let ws = workspace();
    let site = ws.path().join("env/lib/python3.12/site-packages");
    install(
        &site,
        "outer",
        "1.0",
        "from inner import get\n\n\ndef fetch(url):\n    return get(url)\n",
    );
    install(
        &site,
        "inner",
        "1.0",
        "import requests\n\n\ndef get(url):\n    return requests.get(url, timeout=5)\n",
    );
    let project = ws.path().join("p2");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("app.py"),
        "import outer\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n\
         @app.get(\"/x\")\nasync def x(u: str):\n    return outer.fetch(u)\n",
    )
    .unwrap();
    (ws, site, project)
}

/// A cached summary whose frames run through another package is summarised again when that
/// package alone is upgraded; the others are reused.
#[test]
fn a_summary_through_another_package_is_redone_when_that_package_changes() {
    let (ws, site, project) = outer_through_inner();
    let venv = ws.path().join("env");
    let venv = venv.to_str().unwrap();
    let (out, first) = perfaudit(&project, &[".", "--python", venv], &[]);
    assert!(out.contains("(inner/__init__.py:"), "{out}");
    let (_, summarised, _) = deps_counts(&first);
    assert!(summarised >= 1, "{first}");
    forget_run(&project);
    let (_, second) = perfaudit(&project, &[".", "--python", venv], &[]);
    assert_eq!(deps_counts(&second).1, 0, "unchanged: reused\n{second}");
    // The run's result is kept again; a package upgraded below must not reuse it.

    std::fs::rename(
        site.join("inner-1.0.dist-info"),
        site.join("inner-2.0.dist-info"),
    )
    .unwrap();
    std::fs::write(
        site.join("inner-2.0.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: inner\nVersion: 2.0\n",
    )
    .unwrap();
    let (out, third) = perfaudit(&project, &[".", "--python", venv], &[]);
    assert!(
        deps_counts(&third).1 >= 1,
        "inner upgraded: summarised again\n{third}"
    );
    assert!(out.contains("(inner/__init__.py:"), "{out}");
}

/// A library edited in place under the same version (an editable install, a patched file) is
/// summarised again, in the package the project calls and in one its frames run through; the
/// last run's result, which the edit does not change the key of, is not reused.
#[test]
fn a_library_module_edited_in_place_is_summarised_again() {
    let (ws, site, project) = outer_through_inner();
    let venv = ws.path().join("env");
    let venv = venv.to_str().unwrap();
    let (out, _) = perfaudit(&project, &[".", "--python", venv], &[]);
    assert!(out.contains("(inner/__init__.py:5, library)"), "{out}");

    // The module reached through another package no longer blocks.
    std::fs::write(
        site.join("inner/__init__.py"),
        "def get(url):\n    return url.upper()\n",
    )
    .unwrap();
    let (out, err) = perfaudit(&project, &[".", "--python", venv], &[]);
    assert!(deps_counts(&err).0 >= 1, "parsed again\n{err}");
    assert!(!out.contains("inner/__init__.py"), "{out}");

    // The called package's own module now blocks itself.
    std::fs::write(
        site.join("outer/__init__.py"),
        "import requests\n\n\ndef fetch(url):\n    return requests.get(url, timeout=9)\n",
    )
    .unwrap();
    let (out, _) = perfaudit(&project, &[".", "--python", venv], &[]);
    assert!(out.contains("(outer/__init__.py:5, library)"), "{out}");

    // Unchanged since: the run's result is reused; without it, the summaries are.
    let (_, err) = perfaudit(&project, &[".", "--python", venv], &[]);
    assert!(err.contains("the last run's result reused"), "{err}");
    forget_run(&project);
    let (_, err) = perfaudit(&project, &[".", "--python", venv], &[]);
    assert_eq!(deps_counts(&err).0, 0, "unchanged: reused\n{err}");
}

/// An environment named by `--python` or `VIRTUAL_ENV` that is none gets a note, and the audit
/// goes on without following libraries.
#[test]
fn a_named_environment_that_is_none_is_said_and_the_run_goes_on() {
    let ws = workspace();
    let project = ws.path().join("project");
    let missing = ws.path().join("no-such-venv");
    let (out, err) = perfaudit(
        &project,
        &[".", "--no-cache", "--python", missing.to_str().unwrap()],
        &[],
    );
    assert!(
        err.contains("--python names no Python environment"),
        "{err}"
    );
    assert!(out.starts_with("Found "), "{out}");
    assert!(!out.contains("Environment:"), "{out}");
    let (_, err) = perfaudit(&project, &[".", "--no-cache"], &[("VIRTUAL_ENV", &missing)]);
    assert!(
        err.contains("VIRTUAL_ENV names no Python environment"),
        "{err}"
    );
}

/// The configuration file's `python` key names the environment as `--python` does, relative
/// to the file; the flag wins over it.
#[test]
fn the_configuration_file_names_the_environment() {
    let ws = workspace();
    let project = ws.path().join("project");
    std::fs::write(
        project.join("pyproject.toml"),
        "[tool.perfaudit]\npython = \"../env\"\n",
    )
    .unwrap();
    let (out, _) = perfaudit(&project, &[".", "--no-cache"], &[]);
    let env_line = out
        .lines()
        .find(|l| l.starts_with("Environment:"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(env_line.contains("/env (--python)"), "{env_line}");
    assert!(out.contains("(lib/core.py:17, library)"), "{out}");
    let missing = ws.path().join("none");
    let (_, err) = perfaudit(
        &project,
        &[".", "--no-cache", "--python", missing.to_str().unwrap()],
        &[],
    );
    assert!(
        err.contains("--python names no Python environment"),
        "{err}"
    );
}
