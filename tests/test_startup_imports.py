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


# Built by MainWindow.finish_start(), once the first page of events is on screen.
AFTER_FIRST_PAGE = (
    "meteorgui.gui.detail.widget",
    "meteorgui.gui.detail.viewer",
    "meteorgui.gui.detail.skyview",
    "meteorgui.gui.monitor.dock",
    "meteorgui.gui.monitor.health",
    "meteorgui.gui.monitor.importlog",
    "meteorgui.gui.tools.notifications",
)


def test_the_first_page_leaves_the_detail_pane_monitor_and_log_for_later(tmp_path):
    """What the window shows first needs the event browser alone: the detail pane's
    place holds its "No event selected" page and the docks are there, empty, until
    finish_start() builds them."""
    loaded = loaded_after(
        f"""
        import logging, sys
        from pathlib import Path
        from PySide6.QtWidgets import QApplication, QDockWidget
        app = QApplication([])
        from meteorgui.gui.startup import after_first_page, build, close
        from meteorgui.logs import setup_logging
        from meteorgui.settings import Settings
        data = Path({str(tmp_path / "data")!r})
        setup_logging(data, announce_now=False)
        settings = Settings(host="127.0.0.1", port=0, importer_autostart=False)
        ctx, window = build(data, settings, defer=True)
        window.show()
        app.processEvents()
        early = sorted(m for m in {AFTER_FIRST_PAGE!r} if m in sys.modules)
        assert not early, early
        assert window.detail is None and window.monitor is None and window.log_view is None
        docks = {{d.objectName(): d for d in window.findChildren(QDockWidget)}}
        assert sorted(docks) == ["dock-export", "dock-log", "dock-monitor"], sorted(docks)
        assert all(d.widget() is None for d in docks.values())
        logging.getLogger("meteorgui.test").warning("logged before the Log dock")
        window.finish_start()
        after_first_page()
        assert window.splitter.widget(1) is window.detail
        assert docks["dock-monitor"].widget() is window.monitor
        assert docks["dock-log"].widget() is window.log_view
        assert docks["dock-export"].widget() is window.export_ui.view
        assert len(window.findChildren(QDockWidget)) == 3  # the same docks, filled
        assert "logged before the Log dock" in window.log_view.text.toPlainText()
        window.close()
        close(ctx)
        """
    )
    assert set(AFTER_FIRST_PAGE) <= loaded


def test_the_collector_waits_for_the_first_page(tmp_path):
    """The cyclic collector would run about a hundred times while the window's modules
    load and it is built: off until the first page is shown, then on."""
    from meteorgui.settings import Settings

    config = tmp_path / "config"
    Settings(host="127.0.0.1", port=0, importer_autostart=False).save(config / "settings.yaml")
    loaded_after(
        f"""
        import gc
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from meteorgui.gui import main_window, startup
        seen = {{}}
        build = startup.build
        def watched_build(*args, **kw):
            seen["building"] = gc.isenabled()
            return build(*args, **kw)
        startup.build = watched_build
        finish = main_window.MainWindow.finish_start
        def watched_finish(self):
            seen.setdefault("first page", gc.isenabled())
            finish(self)
            QTimer.singleShot(0, self.close)
        main_window.MainWindow.finish_start = watched_finish
        from meteorgui.cli import main
        code = main(["--data-dir", {str(tmp_path / "data")!r}])
        assert code == 0, code
        assert seen == {{"building": False, "first page": False}}, seen
        assert gc.isenabled()
        """,
        env={"METEORGUI_CONFIG_DIR": str(config)},
    )
