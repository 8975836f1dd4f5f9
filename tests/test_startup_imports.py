"""What starting pays for: `meteorgui --help` and the window import only what they use.

Import time is most of start-up (python -X importtime): Flask, waitress, requests,
sqlite-utils and the simulator cost about a tenth of a second each. These tests
check which modules a fresh interpreter has loaded, not how long it took
(benchmarks/gui.py measures the time).
"""

from __future__ import annotations

import importlib.metadata
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
    "PySide6.QtMultimedia",
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
    unwanted = {
        *HEAVY,
        "sqlite3",
        "json.decoder",
        "meteorgui.model",
        "meteorgui.archive",
        "meteorgui.formatting",
        "importlib.metadata",  # the version is looked up for --version only
    }
    assert not unwanted & loaded, sorted(unwanted & loaded)
    assert not any(m.startswith("PySide6") for m in loaded)


def test_the_window_imports_the_importer_and_exporter_only_when_it_starts_them(tmp_path):
    loaded = loaded_after(
        f"""
        import sys
        from pathlib import Path
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from meteorgui.gui.startup import build, close
        from meteorgui.settings import Settings
        from meteorgui.logs import announce, setup_logging
        settings = Settings(host="127.0.0.1", port=0, importer_autostart=False)
        setup_logging(Path({str(tmp_path / "data")!r}), announce_now=False)
        ctx, window = build(Path({str(tmp_path / "data")!r}), settings, defer=True)
        window.show()
        app.processEvents()
        before = {{m for m in {HEAVY!r} if m in sys.modules}}
        assert not before, sorted(before)
        assert "importlib.metadata" not in sys.modules  # the version line comes later
        announce()
        assert window.export_ui is None
        window.finish_start()  # the exporter's menu and dock, with requests
        assert window.export_ui is not None and "requests" in sys.modules
        assert window.detail.video.player is None  # Qt's media backend: with the first clip
        assert window.detail.video.can_play
        assert "flask" not in sys.modules
        assert window.start_importer()  # the importer's HTTP side arrives with it
        assert "flask" in sys.modules and "waitress" in sys.modules
        window.close()
        close(ctx)
        """
    )
    assert "flask" in loaded


def test_the_app_starts_its_importer_after_showing_the_archive(tmp_path):
    """The real process: the window first, then the importer listens (autostart) and
    the Export menu is there; SIGTERM quits cleanly."""
    import signal
    import socket

    import requests

    from meteorgui.settings import Settings

    from .factories import wait_for

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "config"
    Settings(host="127.0.0.1", port=port, importer_autostart=True).save(config / "settings.yaml")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "METEORGUI_CONFIG_DIR": str(config)}
    cmd = [sys.executable, "-m", "meteorgui", "--data-dir", str(tmp_path / "data")]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:

        def listening() -> bool:
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            try:
                return requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code < 500
            except requests.ConnectionError:
                return False

        wait_for(listening, timeout=60, what="the importer never listened")
        # The version line, written once the archive was shown.
        log = (tmp_path / "data" / "logs" / "meteorgui.log").read_text()
        assert f"meteorgui {importlib.metadata.version('meteorgui')} starting" in log
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_the_main_window_module_leaves_numpy_to_the_first_stretch():
    """numpy takes about a tenth of a second to import: the detail pane's stretch loads
    it when a picture is first stretched, not when the window's modules are imported."""
    loaded = loaded_after(
        """
        import meteorgui.gui.main_window
        from meteorgui.gui.detail.stretch import Stretch
        assert Stretch(gamma=2.0).lut()[64] > 64  # works, and loads numpy then
        import sys
        assert "numpy" in sys.modules
        """
    )
    assert "numpy" in loaded
    bare = loaded_after("import meteorgui.gui.main_window")
    assert "numpy" not in bare, "the window's modules import numpy"
