"""The window's layout, remembered between runs and per screen size.

Dock positions and visibility, splitter sizes, grid or table, sort order, window geometry
and the review layout go in an INI file (QSettings) beside the settings, one group per
screen size: a laptop's layout is not forced onto an external monitor. In the demo the file
lives in the demo's own folder, which goes when it quits.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

log = logging.getLogger(__name__)

FILE_NAME = "layout.ini"
VERSION = 1  # QMainWindow.saveState's version: a new dock makes old states void


def screen_key(window: QMainWindow) -> str:
    screen = window.screen()
    if screen is None:
        return "screen-unknown"
    g = screen.geometry()
    return f"screen-{g.width()}x{g.height()}"


class WindowLayout:
    """Captures, saves, restores and resets a MainWindow's layout.

    The window provides: ``splitters()`` -> {name: QSplitter}, ``browser`` (set_view, view,
    filters), ``review_layout`` (bool) and ``set_review_layout(bool)``, ``default_size()``.
    """

    def __init__(self, window, path: Path):
        self.window = window
        self.path = path
        self.defaults = self.capture()  # as built: what View ▸ Reset layout goes back to

    def _qsettings(self) -> QSettings:
        return QSettings(str(self.path), QSettings.Format.IniFormat)

    def capture(self) -> dict:
        """The layout now, without the review layout (its own arrangement is not saved)."""
        w = self.window
        if w.review_layout and w.normal_layout is not None:
            return dict(w.normal_layout)
        q = w.browser.filters.query()
        return {
            "state": w.saveState(VERSION),
            "splitters": {n: s.saveState() for n, s in w.splitters().items()},
            "view": w.browser.view(),
            "sort": q.sort if q is not None else w.browser.filters.sort.currentData(),
            "descending": w.browser.filters.order.isChecked(),
        }

    def apply(self, layout: dict) -> None:
        w = self.window
        w.restoreState(layout["state"], VERSION)
        for name, splitter in w.splitters().items():
            state = layout["splitters"].get(name)
            if state is not None:
                splitter.restoreState(state)
        w.browser.set_view(int(layout["view"]))
        w.browser.filters.set_sort(str(layout["sort"]), bool(layout["descending"]))

    def save(self) -> None:
        w = self.window
        s = self._qsettings()
        s.beginGroup(screen_key(w))
        layout = self.capture()
        s.setValue("geometry", w.saveGeometry())
        s.setValue("state", layout["state"])
        for name, state in layout["splitters"].items():
            s.setValue(f"splitter/{name}", state)
        s.setValue("view", int(layout["view"]))
        s.setValue("sort", str(layout["sort"]))
        s.setValue("descending", bool(layout["descending"]))
        s.setValue("review_layout", bool(w.review_layout))
        s.endGroup()
        s.sync()
        if s.status() != QSettings.Status.NoError:
            log.warning("the window layout could not be saved in %s", self.path)

    def restore(self) -> bool:
        """Put back the layout saved for this screen size; False if there is none."""
        w = self.window
        s = self._qsettings()
        s.beginGroup(screen_key(w))
        state = s.value("state")
        if not isinstance(state, QByteArray):
            return False
        geometry = s.value("geometry")
        if isinstance(geometry, QByteArray):
            w.restoreGeometry(geometry)
        layout = {
            "state": state,
            "splitters": {
                n: v for n in w.splitters() if isinstance(v := s.value(f"splitter/{n}"), QByteArray)
            },
            "view": _int(s.value("view"), 0),
            "sort": str(s.value("sort") or "time"),
            "descending": _bool(s.value("descending"), True),
        }
        self.apply(layout)
        if _bool(s.value("review_layout"), False):
            w.set_review_layout(True)
        return True

    def reset(self) -> None:
        """Forget the saved layout for this screen and go back to the one as built."""
        w = self.window
        if w.review_layout:
            w.set_review_layout(False)
        s = self._qsettings()
        s.remove(screen_key(w))
        s.sync()
        for dock in w.findChildren(type(w.monitor_dock)):
            dock.setVisible(True)
        self.apply(self.defaults)
        w.resize(w.default_size())


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _bool(value, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return default
