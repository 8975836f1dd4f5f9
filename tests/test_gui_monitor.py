"""The import monitor dock, camera health and tray notifications, through the real importer."""

from __future__ import annotations

import dataclasses
import time

import pytest
from PySide6.QtCore import QPoint, Qt

from meteorgui.archive.conversations import Conversation
from meteorgui.gui.monitor import importlog
from meteorgui.gui.monitor.importlog import (
    ConversationModel,
    ConversationRole,
    ProblemRole,
    StuckRole,
)
from meteorgui.simulate import make_night

from . import factories
from .conftest import CAMERA_USER

MIN = 60_000


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def mon(gui, qtbot):
    m = gui.window.monitor
    qtbot.waitUntil(lambda: m.loaded)
    return m


@pytest.fixture
def node(gui):
    n = factories.Node(gui.core.server.url, *CAMERA_USER)
    yield n
    n.close()


def rows(m) -> list[Conversation]:
    return [m.model.conversation(r) for r in range(m.model.rowCount())]


def shown(m, col: int) -> list[str]:
    return [m.proxy.index(r, col).data() for r in range(m.proxy.rowCount())]


def row_of(m, entity_id: str) -> Conversation | None:
    for c in rows(m):
        if c.entity_id == entity_id:
            return c
    return None


def test_a_push_makes_rows_appear_and_reach_complete(gui, push, mon, qtbot):
    night = make_night(3, events=3, timelapse=4)
    inserted = []
    mon.model.rowsInserted.connect(lambda _p, first, last: inserted.append(last - first + 1))
    assert push(night).ok
    entities = night.entities()
    qtbot.waitUntil(
        lambda: (
            mon.model.rowCount() == len(entities) and all(c.state == "complete" for c in rows(mon))
        )
    )
    ids = {getattr(e, "event_id", None) or e.file_id for e in entities}
    assert {c.entity_id for c in rows(mon)} == ids  # one row per conversation, not per step
    assert sum(inserted) == len(entities)
    newest = mon.model.conversation(0)
    assert newest.id == max(c.id for c in rows(mon))  # new conversations at the top
    assert {c.kind for c in rows(mon)} == {"event", "file"}
    assert {c.user for c in rows(mon)} == {CAMERA_USER[0]}
    assert {c.camera_id for c in rows(mon)} == set(night.cameras)
    assert all(c.remote_addr == "127.0.0.1" and c.bytes > 0 for c in rows(mon))
    assert set(shown(mon, importlog.COL_STATE)) == {"complete"}
    assert shown(mon, importlog.COL_REMOTE)[0] == "127.0.0.1"
    assert mon.count_label.text() == f"{len(entities)} conversations"


def test_a_conversation_updates_its_row_in_place_and_can_get_stuck(mon, node, qtbot):
    pack = factories.event_pack(factories.status(), n_files=2)
    changed = []
    mon.model.dataChanged.connect(lambda tl, br, roles=(): changed.append(tl.row()))
    assert node.post(factories.message(pack.entity))["state"] == "need_status"
    qtbot.waitUntil(lambda: row_of(mon, pack.entity.event_id) is not None)
    c = row_of(mon, pack.entity.event_id)
    assert c.state == "need_status" and not c.final
    row = mon.model.row_of(c.id)
    assert mon.model.index(row, importlog.COL_STATE).data() == "needs status"

    # Nothing more from the camera for a few minutes: the conversation is stuck, a problem.
    assert not mon.model.index(row, 0).data(StuckRole)
    mon.model.clock = lambda: c.updated_at + importlog.STUCK_AFTER_MS + MIN
    mon.model.tick()
    assert mon.model.index(row, 0).data(StuckRole)
    assert mon.model.index(row, importlog.COL_STATE).data() == "needs status · stuck"
    mon.problems_only.setChecked(True)
    assert shown(mon, importlog.COL_ENTITY) == [f"event {pack.entity.event_id[:8]}"]
    mon.problems_only.setChecked(False)
    mon.model.clock = importlog.now_ms
    mon.model.tick()

    assert node.send(pack)["state"] == "complete"
    qtbot.waitUntil(lambda: row_of(mon, pack.entity.event_id).state == "complete")
    assert mon.model.rowCount() == 1
    assert changed and set(changed) == {0}
    assert row_of(mon, pack.entity.event_id).bytes == sum(len(b) for b in pack.blobs.values())


