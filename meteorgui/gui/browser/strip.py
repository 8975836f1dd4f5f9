"""The time-lapse strip: standalone stills of the selected night, oldest first."""

from __future__ import annotations

from bisect import bisect_left

from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt
from PySide6.QtWidgets import QAbstractItemView, QListView

from ...archive.browse import StripFile
from ...formatting import zone_label
from .model import ROW_ROLE, shown_time
from .views import EmptyHint

_ROOT = QModelIndex()  # the default parent of a flat model


class StripModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._files: list[StripFile] = []
        self._keys: list[tuple[int, str]] = []
        self.camera_names: dict[str, str] = {}

    def rowCount(self, parent: QModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._files)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._files):
            return None
        f = self._files[index.row()]
        if role == ROW_ROLE:
            return f
        if role == Qt.ItemDataRole.DisplayRole:
            return shown_time(f.file_time, "%H:%M:%S")
        if role == Qt.ItemDataRole.ToolTipRole:
            camera = self.camera_names.get(f.camera_id) or f.camera_id
            return (
                f"Time-lapse still {shown_time(f.file_time)} {zone_label()}\n{camera}\n"
                f"{f.file_name or f.file_id}"
            )
        return None

    def files(self) -> list[StripFile]:
        return list(self._files)

    def set_files(self, files: list[StripFile]) -> None:
        self.beginResetModel()
        self._files = list(files)
        self._keys = [(f.file_time, f.file_id) for f in self._files]
        self.endResetModel()

    def add(self, f: StripFile) -> bool:
        key = (f.file_time, f.file_id)
        i = bisect_left(self._keys, key)
        if i < len(self._keys) and self._keys[i] == key:
            return False
        self.beginInsertRows(QModelIndex(), i, i)
        self._files.insert(i, f)
        self._keys.insert(i, key)
        self.endInsertRows()
        return True


class StripView(EmptyHint, QListView):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setUniformItemSizes(True)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSpacing(1)

    def fit_height(self, item: QSize) -> None:
        self.setFixedHeight(item.height() + self.horizontalScrollBar().sizeHint().height() + 8)

    def show_latest(self) -> None:
        n = self.model().rowCount() if self.model() is not None else 0
        if n:
            self.scrollTo(self.model().index(n - 1, 0))

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        self.paint_empty_hint()
