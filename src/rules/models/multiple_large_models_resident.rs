//! PA203 multiple-large-models-resident: several large models loaded at startup of one module,
//! all resident in the same process.

use crate::rules::cost::CostMeta;
use std::collections::BTreeSet;

use super::{
    ModelLoadSite, RESIDENT_FLOOR_MB, bound_name, fmt_mb, load_label, memory_severity,
    method_class, model_loads,
};
use crate::facts::FnKind;
use crate::finding::{Finding, Severity};
use crate::project::CtxKind;
use crate::project::context::Site;
use crate::rules::emit::{Costed, Hotspot};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

/// Models resident together from which the rule reports (with `RESIDENT_FLOOR_MB` in total).
pub const MIN_MODELS: usize = 2;
/// Loads smaller than this (tokenizers, small encoders) do not count as a large model.
pub const MIN_MODEL_MB: f64 = 250.0;

pub struct MultipleLargeModelsResident;

static META: RuleMeta = RuleMeta {
    code: "PA203",
    name: "multiple-large-models-resident",
    category: Category::Models,
    default_severity: Severity::High,
    summary: "Several large models are loaded at startup and stay resident in one process",
    cost: CostMeta::band(
        "Resident memory, not latency: the sum of the catalog's `memory_mb` (or its size for the literal model name) of the models one process keeps, banded by that total.",
    ),
    doc: r#"## What it does
Adds up the model loads (catalog effect `model-load`) that one module runs at startup — at
module level, in `__main__`, in a class's `__init__` (with the module-level loads) — and reports
when at least two models of 250 MB or more each, totalling 2 GB or more, stay resident
together. Tokenizers and other small loads do not count. The finding is anchored
at the first load and lists every model with its size.

Loads bound to the same name (`self.model = A(...)` in one branch, `self.model = B(...)` in the
other) replace each other and count once, at the larger size.

## Why is this slow?
Model weights stay in memory for the life of the process. Several large models in one process
can exceed the GPU (or the host's RAM), forcing CPU fallback, swapping or an out-of-memory kill
— for this service and for every other one sharing the device. Duplicating models that other
services already hold multiplies the footprint.

## Example
```python
import whisper
from TTS.api import TTS

class Interpreter:
    def __init__(self):
        self.asr = whisper.load_model("large-v3")
        self.tts = TTS("tts_models/multilingual/multi-dataset/xtts_v2")
```

## Use instead
```python
import whisper

class Interpreter:
    def __init__(self, speech_client):
        self.asr = whisper.load_model("large-v3")
        self.speech = speech_client
```

## Cost model
Sizes come from the catalog (by the literal model name when it knows it). The severity is a
memory band, not a latency: from 8 GB high (most of a typical 8–12 GB accelerator), from 4 GB
medium, from 2 GB low.

## Known false positives
Models loaded on different devices, or behind configuration switches the rule cannot see, may
never be resident together.
"#,
};

impl Rule for MultipleLargeModelsResident {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        let loads = model_loads(cx);
        let mut start = 0;
        while start < loads.len() {
            let module = loads[start].module;
            let end = start + loads[start..].partition_point(|s| s.module == module);
            let startup: Vec<&ModelLoadSite> = loads[start..end]
                .iter()
                .filter(|s| {
                    // Code that certainly runs at startup: module level, `__main__`, a
                    // constructor. Functions it calls may be alternatives (one branch or the
                    // other), so their loads are not added up.
                    let f = &cx.project.modules[module].functions[s.call.func as usize];
                    let execs = cx.project.executions(&Site::call(module, s.call));
                    (matches!(f.kind, FnKind::Module | FnKind::Main) || f.name == "__init__")
                        && !execs.is_empty()
                        && execs.iter().all(|e| e.kind == CtxKind::Startup)
                })
                .collect();
            report_module(cx, &startup, out);
            start = end;
        }
    }
}

/// One finding per group of loads resident together: each class's startup loads with the
/// module-level ones, or the module-level ones alone when no class loads any.
fn report_module(cx: &RuleContext, startup: &[&ModelLoadSite], out: &mut Vec<Finding>) {
    let Some(first) = startup.first() else { return };
    let m = &cx.project.modules[first.module];
    let class_of = |s: &ModelLoadSite| method_class(m, s.call.func);
    let classes: BTreeSet<u32> = startup.iter().filter_map(|s| class_of(s)).collect();
    let groups: Vec<Vec<&ModelLoadSite>> = if classes.is_empty() {
        vec![startup.to_vec()]
    } else {
        classes
            .iter()
            .map(|&c| {
                startup
                    .iter()
                    .copied()
                    .filter(|s| class_of(s).is_none_or(|k| k == c))
                    .collect()
            })
            .collect()
    };
    let mut found: Vec<(usize, f64, Finding)> = Vec::new();
    for group in groups {
        // One resident per bound name: loads that assign the same name replace each other.
        let mut residents: Vec<(Option<&str>, &ModelLoadSite, f64)> = Vec::new();
        for s in group {
            let mb = s.memory_mb.unwrap_or(0.0);
            if mb < MIN_MODEL_MB {
                continue;
            }
            let name = bound_name(m, s.index);
            match residents.iter_mut().find(|r| name.is_some() && r.0 == name) {
                Some(r) if mb > r.2 => *r = (name, s, mb),
                Some(_) => {}
                None => residents.push((name, s, mb)),
            }
        }
        residents.sort_by_key(|r| r.1.index);
        let total: f64 = residents.iter().map(|r| r.2).sum();
        if residents.len() < MIN_MODELS || total < RESIDENT_FLOOR_MB {
            continue;
        }
        let anchor = residents[0].1;
        let list: Vec<String> = residents
            .iter()
            .map(|(_, s, mb)| {
                format!(
                    "`{}` ~{} (line {})",
                    load_label(&cx.project.modules[s.module], s.call),
                    fmt_mb(*mb),
                    s.call.line
                )
            })
            .collect();
        let mut places: Vec<&str> = residents
            .iter()
            .map(|r| m.functions[r.1.call.func as usize].qualname.as_str())
            .collect();
        places.dedup();
        let exec = cx
            .project
            .executions(&Site::call(anchor.module, anchor.call))
            .into_iter()
            .next()
            .expect("startup loads have a context");
        let message = format!(
            "{} models stay resident in one process, loaded at startup in `{}`: {}; ~{} in total",
            residents.len(),
            places.join("`, `"),
            list.join(", "),
            fmt_mb(total)
        );
        let help = "Check that this process needs all of them at once: call the service that \
                    already holds a model instead of loading a copy, load rarely used models on \
                    demand and release them, or use smaller or quantised variants (fp16, int8)."
            .to_owned();
        let cost = Costed::band(memory_severity(total));
        let h = Hotspot::call(anchor.module, anchor.call, &exec, cost);
        let mut f = cx.emit(&META, h, message, help);
        f.memory_mb = Some(total);
        // The resident models, for leak reports.
        f.snippet = residents
            .iter()
            .map(|r| load_label(&cx.project.modules[r.1.module], r.1.call))
            .collect::<Vec<_>>()
            .join(" + ");
        match found.iter_mut().find(|(i, _, _)| *i == anchor.index) {
            Some(prev) if total > prev.1 => *prev = (anchor.index, total, f),
            Some(_) => {}
            None => found.push((anchor.index, total, f)),
        }
    }
    out.extend(found.into_iter().map(|(_, _, f)| f));
}
