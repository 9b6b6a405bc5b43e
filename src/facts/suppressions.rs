//! Inline suppression comments as facts of a module: `# perfaudit: ignore[PA101]`,
//! `# perfaudit: ignore`, the flake8/ruff form `# noqa: PA101` (a bare `# noqa` silences
//! everything on its line), and `# perfaudit: ignore-file` (or `ignore-file[PA101]`) anywhere in
//! a module, which covers all of it.
//!
//! Comments are found per module from the parser's tokens, so text inside strings never counts,
//! and are stored in the module's facts (which lets the cache keep them). A comment covers its
//! own line; on the first line of a statement that spans several lines it covers the whole
//! statement, so the comment can sit where the statement starts. Applying them to findings is
//! the `suppress` module's job.

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::token::{Token, TokenKind};
use ruff_source_file::LineIndex;
use ruff_text_size::{Ranged, TextSize};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionKind {
    /// `# perfaudit: ignore[...]`
    Perfaudit,
    /// `# noqa[: ...]`
    Noqa,
    /// `# perfaudit: ignore-file[...]`: the whole module.
    File,
}

/// One suppression comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// Line and column of the comment.
    pub line: u32,
    pub column: u32,
    /// The lines it covers (its own, or the whole statement it starts).
    pub first: u32,
    pub last: u32,
    pub kind: SuppressionKind,
    /// Upper-case codes named; empty means every code.
    pub codes: Vec<String>,
}

impl Suppression {
    pub fn covers(&self, line: u32, code: &str) -> Option<usize> {
        if line < self.first || line > self.last {
            return None;
        }
        if self.codes.is_empty() {
            return Some(0);
        }
        self.codes.iter().position(|c| c == code)
    }
}

/// The suppression directives in one comment's text: `(kind, codes)`. A `noqa` that names only
/// other tools' codes (`# noqa: E501`) is not ours and yields nothing.
pub fn parse_comment(comment: &str) -> Vec<(SuppressionKind, Vec<String>)> {
    let mut out = Vec::new();
    // A comment token runs to the end of the line, so `# type: ignore  # noqa` is one token:
    // look at every `#` in it.
    for (i, _) in comment.match_indices('#') {
        let rest = comment[i + 1..].trim_start();
        if let Some(after) = strip_prefix_ci(rest, "perfaudit:") {
            let Some(after) = strip_prefix_ci(after.trim_start(), "ignore") else {
                continue;
            };
            if let Some(file) = strip_prefix_ci(after, "-file") {
                if let Some(list) = file.strip_prefix('[') {
                    let list = list.split(']').next().unwrap_or("");
                    out.push((SuppressionKind::File, codes(list)));
                } else if file.chars().next().is_none_or(|c| !c.is_alphanumeric()) {
                    out.push((SuppressionKind::File, Vec::new()));
                }
            } else if let Some(list) = after.strip_prefix('[') {
                let list = list.split(']').next().unwrap_or("");
                out.push((SuppressionKind::Perfaudit, codes(list)));
            } else if after.chars().next().is_none_or(|c| !c.is_alphanumeric()) {
                out.push((SuppressionKind::Perfaudit, Vec::new()));
            }
        } else if let Some(after) = strip_prefix_ci(rest, "noqa") {
            if let Some(list) = after.strip_prefix(':') {
                let named = codes(leading_codes(list));
                if named.is_empty() {
                    out.push((SuppressionKind::Noqa, Vec::new()));
                } else {
                    let ours: Vec<String> =
                        named.into_iter().filter(|c| c.starts_with("PA")).collect();
                    if !ours.is_empty() {
                        out.push((SuppressionKind::Noqa, ours));
                    }
                }
            } else if after.chars().next().is_none_or(|c| !c.is_alphanumeric()) {
                out.push((SuppressionKind::Noqa, Vec::new()));
            }
        }
    }
    out
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// The run of codes at the start of a `noqa:` list; free text after it (`# noqa: PA101 slow
/// on purpose`) is a remark, not a code.
fn leading_codes(list: &str) -> &str {
    let mut end = 0;
    for word in list.split_inclusive([',', ' ', '\t']) {
        let w = word.trim_matches([',', ' ', '\t']);
        if !w.is_empty() && !is_code(w) {
            break;
        }
        end += word.len();
    }
    &list[..end]
}

fn is_code(w: &str) -> bool {
    let letters = w.chars().take_while(char::is_ascii_alphabetic).count();
    letters > 0 && letters < w.len() && w[letters..].chars().all(|c| c.is_ascii_digit())
}

fn codes(list: &str) -> Vec<String> {
    list.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_ascii_uppercase)
        .collect()
}

