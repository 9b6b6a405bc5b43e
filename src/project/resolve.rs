//! Resolving qualified names to project definitions: which module a dotted name starts in
//! (under every plausible import root), which function or class it names, following re-exports
//! through `__init__.py` and inheritance through resolved base classes.

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::facts::{FnKind, FuncId, ModuleFacts, Name};
use crate::finding::Confidence;
use tables::{ByModule, ClassNames, sorted_last};

mod tables;

/// A class anywhere in the project.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ClassRef {
    pub module: u32,
    pub class: u32,
}

/// A function anywhere in the project.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct FnRef {
    pub module: u32,
    pub func: FuncId,
}

/// What a qualified name resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Function(FnRef),
    /// A class: calling it runs its `__init__` (found through the MRO), if any.
    Class(ClassRef),
}

pub struct Resolver {
    /// The dotted package the audited folder is, if it is one.
    pub package: Option<String>,
    /// Dotted module name -> module index, for every import root; `Definite` when the name is
    /// derived from a real import root, `Probable` when only a suffix of the path matched.
    modules: HashMap<String, (u32, Confidence)>,
    /// First segments of every module name and import root, to reject external names early.
    heads: HashSet<String>,
    /// Per module: top-level name -> function id.
    top_funcs: ByModule<FuncId>,
    /// Per module: class qualname -> class index (a top-level class's qualified name is its
    /// name: the only qualified names without a dot).
    class_by_qualname: ClassNames,
    /// Per class: its methods by name (`ClassMethods`).
    methods: ClassMethods,
    /// Per module: imported local name -> qualified target (for re-exports).
    imports: ByModule<Name>,
    /// The linearised MRO of each class (itself first), read through [`Resolver::mro`]: class
    /// `k` (numbered module by module, from `class_offsets`) has `mro_items[mro_start[k]..
    /// mro_start[k + 1]]`. Flat arrays rather than a map of vectors, and the resolved bases are
    /// dropped once the MROs are made: on the standard library (13,127 classes) the maps of
    /// bases, MROs and subclasses held 1.9 MiB.
    class_offsets: Vec<u32>,
    mro_start: Vec<u32>,
    mro_items: Vec<ClassRef>,
    /// Every class another project class derives from, sorted.
    pub subclassed: Vec<ClassRef>,
    /// Method name -> where the project methods with that name are in `named_methods` (for
    /// the unique-name fallback and overrides); one flat array, not a vector per name (29,310
    /// names on the standard library).
    methods_by_name: HashMap<Name, (u32, u32)>,
    named_methods: Vec<FnRef>,
}

/// Dotted module name -> module index, under every import root, the audited package's name
/// and every unambiguous suffix (see `Resolver::modules`).
fn module_names(
    modules: &[ModuleFacts],
    roots: &[String],
    package: Option<&str>,
) -> HashMap<String, (u32, Confidence)> {
    let mut names: HashMap<String, (u32, Confidence)> = HashMap::default();
    for (i, m) in modules.iter().enumerate() {
        let stem = m.module.replace('.', "/");
        for root in roots {
            let rel = if root.is_empty() {
                Some(stem.as_str())
            } else {
                stem.strip_prefix(root.as_str())
                    .and_then(|s| s.strip_prefix('/'))
            };
            if let Some(rel) = rel
                && !rel.is_empty()
            {
                names
                    .entry(rel.replace('/', "."))
                    .or_insert((i as u32, Confidence::Definite));
            }
        }
    }
    if let Some(p) = package.filter(|p| !p.is_empty()) {
        for (i, m) in modules.iter().enumerate() {
            let full = if m.module.is_empty() {
                p.to_owned()
            } else {
                format!("{p}.{}", m.module)
            };
            names
                .entry(full)
                .or_insert((i as u32, Confidence::Definite));
        }
    }
    // Suffixes of every module name, when unambiguous: a project audited from above its
    // import root (`examples/app/common/utils.py` imported as `common.utils`).
    let mut suffixes: HashMap<String, Option<u32>> = HashMap::default();
    for (i, m) in modules.iter().enumerate() {
        let parts: Vec<&str> = m.module.split('.').collect();
        for k in 1..parts.len() {
            let suffix = parts[k..].join(".");
            suffixes
                .entry(suffix)
                .and_modify(|e| {
                    if *e != Some(i as u32) {
                        *e = None;
                    }
                })
                .or_insert(Some(i as u32));
        }
    }
    for (suffix, idx) in suffixes {
        if let Some(i) = idx {
            names.entry(suffix).or_insert((i, Confidence::Probable));
        }
    }
    names
}

