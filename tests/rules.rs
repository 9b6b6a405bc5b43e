//! Rule fixtures: `tests/fixtures/rules/<CODE>.py` is audited with that rule alone. Each
//! `# expect: CODE severity` comment must be matched by exactly one finding on its line, and no
//! other finding may appear; the findings are also pinned by a snapshot.

use std::path::Path;

use perfaudit::report::text::finding_line;
use perfaudit::rules::RULES;
use perfaudit::testing::{actual, audit_paths, audit_snippet, expectations};

#[test]
fn rule_fixtures() {
    insta::glob!("fixtures/rules/*.py", |path| {
        let code = path.file_stem().unwrap().to_string_lossy().to_string();
        let source = std::fs::read_to_string(path).unwrap();
        let report = audit_paths(&[path], &[&code]);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let expected = expectations(&source);
        assert!(
            !expected.is_empty(),
            "{name} expects no finding: a fixture must show what fires"
        );
        assert_eq!(
            actual(&report, &name),
            expected,
            "{name}: findings differ from its `# expect:` comments"
        );
        let lines: Vec<String> = report.findings.iter().map(finding_line).collect();
        insta::assert_snapshot!(lines.join("\n"));
    });
}

#[test]
fn every_rule_has_a_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules");
    for r in RULES {
        let code = r.meta().code;
        assert!(
            dir.join(format!("{code}.py")).exists(),
            "{code} has no fixture"
        );
    }
}

/// The code blocks under a heading of a rule's documentation.
fn doc_block<'a>(doc: &'a str, heading: &str) -> &'a str {
    let after = doc
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("no {heading}"));
    let start = after.find("```python\n").expect("python block") + 10;
    let len = after[start..].find("```").expect("closing fence");
    &after[start..start + len]
}

#[test]
fn doc_examples_fire_and_alternatives_do_not() {
    for r in RULES {
        let m = r.meta();
        if m.code == "PA001" {
            continue;
        }
        let example = audit_snippet("example.py", doc_block(m.doc, "## Example"), &[m.code]);
        assert!(
            example.findings.iter().any(|f| f.code == m.code),
            "{}: its documented Example does not fire",
            m.code
        );
        let fixed = audit_snippet("fixed.py", doc_block(m.doc, "## Use instead"), &[m.code]);
        assert!(
            // Information (a startup load's footprint) is not a hotspot.
            fixed
                .findings
                .iter()
                .all(|f| f.code != m.code || f.severity == perfaudit::finding::Severity::Info),
            "{}: its documented `Use instead` fires",
            m.code
        );
    }
}

#[test]
fn readme_lists_every_rule() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for r in RULES {
        let m = r.meta();
        assert!(
            readme.contains(&format!("| `{}` | {} |", m.code, m.name)),
            "README.md's rule table lacks {} {}",
            m.code,
            m.name
        );
    }
}

/// A hook that reads every expression: the walk's choice of which hooks see which kinds of
/// expression (`AstRule::exprs`) must not change what any hook reports.
struct EveryExpr<'a>(&'a dyn perfaudit::facts::collect::AstRule);

impl perfaudit::facts::collect::AstRule for EveryExpr<'_> {
    fn code(&self) -> &'static str {
        self.0.code()
    }
    fn check_stmt(
        &self,
        stmt: &ruff_python_ast::Stmt,
        cx: &mut perfaudit::facts::collect::LocalContext,
    ) {
        self.0.check_stmt(stmt, cx);
    }
    fn check_expr(
        &self,
        expr: &ruff_python_ast::Expr,
        cx: &mut perfaudit::facts::collect::LocalContext,
    ) {
        self.0.check_expr(expr, cx);
    }
    fn finish(
        &self,
        body: &[ruff_python_ast::Stmt],
        cx: &mut perfaudit::facts::collect::ModuleEnd,
    ) {
        self.0.finish(body, cx);
    }
}

#[test]
fn hooks_declare_every_expression_kind_they_read() {
    use perfaudit::knowledge::catalog::Catalog;
    use perfaudit::knowledge::contexts::ContextPatterns;
    use perfaudit::module::analyze::analyze_source;
    let hooks = perfaudit::audit::ast_hooks(RULES);
    let every: Vec<EveryExpr> = hooks.iter().map(|h| EveryExpr(*h)).collect();
    let every: Vec<&dyn perfaudit::facts::collect::AstRule> = every
        .iter()
        .map(|h| h as &dyn perfaudit::facts::collect::AstRule)
        .collect();
    let settings = perfaudit::settings::Settings::default();
    let catalog = Catalog::with_extensions(&[]);
    let patterns = ContextPatterns::builtin();
    let mut files = 0;
    let mut candidates = 0;
    for dir in ["tests/fixtures/rules", "examples/agent_system"] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut stack = vec![root];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "py") {
                    continue;
                }
                let Ok(source) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let run = |hooks: &[&dyn perfaudit::facts::collect::AstRule]| {
                    let facts =
                        analyze_source(&source, "m.py", &settings, &catalog, &patterns, hooks);
                    format!("{:?}", facts.candidates)
                };
                let (chosen, all) = (run(&hooks), run(&every));
                assert_eq!(chosen, all, "{}", path.display());
                files += 1;
                candidates += chosen.matches("Candidate {").count();
            }
        }
    }
    assert!(
        files > 40 && candidates > 100,
        "{files} files, {candidates} candidates"
    );
}
