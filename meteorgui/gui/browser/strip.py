"""The time-lapse strip: standalone stills of the selected night, oldest first."""

from __future__ import annotations

from bisect import bisect_left

from PySide6.QtCore import QAbstractListModel, QItemSelection, QModelIndex, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QPainter, QPalette, QRegion
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyleOptionViewItem

from ...archive.browse import StripFile
from ...formatting import zone_label
from ..common.text import plain_tip
from .grid import cursor_row
from .model import ROW_ROLE, shown_time
from .views import EmptyHint

_ROOT = QModelIndex()  # the default parent of a flat model


class StripModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._files: list[StripFile] = []
        self._keys: list[tuple[int, str]] = []
        self._ids: set[str] = set()
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
            return plain_tip(
                f"Time-lapse still {shown_time(f.file_time)} {zone_label()}\n{camera}\n"
                f"{f.file_name or f.file_id}"
            )
        return None

    def files(self) -> list[StripFile]:
        return list(self._files)

    def file_at(self, row: int) -> StripFile | None:
        return self._files[row] if 0 <= row < len(self._files) else None

    def holds_any(self, file_ids) -> bool:
        """Whether one of these files is in the strip: a look-up, not a walk of the night."""
        return any(i in self._ids for i in file_ids)

    def set_files(self, files: list[StripFile]) -> None:
        self.beginResetModel()
        self._files = list(files)
        self._keys = [(f.file_time, f.file_id) for f in self._files]
        self._ids = {f.file_id for f in self._files}
        self.endResetModel()

    def add(self, f: StripFile) -> bool:
        key = (f.file_time, f.file_id)
        i = bisect_left(self._keys, key)
        if i < len(self._keys) and self._keys[i] == key:
            return False
        self.beginInsertRows(QModelIndex(), i, i)
        self._files.insert(i, f)
        self._keys.insert(i, key)
        self._ids.add(f.file_id)
        self.endInsertRows()
        return True


