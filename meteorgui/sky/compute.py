"""The sky science on the archive: compute what is missing, and keep up as events arrive.

``compute_missing(archive)`` finds events with no result, an old one, or one
computed with a camera status no longer in effect (a re-fitted orientation),
analyses them together with every event near them in time (so multi-camera
groups form whichever camera's event came last) and stores the results.
``results_for(archive, event_ids)`` reads them back; ``meteors`` is the CLI's
listing. ``worker.SkyWorker`` keeps up as events arrive.
"""

from __future__ import annotations

import bisect
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from ..archive import Filter
from ..archive.sky import SkyResult, SkyResults, not_a_meteor
from ..model import CameraStatus
from .analysis import VERSION, analyse
from .camera import CameraModel, NoOrientation
from .observe import TooShort, observe
from .paths import NoPath, read_path
from .trajectory import CLOCK_SLACK_S

# Events this close in time to an event being computed are analysed with it: the
# clock slack plus the longest detection.
NEIGHBOURS_MS = int((CLOCK_SLACK_S + 10.0) * 1000)
BATCH = 400
EARLIEST_MS = 946_684_800_000  # 2000-01-01: a node whose clock says earlier never set it
FUTURE_SLACK_MS = 86_400_000  # a day ahead of this computer's clock, for time zones gone wrong

log = logging.getLogger(__name__)


def file_opener(archive) -> Callable:
    """``open_file(record)`` for read_path: the record's stored bytes, or None."""
    store = archive.store
    return lambda record: store.open_bytes(record.file_id, record.md5)


class Cameras:
    """Camera statuses and the models made from them, kept between the worker's rounds: a
    status's content never changes, and reading, parsing and modelling it for each event
    cost the sky worker about a sixth of its time. Holds the ``limit`` most recently used."""

    def __init__(self, archive, limit: int = 256):
        self.archive, self.limit = archive, limit
        self._statuses: OrderedDict[str, CameraStatus | None] = OrderedDict()
        self._models: dict[tuple[str, tuple[int, int]], CameraModel] = {}

    def status_at(self, camera_id: str, time_ms: int) -> CameraStatus | None:
        status_id = self.archive.status_id_at(camera_id, time_ms)
        if status_id is None:
            return None
        if status_id in self._statuses:
            self._statuses.move_to_end(status_id)
            return self._statuses[status_id]
        status = self._statuses[status_id] = self.archive.get_status(status_id)
        if len(self._statuses) > self.limit:
            gone, _ = self._statuses.popitem(last=False)
            self._models = {k: m for k, m in self._models.items() if k[0] != gone}
        return status

    def model(self, status: CameraStatus, size: tuple[int, int]) -> CameraModel:
        key = (status.status_id, size)
        model = self._models.get(key)
        if model is None:
            model = CameraModel.from_status(status, size)  # NoOrientation is not kept
            if status.status_id in self._statuses:
                self._models[key] = model
        return model


def _implausible_time(time_ms: int) -> str | None:
    if time_ms < EARLIEST_MS:
        when = "before 2000"
    elif time_ms > time.time() * 1000 + FUTURE_SLACK_MS:
        when = "in the future"
    else:
        return None
    return f"the event's time is {when}: the camera's clock is wrong, so is any sky position"


def observation(archive, event, status, cameras: Cameras | None = None):
    """The event's Observation, or the reason it has none (a string). Never raises for
    what a camera sent: one event's odd data must not stop the others' results."""
    if not_a_meteor(event.event_type):
        return f"the camera classed it as {event.event_type[:64]}, not a meteor"
    if (odd := _implausible_time(event.event_time)) is not None:
        return odd
    if status is None:
        return "the archive has no status of this camera from before the event"
    try:
        path = read_path(event, file_opener(archive))
        if cameras is None:
            camera = CameraModel.from_status(status, path.size)
        else:
            camera = cameras.model(status, path.size)
        with np.errstate(all="ignore"):
            obs = observe(event.event_id, event.camera_id, camera, path)
    except (NoPath, NoOrientation, TooShort) as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        return _failed(event.event_id, exc)
    if not (np.isfinite(obs.ra).all() and np.isfinite(obs.dec).all()):
        return "the path's sky positions could not be worked out (not finite)"
    return obs


