"""The time-lapse strip as a user meets it: real mouse and keys on the test's X server,
what a screen reader reads, and what an arriving still costs when the night is long."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, QPoint, QPointF, Qt
from PySide6.QtGui import QAccessible, QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from meteorgui.archive.browse import StripFile
from meteorgui.gui.browser.delegates import StripDelegate
from meteorgui.gui.browser.strip import StripModel, StripView
from meteorgui.gui.browser.widget import _option

from .conftest import activate

T0 = 1_795_000_000_000
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
LEFT = Qt.MouseButton.LeftButton


class Pictures:
    """The thumbnail service's one call the delegate makes: a picture for each still."""

    def __init__(self):
        self.image = QImage(96, 72, QImage.Format.Format_RGB32)
        self.image.fill(QColor(40, 60, 90))

    def get(self, file_id, md5, mime_type, size):
        return self.image


def still(i: int, camera: str = "cam") -> StripFile:
    return StripFile(f"f{i:06d}", camera, T0 + i * 30_000, "image/png", "0" * 32, "s", f"{i}.png")


def make_strip(qtbot, n: int, width: int = 700) -> StripView:
    model = StripModel()
    model.set_files([still(2 * i) for i in range(n)])  # even seconds: room for arrivals
    view = StripView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setItemDelegate(StripDelegate(Pictures(), 106, view))
    view.fit_height(view.itemDelegate().sizeHint(_option(view), QModelIndex()))
    view.resize(width, view.height())
    view.show()
    activate(qtbot, view)
    return view


def centre(view: StripView, row: int) -> QPoint:
    return view.visualRect(view.model().index(row, 0)).center()


def rows(indexes) -> list[int]:
    return sorted(i.row() for i in indexes)


def test_tiles_sit_side_by_side_and_the_mouse_finds_them(qtbot):
    view = make_strip(qtbot, 40)
    m = view.model()
    r0, r1 = view.visualRect(m.index(0)), view.visualRect(m.index(1))
    assert r0.size() == r1.size() and r0.width() > 0 and r0.top() == r1.top()
    assert r1.left() - r0.right() > 1  # a gap between tiles, no overlap
    for row in (0, 1, 4):
        assert view.indexAt(centre(view, row)).row() == row
    assert not view.indexAt(QPoint(r0.right() + 2, r0.center().y())).isValid()  # the gap


def test_clicks_choose_stills_as_in_any_list(qtbot):
    view = make_strip(qtbot, 40)
    sm, vp = view.selectionModel(), view.viewport()
    qtbot.mouseClick(vp, LEFT, pos=centre(view, 1))
    assert view.currentIndex().row() == 1 and rows(sm.selectedRows()) == [1]
    qtbot.mouseClick(vp, LEFT, SHIFT, centre(view, 4))
    assert rows(sm.selectedRows()) == [1, 2, 3, 4]
    qtbot.mouseClick(vp, LEFT, CTRL, centre(view, 3))
    assert rows(sm.selectedRows()) == [1, 2, 4]
    qtbot.mouseClick(vp, LEFT, pos=centre(view, 2))
    assert rows(sm.selectedRows()) == [2]


def test_a_drag_selects_the_stills_it_passes(qtbot):
    view = make_strip(qtbot, 40)
    vp = view.viewport()
    qtbot.mousePress(vp, LEFT, pos=centre(view, 0))
    qtbot.mouseMove(vp, centre(view, 1))
    qtbot.mouseMove(vp, centre(view, 2))
    qtbot.mouseRelease(vp, LEFT, pos=centre(view, 2))
    assert rows(view.selectionModel().selectedRows()) == [0, 1, 2]


def test_keys_walk_the_strip_and_keep_the_current_still_in_view(qtbot):
    view = make_strip(qtbot, 40)
    m, sm = view.model(), view.selectionModel()
    qtbot.mouseClick(view.viewport(), LEFT, pos=centre(view, 0))
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.currentIndex().row() == 2
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.currentIndex().row() == 1
    qtbot.keyClick(view, Qt.Key.Key_Down)  # one row of tiles: nowhere to go
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert view.currentIndex().row() == 1
    qtbot.keyClick(view, Qt.Key.Key_Right, SHIFT)
    qtbot.keyClick(view, Qt.Key.Key_Right, SHIFT)
    assert rows(sm.selectedRows()) == [1, 2, 3]
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert view.currentIndex().row() == 39 and rows(sm.selectedRows()) == [39]
    assert view.viewport().rect().contains(view.visualRect(m.index(39)))
    qtbot.keyClick(view, Qt.Key.Key_PageUp)
    page = view.currentIndex().row()
    assert 30 <= page < 39  # about a viewport's width of tiles back
    assert view.viewport().rect().contains(view.visualRect(m.index(page)))
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert view.currentIndex().row() == 0 and view.horizontalScrollBar().value() == 0
    qtbot.keyClick(view, Qt.Key.Key_A, CTRL)
    assert len(sm.selectedRows()) == 40


