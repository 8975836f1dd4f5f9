"""Build a large archive through the archive API, for the GUI and search benchmarks.

``build(events=200_000)`` (or 1,000,000): that many meteor events over nights of
about 1,000 events from two cameras, each event with the files and the meta a 2015
MeteorPi node sends: a video clip, the max-brightness still, the background-subtracted
still and, when its text is 250 characters or longer, the path as an application/json
file (``meteorpi:path``); as meta the path (when shorter), ``pathBezier``, ``duration``,
``detectionCount``, ``amplitudePeak``, ``amplitudeTimeIntegrated`` and
``inputNoiseLevel``. About 4 file records per event.

The user has reviewed (labelled) the events of the older nights that have bytes.

Which nights have bytes, as on a real disk that keeps everything:
- the latest night (the simulator's, 320x240 stills): what the window shows first;
- one older night in ``SAMPLE_EVERY``, spread through the archive: camera-sized
  (720x576) PNG stills with the event's meteor streak, a real mp4 clip and the path
  file, so scrolling back through the years decodes real pictures;
- the other nights: records without bytes (missing badges), which the browser must
  page through without loading them.

The sample's stills come from ``TEMPLATES`` meteors drawn once per camera with the
simulator's picture code (``meteorgui.skyimage``); events take their path from their
template (their own times), and their stills and clip are hard links to the template's
bytes (the store names a file ``<file_id>.<md5>``, so the same bytes under many ids
are many names of one file; a copy where linking fails). Each path file is written as
its own bytes (the times differ).

The archive is cached in benchmarks/out/archive-<events>-v<VERSION>, so a second run
starts at once; a change to what is built bumps VERSION. ``copy()`` makes a working
copy for a run: the database copied, the file store hard-linked.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import shutil
import time
import uuid
from hashlib import md5
from pathlib import Path

from meteorgui.archive import Archive
from meteorgui.model import Event, FileRecord, Meta
from meteorgui.simulate import NIGHT_MS, demo_clips, make_night
from meteorgui.sky.paths import PATH_META_LIMIT, path_text
from meteorgui.skyimage import Sky, draw_streak, horizon_profile, png_bytes

VERSION = 2  # of what build() makes: 2 = 2015 meta, camera-sized stills in sampled nights
OUT = Path(__file__).resolve().parent / "out"
DAY_MS = 86_400_000
SAMPLE_EVERY = 20  # one older night in this many has real bytes
TEMPLATES = 100  # distinct meteors (stills and clip) per camera for the sampled nights
WIDTH, HEIGHT = 720, 576  # a PAL camera's frame, as the 2015 nodes record
FPS = 25
REOPEN_EVERY = 20  # nights written between two closes of the archive (see _build)


def path_for(events: int) -> Path:
    return OUT / f"archive-{events}-v{VERSION}"


def build(
    path: Path | None = None, events: int = 200_000, per_night: int = 1000, seed: int = 1
) -> Path:
    path = path_for(events) if path is None else Path(path)
    marker = path / "built.ok"
    if not marker.exists():
        if path.exists():  # an interrupted build: start again
            shutil.rmtree(path)
        _build(path, marker, events, per_night, seed)
    else:
        # Bring a cached archive to this version's schema once (a new migration, such as
        # building the search index, is a one-time upgrade, not part of what is measured).
        Archive(path).close()
    _review_some(path)
    _compute_sky(path)
    return path


def copy(source: Path, dest: Path) -> Path:
    """A working copy of a built archive: the database copied, the stored files hard
    links (the archive never changes a stored file in place: new bytes arrive under a
    new name, quarantine moves a name away), so a 1,000,000-event copy takes seconds
    and no disk beyond the database."""

    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, dest, copy_function=link, ignore=shutil.ignore_patterns("*.sqlite3*"))
    for db in source.glob("*.sqlite3*"):
        shutil.copy2(db, dest / db.name)
    return dest


LABELS = ("meteor",) * 12 + ("plane",) * 3 + ("satellite",) * 2 + ("rejected",) * 2 + ("other",)


def _review_some(path: Path) -> None:
    """The user's reviews: every event of the older nights that have pictures (one in
    ``SAMPLE_EVERY``), labelled mostly 'meteor', so the review filters have something
    to find. A step of its own, so an archive built before it gets it once."""
    marker = path / "reviews.ok"
    if marker.exists():
        return
    from meteorgui.archive import browse

    started = time.perf_counter()
    rng = random.Random("reviews")
    done = 0
    with Archive(path) as archive:
        # Oldest first, not the latest night.
        older = sorted(browse.nights(archive), key=lambda n: n.start_ms)[:-1]
        for night in older[::SAMPLE_EVERY]:
            q = browse.Query(after=night.start_ms, before=night.end_ms)
            rows = browse.page(archive, q, 0, night.events)
            browse.set_reviews(archive, {r.event_id: rng.choice(LABELS) for r in rows})
            done += len(rows)
    marker.write_text(f"{done} events reviewed\n")
    print(f"reviewed {done:,} events in {time.perf_counter() - started:.0f} s")


def _compute_sky(path: Path) -> None:
    """The sky results an archive that has been open before holds (about two minutes for
    200k events, ten or more for a million): without them the app's sky worker computes
    them all in the background during the measurements."""
    marker = path / "sky.ok"
    if marker.exists():
        return
    from meteorgui.sky.compute import compute_missing

    started = time.perf_counter()
    with Archive(path) as archive:
        stored = compute_missing(archive)
    marker.write_text(f"{len(stored)} sky results\n")
    print(f"computed {len(stored)} sky results in {time.perf_counter() - started:.0f} s")


@dataclasses.dataclass
class _Template:
    """One meteor as a camera saw it: its path in pixels and its bytes."""

    camera_id: str
    points: list[tuple[float, float, float]]  # x, y, amplitude; one per video frame
    still: bytes
    subtracted: bytes
    clip: bytes
    sources: dict[str, str] = dataclasses.field(default_factory=dict)  # md5 -> a stored path


def _templates(rng: random.Random, cameras: list[str]) -> dict[str, list[_Template]]:
    clips = demo_clips()
    out: dict[str, list[_Template]] = {}
    for camera in cameras:
        sky = Sky(rng.getrandbits(32), WIDTH, HEIGHT, horizon_profile(rng, WIDTH, HEIGHT))
        made = out[camera] = []
        for k in range(TEMPLATES):
            n = rng.randint(6, 60)
            x0, y0 = rng.uniform(40, WIDTH - 40), rng.uniform(20, HEIGHT * 0.6)
            heading, length = rng.uniform(0, 2 * math.pi), rng.uniform(40, 300)
            x1 = min(WIDTH - 2.0, max(1.0, x0 + length * math.cos(heading)))
            y1 = min(HEIGHT * 0.8, max(1.0, y0 + length * math.sin(heading)))
            peak = rng.uniform(80, 255)
            points = []
            for i in range(n):
                f = i / (n - 1)
                amp = peak * math.sin(math.pi * min(1.0, (f + 0.05) * 0.95)) ** 0.7
                points.append((x0 + f * (x1 - x0), y0 + f * (y1 - y0), max(1.0, amp)))
            still = sky.frame(rng.uniform(0, 2 * math.pi))
            draw_streak(still, WIDTH, HEIGHT, (x0, y0), (x1, y1), peak)
            sub = sky.subtracted()
            draw_streak(sub, WIDTH, HEIGHT, (x0, y0), (x1, y1), peak)
            made.append(
                _Template(
                    camera,
                    points,
                    png_bytes(still, WIDTH, HEIGHT),
                    png_bytes(sub, WIDTH, HEIGHT),
                    # Each template's own copy of a clip: no file gets more links than
                    # the events sharing one template.
                    clips[k % len(clips)],
                )
            )
    return out


def _event(rng, new_id, camera: str, status_id: str, t: int, tpl: _Template, with_bytes: bool):
    """An event in the 2015 node's form with the template's meteor at time ``t``, and
    the bytes of each of its files ({file_id: bytes})."""
    # The template's meteor, brighter or fainter; where no still shows it, somewhere
    # else in the frame too, so no two events' meta are alike.
    gain = rng.uniform(0.6, 1.25)
    dx, dy = (0.0, 0.0) if with_bytes else (rng.uniform(-30, 30), rng.uniform(-30, 30))
    points = [
        [
            min(WIDTH - 1, max(0, x + dx)),
            min(HEIGHT - 1, max(0, y + dy)),
            a * gain,
            t / 1000 + i / FPS,
        ]
        for i, (x, y, a) in enumerate(tpl.points)
    ]
    text = path_text(points)
    stamp = f"{t}_{camera}"
    specs = [
        (tpl.clip, "video.mp4", "video/mp4", "meteorpi:triggers/event/video"),
        (tpl.still, "maxBrightness.png", "image/png",
         "meteorpi:triggers/event/maxBrightness/lensCorr"),
        (tpl.subtracted, "bgrdSub.png", "image/png", "meteorpi:triggers/event/bgrdSub"),
    ]  # fmt: skip
    meta = []
    if len(text) >= PATH_META_LIMIT:
        specs.append((text.encode(), "path.json", "application/json", "meteorpi:path"))
    else:
        meta.append(Meta("string", "meteorpi:path", text))
    files, content = [], {}
    for i, (data, name, mime, semantic) in enumerate(specs):
        file_id = new_id()
        files.append(
            FileRecord(
                file_id=file_id,
                camera_id=camera,
                status_id=status_id,
                file_time=t + i,
                file_size=len(data),
                mime_type=mime,
                md5=_md5(data),
                semantic_type=semantic,
                file_name=f"{stamp}_{name}",
            )
        )
        content[file_id] = data
    mid = points[len(points) // 2]
    bezier = [[round(p[0]), round(p[1]), round(p[3], 3)] for p in (points[0], mid, points[-1])]
    amps = [p[2] for p in points]
    meta += [
        Meta("string", "meteorpi:pathBezier", _json(bezier)),
        Meta("number", "meteorpi:duration", round(points[-1][3] - points[0][3], 3)),
        Meta("number", "meteorpi:detectionCount", len(points)),
        Meta("number", "meteorpi:amplitudePeak", int(max(amps))),
        Meta("number", "meteorpi:amplitudeTimeIntegrated", int(sum(amps))),
        Meta("number", "meteorpi:inputNoiseLevel", round(rng.uniform(1.2, 4.5), 2)),
    ]
    event = Event(new_id(), camera, status_id, t, "meteorpi:meteor", tuple(files), tuple(meta))
    return event, content


_md5_cache: dict[int, str] = {}


def _md5(data: bytes) -> str:
    """MD5 of bytes, remembered for the templates' shared bytes (by identity)."""
    key = id(data)
    if len(data) > 4096:
        if key not in _md5_cache:
            _md5_cache[key] = md5(data).hexdigest()
        return _md5_cache[key]
    return md5(data).hexdigest()