/// One module's own lookup tables, each sorted by name with one entry per name (the last
/// defined or imported).
struct ModuleMaps<'m> {
    top_funcs: Vec<(Name, FuncId)>,
    class_by_qualname: Vec<(&'m str, u32)>,
    imports: Vec<(Name, Name)>,
}

impl ModuleMaps<'_> {
    fn of(m: &ModuleFacts) -> ModuleMaps<'_> {
        let mut top_funcs: Vec<(Name, FuncId)> = m
            .functions
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f.kind, FnKind::Function) && f.parent == Some(0))
            .map(|(fi, f)| (f.name.clone(), fi as FuncId))
            .collect();
        sorted_last(&mut top_funcs);
        let mut class_by_qualname: Vec<(&str, u32)> = m
            .classes
            .iter()
            .enumerate()
            .map(|(ci, c)| (c.qualname.as_str(), ci as u32))
            .collect();
        sorted_last(&mut class_by_qualname);
        let mut imports: Vec<(Name, Name)> = m
            .imports
            .iter()
            .map(|i| (i.local.clone(), i.target.clone()))
            .collect();
        sorted_last(&mut imports);
        ModuleMaps {
            top_funcs,
            class_by_qualname,
            imports,
        }
    }
}

/// The methods of every class, by name: class `k` (numbered module by module, from `offsets`)
/// has `items[start[k]..start[k + 1]]`, sorted by name, one per name (the last defined, as a
/// later `def` rebinds the name). One flat array rather than a map per class: on the standard
/// library (13,127 classes) the maps held ~2.8 MiB for the run.
struct ClassMethods {
    offsets: Vec<u32>,
    start: Vec<u32>,
    items: Vec<(Name, FuncId)>,
}

impl ClassMethods {
    /// The methods of `class`, sorted by name (none for a class outside the project).
    fn of(&self, class: ClassRef) -> &[(Name, FuncId)] {
        let Some(&offset) = self.offsets.get(class.module as usize) else {
            return &[];
        };
        let k = (offset + class.class) as usize;
        match (self.start.get(k), self.start.get(k + 1)) {
            (Some(&a), Some(&b)) => &self.items[a as usize..b as usize],
            _ => &[],
        }
    }

    /// The method `name` of `class` itself.
    fn get(&self, class: ClassRef, name: &str) -> Option<FuncId> {
        let ms = self.of(class);
        ms.binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| ms[i].1)
    }
}

/// Per class, its methods by name; per method name, every method so named (in module and
/// function order).
#[allow(clippy::type_complexity)]
fn methods_of(modules: &[ModuleFacts]) -> (ClassMethods, (HashMap<Name, (u32, u32)>, Vec<FnRef>)) {
    let mut offsets = Vec::with_capacity(modules.len());
    let mut classes = 0u32;
    for m in modules {
        offsets.push(classes);
        classes += m.classes.len() as u32;
    }
    // Each class's methods counted, then placed in function order, then each class's sorted
    // by name (stable: of two `def`s of one name, the later is kept).
    let mut start = vec![0u32; classes as usize + 1];
    let mut all: Vec<(&Name, FnRef)> = Vec::new();
    let mut class_of = Vec::new();
    for (mi, m) in modules.iter().enumerate() {
        for (fi, f) in m.functions.iter().enumerate() {
            if let (FnKind::Method, Some(c)) = (f.kind, f.class)
                && c < m.classes.len() as u32
            {
                let k = (offsets[mi] + c) as usize;
                start[k + 1] += 1;
                class_of.push(k as u32);
                all.push((
                    &f.name,
                    FnRef {
                        module: mi as u32,
                        func: fi as FuncId,
                    },
                ));
            }
        }
    }
    for k in 1..start.len() {
        start[k] += start[k - 1];
    }
    let mut placed = start.clone();
    let mut items = vec![(Name::default(), 0); all.len()];
    for (&k, (name, f)) in class_of.iter().zip(&all) {
        let at = &mut placed[k as usize];
        items[*at as usize] = ((*name).clone(), f.func);
        *at += 1;
    }
    drop((class_of, placed));
    let mut kept = 0usize;
    for k in 0..classes as usize {
        let (a, b) = (start[k] as usize, start[k + 1] as usize);
        items[a..b].sort_by(|x, y| x.0.as_str().cmp(y.0.as_str()));
        start[k] = kept as u32;
        for i in a..b {
            if i + 1 < b && items[i + 1].0 == items[i].0 {
                continue;
            }
            items.swap(kept, i);
            kept += 1;
        }
    }
    start[classes as usize] = kept as u32;
    items.truncate(kept);
    items.shrink_to_fit();
    let methods = ClassMethods {
        offsets,
        start,
        items,
    };
    // Counted by name, then placed: each name's methods stay in module and function order.
    let mut by_name: HashMap<Name, (u32, u32)> = HashMap::default();
    for (name, _) in &all {
        by_name.entry((*name).clone()).or_default().1 += 1;
    }
    // Each name's start, and its count again as the methods are placed.
    let mut start = 0;
    for (at, len) in by_name.values_mut() {
        *at = start;
        start += std::mem::take(len);
    }
    let mut named = vec![FnRef { module: 0, func: 0 }; all.len()];
    for (name, f) in all {
        if let Some((at, len)) = by_name.get_mut(name.as_str()) {
            named[(*at + *len) as usize] = f;
            *len += 1;
        }
    }
    (methods, (by_name, named))
}