def test_a_failed_conversation_shows_its_message_and_is_a_problem(mon, node, qtbot):
    st = factories.status()
    good = factories.event_pack(st, n_files=1)
    bad = factories.event_pack(st, n_files=2, t=factories.T0 + 60_000)
    assert node.send(good)["state"] == "complete"
    node.corrupt = {bad.entity.files[1].file_id}
    answer = node.send(bad)
    assert answer["state"] == "failed"
    qtbot.waitUntil(
        lambda: mon.model.rowCount() == 2 and row_of(mon, bad.entity.event_id).state == "failed"
    )
    c = row_of(mon, bad.entity.event_id)
    assert c.message == answer["message"]
    assert "gave up on file" in c.message and "MD5" in c.message
    row = mon.model.row_of(c.id)
    assert mon.model.index(row, importlog.COL_STATE).data() == "failed"
    assert mon.model.index(row, importlog.COL_MESSAGE).data() == c.message
    assert mon.model.index(row, importlog.COL_ATTEMPTS).data() == "3"
    assert mon.model.index(row, 0).data(ProblemRole)

    mon.problems_only.click()
    assert mon.proxy.rowCount() == 1
    assert shown(mon, importlog.COL_MESSAGE) == [c.message]
    assert mon.count_label.text() == "1 problem in 2 conversations"
    mon.problems_only.click()
    assert mon.proxy.rowCount() == 2


