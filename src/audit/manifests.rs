//! The services a run's manifests declare, and the values they give configuration keys.

use std::path::PathBuf;

use rustc_hash::FxHashMap as HashMap;

use crate::module::analyze::Diagnostic;
use crate::module::discover::SourcePath;
use crate::project::Configured;
use crate::services::{ServiceDef, parse_config, read_config};
use crate::settings::Settings;

/// Service definitions from `--agents FILE`, or from every configuration file found, and the
/// values the files that declare services give to configuration keys (`services::Manifest`).
pub(super) fn service_definitions(
    settings: &Settings,
    configs: &[SourcePath],
    memory: Option<&HashMap<String, Vec<u8>>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Vec<ServiceDef>, Configured) {
    let mut defs = Vec::new();
    let mut configured = Configured::default();
    let sources: Vec<(PathBuf, String)> = match &settings.agents_file {
        Some(f) => vec![(f.clone(), f.display().to_string())],
        None => configs
            .iter()
            .map(|c| (c.abs.clone(), c.rel.clone()))
            .collect(),
    };
    for (abs, rel) in sources {
        let text = memory
            .filter(|_| settings.agents_file.is_none())
            .and_then(|m| m.get(&rel));
        let name = rel.rsplit('/').next().unwrap_or(&rel).to_owned();
        let read = match text {
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => parse_config(&name, text, &rel),
                Err(e) => Err(e.into()),
            },
            None => read_config(&abs, &rel),
        };
        match read {
            Ok(found) => {
                configured.add(found.values);
                defs.extend(found.services)
            }
            Err(e) if settings.agents_file.is_some() => diagnostics.push(Diagnostic {
                path: rel,
                message: format!("cannot read services: {e}"),
            }),
            Err(_) => {}
        }
    }
    (defs, configured)
}
