#!/usr/bin/env python3
"""Corpus sweep: audit every `.py` file of this machine's Python installation with a perfaudit
binary, and account for each one.

The corpus is the standard library (with `Lib/test` and lib2to3's test data where the
installation ships them) and, with `--corpus all`, every site-packages directory (those of
`site.getsitepackages()`, the user site and sysconfig's purelib/platlib).

Default discovery leaves some files out on purpose: directories named in DEFAULT_SKIP_DIRS
(read from src/module/discover.rs), hidden directories and files, and files matched by `.gitignore` or
`.ignore` files, including those of parent directories. An explicit path argument is always
audited, so this script finds those with `os.walk` and passes them as arguments: every `.py`
file is in the one run. Below an ignore file inside the corpus every file is passed explicitly;
of an ignore file above a root (pyenv's own `.gitignore`, say) only the patterns that can reach
into the root count. Symbolic links are not followed (as perfaudit without --follow-links):
symlinked files are counted apart, not expected. A root that would need more explicit arguments
than a command line holds is left out of the sweep with a warning, never silently.

Checks (any failure exits 1; a usage or setup problem exits 2):
  - perfaudit exits 0 or 1: never 101 (a panic), another code, or a signal; its stdout is JSON
    and its stderr does not mention a panic;
  - files_scanned + files skipped with a diagnostic == the `.py` files os.walk found, and every
    skipped file is one of them, named once;
  - every PA001 names a corpus file, once per file; that file was still analysed (it is not among
    the skipped); summary.files_unparsable equals the number of PA001;
  - cross-check with the running Python's parser (compile to an AST only, so that checks made
    after parsing do not count): every PA001 file, and every file perfaudit had to decode
    lossily, is one that Python rejects too. With --python-parse-all every file is parsed, and
    each one Python rejects must be a PA001 or carry a decoding diagnostic, unless Python
    refuses only its encoding declaration (perfaudit reads such files anyway);
  - with --threads 1,2: the JSON output is byte-identical across the thread counts.

Usage: tests/corpus_sweep.py --perfaudit BIN [--corpus stdlib|all] [--threads N[,M...]]
                             [--python-parse-all]
"""

import argparse
import ast
import fnmatch
import json
import multiprocessing
import os
import re
import site
import subprocess
import sys
import sysconfig
import time
import warnings

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Messages of src/module/analyze.rs: a file left unanalysed; a file analysed after a decoding fallback.
SKIP_PREFIXES = ("skipped", "cannot read:", "is a directory")
NOTE_PREFIXES = ("decoded as", "not valid UTF-8")
LOSSY_MARKERS = ("lossily", "replacement characters")
IGNORE_FILES = (".gitignore", ".ignore")
# Python's own refusals of an encoding declaration, which perfaudit tolerates on purpose.
ENCODING_REFUSALS = ("unknown encoding", "encoding problem")
# Files of the standard library that are broken on purpose; when present, each must be a PA001.
KNOWN_BROKEN = ("lib2to3/tests/data/py2_test_grammar.py",)
# Command-line bytes kept for explicit file arguments (Linux allows about 2 MB in all).
ARG_BUDGET = 512 * 1024


def skip_dirs():
    """DEFAULT_SKIP_DIRS, read from the source so that the two cannot drift apart."""
    with open(os.path.join(REPO, "src", "module", "discover.rs"), encoding="utf-8") as fh:
        text = fh.read()
    m = re.search(r"DEFAULT_SKIP_DIRS: &\[&str\] = &\[(.*?)\];", text, re.S)
    if not m:
        sys.exit("corpus sweep: DEFAULT_SKIP_DIRS not found in src/module/discover.rs")
    return set(re.findall(r'"([^"]+)"', m.group(1)))


def unique_dirs(paths):
    out = []
    for p in paths:
        if p and os.path.isdir(p):
            p = os.path.realpath(p)
            if p not in out:
                out.append(p)
    return out


def corpus_roots():
    """(standard library roots, site-packages roots) of the running Python."""
    paths = sysconfig.get_paths()
    stdlib = unique_dirs([paths.get("stdlib"), paths.get("platstdlib")])
    prefixes = sorted({sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix})
    sites = []
    if hasattr(site, "getsitepackages"):
        sites += site.getsitepackages(prefixes)
    if site.ENABLE_USER_SITE:
        sites.append(site.getusersitepackages())
    sites += [paths.get("purelib"), paths.get("platlib")]
    sites = [p for p in unique_dirs(sites) if p not in stdlib]
    return stdlib, sites


