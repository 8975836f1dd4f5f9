"""Exporting from the GUI over real HTTP on 127.0.0.1.

The source is the real main window (the ``gui`` fixture), filled by a camera
through its own importer. Targets: meteorgui's own importer on a second
archive (the ``archive``/``server`` fixtures: the "central archive"), and the
re-creation of the 2015 MeteorPi importer (tests/seed_importer.py).
"""

from __future__ import annotations

import html
import json
import socket
import threading
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QRect, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QDialogButtonBox, QStyleOptionViewItem

from meteorgui.archive import browse
from meteorgui.archive.browse import Query
from meteorgui.exporter import Exporter, Selection, default_secrets
from meteorgui.exporter import runner as R
from meteorgui.gui.browser.model import EXPORTED
from meteorgui.gui.export.dialog import selection_from_query
from meteorgui.gui.export.progress import COMPLETE, QUEUED
from meteorgui.simulate import make_night

from .conftest import CAMERA_USER
from .export_helpers import (
    SEED_USERS,
    fill_archive,
    https_serving,
    make_certificates,
    seed_importer,
)

WAIT = 15_000
EVENING = int(datetime(2026, 11, 3, 20).timestamp() * 1000)


@pytest.fixture
def ui(gui, qtbot):
    b = gui.window.browser
    qtbot.waitUntil(lambda: b._ready, timeout=WAIT)
    return gui.window.export_ui


def night(seed, events=3, timelapse=2, start=EVENING):
    return make_night(seed, events=events, timelapse=timelapse, start_ms=start)


def settled(browser, n):
    return lambda: (
        not browser.model.loading
        and browser.model.rowCount() == n
        and all(browser.model.row_at(r) is not None for r in range(n))
    )


def shown(browser, n_events, n_stills):
    return lambda: settled(browser, n_events)() and browser.strip_model.rowCount() == n_stills


def select_everything(browser, stills=()):
    browser.grid.selectAll()
    sm = browser.strip.selectionModel()
    for i in stills:
        sm.select(browser.strip_model.index(i), QItemSelectionModel.SelectionFlag.Select)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/import"


def add_target(ui, qtbot, name, url, user, password, ca=None):
    """Export ▸ Export targets… ▸ Add…, filled in and saved."""
    ui.act_targets.trigger()
    dlg = ui.targets_dialog
    dlg.add()
    ed = dlg.editor
    ed.name.setText(name)
    ed.url.setText(url)
    ed.user.setText(user)
    ed.password.setText(password)
    if ca is not None:
        ed.ca.setText(str(ca))
    qtbot.mouseClick(
        ed.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: any(t.name == name for t in ui.service.targets), timeout=WAIT)
    return next(t for t in ui.service.targets if t.name == name)


def export_from_dialog(ui, qtbot, target, *, matching=False, force=False):
    """Events ▸ Export… (Ctrl+E) to a target; returns the dialog's outcome text."""
    ui.act_export.trigger()
    dlg = ui.export_dialog
    dlg.target.setCurrentIndex(dlg.target.findData(target.target_id))
    if matching:
        dlg.chooser.matching.setChecked(True)
    dlg.force.setChecked(force)
    qtbot.waitUntil(lambda: dlg.counts is not None, timeout=WAIT)
    finished = []
    dlg.finished.connect(finished.append)
    before = dlg.outcome
    qtbot.mouseClick(dlg.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(finished) or dlg.outcome != before, timeout=WAIT)
    return dlg.outcome


def round_over(ui, target):
    view = ui.view
    return lambda: (
        not ui.service.running(target.target_id)
        and view.summary is not None
        and view.target_id == target.target_id
        and all(e.state != "sending" for e in view.model.entries())
    )


def states(view):
    return [e.state for e in view.model.entries()]


