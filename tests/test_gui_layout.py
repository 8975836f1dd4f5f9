"""The window on a 1280×720 screen: it fits, its layout is remembered, the review layout."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from meteorgui.gui.browser.filterbar import DATE_RANGE
from meteorgui.gui.browser.widget import GRID, TABLE
from meteorgui.gui.startup import build, close
from meteorgui.settings import Settings

from .conftest import activate


def _open(qtbot, tmp_path):
    settings = Settings(host="127.0.0.1", port=0, importer_autostart=False)
    ctx, window = build(tmp_path / "data", settings)
    qtbot.addWidget(window)
    window.show()
    activate(qtbot, window)
    qtbot.waitUntil(lambda: window.browser._ready, timeout=10_000)
    return ctx, window


def _close(ctx, window):
    window.close()
    close(ctx)


def test_the_window_fits_a_1280x720_screen_even_with_a_date_range(qtbot, tmp_path):
    ctx, window = _open(qtbot, tmp_path)
    try:
        avail = window.screen().availableGeometry()
        assert window.width() <= avail.width() and window.height() <= avail.height()
        f = window.browser.filters
        f.set_export_targets([("t1", "Central archive at the observatory")])
        f.night.setCurrentIndex(f.night.findData(DATE_RANGE))
        qtbot.waitUntil(f.date_from.isVisible)
        QApplication.processEvents()
        hint = window.minimumSizeHint()
        assert hint.width() <= 1280 and hint.height() <= 720 - 32, hint
        assert window.width() <= avail.width()  # not widened, for good or otherwise
    finally:
        _close(ctx, window)


def test_the_layout_is_remembered_and_reset(qtbot, tmp_path):
    ctx, window = _open(qtbot, tmp_path)
    window.resize(1100, 640)
    # The log beside the monitor instead of behind it; the export dock put away.
    window.log_dock.setFloating(True)  # the log in a window of its own
    window.log_dock.show()
    window.export_ui.dock.hide()
    QApplication.processEvents()
    window.splitter.setSizes([500, 500])
    window.browser.set_view(TABLE)
    window.browser.filters.set_sort("duration", False)
    QApplication.processEvents()
    sizes = window.splitter.sizes()
    size = window.size().toTuple()
    assert size[0] == 1100
    _close(ctx, window)

    ctx, window = _open(qtbot, tmp_path)
    try:
        QApplication.processEvents()
        assert window.size().toTuple() == size
        assert window.log_dock.isVisible() and window.monitor_dock.isVisible()
        assert window.log_dock.isFloating()
        assert not window.export_ui.dock.isVisible()
        assert window.splitter.sizes() == sizes
        assert window.browser.view() == TABLE
        f = window.browser.filters
        assert (f.sort.currentData(), f.order.isChecked()) == ("duration", False)

        window.act_reset_layout.trigger()
        QApplication.processEvents()
        assert window.monitor_dock.isVisible() and not window.log_dock.isFloating()
        assert window.log_dock in window.tabifiedDockWidgets(window.monitor_dock)
        assert window.browser.view() == GRID
        assert (f.sort.currentData(), f.order.isChecked()) == ("time", True)
        assert window.width() <= window.screen().availableGeometry().width()
    finally:
        _close(ctx, window)


def test_review_layout_gives_the_picture_the_space_with_one_key(qtbot, tmp_path):
    ctx, window = _open(qtbot, tmp_path)
    try:
        detail = window.detail
        QApplication.processEvents()
        before = detail.stack.size()
        docks = [d for d in window.docks() if d.isVisible()]
        assert docks
        qtbot.keyClick(window.browser.grid, Qt.Key.Key_R)
        QApplication.processEvents()
        assert window.review_layout
        assert not any(d.isVisible() for d in window.docks())
        assert detail.splitter.orientation() == Qt.Orientation.Horizontal  # facts beside
        after = detail.stack.size()
        assert after.height() >= before.height() + 150 and after.height() >= 450, (before, after)
        qtbot.keyClick(window.browser.grid, Qt.Key.Key_R)
        QApplication.processEvents()
        assert not window.review_layout
        assert all(d.isVisible() for d in docks)
        assert detail.splitter.orientation() == Qt.Orientation.Vertical
        # Quitting in the review layout starts in it next time, the docks saved as they were.
        qtbot.keyClick(window.browser.grid, Qt.Key.Key_R)
        assert window.review_layout
    finally:
        _close(ctx, window)
    ctx, window = _open(qtbot, tmp_path)
    try:
        assert window.review_layout and window.act_review_layout.isChecked()
        assert not any(d.isVisible() for d in window.docks())
        window.set_review_layout(False)
        assert window.monitor_dock.isVisible()
    finally:
        _close(ctx, window)
