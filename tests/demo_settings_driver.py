"""Run as a program: starts `meteorgui --demo` in this process, saves Settings and an export
target's password from inside it as a user would, quits, and writes what it saw as JSON.

A separate process because the app's event loop runs and quits (the test's cannot).
"""

import argparse
import json
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def main(out: Path) -> int:
    from meteorgui.gui.main_window import MainWindow
    from meteorgui.gui.setup.settings import SettingsDialog
    from meteorgui.gui.startup import run_gui
    from meteorgui.settings import Settings

    seen: dict = {}

    def ready():
        """The window started the rest (importer, exporter) after its first page."""
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        ctx = windows[0].ctx if windows else None
        if ctx is None or not ctx.core.importer_running or ctx.export is None:
            QTimer.singleShot(100, ready)
            return
        drive(windows[0], ctx)

    def drive(window, ctx):
        try:
            seen["host"] = ctx.core.server.host
            demo_dir = Path(ctx.archive.data_dir)
            seen["demo_dir"] = str(demo_dir)
            window.show_settings()
            dlg = window.findChild(SettingsDialog)
            dlg.silence.setValue(77)
            dlg.save()  # Settings → Save
            seen["settings_path"] = str(Settings.path())
            seen["saved"] = Settings.load().silence_warning_minutes
            exporter = ctx.core.exporter
            target = exporter.targets.add(
                "central", "http://127.0.0.1:9/import", "me", "a-secret-password"
            )
            seen["secret_store"] = exporter.targets.secrets.description
            seen["password"] = exporter.targets.secrets.get(target.secret_key)
            seen["files_in_demo"] = sorted(
                str(p.relative_to(demo_dir)) for p in demo_dir.rglob("*") if p.is_file()
            )
        finally:
            window.close()

    QApplication.instance() or QApplication(sys.argv[:1])
    QTimer.singleShot(100, ready)
    seen["exit"] = run_gui(argparse.Namespace(demo=True, data_dir=None, verbose=False))
    out.write_text(json.dumps(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
