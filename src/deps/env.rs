//! Which Python environment the audited code runs in, and where its libraries are on disk.
//!
//! The environment is `--python PATH` (an interpreter or a venv folder, as pyright and ty take
//! it), else `VIRTUAL_ENV`, else a `.venv` or `venv` folder in the audited root or one of its
//! parents, else none. Its site-packages come from the venv's own layout
//! (`lib/python3.X/site-packages`, `Lib/site-packages` on Windows) plus the folders its `.pth`
//! files name. Nothing is ever run or imported: a venv is a folder with a `pyvenv.cfg`.

use std::path::{Path, PathBuf};

/// How the environment was found, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `--python PATH`.
    Flag,
    /// The `VIRTUAL_ENV` variable.
    VirtualEnv,
    /// A `.venv` or `venv` folder in the audited root or a parent.
    Found,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Flag => "--python",
            Origin::VirtualEnv => "VIRTUAL_ENV",
            Origin::Found => "found beside the code",
        }
    }
}

/// A Python environment: its folder and the folders its imports are found in.
#[derive(Debug, Clone)]
pub struct Environment {
    pub root: PathBuf,
    pub origin: Origin,
    /// `site-packages` first, then the folders of its `.pth` files, each once.
    pub site_packages: Vec<PathBuf>,
}

impl Environment {
    /// The environment to follow library calls in: `flag` (from `--python`), else
    /// `virtual_env` (the `VIRTUAL_ENV` variable), else a `.venv`/`venv` folder in `root` or a
    /// parent. `None` when there is none, or what was named is no venv with a site-packages.
    pub fn discover(
        flag: Option<&Path>,
        virtual_env: Option<&Path>,
        root: &Path,
    ) -> Option<Environment> {
        if let Some(p) = flag {
            return Environment::at(&venv_of(p)?, Origin::Flag);
        }
        if let Some(p) = virtual_env.filter(|p| !p.as_os_str().is_empty()) {
            return Environment::at(p, Origin::VirtualEnv);
        }
        let start = std::path::absolute(root).ok()?;
        let start = if start.is_file() {
            start.parent()?.to_path_buf()
        } else {
            start
        };
        start.ancestors().find_map(|dir| {
            [".venv", "venv"]
                .iter()
                .map(|name| dir.join(name))
                .find(|v| v.join("pyvenv.cfg").is_file())
                .and_then(|v| Environment::at(&v, Origin::Found))
        })
    }

    fn at(venv: &Path, origin: Origin) -> Option<Environment> {
        let main = site_packages_of(venv)?;
        let mut site_packages = vec![main.clone()];
        for extra in pth_folders(&main) {
            if !site_packages.contains(&extra) {
                site_packages.push(extra);
            }
        }
        Some(Environment {
            root: venv.to_path_buf(),
            origin,
            site_packages,
        })
    }
}

/// The venv folder of `path`: the folder itself, or the venv an interpreter inside it
/// (`.venv/bin/python`, `.venv\Scripts\python.exe`) belongs to.
fn venv_of(path: &Path) -> Option<PathBuf> {
    if path.join("pyvenv.cfg").is_file() {
        return Some(path.to_path_buf());
    }
    // `bin/python` is often a symbolic link to the base interpreter: look at the path given,
    // not where it points.
    let above = path.parent()?.parent()?;
    above
        .join("pyvenv.cfg")
        .is_file()
        .then(|| above.to_path_buf())
}

/// `lib/python3.X/site-packages` (the highest version when there are several), or
/// `Lib/site-packages`.
fn site_packages_of(venv: &Path) -> Option<PathBuf> {
    let windows = venv.join("Lib").join("site-packages");
    if windows.is_dir() {
        return Some(windows);
    }
    let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(venv.join("lib"))
        .ok()?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_owned();
            let version = name.strip_prefix("python")?;
            let key = version
                .split('.')
                .map(|p| p.trim_end_matches('t').parse().ok())
                .collect::<Option<Vec<u32>>>()?;
            let site = e.path().join("site-packages");
            site.is_dir().then_some((key, site))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p)
}

/// The folders that `.pth` files in `site` add to the import path (lines that are paths;
/// `import` lines are code and are never run), in file name order.
fn pth_folders(site: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(site)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "pth"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') || line.starts_with("import") {
                continue;
            }
            let dir = site.join(line);
            if dir.is_dir() {
                out.push(dir);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn venv(dir: &Path, versions: &[&str]) {
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::write(dir.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        std::fs::write(dir.join("bin/python"), "").unwrap();
        for v in versions {
            std::fs::create_dir_all(dir.join(format!("lib/python{v}/site-packages"))).unwrap();
        }
    }

    #[test]
    fn the_flag_takes_a_venv_folder_or_an_interpreter_inside_one() {
        let tmp = tempfile::tempdir().unwrap();
        let v = tmp.path().join("env");
        venv(&v, &["3.9", "3.12"]);
        let site = v.join("lib/python3.12/site-packages");
        for flag in [v.clone(), v.join("bin/python")] {
            let e = Environment::discover(Some(&flag), None, tmp.path()).unwrap();
            assert_eq!(e.origin, Origin::Flag);
            assert_eq!(
                e.site_packages,
                std::slice::from_ref(&site),
                "the highest version"
            );
        }
        // A path that is no venv is no environment, whatever else there is.
        let e = Environment::discover(Some(&tmp.path().join("nope")), Some(&v), tmp.path());
        assert!(e.is_none());
    }

    #[test]
    fn virtual_env_comes_before_a_venv_beside_the_code() {
        let tmp = tempfile::tempdir().unwrap();
        let code = tmp.path().join("service/src");
        std::fs::create_dir_all(&code).unwrap();
        venv(&tmp.path().join("service/.venv"), &["3.11"]);
        let other = tmp.path().join("other");
        venv(&other, &["3.12"]);
        let e = Environment::discover(None, Some(&other), &code).unwrap();
        assert_eq!((e.origin, &e.root), (Origin::VirtualEnv, &other));
        let e = Environment::discover(None, None, &code).unwrap();
        assert_eq!(e.origin, Origin::Found);
        assert!(e.root.ends_with("service/.venv"), "{:?}", e.root);
        // Only folders named `.venv` or `venv` are looked for.
        assert!(Environment::discover(None, None, &other.join("lib")).is_none());
    }

    #[test]
    fn pth_files_add_folders_but_their_import_lines_are_never_run() {
        let tmp = tempfile::tempdir().unwrap();
        let v = tmp.path().join("env");
        venv(&v, &["3.12"]);
        let site = v.join("lib/python3.12/site-packages");
        let src = tmp.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            site.join("editable.pth"),
            format!(
                "# a comment\n{}\nimport os; os.system('x')\nmissing\n",
                src.display()
            ),
        )
        .unwrap();
        let e = Environment::discover(Some(&v), None, tmp.path()).unwrap();
        assert_eq!(e.site_packages, [site, src]);
    }

    #[test]
    fn the_windows_layout_is_read_too() {
        let tmp = tempfile::tempdir().unwrap();
        let v = tmp.path().join("env");
        std::fs::create_dir_all(v.join("Lib/site-packages")).unwrap();
        std::fs::write(v.join("pyvenv.cfg"), "").unwrap();
        let e = Environment::discover(Some(&v), None, tmp.path()).unwrap();
        assert_eq!(e.site_packages, [v.join("Lib/site-packages")]);
    }
}
