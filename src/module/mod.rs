//! The module stage: everything done to one file at a time, in parallel, before the project
//! is linked: `discover` (which files), `source` (read and decode), `analyze` (parse and
//! collect facts, dropping the AST), `cache` (reuse facts of unchanged files) and `prints`
//! (each file's fingerprint, without reading a file whose metadata proves it unchanged).
//!
//! Nothing here looks at another module: this layer may use `facts`, the catalog and settings,
//! never `project`, `rules` or `report`.

pub mod analyze;
pub mod cache;
pub mod discover;
pub mod prints;
pub mod source;