def paint_tile(browser, row) -> QImage:
    d = browser.tile_delegate
    size = d.cell_size(browser.fontMetrics().height())
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(0)
    option = QStyleOptionViewItem()
    browser.grid.initViewItemOption(option)
    option.rect = QRect(0, 0, size.width(), size.height())
    p = QPainter(image)
    d._paint_card(p, option, row, False, False)
    p.end()
    return image


# --------------------------------------------------------------------------- pure


def test_browser_filters_become_an_export_selection():
    q = Query(after=1, before=2, camera_id="cam", event_type="meteorpi:meteor", review="meteor")
    assert selection_from_query(q) == Selection(
        camera_id="cam", after=1, before=2, event_type="meteorpi:meteor", review="meteor"
    )
    assert selection_from_query(q.replace(text="fireball")) is None  # no Selection field
    assert selection_from_query(q.replace(not_exported_to="t1"), "t1") is not None
    assert selection_from_query(q.replace(not_exported_to="t1"), "t2") is None
    assert selection_from_query(q.replace(not_exported_to="t1"), "t1", force=True) is None


# --------------------------------------------------------------------------- meteorgui importer


def test_export_selected_events_to_a_central_meteorgui(
    gui, ui, push, archive, server, qtbot, qtmodeltester
):
    browser, view = gui.window.browser, ui.view
    n = night(1)
    push(n)
    qtbot.waitUntil(shown(browser, 3, 2), timeout=WAIT)
    target = add_target(ui, qtbot, "central", server.url, *CAMERA_USER)
    dlg = ui.targets_dialog
    dlg.select(target.target_id)
    dlg.test()
    qtbot.waitUntil(lambda: "OK" in dlg.message.text(), timeout=WAIT)
    assert "resend list" in dlg.message.text() and "supports" in dlg.message.text()
    dlg.close()
    qtbot.waitUntil(lambda: view.target_id == target.target_id, timeout=WAIT)
    qtmodeltester.check(view.model, force_py=True)  # stays connected: checks every change
    resets, changed = [], []
    view.model.modelReset.connect(lambda: resets.append(1))
    view.model.dataChanged.connect(lambda *_: changed.append(1))

    select_everything(browser, stills=[1])
    still = n.files[1]
    outcome = export_from_dialog(ui, qtbot, target)
    assert outcome == "4 queued"
    assert ui.dock.isVisible()
    qtbot.waitUntil(round_over(ui, target), timeout=WAIT)
    assert states(view) == [COMPLETE] * 4 and resets == [] and len(changed) > 8
    assert "✓ Everything queued is at central" in view.state.text()
    assert "4 of 4 entities done" in view.totals.text()
    uploaded = sum(f.file_size for e in n.events for f in e.files) + still.file_size
    assert view._uploaded == uploaded
    # Byte-exact at the central archive.
    for event in n.events:
        assert archive.get_event(event.event_id).to_dict() == event.to_dict()
        for record in event.files:
            assert archive.file_path(record).read_bytes() == n.file_bytes(record.file_id)
    assert archive.file_path(still).read_bytes() == n.file_bytes(still.file_id)
    assert archive.get_file(n.files[0].file_id) is None  # not selected, not sent

    # Badges in the grid and the table's Exported column.
    qtbot.waitUntil(
        lambda: all(browser.model.row_at(r).exported == (target.target_id,) for r in range(3)),
        timeout=WAIT,
    )
    row = browser.model.row_at(0)
    assert browser.model.index(0, EXPORTED).data() == "central"
    assert paint_tile(browser, row) != paint_tile(browser, row._replace(exported=()))
    browser.set_view(1)
    assert browser.table.model().index(0, EXPORTED).data() == "central"
    browser.set_view(0)

    # The filter "Not yet exported to central": nothing left of this night; a new event shows.
    f = browser.filters
    assert f.export.isVisible()
    f.export.setCurrentIndex(f.export.findData(target.target_id))
    qtbot.waitUntil(settled(browser, 0), timeout=WAIT)
    more = night(2, events=1, timelapse=0, start=EVENING + 3600_000)
    push(more)
    qtbot.waitUntil(settled(browser, 1), timeout=WAIT)
    assert browser.model.row_at(0).event_id == more.events[0].event_id
    f.export.setCurrentIndex(0)
    qtbot.waitUntil(settled(browser, 4), timeout=WAIT)

    # Again, everything the filters match: only the new event and the other still go.
    rounds = []
    ui.service.progress.connect(lambda e: rounds.append(e.kind))
    browser.grid.clearSelection()
    browser.selection.clearCurrentIndex()
    assert export_from_dialog(ui, qtbot, target, matching=True) == "2 queued"
    qtbot.waitUntil(round_over(ui, target), timeout=WAIT)
    assert archive.get_event(more.events[0].event_id) is not None
    assert archive.file_path(n.files[0]).read_bytes() == n.file_bytes(n.files[0].file_id)
    # And once more: nothing new to send, no bytes; the round only asks central whether
    # it wants anything again, and sends what it asks for.
    rounds.clear()
    outcome = export_from_dialog(ui, qtbot, target, matching=True)
    assert outcome.startswith("Nothing new to send: central already has all of them")
    assert ui.export_dialog.isVisible()
    ui.export_dialog.reject()
    qtbot.waitUntil(lambda: R.ROUND_DONE in rounds, timeout=WAIT)
    qtbot.waitUntil(round_over(ui, target), timeout=WAIT)
    assert R.RESEND not in rounds and R.ITEM_STARTED not in rounds
    wanted = n.events[2]
    server.importer.request_resend(wanted.event_id)
    rounds.clear()
    outcome = export_from_dialog(ui, qtbot, target, matching=True)
    assert outcome.startswith("Nothing new to send")
    ui.export_dialog.reject()
    qtbot.waitUntil(lambda: R.ROUND_DONE in rounds, timeout=WAIT)
    assert R.RESEND in rounds and archive.resend_offers() == []
    qtbot.waitUntil(round_over(ui, target), timeout=WAIT)
    # Sending again is deliberate; the target has the files, so no file bytes go.
    select_everything(browser)
    assert export_from_dialog(ui, qtbot, target, force=True) == "4 queued"
    qtbot.waitUntil(round_over(ui, target), timeout=WAIT)
    redone = [view.model.entry(e.event_id) for e in n.events]
    assert [e.state for e in redone] == [COMPLETE] * 3
    assert all(e.uploaded == 0 and e.progress_text() == "the target had the files" for e in redone)


