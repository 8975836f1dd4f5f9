"""Per-camera health for the import monitor: last heard, tonight's counts, warnings.

Plain Python over the archive's SQLite (no Qt), meant to run off the GUI thread.
Every query is bounded by an index on time, so a year of history costs no more
than one night.

"Night" has two meanings here. *Tonight* (for counting events and stills) is
the archive's night, noon to noon in the cameras' solar time as the browser
shows it (nights.NightClock, ``Settings.night_starts_hour``). *Dark* (for the
silence warning) is when the camera can observe: the Sun more than 6 degrees
below the horizon at the camera's location, from its latest status; without a
location, 18:00 to 08:00 local time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .archive import Archive
from .conversations import FAILED, MADE_GOOD, RESEND_REQUESTED
from .nights import night_clock

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

DARK_SUN_ALTITUDE = -6.0  # degrees: the end of civil twilight
CLOCK_DARK_FROM, CLOCK_DARK_UNTIL = 18, 8  # local hours, when a camera has no location
RECENT_CONVERSATIONS = 10
FAILING_THRESHOLD = 3  # failures among the recent conversations that make a camera "failing"
# How far back the import log is searched (by its time index) for "last heard" and recent
# failures. A camera quiet for longer is "last heard" when its latest data arrived.
LOOKBACK_MS = 2 * DAY_MS
RETIRED_AFTER_MS = 7 * DAY_MS  # quiet this long: no longer warned about

# What one camera delivered in a time range (camera_id = ?, received_at >= ? AND < ?),
# counted from an index alone (events_camera_received, files_standalone_received): a
# camera uploading a backlog puts hundreds of thousands of rows in tonight's range, and
# one count over all cameras would sort them all by camera. Left to itself SQLite
# counts the stills through files_event (event_id IS NULL looks like a seek for one
# event): every standalone file ever, each looked up in the table.
EVENTS_ARRIVED = (
    "SELECT COUNT(*) FROM events WHERE camera_id = ? AND received_at >= ? AND received_at < ?"
)
STILLS_ARRIVED = (
    "SELECT COUNT(*) FROM files INDEXED BY files_standalone_received"
    " WHERE camera_id = ? AND received_at >= ? AND received_at < ? AND event_id IS NULL"
)


@dataclass(frozen=True)
class Location:
    lat: float
    long: float


# (now_ms, location or None) -> when the current dark period began, or None in daylight
DarkWindow = Callable[[int, Location | None], int | None]


@dataclass(frozen=True)
class CameraHealth:
    camera_id: str
    inst_name: str | None
    last_heard: int | None  # ms: the last time the camera talked to the importer
    events_tonight: int
    stills_tonight: int  # files without an event (time-lapse)
    failures_tonight: int
    recent_failures: int  # failed among the last RECENT_CONVERSATIONS conversations
    recent_total: int
    dark_since: int | None  # start of the current dark period, None in daylight
    silent_ms: int | None  # how long it has been quiet: while sending tonight, or for days
    silence_warning: bool
    failing: bool
    note: str  # one line a user reads: what is wrong, or that all is well
    retired: bool = False  # not heard for over RETIRED_AFTER_MS: no longer watched
    refused: str | None = None  # short: "14 refused logins", when logins are refused

    @property
    def level(self) -> str:
        """'error', 'warning', 'idle' (not heard tonight) or 'ok'."""
        if self.failing:
            return "error"
        if self.silence_warning:
            return "warning"
        if self.retired or (
            self.dark_since is not None and (self.last_heard or 0) < self.dark_since
        ):
            return "idle"
        return "ok"

    @property
    def label(self) -> str:
        return f"{self.inst_name} ({self.camera_id})" if self.inst_name else self.camera_id


# --------------------------------------------------------------------------- the Sun


def sun_altitude(t_ms: int, lat: float, long: float) -> float:
    """The Sun's altitude in degrees (low-precision formulae, good to a few arcminutes)."""
    d = t_ms / DAY_MS + 2440587.5 - 2451545.0  # days since J2000.0
    g = math.radians((357.529 + 0.98560028 * d) % 360)
    q = (280.459 + 0.98564736 * d) % 360
    ecl_long = math.radians(q + 1.915 * math.sin(g) + 0.020 * math.sin(2 * g))
    obliquity = math.radians(23.439 - 0.00000036 * d)
    ra = math.atan2(math.cos(obliquity) * math.sin(ecl_long), math.cos(ecl_long))
    dec = math.asin(math.sin(obliquity) * math.sin(ecl_long))
    gmst_deg = (280.46061837 + 360.98564736629 * d) % 360
    hour_angle = math.radians(gmst_deg + long) - ra
    la = math.radians(lat)
    s = math.sin(la) * math.sin(dec) + math.cos(la) * math.cos(dec) * math.cos(hour_angle)
    return math.degrees(math.asin(max(-1.0, min(1.0, s))))


