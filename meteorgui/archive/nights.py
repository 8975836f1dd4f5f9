"""What "a night" is: noon to noon in the cameras' local solar time, not the computer's.

A meteor camera's night is tied to its sky: a UK camera's night of 5 December is the same
night whether the archive is looked at in Cambridge or in Sydney. So the night turns at
``hour`` (noon by default) in local mean solar time at the cameras' longitude, as their
statuses give it: 4 minutes per degree east of Greenwich, whatever the time zone or
daylight saving. Several cameras share one clock at their mean longitude (a home
network's cameras are a few km apart; a second apart in solar time). Until a camera has
told its location, the computer's local clock stands in.

Every night boundary in meteorgui (browser, night summary, camera health) is computed here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
MS_PER_DEGREE = DAY_MS // 360  # the sun crosses a degree of longitude in 4 minutes


@dataclass(frozen=True)
class NightClock:
    hour: int = 12  # the night starts at this hour (Settings.night_starts_hour)
    longitude: float | None = None  # degrees east; None: the computer's local clock

    @property
    def offset_ms(self) -> int:
        """Local mean solar time minus UTC."""
        return round((self.longitude or 0.0) * MS_PER_DEGREE)

    def start(self, t_ms: int) -> int:
        """Start (ms) of the night holding ``t_ms``: the last ``hour``:00 at or before it."""
        if self.longitude is None:
            dt = datetime.fromtimestamp(t_ms / 1000)
            noon = dt.replace(hour=self.hour, minute=0, second=0, microsecond=0)
            if dt < noon:
                noon -= timedelta(days=1)
            return int(noon.timestamp() * 1000)
        local = t_ms + self.offset_ms
        begin = local - local % DAY_MS + self.hour * HOUR_MS
        if local < begin:
            begin -= DAY_MS
        return begin - self.offset_ms

    def end(self, start_ms: int) -> int:
        """The start of the following night (23 or 25 hours later across a clock change
        of the computer's local clock; always 24 in solar time)."""
        if self.longitude is None:
            dt = datetime.fromtimestamp(start_ms / 1000) + timedelta(days=1)
            return int(dt.timestamp() * 1000)
        return start_ms + DAY_MS

    def evening(self, start_ms: int) -> date:
        """The date a night is named by: the day of its evening, where the cameras are."""
        if self.longitude is None:
            return datetime.fromtimestamp(start_ms / 1000).date()
        return datetime.fromtimestamp((start_ms + self.offset_ms) / 1000, UTC).date()

    def start_of(self, evening: date) -> int:
        """Start (ms) of the night named by ``evening``."""
        if self.longitude is None:
            dt = datetime(evening.year, evening.month, evening.day, self.hour)
            return int(dt.timestamp() * 1000)
        midnight = datetime(evening.year, evening.month, evening.day, tzinfo=UTC)
        return int(midnight.timestamp() * 1000) + self.hour * HOUR_MS - self.offset_ms


def mean_longitude(longitudes: Iterable[float]) -> float | None:
    """The mean of longitudes on the circle (cameras either side of 180° average to 180°)."""
    xs = ys = 0.0
    n = 0
    for lon in longitudes:
        xs += math.cos(math.radians(lon))
        ys += math.sin(math.radians(lon))
        n += 1
    if n == 0 or math.hypot(xs, ys) < 1e-9 * n:
        return None
    return math.degrees(math.atan2(ys, xs))


def camera_longitudes(conn) -> dict[str, float]:
    """camera_id -> the longitude of its latest status that gives a location."""
    rows = conn.execute(
        "SELECT camera_id, body FROM statuses"
        " WHERE json_extract(body, '$.location.long') IS NOT NULL"
        " ORDER BY camera_id, valid_from"
    )
    found: dict[str, float] = {}
    for camera, body in rows:  # ordered by time: the latest wins
        try:
            lon = float(json.loads(body)["location"]["long"])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(lon) and -180.0 <= lon <= 360.0:
            found[camera] = lon
    return found


def night_clock(src, hour: int = 12) -> NightClock:
    """The archive's night clock: at its cameras' mean longitude (runs a small query)."""
    conn = src if hasattr(src, "execute") else src.db.read()
    return NightClock(hour, mean_longitude(camera_longitudes(conn).values()))
