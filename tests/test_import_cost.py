"""What one entity costs the importer: statements and hashes per request, counted.

Speed is measured in benchmarks/ (import.py, cameras.py, profile_import.py); these tests
pin the work per entity those figures depend on, so it cannot creep back unnoticed.
"""

from __future__ import annotations

import dataclasses
import gc
import io
import os
import subprocess
import sys

import pytest
import requests

from meteorgui.archive import Conflict
from meteorgui.importer import gate as gating
from meteorgui.model import Meta
from meteorgui.sky.compute import file_opener
from meteorgui.sky.paths import path_text, read_path

from .factories import T0, event_pack, status


def _statements(conn) -> list[str]:
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    return seen


def test_a_new_event_looks_up_the_status_its_files_share_once(archive):
    """Once per status for good: a status is never deleted and never changes, so the
    commit's re-check reads what the offer's check read, and the event's summary row takes
    the camera's installation name from that one read too."""
    st = status()
    archive.store_status(st)
    event = event_pack(st, n_files=4).entity
    reads = _statements(archive.db.read())
    writes = _statements(archive.db._write_conn)
    try:
        assert archive.offer_check(event) == (False, None)
        assert archive.store_event(event, "cam")
        assert archive.has_status(st.status_id)
    finally:
        archive.db.read().set_trace_callback(None)
        archive.db._write_conn.set_trace_callback(None)
    looks = [s for s in reads + writes if "FROM statuses" in s]
    assert len(looks) == 1, looks


def _reads_before_insert(seen: list[str]) -> list[str]:
    """The statements of a commit before its first INSERT, BEGIN left out."""
    first = next(i for i, s in enumerate(seen) if s.startswith("INSERT"))
    return [s for s in seen[:first] if s != "BEGIN IMMEDIATE"]


def test_an_offer_and_its_commit_each_read_its_ids_in_one_statement(archive):
    """has_event/has_file and conflict before the bytes, then the same checks again inside
    the commit: one look-up of the entity's own id and its files' ids each time (they were
    four statements each: the entity, its id among the files, its files' ids among the
    events, its files' ids among the files)."""
    st = status()
    archive.store_status(st)
    event = event_pack(st, n_files=4).entity
    lone = event_pack(st, n_files=1).entity.files[0]
    assert archive.has_status(st.status_id)
    for entity in (event, lone):
        reads = _statements(archive.db.read())
        writes = _statements(archive.db._write_conn)
        try:
            assert archive.offer_check(entity) == (False, None)
            stored = (
                archive.store_event(entity, "cam")
                if entity is event
                else archive.store_file(entity, "cam")
            )
            assert stored
        finally:
            archive.db.read().set_trace_callback(None)
            archive.db._write_conn.set_trace_callback(None)
        assert len(reads) == 1, reads
        assert len(_reads_before_insert(writes)) == 1, writes
        assert archive.offer_check(entity) == (True, None)


def test_the_commit_still_refuses_a_conflict_archived_after_the_offers_check(archive):
    """A standalone record of one of the event's files, with other bytes, archived by
    another camera's request between the offer's check and the commit."""
    st = status()
    archive.store_status(st)
    event = event_pack(st, n_files=3).entity
    assert archive.offer_check(event) == (False, None)
    other = dataclasses.replace(event.files[1], md5="0" * 32)
    assert archive.store_file(other, "cam")
    with pytest.raises(Conflict, match=f"file {other.file_id} is already archived as a standalone"):
        archive.store_event(event, "cam")
    assert not archive.has_event(event.event_id)
    assert archive.offer_check(event)[1] is not None
    # An event's id that an archived file record holds, a file's id that an archived
    # event holds: refused before the bytes and by the commit alike.
    clash = dataclasses.replace(event_pack(st, n_files=1).entity, event_id=other.file_id)
    why = f"event {other.file_id}: an archived file record has that id"
    assert archive.offer_check(clash) == (False, why)
    with pytest.raises(Conflict, match=why):
        archive.store_event(clash, "cam")
    kept = event_pack(st, n_files=1).entity
    assert archive.store_event(kept, "cam")
    named = dataclasses.replace(event.files[0], file_id=kept.event_id)
    why = f"file {kept.event_id}: an archived event has that id"
    assert archive.offer_check(named) == (False, why)
    with pytest.raises(Conflict, match=why):
        archive.store_file(named, "cam")


def test_a_file_naming_another_cameras_status_is_still_refused(archive):
    mine, theirs = status(camera="aabbccddeeff"), status(camera="112233445566")
    archive.store_status(mine)
    archive.store_status(theirs)
    event = event_pack(mine, n_files=3).entity
    stray = dataclasses.replace(event.files[2], status_id=theirs.status_id)
    event = dataclasses.replace(event, files=(*event.files[:2], stray))
    archived, problem = archive.offer_check(event)
    assert not archived
    assert problem is not None and f"which is camera {theirs.camera_id}'s" in problem
    with pytest.raises(Conflict, match=f"file {stray.file_id} of camera"):
        archive.store_event(event, "cam")
    assert not archive.has_event(event.event_id)