impl Resolver {
    /// `package` is the dotted package the audited folder itself is (`homeassistant` when the
    /// folder holds an `__init__.py`): its modules are importable under it too
    /// (`homeassistant.core` is the project's `core`).
    pub fn new(modules: &[ModuleFacts], package: Option<&str>) -> Resolver {
        let mut roots: Vec<String> = vec![String::new(), "src".to_owned(), "lib".to_owned()];
        for m in modules {
            for p in &m.sys_path {
                let p = crate::facts::collect::normalise_path(p);
                if !p.starts_with("..") && !roots.contains(&p) {
                    roots.push(p);
                }
            }
        }
        // The module names and the per-module maps read nothing of each other: built side by
        // side on the caller's pool, each module's maps on their own.
        let (names, (maps, (methods, (methods_by_name, named_methods)))) = rayon::join(
            || module_names(modules, &roots, package),
            || {
                rayon::join(
                    || modules.par_iter().map(ModuleMaps::of).collect::<Vec<_>>(),
                    || methods_of(modules),
                )
            },
        );
        let mut top_funcs = Vec::with_capacity(modules.len());
        let mut class_by_qualname = Vec::with_capacity(modules.len());
        let mut imports = Vec::with_capacity(modules.len());
        for m in maps {
            top_funcs.push(m.top_funcs);
            class_by_qualname.push(m.class_by_qualname);
            imports.push(m.imports);
        }
        let (top_funcs, class_by_qualname, imports) = (
            ByModule::new(top_funcs),
            ClassNames::new(class_by_qualname),
            ByModule::new(imports),
        );
        let heads = names
            .keys()
            .map(|n| n.split('.').next().unwrap_or(n).to_owned())
            .collect();
        let mut r = Resolver {
            heads,
            package: package.filter(|p| !p.is_empty()).map(str::to_owned),
            modules: names,
            top_funcs,
            class_by_qualname,
            methods,
            imports,
            class_offsets: Vec::new(),
            mro_start: Vec::new(),
            mro_items: Vec::new(),
            subclassed: Vec::new(),
            methods_by_name,
            named_methods,
        };
        r.link_classes(modules);
        r
    }

