"""The event browser in the real main window, fed by a camera through the real importer.

Each test pushes small simulated nights over loopback HTTP (the ``push``
fixture) and waits for the GUI to catch up with ``qtbot.waitUntil``.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime

import pytest
from PySide6.QtCore import Qt

from meteorgui.archive import browse
from meteorgui.archive.nights import night_clock
from meteorgui.gui.browser import EventBrowser
from meteorgui.gui.browser import model as browser_model
from meteorgui.gui.browser.model import HIGHLIGHT_ROLE, REVIEW, ROW_ROLE
from meteorgui.gui.tools.summary import NightSummaryDialog
from meteorgui.model import Meta
from meteorgui.simulate import make_night

WAIT = 15_000


def local_ms(*args) -> int:
    return int(datetime(*args).timestamp() * 1000)


EVENING1 = local_ms(2026, 11, 3, 20)  # a night from 20:00 to 04:00: all in one noon-to-noon night
EVENING2 = local_ms(2026, 11, 4, 20)


def night(seed, events, timelapse=0, start=EVENING1, edit=None):
    """A simulated night; ``edit(events)`` may change its events (a list) in place."""
    n = make_night(seed, events=events, timelapse=timelapse, start_ms=start)
    if edit is not None:
        evs = list(n.events)
        edit(evs)
        n = dataclasses.replace(n, events=tuple(evs))
    return n


@pytest.fixture
def browser(gui, qtbot) -> EventBrowser:
    b = gui.window.browser
    qtbot.waitUntil(lambda: b._ready, timeout=WAIT)
    return b


def model_ids(b: EventBrowser) -> list[str]:
    m = b.model
    rows = [m.row_at(r) for r in range(m.rowCount())]
    assert None not in rows
    return [r.event_id for r in rows]


def settled(b: EventBrowser, n: int):
    return lambda: (
        not b.model.loading
        and b.model.rowCount() == n
        and all(b.model.row_at(r) is not None for r in range(n))
    )


def newest_first(events) -> list[str]:
    return [e.event_id for e in sorted(events, key=lambda e: e.event_time, reverse=True)]


def push_in_thread(push, n, rate=None):
    done = []
    t = threading.Thread(target=lambda: done.append(push(n, rate=rate)))
    t.start()
    return t, done


def activate(gui, qtbot, widget):
    gui.window.activateWindow()
    qtbot.waitUntil(gui.window.isActiveWindow, timeout=WAIT)
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus, timeout=WAIT)


def on_screen(gui):
    """The detail pane shows the current event: a review key now labels what the user sees."""
    b, d = gui.window.browser, gui.window.detail
    return lambda: b.current_event_id() != "" and d.shown_event_id() == b.current_event_id()


def test_a_camera_push_inserts_rows_in_place_without_a_reset(
    gui, push, browser, qtbot, qtmodeltester
):
    first = night(1, events=1)
    push(first)  # the first night appears and is chosen: that is a filter change
    qtbot.waitUntil(settled(browser, 1), timeout=WAIT)
    # The camera's first location moves the nights to its local noon: they are listed
    # again once it is archived, which may be after the first row is shown.
    expected = night_clock(gui.archive).start(EVENING1)
    qtbot.waitUntil(lambda: browser.current_night_start_ms() == expected, timeout=WAIT)
    qtbot.waitUntil(settled(browser, 1), timeout=WAIT)
    qtmodeltester.check(browser.model, force_py=True)  # stays connected: checks every insert
    resets, inserts, changed = [], [], []
    browser.model.modelReset.connect(lambda: resets.append(1))
    browser.model.dataChanged.connect(lambda _a, _b, roles=(): changed.append(list(roles)))
    browser.model.rowsInserted.connect(lambda _p, a, b: inserts.append((a, b)))
    more = night(2, events=8, timelapse=6)
    thread, done = push_in_thread(push, more, rate=40)
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT)
    thread.join()
    assert done[0].ok
    qtbot.waitUntil(settled(browser, 9), timeout=WAIT)
    assert resets == []
    assert inserts  # inserted where they belong, in one or more batches
    assert model_ids(browser) == newest_first(first.events + more.events)
    assert browser.count_label.text() == "9 events"
    # New rows glow briefly, then fade back.
    qtbot.waitUntil(lambda: any(HIGHLIGHT_ROLE in roles for roles in changed), timeout=WAIT)
    qtbot.waitUntil(
        lambda: all(browser.model.index(r, 0).data(HIGHLIGHT_ROLE) == 0 for r in range(9)),
        timeout=WAIT,
    )
    # The grid asked for each visible event's best still: the maxBrightness PNG, decoded.
    top = browser.model.row_at(0)
    best = next(
        f
        for e in more.events + first.events
        if e.event_id == top.event_id
        for f in e.files
        if "maxBrightness" in (f.semantic_type or "")
    )
    assert (top.still_id, top.still_mime) == (best.file_id, "image/png")
    size = gui.settings.thumbnail_size
    qtbot.waitUntil(
        lambda: browser.thumbs.state(best.file_id, best.md5, size) == "ok", timeout=WAIT
    )
    # The time-lapse stills of the night are in the strip, oldest first.
    qtbot.waitUntil(lambda: browser.strip_model.rowCount() == 6, timeout=WAIT)
    assert [f.file_id for f in browser.strip_model.files()] == [f.file_id for f in more.files]
    browser.strip.selectionModel().select(
        browser.strip_model.index(2), browser.strip.selectionModel().SelectionFlag.Select
    )
    assert browser.selected_file_ids() == [more.files[2].file_id]
    # Choosing a still shows it in the detail view, as a time-lapse still.
    browser.strip.setCurrentIndex(browser.strip_model.index(3))
    detail = gui.window.detail
    qtbot.waitUntil(
        lambda: detail.info is not None and detail.info.event.event_id == more.files[3].file_id,
        timeout=WAIT,
    )
    assert detail.info.standalone and detail.title.text().startswith("Time-lapse still")
    assert [f.file_id for f in detail.info.event.files] == [more.files[3].file_id]
    # A filter change resets the model (still under the model tester's eye).
    browser.filters.sort.setCurrentIndex(browser.filters.sort.findData("duration"))
    qtbot.waitUntil(lambda: len(resets) == 1, timeout=WAIT)
    qtbot.waitUntil(settled(browser, 9), timeout=WAIT)


def test_live_insert_keeps_the_selection_and_the_current_event(gui, push, browser, qtbot):
    early = night(3, events=5, start=EVENING1 - 4 * 3600_000)  # 16:00 to 00:00
    push(early)
    qtbot.waitUntil(settled(browser, 5), timeout=WAIT)
    browser.grid.select_row(2)
    chosen = model_ids(browser)[2]
    assert browser.selected_event_ids() == [chosen]
    assert browser.current_event_id() == chosen
    selected = []
    browser.eventSelected.connect(selected.append)
    late = night(4, events=3, start=EVENING1 + 4 * 3600_000)  # later: inserted above
    push(late)
    qtbot.waitUntil(settled(browser, 8), timeout=WAIT)
    ids = model_ids(browser)
    assert ids.index(chosen) == 2 + sum(
        e.event_time > early.events[2].event_time for e in late.events
    )
    assert browser.selected_event_ids() == [chosen]
    assert browser.current_row() == ids.index(chosen)
    assert selected == []  # the detail view was not disturbed


def test_filters_change_the_rows(gui, push, browser, qtbot):
    def edit(evs):
        evs[0] = dataclasses.replace(evs[0], event_type="meteorpi:sprite")
        note = Meta("string", "meteorpi:note", "Fireball over the church")
        evs[1] = dataclasses.replace(evs[1], meta=evs[1].meta + (note,))

    n1 = night(5, events=6, edit=edit)
    n2 = night(6, events=2, start=EVENING2)
    push(n1)
    push(n2)
    qtbot.waitUntil(settled(browser, 2), timeout=WAIT)  # the newest night is shown
    assert set(model_ids(browser)) == {e.event_id for e in n2.events}
    f = browser.filters
    first = night_clock(gui.archive).start(EVENING1)
    qtbot.waitUntil(lambda: f.night.findData(first) >= 0, timeout=WAIT)  # listed at local noon
    f.night.setCurrentIndex(f.night.findData(first))
    qtbot.waitUntil(settled(browser, 6), timeout=WAIT)
    assert model_ids(browser) == newest_first(n1.events)

    cameras = sorted({e.camera_id for e in n1.events})
    cam = cameras[0]
    f.camera.setCurrentIndex(f.camera.findData(cam))
    expected = [e for e in n1.events if e.camera_id == cam]
    qtbot.waitUntil(settled(browser, len(expected)), timeout=WAIT)
    assert model_ids(browser) == newest_first(expected)
    f.camera.setCurrentIndex(0)
    qtbot.waitUntil(settled(browser, 6), timeout=WAIT)

    qtbot.waitUntil(lambda: f.event_type.findData("meteorpi:sprite") >= 0, timeout=WAIT)
    f.event_type.setCurrentIndex(f.event_type.findData("meteorpi:sprite"))
    qtbot.waitUntil(settled(browser, 1), timeout=WAIT)
    assert model_ids(browser) == [n1.events[0].event_id]
    f.event_type.setCurrentIndex(0)
    qtbot.waitUntil(settled(browser, 6), timeout=WAIT)

    qtbot.keyClicks(f.text, "fireball")  # debounced: one query once typing pauses
    qtbot.waitUntil(settled(browser, 1), timeout=WAIT)
    assert model_ids(browser) == [n1.events[1].event_id]
    f.text.clear()
    qtbot.waitUntil(settled(browser, 6), timeout=WAIT)
    # A shower's name is no text a camera sent: the empty list points at the Shower filter.
    qtbot.keyClicks(f.text, "perseids")
    qtbot.waitUntil(
        lambda: "choose Perseids (PER) in the Shower filter" in browser.grid._empty_text,
        timeout=WAIT,
    )
    assert settled(browser, 0)()
    f.text.clear()
    qtbot.waitUntil(settled(browser, 6), timeout=WAIT)

    f.night.setCurrentIndex(f.night.findData("all"))
    qtbot.waitUntil(settled(browser, 8), timeout=WAIT)
    f.set_sort("duration", descending=False)
    qtbot.waitUntil(
        lambda: not browser.model.loading and browser.model.query.sort == "duration", timeout=WAIT
    )
    qtbot.waitUntil(settled(browser, 8), timeout=WAIT)
    durations = [browser.model.row_at(r).duration for r in range(8)]
    assert durations == sorted(durations)


def test_the_event_chosen_with_end_is_shown_once_its_row_is_read(
    gui, push, browser, qtbot, monkeypatch
):
    """End in a long list makes the last row current before its page is read: the detail
    pane said "No event selected" beside the highlighted card, and clicking the card again
    changed nothing. The event is shown once its row comes in."""
    monkeypatch.setattr(browser_model, "PAGE", 10)
    n = night(21, events=40)
    push(n)
    qtbot.waitUntil(lambda: browser.model.rowCount() == 40, timeout=WAIT)
    oldest = newest_first(n.events)[-1]
    browser.model.refresh()  # read again: the first page alone
    qtbot.waitUntil(lambda: not browser.model.loading, timeout=WAIT)
    assert browser.model.rowCount() == 40 and browser.model.row_at(39) is None
    grid = browser.grid
    activate(gui, qtbot, grid)
    grid.select_row(0)
    qtbot.waitUntil(lambda: browser.current_event_id() != "", timeout=WAIT)
    shown = []
    browser.eventSelected.connect(shown.append)
    qtbot.keyClick(grid, Qt.Key.Key_End)
    assert browser.current_row() == 39
    qtbot.waitUntil(lambda: shown[-1:] == [oldest], timeout=WAIT)
    assert browser.current_event_id() == oldest
    detail = gui.window.detail
    qtbot.waitUntil(
        lambda: detail.info is not None and detail.info.event.event_id == oldest, timeout=WAIT
    )


def test_a_selection_reaching_rows_not_read_yet_exports_and_copies_every_selected_event(
    gui, push, browser, qtbot, monkeypatch
):
    """Ctrl+A in 200,000 events selects rows the list never read (or read and let go):
    the export dialog said "The selected 120 events" and would have exported those alone,
    and Copy event id copied them alone. The rows not read are read in the pool."""
    from PySide6.QtCore import QItemSelection, QItemSelectionModel
    from PySide6.QtGui import QGuiApplication

    from meteorgui.gui.export.dialog import Scope

    monkeypatch.setattr(browser_model, "PAGE", 10)
    n = night(22, events=40)
    push(n)
    qtbot.waitUntil(lambda: browser.model.rowCount() == 40, timeout=WAIT)
    listed = newest_first(n.events)
    browser.model.refresh()  # read again: the first page alone
    qtbot.waitUntil(lambda: not browser.model.loading, timeout=WAIT)
    assert browser.model.row_at(39) is None
    grid = browser.grid
    activate(gui, qtbot, grid)
    grid.select_row(0)
    qtbot.keyClick(grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    scope = Scope.of(browser)
    assert scope.n_events == 40 and scope.selected_text() == "The selected 40 events"
    assert browser.model.row_at(39) is None  # not read by choosing it
    assert scope.selected_ids() == listed
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("")
    browser._copy_action.trigger()
    qtbot.waitUntil(lambda: clipboard.text() == "\n".join(listed), timeout=WAIT)
    # A range none of whose rows, nor the row before it, was read: read from its offset.
    m = browser.model
    chosen = QItemSelection(m.index(25, 0), m.index(33, 0))
    chosen.select(m.index(36, 0), m.index(37, 0))
    browser.selection.select(
        chosen,
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    assert [r for r in range(20, 40) if m.row_at(r) is not None] == []
    scope = Scope.of(browser)
    assert scope.n_events == 11
    assert scope.selected_ids() == listed[25:34] + listed[36:38]


def test_review_keys_store_labels_advance_undo_and_filter(gui, push, browser, qtbot):
    n = night(7, events=6)
    push(n)
    qtbot.waitUntil(settled(browser, 6), timeout=WAIT)
    ids = model_ids(browser)
    archive = gui.archive
    grid = browser.grid
    activate(gui, qtbot, grid)
    browser.grid.select_row(0)

    def labels():
        return browse.reviews(archive, ids)

    qtbot.waitUntil(on_screen(gui), timeout=WAIT)
    with qtbot.waitSignal(browser.reviewed, timeout=WAIT) as stored:
        qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert stored.args == [[ids[0]]]
    assert labels() == {ids[0]: "meteor"}
    assert browser.current_row() == 1  # moved on to the next event
    for key in (Qt.Key.Key_P, Qt.Key.Key_Delete, Qt.Key.Key_S):
        qtbot.waitUntil(on_screen(gui), timeout=WAIT)
        qtbot.keyClick(grid, key)
    qtbot.waitUntil(
        lambda: (
            labels() == {ids[0]: "meteor", ids[1]: "plane", ids[2]: "rejected", ids[3]: "satellite"}
        ),
        timeout=WAIT,
    )
    assert browser.current_row() == 4
    # Visible as a badge in the grid and a column in the table.
    qtbot.waitUntil(lambda: browser.model.row_at(3).label == "satellite", timeout=WAIT)
    assert browser.model.index(0, 0).data(ROW_ROLE).label == "meteor"
    assert browser.model.index(2, REVIEW).data() == "Rejected"

    qtbot.keyClick(grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo satellite
    qtbot.waitUntil(lambda: ids[3] not in labels(), timeout=WAIT)
    qtbot.keyClick(grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo rejected
    qtbot.waitUntil(lambda: ids[2] not in labels(), timeout=WAIT)
    qtbot.waitUntil(lambda: browser.model.row_at(2).label is None, timeout=WAIT)
    qtbot.keyClick(
        grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.waitUntil(lambda: labels().get(ids[2]) == "rejected", timeout=WAIT)
    assert browser.undo_action.isEnabled() and browser.redo_action.isEnabled()

    browser.grid.select_row(1)
    qtbot.waitUntil(on_screen(gui), timeout=WAIT)
    qtbot.keyClick(grid, Qt.Key.Key_U)  # clear
    qtbot.waitUntil(lambda: ids[1] not in labels(), timeout=WAIT)
    received = archive.get_event(ids[0])
    assert received == next(e for e in n.events if e.event_id == ids[0])  # untouched

    f = browser.filters
    f.review.setCurrentIndex(f.review.findData("unreviewed"))
    qtbot.waitUntil(settled(browser, 4), timeout=WAIT)
    assert model_ids(browser) == [ids[1], ids[3], ids[4], ids[5]]
    # Reviewing in the "unreviewed" list keeps the row in view until the filter changes.
    browser.grid.select_row(0)
    qtbot.waitUntil(on_screen(gui), timeout=WAIT)
    qtbot.keyClick(grid, Qt.Key.Key_B)
    qtbot.waitUntil(lambda: labels().get(ids[1]) == "bird", timeout=WAIT)
    qtbot.waitUntil(lambda: browser.model.row_at(0).label == "bird", timeout=WAIT)
    assert model_ids(browser) == [ids[1], ids[3], ids[4], ids[5]]
    # A live arrival into the filtered list lands in the right place despite the kept row.
    late = night(8, events=1, start=EVENING1 + 8 * 3600_000)  # after all the others
    push(late)
    qtbot.waitUntil(settled(browser, 5), timeout=WAIT)
    assert model_ids(browser)[0] == late.events[0].event_id
    f.review.setCurrentIndex(f.review.findData("meteor"))
    qtbot.waitUntil(settled(browser, 1), timeout=WAIT)
    assert model_ids(browser) == [ids[0]]


def test_table_view_shares_the_model_and_sorts_by_header(gui, push, browser, qtbot):
    n = night(9, events=5)
    push(n)
    qtbot.waitUntil(settled(browser, 5), timeout=WAIT)
    browser.grid.select_row(3)
    chosen = browser.current_event_id()
    browser.table_button.click()
    assert browser.table.model() is browser.model
    assert browser.table.selectionModel() is browser.selection
    assert browser.selected_event_ids() == [chosen]
    selected = []
    browser.eventSelected.connect(selected.append)
    browser.table.horizontalHeader().sectionClicked.emit(4)  # Brightness
    qtbot.waitUntil(lambda: browser.model.query.sort == "brightness", timeout=WAIT)
    qtbot.waitUntil(settled(browser, 5), timeout=WAIT)
    values = [browser.model.row_at(r).brightness for r in range(5)]
    assert values == sorted(values, reverse=True)
    assert browser.selected_event_ids() == [chosen]  # kept across the re-sort
    assert browser.current_event_id() == chosen and selected == []  # detail not disturbed
    browser.grid_button.click()
    assert browser.table.model() is None  # detached while hidden


def test_night_summary_counts_per_hour_camera_and_review(gui, push, browser, qtbot):
    n = night(10, events=7, timelapse=4)
    push(n)
    qtbot.waitUntil(settled(browser, 7), timeout=WAIT)
    browse.set_reviews(gui.archive, {n.events[0].event_id: "meteor"})
    dlg = NightSummaryDialog(gui, browser.current_night_start_ms(), gui.window)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: dlg.counts is not None, timeout=WAIT)
    c = dlg.counts
    assert c.total == 7
    assert sum(dlg.hour_totals()) == 7
    table = dlg.table
    headers = [table.horizontalHeaderItem(i).text() for i in range(table.columnCount())]
    total_row = table.rowCount() - 1
    assert table.item(total_row, 0).text() == "All cameras"
    assert table.item(total_row, headers.index("Events")).text() == "7"
    assert table.item(total_row, headers.index("Meteor")).text() == "1"
    assert table.item(total_row, headers.index("Unreviewed")).text() == "6"
    assert table.item(total_row, headers.index("Time-lapse")).text() == "4"
    for cam in n.cameras:
        row = next(r for r in range(total_row) if cam in table.item(r, 0).toolTip())
        events = sum(e.camera_id == cam for e in n.events)
        assert table.item(row, headers.index("Events")).text() == str(events)
    dlg.close()


def test_the_night_counts_and_camera_health_are_read_in_the_background(gui, push, browser, qtbot):
    """Both read the archive for hundreds of ms on a big one (every night's counts; every
    event received tonight) and ran beside the first filter changes at the same priority
    as their reads, which then took 2-3 times their own CPU time on a busy core."""
    push(night(7, events=2))
    qtbot.waitUntil(settled(browser, 2), timeout=WAIT)
    tasks = gui.window.browser.ctx.tasks
    asked: list[tuple[str, bool]] = []
    run = tasks.run

    def spy(work, *args, background=False, **kwargs):
        asked.append((getattr(work, "__qualname__", ""), background))
        return run(work, *args, background=background, **kwargs)

    tasks.run = spy
    try:
        browser._all_counted = False
        browser.count_nights()
        gui.window.monitor.health.refresh()
        browser._filters_changed()
        qtbot.waitUntil(lambda: not browser._counting_nights and not browser.model.loading)
    finally:
        del tasks.run
    background = {name.split(".<locals>")[0] for name, low in asked if low}
    normal = {name.split(".<locals>")[0] for name, low in asked if not low}
    assert {"EventBrowser.count_nights", "HealthPanel.refresh"} <= background, asked
    assert "EventListModel.set_query" in normal, asked  # a filter change's read is not


def test_pages_read_before_live_inserts_land_at_their_rows_current_indices():
    import random

    from meteorgui.gui.browser.model import shift_indices

    rng = random.Random(5)
    for _ in range(200):
        rows = list(range(rng.randrange(1, 40)))  # a list, as it was when a page was read
        now = list(rows)
        batch = sorted(rng.sample(range(len(rows) + 5), rng.randrange(0, 5)))
        batch = [p for p in batch if p <= len(now) + batch.index(p)]
        for p in batch:  # inserted at their final positions, ascending
            now.insert(p, "new")
        page = sorted(rng.sample(rows, rng.randrange(1, len(rows) + 1)))
        assert [now[i] for i in shift_indices(page, batch)] == page


def test_stills_an_event_takes_over_leave_the_time_lapse_strip(gui, browser, qtbot):
    from . import factories as fx
    from .conftest import CAMERA_USER

    st = fx.status(valid_from=EVENING1 - 3_600_000)
    ev = fx.event_pack(st, n_files=1, t=EVENING1 + 60_000)
    lone = fx.Pack(ev.entity.files[0], st, ev.blobs)  # the node sent its file first, alone
    node = fx.Node(gui.core.server.url, *CAMERA_USER)
    try:
        assert node.send(lone) == {"state": "complete"}
        qtbot.waitUntil(lambda: browser.strip_model.rowCount() == 1, timeout=WAIT)
        assert node.send(ev) == {"state": "complete"}
    finally:
        node.close()
    qtbot.waitUntil(
        lambda: browser.strip_model.rowCount() == 0 and settled(browser, 1)(), timeout=WAIT
    )
    qtbot.waitUntil(
        lambda: (
            "1 event" in browser.filters.night.itemText(0)
            and "still" not in browser.filters.night.itemText(0)
        ),
        timeout=WAIT,
    )


def test_a_selection_made_while_the_list_is_read_again_is_kept(gui, push, browser, qtbot):
    # The first camera location, a filter or the sort order lists the events anew; the
    # user's click on a row of the list still shown must not be undone when it arrives.
    push(night(23, events=3))
    qtbot.waitUntil(settled(browser, 3), timeout=WAIT)
    qtbot.waitUntil(lambda: browser.filters.clock.longitude is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: not browser.model.loading, timeout=WAIT)
    browser.grid.clearSelection()
    qtbot.waitUntil(lambda: browser.current_event_id() == "", timeout=WAIT)
    browser.filters.order.toggle()  # oldest first: read again, in the other order
    assert browser.model.loading
    browser.grid.select_row(0)
    chosen = browser.current_event_id()
    assert chosen
    qtbot.waitUntil(lambda: not browser.model.loading, timeout=WAIT)
    qtbot.waitUntil(on_screen(gui), timeout=WAIT)
    assert browser.current_event_id() == chosen
    rows = {i.row() for i in browser.grid.selectionModel().selectedRows()}
    assert rows == {2} and browser.model.row_at(2).event_id == chosen


def test_arrivals_from_a_new_camera_fold_into_one_more_read_of_the_choices(
    gui, browser, push, qtbot, monkeypatch
):
    """Each arrival from a camera the filter does not list yet asks for the filter's
    choices again; while one read runs (it counts every night of the archive), the asks
    fold into one more read, not one read each."""
    gate, reads, asks = threading.Event(), [], []
    real_cameras, real_load = browse.cameras, browser._load_choices

    def cameras(archive):
        reads.append(1)
        gate.wait(10)
        return real_cameras(archive)

    def load_choices(initial=False):
        asks.append(initial)
        real_load(initial)

    monkeypatch.setattr(browse, "cameras", cameras)
    monkeypatch.setattr(browser, "_load_choices", load_choices)
    new = night(5, events=0, timelapse=12)
    push(new)
    qtbot.waitUntil(lambda: len(asks) >= 12, timeout=WAIT)  # one ask per still
    gate.set()
    qtbot.waitUntil(lambda: all(browser.filters.has_camera(c) for c in new.cameras), timeout=WAIT)
    # The pool starts work in order: once this starts, every read asked before it has.
    marker = []
    gui.tasks.run(lambda: None, marker.append)
    qtbot.waitUntil(lambda: bool(marker), timeout=WAIT)
    assert len(reads) <= 2


def test_a_filter_change_shows_the_list_before_the_chosen_events_row_is_found(
    gui, browser, qtbot, monkeypatch
):
    """Counting the rows before an event deep in the list walks that far through an index
    (seconds on a million events): the new list is shown at once, and the chosen event
    selected where it is once its row is found, counting rows that arrived meanwhile."""
    from .test_browse import HOUR, NIGHT1, Maker

    make = Maker(gui.archive)
    for k in range(300):
        make.event(t=NIGHT1 + 8 * HOUR + k * 10_000)
    qtbot.waitUntil(
        lambda: (
            browser.filters.clock.longitude is not None
            and not browser.model.loading
            and browser.model.rowCount() == 300
        ),
        timeout=WAIT,
    )
    browser.grid.scrollTo(browser.model.index(200, 0))
    qtbot.waitUntil(lambda: browser.model.row_at(200) is not None, timeout=WAIT)
    browser.grid.select_row(200)
    chosen = browser.current_event_id()
    assert chosen
    gate = threading.Event()

    def held(real):
        def wait_then(*args, **kwargs):
            assert gate.wait(WAIT / 1000)
            return real(*args, **kwargs)

        return wait_then

    # Finding the event's row takes long: held until the list is seen.
    monkeypatch.setattr(browse, "around", held(browse.around))
    monkeypatch.setattr(browse, "position_of", held(browse.position_of))
    selected: list[str] = []
    browser.eventSelected.connect(selected.append)
    f = browser.filters
    f.review.setCurrentIndex(f.review.findData(browse.UNREVIEWED))  # the same events
    qtbot.waitUntil(
        lambda: not browser.model.loading and browser.model.query.review == browse.UNREVIEWED,
        timeout=WAIT,
    )
    # Shown, with the chosen event's row still being looked for: the detail pane keeps it.
    assert browser.model.placing and browser.model.row_at(0) is not None
    assert browser.current_event_id() == chosen and selected == []
    newest = make.event(t=NIGHT1 + 9 * HOUR)  # arrives at the top meanwhile
    qtbot.waitUntil(lambda: browser.model.rowCount() == 301, timeout=WAIT)
    gate.set()
    qtbot.waitUntil(lambda: not browser.model.placing, timeout=WAIT)
    rows = {i.row() for i in browser.grid.selectionModel().selectedRows()}
    assert rows == {201} and browser.model.row_at(201).event_id == chosen
    assert browser.model.row_at(0).event_id == newest.event_id
    assert browser.current_event_id() == chosen and selected == []
    # The rows around it were read with it, in their places.
    assert [browser.model.row_at(r).event_id for r in (150, 202, 250)] == [
        browse.page(gui.archive, browser.model.query, r, 1)[0].event_id for r in (150, 202, 250)
    ]


def test_a_text_many_events_hold_is_listed_from_its_first_page_before_it_is_counted(
    gui, browser, qtbot, monkeypatch
):
    """Counting a text that many events hold walks it over the whole full-text index
    (80-116 ms on a million events, "site b"): the first page is listed at once, the
    count said as "120+ events", and the rest of the rows added at the list's end when
    counted. Events arriving meanwhile are inserted after that, at their places."""
    from meteorgui.archive import search
    from meteorgui.gui.browser.filterbar import ALL_NIGHTS
    from meteorgui.gui.browser.model import PAGE
    from meteorgui.model import Meta

    from .test_browse import HOUR, NIGHT1, Maker

    make = Maker(gui.archive)
    note = [Meta("string", "meteorpi:note", "fireball bright")]
    for k in range(300):
        extra = [Meta("string", "meteorpi:note", "plane")] if k % 12 == 5 else note
        make.event(t=NIGHT1 + 8 * HOUR + k * 10_000, extra_meta=extra)
    qtbot.waitUntil(
        lambda: not browser.model.loading and browser.model.rowCount() == 300, timeout=WAIT
    )
    monkeypatch.setattr(search, "PROBE", 5)
    gate = threading.Event()
    real = browse.count

    def count(*args, exact=True, **kw):
        if exact:  # the count of every match: held until the first page is seen
            assert gate.wait(WAIT / 1000)
        return real(*args, exact=exact, **kw)

    monkeypatch.setattr(browse, "count", count)
    f = browser.filters
    f.night.setCurrentIndex(f.night.findData(ALL_NIGHTS))  # over all nights: the index alone
    qtbot.waitUntil(lambda: not browser.model.loading, timeout=WAIT)
    # No event chosen: Qt makes the first card current when the grid gets the focus, and
    # the event that was first then is the oldest, far below the first page: its row
    # would be looked for with an exact count first (test_the_event_chosen_with_end...).
    browser.grid.clearSelection()
    browser.selection.clearCurrentIndex()
    assert browser.current_event_id() == ""
    f.text.setText("fireball bright")
    f.text.returnPressed.emit()
    m = browser.model
    qtbot.waitUntil(lambda: not m.loading and m.query.text == "fireball bright", timeout=WAIT)
    assert m.counting and m.rowCount() == PAGE
    assert browser.count_label.text() == f"{PAGE}+ events …"
    expected = [r.event_id for r in browse.page(gui.archive, m.query, 0, 400)]
    assert [m.row_at(r).event_id for r in range(PAGE)] == expected[:PAGE]
    newest = make.event(t=NIGHT1 + 9 * HOUR, extra_meta=note)  # arrives while counting
    gate.set()
    qtbot.waitUntil(lambda: m.rowCount() == len(expected) + 1, timeout=WAIT)
    assert not m.counting and len(expected) == 275
    assert m.row_at(0).event_id == newest.event_id
    assert browser.count_label.text() == f"{len(expected) + 1} events"
    browser.grid.scrollTo(m.index(len(expected), 0))
    qtbot.waitUntil(lambda: m.row_at(len(expected)) is not None, timeout=WAIT)
    assert m.row_at(len(expected)).event_id == expected[-1]


def test_a_burst_of_arrivals_is_read_a_batch_at_a_time(gui, browser, push, qtbot, monkeypatch):
    """Each arrival was read and inserted as soon as it was announced: while cameras
    pushed, 27 reads a second, each moving every row below it and repainting the grid.
    A burst is now read at most every ARRIVALS_EVERY_S, and a lone event at once
    (readings 0.03-0.04 s apart without it)."""
    import time

    from meteorgui.gui.browser.model import ARRIVALS_EVERY_S

    reads: list[float] = []
    resets: list[float] = []
    real = browse.arrivals

    def arrivals(*args, **kw):
        reads.append(time.monotonic())
        return real(*args, **kw)

    browser.model.modelReset.connect(lambda: resets.append(time.monotonic()))

    monkeypatch.setattr(browse, "arrivals", arrivals)
    new = night(7, events=40)
    pushing = threading.Thread(target=push, args=(new,))
    pushing.start()
    qtbot.waitUntil(lambda: browser.model.rowCount() == 40, timeout=WAIT)
    pushing.join()
    # Within one list (a new night shown at the first arrival is read at once, with what
    # arrived meanwhile). Slack: the pool starts a reading some time after the model asks
    # for it, and that time varies with the load.
    apart = [
        b - a
        for a, b in zip(reads, reads[1:], strict=False)
        if not any(a <= r <= b for r in resets)
    ]
    assert apart and min(apart) >= ARRIVALS_EVERY_S * 0.5
    quiet = time.monotonic()
    qtbot.waitUntil(lambda: time.monotonic() - quiet > ARRIVALS_EVERY_S, timeout=WAIT)
    browser.model.notify_arrival()
    assert browser.model._arrivals.timer.interval() == 0  # after a quiet spell: at once


def count_passes(delegate, monkeypatch) -> list[int]:
    """One entry per paint pass of the grid with a budget (not the reset after it): the
    cards it made."""
    passes: list[int] = []
    real_begin, real_card = delegate.begin_pass, delegate._paint_card

    def begin_pass(budget_s):
        if budget_s:
            passes.append(0)
        real_begin(budget_s)

    def paint_card(*args):
        if passes:
            passes[-1] += 1
        real_card(*args)

    monkeypatch.setattr(delegate, "begin_pass", begin_pass)
    monkeypatch.setattr(delegate, "_paint_card", paint_card)
    return passes


def test_a_screenful_of_new_cards_is_made_a_few_at_a_time(gui, browser, push, qtbot, monkeypatch):
    """Making a card costs the GUI thread about a millisecond, and a screenful of new ones
    (a scroll through old nights, a page of thumbnails decoded at once) held the window
    for 40 ms and more in one paint. A pass now makes cards for PAINT_BUDGET_S and leaves
    the rest to the next turn of the event loop. With a budget of nothing, each pass makes
    one card, and every card on screen is still made (all in one pass without the
    budget)."""
    from meteorgui.gui.browser import grid as grid_module

    delegate, view = browser.tile_delegate, browser.grid
    passes = count_passes(delegate, monkeypatch)
    monkeypatch.setattr(grid_module, "PAINT_BUDGET_S", 1e-9)
    push(night(8, events=12))
    qtbot.waitUntil(settled(browser, 12), timeout=WAIT)

    def every_card_made() -> bool:
        made = {key[1] for key in delegate._cache}
        shown = {browser.model.row_at(r).event_id for r in view.visible_rows()}
        return shown <= made and not view._rest.isActive()

    qtbot.waitUntil(every_card_made, timeout=WAIT)
    passes.clear()
    delegate.clear_cache()  # as when a scroll brings a screenful of cards not made before
    view.viewport().update()
    qtbot.waitUntil(lambda: len(passes) > 1 and every_card_made(), timeout=WAIT)
    shown = len(view.visible_rows())
    assert shown >= 4
    assert max(passes) == 1 and sum(passes) >= shown
    assert delegate.deadline == 0.0  # a paint outside the grid's own passes is not cut short


def test_cards_left_out_of_a_pass_are_painted_where_a_scroll_moved_them(
    gui, browser, push, qtbot, monkeypatch
):
    """A pass that leaves cards out repaints only their cells on the next turn, and a
    scroll may come in between (it moves what is on screen, and the cells still to paint
    move with it). What the X server shows must end up as what the grid paints, every card
    whole: it stays blank where the cells left out are never painted again."""
    from PySide6.QtGui import QGuiApplication

    from meteorgui.gui.browser import grid as grid_module

    delegate, view = browser.tile_delegate, browser.grid
    push(night(9, events=40))
    qtbot.waitUntil(settled(browser, 40), timeout=WAIT)
    qtbot.waitUntil(lambda: not browser.model._highlights, timeout=WAIT)  # no glow fading
    bar = view.verticalScrollBar()
    assert bar.maximum() > 40

    def on_screen():
        vp = view.viewport()
        at = vp.mapToGlobal(vp.rect().topLeft())
        screen = QGuiApplication.screenAt(at) or QGuiApplication.primaryScreen()
        shown = screen.grabWindow(0, at.x(), at.y(), vp.width(), vp.height()).toImage()
        budget, grid_module.PAINT_BUDGET_S = grid_module.PAINT_BUDGET_S, 0  # every card
        try:
            painted = vp.grab().toImage()
        finally:
            grid_module.PAINT_BUDGET_S = budget
        return shown.convertToFormat(painted.format()) == painted

    view.window().activateWindow()
    qtbot.waitUntil(on_screen, timeout=WAIT)  # the test can tell: the screen shows the grid
    passes = count_passes(delegate, monkeypatch)
    monkeypatch.setattr(grid_module, "PAINT_BUDGET_S", 1e-9)
    delegate.clear_cache()
    view.viewport().repaint()  # one pass: one card made, the others left out
    assert view._rest.isActive() and not view._rest_region.isEmpty()
    bar.setValue(bar.value() + 37)  # before the next turn paints them
    qtbot.waitUntil(lambda: not view._rest.isActive() and view._rest_region.isEmpty(), timeout=WAIT)
    qtbot.waitUntil(on_screen, timeout=WAIT)
    assert len(passes) > 2
