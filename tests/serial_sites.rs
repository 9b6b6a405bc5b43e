//! `Project::may_be_serial` is the cheap test PA115 asks before costing a call: it must hold at
//! every call whose executions include a serial one (else PA115 would drop a finding), here on
//! fixtures with serial servers, a threaded one and receive loops.

use std::path::Path;

use perfaudit::knowledge::catalog::Catalog;
use perfaudit::knowledge::contexts::ContextPatterns;
use perfaudit::knowledge::frameworks::Frameworks;
use perfaudit::module::analyze::analyze_source;
use perfaudit::project::Project;
use perfaudit::project::context::Site;
use perfaudit::settings::Settings;

fn project(files: &[(&str, &str)]) -> Project {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let settings = Settings::default();
    let catalog = Catalog::with_extensions(&[]);
    let patterns = ContextPatterns::builtin();
    let modules = files
        .iter()
        .map(|(path, rel)| {
            let text = std::fs::read_to_string(root.join(path)).unwrap();
            analyze_source(&text, rel, &settings, &catalog, &patterns, &[])
        })
        .collect();
    Project::new(modules, patterns, Frameworks::builtin(), None)
}

/// (calls with a serial execution, calls `may_be_serial` lets through, calls), after checking
/// that every call of the first kind is let through.
fn check(p: &Project) -> (usize, usize, usize) {
    let (mut serial, mut passed, mut all) = (0, 0, 0);
    for (mi, m) in p.modules.iter().enumerate() {
        for call in &m.calls {
            let site = Site::call(mi, call);
            let may = p.may_be_serial(&site);
            let is = p.executions(&site).iter().any(|e| e.serial);
            assert!(
                may || !is,
                "{}:{} `{}` has a serial execution",
                m.path,
                call.line,
                call.text
            );
            serial += usize::from(is);
            passed += usize::from(may);
            all += 1;
        }
    }
    (serial, passed, all)
}

#[test]
fn serial_servers_are_let_through() {
    let p = project(&[(
        "tests/fixtures/projects/stdlib_serial_server/server.py",
        "server.py",
    )]);
    let (serial, _, _) = check(&p);
    assert!(
        serial >= 2,
        "the fixture's two handlers are served serially"
    );
}

#[test]
fn receive_loops_are_let_through() {
    let p = project(&[("tests/fixtures/rules/PA115.py", "PA115.py")]);
    let (serial, passed, all) = check(&p);
    assert!(serial > 0);
    // The test filters: calls outside any request loop or serial server are not let through.
    assert!(passed < all, "{passed} of {all} calls let through");
}

#[test]
fn a_threaded_server_lets_nothing_through_by_its_role() {
    let p = project(&[(
        "tests/fixtures/projects/stdlib_threaded_server/server.py",
        "server.py",
    )]);
    let (serial, _, _) = check(&p);
    assert_eq!(serial, 0);
}
