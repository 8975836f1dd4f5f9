"""The exporter side of the MeteorPi import conversation.

``ImportClient.send`` pushes one Event or time-lapse FileRecord to an importer
exactly as a real MeteorPi node does (see docs/PROTOCOL.md): POST the full entity,
then follow the importer's answers (``need_status``, ``need_file_data``,
``continue``, ``continue-nocache``) until it says ``complete`` or something
goes wrong. Whatever goes wrong (a ``failed`` answer, an unknown state, an
HTTP error, a refused connection, a timeout, an answer that is not JSON, a
conversation that never ends) comes back as a ``SendResult`` whose ``state``
is ``"failed"`` and whose ``message`` says what happened in words a user can
act on. ``send`` does not raise for network or protocol trouble.

Where this client is stricter than a 2015 node (and why):

* TLS certificates are verified by default (the old exporter sent
  ``verify=False``).
* Conversations are bounded: at most ``max_steps`` entity POSTs, and at most
  ``max_repeats`` uploads of one file or posts of one status. An importer that
  keeps asking for bytes it then rejects would otherwise loop us forever.
* File bytes are hashed while they stream out. If they do not match the
  record's MD5 or size, the send fails with a message saying so: the importer
  would discard them and ask again, forever.
* An HTTP error answer to a status post or an upload fails the send at once.
  The old exporter ignored those answers and only learned of the problem from
  the importer's next request for the same thing.

None of this changes what goes over the wire, so old importers see the same
messages as before.

One ImportClient per thread: a ``requests.Session`` is not thread-safe.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.auth import HTTPBasicAuth
from requests_toolbelt.multipart.encoder import MultipartEncoder

from meteorgui import __version__
from meteorgui.model import (
    CameraStatus,
    Event,
    FileRecord,
    ModelError,
    dumps,
    entity_id,
    entity_kind,
    loads,
    parse_uuid,
)

from ..errors import MeteorguiError
from . import deadline

USER_AGENT = f"meteorgui/{__version__} (MeteorPi import protocol)"

# Upload progress is reported at most once per this many bytes, plus at the end.
PROGRESS_EVERY = 1 << 20
# Uploads are read and sent in blocks of this size.
UPLOAD_BLOCK = 1 << 20
# An importer's answer is small JSON; a longer one is refused (and not read further),
# so an importer that answers without end cannot grow our memory or hang a send.
MAX_ANSWER = 1 << 20
_ANSWER_CHUNK = 64 << 10

ProgressCallback = Callable[[str, dict], None]


class ImportClientError(MeteorguiError):
    """A request outside a conversation (``resend_list``) failed; the message says why."""


@dataclass(frozen=True)
class SendResult:
    """How one entity's conversation ended.

    ``state`` is ``"complete"`` or ``"failed"`` (or ``"cancelled"`` if the
    caller cancelled); ``message`` is empty when complete. ``steps`` counts
    entity POSTs (full or cached form) that got an answer or failed;
    ``uploads`` counts file uploads; ``bytes_sent`` counts file bytes read
    out to uploads (JSON bodies excluded); ``http_status`` is
    the status code of the last HTTP answer, or None if none arrived.
    ``target_problem`` is True when the failure is the target's rather than
    this entity's (no answer, a TLS error, refused credentials, a wrong URL):
    other entities would fail the same way, so an export round stops there.
    """

    entity_id: str
    kind: str
    state: str
    message: str = ""
    steps: int = 0
    uploads: int = 0
    bytes_sent: int = 0
    http_status: int | None = None
    target_problem: bool = False

    @property
    def ok(self) -> bool:
        return self.state == "complete"


class _Failed(Exception):
    """Ends a conversation early; the message becomes SendResult.message."""


class _TargetFailed(_Failed):
    """A failure that is the target's, not the entity's: no answer, refused credentials,
    wrong URL. Other entities would fail the same way."""


class _Cancelled(Exception):
    """The caller's ``cancelled()`` said stop (raised from inside an upload too)."""


class _SourceError(Exception):
    """The local file misbehaved while streaming (not an OSError, so that
    urllib3 does not mistake it for a network problem and wrap it)."""


