"""Verify archive and request resend, end to end through the real importer over HTTP."""

from __future__ import annotations

import threading

import pytest
import requests
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from meteorgui.gui.tools.resend import ResendDialog
from meteorgui.gui.tools.verify import VerifyDialog

from . import factories
from .conftest import CAMERA_USER


@pytest.fixture
def node(gui):
    n = factories.Node(gui.core.server.url, *CAMERA_USER)
    yield n
    n.close()


@pytest.fixture
def mon(gui, qtbot):
    m = gui.window.monitor
    qtbot.waitUntil(lambda: m.loaded)
    return m


def verify(gui, qtbot):
    dlg = VerifyDialog(gui, gui.window, autostart=False)
    qtbot.addWidget(dlg)
    dlg.open()
    with qtbot.waitSignal(dlg.finishedChecks, timeout=20_000) as blocker:
        dlg.start()
    return dlg, blocker.args[0]


def conversation_about(mon, entity_id):
    """The latest conversation about an entity in the monitor, or None."""
    found = [
        mon.model.conversation(r)
        for r in range(mon.model.rowCount())
        if mon.model.conversation(r).entity_id == entity_id
    ]
    return max(found, key=lambda c: c.id) if found else None


def state_of(mon, entity_id):
    c = conversation_about(mon, entity_id)
    return None if c is None else c.state


def test_the_resend_flow_end_to_end(gui, node, mon, qtbot):
    archive = gui.archive
    st = factories.status()
    event = factories.event_pack(st, n_files=3)
    still = factories.file_pack(st)
    assert node.send(event)["state"] == "complete"
    assert node.send(still)["state"] == "complete"

    # The disk spoils one file of the event and loses the time-lapse still.
    damaged = event.entity.files[1]
    path = archive.file_path(damaged)
    spoiled = b"\x00" * 100 + path.read_bytes()[100:]
    path.write_bytes(spoiled)
    archive.file_path(still.entity).unlink()

    dlg, outcome = verify(gui, qtbot)
    assert not outcome.cancelled and outcome.checked == outcome.total == 4
    states = {c.file.file_id: c.state for c in outcome.problems}
    assert states == {damaged.file_id: "damaged", still.entity.file_id: "missing"}
    assert dlg.model.rowCount() == 2
    assert {dlg.model.index(r, 7).data() for r in range(2)} == {"damaged", "missing"}
    assert "1 damaged, 1 missing" in dlg.status.text()

    # Request resend for all, from the dialog.
    assert dlg.resend_all.isEnabled()
    qtbot.mouseClick(dlg.resend_all, Qt.MouseButton.LeftButton)
    resend: ResendDialog = dlg.resend_dialog
    assert resend.entity_ids == [c.file.file_id for c in dlg.model.items()]
    assert "quarantine folder" in resend.explanation.text()
    assert "nothing is deleted" in resend.explanation.text()
    with qtbot.waitSignal(resend.requested, timeout=10_000) as blocker:
        qtbot.mouseClick(resend.request_button, Qt.MouseButton.LeftButton)
    results = {r.entity_id: r for r in blocker.args[0]}
    assert all(r.ok for r in results.values())
    assert results[damaged.file_id].file_ids == (damaged.file_id,)
    assert "quarantine" in results[damaged.file_id].text
    assert resend.model.text(0, 1) == results[resend.entity_ids[0]].text
    assert "2 items marked for resend" in resend.summary.text()

    # The old bytes are kept in quarantine, never deleted.
    kept = list(archive.store.quarantine_dir.glob(f"{damaged.file_id}.{damaged.md5}.*"))
    assert [p.read_bytes() for p in kept] == [spoiled]
    assert not path.exists()

    # The monitor shows the requests, and exporters that ask are told what to offer again.
    qtbot.waitUntil(
        lambda: (
            state_of(mon, event.entity.event_id) == "resend_requested"
            and state_of(mon, still.entity.file_id) == "resend_requested"
        )
    )
    requested = conversation_about(mon, event.entity.event_id)
    listed = requests.get(f"{gui.core.server.url}/resend", auth=CAMERA_USER, timeout=10).json()
    assert set(listed["ids"]) == {event.entity.event_id, still.entity.file_id}

    # The camera offers both again: the importer asks for the bytes instead of "complete".
    node.log.clear()
    assert node.send(event)["state"] == "complete"
    assert node.log.count("need_file_data") == 1
    assert node.send(still)["state"] == "complete"
    qtbot.waitUntil(
        lambda: (
            state_of(mon, event.entity.event_id) == "complete"
            and state_of(mon, still.entity.file_id) == "complete"
        )
    )
    # The same row went from "resend requested" to "complete".
    assert conversation_about(mon, event.entity.event_id).id == requested.id
    assert path.read_bytes() == event.blobs[damaged.file_id]
    assert (
        requests.get(f"{gui.core.server.url}/resend", auth=CAMERA_USER, timeout=10).json()["ids"]
        == []
    )

    _, again = verify(gui, qtbot)
    assert again.problems == [] and again.checked == 4


