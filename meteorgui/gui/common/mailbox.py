"""Work handed to the GUI thread by other threads, with no Qt call on their side.

PySide runs every Qt call with the GIL held. A worker thread that emits a signal holds
the GIL while Qt takes a lock on the receiving object; the GUI thread, inside Qt with the
GIL released (deleting widgets, disconnecting, painting), may hold such a lock and want
the GIL to reach a Python method. Each then waits for the other, forever: the window
freezes and no Python code, not even a watchdog thread, runs again.

So a worker never calls Qt to reach the GUI thread. It appends the work to a queue and
writes one byte to a socket; the GUI thread's event loop watches the other end
(``QSocketNotifier``) and runs what is queued, in order. Appending and writing are
plain Python and a system call, which take no Qt lock.

One pass runs what is queued for at most ``BUDGET_S``; the rest waits for the next turn
of the event loop, after input and painting, so a flood from the importer never holds
the window.

The application has one mailbox (``shared()``), as Qt has one queue of posted events
per thread: what workers hand over runs in the order it was handed over, whoever it is
for (a task's result read before a later message from the importer is shown before it).
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from functools import partial

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QSocketNotifier, QThread, Slot

BUDGET_S = 0.012  # of one pass; a frame at 60 Hz is 16.7 ms


class Mailbox(QObject):
    """``post(fn)`` from any thread: ``fn()`` runs on the thread that made the mailbox
    (the GUI thread). Create it there; ``close()`` drops what is still queued."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._queue: deque[tuple[Callable[[], object], QObject | None]] = deque()
        self._lock = threading.Lock()
        self._woken = False  # a byte is on its way and the queue not yet looked at
        self._closed = False
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._run)
        # Deleted with its owner without close(): the sockets go with it, not at the
        # collector's whim (an unclosed socket is a ResourceWarning).
        self.destroyed.connect(partial(_close_sockets, self._reader, self._writer))

    def post(self, fn: Callable[[], object], owner: QObject | None = None) -> None:
        """Queue ``fn`` for the GUI thread (any thread may call this). With an ``owner``,
        ``fn`` is dropped if the owner's Qt object is gone by then."""
        with self._lock:
            if self._closed:
                return
            self._queue.append((fn, owner))
            if self._woken:
                return
            self._woken = True
        self._wake()

    def _wake(self) -> None:
        try:
            self._writer.send(b"\0")
        except BlockingIOError:  # the socket is full of wake-ups already
            pass
        except OSError:  # closed meanwhile
            pass

    @Slot()  # no arguments: the signal's socket and type are never converted for Python
    def _run(self) -> None:
        try:
            while self._reader.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass
        with self._lock:
            self._woken = False  # a post from now on wakes the loop again
        deadline = time.monotonic() + BUDGET_S
        queue = self._queue
        while queue and not self._closed:
            fn, owner = queue.popleft()
            if owner is not None and not shiboken6.isValid(owner):
                continue
            try:
                fn()
            except Exception:  # noqa: BLE001 - reported as a slot's exception is
                sys.excepthook(*sys.exc_info())
            if queue and time.monotonic() > deadline:
                with self._lock:
                    if not self._woken:
                        self._woken = True
                        self._wake()
                return

    def pending(self, owner: QObject | None = None) -> int:
        """How many calls are queued (for ``owner`` alone, if given)."""
        with self._lock:
            if owner is None:
                return len(self._queue)
            return sum(1 for _fn, o in self._queue if o is owner)

    def discard(self, owner: QObject) -> None:
        """Drop what is queued for ``owner`` (it is shutting down)."""
        with self._lock:
            kept = [item for item in self._queue if item[1] is not owner]
            self._queue.clear()
            self._queue.extend(kept)

    def close(self) -> None:
        """Stop: what is queued is dropped, later posts are ignored."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.clear()
        if shiboken6.isValid(self._notifier):
            self._notifier.setEnabled(False)
        _close_sockets(self._reader, self._writer)


_shared: Mailbox | None = None


def shared() -> Mailbox:
    """The application's mailbox, made on first use, which must be on the GUI thread
    (where the objects that hand work over are built)."""
    global _shared
    if _shared is None or not shiboken6.isValid(_shared):
        app = QCoreApplication.instance()
        if app is None or QThread.currentThread() is not app.thread():
            raise RuntimeError("the shared mailbox is made on the GUI thread, after the app")
        _shared = Mailbox(app)
    return _shared


def _close_sockets(*sockets: socket.socket) -> None:
    for s in sockets:
        s.close()