def test_double_click_shows_the_conversation_steps(mon, node, qtbot):
    pack = factories.event_pack(factories.status(), n_files=1)
    assert node.send(pack)["state"] == "complete"
    qtbot.waitUntil(lambda: mon.model.rowCount() == 1 and rows(mon)[0].final)
    rect = mon.view.visualRect(mon.proxy.index(0, importlog.COL_ENTITY))
    # An item view only takes a double click on the item the first click pressed.
    qtbot.mouseClick(mon.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(mon.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: len(mon._dialogs) == 1 and mon._dialogs[0].loaded)
    dlg = mon._dialogs[0]
    details = [dlg.table.item(r, 2).text() for r in range(dlg.table.rowCount())]
    states = [dlg.table.item(r, 1).text() for r in range(dlg.table.rowCount())]
    assert states[0] == "needs status" and states[-1] == "complete"
    assert any("asked for the bytes of file" in d for d in details)
    assert any("MD5 verified" in d for d in details)
    dlg.close()
    qtbot.waitUntil(lambda: not mon._dialogs)


def test_history_is_loaded_from_the_archive(gui, mon, node, qtbot):
    from meteorgui.gui.monitor.dock import ImportMonitor

    st = factories.status()
    for i in range(3):
        assert (
            node.send(factories.event_pack(st, n_files=1, t=factories.T0 + i))["state"]
            == "complete"
        )
    qtbot.waitUntil(lambda: mon.model.rowCount() == 3)
    fresh = ImportMonitor(gui)
    qtbot.addWidget(fresh)
    qtbot.waitUntil(lambda: fresh.loaded)
    assert [c.id for c in rows(fresh)] == [c.id for c in rows(mon)]
    fresh.shutdown()


def conv(i: int, state="receiving", final=False, t=None) -> Conversation:
    t = t or now_ms()
    return Conversation(
        i,
        "camera",
        "10.0.0.2",
        "event",
        f"{i:032x}",
        "aabbccddeeff",
        state,
        t,
        t,
        100,
        1,
        final,
        None,
    )


def test_model_stays_bounded_and_passes_the_model_tester(qtmodeltester, qtbot):
    model = ConversationModel(max_rows=40)
    qtmodeltester.check(model)
    model.load([conv(i, "complete", True) for i in range(30, 0, -1)])  # newest first
    for i in range(31, 120):
        model.add(conv(i))
        if i % 7 == 0:
            model.flush()
        if i % 5 == 0:
            model.add(conv(i - 1, "complete", True))  # in place, or still queued
    model.flush()
    assert 40 <= model.rowCount() <= 40 + model.slack
    assert model.conversation(0).id == 119
    ids = [model.conversation(r).id for r in range(model.rowCount())]
    assert ids == sorted(ids, reverse=True)
    assert model.conversation_by_id(114).state == "complete"  # updated while queued
    assert model.conversation_by_id(104).state == "complete"  # updated in place
    model.tick(now_ms() + importlog.STUCK_AFTER_MS * 2)
    assert model.index(0, 0).data(StuckRole)
    qtmodeltester.check(model)


def test_live_models_pass_the_model_tester(gui, push, mon, qtbot, qtmodeltester):
    assert push(make_night(5, events=2, timelapse=2)).ok
    qtbot.waitUntil(lambda: mon.model.rowCount() == 4 and mon.health.model.rowCount() == 2)
    qtmodeltester.check(mon.model)
    qtmodeltester.check(mon.proxy)
    qtmodeltester.check(mon.health.model)
    mon.problems_only.setChecked(True)
    qtmodeltester.check(mon.proxy)


def test_camera_health_shows_last_heard_and_warns_of_silence(gui, push, mon, qtbot):
    health = mon.health
    night = make_night(11, events=2, timelapse=2)
    assert push(night).ok
    qtbot.waitUntil(lambda: health.model.rowCount() == 2)
    cams = health.model.items()
    assert {h.camera_id for h in cams} == set(night.cameras)
    heard = [health.model.index(r, 1).data() for r in range(2)]
    assert heard == ["just now", "just now"]
    assert health.banner.isHidden()

    # The clock moves 45 minutes on, in the middle of the night, with no more data.
    later = max(h.last_heard for h in cams) + 45 * MIN
    health.clock = lambda: later
    health.dark_window = lambda now, loc: now - 4 * 3_600_000
    gui.settings.silence_warning_minutes = 30
    with qtbot.waitSignal(health.warningsChanged, timeout=5000) as blocker:
        health.refresh()
    assert len(blocker.args[0]) == 2
    assert not health.banner.isHidden()
    assert "silent for 45 min during the night" in health.banner.text()
    status = [health.model.index(r, 5).data() for r in range(2)]
    assert status == ["⚠ silent 45 min"] * 2
    assert health.model.index(0, 1).data() == "45 min ago"

    gui.settings.silence_warning_minutes = 60
    health.refresh()
    qtbot.waitUntil(lambda: health.warnings == [])
    assert health.banner.isHidden()


def test_camera_health_refreshes_after_conversations(gui, mon, node, qtbot):
    st = factories.status(inst_name="Back garden")
    bad = factories.event_pack(st, n_files=1)
    node.corrupt = {bad.entity.files[0].file_id}
    for _ in range(3):
        assert node.send(bad)["state"] == "failed"
    qtbot.waitUntil(
        lambda: mon.health.model.rowCount() == 1 and mon.health.model.item(0).failing,
        timeout=10_000,
    )
    h = mon.health.model.item(0)
    assert h.label == f"Back garden ({st.camera_id})"
    assert mon.health.model.index(0, 0).data() == "Back garden"
    assert mon.health.model.index(0, 4).data() == "3"
    assert "failing" in mon.health.banner.text()


def test_a_camera_starting_to_send_shows_in_camera_health_at_once(gui, mon, node, qtbot):
    """Camera health is read at most every THROTTLE_MS while conversations stream in;
    the first conversation after a quiet spell is read at once (it waited THROTTLE_MS,
    so a camera that had just started sending was missing from the table that long)."""
    from meteorgui.gui.monitor.health import THROTTLE_MS

    health = mon.health
    qtbot.waitUntil(
        lambda: not health._busy and health._throttle.since_began() > THROTTLE_MS / 1000
    )
    st = factories.status(inst_name="Roof")
    done = []
    gui.bridge.conversation.connect(lambda c: done.append(c.state))
    assert node.send(factories.event_pack(st, n_files=1))["state"] == "complete"
    qtbot.waitUntil(lambda: "complete" in done)
    # Read at once: the health timer is due now, not THROTTLE_MS from now.
    assert health._throttle.timer.interval() == 0 or health.model.rowCount() == 1
    qtbot.waitUntil(lambda: health.model.rowCount() == 1)
    # While conversations keep coming, at most one read every THROTTLE_MS (the pacing
    # itself: test_paced.py).
    health._throttle.began()  # as if a read had just begun
    assert node.send(factories.event_pack(st, n_files=1))["state"] == "complete"
    qtbot.waitUntil(lambda: done.count("complete") == 2)
    assert health._throttle.timer.isActive() and health._throttle.timer.interval() > 0


def test_camera_health_announces_only_rows_that_changed(gui, push, mon, qtbot):
    health = mon.health
    assert push(make_night(12, events=1, timelapse=1)).ok
    qtbot.waitUntil(lambda: health.model.rowCount() == 2)
    width = health.view.columnWidth(3)  # not the last: it stretches into what is left
    events_width = health.view.columnWidth(2)
    changed = []
    health.model.dataChanged.connect(lambda a, b: changed.append(a.row()))
    same = health.model.items()
    health.model.update(same, health.model.now)  # the same figures, the same minute
    assert changed == []
    busier = dataclasses.replace(same[1], events_tonight=same[1].events_tonight + 10**15)
    health._show([same[0], busier], health.model.now)
    assert changed == [1]
    assert health.model.index(1, 2).data() == str(busier.events_tonight)
    # re-measured because the widest text grew; the other columns kept their widths
    assert health.view.columnWidth(2) > events_width
    assert health.view.columnWidth(2) >= health.view.fontMetrics().horizontalAdvance(
        str(busier.events_tonight)
    )
    assert health.view.columnWidth(3) == width


def test_a_camera_joining_sizes_its_row_without_measuring_every_column_again(
    gui, push, mon, qtbot, monkeypatch
):
    """Measuring a column asks the model and its delegate about every cell in Python:
    done for every new row while twelve cameras joined a push, it was the window's
    longest stall (60 ms). A row whose texts are no wider than those shown is sized
    alone; a wider text still measures the columns."""
    health = mon.health
    assert push(make_night(12, events=1, timelapse=1)).ok
    qtbot.waitUntil(lambda: health.model.rowCount() == 2)
    measured: list[int] = []
    view = health.view
    real = view.resizeColumnToContents
    monkeypatch.setattr(view, "resizeColumnToContents", lambda c: measured.append(c) or real(c))
    one, two = health.model.items()
    short = dataclasses.replace(two, camera_id="b827eb000001", inst_name="Roof")
    health._show([one, two, short], health.model.now)
    assert health.model.rowCount() == 3 and measured == []
    assert view.rowHeight(2) == view.rowHeight(0) > 0
    longer = dataclasses.replace(short, inst_name=(one.inst_name or "") + " and the garden")
    health._show([one, two, longer], health.model.now)
    assert measured  # the camera column is measured again for the wider name


# --------------------------------------------------------------------------- notifications


def test_notifications_are_batched_per_camera(gui, push, mon, qtbot):
    from meteorgui.gui.tools.notifications import EventNotifier, message

    shown_messages = []
    # No system tray offscreen: the notifier hands its text to a recorder instead.
    notifier = EventNotifier(
        gui, lambda title, body: shown_messages.append((title, body)), gather_ms=300, gap_ms=60_000
    )
    night = make_night(2, events=4, timelapse=2)
    assert push(night).ok
    qtbot.waitUntil(lambda: len(shown_messages) > 0, timeout=5000)
    per_camera = {}
    for e in night.events:
        per_camera[e.camera_id] = per_camera.get(e.camera_id, 0) + 1
    title, body = shown_messages[0]
    assert title == "4 new meteor events"
    names = {s.camera_id: s.inst_name for s in night.statuses}
    for cam, n in per_camera.items():
        assert names[cam] in body
        assert f"{n} from {names[cam]}" in body or body == f"{n} new events from {names[cam]}"
    assert len(shown_messages) == 1

    # Turned off in the settings: nothing is gathered.
    gui.settings.notifications = False
    assert push(make_night(3, events=2, timelapse=0)).ok
    qtbot.waitUntil(lambda: mon.model.rowCount() == 6 + 2)
    assert not notifier._counts and len(shown_messages) == 1
    notifier.shutdown()

    from collections import Counter

    assert message(Counter({"cam1": 3}), {"cam1": "Roof"}) == (
        "3 new meteor events",
        "3 new events from Roof",
    )


def test_install_is_harmless_without_a_tray(gui):
    from meteorgui.gui.tools import notifications

    assert notifications.install(gui, gui.window) is None
    assert gui.notifications is None


def test_tray_notifications_show_a_message_per_batch(gui, node, mon, qtbot):
    from meteorgui.gui.tools.notifications import TrayNotifications

    # Built directly: the offscreen platform has no tray, so install() would decline.
    tray = TrayNotifications(gui, gui.window, gui.window)
    assert not tray.tray.icon().isNull()
    messages = []
    tray.tray.showMessage = lambda title, body, *rest: messages.append((title, body))
    tray.notifier._gather.setInterval(0)
    st = factories.status(inst_name="Roof")
    assert node.send(factories.event_pack(st, n_files=1))["state"] == "complete"
    qtbot.waitUntil(lambda: len(messages) == 1)
    assert messages == [("1 new meteor event", "1 new event from Roof")]
    tray.shutdown()
    assert not tray.tray.isVisible()


def test_request_resend_button_follows_the_selection(mon, node, qtbot):
    st = factories.status()
    good = factories.event_pack(st, n_files=1)
    bad = factories.event_pack(st, n_files=1, t=factories.T0 + 1)
    assert node.send(good)["state"] == "complete"
    node.corrupt = {bad.entity.files[0].file_id}
    assert node.send(bad)["state"] == "failed"
    qtbot.waitUntil(
        lambda: mon.model.rowCount() == 2 and {c.state for c in rows(mon)} == {"complete", "failed"}
    )
    assert not mon.resend_button.isEnabled()
    complete_row = mon.model.row_of(row_of(mon, good.entity.event_id).id)
    failed_row = mon.model.row_of(row_of(mon, bad.entity.event_id).id)
    mon.view.selectRow(complete_row)
    assert not mon.resend_button.isEnabled() and mon.steps_button.isEnabled()
    rect = mon.view.visualRect(mon.proxy.index(failed_row, 0))
    qtbot.mouseClick(mon.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert mon.resend_button.isEnabled()
    assert mon.view.indexAt(QPoint(rect.center())).row() == failed_row


def test_the_log_dock_filter_applies_to_lines_already_shown(gui, qtbot, caplog):
    import logging

    from meteorgui.gui.monitor.logview import LogView

    caplog.set_level(logging.INFO)  # as the app logs (DEBUG only with --verbose)
    view = LogView(gui)
    assert view.level.findData(logging.DEBUG) == -1  # nothing would ever show there
    qtbot.addWidget(view)
    try:
        logging.getLogger("meteorgui.test").info("an info line")
        logging.getLogger("meteorgui.test").warning("a warning line")
        qtbot.waitUntil(lambda: "a warning line" in view.text.toPlainText())
        assert "an info line" in view.text.toPlainText()
        view.level.setCurrentIndex(view.level.findData(logging.WARNING))
        assert "an info line" not in view.text.toPlainText()
        assert "a warning line" in view.text.toPlainText()
        view.level.setCurrentIndex(view.level.findData(logging.INFO))
        assert "an info line" in view.text.toPlainText()
    finally:
        view.shutdown()


def test_a_failure_delivered_later_is_no_longer_a_problem(gui, mon, node, qtbot):
    st = factories.status()
    pack = factories.file_pack(st)
    node.corrupt = {pack.entity.file_id}
    assert node.send(pack)["state"] == "failed"
    mon.problems_only.setChecked(True)
    qtbot.waitUntil(lambda: mon.proxy.rowCount() == 1)  # the failure, as a problem
    node.corrupt = set()
    assert node.send(pack)["state"] == "complete"  # the camera's next round delivers it
    model = mon.model
    qtbot.waitUntil(lambda: model.rowCount() == 2 and mon.proxy.rowCount() == 0)
    failed_row = next(r for r in range(2) if model.conversation(r).state == "failed")
    assert model.index(failed_row, importlog.COL_STATE).data().endswith("delivered later")


LOG_CLASSES = {"ConversationModel", "ProblemsFilter", "StateBadgeDelegate", "FullTextDelegate"}


def test_repainting_the_log_asks_python_for_no_cell(gui, push, mon, qtbot):
    """The log's cells are Qt's own items: a repaint asks Qt, not Python, for each cell's
    texts, colours, flags and counts (each call into Python waits for the GIL while the
    importer's threads run Python). What is left is the state badges' painting."""
    from .pythoncalls import python_entered_during

    assert push(make_night(3, events=4, timelapse=4)).ok
    qtbot.waitUntil(lambda: mon.model.rowCount() >= 8)
    gui.window.show()
    gui.window.monitor_dock.show()
    gui.window.monitor_dock.raise_()
    qtbot.waitUntil(lambda: mon.view.isVisible() and mon.view.viewport().height() > 60)
    visible = mon.view.rowAt(mon.view.viewport().height() - 1)
    visible = mon.proxy.rowCount() if visible < 0 else visible + 1
    calls = python_entered_during(mon.view.viewport().repaint)
    log = [c for c in calls if c.split(".")[0] in LOG_CLASSES]  # not the camera table's
    assert set(log) == {"StateBadgeDelegate.paint"}
    assert 2 <= len(log) <= visible


def test_a_failure_is_written_in_the_palette_of_the_moment(gui, mon, qtbot):
    from PySide6.QtGui import QColor

    from meteorgui.gui.common import style

    from .palettes import dark_scheme

    style.follow_colour_scheme()
    failed = dataclasses.replace(conv(7, "failed", True), message="gave up")
    mon.model.add(failed)
    mon.model.flush()
    cell = mon.model.index(mon.model.row_of(7), importlog.COL_MESSAGE)
    assert cell.data(Qt.ItemDataRole.ForegroundRole) == QColor(style.ERROR)
    with dark_scheme(qtbot):
        qtbot.waitUntil(
            lambda: cell.data(Qt.ItemDataRole.ForegroundRole) == QColor(style.DARK.error)
        )


def test_a_step_reaches_all_its_slots_with_one_call_into_python(gui, mon, qtbot):
    """The bridge queues each message once, not once per slot: each queued delivery is
    a call from Qt into Python that waits for the GIL while the importer's threads run
    Python. The camera table, the log, the status bar and the thumbnails all hear it."""
    import threading

    from meteorgui import notify

    from .pythoncalls import python_entered_during

    mailbox, bridge = gui.bridge._mailbox, gui.bridge
    qtbot.waitUntil(lambda: mailbox.pending(bridge) == 0)
    step = conv(5, "complete", True)
    publisher = threading.Thread(target=gui.core.hub.publish, args=(notify.CONVERSATION, step))
    publisher.start()
    publisher.join()
    assert mailbox.pending(bridge) == 1  # one delivery for the message, whatever hears it

    def deliver():  # what the event loop does when the mailbox's socket is readable
        mailbox._notifier.activated.emit(mailbox._notifier.socket(), mailbox._notifier.type())

    assert python_entered_during(deliver) == ["Mailbox._run"]
    assert mailbox.pending(bridge) == 0
    qtbot.waitUntil(lambda: mon.model.row_of(5) == 0)  # the log heard it


def test_loading_a_long_history_writes_it_a_chunk_per_turn(qtbot):
    """5,000 rows of history take most of a second to write into Qt's items: written at
    once, they froze the window as the log loaded. A chunk per turn of the event loop,
    the top rows first."""
    model = ConversationModel()
    model.add(conv(6001))  # live, at the top
    model.flush()
    model.load([conv(i, "complete", True) for i in range(5000, 0, -1)])  # newest first
    assert model.rowCount() == importlog.MAX_ROWS  # the history fills what is left
    written = [r for r in range(model.rowCount()) if model.index(r, 0).data() is not None]
    assert len(written) <= 1 + importlog.WRITE_CHUNK
    assert written[:2] == [0, 1]  # the live row and the newest of the history
    qtbot.waitUntil(lambda: model.unwritten() == 0, timeout=60_000)
    assert all(model.index(r, 0).data() is not None for r in range(model.rowCount()))
    last = model.conversation(model.rowCount() - 1)
    assert model.index(model.rowCount() - 1, 0).data(ConversationRole) is last


def test_a_failures_message_takes_the_new_palettes_error_colour(qapp, qtbot):
    """The log's cells hold their colours: when the palette turns dark and back, a
    failure's message is written again in the active palette's error colour."""
    from PySide6.QtGui import QColor

    from meteorgui.gui.common import style

    from .palettes import dark_scheme

    style.follow_colour_scheme()
    model = ConversationModel()
    model.add(conv(7001, "failed", True))
    model.flush()

    def colour() -> QColor:
        return model.index(0, importlog.COL_MESSAGE).data(Qt.ItemDataRole.ForegroundRole)

    assert colour() == QColor(style.LIGHT.error)
    with dark_scheme(qtbot) as light:
        qtbot.waitUntil(lambda: colour() == QColor(style.DARK.error))
        light()
        qtbot.waitUntil(lambda: colour() == QColor(style.LIGHT.error))
