//! The per-module stage: read, decode, parse (with error recovery) and collect facts, for one
//! file at a time. The only caller of the Ruff parser. A file that cannot be read becomes a
//! diagnostic; a file that does not parse still yields facts from its recovered tree.

use ruff_python_ast::PySourceType;
use ruff_python_parser::{ParseOptions, parse_unchecked};
use ruff_source_file::LineIndex;
use ruff_text_size::TextSize;

use crate::facts::collect::{AstRule, collect};
use crate::facts::{ModuleFacts, SyntaxErrorInfo};
use crate::knowledge::catalog::Catalog;
use crate::knowledge::contexts::ContextPatterns;
use crate::module::discover::SourcePath;
use crate::settings::Settings;

/// A file-level problem that is not a finding: skipped, unreadable, decoded lossily.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    pub path: String,
    pub message: String,
}

pub struct FileResult {
    pub facts: Option<ModuleFacts>,
    pub diagnostic: Option<Diagnostic>,
}

/// Nesting depth beyond which the AST is dropped on a freshly grown stack (dropping nested
/// `Box<Expr>` chains recurses).
const DEEP_AST: u32 = 256;

pub fn module_name(rel: &str) -> (String, bool) {
    let stem = rel.strip_suffix(".py").unwrap_or(rel);
    let is_package = stem == "__init__" || stem.ends_with("/__init__");
    let stem = stem.strip_suffix("/__init__").unwrap_or(stem);
    let stem = if stem == "__init__" { "" } else { stem };
    (stem.replace('/', "."), is_package)
}

pub fn analyze_file(
    file: &SourcePath,
    settings: &Settings,
    catalog: &Catalog,
    patterns: &ContextPatterns,
    rules: &[&dyn AstRule],
) -> FileResult {
    match read_file(file, settings) {
        Ok(bytes) => analyze_bytes(file, bytes, settings, catalog, patterns, rules),
        Err(skipped) => FileResult {
            facts: None,
            diagnostic: Some(skipped),
        },
    }
}

/// Reads a file to audit, or says why it is skipped (the cache hashes the bytes before any
/// parsing).
pub fn read_file(file: &SourcePath, settings: &Settings) -> Result<Vec<u8>, Diagnostic> {
    let diag = |message: String| Diagnostic {
        path: file.rel.clone(),
        message,
    };
    let meta = match std::fs::metadata(&file.abs) {
        Ok(m) => m,
        Err(e) => return Err(diag(format!("cannot read: {}", io_reason(&e)))),
    };
    if meta.is_dir() {
        return Err(diag("is a directory, not a file".to_owned()));
    }
    if meta.len() > settings.max_file_size {
        return Err(diag(format!(
            "skipped: {} bytes is over the size cap of {} bytes (raise it with --max-file-size)",
            meta.len(),
            settings.max_file_size
        )));
    }
    std::fs::read(&file.abs).map_err(|e| diag(format!("cannot read: {}", io_reason(&e))))
}

/// Decodes, parses and collects the facts of a file already read.
pub fn analyze_bytes(
    file: &SourcePath,
    bytes: Vec<u8>,
    settings: &Settings,
    catalog: &Catalog,
    patterns: &ContextPatterns,
    rules: &[&dyn AstRule],
) -> FileResult {
    let diag = |message: String| FileResult {
        facts: None,
        diagnostic: Some(Diagnostic {
            path: file.rel.clone(),
            message,
        }),
    };
    let decoded = match crate::module::source::decode_owned(bytes) {
        Ok(d) => d,
        Err(crate::module::source::DecodeError::Utf16) => {
            return diag(
                "skipped: UTF-16 encoded (Python source must be UTF-8 or declare an 8-bit coding)"
                    .to_owned(),
            );
        }
        Err(crate::module::source::DecodeError::Binary(share)) => {
            return diag(format!(
                "skipped: looks like a binary file ({share}% of its first bytes are control \
                 characters); not analysed"
            ));
        }
    };
    // A bug in one rule's hook must not end the whole audit: the file is reported as not
    // analysed and the run goes on. Fuzzing builds let the panic through, to be found.
    let analysed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        analyze_source(&decoded.text, &file.rel, settings, catalog, patterns, rules)
    }));
    let mut facts = match analysed {
        Ok(facts) => facts,
        Err(panic) if cfg!(fuzzing) => std::panic::resume_unwind(panic),
        Err(_) => {
            return diag(
                "skipped: internal error while analysing this file (a perfaudit bug; please \
                 report it with the file)"
                    .to_owned(),
            );
        }
    };
    facts.decode_note = decoded.note.clone();
    FileResult {
        facts: Some(facts),
        diagnostic: decoded.note.map(|n| Diagnostic {
            path: file.rel.clone(),
            message: n,
        }),
    }
}

