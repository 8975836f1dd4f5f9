"""The GUI's background work: results only reach live dialogs, and quitting never waits
for work that cannot finish soon."""

from __future__ import annotations

import threading
import time

from PySide6.QtWidgets import QDialog

from meteorgui.gui.common.tasks import TaskRunner
from meteorgui.gui.detail.textview import LINE_CAP, read_text


def test_a_result_for_a_dialog_already_deleted_is_dropped(qtbot):
    runner = TaskRunner(max_threads=1)
    dlg = QDialog()
    go = threading.Event()
    got, live = [], []
    runner.run(lambda: go.wait(5) or 1, got.append, got.append, owner=dlg)
    dlg.deleteLater()
    qtbot.waitUntil(lambda: not _alive(dlg))
    go.set()
    other = QDialog()
    qtbot.addWidget(other)
    runner.run(lambda: 2, live.append, owner=other)  # the same pool: after the first
    qtbot.waitUntil(lambda: live == [2])
    assert got == []
    runner.shutdown()


def _alive(obj) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)


def test_quitting_stops_long_pool_work_and_does_not_wait_for_detached_work(qtbot):
    runner = TaskRunner(max_threads=2)
    never = threading.Event()
    started = [threading.Event(), threading.Event()]
    runner.run(lambda: (started[0].set(), never.wait(30)), detached=True)

    def long_work():  # polls the token, as the resend loop does
        started[1].set()
        end = time.monotonic() + 30
        while not runner.stopping.cancelled and time.monotonic() < end:
            time.sleep(0.01)

    runner.run(long_work)
    assert started[0].wait(5) and started[1].wait(5)
    t0 = time.monotonic()
    runner.shutdown(wait=True)
    assert time.monotonic() - t0 < 5  # both are still running or just told to stop
    never.set()


def test_long_lines_are_cut_for_display_and_said_so(tmp_path):
    path = tmp_path / "path.json"
    path.write_text('{"points": "' + "1,2;" * 400_000 + '"}')
    text, note = read_text(path, "application/json")
    assert max(len(line) for line in text.splitlines()) < LINE_CAP + 40
    assert "more characters)" in text
    assert "1 line longer than 10,000 characters shown cut" in note
    big = tmp_path / "big.txt"
    big.write_bytes(b"x\n" * 2_000_000)
    _, note = read_text(big, "text/plain", cap=1_000_000)
    assert note == "Showing the first 1,000,000 bytes of 4,000,000."
