"""ImportClient against a scripted importer over real HTTP on 127.0.0.1.

The importer here is a test double on purpose: it behaves like the 2015
MeteorPi importer (seed/importer_api.txt: an LRU cache of entities, need_status,
need_file_data, MD5 checked after upload) unless a test scripts its answers,
so each test can make it misbehave in one precise way and record exactly
what the client sent.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import os
import socket
import threading
import tracemalloc
from collections import OrderedDict

import flask
import psutil
import pytest

from meteorgui.exporter import ImportClient, ImportClientError
from meteorgui.model import CameraStatus, Event, FileRecord
from meteorgui.simulate import make_night

from .wsgi_server import serving

USER, PASSWORD = "camera", "night-sky-42"


class ScriptedImporter:
    """Seed-like importer; ``script(message)`` may return an answer (a dict or
    a flask Response) to override the seed's decision for that message."""

    def __init__(self) -> None:
        self.log: list[dict] = []
        self.statuses: set[str] = set()
        self.stored: dict[str, str] = {}  # file_id -> md5 of bytes kept
        self.archived: set[str] = set()
        self.cache: OrderedDict[str, Event | FileRecord | CameraStatus] = OrderedDict()
        self.cache_size = 128
        self.script = None
        self.resend = None  # what GET /import/resend answers; None -> 404
        self.app = self._make_app()

    def _authorized(self) -> bool:
        a = flask.request.authorization
        return a is not None and (a.username, a.password) == (USER, PASSWORD)

    def _make_app(self) -> flask.Flask:
        app = flask.Flask(__name__)

        @app.post("/import")
        def conversation():
            if not self._authorized():
                return {"message": "user has no import role"}, 403
            message = flask.request.get_json()
            self.log.append(
                {
                    "path": "/import",
                    "json": message,
                    "content_type": flask.request.content_type,
                    "auth": flask.request.headers.get("Authorization"),
                }
            )
            answer = self.script(message) if self.script else None
            return answer if answer is not None else self.decide(message)

        @app.post("/import/data/<file_id>/<md5_hex>")
        def data(file_id, md5_hex):
            if not self._authorized():
                return {"message": "user has no import role"}, 403
            upload = flask.request.files["file"]
            digest, size = hashlib.md5(), 0
            while chunk := upload.stream.read(1 << 16):
                digest.update(chunk)
                size += len(chunk)
            self.log.append(
                {
                    "path": f"/import/data/{file_id}/{md5_hex}",
                    "fields": list(flask.request.files),
                    "md5": digest.hexdigest(),
                    "size": size,
                    "filename": upload.filename,
                    "mimetype": upload.mimetype,
                    "content_type": flask.request.content_type,
                }
            )
            if digest.hexdigest() == md5_hex:
                self.stored[file_id] = md5_hex
            return {"state": "continue"}

        @app.get("/import/resend")
        def resend():
            return flask.abort(404) if self.resend is None else flask.jsonify(self.resend)

        return app

    def decide(self, message: dict) -> dict:
        kind = message["type"]
        if kind == "cached_entity":
            entity = self.cache.get(message["cached_entity_id"])
            if entity is None:
                self.cache.clear()
                return {"state": "continue-nocache"}
        else:
            cls = {"event": Event, "file": FileRecord, "status": CameraStatus}[kind]
            entity = cls.from_dict(message[kind])
            ident = message[kind][f"{kind}_id"]
            self.cache[ident] = entity
            while len(self.cache) > self.cache_size:
                self.cache.popitem(last=False)
        if isinstance(entity, CameraStatus):
            self.statuses.add(entity.status_id)
            return {"state": "continue"}
        ident = entity.event_id if isinstance(entity, Event) else entity.file_id
        if ident in self.archived:
            return {"state": "complete"}
        if entity.status_id not in self.statuses:
            return {"state": "need_status", "status_id": entity.status_id}
        for record in entity.files if isinstance(entity, Event) else (entity,):
            if record.file_id not in self.stored:
                return {"state": "need_file_data", "file_id": record.file_id}
        self.archived.add(ident)
        return {"state": "complete"}

    def posted(self) -> list[dict]:
        return [entry for entry in self.log if entry["path"] == "/import"]