def test_a_failed_resend_can_be_requested_again_from_the_monitor(gui, node, mon, qtbot):
    st = factories.status()
    event = factories.event_pack(st, n_files=2)
    assert node.send(event)["state"] == "complete"
    gui.core.importer.request_resend(event.entity.event_id)
    # The camera's re-sent bytes are corrupted on the way, three times: the importer gives up.
    node.corrupt = {f.file_id for f in event.entity.files}
    assert node.send(event)["state"] == "failed"
    qtbot.waitUntil(lambda: state_of(mon, event.entity.event_id) == "failed")
    c = conversation_about(mon, event.entity.event_id)
    mon.view.selectRow(mon.proxy.mapFromSource(mon.model.index(mon.model.row_of(c.id), 0)).row())
    assert mon.resend_button.isEnabled()
    with qtbot.waitSignal(mon.resendRequested, timeout=5000) as blocker:
        mon.resend_button.click()
    assert blocker.args[0] == [event.entity.event_id]  # archived: a resend can be asked for
    dlg = [d for d in mon._dialogs if isinstance(d, ResendDialog)][0]
    with qtbot.waitSignal(dlg.requested, timeout=10_000):
        dlg.start()
    assert dlg.results[0].ok
    node.corrupt = set()
    assert node.send(event)["state"] == "complete"
    qtbot.waitUntil(lambda: state_of(mon, event.entity.event_id) == "complete")
    assert all(gui.archive.has_bytes(f) for f in event.entity.files)
    dlg.close()


def test_a_failed_import_that_is_not_archived_needs_nothing(gui, node, mon, qtbot):
    bad = factories.event_pack(factories.status(), n_files=1)
    node.corrupt = {bad.entity.files[0].file_id}
    assert node.send(bad)["state"] == "failed"
    qtbot.waitUntil(lambda: state_of(mon, bad.entity.event_id) == "failed")
    mon.view.selectRow(0)
    mon.resend_button.click()
    qtbot.waitUntil(lambda: any(isinstance(d, QMessageBox) for d in mon._dialogs))
    box = [d for d in mon._dialogs if isinstance(d, QMessageBox)][0]
    assert "Nothing needs doing" in box.text() and "offer it again by itself" in box.text()
    assert gui.archive.resend_offers() == []
    box.close()


def test_resend_dialog_reports_unknown_ids(gui, qtbot):
    dlg = ResendDialog(gui, ["0" * 32], gui.window)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: "not in the archive" in dlg.model.text(0, 0))
    with qtbot.waitSignal(dlg.requested, timeout=5000) as blocker:
        dlg.start()
    [r] = blocker.args[0]
    assert not r.ok and "no event or file" in r.text
    assert "could not be marked" in dlg.summary.text()
    assert gui.archive.resend_offers() == []


