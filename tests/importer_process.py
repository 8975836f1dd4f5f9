"""The importer in a process of its own, for tests that measure it or kill it.

Run as ``python -m tests.importer_process DATA_DIR [USER PASSWORD]``: opens the
archive, adds the user (with the import role) if given, listens on 127.0.0.1:0,
prints ``port <n>`` and serves until its standard input closes or it is killed.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> None:
    from meteorgui.archive import Archive, passwords
    from meteorgui.importer import ImporterServer

    passwords.ITERATIONS = 1000  # as in conftest: the code path, not the cost
    archive = Archive(argv[0])
    if len(argv) >= 3 and archive.users.get(argv[1]) is None:
        archive.users.add(argv[1], argv[2], roles=["import"])
    server = ImporterServer(archive, "127.0.0.1", 0)
    server.start()
    print(f"port {server.port}", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    server.stop()
    server.importer.close()
    archive.close()


@contextlib.contextmanager
def running(data_dir, user: str | None = None, password: str | None = None):
    """Yield (process, base URL of the import route); stop it (or reap it) after."""
    args = [str(data_dir)] + ([user, password] if user else [])
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.importer_process", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("port "), f"the importer did not start: {line!r}"
        yield proc, f"http://127.0.0.1:{int(line.split()[1])}/import"
    finally:
        if proc.poll() is None:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()


if __name__ == "__main__":
    main(sys.argv[1:])