@pytest.fixture
def importer():
    imp = ScriptedImporter()
    with serving(imp.app) as base:
        imp.url = f"{base}/import"
        yield imp


@pytest.fixture
def client(importer):
    with ImportClient(importer.url, USER, PASSWORD, timeout=(5, 10)) as c:
        yield c


@pytest.fixture(scope="module")
def night():
    return make_night(7, events=2, timelapse=2)


def send(client, night, entity, **kw):
    return client.send(entity, status_for=night.status, open_file=night.open_file, **kw)


# --------------------------------------------------------------------------- the conversation


def test_event_conversation_sends_status_then_each_file_then_completes(importer, client, night):
    event = night.events[0]
    progress = []

    result = send(client, night, event, on_progress=lambda stage, info: progress.append(stage))

    assert (result.state, result.message, result.http_status) == ("complete", "", 200)
    assert result.uploads == len(event.files) == 4
    assert result.bytes_sent == sum(f.file_size for f in event.files)
    assert result.steps == 2 + len(event.files)  # full, cached after status, cached per file
    posted = [entry["json"] for entry in importer.posted()]
    assert posted[0] == {"type": "event", "event": event.to_dict()}
    assert posted[1] == {"type": "status", "status": night.status(event.status_id).to_dict()}
    cached = {"type": "cached_entity", "cached_entity_id": event.event_id}
    assert posted[2:] == [cached] * (1 + len(event.files))
    uploads = [entry for entry in importer.log if entry["path"] != "/import"]
    assert [u["path"] for u in uploads] == [
        f"/import/data/{f.file_id}/{f.md5}" for f in event.files
    ]
    for upload, record in zip(uploads, event.files, strict=True):
        assert upload["fields"] == ["file"]
        assert upload["md5"] == record.md5 and upload["size"] == record.file_size
        assert upload["mimetype"] == record.mime_type
        assert upload["content_type"].startswith("multipart/form-data; boundary=")
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert all(e["auth"] == f"Basic {token}" for e in importer.posted())
    assert all(e["content_type"] == "application/json" for e in importer.posted())
    assert importer.archived == {event.event_id}
    assert {"post", "answer", "upload"} <= set(progress)

    again = send(client, night, event)
    assert (again.state, again.steps, again.uploads) == ("complete", 1, 0)


def test_timelapse_file_uploads_its_bytes(importer, client, night):
    record = night.files[0]
    importer.statuses.add(record.status_id)

    result = send(client, night, record)

    assert (result.state, result.steps, result.uploads) == ("complete", 2, 1)
    assert importer.posted()[0]["json"] == {"type": "file", "file": record.to_dict()}
    assert importer.stored == {record.file_id: record.md5}


def test_cache_miss_makes_the_client_resend_the_full_entity(importer, client, night):
    importer.cache_size = 0  # every cached form misses, as after an importer restart
    event = night.events[1]

    result = send(client, night, event)

    assert result.state == "complete"
    posted = [entry["json"]["type"] for entry in importer.posted()]
    # each cached form is answered continue-nocache and followed by the full event
    assert posted[:4] == ["event", "status", "cached_entity", "event"]
    for i, kind in enumerate(posted):
        if kind == "cached_entity":
            assert posted[i + 1] == "event"
    assert importer.archived == {event.event_id}


def test_continue_is_answered_with_the_cached_form(importer, client, night):
    answers = iter([{"state": "continue"}, {"state": "continue"}, {"state": "complete"}])
    importer.script = lambda message: next(answers)

    result = send(client, night, night.files[1])

    assert (result.state, result.steps) == ("complete", 3)
    assert [e["json"]["type"] for e in importer.posted()] == ["file"] + ["cached_entity"] * 2


# --------------------------------------------------------------------------- bounds


def test_an_endless_conversation_is_cut_at_max_steps(importer, night):
    importer.script = lambda message: {"state": "continue"}
    with ImportClient(importer.url, USER, PASSWORD, max_steps=5) as client:
        result = send(client, night, night.events[0])

    assert (result.state, result.steps) == ("failed", 5)
    assert "5 steps" in result.message
    assert len(importer.posted()) == 5


