//! PA306 heavy-import-in-function: a heavy library imported inside a per-request function, so
//! that the first request after each start pays the cold import.

use crate::rules::cost::{CostMeta, Scaling};
use ruff_python_ast::{ExceptHandler, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use crate::facts::collect::{AstRule, LocalContext};
use crate::facts::marks::Mark;
use crate::facts::{FnKind, ModuleFacts};
use crate::finding::{Confidence, Finding, Severity};
use crate::knowledge::catalog::{ApiId, Catalog, Effect};
use crate::project::context::Site;
use crate::rules::cost::{PerCall, fmt_range};
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct HeavyImportInFunction;

/// Exceptions that a `try: import x` catches when `x` is an optional dependency.
const IMPORT_ERRORS: &[&str] = &["ImportError", "ModuleNotFoundError"];

static META: RuleMeta = RuleMeta {
    code: "PA306",
    name: "heavy-import-in-function",
    category: Category::Cpu,
    default_severity: Severity::High,
    summary: "Heavy library imported inside a per-request function: the first request pays it",
    cost: CostMeta::calls(&[Effect::Import])
        .no_worst()
        .scaled(Scaling::FirstRequest),
    doc: r#"## What it does
Finds `import torch`, `from transformers import ...` and other imports of modules the catalog
lists as heavy (entries with the `import` effect, named after the module) inside a function
that runs per request, when the module is not already imported at the top of the same file.

## Why is this slow?
The first `import` of a large package executes thousands of modules and loads native
libraries: hundreds of milliseconds to seconds. It happens on whichever request first reaches
the import after each start or restart, so that user sees a stall that no benchmark of a warm
process shows. Later imports are only a `sys.modules` lookup.

## Example
```python
def handle_request(msg):
    import torch

    return torch.tensor(msg["vector"]).norm().item()
```

## Use instead
```python
import torch

def handle_request(msg):
    return torch.tensor(msg["vector"]).norm().item()
```

## Cost model
The catalog's cold-import range for the module, paid once (by the first request after start),
never multiplied by loops.

An import guarded by `try: ... except ImportError:` is an optional dependency: the cost is
paid only where the package is installed, so those findings carry confidence `possible`.

## Known false positives
If another module of the same process imports the package at startup, the import in the
function is already warm. A deliberately lazy import that keeps a rarely used feature from
slowing every start is a trade-off; import it in a startup hook instead to keep both.
"#,
};

impl Rule for HeavyImportInFunction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![self]
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        for (mi, m) in cx.project.modules.iter().enumerate() {
            let optional_bodies: Vec<_> = m
                .candidates
                .iter()
                .filter(|c| c.code == META.code && c.mark == Mark::OptionalImport)
                .collect();
            for c in m.candidates.iter().filter(|c| c.code == META.code) {
                let Some(api) = c.api else { continue };
                let entry = cx.catalog.get(api);
                if imported_at_top(m, &entry.name) {
                    continue;
                }
                let Some(exec) = cx.project.request_execution(&Site::candidate(mi, c)) else {
                    continue;
                };
                let per = PerCall {
                    what: format!(
                        "cold import of {} {}",
                        entry.name,
                        fmt_range(entry.low_ms, entry.high_ms)
                    ),
                    ..PerCall::entry(entry)
                };
                let cost = Costed::first_request(
                    &per,
                    &exec,
                    "paid once, by the first request that reaches it after each start; later \
                     imports are a `sys.modules` lookup",
                );
                let func = &m.functions[c.func as usize].qualname;
                let optional = optional_bodies
                    .iter()
                    .any(|b| b.func == c.func && b.line <= c.line && c.line <= b.end_line);
                let message = format!(
                    "`{}` inside `{func}`: the first request after each start pays the cold \
                     import of `{}` (~{}){}",
                    c.text,
                    entry.name,
                    cost.range(),
                    if optional {
                        "; an optional dependency, paid only where it is installed"
                    } else {
                        ""
                    }
                );
                let help = format!(
                    "Import `{}` at module level (or in a startup hook) so that the cost is paid \
                     before the service accepts requests.",
                    entry.name
                );
                let h = Hotspot::candidate(mi, c, &exec, cost);
                let mut finding = cx.emit(&META, h, message, help);
                if optional {
                    finding.confidence = finding.confidence.min(Confidence::Possible);
                }
                out.push(finding);
            }
        }
    }
}

impl AstRule for HeavyImportInFunction {
    fn code(&self) -> &'static str {
        META.code
    }

    fn check_stmt(&self, stmt: &Stmt, cx: &mut LocalContext) {
        if cx.func == 0 {
            return;
        }
        if let Stmt::Try(t) = stmt {
            if let (Some(first), Some(last)) = (t.body.first(), t.body.last())
                && t.handlers.iter().any(catches_import_error)
            {
                let body = TextRange::new(first.start(), last.end());
                cx.report(body, Mark::OptionalImport);
            }
            return;
        }
        let names: Vec<String> = match stmt {
            Stmt::Import(i) => i.names.iter().map(|a| a.name.id.to_string()).collect(),
            Stmt::ImportFrom(i) if i.level == 0 => {
                let Some(module) = &i.module else { return };
                // `from matplotlib import pyplot` imports the submodule too.
                let mut names = vec![module.id.to_string()];
                names.extend(
                    i.names
                        .iter()
                        .map(|a| format!("{}.{}", module.id, a.name.id)),
                );
                names
            }
            _ => return,
        };
        if let Some(api) = names.iter().find_map(|n| heavy(cx.catalog, n)) {
            cx.report_api(
                stmt.range(),
                Mark::Note(cx.catalog.get(api).name.clone()),
                Some(api),
            );
        }
    }
}

/// `except ImportError`, `except (ImportError, OSError)`, `except ModuleNotFoundError as e`.
fn catches_import_error(handler: &ExceptHandler) -> bool {
    let ExceptHandler::ExceptHandler(h) = handler;
    let names_import_error = |e: &Expr| {
        let name = match e {
            Expr::Name(n) => n.id.as_str(),
            Expr::Attribute(a) => a.attr.id.as_str(),
            _ => return false,
        };
        IMPORT_ERRORS.contains(&name)
    };
    match h.type_.as_deref() {
        Some(Expr::Tuple(t)) => t.elts.iter().any(names_import_error),
        Some(e) => names_import_error(e),
        None => false,
    }
}

/// The catalog's import entry for `module` or its closest listed parent package.
fn heavy(catalog: &Catalog, module: &str) -> Option<ApiId> {
    let mut name = module;
    loop {
        if let Some(id) = catalog.lookup(name)
            && catalog.get(id).effect == Effect::Import
        {
            return Some(id);
        }
        name = &name[..name.rfind('.')?];
    }
}

/// Whether the module's top level (or its `__main__` block) imports `module` or a submodule of
/// it, which loads it at start.
fn imported_at_top(m: &ModuleFacts, module: &str) -> bool {
    m.imports.iter().any(|imp| {
        let covers = imp.target == module
            || imp
                .target
                .strip_prefix(module)
                .is_some_and(|rest| rest.starts_with('.'));
        covers
            && !m.functions.iter().any(|f| {
                !matches!(f.kind, FnKind::Module | FnKind::Main)
                    && f.line <= imp.line
                    && imp.line <= f.end_line
            })
    })
}
