//! Resolved settings: everything the library needs to run an audit, after command-line flags
//! (and later configuration files) have been merged. The CLI builds this; nothing below the CLI
//! reads raw flags.

use std::path::PathBuf;

use ruff_python_ast::PythonVersion;

pub use crate::config::parse_target_version;
use crate::config::{Extensions, PerFileIgnore};
use crate::finding::Severity;

/// Report formats. All but `LeakCandidates` can be chosen for a single stream with `--format`;
/// `--output-dir` writes a fixed set of them side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Csv,
    Sarif,
    /// GitHub Actions workflow commands (`::error file=...::message`).
    Github,
    /// GitLab Code Quality (Code Climate issues).
    Gitlab,
    Html,
    /// `memory_leak_candidates.json`: only written by `--output-dir`.
    LeakCandidates,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub paths: Vec<PathBuf>,
    /// Rule codes or prefixes to enable; empty means all.
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    /// Glob patterns of paths to leave out, in addition to the default skip list.
    pub exclude: Vec<String>,
    pub threads: usize,
    pub fail_on: Option<Severity>,
    pub target_version: PythonVersion,
    pub max_file_size: u64,
    pub follow_links: bool,
    /// Service definitions to use instead of the configuration files found.
    pub agents_file: Option<PathBuf>,
    pub format: Format,
    pub output: Option<PathBuf>,
    /// Directory that receives the whole audit at once (Markdown, CSV, JSON, SARIF, HTML).
    pub output_dir: Option<PathBuf>,
    pub quiet: bool,
    pub progress: bool,
    /// Catalog entries and context patterns added by configuration.
    pub extensions: Extensions,
    /// Rules switched off for some files (from configuration).
    pub per_file_ignores: Vec<PerFileIgnore>,
    /// Keep suppressed findings in the report (`--show-suppressed`).
    pub show_suppressed: bool,
    /// Count findings in code that no service runs as hotspots like any other
    /// (`--include-not-run`): listed, in the totals and in the exit code.
    pub include_not_run: bool,
    /// Report only findings that this baseline file does not record.
    pub baseline: Option<PathBuf>,
    /// Reuse per-module facts from `.perfaudit_cache/` in the audited root. Off by default in the
    /// library so that tests never write into their fixtures; the command line turns it on.
    pub cache: bool,
    /// The Python environment whose libraries calls are followed into. Off by default in the
    /// library, so that tests never depend on the environment they run in; the command line
    /// looks for one.
    pub python: PythonEnv,
}

/// Where the audited code's Python environment is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PythonEnv {
    /// Calls into libraries are not followed.
    Off,
    /// `VIRTUAL_ENV`, else a `.venv`/`venv` folder in the audited root or a parent.
    Discover,
    /// `--python PATH`: an interpreter or a venv folder.
    At(PathBuf),
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            paths: vec![PathBuf::from(".")],
            select: Vec::new(),
            ignore: Vec::new(),
            exclude: Vec::new(),
            threads: 0,
            fail_on: Some(Severity::High),
            target_version: PythonVersion::PY312,
            max_file_size: 5 * 1024 * 1024,
            follow_links: false,
            agents_file: None,
            format: Format::Text,
            output: None,
            output_dir: None,
            quiet: false,
            progress: false,
            extensions: Extensions::default(),
            per_file_ignores: Vec::new(),
            show_suppressed: false,
            include_not_run: false,
            baseline: None,
            cache: false,
            python: PythonEnv::Off,
        }
    }
}

/// Rules that are off unless `select` names them exactly (`ALL` and prefixes do not count).
pub const EXPLICIT_ONLY: &[&str] = &["PA002"];

impl Settings {
    /// Whether a rule is enabled by `select`/`ignore` (codes or prefixes; the longer match wins).
    pub fn rule_enabled(&self, code: &str) -> bool {
        // Rules that judge the configuration itself (unused suppressions) run only when named.
        if EXPLICIT_ONLY.contains(&code) {
            return self.select.iter().any(|s| s == code)
                && !self
                    .ignore
                    .iter()
                    .any(|i| code.starts_with(i.as_str()) || i == "ALL");
        }
        let best = |list: &[String]| {
            list.iter()
                .filter(|p| code.starts_with(p.as_str()) || p.as_str() == "ALL")
                .map(|p| if p == "ALL" { 0 } else { p.len() })
                .max()
        };
        let selected = if self.select.is_empty() {
            Some(0)
        } else {
            best(&self.select)
        };
        match (selected, best(&self.ignore)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(s), Some(i)) => s > i,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_and_ignore_prefixes() {
        let mut s = Settings::default();
        assert!(s.rule_enabled("PA101"));
        s.select = vec!["PA1".into()];
        assert!(s.rule_enabled("PA101"));
        assert!(!s.rule_enabled("PA201"));
        s.ignore = vec!["PA10".into()];
        assert!(!s.rule_enabled("PA101"));
        assert!(s.rule_enabled("PA110"));
        s.select = vec!["PA101".into()];
        assert!(s.rule_enabled("PA101"));
    }

    #[test]
    fn target_versions() {
        assert_eq!(parse_target_version("3.11"), Some(PythonVersion::PY311));
        assert_eq!(parse_target_version("py312"), Some(PythonVersion::PY312));
        assert_eq!(parse_target_version("2.7"), None);
    }
}
