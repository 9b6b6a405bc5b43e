//! Debug builds only: `PERFAUDIT_DEBUG_PANIC_ON=<path relative to the root>` makes the
//! analysis of that file panic, so that tests can check, through the binary, how an internal
//! error is counted and reported.
use super::*;
use crate::facts::collect::LocalContext;
use crate::module::analyze::FileResult;

struct Panics;

impl AstRule for Panics {
    fn code(&self) -> &'static str {
        "DEBUG"
    }

    fn check_stmt(&self, _stmt: &ruff_python_ast::Stmt, _cx: &mut LocalContext) {
        panic!("PERFAUDIT_DEBUG_PANIC_ON");
    }
}

pub(super) fn inject(
    f: &SourcePath,
    settings: &Settings,
    catalog: &Catalog,
    patterns: &ContextPatterns,
) -> Option<FileResult> {
    let target = std::env::var_os("PERFAUDIT_DEBUG_PANIC_ON")?;
    if target.to_str() != Some(f.rel.as_str()) {
        return None;
    }
    let bytes = std::fs::read(&f.abs).unwrap_or_default();
    Some(analyze_bytes(
        f,
        bytes,
        settings,
        catalog,
        patterns,
        &[&Panics],
    ))
}
