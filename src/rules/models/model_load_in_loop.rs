//! PA202 model-load-in-loop: a model loaded once per iteration of a loop inside a request.

use super::{background_round_loads, lazy, request_path_loads};
use crate::facts::collect::AstRule;
use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::Effect;
use crate::rules::cost::CostMeta;
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct ModelLoadInLoop;

static META: RuleMeta = RuleMeta {
    code: "PA202",
    name: "model-load-in-loop",
    category: Category::Models,
    default_severity: Severity::Critical,
    summary: "A model is loaded inside a loop on a per-request path (per item or per chunk)",
    cost: CostMeta::calls(&[Effect::ModelLoad]).no_worst(),
    doc: r#"## What it does
Finds model loads (catalog effect `model-load`) inside a loop that repeats within one request —
a loop over the items of a batch, the chunks of an audio stream, the pages of a document. The
receive loop of a service is the request itself and does not count as a repetition. Such a load
is reported here instead of under PA201, never under both. A load on every round of a
background thread's loop (a daemon or monitor that reloads its model each pass) is reported
too, medium at most: no request waits for it, but each round competes with the requests for
CPU, disk and memory. A load guarded by "not loaded yet" or
made in a memoised function runs once per distinct key and is reported as information.

## Why is this slow?
Each iteration reads and initialises the whole model again: a stream of thirty chunks pays
thirty loads of seconds each, and spends most of its time loading the same weights.

## Example
```python
from faster_whisper import WhisperModel

def handle_request(msg):
    texts = []
    for chunk in msg["chunks"]:
        model = WhisperModel("small")
        segments, _ = model.transcribe(chunk)
        texts.extend(s.text for s in segments)
    return texts
```

## Use instead
```python
from faster_whisper import WhisperModel

MODEL = WhisperModel("small")

def handle_request(msg):
    texts = []
    for chunk in msg["chunks"]:
        segments, _ = MODEL.transcribe(chunk)
        texts.extend(s.text for s in segments)
    return texts
```

## Cost model
The load-time range of PA201 (the catalog's, or a known small model's), times the default loop
repetition (×10) of the cost model; resident memory as for PA201. In a background thread's
loop, one load per round, banded by its typical cost and medium at most (a background cost is
otherwise information).

## Known false positives
A loop that runs once in practice (a list of one model name) costs one load, not ten.
"#,
};

impl Rule for ModelLoadInLoop {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        request_path_loads(&META, cx, out, true);
        background_round_loads(&META, cx, out);
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![&lazy::HOOK]
    }
}
