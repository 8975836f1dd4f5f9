"""The simulated camera night: deterministic, self-consistent, real bytes, pushable."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import struct
import threading
import zlib

import flask
import pytest

from meteorgui.exporter import ImportClient
from meteorgui.model import CameraStatus, Event, FileRecord
from meteorgui.resources import resource_path
from meteorgui.simulate import demo_clips, make_night, push_night, run
from meteorgui.skyimage import PNG_SIGNATURE, png_bytes

from .wsgi_server import serving

EVENT_FILES = [
    ("video/mp4", "meteorpi:triggers/event/video"),
    ("image/png", "meteorpi:triggers/event/maxBrightness/lensCorr"),
    ("image/png", "meteorpi:triggers/event/bgrdSub"),
    ("application/json", "meteorpi:triggers/event/path"),
]


@pytest.fixture(scope="module")
def night():
    return make_night(11, events=12, timelapse=10)


def all_files(night):
    return [f for e in night.events for f in e.files] + list(night.files)


def decode_png(data: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, color type, raw scanlines) of an 8-bit PNG, checking CRCs."""
    assert data[:8] == PNG_SIGNATURE
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, color, _, _, _ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    channels = {0: 1, 2: 3}[color]
    assert len(raw) == height * (1 + width * channels)
    assert all(raw[y * (1 + width * channels)] == 0 for y in range(height))  # filter bytes
    return width, height, color, raw


def test_same_seed_same_night_other_seed_other_night(night):
    again = make_night(11, events=12, timelapse=10)
    other = make_night(12, events=12, timelapse=10)

    def dump(n):
        return [x.to_dict() for x in (*n.statuses, *n.entities())]

    assert dump(again) == dump(night)
    assert again.content == night.content
    assert dump(other) != dump(night)
    assert {f.file_id for f in all_files(other)}.isdisjoint(f.file_id for f in all_files(night))


def test_every_record_carries_the_size_and_md5_of_its_bytes(night):
    files = all_files(night)
    assert len(files) == 12 * 4 + 10
    assert len({f.file_id for f in files}) == len(files)
    for record in files:
        data = night.file_bytes(record.file_id)
        assert record.file_size == len(data) > 0
        assert record.md5 == hashlib.md5(data).hexdigest()
        assert night.open_file(record).read() == data
        assert record.file_name


def test_entities_survive_the_wire_format(night):
    for status in night.statuses:
        assert CameraStatus.from_dict(json.loads(json.dumps(status.to_dict()))) == status
    for entity in night.entities():
        cls = Event if isinstance(entity, Event) else FileRecord
        assert cls.from_dict(json.loads(json.dumps(entity.to_dict()))) == entity


def test_events_look_like_meteorpi_detections(night):
    stills = set()
    for event in night.events:
        assert event.event_type == "meteorpi:meteor"
        assert [(f.mime_type, f.semantic_type) for f in event.files] == EVENT_FILES
        meta = {m.key: m for m in event.meta}
        for key in ("meteorpi:duration", "meteorpi:peakAmplitude", "meteorpi:nFrames"):
            assert meta[key].type == "number" and meta[key].value > 0
        assert meta["meteorpi:cameraId"].type == "string"
        assert meta["meteorpi:cameraId"].value == event.camera_id
        path = json.loads(night.file_bytes(event.files[3].file_id))
        assert len(path["points"]) == meta["meteorpi:nFrames"].value
        video = night.file_bytes(event.files[0].file_id)
        assert video in demo_clips()
        stills.add(night.file_bytes(event.files[1].file_id))
        stills.add(night.file_bytes(event.files[2].file_id))
    assert len(stills) == 2 * len(night.events)  # a different streak in every event


def test_pngs_decode_as_grayscale_images(night):
    pngs = [f for f in all_files(night) if f.mime_type == "image/png"]
    assert len(pngs) == 12 * 2 + 10
    for record in pngs:
        width, height, color, raw = decode_png(night.file_bytes(record.file_id))
        assert (width, height, color) == (320, 240, 0)
        assert max(raw) > 100  # a star or a meteor, not an empty frame


