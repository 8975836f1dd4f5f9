"""The window on a 1280×720 screen: it fits, its layout is remembered, the review layout."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from meteorgui.gui.browser.filterbar import DATE_RANGE
from meteorgui.gui.browser.widget import GRID, TABLE
from meteorgui.gui.startup import build, close
from meteorgui.settings import Settings
from meteorgui.simulate import make_night

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
        assert not window.export_ui.dock.isHidden()  # back in its tab
        assert window.log_dock in window.tabifiedDockWidgets(window.monitor_dock)
        assert window.browser.view() == GRID
        assert (f.sort.currentData(), f.order.isChecked()) == ("time", True)
        assert window.width() <= window.screen().availableGeometry().width()
    finally:
        _close(ctx, window)


def test_the_dock_in_front_of_its_tabs_is_in_front_again(qtbot, tmp_path):
    """restoreState() puts the tabbed docks back, not which of them was in front."""
    ctx, window = _open(qtbot, tmp_path)
    qtbot.waitUntil(lambda: window.log_view is not None, timeout=10_000)
    assert window.log_dock in window.tabifiedDockWidgets(window.monitor_dock)
    window.log_dock.raise_()
    qtbot.waitUntil(lambda: not window.log_dock.visibleRegion().isEmpty())
    assert window.monitor_dock.visibleRegion().isEmpty()
    _close(ctx, window)

    ctx, window = _open(qtbot, tmp_path)
    try:
        qtbot.waitUntil(lambda: not window.log_dock.visibleRegion().isEmpty(), timeout=10_000)
        assert window.monitor_dock.visibleRegion().isEmpty()
    finally:
        _close(ctx, window)


def test_review_layout_gives_the_picture_the_space_with_one_key(gui, push, qtbot, tmp_path):
    from .test_gui_browser import on_screen

    window = gui.window
    browser, detail = window.browser, window.detail
    assert push(make_night(9, events=2, timelapse=0)).ok
    qtbot.waitUntil(lambda: browser._ready and browser.model.rowCount() == 2, timeout=10_000)
    browser.grid.setFocus()
    browser.grid.select_row(0)
    qtbot.waitUntil(on_screen(gui), timeout=10_000)
    qtbot.waitUntil(lambda: detail.stack.currentWidget() is detail.image, timeout=10_000)
    view = detail.image.view
    QApplication.processEvents()
    before = view.scale_factor()  # the picture's zoom, fitted to its pane
    docks = [d for d in window.docks() if d.isVisible()]
    assert docks
    qtbot.keyClick(browser.grid, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: view.scale_factor() >= 1.25 * before, timeout=5000)
    assert window.review_layout
    assert not any(d.isVisible() for d in window.docks())
    assert detail.splitter.orientation() == Qt.Orientation.Horizontal  # facts beside
    assert detail.tabs.isVisible() and detail.tabs.width() >= 250
    # The facts are all reachable: what does not fit the column scrolls, nothing is cut.
    form = detail.file_info.panel
    QApplication.processEvents()
    inner = form.widget()
    assert inner.width() <= form.viewport().width() or form.horizontalScrollBar().isVisible()
    assert inner.width() >= inner.minimumSizeHint().width()
    qtbot.keyClick(browser.grid, Qt.Key.Key_R)
    assert not window.review_layout
    assert all(d.isVisible() for d in docks)
    assert detail.splitter.orientation() == Qt.Orientation.Vertical
    qtbot.waitUntil(lambda: abs(view.scale_factor() - before) < 0.02, timeout=5000)


def test_review_layout_is_remembered(qtbot, tmp_path):
    ctx, window = _open(qtbot, tmp_path)
    try:
        window.act_review_layout.trigger()
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


def test_the_demo_keeps_its_layout_in_its_own_folder(qtbot, tmp_path):
    settings = Settings(host="127.0.0.1", port=0, importer_autostart=False)
    ctx, window = build(tmp_path / "demo-data", settings, demo=True)
    qtbot.addWidget(window)
    try:
        window.show()
        assert window.layout_store.path.parent == ctx.archive.data_dir
    finally:
        _close(ctx, window)
    assert (tmp_path / "demo-data" / "layout.ini").exists()
    assert not (tmp_path / "config" / "layout.ini").exists()  # the user's config untouched


def test_the_monitor_docked_at_a_side_keeps_the_window_on_a_1280_screen(qtbot, tmp_path):
    ctx, window = _open(qtbot, tmp_path)
    try:
        avail = window.screen().availableGeometry()
        bar = window.monitor.resend_button
        for area in (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea):
            window.addDockWidget(area, window.monitor_dock)
            # Cameras above the log, the log's buttons under its title.
            assert window.monitor.splitter.orientation() == Qt.Orientation.Vertical
            qtbot.waitUntil(lambda: window.minimumSizeHint().width() <= 1280, timeout=5_000)
            qtbot.waitUntil(lambda: window.width() <= avail.width(), timeout=5_000)
            assert window.dockWidgetArea(window.monitor_dock) == area
            assert bar.isVisible() and bar.width() >= bar.minimumSizeHint().width()
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, window.monitor_dock)
        assert window.monitor.splitter.orientation() == Qt.Orientation.Horizontal
    finally:
        _close(ctx, window)


def test_a_saved_layout_is_there_at_the_first_paint_and_the_late_parts_join_it(qtbot, tmp_path):
    """The app builds the monitor, log and export contents and the detail pane after its
    first page: the saved window state finds every dock by its name before the window
    is shown (nothing moves after the first paint), and the late parts' splitters get
    their saved sizes when they are built. A window closed before then keeps them."""
    ctx, window = _open(qtbot, tmp_path)
    window.resize(1100, 640)
    window.log_dock.setFloating(True)
    window.export_dock.hide()
    QApplication.processEvents()
    window.resizeDocks([window.monitor_dock], [260], Qt.Orientation.Vertical)
    window.splitter.setSizes([700, 396])  # within the panes' minimum widths
    window.detail.splitter.setSizes([300, 200])
    QApplication.processEvents()
    main_sizes, detail_sizes = window.splitter.sizes(), window.detail.splitter.sizes()
    size, dock_height = window.size().toTuple(), window.monitor_dock.height()
    _close(ctx, window)

    settings = Settings(host="127.0.0.1", port=0, importer_autostart=False)
    for finish in (False, True):
        ctx, window = build(tmp_path / "data", settings, defer=True)
        qtbot.addWidget(window)
        try:
            # Before the first paint: the window and its docks as they were left.
            assert window.monitor is None and window.monitor_dock.widget() is None
            assert window.size().toTuple() == size
            assert window.log_dock.isFloating()
            window.show()
            qtbot.waitExposed(window)
            assert not window.export_dock.isVisible()
            assert window.splitter.sizes() == main_sizes
            assert window.monitor_dock.height() == dock_height
            if finish:
                window.finish_start()
                QApplication.processEvents()
                assert window.splitter.sizes() == main_sizes  # the pane took the stand-in's place
                assert window.detail.splitter.sizes() == detail_sizes
                assert window.monitor_dock.widget() is window.monitor
                assert window.monitor_dock.height() == dock_height
                assert window.log_view.isVisible() and not window.export_dock.isVisible()
        finally:
            _close(ctx, window)


def test_a_long_title_or_camera_name_elides_instead_of_widening_the_detail_pane(gui, push, qtbot):
    """The pane's title (the event's type and time) and its camera line were as wide as
    their text: each new event's title moved the splitter, narrowing the list step by step,
    and a camera's type of any length could push the list off the window."""
    from . import factories as fx
    from .conftest import CAMERA_USER

    window = gui.window
    window.resize(1280, 720)
    night = make_night(4, events=1, timelapse=0)
    assert push(night).ok
    long_name = "Observatory" + "x" * 150
    st = fx.status(inst_name=long_name)
    pack = fx.event_pack(st)
    kind = "meteorpi:" + "verylongeventtype" * 12
    pack.entity = fx.Event.from_dict({**pack.entity.to_dict(), "event_type": kind})
    node = fx.Node(gui.core.server.url, *CAMERA_USER)
    try:
        assert node.send(pack) == {"state": "complete"}
    finally:
        node.close()
    detail = window.detail

    def shown(event_id):
        detail.show_event(event_id)
        qtbot.waitUntil(
            lambda: detail.info is not None and detail.info.event.event_id == event_id,
            timeout=15_000,
        )
        for _ in range(3):  # the layout requests the new texts posted
            QApplication.processEvents()

    shown(night.events[0].event_id)
    sizes = window.splitter.sizes()
    assert "·" in detail.title.text() and not detail.title.toolTip()  # whole: no tip
    shown(pack.entity.event_id)
    assert window.splitter.sizes() == sizes
    assert detail.title.text().startswith("Verylongeventtype")  # whole, for whoever reads it
    assert detail.title.toolTip() == detail.title.text()  # elided on screen, whole in its tip
    shown = QLabel.text(detail.title)  # on screen: the type cut short, the time whole
    assert "…" in shown and shown.endswith(detail.title.text().rpartition("·")[2])
    assert detail.minimumSizeHint().width() < sizes[1]
