"""No text cut off where a user must read it: columns fit or elide with the whole text."""

from PySide6.QtGui import QFont, QFontMetrics, QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from meteorgui.gui.common.elide import cell_fits
from meteorgui.gui.monitor.importlog import COL_CAMERA, COL_MESSAGE
from meteorgui.simulate import make_night

WAIT = 15_000


def _bold_width(widget, text):
    font = QFont(widget.font())
    font.setBold(True)
    return QFontMetrics(font).horizontalAdvance(text)


def test_camera_names_fit_the_health_table_and_the_camera_filter(gui, push, qtbot):
    night = make_night(5, events=3, timelapse=2)
    assert push(night).ok
    health = gui.window.monitor.health
    names = {s.inst_name for s in night.statuses if s.inst_name}
    assert any(len(n) > 20 for n in names)  # "Cambridge Science Centre roof"
    qtbot.waitUntil(lambda: health.model.rowCount() == len(names), timeout=WAIT)
    view = health.view
    qtbot.waitUntil(
        lambda: all(view.columnWidth(0) >= _bold_width(view, n) + 6 for n in names),
        timeout=WAIT,
    )
    combo = gui.window.browser.filters.camera
    qtbot.waitUntil(lambda: combo.count() == 1 + len(names), timeout=WAIT)
    for i in range(1, combo.count()):
        combo.setCurrentIndex(i)
        text = combo.itemText(i)
        assert combo.toolTip() == text
        assert combo.view().minimumWidth() >= combo.fontMetrics().horizontalAdvance(text)


def test_import_log_header_and_cut_off_cells_are_readable(gui, push, qtbot):
    assert push(make_night(6, events=2, timelapse=0)).ok
    mon = gui.window.monitor
    view = mon.view
    qtbot.waitUntil(lambda: mon.model.rowCount() >= 2, timeout=WAIT)
    header = view.horizontalHeader()
    assert header.sectionSize(COL_MESSAGE) >= header.sectionSizeFromContents(COL_MESSAGE).width()
    # Where the dock shows it (right after the state), its title starting in view.
    title = header.fontMetrics().horizontalAdvance("Message") + 12
    assert header.sectionViewportPosition(COL_MESSAGE) + title <= view.viewport().width()
    # A cell too narrow for its text shows the whole of it when pointed at.
    view.setColumnWidth(COL_CAMERA, 40)
    index = view.model().index(0, COL_CAMERA)
    assert not cell_fits(view, index)
    rect = view.visualRect(index)
    pos = rect.center()
    event = QHelpEvent(QHelpEvent.Type.ToolTip, pos, view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.viewport(), event)
    qtbot.waitUntil(QToolTip.isVisible, timeout=5000)
    assert QToolTip.text() == index.data()
    QToolTip.hideText()


def test_verify_state_column_is_whole(gui, push, qtbot):
    from meteorgui.gui.tools.verify import VerifyDialog

    night = make_night(7, events=1, timelapse=0)
    assert push(night).ok
    f = night.events[0].files[1]
    gui.archive.file_path(f).write_bytes(b"damaged")
    dlg = VerifyDialog(gui, gui.window, autostart=False)
    qtbot.addWidget(dlg)
    dlg.open()
    with qtbot.waitSignal(dlg.finishedChecks, timeout=20_000):
        dlg.start()
    view = dlg.view
    state = view.model().index(0, 7)
    # Within the dialog's width, as shown, not scrolled out of sight.
    assert view.columnViewportPosition(7) + view.columnWidth(7) <= view.viewport().width()
    assert state.data() == "damaged"
    assert view.columnWidth(7) >= _bold_width(view, "damaged") + 6
    assert view.horizontalHeader().sectionSize(7) >= (
        view.horizontalHeader().sectionSizeFromContents(7).width()
    )
    dlg.close()


def test_the_password_note_in_add_export_target_is_not_cut(gui, qtbot):
    from meteorgui.gui.export.targets import TargetEditDialog

    service = gui.export
    dlg = TargetEditDialog(service, None, gui.window)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: "password" in dlg.kept.text().lower(), timeout=WAIT)
    QApplication.processEvents()
    label = dlg.kept
    need = label.heightForWidth(label.width())
    assert label.height() >= need, (label.height(), need, label.text())
    assert label.geometry().bottom() <= dlg.height()
    dlg.close()


def test_a_time_lapse_tile_half_out_of_view_keeps_its_label_whole():
    from PySide6.QtCore import QRect

    from meteorgui.gui.browser.delegates import label_place

    seen = QRect(0, 0, 600, 120)
    # The first tile, scrolled 50 px out on the left: its label slides into view, whole.
    place = label_place(QRect(-50, 90, 106, 20), seen, 52)
    assert place == QRect(0, 90, 56, 20)
    # Too little of it shows for the label: none rather than a cut one.
    assert label_place(QRect(-90, 90, 106, 20), seen, 52) is None
    # A tile fully in view keeps its rect.
    assert label_place(QRect(10, 90, 106, 20), seen, 52) == QRect(10, 90, 106, 20)


def test_filling_the_camera_filter_measures_each_name_once(qtbot):
    """A thousand camera ids once took 3.5 s of the GUI thread for each refill: every
    name added measured every name before it."""
    from PySide6.QtWidgets import QComboBox

    from meteorgui.gui.browser.filterbar import FilterBar
    from meteorgui.gui.common.elide import combo_full_text

    class Counting(QComboBox):
        read = 0

        def itemText(self, index):
            self.read += 1
            return super().itemText(index)

    combo = Counting()
    qtbot.addWidget(combo)
    combo_full_text(combo)
    names = [(f"Roof camera {i} " + "w" * (i % 13), f"b827eb{i:06x}") for i in range(500)]
    for _ in range(2):  # a refill clears the list and fills it again
        combo.read = 0
        FilterBar._refill(combo, "All cameras", names)
        assert combo.read <= 3 * len(names)
        widest = max(combo.fontMetrics().horizontalAdvance(text) for text, _ in names)
        assert combo.view().minimumWidth() >= widest
    combo.removeItem(combo.count() - 1)  # a removal measures what is left
    widest = max(combo.fontMetrics().horizontalAdvance(text) for text, _ in names[:-1])
    assert combo.view().minimumWidth() == widest + 40


def test_the_whole_text_tips_run_no_python_for_other_events_of_the_view(gui, qtbot):
    """The import log's view gets an event for each paint and mouse move: the full-text
    tips are its delegate's help event, not a Python filter of all its events (which took
    the GIL for each, waiting while the importer's threads ran Python)."""
    from .pythoncalls import python_run_for_events

    calls = python_run_for_events(gui.window.monitor.view.viewport())
    assert calls == []
