"""Changes the GUI never made still reach its views, through the hub alone.

Each change here is made by calling the archive's and exporter's own functions on a plain
thread, as a script, the scheduler or an export round would: the export service and its
dialogs never see it happen. The views must follow anyway, because the archive publishes
every change after its commit and the views subscribe (the real main window on a real
SQLite archive; the ``gui`` fixture).
"""

from __future__ import annotations

import threading

import pytest

from meteorgui.archive.exports import Selection
from meteorgui.gui.export.rules import ERROR, NAME

from .export_helpers import fill_archive, small_night

WAIT = 15_000


def on_plain_thread(fn):
    """Run ``fn`` on a thread of its own (not the GUI's, not its task pool) and return
    what it returned."""
    out: list = []
    errors: list[BaseException] = []

    def run():
        try:
            out.append(fn())
        except BaseException as exc:  # handed to the test below
            errors.append(exc)

    t = threading.Thread(target=run, name="test-writer")
    t.start()
    t.join()
    if errors:
        raise errors[0]
    return out[0]


@pytest.fixture
def ui(gui, qtbot):
    qtbot.waitUntil(lambda: gui.window.browser._ready, timeout=WAIT)
    return gui.window.export_ui


@pytest.fixture
def exporter(gui):
    return gui.core.exporter


@pytest.fixture
def target(ui, exporter, qtbot):
    """A target added behind the GUI's back: the views list it all the same."""
    t = on_plain_thread(lambda: exporter.targets.add("club", "http://127.0.0.1:9/import", "u"))
    qtbot.waitUntil(lambda: ui.view.target_id == t.target_id, timeout=WAIT)
    assert ui.service.target(t.target_id) is not None
    return t


def test_queue_changes_made_on_another_thread_update_the_export_view(
    gui, ui, exporter, target, qtbot
):
    night = small_night(events=3, timelapse=2)
    on_plain_thread(lambda: fill_archive(gui.archive, night))
    queue, tid, view = exporter.queue, target.target_id, ui.view

    def shows(queued, failed):
        s = view.summary
        return s is not None and (s.queued, s.failed) == (queued, failed)

    assert on_plain_thread(lambda: queue.enqueue_selection(tid, Selection())) == 5
    qtbot.waitUntil(lambda: shows(5, 0) and view.model.rowCount() == 5, timeout=WAIT)

    # A round's own failures are told by its progress events, not the hub: fail them all
    # quietly, then take one out and put the rest back in line, as a script would.
    def fail_all():
        while (item := queue.claim_next(tid)) is not None:
            queue.fail(item, "refused")

    on_plain_thread(fail_all)
    one = night.events[0].event_id
    assert on_plain_thread(lambda: queue.remove(tid, [one])) == 1
    qtbot.waitUntil(lambda: shows(0, 4), timeout=WAIT)
    assert on_plain_thread(lambda: queue.retry(tid)) == 4
    qtbot.waitUntil(lambda: shows(4, 0), timeout=WAIT)
    assert view.retry_button.isEnabled() is False


def test_forgotten_history_takes_the_badges_off_the_browser(gui, ui, exporter, target, qtbot):
    night = small_night(events=2, timelapse=0)
    on_plain_thread(lambda: fill_archive(gui.archive, night))
    browser, tid = gui.window.browser, target.target_id
    qtbot.waitUntil(lambda: browser.model.rowCount() == 2, timeout=WAIT)

    def exported():
        rows = [browser.model.row_at(r) for r in range(browser.model.rowCount())]
        return {row.event_id for row in rows if row is not None and tid in row.exported}

    def send_all():  # what a round does once the target answered 'complete'
        exporter.queue.enqueue_selection(tid, Selection())
        while (item := exporter.queue.claim_next(tid)) is not None:
            exporter.queue.complete(item, 0)

    on_plain_thread(send_all)
    qtbot.waitUntil(lambda: exported() == {e.event_id for e in night.events}, timeout=WAIT)
    assert on_plain_thread(lambda: exporter.history.forget(tid)) == 2
    qtbot.waitUntil(lambda: exported() == set(), timeout=WAIT)


def cell(dlg, rule_id: int, column: int) -> str | None:
    texts = dlg.row_texts(rule_id)
    return texts[column] if texts else None


def test_rules_changed_on_another_thread_update_the_rules_dialog(ui, exporter, target, qtbot):
    ui.act_rules.trigger()
    dlg = ui.rules_dialog
    qtbot.waitUntil(lambda: dlg.isVisible(), timeout=WAIT)
    rules, tid = exporter.rules, target.target_id

    # Disabled, so the running scheduler leaves it alone.
    rule = on_plain_thread(lambda: rules.add("nightly", tid, enabled=False))
    qtbot.waitUntil(lambda: cell(dlg, rule.rule_id, NAME) == "nightly")
    on_plain_thread(lambda: rules.record(rule.rule_id, last_error="the importer said no"))
    qtbot.waitUntil(lambda: cell(dlg, rule.rule_id, ERROR) == "the importer said no")
    on_plain_thread(lambda: rules.remove(rule.rule_id))
    qtbot.waitUntil(lambda: dlg.row_texts(rule.rule_id) == [] and dlg.table.rowCount() == 0)


def test_a_target_removed_on_another_thread_leaves_the_views(ui, exporter, target, qtbot):
    on_plain_thread(lambda: exporter.targets.remove(target.target_id))
    qtbot.waitUntil(lambda: ui.view.target_id is None, timeout=WAIT)
    assert ui.service.targets == []
