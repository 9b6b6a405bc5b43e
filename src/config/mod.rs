//! Configuration files: `[tool.perfaudit]` in `pyproject.toml`, or the top-level keys of
//! `perfaudit.toml`. This module finds the file that applies to an audit, checks every key and
//! value with its position (so a mistake is reported as `file:line:col` with a suggestion), and
//! returns a `FileConfig` that the command line layers its own flags over.
//!
//! Discovery walks up from the first audited path. In each directory `perfaudit.toml` wins over
//! `pyproject.toml`, and a `pyproject.toml` without a `[tool.perfaudit]` table is passed over,
//! so the closest real configuration applies. The walk stops after the directory that holds
//! `.git`: files above the repository belong to other projects.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use ruff_python_ast::PythonVersion;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::finding::Severity;
use crate::knowledge::catalog::{ApiEntry, Catalog, Effect};
use crate::knowledge::contexts::ContextPatterns;
use crate::knowledge::frameworks::{Frameworks, Profile};
use crate::rules::RULES;

mod check;

use check::Checker;

/// A configuration problem, located in its file (`line` 0 when it has no position).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", self.location())]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl ConfigError {
    /// `file`, or `file:line:column` when the problem has a position.
    fn location(&self) -> String {
        if self.line == 0 {
            self.file.display().to_string()
        } else {
            format!("{}:{}:{}", self.file.display(), self.line, self.column)
        }
    }
}

/// `per-file-ignores`: rules switched off for the files a glob matches.
#[derive(Debug, Clone)]
pub struct PerFileIgnore {
    /// The pattern as written, for messages.
    pub pattern: String,
    /// Patterns without `/` match a file name anywhere; others are anchored at the directory of
    /// the configuration file and match absolute paths.
    matcher: GlobMatcher,
    by_name: bool,
    pub codes: Vec<String>,
}

impl PerFileIgnore {
    pub fn new(pattern: &str, base: &Path, codes: Vec<String>) -> Result<PerFileIgnore, String> {
        let by_name = !pattern.contains('/');
        let glob = if by_name {
            pattern.to_owned()
        } else {
            anchored_glob(base, pattern)
        };
        let matcher = Glob::new(&glob)
            .map_err(|e| format!("invalid glob `{pattern}`: {e}"))?
            .compile_matcher();
        Ok(PerFileIgnore {
            pattern: pattern.to_owned(),
            matcher,
            by_name,
            codes,
        })
    }

    /// Whether this entry switches `code` off in the file at absolute path `abs`.
    pub fn applies(&self, abs: &Path, code: &str) -> bool {
        let hit = if self.by_name {
            abs.file_name()
                .is_some_and(|n| self.matcher.is_match(Path::new(n)))
        } else {
            self.matcher.is_match(abs)
        };
        hit && self
            .codes
            .iter()
            .any(|c| c == "ALL" || code.starts_with(c.as_str()))
    }
}

/// A glob anchored at `base` (made absolute): `src/*.py` under `/p` becomes `/p/src/*.py`.
pub fn anchored_glob(base: &Path, pattern: &str) -> String {
    let base = std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf());
    let base = globset::escape(&base.to_string_lossy().replace('\\', "/"));
    let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
    format!("{}/{}", base.trim_end_matches('/'), pattern)
}

/// What configuration adds to the built-in knowledge: catalog entries and context patterns.
#[derive(Debug, Clone, Default)]
pub struct Extensions {
    /// Catalog entries merged after the built-in ones (so they win on equal names), including
    /// those made from `blocking` and `model-load`.
    pub apis: Vec<ApiEntry>,
    pub offload_functions: Vec<String>,
    pub handler_names: Vec<String>,
    pub startup_names: Vec<String>,
    pub route_decorators: Vec<String>,
    pub receive_methods: Vec<String>,
    /// Framework profiles of the project's own (`[[frameworks]]`).
    pub frameworks: Vec<Profile>,
}

impl Extensions {
    /// The catalog to audit with: the shipped entries and the configured ones.
    pub fn catalog(&self) -> Catalog {
        Catalog::with_extensions(&self.apis)
    }

