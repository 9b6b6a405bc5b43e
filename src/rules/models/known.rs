//! A model load costed by the model it loads (`data/models.toml`), when every name it may
//! receive is a known small model: the name the call gives (a literal, a module constant, a
//! `model=` keyword) or, through a parameter, what every caller passes, read by the machinery
//! that reads where a request goes (`Project::destinations`). Otherwise the loader's catalog
//! range stands.

use crate::facts::Call;
use crate::knowledge::catalog::ApiEntry;
use crate::knowledge::models::{KnownLoad, Models};
use crate::rules::RuleContext;
use crate::rules::cost::{PerCall, Worst, fmt_range};

/// The known models `call` (a load by `entry`) loads, when every name it may receive is one.
pub fn known_load(
    cx: &RuleContext,
    module: usize,
    call: &Call,
    entry: &ApiEntry,
) -> Option<KnownLoad> {
    let names = cx.project.destinations(module, call)?;
    Models::shipped().load(&entry.name, &names)
}

/// What one load costs: the known models' range, else the loader's catalog range.
pub fn load_per_call(entry: &ApiEntry, known: Option<&KnownLoad>) -> PerCall {
    let Some(k) = known else {
        return PerCall::entry(entry);
    };
    PerCall {
        low_ms: k.low_ms,
        high_ms: k.high_ms,
        what: format!(
            "{} of {} {}",
            entry.name,
            k.models.join(" or "),
            fmt_range(k.low_ms, k.high_ms)
        ),
        source: k.source.clone(),
        worst: Worst::Unstated,
        retry: None,
    }
}
