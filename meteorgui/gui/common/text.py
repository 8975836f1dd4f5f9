"""Text from cameras and export targets is shown as plain text, never as rich text.

Qt guesses whether a label's or a tooltip's text is HTML (``Qt.mightBeRichText``): a
camera calling itself ``Roof <img src="/dev/zero">`` would make Qt read /dev/zero as an
image until the process runs out of memory. Labels that show such text are set to plain
text (``plain``); rich labels escape what they quote (``escape``); every tooltip in the
application is made with ``plain_tip`` where it is set (a widget's or an item's
``setToolTip``, a model's ToolTipRole, ``QToolTip.showText``): text that looks like HTML
is shown as the literal characters it is; message boxes are plain (``message``).

Tooltips used to be escaped by an application-wide event filter as they were shown; such
a filter runs Python, and takes the GIL, for every event the GUI thread delivers, waiting
for it while the importer's threads run Python. tests/test_gui_plain_text.py checks, for
the source, that every tooltip set from a value goes through ``plain_tip``.
"""

from __future__ import annotations

import html

from PySide6 import QtGui
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget


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


def plain_tip(text: str | None) -> str:
    """A tooltip Qt shows literally: text that could pass for HTML is escaped and
    wrapped so that Qt takes it as (harmless) rich text; other text is left as it is.

    Every tooltip set from a value goes through here (a tooltip's format cannot be chosen,
    Qt guesses it), whether the value comes from a camera or not."""
    if not text:
        return ""
    if not _looks_rich(text):
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
