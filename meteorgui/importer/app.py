"""The Flask app that speaks the MeteorPi import protocol over HTTP."""

from __future__ import annotations

import functools
import json
import logging

from flask import Flask, Request, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from ..model import ModelError, loads
from .protocol import Answer, Ask, Importer, refuse

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 16 << 20  # an event with its file records and meta is a few KiB
MULTIPART_OVERHEAD = 64 << 10  # boundary and part headers around an upload


class UploadRequest(Request):
    """Streams a multipart upload's file part straight into the archive's store.

    werkzeug parses the multipart body (no hand-rolled parsing); this only
    chooses where the file part's bytes go.
    """

    upload_writer = None

    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        writer = self.upload_writer
        if writer is None:
            raise _BadUpload("more than one file part in the upload")
        self.upload_writer = None
        return writer


class _BadUpload(Exception):
    pass


# The answers most of a conversation consists of, serialised once.
_CONSTANT = {
    ("continue",): b'{"state":"continue"}\n',
    ("complete",): b'{"state":"complete"}\n',
    ("continue-nocache",): b'{"state":"continue-nocache"}\n',
}


def _reply(answer: Answer):
    body = _CONSTANT.get(tuple(answer.body.values())) if len(answer.body) == 1 else None
    if body is None:
        body = json.dumps(answer.body, ensure_ascii=False, separators=(",", ":")) + "\n"
    response = Response(body, status=answer.status, mimetype="application/json")
    if answer.after is not None:
        # waitress closes the response after sending it: the work runs on this request's
        # thread while the camera reads its answer and sends the next request.
        response.call_on_close(answer.after)
    return response


def create_app(importer: Importer, url_path: str = "/import") -> Flask:
    app = Flask("meteorgui.importer")
    app.request_class = UploadRequest
    app.json.sort_keys = False

    def requires_import_role(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            try:
                auth = request.authorization
            except ValueError:  # a header that is not even valid Basic auth
                auth = None
            if auth is None or auth.type != "basic" or not auth.username:
                return _reply(refuse(403, "HTTP Basic authentication is required"))
            user = importer.archive.users.authenticate(auth.username, auth.password or "")
            if user is None:
                return _reply(refuse(403, "wrong user name or password"))
            if not user.has_role("import"):
                return _reply(refuse(403, f"user {user.name} does not have the import role"))
            g.user = user.name
            with importer.request():
                return view(*args, **kwargs)

        return wrapper

    @app.post(url_path)
    @requires_import_role
    def import_entities():
        request.max_content_length = MAX_MESSAGE_BYTES
        try:
            message = loads(request.get_data(cache=False))
        except ModelError as exc:
            return _reply(refuse(400, str(exc)))
        return _reply(importer.handle(g.user, request.remote_addr, message))

    @app.post(f"{url_path}/data/<file_id>/<md5>")
    @requires_import_role
    def import_file_data(file_id: str, md5: str):
        checked = importer.expect_bytes(g.user, file_id, md5)
        if not isinstance(checked, Ask):
            return _reply(checked)
        limit = checked.record.file_size + MULTIPART_OVERHEAD
        if request.content_length is not None and request.content_length > limit:
            return _reply(refuse(413, f"the upload is larger than file {checked.record.file_id}'s "
                                      f"{checked.record.file_size} bytes"))
        if request.mimetype != "multipart/form-data":
            return _reply(refuse(400, "the bytes must be sent as multipart/form-data"))
        request.max_content_length = limit

        def fill(writer) -> bool:
            request.upload_writer = writer
            try:
                files = request.files
            except _BadUpload:
                return False
            return "file" in files

        return _reply(importer.receive_bytes(g.user, request.remote_addr, checked, fill))

    @app.get(f"{url_path}/resend")
    @requires_import_role
    def resend_list():
        return jsonify(importer.resend_list(g.user))

    @app.get("/health")
    def health():
        return jsonify({"ok": True, "app": "meteorgui"})

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _reply(refuse(exc.code or 500, exc.description or exc.name))

    @app.errorhandler(Exception)
    def internal_error(exc: Exception):
        log.exception("internal error while importing")
        return _reply(Answer({"state": "failed", "message": "internal error in the importer; "
                                                           "see its log"}, 500))

    return app
