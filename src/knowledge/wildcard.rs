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
    /// What a name must show for the set to be asked, `None` when every name is asked.
    admits: Option<Admits>,
}

/// A test every name a pattern matches passes, cheaper than the set: most names asked (call
/// targets, function names) match no pattern, and building globset's candidate for them
/// and running its strategies was most of the cost.
#[derive(Debug, Clone, Default)]
struct Admits {
    /// The patterns without `*`, whole (`Star::Any` only: a segment pattern compares `.` and
    /// `/` alike, as its glob does).
    whole: rustc_hash::FxHashSet<Box<str>>,
    /// The text before the first `*` and after the last of the other patterns: a match
    /// starts and ends with them.
    ends: Vec<(Box<str>, Box<str>)>,
}

impl Admits {
    /// `None` when a pattern holds `**`, which globset reads as any number of path
    /// components (`**/x` matches `x`): the ends would not hold.
    fn of<'a>(patterns: impl IntoIterator<Item = &'a str>, star: Star) -> Option<Admits> {
        let mut admits = Admits::default();
        for p in patterns {
            if p.contains("**") {
                return None;
            }
            match (p.find('*'), p.rfind('*')) {
                (Some(first), Some(last)) => {
                    admits.ends.push((p[..first].into(), p[last + 1..].into()))
                }
                _ if star == Star::Any => {
                    admits.whole.insert(p.into());
                }
                _ => admits.ends.push((p.into(), "".into())),
            }
        }
        Some(admits)
    }

    fn admit(&self, name: &str, star: Star) -> bool {
        let same = |a: &[u8], b: &[u8]| match star {
            Star::Any => a == b,
            Star::Segment => a
                .iter()
                .zip(b)
                .all(|(x, y)| x == y || (matches!(x, b'.' | b'/') && matches!(y, b'.' | b'/'))),
        };
        if self.whole.contains(name) {
            return true;
        }
        let name = name.as_bytes();
        self.ends.iter().any(|(head, tail)| {
            let (head, tail) = (head.as_bytes(), tail.as_bytes());
            name.len() >= head.len() + tail.len()
                && same(&name[..head.len()], head)
                && same(&name[name.len() - tail.len()..], tail)
        })
    }
}

impl Patterns {
    pub(crate) fn new<'a>(patterns: impl IntoIterator<Item = &'a str>, star: Star) -> Patterns {
        let patterns: Vec<&str> = patterns.into_iter().collect();
        let mut builder = GlobSetBuilder::new();
        for &p in &patterns {
            builder.add(glob(p, star));
        }
        Patterns {
            set: builder.build().expect("globs built one by one form a set"),
            star,
            admits: Admits::of(patterns, star),
        }
    }

    /// Whether the set may match `name` (if not, it does not).
    fn may_match(&self, name: &str) -> bool {
        self.admits
            .as_ref()
            .is_none_or(|admits| admits.admit(name, self.star))
    }

    /// Whether any pattern matches `name`.
    pub(crate) fn is_match(&self, name: &str) -> bool {
        if !self.may_match(name) {
            return false;
        }
        match self.star {
            Star::Any => self.set.is_match_candidate(&Candidate::from_bytes(name)),
            Star::Segment => self
                .set
                .is_match_candidate(&Candidate::from_bytes(&segments(name))),
        }
    }

    /// The index (in the order given to `new`) of the first pattern that matches `name`.
    pub(crate) fn first_match(&self, name: &str) -> Option<usize> {
        if !self.may_match(name) {
            return None;
        }
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

/// A set of texts that answers "surely not among them" from a text's length and first and
/// last bytes, before a hash lookup makes the real test: 1,024 bits, so that a set of a few
/// hundred texts leaves most others out without hashing them.
#[derive(Clone, Default)]
pub struct NameFilter([u64; 16]);

impl NameFilter {
    fn bit(text: &str) -> usize {
        let b = text.as_bytes();
        let ends = u32::from(b.first().copied().unwrap_or(0)) << 8
            | u32::from(b.last().copied().unwrap_or(0));
        let h = (b.len() as u32).wrapping_mul(0x9E37_79B1) ^ ends.wrapping_mul(0x85EB_CA6B);
        (h >> 22) as usize
    }

    pub fn insert(&mut self, text: &str) {
        let i = Self::bit(text);
        self.0[i / 64] |= 1 << (i % 64);
    }

    /// False only when `text` was never inserted.
    pub fn may_contain(&self, text: &str) -> bool {
        let i = Self::bit(text);
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_filter_keeps_every_name_inserted() {
        let names: Vec<String> = (0..600).map(|i| format!("n{i}.x{}", i % 7)).collect();
        let mut filter = NameFilter::default();
        for n in &names {
            filter.insert(n);
        }
        assert!(names.iter().all(|n| filter.may_contain(n)));
        assert!(!NameFilter::default().may_contain("anything"));
        assert!(!NameFilter::default().may_contain(""));
    }

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

    /// The cheap test in front of the set changes no answer: every name made of these pieces
    /// (up to four) gets the answers of the set alone.
    #[test]
    fn admitting_first_changes_no_answer() {
        let lists: [&[&str]; 4] = [
            &[
                "a.*.b",
                "*.get",
                "handle_*",
                "x",
                "a*b*c",
                "conftest.py",
                "a?b",
                "a.b",
            ],
            &["*", "load*"],
            &["**/foo", "a.*"],
            &["a.b.*", "*.x.*", "x.*.get"],
        ];
        let pieces = [
            "a", "b", ".", "/", "x", "get", "handle_", "c", "foo", "?", "é", "",
        ];
        let mut names = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = names
                .iter()
                .flat_map(|n| pieces.iter().map(move |p| format!("{n}{p}")))
                .collect();
            names.extend(longer);
            names.sort();
            names.dedup();
        }
        for list in lists {
            for star in [Star::Any, Star::Segment] {
                let p = Patterns::new(list.iter().copied(), star);
                let bare = Patterns {
                    admits: None,
                    ..p.clone()
                };
                for name in &names {
                    let ctx = format!("{list:?} {star:?} {name:?}");
                    assert_eq!(p.is_match(name), bare.is_match(name), "{ctx}");
                    assert_eq!(p.first_match(name), bare.first_match(name), "{ctx}");
                }
            }
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