/// The suppression comments of a module, from its tokens.
pub fn scan(tokens: &[Token], source: &str, line_index: &LineIndex) -> Vec<Suppression> {
    // A module with no directive, as most are, needs no pass over its tokens (77 M
    // instructions on the standard library before this test, 7 M after).
    if !mentions_directive(source) {
        return Vec::new();
    }
    let line_of = |offset: TextSize| line_index.line_index(offset).get() as u32;
    let mut out = Vec::new();
    for t in tokens.iter().filter(|t| t.kind() == TokenKind::Comment) {
        for (kind, codes) in parse_comment(&source[t.range()]) {
            let lc = line_index.line_column(t.start(), source);
            let line = lc.line.get() as u32;
            out.push(Suppression {
                line,
                column: lc.column.get() as u32,
                first: line,
                last: line,
                kind,
                codes,
            });
        }
    }
    if out.is_empty() {
        return out;
    }
    // Widen the comments that sit on the first line of a multi-line logical line (a statement,
    // or the header of a compound statement) to the whole logical line.
    let mut starts: HashMap<u32, u32> = out.iter().map(|s| (s.line, s.line)).collect();
    let mut start: Option<TextSize> = None;
    for t in tokens {
        match t.kind() {
            TokenKind::Newline | TokenKind::EndOfFile => {
                if let Some(s) = start.take() {
                    let first = line_of(s);
                    if let Some(last) = starts.get_mut(&first) {
                        *last = line_of(t.start());
                    }
                }
            }
            TokenKind::Comment
            | TokenKind::NonLogicalNewline
            | TokenKind::Indent
            | TokenKind::Dedent => {}
            _ => {
                start.get_or_insert(t.start());
            }
        }
    }
    for s in &mut out {
        if s.kind == SuppressionKind::File {
            (s.first, s.last) = (1, u32::MAX);
        } else {
            s.last = starts[&s.line].max(s.line);
        }
    }
    out
}

/// Whether some `#` in `source` is followed, after white space, by `perfaudit:` or `noqa` in
/// any ASCII case, as every directive `parse_comment` reads is (its comment holds that `#`).
/// A `#` is rare enough (one per comment) that looking at each costs little.
fn mentions_directive(source: &str) -> bool {
    memchr::memchr_iter(b'#', source.as_bytes()).any(|i| {
        let rest = source[i + 1..].trim_start();
        strip_prefix_ci(rest, "perfaudit:").is_some() || strip_prefix_ci(rest, "noqa").is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(c: &str) -> Vec<(SuppressionKind, Vec<String>)> {
        parse_comment(c)
    }

    #[test]
    fn a_module_without_a_directive_is_told_apart() {
        let comments = [
            "# perfaudit: ignore",
            "#PerfAudit:ignore[pa101]",
            "# NOQA",
            "#\u{a0}noqa: PA101",
            "# type: ignore  # noqa",
            "# perfaudit: ignore-file",
            "# noqa: E501",
            "# perfaudit ignore",
            "# a noqa b",
            "# nothing here",
        ];
        for c in comments {
            for before in ["", "x = 1  ", "s = '#'\n"] {
                let text = format!("{before}{c}\ny = 2\n");
                if !parse_comment(c).is_empty() {
                    assert!(mentions_directive(&text), "{text:?}");
                }
            }
        }
        assert!(!mentions_directive("x = 1  # a noqa b\n"));
        assert!(!mentions_directive("s = 'noqa perfaudit:'\n"));
        assert!(!mentions_directive(""));
    }

    #[test]
    fn comment_forms() {
        use SuppressionKind::*;
        assert_eq!(kinds("# perfaudit: ignore"), vec![(Perfaudit, vec![])]);
        assert_eq!(
            kinds("# perfaudit: ignore[PA101, pa102]"),
            vec![(Perfaudit, vec!["PA101".into(), "PA102".into()])]
        );
        assert_eq!(kinds("#noqa"), vec![(Noqa, vec![])]);
        assert_eq!(
            kinds("# noqa: E501, PA101 slow on purpose"),
            vec![(Noqa, vec!["PA101".into()])]
        );
        assert!(kinds("# noqa: E501").is_empty());
        assert!(kinds("# noqanything").is_empty());
        assert!(kinds("# perfaudit: ignored").is_empty());
        assert_eq!(kinds("# perfaudit: ignore-file"), vec![(File, vec![])]);
        assert_eq!(
            kinds("# perfaudit: ignore-file[pa101]"),
            vec![(File, vec!["PA101".into()])]
        );
        assert!(kinds("# perfaudit: ignore-files").is_empty());
        assert_eq!(
            kinds("# type: ignore  # NOQA:PA103"),
            vec![(Noqa, vec!["PA103".into()])]
        );
    }

    #[test]
    fn statement_start_covers_the_statement() {
        let src = "x = f(  # perfaudit: ignore[PA101]\n    a,\n    b,\n)\ny = 1  # noqa\n";
        let parsed = ruff_python_parser::parse_module(src).unwrap();
        let index = LineIndex::from_source_text(src);
        let s = scan(parsed.tokens(), src, &index);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].first, s[0].last), (1, 4));
        assert_eq!((s[1].first, s[1].last), (5, 5));
    }

    #[test]
    fn ignore_file_covers_the_module() {
        let src = "import time\n# perfaudit: ignore-file[PA101]\nx = 1\n";
        let parsed = ruff_python_parser::parse_module(src).unwrap();
        let index = LineIndex::from_source_text(src);
        let s = scan(parsed.tokens(), src, &index);
        assert_eq!((s[0].first, s[0].last), (1, u32::MAX));
        assert_eq!(s[0].covers(400, "PA101"), Some(0));
        assert_eq!(s[0].covers(400, "PA102"), None);
    }
}
