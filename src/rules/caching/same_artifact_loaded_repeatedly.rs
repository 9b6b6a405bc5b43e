//! PA502 same-artifact-loaded-repeatedly: the same model or file, named by the same literal,
//! loaded in several per-request places of a module (or in a loop).

use crate::rules::cost::CostMeta;
use std::collections::BTreeMap;

use ruff_python_ast::Expr;
use ruff_text_size::Ranged;

use super::{call_at, callee_effect, literal_args, may_have_literal_args};
use crate::facts::collect::{AstRule, ExprKinds, LocalContext};
use crate::facts::marks::Mark;
use crate::facts::names::truncate;
use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::Effect;
use crate::project::context::Site;
use crate::rules::cost::PerCall;
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::models::calls_instance;
use crate::rules::models::lazy::{self, Laziness, LazySites};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

/// Effects whose calls load an artefact named by their arguments.
const ARTEFACT_EFFECTS: &[Effect] = &[Effect::ConfigParse, Effect::ModelLoad];

pub struct SameArtifactLoadedRepeatedly;

static META: RuleMeta = RuleMeta {
    code: "PA502",
    name: "same-artifact-loaded-repeatedly",
    category: Category::Caching,
    default_severity: Severity::High,
    summary: "The same model or file is loaded in several per-request places",
    cost: CostMeta::calls(&[Effect::ConfigParse, Effect::ModelLoad]).no_worst(),
    doc: r#"## What it does
Finds model loads and configuration parses (catalog effects `model-load` and `config-parse`)
called with the same literal arguments — the same model name, the same file
(`json.load(open("routes.json"))`) — in more than one per-request place of a module, or, for
files, inside a loop of one. Each place loads its own copy of the same artefact. Loads guarded
by "not loaded yet" or memoised are not counted; a model load inside a loop is PA202's.

## Why is this slow?
Every place pays the full load on every request, and each copy is held separately while the
requests run. One shared, memoised loader pays it once.

## Example
```python
from transformers import AutoTokenizer

def handle_count(msg):
    tok = AutoTokenizer.from_pretrained("bert-base-uncased")
    return len(tok(msg["text"])["input_ids"])

def handle_encode(msg):
    tok = AutoTokenizer.from_pretrained("bert-base-uncased")
    return tok(msg["text"])["input_ids"]
```

## Use instead
```python
import functools

from transformers import AutoTokenizer

@functools.lru_cache(maxsize=8)
def tokenizer(name):
    return AutoTokenizer.from_pretrained(name)

def handle_count(msg):
    return len(tokenizer("bert-base-uncased")(msg["text"])["input_ids"])

def handle_encode(msg):
    return tokenizer("bert-base-uncased")(msg["text"])["input_ids"]
```

## Cost model
The catalog's range for one load, in the context of the first place; the message lists the
other places, each of which pays it again.

## Known false positives
Places that never run in the same process (two entry points of one module) do not share a
cache.
"#,
};

struct Hook;

impl AstRule for Hook {
    fn code(&self) -> &'static str {
        META.code
    }

    fn exprs(&self) -> ExprKinds {
        ExprKinds::CALL
    }

    fn check_expr(&self, expr: &Expr, cx: &mut LocalContext) {
        let Expr::Call(c) = expr else { return };
        let catalog = cx.catalog;
        if !may_have_literal_args(c, true)
            || callee_effect(c, cx, catalog).is_none_or(|e| !ARTEFACT_EFFECTS.contains(&e))
        {
            return;
        }
        if let Some(args) = literal_args(c, cx, catalog, true) {
            cx.report(
                c.range(),
                Mark::Artifact {
                    args: truncate(&args, 120),
                },
            );
        }
    }
}

impl Rule for SameArtifactLoadedRepeatedly {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        for (mi, m) in cx.project.modules.iter().enumerate() {
            let lazy = LazySites::of(cx.project, mi, lazy::HOOK_CODE);
            // (catalog entry, arguments) -> the per-request places that load it.
            let mut groups: BTreeMap<(crate::knowledge::catalog::ApiId, &str), Vec<_>> =
                BTreeMap::new();
            for cand in m.candidates.iter().filter(|c| c.code == META.code) {
                let Mark::Artifact { args } = &cand.mark else {
                    continue;
                };
                let Some(call) = call_at(m, cand) else {
                    continue;
                };
                let Some(api) = call.api else { continue };
                let entry = cx.catalog.get(api);
                if !ARTEFACT_EFFECTS.contains(&entry.effect)
                    || calls_instance(entry, call)
                    || lazy.laziness(call) != Laziness::Every
                {
                    continue;
                }
                if let Some(exec) = cx
                    .project
                    .request_execution(&Site::call(mi, call))
                    .filter(|e| e.serves_requests())
                {
                    groups.entry((api, args)).or_default().push((call, exec));
                }
            }
            for ((api, args), sites) in groups {
                let entry = cx.catalog.get(api);
                let (call, exec) = &sites[0];
                let looped = call.loop_depth > 0;
                if sites.len() < 2 && !(looped && entry.effect != Effect::ModelLoad) {
                    continue;
                }
                let per = PerCall::entry(entry);
                let cost = Costed::latency(&per, exec);
                let places = if sites.len() > 1 {
                    let others: Vec<String> = sites[1..]
                        .iter()
                        .map(|(c, _)| {
                            format!(
                                "`{}` (line {})",
                                m.functions[c.func as usize].qualname, c.line
                            )
                        })
                        .collect();
                    format!("here and in {}", others.join(", "))
                } else {
                    "in every iteration of a loop".to_owned()
                };
                let message = format!(
                    "`{}{args}` loads the same artefact {places} on every request (~{} each time)",
                    call.target,
                    per.range()
                );
                let help = "Load it once — at startup, or through one memoised loader \
                            (`functools.lru_cache`) that every place calls — and share the result."
                    .to_owned();
                out.push(cx.emit(&META, Hotspot::call(mi, call, exec, cost), message, help));
            }
        }
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![&lazy::HOOK, &Hook]
    }
}
