//! PA306 heavy-import-in-function: a heavy library imported inside a per-request function, so
//! that the first request after each start pays the cold import.

use crate::rules::cost::{CostMeta, Scaling};
use ruff_python_ast::{ExceptHandler, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use crate::facts::collect::{AstRule, ExprKinds, LocalContext};
use crate::facts::marks::Mark;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::facts::{Candidate, FnKind, FuncId, ModuleFacts};
use crate::finding::{Confidence, Finding, Severity};
use crate::knowledge::catalog::{ApiId, Catalog, Effect};
use crate::project::Project;
use crate::project::context::{Execution, Site};
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

Not reported, because no request pays it:
- an import of a module that the process has already loaded at startup: imported at module
  level by every service entry that loads the function's module at startup (or by a module
  such an entry imports, transitively); with no such service (a library), by a module whose
  body has run before the function (the modules of the functions on the chain, and what they
  import at module level, transitively);
- the second import of the same module on one chain (the caller's import paid it);
- imports in plotting helpers (`plot_*`, `draw_*`, `*_chart`, a `plotting.py` module) and in
  command-line tools (a `cli.py`, `*_cli.py` or `cli/` module on the chain): figures and
  commands, not requests. Tests are tooling and never reported.

## Known false positives
A deliberately lazy import that keeps a rarely used feature from slowing every start is a
trade-off; import it in a startup hook instead to keep both.

The rule can also miss a cost: a module-level import under `if TYPE_CHECKING:` or another `if`
is taken as loading the library at startup, which it does only when the condition holds, and a
function's import of that library is then not reported.
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
        let mut startup = Startup::new(cx.project);
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
                if tooling_chain(&exec)
                    || paid_earlier_on_chain(&startup, mi, c, &exec)
                    || startup.warm(mi, &exec, &entry.name)
                {
                    continue;
                }
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

    fn exprs(&self) -> ExprKinds {
        ExprKinds::NONE
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

/// Whether a chain passes through a plotting helper or a command-line tool: code that draws a
/// figure or runs a command, not a request's work.
fn tooling_chain(exec: &Execution) -> bool {
    exec.chain.iter().any(|step| {
        let (dirs, file) = step.path.rsplit_once('/').unwrap_or(("", &step.path));
        let stem = file
            .strip_suffix(".py")
            .unwrap_or(file)
            .to_ascii_lowercase();
        let name = step
            .function
            .rsplit('.')
            .next()
            .unwrap_or(&step.function)
            .to_ascii_lowercase();
        let plotting = name.starts_with("plot")
            || name.starts_with("draw_")
            || name.starts_with("visuali")
            || name.contains("_plot")
            || name.ends_with("_chart")
            || name.ends_with("_figure")
            || stem.starts_with("plot")
            || stem.starts_with("visuali");
        let cli = stem == "cli"
            || stem.ends_with("_cli")
            || stem.starts_with("cli_")
            || dirs.split('/').any(|d| d == "cli");
        plotting || cli
    })
}

/// Whether a function earlier on the chain (or the same function, at an earlier line) imports
/// the same heavy module inside its body: the chain pays the cold import once, there.
fn paid_earlier_on_chain(startup: &Startup, mi: usize, c: &Candidate, exec: &Execution) -> bool {
    let project = startup.project;
    let same = |m: &ModuleFacts, func: FuncId, before: Option<u32>| {
        m.candidates.iter().any(|o| {
            o.code == META.code
                && o.api == c.api
                && o.func == func
                && before.is_none_or(|line| o.line < line)
        })
    };
    if same(&project.modules[mi], c.func, Some(c.line)) {
        return true;
    }
    let steps = &exec.chain[..exec.chain.len().saturating_sub(1)];
    steps.iter().any(|step| {
        startup
            .function(&step.path, &step.function)
            .is_some_and(|(m, f)| (m, f) != (mi, c.func) && same(&project.modules[m], f, None))
    })
}

/// Which modules a process has loaded before a function runs: the module-level imports of the
/// project's modules, followed transitively.
struct Startup<'p> {
    project: &'p Project,
    by_path: FxHashMap<&'p str, usize>,
    /// Per module, the project modules it imports at module level, once computed.
    imports: FxHashMap<usize, Vec<usize>>,
    /// Per service entry module, every module its body loads (computed on first use).
    services: Option<Vec<Vec<usize>>>,
}

impl<'p> Startup<'p> {
    fn new(project: &'p Project) -> Startup<'p> {
        let by_path = project
            .modules
            .iter()
            .enumerate()
            .map(|(i, m)| (m.path.as_str(), i))
            .collect();
        Startup {
            project,
            by_path,
            imports: FxHashMap::default(),
            services: None,
        }
    }

    fn services(&mut self) -> &[Vec<usize>] {
        if self.services.is_none() {
            let mut entries: Vec<u32> = self.project.service_modules.iter().copied().collect();
            entries.sort_unstable();
            let closures = entries
                .into_iter()
                .map(|e| self.closure(&[e as usize]))
                .collect();
            self.services = Some(closures);
        }
        self.services.as_deref().unwrap_or_default()
    }

    /// The function a chain step names.
    fn function(&self, path: &str, qualname: &str) -> Option<(usize, FuncId)> {
        let &m = self.by_path.get(path)?;
        let f = self.project.modules[m]
            .functions
            .iter()
            .position(|f| f.qualname == qualname)?;
        Some((m, f as FuncId))
    }

    /// The project modules a module imports at module level (or in its `__main__` block): for
    /// each import, the longest dotted prefix of its target that is a project module.
    fn top_imports(&mut self, module: usize) -> &[usize] {
        let project = self.project;
        self.imports.entry(module).or_insert_with(|| {
            let m = &project.modules[module];
            let mut out: Vec<usize> = m
                .imports
                .iter()
                .filter(|imp| at_top(m, imp.line))
                .filter_map(|imp| {
                    let t = imp.target.as_str();
                    let mut end = t.len();
                    loop {
                        if let Some((found, _)) = project.resolver.module(&t[..end]) {
                            break Some(found as usize);
                        }
                        end = t[..end].rfind('.')?;
                    }
                })
                .filter(|&i| i != module)
                .collect();
            out.sort_unstable();
            out.dedup();
            out
        })
    }

    /// Every module loaded by running the bodies of `start`, themselves included.
    fn closure(&mut self, start: &[usize]) -> Vec<usize> {
        let mut seen: FxHashSet<usize> = start.iter().copied().collect();
        let mut stack: Vec<usize> = start.to_vec();
        while let Some(m) = stack.pop() {
            for &i in self.top_imports(m).to_vec().iter() {
                if seen.insert(i) {
                    stack.push(i);
                }
            }
        }
        let mut out: Vec<usize> = seen.into_iter().collect();
        out.sort_unstable();
        out
    }

    /// Whether `module` (a heavy library) is already loaded when the site runs. Where service
    /// entries load the site's module at startup, every one of them must also load the library
    /// at startup (any one that does not pays the cold import). Otherwise (a library, or a
    /// module loaded lazily), the modules whose bodies have run on the chain, and what they
    /// import, must.
    fn warm(&mut self, site_module: usize, exec: &Execution, module: &str) -> bool {
        let project = self.project;
        let loads = |ms: &[usize]| {
            ms.iter()
                .any(|&i| imported_at_top(&project.modules[i], module))
        };
        let mut services = self
            .services()
            .iter()
            .filter(|closure| closure.binary_search(&site_module).is_ok())
            .peekable();
        if services.peek().is_some() {
            return services.all(|closure| loads(closure));
        }
        let mut start: Vec<usize> = exec
            .chain
            .iter()
            .filter_map(|s| self.by_path.get(s.path.as_str()).copied())
            .collect();
        start.push(site_module);
        loads(&self.closure(&start))
    }
}

/// Whether a line of a module lies outside every function (module level or `__main__`).
fn at_top(m: &ModuleFacts, line: u32) -> bool {
    !m.functions.iter().any(|f| {
        !matches!(f.kind, FnKind::Module | FnKind::Main) && f.line <= line && line <= f.end_line
    })
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
        covers && at_top(m, imp.line)
    })
}
