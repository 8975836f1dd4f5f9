"""Review labels: their names, keys and colours, shared by the browser, export rules and the
night summary."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence

from ...archive.browse import LABELS
from . import style


@dataclass(frozen=True)
class Label:
    name: str  # as stored: meteor, plane, ...
    text: str
    keys: tuple  # Qt keys
    color: str

    @property
    def qcolor(self) -> QColor:
        return QColor(self.color)

    def shortcuts(self) -> list[QKeySequence]:
        return [QKeySequence(k) for k in self.keys]


REVIEW_LABELS: tuple[Label, ...] = (
    Label("meteor", "Meteor", (Qt.Key.Key_Return, Qt.Key.Key_Enter), style.LABEL_COLOURS["meteor"]),
    Label("plane", "Plane", (Qt.Key.Key_P,), style.LABEL_COLOURS["plane"]),
    Label("satellite", "Satellite", (Qt.Key.Key_S,), style.LABEL_COLOURS["satellite"]),
    Label("bird", "Bird", (Qt.Key.Key_B,), style.LABEL_COLOURS["bird"]),
    Label("lightning", "Lightning", (Qt.Key.Key_L,), style.LABEL_COLOURS["lightning"]),
    Label("other", "Other", (Qt.Key.Key_O,), style.LABEL_COLOURS["other"]),
    Label("rejected", "Rejected", (Qt.Key.Key_Delete,), style.LABEL_COLOURS["rejected"]),
)
CLEAR_KEYS = (Qt.Key.Key_U,)
BY_NAME = {lab.name: lab for lab in REVIEW_LABELS}
assert tuple(BY_NAME) == LABELS


def label_text(name: str | None) -> str:
    return "" if name is None else BY_NAME[name].text if name in BY_NAME else name


def key_text(label: Label) -> str:
    first = label.shortcuts()[0].toString(QKeySequence.SequenceFormat.NativeText)
    return {"Return": "Enter", "Del": "Delete"}.get(first, first)
