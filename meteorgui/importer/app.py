"""The Flask app that speaks the MeteorPi import protocol over HTTP."""

from __future__ import annotations

import ctypes
import functools
import json
import logging
import sys
from typing import Any

from flask import Flask, Request, Response, jsonify, request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from werkzeug.exceptions import BadRequest, HTTPException

from ..diskspace import disk_problem
from ..model import ModelError, loads
from . import gate as gating
from .gate import Gate
from .protocol import Answer, Ask, Importer, refuse

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 16 << 20  # an event with its file records and meta is a few KiB
MULTIPART_OVERHEAD = 64 << 10  # boundary and part headers around an upload


JSON = "application/json"
UPLOAD_CHUNK = 1 << 20
# After a message this large, freed memory is handed back to the system (see release_memory).
RELEASE_AFTER = 1 << 20


def _malloc_trim():
    try:
        libc = ctypes.CDLL(None)
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


_trim = _malloc_trim() if sys.platform.startswith("linux") else None


def release_memory() -> None:
    """Return freed heap pages to the system.

    Parsing a large message allocates many mid-sized strings from the worker thread's
    malloc arena; glibc keeps one arena per thread and returns little of it, so eight
    workers each parsing a few large messages held a few hundred MiB for good.
    """
    if _trim is not None:
        _trim(0)


class _Upload:
    """Streams the 'file' part of a multipart/form-data body into the archive's store.

    python-multipart parses the body (no hand-rolled parsing) as it arrives; this
    only chooses where the file part's bytes go. Other parts are read and dropped.
    """

    def __init__(self, writer):
        self.writer = writer
        self.found = False  # a part named 'file' was seen
        self.ended = False  # the closing boundary was seen
        self._sink = None  # where the current part's bytes go
        self._field = bytearray()
        self._value = bytearray()
        self._headers: dict[str, str] = {}

    def parse(self, stream, boundary: str) -> None:
        """Read the whole body. Raises BadRequest for a malformed one."""
        try:
            parser = MultipartParser(
                boundary,
                callbacks={
                    "on_part_begin": self._part_begin,
                    "on_header_field": lambda d, a, b: self._field.extend(d[a:b]),
                    "on_header_value": lambda d, a, b: self._value.extend(d[a:b]),
                    "on_header_end": self._header_end,
                    "on_headers_finished": self._headers_finished,
                    "on_part_data": self._part_data,
                    "on_end": self._end,
                },
            )
            while chunk := stream.read(UPLOAD_CHUNK):
                parser.write(chunk)
        except FormParserError as exc:  # a malformed body, or a boundary it cannot use
            raise BadRequest(f"the multipart body is malformed: {exc}") from None
        if not self.ended:
            raise BadRequest("the multipart body ended before its closing boundary")

    def _part_begin(self) -> None:
        self._headers.clear()
        self._sink = None

    def _header_end(self) -> None:
        self._headers[self._field.decode("latin-1").strip().lower()] = self._value.decode(
            "latin-1"
        ).strip()
        self._field.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        # python-multipart's own header parser: a third of werkzeug's time per upload.
        _, params = parse_options_header(self._headers.get("content-disposition", ""))
        if params.get(b"name") != b"file":
            return
        if self.found:
            raise BadRequest("more than one file part in the upload")
        self.found = True
        self._sink = self.writer.write

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._sink is not None:
            self._sink(memoryview(data)[start:end])

    def _end(self) -> None:
        self.ended = True


def _unread(mark: str) -> str:
    """Why the gate did not keep a verified login's body (a full spool or disk)."""
    kind, _, detail = mark.partition(":")
    if kind == gating.SPOOL_FULL:
        return (
            f"the importer is already receiving {detail} bytes of uploads, its limit; "
            "try again later"
        )
    return f"{detail}; try again later"


# The answers most of a conversation consists of, serialised once.
_CONSTANT = {
    ("continue",): b'{"state":"continue"}\n',
    ("complete",): b'{"state":"complete"}\n',
    ("continue-nocache",): b'{"state":"continue-nocache"}\n',
}


def _current() -> Request:
    """The request itself, behind Flask's proxy: one look-up, not one per attribute used."""
    return request._get_current_object()  # type: ignore[attr-defined]


def _reply(answer: Answer, headers: dict | None = None):
    body: bytes | str | None
    body = _CONSTANT.get(tuple(answer.body.values())) if len(answer.body) == 1 else None
    if body is None:
        body = json.dumps(answer.body, ensure_ascii=False, separators=(",", ":")) + "\n"
    # content_type, not mimetype: werkzeug would work the same header out for each answer.
    response = Response(body, status=answer.status, content_type=JSON, headers=headers)
    if answer.after is not None:
        # waitress closes the response after sending it: the work runs on this request's
        # thread while the camera reads its answer and sends the next request.
        response.call_on_close(answer.after)
    return response


