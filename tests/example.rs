//! The bundled example is the product's acceptance test: `examples/agent_system/EXPECTED.md`
//! lists every planted hotspot (file:line, code, severity) and every trap. For each rule that
//! exists, every planted hotspot must be found with its severity, no trap may fire, and no
//! finding may appear that EXPECTED.md does not list. The JSON output is pinned by a snapshot.

use std::collections::BTreeSet;
use std::path::Path;

use perfaudit::rules::RULES;
use perfaudit::testing::audit_paths;

fn example() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/agent_system"
    ))
}

/// Rows of the hotspot table: (path, line, code, severity).
fn expected_hotspots() -> Vec<(String, u32, String, String)> {
    let text = std::fs::read_to_string(example().join("EXPECTED.md")).unwrap();
    let section = text
        .split("## Planted hotspots")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let mut out = Vec::new();
    for row in section.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        if cells.len() < 6 || !cells[2].starts_with('`') {
            continue;
        }
        let loc = cells[2].trim_matches('`');
        let (path, line) = loc.rsplit_once(':').unwrap();
        out.push((
            path.to_owned(),
            line.parse().unwrap(),
            cells[3].to_owned(),
            cells[4].to_owned(),
        ));
    }
    assert!(out.len() > 20, "EXPECTED.md hotspot table not found");
    out
}

/// Trap locations: (path, line).
fn traps() -> Vec<(String, u32)> {
    let text = std::fs::read_to_string(example().join("EXPECTED.md")).unwrap();
    let section = text.split("## Traps").nth(1).unwrap();
    let mut out = Vec::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let loc = row.split('|').nth(1).unwrap().trim().trim_matches('`');
        let (path, line) = loc.rsplit_once(':').unwrap();
        out.push((path.to_owned(), line.parse().unwrap()));
    }
    assert!(out.len() > 10, "EXPECTED.md trap table not found");
    out
}

#[test]
fn planted_hotspots_found_and_traps_silent() {
    let report = audit_paths(&[example()], &[]);
    let implemented: BTreeSet<&str> = RULES.iter().map(|r| r.meta().code).collect();
    // Information (startup costs, footprints) is not a hotspot; only PA001 is listed.
    let found: BTreeSet<(String, u32, String, String)> = report
        .findings
        .iter()
        .filter(|f| f.severity != perfaudit::finding::Severity::Info || f.code == "PA001")
        .map(|f| {
            (
                f.path.clone(),
                f.line,
                f.code.to_owned(),
                f.severity.as_str().to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, u32, String, String)> = expected_hotspots()
        .into_iter()
        .filter(|(_, _, code, _)| implemented.contains(code.as_str()))
        .collect();
    let missing: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing (or wrong severity): {missing:#?}\nnot in EXPECTED.md: {extra:#?}"
    );
    for (path, line) in traps() {
        let fired: Vec<_> = report
            .findings
            .iter()
            .filter(|f| {
                f.path == path && f.line == line && f.severity != perfaudit::finding::Severity::Info
            })
            .map(|f| f.code)
            .collect();
        assert!(fired.is_empty(), "trap {path}:{line} fired {fired:?}");
    }
}

#[test]
fn example_json_snapshot() {
    let report = audit_paths(&[example()], &[]);
    let mut out = Vec::new();
    perfaudit::report::json::write(&report, &mut out).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

#[test]
fn example_services_come_from_the_startup_config() {
    let report = audit_paths(&[example()], &[]);
    let names: Vec<&str> = report.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), 13, "{names:?}");
    for s in &report.services {
        assert_eq!(s.declared_in, "startup_config.yaml");
    }
}
