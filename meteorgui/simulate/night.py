"""A MeteorPi camera node's night, simulated: statuses, events, stills and their bytes.

``make_night(seed, events=N, timelapse=M)`` builds, deterministically for a
seed, what two camera nodes record in one night: two CameraStatus each (one
change mid-night), N meteor events with a video clip, two stills and a path
file, and M time-lapse stills. ``push.push_night`` sends it.

The video clips are real H.264 mp4 files shipped in ``resources/demo/`` (installed
as meteorgui.assets), made once by ``resources/demo/make_clips.py``; nothing here
needs ffmpeg.
"""

from __future__ import annotations

import functools
import io
import json
import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import md5
from typing import Any, BinaryIO

from meteorgui.model import (
    CameraStatus,
    Event,
    FileRecord,
    Location,
    Meta,
    Orientation,
)
from meteorgui.resources import demo_clip_paths
from meteorgui.skyimage import Sky, draw_streak, horizon_profile, png_bytes

# 2015-08-12 21:00 UTC, the evening before the Perseids' peak.
DEFAULT_START_MS = 1_439_413_200_000
NIGHT_MS = 8 * 3600 * 1000
TIMELAPSE_EVERY_MS = 30_000
WIDTH, HEIGHT = 320, 240
FPS = 25

# Two sites in the East of England, where the MeteorPi project began.
SITES: tuple[dict[str, Any], ...] = (
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
    return tuple(p.read_bytes() for p in demo_clip_paths())


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
    def __init__(self, seed: int, start_ms: int, end_ms: int, shape: str = ""):
        self.rng = random.Random(seed)
        # Events' and files' ids come from a stream of their own, keyed by the night's
        # shape as well: drawn from ``rng``, a night of fewer events gave a file's id of
        # another night to an event, and the importer refused it ("an archived file record
        # has that id"). The same seed and shape still make the same ids (a push again
        # is "already archived"); the statuses' ids stay the seed's (the same cameras).
        self.ids = random.Random(f"meteorgui-night:{seed}:{shape}:{start_ms}")
        self.start_ms, self.end_ms = start_ms, end_ms
        self.statuses: list[CameraStatus] = []
        self.content: dict[str, bytes] = {}
        self.skies: dict[str, Sky] = {}

    def new_id(self) -> str:
        """A camera status's id (from the seed alone)."""
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    def entity_id(self) -> str:
        """An event's or a file's id (from the seed and the night's shape)."""
        self.rng.getrandbits(128)  # drawn as before: the night's sky stays the seed's
        return uuid.UUID(int=self.ids.getrandbits(128), version=4).hex

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
        solved = self.statuses[-1].orientation
        assert solved is not None
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
                    width=solved.width,
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
            file_id=self.entity_id(),
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
        return Event(
            self.entity_id(), camera_id, status.status_id, t, "meteorpi:meteor", files, meta
        )

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
    b = _Builder(seed, start_ms, end_ms, f"events={events},timelapse={timelapse}")
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
