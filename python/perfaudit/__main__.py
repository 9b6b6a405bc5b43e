"""Run the ``perfaudit`` binary installed with this package (``python -m perfaudit ...``)."""

import os
import sys
import sysconfig


def _candidates():
    exe = "perfaudit" + (sysconfig.get_config_var("EXE") or "")
    # The wheel installs the binary into the scripts directory of whichever scheme pip used:
    # the environment's own, or the user scheme for `pip install --user`.
    schemes = [None]
    user = f"{os.name}_user"
    if user in sysconfig.get_scheme_names():
        schemes.append(user)
    for scheme in schemes:
        scripts = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        if scripts:
            yield os.path.join(scripts, exe)
    yield os.path.join(os.path.dirname(sys.executable), exe)


def find_binary():
    for path in _candidates():
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError("the perfaudit binary is not installed next to this Python")


def main():
    binary = find_binary()
    args = [binary, *sys.argv[1:]]
    if os.name == "nt":
        import subprocess

        sys.exit(subprocess.call(args))
    os.execv(binary, args)


if __name__ == "__main__":
    main()
