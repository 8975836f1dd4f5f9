"""What one login, or a stranger, can make the importer hold: memory, disk, connections."""

from __future__ import annotations

import json
import os

import psutil
import requests

from meteorgui.importer import protocol

from . import factories as fx
from .importer_process import running

MiB = 1 << 20


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
    r = requests.post(server.url, json=body, auth=auth, timeout=30)
    assert r.status_code == 413
    assert str(protocol.MAX_META_PER_MESSAGE) in r.json()["message"]
    assert r.json()["state"] == "failed"


def fx_auth():
    from .conftest import CAMERA_USER

    return CAMERA_USER
