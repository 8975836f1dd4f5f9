"""Make the README's screenshots from the app as it is: the demo, the first run, Camera setup.

    python docs/screenshots.py            # writes docs/screenshot-*.png

It starts its own X server (Xvfb, 1280x800), runs meteorgui on it with real windows and
an X11 platform (not offscreen), and saves each window's pixels as PNG. Nothing of the
user's is read or written: settings, archives and logs go to a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

DOCS = Path(__file__).resolve().parent
SCREEN = "1280x800x24"
SHOTS = {
    "demo": ["screenshot-main.png"],
    "first-run": ["screenshot-first-run.png", "screenshot-camera-setup.png"],
}


# --------------------------------------------------------------------------- outside X


def _free_display() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise SystemExit("screenshots: no free X display number between :90 and :199")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCS, help="folder for the PNG files")
    parser.add_argument("--shot", choices=sorted(SHOTS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.shot:
        return _take(args.shot, args.out)
    if shutil.which("Xvfb") is None:
        raise SystemExit("screenshots: Xvfb is needed (Debian package xvfb)")
    display = _free_display()
    xvfb = subprocess.Popen(
        ["Xvfb", f":{display}", "-screen", "0", SCREEN, "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while not Path(f"/tmp/.X11-unix/X{display}").exists():
            if xvfb.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("screenshots: Xvfb did not start")
            time.sleep(0.1)
        for shot in SHOTS:
            with tempfile.TemporaryDirectory(prefix="meteorgui-shots-") as home:
                env = os.environ | {
                    "DISPLAY": f":{display}",
                    "QT_QPA_PLATFORM": "xcb",
                    "METEORGUI_CONFIG_DIR": str(Path(home) / "config"),
                    "METEORGUI_DATA_DIR": str(Path(home) / "data"),
                    "METEORGUI_KEYRING": "file",
                    "TMPDIR": home,
                }
                code = subprocess.call(
                    [sys.executable, __file__, "--shot", shot, "--out", str(args.out)], env=env
                )
                if code != 0:
                    print(f"screenshots: {shot} failed ({code})", file=sys.stderr)
                    return code
        for names in SHOTS.values():
            for name in names:
                print(args.out / name)
        return 0
    finally:
        xvfb.terminate()
        xvfb.wait(10)


# --------------------------------------------------------------------------- inside X

Step = Callable[[], bool]


def _drive(steps: Iterator[Step | None], timeout_s: float = 90) -> None:
    """Advance a script of steps on the GUI thread: each yielded condition is polled until
    true (the app keeps running meanwhile); a None just lets the events settle once."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout_s
    state: dict = {"wait": None}
    timer = QTimer(interval=100)

    def tick() -> None:
        try:
            if time.monotonic() > deadline:
                raise TimeoutError("the app did not get there in time")
            wait = state["wait"]
            if wait is not None and not wait():
                return
            state["wait"] = next(steps)
        except StopIteration:
            timer.stop()
        except Exception as exc:  # stop the app and say why, rather than hang
            timer.stop()
            print(f"screenshots: {exc!r}", file=sys.stderr)
            for w in QApplication.topLevelWidgets():
                w.close()
            QApplication.instance().exit(3)

    timer.timeout.connect(tick)
    timer.start()
    state["timer"] = timer  # kept alive for as long as the app runs


def _save(widget, path: Path) -> None:
    """The widget's own pixels, with whatever children it shows (menus are not)."""
    if not widget.grab().save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")


def _top(kind):
    from PySide6.QtWidgets import QApplication

    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, kind)), None)


def _demo_steps(out: Path) -> Iterator[Step | None]:
    from meteorgui.gui.main_window import MainWindow

    yield lambda: _top(MainWindow) is not None
    window = _top(MainWindow)
    window.resize(1280, 760)
    yield lambda: window.ctx.archive.count("events") >= 14
    browser = window.browser
    yield lambda: browser.selected_event_ids() != [] or _select_first(browser)
    yield lambda: getattr(window.detail, "info", None) is not None
    settled = time.monotonic() + 3  # thumbnails and the still decode on workers
    yield lambda: time.monotonic() > settled
    _save(window, out / SHOTS["demo"][0])
    window.close()


def _select_first(browser) -> bool:
    view = browser.active_view()
    if view.model() is None or view.model().rowCount() == 0:
        return False
    view.setCurrentIndex(view.model().index(0, 0))
    view.setFocus()
    return False  # checked again at the next tick


def _first_run_steps(out: Path) -> Iterator[Step | None]:
    from meteorgui.gui.setup.camera import CameraSetupDialog
    from meteorgui.gui.setup.first_run import FirstRunWizard

    yield lambda: _top(FirstRunWizard) is not None
    wizard = _top(FirstRunWizard)
    wizard.next()  # the archive folder (a temporary one)
    from meteorgui.importer.addresses import next_free_port

    # 8080 as a user would have it, unless another program has it where this runs.
    wizard.port_page.port.setValue(next_free_port("0.0.0.0", 8080) or 8080)
    wizard.next()
    yield lambda: wizard.currentPage() is wizard.login_page
    wizard.login_page.login.create_button.click()
    yield lambda: wizard.login_page.isComplete()
    wizard.next()
    yield None
    _save(wizard, out / SHOTS["first-run"][0])
    wizard.next()
    wizard.test_page.button.click()
    yield lambda: "arrived:" in wizard.test_page.progress.text()
    wizard.accept()
    window = wizard.window
    window.act_help_camera.trigger()
    yield lambda: window.findChild(CameraSetupDialog) is not None
    dialog = window.findChild(CameraSetupDialog)
    dialog.create_button.click()
    yield lambda: dialog.password_field.text() != ""
    yield None
    _save(dialog, out / SHOTS["first-run"][1])
    dialog.close()
    window.close()


def _take(shot: str, out: Path) -> int:
    from meteorgui.gui.startup import run_gui

    steps = _demo_steps(out) if shot == "demo" else _first_run_steps(out)
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication(sys.argv[:1])
    _drive(steps)
    return run_gui(argparse.Namespace(demo=shot == "demo", data_dir=None, verbose=False))


if __name__ == "__main__":
    sys.exit(main())
