"""What the flat table models here share: named columns, header tips, flags, a list of rows."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from .text import plain_tip


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
                return plain_tip(self.header_tips.get(section))
        return None

    def flags(self, index: QModelIndex):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))


class RowsModel(ColumnsModel):
    """A ColumnsModel whose rows are a Python list, one item per row."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list = []

    def row_count(self) -> int:
        return len(self._rows)

    def item(self, row: int):
        return self._rows[row]

    def items(self) -> list:
        return list(self._rows)

    def item_at(self, index: QModelIndex):
        """The row's item for a valid cell of this table, else None."""
        if not index.isValid() or index.parent().isValid():
            return None
        row, col = index.row(), index.column()
        if not (0 <= row < len(self._rows) and 0 <= col < len(self.columns)):
            return None
        return self._rows[row]
