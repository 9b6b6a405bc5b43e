//! The machine's Python standard library as a corpus of code nobody here wrote, audited by the
//! binary through `tests/corpus_sweep.py` (the script that `tests/corpus-sweep.sh` also runs,
//! in release mode, over every site-packages directory): the audit must finish with exit code
//! 0 or 1, account for every `.py` file that os.walk finds (directories that default discovery
//! leaves out are passed explicitly), report every file that does not parse as PA001 exactly
//! once while still analysing it, agree with Python's own parser on those files, and give
//! byte-identical JSON on one and two threads.

use std::path::Path;
use std::process::Command;

#[test]
fn stdlib_sweep_is_complete_and_deterministic() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus_sweep.py");
    let out = match Command::new("python3")
        .arg(&script)
        .args(["--perfaudit", env!("CARGO_BIN_EXE_perfaudit")])
        .args(["--corpus", "stdlib", "--threads", "1,2"])
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("no python3 ({e}); skipped");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("perfaudit scanned"), "{stdout}");
}
