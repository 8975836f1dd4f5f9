"""A MeteorPi camera node, simulated: it makes a realistic night and pushes it.

``make_night(seed, events=N, timelapse=M)`` builds, deterministically for a
seed, what two camera nodes record in one night: two CameraStatus each (one
change mid-night), N meteor events with a video clip, two stills and a path
file, and M time-lapse stills. ``push_night`` sends it all, oldest first,
through an ``ImportClient``; ``run`` is the ``simulate`` CLI command.

The video clips are real H.264 mp4 files shipped in ``resources/demo/``
(made once by ``resources/demo/make_clips.py``); nothing here needs ffmpeg.
"""

from __future__ import annotations

import functools
import io
import json
import math
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import md5
from typing import BinaryIO, TextIO

from meteorgui.exporter.client import ImportClient, ImportClientError
from meteorgui.model import (
    CameraStatus,
    Event,
    FileRecord,
    Location,
    Meta,
    Orientation,
)
from meteorgui.resources import resource_path
from meteorgui.skyimage import Sky, draw_streak, horizon_profile, png_bytes

# 2015-08-12 21:00 UTC, the evening before the Perseids' peak.
DEFAULT_START_MS = 1_439_413_200_000
NIGHT_MS = 8 * 3600 * 1000
TIMELAPSE_EVERY_MS = 30_000
WIDTH, HEIGHT = 320, 240
FPS = 25

# Two sites in the East of England, where the MeteorPi project began.
SITES = (
    {
        "inst_name": "Cambridge Science Centre roof",
        "inst_url": "https://meteorpi.example.org/cambridge",
        "lat": 52.2053,
        "long": 0.1218,
        "lens": "Computar H0612FI 6mm f/1.2",
        "az": 210.0,
    },
    {
        "inst_name": "Bury St Edmunds backyard",
        "inst_url": "https://meteorpi.example.org/bury",
        "lat": 52.2463,
        "long": 0.7111,
        "lens": "Fujinon YV2.8x2.8SA 2.8-8mm at 4mm",
        "az": 95.0,
    },
)


@functools.cache
def demo_clips() -> tuple[bytes, ...]:
    """The shipped mp4 meteor clips, read once."""
    paths = sorted(resource_path("demo").glob("meteor_clip_*.mp4"))
    if not paths:
        raise FileNotFoundError(f"no demo clips in {resource_path('demo')}")
    return tuple(p.read_bytes() for p in paths)


@dataclass
class Night:
    """One simulated night: statuses, events, time-lapse files and their bytes."""

    seed: int
    start_ms: int
    end_ms: int
    statuses: tuple[CameraStatus, ...]
    events: tuple[Event, ...]
    files: tuple[FileRecord, ...]
    content: dict[str, bytes] = field(repr=False)

    def status(self, status_id: str) -> CameraStatus:
        """The status with this id; KeyError if the night has none (the
        ``status_for`` of ``ImportClient.send``)."""
        for status in self.statuses:
            if status.status_id == status_id:
                return status
        raise KeyError(status_id)

    def status_at(self, camera_id: str, time_ms: int) -> CameraStatus:
        """The camera's status valid at ``time_ms``; KeyError if none."""
        return _status_at(self.statuses, camera_id, time_ms)

    def file_bytes(self, file_id: str) -> bytes:
        return self.content[file_id]

    def open_file(self, record: FileRecord) -> BinaryIO:
        """The ``open_file`` of ``ImportClient.send``."""
        return io.BytesIO(self.content[record.file_id])

    def entities(self) -> list[Event | FileRecord]:
        """Events and time-lapse files in the order a node would export them."""
        items: list[tuple[int, str, Event | FileRecord]] = []
        items += [(e.event_time, e.event_id, e) for e in self.events]
        items += [(f.file_time, f.file_id, f) for f in self.files]
        items.sort(key=lambda item: item[:2])
        return [item[2] for item in items]

    @property
    def cameras(self) -> list[str]:
        return sorted({s.camera_id for s in self.statuses})