def _failed(event_id: str, exc: Exception) -> str:
    log.warning("the sky science failed on event %s", event_id, exc_info=True)
    return f"the sky science failed on this event ({type(exc).__name__}: {str(exc)[:120]})"


def _batches(outdated: list[tuple[str, int]]):
    """The time ranges to analyse, a list per batch of about BATCH outdated events (one
    transaction each): each outdated event with its neighbours, ranges that overlap or
    nearly so merged. Events between the ranges are left as they are: nothing near them
    changed. (A round that took events from cameras far apart in their nights analysed
    every event in between again: 3.3 events per event archived with twelve cameras
    pushing at once, against 1.2 now.)"""
    if not outdated:
        return
    ranges: list[tuple[int, int]] = []
    start = prev = outdated[0][1]
    n = 1
    for _, t in outdated[1:]:
        if t - prev > 2 * NEIGHBOURS_MS:
            ranges.append((start - NEIGHBOURS_MS, prev + NEIGHBOURS_MS + 1))
            start = t
            if n >= BATCH:
                yield ranges
                ranges, n = [], 0
        prev, n = t, n + 1
    ranges.append((start - NEIGHBOURS_MS, prev + NEIGHBOURS_MS + 1))
    yield ranges


def compute_range(
    archive,
    after: int,
    before: int,
    cameras: Cameras | None = None,
    within: list[tuple[int, int]] | None = None,
) -> list[SkyResult]:
    """Analyse every event in [after, before) and store the results, in one transaction.
    ``cameras``: the statuses and models kept from earlier ranges, if any; ``within``:
    only the events in these ranges (in time order, inside [after, before))."""
    cameras = cameras or Cameras(archive)
    # One read of the whole span, whatever lies between the ranges: the first round's
    # batches can hold hundreds of ranges: one read, not one per range.
    events = archive.events(Filter(after=after, before=before))
    if within:
        starts = [lo for lo, _ in within]
        events = [
            e
            for e in events
            if (i := bisect.bisect_right(starts, e.event_time) - 1) >= 0
            and e.event_time < within[i][1]
        ]
    items, used = [], {}
    for e in events:
        status = cameras.status_at(e.camera_id, e.event_time)
        used[e.event_id] = None if status is None else status.status_id
        items.append(
            (e.event_id, e.camera_id, e.event_time, observation(archive, e, status, cameras))
        )
    try:
        with np.errstate(all="ignore"):
            analysed = analyse(items)
    except Exception:  # noqa: BLE001 - a group's odd data: each event alone, as it can be
        log.warning("the sky science failed on a group of %d events", len(items), exc_info=True)
        analysed = _one_by_one(items)
    results = [
        SkyResult(**{**r.__dict__, "status_id": used[r.event_id]}) for r in analysed.values()
    ]
    SkyResults(archive.db).put(results, int(time.time() * 1000))
    return results


def _one_by_one(items: list) -> dict[str, SkyResult]:
    """Each event analysed alone (no groups); one that still fails gets the reason."""
    out = {}
    for event_id, camera_id, time_ms, obs in items:
        try:
            with np.errstate(all="ignore"):
                out.update(analyse([(event_id, camera_id, time_ms, obs)]))
        except Exception as exc:  # noqa: BLE001
            out[event_id] = analyse([(event_id, camera_id, time_ms, _failed(event_id, exc))])[
                event_id
            ]
    return out


def compute_missing(
    archive,
    camera_id: str | None = None,
    after: int | None = None,
    before: int | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    cameras: Cameras | None = None,
) -> list[SkyResult]:
    """Compute and store what is missing or out of date (optionally only for one
    camera or a time range); returns the results stored. ``cancelled`` is asked
    between batches (a few hundred events); ``cameras`` keeps statuses and models
    between calls (the sky worker's)."""
    outdated = SkyResults(archive.db).outdated(VERSION, camera_id, after, before)
    stored: list[SkyResult] = []
    cameras = cameras or Cameras(archive)
    for ranges in _batches(outdated):
        if cancelled():
            break
        stored += compute_range(archive, ranges[0][0], ranges[-1][1], cameras, within=ranges)
    return stored


def results_for(archive, event_ids) -> dict[str, SkyResult]:
    return SkyResults(archive.db).for_events(event_ids)


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
