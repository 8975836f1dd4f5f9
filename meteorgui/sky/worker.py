"""Sky results kept up to date in the background, as events arrive.

``SkyWorker(archive, hub)`` computes on its own thread (never a camera's
request thread, never the GUI's) whenever the hub announces an archived event
or status, taking bursts together, and publishes ``notify.SKY`` with the list
of ``SkyResult`` it stored. A status whose orientation differs puts that
camera's events out of date, so they are recomputed in the same way. The
science (numpy, pyerfa) is imported on the worker's thread at its first round,
which waits ``first_delay_s`` so it stays off the app's start-up path.

Only the first round looks over the whole archive; later rounds look only at the
times announced since (an event's time; a status's camera from its valid_from on):
a round that scanned every event for missing results would cost the importer's
process more with each night the archive holds.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any

from .. import notify
from ..priority import lower_this_thread

log = logging.getLogger(__name__)


class SkyWorker:
    """Computes sky results on its own thread whenever the hub says something was
    archived. Bursts are taken together: it waits ``settle_s`` after a wake-up."""

    def __init__(self, archive, hub, settle_s: float = 0.5, first_delay_s: float = 3.0):
        self.archive, self.hub, self.settle_s = archive, hub, settle_s
        self.first_delay_s = first_delay_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._busy = True  # until the first round has run
        self._everything = True  # the next round looks over the whole archive
        self._events: list[int] = []  # times of events announced since the last round
        self._statuses: dict[str, int] = {}  # camera -> earliest valid_from announced
        self._cameras: Any = None  # compute.Cameras, made with the science on its thread
        self._unsubscribe = hub.subscribe(notify.CHANGED, self._on_archived)
        self._thread = threading.Thread(target=self._run, name="meteorgui-sky", daemon=True)
        self._thread.start()
        self._wake.set()  # whatever an earlier run left

    def _on_archived(self, change: notify.Change) -> None:
        # A new event, or a new status (e.g. a re-fitted orientation): results to compute.
        if isinstance(change, notify.Archived) and change.kind in ("event", "status"):
            e = change.entity
            with self._idle:
                self._busy = True
                if change.kind == "event":
                    self._events.append(e.event_time)
                else:
                    old = self._statuses.get(e.camera_id, e.valid_from)
                    self._statuses[e.camera_id] = min(old, e.valid_from)
            self._wake.set()

    def _round(self, compute_missing) -> list:
        """Compute what the announcements since the last round put out of date."""
        with self._idle:
            everything, events, statuses = self._everything, self._events, self._statuses
            self._everything, self._events, self._statuses = False, [], {}
        kept = {"cancelled": self._stop.is_set, "cameras": self._cameras}
        if everything:
            return compute_missing(self.archive, **kept)
        stored = []
        if events:
            stored += compute_missing(
                self.archive, after=min(events), before=max(events) + 1, **kept
            )
        for camera_id, valid_from in statuses.items():
            stored += compute_missing(self.archive, camera_id, after=valid_from, **kept)
        return stored

    def _run(self) -> None:
        lower_this_thread()  # the window first for the CPU (priority.py says who else)
        try:
            if self._stop.wait(self.first_delay_s):
                return
            # numpy's OpenBLAS would start a pool of one thread per extra core, idle but
            # for the sky's products of 3-vectors and paths of a few hundred points, which
            # one thread does as fast. Only where numpy is not loaded yet and the user has
            # not chosen otherwise.
            if "numpy" not in sys.modules:
                os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
            from .compute import Cameras, compute_missing

            self._cameras = Cameras(self.archive)  # statuses and models, kept between rounds

            while not self._stop.is_set():
                self._wake.wait()
                if self._stop.is_set():
                    break
                self._stop.wait(self.settle_s)
                self._wake.clear()
                with self._idle:
                    self._busy = True
                try:
                    stored = self._round(compute_missing)
                except Exception:
                    log.exception("computing the sky results failed")
                    stored = []
                    with self._idle:  # what was announced is looked for again next time
                        self._everything = True
                if stored:
                    self.hub.publish(notify.SKY, stored)
                with self._idle:
                    if not self._wake.is_set():
                        self._busy = False
                        self._idle.notify_all()
        finally:
            self.archive.db.release_reader()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until everything announced so far is computed (for tests and shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._busy, timeout)

    def close(self) -> None:
        self._unsubscribe()
        self._stop.set()
        self._wake.set()
        self._thread.join()