def dark_since(now_ms: int, location: Location | None) -> int | None:
    """When the current dark period began at this location, or None if it is light now."""
    if location is None:
        return _clock_dark_since(now_ms)

    def dark(t: int) -> bool:
        return sun_altitude(t, location.lat, location.long) < DARK_SUN_ALTITUDE

    if not dark(now_ms):
        return None
    step = 10 * MINUTE_MS
    t = now_ms
    while now_ms - t < DAY_MS:
        earlier = t - step
        if not dark(earlier):
            lo, hi = earlier, t  # light at lo, dark at hi: bisect to the minute
            while hi - lo > MINUTE_MS:
                mid = (lo + hi) // 2
                lo, hi = (lo, mid) if dark(mid) else (mid, hi)
            return hi
        t = earlier
    return now_ms - DAY_MS  # polar night: dark all day


def _clock_dark_since(now_ms: int) -> int | None:
    now = datetime.fromtimestamp(now_ms / 1000)
    if CLOCK_DARK_UNTIL <= now.hour < CLOCK_DARK_FROM:
        return None
    start = now.replace(hour=CLOCK_DARK_FROM, minute=0, second=0, microsecond=0)
    if now.hour < CLOCK_DARK_UNTIL:
        start -= timedelta(days=1)
    return int(start.timestamp() * 1000)


# --------------------------------------------------------------------------- queries


def latest_statuses(archive: Archive) -> dict[str, dict]:
    """camera_id -> its latest status as wire JSON."""
    rows = archive.db.read().execute(
        "SELECT s.camera_id, s.body FROM statuses s JOIN ("
        " SELECT camera_id, MAX(valid_from) AS vf FROM statuses GROUP BY camera_id) m"
        " ON s.camera_id = m.camera_id AND s.valid_from = m.vf"
    )
    return {camera: json.loads(body) for camera, body in rows}


def _location(status: dict | None) -> Location | None:
    loc = (status or {}).get("location") or {}
    try:
        return Location(float(loc["lat"]), float(loc["long"]))
    except (KeyError, TypeError, ValueError):
        return None


def _last_heard(conn, since: int) -> dict[str, int]:
    # A resend request is logged by this computer, not heard from the camera.
    rows = conn.execute(
        "SELECT camera_id, MAX(updated_at) FROM conversations"
        " WHERE updated_at >= ? AND camera_id IS NOT NULL AND state != ? GROUP BY camera_id",
        (since, RESEND_REQUESTED),
    )
    return dict(rows.fetchall())


def _last_received(conn, camera_id: str) -> int | None:
    """When the camera's latest event or file arrived (indexed by camera and time)."""
    times = []
    for table, col in (("events", "event_time"), ("files", "file_time")):
        row = conn.execute(
            f"SELECT received_at FROM {table} WHERE camera_id = ? ORDER BY {col} DESC LIMIT 1",
            (camera_id,),
        ).fetchone()
        if row is not None:
            times.append(row[0])
    return max(times) if times else None


def _last_conversation(conn, camera_id: str) -> int | None:
    """When the camera last talked to the importer at all (all its tries may have failed)."""
    row = conn.execute(
        "SELECT MAX(updated_at) FROM conversations WHERE camera_id = ? AND state != ?",
        (camera_id, RESEND_REQUESTED),
    ).fetchone()
    return row[0] if row else None