def test_the_wheel_scrolls_the_strip_sideways(qtbot):
    view = make_strip(qtbot, 40)
    sb = view.horizontalScrollBar()
    assert sb.isVisible() and sb.value() == 0
    pos = QPointF(centre(view, 1))
    wheel = QWheelEvent(
        pos,
        QPointF(view.viewport().mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, -120),  # the vertical wheel, one notch down
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert sb.value() > 0


def test_the_scroll_range_covers_every_still_and_show_latest_reaches_the_last(qtbot):
    view = make_strip(qtbot, 300)
    m, sb = view.model(), view.horizontalScrollBar()
    view.show_latest()
    last = view.visualRect(m.index(299))
    assert view.viewport().rect().contains(last)
    assert sb.value() == sb.maximum()
    assert view.viewport().width() - last.right() <= 4  # no empty room after the last
    assert view.indexAt(last.center()).row() == 299


def test_a_screen_reader_reads_the_strip_as_a_list_of_times(qtbot):
    view = make_strip(qtbot, 12)
    acc = QAccessible.queryAccessibleInterface(view)
    assert acc.role() == QAccessible.Role.List
    assert acc.childCount() == 12
    item = acc.child(2)
    assert item.role() == QAccessible.Role.ListItem
    assert item.text(QAccessible.Text.Name) == view.model().index(2).data()
    rect = view.visualRect(view.model().index(2))
    top_left = view.viewport().mapToGlobal(rect.topLeft())
    assert item.rect().topLeft() == top_left


def test_a_still_arriving_before_what_is_shown_leaves_it_in_place(qtbot):
    view = make_strip(qtbot, 100)
    m = view.model()
    view.scrollTo(m.index(50), view.ScrollHint.PositionAtCenter)
    mid = view.indexAt(QPoint(view.viewport().width() // 2, 40)).row()
    before = m.index(mid).data()
    assert m.add(still(1))  # between the first two: every shown tile moves one place on
    assert m.index(mid + 1).data() == before
    assert view.indexAt(QPoint(view.viewport().width() // 2, 40)).row() == mid + 1


@pytest.mark.parametrize("n", [50, 5000])
def test_a_still_arriving_costs_the_same_whatever_the_strip_holds(qtbot, n):
    """QListView laid every tile out again after each insert (12-19 ms at 6,000 stills):
    here tiles are placed by arithmetic, and an arrival touches only what is on screen."""
    view = make_strip(qtbot, n)
    view.show_latest()
    qtbot.waitUntil(lambda: view.viewport().rect().contains(centre(view, n - 1)))
    calls = {"layout": 0, "rects": 0}
    layout, rect_of = view.doItemsLayout, view._rect_of

    def counted_layout():
        calls["layout"] += 1
        layout()

    def counted_rect(row):
        calls["rects"] += 1
        return rect_of(row)

    view.doItemsLayout = counted_layout
    view._rect_of = counted_rect
    model = view.model()
    for k in range(5):
        assert model.add(still(2 * n + k))  # at the end, as a camera sends them
        view.show_latest()
        view.viewport().repaint()
    assert calls["layout"] == 0
    shown = view.viewport().width() // view.visualRect(model.index(0)).width() + 2
    assert calls["rects"] <= 5 * (shown + 8)


def test_the_windows_strip_follows_a_camera_and_the_users_clicks_and_keys(gui, push, qtbot):
    """The real window: stills pushed through the importer appear in the strip; a click and
    the End key show a still in the detail pane; while the strip shows its end, new stills
    are seen arriving; nothing is kept for them once the strip has been read."""
    from datetime import datetime

    from meteorgui.simulate import make_night

    evening = int(datetime(2026, 11, 3, 20).timestamp() * 1000)
    browser, detail = gui.window.browser, gui.window.detail
    strip, model = browser.strip, browser.strip_model
    first = make_night(3, events=1, timelapse=30, start_ms=evening)
    push(first)
    qtbot.waitUntil(
        lambda: model.rowCount() == 30 and browser._strip_arrivals is None and browser._ready,
        timeout=15_000,
    )
    qtbot.mouseClick(strip.viewport(), LEFT, pos=centre(strip, 1))
    qtbot.waitUntil(
        lambda: detail.info is not None and detail.info.event.event_id == model.file_at(1).file_id,
        timeout=15_000,
    )
    qtbot.keyClick(strip, Qt.Key.Key_End)
    last = model.file_at(29).file_id
    qtbot.waitUntil(
        lambda: detail.info is not None and detail.info.event.event_id == last, timeout=15_000
    )
    assert strip.viewport().rect().contains(strip.visualRect(model.index(29)))
    later = make_night(4, events=0, timelapse=6, start_ms=evening + 3 * 3_600_000)
    push(later)
    qtbot.waitUntil(lambda: model.rowCount() == 36, timeout=15_000)
    qtbot.waitUntil(
        lambda: strip.viewport().rect().contains(strip.visualRect(model.index(35))),
        timeout=15_000,
    )
    assert browser.selected_file_ids() == [last]  # the user's choice stays where it was
    assert browser._strip_arrivals is None  # the strip was read: arrivals go straight in