class ImportClient:
    """Talks the MeteorPi import protocol to one importer URL.

    ``url`` is the import URL, e.g. ``http://127.0.0.1:8080/import`` (a
    trailing slash is dropped; uploads go to ``<url>/data/<file_id>/<md5>``).
    ``user``/``password`` are sent with HTTP Basic auth (UTF-8). ``timeout`` is
    requests' ``(connect, read)`` pair in seconds. ``verify`` is requests'
    ``verify``: True, False or a CA bundle path. ``session`` lets a caller share
    a ``requests.Session``; the client then does not close it.

    Use as a context manager, or call ``close()``.
    """

    def __init__(
        self,
        url: str,
        user: str,
        password: str,
        *,
        timeout: float | tuple[float, float] = (10, 120),
        verify: bool | str = True,
        max_steps: int = 64,
        max_repeats: int = 3,
        session: requests.Session | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) import URL: {url!r}")
        if max_steps < 1 or max_repeats < 1:
            raise ValueError("max_steps and max_repeats must be at least 1")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.verify = verify
        self.max_steps = max_steps
        self.max_repeats = max_repeats
        self._auth = HTTPBasicAuth(user.encode("utf-8"), password.encode("utf-8"))
        self._own_session = session is None
        self._session = session if session is not None else _session()
        self._where = parts.netloc

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    def __enter__(self) -> ImportClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ conversation

    def send(
        self,
        entity: Event | FileRecord,
        *,
        status_for: Callable[[str], CameraStatus],
        open_file: Callable[[FileRecord], BinaryIO],
        on_progress: ProgressCallback | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> SendResult:
        """Run one entity's whole conversation; never raises for network or
        protocol trouble.

        ``status_for(status_id)`` returns the CameraStatus the importer asks
        for (raise LookupError if unknown). ``open_file(record)`` returns a
        binary file positioned at the file's first byte; the client closes it.
        ``on_progress(stage, info)``, if given, is called on this thread with:

        * ``"post"``, ``{"entity_id", "form"}``, form one of ``"event"``,
          ``"file"``, ``"cached_entity"``, ``"status"``, ``"file_data"``
        * ``"answer"``, ``{"entity_id", "state", "http_status", "step"}``
        * ``"upload"``, ``{"entity_id", "file_id", "sent", "total"}``, at the
          start, about every MiB, and at the end of each upload.

        ``cancelled()``, if given, is polled between steps and while file bytes
        stream out (from this thread; make it cheap, e.g. ``Event.is_set``).
        Once it returns True the send stops, dropping an upload half-way, and
        the result's state is ``"cancelled"``.
        """
        kind = entity_kind(entity)
        if kind not in ("event", "file"):
            raise TypeError("send() takes an Event or a FileRecord, not a CameraStatus")
        conv = _Conversation(self, entity, kind, status_for, open_file, on_progress, cancelled)
        try:
            conv.run()
        except _Failed as exc:
            return conv.result("failed", str(exc), isinstance(exc, _TargetFailed))
        except _Cancelled:
            return conv.result("cancelled", "cancelled before the importer said 'complete'")
        return conv.result("complete")

    # ------------------------------------------------------------------ connection test

    def check(self) -> tuple[str, bool]:
        """Reach the importer and try the credentials, changing nothing there.

        Posts the cached form of a random id, which no importer holds: a
        MeteorPi importer that accepts the credentials answers
        ``continue-nocache``; wrong credentials get HTTP 403. The 2015 importer
        as deployed answers a cache miss with HTTP 500 (it calls a ``clear()``
        its cache does not have), but only after it accepted the credentials, so
        that answer passes too. Then asks whether ``GET <url>/resend`` exists.
        Returns ``(message, resend_supported)``; raises ImportClientError
        with a clear message when the target cannot be used.
        """
        body = dumps({"type": "cached_entity", "cached_entity_id": os.urandom(16).hex()})

        def probe(**kw: Any) -> requests.Response:
            return self._request(
                "POST",
                self.url,
                data=body.encode("utf-8"),
                headers={"Content-Type": "application/json"},
                **kw,
            )

        state: str | None
        try:
            response = probe()
            if response.status_code == 500:
                # The 2015 importer's cache miss, after the login. Only if a made-up login
                # is refused does that answer say these credentials were taken.
                made_up = (f"meteorgui-probe-{os.urandom(4).hex()}", os.urandom(16).hex())
                stranger = probe(auth=made_up)
                if stranger.status_code not in (401, 403):
                    raise ImportClientError(
                        f"the importer at {self._where} answers HTTP 500 (a server error) "
                        f"even to a made-up login (HTTP {stranger.status_code}): it is not "
                        "working, or this is not a MeteorPi import URL"
                    )
                state = "continue-nocache"
            else:
                answer = _answer_json(response, self._where)
                state = answer.get("state") if isinstance(answer, dict) else None
        except _Failed as exc:
            raise ImportClientError(str(exc)) from None
        if state != "continue-nocache":
            raise ImportClientError(
                f"{self._where} answered {str(state)[:60]!r} to a connection test, not "
                "'continue-nocache': is this a MeteorPi import URL?"
            )
        try:
            response = self._request("GET", f"{self.url}/resend")
        except _Failed:
            return "the importer accepts the credentials", False
        supported = 200 <= response.status_code < 300
        return "the importer accepts the credentials", supported

    # ------------------------------------------------------------------ extension

    def resend_list(self) -> list[str]:
        """Ids the importer asks us to send again (optional ``GET <url>/resend``).

        The answer may be a JSON list of ids or an object ``{"ids": [...]}``.
        An importer without the extension (HTTP 404 or 405) gives ``[]``.
        Other failures raise ImportClientError. Ids that are not UUIDs are
        skipped.
        """
        try:
            response = self._request("GET", f"{self.url}/resend")
        except _Failed as exc:
            raise ImportClientError(str(exc)) from None
        if response.status_code in (404, 405):
            return []
        try:
            answer = _answer_json(response, self._where)
        except _Failed as exc:
            raise ImportClientError(str(exc)) from None
        raw = answer.get("ids") if isinstance(answer, dict) else answer
        if not isinstance(raw, list):
            raise ImportClientError("resend list: expected a JSON list of ids")
        ids = []
        for item in raw:
            try:
                ids.append(parse_uuid(item, "id"))
            except ModelError:
                continue
        return ids

    # ------------------------------------------------------------------ HTTP

    def _request(self, method: str, url: str, **kw: Any) -> requests.Response:
        """One HTTP request; any transport problem becomes _Failed with a clear message."""
        headers = {"User-Agent": USER_AGENT, **kw.pop("headers", {})}
        seconds = _read_timeout(self.timeout)
        # The whole answer must come within the read timeout, however it trickles.
        answers = deadline.Answers(seconds)
        try:
            with answers:
                return self._request_once(method, url, headers, answers, **kw)
        except _TargetFailed as exc:
            text = str(exc)
            if answers.expired and "within" not in text and "took more than" not in text:
                # The watchdog closed the socket: say why, not "the connection broke".
                if answers.headers_in:
                    raise _TargetFailed(
                        f"the importer at {self._where} took more than {seconds:g} s to "
                        "send its answer; is this a MeteorPi import URL?"
                    ) from None
                raise _TargetFailed(
                    f"the importer at {self._where} did not answer within {seconds:g} s "
                    "(its answer came too slowly)"
                ) from None
            raise

    def _request_once(
        self, method: str, url: str, headers: dict, answers: deadline.Answers, **kw: Any
    ) -> requests.Response:
        try:
            response = self._session.request(
                method,
                url,
                auth=kw.pop("auth", self._auth),
                headers=headers,
                timeout=self.timeout,
                verify=self.verify,
                allow_redirects=False,
                stream=True,
                **kw,
            )
            answers.headers_in = True
            # The answer is small JSON; read it now (at most MAX_ANSWER bytes) so the
            # connection goes back to the pool, and so that a failure while reading it
            # is caught here.
            try:
                _read_answer(response, self._where, answers.seconds)
            finally:
                response.close()
        except requests.exceptions.SSLError as exc:
            lowered = str(exc).lower()
            if any(sign in lowered for sign in _PLAIN_HTTP_SIGNS):
                raise _TargetFailed(
                    f"the importer at {self._where} does not speak HTTPS on this port: "
                    "use an http:// URL (or the port its HTTPS is on)"
                ) from None
            raise _TargetFailed(
                f"the TLS connection to {self._where} failed (certificate not trusted?): "
                f"{_reason(exc)}"
            ) from None
        except requests.exceptions.ConnectTimeout:
            raise _TargetFailed(f"timed out connecting to the importer at {self._where}") from None
        except requests.exceptions.Timeout:
            seconds = _read_timeout(self.timeout)
            raise _TargetFailed(
                f"the importer at {self._where} did not answer within {seconds} s"
            ) from None
        except requests.exceptions.ConnectionError as exc:
            reason = _reason(exc)
            if reason in _CONNECT_FAILURES:
                raise _TargetFailed(
                    f"cannot reach the importer at {self._where}: {reason}"
                ) from None
            raise _TargetFailed(
                f"the connection to the importer at {self._where} broke: {reason}"
            ) from None
        except requests.exceptions.RequestException as exc:
            raise _TargetFailed(f"request to {self._where} failed: {_reason(exc)}") from None
        except OSError as exc:
            # requests raises a plain OSError for a CA bundle that is missing or unreadable
            # (deleted or moved after the target was saved).
            raise _TargetFailed(self._os_error_message(exc)) from None
        return response

    def _os_error_message(self, exc: OSError) -> str:
        bundle = self.verify if isinstance(self.verify, str) else None
        if bundle is not None and not _readable_file(bundle):
            return (
                f"the CA bundle {bundle} for {self._where} is missing or cannot be read; "
                "choose it again in the target's settings"
            )
        text = str(exc)[:300]
        if bundle is not None and ("ca" in text.lower() or "certificate" in text.lower()):
            return f"the CA bundle {bundle} for {self._where} cannot be used: {text}"
        return f"request to {self._where} failed: {text}"


class _Conversation:
    """The state of one send(): counters, and the loop over the importer's answers."""

    def __init__(self, client, entity, kind, status_for, open_file, on_progress, cancelled):
        self.client = client
        self.entity = entity
        self.kind = kind
        self.entity_id = entity_id(entity)
        self.status_for = status_for
        self.open_file = open_file
        self.on_progress = on_progress
        self.cancelled = cancelled or (lambda: False)
        self.steps = 0
        self.uploads = 0
        self.bytes_sent = 0
        self.http_status: int | None = None
        self.asked: dict[tuple[str, str], int] = {}

    def result(self, state: str, message: str = "", target_problem: bool = False) -> SendResult:
        return SendResult(
            entity_id=self.entity_id,
            kind=self.kind,
            state=state,
            message=message,
            target_problem=target_problem,
            steps=self.steps,
            uploads=self.uploads,
            bytes_sent=self.bytes_sent,
            http_status=self.http_status,
        )

    def progress(self, stage: str, **info: Any) -> None:
        if self.on_progress is not None:
            self.on_progress(stage, {"entity_id": self.entity_id, **info})

    def run(self) -> None:
        full = {"type": self.kind, self.kind: self.entity.to_dict()}
        cached = {"type": "cached_entity", "cached_entity_id": self.entity_id}
        message = full
        while self.steps < self.client.max_steps:
            if self.cancelled():
                raise _Cancelled
            self.steps += 1
            answer = self.post_json(message)
            state = answer.get("state")
            self.progress("answer", state=state, http_status=self.http_status, step=self.steps)
            if state == "complete":
                return
            if state == "failed":
                reason = answer.get("message")
                reason = reason if isinstance(reason, str) and reason else "no reason given"
                raise _Failed(
                    f"the importer answered 'failed' for {self.kind} {self.entity_id}: "
                    f"{reason[:500]}"
                )
            if state == "need_status":
                self.send_status(answer)
                message = cached
            elif state == "need_file_data":
                self.upload(answer)
                message = cached
            elif state == "continue":
                message = cached
            elif state == "continue-nocache":
                message = full
            else:
                raise _Failed(f"the importer answered an unknown state {str(state)[:60]!r}")
        raise _Failed(
            f"gave up on {self.kind} {self.entity_id} after {self.client.max_steps} steps without "
            "'complete': the importer keeps the conversation going"
        )

    def post(self, message: dict) -> requests.Response:
        self.progress("post", form=message["type"])
        response = self.client._request(
            "POST",
            self.client.url,
            data=dumps(message).encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )
        self.http_status = response.status_code
        return response

    def post_json(self, message: dict) -> Any:
        answer = _answer_json(self.post(message), self.client._where)
        if not isinstance(answer, dict):
            raise _Failed("the importer's answer is not a JSON object")
        return answer

    def count(self, what: str, ident: str) -> None:
        n = self.asked[(what, ident)] = self.asked.get((what, ident), 0) + 1
        if n > self.client.max_repeats:
            noun = "status" if what == "status" else "the bytes of file"
            raise _Failed(
                f"the importer asked for {noun} {ident} {n} times in one conversation; "
                "it does not accept what we send, giving up"
            )

    def send_status(self, answer: dict) -> None:
        raw = answer.get("status_id", self.entity.status_id)
        try:
            status_id = parse_uuid(raw, "status_id")
        except ModelError as exc:
            raise _Failed(f"the importer asked for a status with a bad id: {exc}") from None
        self.count("status", status_id)
        try:
            status = self.status_for(status_id)
        except LookupError:
            status = None
        if status is None:
            raise _Failed(f"the importer asked for status {status_id}, which we do not have")
        body = status.to_dict()
        response = self.post({"type": "status", "status": body})
        doing = f"posting camera status {status_id} of camera {status.camera_id}"
        if response.status_code >= 500:
            # A 2015 importer fails on a status without lens, sensor, location or
            # orientation: the same status once more, with the values that say "unknown".
            filled, missing = with_neutral_values(body)
            if missing:
                response = self.post({"type": "status", "status": filled})
                doing += (
                    f", which has no {', '.join(missing)} (sent again with the protocol's "
                    "neutral values for them)"
                )
        # The answer's body is ignored (docs/PROTOCOL.md); an HTTP error is not.
        _check_http(response, self.client._where, doing)

    def upload(self, answer: dict) -> None:
        try:
            file_id = parse_uuid(answer.get("file_id"), "file_id")
        except ModelError as exc:
            raise _Failed(f"the importer asked for file bytes with a bad id: {exc}") from None
        record = self.find_file(file_id)
        self.count("file", file_id)
        try:
            source = self.open_file(record)
        except FileNotFoundError:
            raise _Failed(
                f"the bytes of file {file_id} are not in this archive (missing, or waiting "
                "for a resend from its camera)"
            ) from None
        except OSError as exc:
            raise _Failed(
                f"cannot read the bytes of file {file_id}: {exc.strerror or exc}"
            ) from None
        except LookupError as exc:
            raise _Failed(f"cannot read the bytes of file {file_id}: {exc}") from None
        with source:
            size = _remaining_size(source)
            if size is not None and size != record.file_size:
                raise _Failed(
                    f"file {file_id} has {size} bytes here but its record says "
                    f"{record.file_size}; not sending it"
                )
            reader = _HashingReader(
                source, record.file_size, self.progress_upload(file_id), self.cancelled
            )
            # A filename is required: without one Werkzeug's FileStorage is falsy and
            # the 2015 importer (`if file_data:`) silently drops the upload.
            name = record.file_name or file_id
            encoder = MultipartEncoder(fields={"file": (name, reader, record.mime_type)})
            # A throttled source (ThrottledFile) names a small block: send in blocks of
            # that size, not UPLOAD_BLOCK, so bytes reach the importer while the cap
            # sleeps instead of after a whole MiB has been paced out.
            block = getattr(source, "block", None)
            body = _SmallReads(encoder, block) if isinstance(block, int) and block > 0 else encoder
            url = f"{self.client.url}/data/{file_id}/{record.md5}"
            self.uploads += 1
            self.progress("post", form="file_data")
            reader.report()
            try:
                response = self.client._request(
                    "POST", url, data=body, headers={"Content-Type": encoder.content_type}
                )
            except _SourceError as exc:
                raise _Failed(f"reading file {file_id} failed: {exc}") from None
            finally:
                self.bytes_sent += reader.sent
        self.http_status = response.status_code
        _check_http(response, self.client._where, f"uploading file {file_id}")
        reader.report()
        if reader.md5() != record.md5:
            raise _Failed(
                f"the bytes of file {file_id} do not match its record's MD5 ({record.md5}); "
                "the importer will discard them"
            )

    def progress_upload(self, file_id: str) -> Callable[[int, int], None]:
        return lambda sent, total: self.progress("upload", file_id=file_id, sent=sent, total=total)

    def find_file(self, file_id: str) -> FileRecord:
        if isinstance(self.entity, Event):
            for record in self.entity.files:
                if record.file_id == file_id:
                    return record
        elif self.entity.file_id == file_id:
            return self.entity
        raise _Failed(
            f"the importer asked for file {file_id}, which is not part of "
            f"{self.kind} {self.entity_id}"
        )


class _LargeBlocks(HTTPAdapter):
    """Sends request bodies in blocks of UPLOAD_BLOCK bytes instead of urllib3's 16 KiB:
    a 2 GB upload then takes 2,000 trips through the encoder and the hashing reader
    instead of 130,000, and memory stays as flat (one block in flight)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["blocksize"] = UPLOAD_BLOCK
        super().init_poolmanager(*args, **kwargs)
        deadline.patch_pools(self.poolmanager)


def _session() -> requests.Session:
    session = requests.Session()
    adapter = _LargeBlocks()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _SmallReads:
    """A request body that hands out at most ``block`` bytes of ``encoder`` per read
    (the multipart encoder itself fills whatever it is asked for)."""

    def __init__(self, encoder: MultipartEncoder, block: int):
        self._encoder = encoder
        self.block = block

    @property
    def len(self) -> int:  # what requests reads for the Content-Length
        return self._encoder.len

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > self.block:
            n = self.block
        return self._encoder.read(n)


class _HashingReader:
    """Feeds exactly ``size`` bytes of ``source`` to the multipart encoder,
    hashing them on the way. ``len`` (what the encoder polls) is the number of
    bytes still to come."""

    def __init__(
        self,
        source: BinaryIO,
        size: int,
        on_progress: Callable[[int, int], None],
        cancelled: Callable[[], bool],
    ):
        self.source = source
        self.cancelled = cancelled
        self.size = size
        self.sent = 0
        self._md5 = hashlib.md5()
        self._on_progress = on_progress
        self._reported = -1

    @property
    def len(self) -> int:
        return self.size - self.sent

    def read(self, n: int = -1) -> bytes:
        left = self.size - self.sent
        if n is None or n < 0 or n > left:
            n = left
        if n == 0:
            return b""
        if self.cancelled():
            raise _Cancelled
        try:
            chunk = self.source.read(n)
        except OSError as exc:
            raise _SourceError(str(exc)) from None
        if not chunk:
            raise _SourceError(f"it ended after {self.sent} of {self.size} bytes")
        self.sent += len(chunk)
        self._md5.update(chunk)
        if self.sent - self._reported >= PROGRESS_EVERY:
            self.report()
        return chunk

    def report(self) -> None:
        if self.sent != self._reported:
            self._reported = self.sent
            self._on_progress(self.sent, self.size)

    def md5(self) -> str:
        return self._md5.hexdigest()


def _read_answer(response: requests.Response, where: str, seconds: float) -> None:
    """Read a streamed answer's body into ``response.content``, refusing with _TargetFailed
    one longer than MAX_ANSWER bytes (decoded) or one that takes longer than ``seconds``
    in all to arrive (the read timeout only bounds each wait for the next bytes). Read
    errors are requests' (as with ``response.content``)."""
    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    total = 0
    for chunk in _answer_chunks(response):
        total += len(chunk)
        if total > MAX_ANSWER:
            raise _TargetFailed(
                f"the importer's answer is larger than {MAX_ANSWER >> 20} MiB "
                f"(from {where}); is this a MeteorPi import URL?"
            )
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise _TargetFailed(
                f"the importer at {where} took more than {seconds:g} s to send its answer; "
                "is this a MeteorPi import URL?"
            )
    response._content = b"".join(chunks)
    response._content_consumed = True


def _answer_chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives (``read1``: whatever bytes are there, not a full block, so
    the caller sees time pass), with urllib3's errors turned into requests' as
    ``iter_content`` does."""
    read1 = getattr(response.raw, "read1", None)
    if read1 is None:  # not urllib3 2's response
        yield from response.iter_content(_ANSWER_CHUNK)
        return
    try:
        while chunk := read1(_ANSWER_CHUNK, decode_content=True):
            yield chunk
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from None
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from None
    except urllib3.exceptions.SSLError as exc:
        raise requests.exceptions.SSLError(exc) from None


def _readable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.R_OK)


def _remaining_size(source: BinaryIO) -> int | None:
    """Bytes from the current position to the end, or None if that cannot be told."""
    try:
        return os.fstat(source.fileno()).st_size - source.tell()
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass
    try:
        here = source.tell()
        end = source.seek(0, io.SEEK_END)
        source.seek(here)
        return end - here
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


def _server_message(response: requests.Response) -> str:
    try:
        body = loads(response.content)
    except ModelError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"][:300]
    text = response.content[:2000].decode("utf-8", "replace").strip()
    if text.startswith("<"):  # an error page: its title says it, its markup is noise
        title = _TITLE.search(text)
        return " ".join(title.group(1).split())[:120] if title else ""
    return text.splitlines()[0][:300] if text else ""


_TITLE = re.compile(r"<title[^>]*>([^<]*)</title>", re.IGNORECASE)


# What a 2015 importer needs in every status (meteorpi_model reads each with d[key]), with
# the values that mean "unknown": PROTOCOL.md's orientation before a node's first fit, a
# place anywhere on Earth (an error of half its circumference), no lens or sensor name.
NEUTRAL_2015: dict[str, Any] = {
    "lens": "",
    "sensor": "",
    "location": {"lat": 0.0, "long": 0.0, "gps": False, "error": 20_037_508.0},
    "orientation": {"alt": 0.0, "az": 0.0, "rot": 0.0, "error": 360.0, "width": 0.0},
}


def with_neutral_values(status: dict) -> tuple[dict, list[str]]:
    """The status dict with whatever a 2015 importer needs filled in, and what was missing
    ('lens', 'location', 'orientation.width', ...)."""
    out, missing = dict(status), []
    for key, neutral in NEUTRAL_2015.items():
        if not isinstance(neutral, dict):
            if key not in status:
                out[key] = neutral
                missing.append(key)
            continue
        have = status.get(key) or {}
        gaps = [k for k in neutral if k not in have]
        if gaps:
            out[key] = {**neutral, **have}
            missing += [f"{key}.{k}" for k in gaps] if have else [key]
    return out, missing


def _check_http(response: requests.Response, where: str, doing: str) -> None:
    code = response.status_code
    if 200 <= code < 300:
        return
    said = _server_message(response)
    said = f": {said}" if said else ""
    if code in (401, 403):
        raise _TargetFailed(
            f"the importer at {where} refused the credentials or the user lacks the "
            f"'import' role (HTTP {code}){said}"
        )
    if 300 <= code < 400:
        target = response.headers.get("Location", "elsewhere")
        raise _TargetFailed(
            f"the importer redirected {doing} to {target}; use that URL (HTTP {code})"
        )
    if code == 404:
        raise _TargetFailed(f"no importer answers at this URL on {where} (HTTP 404){said}")
    if code == 413:
        raise _Failed(f"the importer at {where} refused {doing}: too large (HTTP 413){said}")
    reason = f" {response.reason}" if response.reason else ""
    raise _Failed(f"the importer at {where} answered HTTP {code}{reason} while {doing}{said}")


def _answer_json(response: requests.Response, where: str) -> Any:
    _check_http(response, where, "the request")
    try:
        return loads(response.content)
    except ModelError:
        snippet = response.content[:80].decode("utf-8", "replace")
        raise _Failed(
            f"the importer at {where} answered something that is not JSON: {snippet!r}"
        ) from None


# What OpenSSL says when the other end answers a TLS handshake in plain HTTP.
_PLAIN_HTTP_SIGNS = ("wrong version number", "record layer failure", "packet length too long")
_CONNECT_FAILURES = (
    "connection refused",
    "name or service not known",
    "temporary failure in name resolution",
    "no route to host",
    "network is unreachable",
)
_KNOWN_REASONS = (
    *_CONNECT_FAILURES,
    "connection reset by peer",
    "broken pipe",
    "certificate verify failed",
)


def _reason(exc: Exception) -> str:
    """The useful part of a requests/urllib3 exception's long text."""
    text = str(exc)
    lowered = text.lower()
    for reason in _KNOWN_REASONS:
        if reason in lowered:
            return reason
    if "remotedisconnected" in lowered or "without response" in lowered:
        return "it closed the connection without answering"
    return text[:300]


def _read_timeout(timeout: float | tuple[float, float]) -> float:
    return timeout[1] if isinstance(timeout, tuple) else timeout
