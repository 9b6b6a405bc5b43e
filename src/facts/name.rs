//! `Name`: an interned, immutable string for the names and texts that facts repeat (call
//! targets and callee texts, decorators, bases, import targets). The same text is stored once per
//! process: `os.path.join` at 3,000 call sites is one text, and a `Name` is 8 bytes (one
//! pointer) where a `String` is 24 plus its own allocation.
//!
//! A `Name` reads like a `&str` (it derefs to one, compares with `str`, `&str` and `String`,
//! hashes and orders like the text) and serialises as a plain string, except inside
//! [`write_with_table`] / [`read_with_table`]: there it is the index of its text in a table
//! kept beside the value, so that a cache entry holds and validates each distinct text once
//! and reading it interns each text once, not once per use (the stdlib's entries use 1.2 M
//! names, a fifth of them distinct per entry).
//!
//! A text is stored once, in an arena the interner never frees (`Arena`): its length (four
//! bytes), then the text, packed one after the other in chunks; a `Name` points at the text.
//! Copying a `Name` copies the pointer, and dropping one does nothing: no reference count is
//! touched, so reading a cache entry (1.2 M names on the standard library) or dropping a run's
//! facts does not write to the texts' memory. It was an `arcstr::ArcStr` (a 16-byte count and
//! length before the text, one allocation per text, rounded up to the allocator's size class):
//! a 16-byte header and the allocator's rounding more per text, and a count written at every
//! copy and drop. Measured on the standard library (2 threads, interleaved with the `ArcStr`
//! build): peak RSS 113.4 -> 110 MiB without a cache, and a run with one file changed spent
//! ~12% less CPU time (decoding interns and copies every name of every cache entry). The texts
//! live as long as the process: a run's are the names of its code, and a process that audits
//! again reuses them. This is the library's one use of `unsafe` (`tests/architecture.rs`).
//!
//! The interner is a set of shards behind mutexes, each with its own table and arena. A text is
//! hashed once per interning: the same hash picks the shard, finds the text and places a new
//! one.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::Mutex;

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Compares, orders and hashes as its text (so that maps keyed by `Name` are looked up by
/// `&str`). Two names are equal when they are the same text, which for interned texts is the
/// same pointer.
#[derive(Clone)]
pub struct Name(NonNull<u8>);

// SAFETY: a `Name` points at text that is written once, before any `Name` to it exists, and is
// never written again nor freed (`Arena`): shared reads from any thread are sound.
unsafe impl Send for Name {}
unsafe impl Sync for Name {}

/// How many bytes before a text hold its length.
const LEN: usize = std::mem::size_of::<u32>();

/// The empty text: a zero length and no bytes after it (`Name::default()` and `Name::new("")`).
static EMPTY: [u8; LEN] = [0; LEN];

impl Default for Name {
    fn default() -> Name {
        // SAFETY: `EMPTY` is a zero length; the text (none) starts right after it.
        Name(unsafe { NonNull::new_unchecked(EMPTY.as_ptr().add(LEN).cast_mut()) })
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        // Every `Name` is made by `Name::new` (or is the empty one, which `new` returns for
        // ""), so one text is one pointer.
        self.0 == other.0
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

/// One shard of the interner: the table of its names and the arena their texts are in.
struct Shard {
    table: HashTable<Name>,
    arena: Arena,
}

static INTERNER: [Mutex<Shard>; SHARDS] = [const {
    Mutex::new(Shard {
        table: HashTable::new(),
        arena: Arena::new(),
    })
}; SHARDS];

/// Where a shard's texts are written: chunks that are never freed, each filled from the start
/// (a text's length, then the text) and left for a new one when the next text does not fit.
/// Chunks start small (a project of a few files interns a few hundred texts) and double up to
/// `MAX_CHUNK`, so that what a chunk leaves unused at the end of a run stays below
/// `SHARDS × MAX_CHUNK`.
struct Arena {
    /// The free part of the current chunk.
    next: *mut u8,
    left: usize,
    /// The size of the next chunk.
    chunk: usize,
}

// SAFETY: the arena is only reached through its shard's mutex.
unsafe impl Send for Arena {}

const MIN_CHUNK: usize = 4 << 10;
const MAX_CHUNK: usize = 64 << 10;

impl Arena {
    const fn new() -> Arena {
        Arena {
            next: std::ptr::null_mut(),
            left: 0,
            chunk: MIN_CHUNK,
        }
    }

    /// Writes `text` after its length and returns where the text starts.
    fn place(&mut self, text: &str) -> NonNull<u8> {
        let len = u32::try_from(text.len()).expect("an interned text is under 4 GiB");
        let need = LEN + text.len();
        if need > self.left {
            let size = need.max(self.chunk);
            self.chunk = (self.chunk * 2).min(MAX_CHUNK);
            // Never freed: every `Name` into it lives as long as the process.
            let chunk: &'static mut [u8] = Box::leak(vec![0u8; size].into_boxed_slice());
            self.next = chunk.as_mut_ptr();
            self.left = size;
        }
        // SAFETY: `next` has `left >= need` writable bytes of a leaked chunk that nothing else
        // reads or writes until this text's `Name` exists.
        unsafe {
            self.next
                .cast::<[u8; LEN]>()
                .write_unaligned(len.to_ne_bytes());
            let at = self.next.add(LEN);
            std::ptr::copy_nonoverlapping(text.as_ptr(), at, text.len());
            self.next = at.add(text.len());
            self.left -= need;
            NonNull::new_unchecked(at)
        }
    }
}

fn hash(text: &str) -> u64 {
    FxBuildHasher.hash_one(text)
}

/// The shard of a hash: bits that the table uses for neither its bucket index (the low bits)
/// nor its control bytes (the top seven), so that each shard's table sees well-spread hashes.
fn shard(hash: u64) -> usize {
    (hash >> 40) as usize % SHARDS
}

fn lock(shard: usize) -> std::sync::MutexGuard<'static, Shard> {
    INTERNER[shard]
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shard {
    /// The interned name for `text`, whose hash is `hash` and whose shard this is.
    fn intern(&mut self, text: &str, hash: u64) -> Name {
        if let Some(found) = self.table.find(hash, |n| n.as_str() == text) {
            return found.clone();
        }
        let name = Name(self.arena.place(text));
        self.table
            .insert_unique(hash, name.clone(), |n| self::hash(n));
        name
    }
}

/// Makes room for about `names` more distinct texts, so that the interner's tables do not
/// grow (rehashing every text they hold, each read back from the arena) while a run interns
/// them. Measured on the standard library with one file changed: growing the tables from
/// empty took 15.5 M instructions (1.3% of the run) in `Name::new`.
pub fn reserve(names: usize) {
    let each = names.div_ceil(SHARDS);
    for s in 0..SHARDS {
        let mut shard = lock(s);
        let wanted = each.saturating_sub(shard.table.capacity() - shard.table.len());
        shard.table.reserve(wanted, |n| hash(n));
    }
}

impl Name {
    /// The interned name for `text`.
    pub fn new(text: &str) -> Name {
        if text.is_empty() {
            return Name::default();
        }
        let hash = hash(text);
        lock(shard(hash)).intern(text, hash)
    }

    pub fn as_str(&self) -> &str {
        // SAFETY: a `Name` points right after the length of a valid UTF-8 text (`Arena::place`
        // or `EMPTY`), in memory that is never freed nor written again.
        unsafe {
            let at = self.0.as_ptr();
            let len = u32::from_ne_bytes(at.sub(LEN).cast::<[u8; LEN]>().read_unaligned());
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(at, len as usize))
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
    ///
    /// Each shard's lock is taken once for all of the table's texts in it, not once per text:
    /// a cache entry's table holds ~160 texts on average, and the stdlib's 1,787 tables are
    /// read on every run with one file changed.
    pub fn names(texts: &str, ends: &[u32]) -> Option<Vec<Name>> {
        let mut start = 0;
        let mut cut = Vec::with_capacity(ends.len());
        let mut per_shard = [0u32; SHARDS];
        for &end in ends {
            let text = texts.get(start..end as usize)?;
            start = end as usize;
            let h = hash(text);
            if !text.is_empty() {
                per_shard[shard(h)] += 1;
            }
            cut.push((text, h));
        }
        // The texts' indices grouped by shard (a counting sort), then each group interned
        // under one lock.
        let mut next = [0u32; SHARDS];
        let mut at = 0;
        for (n, &count) in next.iter_mut().zip(&per_shard) {
            *n = at;
            at += count;
        }
        let mut order = vec![0u32; at as usize];
        for (i, (text, h)) in cut.iter().enumerate() {
            if !text.is_empty() {
                let slot = &mut next[shard(*h)];
                order[*slot as usize] = i as u32;
                *slot += 1;
            }
        }
        let mut names = vec![Name::default(); cut.len()];
        let mut from = 0;
        for (s, &count) in per_shard.iter().enumerate() {
            let group = &order[from..from + count as usize];
            from += count as usize;
            if group.is_empty() {
                continue;
            }
            let mut table = lock(s);
            for &i in group {
                let (text, h) = cut[i as usize];
                names[i as usize] = table.intern(text, h);
            }
        }
        Some(names)
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

/// Runs `f` with the index of each name in the table being written on this thread, or `None`
/// when no table is (names are then written as their texts): the table is borrowed once for a
/// whole run of names (`facts::call_codec`). `f` must not serialise a `Name` itself.
pub(crate) fn with_write_index<R>(f: impl FnOnce(Option<&mut dyn FnMut(&Name) -> u32>) -> R) -> R {
    WRITING.with_borrow_mut(|w| match w {
        Some(w) => f(Some(&mut |n: &Name| w.index(n))),
        None => f(None),
    })
}

/// Runs `f` with the table being read on this thread, if any (see [`with_write_index`]).
pub(crate) fn with_read_table<R>(f: impl FnOnce(Option<&[Name]>) -> R) -> R {
    READING.with_borrow(|r| f(r.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(a.0, b.0);
        assert_eq!(a, "os.path.join");
        assert_eq!(a.as_str(), "os.path.join");
        assert!(a.starts_with("os."));
    }

    /// Texts of every length, empty included, read back as written, each one pointer however
    /// often it is interned, across the arena's chunks (a text longer than a chunk included).
    #[test]
    fn texts_read_back_across_chunks() {
        assert_eq!(Name::new(""), Name::default());
        assert_eq!(Name::new("").as_str(), "");
        let long = "x".repeat(3 * MAX_CHUNK);
        let texts: Vec<String> = (0..5000)
            .map(|i| format!("n{i}.{}", "é".repeat(i % 40)))
            .chain([long])
            .collect();
        let names: Vec<Name> = texts.iter().map(|t| Name::new(t)).collect();
        for (t, n) in texts.iter().zip(&names) {
            assert_eq!(n.as_str(), t);
            assert_eq!(Name::new(t).0, n.0);
        }
        let mut distinct: Vec<_> = names.iter().map(|n| n.0).collect();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), names.len());
    }

    /// Names are shared between threads: the same text interned on several threads at once is
    /// one pointer.
    #[test]
    fn threads_share_texts() {
        let all: Vec<Vec<Name>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..2000).map(|i| Name::new(&format!("t{i}"))).collect()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for names in &all[1..] {
            assert!(names.iter().zip(&all[0]).all(|(a, b)| a.0 == b.0));
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
        assert_eq!(back[3].0, names[3].0);
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

    /// A table's names come back in the table's order, whatever shard each text falls in,
    /// each the name `Name::new` gives its text (the empty text included).
    #[test]
    fn a_table_is_read_in_order_across_shards() {
        let texts: Vec<String> = (0..300).map(|i| format!("mod{i}.call{}", i * 7)).collect();
        let mut joined = String::new();
        let mut ends = Vec::new();
        for t in texts
            .iter()
            .map(String::as_str)
            .chain(["", "os.path.join", ""])
        {
            joined.push_str(t);
            ends.push(joined.len() as u32);
        }
        let read = NameTable::names(&joined, &ends).unwrap();
        assert_eq!(read.len(), 303);
        for (name, text) in read.iter().zip(texts.iter()) {
            assert_eq!(name.0, Name::new(text).0);
        }
        assert_eq!(read[300], Name::default());
        assert_eq!(read[301].0, Name::new("os.path.join").0);
        let shards: std::collections::HashSet<usize> =
            texts.iter().map(|t| shard(hash(t))).collect();
        assert!(shards.len() > 1, "the texts span shards");
    }
}
