"""The GUI's background work: results only reach live dialogs, and quitting never waits
for work that cannot finish soon."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest
from PySide6.QtWidgets import QDialog

from meteorgui.gui.common.tasks import TaskRunner
from meteorgui.gui.detail.textview import LINE_CAP, read_text
from meteorgui.priority import REFRESH_NICE


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


def _priority() -> tuple[int, int]:
    return threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority: Linux")
def test_background_work_runs_on_its_own_thread_at_a_lower_priority(qtbot):
    """A refresh nobody waits for (camera health, the night chooser's counts) shared the
    app's CPU with a filter change's read and made it take 2-3 times its own CPU time."""
    runner = TaskRunner(max_threads=2)
    got: list[tuple[str, tuple[int, int]]] = []
    runner.run(_priority, lambda r: got.append(("pool", r)))
    runner.run(_priority, lambda r: got.append(("background", r)), background=True)
    qtbot.waitUntil(lambda: len(got) == 2)
    runner.shutdown()
    (pool_thread, pool_nice), (bg_thread, bg_nice) = (r for _, r in sorted(got, reverse=True))
    assert bg_thread != pool_thread
    assert pool_nice == os.getpriority(os.PRIO_PROCESS, 0)  # the pool keeps the app's
    assert bg_nice == min(19, pool_nice + REFRESH_NICE)


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


def test_a_problem_without_a_handler_is_shown_once_in_a_message_box(qtbot, caplog):
    from PySide6.QtWidgets import QApplication, QMessageBox

    from meteorgui.archive import ArchiveError

    runner = TaskRunner(max_threads=1)
    window = QDialog()
    qtbot.addWidget(window)
    window.show()

    def boxes():
        return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]

    def fail_plainly():
        raise ArchiveError("the archive's folder is gone")

    def fail_with_a_bug():
        raise KeyError("bug")

    runner.run(fail_plainly)  # no on_error: the standard way
    qtbot.waitUntil(lambda: any(b.isVisible() for b in boxes()))
    (box,) = [b for b in boxes() if b.isVisible()]
    assert box.text() == "the archive's folder is gone"
    box.close()
    qtbot.waitUntil(lambda: not any(b.isVisible() for b in boxes()))
    done = []
    runner.run(fail_with_a_bug, on_error=None)
    runner.run(lambda: None, done.append)
    qtbot.waitUntil(lambda: done == [None])
    assert not any(b.isVisible() for b in boxes())  # a bug is logged, not shown
    assert any("background task failed" in r.getMessage() for r in caplog.records)
    runner.shutdown()


def test_every_problem_a_user_is_told_about_shares_one_base():
    from meteorgui.archive import ArchiveError, Conflict
    from meteorgui.archive.cameras import CameraBound
    from meteorgui.archive.exports import SelectionError
    from meteorgui.archive.migrations import NewerArchive
    from meteorgui.archive.users import UserError
    from meteorgui.cli import CliError
    from meteorgui.errors import MeteorguiError
    from meteorgui.exporter import ExportBusy, ImportClientError, RuleError, TargetError
    from meteorgui.exporter.folder import FolderExportError, FolderWriteError
    from meteorgui.exporter.secrets import SecretError
    from meteorgui.importer import PortInUse
    from meteorgui.model import ModelError

    for kind in (
        ArchiveError, Conflict, SelectionError, NewerArchive, UserError, CliError, ExportBusy,
        ImportClientError, RuleError, TargetError, FolderExportError, FolderWriteError,
        SecretError, PortInUse, ModelError, CameraBound,
    ):  # fmt: skip
        assert issubclass(kind, MeteorguiError), kind


def test_every_failure_is_logged_by_the_runner_and_a_handler_only_says_it(qtbot, caplog):
    import logging

    from PySide6.QtWidgets import QApplication, QMessageBox

    from meteorgui.archive import ArchiveError
    from meteorgui.gui.common.tasks import Cancelled

    caplog.set_level(logging.INFO, logger="meteorgui.gui.common.tasks")
    runner = TaskRunner(max_threads=1)
    said: list[BaseException] = []

    def raising(exc):
        def work():
            raise exc

        return work

    def records(exc):
        return [r for r in caplog.records if str(exc) in r.getMessage()]

    bug, plain, stop = KeyError("a bug"), ArchiveError("the folder is gone"), Cancelled()
    for exc in (bug, plain):
        runner.run(raising(exc), on_error=said.append)
    runner.run(raising(stop))  # no handler: a cancellation is no failure
    qtbot.waitUntil(lambda: len(said) == 2)
    done = []
    runner.run(lambda: None, done.append)  # after the cancellation's delivery
    qtbot.waitUntil(lambda: done == [None])
    assert said == [bug, plain]
    # A bug: an error with its traceback, though a view handled it.
    [logged] = records(bug)
    assert logged.levelno == logging.ERROR and logged.exc_info[1] is bug
    # A problem the user is told about: one line, no traceback.
    [logged] = records(plain)
    assert logged.levelno == logging.INFO and not logged.exc_info
    assert [r for r in caplog.records if r.exc_info and r.exc_info[1] is stop] == []
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
    assert not any(b.isVisible() for b in boxes)  # the handlers said it: no box
    runner.shutdown()
