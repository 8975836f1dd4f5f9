"""The system's colour scheme turned dark for a test, and back to what it was after."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from meteorgui.gui.common import style


@contextmanager
def dark_scheme(qtbot):
    """Dark while the block runs (the app has taken the dark palette when it starts);
    the block may turn it light again with ``light()``."""
    app = QApplication.instance()
    saved = app.palette()
    dark = QPalette(saved)
    dark.setColor(QPalette.ColorRole.Window, QColor(30, 30, 30))
    hints = app.styleHints()

    def light() -> None:
        QApplication.setPalette(saved)
        hints.unsetColorScheme()

    try:
        # An X server alone names no colour scheme: the window colour decides.
        if hints.colorScheme() == Qt.ColorScheme.Unknown:
            QApplication.setPalette(dark)
        else:
            hints.setColorScheme(Qt.ColorScheme.Dark)
        qtbot.waitUntil(lambda: style.palette() is style.DARK)
        yield light
    finally:
        light()
        style.follow_colour_scheme()
