//! PA206 resource-never-released: a file, socket, browser or pool opened on a path that repeats
//! and never released.

use crate::rules::cost::CostMeta;
use std::collections::{HashMap, HashSet};

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};

use super::{calls_instance, fmt_mb, function_at, method_class};
use crate::facts::collect::{AstRule, ExprKinds, ModuleEnd};
use crate::facts::marks::Mark;
use crate::facts::{Call, FuncId, ModuleFacts, Name};
use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::Effect;
use crate::project::CtxKind;
use crate::project::context::{Execution, Site};
use crate::rules::cost::PerCall;
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

/// Memory left behind by one unreleased resource (a browser and its processes) from which a
/// leak on every request is critical: a few hundred requests exhaust a typical host.
pub const LEAK_CRITICAL_MB: f64 = 100.0;

pub struct ResourceNeverReleased;

static META: RuleMeta = RuleMeta {
    code: "PA206",
    name: "resource-never-released",
    category: Category::Models,
    default_severity: Severity::High,
    summary: "A file, socket, browser or pool is opened per request and never released",
    cost: CostMeta::calls(&[
        Effect::Disk,
        Effect::Browser,
        Effect::Executor,
        Effect::Connection,
        Effect::Socket,
    ])
    .no_worst(),
    doc: r#"## What it does
Finds calls that open something that must be released — the catalog entries with a `release`
method: files (`open`, `close`), sockets (`close`), ZMQ contexts and sockets (`term`, `close`),
browsers (`webdriver.Chrome`, `quit`), executors (`shutdown`) — whose result is bound to a name
on a path that repeats (per request, or in a loop of a background worker), outside a `with`
block, when that function never calls the release method (or `close()`) on it, never hands it
on (returns, yields, stores, passes or captures it) and, for `self.attr`, no method of the class
releases it.

## Why is this slow?
An unreleased browser keeps its processes and hundreds of megabytes running after the request;
a few hundred requests exhaust the host. Files and sockets hold a descriptor until the garbage
collector happens to close them (and buffered writes may never reach the disk if the process
dies first); threads of a forgotten executor stay alive. Each request adds one more.

## Example
```python
from selenium import webdriver

def handle_request(msg):
    driver = webdriver.Chrome()
    driver.get(msg["url"])
    return driver.title
```

## Use instead
```python
from selenium import webdriver

def handle_request(msg):
    driver = webdriver.Chrome()
    try:
        driver.get(msg["url"])
        return driver.title
    finally:
        driver.quit()
```

## Cost model
The catalog's range for opening the resource, paid on every request it is opened again, with
the catalog's memory for what stays behind. The severity follows the opening cost (a file open
is low), except that a resource holding 100 MB or more (a browser) is critical: a few hundred
leaked requests exhaust the host.

## Known false positives
A resource released by another function that the rule cannot connect to it (a cleanup method
of another class, a callback registered elsewhere) is reported.
"#,
};

struct Hook;

impl AstRule for Hook {
    fn code(&self) -> &'static str {
        META.code
    }

    fn exprs(&self) -> ExprKinds {
        ExprKinds::NONE
    }

    /// After the walk, for the functions that bind a releasable resource to a plain name:
    /// which of their names are handed on (`escapes\tNAME,...`), so that code elsewhere may
    /// release them.
    fn finish(&self, _body: &[Stmt], cx: &mut ModuleEnd) {
        let catalog = cx.catalog;
        let facts = &*cx.facts;
        let holders: HashSet<FuncId> = facts
            .calls
            .iter()
            .filter(|c| {
                !c.in_with()
                    && c.api.is_some_and(|id| catalog.get(id).release.is_some())
                    && facts
                        .assigned_to(c)
                        .is_some_and(|n| crate::knowledge::is_identifier(n))
            })
            .map(|c| c.func)
            .collect();
        if holders.is_empty() {
            return;
        }
        for &(id, f) in cx.function_defs() {
            let Some(parent) = cx.facts.functions[id as usize].parent else {
                continue;
            };
            if !holders.contains(&id) {
                continue;
            }
            let mut scan = Escapes::default();
            for s in &f.body {
                scan.visit_stmt(s);
            }
            let mut names: Vec<&String> = scan.assigned.intersection(&scan.escaped).collect();
            if names.is_empty() {
                continue;
            }
            names.sort();
            let names = names.into_iter().cloned().collect();
            cx.report(parent, f.range, Mark::Escapes { names });
        }
    }
}

