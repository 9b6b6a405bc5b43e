//! The shipped API catalog passes its own schema check (`bench/calibrate/check_catalog.py`:
//! fields, effects, sorted unique names, sources), which the Rust loader alone does not enforce.

use std::process::Command;

#[test]
fn the_catalog_passes_its_schema_check() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("python3")
        .arg(format!("{root}/bench/calibrate/check_catalog.py"))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "check_catalog.py failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