def camera_health(
    archive: Archive,
    *,
    now_ms: int,
    silence_minutes: int,
    night_starts_hour: int = 12,
    dark_window: DarkWindow = dark_since,
) -> list[CameraHealth]:
    """Health of every camera known from its statuses or its conversations, by label."""
    conn = archive.db.read()
    statuses = latest_statuses(archive)
    heard = _last_heard(conn, now_ms - LOOKBACK_MS)
    cameras = sorted(set(statuses) | set(heard))
    clock = night_clock(conn, night_starts_hour)
    tonight = clock.start(now_ms)
    tonight_end = clock.end(tonight)

    # Health is about delivery: count what arrived tonight, whenever it was recorded
    # (a camera may be uploading last night's events).
    night = (tonight, tonight_end)
    events = {c: conn.execute(EVENTS_ARRIVED, (c, *night)).fetchone()[0] for c in cameras}
    stills = {c: conn.execute(STILLS_ARRIVED, (c, *night)).fetchone()[0] for c in cameras}
    # A failure the camera made good later (it delivered the entity after all) is over.
    failures = dict(
        conn.execute(
            "SELECT camera_id, COUNT(*) FROM conversations c WHERE state = ? AND updated_at >= ?"
            f" AND camera_id IS NOT NULL AND NOT ({MADE_GOOD}) GROUP BY camera_id",
            (FAILED, tonight),
        ).fetchall()
    )

    silence_ms = silence_minutes * MINUTE_MS
    out = []
    for camera in cameras:
        status = statuses.get(camera)
        last = heard.get(camera)
        recent: list[str] = []
        if last is None:  # not heard lately: when did it last deliver, or try to?
            last = _last_received(conn, camera)
            if last is None:
                last = _last_conversation(conn, camera)
        else:
            # Walks the time index backwards from now: cheap for a camera that is talking.
            recent = [
                r[0]
                for r in conn.execute(
                    "SELECT CASE WHEN " + MADE_GOOD + " THEN 'made good' ELSE state END"
                    " FROM conversations c WHERE updated_at >= ? AND camera_id = ?"
                    " AND state != ? ORDER BY updated_at DESC LIMIT ?",
                    (now_ms - LOOKBACK_MS, camera, RESEND_REQUESTED, RECENT_CONVERSATIONS),
                )
            ]
        recent_failures = sum(1 for s in recent if s == FAILED)
        dark = dark_window(now_ms, _location(status))
        # Only a camera that was sending tonight can fall silent; one that has
        # not started yet is shown as idle, not warned about.
        sending_tonight = dark is not None and last is not None and last >= dark
        silent = now_ms - last if sending_tonight and last is not None else None
        # A camera that stopped before dark (or sends by day) is still missed, once it
        # has been quiet for a whole day; after a week it counts as retired (idle).
        gone = (
            now_ms - last
            if last is not None
            and not sending_tonight
            and DAY_MS < now_ms - last <= RETIRED_AFTER_MS
            else None
        )
        silence_warning = (silent is not None and silent > silence_ms) or gone is not None
        retired = last is not None and now_ms - last > RETIRED_AFTER_MS
        failing = recent_failures >= FAILING_THRESHOLD
        out.append(
            CameraHealth(
                camera_id=camera,
                inst_name=(status or {}).get("inst_name") or None,
                last_heard=last,
                events_tonight=events.get(camera, 0),
                stills_tonight=stills.get(camera, 0),
                failures_tonight=failures.get(camera, 0),
                recent_failures=recent_failures,
                recent_total=len(recent),
                dark_since=dark,
                silent_ms=silent if gone is None else gone,
                silence_warning=silence_warning,
                failing=failing,
                note=(
                    f"not heard for {format_duration(now_ms - (last or 0))}; no longer watched"
                    if retired and not failing
                    else _note(
                        failing,
                        recent_failures,
                        len(recent),
                        silence_warning,
                        silent,
                        dark,
                        last,
                        gone,
                    )
                ),
                retired=retired,
            )
        )
    out.sort(key=lambda h: (h.inst_name or "", h.camera_id))
    return out


def _note(
    failing, recent_failures, recent_total, silence_warning, silent, dark, last, gone=None
) -> str:
    parts = []
    if failing:
        parts.append(f"failing: {recent_failures} of its last {recent_total} conversations failed")
    if gone is not None:
        parts.append(f"not heard for {format_duration(gone)}")
    elif silence_warning:
        parts.append(f"silent for {format_duration(silent)} during the night")
    if parts:
        return "; ".join(parts)
    if dark is not None and (last is None or last < dark):
        return "not heard since dark"
    if dark is None:
        return "OK (daylight)"
    return "OK"


def format_duration(ms: int | None) -> str:
    if ms is None:
        return ""
    minutes = ms // MINUTE_MS
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days"
