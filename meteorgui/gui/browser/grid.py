"""A grid of equal cells for very long lists.

QListView lays out every item of the model again after each insert, which
takes a quarter of a second at 200k events. Here every cell has the same
size, so where an item is, which item is under the mouse and how far to
scroll are arithmetic: layout, inserts and painting cost only what is on
screen.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import QPainter, QRegion
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyleOptionViewItem

from .views import EmptyHint


def cursor_row(action, row: int, n: int, across: int, page: int) -> int:
    """Where a cursor key takes the current row (-1: none) of ``n`` equal tiles laid out
    ``across`` to a line; ``page`` rows a screen."""
    A = QAbstractItemView.CursorAction
    if row < 0:
        row = 0
    elif action in (A.MoveRight, A.MoveNext):
        row += 1
    elif action in (A.MoveLeft, A.MovePrevious):
        row -= 1
    elif action == A.MoveDown:
        row = row + across if row + across < n else row
    elif action == A.MoveUp:
        row = row - across if row - across >= 0 else row
    elif action == A.MovePageDown:
        row += page
    elif action == A.MovePageUp:
        row -= page
    elif action == A.MoveHome:
        row = 0
    elif action == A.MoveEnd:
        row = n - 1
    return max(0, min(n - 1, row))


PAINT_BUDGET_S = 0.012  # a paint pass's time for making new cells: less than a 60 Hz frame


class GridView(EmptyHint, QAbstractItemView):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._cell = QSize(180, 170)
        self._hover = -1
        # Cells a paint pass left out (the delegate's ``deferred``) are painted on the next
        # turn of the event loop: a screenful of new cards is made a few at a time.
        self._rest = QTimer(self)
        self._rest.setSingleShot(True)
        self._rest.setInterval(0)
        self._rest.timeout.connect(self._paint_rest)
        self._rest_region = QRegion()
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setMouseTracking(True)
        self.setAutoScroll(True)

    # ------------------------------------------------------------------ geometry

    def setCellSize(self, size: QSize) -> None:
        self._cell = QSize(size)
        self.updateGeometries()
        self.viewport().update()

    def cellSize(self) -> QSize:
        return QSize(self._cell)

    def columns(self) -> int:
        return max(1, self.viewport().width() // self._cell.width())

    def _x0(self) -> int:
        return max(0, (self.viewport().width() - self.columns() * self._cell.width()) // 2)

    def _count(self) -> int:
        m = self.model()
        return 0 if m is None else m.rowCount(self.rootIndex())

    def _rect_of(self, row: int) -> QRect:
        line, col = divmod(row, self.columns())
        return QRect(
            self._x0() + col * self._cell.width(),
            line * self._cell.height() - self.verticalScrollBar().value(),
            self._cell.width(),
            self._cell.height(),
        )

    def _visible_rows(self) -> range:
        """The rows with at least one pixel on screen (a line that begins just below the
        viewport is not one: nothing paints it, so nothing asks for its thumbnails)."""
        top = self.verticalScrollBar().value()
        h = self._cell.height()
        first = (top // h) * self.columns()
        bottom = top + max(1, self.viewport().height()) - 1  # the last pixel row shown
        last = (bottom // h + 1) * self.columns()
        return range(max(0, first), min(self._count(), last))

    def updateGeometries(self) -> None:
        lines = -(-self._count() // self.columns())
        sb = self.verticalScrollBar()
        sb.setRange(0, max(0, lines * self._cell.height() - self.viewport().height()))
        sb.setPageStep(self.viewport().height())
        sb.setSingleStep(max(1, self._cell.height() // 3))
        super().updateGeometries()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.updateGeometries()

    # ------------------------------------------------------------------ QAbstractItemView

    def visualRect(self, index: QModelIndex) -> QRect:
        if not index.isValid() or index.row() >= self._count():
            return QRect()
        return self._rect_of(index.row())

    def indexAt(self, point: QPoint) -> QModelIndex:
        x = point.x() - self._x0()
        if x < 0 or x >= self.columns() * self._cell.width():
            return QModelIndex()
        y = point.y() + self.verticalScrollBar().value()
        row = (y // self._cell.height()) * self.columns() + x // self._cell.width()
        if y < 0 or row >= self._count():
            return QModelIndex()
        return self.model().index(row, 0, self.rootIndex())

    def scrollTo(self, index: QModelIndex, hint=QAbstractItemView.ScrollHint.EnsureVisible):
        if not index.isValid():
            return
        rect = self._rect_of(index.row())
        sb = self.verticalScrollBar()
        vh = self.viewport().height()
        if hint == QAbstractItemView.ScrollHint.PositionAtTop:
            sb.setValue(sb.value() + rect.top())
        elif hint == QAbstractItemView.ScrollHint.PositionAtCenter:
            sb.setValue(sb.value() + rect.center().y() - vh // 2)
        elif hint == QAbstractItemView.ScrollHint.PositionAtBottom:
            sb.setValue(sb.value() + rect.bottom() - vh)
        elif rect.top() < 0:
            sb.setValue(sb.value() + rect.top())
        elif rect.bottom() > vh:
            sb.setValue(sb.value() + min(rect.top(), rect.bottom() - vh + 1))
        self.viewport().update()

    def horizontalOffset(self) -> int:
        return 0

    def verticalOffset(self) -> int:
        return self.verticalScrollBar().value()

    def isIndexHidden(self, index: QModelIndex) -> bool:
        return False

    def moveCursor(self, action, modifiers) -> QModelIndex:
        n = self._count()
        if n == 0:
            return QModelIndex()
        current = self.currentIndex()
        cols = self.columns()
        page = max(1, self.viewport().height() // self._cell.height()) * cols
        row = cursor_row(action, current.row() if current.isValid() else -1, n, cols, page)
        return self.model().index(row, 0, self.rootIndex())

    def setSelection(self, rect: QRect, flags) -> None:
        m = self.model()
        if m is None or self._count() == 0:
            return
        rect = rect.normalized()
        cols, cw, ch = self.columns(), self._cell.width(), self._cell.height()
        top = self.verticalScrollBar().value()
        c0 = max(0, (rect.left() - self._x0()) // cw)
        c1 = min(cols - 1, (rect.right() - self._x0()) // cw)
        l0 = max(0, (rect.top() + top) // ch)
        l1 = (rect.bottom() + top) // ch
        selection = QItemSelection()
        last_col = m.columnCount(self.rootIndex()) - 1
        if c0 <= c1:
            for line in range(l0, l1 + 1):
                a, b = line * cols + c0, min(self._count() - 1, line * cols + c1)
                if a > b:
                    break
                selection.select(
                    m.index(a, 0, self.rootIndex()), m.index(b, last_col, self.rootIndex())
                )
        self.selectionModel().select(selection, flags)

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:
        region = QRegion()
        visible = self._visible_rows()
        for rng in selection:
            lo, hi = max(rng.top(), visible.start), min(rng.bottom(), visible.stop - 1)
            for row in range(lo, hi + 1):
                region += self._rect_of(row)
        return region

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event) -> None:
        painter = QPainter(self.viewport())
        delegate = self.itemDelegate()
        budgeted = hasattr(delegate, "begin_pass")
        if budgeted:
            delegate.begin_pass(PAINT_BUDGET_S)
        m = self.model()
        selection = self.selectionModel()
        current = self.currentIndex()
        if m is not None:
            for row in self._visible_rows():
                option = QStyleOptionViewItem()
                self.initViewItemOption(option)
                option.rect = self._rect_of(row)
                if not option.rect.intersects(event.rect()):
                    continue
                index = m.index(row, 0, self.rootIndex())
                if selection is not None and selection.isSelected(index):
                    option.state |= QStyle.StateFlag.State_Selected
                if index == current and self.hasFocus():
                    option.state |= QStyle.StateFlag.State_HasFocus
                if row == self._hover:
                    option.state |= QStyle.StateFlag.State_MouseOver
                delegate.paint(painter, option, index)
        painter.end()
        if budgeted:
            for rect in delegate.deferred:
                self._rest_region += rect
            if delegate.deferred:
                self._rest.start()
            delegate.begin_pass(0)  # a paint from anywhere else makes every card it needs
        self.paint_empty_hint()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)  # moves what is painted, cells left out with it
        if not self._rest_region.isEmpty():
            self._rest_region = self._rest_region.translated(dx, dy)

    def _paint_rest(self) -> None:
        """Paint the cells the last pass left out, and only them."""
        region, self._rest_region = self._rest_region, QRegion()
        self.viewport().update(region)

    def update_rows(self, rows) -> None:
        """Repaint these rows where they are on screen."""
        visible = self._visible_rows()
        for row in rows:
            if row in visible:
                self.viewport().update(self._rect_of(row))

    def visible_rows(self) -> range:
        return self._visible_rows()

    def _set_hover(self, row: int) -> None:
        if row != self._hover:
            old, self._hover = self._hover, row
            self.update_rows([old, row])

    def mouseMoveEvent(self, event) -> None:
        super().mouseMoveEvent(event)
        index = self.indexAt(event.position().toPoint())
        self._set_hover(index.row() if index.isValid() else -1)

    def leaveEvent(self, event) -> None:
        super().leaveEvent(event)
        self._set_hover(-1)

    # ------------------------------------------------------------------ live inserts

    def rowsInserted(self, parent: QModelIndex, start: int, end: int) -> None:
        """Rows inserted before what is on screen push it down: scroll with it, unless at the top
        (where new events should be seen arriving)."""
        sb = self.verticalScrollBar()
        top = sb.value()
        super().rowsInserted(parent, start, end)
        self.updateGeometries()
        if top > 0:
            first_visible = (top // self._cell.height()) * self.columns()
            if start <= first_visible:
                k = end - start + 1
                lines = (first_visible + k) // self.columns() - first_visible // self.columns()
                sb.setValue(top + lines * self._cell.height())
        self.viewport().update()

    def dataChanged(self, top_left, bottom_right, roles=()) -> None:
        visible = self._visible_rows()
        lo, hi = max(top_left.row(), visible.start), min(bottom_right.row(), visible.stop - 1)
        if lo <= hi:
            region = QRect(self._rect_of(lo)).united(self._rect_of(hi))
            if hi // self.columns() != lo // self.columns():  # spans lines: whole width
                region.setLeft(0)
                region.setRight(self.viewport().width())
            self.viewport().update(region)

    def reset(self) -> None:
        super().reset()
        self.updateGeometries()
        self.verticalScrollBar().setValue(0)
        self.viewport().update()

    def select_row(self, row: int, scroll: bool = True) -> None:
        m = self.model()
        if m is None or not 0 <= row < self._count():
            return
        index = m.index(row, 0, self.rootIndex())
        self.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        if scroll:
            self.scrollTo(index)
