//! perfaudit: a static performance auditor for Python services and multi-agent systems.
//!
//! The pipeline (`audit::run`): discover files, analyse each module in parallel into compact
//! facts, link the project, run the rules against call contexts, cost and report the findings.
//! perfaudit never imports or executes the code it audits.

// No unsafe code, except the interner's arena (`facts/name.rs`, which says why, with its numbers).
#![deny(unsafe_code)]

pub mod audit;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod deps;
#[doc(hidden)]
pub mod dev;
pub mod facts;
pub mod finding;
pub mod knowledge;
pub mod module;
pub mod progress;
pub mod project;
pub mod report;
pub mod rules;
pub mod services;
pub mod settings;
pub mod suppress;

#[doc(hidden)]
pub use dev::{fuzzing, testing};
