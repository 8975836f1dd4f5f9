"""The grid of equal cells under the event list: which rows it counts as on screen."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QStandardItem, QStandardItemModel

from meteorgui.gui.browser.grid import GridView


def grid(qtbot, rows: int, cell: QSize, viewport: QSize) -> GridView:
    model = QStandardItemModel()
    for i in range(rows):
        model.appendRow(QStandardItem(str(i)))
    view = GridView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setCellSize(cell)
    view.show()
    qtbot.waitExposed(view)
    # The viewport's size is what counts: the frame and the scroll bar take the rest.
    extra = view.size() - view.viewport().size()
    view.resize(viewport + extra)
    qtbot.waitUntil(lambda: view.viewport().size() == viewport)
    return view


def test_a_line_beginning_below_the_viewport_is_not_on_screen(qtbot):
    """A screenful scrolled to where a line of cells begins exactly at the viewport's
    bottom counted that line as visible: its tiles were never painted, so their
    thumbnails were never asked for, and whatever waited for "every visible tile shown"
    (the GUI benchmark's scroll) waited for them in vain."""
    view = grid(qtbot, 100, QSize(100, 50), QSize(400, 200))  # 4 across, 4 lines a screen
    assert view.columns() == 4
    assert view.visible_rows() == range(0, 16)
    view.verticalScrollBar().setValue(200)  # lines 4-7 exactly
    assert view.visible_rows() == range(16, 32)
    view.verticalScrollBar().setValue(210)  # lines 4-8, line 8's top 10 pixels shown
    assert view.visible_rows() == range(16, 36)
    view.verticalScrollBar().setValue(249)  # line 4's last pixel row shown
    assert view.visible_rows() == range(16, 36)
