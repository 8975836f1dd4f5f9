"""The sky science on the archive: compute what is missing, and keep up as events arrive.

``compute_missing(archive)`` finds events with no result, an old one, or one
computed with a camera status no longer in effect (a re-fitted orientation),
analyses them together with every event near them in time (so multi-camera
groups form whichever camera's event came last) and stores the results.
``results_for(archive, event_ids)`` reads them back. ``SkyWorker`` runs
``compute_missing`` on its own thread after the hub announces archived events or
statuses: never on a camera's request thread. It publishes ``notify.SKY``
with the list of ``SkyResult`` it stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..archive import Filter
from ..archive.sky import SkyResult, SkyResults
from .analysis import VERSION, analyse
from .camera import CameraModel, NoOrientation
from .observe import TooShort, observe
from .paths import NoPath, read_path
from .trajectory import CLOCK_SLACK_S

log = logging.getLogger(__name__)

# Events this close in time to an event being computed are analysed with it: the
# clock slack plus the longest detection.
NEIGHBOURS_MS = int((CLOCK_SLACK_S + 10.0) * 1000)
BATCH = 400
SKY_TOPIC = "sky"  # payload: list[SkyResult] just stored


def file_opener(archive) -> Callable:
    def open_file(record):
        if not archive.has_bytes(record):
            return None
        try:
            return open(archive.file_path(record), "rb")
        except OSError:
            return None

    return open_file


def observation(archive, event, status):
    """The event's Observation, or the reason it has none (a string)."""
    if status is None:
        return "the camera's status is not in the archive"
    try:
        path = read_path(event, file_opener(archive))
        camera = CameraModel.from_status(status, path.size)
        return observe(event.event_id, event.camera_id, camera, path)
    except (NoPath, NoOrientation, TooShort) as exc:
        return str(exc)


def _batches(outdated: list[tuple[str, int]]):
    """Time ranges covering the outdated events, each with some neighbours, split
    where events are far apart and after about BATCH events."""
    start = prev = None
    n = 0
    for _, t in outdated:
        if start is None:
            start, prev, n = t, t, 1
            continue
        if t - prev > 2 * NEIGHBOURS_MS and n >= BATCH:
            yield start - NEIGHBOURS_MS, prev + NEIGHBOURS_MS + 1
            start, n = t, 0
        prev, n = t, n + 1
    if start is not None:
        yield start - NEIGHBOURS_MS, prev + NEIGHBOURS_MS + 1


def compute_range(archive, after: int, before: int) -> list[SkyResult]:
    """Analyse every event in [after, before) and store the results."""
    events = archive.events(Filter(after=after, before=before))
    items, used = [], {}
    for e in events:
        status = archive.status_at(e.camera_id, e.event_time)
        used[e.event_id] = None if status is None else status.status_id
        items.append((e.event_id, e.camera_id, e.event_time, observation(archive, e, status)))
    results = [
        SkyResult(**{**r.__dict__, "status_id": used[r.event_id]}) for r in analyse(items).values()
    ]
    SkyResults(archive.db).put(results, int(time.time() * 1000))
    return results


def compute_missing(
    archive, camera_id: str | None = None, after: int | None = None, before: int | None = None
) -> list[SkyResult]:
    """Compute and store what is missing or out of date (optionally only for one
    camera or a time range); returns the results stored."""
    outdated = SkyResults(archive.db).outdated(VERSION, camera_id, after, before)
    stored: list[SkyResult] = []
    for lo, hi in _batches(outdated):
        stored += compute_range(archive, lo, hi)
    return stored


def results_for(archive, event_ids) -> dict[str, SkyResult]:
    return SkyResults(archive.db).for_events(event_ids)


class SkyWorker:
    """Computes sky results on its own thread whenever the hub says something was
    archived. Bursts are taken together: it waits ``settle_s`` after a wake-up."""

    def __init__(self, archive, hub, settle_s: float = 0.5):
        from .. import notify

        self.archive, self.hub, self.settle_s = archive, hub, settle_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._busy = True  # until the first round has run
        self._unsubscribe = hub.subscribe(notify.ARCHIVED, self._on_archived)
        self._thread = threading.Thread(target=self._run, name="meteorgui-sky", daemon=True)
        self._thread.start()
        self._wake.set()  # whatever an earlier run left

    def _on_archived(self, payload) -> None:
        kind, _ = payload
        if kind in ("event", "status"):
            with self._idle:
                self._busy = True
            self._wake.set()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._wake.wait()
                if self._stop.is_set():
                    break
                self._stop.wait(self.settle_s)
                self._wake.clear()
                with self._idle:
                    self._busy = True
                try:
                    stored = compute_missing(self.archive)
                except Exception:
                    log.exception("computing the sky results failed")
                    stored = []
                if stored:
                    self.hub.publish(SKY_TOPIC, stored)
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


def meteors(
    archive,
    camera_id: str | None = None,
    after: int | None = None,
    before: int | None = None,
    shower: str | None = None,
) -> list[SkyResult]:
    """The ``meteors`` command's entries: one per event in time order, after computing
    what is missing or out of date in the range asked for (and its neighbours)."""
    compute_missing(archive, camera_id, after, before)
    return SkyResults(archive.db).listing(camera_id, after, before, shower)