def has_ignore_file(directory):
    if any(os.path.isfile(os.path.join(directory, f)) for f in IGNORE_FILES):
        return True
    exclude = os.path.join(directory, ".git", "info", "exclude")
    try:
        with open(exclude, encoding="utf-8", errors="replace") as fh:
            return any(line.strip() and not line.startswith("#") for line in fh)
    except OSError:
        return False


def ignore_patterns(directory):
    """The non-negated patterns of a directory's ignore files, as (pattern, directories only)."""
    paths = [os.path.join(directory, f) for f in IGNORE_FILES]
    paths.append(os.path.join(directory, ".git", "info", "exclude"))
    out = []
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError:
            continue
        for line in lines:
            line = line.rstrip()
            # Negations only bring files back: leaving them out errs towards explicit arguments.
            if not line or line.startswith(("#", "!")):
                continue
            out.append((line.rstrip("/"), line.endswith("/")))
    return out


def inherited_ignores(root):
    """What ignore files above `root` may hide inside it: (everything, basename patterns).

    A pattern without a slash matches a name at any depth, so it is kept and matched against
    every file and directory name below the root. A pattern with a slash is anchored at its
    file's directory: it can reach below the root only with `**` or with more components than
    the root lies deep (perfaudit's walk never tests the root itself or the directories above
    it); such a pattern, if its leading components match the root's path, may hide anything.
    """
    everything, names = [], []
    d = os.path.dirname(root)
    while True:
        rel = os.path.relpath(root, d).split(os.sep)
        for pattern, dir_only in ignore_patterns(d):
            if "/" not in pattern:
                names.append((pattern, dir_only))
                continue
            parts = pattern.lstrip("/").split("/")
            reaches = "**" in parts or (
                len(parts) > len(rel)
                and all(fnmatch.fnmatchcase(r, p) for r, p in zip(rel, parts))
            )
            if reaches:
                everything.append(os.path.join(d, pattern))
        parent = os.path.dirname(d)
        if parent == d:
            return everything, names
        d = parent


def matches_a_name(names, rel_parts):
    """Whether a basename pattern matches one of the directories or the file of a path."""
    last = len(rel_parts) - 1
    return any(
        fnmatch.fnmatchcase(part, pattern) and (i < last or not dir_only)
        for i, part in enumerate(rel_parts)
        for pattern, dir_only in names
    )


class Plan:
    """What os.walk finds, and the arguments that make perfaudit audit all of it."""

    def __init__(self, roots, keep_out, skip):
        self.corpus = list(roots)
        self.roots = []  # directories passed as arguments, corpus roots first
        self.explicit = []  # files passed as arguments
        self.expected = set()  # every .py file of the corpus
        self.symlinks = []  # symlinked .py files: not followed, not expected
        self.walk_errors = []  # directories os.walk could not list
        self.left_out = []  # (root, the ignore patterns or directories that made it too big)
        self.pruned = {}  # reason -> number of directories left out by default discovery
        queue = list(roots)
        queued = set(roots)
        explicit_bytes = 0
        while queue:
            root = queue.pop(0)
            everything, names = inherited_ignores(root)
            root_files, root_explicit = [], []
            ignored_dirs = [root] if everything else []
            for dirpath, dirnames, filenames in os.walk(root, onerror=self.walk_errors.append):
                if has_ignore_file(dirpath):
                    ignored_dirs.append(dirpath)
                under_ignore = any(
                    dirpath == d or dirpath.startswith(d + os.sep) for d in ignored_dirs
                )
                kept = []
                for name in sorted(dirnames):
                    full = os.path.join(dirpath, name)
                    if os.path.islink(full):
                        continue  # not descended by either walk
                    reason = (
                        "default skip list"
                        if name in skip
                        else "hidden" if name.startswith(".") else None
                    )
                    if reason is None:
                        kept.append(name)
                        continue
                    if full not in queued and full not in keep_out:
                        queued.add(full)
                        queue.append(full)
                        self.pruned[reason] = self.pruned.get(reason, 0) + 1
                dirnames[:] = kept
                for name in sorted(filenames):
                    if not name.endswith(".py"):
                        continue
                    full = os.path.join(dirpath, name)
                    if os.path.islink(full):
                        self.symlinks.append(full)
                        continue
                    if not os.path.isfile(full):
                        continue
                    root_files.append(full)
                    if (
                        under_ignore
                        or name.startswith(".")
                        or name == ".py"
                        or matches_a_name(names, os.path.relpath(full, root).split(os.sep))
                    ):
                        root_explicit.append(full)
            size = sum(len(p) + 1 for p in root_explicit)
            if explicit_bytes + size > ARG_BUDGET:
                self.left_out.append((root, everything + ignored_dirs))
                continue
            explicit_bytes += size
            if root_files or root in roots:
                self.roots.append(root)
            self.explicit += root_explicit
            self.expected.update(root_files)

    def arguments(self):
        return self.roots + self.explicit

    def audit_root(self):
        """The directory perfaudit reports relative paths against (its first argument)."""
        return self.roots[0] if self.roots else REPO


