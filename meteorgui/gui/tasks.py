"""Background work with results delivered on the GUI thread: ``run(work, on_result, on_error)``.

Decoding, hashing, large queries and network calls go here, never on the GUI
thread. Tests may pass ``synchronous=True`` for deterministic runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

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
    _done = Signal(object, object, object)  # callback, value, is_error

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
        self._closed = False
        self._done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def run(
        self,
        work: Callable[[], Any],
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> Future:
        """Run ``work()`` in the pool; ``on_result`` or ``on_error`` on the GUI thread."""
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

        def job():
            try:
                value = work()
            except BaseException as exc:  # noqa: BLE001
                if not self._closed:
                    self._done.emit(on_error, exc, True)
                raise
            if not self._closed:
                self._done.emit(on_result, value, False)
            return value

        return self._pool.submit(job)

    @Slot(object, object, object)
    def _deliver(self, callback, value, is_error) -> None:
        if self._closed and not self._sync:
            return
        if callback is None:
            if is_error and not isinstance(value, Cancelled):
                log.error("background task failed", exc_info=value)
            return
        callback(value)

    def shutdown(self, wait: bool = True) -> None:
        """Stop delivering results, cancel queued work, wait for running work."""
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
