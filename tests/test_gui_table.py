"""The browser's table view with many rows selected."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from meteorgui.gui.browser.views import EventTable

ROWS = 5000
_ROOT = QModelIndex()


class CountingModel(QAbstractTableModel):
    """Many rows of nothing, counting the calls Qt makes into it."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def rowCount(self, parent=_ROOT):  # noqa: N802 - Qt's name
        self.calls += 1
        return 0 if parent.isValid() else ROWS

    def columnCount(self, parent=_ROOT):  # noqa: N802 - Qt's name
        self.calls += 1
        return 0 if parent.isValid() else 5

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        return None


def test_selecting_every_row_asks_the_model_about_the_rows_on_screen_only(qtbot):
    """Ctrl+A in 200,000 events froze the window for seconds: the header, painting each
    section, asked the selection whether its whole column was selected, which asks the
    model about every row (10 calls into Python a row here)."""
    model = CountingModel()
    table = EventTable()
    qtbot.addWidget(table)
    table.setModel(model)
    table.resize(400, 300)
    table.show()
    qtbot.waitExposed(table)
    table.activateWindow()
    qtbot.waitUntil(table.isActiveWindow)
    model.calls = 0
    qtbot.keyClick(table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    table.repaint()
    table.horizontalHeader().repaint()
    calls = model.calls
    assert 0 < calls < ROWS // 10, calls
    selected = table.selectionModel().selection()
    assert [(r.top(), r.bottom()) for r in selected] == [(0, ROWS - 1)]