    /// The shipped framework profiles and the configured ones, none detected yet.
    pub fn frameworks(&self) -> Frameworks {
        Frameworks::with_extensions(&self.frameworks)
    }

    /// The built-in context patterns with the configured names appended.
    pub fn patterns(&self) -> ContextPatterns {
        let mut p = ContextPatterns::builtin();
        p.offload_functions
            .extend(self.offload_functions.iter().cloned());
        p.handler_names.extend(self.handler_names.iter().cloned());
        p.startup_names.extend(self.startup_names.iter().cloned());
        p.route_decorators
            .extend(self.route_decorators.iter().cloned());
        p.receive_methods
            .extend(self.receive_methods.iter().cloned());
        p
    }
}

/// A configuration file, checked. `None` fields were not set.
#[derive(Debug, Clone, Default)]
pub struct FileConfig {
    pub path: PathBuf,
    pub select: Option<Vec<String>>,
    pub ignore: Vec<String>,
    pub extend_select: Vec<String>,
    pub per_file_ignores: Vec<PerFileIgnore>,
    /// Anchored (absolute) globs for `exclude` and `extend-exclude`.
    pub exclude: Option<Vec<String>>,
    pub extend_exclude: Vec<String>,
    /// `Some(None)` is `fail-on = "never"`.
    pub fail_on: Option<Option<Severity>>,
    pub target_version: Option<PythonVersion>,
    pub max_file_size: Option<u64>,
    pub agents: Option<PathBuf>,
    /// The Python environment whose libraries calls are followed into, as `--python`.
    pub python: Option<PathBuf>,
    pub extensions: Extensions,
}

/// The keys `[tool.perfaudit]` accepts.
const KEYS: &[&str] = &[
    "agents",
    "apis",
    "blocking",
    "exclude",
    "extend-exclude",
    "extend-select",
    "fail-on",
    "frameworks",
    "handler-names",
    "ignore",
    "max-file-size",
    "model-load",
    "offload",
    "per-file-ignores",
    "python",
    "receive-methods",
    "route-decorators",
    "select",
    "startup-names",
    "target-version",
];

/// The fields of one `apis` entry (`-` and `_` are interchangeable).
const API_KEYS: &[&str] = &[
    "arg_seconds",
    "async_alternative",
    "effect",
    "high_ms",
    "log_file",
    "low_ms",
    "memory_mb",
    "note",
    "release",
    "returns",
    "source",
    "timeout_kw",
    "url_arg",
    "peer_arg",
    "lazy",
];

const EFFECTS: &[Effect] = &[
    Effect::Sleep,
    Effect::Network,
    Effect::Disk,
    Effect::Subprocess,
    Effect::FsWalk,
    Effect::Db,
    Effect::Redis,
    Effect::Browser,
    Effect::Input,
    Effect::ModelLoad,
    Effect::Connection,
    Effect::Socket,
    Effect::Executor,
    Effect::Cpu,
    Effect::Regex,
    Effect::Serialization,
    Effect::ConfigParse,
    Effect::Import,
    Effect::Deepcopy,
    Effect::Wait,
    Effect::Local,
];

/// Cost given to a wrapper listed under `blocking`: one blocking round trip of unknown kind.
/// Its typical value (the geometric mean, 100 ms) bands it `high` on the event loop; an `apis`
/// entry gives real numbers.
const BLOCKING_WRAPPER_MS: (f64, f64) = (10.0, 1000.0);
/// Cost given to a loader listed under `model-load`: the range of the built-in model loaders.
const MODEL_LOADER_MS: (f64, f64) = (1000.0, 60000.0);

/// The configuration file for an audit of `start`, if any: see the module documentation.
pub fn find(start: &Path) -> Result<Option<PathBuf>, ConfigError> {
    let abs = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
    let mut dir = if abs.is_file() {
        abs.parent().map(Path::to_path_buf)
    } else {
        Some(abs)
    };
    while let Some(d) = dir {
        let own = d.join("perfaudit.toml");
        if own.is_file() {
            return Ok(Some(own));
        }
        let py = d.join("pyproject.toml");
        if py.is_file() && pyproject_has_table(&py)? {
            return Ok(Some(py));
        }
        if d.join(".git").exists() {
            break;
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    Ok(None)
}

fn pyproject_has_table(path: &Path) -> Result<bool, ConfigError> {
    let text = read(path)?;
    // A cheap textual test first: most pyproject files never mention us, and they need not
    // even be valid TOML for the audit to go on.
    if !text.contains("perfaudit") {
        return Ok(false);
    }
    let doc = parse(path, &text)?;
    Ok(perfaudit_table(doc.get_ref()).is_some())
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read configuration: {e}"),
    })
}

