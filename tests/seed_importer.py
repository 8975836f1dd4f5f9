"""A test importer that follows the 2015 MeteorPi importer's logic (seed/importer_api.txt).

Why a re-creation and not the real thing: the seed needs Python 2-era
packages (meteorpi_model, flask.ext.jsonpify, backports) and a Firebird
database that cannot run here. What is reproduced, decision for decision:

* one request at a time (a lock), as the seed's single-threaded server;
* one LRU cache of 128 entities shared by every user, keyed by entity id: a
  full entity whose id is cached is answered from the cache (the seed's
  ``lru_cache`` on ``_get_entity``); a ``cached_entity`` miss empties the
  whole cache and answers ``continue-nocache`` (PROTOCOL.md; the seed means
  to, though its ``entity_cache.clear()`` is a latent AttributeError: with
  ``miss_fails=True`` a miss gives HTTP 500, as the deployed code does);
* event/file: archived → complete; status unknown → need_status; the first
  file without bytes on disk → need_file_data; else archive → complete;
* status: stored if new → continue;
* bytes: accepted for any file id (no check that they were asked for),
  saved unless a file is already there, then checked against the URL's MD5
  and deleted on mismatch; the answer is always continue; a part without a
  filename is ignored (``if file_data:`` on a werkzeug FileStorage);
* 403 with a JSON message for unknown users or users without the import role;
* a status without lens, sensor, location or orientation (or one of their fields) is
  an HTTP 500: the seed builds meteorpi_model's CameraStatus, which reads each of
  them with ``d[key]`` (a KeyError, as Flask answers it).
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from pathlib import Path

import flask
import yaml

from .wsgi_server import serving  # noqa: F401 - the export tests use it from here


class SeedImporter:
    def __init__(
        self,
        folder: Path,
        users: dict[str, tuple[str, tuple[str, ...]]],
        cache_size: int = 128,
        miss_fails: bool = False,
    ):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.users = users
        self.cache_size = cache_size
        self.miss_fails = miss_fails
        self.cache: OrderedDict[str, tuple[str, dict] | None] = OrderedDict()
        self.lock = threading.Lock()
        self.statuses: dict[str, dict] = {}
        self.events: dict[str, dict] = {}
        self.files: dict[str, dict] = {}  # file records archived (standalone or in events)
        self.requests: list[tuple[str, str]] = []  # (what, id) for every request
        self.uploads: list[tuple[str, int]] = []  # (file_id, bytes received)
        self.before_request = None  # test hook: called with (what, id) before each answer
        self.refused_statuses: list[dict] = []  # statuses answered with HTTP 500
        self.app = self._make_app()

    # ------------------------------------------------------------------ the seed's database

    def file_path(self, file_id: str) -> Path:
        return self.folder / file_id

    def bytes_of(self, file_id: str) -> bytes:
        return self.file_path(file_id).read_bytes()

    def offers(self) -> list[str]:
        """Ids of events/files offered in full (the 'type': event/file messages)."""
        return [ident for what, ident in self.requests if what in ("event", "file")]

    # ------------------------------------------------------------------ the cache

    def _get_entity(self, entity_id: str, request_dict: dict) -> tuple[str, dict] | None:
        if entity_id in self.cache:  # lru_cache hit, whatever this request carries
            self.cache.move_to_end(entity_id)
            return self.cache[entity_id]
        kind = request_dict["type"]
        if kind == "status" and not _complete_2015_status(request_dict[kind]):
            # Raised inside the cached function: lru_cache keeps no result of it.
            self.refused_statuses.append(request_dict[kind])
            flask.abort(500)
        value = (kind, request_dict[kind]) if kind in ("file", "status", "event") else None
        self.cache[entity_id] = value
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
        return value

    # ------------------------------------------------------------------ receivers

    def receive_event(self, event: dict) -> dict | None:
        if event["event_id"] not in self.events:
            if event["status_id"] not in self.statuses:
                return {"state": "need_status", "status_id": event["status_id"]}
            for record in event["files"]:
                if not self.file_path(record["file_id"]).is_file():
                    return {"state": "need_file_data", "file_id": record["file_id"]}
            self.events[event["event_id"]] = event
            for record in event["files"]:
                self.files[record["file_id"]] = record
        return None

    def receive_file_record(self, record: dict) -> dict | None:
        if record["file_id"] not in self.files:
            if record["status_id"] not in self.statuses:
                return {"state": "need_status", "status_id": record["status_id"]}
            if not self.file_path(record["file_id"]).is_file():
                return {"state": "need_file_data", "file_id": record["file_id"]}
            self.files[record["file_id"]] = record
        return None

    def receive_status(self, status: dict) -> None:
        self.statuses.setdefault(status["status_id"], status)

    def receive_file_data(self, file_id: str, upload, md5_hex: str) -> None:
        path = self.file_path(file_id)
        if not path.is_file():
            upload.save(path)
        h = hashlib.md5()
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        if md5_hex != h.hexdigest():
            path.unlink()

    # ------------------------------------------------------------------ HTTP

    def _authorized(self) -> bool:
        auth = flask.request.authorization
        if auth is None:
            return False
        known = self.users.get(auth.username)
        return known is not None and known[0] == auth.password and "import" in known[1]

    def _make_app(self) -> flask.Flask:
        app = flask.Flask("seed-importer")

        def denied():
            return flask.jsonify({"message": "Authentication failed"}), 403

        @app.post("/import")
        def import_entities():
            if not self._authorized():
                return denied()
            with self.lock:
                # The seed parses bodies with yaml.safe_load (JSON is nearly a YAML subset).
                d = yaml.safe_load(flask.request.get_data())
                kind = d["type"]
                if kind == "cached_entity":
                    entity_id = uuid.UUID(d["cached_entity_id"]).hex
                else:
                    entity_id = uuid.UUID(d[kind][kind + "_id"]).hex
                self.requests.append((kind, entity_id))
                if self.before_request is not None:
                    self.before_request(kind, entity_id)
                entity = self._get_entity(entity_id, d)
                if entity is None:
                    if self.miss_fails:  # the AttributeError, as Flask answers it
                        flask.abort(500)
                    self.cache.clear()
                    return flask.jsonify({"state": "continue-nocache"})
                etype, body = entity
                if etype == "file":
                    answer = self.receive_file_record(body) or {"state": "complete"}
                elif etype == "event":
                    answer = self.receive_event(body) or {"state": "complete"}
                else:
                    self.receive_status(body)
                    answer = {"state": "continue"}
                return flask.jsonify(answer)

        @app.post("/import/data/<file_id_hex>/<md5_hex>")
        def import_file_data(file_id_hex, md5_hex):
            if not self._authorized():
                return denied()
            with self.lock:
                file_id = uuid.UUID(hex=file_id_hex).hex
                self.requests.append(("file_data", file_id))
                upload = flask.request.files["file"]
                if upload:
                    size = upload.stream.seek(0, 2)
                    upload.stream.seek(0)
                    self.uploads.append((file_id, size))
                    self.receive_file_data(file_id, upload, md5_hex)
                return flask.jsonify({"state": "continue"})

        return app


def _complete_2015_status(d: dict) -> bool:
    """What meteorpi_model.CameraStatus.from_dict needs, key by key."""
    location, orientation = d.get("location"), d.get("orientation")
    return (
        all(k in d for k in ("lens", "sensor"))
        and isinstance(location, dict)
        and all(k in location for k in ("lat", "long", "gps", "error"))
        and isinstance(orientation, dict)
        and all(k in orientation for k in ("alt", "az", "rot", "error", "width"))
    )
