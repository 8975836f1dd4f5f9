"""What one login, or a stranger, can make the importer hold: memory, disk, connections."""

from __future__ import annotations

import base64
import json
import os
import socket
import tempfile
import threading
import time

import psutil
import pytest
import requests

from meteorgui.importer import ImporterServer, protocol

from . import factories as fx
from .importer_process import running

MiB = 1 << 20


@pytest.fixture
def node(server, auth):
    n = fx.Node(server.url, *auth)
    yield n
    n.close()


def _big_event(st, n_meta: int, value_len: int) -> dict:
    """An event whose meta makes its JSON about n_meta * value_len bytes (never compressible
    to nothing: random hex)."""
    pack = fx.event_pack(st, n_files=1)
    body = fx.message(pack.entity)
    body["event"]["meta"] = [
        {"type": "string", "key": f"meteorpi:k{i}", "value": os.urandom(value_len // 2).hex()}
        for i in range(n_meta)
    ]
    return body


def test_importer_memory_stays_bounded_while_a_login_sends_large_unfinished_events(tmp_path):
    """24 events of 8 MB each, never their status: the seed design kept them all parsed."""
    with running(tmp_path / "data", *fx_auth()) as (proc, url), requests.Session() as http:
        http.auth = fx_auth()
        st = fx.status()
        server = psutil.Process(proc.pid)
        # A camera's first request is a small offer: it gets the login checked.
        probe = {"type": "cached_entity", "cached_entity_id": fx.uid()}
        assert http.post(url, json=probe, timeout=60).status_code == 200
        # Warm up: the first requests load code and make the worker threads.
        for _ in range(3):
            r = http.post(url, data=json.dumps(_big_event(st, 200, 4000)), timeout=60)
            assert r.json()["state"] == "need_status"
        start = peak = server.memory_info().rss
        for _ in range(24):
            body = json.dumps(_big_event(st, 2000, 4000))
            assert len(body) > 8_000_000
            r = http.post(url, data=body, timeout=60)
            assert r.status_code == 200 and r.json()["state"] == "need_status", r.text[:200]
            peak = max(peak, server.memory_info().rss)
        end = server.memory_info().rss
    grown = (peak - start) / MiB
    print(f"importer RSS start {start / MiB:.0f} MiB, peak {peak / MiB:.0f}, end {end / MiB:.0f}")
    # The cache holds at most 16 MiB for one login; parsing one message takes a few times
    # its size for a moment. 24 events kept parsed would be over 200 MiB.
    assert grown < 120, f"the importer grew by {grown:.0f} MiB"


def test_too_many_meta_items_in_one_message_are_refused_naming_the_limit(server, auth):
    st = fx.status()
    body = fx.message(fx.event_pack(st, n_files=3).entity)
    per_file = protocol.MAX_META_PER_MESSAGE // 3 + 1
    for f in body["event"]["files"]:
        f["meta"] = [{"type": "number", "key": "meteorpi:x", "value": i} for i in range(per_file)]
    probe = {"type": "cached_entity", "cached_entity_id": fx.uid()}
    assert requests.post(server.url, json=probe, auth=auth, timeout=30).status_code == 200
    r = requests.post(server.url, json=body, auth=auth, timeout=30)
    assert r.status_code == 413
    assert str(protocol.MAX_META_PER_MESSAGE) in r.json()["message"]
    assert r.json()["state"] == "failed"


def fx_auth():
    from .conftest import CAMERA_USER

    return CAMERA_USER


# ---------------------------------------------------------------------- strangers


def _verify_login(url, auth) -> None:
    """A camera's first request: a small offer, which gets its login checked."""
    probe = {"type": "cached_entity", "cached_entity_id": fx.uid()}
    assert requests.post(url, json=probe, auth=auth, timeout=30).status_code == 200


@pytest.fixture
def spool_watch(monkeypatch):
    """Where request bodies were spooled: the gate's folder or the system's temporary one."""
    from waitress import buffers

    from meteorgui.importer import gate

    seen = {"data": [], "system": []}
    spool_new = gate._SpoolFile.newfile
    system_new = buffers.TempfileBasedBuffer.newfile

    def data_file(self):
        seen["data"].append(self.gate.spool_dir)
        return spool_new(self)

    def system_file(self):
        seen["system"].append(tempfile.gettempdir())
        return system_new(self)

    monkeypatch.setattr(gate._SpoolFile, "newfile", data_file)
    monkeypatch.setattr(buffers.TempfileBasedBuffer, "newfile", system_file)
    return seen


def test_a_stranger_gets_403_before_sending_any_body_and_nothing_is_spooled(
    server, archive, auth, spool_watch
):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        bad = base64.b64encode(b"camera:guess").decode()
        sock.sendall(
            (
                f"POST /import/data/{fx.uid()}/{'0' * 32} HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Basic {bad}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                f"Content-Length: {100 << 20}\r\n\r\n"
            ).encode()
            + b"x" * (1 << 20)
        )
        reply = b""
        while chunk := sock.recv(4096):  # the importer closes once it has answered
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 403"), reply[:200]
    assert b"wrong user name or password" in reply
    assert spool_watch == {"data": [], "system": []}
    assert server.gate.spooled == 0


def test_a_cameras_upload_spools_in_the_data_folder_never_the_system_temp(
    server, archive, node, spool_watch
):
    pack = fx.event_pack(fx.status(), n_files=1, size=3 << 20)  # above waitress's 512 KiB
    assert node.send(pack) == {"state": "complete"}
    assert spool_watch["system"] == []
    assert spool_watch["data"] and all(
        os.path.commonpath([d, archive.data_dir]) == str(archive.data_dir)
        for d in spool_watch["data"]
    )
    assert server.gate.spooled == 0  # every reservation given back


def test_uploads_beyond_the_spool_quota_get_507_and_the_round_ends(archive, auth):
    s = ImporterServer(archive, "127.0.0.1", 0, spool_quota=1 << 20)
    s.start()
    node = fx.Node(s.url, *auth)
    try:
        pack = fx.event_pack(fx.status(), n_files=1, size=2 << 20)
        answer = node.send(pack)
        uploads = [
            node.http.post(
                f"{s.url}/data/{pack.entity.files[0].file_id}/{pack.entity.files[0].md5}",
                files={"file": ("f", b"x" * (2 << 20))},
            )
        ]
    finally:
        node.close()
        s.stop()
    assert answer["state"] == "failed"
    assert "limit" in answer["message"] and "3 times" in answer["message"]
    assert uploads[0].status_code in (409, 507)  # no longer asked for, or still refused
    assert not archive.has_event(pack.entity.event_id)


def _strangers(port: int, idle: int, slow: int, stop: threading.Event) -> list[socket.socket]:
    """``idle`` connections that send nothing and ``slow`` that send a header byte a second."""
    socks = []
    for _ in range(idle + slow):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        socks.append(sock)
    slow_socks = socks[idle:]

    def trickle():
        header = b"POST /import HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 10_000
        i = 0
        while not stop.wait(1.0):
            for sock in slow_socks:
                try:
                    sock.send(header[i : i + 1])
                except OSError:
                    pass  # closed by the importer, as it should
            i = (i + 1) % len(header)

    threading.Thread(target=trickle, daemon=True).start()
    return socks


@pytest.mark.parametrize("limit", [None, 60])
def test_a_camera_gets_through_while_200_idle_and_slow_strangers_are_connected(
    archive, auth, limit
):
    kw = {} if limit is None else {"connection_limit": limit}
    s = ImporterServer(archive, "127.0.0.1", 0, **kw)
    s.start()
    stop = threading.Event()
    socks = []
    try:
        socks = _strangers(s.port, 100, 100, stop)
        node = fx.Node(s.url, *auth)
        try:
            t0 = time.monotonic()
            for _ in range(3):
                assert node.send(fx.event_pack(fx.status(), n_files=2)) == {"state": "complete"}
            took = time.monotonic() - t0
        finally:
            node.close()
    finally:
        stop.set()
        for sock in socks:
            sock.close()
        s.stop()
    print(f"3 events with 200 strangers connected (limit {limit}): {took:.2f} s")
    assert took < 30  # each request would wait for a slot until its 30 s timeout


def test_a_connection_that_trickles_its_headers_is_closed_after_the_header_timeout(server):
    server.gate.header_timeout = 1.0
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        t0 = time.monotonic()
        closed = False
        while time.monotonic() - t0 < 12:
            try:
                sock.send(b"P")
                sock.settimeout(0.5)
                if sock.recv(100) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
    assert closed, "the importer kept a connection that never finished its headers"
    assert time.monotonic() - t0 < 6


def test_connections_on_descriptors_past_1024_are_served(archive, auth):
    """Many connections, with the archive's and uploads' files beside them, take
    descriptors past 1024, which select() cannot watch: waitress's loop must watch them
    (with poll()) and serve them."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1300:
        pytest.skip(f"this process may open {hard} files at most")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1300), hard))
    s = ImporterServer(archive, "127.0.0.1", 0)
    s.start()
    filler: list[int] = []
    node = fx.Node(s.url, *auth)
    try:
        assert node.send(fx.event_pack(fx.status(), n_files=1)) == {"state": "complete"}
        node.close()
        while not filler or filler[-1] < 1044:
            filler.append(os.open(os.devnull, os.O_RDONLY))
        node = fx.Node(s.url, *auth)  # its connection takes a descriptor past them
        assert node.send(fx.event_pack(fx.status(), n_files=2)) == {"state": "complete"}
        assert s.running
    finally:
        node.close()
        for fd in filler:
            os.close(fd)
        s.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
