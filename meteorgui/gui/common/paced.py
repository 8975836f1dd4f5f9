"""A refresh that runs at once after a quiet spell, and at most every so often in a burst."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


class PacedTimer(QObject):
    """``request()`` runs ``fn`` soon: at once when the last run began ``every_s`` ago or
    more, else when that much time has passed since it began. Requests made while one is
    due fold into it. The owner calls ``began()`` when ``fn`` (or any other run of the
    same work) starts, so a run asked for elsewhere counts too."""

    def __init__(self, every_s: float, fn: Callable[[], None], parent: QObject | None = None):
        super().__init__(parent)
        self.every_s = every_s
        self._began = -every_s
        self.timer = QTimer(self, singleShot=True)
        self.timer.timeout.connect(fn)

    def request(self) -> None:
        if not self.timer.isActive():
            wait = self._began + self.every_s - time.monotonic()
            self.timer.start(max(0, round(wait * 1000)))

    def began(self) -> None:
        self._began = time.monotonic()

    def since_began(self) -> float:
        return time.monotonic() - self._began

    def stop(self) -> None:
        self.timer.stop()
