"""The floor for benchmarks/import.py: the same conversation, as little work as possible.

A minimal in-memory MeteorPi importer on waitress: Flask, Basic auth against
one fixed user, an LRU-free dict cache, MD5 of uploads computed while they
stream (through the same multipart parser as meteorgui's), nothing written
anywhere. Whatever meteorgui costs beyond this is the price of its archive,
its checks and its import log.

With --durable DIR it also does the disk work the import issue requires and
nothing more, the way meteorgui schedules it: each upload goes to a temporary
file that is fsynced, renamed into place and its folder fsynced once the answer
has gone out; an entity's files are waited for, then one row per entity is
committed to SQLite (WAL, synchronous=FULL) before the answer `complete`. It
shows how much of meteorgui's time is that durability and how much is the rest.

Run: python benchmarks/floor_importer.py PORT [--durable DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading

from flask import Flask, jsonify, request
from python_multipart.multipart import MultipartParser
from waitress import serve

USER, PASSWORD = "bench", "bench-password"


class Disk:
    """The durable floor's disk work: files kept whole, entities committed."""

    def __init__(self, root: str):
        self.root = root
        os.makedirs(os.path.join(root, "tmp"), exist_ok=True)
        for i in range(256):
            os.makedirs(os.path.join(root, f"{i:02x}"), exist_ok=True)
        self.db = sqlite3.connect(
            os.path.join(root, "floor.sqlite3"), isolation_level=None, check_same_thread=False
        )
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS entities (id TEXT PRIMARY KEY, body TEXT)")
        self.lock = threading.Lock()
        self.settling: dict[str, threading.Event] = {}

    def open(self, file_id: str):
        return open(os.path.join(self.root, "tmp", f"{file_id}.{secrets.token_hex(8)}"), "w+b")

    def keep(self, fh, file_id: str, md5: str):
        """The work to run once the answer is out: make the file durable in place."""
        done = self.settling[file_id] = threading.Event()

        def durable():
            os.fsync(fh.fileno())
            fh.close()
            folder = os.path.join(self.root, file_id[:2])
            os.replace(fh.name, os.path.join(folder, f"{file_id}.{md5}"))
            fd = os.open(folder, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
            done.set()

        return durable

    def commit(self, ident: str, body: dict, file_ids) -> None:
        for file_id in file_ids:
            if (done := self.settling.pop(file_id, None)) is not None:
                done.wait()
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("INSERT INTO entities VALUES (?, ?)", (ident, json.dumps(body)))
            self.db.execute("COMMIT")


def create_app(disk: Disk | None = None) -> Flask:
    app = Flask("floor")
    statuses: set[str] = set()
    have: set[str] = set()  # file ids with verified bytes
    done: set[str] = set()  # archived event/file ids
    cache: dict[tuple[str, str], dict] = {}

    def authorised() -> bool:
        auth = request.authorization
        return bool(
            auth and auth.username == USER and hmac.compare_digest(auth.password or "", PASSWORD)
        )

    @app.post("/import")
    def import_():
        if not authorised():
            return jsonify({"state": "failed", "message": "denied"}), 403
        msg = json.loads(request.get_data())
        kind = msg["type"]
        if kind == "cached_entity":
            key = (USER, msg["cached_entity_id"])
            if key not in cache:
                return jsonify({"state": "continue-nocache"})
            kind, body = cache[key]["kind"], cache[key]["body"]
        else:
            body = msg[kind]
            cache[(USER, body[f"{kind}_id"])] = {"kind": kind, "body": body}
        if kind == "status":
            statuses.add(body["status_id"])
            return jsonify({"state": "continue"})
        ident = body[f"{kind}_id"]
        if ident in done:
            return jsonify({"state": "complete"})
        if body["status_id"] not in statuses:
            return jsonify({"state": "need_status", "status_id": body["status_id"]})
        files = body["files"] if kind == "event" else [body]
        for f in files:
            if f["file_id"] not in have:
                return jsonify({"state": "need_file_data", "file_id": f["file_id"]})
        if disk is not None:
            disk.commit(ident, body, [f["file_id"] for f in files])
        done.add(ident)
        return jsonify({"state": "complete"})

    @app.post("/import/data/<file_id>/<md5>")
    def data(file_id, md5):
        if not authorised():
            return jsonify({"state": "failed", "message": "denied"}), 403
        # The same streaming multipart parser as meteorgui's importer; only the part
        # named 'file' is hashed (one part per upload here, as cameras send).
        h = hashlib.md5(usedforsecurity=False)
        part = {"name": b""}
        fh = disk.open(file_id) if disk is not None else None

        def part_data(d, a, b):
            h.update(d[a:b])
            if fh is not None:
                fh.write(d[a:b])

        parser = MultipartParser(
            request.mimetype_params["boundary"],
            callbacks={
                "on_header_value": lambda d, a, b: part.update(name=part["name"] + d[a:b]),
                "on_part_data": part_data,
            },
        )
        while chunk := request.stream.read(1 << 20):
            parser.write(chunk)
        answer = jsonify({"state": "continue"})
        if b'name="file"' in part["name"] and h.hexdigest() == md5:
            have.add(file_id)
            if fh is not None:
                fh.flush()
                answer.call_on_close(disk.keep(fh, file_id, md5))
        elif fh is not None:
            fh.close()
            os.unlink(fh.name)
        return answer

    @app.get("/health")
    def health():
        return jsonify({"ok": True})

    return app


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("port", type=int)
    ap.add_argument("--durable", metavar="DIR", help="also keep files and entities on disk here")
    args = ap.parse_args()
    serve(
        create_app(Disk(args.durable) if args.durable else None),
        host="127.0.0.1",
        port=args.port,
        threads=8,
        max_request_body_size=1 << 40,
        _quiet=True,
    )
