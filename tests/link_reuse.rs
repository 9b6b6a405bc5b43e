//! Reusing the link stage's per-module results: an edit inside a function body relinks only
//! the edited module, and any change to what other modules' links read (a function renamed, an
//! import added, a file added, a base class edited, a function that starts handing its
//! parameter to an offload API, the settings that shape findings) relinks every module.
//! Whatever is reused, the output is the output of an audit without a cache.
use std::path::{Path, PathBuf};
use std::process::Command;

use perfaudit::dev::testing::example_copy;

/// JSON output and the line saying how many modules' link results were reused ("" when none
/// could be).
fn run(dir: &Path, extra: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_perfaudit"))
        .arg("audit")
        .arg(dir)
        .args(["--fail-on", "never", "--format", "json", "--isolated"])
        .args(extra)
        .env("PERFAUDIT_TIMINGS", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let links = stderr
        .lines()
        .find(|l| l.starts_with("links: "))
        .unwrap_or("")
        .to_owned();
    (String::from_utf8(out.stdout).unwrap(), links)
}

fn cache_dir(root: &Path) -> PathBuf {
    root.join(format!(
        ".perfaudit_cache/v{}",
        perfaudit::module::cache::CACHE_FORMAT
    ))
}

/// Replaces the one occurrence of `from` in a file.
fn edit(root: &Path, rel: &str, from: &str, to: &str) {
    let path = root.join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{from:?} in {rel}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

/// Audits the tree with its cache and without: the outputs must be equal, and the cached run
/// must have reused `expected` modules' link results of `modules`. Returns the output.
fn audit_reusing(root: &Path, expected: usize, modules: usize) -> String {
    let (cached, links) = run(root, &[]);
    let (uncached, _) = run(root, &["--no-cache"]);
    assert!(
        cached == uncached,
        "a run reusing link results differs from an audit without a cache"
    );
    assert_eq!(
        links,
        format!("links: {expected} of {modules} modules' link results reused")
    );
    cached
}

const MODULES: usize = 17;

#[test]
fn a_body_edit_relinks_only_its_module() {
    let (_tmp, root) = example_copy();
    let (cold, links) = run(&root, &[]);
    assert_eq!(
        links,
        format!("links: 0 of {MODULES} modules' link results reused")
    );
    assert!(
        cache_dir(&root)
            .join(perfaudit::audit::LINKS_CACHE_ENTRY)
            .is_file()
    );

    // A blocking call added at the top of a helper's body: every later line of the file moves.
    edit(
        &root,
        "common/utils.py",
        "    with open(path, encoding=\"utf-8\") as fh:",
        "    time.sleep(0.5)\n    with open(path, encoding=\"utf-8\") as fh:",
    );
    let edited = audit_reusing(&root, MODULES - 1, MODULES);
    assert!(edited != cold, "the edit was not seen");

    // The links of a few relinked modules are not written again: the next edit relinks the
    // first edited module too, as long as the modules relinked stay few (at most 4 here).
    edit(
        &root,
        "agents/notifier.py",
        "    def _push(self, msg: dict[str, Any]) -> dict[str, Any]:\n",
        "    def _push(self, msg: dict[str, Any]) -> dict[str, Any]:\n        self.sent = 0\n",
    );
    audit_reusing(&root, MODULES - 2, MODULES);
    // Each edit of another file adds one to the modules relinked; at five, more than four,
    // the run writes its links again and the next edit relinks one module.
    for (file, relinked) in [
        ("agents/monitor.py", 3),
        ("agents/translator.py", 4),
        ("agents/gateway.py", 5),
    ] {
        let path = root.join(file);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("\n# edited\n");
        std::fs::write(&path, text).unwrap();
        audit_reusing(&root, MODULES - relinked, MODULES);
    }
    edit(
        &root,
        "agents/notifier.py",
        "self.sent = 0",
        "self.sent = 1",
    );
    audit_reusing(&root, MODULES - 1, MODULES);
}

#[test]
fn a_change_to_what_other_modules_read_relinks_every_module() {
    let (_tmp, root) = example_copy();
    let (before, _) = run(&root, &[]);

    // A function other modules import and call, renamed: their calls no longer reach it.
    edit(
        &root,
        "common/utils.py",
        "def agent_entry(",
        "def agent_entry_renamed(",
    );
    let renamed = audit_reusing(&root, 0, MODULES);
    assert!(renamed != before, "the rename was not seen");
    edit(
        &root,
        "common/utils.py",
        "def agent_entry_renamed(",
        "def agent_entry(",
    );
    audit_reusing(&root, 0, MODULES);

    // An import added.
    edit(
        &root,
        "agents/notifier.py",
        "import smtplib\n",
        "import smtplib\nimport sqlite3\n",
    );
    audit_reusing(&root, 0, MODULES);

    // A base class edited: the subclass no longer inherits the request loop.
    edit(
        &root,
        "agents/notifier.py",
        "class Notifier(BaseAgent):",
        "class Notifier(Mailer):",
    );
    let rebased = audit_reusing(&root, 0, MODULES);
    assert!(rebased != before, "the new base was not seen");

    // A file added.
    std::fs::write(
        root.join("agents/extra.py"),
        "from common.utils import load_config\n\n\nasync def reload():\n    return load_config()\n",
    )
    .unwrap();
    audit_reusing(&root, 0, MODULES + 1);
    std::fs::remove_file(root.join("agents/extra.py")).unwrap();
    audit_reusing(&root, 0, MODULES);
}

#[test]
fn a_new_offload_wrapper_relinks_every_module() {
    let (_tmp, root) = example_copy();
    run(&root, &[]);
    // Only the body changes, but `log_event` now hands its parameter to an offload API: the
    // calls of it in other modules become offloads.
    edit(
        &root,
        "common/utils.py",
        "    event_logger.info(json.dumps(",
        "    loop.run_in_executor(None, agent)\n    event_logger.info(json.dumps(",
    );
    audit_reusing(&root, 0, MODULES);
}

#[test]
fn damaged_link_results_are_not_trusted() {
    let (_tmp, root) = example_copy();
    run(&root, &[]);
    let entry = cache_dir(&root).join(perfaudit::audit::LINKS_CACHE_ENTRY);
    let mut bytes = std::fs::read(&entry).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&entry, &bytes).unwrap();
    edit(
        &root,
        "agents/notifier.py",
        "    def _push(self, msg: dict[str, Any]) -> dict[str, Any]:\n",
        "    def _push(self, msg: dict[str, Any]) -> dict[str, Any]:\n        self.sent = 0\n",
    );
    audit_reusing(&root, 0, MODULES);
    // Rewritten: the next edit reuses them again.
    edit(
        &root,
        "agents/notifier.py",
        "self.sent = 0",
        "self.sent = 1",
    );
    audit_reusing(&root, MODULES - 1, MODULES);
}

#[test]
fn settings_that_shape_findings_relink_every_module() {
    let (_tmp, root) = example_copy();
    run(&root, &[]);
    edit(
        &root,
        "agents/notifier.py",
        "    def _push(self, msg: dict[str, Any]) -> dict[str, Any]:\n",
        "    def _push(self, msg: dict[str, Any]) -> dict[str, Any]:\n        self.sent = 0\n",
    );
    let flag = ["--include-not-run"];
    let (cached, links) = run(&root, &flag);
    let (uncached, _) = run(&root, &["--include-not-run", "--no-cache"]);
    assert!(cached == uncached, "a run with other settings differs");
    assert_eq!(
        links,
        format!("links: 0 of {MODULES} modules' link results reused")
    );
}