class StripView(EmptyHint, QListView):
    """The stills left to right in one row of equal tiles.

    QListView lays every item out again after each insert: 12-19 ms of the GUI
    thread per arriving still once a night holds 6,000. Here every tile has the
    delegate's one size, so where a tile is, which tile is under the mouse and
    how far to scroll are arithmetic, and an arriving still costs only what is on
    screen. QListView stays the base for what Qt gives a list view (screen
    readers read it as a list of its items; a vertical wheel scrolls it
    sideways); its own layout never runs: every method that would reach it is
    replaced here.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self._tile = QSize()
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setUniformItemSizes(True)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSpacing(1)

    def fit_height(self, item: QSize) -> None:
        """Tiles of this size; the strip just tall enough for one row of them."""
        self._tile = QSize(item)
        self.setFixedHeight(item.height() + self.horizontalScrollBar().sizeHint().height() + 8)
        self.updateGeometries()

    def show_latest(self) -> None:
        n = self._count()
        if n:
            self.scrollTo(self.model().index(n - 1, 0))

    # ------------------------------------------------------------------ geometry

    def _count(self) -> int:
        m = self.model()
        return 0 if m is None else m.rowCount()

    def _size(self) -> QSize:
        """A tile: the delegate's size, as tall as the row (as QListView stretched them)."""
        if self._tile.isEmpty() and self._count():  # no fit_height(): ask the delegate once
            option = QStyleOptionViewItem()
            self.initViewItemOption(option)
            self._tile = self.itemDelegate().sizeHint(option, self.model().index(0, 0))
        row = self.viewport().height() - 2 * self.spacing()
        return QSize(self._tile.width(), max(self._tile.height(), row))

    def _step(self) -> int:
        """From one tile's left edge to the next one's: QListView's spacing on each side."""
        return max(1, self._size().width() + 2 * self.spacing())

    def _rect_of(self, row: int) -> QRect:
        s = self.spacing()
        return QRect(s + row * self._step() - self.horizontalOffset(), s, *self._size().toTuple())

    def _visible_rows(self) -> range:
        left, step = self.horizontalOffset(), self._step()
        first = max(0, (left - self.spacing()) // step)
        return range(first, min(self._count(), (left + self.viewport().width()) // step + 1))

    def updateGeometries(self) -> None:
        """The scroll range; a strip scrolled to its end stays there (the latest still in
        view) when it is resized, as when the detail pane takes some of its width."""
        sb, width = self.horizontalScrollBar(), self.viewport().width()
        at_end = sb.maximum() > 0 and sb.value() >= sb.maximum() - 4
        sb.setRange(0, max(0, self._count() * self._step() - width))
        if at_end:
            sb.setValue(sb.maximum())
        sb.setPageStep(width)
        sb.setSingleStep(self._size().width() + self.spacing())
        QAbstractItemView.updateGeometries(self)

    def doItemsLayout(self) -> None:
        QAbstractItemView.doItemsLayout(self)  # the scroll range and a repaint: nothing to place

    def visualRect(self, index: QModelIndex) -> QRect:
        if not index.isValid() or not 0 <= index.row() < self._count():
            return QRect()
        return self._rect_of(index.row())

    def indexAt(self, point: QPoint) -> QModelIndex:
        s, step, size = self.spacing(), self._step(), self._size()
        x = point.x() + self.horizontalOffset() - s
        row, into = divmod(x, step)
        if x < 0 or into >= size.width() or not s <= point.y() < s + size.height():
            return QModelIndex()
        return self.model().index(row, 0) if row < self._count() else QModelIndex()

    def scrollTo(self, index: QModelIndex, hint=QAbstractItemView.ScrollHint.EnsureVisible):
        if not index.isValid():
            return
        rect, sb, width = (
            self._rect_of(index.row()),
            self.horizontalScrollBar(),
            self.viewport().width(),
        )
        s, H = self.spacing(), QAbstractItemView.ScrollHint
        if hint == H.PositionAtCenter:
            sb.setValue(sb.value() + rect.center().x() - width // 2)
        elif hint == H.PositionAtTop:
            sb.setValue(sb.value() + rect.left() - s)
        elif hint == H.PositionAtBottom:
            sb.setValue(sb.value() + rect.right() + 1 + s - width)
        elif rect.left() < 0:
            sb.setValue(sb.value() + rect.left() - s)
        elif rect.right() >= width:
            sb.setValue(sb.value() + min(rect.left() - s, rect.right() + 1 + s - width))

    def horizontalOffset(self) -> int:
        return self.horizontalScrollBar().value()

    def verticalOffset(self) -> int:
        return 0

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        QAbstractItemView.scrollContentsBy(self, dx, dy)

    def moveCursor(self, action, modifiers) -> QModelIndex:
        n = self._count()
        if n == 0:
            return QModelIndex()
        current = self.currentIndex()
        page = max(1, self.viewport().width() // self._step() - 1)
        # One line of n tiles: up and down have nowhere to go.
        row = cursor_row(action, current.row() if current.isValid() else -1, n, n, page)
        return self.model().index(row, 0)

    def setSelection(self, rect: QRect, flags) -> None:
        """Select the tiles ``rect`` (in the viewport) touches: a click's point or a drag."""
        n = self._count()
        if n == 0:
            return
        rect = rect.normalized()
        s, step, size = self.spacing(), self._step(), self._size()
        selection = QItemSelection()
        if rect.bottom() >= s and rect.top() < s + size.height():
            left = rect.left() + self.horizontalOffset() - s
            first, into = divmod(max(0, left), step)
            first += into >= size.width()  # starts in the gap after a tile
            last = min(n - 1, (rect.right() + self.horizontalOffset() - s) // step)
            if first <= last:
                m = self.model()
                selection.select(m.index(first, 0), m.index(last, 0))
        self.selectionModel().select(selection, flags)

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:
        region, visible = QRegion(), self._visible_rows()
        for rng in selection:
            for row in range(max(rng.top(), visible.start), min(rng.bottom() + 1, visible.stop)):
                region += self._rect_of(row)
        return region

    # ------------------------------------------------------------------ model changes

    def rowsInserted(self, parent: QModelIndex, start: int, end: int) -> None:
        """A still that arrives before the tiles on screen pushes them along: scroll with
        them, unless at the start of the night."""
        sb = self.horizontalScrollBar()
        left = sb.value()
        QAbstractItemView.rowsInserted(self, parent, start, end)
        self.updateGeometries()
        if left > 0 and start <= self._visible_rows().start:
            sb.setValue(left + (end - start + 1) * self._step())
        self.viewport().update()

    def dataChanged(self, top_left, bottom_right, roles=()) -> None:
        self.viewport().update()

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event) -> None:
        """Only the tiles on screen, in the states QListView gives them."""
        painter = QPainter(self.viewport())
        m, delegate = self.model(), self.itemDelegate()
        selection, current = self.selectionModel(), self.currentIndex()
        focus = (self.hasFocus() or self.viewport().hasFocus()) and current.isValid()
        if m is not None:
            base = QStyleOptionViewItem()
            self.initViewItemOption(base)
            enabled = bool(base.state & QStyle.StateFlag.State_Enabled)
            for row in self._visible_rows():
                rect = self._rect_of(row)
                if not rect.intersects(event.rect()):
                    continue
                option = QStyleOptionViewItem(base)
                option.rect = rect
                index = m.index(row, 0)
                if selection is not None and selection.isSelected(index):
                    option.state |= QStyle.StateFlag.State_Selected
                if enabled:
                    option.palette.setCurrentColorGroup(QPalette.ColorGroup.Normal)
                if focus and index == current:
                    option.state |= QStyle.StateFlag.State_HasFocus
                delegate.paint(painter, option, index)
        painter.end()
        self.paint_empty_hint()
