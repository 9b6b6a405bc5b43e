//! `Name`: an interned, immutable string for the names and texts that facts repeat (call
//! targets and callee texts, decorators, bases, import targets). The same text is stored once per
//! process while it is in use: `os.path.join` at 3,000 call sites is one allocation, and a
//! `Name` is 8 bytes (one pointer) where a `String` is 24 plus its own allocation.
//!
//! A `Name` reads like a `&str` (it derefs to one, compares with `str`, `&str` and `String`,
//! hashes and orders like the text) and serialises as a plain string, except inside
//! [`write_with_table`] / [`read_with_table`]: there it is the index of its text in a table
//! kept beside the value, so that a cache entry holds and validates each distinct text once
//! and reading it interns each text once, not once per use (the stdlib's entries use 1.2 M
//! names, a fifth of them distinct per entry).
//!
//! A text is one allocation (`arcstr::ArcStr`: the count and the length, 16 bytes, then the
//! text). It was an `Arc<Box<str>>`, thin too but two allocations: a 32-byte `Arc` block and the
//! text's own. The standard library interns 164,198 texts: live heap after the module stage
//! 65.9 -> 63.4 MiB, peak RSS -3 to -4 MiB.
//!
//! The interner is a set of shards behind mutexes. It only holds a reference: once every fact
//! that uses a text is dropped, `Name::release_unused` lets it go. A text is hashed once per
//! interning: the same hash picks the shard, finds the text and places a new one.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::ops::Deref;
use std::sync::Mutex;

