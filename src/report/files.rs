//! Writing reports to disk: one file atomically, or the whole audit at once into a directory.
//!
//! A report is written to a temporary file in the target's own directory and renamed over the
//! target, so a reader (a CI upload step, a browser reloading the page) never sees a half
//! written file, and an interrupted run leaves the previous report intact. Renaming replaces a
//! symbolic link at the target path rather than writing through it, so a planted link cannot
//! redirect the report onto another file. A target that is no file at all (a device such as
//! `/dev/null` or a terminal, a named pipe, `/dev/stdout`) is written through instead: renaming
//! over it would replace the device node itself (run as root, `-o /dev/null` left a regular
//! file where the null device was, and every later redirection to it read or grew that file).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::audit::AuditReport;
use crate::settings::Format;

/// One file of an `--output-dir` audit.
pub struct Artefact {
    pub file: &'static str,
    pub format: Format,
    /// What the file is for, as the Markdown report's artefact list says it.
    pub purpose: &'static str,
}

/// Everything `--output-dir` writes, in the order it writes them.
pub const ARTEFACTS: &[Artefact] = &[
    Artefact {
        file: "report.md",
        format: Format::Markdown,
        purpose: "this report",
    },
    Artefact {
        file: "hotspots.csv",
        format: Format::Csv,
        purpose: "every finding ranked, one row each, for spreadsheets",
    },
    Artefact {
        file: "findings.json",
        format: Format::Json,
        purpose: "every finding with its summary, for tools (schema: `schema/findings.schema.json`)",
    },
    Artefact {
        file: "memory_leak_candidates.json",
        format: Format::LeakCandidates,
        purpose: "caches, models and resources that grow or are never released",
    },
    Artefact {
        file: "report.sarif",
        format: Format::Sarif,
        purpose: "SARIF 2.1.0, for code-scanning dashboards",
    },
    Artefact {
        file: "report.html",
        format: Format::Html,
        purpose: "self-contained interactive report with charts and a filterable table",
    },
];

/// Writes `path` atomically with what `emit` produces.
pub fn write_atomic(
    path: &Path,
    emit: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // `symlink_metadata` so that a link to a directory is replaced, not refused.
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    // Followed through links: `/dev/stdout` is a link to the process's own output.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let mut w = BufWriter::new(std::fs::OpenOptions::new().write(true).open(path)?);
        emit(&mut w)?;
        return w.flush();
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".perfaudit-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    {
        let mut w = BufWriter::new(tmp.as_file_mut());
        emit(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    // The temporary file is private (0600); a report is meant to be read by others.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes every artefact into `dir` (created if missing) and returns the paths written.
pub fn write_dir(report: &AuditReport, dir: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = Vec::with_capacity(ARTEFACTS.len());
    for a in ARTEFACTS {
        let path = dir.join(a.file);
        write_atomic(&path, |w| {
            super::write(report, a.format, &super::Options::default(), w)
        })
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_in_one_step() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old").unwrap();
        write_atomic(&path, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    #[test]
    fn a_failed_emit_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old").unwrap();
        let r = write_atomic(&path, |_| Err(std::io::Error::other("boom")));
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        let link = dir.path().join("report.csv");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write_atomic(&link, |w| w.write_all(b"report")).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "report");
    }

    /// A named pipe stays a pipe and its reader gets the report (a device such as
    /// `/dev/null` takes the same path; a pipe can be made in a test's own folder).
    #[cfg(unix)]
    #[test]
    fn a_pipe_is_written_through_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("report.pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("mkfifo unavailable: skipped");
            return;
        }
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        write_atomic(&fifo, |w| w.write_all(b"report")).unwrap();
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(kind.is_fifo(), "the pipe was replaced by a {kind:?}");
        assert_eq!(reader.join().unwrap(), "report");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let r = write_atomic(dir.path(), |w| w.write_all(b"x"));
        assert!(r.is_err());
    }
}