/// Names a `def` binds to a call result, and the names it hands on: returned, yielded, passed
/// as an argument, assigned elsewhere, used as a `with` item, or captured by a nested function.
#[derive(Default)]
struct Escapes {
    assigned: HashSet<String>,
    escaped: HashSet<String>,
    nested: u32,
}

impl Escapes {
    /// Every name `expr` hands on: all names in it except receivers of attribute access
    /// (`f.read()`, `f.name`) and called names.
    fn mention(&mut self, expr: &Expr) {
        let mut stack = vec![expr];
        while let Some(e) = stack.pop() {
            match e {
                Expr::Name(n) => {
                    self.escaped.insert(n.id.to_string());
                }
                Expr::Attribute(_) => {}
                Expr::Call(c) => {
                    stack.extend(c.arguments.args.iter());
                    stack.extend(c.arguments.keywords.iter().map(|k| &k.value));
                }
                Expr::Tuple(t) => stack.extend(t.elts.iter()),
                Expr::List(t) => stack.extend(t.elts.iter()),
                Expr::Set(t) => stack.extend(t.elts.iter()),
                Expr::Dict(d) => {
                    for item in &d.items {
                        stack.extend(item.key.iter());
                        stack.push(&item.value);
                    }
                }
                Expr::Starred(s) => stack.push(&s.value),
                Expr::Subscript(s) => stack.push(&s.value),
                Expr::Await(a) => stack.push(&a.value),
                Expr::If(i) => {
                    stack.push(&i.body);
                    stack.push(&i.orelse);
                }
                Expr::BoolOp(b) => stack.extend(b.values.iter()),
                Expr::Named(n) => stack.push(&n.value),
                _ => {}
            }
        }
    }
}

impl<'a> Visitor<'a> for Escapes {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || {
            match stmt {
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {
                    self.nested += 1;
                    visitor::walk_stmt(self, stmt);
                    self.nested -= 1;
                    return;
                }
                Stmt::Return(ast::StmtReturn { value: Some(v), .. }) => self.mention(v),
                Stmt::Assign(a) => {
                    let call_value = matches!(&*a.value, Expr::Call(_) | Expr::Await(_));
                    match &a.targets[..] {
                        [Expr::Name(n)] if call_value && self.nested == 0 => {
                            self.assigned.insert(n.id.to_string());
                        }
                        _ => self.mention(&a.value),
                    }
                }
                Stmt::AnnAssign(ast::StmtAnnAssign {
                    target,
                    value: Some(v),
                    ..
                }) => match &**target {
                    Expr::Name(n) if matches!(&**v, Expr::Call(_)) && self.nested == 0 => {
                        self.assigned.insert(n.id.to_string());
                    }
                    _ => self.mention(v),
                },
                Stmt::AugAssign(a) => self.mention(&a.value),
                Stmt::With(w) => {
                    for item in &w.items {
                        self.mention(&item.context_expr);
                    }
                }
                _ => {}
            }
            visitor::walk_stmt(self, stmt);
        });
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || {
            match expr {
                Expr::Name(n) if self.nested > 0 => {
                    self.escaped.insert(n.id.to_string());
                }
                Expr::Yield(ast::ExprYield { value: Some(v), .. }) => self.mention(v),
                Expr::YieldFrom(y) => self.mention(&y.value),
                Expr::Call(c) => {
                    for a in c.arguments.args.iter() {
                        self.mention(a);
                    }
                    for k in c.arguments.keywords.iter() {
                        self.mention(&k.value);
                    }
                }
                Expr::Lambda(_) => {
                    self.nested += 1;
                    visitor::walk_expr(self, expr);
                    self.nested -= 1;
                    return;
                }
                _ => {}
            }
            visitor::walk_expr(self, expr);
        });
    }
}