    fn link_classes(&mut self, modules: &[ModuleFacts]) {
        let mut class_offsets = Vec::with_capacity(modules.len());
        let mut classes = 0u32;
        for m in modules {
            class_offsets.push(classes);
            classes += m.classes.len() as u32;
        }
        // The resolved bases of every class, in class order (resolution reads no MRO yet).
        let mut bases_start: Vec<u32> = Vec::with_capacity(classes as usize + 1);
        let mut bases_items: Vec<ClassRef> = Vec::new();
        let mut subclassed = Vec::new();
        for (mi, m) in modules.iter().enumerate() {
            for (ci, c) in m.classes.iter().enumerate() {
                let me = ClassRef {
                    module: mi as u32,
                    class: ci as u32,
                };
                bases_start.push(bases_items.len() as u32);
                for b in &c.bases {
                    if let Some((Target::Class(base), _)) = self.resolve(b) {
                        if base != me {
                            bases_items.push(base);
                        }
                    } else if let Some(bi) = self
                        .class_by_qualname
                        .get(mi, b.rsplit('.').next().unwrap_or(b))
                        && b.starts_with(&m.module)
                    {
                        bases_items.push(ClassRef {
                            module: mi as u32,
                            class: bi,
                        });
                    }
                }
            }
        }
        bases_start.push(bases_items.len() as u32);
        subclassed.extend_from_slice(&bases_items);
        subclassed.sort_unstable();
        subclassed.dedup();
        subclassed.shrink_to_fit();
        let index = |c: ClassRef| (class_offsets[c.module as usize] + c.class) as usize;
        let bases_of = |c: ClassRef| {
            &bases_items[bases_start[index(c)] as usize..bases_start[index(c) + 1] as usize]
        };
        let mut mro_start = Vec::with_capacity(classes as usize + 1);
        let mut mro_items = Vec::new();
        let mut order = Vec::new();
        let mut stack = Vec::new();
        for (mi, m) in modules.iter().enumerate() {
            for ci in 0..m.classes.len() {
                order.clear();
                stack.push(ClassRef {
                    module: mi as u32,
                    class: ci as u32,
                });
                while let Some(c) = stack.pop() {
                    if order.contains(&c) || order.len() > 64 {
                        continue;
                    }
                    order.push(c);
                    for b in bases_of(c).iter().rev() {
                        stack.push(*b);
                    }
                }
                mro_start.push(mro_items.len() as u32);
                mro_items.extend_from_slice(&order);
            }
        }
        mro_start.push(mro_items.len() as u32);
        mro_items.shrink_to_fit();
        self.class_offsets = class_offsets;
        self.mro_start = mro_start;
        self.mro_items = mro_items;
        self.subclassed = subclassed;
    }

    /// The linearised MRO of a project class (itself first); `None` while the classes are
    /// being linked.
    pub fn mro(&self, c: ClassRef) -> Option<&[ClassRef]> {
        let k = (*self.class_offsets.get(c.module as usize)? + c.class) as usize;
        let (start, end) = (*self.mro_start.get(k)?, *self.mro_start.get(k + 1)?);
        Some(&self.mro_items[start as usize..end as usize])
    }

    /// Frees what only the call graph's construction reads: the method-name index behind
    /// [`Resolver::methods_named`] and [`Resolver::overrides`] (the unique-name fallback and
    /// the overrides of a `self.m()` call; 1.4 MiB on the standard library), which the rules
    /// never ask. Both answer nothing afterwards.
    pub(super) fn drop_link_only(&mut self) {
        self.methods_by_name = HashMap::default();
        self.named_methods = Vec::new();
    }

    /// Every project method named `name`, in module and function order (until
    /// [`Resolver::drop_link_only`]).
    pub fn methods_named(&self, name: &str) -> &[FnRef] {
        self.methods_by_name.get(name).map_or(&[], |&(start, len)| {
            &self.named_methods[start as usize..(start + len) as usize]
        })
    }

    /// The module a dotted module name denotes.
    pub fn module(&self, name: &str) -> Option<(u32, Confidence)> {
        self.modules.get(name).copied()
    }

    /// Resolves a qualified name (`pkg.mod.func`, `pkg.mod.Class.method`, `pkg.Class`) to a
    /// project definition, following re-exports; `None` for external names.
    pub fn resolve(&self, qualified: &str) -> Option<(Target, Confidence)> {
        self.resolve_depth(qualified, 0)
    }

    fn resolve_depth(&self, qualified: &str, depth: u32) -> Option<(Target, Confidence)> {
        if depth > 8 {
            return None;
        }
        // Most call targets are external (`os.path.join`): reject them on their first segment.
        let head = first_segment(qualified);
        if !self.heads.contains(head) {
            return None;
        }
        // The longest prefix that names a module, without allocating.
        let mut end = qualified.len();
        while let Some(dot) = memchr::memrchr(b'.', &qualified.as_bytes()[..end]) {
            let (module_name, rest) = (&qualified[..dot], &qualified[dot + 1..]);
            if let Some(&(mi, conf)) = self.modules.get(module_name) {
                return self
                    .resolve_in_module(mi, rest, depth)
                    .map(|(t, c)| (t, c.min(conf)));
            }
            end = dot;
        }
        None
    }

