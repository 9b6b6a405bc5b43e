"""Third-party SDK calls that block inside (the dependencies issue's known blockers): Pillow
opening, resizing and saving an image, and GitPython opening a repository and pulling from a
remote (a local bare repository: the floor, with no network). Needs `pillow` and `gitpython`
(requirements-full.txt); skipped with a note when either is missing."""

import subprocess
import tempfile
from pathlib import Path

from _common import summary, time_calls, write_results


def main() -> None:
    try:
        import git
        from PIL import Image
    except ImportError as e:
        write_results(__file__, [], skipped=f"needs pillow and gitpython: {e}")
        return
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent) as tmp:
        base = Path(tmp)
        photo = base / "photo.jpg"
        Image.effect_noise((1920, 1080), 64).convert("RGB").save(photo, quality=90)

        def open_load():
            with Image.open(photo) as im:
                im.load()

        img = Image.open(photo)
        img.load()
        out = base / "out.jpg"

        def thumbnail():
            im = img.copy()
            im.thumbnail((256, 256))

        rows = [
            summary("PIL.Image.open + load (1920x1080 JPEG)", time_calls(open_load, 40)),
            summary("PIL.Image.Image.resize (1920x1080 -> 640x360)", time_calls(lambda: img.resize((640, 360)), 40)),
            summary("PIL.Image.Image.thumbnail (to 256 px)", time_calls(thumbnail, 40)),
            summary("PIL.Image.Image.save (1920x1080 JPEG)", time_calls(lambda: img.save(out, quality=90), 40)),
        ]
        # A bare "remote" and a clone of it, both local: a pull is git processes and disk only.
        remote = base / "remote.git"
        work = base / "work"
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
        seed = base / "seed"
        subprocess.run(["git", "init", "-q", str(seed)], check=True)
        (seed / "a.txt").write_text("a\n")
        env = ["-c", "user.name=c", "-c", "user.email=c@c"]
        subprocess.run(["git", *env, "-C", str(seed), "add", "."], check=True)
        subprocess.run(["git", *env, "-C", str(seed), "commit", "-qm", "a"], check=True)
        subprocess.run(["git", "-C", str(seed), "push", "-q", str(remote), "HEAD:refs/heads/main"], check=True)
        subprocess.run(["git", "clone", "-q", "-b", "main", str(remote), str(work)], check=True)
        rows += [
            summary("git.Repo(path) (open a working tree)", time_calls(lambda: git.Repo(work), 40)),
            summary("git.Remote.pull (local bare remote, up to date)", time_calls(lambda: git.Repo(work).remotes.origin.pull(), 15)),
        ]
    write_results(__file__, rows, versions={"pillow": Image.__version__, "gitpython": git.__version__})


if __name__ == "__main__":
    main()