impl Rule for ResourceNeverReleased {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        for (mi, m) in cx.project.modules.iter().enumerate() {
            let mut escapes: HashMap<FuncId, Vec<&str>> = HashMap::new();
            for c in m.candidates.iter().filter(|c| c.code == META.code) {
                if let (Some(f), Mark::Escapes { names }) =
                    (function_at(m, c.func, c.line), &c.mark)
                {
                    escapes
                        .entry(f)
                        .or_default()
                        .extend(names.iter().map(String::as_str));
                }
            }
            for call in &m.calls {
                let Some(api) = call.api else { continue };
                let entry = cx.catalog.get(api);
                let (Some(release), false) = (entry.release.as_deref(), call.in_with()) else {
                    continue;
                };
                if calls_instance(entry, call) {
                    continue;
                }
                let Some(name) = m.assigned_to(call).map(Name::as_str) else {
                    continue;
                };
                let plain = crate::knowledge::is_identifier(name);
                let attr = name
                    .strip_prefix("self.")
                    .filter(|a| crate::knowledge::is_identifier(a));
                if !plain && attr.is_none() {
                    continue;
                }
                if plain && escapes.get(&call.func).is_some_and(|e| e.contains(&name)) {
                    continue;
                }
                if released(m, call, name, release, attr.is_some()) {
                    continue;
                }
                let Some(exec) = repeating(cx, mi, call) else {
                    continue;
                };
                let mut cost = Costed::latency(&PerCall::entry(entry), &exec);
                // What stays behind matters more than the time to open it when each leak holds
                // a process-sized amount of memory.
                if entry.memory_mb.is_some_and(|mb| mb >= LEAK_CRITICAL_MB) {
                    cost = cost.banded(Severity::Critical);
                }
                let held = entry
                    .memory_mb
                    .map(|mb| format!(" (~{})", fmt_mb(mb)))
                    .unwrap_or_default();
                let consequence = match entry.effect {
                    Effect::Browser => {
                        format!("each time, a browser{held} keeps running after the call returns")
                    }
                    Effect::Executor => {
                        "its worker threads outlive the call until the pool is collected".to_owned()
                    }
                    _ => format!(
                        "it stays open{held} until the garbage collector happens to close it"
                    ),
                };
                let func = &m.functions[call.func as usize].qualname;
                let repeat = if exec.per_request() {
                    "on every request"
                } else {
                    "in every iteration"
                };
                let message = format!(
                    "`{name} = {}(...)` is opened {repeat} in `{func}` and `{name}.{release}()` is \
                     never called: {consequence}",
                    call.target
                );
                let help = format!(
                    "Use it in a `with` block, or call `{name}.{release}()` in a `finally:`; \
                     better, open it once and reuse it."
                );
                let h = Hotspot::call(mi, call, &exec, cost);
                let mut f = cx.emit(&META, h, message, help);
                f.memory_mb = entry.memory_mb;
                // The resource as the code names it, for leak reports.
                f.snippet = name.to_owned();
                out.push(f);
            }
        }
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![&Hook]
    }
}

/// Whether `name.release()` / `name.close()` is called (or passed on as a callback) where it
/// counts: in the function or a function nested in it for a local name, in any method of the
/// class for `self.attr`.
fn released(m: &ModuleFacts, call: &Call, name: &str, release: &str, attr: bool) -> bool {
    let wanted = [format!("{name}.{release}"), format!("{name}.close")];
    let class = method_class(m, call.func);
    let in_scope = |func: FuncId| {
        if attr {
            return class.is_some() && method_class(m, func) == class;
        }
        let mut cur = Some(func);
        while let Some(f) = cur {
            if f == call.func {
                return true;
            }
            cur = m.functions[f as usize].parent;
        }
        false
    };
    m.calls.iter().any(|c| {
        in_scope(c.func)
            && (wanted.iter().any(|w| *w == c.text)
                || m.callable_args(c)
                    .iter()
                    .any(|(text, _)| wanted.iter().any(|w| w == text)))
    })
}

/// An execution in which the opening repeats: per request, or in a loop of a background worker.
fn repeating(cx: &RuleContext, mi: usize, call: &Call) -> Option<Execution> {
    let site = Site::call(mi, call);
    cx.project
        .request_execution(&site)
        .filter(|e| e.serves_requests())
        .or_else(|| {
            let looped = call.loop_depth > 0;
            cx.project
                .executions(&site)
                .into_iter()
                .find(|e| e.kind == CtxKind::Background && looped)
        })
}