/// Parses and collects one module's facts from its text.
pub fn analyze_source(
    text: &str,
    rel: &str,
    settings: &Settings,
    catalog: &Catalog,
    patterns: &ContextPatterns,
    rules: &[&dyn AstRule],
) -> ModuleFacts {
    let options =
        ParseOptions::from(PySourceType::Python).with_target_version(settings.target_version);
    let parsed = parse_unchecked(text, options);
    let line_index = LineIndex::from_source_text(text);
    let syntax_error = parsed
        .errors()
        .first()
        .map(|first| {
            let lc = line_index.line_column(first.location.start(), text);
            SyntaxErrorInfo {
                message: first.error.to_string(),
                line: lc.line.get() as u32,
                column: lc.column.get() as u32,
                count: parsed.errors().len() as u32,
            }
        })
        .or_else(|| nul_byte(text, &line_index));
    let (module, is_package) = module_name(rel);
    let (facts, depth) = match parsed.syntax().as_module() {
        Some(m) => {
            let (mut f, d) = collect(
                &m.body,
                text,
                &line_index,
                rel,
                &module,
                is_package,
                catalog,
                patterns,
                rules,
            );
            f.syntax_error = syntax_error;
            (f, d)
        }
        None => (
            ModuleFacts {
                path: rel.to_owned(),
                module,
                is_package,
                syntax_error,
                ..ModuleFacts::default()
            },
            0,
        ),
    };
    let mut facts = facts;
    facts.suppressions = crate::facts::suppressions::scan(parsed.tokens(), text, &line_index);
    if depth > DEEP_AST {
        stacker::grow(64 * 1024 * 1024 + depth as usize * 4096, move || {
            drop(parsed)
        });
    } else {
        drop(parsed);
    }
    // The facts were allocated between the tree's nodes, and would keep the allocator's pages
    // that the tree leaves mostly free resident for the rest of the run. A copy made now packs
    // them into few pages (and exact-size vectors); the first copy is freed with those pages.
    // Stdlib: resident after the module stage 202-212 -> 183-186 MiB, peak 253-259 -> 222-230.
    facts.clone()
}

/// Python refuses a source holding a NUL byte anywhere, even in a comment or a string, where
/// the Ruff parser reads on: such a module cannot be imported, so it is a syntax error here too.
fn nul_byte(text: &str, line_index: &LineIndex) -> Option<SyntaxErrorInfo> {
    let offset = TextSize::try_from(memchr::memchr(0, text.as_bytes())?).ok()?;
    let lc = line_index.line_column(offset, text);
    Some(SyntaxErrorInfo {
        message: "source code cannot contain null bytes".to_owned(),
        line: lc.line.get() as u32,
        column: lc.column.get() as u32,
        count: 1,
    })
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "file vanished during the run".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_byte_in_a_comment_is_a_syntax_error() {
        let settings = Settings::default();
        let facts = analyze_source(
            "x = 1\n# a \0 here\n",
            "m.py",
            &settings,
            &Catalog::with_extensions(&[]),
            &ContextPatterns::builtin(),
            &[],
        );
        let err = facts.syntax_error.expect("a syntax error");
        assert_eq!(err.message, "source code cannot contain null bytes");
        assert_eq!((err.line, err.column, err.count), (2, 5, 1));
    }

    struct PanickingHook;

    impl AstRule for PanickingHook {
        fn code(&self) -> &'static str {
            "TEST"
        }

        fn check_stmt(
            &self,
            _stmt: &ruff_python_ast::Stmt,
            _cx: &mut crate::facts::collect::LocalContext,
        ) {
            panic!("a hook bug");
        }
    }

    #[test]
    fn a_panicking_hook_skips_the_file_with_a_diagnostic() {
        let file = SourcePath {
            rel: "m.py".to_owned(),
            abs: std::path::PathBuf::from("m.py"),
        };
        let r = analyze_bytes(
            &file,
            b"x = 1\n".to_vec(),
            &Settings::default(),
            &Catalog::with_extensions(&[]),
            &ContextPatterns::builtin(),
            &[&PanickingHook],
        );
        assert!(r.facts.is_none());
        let d = r.diagnostic.expect("a diagnostic");
        assert_eq!(d.path, "m.py");
        assert!(
            d.message.starts_with("skipped: internal error"),
            "{}",
            d.message
        );
    }

    #[test]
    fn module_names() {
        assert_eq!(module_name("a/b.py"), ("a.b".to_owned(), false));
        assert_eq!(module_name("a/__init__.py"), ("a".to_owned(), true));
        assert_eq!(module_name("__init__.py"), (String::new(), true));
        assert_eq!(module_name("x.py"), ("x".to_owned(), false));
    }
}