def test_a_verified_login_is_hashed_once_per_request(archive, monkeypatch):
    calls: list[str] = []
    real = gating._fingerprint
    monkeypatch.setattr(gating, "_fingerprint", lambda a: calls.append(a) or real(a))
    gate = gating.Gate(archive.store.tmp_dir)
    gate.verified("Basic Y2FtOnB3")
    assert calls == ["Basic Y2FtOnB3"]
    assert gate.is_verified("Basic Y2FtOnB3")
    assert not gate.is_verified("Basic b3RoZXI6cHc=")


def test_the_sky_science_starts_no_thread_pool_of_its_own(tmp_path):
    """After the sky worker's first round (numpy loaded), the process runs no native
    thread beside its Python threads: BLAS gets one thread, not one per extra core."""
    script = (
        "import os, sys, threading\n"
        "from meteorgui.core import Core\n"
        f"core = Core({str(tmp_path / 'data')!r})\n"
        "assert core.sky.wait_idle(60)\n"
        "assert 'numpy' in sys.modules\n"
        "print(len(os.listdir('/proc/self/task')) - threading.active_count())\n"
        "core.close()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0"]


def test_a_small_body_is_read_without_looking_up_its_login_in_the_loop(
    archive, server, auth, monkeypatch
):
    """The gate needs a verified login only for bodies over SMALL_BODY: an offer or a small
    upload costs no fingerprint and no user row in waitress's loop (the app checks every
    login), while a large body still does."""
    looked: list[str] = []
    real = server.gate.is_verified
    monkeypatch.setattr(server.gate, "is_verified", lambda a: looked.append(a) or real(a))
    with requests.Session() as http:
        http.auth = auth
        for _ in range(3):
            r = http.post(server.url, json={"type": "cached_entity", "cached_entity_id": "0" * 32})
            assert r.json() == {"state": "continue-nocache"}
        assert looked == []
        big = b"x" * (gating.SMALL_BODY + 1)
        r = http.post(server.url, data=big, headers={"Content-Type": "application/json"})
        assert r.status_code == 400  # read (the login is verified) and refused as bad JSON
        assert len(looked) == 1


def _python_calls(fn) -> int:
    """Python-level calls (and generator resumptions) while fn runs, without the garbage
    collector (whose finalizers of earlier tests' objects would count too)."""
    calls = 0

    def profile(frame, event, arg):
        nonlocal calls
        if event == "call":
            calls += 1

    gc.collect()
    gc.disable()
    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
        gc.enable()
    return calls


def test_reading_a_path_makes_no_python_call_per_point():
    """The sky worker reads each new event's path (hundreds of points): the points are
    checked and put in columns without a Python call for each one."""
    st = status()
    event = event_pack(st, n_files=1).entity

    def with_path(n: int):
        text = path_text([[10.0 + i, 20.0 + i, 100.0, T0 / 1000 + 5 + i / 25] for i in range(n)])
        return dataclasses.replace(event, meta=(Meta("string", "meteorpi:path", text),))

    short, long = with_path(20), with_path(400)
    path = read_path(long, lambda record: None)
    assert len(path) == 400 and path.x[:2] == (10.0, 11.0) and path.t == tuple(sorted(path.t))
    # 400 points against 20: the same calls (a call per point made it 2,000 more)
    assert _python_calls(lambda: read_path(long, lambda r: None)) <= 5 + _python_calls(
        lambda: read_path(short, lambda r: None)
    )


def test_the_sky_worker_opens_a_stored_file_by_its_name_only(archive, monkeypatch):
    """No presence check before the open (a lock and a stat call less per file read), and
    a file whose bytes are not there still reads as absent."""
    st = status()
    pack = event_pack(st, n_files=2)
    stored, missing = pack.entity.files
    data = pack.blobs[stored.file_id]
    assert archive.store.put(stored.file_id, stored.md5, io.BytesIO(data))
    assert not archive.store.settle([(stored.file_id, stored.md5)])
    looked: list[str] = []
    real = archive.store.has
    monkeypatch.setattr(archive.store, "has", lambda *a: looked.append(a[0]) or real(*a))
    open_file = file_opener(archive)
    with open_file(stored) as fh:
        assert fh.read() == data
    assert open_file(missing) is None
    assert looked == []


def test_an_events_commit_makes_one_call_per_table(archive, monkeypatch):
    """BEGIN, the look-up of its ids, the event, its files (one executemany), all the meta
    (one executemany), the summary row, COMMIT: seven calls into SQLite for an event of
    four files whatever its meta, where each file and each file's meta were one more."""
    st = status()
    archive.store_status(st)
    assert archive.has_status(st.status_id)
    event = event_pack(st, n_files=4).entity
    conn = archive.db._write_conn
    calls: list[str] = []
    for name in ("execute", "executemany"):
        real = getattr(conn, name)
        monkeypatch.setattr(
            conn, name, lambda sql, *a, _real=real: calls.append(sql.split()[0]) or _real(sql, *a)
        )
    assert archive.store_event(event, "cam")
    assert calls == ["BEGIN", "SELECT", "INSERT", "INSERT", "INSERT", "INSERT", "COMMIT"], calls
