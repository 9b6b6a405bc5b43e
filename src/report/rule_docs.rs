//! The rule pages `docs/rules/PAxxx.md` and their index, generated from each rule's own
//! documentation (`RuleMeta::doc`), and where a report links to them. The pages are checked
//! in; `tests/rule_docs.rs` fails when one is stale, and `PERFAUDIT_UPDATE_DOCS=1 cargo test
//! --test rule_docs` rewrites them.

use crate::rules::{RULES, RuleMeta};

/// The folder of the rule pages, relative to the repository root.
pub const DIR: &str = "docs/rules";

/// Where the repository is published: `repository` in Cargo.toml, unless the build sets
/// `PERFAUDIT_REPOSITORY_URL` (the release workflow and the GitHub Action set it to the
/// repository they build from, so a fork links to its own pages).
pub fn repository_url() -> &'static str {
    option_env!("PERFAUDIT_REPOSITORY_URL")
        .map(|u| u.trim_end_matches('/'))
        .filter(|u| !u.is_empty())
        .unwrap_or(env!("CARGO_PKG_REPOSITORY"))
}

/// The page of a rule under `repository` at this build's version tag.
pub fn page_url_in(repository: &str, code: &str) -> String {
    format!(
        "{}/blob/v{}/{DIR}/{code}.md",
        repository.trim_end_matches('/'),
        env!("CARGO_PKG_VERSION")
    )
}

/// The page of a rule (SARIF `helpUri`, the HTML report's rule links).
pub fn page_url(code: &str) -> String {
    page_url_in(repository_url(), code)
}

/// One rule's page.
pub fn page(m: &RuleMeta) -> String {
    format!(
        "<!-- Generated from the rule's documentation in the source; do not edit. -->\n\
         # {code} {name}\n\n\
         {summary}\n\n\
         - Category: {category}\n\
         - Usual severity: {severity} (the severity of each finding comes from its cost in \
         context)\n\
         - Selected with `--select {code}`; silenced on a line with \
         `# perfaudit: ignore[{code}]`\n\n\
         {doc}\n",
        code = m.code,
        name = m.name,
        summary = m.summary,
        category = m.category.as_str(),
        severity = m.default_severity.as_str(),
        doc = m.doc.trim(),
    )
}

/// The index of every rule page.
pub fn index() -> String {
    let mut out = String::from(
        "<!-- Generated from the rules' documentation in the source; do not edit. -->\n\
         # Rules\n\n\
         `perfaudit rule CODE` prints the same page in the terminal.\n\n\
         | code | name | category | usual severity | summary |\n|---|---|---|---|---|\n",
    );
    for r in RULES {
        let m = r.meta();
        out.push_str(&format!(
            "| [`{code}`]({code}.md) | {} | {} | {} | {} |\n",
            m.name,
            m.category.as_str(),
            m.default_severity.as_str(),
            m.summary.replace('|', "\\|"),
            code = m.code,
        ));
    }
    out
}

/// Every generated file: `(path relative to the repository root, contents)`.
pub fn files() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = RULES
        .iter()
        .map(|r| (format!("{DIR}/{}.md", r.meta().code), page(r.meta())))
        .collect();
    out.push((format!("{DIR}/README.md"), index()));
    out
}
