//! Context follows the receiver's type (issue 15, shape 4), asked of the call graph directly:
//! the startup overrides that a class built per request used to make "per request" are still
//! reached, at startup, and no longer in a request context.

use std::path::Path;

use perfaudit::knowledge::catalog::Catalog;
use perfaudit::knowledge::contexts::ContextPatterns;
use perfaudit::knowledge::frameworks::Frameworks;
use perfaudit::module::analyze::analyze_source;
use perfaudit::project::resolve::FnRef;
use perfaudit::project::{CtxKind, Project};
use perfaudit::settings::Settings;

const FILES: &[&str] = &[
    "common/__init__.py",
    "common/base.py",
    "agents/translator.py",
    "agents/speech.py",
    "agents/coordinator.py",
];

fn project() -> Project {
    let root =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/projects/subclass_dispatch");
    let settings = Settings::default();
    let catalog = Catalog::with_extensions(&[]);
    let patterns = ContextPatterns::builtin();
    let modules = FILES
        .iter()
        .map(|rel| {
            let text = std::fs::read_to_string(root.join(rel)).unwrap();
            analyze_source(&text, rel, &settings, &catalog, &patterns, &[])
        })
        .collect();
    Project::new(modules, patterns, Frameworks::builtin(), None)
}

fn function(p: &Project, path: &str, qualname: &str) -> FnRef {
    let (mi, m) = p
        .modules
        .iter()
        .enumerate()
        .find(|(_, m)| m.path == path)
        .unwrap_or_else(|| panic!("no module {path}"));
    let fi = m
        .functions
        .iter()
        .position(|f| f.qualname == qualname)
        .unwrap_or_else(|| panic!("no function {qualname} in {path}"));
    FnRef {
        module: mi as u32,
        func: fi as u32,
    }
}

const REQUEST: [CtxKind; 2] = [CtxKind::RequestLoop, CtxKind::Request];

#[test]
fn startup_overrides_stay_at_startup() {
    let p = project();
    for (path, qualname) in [
        ("agents/translator.py", "Translator._init_sockets"),
        ("agents/translator.py", "Translator.cleanup"),
        ("agents/coordinator.py", "Coordinator._init_sockets"),
    ] {
        let f = function(&p, path, qualname);
        for kind in REQUEST {
            assert!(
                p.graph.reach(f, kind).is_none(),
                "{qualname} is reached in {kind:?}: {:?}",
                p.graph.chain_to(f, kind)
            );
        }
        assert!(
            p.graph.reach(f, CtxKind::Startup).is_some(),
            "{qualname} is no longer reached at startup"
        );
    }
}

#[test]
fn own_overrides_run_per_request() {
    let p = project();
    // Built per request, then run: its own override runs on every request.
    let task = function(&p, "agents/coordinator.py", "SummaryTask._init_sockets");
    let chain: Vec<String> = p
        .graph
        .chain_to(task, CtxKind::RequestLoop)
        .iter()
        .map(|(f, _, _)| {
            p.modules[f.module as usize].functions[f.func as usize]
                .qualname
                .clone()
        })
        .collect();
    assert_eq!(
        chain,
        [
            "BaseAgent.run",
            "Coordinator.handle_request",
            "BaseAgent.run_once"
        ]
    );
    // Entered through SpeechAgent.handle_request: the base's reset() runs SpeechAgent's own.
    let speech = function(&p, "agents/speech.py", "SpeechAgent._init_sockets");
    assert!(p.graph.reach(speech, CtxKind::RequestLoop).is_some());
}
