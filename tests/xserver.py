"""A real X server for the GUI tests: Xvfb, started once per test run.

Offscreen Qt hides what users meet on a desktop (platform shortcuts such as the standard
Quit key, focus, window-manager geometry), so the tests run on X11 through Qt's xcb plugin.
Only where no X server can start do they fall back to offscreen, and say so.
"""

from __future__ import annotations

import os
import shutil
import subprocess

SCREEN = "1280x720x24"  # the smallest screen the window must fit


class XServer:
    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.display: str | None = None
        self.note = ""

    def start(self) -> bool:
        """Start Xvfb on a free display; True if it runs. ``note`` says what happened."""
        xvfb = shutil.which("Xvfb")
        if xvfb is None:
            self.note = "no Xvfb on this machine (Debian package xvfb)"
            return False
        read, write = os.pipe()
        try:
            # -displayfd: Xvfb picks a free display itself and writes its number when ready.
            self.proc = subprocess.Popen(
                [xvfb, "-displayfd", str(write), "-screen", "0", SCREEN, "-nolisten", "tcp"],
                pass_fds=(write,),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl+C in the terminal reaches pytest, not Xvfb
            )
        except OSError as exc:
            os.close(read)
            os.close(write)
            self.note = f"Xvfb could not start: {exc}"
            return False
        os.close(write)
        number = b""
        with os.fdopen(read, "rb") as r:
            while not number.endswith(b"\n"):
                chunk = r.read(1)
                if not chunk:
                    break
                number += chunk
        if not number.strip().isdigit():
            self.stop()
            self.note = "Xvfb started but gave no display number"
            return False
        self.display = f":{number.strip().decode()}"
        self.note = f"Xvfb on display {self.display} ({SCREEN})"
        return True

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def xcb_usable(display: str) -> tuple[bool, str]:
    """Whether Qt's xcb plugin loads on this display (it needs libxcb-cursor0 and friends).

    Asked in a child process: a Qt that cannot load its platform aborts the process.
    """
    import sys

    env = os.environ | {"DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    code = "from PySide6.QtWidgets import QApplication; QApplication([]); print('ok')"
    try:
        p = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        return False, "Qt's xcb plugin did not start within 60 s"
    if p.returncode == 0 and "ok" in p.stdout:
        return True, ""
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    return False, "Qt's xcb plugin cannot load: " + (lines[-1] if lines else f"exit {p.returncode}")
