//! PA201 model-load-on-request-path: a model loaded while a request waits for it.

use super::{lazy, request_path_loads};
use crate::facts::collect::AstRule;
use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::Effect;
use crate::rules::cost::CostMeta;
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct ModelLoadOnRequestPath;

static META: RuleMeta = RuleMeta {
    code: "PA201",
    name: "model-load-on-request-path",
    category: Category::Models,
    default_severity: Severity::Critical,
    summary: "A model is loaded on a per-request path instead of once at startup",
    cost: CostMeta::calls(&[Effect::ModelLoad]).no_worst(),
    doc: r#"## What it does
Finds model loads — `transformers` `from_pretrained` and `pipeline`, `whisper.load_model`,
`faster_whisper.WhisperModel`, Coqui `TTS`, `llama_cpp.Llama`, `SentenceTransformer`,
`torch.load`, ONNX sessions, spaCy and OpenCV models: every catalog entry whose effect is
`model-load` — that run once per request: in a request handler, in the body of a service's
receive loop, or on the event loop.

A load guarded by "not loaded yet" (`if self.model is None:`, `if name not in self.models:`, the
`else:` of `if name in self.models:`), stored into what the guard tests directly or through a
local name (`m = load(name)` then `self.models[name] = m`), reached through a helper whose every
caller keeps its result so (`m = self._build(name)`, `self.models[name] = m`; when one caller
does not, the message names it, since the chain shown is the shortest, the kept one), or made inside a memoised function (`functools.lru_cache`, `functools.cache`,
`functools.cached_property`) is paid by the first request that needs it: that request's latency
is the full load, so it is banded like any other, and the message says it is paid once — unless
other code resets what it loaded (`self.model = None`, `del`, `.clear()`), in which case the
message says the next request pays again. A load whose result the request path keeps where
every later request shares it (`contexts.toml` `shared_state`: `request.app.state.model`,
`hass.data`) swaps the shared model — an admin's reconfiguration route — and is paid by the
request that changes it, medium at most (`conditional`): assigned there directly, or by the
chain's call of a loading helper (`request.app.state.model = await asyncio.to_thread(load,
name)`) when every use of that helper in the project keeps its result there. Loads that only
run at startup (module level, `__init__` of an object built at startup, `__main__`) are
reported as information with their load time and resident memory, for the audit's footprint;
PA203 reports several large ones resident together.

## Why is this slow?
Loading a model reads hundreds of megabytes to gigabytes of weights from disk (or the network),
builds the network and often moves it to the GPU: seconds, sometimes tens of seconds. Done per
request, every caller waits for it, and the weights are thrown away when the request ends.

## Example
```python
import whisper

def handle_request(msg):
    model = whisper.load_model("medium")
    return model.transcribe(msg["path"])["text"]
```

## Use instead
```python
import whisper

MODEL = whisper.load_model("medium")

def handle_request(msg):
    return MODEL.transcribe(msg["path"])["text"]
```

## Cost model
The catalog's load-time range for the entry, with its resident memory (by the literal model
name when the catalog knows the size) in the finding's `memory_mb`. When every name the load may
receive (a literal, a module constant, a `model=` keyword, or what every caller passes the
parameter it loads) is a small model `data/models.toml` knows (Silero VAD, openWakeWord), that
model's range for the loader and its size are used instead. The severity follows the load time
in the request's context; a startup-only load is information.

## Known false positives
A load of a small model whose name the code computes (a path found on disk, `a or b`, a value
read from configuration) costs less than the catalog's range; a cache check the rule cannot see (a dict lookup in a helper, a `try`/`except KeyError`) makes a
per-request load a one-time one.
"#,
};

impl Rule for ModelLoadOnRequestPath {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        request_path_loads(&META, cx, out, false);
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![&lazy::HOOK]
    }
}
