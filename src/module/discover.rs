//! Finding the Python files to audit: `ignore::WalkBuilder` with gitignore rules and a default
//! skip list; explicit file arguments are always audited. Paths come back sorted so that nothing
//! downstream depends on directory order or thread timing.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

/// Directory names skipped by default (an explicit path argument is always audited).
pub const DEFAULT_SKIP_DIRS: &[&str] = &[
    ".git",
    ".venv",
    "venv",
    "__pycache__",
    "node_modules",
    "site-packages",
    "build",
    "dist",
    ".perfaudit_cache",
];

/// One file to audit: its path on disk and its path relative to the audited root.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourcePath {
    pub rel: String,
    pub abs: PathBuf,
}

/// A problem met while walking (a symlink loop, an unreadable directory).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WalkDiagnostic {
    pub path: String,
    pub message: String,
}

pub struct Discovered {
    /// The audited root that relative paths are taken from.
    pub root: PathBuf,
    pub files: Vec<SourcePath>,
    /// Files that may declare services (YAML/JSON manifests, Procfiles, pyproject.toml).
    pub configs: Vec<SourcePath>,
    pub diagnostics: Vec<WalkDiagnostic>,
}

/// An exclude pattern that is not a valid glob.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    /// A pattern from a configuration file's `exclude`.
    #[error("invalid exclude pattern `{pattern}`: {source}")]
    Configured {
        pattern: String,
        source: globset::Error,
    },
    /// A pattern given with `--exclude`.
    #[error("invalid --exclude pattern `{pattern}`: {source}")]
    Flag {
        pattern: String,
        source: globset::Error,
    },
    /// The set of valid patterns could not be built.
    #[error(transparent)]
    Set(#[from] globset::Error),
}

/// Absolute patterns (from configuration files) as one set, matched against absolute paths.
pub fn build_anchored(patterns: &[String]) -> Result<GlobSet, PatternError> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).map_err(|source| PatternError::Configured {
            pattern: p.clone(),
            source,
        })?);
    }
    Ok(b.build()?)
}

pub fn build_excludes(patterns: &[String]) -> Result<GlobSet, PatternError> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g = Glob::new(p).map_err(|source| PatternError::Flag {
            pattern: p.clone(),
            source,
        })?;
        b.add(g);
        if !p.contains('/') {
            b.add(Glob::new(&format!("**/{p}"))?);
        }
    }
    Ok(b.build()?)
}

/// Walks every path argument. Relative paths are reported against the first argument when it
/// is a directory (its parent when it is a file), so a report reads the same wherever it runs.
pub fn discover(paths: &[PathBuf], excludes: &GlobSet, follow_links: bool) -> Discovered {
    discover_anchored(paths, excludes, &GlobSet::empty(), follow_links)
}

/// Like `discover`, also leaving out entries whose absolute path matches one of `anchored`
/// (configuration patterns, anchored at the directory of their file).
pub fn discover_anchored(
    paths: &[PathBuf],
    excludes: &GlobSet,
    anchored: &GlobSet,
    follow_links: bool,
) -> Discovered {
    let root = match paths.first() {
        Some(p) if p.is_file() => p.parent().map(Path::to_path_buf).unwrap_or_default(),
        Some(p) => p.clone(),
        None => PathBuf::from("."),
    };
    let mut files = Vec::new();
    let mut configs = Vec::new();
    let mut diagnostics = Vec::new();
    for arg in paths {
        if arg.is_file() {
            files.push(SourcePath {
                rel: relative(&root, arg),
                abs: arg.clone(),
            });
            continue;
        }
        if !arg.exists() {
            diagnostics.push(WalkDiagnostic {
                path: arg.display().to_string(),
                message: "path does not exist".to_owned(),
            });
            continue;
        }
        let walk_root = arg.clone();
        let ex = excludes.clone();
        let anchored = anchored.clone();
        let abs_root = std::path::absolute(arg).unwrap_or_else(|_| arg.clone());
        let walker = ignore::WalkBuilder::new(arg)
            .hidden(true)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(false)
            .ignore(true)
            .parents(true)
            .require_git(false)
            .follow_links(follow_links)
            .filter_entry(move |e| {
                if e.depth() == 0 {
                    return true;
                }
                let name = e.file_name().to_string_lossy();
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                if is_dir && DEFAULT_SKIP_DIRS.contains(&name.as_ref()) {
                    return false;
                }
                let rel = e.path().strip_prefix(&walk_root).unwrap_or(e.path());
                !ex.is_match(rel) && (anchored.is_empty() || !anchored.is_match(abs_root.join(rel)))
            })
            .build();
        for entry in walker {
            match entry {
                Ok(e) => {
                    let is_file = e.file_type().is_some_and(|t| t.is_file());
                    if is_file && e.path().extension().is_some_and(|x| x == "py") {
                        files.push(SourcePath {
                            rel: relative(&root, e.path()),
                            abs: e.path().to_path_buf(),
                        });
                    } else if is_file
                        && crate::services::is_config_file(&e.file_name().to_string_lossy())
                    {
                        configs.push(SourcePath {
                            rel: relative(&root, e.path()),
                            abs: e.path().to_path_buf(),
                        });
                    }
                }
                Err(err) => diagnostics.push(WalkDiagnostic {
                    path: error_path(&err).unwrap_or_else(|| arg.display().to_string()),
                    message: walk_error_message(&err),
                }),
            }
        }
    }
    files.sort();
    files.dedup_by(|a, b| a.abs == b.abs);
    configs.sort();
    configs.dedup_by(|a, b| a.abs == b.abs);
    diagnostics.sort();
    Discovered {
        root,
        files,
        configs,
        diagnostics,
    }
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let s = rel.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

fn error_path(err: &ignore::Error) -> Option<String> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.display().to_string()),
        ignore::Error::WithDepth { err, .. } => error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.display().to_string()),
        _ => None,
    }
}

fn walk_error_message(err: &ignore::Error) -> String {
    match err {
        ignore::Error::Loop { ancestor, .. } => {
            format!("symlink loop back to {}: not followed", ancestor.display())
        }
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            walk_error_message(err)
        }
        other => other.to_string(),
    }
}
