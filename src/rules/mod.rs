//! The rule registry. Each rule lives in its own file with its user documentation; this module
//! lists them in one const slice and holds the helpers they share.
//!
//! A rule either inspects the linked project (call sites with their contexts) in `check`, or
//! also contributes an AST-level hook that the module pass runs (`ast_rule`), whose candidates
//! the rule then turns into findings in `check`.

pub mod blocking;
pub mod syntax_error;
pub mod unused_suppression;

use serde::Serialize;

use crate::catalog::Catalog;
use crate::facts::Call;
use crate::facts::collect::AstRule;
use crate::finding::{Confidence, Estimate, Finding, Severity};
use crate::project::{CallContext, Project};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Syntax,
    Blocking,
    Models,
    Cpu,
    Pooling,
    Caching,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Syntax => "syntax",
            Category::Blocking => "blocking",
            Category::Models => "models-memory",
            Category::Cpu => "cpu",
            Category::Pooling => "pooling",
            Category::Caching => "caching",
        }
    }
}

/// What a rule is, for `perfaudit rules`, `perfaudit rule CODE` and report rule lists.
#[derive(Debug, Serialize)]
pub struct RuleMeta {
    pub code: &'static str,
    pub name: &'static str,
    pub category: Category,
    /// The severity the rule usually yields; the actual one comes from the cost model.
    pub default_severity: Severity,
    pub summary: &'static str,
    /// Markdown: What it does / Why is this slow? / Example / Use instead / ...
    #[serde(skip)]
    pub doc: &'static str,
}

pub struct RuleContext<'a> {
    pub project: &'a Project,
    pub catalog: &'a Catalog,
}

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>);
    fn ast_rule(&self) -> Option<&dyn AstRule> {
        None
    }
}

/// Every rule, in code order.
pub static RULES: &[&dyn Rule] = &[
    &syntax_error::SyntaxError,
    &unused_suppression::UnusedSuppression,
    &blocking::blocking_sleep_in_async::BlockingSleepInAsync,
    &blocking::blocking_http_in_async::BlockingHttpInAsync,
    &blocking::blocking_file_io_in_async::BlockingFileIoInAsync,
    &blocking::blocking_subprocess_in_async::BlockingSubprocessInAsync,
    &blocking::blocking_fs_walk_in_async::BlockingFsWalkInAsync,
    &blocking::blocking_db_in_async::BlockingDbInAsync,
    &blocking::blocking_redis_in_async::BlockingRedisInAsync,
    &blocking::blocking_browser_in_async::BlockingBrowserInAsync,
    &blocking::blocking_input_in_async::BlockingInputInAsync,
];

pub fn find_rule(code: &str) -> Option<&'static dyn Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.meta().code.eq_ignore_ascii_case(code))
}

/// Builds a finding at a call site, reached through `ctx`.
#[allow(clippy::too_many_arguments)]
pub fn call_finding(
    meta: &'static RuleMeta,
    project: &Project,
    module: usize,
    call: &Call,
    ctx: &CallContext,
    estimate: Option<Estimate>,
    severity: Severity,
    message: String,
    help: String,
) -> Finding {
    let m = &project.modules[module];
    let confidence = match call.resolution {
        crate::facts::Resolution::Inferred => ctx.confidence.min(Confidence::Probable),
        _ => ctx.confidence,
    };
    Finding {
        code: meta.code,
        name: meta.name,
        severity,
        confidence,
        path: m.path.clone(),
        line: call.line,
        column: call.column,
        end_line: call.end_line,
        end_column: call.end_column,
        function: m.functions[call.func as usize].qualname.clone(),
        context: ctx.kind.as_str().to_owned(),
        estimate,
        memory_mb: None,
        chain: ctx.chain.clone(),
        agents: Vec::new(),
        reachable: project.is_reachable(module, call.func),
        message,
        help,
        snippet: call.target.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_unique_and_sorted() {
        for w in RULES.windows(2) {
            assert!(
                w[0].meta().code < w[1].meta().code,
                "{} / {}",
                w[0].meta().code,
                w[1].meta().code
            );
        }
        let mut names: Vec<_> = RULES.iter().map(|r| r.meta().name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), RULES.len(), "rule names must be unique");
    }

    #[test]
    fn every_rule_documents_its_sections() {
        for r in RULES {
            let m = r.meta();
            for section in [
                "## What it does",
                "## Why is this slow?",
                "## Example",
                "## Use instead",
            ] {
                assert!(m.doc.contains(section), "{} lacks `{section}`", m.code);
            }
            assert!(m.code.starts_with("PA") && m.code.len() == 5, "{}", m.code);
            assert!(!m.summary.is_empty());
        }
    }
}
