"""An overall deadline for each answer an importer owes us, enforced by closing the socket.

requests' read timeout bounds each wait for the next bytes, not the whole answer:
an importer that trickles its status line and headers one byte a second held
``meteorgui export --timeout 5`` for minutes. Here the connection arms a
deadline once its request has been sent (an upload may rightly take long to
send; each send is bounded by the socket timeout), and one watchdog thread shuts
the socket down when it passes, which fails the blocked read at once. The
client disarms it when the answer has been read.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from typing import Any

_local = threading.local()
IDLE_EXIT_S = 1.0  # the watchdog thread ends when nothing has been armed for this long


class _Armed:
    __slots__ = ("at", "conn", "fired", "done")

    def __init__(self, at: float, conn):
        self.at, self.conn = at, conn
        self.fired = self.done = False


class _Watchdog:
    def __init__(self):
        self._heap: list[tuple[float, int, _Armed]] = []
        self._count = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._quit = False  # settle(): end as soon as nothing is armed

    def arm(self, seconds: float, conn) -> _Armed:
        armed = _Armed(time.monotonic() + seconds, conn)
        with self._cond:
            heapq.heappush(self._heap, (armed.at, next(self._count), armed))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="meteorgui-export-deadlines", daemon=True
                )
                self._thread.start()
            self._cond.notify()
        return armed

    def disarm(self, armed: list[_Armed]) -> None:
        with self._cond:
            for a in armed:
                a.done = True
            self._cond.notify()

    def settle(self, timeout: float) -> None:
        """End the thread now if nothing is armed (an exporter closing leaves none behind)."""
        with self._cond:
            thread = self._thread
            if thread is None or any(not a.done for _, _, a in self._heap):
                return
            self._heap.clear()
            self._quit = True
            self._cond.notify()
        thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    # Nothing armed: end after a moment (the next request starts another).
                    if not self._quit:
                        self._cond.wait(IDLE_EXIT_S)
                    if not self._heap:
                        self._thread = None
                        self._quit = False
                        return
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                armed = heapq.heappop(self._heap)[2]
                armed.fired = True
            shutdown(armed.conn)


_watchdog = _Watchdog()


def settle(timeout: float = 5.0) -> None:
    """Let the watchdog thread end now if no request waits (called when exports close)."""
    _watchdog.settle(timeout)


def shutdown(conn) -> None:
    """Shut a urllib3 connection's socket down: a read or write blocked on it fails now."""
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's, TLS or not
    except (OSError, TypeError):
        pass


class Answers:
    """The deadlines armed on this thread for one request (``with Answers(seconds):``)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.armed: list[_Armed] = []
        self.headers_in = False  # the status line and headers have arrived

    def __enter__(self) -> Answers:
        self._outer = getattr(_local, "answers", None)
        _local.answers = self
        return self

    def __exit__(self, *exc) -> None:
        _local.answers = self._outer
        if self.armed:
            _watchdog.disarm(self.armed)

    @property
    def expired(self) -> bool:
        return any(a.fired for a in self.armed)


def patch_pools(manager) -> None:
    """Make a urllib3 PoolManager's connections arm the deadline of the request in flight
    on their thread (if any) before they wait for its answer."""
    manager.pool_classes_by_scheme = {
        scheme: _pool_class(cls) for scheme, cls in manager.pool_classes_by_scheme.items()
    }


_classes: dict[Any, Any] = {}


def _pool_class(pool_cls: Any) -> Any:
    if pool_cls in _classes:
        return _classes[pool_cls]
    conn_base: Any = pool_cls.ConnectionCls

    class Connection(conn_base):
        def getresponse(self, *args, **kwargs):
            answers = getattr(_local, "answers", None)
            if answers is not None:
                answers.armed.append(_watchdog.arm(answers.seconds, self))
            return super().getresponse(*args, **kwargs)

    class Pool(pool_cls):
        ConnectionCls = Connection

    _classes[pool_cls] = Pool
    return Pool