fn parse<'a>(path: &Path, text: &'a str) -> Result<Spanned<DeTable<'a>>, ConfigError> {
    DeTable::parse(text).map_err(|e| {
        let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
        ConfigError {
            file: path.to_path_buf(),
            line,
            column,
            message: format!("invalid TOML: {}", e.message().trim_end()),
        }
    })
}

fn perfaudit_table<'a, 'i>(doc: &'a DeTable<'i>) -> Option<&'a Spanned<DeValue<'i>>> {
    doc.get("tool")?.get_ref().as_table()?.get("perfaudit")
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// Reads and checks a configuration file: `pyproject.toml` (its `[tool.perfaudit]` table) or
/// any other name (top-level keys).
pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
    load_text(path, &read(path)?)
}

/// Checks the text of a configuration file as `load` does; `path` names the file (its name
/// says how to read it, its directory anchors relative globs and paths).
pub fn load_text(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    let doc = parse(path, text)?;
    let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let mut cx = Checker {
        path,
        text,
        // `--config perfaudit.toml` has an empty parent: the current directory.
        dir: path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
        table_name: if is_pyproject {
            "[tool.perfaudit]"
        } else {
            "the configuration"
        },
    };
    let mut out = FileConfig {
        path: path.to_path_buf(),
        ..FileConfig::default()
    };
    if is_pyproject {
        match perfaudit_table(doc.get_ref()) {
            Some(t) => match t.get_ref().as_table() {
                Some(table) => cx.table(table, &mut out)?,
                None => return Err(cx.error(t.span(), "`tool.perfaudit` must be a table")),
            },
            None => {
                return Err(cx.error(0..0, "has no [tool.perfaudit] table"));
            }
        }
    } else {
        cx.table(doc.get_ref(), &mut out)?;
    }
    Ok(out)
}

/// A rule code, a prefix of one, or `ALL`.
pub fn is_known_code(code: &str) -> bool {
    code == "ALL" || (!code.is_empty() && RULES.iter().any(|r| r.meta().code.starts_with(code)))
}

