//! PA501 config-parsed-per-request: a configuration file read and parsed again on every
//! request.

use crate::facts::{Call, ModuleFacts, Name};
use crate::finding::{Finding, Severity};
use crate::knowledge::catalog::{ApiEntry, Effect};
use crate::rules::cost::CostMeta;
use crate::rules::cost::fmt_range;
use crate::rules::{Category, Rule, RuleContext, RuleMeta, report_calls};

pub struct ConfigParsedPerRequest;

static META: RuleMeta = RuleMeta {
    code: "PA501",
    name: "config-parsed-per-request",
    category: Category::Caching,
    default_severity: Severity::Low,
    summary: "A configuration file is read and parsed on every request",
    cost: CostMeta::calls(&[Effect::ConfigParse]).no_worst(),
    doc: r#"## What it does
Finds configuration parses — catalog entries with effect `config-parse`, such as
`yaml.safe_load`, `json.load`, `toml.load`, `tomllib.load` and `ConfigParser.read` — on a
per-request path, when what they parse comes from a file: a file opened in the same function
(`with open(...) as f:`, `f = open(...)`, `Path(...).read_text()`), a file read inline
(`json.load(open(...))`), or a literal path. Parsing a request's own payload is not reported.

## Why is this slow?
The file does not change between requests, yet every request pays the system calls to open and
read it and a full parse (PyYAML is pure Python: about a millisecond for a small file, growing
with the file). It also makes the service's behaviour change mid-flight when someone edits the
file.

## Example
```python
import yaml

def handle_request(msg):
    with open("voices.yaml") as fh:
        voices = yaml.safe_load(fh)
    return voices[msg["voice"]]
```

## Use instead
```python
import yaml

with open("voices.yaml") as fh:
    VOICES = yaml.safe_load(fh)

def handle_request(msg):
    return VOICES[msg["voice"]]
```

## Cost model
The catalog's range for one parse of a small file, in the request's context.

## Known false positives
A deliberately hot-reloaded configuration is a choice; caching it and re-reading only when
the file's modification time changes keeps the reload without the per-request parse.
"#,
};

impl Rule for ConfigParsedPerRequest {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        let wanted = |e: &ApiEntry| e.effect == Effect::ConfigParse;
        report_calls(&META, cx, out, wanted, &|m, call, entry, exec, _| {
            // Re-reading configuration matters where requests are served.
            if !exec.serves_requests() {
                return None;
            }
            let source = file_source(cx, m, call)?;
            let func = &m.functions[call.func as usize].qualname;
            let message = format!(
                "`{}` parses {source} again on every request in `{func}` (~{} per parse, plus \
                 the read)",
                call.target,
                fmt_range(entry.low_ms, entry.high_ms)
            );
            let help = "Parse it once at startup and keep the result; to pick up edits, re-read \
                        it only when the file's modification time changes."
                .to_owned();
            Some((message, help))
        });
    }
}

/// Where the parsed text comes from, when it is a file: a literal path, a disk read inside the
/// call's arguments, a name bound to a disk read earlier in the function, or a file opened in a
/// `with` block of the function.
fn file_source(cx: &RuleContext, m: &ModuleFacts, call: &Call) -> Option<String> {
    if let (Some(lit), false) = (m.str_arg(call), call.dynamic_first_arg()) {
        return Some(format!("`{lit}`"));
    }
    let disk = |c: &Call| {
        c.func == call.func
            && c.api
                .is_some_and(|id| cx.catalog.get(id).effect == Effect::Disk)
    };
    let inside = |c: &Call| {
        (c.line, c.column) > (call.line, call.column)
            && (c.end_line(), c.end_column()) <= (call.end_line(), call.end_column())
    };
    if let Some(c) = m.calls.iter().find(|c| disk(c) && inside(c)) {
        return Some(format!("a file (read by `{}`)", c.target));
    }
    let arg = m.callable_args(call).first().map(|(text, _)| text.as_str());
    let before = |c: &Call| c.line <= call.line;
    if let Some(c) = m.calls.iter().rev().find(|c| {
        disk(c)
            && before(c)
            && m.assigned_to(c).is_some()
            && m.assigned_to(c).map(Name::as_str) == arg
    }) {
        return Some(format!("a file (read by `{}`)", c.target));
    }
    // `with open(...) as fh: parse(fh)`: the `with` target is not in the facts, so a plain name
    // argument and a file opened by a `with` earlier in the function stand for it.
    let plain = arg.is_some_and(|a| a.chars().all(|ch| ch == '_' || ch.is_alphanumeric()));
    if !plain {
        return None;
    }
    m.calls
        .iter()
        .rev()
        .find(|c| {
            // A disk call used as a `with` context manager opens a file.
            disk(c) && before(c) && c.in_with()
        })
        .map(|c| match m.str_arg(c) {
            Some(path) => format!("`{path}` (opened by `{}`)", c.target),
            None => format!("a file (opened by `{}`)", c.target),
        })
}
