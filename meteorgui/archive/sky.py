"""Per-event sky results (shower, radiant, group, trajectory), stored and read.

Plain SQL, no astronomy: ``meteorgui.sky.compute`` fills the table. A result
names the camera status it was computed with; when the status in effect at the
event's time is another one (a re-fitted orientation arrived), or the science's
version grew, the result is out of date and ``outdated`` lists it again.
The table is made by migration 8, ``sky_results``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .browse import LABELS
from .db import Database
from .where import camera_and_time, id_batches

Pair = tuple[float, float]

# A result whose event the user reviewed as something else than a meteor.
_NOT_MARKED = (
    "NOT EXISTS (SELECT 1 FROM reviews r"
    " WHERE r.event_id = sky_results.event_id AND r.label != 'meteor')"
)
# The names a reviewer gives what is not a meteor; an event type ending in one of them
# ('meteorpi:plane', after the namespace and any folder) says the camera saw no meteor.
NOT_METEORS = frozenset(LABELS) - {"meteor"}


def not_a_meteor(event_type: str) -> bool:
    """Whether the camera's own type says the event is something else ('meteorpi:plane')."""
    return event_type.rpartition(":")[2].rpartition("/")[2].strip().lower() in NOT_METEORS


# ... or whose camera typed it so: not_a_meteor in SQL (LIKE ignores ASCII case).
_NOT_TYPED_OTHER = (
    "NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = sky_results.event_id AND ("
    + " OR ".join(
        f"trim(e.event_type) {test}"
        for label in sorted(NOT_METEORS)
        for test in (f"LIKE '{label}'", f"LIKE '%:{label}'", f"LIKE '%/{label}'")
    )
    + "))"
)


@dataclass(frozen=True)
class SkyResult:
    event_id: str
    camera_id: str
    time_ms: int
    shower: str | None  # an IAU code, "sporadic", or None (no sky position)
    reason: str | None  # why there is no sky position
    distance_deg: float | None  # the angle that decided the shower
    radiant: Pair | None  # J2000 RA, Dec degrees, where known
    first: Pair | None  # the sky path's first and last points (RA, Dec)
    last: Pair | None
    group_id: str | None = None  # shared by the events of one multi-camera meteor
    begin_height_km: float | None = None
    end_height_km: float | None = None
    speed_km_s: float | None = None
    version: int = 0
    status_id: str | None = None
    computed_at: int | None = None

    @property
    def radiant_measured(self) -> bool:
        """Whether ``radiant`` was measured (the trajectory of several cameras' views)
        rather than taken from the shower's catalogue entry (one camera's view)."""
        return self.begin_height_km is not None and self.radiant is not None

    def to_dict(self) -> dict:
        """The ``meteors --json`` entry."""
        d = {
            "event_id": self.event_id,
            "camera_id": self.camera_id,
            "time": self.time_ms,
            "shower": self.shower,
        }
        if self.shower is None:
            d["reason"] = self.reason
        if self.distance_deg is not None:
            d["distance_deg"] = self.distance_deg
        if self.radiant is not None:
            d["radiant"] = {
                "ra": self.radiant[0],
                "dec": self.radiant[1],
                "from": "trajectory" if self.radiant_measured else "shower catalogue",
            }
        d["group"] = self.group_id
        if self.begin_height_km is not None:
            d["begin_height_km"] = self.begin_height_km
            d["end_height_km"] = self.end_height_km
            d["speed_km_s"] = self.speed_km_s
        d["path_radec"] = None  # the sky path's first and last points, where known
        if self.first is not None and self.last is not None:
            d["path_radec"] = [
                {"ra": self.first[0], "dec": self.first[1]},
                {"ra": self.last[0], "dec": self.last[1]},
            ]
        return d


_COLS = (
    "event_id, camera_id, event_time, shower, reason, distance_deg, radiant_ra, radiant_dec,"
    " first_ra, first_dec, last_ra, last_dec, group_id, begin_height_km, end_height_km,"
    " speed_km_s, version, status_id, computed_at"
)


def _pair(a, b) -> Pair | None:
    return None if a is None else (a, b)


def _from_row(r) -> SkyResult:
    return SkyResult(
        r[0], r[1], r[2], r[3], r[4], r[5], _pair(r[6], r[7]), _pair(r[8], r[9]),
        _pair(r[10], r[11]), r[12], r[13], r[14], r[15], r[16], r[17], r[18],
    )  # fmt: skip


def _row(r: SkyResult, now: int) -> tuple:
    rad, first, last = r.radiant or (None, None), r.first or (None, None), r.last or (None, None)
    return (
        r.event_id, r.camera_id, r.time_ms, r.shower, r.reason, r.distance_deg, *rad, *first,
        *last, r.group_id, r.begin_height_km, r.end_height_km, r.speed_km_s, r.version,
        r.status_id, now,
    )  # fmt: skip