def test_png_writer_writes_rgb_too():
    pixels = bytes(range(256)) * 12  # 64 x 16 pixels, 3 bytes each
    width, height, color, raw = decode_png(png_bytes(pixels, 64, 16, channels=3))
    assert (width, height, color) == (64, 16, 2)
    assert raw[1 : 1 + 64 * 3] == pixels[: 64 * 3]


def test_demo_clips_are_small_mp4_files():
    paths = sorted(resource_path("demo").glob("meteor_clip_*.mp4"))
    assert len(paths) >= 3
    for path in paths:
        data = path.read_bytes()
        assert data[4:8] == b"ftyp" and len(data) < 30_000
        assert b"avc1" in data  # H.264


def test_each_camera_changes_status_once_mid_night(night):
    assert len(night.cameras) == 2
    for camera in night.cameras:
        assert len(camera) == 12 and int(camera, 16) >= 0
        first, second = sorted(
            (s for s in night.statuses if s.camera_id == camera), key=lambda s: s.valid_from
        )
        assert first.valid_to == second.valid_from
        assert night.start_ms < second.valid_from < night.end_ms
        assert second.valid_to is None
        assert not first.same_content(second)
        for status in (first, second):
            assert status.location.lat and status.orientation.width
            assert status.lens and status.sensor and status.inst_name and status.inst_url
            assert status.regions and all(len(poly) >= 3 for poly in status.regions)


def test_entities_reference_the_status_valid_at_their_time(night):
    used = set()
    for entity in night.entities():
        t = entity.event_time if isinstance(entity, Event) else entity.file_time
        status = night.status(entity.status_id)
        assert status.camera_id == entity.camera_id
        assert status.valid_from <= t and (status.valid_to is None or t < status.valid_to)
        for record in getattr(entity, "files", ()):
            assert (record.status_id, record.camera_id) == (entity.status_id, entity.camera_id)
        used.add(status.status_id)
    assert used == {s.status_id for s in night.statuses}  # both halves of the night used


def test_entities_come_in_time_order_and_timelapse_every_30_s(night):
    times = [e.event_time if isinstance(e, Event) else e.file_time for e in night.entities()]
    assert times == sorted(times)
    for camera in night.cameras:
        frames = [f.file_time for f in night.files if f.camera_id == camera]
        assert {b - a for a, b in zip(frames, frames[1:], strict=False)} == {30_000}
    assert {f.semantic_type for f in night.files} == {"meteorpi:timelapse/frame/lensCorr"}


def test_a_big_night_builds():
    big = make_night(3, events=300, timelapse=20)
    assert len(big.events) == 300
    assert len({e.event_id for e in big.events}) == 300


# --------------------------------------------------------------------------- pushing


class MiniImporter:
    """A seed-like importer, just enough to take a whole night over HTTP."""

    def __init__(self, password="pw"):
        self.statuses, self.stored, self.done = set(), {}, set()
        self.app = flask.Flask(__name__)
        self.app.add_url_rule("/import", view_func=self.post, methods=["POST"])
        self.app.add_url_rule("/import/data/<fid>/<md5>", view_func=self.data, methods=["POST"])
        self.password = password

    def ok(self):
        a = flask.request.authorization
        return a is not None and a.password == self.password

    def post(self):
        if not self.ok():
            return {"message": "no import role"}, 403
        m = flask.request.get_json()
        if m["type"] == "status":
            self.statuses.add(m["status"]["status_id"])
            return {"state": "continue"}
        if m["type"] == "cached_entity":
            return {"state": "continue-nocache"}  # no cache at all: always resend in full
        body = m[m["type"]]
        ident = body.get("event_id") or body["file_id"]
        if ident in self.done:
            return {"state": "complete"}
        if body["status_id"] not in self.statuses:
            return {"state": "need_status", "status_id": body["status_id"]}
        for f in body.get("files", [body]):
            if f["file_id"] not in self.stored:
                return {"state": "need_file_data", "file_id": f["file_id"]}
        self.done.add(ident)
        return {"state": "complete"}

    def data(self, fid, md5):
        if not self.ok():
            return {"message": "no import role"}, 403
        data = flask.request.files["file"].read()
        if hashlib.md5(data).hexdigest() == md5:
            self.stored[fid] = data
        return {"state": "continue"}


