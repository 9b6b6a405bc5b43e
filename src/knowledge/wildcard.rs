//! The `*` wildcards of the knowledge files, compiled once per pattern list with `globset`.
//! The two files give `*` two meanings, each kept here:
//!
//! - `Star::Segment` (`data/apis.toml`): `*` stands for one dotted segment, never empty
//!   (`transformers.*.from_pretrained` matches `transformers.AutoModel.from_pretrained`, not
//!   `transformers.from_pretrained` nor `transformers.a.b.from_pretrained`). Dots become `/`
//!   in pattern and name alike, so globset's `literal_separator` keeps `*` inside a segment.
//! - `Star::Any` (`data/contexts.toml`): `*` is any run of characters, dots included and
//!   possibly empty (`*.get` matches `fastapi.FastAPI.get`; `load*` matches `load`).
//!
//! Every other character is literal: `?`, `[`, `{` and `\` in a configured name match
//! themselves.

use globset::{Candidate, GlobBuilder, GlobSet, GlobSetBuilder};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Star {
    /// One non-empty dotted segment.
    Segment,
    /// Any run of characters.
    Any,
}

/// The glob for one pattern.
fn glob(pattern: &str, star: Star) -> globset::Glob {
    let mut text = String::with_capacity(pattern.len() + 8);
    for (i, literal) in pattern.split('*').enumerate() {
        if i > 0 {
            text.push_str(match star {
                Star::Segment => "?*",
                Star::Any => "*",
            });
        }
        let literal = globset::escape(literal);
        match star {
            Star::Segment => text.push_str(&literal.replace('.', "/")),
            Star::Any => text.push_str(&literal),
        }
    }
    GlobBuilder::new(&text)
        .literal_separator(star == Star::Segment)
        .backslash_escape(false)
        .build()
        .expect("an escaped pattern is a valid glob")
}

/// A list of patterns, compiled into one set.
#[derive(Debug, Clone)]
pub(crate) struct Patterns {
    set: GlobSet,
    star: Star,
}

impl Patterns {
    pub(crate) fn new<'a>(patterns: impl IntoIterator<Item = &'a str>, star: Star) -> Patterns {
        let mut builder = GlobSetBuilder::new();
        for p in patterns {
            builder.add(glob(p, star));
        }
        Patterns {
            set: builder.build().expect("globs built one by one form a set"),
            star,
        }
    }

    /// Whether any pattern matches `name`.
    pub(crate) fn is_match(&self, name: &str) -> bool {
        match self.star {
            Star::Any => self.set.is_match_candidate(&Candidate::from_bytes(name)),
            Star::Segment => self
                .set
                .is_match_candidate(&Candidate::from_bytes(&segments(name))),
        }
    }

    /// The index (in the order given to `new`) of the first pattern that matches `name`.
    pub(crate) fn first_match(&self, name: &str) -> Option<usize> {
        let mut hits = Vec::new();
        match self.star {
            Star::Any => self
                .set
                .matches_candidate_into(&Candidate::from_bytes(name), &mut hits),
            Star::Segment => self
                .set
                .matches_candidate_into(&Candidate::from_bytes(&segments(name)), &mut hits),
        }
        hits.into_iter().min()
    }
}

/// A dotted name with `/` between its segments, as `Star::Segment` globs are written.
fn segments(name: &str) -> String {
    name.replace('.', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(pattern: &str, star: Star, name: &str) -> bool {
        Patterns::new([pattern], star).is_match(name)
    }

    #[test]
    fn segment_star_is_one_dotted_segment() {
        let s = Star::Segment;
        let p = "transformers.*.from_pretrained";
        assert!(one(p, s, "transformers.AutoModel.from_pretrained"));
        assert!(!one(p, s, "transformers.from_pretrained"));
        assert!(!one(p, s, "transformers.a.b.from_pretrained"));
        assert!(!one(p, s, "transformers.AutoModel.from_pretrainedx"));
        assert!(one("a.*", s, "a.b"));
        assert!(!one("a.*", s, "a.b.c"));
        assert!(!one("a.*", s, "a"));
        assert!(one("a.*.b.*", s, "a.x.b.y"));
        assert!(!one("a.*.b.*", s, "a.x.c.y"));
        assert!(!one("a.*.b.*", s, "a.x.b"));
        assert!(one("*.get", s, "requests.get"));
        assert!(!one("*.get", s, "a.requests.get"));
    }

    #[test]
    fn any_star_is_any_run_of_characters() {
        let a = Star::Any;
        assert!(one("handle_*", a, "handle_request"));
        assert!(one("*_request", a, "handle_request"));
        assert!(one("*.get", a, "fastapi.FastAPI.get"));
        assert!(!one("*.get", a, "get"));
        assert!(one("load*", a, "load"));
        assert!(!one("handle_*", a, "handler"));
        assert!(one("a*b*c", a, "a.x/y.b.c"));
        assert!(!one("a*b*c", a, "a.c.b"));
        assert!(one("*", a, ""));
        assert!(one("conftest.py", a, "conftest.py"));
        assert!(!one("conftest.py", a, "conftestxpy"));
    }

    #[test]
    fn other_glob_syntax_is_literal() {
        for star in [Star::Any, Star::Segment] {
            for name in ["a?b", "a[b]", "a{b,c}", "a\\b", "a!b"] {
                assert!(one(name, star, name), "{name}");
            }
            assert!(!one("a?b", star, "axb"));
            assert!(!one("a[bc]", star, "ab"));
            assert!(!one("a{b,c}", star, "ab"));
        }
    }

    #[test]
    fn first_match_follows_the_given_order() {
        let p = Patterns::new(["a.*.c", "a.b.*", "x.*"], Star::Segment);
        assert_eq!(p.first_match("a.b.c"), Some(0));
        assert_eq!(p.first_match("a.b.d"), Some(1));
        assert_eq!(p.first_match("y.z"), None);
        assert!(!Patterns::new([], Star::Any).is_match("anything"));
    }
}
