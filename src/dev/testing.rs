//! Helpers shared by the test suites: audit a snippet or a fixture with chosen rules, read the
//! expectations a fixture writes in its comments, and copy a tree to audit with a cache.
//!
//! A fixture line that must produce a finding ends with `# expect: CODE severity` (several may
//! be separated by `;`). Every other line must stay silent; traps carry a `# ok: reason` comment
//! for the reader.

use std::path::{Path, PathBuf};

use crate::audit::{AuditReport, run};
use crate::settings::{Format, Settings};

/// Audits `paths` with only the rules whose codes start with one of `select`.
pub fn audit_paths(paths: &[&Path], select: &[&str]) -> AuditReport {
    let settings = Settings {
        paths: paths.iter().map(|p| p.to_path_buf()).collect(),
        select: select.iter().map(|s| s.to_string()).collect(),
        threads: 1,
        format: Format::Json,
        progress: false,
        quiet: true,
        ..Settings::default()
    };
    run(&settings).expect("audit runs")
}

/// The project fixtures (folders of `tests/fixtures/projects/` under `root`) that hold a file
/// named `marker`, sorted.
pub fn project_fixtures(root: &Path, marker: &str) -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(root.join("tests/fixtures/projects"))
        .expect("project fixtures")
        .map(|e| e.expect("fixture entry").path())
        .filter(|p| p.join(marker).exists())
        .collect();
    dirs.sort();
    dirs
}

/// The rules a project fixture's `expected.txt` selects (its `# select: CODES` line), and the
/// file's text.
pub fn fixture_spec(dir: &Path) -> (Vec<String>, String) {
    let spec = std::fs::read_to_string(dir.join("expected.txt")).expect("expected.txt");
    let select = spec
        .lines()
        .find_map(|l| l.strip_prefix("# select:"))
        .unwrap_or_else(|| panic!("{}: expected.txt needs a `# select:` line", dir.display()))
        .split(',')
        .map(|s| s.trim().to_owned())
        .collect();
    (select, spec)
}

/// Audits one snippet of Python source, written to a temporary file named `name`.
pub fn audit_snippet(name: &str, source: &str, select: &[&str]) -> AuditReport {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, source).expect("write snippet");
    audit_paths(&[dir.path()], select)
}

/// `(line, code, severity)` triples a fixture expects, from its `# expect:` comments.
pub fn expectations(source: &str) -> Vec<(u32, String, String)> {
    let mut out = Vec::new();
    for (i, line) in source.lines().enumerate() {
        let Some(pos) = line.find("# expect:") else {
            continue;
        };
        for part in line[pos + 9..].split(';') {
            let mut words = part.split_whitespace();
            if let (Some(code), Some(sev)) = (words.next(), words.next()) {
                out.push((i as u32 + 1, code.to_owned(), sev.to_owned()));
            }
        }
    }
    out.sort();
    out
}

/// `(line, code, severity)` triples of a report's findings in one file.
pub fn actual(report: &AuditReport, path: &str) -> Vec<(u32, String, String)> {
    let mut out: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.path == path)
        .map(|f| (f.line, f.code.to_owned(), f.severity.as_str().to_owned()))
        .collect();
    out.sort();
    out
}

/// Copies the tree at `from` to `to`, leaving out any `.perfaudit_cache` folder.
pub fn copy_tree(from: &Path, to: &Path) {
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

/// A copy of `examples/agent_system` in a temporary folder (removed with the returned guard),
/// as (the guard, the copy's root).
pub fn example_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("agent_system");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/agent_system"),
        &root,
    );
    (tmp, root)
}

/// The facts of every Python file of `examples/agent_system`, summarised with the default
/// settings, catalog and context patterns, in path order (for unit tests of the project stage).
pub fn example_modules() -> Vec<crate::facts::ModuleFacts> {
    fn sources(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                sources(&p, root, out);
            } else if p.extension().is_some_and(|x| x == "py") {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/agent_system");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    let (settings, catalog) = (
        Settings::default(),
        crate::knowledge::catalog::Catalog::with_extensions(&[]),
    );
    let patterns = crate::knowledge::contexts::ContextPatterns::builtin();
    files
        .iter()
        .map(|(rel, text)| {
            crate::module::analyze::analyze_source(text, rel, &settings, &catalog, &patterns, &[])
        })
        .collect()
}
