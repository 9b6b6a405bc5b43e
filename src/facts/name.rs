//! `Name`: an interned, immutable string for the names and texts that facts repeat (call
//! targets and callee texts, decorators, bases, import targets). The same text is stored once per
//! process while it is in use: `os.path.join` at 3,000 call sites is one allocation, and a
//! `Name` is 16 bytes where a `String` is 24 plus its own allocation.
//!
//! A `Name` reads like a `&str` (it derefs to one, compares with `str`, `&str` and `String`,
//! hashes and orders like the text) and serialises as a plain string, so facts that hold one
//! are written and read as before.
//!
//! The interner is a set of shards behind mutexes. It only holds a reference: once every fact
//! that uses a text is dropped, `Name::release_unused` lets it go.

use std::borrow::Borrow;
use std::fmt;
use std::hash::BuildHasher;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use rustc_hash::{FxBuildHasher, FxHashSet};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Name(Arc<Box<str>>);

const SHARDS: usize = 16;

static INTERNER: [Mutex<Option<FxHashSet<Name>>>; SHARDS] = [const { Mutex::new(None) }; SHARDS];

impl Name {
    /// The interned name for `text`.
    pub fn new(text: &str) -> Name {
        let shard = (FxBuildHasher.hash_one(text) as usize) % SHARDS;
        let mut guard = INTERNER[shard]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let set = guard.get_or_insert_with(FxHashSet::default);
        if let Some(found) = set.get(text) {
            return found.clone();
        }
        let name = Name(Arc::new(Box::from(text)));
        set.insert(name.clone());
        name
    }

    pub fn as_str(&self) -> &str {
        &self.0[..]
    }

    /// Drops the interner's references to texts that no fact uses any more (after a run's
    /// facts are freed), so that a long-lived process does not keep every name it has seen.
    pub fn release_unused() {
        for shard in &INTERNER {
            let mut guard = shard.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(set) = guard.as_mut() {
                set.retain(|s| Arc::strong_count(&s.0) > 1);
                set.shrink_to_fit();
            }
        }
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name::new(s)
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        Name::new(&s)
    }
}

impl From<&String> for Name {
    fn from(s: &String) -> Name {
        Name::new(s)
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.as_str().to_owned()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Name;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Name, E> {
                Ok(Name::new(v))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_is_one_allocation() {
        let a = Name::new("os.path.join");
        let b = Name::from(String::from("os.path.join"));
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(a, "os.path.join");
        assert_eq!(a.as_str(), "os.path.join");
        assert!(a.starts_with("os."));
    }

    /// Call records hold four names each: a name stays one pointer, and so does an absent one.
    #[test]
    fn a_name_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Name>(), 8);
        assert_eq!(std::mem::size_of::<Option<Name>>(), 8);
    }

    #[test]
    fn serialises_as_a_string() {
        let n = Name::new("json.loads");
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"json.loads\"");
        let back: Name = serde_json::from_str("\"json.loads\"").unwrap();
        assert_eq!(back, n);
        let bytes = postcard::to_stdvec(&n).unwrap();
        assert_eq!(bytes, postcard::to_stdvec("json.loads").unwrap());
    }
}
