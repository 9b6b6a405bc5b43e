//! The per-module cache: a cached run and an uncached run give byte-identical JSON, a second
//! run parses nothing, touching one file re-parses that file alone, and corrupt or foreign
//! entries are ignored and rewritten rather than trusted.

use std::path::{Path, PathBuf};
use std::process::Command;

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != ".perfaudit_cache" {
                copy_tree(&e.path(), &target);
            }
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// JSON output and the cache statistics line of one run.
fn run(dir: &Path, extra: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_perfaudit"))
        .arg("audit")
        .arg(dir)
        .args(["--format", "json", "--fail-on", "never", "--isolated"])
        .args(extra)
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

fn example_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("agent_system");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/agent_system"),
        &root,
    );
    (tmp, root)
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
    let (json, stats) = run(&root, &[]);
    assert!(json == uncached, "a damaged cache changed the output");
    assert!(stats.ends_with(", 4 parsed"), "{stats}");
    let (_, stats) = run(&root, &[]);
    assert!(
        stats.ends_with(", 0 parsed"),
        "damaged entries not rewritten: {stats}"
    );
}