def test_wrong_password_shows_a_clear_failure_and_connection_messages(
    gui, ui, push, server, qtbot, tmp_path
):
    browser, view = gui.window.browser, ui.view
    push(night(3, events=2, timelapse=0))
    qtbot.waitUntil(settled(browser, 2), timeout=WAIT)
    ui.act_targets.trigger()
    dlg = ui.targets_dialog
    dlg.add()
    ed = dlg.editor

    def test_says(url, password, ca=""):
        ed.url.setText(url)
        ed.password.setText(password)
        ed.ca.setText(ca)
        ed.message.setText("")
        qtbot.mouseClick(ed.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(
            lambda: (
                ed.test_button.isEnabled()
                and ed.message.text()
                and "Testing" not in ed.message.text()
            ),
            timeout=WAIT,
        )
        return ed.message.text()

    ed.name.setText("central")
    ed.user.setText(CAMERA_USER[0])
    assert "Bad credentials" in test_says(server.url, "wrong")
    assert "refused the credentials" in ed.message.text()
    assert "Unreachable" in test_says(closed_port_url(), "x")
    ca, cert, key = make_certificates(tmp_path)
    with seed_importer(tmp_path / "seed") as seed, https_serving(seed.app, cert, key) as base:
        user, (password, _roles) = "exporter", SEED_USERS["exporter"]
        ed.user.setText(user)
        assert "Certificate problem" in test_says(f"{base}/import", password)
        said = test_says(f"{base}/import", password, str(ca))
        assert "✓ OK" in said and "no resend list" in said
        ed.user.setText(CAMERA_USER[0])
    ok = test_says(server.url, CAMERA_USER[1])
    assert "✓ OK" in ok and "supports the resend list" in ok
    # Saved with the wrong password: the password is never shown back.
    ed.url.setText(server.url)
    ed.password.setText("wrong")
    ed.ca.setText("")
    qtbot.mouseClick(
        ed.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: bool(ui.service.targets), timeout=WAIT)
    target = ui.service.targets[0]
    dlg.edit()
    assert dlg.editor.password.text() == "" and "stored" in dlg.editor.password.placeholderText()
    dlg.editor.reject()
    dlg.test()
    qtbot.waitUntil(lambda: "Bad credentials" in dlg.message.text(), timeout=WAIT)
    dlg.close()

    select_everything(browser)
    assert export_from_dialog(ui, qtbot, target) == "2 queued"
    qtbot.waitUntil(round_over(ui, target), timeout=WAIT)
    assert "Stopped:" in view.state.text() and "refused the credentials" in view.state.text()
    assert "press Resume to try again" in view.state.text()
    assert states(view) == [QUEUED, QUEUED]
    assert "refused the credentials" in view.model.entries()[0].message
    assert view.resume_button.isEnabled()


# --------------------------------------------------------------------------- the 2015 importer


def test_export_to_the_seed_importer_cancel_then_resume_sends_only_the_rest(
    gui, ui, push, qtbot, tmp_path
):
    browser, view = gui.window.browser, ui.view
    n = night(4, events=4, timelapse=0)
    push(n)
    qtbot.waitUntil(settled(browser, 4), timeout=WAIT)
    order = [e.event_id for e in sorted(n.events, key=lambda e: (e.event_time, e.event_id))]
    with seed_importer(tmp_path / "seed") as seed:
        blocked, release = threading.Event(), threading.Event()

        def hold_third(what, ident):  # in the importer, before it answers
            if what == "event" and ident == order[2] and not release.is_set():
                blocked.set()
                release.wait(10)

        seed.before_request = hold_third
        target = add_target(ui, qtbot, "club", seed.url, "exporter", SEED_USERS["exporter"][0])
        ui.targets_dialog.close()
        select_everything(browser)
        assert export_from_dialog(ui, qtbot, target) == "4 queued"
        qtbot.waitUntil(blocked.is_set, timeout=WAIT)
        qtbot.waitUntil(
            lambda: (
                view.model.entry(order[2]) is not None
                and view.model.entry(order[2]).state == "sending"
            ),
            timeout=WAIT,
        )
        assert view.cancel_button.isEnabled() and not view.resume_button.isEnabled()
        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
        release.set()
        qtbot.waitUntil(round_over(ui, target), timeout=WAIT)
        assert [view.model.entry(i).state for i in order] == [COMPLETE, COMPLETE, QUEUED, QUEUED]
        assert "Cancelled: 2 entities stay queued" in view.state.text()
        assert view.model.entry(order[2]).message == "cancelled: stays queued"
        assert set(seed.events) == set(order[:2])
        uploads_before = list(seed.uploads)

        assert view.resume_button.isEnabled()
        qtbot.mouseClick(view.resume_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(round_over(ui, target), timeout=WAIT)
        assert states(view) == [COMPLETE] * 4
        for event in n.events:
            assert seed.events[event.event_id] == event.to_dict()
            for record in event.files:
                assert seed.bytes_of(record.file_id) == n.file_bytes(record.file_id)
        # The two finished before the cancel were not offered or uploaded again.
        sent_again = seed.uploads[len(uploads_before) :]
        first_files = {f.file_id for e in n.events if e.event_id in order[:2] for f in e.files}
        assert not first_files & {fid for fid, _ in sent_again}
        offers = seed.offers()
        assert offers.count(order[0]) == 1 and offers.count(order[1]) == 1
    qtbot.waitUntil(
        lambda: all(browser.model.row_at(r).exported == (target.target_id,) for r in range(4)),
        timeout=WAIT,
    )


def test_a_queue_left_from_an_earlier_session_waits_for_resume(qtbot, tmp_path):
    from meteorgui.archive import Archive
    from meteorgui.gui.startup import build, close
    from meteorgui.settings import Settings

    n = night(5, events=2, timelapse=1)
    data = tmp_path / "gui-data"
    with seed_importer(tmp_path / "seed") as seed:
        archive = Archive(data)
        try:
            fill_archive(archive, n)
            exporter = Exporter(archive, default_secrets())
            target = exporter.targets.add("club", seed.url, "exporter", SEED_USERS["exporter"][0])
            exporter.queue.enqueue_selection(target.target_id, Selection())
            exporter.close()
        finally:
            archive.close()
        ctx, window = build(data, Settings(host="127.0.0.1", port=0, importer_autostart=False))
        qtbot.addWidget(window)
        try:
            window.show()
            ui, view = window.export_ui, window.export_ui.view
            qtbot.waitUntil(lambda: view.banner.isVisible(), timeout=WAIT)
            assert "3 entities queued for <b>club</b> in an earlier session" in view.banner.text()
            assert ui.dock.isVisible() and view.resume_button.isEnabled()
            qtbot.waitUntil(lambda: len(view.model.entries()) == 3, timeout=WAIT)
            assert states(view) == [QUEUED] * 3 and seed.requests == []  # not sent by itself
            qtbot.mouseClick(view.resume_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(round_over(ui, target), timeout=WAIT)
            assert states(view) == [COMPLETE] * 3 and not view.banner.isVisible()
            assert set(seed.events) == {e.event_id for e in n.events}
        finally:
            window.close()
            close(ctx)


# --------------------------------------------------------------------------- rules


def test_a_rule_made_in_the_dialog_runs_and_shows_its_state(gui, ui, push, archive, server, qtbot):
    browser = gui.window.browser
    n = night(6, events=2, timelapse=1)
    push(n)
    qtbot.waitUntil(settled(browser, 2), timeout=WAIT)
    target = add_target(ui, qtbot, "central", server.url, *CAMERA_USER)
    broken = add_target(ui, qtbot, "typo", server.url, "nobody", "wrong")
    ui.targets_dialog.close()

    ui.act_rules.trigger()
    dlg = ui.rules_dialog
    qtbot.waitUntil(dlg.add_button.isEnabled, timeout=WAIT)

    def make_rule(name, t, window="", cap=0):
        dlg.add()
        ed = dlg.editor
        ed.name.setText(name)
        ed.target.setCurrentIndex(ed.target.findData(t.target_id))
        ed.window.setText(window)
        ed.bandwidth.setValue(cap)
        qtbot.waitUntil(lambda: ed.camera.count() > 1, timeout=WAIT)
        qtbot.mouseClick(
            ed.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton
        )
        qtbot.waitUntil(lambda: any(r.name == name for r in dlg.rules.values()), timeout=WAIT)
        return next(r for r in dlg.rules.values() if r.name == name)

    rule = make_rule("to central", target, cap=512)
    # A new rule is due at once: the scheduler runs it, and its row shows it live.
    qtbot.waitUntil(lambda: dlg.rules[rule.rule_id].state == "ok", timeout=WAIT)
    row = dlg.row_texts(rule.rule_id)
    assert row[:6] == [
        "to central",
        "central",
        "all events and stills",
        "any time",
        "512 kB/s",
        row[5],
    ] and row[5].startswith("ok (sent ")
    assert row[6]  # next attempt
    for event in n.events:
        assert archive.get_event(event.event_id) is not None
    qtbot.waitUntil(
        lambda: all(browser.model.row_at(r).exported == (target.target_id,) for r in range(2)),
        timeout=WAIT,
    )

    # Run now sends what came since.
    more = night(7, events=1, timelapse=0, start=EVENING + 3600_000)
    push(more)
    dlg.select(rule.rule_id)
    assert dlg.run_button.isEnabled()
    last_ok = dlg.rules[rule.rule_id].last_ok_at
    qtbot.mouseClick(dlg.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            dlg.rules[rule.rule_id].last_ok_at != last_ok and dlg.rules[rule.rule_id].state == "ok"
        ),
        timeout=WAIT,
    )
    assert archive.get_event(more.events[0].event_id) is not None

    # A failing rule backs off, stays enabled, and says why in the dialog and the status bar.
    bad = make_rule("to typo", broken)
    qtbot.waitUntil(lambda: dlg.rules[bad.rule_id].state == "backing_off", timeout=WAIT)
    texts = dlg.row_texts(bad.rule_id)
    assert texts[5] == "backing off (1 failure in a row)" and texts[6]
    assert "refused the credentials" in texts[7]
    assert dlg.rules[bad.rule_id].enabled
    dlg.select(bad.rule_id)
    assert "Last error: the importer" in dlg.detail.text() and "Next attempt" in dlg.detail.text()
    qtbot.waitUntil(lambda: "Scheduled export 'to typo'" in ui.status.text(), timeout=WAIT)
    assert "next attempt" in ui.status.text() and ui.status.isVisible()
    assert "refused the credentials" in ui.status.toolTip()
    # Disabled by the user only; then the status bar no longer warns.
    dlg.select(bad.rule_id)
    qtbot.mouseClick(dlg.toggle_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.rules[bad.rule_id].enabled, timeout=WAIT)
    assert dlg.row_texts(bad.rule_id)[5] == "disabled"
    qtbot.waitUntil(lambda: "to typo" not in ui.status.text(), timeout=WAIT)

    # A target a rule uses cannot be removed; the dialog says which rule.
    ui.act_targets.trigger()
    tdlg = ui.targets_dialog
    tdlg.select(broken.target_id)
    tdlg.remove()
    yes = next(b for b in tdlg.confirm.buttons() if b.text() == "Remove")
    qtbot.mouseClick(yes, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Not removed" in tdlg.message.text(), timeout=WAIT)
    assert "'to typo'" in html.unescape(tdlg.message.text())
    assert any(t.target_id == broken.target_id for t in ui.service.targets)
    tdlg.close()
    dlg.close()


# --------------------------------------------------------------------------- folder


def test_export_selected_events_to_a_zip(gui, ui, push, qtbot, tmp_path):
    browser = gui.window.browser
    n = night(8, events=3, timelapse=0)
    push(n)
    qtbot.waitUntil(settled(browser, 3), timeout=WAIT)
    browser.grid.select_row(1)
    chosen = browser.model.row_at(1).event_id
    ui.act_folder.trigger()
    dlg = ui.folder_dialog
    dlg.as_zip.setChecked(True)
    dlg.path.setText(str(tmp_path / "out"))
    assert dlg.path.text() == str(tmp_path / "out") and dlg.as_zip.isChecked()
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.result is not None or bool(dlg.error), timeout=WAIT)
    assert dlg.error == "" and dlg.result.ok
    assert dlg.bar.value() == dlg.bar.maximum()
    assert f"Wrote 1 event and {len(n.events[0].files)} files" in dlg.message.text()
    # The dialog grew for the progress bar and the message: no row is squeezed.
    qtbot.waitUntil(
        lambda: dlg.height() >= dlg.layout().totalHeightForWidth(dlg.width()), timeout=WAIT
    )
    event = next(e for e in n.events if e.event_id == chosen)

    def check(written: Path) -> None:
        with zipfile.ZipFile(written) as z:
            manifest = json.loads(z.read("manifest.json"))
            [entry] = manifest["events"]
            assert entry["event"] == event.to_dict()
            for record, path in zip(event.files, entry["paths"], strict=True):
                assert z.read(path) == n.file_bytes(record.file_id)

    check(tmp_path / "out.zip")
    # Export again: a new zip beside the first (the same name would be refused).
    again = Path(dlg.path.text())
    assert again.parent == tmp_path and again.suffix == ".zip" and not again.exists()
    first = dlg.result
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.result is not first and dlg.result is not None, timeout=WAIT)
    assert dlg.error == "" and dlg.result.ok and Path(dlg.result.path) == again
    check(again)
    dlg.close()


def test_browse_query_not_exported_to(gui, ui, push, qtbot):
    # The browse layer the filter rides on: one indexed NOT EXISTS per row.
    n = night(9, events=3, timelapse=0)
    push(n)
    qtbot.waitUntil(settled(gui.window.browser, 3), timeout=WAIT)
    archive = gui.archive
    exporter = ui.service.exporter
    t = exporter.targets.add("x", "http://127.0.0.1:9/import", "u")
    first = n.events[0].event_id
    exporter.queue.enqueue_ids(t.target_id, [first])
    [item] = exporter.queue.items(t.target_id)
    exporter.queue.complete(exporter.queue.claim_next(t.target_id), 0)
    assert item.entity_id == first
    q = Query(not_exported_to=t.target_id)
    assert browse.count(archive, q) == 2
    assert first not in {r.event_id for r in browse.page(archive, q, 0, 10)}
    assert browse.get_row(archive, first).exported == (t.target_id,)
    assert not q.matches(browse.get_row(archive, first))


def test_badges_follow_exports_made_anywhere_through_the_hub(gui, ui, push, qtbot):
    # An export the GUI's export service never saw (another thread of the process, as a
    # scheduled round or a command would) badges the browser: it listens to the hub.
    browser = gui.window.browser
    n = night(11, events=3, timelapse=1)
    push(n)
    # Listed anew once the nights follow the cameras' solar time (the first location).
    qtbot.waitUntil(
        lambda: browser._ready and browser.filters.clock.longitude is not None, timeout=WAIT
    )
    qtbot.waitUntil(shown(browser, 3, 1), timeout=WAIT)
    queue = ui.service.exporter.queue
    t = ui.service.exporter.targets.add("elsewhere", "http://127.0.0.1:9/import", "u")
    ui.service.reload_targets()
    event_id, still_id = n.events[1].event_id, n.files[0].file_id
    queue.enqueue_ids(t.target_id, [event_id, still_id])
    qtbot.waitUntil(lambda: ui.service.target(t.target_id) is not None, timeout=WAIT)
    reads = []  # the badge comes in place, not from reading the list again
    browser.model.modelReset.connect(lambda: reads.append("reset"))
    browser.model.loaded.connect(lambda *_: reads.append("loaded"))

    def send_both() -> None:
        for _ in range(2):
            queue.complete(queue.claim_next(t.target_id), 0)

    worker = threading.Thread(target=send_both, name="test-exporter")
    worker.start()
    worker.join()
    rows = {browser.model.row_at(r).event_id: r for r in range(browser.model.rowCount())}
    qtbot.waitUntil(
        lambda: browser.model.index(rows[event_id], EXPORTED).data() == "elsewhere", timeout=WAIT
    )
    assert browser.model.row_at(rows[event_id]).exported == (t.target_id,)
    assert reads == []
    others = [r for e, r in rows.items() if e != event_id]
    assert all(browser.model.row_at(r).exported == () for r in others)


def test_cancelling_a_folder_export_leaves_nothing(gui, ui, push, qtbot, tmp_path, monkeypatch):
    from meteorgui.gui.export import folder as export_folder

    browser = gui.window.browser
    push(night(10, events=4, timelapse=0))
    qtbot.waitUntil(settled(browser, 4), timeout=WAIT)
    first_written, go = threading.Event(), threading.Event()
    real = export_folder.export_to_folder

    def paused(*args, on_progress, **kw):  # the real export, held after its first event
        def hold(done, total):
            on_progress(done, total)
            first_written.set()
            go.wait(10)

        return real(*args, on_progress=hold, **kw)

    monkeypatch.setattr(export_folder, "export_to_folder", paused)
    browser.grid.selectAll()
    ui.act_folder.trigger()
    dlg = ui.folder_dialog
    dlg.path.setText(str(tmp_path / "out"))
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(first_written.is_set, timeout=WAIT)
    qtbot.waitUntil(lambda: dlg.bar.maximum() == 4 and dlg.bar.value() == 1, timeout=WAIT)
    assert "1 of 4 written" in dlg.message.text()
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)  # Cancel, while running
    go.set()
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=WAIT)
    assert dlg.result.cancelled and "Cancelled: nothing was written" in dlg.message.text()
    assert dlg.isVisible()  # the first Cancel stops the export, not the dialog
    assert [p.name for p in tmp_path.iterdir() if "out" in p.name] == []  # no part files
    dlg.close()


