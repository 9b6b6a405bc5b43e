//! PA001: a module that does not parse. Reported once per file; the module is still analysed
//! on the parser's recovered tree, so its hotspots are not lost.

use super::{Category, Rule, RuleContext, RuleMeta};
use crate::finding::{Confidence, Finding, Severity};
use crate::rules::cost::CostMeta;

pub struct SyntaxError;

static META: RuleMeta = RuleMeta {
    code: "PA001",
    name: "syntax-error",
    category: Category::Syntax,
    default_severity: Severity::Info,
    summary: "Module does not parse; analysed on the recovered tree",
    cost: CostMeta::band(
        "A file that does not parse is reported as information about the code itself.",
    ),
    doc: r#"## What it does
Reports a module with syntax errors: the first error, and how many there are.

## Why is this slow?
It is not a cost in itself. It says that the parser had to recover: the rest of the audit
still covers the module, but findings near the broken lines may be incomplete, and Python
itself will refuse to import it.

## Example
```python
def handler(request:
    return request
```

## Use instead
```python
def handler(request):
    return request
```
"#,
};

impl Rule for SyntaxError {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        for m in &cx.project.modules {
            let Some(err) = &m.syntax_error else { continue };
            let more = if err.count > 1 {
                format!(" (and {} more)", err.count - 1)
            } else {
                String::new()
            };
            out.push(Finding {
                code: META.code,
                name: META.name,
                severity: Severity::Info,
                confidence: Confidence::Definite,
                path: m.path.clone(),
                line: err.line,
                column: err.column,
                end_line: err.line,
                end_column: err.column,
                function: "<module>".to_owned(),
                context: "module".to_owned(),
                frequency: None,
                estimate: None,
                memory_mb: None,
                chain: Vec::new(),
                agents: Vec::new(),
                reachable: true,
                message: format!(
                    "syntax error: {}{more}; the rest of the module was still analysed",
                    err.message
                ),
                help: "Fix the syntax error: Python cannot import this module as it is.".to_owned(),
                snippet: String::new(),
                not_run: None,
                copies: Vec::new(),
                occurrence: 0,
            });
        }
    }
}
