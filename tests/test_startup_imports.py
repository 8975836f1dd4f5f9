"""What starting pays for: `meteorgui --help` and the window import only what they use.

Import time is most of start-up (python -X importtime): Flask, waitress, requests,
sqlite-utils and the simulator cost about a tenth of a second each. These tests
check which modules a fresh interpreter has loaded, not how long it took
(benchmarks/gui.py measures the time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

HEAVY = (
    "flask",
    "werkzeug",
    "waitress",
    "requests",
    "urllib3",
    "sqlite_utils",
    "av",
    "meteorgui.simulate",
    "meteorgui.importer.app",
    "meteorgui.importer.server",
)


def loaded_after(code: str, env: dict | None = None) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    report = "\nimport sys\nloaded = sorted(sys.modules)\nimport json\nprint(json.dumps(loaded))\n"
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code) + report],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_help_imports_nothing_it_does_not_print():
    loaded = loaded_after(
        """
        import contextlib, io
        from meteorgui.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                main(["--help"])
            except SystemExit as exc:
                assert exc.code == 0
        assert "simulate" in out.getvalue()
        """
    )
    unwanted = {*HEAVY, "sqlite3", "json.decoder", "meteorgui.model", "meteorgui.archive"}
    assert not unwanted & loaded, sorted(unwanted & loaded)
    assert not any(m.startswith("PySide6") for m in loaded)
