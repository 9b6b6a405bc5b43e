//! Known models (`data/models.toml`): what one load of a named model costs with a given
//! loader, for the small models whose load the loader's catalog range (sized for any model)
//! overstates. The cost model asks it with every name a model load may receive.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    model: Vec<Model>,
}

/// One known model.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub name: String,
    /// Substrings of a name or file the code gives, matched case-insensitively.
    #[serde(rename = "match")]
    pub matches: Vec<String>,
    pub size_mb: f64,
    pub source: String,
    /// By the catalog name of the loader.
    pub loads: BTreeMap<String, Load>,
}

/// What one load of a model costs with one loader.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Load {
    pub low_ms: f64,
    pub high_ms: f64,
    pub note: String,
}

/// A load whose every possible name is a known model: the range over those models.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownLoad {
    pub low_ms: f64,
    pub high_ms: f64,
    /// The largest of the models, as resident memory.
    pub size_mb: f64,
    /// The models' names, in the order first met (`Silero VAD`).
    pub models: Vec<String>,
    /// Their sources, joined.
    pub source: String,
}

/// The compiled model knowledge.
#[derive(Debug)]
pub struct Models {
    models: Vec<Model>,
    /// Every model's `match` texts in one automaton, ASCII case-insensitive: [`Models::names`]
    /// is asked about every string literal passed to a call, and a scan per text and model
    /// took 2.6% of a run on the standard library.
    any: aho_corasick::AhoCorasick,
}

static SHIPPED: &str = include_str!("../../data/models.toml");

impl Models {
    /// The shipped model knowledge, parsed once per process.
    pub fn shipped() -> &'static Models {
        static ONCE: OnceLock<Models> = OnceLock::new();
        ONCE.get_or_init(|| {
            let f: File =
                toml::from_str(SHIPPED).expect("data/models.toml is validated by its tests");
            let mut models = f.model;
            for m in &mut models {
                for k in &mut m.matches {
                    *k = k.to_ascii_lowercase();
                }
            }
            let any = aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(models.iter().flat_map(|m| &m.matches))
                .expect("a few short literal patterns build");
            Models { models, any }
        })
    }

    pub fn all(&self) -> &[Model] {
        &self.models
    }

    /// Whether `text` names a known model, in one pass without allocating (most texts asked
    /// about are not model names: every string literal passed to a call).
    pub fn names(&self, text: &str) -> bool {
        self.any.is_match(text)
    }

    /// The known model `name` names, if one does.
    pub fn named(&self, name: &str) -> Option<&Model> {
        let lower = name.to_ascii_lowercase();
        self.models
            .iter()
            .find(|m| m.matches.iter().any(|k| lower.contains(k.as_str())))
    }

    /// What a load by `loader` (a catalog name) costs when it may receive any of `names`:
    /// `None` unless every name is a known model with a figure for that loader.
    pub fn load(&self, loader: &str, names: &[String]) -> Option<KnownLoad> {
        let mut out: Option<KnownLoad> = None;
        for name in names {
            let model = self.named(name)?;
            let load = model.loads.get(loader)?;
            let k = out.get_or_insert_with(|| KnownLoad {
                low_ms: load.low_ms,
                high_ms: load.high_ms,
                size_mb: model.size_mb,
                models: Vec::new(),
                source: String::new(),
            });
            k.low_ms = k.low_ms.min(load.low_ms);
            k.high_ms = k.high_ms.max(load.high_ms);
            k.size_mb = k.size_mb.max(model.size_mb);
            if !k.models.contains(&model.name) {
                k.models.push(model.name.clone());
                if !k.source.is_empty() {
                    k.source.push_str("; ");
                }
                k.source.push_str(&model.source);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::catalog::{Catalog, Effect};

    #[test]
    fn every_loader_is_a_model_load_of_the_catalog() {
        let catalog = Catalog::with_extensions(&[]);
        for m in Models::shipped().all() {
            assert!(!m.matches.is_empty() && !m.loads.is_empty(), "{}", m.name);
            assert!(m.matches.iter().all(|k| !k.is_empty()), "{}", m.name);
            assert!(m.size_mb > 0.0, "{}", m.name);
            for (loader, l) in &m.loads {
                let id = catalog.lookup(loader).unwrap_or_else(|| panic!("{loader}"));
                assert_eq!(catalog.get(id).effect, Effect::ModelLoad, "{loader}");
                assert!(
                    0.0 < l.low_ms && l.low_ms <= l.high_ms,
                    "{} {loader}",
                    m.name
                );
                // A known model never raises the loader's worst case, and its worst case reaches
                // the loader's best (its own best may be lower: a small file loads faster than
                // the catalog's smallest case).
                let e = catalog.get(id);
                assert!(e.low_ms <= l.high_ms && l.high_ms <= e.high_ms, "{loader}");
            }
        }
    }

    #[test]
    fn every_name_must_be_known() {
        let models = Models::shipped();
        let onnx = "onnxruntime.InferenceSession";
        let vad = vec!["models/silero_vad.onnx".to_owned()];
        let k = models.load(onnx, &vad).unwrap();
        assert_eq!(k.models, ["Silero VAD"]);
        assert!(k.high_ms <= 100.0);
        let both = vec![
            "SILERO_VAD.onnx".to_owned(),
            "hey_jarvis_v0.1.onnx".to_owned(),
        ];
        assert_eq!(models.load(onnx, &both).unwrap().models.len(), 2);
        assert!(models.names("Models/SILERO_VAD.onnx") && !models.names("whisper.onnx"));
        let mixed = vec!["silero_vad.onnx".to_owned(), "whisper.onnx".to_owned()];
        assert_eq!(models.load(onnx, &mixed), None);
        assert_eq!(models.load("torch.load", &vad), None);
        assert_eq!(models.load(onnx, &[]), None);
    }
}
