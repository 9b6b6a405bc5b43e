//! Near-identical copies of a module: a service copied under `backups/`, `old/` or another
//! folder, the same functions calling the same things, a few lines apart. The report groups
//! the findings such copies share into one hotspot with its copies listed.
//!
//! The measure is over the module facts, not the text: a module is the set of its function
//! qualnames and the multiset of its calls as `(function qualname, call target)`, the target
//! read relative to the module itself (a copy under another folder has another dotted name).
//! Two modules are copies when both Jaccard similarities reach their threshold
//! (`MIN_DEFS_SIMILARITY`, `MIN_CALLS_SIMILARITY`) and each has at least `MIN_DEFS` functions
//! and `MIN_CALLS` calls (small modules look alike by chance). Candidate pairs come from a
//! prefix filter over the function sets (rarest qualnames first), which finds every pair that
//! reaches the functions threshold without comparing all pairs; groups are the connected
//! pairs.

use rustc_hash::FxHashMap as HashMap;

use crate::facts::{FnKind, ModuleFacts};

/// Share of function qualnames two copies have in common (Jaccard).
pub const MIN_DEFS_SIMILARITY: f64 = 0.8;
/// Share of `(function, call target)` pairs two copies have in common (multiset Jaccard): ten
/// calls with one changed give 9/11.
pub const MIN_CALLS_SIMILARITY: f64 = 0.75;
pub const MIN_DEFS: usize = 2;
pub const MIN_CALLS: usize = 5;

/// A module's shape, borrowed from its facts: nothing is copied. The calls are listed only
/// when the module is compared with a candidate (most modules never are).
struct Shape<'m> {
    module: &'m ModuleFacts,
    defs: Vec<&'m str>,
    /// Sorted `(function qualname, call target)` pairs, with repeats.
    calls: std::cell::OnceCell<Vec<(&'m str, &'m str)>>,
}

impl<'m> Shape<'m> {
    fn calls(&self) -> &[(&'m str, &'m str)] {
        self.calls.get_or_init(|| {
            let m = self.module;
            let own = format!("{}.", m.module);
            let mut calls: Vec<(&str, &str)> = m
                .calls
                .iter()
                .map(|c| {
                    let target = if m.module.is_empty() {
                        c.target.as_str()
                    } else {
                        c.target
                            .strip_prefix(own.as_str())
                            .unwrap_or(c.target.as_str())
                    };
                    (m.functions[c.func as usize].qualname.as_str(), target)
                })
                .collect();
            calls.sort_unstable();
            calls
        })
    }
}

fn shape(m: &ModuleFacts) -> Shape<'_> {
    let mut defs: Vec<&str> = m
        .functions
        .iter()
        .filter(|f| matches!(f.kind, FnKind::Function | FnKind::Method))
        .map(|f| f.qualname.as_str())
        .collect();
    defs.sort_unstable();
    defs.dedup();
    Shape {
        module: m,
        defs,
        calls: std::cell::OnceCell::new(),
    }
}

/// |a ∩ b| / |a ∪ b| of two sorted sequences, repeats counted (a multiset when they repeat).
fn jaccard<T: Ord>(a: &[T], b: &[T]) -> f64 {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    if union == 0 {
        0.0
    } else {
        common as f64 / union as f64
    }
}

/// Whether two modules are near-identical copies (see the module documentation).
fn alike(a: &Shape, b: &Shape) -> bool {
    jaccard(&a.defs, &b.defs) >= MIN_DEFS_SIMILARITY
        && jaccard(a.calls(), b.calls()) >= MIN_CALLS_SIMILARITY
}

