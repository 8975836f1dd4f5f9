"""The two sequential MeteorPi-style clients the import benchmarks push with.

* ``push_meteorgui``: meteorgui's own ImportClient (a kept-alive session, MD5
  checked while it streams, every answer validated).
* ``push_2015``: a client that behaves like a 2015 MeteorPi node's exporter
  (docs/PROTOCOL.md, "The exporter side of a real node"): plain ``requests``
  with ``verify=False``, uploads streamed by requests-toolbelt's
  MultipartEncoder, the conversation and nothing else. A requests Session keeps
  the connection alive, as the node's exporter does through requests' pool.

Both return (seconds, bytes of file data sent) and raise on any failure, so a
benchmark never counts a round that did not archive everything.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable

import requests
from floor_importer import PASSWORD, USER
from requests_toolbelt.multipart.encoder import MultipartEncoder

from meteorgui.exporter.client import ImportClient

JSON = {"Content-Type": "application/json"}


def push_meteorgui(url: str, entities: Iterable, status_for, open_file) -> tuple[float, int]:
    started = time.perf_counter()
    sent = 0
    with ImportClient(url, USER, PASSWORD, timeout=(10, 600)) as client:
        for entity in entities:
            r = client.send(entity, status_for=status_for, open_file=open_file)
            if not r.ok:
                raise RuntimeError(f"{r.entity_id}: {r.message}")
            sent += r.bytes_sent
    return time.perf_counter() - started, sent


def push_2015(
    url: str, entities: Iterable, status_for: Callable, open_file: Callable
) -> tuple[float, int]:
    sent = 0
    started = time.perf_counter()
    with requests.Session() as http:
        http.auth = (USER, PASSWORD)
        http.verify = False  # as the 2015 exporter; only plain HTTP on 127.0.0.1 here
        for entity in entities:
            kind = "event" if hasattr(entity, "event_id") else "file"
            ident = getattr(entity, f"{kind}_id")
            full = json.dumps({"type": kind, kind: entity.to_dict()})
            cached = json.dumps({"type": "cached_entity", "cached_entity_id": ident})
            files = {f.file_id: f for f in (entity.files if kind == "event" else (entity,))}
            body = full
            for _ in range(100):
                response = http.post(url, data=body, timeout=600, headers=JSON)
                response.raise_for_status()
                answer = response.json()
                state = answer["state"]
                if state == "complete":
                    break
                if state == "need_status":
                    status = status_for(answer["status_id"])
                    message = json.dumps({"type": "status", "status": status.to_dict()})
                    http.post(url, data=message, headers=JSON, timeout=600).raise_for_status()
                elif state == "need_file_data":
                    record = files[answer["file_id"]]
                    with open_file(record) as fh:
                        enc = MultipartEncoder(
                            {"file": (record.file_name or record.file_id, fh, record.mime_type)}
                        )
                        http.post(
                            f"{url}/data/{record.file_id}/{record.md5}",
                            data=enc,
                            headers={"Content-Type": enc.content_type},
                            timeout=600,
                        ).raise_for_status()
                    sent += record.file_size
                elif state == "continue-nocache":
                    body = full
                    continue
                elif state != "continue":
                    raise RuntimeError(f"2015 client: {answer}")
                body = cached
            else:
                raise RuntimeError(f"2015 client: no 'complete' for {kind} {ident}")
    return time.perf_counter() - started, sent


CLIENTS = {"ImportClient": push_meteorgui, "2015-exporter": push_2015}