def test_closing_the_export_dialog_while_it_queues_still_sends(
    gui, ui, push, archive, server, qtbot, monkeypatch
):
    from meteorgui.gui.export import dialog as export_dialog_mod

    browser = gui.window.browser
    push(night(1))
    qtbot.waitUntil(shown(browser, 3, 2), timeout=WAIT)
    target = add_target(ui, qtbot, "central", server.url, *CAMERA_USER)
    dlg = ui.targets_dialog
    dlg.select(target.target_id)
    readers = len(gui.archive.db._readers)
    for _ in range(3):  # connection tests run detached: each gives its reader back
        dlg.message.setText("")
        dlg.test()
        qtbot.waitUntil(lambda: "OK" in dlg.message.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: len(gui.archive.db._readers) <= readers, timeout=WAIT)
    dlg.close()
    queueing, release = threading.Event(), threading.Event()
    real = export_dialog_mod.enqueue

    def slow_enqueue(*args):
        queueing.set()
        release.wait(10)
        return real(*args)

    monkeypatch.setattr(export_dialog_mod, "enqueue", slow_enqueue)
    select_everything(browser)
    ui.act_export.trigger()
    dlg = ui.export_dialog
    dlg.target.setCurrentIndex(dlg.target.findData(target.target_id))
    qtbot.waitUntil(lambda: dlg.counts is not None, timeout=WAIT)
    qtbot.mouseClick(dlg.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(queueing.is_set, timeout=WAIT)
    dlg.reject()  # the user closes it while it queues
    release.set()
    qtbot.waitUntil(lambda: len(archive.events()) == 3, timeout=WAIT)


def test_a_round_redraws_the_dock_a_few_times_a_second_not_at_every_step(
    gui, ui, push, server, qtbot, monkeypatch
):
    """Each step of each entity redrew the state line and totals, and a redraw looks at
    every entry: a 500-entity round spent seconds of the GUI thread (and the exporter's
    share of the GIL) on it."""
    n = night(4, events=20, timelapse=40)
    assert push(n).ok
    target = add_target(ui, qtbot, "central", server.url, *CAMERA_USER)
    view = ui.view
    calls = {"progress": 0, "refresh": 0}
    real_refresh = view._refresh

    def counted():
        calls["refresh"] += 1
        real_refresh()

    monkeypatch.setattr(view, "_refresh", counted)
    timer = getattr(view, "_refresh_timer", None)
    if timer is not None:  # the timer was connected to the method before it was counted
        timer.timeout.disconnect()
        timer.timeout.connect(counted)
    ui.service.progress.connect(lambda e: calls.__setitem__("progress", calls["progress"] + 1))
    export_from_dialog(ui, qtbot, target, matching=True)
    qtbot.waitUntil(round_over(ui, target), timeout=WAIT)
    assert calls["progress"] > 5 * 60  # several steps an entity
    assert calls["refresh"] < calls["progress"] / 4, calls
    assert "60 of 60 entities done" in view.totals.text()
