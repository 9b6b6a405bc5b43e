"""File I/O and directory walking on the repository's file system.

Small-file operations (open+read / write of a 4 KB file, with and without
fsync, os.open/os.read, pathlib read_text / write_text, rename, replace,
remove, tempfile creation, shutil.copyfile / copy of 1 MB), tree operations
on a generated tree of 1,000 files in 50 directories (os.walk, glob.glob
recursive, Path.rglob, shutil.copytree / rmtree of a 100-file tree),
listing a flat directory of 1,000 entries (os.listdir, os.scandir,
Path.iterdir, Path.glob, glob.glob), pickle.load of a ~2.5 MB object, and
sequential read throughput of a 256 MB file from the page cache (warm) and
after evicting it with posix_fadvise(DONTNEED) (cold), which is the basis
for the model-load estimates in the catalog.
"""

import glob
import os
import pickle
import shutil
import tempfile
from pathlib import Path

from _common import scratch_dir, summary, time_calls, write_results

N = 200
TREE_DIRS = 50
TREE_FILES_PER_DIR = 20
FLAT_FILES = 1000
BIG_MB = 256


def make_tree(root: Path, dirs: int, per_dir: int) -> None:
    for d in range(dirs):
        sub = root / f"pkg{d // 10}" / f"mod{d}"
        sub.mkdir(parents=True, exist_ok=True)
        for f in range(per_dir):
            (sub / f"file{f}.txt").write_bytes(b"x" * 256)


