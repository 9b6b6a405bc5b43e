//! `docs/rules/` must be what the rules' own documentation generates. When this fails after a
//! rule's doc comment changed, regenerate with `PERFAUDIT_UPDATE_DOCS=1 cargo test --test
//! rule_docs` and commit the pages.

use std::path::Path;

use perfaudit::report::rule_docs;

#[test]
fn rule_pages_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var_os("PERFAUDIT_UPDATE_DOCS").is_some();
    let files = rule_docs::files();
    let mut stale = Vec::new();
    for (rel, text) in &files {
        let path = root.join(rel);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            if update {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, text).unwrap();
            } else {
                stale.push(rel.clone());
            }
        }
    }
    // A page whose rule is gone is stale too.
    for entry in std::fs::read_dir(root.join(rule_docs::DIR)).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let rel = format!("{}/{name}", rule_docs::DIR);
        if !files.iter().any(|(r, _)| *r == rel) {
            if update {
                std::fs::remove_file(root.join(&rel)).unwrap();
            } else {
                stale.push(rel);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale rule pages: {stale:?}; regenerate with `PERFAUDIT_UPDATE_DOCS=1 cargo test --test rule_docs`"
    );
}

#[test]
fn pages_link_at_the_version_tag() {
    assert_eq!(
        rule_docs::page_url_in("https://example.org/x/perfaudit/", "PA101")
            .replace(env!("CARGO_PKG_VERSION"), "VERSION"),
        "https://example.org/x/perfaudit/blob/vVERSION/docs/rules/PA101.md"
    );
}

/// Without a build-time override, reports link to the repository named in Cargo.toml.
#[test]
fn pages_link_to_the_cargo_repository() {
    let expected = option_env!("PERFAUDIT_REPOSITORY_URL")
        .filter(|u| !u.is_empty())
        .unwrap_or("https://github.com/perfaudit/perfaudit");
    assert_eq!(
        rule_docs::page_url("PA101").replace(env!("CARGO_PKG_VERSION"), "VERSION"),
        format!(
            "{}/blob/vVERSION/docs/rules/PA101.md",
            expected.trim_end_matches('/')
        )
    );
}
