"""CPU-bound hashing that often sits on a request path.

hashlib.pbkdf2_hmac('sha256') at 600,000 iterations (the OWASP Password
Storage Cheat Sheet figure for PBKDF2-HMAC-SHA256), bcrypt.hashpw at cost
12 (when the bcrypt package is installed), and hashlib.sha256 of 1 MB.
"""

import hashlib
import os

from _common import summary, time_calls, version_of, write_results


def main() -> None:
    rows = []
    salt = os.urandom(16)
    rows.append(summary("hashlib.pbkdf2_hmac sha256, 600k iterations",
                        time_calls(lambda: hashlib.pbkdf2_hmac("sha256", b"hunter2", salt, 600_000),
                                   10, warmup=1)))
    blob = os.urandom(1 << 20)
    rows.append(summary("hashlib.sha256 of 1 MB",
                        time_calls(lambda: hashlib.sha256(blob).digest(), 100)))
    notes = ""
    try:
        import bcrypt
        s = bcrypt.gensalt(rounds=12)
        rows.append(summary("bcrypt.hashpw cost 12",
                            time_calls(lambda: bcrypt.hashpw(b"hunter2", s), 10, warmup=1)))
    except ImportError:
        notes = "bcrypt not installed"
    write_results(__file__, rows, notes=notes, versions={"bcrypt": version_of("bcrypt")})


if __name__ == "__main__":
    main()
