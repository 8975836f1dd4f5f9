"""Build a large archive through the archive API, for the GUI benchmark.

200,000 events x 4 files (800,000 file records) over ~200 nights from two
cameras. Only the latest night has real bytes (PNG stills with a meteor, mp4
clips, JSON paths from the simulator): that is what the window shows first,
so its thumbnails are real; older files are records without bytes, which
the browser must page through without loading them.

The archive is cached in benchmarks/out/ keyed by its size, so a second run
starts at once.
"""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path

from meteorgui.archive import Archive
from meteorgui.model import CameraStatus, Event, FileRecord, Meta
from meteorgui.simulate import NIGHT_MS, make_night

DAY_MS = 86_400_000
SEMANTICS = [
    ("video/mp4", "meteorpi:triggers/event/video", "video.mp4"),
    ("image/png", "meteorpi:triggers/event/maxBrightness/lensCorr", "max.png"),
    ("image/png", "meteorpi:triggers/event/bgrdSub", "bgrd.png"),
    ("application/json", "meteorpi:triggers/event/path", "path.json"),
]


def build(path: Path, events: int = 200_000, per_night: int = 1000, seed: int = 1) -> Path:
    marker = path / "built.ok"
    if not marker.exists():
        _build(path, marker, events, per_night, seed)
    else:
        # Bring a cached archive to this version's schema once (a new migration, such as
        # building the search index, is a one-time upgrade, not part of what is measured).
        Archive(path).close()
    _compute_sky(path)
    return path


def _compute_sky(path: Path) -> None:
    """The sky results an archive that has been open before holds (about two minutes for
    200k events): without them the app's sky worker computes them all in the
    background during the measurements."""
    marker = path / "sky.ok"
    if marker.exists():
        return
    from meteorgui.sky.compute import compute_missing

    started = time.perf_counter()
    with Archive(path) as archive:
        stored = compute_missing(archive)
    marker.write_text(f"{len(stored)} sky results\n")
    print(f"computed {len(stored)} sky results in {time.perf_counter() - started:.0f} s")


def _build(path: Path, marker: Path, events: int, per_night: int, seed: int) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    now = int(time.time() * 1000)
    latest = make_night(seed, events=300, timelapse=200, start_ms=now - NIGHT_MS - 3_600_000)
    nights = max(1, -(-(events - len(latest.events)) // per_night))
    first_night = latest.start_ms - nights * DAY_MS
    with Archive(path) as archive:
        with archive.db.write():
            statuses = {}
            for camera in latest.cameras:
                st = CameraStatus(
                    status_id=uuid.uuid4().hex,
                    camera_id=camera,
                    valid_from=first_night - DAY_MS,
                    inst_name=f"Site {camera}",
                    lens="4mm",
                    sensor="Watec 902H",
                )
                archive.store_status(st)
                statuses[camera] = st
            made = 0
            for n in range(nights):
                night_start = first_night + n * DAY_MS
                for _ in range(min(per_night, events - len(latest.events) - made)):
                    camera = rng.choice(latest.cameras)
                    st = statuses[camera]
                    t = night_start + rng.randrange(NIGHT_MS)
                    files = tuple(
                        FileRecord(
                            file_id=uuid.uuid4().hex,
                            camera_id=camera,
                            status_id=st.status_id,
                            file_time=t + i,
                            file_size=1000 + i,
                            mime_type=mime,
                            md5=uuid.uuid4().hex,
                            semantic_type=sem,
                            file_name=name,
                        )
                        for i, (mime, sem, name) in enumerate(SEMANTICS)
                    )
                    archive.store_event(
                        Event(
                            event_id=uuid.uuid4().hex,
                            camera_id=camera,
                            status_id=st.status_id,
                            event_time=t,
                            event_type="meteorpi:meteor",
                            files=files,
                            meta=(
                                Meta("number", "meteorpi:duration", round(rng.uniform(0.1, 3), 2)),
                                Meta(
                                    "number",
                                    "meteorpi:peakAmplitude",
                                    round(rng.uniform(50, 255), 1),
                                ),
                            ),
                        )
                    )
                    made += 1
        # The latest night, with real bytes, as a camera would have sent it.
        for st in latest.statuses:
            archive.store_status(st)
        for entity in latest.entities():
            records = entity.files if isinstance(entity, Event) else (entity,)
            for rec in records:
                archive.store.put(rec.file_id, rec.md5, latest.open_file(rec))
            if isinstance(entity, Event):
                archive.store_event(entity)
            else:
                archive.store_file(entity)
        total = archive.count("events")
        files = archive.count("files")
    marker.write_text(f"{total} events, {files} files\n")
    print(f"built {total} events / {files} files in {time.perf_counter() - started:.0f} s")
