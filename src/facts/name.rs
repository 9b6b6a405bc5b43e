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
//! that uses a text is dropped, `Name::release_unused` lets it go. A text is hashed once per
//! interning: the same hash picks the shard, finds the text and places a new one.

use std::borrow::Borrow;
use std::fmt;
use std::hash::BuildHasher;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Name(Arc<Box<str>>);

const SHARDS: usize = 16;

static INTERNER: [Mutex<HashTable<Name>>; SHARDS] =
    [const { Mutex::new(HashTable::new()) }; SHARDS];

fn hash(text: &str) -> u64 {
    FxBuildHasher.hash_one(text)
}

/// The shard of a hash: bits that the table uses for neither its bucket index (the low bits)
/// nor its control bytes (the top seven), so that each shard's table sees well-spread hashes.
fn shard(hash: u64) -> usize {
    (hash >> 40) as usize % SHARDS
}

impl Name {
    /// The interned name for `text`.
    pub fn new(text: &str) -> Name {
        let hash = hash(text);
        let mut table = INTERNER[shard(hash)]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(found) = table.find(hash, |n| n.as_str() == text) {
            return found.clone();
        }
        let name = Name(Arc::new(Box::from(text)));
        table.insert_unique(hash, name.clone(), |n| self::hash(n));
        name
    }

    pub fn as_str(&self) -> &str {
        &self.0[..]
    }

    /// Drops the interner's references to texts that no fact uses any more (after a run's
    /// facts are freed), so that a long-lived process does not keep every name it has seen.
    pub fn release_unused() {
        for shard in &INTERNER {
            let mut table = shard.lock().unwrap_or_else(|p| p.into_inner());
            table.retain(|n| Arc::strong_count(&n.0) > 1);
            table.shrink_to_fit(|n| hash(n));
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

    /// A name in use survives a release and is found again; one no fact holds is let go.
    #[test]
    fn release_keeps_what_is_in_use() {
        let kept = Name::new("name-test.kept");
        let dropped = Name::new("name-test.dropped");
        let weak = Arc::downgrade(&dropped.0);
        drop(dropped);
        Name::release_unused();
        assert!(weak.upgrade().is_none());
        assert!(Arc::ptr_eq(&kept.0, &Name::new("name-test.kept").0));
        // Many texts in one run: each is still one allocation.
        let names: Vec<Name> = (0..5000).map(|i| Name::new(&format!("n{i}"))).collect();
        for (i, n) in names.iter().enumerate() {
            assert!(Arc::ptr_eq(&n.0, &Name::new(&format!("n{i}")).0));
        }
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
