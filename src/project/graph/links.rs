//! Reusing the link stage's per-module work from the last run: each module's edges, seeds,
//! roots, constructions, roles and labels (`ModuleEdges`) are a function of that module's own
//! facts and of the project's *interface*, so a run whose interface is unchanged recomputes
//! only the modules whose own facts changed.
//!
//! The interface is everything `edges.rs` and the resolver read about modules other than the
//! one being linked, and what they read about the project as a whole: the settings that shape
//! the link (the module cache's key, the settings that shape findings), the package the root
//! is, and per module, in order, its path and dotted name, the folders it adds to `sys.path`,
//! its imports (local name and target; their lines are read only for the module's own edges),
//! its functions (name, kind, class, parent, `async`, decorators: the count fixes every
//! global node id) and its classes (name, qualified name, bases); then the offload and background wrappers
//! inferred from every module's calls. The framework profiles turned on follow from the
//! imports, module names and settings. An edit inside a function body leaves all of it
//! unchanged, even when it shifts lines; adding, removing or renaming a function, a class or a
//! file, changing an import or a base, or making a function hand its parameter to an offload
//! API changes it, and then every module is linked again.
//!
//! A module's own key is its path, the hash of its file's bytes (its facts are a function of
//! them under the module cache's key) and which of its calls the library stage pointed at a
//! catalog entry (`deps::follow` sets them after the facts are made, from the environment).
//! The kept links are written again only when the interface changed or more than a few
//! modules were linked again: after a one-file edit the next run links that file again
//! instead of paying for writing (and this run for encoding) every module's results.
//! This module decides what may be reused; it does no I/O (the audit driver reads and writes
//! the kept links).

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3Default;

use super::edges::ModuleEdges;
use crate::facts::ModuleFacts;
use crate::project::resolve::FnRef;

/// Bump when `ModuleEdges` or what the interface covers changes meaning.
const LINK_FORMAT: u32 = 4;

/// The per-module link results of one run: the interface they were made under and, in module
/// order, each module's key (`None`: never reused) and its results.
#[derive(Serialize, Deserialize)]
pub struct Links {
    format: u32,
    interface: u128,
    modules: Vec<(Option<u128>, ModuleEdges)>,
}

/// What a run brings to the link stage for reuse, and what it takes away.
pub struct LinkReuse {
    /// The settings that shape the link, hashed.
    pub settings: u128,
    /// Per module, in module order: its own key ([`module_key`]), `None` when it has none.
    pub modules: Vec<Option<u128>>,
    /// The last run's links, if any were kept.
    pub previous: Option<Links>,
    /// After the link: this run's links, when they differ from `previous` (to keep).
    pub next: Option<Links>,
    /// After the link: how many modules' results were reused.
    pub reused: usize,
    /// Whether the last run's links were made under this run's interface.
    matched: bool,
}

impl LinkReuse {
    pub fn new(settings: u128, modules: Vec<Option<u128>>, previous: Option<Links>) -> LinkReuse {
        LinkReuse {
            settings,
            modules,
            previous,
            next: None,
            reused: 0,
            matched: false,
        }
    }

    /// The last run's results for each module that may reuse them under `interface`.
    pub(super) fn take(&mut self, interface: u128, len: usize) -> Vec<Option<ModuleEdges>> {
        let mut kept: Vec<Option<ModuleEdges>> = (0..len).map(|_| None).collect();
        let Some(previous) = self.previous.take() else {
            return kept;
        };
        if previous.format != LINK_FORMAT
            || previous.interface != interface
            || previous.modules.len() != len
            || self.modules.len() != len
        {
            return kept;
        }
        self.matched = true;
        for (i, (key, edges)) in previous.modules.into_iter().enumerate() {
            if key.is_some() && key == self.modules[i] {
                kept[i] = Some(edges);
                self.reused += 1;
            }
        }
        kept
    }

