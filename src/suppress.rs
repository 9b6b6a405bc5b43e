//! Applies the inline suppression comments (`facts::suppressions`) to the findings after every
//! rule has run: a finding is silenced when a comment covers its line or the line of its costly
//! call (the last step of its chain), so one comment on the root cause silences it on every
//! chain that reaches it.

use std::collections::HashMap;

use crate::facts::ModuleFacts;
pub use crate::facts::suppressions::{Suppression, SuppressionKind};
use crate::finding::Finding;

/// Which codes of which suppression silenced something: `used[module][suppression][code]`
/// (one slot for a suppression without codes).
pub type Usage = Vec<Vec<Vec<bool>>>;

/// Splits `findings` into those that stay and those a comment silences.
pub fn apply(
    modules: &[ModuleFacts],
    findings: Vec<Finding>,
) -> (Vec<Finding>, Vec<Finding>, Usage) {
    let mut used: Usage = modules
        .iter()
        .map(|m| {
            m.suppressions
                .iter()
                .map(|s| vec![false; s.codes.len().max(1)])
                .collect()
        })
        .collect();
    let by_path: HashMap<&str, usize> = modules
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.suppressions.is_empty())
        .map(|(i, m)| (m.path.as_str(), i))
        .collect();
    if by_path.is_empty() {
        return (findings, Vec::new(), used);
    }
    let mut kept = Vec::with_capacity(findings.len());
    let mut silenced = Vec::new();
    for f in findings {
        let mut places = vec![(f.path.as_str(), f.line)];
        if let Some(last) = f.chain.last()
            && (last.path != f.path || last.line != f.line)
        {
            places.push((last.path.as_str(), last.line));
        }
        let mut hit = false;
        for (path, line) in places {
            let Some(&mi) = by_path.get(path) else {
                continue;
            };
            for (si, s) in modules[mi].suppressions.iter().enumerate() {
                if let Some(slot) = s.covers(line, f.code) {
                    used[mi][si][slot] = true;
                    hit = true;
                }
            }
        }
        if hit {
            silenced.push(f);
        } else {
            kept.push(f);
        }
    }
    (kept, silenced, used)
}
