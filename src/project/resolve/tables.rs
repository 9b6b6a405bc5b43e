//! The resolver's per-module name tables (a module's top-level functions, its classes by
//! qualified name, its imports): per module, one stretch of a flat array sorted by name and
//! found by binary search, instead of a hash map per module. On the standard library (1,788
//! modules; 4,916 top-level functions, 12,857 classes, 13,605 imports) the maps held 2.6 MiB
//! for the run (their tables under half full after the last doubling, at least four slots a
//! map, and a `String` per class name); the arrays 0.6 MiB.

use crate::facts::Name;

/// Sorts a module's entries by name and keeps one per name, the last given (as a map's
/// `insert` keeps the last).
pub(super) fn sorted_last<K: AsRef<str>, V>(entries: &mut Vec<(K, V)>) {
    // Stable: entries of one name stay in the order given; reversed, the last comes first.
    entries.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    entries.reverse();
    entries.dedup_by(|a, b| a.0.as_ref() == b.0.as_ref());
    entries.reverse();
}

/// Per module, names with a value each: module `m` has `items[start[m]..start[m + 1]]`,
/// sorted by name, one per name.
pub(super) struct ByModule<V> {
    start: Vec<u32>,
    items: Vec<(Name, V)>,
}

impl<V> ByModule<V> {
    /// From each module's entries, in module order, each already [`sorted_last`].
    pub(super) fn new(modules: Vec<Vec<(Name, V)>>) -> ByModule<V> {
        let mut start = Vec::with_capacity(modules.len() + 1);
        let mut items = Vec::with_capacity(modules.iter().map(Vec::len).sum());
        for m in modules {
            start.push(items.len() as u32);
            items.extend(m);
        }
        start.push(items.len() as u32);
        ByModule { start, items }
    }

    pub(super) fn get(&self, module: usize, name: &str) -> Option<&V> {
        let (a, b) = (
            *self.start.get(module)? as usize,
            *self.start.get(module + 1)? as usize,
        );
        let items = &self.items[a..b];
        items
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| &items[i].1)
    }
}

/// Per module, its classes by qualified name: module `m` has `items[start[m]..start[m + 1]]`,
/// sorted by name, one per name; an item is where its name ends in `texts` (it starts where
/// the item before ends) and the class index. The names are copied once into one text rather
/// than kept as a `String` each.
pub(super) struct ClassNames {
    start: Vec<u32>,
    items: Vec<(u32, u32)>,
    texts: String,
}

impl ClassNames {
    /// From each module's classes, in module order, each already [`sorted_last`].
    pub(super) fn new(modules: Vec<Vec<(&str, u32)>>) -> ClassNames {
        let mut start = Vec::with_capacity(modules.len() + 1);
        let mut items = Vec::with_capacity(modules.iter().map(Vec::len).sum());
        let mut texts = String::with_capacity(
            modules
                .iter()
                .flat_map(|m| m.iter().map(|(n, _)| n.len()))
                .sum(),
        );
        for m in modules {
            start.push(items.len() as u32);
            for (name, class) in m {
                texts.push_str(name);
                items.push((texts.len() as u32, class));
            }
        }
        start.push(items.len() as u32);
        ClassNames {
            start,
            items,
            texts,
        }
    }

    fn name(&self, i: usize) -> &str {
        let from = match i {
            0 => 0,
            i => self.items[i - 1].0 as usize,
        };
        &self.texts[from..self.items[i].0 as usize]
    }

    /// The class of `module` whose qualified name is `name`.
    pub(super) fn get(&self, module: usize, name: &str) -> Option<u32> {
        let (a, b) = (
            *self.start.get(module)? as usize,
            *self.start.get(module + 1)? as usize,
        );
        let (mut lo, mut hi) = (a, b);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.name(mid).cmp(name) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(self.items[mid].1),
            }
        }
        None
    }
}