def test_an_importer_that_keeps_rejecting_bytes_is_given_up_on(importer, client, night):
    record = night.files[0]
    importer.script = lambda m: (
        None if m["type"] == "status" else {"state": "need_file_data", "file_id": record.file_id}
    )

    result = send(client, night, record)

    assert result.state == "failed"
    assert result.uploads == client.max_repeats == 3
    assert f"the bytes of file {record.file_id} 4 times" in result.message


def test_local_bytes_that_do_not_match_the_md5_fail_after_one_upload(importer, client, night):
    record = dataclasses.replace(night.files[1], md5="0" * 32)
    importer.statuses.add(record.status_id)

    result = send(client, night, record)

    assert (result.state, result.uploads) == ("failed", 1)
    assert "do not match its record's MD5" in result.message
    assert importer.stored == {}


def test_a_file_whose_size_differs_from_its_record_is_not_sent(importer, client, night):
    record = dataclasses.replace(night.files[1], file_size=night.files[1].file_size + 1)
    importer.statuses.add(record.status_id)

    result = send(client, night, record)

    assert (result.state, result.uploads) == ("failed", 0)
    assert "record says" in result.message


def test_unknown_status_and_foreign_file_requests_fail_clearly(importer, client, night):
    event = night.events[0]
    result = client.send(event, status_for={}.__getitem__, open_file=night.open_file)
    assert result.state == "failed" and "which we do not have" in result.message

    importer.script = lambda m: {"state": "need_file_data", "file_id": "ab" * 16}
    result = send(client, night, event)
    assert result.state == "failed" and "not part of event" in result.message


def test_a_source_that_ends_early_fails_the_upload(importer, client, night):
    record = night.files[0]
    importer.statuses.add(record.status_id)
    half = night.file_bytes(record.file_id)[: record.file_size // 2]

    class Pipe(io.RawIOBase):  # not seekable, no fileno: its size cannot be told up front
        def __init__(self):
            self.data = io.BytesIO(half)

        def readable(self):
            return True

        def readinto(self, buffer):
            return self.data.readinto(buffer)

    result = client.send(
        record, status_for=night.status, open_file=lambda r: io.BufferedReader(Pipe())
    )

    assert result.state == "failed"
    assert f"it ended after {len(half)} of {record.file_size} bytes" in result.message
    assert importer.stored == {}


def test_cancelling_drops_an_upload_half_way_and_the_client_stays_usable(night):
    data = os.urandom(6 << 20)
    record = dataclasses.replace(
        night.files[0], file_size=len(data), md5=hashlib.md5(data).hexdigest()
    )
    importer = ScriptedImporter()
    importer.statuses.add(record.status_id)
    stop = threading.Event()

    def progress(stage, info):
        if stage == "upload" and info["sent"] > 0:
            stop.set()

    def send_data(client, **kw):
        return client.send(
            record, status_for=night.status, open_file=lambda r: io.BytesIO(data), **kw
        )

    # waitress leaves the spill file of a body cut short open for the garbage
    # collector (a ResourceWarning); keep this body in memory instead.
    with (
        serving(importer.app, inbuf_overflow=64 << 20) as base,
        ImportClient(f"{base}/import", USER, PASSWORD) as client,
    ):
        result = send_data(client, on_progress=progress, cancelled=stop.is_set)

        assert result.state == "cancelled"
        assert 0 < result.bytes_sent < len(data)
        assert importer.stored == {}
        assert send_data(client).state == "complete"
        assert importer.stored == {record.file_id: record.md5}


# --------------------------------------------------------------------------- errors


def test_refused_credentials_say_so(importer, night):
    with ImportClient(importer.url, USER, "wrong") as client:
        result = send(client, night, night.events[0])

    assert (result.state, result.http_status) == ("failed", 403)
    assert "refused the credentials" in result.message and "'import' role" in result.message
    assert "user has no import role" in result.message


def test_connection_refused_is_a_failed_result():
    with socket.socket() as s:  # a port that was free a moment ago and has no listener
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    night = make_night(1, events=1, timelapse=0)
    with ImportClient(f"http://127.0.0.1:{port}/import", USER, PASSWORD) as client:
        result = send(client, night, night.events[0])

    assert (result.state, result.http_status, result.steps) == ("failed", None, 1)
    assert "cannot reach the importer" in result.message
    assert "connection refused" in result.message


def test_an_importer_that_does_not_answer_times_out(importer, night):
    release = threading.Event()
    importer.script = lambda message: release.wait(10) and None
    try:
        with ImportClient(importer.url, USER, PASSWORD, timeout=(5, 0.3)) as client:
            result = send(client, night, night.files[0])
    finally:
        release.set()
    assert result.state == "failed"
    assert "did not answer within 0.3 s" in result.message


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (flask.Response("<html>oops</html>", 200), "not JSON"),
        ({"state": "thinking"}, "unknown state 'thinking'"),
        ({"state": "failed", "message": "disk full"}, "disk full"),
        (flask.Response('{"message": "boom"}', 500, mimetype="application/json"), "HTTP 500"),
        (flask.Response("", 302, headers={"Location": "https://elsewhere/import"}), "redirected"),
        (flask.Response("[1, 2]", 200, mimetype="application/json"), "not a JSON object"),
    ],
)
def test_bad_answers_are_failed_results(importer, client, night, answer, expected):
    importer.script = lambda message: answer
    result = send(client, night, night.files[0])
    assert result.state == "failed"
    assert expected in result.message


