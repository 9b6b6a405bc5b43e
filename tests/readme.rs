//! The README's sample output must be what the first command prints on the bundled example:
//! its summary lines and first finding block, then (after `…`) any further blocks it shows,
//! each one block of the same run, checked against a real run of the binary (only the run
//! time may differ).

use std::path::Path;
use std::process::Command;

fn without_time(s: &str) -> String {
    match (s.rfind(", in "), s.strip_suffix(" ms.")) {
        (Some(i), Some(_)) => format!("{}, in N ms.", &s[..i]),
        _ => s.to_owned(),
    }
}

#[test]
fn readme_sample_is_the_real_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = &readme[readme.find("## Sample output").expect("a sample section")..];
    let start = section.find("```text\n").expect("a text block") + "```text\n".len();
    let sample = &section[start..start + section[start..].find("\n```").unwrap()];
    let (summary, rest) = sample
        .split_once("\n\n")
        .expect("summary, first finding block, …");
    let mut shown = rest
        .strip_suffix("\n\n…")
        .expect("the sample ends with `…`")
        .split("\n\n…\n\n");
    let first = shown.next().unwrap();
    let more: Vec<&str> = shown.collect();

    let out = Command::new(env!("CARGO_BIN_EXE_perfaudit"))
        .current_dir(root)
        .args([
            "audit",
            "examples/agent_system",
            "--no-cache",
            "--color",
            "never",
        ])
        .env_remove("PERFAUDIT_DEBUG_PANIC_ON")
        // As on a fresh machine: no virtual environment to follow calls into.
        .env_remove("VIRTUAL_ENV")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the README says the example exits 1"
    );
    let real = String::from_utf8(out.stdout).unwrap();
    let all: Vec<&str> = real.split("\n\n").collect();
    for block in &more {
        assert!(
            all[1..].contains(block),
            "a block the README shows after `…` is not one of the real output's:\n{block}"
        );
    }
    let mut blocks = real.split("\n\n");
    let real_summary: Vec<String> = blocks.next().unwrap().lines().map(without_time).collect();
    let summary: Vec<String> = summary.lines().map(without_time).collect();
    assert_eq!(summary, real_summary, "README's summary lines");
    assert_eq!(
        first,
        blocks.next().unwrap(),
        "README's first (worst) finding block"
    );
}