def _status_at(statuses, camera_id: str, time_ms: int) -> CameraStatus:
    for status in statuses:
        if (
            status.camera_id == camera_id
            and status.valid_from <= time_ms
            and (status.valid_to is None or time_ms < status.valid_to)
        ):
            return status
    raise KeyError(f"no status of camera {camera_id} at {time_ms}")


# --------------------------------------------------------------------------- building


class _Builder:
    def __init__(self, seed: int, start_ms: int, end_ms: int):
        self.rng = random.Random(seed)
        self.start_ms, self.end_ms = start_ms, end_ms
        self.statuses: list[CameraStatus] = []
        self.content: dict[str, bytes] = {}
        self.skies: dict[str, Sky] = {}

    def new_id(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    def add_camera(self, index: int) -> str:
        rng, site = self.rng, SITES[index % len(SITES)]
        camera_id = "b827eb" + f"{rng.getrandbits(24):06x}"  # a Raspberry Pi MAC
        profile = horizon_profile(rng, WIDTH, HEIGHT)
        # The second camera has a lamp post in view, so its sky is two regions.
        post = (WIDTH // 2 - 5, WIDTH // 2 + 5) if index % 2 else None
        sky = Sky(rng.getrandbits(32), WIDTH, HEIGHT, profile, post=post)
        self.skies[camera_id] = sky
        regions = _regions(profile, sky.horizon, post)
        lat = round(site["lat"] + rng.uniform(-0.01, 0.01), 5)
        long = round(site["long"] + rng.uniform(-0.01, 0.01), 5)
        alt, az, rot = rng.uniform(35, 55), site["az"] + rng.uniform(-5, 5), rng.uniform(-3, 3)
        change = self.start_ms + int((self.end_ms - self.start_ms) * rng.uniform(0.4, 0.6))
        common = dict(
            camera_id=camera_id,
            lens=site["lens"],
            sensor="Watec 902H2 Ultimate",
            inst_name=site["inst_name"],
            inst_url=site["inst_url"],
            regions=regions,
        )
        # Mid-night the node re-solves its pointing from the stars it sees and
        # the fit tightens: a new status, as a real node records it.
        self.statuses.append(
            CameraStatus(
                status_id=self.new_id(),
                valid_from=self.start_ms - 3 * 86_400_000,
                valid_to=change,
                software_version=2,
                location=Location(lat=lat, long=long, gps=True, error=round(rng.uniform(4, 12), 1)),
                orientation=Orientation(
                    alt=round(alt, 3),
                    az=round(az, 3),
                    rot=round(rot, 3),
                    error=2.5,
                    width=round(rng.uniform(55, 75), 2),
                ),
                **common,
            )
        )
        self.statuses.append(
            CameraStatus(
                status_id=self.new_id(),
                valid_from=change,
                software_version=3,
                location=Location(lat=lat, long=long, gps=True, error=round(rng.uniform(2, 5), 1)),
                orientation=Orientation(
                    alt=round(alt + rng.uniform(-0.8, 0.8), 3),
                    az=round(az + rng.uniform(-0.8, 0.8), 3),
                    rot=round(rot + rng.uniform(-0.5, 0.5), 3),
                    error=0.4,
                    width=self.statuses[-1].orientation.width,
                ),
                **common,
            )
        )
        return camera_id

    def status_at(self, camera_id: str, t: int) -> CameraStatus:
        return _status_at(self.statuses, camera_id, t)

    def record(
        self,
        data: bytes,
        camera_id: str,
        t: int,
        name: str,
        mime: str,
        semantic: str,
        meta: tuple[Meta, ...] = (),
    ) -> FileRecord:
        record = FileRecord(
            file_id=self.new_id(),
            camera_id=camera_id,
            status_id=self.status_at(camera_id, t).status_id,
            file_time=t,
            file_size=len(data),
            mime_type=mime,
            md5=md5(data).hexdigest(),
            semantic_type=semantic,
            file_name=name,
            meta=meta,
        )
        self.content[record.file_id] = data
        return record

    def angle(self, t: int) -> float:
        """How far the sky has turned since the start (15 degrees an hour)."""
        return (t - self.start_ms) / 3_600_000 * math.radians(15)

    def gain(self, t: int) -> float:
        """Twilight at both ends of the night brightens the sky background."""
        f = (t - self.start_ms) / max(1, self.end_ms - self.start_ms)
        return 1.0 + 2.5 * max(0.0, 1 - 6 * min(f, 1 - f))

    def event(self, camera_id: str, t: int) -> Event:
        rng, sky = self.rng, self.skies[camera_id]
        n_frames = rng.randint(8, 60)
        duration = n_frames / FPS
        x0, y0 = rng.uniform(20, WIDTH - 20), rng.uniform(10, HEIGHT * 0.6)
        heading, length = rng.uniform(0, 2 * math.pi), rng.uniform(30, 160)
        x1 = min(WIDTH - 2.0, max(1.0, x0 + length * math.cos(heading)))
        y1 = min(HEIGHT * 0.85, max(1.0, y0 + length * math.sin(heading)))
        peak = rng.uniform(120, 255)
        stamp = _stamp(t)

        still = sky.frame(self.angle(t), self.gain(t))
        draw_streak(still, WIDTH, HEIGHT, (x0, y0), (x1, y1), peak)
        subtracted = sky.subtracted()
        draw_streak(subtracted, WIDTH, HEIGHT, (x0, y0), (x1, y1), peak)
        points = []
        for k in range(n_frames):
            f = k / max(1, n_frames - 1)
            amp = peak * math.sin(math.pi * min(1.0, f * 1.1)) ** 0.7
            points.append(
                [
                    round(x0 + f * (x1 - x0), 1),
                    round(y0 + f * (y1 - y0), 1),
                    round(amp, 1),
                    round(k / FPS, 3),
                ]
            )
        path = json.dumps(
            {"camera_id": camera_id, "frame_rate": FPS, "points": points}, separators=(",", ":")
        ).encode()
        clip = demo_clips()[rng.randrange(len(demo_clips()))]
        stacked = (Meta("number", "meteorpi:stackedFrames", n_frames),)
        specs = (  # bytes, file name suffix, MIME type, semantic type, meta; in this order
            (clip, "video.mp4", "video/mp4", "triggers/event/video", ()),
            (png_bytes(still, WIDTH, HEIGHT), "maxBrightness_lensCorr.png", "image/png",
             "triggers/event/maxBrightness/lensCorr", stacked),
            (png_bytes(subtracted, WIDTH, HEIGHT), "bgrdSub.png", "image/png",
             "triggers/event/bgrdSub", ()),
            (path, "path.json", "application/json", "triggers/event/path", ()),
        )  # fmt: skip
        files = tuple(
            self.record(data, camera_id, t, f"{stamp}_{camera_id}_{suffix}", mime,
                        f"meteorpi:{semantic}", meta)
            for data, suffix, mime, semantic, meta in specs
        )  # fmt: skip
        meta = (
            Meta("string", "meteorpi:cameraId", camera_id),
            Meta("number", "meteorpi:duration", round(duration, 3)),
            Meta("number", "meteorpi:peakAmplitude", round(peak, 1)),
            Meta("number", "meteorpi:nFrames", n_frames),
            Meta("number", "meteorpi:pathLength", round(math.hypot(x1 - x0, y1 - y0), 1)),
            Meta("date", "meteorpi:timeEnd", t + int(duration * 1000)),
        )
        status = self.status_at(camera_id, t)
        return Event(self.new_id(), camera_id, status.status_id, t, "meteorpi:meteor", files, meta)

    def timelapse(self, camera_id: str, t: int) -> FileRecord:
        gain = self.gain(t)
        frame = self.skies[camera_id].frame(self.angle(t), gain)
        return self.record(
            png_bytes(frame, WIDTH, HEIGHT),
            camera_id,
            t,
            f"{_stamp(t)}_{camera_id}_frame_lensCorr.png",
            "image/png",
            "meteorpi:timelapse/frame/lensCorr",
            (
                Meta("number", "meteorpi:stackedFrames", 250),
                Meta("number", "meteorpi:skyBrightness", round(22 * gain, 2)),
            ),
        )


def _regions(profile, horizon, post):
    """Sky-visible polygons (clockwise, image pixels): above the horizon
    profile, and either side of the lamp post if there is one."""
    edge = [(x, y - 1) for x, y in reversed(profile)]
    if post is None:
        return (tuple([(0, 0), (WIDTH - 1, 0), *edge]),)
    a, b = post[0] - 1, post[1] + 1
    left = [(0, 0), (a, 0), (a, horizon[a] - 1), *[p for p in edge if p[0] < a]]
    right = [(b, 0), (WIDTH - 1, 0), *[p for p in edge if p[0] > b], (b, horizon[b] - 1)]
    return tuple(left), tuple(right)


def _stamp(t: int) -> str:
    return datetime.fromtimestamp(t / 1000, UTC).strftime("%Y%m%d%H%M%S")


def make_night(
    seed: int = 0, *, events: int = 20, timelapse: int = 40, start_ms: int = DEFAULT_START_MS
) -> Night:
    """Build a night deterministically from ``seed``.

    Two cameras; ``events`` meteor events spread at random over eight hours;
    ``timelapse`` stills taken alternately by the two cameras, each camera one
    every 30 s from ``start_ms`` (the night grows longer if they need it).
    """
    if events < 0 or timelapse < 0:
        raise ValueError("events and timelapse must not be negative")
    per_camera = (timelapse + 1) // 2
    end_ms = start_ms + max(NIGHT_MS, per_camera * TIMELAPSE_EVERY_MS)
    b = _Builder(seed, start_ms, end_ms)
    cameras = [b.add_camera(0), b.add_camera(1)]
    times = sorted(b.rng.randrange(start_ms + 60_000, end_ms - 60_000) for _ in range(events))
    made_events = [b.event(b.rng.choice(cameras), t) for t in times]
    stills = []
    for k in range(timelapse):
        camera = cameras[k % 2]
        stills.append(
            b.timelapse(camera, start_ms + (k // 2) * TIMELAPSE_EVERY_MS + 7_000 * (k % 2))
        )
    return Night(
        seed, start_ms, end_ms, tuple(b.statuses), tuple(made_events), tuple(stills), b.content
    )


# --------------------------------------------------------------------------- pushing


@dataclass
class PushSummary:
    total: int = 0
    complete: int = 0
    failed: int = 0
    skipped: int = 0
    bytes_sent: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.complete == self.total

    def line(self) -> str:
        text = (
            f"{self.total} entities: {self.complete} complete, {self.failed} failed"
            f"{f', {self.skipped} not sent' if self.skipped else ''}; "
            f"{_size(self.bytes_sent)} uploaded in {self.seconds:.1f} s"
        )
        return text


def push_night(
    night: Night,
    client: ImportClient,
    *,
    rate: float | None = None,
    on_progress: Callable[[str], None] | None = print,
    stop: threading.Event | None = None,
    max_failures_in_row: int | None = 4,
    entities: list[Event | FileRecord] | None = None,
) -> PushSummary:
    """Send every event and time-lapse file of ``night``, oldest first.

    ``rate`` limits sending to that many entities a second. ``on_progress``
    gets one line per entity. ``stop`` (set from another thread) ends the push,
    dropping the entity in flight. After ``max_failures_in_row`` failures in a row the push
    stops, as a real MeteorPi exporter disables its export then; the rest
    count as skipped.
    """
    if rate is not None and rate <= 0:
        raise ValueError("rate must be positive")
    entities = night.entities() if entities is None else entities
    summary = PushSummary(total=len(entities))
    waiter = stop or threading.Event()
    started = time.monotonic()
    in_row = 0
    width = len(str(len(entities)))
    for i, entity in enumerate(entities):
        if rate is not None:
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                waiter.wait(delay)
        if waiter.is_set() or (max_failures_in_row is not None and in_row >= max_failures_in_row):
            summary.skipped = len(entities) - i
            if on_progress is not None:
                why = "stopped" if waiter.is_set() else f"{in_row} failures in a row"
                on_progress(f"{why}: not sending the remaining {summary.skipped}")
            break
        result = client.send(
            entity, status_for=night.status, open_file=night.open_file, cancelled=waiter.is_set
        )
        summary.bytes_sent += result.bytes_sent
        if result.state == "cancelled":
            summary.skipped = len(entities) - i
            if on_progress is not None:
                on_progress(f"stopped: not sending the remaining {summary.skipped}")
            break
        if result.ok:
            summary.complete += 1
            in_row = 0
        else:
            summary.failed += 1
            in_row += 1
            summary.failures.append((result.entity_id, result.message))
        if on_progress is not None:
            if result.ok:
                outcome = f"complete ({result.steps} steps, {_size(result.bytes_sent)} uploaded)"
            else:
                outcome = f"FAILED: {result.message}"
            on_progress(f"[{i + 1:>{width}}/{len(entities)}] {_describe(entity)} {outcome}")
    summary.seconds = time.monotonic() - started
    return summary


def interleaved(night: Night) -> list[Event | FileRecord]:
    """Events and stills mixed evenly, each in time order: a demo shows events at once."""
    events = sorted(night.events, key=lambda e: e.event_time)
    stills = sorted(night.files, key=lambda f: f.file_time)
    ranked = [(i / len(events), 0, e) for i, e in enumerate(events)]
    ranked += [((j + 1.0) / len(stills), 1, f) for j, f in enumerate(stills)]
    return [item for _, _, item in sorted(ranked, key=lambda r: r[:2])]


def _describe(entity: Event | FileRecord) -> str:
    if isinstance(entity, Event):
        kind, t = "event    ", entity.event_time
        ident = entity.event_id
    else:
        kind, t = "timelapse", entity.file_time
        ident = entity.file_id
    clock = datetime.fromtimestamp(t / 1000, UTC).strftime("%H:%M:%S")
    return f"{clock} {kind} {ident[:8]} camera {entity.camera_id}"


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- CLI


def run(
    to: str,
    user: str,
    password: str,
    events: int = 20,
    timelapse: int = 40,
    seed: int = 0,
    rate: float | None = None,
    out: TextIO | None = None,
    start_ms: int | None = None,
    err: TextIO | None = None,
) -> int:
    """The ``simulate`` command: make a night and push it to the import URL ``to``.

    ``start_ms`` is when the night starts (default: a fixed night in 2015, so a
    seed always makes the same night).

    Prints one line per entity and a summary line on ``out``. Returns 0 if every
    entity completed, 1 otherwise; problems (bad arguments, an importer that cannot
    be reached or refuses the login, a failed night) are one line on ``err``.
    """

    if events < 0 or timelapse < 0 or (rate is not None and not rate > 0):
        return _complain(err, "--events and --timelapse must be >= 0 and --rate > 0")

    def make(url: str) -> tuple[Night, str]:
        night = make_night(
            seed,
            events=events,
            timelapse=timelapse,
            start_ms=DEFAULT_START_MS if start_ms is None else start_ms,
        )
        return night, (
            f"Simulating {len(night.cameras)} cameras (seed {seed}): {events} "
            f"events, {timelapse} time-lapse stills -> {url}"
        )

    return push_made(to, user, password, make, rate=rate, out=out, err=err)


def _complain(err: TextIO | None, line: str) -> int:
    print(f"simulate: {line}", file=sys.stderr if err is None else err, flush=True)
    return 1


def push_made(
    to: str,
    user: str,
    password: str,
    make: Callable[[str], tuple[Night, str]],
    rate: float | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Check the import URL and login, ``make(url)`` a night (returning it and a line
    to print first; ValueError, OSError: a line on ``err``), push it, one line per
    entity and a summary on ``out``. 0 if every entity completed, else 1."""
    out = sys.stdout if out is None else out  # looked up now: tests swap them

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    try:
        client = ImportClient(to, user, password)
    except ValueError as exc:
        return _complain(err, str(exc))
    with client:
        try:
            client.check()  # the URL and the login, before a night of failures
        except ImportClientError as exc:
            return _complain(err, f"cannot push to {client.url}: {exc}")
        try:
            night, intro = make(client.url)
        except (OSError, ValueError, OverflowError, RuntimeError) as exc:
            return _complain(err, str(exc))
        say(intro)
        summary = push_night(night, client, rate=rate, on_progress=say)
    if not summary.ok:
        return _complain(err, "FAILED: " + summary.line())
    say("Done: " + summary.line())
    return 0