    /// Keeps this run's results for the next run, unless the kept ones were made under the
    /// same interface and only a few modules (at most one in 32, or 4) were linked again: the
    /// next run links those again too (their keys do not match), which costs less than
    /// writing every module's results after each edit.
    pub(super) fn keep(&mut self, interface: u128, results: Vec<ModuleEdges>) {
        let relinked = results.len() - self.reused;
        if self.modules.len() != results.len()
            || (self.matched && relinked <= (results.len() / 32).max(4))
        {
            return;
        }
        self.next = Some(Links {
            format: LINK_FORMAT,
            interface,
            modules: self.modules.iter().copied().zip(results).collect(),
        });
    }
}

/// A module's own key: its path, the hash of its file's bytes, and which of its calls point at
/// a catalog entry (those make no call edge).
pub fn module_key(content: &str, facts: &ModuleFacts) -> u128 {
    let mut h = Hasher::default();
    h.str(&facts.path);
    h.str(content);
    for (i, call) in facts.calls.iter().enumerate() {
        if call.api.is_some() {
            h.u32(i as u32);
        }
    }
    h.finish()
}

/// The project's interface: what a module's link results read besides its own facts.
pub(super) fn interface(
    settings: u128,
    modules: &[ModuleFacts],
    package: Option<&str>,
    wrappers: &super::edges::Wrappers,
) -> u128 {
    let mut h = Hasher::default();
    h.bytes(&settings.to_le_bytes());
    h.u32(LINK_FORMAT);
    match package {
        Some(p) => h.str(p),
        None => h.u32(u32::MAX),
    }
    h.u32(modules.len() as u32);
    for m in modules {
        h.str(&m.path);
        h.str(&m.module);
        h.u32(m.sys_path.len() as u32);
        for p in &m.sys_path {
            h.str(p);
        }
        h.u32(m.imports.len() as u32);
        for i in &m.imports {
            h.str(&i.local);
            h.str(&i.target);
        }
        h.u32(m.functions.len() as u32);
        for f in &m.functions {
            h.str(&f.name);
            h.u32(f.kind.code().into());
            h.u32(f.class.map_or(u32::MAX, |c| c));
            h.u32(f.parent.map_or(u32::MAX, |p| p));
            h.u32(u32::from(f.is_async));
            h.u32(f.decorators.len() as u32);
            for d in &f.decorators {
                h.str(d);
            }
        }
        h.u32(m.classes.len() as u32);
        for c in &m.classes {
            h.str(&c.name);
            h.str(&c.qualname);
            h.u32(c.bases.len() as u32);
            for b in &c.bases {
                h.str(b);
            }
        }
    }
    for set in [&wrappers.offload, &wrappers.background] {
        let mut sorted: Vec<FnRef> = set.iter().copied().collect();
        sorted.sort_unstable();
        h.u32(sorted.len() as u32);
        for w in sorted {
            h.u32(w.module);
            h.u32(w.func);
        }
    }
    h.finish()
}

/// The settings that shape the link, hashed from their texts.
pub fn settings_key(parts: &[&str]) -> u128 {
    let mut h = Hasher::default();
    for p in parts {
        h.str(p);
    }
    h.finish()
}

/// A hash over length-prefixed fields, so that no two sequences of fields hash alike by
/// running into each other.
#[derive(Default)]
struct Hasher(Xxh3Default);

impl Hasher {
    fn bytes(&mut self, b: &[u8]) {
        self.0.update(b);
    }

    fn u32(&mut self, v: u32) {
        self.0.update(&v.to_le_bytes());
    }

    fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.update(s.as_bytes());
    }

    fn finish(&self) -> u128 {
        self.0.digest128()
    }
}

/// Serialises `RoleId`s as their two indices.
pub(super) mod roles {
    use crate::knowledge::frameworks::RoleId;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(roles: &[(u32, RoleId)], s: S) -> Result<S::Ok, S::Error> {
        let flat: Vec<(u32, u16, u16)> = roles
            .iter()
            .map(|(n, r)| (*n, r.profile, r.shape))
            .collect();
        flat.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(u32, RoleId)>, D::Error> {
        let flat: Vec<(u32, u16, u16)> = Vec::deserialize(d)?;
        Ok(flat
            .into_iter()
            .map(|(n, profile, shape)| (n, RoleId { profile, shape }))
            .collect())
    }
}
