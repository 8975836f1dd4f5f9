"""The floor for benchmarks/import.py: the same conversation, as little work as possible.

A minimal in-memory MeteorPi importer on waitress: Flask, Basic auth against
one fixed user, an LRU-free dict cache, MD5 of uploads computed while they
stream (through the same multipart parser as meteorgui's), nothing written
anywhere. Whatever meteorgui costs beyond this is the price of its archive,
its checks and its import log.

Run: python benchmarks/floor_importer.py PORT
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys

from flask import Flask, jsonify, request
from python_multipart.multipart import MultipartParser
from waitress import serve

USER, PASSWORD = "bench", "bench-password"


def create_app() -> Flask:
    app = Flask("floor")
    statuses: set[str] = set()
    have: set[str] = set()  # file ids with verified bytes
    done: set[str] = set()  # archived event/file ids
    cache: dict[tuple[str, str], dict] = {}

    def authorised() -> bool:
        auth = request.authorization
        return bool(auth and auth.username == USER
                    and hmac.compare_digest(auth.password or "", PASSWORD))

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
        parser = MultipartParser(request.mimetype_params["boundary"], callbacks={
            "on_header_value": lambda d, a, b: part.update(name=part["name"] + d[a:b]),
            "on_part_data": lambda d, a, b: h.update(d[a:b]),
        })
        while chunk := request.stream.read(1 << 20):
            parser.write(chunk)
        if b'name="file"' in part["name"] and h.hexdigest() == md5:
            have.add(file_id)
        return jsonify({"state": "continue"})

    @app.get("/health")
    def health():
        return jsonify({"ok": True})

    return app


if __name__ == "__main__":
    serve(create_app(), host="127.0.0.1", port=int(sys.argv[1]), threads=8,
          max_request_body_size=1 << 40, _quiet=True)