def create_app(importer: Importer, url_path: str = "/import", gate: Gate | None = None) -> Flask:
    app = Flask("meteorgui.importer")
    app.json.sort_keys = False  # type: ignore[attr-defined]  # the default provider has it

    def requires_import_role(view):
        """The view is called with the login's ``user`` name and the gate's ``mark`` (why
        the body was not read, or None), and the address it came from as ``remote``."""

        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            req = _current()
            try:
                auth = req.authorization
            except ValueError:  # a header that is not even valid Basic auth
                auth = None
            if auth is None or auth.type != "basic" or not auth.username:
                return _reply(refuse(403, "HTTP Basic authentication is required"))
            remote = req.remote_addr
            user, status, message, retry = importer.logins.check(
                auth.username, auth.password or "", remote
            )
            if user is None:  # locked out for a while: say for how long, as HTTP does
                return _reply(
                    refuse(status, message), {"Retry-After": str(retry)} if retry else None
                )
            environ = req.environ
            if gate is not None:
                gate.verified(environ.get("HTTP_AUTHORIZATION"), user.name, user.stamp)
            mark = environ.get(gating.MARK_ENVIRON)
            if mark and mark.startswith(gating.UNVERIFIED):
                return _reply(
                    refuse(
                        503,
                        "the body was not read: this importer reads at most "
                        f"{gating.SMALL_BODY} bytes before it has checked a login; "
                        "the login is checked now, send the request again",
                    ),
                    {"Retry-After": "1"},
                )
            with importer.request():
                return view(*args, user=user.name, mark=mark, remote=remote, **kwargs)

        return wrapper

    # A camera given the import URL with a trailing slash ("…/import/") sends its offers
    # there and its bytes to "…/import//data/…": both are the import routes too, so the
    # typo never costs a node the failures after which it disables its export.
    @app.post(url_path)
    @app.post(f"{url_path}/")
    @requires_import_role
    def import_entities(user: str, mark: str | None, remote: str | None):
        if mark:
            return _reply(refuse(507, _unread(mark)))
        req = _current()
        req.max_content_length = MAX_MESSAGE_BYTES
        body: bytes | None = req.get_data(cache=False)
        size = len(body or b"")
        if not size:  # no Content-Length (an HTTP/1.0 client), or nothing sent
            return _reply(refuse(400, "the request has no body: send the message as a JSON object"))
        message: Any = None
        try:
            try:
                message = loads(body or b"")
            except ModelError as exc:
                importer.refused_json(user, body or b"", str(exc))
                return _reply(refuse(400, str(exc)))
            body = None
            return _reply(importer.handle(user, remote, message, size))
        finally:
            if size > RELEASE_AFTER:
                body = message = None
                release_memory()

    @app.post(f"{url_path}/data/<file_id>/<md5>")
    @app.post(f"{url_path}//data/<file_id>/<md5>", merge_slashes=False)
    @requires_import_role
    def import_file_data(file_id: str, md5: str, user: str, mark: str | None, remote: str | None):
        checked = importer.expect_bytes(user, file_id, md5)
        if not isinstance(checked, Ask):
            return _reply(checked)
        if mark:
            return _reply(importer.bytes_not_stored(user, remote, checked, _unread(mark)))
        req = _current()
        limit = checked.record.file_size + MULTIPART_OVERHEAD
        if req.content_length is not None and req.content_length > limit:
            return _reply(
                refuse(
                    413,
                    f"the upload is larger than file {checked.record.file_id}'s "
                    f"{checked.record.file_size} bytes",
                )
            )
        if req.mimetype != "multipart/form-data":
            return _reply(refuse(400, "the bytes must be sent as multipart/form-data"))
        req.max_content_length = limit

        boundary = req.mimetype_params.get("boundary")
        if not boundary:
            return _reply(refuse(400, "the multipart/form-data upload names no boundary"))

        def fill(writer) -> bool:
            upload = _Upload(writer)
            upload.parse(req.stream, boundary)
            return upload.found

        return _reply(importer.receive_bytes(user, remote, checked, fill))

    @app.get(f"{url_path}/resend")
    @requires_import_role
    def resend_list(user: str, mark: str | None, remote: str | None):
        return jsonify(importer.resend_list(user))

    @app.get("/health")
    def health():
        return jsonify({"ok": True, "app": "meteorgui"})

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 404:  # a mistyped URL in a camera's settings: say what it should be
            return _reply(
                refuse(
                    404,
                    f"nothing is at {_current().path[:100]!r} here; a camera sends to the "
                    f"import URL, which ends in {url_path} (for example "
                    f"http://<this computer>:<port>{url_path})",
                )
            )
        return _reply(refuse(exc.code or 500, exc.description or exc.name))

    @app.errorhandler(Exception)
    def internal_error(exc: Exception):
        problem = disk_problem(exc)
        if problem is not None:
            log.error("could not import: %s (%s)", problem, exc)
            return _reply(refuse(507, f"{problem}; try again later"))
        log.exception("internal error while importing")
        return _reply(
            Answer(
                {"state": "failed", "message": "internal error in the importer; see its log"}, 500
            )
        )

    return app
