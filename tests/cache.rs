//! The per-module cache: a cached run and an uncached run give byte-identical JSON, a second
//! run parses nothing, touching one file re-parses that file alone, and corrupt or foreign
//! entries are ignored and rewritten rather than trusted. The run cache: a re-run on an
//! unchanged tree reuses the last result, in every format and with the output-only flags, and
//! any change that could alter the output (a file edited, added, removed or renamed, a
//! configuration file, a manifest, the flags that shape findings) makes it audit again.

use std::path::{Path, PathBuf};
use std::process::Command;

use perfaudit::dev::testing::example_copy;

/// JSON output and the cache statistics line of one run.
fn run(dir: &Path, extra: &[&str]) -> (String, String) {
    let mut args = vec!["--format", "json", "--isolated"];
    args.extend(extra);
    audit(dir, &args)
}

/// Standard output and the cache statistics line of one run with these arguments.
fn audit(dir: &Path, args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_perfaudit"))
        .arg("audit")
        .arg(dir)
        .args(["--fail-on", "never"])
        .args(args)
        .env("PERFAUDIT_TIMINGS", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let stats = stderr
        .lines()
        .find(|l| l.starts_with("cache: "))
        .unwrap_or("")
        .to_owned();
    (String::from_utf8(out.stdout).unwrap(), stats)
}

#[test]
fn cached_runs_match_uncached_runs() {
    let (_tmp, root) = example_copy();
    let modules = {
        let (json, _) = run(&root, &["--no-cache"]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["summary"]["files_scanned"].as_u64().unwrap()
    };
    assert!(!root.join(".perfaudit_cache").exists(), "--no-cache wrote");

    let (uncached, _) = run(&root, &["--no-cache"]);
    let (cold, stats) = run(&root, &[]);
    assert_eq!(stats, format!("cache: 0 modules reused, {modules} parsed"));
    assert!(
        cold == uncached,
        "cold cached run differs from uncached run"
    );
    assert_eq!(
        std::fs::read_to_string(root.join(".perfaudit_cache/.gitignore")).unwrap(),
        "*\n"
    );

    let (warm, stats) = run(&root, &[]);
    assert_eq!(
        stats,
        format!("cache: the last run's result reused, {modules} modules unchanged")
    );
    assert!(
        warm == uncached,
        "warm cached run differs from uncached run"
    );
    // Without the run's result, every module's facts come from the cache.
    forget_run(&root);
    let (warm, stats) = run(&root, &[]);
    assert_eq!(stats, format!("cache: {modules} modules reused, 0 parsed"));
    assert!(
        warm == uncached,
        "warm cached run differs from uncached run"
    );

    // Edit one module: only it is parsed again, and the result matches a fresh audit.
    let edited = root.join("agents/gateway.py");
    let mut text = std::fs::read_to_string(&edited).unwrap();
    text.push_str("\n\nasync def added():\n    import time\n    time.sleep(3)\n");
    std::fs::write(&edited, text).unwrap();
    let (after_edit, stats) = run(&root, &[]);
    assert_eq!(
        stats,
        format!("cache: {} modules reused, 1 parsed", modules - 1)
    );
    let (fresh, _) = run(&root, &["--no-cache"]);
    assert!(after_edit == fresh, "cached run after an edit differs");
    assert!(after_edit != uncached, "the edit was not seen");
}

#[test]
fn corrupt_entries_are_rewritten_not_trusted() {
    let (_tmp, root) = example_copy();
    let (uncached, _) = run(&root, &["--no-cache"]);
    run(&root, &[]);
    let dir = root.join(format!(
        ".perfaudit_cache/v{}",
        perfaudit::module::cache::CACHE_FORMAT
    ));
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with(perfaudit::audit::RUN_CACHE_ENTRY))
        .collect();
    entries.sort();
    assert!(entries.len() > 4);
    // Truncated, garbage, an entry moved under another module's name, and a flipped bit.
    let truncated = std::fs::read(&entries[0]).unwrap();
    std::fs::write(&entries[0], &truncated[..truncated.len() / 2]).unwrap();
    std::fs::write(&entries[1], b"\x00\xffnot an entry").unwrap();
    std::fs::copy(&entries[3], &entries[2]).unwrap();
    // One flipped bit in the middle of an entry.
    let mut flipped = std::fs::read(&entries[4]).unwrap();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x10;
    std::fs::write(&entries[4], flipped).unwrap();
    forget_run(&root);
    let (json, stats) = run(&root, &[]);
    assert!(json == uncached, "a damaged cache changed the output");
    assert!(stats.ends_with(", 4 parsed"), "{stats}");
    forget_run(&root);
    let (_, stats) = run(&root, &[]);
    assert!(
        stats.ends_with(", 0 parsed"),
        "damaged entries not rewritten: {stats}"
    );
}

fn run_entry(root: &Path) -> PathBuf {
    root.join(format!(
        ".perfaudit_cache/v{}/{}",
        perfaudit::module::cache::CACHE_FORMAT,
        perfaudit::audit::RUN_CACHE_ENTRY
    ))
}

/// Removes the last run's result, so that the next run reads every module's facts.
fn forget_run(root: &Path) {
    std::fs::remove_file(run_entry(root)).unwrap();
}

const REUSED: &str = "cache: the last run's result reused";

/// The text report without the run's duration (the end of its first line).
fn without_time(text: &str) -> String {
    let (first, rest) = text.split_once('\n').unwrap();
    let first = first.rsplit_once(", in ").map_or(first, |(head, _)| head);
    format!("{first}\n{rest}")
}

#[test]
fn an_unchanged_tree_reuses_the_last_result_in_every_format() {
    let (tmp, root) = example_copy();
    for format in [
        "json", "text", "sarif", "markdown", "csv", "github", "gitlab", "html",
    ] {
        let base = ["--isolated", "--format", format];
        let (fresh, _) = audit(&root, &[&base[..], &["--no-cache"]].concat());
        audit(&root, &base);
        let (reused, stats) = audit(&root, &base);
        assert!(stats.starts_with(REUSED), "{format}: {stats}");
        assert_eq!(without_time(&reused), without_time(&fresh), "{format}");
    }
    // Flags that only shape the output apply to a reused result as to a fresh one.
    // Outside the audited tree: a JSON file inside it may be a manifest.
    let baseline = tmp.path().join("baseline.json");
    run(
        &root,
        &["--no-cache", "--write-baseline", baseline.to_str().unwrap()],
    );
    // Drop one finding from the baseline, so that one is new.
    let mut known: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    let list = known
        .as_object_mut()
        .and_then(|o| o.values_mut().find_map(|v| v.as_array_mut()))
        .expect("a baseline lists findings");
    assert!(list.len() > 1);
    list.remove(0);
    std::fs::write(&baseline, known.to_string()).unwrap();
    let flags: [&[&str]; 3] = [
        &["--show-suppressed"],
        &["--baseline", baseline.to_str().unwrap()],
        &["--threads", "1", "--quiet"],
    ];
    for extra in flags {
        let (fresh, _) = run(&root, &[extra, &["--no-cache"]].concat());
        let (reused, stats) = run(&root, extra);
        assert!(stats.starts_with(REUSED), "{extra:?}: {stats}");
        assert!(reused == fresh, "{extra:?}: a reused result differs");
    }
}

/// One change to the tree, audited: the run does not reuse the last result, and its output
/// is what an uncached run gives, and differs from the output before the change.
fn assert_seen(root: &Path, before: &str, args: &[&str], what: &str) -> String {
    let (after, stats) = audit(root, args);
    assert!(
        !stats.starts_with(REUSED),
        "{what}: the last result was reused"
    );
    let (fresh, _) = audit(root, &[args, &["--no-cache"]].concat());
    assert!(after == fresh, "{what}: differs from an uncached run");
    assert!(after != before, "{what}: the output did not change");
    // And the next run reuses the new result.
    let (again, stats) = audit(root, args);
    assert!(stats.starts_with(REUSED), "{what}, again: {stats}");
    assert!(again == after, "{what}: the reused result differs");
    after
}

#[test]
fn any_change_that_could_alter_the_output_audits_again() {
    let (_tmp, root) = example_copy();
    let json: &[&str] = &["--format", "json", "--isolated"];
    let (mut before, _) = audit(&root, json);
    let blocking = "\n\nasync def added():\n    import time\n    time.sleep(3)\n";

    let edited = root.join("agents/gateway.py");
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, format!("{text}{blocking}")).unwrap();
    before = assert_seen(&root, &before, json, "a file edited");

    let added = root.join("agents/added.py");
    std::fs::write(&added, blocking).unwrap();
    before = assert_seen(&root, &before, json, "a file added");

    let renamed = root.join("agents/renamed.py");
    std::fs::rename(&added, &renamed).unwrap();
    before = assert_seen(&root, &before, json, "a file renamed");

    std::fs::remove_file(&renamed).unwrap();
    before = assert_seen(&root, &before, json, "a file removed");

    // A manifest: the services it declares decide which code runs per request.
    let manifest = root.join("startup_config.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let fewer: String = text
        .lines()
        .take(text.lines().count() / 2)
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&manifest, fewer).unwrap();
    before = assert_seen(&root, &before, json, "a manifest edited");

    // Flags that shape findings.
    before = assert_seen(
        &root,
        &before,
        &[json, &["--select", "PA1"]].concat(),
        "--select",
    );
    before = assert_seen(&root, &before, json, "--select dropped");
    assert_seen(
        &root,
        &before,
        &[json, &["--include-not-run"]].concat(),
        "--include-not-run",
    );

    // A configuration file (read without --isolated).
    let plain: &[&str] = &["--format", "json"];
    let (before, _) = audit(&root, plain);
    std::fs::write(
        root.join("pyproject.toml"),
        "[tool.perfaudit]\nignore = [\"PA202\"]\n",
    )
    .unwrap();
    let before = assert_seen(&root, &before, plain, "a configuration file");

    // A damaged result is not trusted.
    std::fs::write(run_entry(&root), b"{\"format\": 1, \"key\"").unwrap();
    let (after, stats) = audit(&root, plain);
    assert!(!stats.starts_with(REUSED), "{stats}");
    assert!(after == before);
}
