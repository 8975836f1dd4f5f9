"""The part every flat table model here shares: named columns, header tips, whole-row updates."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, Qt


class ColumnsModel(QAbstractTableModel):
    """A flat table with fixed named columns. Subclasses say how many rows there are."""

    columns: tuple[str, ...] = ()
    header_tips: dict[int, str] = {}

    def row_count(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else self.row_count()

    def columnCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.columns[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return self.header_tips.get(section)
        return None

    def row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))
