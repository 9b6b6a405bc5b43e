//! Knowledge as data: the API catalog (`data/apis.toml`: what blocks, loads a model, opens a
//! connection, and what one call costs) and the context patterns (`data/contexts.toml`: entry
//! shapes, offload and background APIs, receive methods), where requests go (`data/endpoints.toml`)
//! and the small models whose load is known (`data/models.toml`). This layer loads and validates the
//! data and answers look-ups; it depends on nothing else in the crate, and only configuration
//! loading and the audit driver build a catalog.

/// The `*` patterns of the data files, compiled with globset: one dotted segment in the
/// catalog, any run of characters in the context patterns.
pub(crate) mod wildcard;

pub mod catalog;
pub mod contexts;
pub mod endpoints;
pub mod frameworks;
pub mod models;

/// Whether `s` is a Python identifier as far as names of modules, packages and variables go:
/// a letter or `_`, then letters, digits or `_`.
pub fn is_identifier(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}
