//! Inputs that must never crash an audit: deep nesting, bad encodings, odd files. Each run must
//! finish, keep every file it can read, and say what it could not.

use perfaudit::testing::{audit_paths, audit_snippet};

#[test]
fn deeply_nested_expression() {
    let depth = 100_000;
    let src = format!("x = {}1{}\n", "(".repeat(depth), ")".repeat(depth));
    let report = audit_snippet("deep.py", &src, &[]);
    assert_eq!(report.files_scanned, 1);
}

#[test]
fn long_binary_operator_chain() {
    let src = format!("x = {}1\n", "1 + ".repeat(50_000));
    let report = audit_snippet("chain.py", &src, &[]);
    assert_eq!(report.files_scanned, 1);
}

#[test]
fn deeply_nested_blocks_still_find_hotspots() {
    // One tab per level keeps the file near 12 MB; the size cap is raised to admit it.
    let mut src = String::from("import time\nasync def f():\n");
    let depth = 5_000;
    for i in 0..depth {
        src.push_str(&"\t".repeat(i + 1));
        src.push_str("if x:\n");
    }
    src.push_str(&"\t".repeat(depth + 1));
    src.push_str("time.sleep(2)\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("blocks.py"), &src).unwrap();
    let settings = perfaudit::settings::Settings {
        paths: vec![dir.path().to_path_buf()],
        select: vec!["PA101".into()],
        max_file_size: 64 << 20,
        threads: 1,
        ..Default::default()
    };
    let report = perfaudit::audit::run(&settings).unwrap();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert_eq!(report.findings[0].line, depth as u32 + 3);
}

#[test]
fn bad_bytes_and_encodings() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(
        p.join("invalid_utf8.py"),
        b"import time\nasync def f():\n    time.sleep(2)  # \xff\xfe\n",
    )
    .unwrap();
    std::fs::write(p.join("utf16.py"), b"\xff\xfei\x00m\x00").unwrap();
    std::fs::write(
        p.join("latin1.py"),
        b"# -*- coding: latin-1 -*-\nx = '\xe9'\n",
    )
    .unwrap();
    std::fs::write(p.join("nul.py"), b"x = 1\x00\n").unwrap();
    std::fs::write(
        p.join("crlf.py"),
        b"import time\r\nasync def f():\r\n    time.sleep(2)\r\n",
    )
    .unwrap();
    std::fs::write(p.join("empty.py"), b"").unwrap();
    std::fs::create_dir(p.join("dir.py")).unwrap();
    let report = audit_paths(&[p], &["PA001", "PA101"]);
    let sleeps: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == "PA101")
        .map(|f| (f.path.as_str(), f.line))
        .collect();
    assert_eq!(sleeps, vec![("crlf.py", 3), ("invalid_utf8.py", 3)]);
    let notes: Vec<_> = report.diagnostics.iter().map(|d| d.path.as_str()).collect();
    assert!(notes.contains(&"utf16.py"), "{notes:?}");
    assert!(notes.contains(&"invalid_utf8.py"), "{notes:?}");
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.code == "PA001" && f.path == "nul.py")
    );
}

#[cfg(unix)]
#[test]
fn symlink_loop_and_unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir(p.join("a")).unwrap();
    std::os::unix::fs::symlink("..", p.join("a/loop")).unwrap();
    std::fs::write(p.join("a/ok.py"), "x = 1\n").unwrap();
    let locked = p.join("locked.py");
    std::fs::write(&locked, "x = 1\n").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let report = audit_paths(&[p], &[]);
    // Root can read anything; otherwise the file is reported, never silently dropped.
    let readable = std::fs::read(&locked).is_ok();
    assert_eq!(report.files_scanned, if readable { 2 } else { 1 });
    if !readable {
        assert!(report.diagnostics.iter().any(|d| d.path == "locked.py"));
    }
}

#[test]
fn oversized_file_is_skipped_with_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.py"), "x = 1\n".repeat(10)).unwrap();
    let settings = perfaudit::settings::Settings {
        paths: vec![dir.path().to_path_buf()],
        max_file_size: 16,
        threads: 1,
        ..Default::default()
    };
    let report = perfaudit::audit::run(&settings).unwrap();
    assert_eq!(report.files_scanned, 0);
    assert!(report.diagnostics[0].message.contains("size cap"));
}
