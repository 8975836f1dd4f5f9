"""The table view of events, and a hint painted over an empty view."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView


class EmptyHint:
    """Mixin for item views: a centred message while the model has no rows."""

    _empty_text = ""

    def set_empty_text(self, text: str) -> None:
        self._empty_text = text
        self.viewport().update()

    def paint_empty_hint(self) -> None:
        m = self.model()
        if not self._empty_text or (m is not None and m.rowCount(self.rootIndex()) > 0):
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().placeholderText().color())
        rect = self.viewport().rect().adjusted(24, 24, -24, -24)
        painter.drawText(
            rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._empty_text
        )
        painter.end()


class EventTable(EmptyHint, QTableView):
    """QTableView with fixed row heights (so 200k rows cost nothing to lay out) that keeps what
    is on screen in place when rows are inserted above it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        vh = self.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 8)
        vh.hide()
        hh = self.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setStretchLastSection(True)
        hh.setSectionsClickable(True)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    def setSelectionModel(self, selection) -> None:  # noqa: N802 - Qt's name
        super().setSelectionModel(selection)
        model = selection.model() if selection is not None else None
        if model is not None:
            # The header paints each section as next to a selected one or not, and asks
            # the selection whether a whole column is selected: a question about every
            # row of the model (three calls into Python each). After Ctrl+A in 200,000
            # events the window froze for seconds. The sections never show a selection.
            header = self.horizontalHeader()
            header.setSelectionModel(QItemSelectionModel(model, header))

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        self.paint_empty_hint()

    def rowsInserted(self, parent: QModelIndex, start: int, end: int) -> None:
        sb = self.verticalScrollBar()
        top = sb.value()
        h = self.verticalHeader().defaultSectionSize()
        super().rowsInserted(parent, start, end)
        if top > 0 and start * h <= top:
            self.updateGeometries()
            sb.setValue(top + (end - start + 1) * h)

    def select_row(self, row: int, scroll: bool = True) -> None:
        m = self.model()
        if m is None or not 0 <= row < m.rowCount():
            return
        index = m.index(row, 0)
        self.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        if scroll:
            self.scrollTo(index)
