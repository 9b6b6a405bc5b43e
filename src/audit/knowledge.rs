//! The tables an audit reads besides the code.

use crate::knowledge::catalog::Catalog;
use crate::knowledge::contexts::ContextPatterns;
use crate::knowledge::frameworks::Frameworks;
use crate::settings::Settings;

/// The tables an audit reads besides the code: the catalog, the context patterns and the
/// framework profiles (none detected yet), with the configured extensions.
pub(super) struct Knowledge {
    pub catalog: Catalog,
    pub patterns: ContextPatterns,
    pub frameworks: Frameworks,
}

impl Knowledge {
    pub fn new(settings: &Settings) -> Knowledge {
        Knowledge {
            catalog: settings.extensions.catalog(),
            patterns: settings.extensions.patterns(),
            frameworks: settings.extensions.frameworks(),
        }
    }
}
