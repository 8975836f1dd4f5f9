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
from PySide6.QtWidgets import QDockWidget, QMainWindow

log = logging.getLogger(__name__)

FILE_NAME = "layout.ini"
SPLITTERS = ("main", "monitor", "browser", "detail")  # MainWindow.splitters()
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

    ``restore()`` runs before the window is shown (it opens where and as it was left); the
    splitters follow in ``restore_built()``, which the window calls when it is shown (a
    splitter sized before the window is laid out does not keep its sizes) and when it
    has built the parts it leaves until after its first page; then the review layout.
    """

    def __init__(self, window, path: Path):
        self.window = window
        self.path = path
        self.defaults = self.capture()  # as built: what View ▸ Reset layout goes back to
        # What restore() leaves to restore_built(): splitter states, the review layout.
        self._later: dict[str, QByteArray] = {}
        self._review = False
        self._raise: list[str] = []  # docks to bring to the front of their tabs, once shown

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

    def _front(self) -> list[str]:
        """The docks shown in front of the others in their tabs (object names)."""
        w = self.window
        return [
            d.objectName()
            for d in w.findChildren(QDockWidget)
            if d.isVisible()
            and not d.isFloating()
            and w.tabifiedDockWidgets(d)
            and not d.visibleRegion().isEmpty()
        ]

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
        # Splitters not restored yet (closed before being shown or built) keep their state.
        for name, state in {**layout["splitters"], **self._later}.items():
            s.setValue(f"splitter/{name}", state)
        s.setValue("view", int(layout["view"]))
        s.setValue("sort", str(layout["sort"]))
        s.setValue("descending", bool(layout["descending"]))
        s.setValue("review_layout", bool(w.review_layout or self._review))
        # restoreState() puts tabbed docks back, but not which tab was in front.
        if w.isVisible():
            s.setValue("front", ",".join(self._front()))
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
            "splitters": {},  # restore_built()
            "view": _int(s.value("view"), 0),
            "sort": str(s.value("sort") or "time"),
            "descending": _bool(s.value("descending"), True),
        }
        self.apply(layout)
        self._later = {
            n: v for n in SPLITTERS if isinstance(v := s.value(f"splitter/{n}"), QByteArray)
        }
        self._review = _bool(s.value("review_layout"), False)
        self._raise = [n for n in str(s.value("front") or "").split(",") if n]
        self.restore_built()
        return True

    def restore_built(self) -> None:
        """The splitters built so far as saved, once the window is shown (the review
        layout after them); those built after restore() are part of the defaults as
        built."""
        w = self.window
        built = w.splitters()
        for name, splitter in built.items():
            self.defaults["splitters"].setdefault(name, splitter.saveState())
        if not w.isVisible():
            return
        for name, splitter in built.items():
            state = self._later.pop(name, None)
            if state is not None:
                splitter.restoreState(state)
        for name in self._raise:
            dock = w.findChild(QDockWidget, name)
            if dock is not None and dock.isVisible():
                dock.raise_()
        self._raise = []
        if self._review:
            self._review = False
            w.set_review_layout(True)

    def reset(self) -> None:
        """Forget the saved layout for this screen and go back to the one as built."""
        w = self.window
        if w.review_layout:
            w.set_review_layout(False)
        s = self._qsettings()
        s.remove(screen_key(w))
        s.sync()
        self._later, self._review, self._raise = {}, False, []
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
