"""Text from cameras and export targets is shown as plain text, never as rich text.

Qt guesses whether a label's or a tooltip's text is HTML (``Qt.mightBeRichText``): a
camera calling itself ``Roof <img src="/dev/zero">`` would make Qt read /dev/zero as an
image until the process runs out of memory. Labels that show such text are set to plain
text (``plain``); rich labels escape what they quote (``escape``); every tooltip in the
application goes through ``PlainToolTips``, which shows text that looks like HTML as the
literal characters it is; message boxes are plain (``message``).
"""

from __future__ import annotations

import html

from PySide6 import QtGui
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QLabel,
    QMessageBox,
    QToolTip,
    QWidget,
)


def _looks_rich(text: str) -> bool:
    return QtGui.Qt.mightBeRichText(text)


def escape(text: object) -> str:
    """Text to quote inside rich text: every character shown as itself."""
    return html.escape(str(text), quote=True)


def plain(label: QLabel) -> QLabel:
    """The label shows its text as typed, whatever it looks like."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    return plain(QLabel(text, parent))


def plain_tip(text: str) -> str:
    """A tooltip Qt shows literally: text that could pass for HTML is escaped and
    wrapped so that Qt takes it as (harmless) rich text; other text is left as it is."""
    if not text or not _looks_rich(text):
        return text
    return f"<p style='white-space:pre-wrap'>{escape(text)}</p>"


def message(
    parent: QWidget | None,
    title: str,
    text: str,
    icon: QMessageBox.Icon = QMessageBox.Icon.Warning,
) -> None:
    """A modal message box whose text is plain (it may quote a camera or a target)."""
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.exec()


class PlainToolTips(QObject):
    """An application-wide event filter: every tooltip (a widget's, or an item view's
    ToolTipRole) that could pass for HTML is shown escaped. Installed once per app.

    Tooltips are the one place a view cannot choose the text format, and they are set in
    many places (item models, list items, labels); one filter covers them all.
    """

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ToolTip or not isinstance(obj, QWidget):
            return False
        text = self._tip(obj, event)
        if not text or not _looks_rich(text):
            return False  # Qt shows it as plain text anyway
        QToolTip.showText(event.globalPos(), plain_tip(text), obj)
        return True

    @staticmethod
    def _tip(widget: QWidget, event: QHelpEvent) -> str:
        view = widget.parent()
        if isinstance(view, QAbstractItemView) and not isinstance(view, QHeaderView):
            if widget is view.viewport():
                index = view.indexAt(event.pos())
                value = index.data(Qt.ItemDataRole.ToolTipRole) if index.isValid() else None
                return value if isinstance(value, str) else ""
        return widget.toolTip()


_filter: PlainToolTips | None = None


def install_plain_tooltips() -> None:
    """Install the tooltip filter on the running QApplication (once)."""
    global _filter
    app = QApplication.instance()
    if app is None or _filter is not None:
        return
    _filter = PlainToolTips(app)
    app.installEventFilter(_filter)