def test_push_night_delivers_every_entity_and_byte(night):
    imp = MiniImporter()
    lines = []
    with serving(imp.app, "/import") as url, ImportClient(url, "cam", "pw") as client:
        summary = push_night(night, client, on_progress=lines.append)

    assert summary.ok and (summary.complete, summary.failed) == (22, 0)
    assert imp.done == {e.event_id for e in night.events} | {f.file_id for f in night.files}
    assert imp.stored == {f.file_id: night.file_bytes(f.file_id) for f in all_files(night)}
    assert summary.bytes_sent == sum(f.file_size for f in all_files(night))
    assert len(lines) == 22 and "[ 1/22]" in lines[0] and "complete" in lines[-1]


def test_push_night_stops_after_four_failures_in_a_row(night):
    imp = MiniImporter(password="other")
    lines = []
    with serving(imp.app, "/import") as url, ImportClient(url, "cam", "pw") as client:
        summary = push_night(night, client, on_progress=lines.append)

    assert (summary.complete, summary.failed, summary.skipped) == (0, 4, 18)
    assert "refused the credentials" in summary.failures[0][1]
    assert lines[-1] == "4 failures in a row: not sending the remaining 18"


def test_push_night_paces_to_the_rate_and_can_be_stopped(night):
    imp = MiniImporter()
    stop = threading.Event()
    lines = []

    def progress(line):
        lines.append(line)
        if len(lines) == 6:
            stop.set()

    with serving(imp.app, "/import") as url, ImportClient(url, "cam", "pw") as client:
        summary = push_night(night, client, rate=100, on_progress=progress, stop=stop)

    assert (summary.complete, summary.skipped) == (6, 16)
    assert summary.seconds >= 5 / 100  # six sends, the sixth not before 50 ms
    assert lines[-1] == "stopped: not sending the remaining 16"


def test_run_prints_progress_and_a_summary():
    imp = MiniImporter()
    out = io.StringIO()
    with serving(imp.app, "/import") as url:
        code = run(url, "cam", "pw", events=3, timelapse=2, seed=5, rate=None, out=out)
    lines = out.getvalue().splitlines()
    assert code == 0
    assert lines[0].startswith("Simulating 2 cameras (seed 5): 3 events")
    assert lines[-1].startswith("Done: 5 entities: 5 complete, 0 failed")
    assert len(imp.done) == 5


def test_run_fails_with_one_line_when_nobody_listens():
    with socket.socket() as s:  # a port that was free a moment ago and has no listener
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out, err = io.StringIO(), io.StringIO()
    code = run(
        f"http://127.0.0.1:{port}/import",
        "cam",
        "pw",
        events=1,
        timelapse=0,
        seed=1,
        rate=None,
        out=out,
        err=err,
    )
    assert code == 1 and out.getvalue() == ""  # checked before making the night
    assert err.getvalue().count("\n") == 1
    assert "cannot reach the importer" in err.getvalue()


def test_interleaved_order_mixes_events_early_and_keeps_each_stream_in_order():
    from meteorgui.model import Event
    from meteorgui.simulate import interleaved, make_night

    night = make_night(4, events=10, timelapse=40)
    order = interleaved(night)
    assert sorted(map(id, order)) == sorted(map(id, night.entities()))
    assert isinstance(order[0], Event)  # a newcomer sees an event first
    kinds = [isinstance(x, Event) for x in order]
    assert max(len(run) for run in "".join("e" if k else "." for k in kinds).split("e")) <= 5
    events = [x.event_time for x in order if isinstance(x, Event)]
    stills = [x.file_time for x in order if not isinstance(x, Event)]
    assert events == sorted(events) and stills == sorted(stills)