def python_rejects(path):
    """Why the running Python cannot parse a file (None when it can)."""
    try:
        with open(path, "rb") as fh:
            source = fh.read()
    except OSError as e:
        return f"unreadable: {e}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        return f"{type(e).__name__}: {e}"
    return None


def python_rejects_pair(path):
    return path, python_rejects(path)


def run_perfaudit(binary, args, threads):
    cmd = [binary, "audit", *args, "--format", "json", "--isolated", "--no-cache", "--quiet"]
    cmd += ["--threads", str(threads)]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True)
    return proc, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--perfaudit", required=True, help="the perfaudit binary")
    ap.add_argument("--corpus", choices=("stdlib", "all"), default="all")
    ap.add_argument(
        "--threads", default="0", help="comma-separated thread counts; outputs must agree"
    )
    ap.add_argument(
        "--python-parse-all",
        action="store_true",
        help="parse every file with Python too (slow: minutes on a large installation)",
    )
    opts = ap.parse_args()
    threads = [int(t) for t in opts.threads.split(",")]

    stdlib, sites = corpus_roots()
    if not stdlib:
        print("corpus sweep: this Python has no standard library directory", file=sys.stderr)
        return 2
    roots = stdlib + (sites if opts.corpus == "all" else [])
    keep_out = set() if opts.corpus == "all" else set(sites)
    plan = Plan(roots, keep_out, skip_dirs())
    for root, why in plan.left_out:
        print(
            f"corpus sweep: WARNING: {root} left out: too many files it would hide ({why})",
            file=sys.stderr,
        )
    if not plan.roots:
        print("corpus sweep: nothing to audit", file=sys.stderr)
        return 2

    failures = []
    outputs = []
    for t in threads:
        proc, seconds = run_perfaudit(opts.perfaudit, plan.arguments(), t)
        stderr = proc.stderr.decode("utf-8", "replace")
        if proc.returncode < 0:
            failures.append(f"--threads {t}: perfaudit killed by signal {-proc.returncode}")
        elif proc.returncode not in (0, 1):
            failures.append(f"--threads {t}: perfaudit exited {proc.returncode}")
        if "panicked" in stderr:
            failures.append(f"--threads {t}: perfaudit panicked")
        if failures:
            print(stderr[-4000:], file=sys.stderr)
            break
        outputs.append((t, proc.stdout, seconds))
    if not failures:
        ref_threads, ref, _ = outputs[0]
        for t, out, _ in outputs[1:]:
            if out != ref:
                failures.append(f"JSON differs between --threads {ref_threads} and --threads {t}")
        try:
            report = json.loads(ref)
        except ValueError as e:
            failures.append(f"perfaudit's output is not JSON: {e}")
        else:
            failures += check(plan, report, stdlib, opts.python_parse_all, outputs)
    for f in failures:
        print(f"corpus sweep: FAIL: {f}", file=sys.stderr)
    return 1 if failures else 0


