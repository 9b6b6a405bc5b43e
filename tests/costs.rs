//! Cost fixtures: a project fixture under `tests/fixtures/projects/` may hold a `costs.txt`
//! that pins, per finding, the band, the typical range, the worst case and words of the basis:
//!
//! `path:line CODE severity ~range | worst (or none) | substring of the basis | ...`
//!
//! (`tests/projects.rs` pins the same fixtures' findings and chains.)

use std::path::Path;

use perfaudit::rules::cost::{fmt_ms, fmt_range};
use perfaudit::testing::{audit_paths, fixture_spec, project_fixtures};

#[test]
fn cost_fixtures() {
    let dirs = project_fixtures(Path::new(env!("CARGO_MANIFEST_DIR")), "costs.txt");
    assert!(!dirs.is_empty());
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let (select, _) = fixture_spec(&dir);
        let select: Vec<&str> = select.iter().map(String::as_str).collect();
        let report = audit_paths(&[dir.as_path()], &select);
        let costs = std::fs::read_to_string(dir.join("costs.txt")).unwrap();
        for line in costs
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let mut parts = line.split(" | ");
            let head: Vec<&str> = parts.next().unwrap().splitn(4, ' ').collect();
            let [at, code, severity, range] = head[..] else {
                panic!("{name}: bad line {line:?}");
            };
            let worst = parts.next().unwrap_or("none");
            let words: Vec<&str> = parts.collect();
            let Some(f) = report
                .findings
                .iter()
                .find(|f| format!("{}:{}", f.path, f.line) == at && f.code == code)
            else {
                failures.push(format!("{name}: no {code} at {at}"));
                continue;
            };
            let e = f
                .estimate
                .as_ref()
                .expect("a latency finding has an estimate");
            let got = (
                f.severity.as_str().to_owned(),
                format!("~{}", fmt_range(e.low_ms, e.high_ms)),
                e.worst_ms.map_or_else(|| "none".to_owned(), fmt_ms),
            );
            let want = (severity.to_owned(), range.to_owned(), worst.to_owned());
            if got != want {
                failures.push(format!(
                    "{name} {at} {code}: expected {want:?}, got {got:?}"
                ));
            }
            for w in words {
                if !e.basis.contains(w) {
                    failures.push(format!(
                        "{name} {at} {code}: basis lacks {w:?}: {}",
                        e.basis
                    ));
                }
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 0);
}