def test_resend_list(importer, client):
    assert client.resend_list() == []  # importer without the extension: 404
    importer.resend = ["ab" * 16, "not-an-id", "12345678-1234-5678-1234-567812345678"]
    assert client.resend_list() == ["ab" * 16, "12345678123456781234567812345678"]
    importer.resend = {"ids": ["cd" * 16]}
    assert client.resend_list() == ["cd" * 16]
    importer.resend = {"nothing": 1}
    with pytest.raises(ImportClientError):
        client.resend_list()


def test_bad_url_is_refused_at_once():
    with pytest.raises(ValueError, match="not an http"):
        ImportClient("ftp://example.org/import", USER, PASSWORD)


# --------------------------------------------------------------------------- streaming


def test_a_large_upload_is_streamed_not_loaded(importer, client, night, tmp_path):
    size = 50 * 1024 * 1024
    path = tmp_path / "big.mp4"
    digest = hashlib.md5()
    block = os.urandom(1 << 20)
    with path.open("wb") as f:
        for i in range(size // len(block)):
            chunk = i.to_bytes(8, "big") + block[8:]
            digest.update(chunk)
            f.write(chunk)
    base = night.files[0]
    record = dataclasses.replace(
        base,
        file_id="f" * 32,
        file_size=size,
        md5=digest.hexdigest(),
        mime_type="video/mp4",
        file_name="big.mp4",
    )
    importer.statuses.add(record.status_id)
    process = psutil.Process()
    rss_before = process.memory_info().rss
    rss_peak = rss_before

    def sample(stage, info):
        nonlocal rss_peak
        if stage == "upload":
            rss_peak = max(rss_peak, process.memory_info().rss)

    tracemalloc.start()
    try:
        result = client.send(
            record, status_for=night.status, open_file=lambda r: path.open("rb"), on_progress=sample
        )
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.state == "complete", result.message
    assert result.bytes_sent == size
    assert importer.stored == {record.file_id: record.md5}
    # Python allocations (client and in-process server together) and resident
    # memory both stay far below the file's 50 MiB.
    assert traced_peak < 8 * 1024 * 1024
    assert rss_peak - rss_before < 20 * 1024 * 1024


def test_an_error_page_is_named_by_its_title_and_a_dropped_connection_in_words():
    import requests

    from meteorgui.exporter import client

    page = requests.Response()
    page.status_code = 500
    page._content = b"<!DOCTYPE html>\n<html><head><title>500 Internal\n Server Error</title>"
    assert client._server_message(page) == "500 Internal Server Error"
    page._content = b'{"state": "failed", "message": "disk full"}'
    assert client._server_message(page) == "disk full"
    dropped = requests.ConnectionError(
        "('Connection aborted.', RemoteDisconnected('Remote end closed connection without "
        "response'))"
    )
    assert client._reason(dropped) == "it closed the connection without answering"
