"""The filmstrip of an event's files, and the review chip of the detail view's header."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QListView,
    QListWidget,
    QListWidgetItem,
    QWidget,
)

from ... import formatting as fmt
from ...model import FileRecord
from ..common import style
from ..common.text import escape, plain_tip

STRIP_ICON = QSize(80, 60)
FILE_ROLE = Qt.ItemDataRole.UserRole


def review_chip(review: tuple[str, int | None] | None) -> str:
    if review is None:
        return f'<span style="color:{style.MUTED}">not reviewed</span>'
    label = review[0]
    colour = style.LABEL_COLOURS.get(label, style.MUTED)
    text = escape(label)
    return (
        f'<span style="background:{colour}; color:white; font-weight:600">&nbsp;{text}&nbsp;</span>'
    )


class Filmstrip(QListWidget):
    """The event's files left to right, in the event's order, on a dark strip."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setIconSize(STRIP_ICON)
        self.setWordWrap(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSpacing(2)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setFrameShape(QFrame.Shape.NoFrame)
        pal = style.palette()
        self.setStyleSheet(
            f"QListWidget {{ background: {pal.strip_bg}; color: {pal.strip_fg}; }}"
            "QListWidget::item { border-radius: 3px; padding: 2px; }"
            f"QListWidget::item:selected {{ background: {pal.strip_selected};"
            " color: white; }"
            f"QListWidget::item:hover:!selected {{ background: {pal.strip_hover}; }}"
        )
        line = self.fontMetrics().height()
        cell = QSize(STRIP_ICON.width() + 32, STRIP_ICON.height() + 2 * line + 8)
        self.setGridSize(cell)
        self._base_height = cell.height() + 2 * self.spacing()
        self._fit_height()

    def _fit_height(self) -> None:
        # Room for the scroll bar only when the files do not fit across.
        needed = self.count() * (self.gridSize().width() + 2 * self.spacing())
        bar = self.horizontalScrollBar().sizeHint().height() if needed > self.width() else 0
        self.setFixedHeight(self._base_height + bar)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def wheelEvent(self, event) -> None:
        # A vertical wheel scrolls the strip sideways: it has nowhere else to go.
        bar = self.horizontalScrollBar()
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta and bar.maximum() > 0:
            bar.setValue(bar.value() - delta)
            event.accept()
        else:
            super().wheelEvent(event)

    def add_file(self, f: FileRecord, icon: QIcon) -> QListWidgetItem:
        item = QListWidgetItem(icon, fmt.file_label(f.semantic_type, f.mime_type))
        item.setData(FILE_ROLE, f.file_id)
        item.setToolTip(
            plain_tip(
                f"{f.file_name or f.file_id}\n{f.semantic_type or ''}\n"
                f"{f.mime_type} · {fmt.size(f.file_size)}"
            )
        )
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.addItem(item)
        self._fit_height()
        return item

    def file_ids(self) -> list[str]:
        return [self.item(i).data(FILE_ROLE) for i in range(self.count())]