class SkyResults:
    def __init__(self, db: Database):
        self.db = db

    def put(self, results: Iterable[SkyResult], now: int) -> int:
        """Store (replace) results of events still in the archive; returns how many."""
        rows = [_row(r, now) for r in results]
        marks = ",".join("?" * 19)
        with self.db.write(durable=False) as conn:
            before = conn.total_changes
            conn.executemany(
                f"INSERT OR REPLACE INTO sky_results ({_COLS}) SELECT {marks}"
                " WHERE EXISTS (SELECT 1 FROM events WHERE event_id = ?)",
                [(*row, row[0]) for row in rows],
            )
            return conn.total_changes - before

    def get(self, event_id: str) -> SkyResult | None:
        sql = f"SELECT {_COLS} FROM sky_results WHERE event_id = ?"
        row = self.db.read().execute(sql, (event_id,)).fetchone()
        return None if row is None else _from_row(row)

    def for_events(self, event_ids: Iterable[str]) -> dict[str, SkyResult]:
        out = {}
        for chunk, marks in id_batches(list(event_ids)):
            sql = f"SELECT {_COLS} FROM sky_results WHERE event_id IN ({marks})"
            for row in self.db.read().execute(sql, chunk):
                out[row[0]] = _from_row(row)
        return out

    def listing(
        self,
        camera_id: str | None = None,
        after: int | None = None,
        before: int | None = None,
        shower: str | None = None,
    ) -> list[SkyResult]:
        """Stored results in time order (then event id), filtered; an event the user
        reviewed as something else (a plane, a bird...) is no meteor and left out."""
        clauses, args = camera_and_time("camera_id", "event_time", camera_id, after, before)
        clauses.append(_NOT_MARKED)
        if shower is not None:
            clauses.append("shower = ?")
            args.append(shower)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {_COLS} FROM sky_results{where} ORDER BY event_time, event_id"
        return [_from_row(r) for r in self.db.read().execute(sql, args)]

    def group(self, group_id: str) -> list[SkyResult]:
        sql = f"SELECT {_COLS} FROM sky_results WHERE group_id = ? ORDER BY event_time"
        return [_from_row(r) for r in self.db.read().execute(sql, (group_id,))]

    def outdated(
        self,
        version: int,
        camera_id: str | None = None,
        after: int | None = None,
        before: int | None = None,
    ) -> list[tuple[str, int]]:
        """(event_id, event_time) of events with no result, a result of an older
        version, or one computed with another status than the one now in effect."""
        clauses, args = camera_and_time("e.camera_id", "e.event_time", camera_id, after, before)
        where = "".join(f" AND {c}" for c in clauses)
        sql = (
            "SELECT e.event_id, e.event_time FROM events e"
            " LEFT JOIN sky_results r ON r.event_id = e.event_id"
            " WHERE (r.event_id IS NULL OR r.version < ? OR r.status_id IS NOT ("
            "  SELECT s.status_id FROM statuses s WHERE s.camera_id = e.camera_id"
            "  AND s.valid_from <= e.event_time ORDER BY s.valid_from DESC LIMIT 1))"
            f"{where} ORDER BY e.event_time"
        )
        return [(r[0], r[1]) for r in self.db.read().execute(sql, (version, *args))]

    def counts(self, after: int | None = None, before: int | None = None) -> dict[str | None, int]:
        """Meteors per shower code ('sporadic' included; None: no sky position); the
        events of one multi-camera meteor count once, and an event the user reviewed as
        something else (a plane, a bird...) not at all."""
        return {shower: n for (_, shower), n in self._tally(None, after, before).items()}

    def hourly(self, after: int | None = None, before: int | None = None) -> dict:
        """{(hour start ms, shower): meteors} for a night summary's hourly rates."""
        return self._tally(3_600_000, after, before)

    def _tally(self, bucket_ms: int | None, after, before) -> dict:
        clauses, args = camera_and_time("camera_id", "event_time", None, after, before)
        clauses += [_NOT_MARKED, _NOT_TYPED_OTHER]
        where = f" WHERE {' AND '.join(clauses)}"
        bucket = f"(MIN(event_time) / {bucket_ms}) * {bucket_ms}" if bucket_ms else "0"
        sql = (
            f"SELECT bucket, shower, COUNT(*) FROM (SELECT {bucket} AS bucket, shower"
            f" FROM sky_results{where} GROUP BY COALESCE(group_id, event_id))"
            " GROUP BY bucket, shower"
        )
        return {(r[0], r[1]): r[2] for r in self.db.read().execute(sql, args)}