def main() -> None:
    rows = []
    extra_notes = []
    with scratch_dir() as tmp:
        tmp = Path(tmp)
        small = tmp / "small.txt"
        small.write_bytes(os.urandom(2048).hex().encode())  # 4 KB of text
        data4k = small.read_bytes()
        one_mb = tmp / "one_mb.bin"
        one_mb.write_bytes(os.urandom(1 << 20))

        def open_read():
            with open(small, "rb") as fh:
                fh.read()

        rows.append(summary("open + read 4 KB file", time_calls(open_read, N, batch=10)))
        rows.append(summary("pathlib.Path.read_text 4 KB",
                            time_calls(small.read_text, N, batch=10)))
        rows.append(summary("pathlib.Path.read_bytes 1 MB (page cache)",
                            time_calls(one_mb.read_bytes, N)))

        def os_open_read():
            fd = os.open(small, os.O_RDONLY)
            os.read(fd, 8192)
            os.close(fd)

        rows.append(summary("os.open + os.read + os.close 4 KB",
                            time_calls(os_open_read, N, batch=10)))

        out = tmp / "out.txt"

        def open_write():
            with open(out, "wb") as fh:
                fh.write(data4k)

        rows.append(summary("open + write 4 KB (no fsync)", time_calls(open_write, N, batch=5)))
        rows.append(summary("pathlib.Path.write_text 4 KB",
                            time_calls(lambda: out.write_text("y" * 4096), N, batch=5)))

        def open_write_fsync():
            with open(out, "wb") as fh:
                fh.write(data4k)
                fh.flush()
                os.fsync(fh.fileno())

        rows.append(summary("open + write 4 KB + fsync", time_calls(open_write_fsync, N)))

        def append_line():
            with open(out, "a") as fh:
                fh.write("2024-05-14 INFO order placed id=123\n")

        rows.append(summary("open(append) + write one log line", time_calls(append_line, N, batch=5)))

        a, b = tmp / "a.txt", tmp / "b.txt"
        a.write_bytes(data4k)

        def rename_pair():
            os.rename(a, b)
            os.rename(b, a)

        rows.append(summary("os.rename (one call)",
                            [x / 2 for x in time_calls(rename_pair, N, batch=5)]))
        rows.append(summary("os.replace (one call)",
                            [x / 2 for x in time_calls(lambda: (os.replace(a, b), os.replace(b, a)),
                                                       N, batch=5)]))

        victim = tmp / "victim.txt"
        rows.append(summary("os.remove (4 KB file)",
                            time_calls(lambda: os.remove(victim), N,
                                       setup=lambda: victim.write_bytes(data4k))))

        rows.append(summary("shutil.copyfile 1 MB",
                            time_calls(lambda: shutil.copyfile(one_mb, tmp / "copy.bin"), N)))
        rows.append(summary("shutil.copy 1 MB (with mode bits)",
                            time_calls(lambda: shutil.copy(one_mb, tmp / "copy2.bin"), N)))
        mv_src, mv_dst = tmp / "mv_src.bin", tmp / "mv_dst.bin"
        mv_src.write_bytes(data4k)
        rows.append(summary("shutil.move same file system (one call)",
                            [x / 2 for x in time_calls(
                                lambda: (shutil.move(mv_src, mv_dst), shutil.move(mv_dst, mv_src)),
                                N)]))

        def ntf():
            with tempfile.NamedTemporaryFile(dir=tmp) as fh:
                fh.write(b"x")

        rows.append(summary("tempfile.NamedTemporaryFile create + delete", time_calls(ntf, N)))

        def mkdtemp_rm():
            os.rmdir(tempfile.mkdtemp(dir=tmp))

        rows.append(summary("tempfile.mkdtemp + rmdir", time_calls(mkdtemp_rm, N)))

        tree = tmp / "tree"
        make_tree(tree, TREE_DIRS, TREE_FILES_PER_DIR)
        nfiles = TREE_DIRS * TREE_FILES_PER_DIR

        def walk():
            for _root, _dirs, _files in os.walk(tree):
                pass

        rows.append(summary(f"os.walk ({nfiles} files, {TREE_DIRS} dirs)", time_calls(walk, 50)))
        rows.append(summary(f"glob.glob('**/*.txt', recursive) ({nfiles} files)",
                            time_calls(lambda: glob.glob(str(tree / "**" / "*.txt"),
                                                         recursive=True), 50)))
        rows.append(summary(f"pathlib.Path.rglob('*.txt') ({nfiles} files)",
                            time_calls(lambda: list(tree.rglob("*.txt")), 50)))

        small_tree = tmp / "small_tree"
        make_tree(small_tree, 5, 20)
        dst = tmp / "tree_copy"

        def copytree():
            shutil.copytree(small_tree, dst)

        rows.append(summary("shutil.copytree (100 files, 5 dirs)",
                            time_calls(copytree, 30,
                                       setup=lambda: shutil.rmtree(dst, ignore_errors=True))))
        rows.append(summary("shutil.rmtree (100 files, 5 dirs)",
                            time_calls(lambda: shutil.rmtree(dst), 30,
                                       setup=lambda: (shutil.rmtree(dst, ignore_errors=True),
                                                      shutil.copytree(small_tree, dst)))))

        flat = tmp / "flat"
        flat.mkdir()
        for i in range(FLAT_FILES):
            (flat / f"f{i:04d}.json").write_bytes(b"{}")
        rows.append(summary(f"os.listdir ({FLAT_FILES} entries)",
                            time_calls(lambda: os.listdir(flat), N)))

        def scandir():
            with os.scandir(flat) as it:
                for entry in it:
                    entry.is_file()

        rows.append(summary(f"os.scandir + is_file ({FLAT_FILES} entries)",
                            time_calls(scandir, N)))
        rows.append(summary(f"pathlib.Path.iterdir ({FLAT_FILES} entries)",
                            time_calls(lambda: list(flat.iterdir()), N)))
        rows.append(summary(f"pathlib.Path.glob('*.json') ({FLAT_FILES} entries)",
                            time_calls(lambda: list(flat.glob("*.json")), N)))
        rows.append(summary(f"glob.glob('*.json') ({FLAT_FILES} entries)",
                            time_calls(lambda: glob.glob(str(flat / "*.json")), N)))

        pk = tmp / "obj.pkl"
        obj = {"ids": list(range(200_000)),
               "names": [f"name-{i}" for i in range(50_000)],
               "scores": [i * 0.5 for i in range(100_000)]}
        with open(pk, "wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        size_mb = pk.stat().st_size / 1e6

        def pload():
            with open(pk, "rb") as fh:
                pickle.load(fh)

        rows.append(summary(f"pickle.load ({size_mb:.1f} MB file)", time_calls(pload, 30)))

        big = tmp / "big.bin"
        chunk = os.urandom(1 << 20)
        with open(big, "wb") as fh:
            for _ in range(BIG_MB):
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())

        def read_all():
            with open(big, "rb", buffering=0) as fh:
                while fh.read(8 << 20):
                    pass

        def evict():
            fd = os.open(big, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)

        warm = time_calls(read_all, 7, warmup=1)
        rows.append(summary(f"sequential read {BIG_MB} MB (page cache, warm)", warm,
                            mb_per_s=round(BIG_MB / (sorted(warm)[len(warm) // 2] / 1000), 1)))
        if hasattr(os, "posix_fadvise"):
            cold = time_calls(read_all, 5, warmup=0, setup=evict)
            rows.append(summary(f"sequential read {BIG_MB} MB (evicted, cold)", cold,
                                mb_per_s=round(BIG_MB / (sorted(cold)[len(cold) // 2] / 1000), 1)))
        else:
            extra_notes.append("posix_fadvise unavailable: cold read skipped")

    write_results(__file__, rows,
                  notes="scratch directory on the repository's file system; " + "; ".join(extra_notes))


if __name__ == "__main__":
    main()