    /// Resolves `rest` (`func`, `Class`, `Class.method`, `Nested.Class.method`) inside a module.
    fn resolve_in_module(&self, mi: u32, rest: &str, depth: u32) -> Option<(Target, Confidence)> {
        let m = mi as usize;
        let (head, tail) = match memchr::memchr(b'.', rest.as_bytes()) {
            Some(dot) => (&rest[..dot], &rest[dot + 1..]),
            None => (rest, ""),
        };
        if tail.is_empty()
            && let Some(&f) = self.top_funcs.get(m, head)
        {
            return Some((
                Target::Function(FnRef {
                    module: mi,
                    func: f,
                }),
                Confidence::Definite,
            ));
        }
        // A class, possibly nested, then at most one method name.
        let mut end = rest.len();
        loop {
            let qual = &rest[..end];
            if let Some(ci) = self.class_by_qualname.get(m, qual) {
                let class = ClassRef {
                    module: mi,
                    class: ci,
                };
                let after = rest[end..].strip_prefix('.').unwrap_or("");
                return match after {
                    "" => Some((Target::Class(class), Confidence::Definite)),
                    method if !method.contains('.') => self
                        .lookup_method(class, method)
                        .map(|f| (Target::Function(f), Confidence::Definite)),
                    _ => None,
                };
            }
            match memchr::memrchr(b'.', qual.as_bytes()) {
                Some(dot) => end = dot,
                None => break,
            }
        }
        // A re-export: the name is imported into this module from elsewhere.
        if let Some(target) = self.imports.get(m, head) {
            if tail.is_empty() {
                return self.resolve_depth(target, depth + 1);
            }
            return self.resolve_depth(&format!("{target}.{tail}"), depth + 1);
        }
        None
    }

    /// The method `name` of `class`, found along its MRO.
    pub fn lookup_method(&self, class: ClassRef, name: &str) -> Option<FnRef> {
        let mro = self.mro(class).unwrap_or(std::slice::from_ref(&class));
        for c in mro {
            if let Some(f) = self.methods.get(*c, name) {
                return Some(FnRef {
                    module: c.module,
                    func: f,
                });
            }
        }
        None
    }

    /// The methods of `class`, along its MRO, whose names start with `prefix` (the nearest
    /// definition of each name), sorted.
    pub fn methods_with_prefix(&self, class: ClassRef, prefix: &str) -> Vec<FnRef> {
        let mro = self.mro(class).unwrap_or(std::slice::from_ref(&class));
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for c in mro {
            for (name, f) in self.methods.of(*c) {
                if name.starts_with(prefix) && !seen.contains(&name.as_str()) {
                    seen.push(name);
                    out.push(FnRef {
                        module: c.module,
                        func: *f,
                    });
                }
            }
        }
        out.sort();
        out
    }

    /// Overrides of `name` in every subclass of `class` (transitively), for `self.name()` calls
    /// written in a base class. Candidates come from the method-name index, so the cost does
    /// not grow with the size of the hierarchy below `class`.
    pub fn overrides(&self, modules: &[ModuleFacts], class: ClassRef, name: &str) -> Vec<FnRef> {
        let mut out: Vec<FnRef> = self
            .methods_named(name)
            .iter()
            .copied()
            .filter(|&f| {
                self.class_of(modules, f).is_some_and(|owner| {
                    owner != class && self.mro(owner).is_some_and(|mro| mro.contains(&class))
                })
            })
            .collect();
        out.sort();
        out
    }

    /// The class a method belongs to.
    pub fn class_of(&self, modules: &[ModuleFacts], f: FnRef) -> Option<ClassRef> {
        let func = &modules[f.module as usize].functions[f.func as usize];
        func.class.map(|c| ClassRef {
            module: f.module,
            class: c,
        })
    }
}

/// The text before the first dot (all of it without one). Resolution runs once per call site
/// and per rule that asks: a byte search, not a `char` pattern.
fn first_segment(qualified: &str) -> &str {
    match memchr::memchr(b'.', qualified.as_bytes()) {
        Some(dot) => &qualified[..dot],
        None => qualified,
    }
}
