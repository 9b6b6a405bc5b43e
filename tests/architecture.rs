//! The shape of the source tree, as ARCHITECTURE.md states it: the top-level modules (the
//! layers) depend on each other without cycles, no source file is over 800 lines, and `unsafe`
//! code is only where it is allowed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Top-level module -> the top-level modules its code names as `crate::x` (unit tests and
/// comments left out).
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(&src(), &mut files);
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in files {
        let rel = p.strip_prefix(src()).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        let entry = deps.entry(module.clone()).or_default();
        for line in code.lines() {
            let line = line.split("//").next().unwrap();
            for (i, _) in line.match_indices("crate::") {
                let name: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    entry.insert(name);
                }
            }
        }
    }
    deps
}

#[test]
fn layers_have_no_import_cycles() {
    let deps = dependencies();
    // Depth-first search for a back edge, reporting the cycle it closes.
    fn visit(
        n: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(n.to_owned());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_owned());
        for d in deps.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, deps, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for n in deps.keys() {
        if let Some(cycle) = visit(n, &deps, &mut Vec::new(), &mut done) {
            panic!("import cycle between layers: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn no_source_file_is_over_800_lines() {
    let mut files = Vec::new();
    sources(&src(), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|p| {
            let n = std::fs::read_to_string(p).unwrap().lines().count();
            (n > 800).then(|| format!("{} ({n} lines)", p.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these: {long:?}");
}

/// The library denies `unsafe` code; the one exception is the interner's arena, and the binary
/// sets the allocator's options. A new `unsafe` block elsewhere fails here, not only in review.
#[test]
fn unsafe_code_stays_where_it_is_allowed() {
    let mut files = Vec::new();
    sources(&src(), &mut files);
    let allowed = [src().join("facts/name.rs"), src().join("main.rs")];
    let found: Vec<String> = files
        .iter()
        .filter(|p| !allowed.contains(p))
        .filter(|p| {
            std::fs::read_to_string(p).unwrap().lines().any(|l| {
                let code = l.split("//").next().unwrap_or("");
                code.contains("unsafe {")
                    || code.contains("unsafe impl")
                    || code.contains("unsafe fn")
            })
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        found.is_empty(),
        "unsafe code outside its allowed files: {found:?}"
    );
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    assert!(lib.contains("#![deny(unsafe_code)]"));
}
