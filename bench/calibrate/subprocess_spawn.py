"""Cost of starting a child process.

subprocess.run(["true"]), subprocess.run with shell=True,
subprocess.check_output(["echo", ...]), subprocess.Popen + wait,
os.system, os.popen, subprocess.getoutput, and subprocess.run of a Python
child (`python -c pass`, which adds interpreter start-up).
"""

import os
import shutil
import subprocess
import sys

from _common import summary, time_calls, write_results

N = 100


def main() -> None:
    true_bin = shutil.which("true") or "/bin/true"
    echo_bin = shutil.which("echo") or "/bin/echo"
    rows = []
    rows.append(summary("subprocess.run([true])",
                        time_calls(lambda: subprocess.run([true_bin]), N)))
    rows.append(summary("subprocess.run('true', shell=True)",
                        time_calls(lambda: subprocess.run("true", shell=True), N)))
    rows.append(summary("subprocess.check_output([echo, hello])",
                        time_calls(lambda: subprocess.check_output([echo_bin, "hello"]), N)))
    rows.append(summary("subprocess.Popen([true]).wait()",
                        time_calls(lambda: subprocess.Popen([true_bin]).wait(), N)))
    rows.append(summary("os.system('true')", time_calls(lambda: os.system("true"), N)))

    def popen_read():
        with os.popen("echo hello") as fh:
            fh.read()

    rows.append(summary("os.popen('echo hello').read()", time_calls(popen_read, N)))
    rows.append(summary("subprocess.getoutput('echo hello')",
                        time_calls(lambda: subprocess.getoutput("echo hello"), N)))
    rows.append(summary("subprocess.run([python, -c, pass])",
                        time_calls(lambda: subprocess.run([sys.executable, "-c", "pass"]), 30)))
    write_results(__file__, rows)


if __name__ == "__main__":
    main()