use arcstr::ArcStr;

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Compares, orders and hashes as its text (so that maps keyed by `Name` are looked up by
/// `&str`).
#[derive(Clone, Default)]
pub struct Name(ArcStr);

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

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
        let name = Name(ArcStr::from(text));
        table.insert_unique(hash, name.clone(), |n| self::hash(n));
        name
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Drops the interner's references to texts that no fact uses any more (after a run's
    /// facts are freed), so that a long-lived process does not keep every name it has seen.
    pub fn release_unused() {
        for shard in &INTERNER {
            let mut table = shard.lock().unwrap_or_else(|p| p.into_inner());
            table.retain(|n| ArcStr::strong_count(&n.0).is_some_and(|c| c > 1));
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
        match WRITING.with_borrow_mut(|w| w.as_mut().map(|w| w.index(self))) {
            Some(index) => s.serialize_u32(index),
            None => s.serialize_str(self.as_str()),
        }
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        if READING.with_borrow(Option::is_some) {
            let index = u32::deserialize(d)? as usize;
            return READING
                .with_borrow(|r| r.as_ref().and_then(|names| names.get(index)).cloned())
                .ok_or_else(|| D::Error::custom("name index out of the table"));
        }
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

/// The distinct texts of the names a value holds, in the order they were first written: one
/// string and where each text ends in it (a `Name` written with the table is its index).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NameTable {
    pub texts: String,
    pub ends: Vec<u32>,
}

impl NameTable {
    /// The interned names of the table, in order; `None` when its ends do not cut `texts` into
    /// texts (a damaged table).
    pub fn names(texts: &str, ends: &[u32]) -> Option<Vec<Name>> {
        let mut start = 0;
        ends.iter()
            .map(|&end| {
                let text = texts.get(start..end as usize)?;
                start = end as usize;
                Some(Name::new(text))
            })
            .collect()
    }
}

/// The table being written on this thread, with each text's index.
#[derive(Default)]
struct Writer {
    table: NameTable,
    index: FxHashMap<Name, u32>,
}

impl Writer {
    fn index(&mut self, name: &Name) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.table.ends.len() as u32;
        self.table.texts.push_str(name);
        self.table.ends.push(self.table.texts.len() as u32);
        self.index.insert(name.clone(), i);
        i
    }
}

thread_local! {
    static WRITING: RefCell<Option<Writer>> = const { RefCell::new(None) };
    static READING: RefCell<Option<Vec<Name>>> = const { RefCell::new(None) };
}

/// Ends a table's scope on this thread, also when the code inside it unwinds.
struct Scope(fn());

impl Drop for Scope {
    fn drop(&mut self) {
        (self.0)()
    }
}

/// Runs `write` (a serialisation) with every `Name` written as an index into a table, and
/// returns its result with the table. Tables do not nest.
pub fn write_with_table<T>(write: impl FnOnce() -> T) -> (T, NameTable) {
    WRITING.set(Some(Writer::default()));
    let _scope = Scope(|| WRITING.set(None));
    let value = write();
    let table = WRITING.take().map(|w| w.table).unwrap_or_default();
    (value, table)
}

/// Runs `read` (a deserialisation of what [`write_with_table`] wrote) with every `Name` read as
/// an index into `names`; an index outside it is a deserialisation error. Tables do not nest.
pub fn read_with_table<T>(names: Vec<Name>, read: impl FnOnce() -> T) -> T {
    READING.set(Some(names));
    let _scope = Scope(|| READING.set(None));
    read()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the interner holds `text`.
    fn interned(text: &str) -> bool {
        let hash = hash(text);
        let table = INTERNER[shard(hash)].lock().unwrap();
        table.find(hash, |n| n.as_str() == text).is_some()
    }

    /// A name hashes as its text: maps keyed by names are looked up by `&str`.
    #[test]
    fn a_name_hashes_and_orders_as_its_text() {
        let n = Name::new("os.path.join");
        assert_eq!(
            FxBuildHasher.hash_one(&n),
            FxBuildHasher.hash_one("os.path.join")
        );
        let mut names = [Name::new("b"), Name::new("a.c"), Name::new("a")];
        names.sort();
        assert_eq!(names, ["a", "a.c", "b"].map(Name::new));
    }

    #[test]
    fn the_same_text_is_one_allocation() {
        let a = Name::new("os.path.join");
        let b = Name::from(String::from("os.path.join"));
        assert!(ArcStr::ptr_eq(&a.0, &b.0));
        assert_eq!(a, "os.path.join");
        assert_eq!(a.as_str(), "os.path.join");
        assert!(a.starts_with("os."));
    }

    /// A name in use survives a release and is found again; one no fact holds is let go.
    #[test]
    fn release_keeps_what_is_in_use() {
        let kept = Name::new("name-test.kept");
        let dropped = Name::new("name-test.dropped");
        drop(dropped);
        Name::release_unused();
        assert!(!interned("name-test.dropped"));
        assert!(interned("name-test.kept"));
        assert!(ArcStr::ptr_eq(&kept.0, &Name::new("name-test.kept").0));
        // Many texts in one run: each is still one allocation.
        let names: Vec<Name> = (0..5000).map(|i| Name::new(&format!("n{i}"))).collect();
        for (i, n) in names.iter().enumerate() {
            assert!(ArcStr::ptr_eq(&n.0, &Name::new(&format!("n{i}")).0));
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

    /// Inside a table's scope a name is its text's index; each text is written once, and the
    /// names read back are the interned ones.
    #[test]
    fn a_table_holds_each_text_once() {
        let names: Vec<Name> = ["self", "os.path.join", "self", "é.x", "self"]
            .into_iter()
            .map(Name::new)
            .collect();
        let (bytes, table) = write_with_table(|| postcard::to_stdvec(&names).unwrap());
        assert_eq!(table.texts, "selfos.path.joiné.x");
        assert_eq!(table.ends, [4, 16, 20]);
        assert_eq!(bytes, [5, 0, 1, 0, 2, 0]);
        let read = NameTable::names(&table.texts, &table.ends).unwrap();
        let back: Vec<Name> = read_with_table(read, || postcard::from_bytes(&bytes).unwrap());
        assert_eq!(back, names);
        assert!(ArcStr::ptr_eq(&back[3].0, &names[3].0));
        // Out of the scope, a name is its text again.
        assert_eq!(
            postcard::to_stdvec(&names[0]).unwrap(),
            postcard::to_stdvec("self").unwrap()
        );
    }

    /// A damaged table or index is an error, never a wrong name or a panic.
    #[test]
    fn a_damaged_table_is_refused() {
        assert!(
            NameTable::names("selfé", &[4, 5]).is_none(),
            "inside a char"
        );
        assert!(NameTable::names("self", &[4, 9]).is_none(), "past the end");
        assert!(NameTable::names("self", &[4, 2]).is_none(), "backwards");
        let read = NameTable::names("self", &[4]).unwrap();
        let out: Result<Vec<Name>, _> = read_with_table(read, || postcard::from_bytes(&[2, 0, 1]));
        assert!(out.is_err());
        // The scope ends with the read: a name is a string again.
        let back: Name = postcard::from_bytes(&postcard::to_stdvec("x").unwrap()).unwrap();
        assert_eq!(back, "x");
    }
}
