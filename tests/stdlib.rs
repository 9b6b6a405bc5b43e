//! The machine's Python standard library as a corpus of code nobody here wrote: the audit must
//! finish, report every file that does not parse as PA001 exactly once while still analysing
//! it, account for every file it found, and give byte-identical JSON on one and two threads.

use std::path::{Path, PathBuf};
use std::process::Command;

use perfaudit::settings::Settings;

fn stdlib() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .ok()?;
    let p = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    p.is_dir().then_some(p)
}

fn json(threads: usize, root: &Path) -> (String, perfaudit::audit::AuditReport) {
    let settings = Settings {
        paths: vec![root.to_path_buf()],
        threads,
        ..Default::default()
    };
    let report = perfaudit::audit::run(&settings).unwrap();
    let mut out = Vec::new();
    perfaudit::report::json::write(&report, &mut out).unwrap();
    (String::from_utf8(out).unwrap(), report)
}

#[test]
fn stdlib_sweep_is_complete_and_deterministic() {
    let Some(root) = stdlib() else {
        eprintln!("no python3 stdlib found; skipped");
        return;
    };
    let (one, report) = json(1, &root);
    let (two, _) = json(2, &root);
    assert!(
        one == two,
        "JSON differs between --threads 1 and --threads 2"
    );

    let walked = perfaudit::discover::discover(
        std::slice::from_ref(&root),
        &globset::GlobSet::empty(),
        false,
    );
    let skipped = report
        .diagnostics
        .iter()
        .filter(|d| d.message.starts_with("skipped") || d.message.starts_with("cannot"))
        .count();
    assert_eq!(
        report.files_scanned + skipped,
        walked.files.len(),
        "a file was silently lost"
    );

    let broken: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.code == "PA001")
        .map(|f| f.path.as_str())
        .collect();
    let mut unique = broken.clone();
    unique.dedup();
    assert_eq!(
        unique.len(),
        broken.len(),
        "a broken file was reported twice"
    );
    assert_eq!(broken.len(), report.files_unparsable);
    assert!(
        report.files_unparsable > 0,
        "the stdlib ships deliberately broken files"
    );
}
