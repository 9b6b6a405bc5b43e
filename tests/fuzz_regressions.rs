//! Replays every input under `tests/fixtures/fuzz/<target>/` through the harness its fuzz target
//! runs (`perfaudit::fuzzing`): each crash a fuzzer ever found stays fixed. The harnesses panic
//! on a broken invariant (a finding outside its file, a syntax error without exactly one PA001,
//! a configuration loader that panics instead of returning an error, a report that does not
//! parse), so a replay passes when no input panics.

use std::path::{Path, PathBuf};

/// The inputs of one target, sorted.
fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `harness` on every input of `target`, each on a thread with the main thread's stack
/// size (where the fuzzer runs it), and lists every input that panicked.
fn replay(target: &str, harness: fn(&[u8])) {
    let files = inputs(target);
    assert!(!files.is_empty(), "no inputs for {target}");
    let mut failed = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).expect("read input");
        let outcome = std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(move || harness(&bytes))
            .expect("spawn")
            .join();
        if outcome.is_err() {
            failed.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    assert!(failed.is_empty(), "{target} inputs that fail: {failed:?}");
}

#[test]
fn module_inputs() {
    replay("module", perfaudit::fuzzing::module);
}

#[test]
fn project_inputs() {
    replay("project", perfaudit::fuzzing::project);
}

#[test]
fn config_inputs() {
    replay("config", perfaudit::fuzzing::config);
}
