"""The night summary's showers: meteors per shower, and per shower each hour (the
hourly rate), from the stored sky results. A meteor seen by several cameras
counts once.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...formatting import count, shown
from ...sky.names import SPORADIC, shower_title
from ..common.sky import shower_color

HOUR_MS = 3_600_000


def counts_table(parent: QWidget) -> QTableWidget:
    """A read-only table of counts (the night summary's look)."""
    t = QTableWidget(0, 0, parent)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    t.verticalHeader().hide()
    t.setAlternatingRowColors(True)
    return t


def fit_columns_and_height(t: QTableWidget) -> None:
    """The first column takes the width left; the table is as tall as its rows."""
    header = t.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for col in range(1, t.columnCount()):
        header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
    rows_h = sum(t.rowHeight(r) for r in range(t.rowCount()))
    t.setFixedHeight(header.sizeHint().height() + rows_h + 2 * t.frameWidth() + 2)


def read_showers(archive, after: int, before: int) -> tuple[dict, dict]:
    """({shower: meteors}, {(hour ms, shower): meteors}) of a night (runs in the pool)."""
    from ...archive.sky import SkyResults

    sky = SkyResults(archive.db)
    return sky.counts(after, before), sky.hourly(after, before)


def _order(code) -> tuple:
    """Showers first (by code), then sporadic, then no sky position."""
    return (code is None, code == SPORADIC, code or "")


class ShowerTable(QWidget):
    """Contract: ``load(after_ms, before_ms)``; ``counts`` and ``hourly`` once read."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.counts: dict = {}
        self.hourly: dict = {}
        self._gen = 0
        self.heading = QLabel("Showers", self)
        self.heading.setStyleSheet("font-weight: 600;")
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        self.table = counts_table(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.heading)
        layout.addWidget(self.note)
        layout.addWidget(self.table)

    def load(self, after: int, before: int) -> None:
        self._gen += 1
        gen = self._gen
        archive = self.ctx.archive
        self.note.setText("Reading…")
        self.ctx.tasks.run(
            lambda: read_showers(archive, after, before),
            lambda res: self._show(gen, *res),
            lambda exc: self._failed(gen, exc),
            owner=self,
        )

    def _failed(self, gen: int, exc: BaseException) -> None:
        if gen == self._gen:
            self.note.setText(f"Could not read the showers: {exc}")

    def _show(self, gen: int, counts: dict, hourly: dict) -> None:
        if gen != self._gen:
            return
        self.counts, self.hourly = counts, hourly
        codes = sorted(counts, key=_order)
        hours = sorted({h for h, _ in hourly})
        meteors = sum(counts.values())
        if not meteors:
            self.note.setText(
                "No sky results for this night yet: they are worked out as events arrive."
            )
        else:
            self.note.setText(
                f"{count(meteors, 'meteor')} (one per meteor, however many cameras saw it; "
                "events you marked as a plane, a bird or anything else are left out); "
                "the hour columns are meteors per hour, local time."
            )
        headers = ["Shower", "Meteors"] + [shown(h).strftime("%H:00") for h in hours]
        t = self.table
        t.clear()
        t.setColumnCount(len(headers))
        t.setHorizontalHeaderLabels(headers)
        t.setRowCount(len(codes))
        for row, code in enumerate(codes):
            name = QTableWidgetItem(shower_title(code if code is not None else ""))
            if code not in (None, SPORADIC):
                name.setForeground(shower_color(code))
            t.setItem(row, 0, name)
            values = [counts[code]] + [hourly.get((h, code), 0) for h in hours]
            for col, v in enumerate(values, 1):
                item = QTableWidgetItem(str(v) if v or col == 1 else "")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                t.setItem(row, col, item)
        fit_columns_and_height(t)

    def rate(self, code: str | None) -> list[int]:
        """Meteors of a shower in each hour read, in time order (for tests and tips)."""
        hours = sorted({h for h, _ in self.hourly})
        return [self.hourly.get((h, code), 0) for h in hours]
