//! Output never depends on thread timing or on the cache: JSON, SARIF and Markdown are
//! byte-identical across repeated runs with 1, 2 and 8 worker threads. And perfaudit never
//! executes what it audits: a module whose import would write a file leaves nothing behind.

use std::path::{Path, PathBuf};

use perfaudit::audit::run;
use perfaudit::settings::Settings;

fn render(paths: &[PathBuf], threads: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let settings = Settings {
        paths: paths.to_vec(),
        threads,
        ..Default::default()
    };
    let report = run(&settings).unwrap();
    let (mut json, mut sarif, mut md) = (Vec::new(), Vec::new(), Vec::new());
    perfaudit::report::json::write(&report, &mut json).unwrap();
    perfaudit::report::sarif::write(&report, &mut sarif).unwrap();
    perfaudit::report::markdown::write(&report, &mut md).unwrap();
    (json, sarif, md)
}

#[test]
fn outputs_are_identical_across_runs_and_thread_counts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let paths = vec![
        root.join("examples/agent_system"),
        root.join("tests/fixtures/projects"),
    ];
    let reference = render(&paths, 1);
    assert!(!reference.0.is_empty() && !reference.1.is_empty() && !reference.2.is_empty());
    for threads in [1, 2, 8] {
        for _ in 0..5 {
            let again = render(&paths, threads);
            assert!(
                again.0 == reference.0,
                "JSON differs with {threads} threads"
            );
            assert!(
                again.1 == reference.1,
                "SARIF differs with {threads} threads"
            );
            assert!(
                again.2 == reference.2,
                "Markdown differs with {threads} threads"
            );
        }
    }
}

#[test]
fn audited_code_is_never_imported_or_run() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("imported.marker");
    let source = format!(
        "import os, subprocess\nopen({marker:?}, 'w').write('ran')\nsubprocess.run(['touch', {marker:?}])\n\nif __name__ == '__main__':\n    os.system('touch {}')\n",
        marker.display()
    );
    std::fs::write(dir.path().join("side_effects.py"), source).unwrap();
    std::fs::write(
        dir.path().join("conftest.py"),
        format!("open({marker:?}, 'w')\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("setup.py"),
        format!("open({marker:?}, 'w')\n"),
    )
    .unwrap();
    let report = run(&Settings {
        paths: vec![dir.path().to_path_buf()],
        threads: 1,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(report.files_scanned, 3);
    assert!(!marker.exists(), "auditing ran the audited code");
}

/// The command line as users run it (configuration lookup and the cache on) over the places
/// where Python runs code by itself: a package's `__init__.py` and `__main__.py`, `.pth` files,
/// `sitecustomize.py`, and the PEP 517 build backend that pyproject.toml names.
#[test]
fn the_command_line_never_runs_audited_code_either() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let marker = p.join("ran.marker");
    let write_marker = format!("open({marker:?}, 'w').write('ran')\n");
    std::fs::create_dir(p.join("pkg")).unwrap();
    for file in [
        "pkg/__init__.py",
        "pkg/__main__.py",
        "sitecustomize.py",
        "usercustomize.py",
        "backend.py",
    ] {
        std::fs::write(p.join(file), &write_marker).unwrap();
    }
    std::fs::write(p.join("hook.pth"), format!("import os; {write_marker}")).unwrap();
    std::fs::write(
        p.join("pyproject.toml"),
        "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_perfaudit"))
        .arg("audit")
        .arg(p)
        .args(["--format", "json", "--quiet"])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["files_scanned"], 5);
    assert!(!marker.exists(), "auditing ran the audited code");
}