/// ` (did you mean `x`?)` when a candidate is within a small edit distance of `word`.
pub fn suggestion<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let word = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    // Close in spelling, or the word with a part added (`exclude-paths` for `exclude`).
    let best = candidates
        .map(|c| (edit_distance(&word, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= limit || (c.len() >= 4 && word.starts_with(&c.to_ascii_lowercase())))
        .min();
    match best {
        Some((_, c)) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    }
}

/// Edit distance over characters where an insertion, a deletion, a substitution or a swap of
/// two neighbours each count one (swaps are the commonest typing slip: `hihg`): the optimal
/// string alignment distance.
pub fn edit_distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

/// A Python version as `3.12`, `312`, `py312` or `python3.12` (3.7 to 3.15).
pub fn parse_target_version(s: &str) -> Option<PythonVersion> {
    let s = s
        .trim()
        .trim_start_matches("py")
        .trim_start_matches("python");
    let (major, minor) = if let Some((a, b)) = s.split_once('.') {
        (a.parse().ok()?, b.parse().ok()?)
    } else if s.len() >= 2 && s.starts_with('3') {
        (3, s[1..].parse().ok()?)
    } else {
        return None;
    };
    (major == 3 && (7..=15).contains(&minor)).then_some(PythonVersion { major, minor })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(name: &str, text: &str) -> Result<FileConfig, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        load(&path).map_err(|mut e| {
            e.file = PathBuf::from(name);
            e
        })
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("selct", "select"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("hihg", "high"), 1);
        assert_eq!(
            suggestion("exclude-paths", KEYS.iter().copied()),
            " (did you mean `exclude`?)"
        );
        assert_eq!(
            suggestion("extend_select", KEYS.iter().copied()),
            " (did you mean `extend-select`?)"
        );
        assert_eq!(suggestion("zzzzzz", KEYS.iter().copied()), "");
    }

    #[test]
    fn reads_pyproject_table() {
        let c = load_text(
            "pyproject.toml",
            r#"
[project]
name = "x"

[tool.perfaudit]
select = ["PA1"]
ignore = ["PA105"]
fail-on = "never"
target-version = "3.11"
max-file-size = 1_000
blocking = ["mypkg.io.*"]
offload = ["mypkg.run_bg"]
handler-names = ["serve_*"]

[tool.perfaudit.per-file-ignores]
"tests/*.py" = ["PA101"]

[tool.perfaudit.apis."mypkg.client.fetch"]
effect = "network"
low_ms = 200
high_ms = 900.0
"#,
        )
        .unwrap();
        assert_eq!(c.select, Some(vec!["PA1".to_owned()]));
        assert_eq!(c.fail_on, Some(None));
        assert_eq!(c.target_version, Some(PythonVersion::PY311));
        assert_eq!(c.max_file_size, Some(1000));
        assert_eq!(c.extensions.apis.len(), 2);
        let fetch = &c.extensions.apis[1];
        assert_eq!((fetch.low_ms, fetch.high_ms), (200.0, 900.0));
        assert_eq!(c.per_file_ignores.len(), 1);
        assert_eq!(c.extensions.offload_functions, vec!["mypkg.run_bg"]);
    }

    #[test]
    fn unknown_key_is_located_with_a_suggestion() {
        let e = load_text(
            "perfaudit.toml",
            "select = [\"PA1\"]\nextend-selct = [\"PA2\"]\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("did you mean `extend-select`"), "{e}");
    }

    #[test]
    fn bad_values_are_located() {
        let e = load_text("perfaudit.toml", "\nfail-on = \"hgh\"\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("did you mean `high`"), "{e}");
        let e = load_text("perfaudit.toml", "select = [\"PA1\", \"PA9999\"]\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 18));
        let e = load_text(
            "perfaudit.toml",
            "[apis.\"a.b\"]\neffect = \"netwrk\"\nlow_ms = 1\nhigh_ms = 2\n",
        )
        .unwrap_err();
        assert!(e.message.contains("did you mean `network`"), "{e}");
        let e = load_text("perfaudit.toml", "[apis.\"a.b\"]\neffect = \"disk\"\n").unwrap_err();
        assert!(e.message.contains("lacks low_ms, high_ms"), "{e}");
        assert!(load_text("pyproject.toml", "[project]\nname = 'x'\n").is_err());
    }

    #[test]
    fn discovery_prefers_the_closest_real_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("pyproject.toml"), "[tool.perfaudit]\n").unwrap();
        // Mentions perfaudit but has no table of ours: passed over.
        std::fs::write(
            root.join("a/pyproject.toml"),
            "[project]\ndescription = 'uses perfaudit'\n",
        )
        .unwrap();
        assert_eq!(
            find(&root.join("a/b")).unwrap(),
            Some(root.join("pyproject.toml"))
        );
        std::fs::write(root.join("a/perfaudit.toml"), "").unwrap();
        assert_eq!(
            find(&root.join("a/b")).unwrap(),
            Some(root.join("a/perfaudit.toml"))
        );
    }

    #[test]
    fn per_file_ignores_match_names_and_anchored_paths() {
        let base = Path::new("/proj");
        let by_name = PerFileIgnore::new("test_*.py", base, vec!["PA1".into()]).unwrap();
        assert!(by_name.applies(Path::new("/proj/x/test_a.py"), "PA101"));
        assert!(!by_name.applies(Path::new("/proj/x/test_a.py"), "PA201"));
        let anchored = PerFileIgnore::new("legacy/**", base, vec!["ALL".into()]).unwrap();
        assert!(anchored.applies(Path::new("/proj/legacy/a/b.py"), "PA101"));
        assert!(!anchored.applies(Path::new("/other/legacy/b.py"), "PA101"));
    }
}
