//! PA207 tensors-accumulated: model outputs or tensors kept in a long-lived container on every
//! request.

use super::containers::{self, model_objects, tensor_source};
use crate::facts::collect::AstRule;
use crate::finding::{Finding, Severity};
use crate::project::context::Site;
use crate::rules::cost::CostMeta;
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct TensorsAccumulated;

static META: RuleMeta = RuleMeta {
    code: "PA207",
    name: "tensors-accumulated",
    category: Category::Models,
    default_severity: Severity::High,
    summary: "Model outputs or tensors are appended to a long-lived container on every request",
    cost: CostMeta::band(
        "Memory growth, not latency: tensors kept with their autograd graph grow with every request; banded medium on a request path.",
    ),
    doc: r#"## What it does
Finds tensors stored on a per-request path into a container that lives as long as the process
(an attribute of a long-lived object or a module-level list, dict or set) and that nothing in
the module ever evicts from — the same container analysis as PA204. A stored value counts as a tensor when it is
the result of calling a loaded model (a catalog model load that returns a module, such as a
`transformers` model) or of a catalog call that returns a tensor (`torch.tensor`, `torch.cat`),
directly or through a name, an attribute (`outputs.logits`), an index or a view (`.detach()`,
`.cpu()`, `.to(...)`). Values converted with `.item()`, `.tolist()` or `.numpy()` do not count.

## Why is this slow?
Tensors are large — logits alone are vocabulary × sequence length floats — and often live on
the GPU, where memory is scarcer than RAM. Outputs that still require grad also keep their whole
autograd graph (every intermediate activation) alive. Kept per request, they exhaust the device
after a few hundred requests.

## Example
```python
import torch
from transformers import AutoModel

class Encoder:
    def __init__(self):
        self.model = AutoModel.from_pretrained("bert-base-uncased")
        self.history = []

    def handle_request(self, batch):
        outputs = self.model(**batch)
        self.history.append(torch.cat([outputs.last_hidden_state[0]]))
        return outputs.last_hidden_state.mean().item()

ENCODER = Encoder()
```

## Use instead
```python
import collections
from transformers import AutoModel

class Encoder:
    def __init__(self):
        self.model = AutoModel.from_pretrained("bert-base-uncased")
        self.history = collections.deque(maxlen=100)

    def handle_request(self, batch):
        outputs = self.model(**batch)
        score = outputs.last_hidden_state.mean().item()
        self.history.append(score)
        return score

ENCODER = Encoder()
```

## Cost model
A memory band, not a latency: high when the values are a model's outputs (activations, and
their autograd graph when grad is on), medium for other tensors.

## Known false positives
A model whose outputs are plain Python values (text, lists) is still counted when the catalog
says its load returns a module; eviction done by another module is not seen.
"#,
};

impl Rule for TensorsAccumulated {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        let shared = cx.containers();
        let lifetimes = &shared.lifetimes;
        for (mi, m) in cx.project.modules.iter().enumerate() {
            let containers = &shared.by_module[mi];
            if containers.is_empty() {
                continue;
            }
            let models = model_objects(cx.catalog, m);
            for c in containers {
                let mut sites: Vec<_> = c
                    .grows
                    .iter()
                    .filter_map(|g| {
                        let why = tensor_source(cx.catalog, m, &models, g)?;
                        let exec = cx
                            .project
                            .request_execution(&Site::candidate(mi, g.cand))
                            .filter(|e| e.serves_requests())?;
                        lifetimes
                            .outlives_request(cx.project, mi, c, g, &exec)
                            .then_some((g, why, exec))
                    })
                    .collect();
                if sites.is_empty() {
                    continue;
                }
                sites.sort_by_key(|(g, ..)| (g.cand.line, g.cand.column));
                let (g, why, exec) = &sites[0];
                let func = &m.functions[g.cand.func as usize].qualname;
                let severity = if why.contains("runs the model") {
                    Severity::High
                } else {
                    Severity::Medium
                };
                let message = format!(
                    "`{}` keeps a tensor from every request (`{}` in `{func}`; {why}) and \
                     nothing in this module ever removes from it",
                    c.name,
                    g.cand.text.trim()
                );
                let help = "Keep plain values instead (`.item()`, `.tolist()`), detach and move \
                            to the CPU what must be kept, and bound the container \
                            (`collections.deque(maxlen=...)`) or clear it after use."
                    .to_owned();
                let h = Hotspot::candidate(mi, g.cand, exec, Costed::band(severity));
                let mut f = cx.emit(&META, h, message, help);
                f.snippet = c.name.clone();
                out.push(f);
            }
        }
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![&containers::HOOK]
    }
}
