"""Small, explicit wire entities with real bytes for tests."""

from __future__ import annotations

import hashlib
import io
import itertools
import sys
import time
import uuid
from dataclasses import dataclass, field

import requests

from meteorgui.model import CameraStatus, Event, FileRecord, Meta

T0 = 1_795_000_000_123  # a night in November 2026, with milliseconds
_counter = itertools.count()


def uid() -> str:
    return uuid.uuid4().hex


def status(camera="aabbccddeeff", valid_from=T0, **kw) -> CameraStatus:
    d = {
        "status_id": uid(),
        "camera_id": camera,
        "valid_from": valid_from,
        "lens": "Computar 4mm",
        "sensor": "Watec 902H",
        "inst_name": "Back garden",
        "inst_url": "https://example.org/cam",
        "software_version": 2,
        "location": {"lat": 52.2053, "long": 0.1218, "gps": True, "error": 12.5},
        "orientation": {"alt": 45.0, "az": 180.25, "rot": 0.5, "error": 1.0, "width": 60.0},
        "regions": [
            [{"x": 0, "y": 0}, {"x": 719, "y": 0}, {"x": 719, "y": 500}, {"x": 0, "y": 520}]
        ],
    }
    d.update(kw)
    return CameraStatus.from_dict(d)


def blob(n: int = 2000) -> bytes:
    seed = next(_counter).to_bytes(8, "big")
    out = bytearray()
    while len(out) < n:
        seed = hashlib.sha256(seed).digest()
        out += seed
    return bytes(out[:n])


def file_record(st: CameraStatus, data: bytes, t=T0 + 1000, **kw) -> FileRecord:
    d = {
        "file_id": uid(),
        "camera_id": st.camera_id,
        "status_id": st.status_id,
        "file_time": t,
        "file_size": len(data),
        "file_name": "still.png",
        "mime_type": "image/png",
        "semantic_type": "meteorpi:triggers/event/maxBrightness/lensCorr",
        "md5": hashlib.md5(data).hexdigest(),
        "meta": [{"type": "number", "key": "meteorpi:exposure", "value": 0.04}],
    }
    d.update(kw)
    return FileRecord.from_dict(d)


@dataclass
class Pack:
    """An entity with the bytes of its files and its status, as a camera holds them."""

    entity: Event | FileRecord
    status: CameraStatus
    blobs: dict[str, bytes] = field(default_factory=dict)


def event_pack(st: CameraStatus, n_files=3, size=2000, t=T0 + 5000) -> Pack:
    blobs = {}
    files = []
    for i in range(n_files):
        data = blob(size + i)
        rec = file_record(st, data, t=t + i)
        blobs[rec.file_id] = data
        files.append(rec)
    ev = Event(
        event_id=uid(),
        camera_id=st.camera_id,
        status_id=st.status_id,
        event_time=t,
        event_type="meteorpi:meteor",
        files=tuple(files),
        meta=(
            Meta("number", "meteorpi:duration", 0.62),
            Meta("date", "meteorpi:peak", t + 250),
            Meta("string", "meteorpi:note", "bright"),
        ),
    )
    return Pack(ev, st, blobs)


def file_pack(st: CameraStatus, size=3000, t=T0 + 9000) -> Pack:
    data = blob(size)
    rec = file_record(
        st, data, t=t, semantic_type="meteorpi:timelapse/frame/lensCorr", file_name="timelapse.png"
    )
    return Pack(rec, st, {rec.file_id: data})


def message(entity) -> dict:
    kind = "event" if isinstance(entity, Event) else "file"
    return {"type": kind, kind: entity.to_dict()}


class Node:
    """A MeteorPi node's exporter loop, as the 2015 code runs it.

    It ignores the answers to status and byte posts, as real nodes do. The
    step bound exists only so a broken importer fails the test instead of
    hanging it.
    """

    def __init__(
        self,
        url: str,
        user: str,
        password: str,
        corrupt: set[str] | None = None,
        camera_id_width: int = 0,
    ):
        self.url = url
        self.http = requests.Session()
        self.http.auth = (user, password)
        self.corrupt = corrupt or set()
        # A 2015 node reads cameraID from a Firebird CHAR(64) column: blank-padded to 64.
        self.camera_id_width = camera_id_width
        self.log: list[str] = []

    def close(self):
        self.http.close()

    def _pad(self, d: dict) -> dict:
        d = dict(d, camera_id=d["camera_id"].ljust(self.camera_id_width))
        if "files" in d:
            d["files"] = [self._pad(f) for f in d["files"]]
        return d

    def post(self, body: dict) -> dict:
        kind = body.get("type")
        if self.camera_id_width and kind in ("event", "file", "status"):
            body = dict(body, **{kind: self._pad(body[kind])})
        r = self.http.post(self.url, json=body, timeout=30)
        self.log.append(f"{r.status_code}")
        return r.json()

    def send(self, pack: Pack, max_steps: int = 60) -> dict:
        eid = pack.entity.event_id if isinstance(pack.entity, Event) else pack.entity.file_id
        answer = self.post(message(pack.entity))
        for _ in range(max_steps):
            state = answer.get("state")
            self.log.append(state)
            if state in ("complete", "failed") or state is None:
                return answer
            if state == "need_status":
                assert answer["status_id"] == pack.status.status_id
                self.post({"type": "status", "status": pack.status.to_dict()})
            elif state == "need_file_data":
                fid = answer["file_id"]
                data = pack.blobs[fid]
                if fid in self.corrupt:
                    data = b"X" + data[1:]
                md5 = hashlib.md5(pack.blobs[fid]).hexdigest()
                self.http.post(
                    f"{self.url}/data/{fid}/{md5}",
                    files={"file": ("file", data, "application/octet-stream")},
                    timeout=30,
                )
            elif state == "continue-nocache":
                answer = self.post(message(pack.entity))
                continue
            answer = self.post({"type": "cached_entity", "cached_entity_id": eid})
        raise AssertionError(f"conversation did not end: {self.log[-20:]}")


def wait_for(predicate, timeout: float = 10.0, what: object = "timed out") -> None:
    """Wait until predicate() holds (checked every 10 ms); fail after timeout seconds.

    ``what`` is shown on failure (a callable is called for a fresh description).
    """
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, what() if callable(what) else what
        time.sleep(0.01)


def run_cli(capsys, monkeypatch, *argv, stdin: str | None = None) -> tuple[int, str, str]:
    """Run `meteorgui ARGV` in this process: (exit code, stdout, stderr)."""
    from meteorgui import cli

    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
