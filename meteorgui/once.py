"""A piece of work run at most once, by whoever comes first; the others wait for it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Once:
    __slots__ = ("_job", "_lock", "_claimed", "done", "result", "error")

    def __init__(self, job: Callable[[], Any]):
        self._job = job
        self._lock = threading.Lock()
        self._claimed = False
        self.done = threading.Event()
        self.result: Any = None
        self.error: Exception | None = None

    def run(self) -> None:
        """Do the work now unless someone has started it (then return at once)."""
        with self._lock:
            if self._claimed:
                return
            self._claimed = True
        try:
            self.result = self._job()
        except Exception as exc:  # kept for whoever waits
            self.error = exc
        finally:
            self.done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Run it if nobody has, else wait for it. False if it did not finish in time."""
        self.run()
        return self.done.wait(timeout)

    def ok(self) -> bool:
        """Done without an error, or not done yet."""
        return self.error is None