def _json(value) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


def _put(archive: Archive, tpl: _Template, record: FileRecord, data: bytes) -> None:
    """Bytes into the store under the record's name, without the importer's fsyncs (a
    benchmark's cache, rebuilt if lost): a hard link to the first copy of shared bytes."""
    dest = archive.store.path(record.file_id, record.md5)
    src = tpl.sources.get(record.md5) if len(data) > 4096 else None
    if src is not None:
        try:
            os.link(src, dest)
            return
        except OSError:
            pass  # too many links, or a file system without them: a copy
    dest.write_bytes(data)
    if len(data) > 4096:
        tpl.sources[record.md5] = str(dest)


def _build(path: Path, marker: Path, events: int, per_night: int, seed: int) -> None:
    rng = random.Random(f"bigarchive {seed}")  # not the latest night's id stream

    def new_id() -> str:
        return uuid.UUID(int=rng.getrandbits(128), version=4).hex

    started = time.perf_counter()
    now = int(time.time() * 1000)
    latest = make_night(seed, events=300, timelapse=200, start_ms=now - NIGHT_MS - 3_600_000)
    nights = max(1, -(-(events - len(latest.events)) // per_night))
    first_night = latest.start_ms - nights * DAY_MS
    templates = _templates(rng, latest.cameras)
    print(f"made {TEMPLATES} templates per camera in {time.perf_counter() - started:.0f} s")
    archive = Archive(path)
    try:
        statuses = {}
        for camera in latest.cameras:
            # The camera as the latest night knows it (location, orientation), at the
            # older nights' image size.
            first = min(
                (s for s in latest.statuses if s.camera_id == camera), key=lambda s: s.valid_from
            )
            st = dataclasses.replace(
                first,
                status_id=new_id(),
                valid_from=first_night - DAY_MS,
                valid_to=None,
                inst_name=f"Site {camera}",
                regions=(((0, 0), (WIDTH - 1, 0), (WIDTH - 1, HEIGHT - 1), (0, HEIGHT - 1)),),
            )
            archive.store_status(st)
            statuses[camera] = st
        made = sampled = 0
        for n in range(nights):
            night_start = first_night + n * DAY_MS
            # Spread through the archive, the oldest night included.
            sample = n % SAMPLE_EVERY == 0
            count = min(per_night, events - len(latest.events) - made)
            times = sorted(night_start + rng.randrange(NIGHT_MS) for _ in range(count))
            with archive.db.write():  # a night per transaction
                for t in times:
                    camera = rng.choice(latest.cameras)
                    tpl = rng.choice(templates[camera])
                    event, content = _event(
                        rng, new_id, camera, statuses[camera].status_id, t, tpl, sample
                    )
                    if sample:
                        for record in event.files:
                            _put(archive, tpl, record, content[record.file_id])
                    archive.store_event(event)
            made += count
            sampled += count if sample else 0
            if n % 50 == 49:
                rate = made / (time.perf_counter() - started)
                print(f"  {made:,} events ({rate:.0f}/s)", flush=True)
            if n % REOPEN_EVERY == REOPEN_EVERY - 1:
                # Writing without a pause, the archive's background checkpoints never
                # catch up and the WAL grows without bound (5 GB at 150,000 events);
                # closing checkpoints it and truncates it.
                archive.close()
                archive = Archive(path)
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
    finally:
        archive.close()
    marker.write_text(
        f"{total} events, {files} files, {sampled + len(latest.events)} events with bytes\n"
    )
    print(
        f"built {total:,} events / {files:,} files ({sampled:,} older events with bytes)"
        f" in {time.perf_counter() - started:.0f} s"
    )
