"""Background work with results delivered on the GUI thread: ``run(work, on_result, on_error)``.

Decoding, hashing, large queries and network calls go here, never on the GUI
thread. Tests may pass ``synchronous=True`` for deterministic runs.

Errors have one standard path, as Anki's operations do. Every failure is logged by the
runner (``log_failure``): a ``MeteorguiError`` (a problem the user can act on) as one
line, anything else as a bug with its traceback, a cancellation not at all. Without an
``on_error``, a ``MeteorguiError`` is then shown in a message box over the active window
(``report``); a bug is not put to the user. A view writes ``on_error`` only where it does
something special with the failure (says it in its own pane, resets its state); the
callback never needs to log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from ...errors import MeteorguiError
from ...priority import REFRESH_NICE, lower_this_thread
from . import mailbox

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside work that noticed its token was cancelled."""


class Token:
    """A cancellation flag work can poll."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()


class TaskRunner(QObject):
    def __init__(
        self,
        max_threads: int = 4,
        synchronous: bool = False,
        on_thread_exit: Callable[[], None] | None = None,
        parent: QObject | None = None,
        name: str = "meteorgui-task",
    ):
        super().__init__(parent)
        self._sync = synchronous
        self._on_thread_exit = on_thread_exit
        self._pool = (
            None if synchronous else ThreadPoolExecutor(max_threads, thread_name_prefix=name)
        )
        # One thread at a lower priority for ``background`` work. On a busy core a filter
        # change's read shared the CPU with two such refreshes at start-up and took 2-3
        # times its own CPU time.
        self._background = (
            None
            if synchronous
            else ThreadPoolExecutor(
                1,
                thread_name_prefix=f"{name}-background",
                initializer=partial(lower_this_thread, REFRESH_NICE),
            )
        )
        self._closed = False
        # Set when the app quits: long work polls it (``stopping.check()``) and ends early.
        self.stopping = Token()
        # Results reach the GUI thread through a mailbox: a worker never calls Qt.
        self._mailbox = None if synchronous else mailbox.shared()

    def run(
        self,
        work: Callable[[], Any],
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        owner: QObject | None = None,
        detached: bool = False,
        background: bool = False,
    ) -> Future:
        """Run ``work()`` in the pool; ``on_result`` or ``on_error`` on the GUI thread.

        With an ``owner`` (a dialog that deletes itself on close), a result that
        arrives after the owner is gone is dropped. ``detached`` work (waiting on the
        network, touching the archive only briefly at its start) runs on its own
        daemon thread, which quitting does not wait for. ``background`` work (a refresh
        nobody waits for) runs one at a time on a thread of lower priority, so the reads
        a user waits for get the CPU first.
        """
        if owner is not None:
            on_result = _owned(owner, on_result)
            on_error = _owned(owner, on_error)
        if self._sync:
            fut: Future = Future()
            try:
                value = work()
            except BaseException as exc:  # noqa: BLE001 - delivered to on_error
                fut.set_exception(exc)
                self._deliver(on_error, exc, True)
            else:
                fut.set_result(value)
                self._deliver(on_result, value, False)
            return fut
        if self._closed:
            fut = Future()
            fut.cancel()
            return fut

        box, deliver = self._mailbox, self._deliver

        def job():
            try:
                value = work()
            except BaseException as exc:  # noqa: BLE001
                if not self._closed:
                    box.post(partial(deliver, on_error, exc, True), self)
                raise
            if not self._closed:
                box.post(partial(deliver, on_result, value, False), self)
            return value

        if detached:
            fut = Future()

            def detached_job():
                try:
                    fut.set_result(job())
                except BaseException as exc:  # noqa: BLE001 - delivered to on_error
                    fut.set_exception(exc)
                finally:
                    if self._on_thread_exit is not None:  # e.g. its archive reader
                        self._on_thread_exit()

            threading.Thread(
                target=detached_job, daemon=True, name="meteorgui-task-detached"
            ).start()
            return fut
        return (self._background if background else self._pool).submit(job)

    def _deliver(self, callback, value, is_error) -> None:
        if self._closed and not self._sync:
            return
        if is_error:
            log_failure(value)
            if callback is None:
                report(value)
        if callback is not None:
            callback(value)

    def shutdown(self, wait: bool = True) -> None:
        """Stop delivering results, cancel queued work, tell running work to stop
        (``stopping``) and wait for it."""
        self._closed = True
        self.stopping.cancel()
        for pool in (self._pool, self._background):
            if pool is not None:
                pool.shutdown(wait=wait, cancel_futures=True)
        if self._mailbox is not None:
            self._mailbox.discard(self)


def alive(obj: QObject) -> bool:
    """Whether a Qt object (a dialog that deletes itself on close) still exists."""
    return shiboken6.isValid(obj)


def _owned(owner: QObject, callback):
    """The callback, skipped once ``owner`` has been deleted (its widgets with it)."""
    if callback is None:
        return None

    def call(value):
        if alive(owner):
            callback(value)

    return call


def log_failure(exc: BaseException) -> None:
    """How the runner logs every failure: a problem the user is told about as one line,
    anything else as a bug with its traceback; a cancellation is no failure."""
    if isinstance(exc, Cancelled):
        return
    if isinstance(exc, MeteorguiError):
        log.info("background task: %s", exc)
    else:
        log.error("background task failed: %s", exc, exc_info=exc)


def report(exc: BaseException) -> None:
    """The standard way to tell the user of a failure no view handles: a MeteorguiError
    in a message box; anything else is a bug, which the log holds (``log_failure``)."""
    if isinstance(exc, MeteorguiError):
        show_error(exc)


def show_error(exc: MeteorguiError, title: str = "meteorgui") -> QMessageBox:
    """The standard way a problem is told: its one line in a message box over the active
    window (not modal to the whole app, so work elsewhere goes on)."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        title,
        str(exc),
        QMessageBox.StandardButton.Ok,
        QApplication.activeWindow(),
    )
    box.setTextFormat(Qt.TextFormat.PlainText)  # the message may quote a camera
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    # Without an active window (no window manager yet) nothing owns the box: keep it
    # until it closes, or Python collects it before it is seen.
    _shown.add(box)
    box.finished.connect(lambda _result: _shown.discard(box))
    box.open()
    return box


_shown: set[QMessageBox] = set()
