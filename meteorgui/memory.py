"""Keeping the cyclic garbage collector's passes short in a process that runs for nights.

CPython's full collection walks every object the collector tracks, whatever its age.
The app freezes what its start-up built (``gc.freeze()``: out of every pass from then
on), but what it builds later stays: the sky science's numpy, the pages and thumbnails
a user scrolled through, the cameras' settings. After scrolling 20,000 events of a
200,000-event archive a full pass took 62-71 ms, and one came every few seconds while
cameras pushed: the window froze that long.

``CollectorPacer.tick()``, called about once a second, collects what was made since the
last tick (only unfrozen objects are walked: a few ms) and freezes the survivors, so no
automatic pass has more than a second's objects to walk. Objects frozen while alive and
later left in a reference cycle are reclaimed only by a pass over everything, which
``tick()`` runs once the process has allocated next to nothing for ``idle_s`` (nobody
scrolls, no camera pushes), when what is frozen has grown since the last such pass.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

# A tick that finds fewer new tracked objects than this (no young collection ran since
# the last tick) counts as quiet.
QUIET_OBJECTS = 700


class CollectorPacer:
    def __init__(
        self,
        *,
        idle_s: float = 10.0,
        growth: float = 1.10,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.idle_s = idle_s
        self.growth = growth
        self._clock = clock
        self._quiet_since: float | None = None
        self._frozen_after_full = gc.get_freeze_count()

    def tick(self) -> str | None:
        """One step: ``"young"`` (the last second's objects collected and frozen),
        ``"full"`` (everything collected, at an idle moment) or None (nothing to do)."""
        young, older, oldest = gc.get_count()
        if older or oldest or young >= QUIET_OBJECTS:
            self._quiet_since = None
            gc.collect()  # walks the unfrozen objects only
            gc.freeze()
            return "young"
        now = self._clock()
        if self._quiet_since is None:
            self._quiet_since = now
            return None
        if (
            now - self._quiet_since >= self.idle_s
            and gc.get_freeze_count() > self._frozen_after_full * self.growth
        ):
            self.full()
            return "full"
        return None

    def full(self) -> None:
        """A pass over every object, frozen or not; the survivors frozen again."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._frozen_after_full = gc.get_freeze_count()
        self._quiet_since = None