def test_verify_cancel_really_stops(gui, node, qtbot, monkeypatch):
    st = factories.status()
    for i in range(3):
        assert (
            node.send(factories.event_pack(st, n_files=3, t=factories.T0 + i))["state"]
            == "complete"
        )
    store = gui.archive.store
    real_check = store.check
    calls = []
    reached, release = threading.Event(), threading.Event()

    def check(*args, **kwargs):
        # Hold the worker on the third file until the test has pressed Cancel.
        calls.append(args[0])
        if len(calls) == 3:
            reached.set()
            release.wait(10)
        return real_check(*args, **kwargs)

    monkeypatch.setattr(store, "check", check)
    dlg = VerifyDialog(gui, gui.window)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(reached.is_set)
    assert dlg.cancel_button.isEnabled() and not dlg.again_button.isEnabled()
    with qtbot.waitSignal(dlg.finishedChecks, timeout=10_000) as blocker:
        qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
        release.set()
    outcome = blocker.args[0]
    assert outcome.cancelled
    assert outcome.checked == 3 and outcome.total == 9
    assert len(calls) == 3  # no file was hashed after Cancel
    assert "Cancelled after 3 of 9 files" in dlg.status.text()
    assert dlg.again_button.isEnabled() and not dlg.cancel_button.isEnabled()
    dlg.close()


def test_quitting_cancels_a_running_verify(gui, node, qtbot, monkeypatch):
    st = factories.status()
    assert node.send(factories.event_pack(st, n_files=3))["state"] == "complete"
    store = gui.archive.store
    real_check = store.check
    reached, release = threading.Event(), threading.Event()

    def check(*args, **kwargs):
        reached.set()
        release.wait(10)
        return real_check(*args, **kwargs)

    monkeypatch.setattr(store, "check", check)
    dlg = VerifyDialog(gui, gui.window)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(reached.is_set)
    # meteorgui.gui.startup.close() shuts every service down before it waits for the pool.
    with qtbot.waitSignal(dlg.finishedChecks, timeout=10_000) as blocker:
        gui.verify.shutdown()
        release.set()
    assert blocker.args[0].cancelled and blocker.args[0].checked == 1
    assert not gui.verify.tokens


def test_the_detail_pane_shows_bytes_a_resend_moved_away(gui, node, qtbot):
    st = factories.status()
    event = factories.event_pack(st, n_files=2)
    assert node.send(event)["state"] == "complete"
    detail = gui.window.detail
    detail.show_event(event.entity.event_id)
    damaged = event.entity.files[1]
    qtbot.waitUntil(lambda: detail.info is not None and detail.info.present.get(damaged.file_id))
    path = gui.archive.file_path(damaged)
    path.write_bytes(b"\x00" * 10 + path.read_bytes()[10:])

    dlg = ResendDialog(gui, [damaged.file_id], gui.window)
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.requested, timeout=10_000):
        dlg.start()

    # The damaged bytes went to quarantine: the pane says so instead of "present".
    qtbot.waitUntil(
        lambda: detail.info is not None and detail.info.present.get(damaged.file_id) is False,
        timeout=10_000,
    )
    assert detail.info.present.get(event.entity.files[0].file_id) is True


def test_the_dialog_says_what_is_requested_already(gui, node, qtbot):
    """Before, an item asked for from the command line (or earlier) read 'not requested
    yet' in the dialog."""
    pack = factories.event_pack(factories.status(), n_files=2)
    assert node.send(pack)["state"] == "complete"
    fresh = factories.event_pack(factories.status(), n_files=1)
    assert node.send(fresh)["state"] == "complete"
    gui.archive.request_resend(pack.entity.event_id)  # as `meteorgui resend ID` does
    dlg = ResendDialog(gui, [pack.entity.event_id, fresh.entity.event_id], gui.window)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.model.text(0, 1).startswith("requested already ("))
    assert dlg.model.text(1, 1) == "not requested yet"