/// Groups of modules (indices, ascending) that are copies of one another; every group has at
/// least two modules, and the groups are sorted by their first module.
pub fn copy_groups(modules: &[ModuleFacts]) -> Vec<Vec<u32>> {
    let shapes: Vec<Option<Shape>> = modules
        .iter()
        .map(|m| Some(shape(m)).filter(|s| s.defs.len() >= MIN_DEFS && m.calls.len() >= MIN_CALLS))
        .collect();
    // Rarest qualnames first: the prefix of a set is its rarest names. Each distinct name is
    // numbered as it is counted, and each def keeps its name's number, so that its count is
    // read back without hashing the text again; the map is made at the size of every def
    // (at most that many names): hashing each def twice and growing the map from empty cost
    // 9 M instructions of a standard-library run (copy groups 54 M -> 45 M).
    let total: usize = shapes.iter().flatten().map(|s| s.defs.len()).sum();
    let mut number: HashMap<&str, u32> =
        HashMap::with_capacity_and_hasher(total, Default::default());
    let mut counts: Vec<u32> = Vec::new();
    let mut numbers: Vec<u32> = Vec::with_capacity(total);
    for s in shapes.iter().flatten() {
        for d in &s.defs {
            let n = *number.entry(d).or_insert_with(|| {
                counts.push(0);
                counts.len() as u32 - 1
            });
            counts[n as usize] += 1;
            numbers.push(n);
        }
    }
    drop(number);
    let mut index: HashMap<&str, Vec<u32>> = HashMap::default();
    let mut parent: Vec<u32> = (0..modules.len() as u32).collect();
    let mut next_def = 0;
    for (i, s) in shapes.iter().enumerate() {
        let Some(s) = s else { continue };
        // Each name's count is looked up once, not at every comparison of the sort.
        let own = &numbers[next_def..next_def + s.defs.len()];
        next_def += s.defs.len();
        let mut order: Vec<(u32, &str)> = s
            .defs
            .iter()
            .zip(own)
            .map(|(d, &n)| (counts[n as usize], *d))
            .collect();
        order.sort_unstable();
        // Sets with Jaccard >= t share one of the first |A| - ceil(t |A|) + 1 rarest names.
        let keep = (MIN_DEFS_SIMILARITY * order.len() as f64).ceil() as usize;
        let prefix = order.len() - keep.min(order.len()) + 1;
        let mut candidates: Vec<u32> = Vec::new();
        for (_, d) in &order[..prefix.min(order.len())] {
            let seen = index.entry(d).or_default();
            candidates.extend(seen.iter().copied());
            seen.push(i as u32);
        }
        candidates.sort_unstable();
        candidates.dedup();
        for j in candidates {
            if let Some(other) = &shapes[j as usize]
                && alike(s, other)
            {
                union(&mut parent, i as u32, j);
            }
        }
    }
    let mut groups: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
    for i in 0..modules.len() as u32 {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(i);
    }
    let mut out: Vec<Vec<u32>> = groups.into_values().filter(|g| g.len() > 1).collect();
    out.sort();
    out
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        parent[x as usize] = parent[parent[x as usize] as usize];
        x = parent[x as usize];
    }
    x
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb) as usize] = ra.min(rb);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = xs.iter().map(|s| (*s).to_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn jaccard_counts_repeats() {
        assert_eq!(jaccard(&v(&["a", "b"]), &v(&["a", "b"])), 1.0);
        assert_eq!(jaccard(&v(&["a", "a", "b"]), &v(&["a", "b"])), 2.0 / 3.0);
        assert_eq!(jaccard(&v(&[]), &v(&[])), 0.0);
        // Ten calls, one changed: 9 common of 11.
        let a: Vec<&str> = vec!["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"];
        let mut b = a.clone();
        b[3] = "x";
        let j = jaccard(&v(&a), &v(&b));
        assert!((MIN_CALLS_SIMILARITY..1.0).contains(&j), "{j}");
        // Three changed: 7 of 13, not a copy.
        b[4] = "y";
        b[5] = "z";
        assert!(jaccard(&v(&a), &v(&b)) < MIN_CALLS_SIMILARITY);
    }
}