def check(plan, report, stdlib, parse_all, outputs):
    failures = []
    base = plan.audit_root()

    def absolute(rel):
        return os.path.normpath(rel if os.path.isabs(rel) else os.path.join(base, rel))

    summary = report["summary"]
    skipped, notes, other = {}, {}, []
    for d in report["diagnostics"]:
        path = absolute(d["path"])
        msg = d["message"]
        if path not in plan.expected:
            other.append(d)  # a walk or configuration problem
        elif msg.startswith(SKIP_PREFIXES):
            if path in skipped:
                failures.append(f"{d['path']} skipped twice")
            skipped[path] = msg
        elif msg.startswith(NOTE_PREFIXES):
            notes[path] = msg
        else:
            failures.append(f"unexpected diagnostic for {d['path']}: {msg}")

    scanned = summary["files_scanned"]
    if scanned + len(skipped) != len(plan.expected):
        failures.append(
            f"{len(plan.expected)} files found by os.walk, but perfaudit scanned {scanned} and "
            f"skipped {len(skipped)}: {len(plan.expected) - scanned - len(skipped)} lost"
        )

    broken = [absolute(f["path"]) for f in report["findings"] if f["code"] == "PA001"]
    if len(set(broken)) != len(broken):
        twice = sorted({p for p in broken if broken.count(p) > 1})
        failures.append(f"PA001 reported more than once for {twice[:10]}")
    if len(broken) != summary["files_unparsable"]:
        failures.append(
            f"{len(broken)} PA001 findings but summary.files_unparsable = "
            f"{summary['files_unparsable']}"
        )
    for p in broken:
        if p not in plan.expected:
            failures.append(f"PA001 for a file outside the corpus: {p}")
        if p in skipped:
            failures.append(f"PA001 for a file that was not analysed: {p}")
    for rel in KNOWN_BROKEN:
        for lib in stdlib:
            p = os.path.join(lib, rel)
            if p in plan.expected and p not in broken:
                failures.append(f"{p} is broken on purpose but has no PA001")

    # Cross-check with the running Python's parser.
    lossy = [p for p, m in notes.items() if any(k in m for k in LOSSY_MARKERS)]
    if parse_all:
        todo = sorted(plan.expected - set(skipped))
        with multiprocessing.Pool() as pool:
            rejected = dict(pool.imap_unordered(python_rejects_pair, todo, chunksize=32))
        rejected = {p: why for p, why in rejected.items() if why}
    else:
        rejected = {p: python_rejects(p) for p in sorted(set(broken) | set(lossy))}
        rejected = {p: why for p, why in rejected.items() if why}
    python = f"Python {sys.version.split()[0]}"
    for p in sorted(set(broken) - set(rejected)):
        failures.append(f"PA001 for {p}, which {python} parses")
    for p in sorted(set(lossy) - set(rejected)):
        failures.append(f"{p} decoded lossily ({notes[p]}), but {python} reads it")
    tolerated = []
    if parse_all:
        for p, why in sorted(rejected.items()):
            if p in broken or p in notes:
                continue
            if any(r in why for r in ENCODING_REFUSALS):
                tolerated.append(p)
            else:
                failures.append(f"Python rejects {p} ({why}), but perfaudit reports no PA001")

    # What the run covered.
    corpus_roots = [r for r in plan.roots if r in plan.corpus]
    extra_roots = [r for r in plan.roots if r not in plan.corpus]
    print(f"corpus sweep: Python {sys.version.split()[0]}, corpus: {', '.join(corpus_roots)}")
    pruned = ", ".join(f"{n} {r}" for r, n in sorted(plan.pruned.items())) or "none"
    print(
        f"corpus sweep: {len(plan.expected)} .py files found by os.walk (directories default "
        f"discovery leaves out: {pruned}; of them passed explicitly, holding .py files: "
        f"{', '.join(extra_roots) or 'none'}; explicit files: {len(plan.explicit)}; "
        f"symlinks not followed: {len(plan.symlinks)}; unlistable directories: "
        f"{len(plan.walk_errors)})"
    )
    print(
        f"corpus sweep: perfaudit scanned {scanned}, skipped {len(skipped)}, "
        f"{summary['lines']} lines, {len(report['findings'])} findings, "
        f"{len(broken)} PA001, {len(notes)} decoding notes, {len(other)} other diagnostics"
    )
    for p, m in sorted(skipped.items()):
        print(f"  skipped {p}: {m}")
    for d in other[:20]:
        print(f"  diagnostic {d['path']}: {d['message']}")
    checked = "every file" if parse_all else "PA001 and lossily decoded files"
    print(
        f"corpus sweep: Python's parser ({checked}) rejects {len(rejected)}; "
        f"{len(tolerated)} only for their encoding declaration"
    )
    for p in tolerated:
        print(f"  tolerated {p}: {rejected[p]}")
    times = ", ".join(f"--threads {t}: {s:.1f} s" for t, _, s in outputs)
    print(f"corpus sweep: perfaudit wall time {times}")
    return failures


if __name__ == "__main__":
    sys.exit(main())
