"""What a connection must show before the importer spends memory, disk or a slot on it.

waitress reads a whole request body (spooling large ones to a temporary file)
before the app sees the request, and keeps a connection for as long as bytes
trickle in. Left at that, a stranger could fill the disk or the RAM-backed
temporary folder, and a few hundred idle or slow connections kept cameras out.
Here, inside waitress's own receive loop:

- The login is looked at once the headers are in, before any body is read.
  Credentials this importer has verified lately (by hashing them, in the app),
  whose user's row still holds the roles and password hash they were verified
  against, may send bodies up to the server's limit; others at most SMALL_BODY bytes,
  kept in memory. A larger body from them is not read at all: the request goes
  on to the app without it, marked, and the app answers 401/403 (or asks for it
  again once the login checks out) and the connection closes.
- Large bodies are spooled into the archive's data folder (never the system
  temporary folder), under a quota of bytes for all requests together; a body
  that would pass it, or a spool write that fails (a full disk), is marked too
  and answered 507 by the app.
- A connection must complete each request's headers (and an unverified
  request its small body) within HEADER_TIMEOUT seconds of starting to wait
  for it, trickled or not. When connections run short, the oldest still waiting
  for its request is closed to make room for the new one, so a camera that
  connects and sends its request at once always gets in.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import resource
import socket
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from waitress.buffers import FileBasedBuffer, OverflowableBuffer
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.task import ErrorTask
from waitress.utilities import BadRequest

from ..diskspace import disk_problem

log = logging.getLogger(__name__)

SMALL_BODY = 64 << 10  # bytes a login not yet verified may send
HEADER_TIMEOUT = 20.0  # seconds to deliver a request's headers (unverified: and its body)
SPOOL_QUOTA = 8 << 30  # bytes of request bodies spooled at once, all requests together
CONNECTION_LIMIT = 1000  # open connections (fewer if the process may not open that many files)
VERIFIED_TTL = 3600.0  # seconds a verified login's big bodies are read without a new hash
VERIFIED_MAX = 4096
LINGER = 2.0  # seconds an unread body is drained after the answer, so the answer arrives

# The header that carries the gate's verdict to the app (any the client sent is dropped).
MARK = "METEORGUI_GATE"
MARK_ENVIRON = "HTTP_" + MARK
UNVERIFIED, SPOOL_FULL, DISK_ERROR = "unverified", "spool-full", "disk-error"
TLS_AT_PLAIN_PORT = "this port speaks plain HTTP, not HTTPS: use an http:// URL"


def _fingerprint(authorization: str) -> str:
    return hashlib.sha256(authorization.encode("latin-1", "replace")).hexdigest()


class Gate:
    """The policy, shared by the app (which verifies logins) and the receive loop."""

    def __init__(
        self,
        spool_dir,
        quota: int = SPOOL_QUOTA,
        small_body: int = SMALL_BODY,
        stamp: Callable[[str], str | None] | None = None,
    ):
        self.spool_dir = str(spool_dir)
        os.makedirs(self.spool_dir, exist_ok=True)
        self.quota, self.small_body = quota, small_body
        self.spooled = 0  # bytes reserved by bodies being spooled now
        self.header_timeout = HEADER_TIMEOUT
        # The user's current stamp (Users.stamp): read afresh at each look-up, so a
        # password, role or user changed by any process stops big bodies at once.
        self._stamp = stamp
        # fingerprint -> (until, user name, stamp of the row the login was checked against)
        self._verified: OrderedDict[str, tuple[float, str, str]] = OrderedDict()
        self._lock = threading.Lock()

    # -- logins (the app calls verified() after a good login with the import role)

    def verified(self, authorization: str | None, name: str = "", stamp: str = "") -> None:
        if not authorization:
            return
        key = _fingerprint(authorization)
        with self._lock:
            self._verified[key] = (time.monotonic() + VERIFIED_TTL, name, stamp)
            self._verified.move_to_end(key)
            while len(self._verified) > VERIFIED_MAX:
                self._verified.popitem(last=False)

    def is_verified(self, authorization: str | None) -> bool:
        if not authorization:
            return False
        key = _fingerprint(authorization)
        with self._lock:
            entry = self._verified.get(key)
        if entry is None:
            return False
        until, name, stamp = entry
        if until >= time.monotonic() and self._still(name, stamp):
            return True
        with self._lock:
            if self._verified.get(key) == entry:
                del self._verified[key]
        return False

    def _still(self, name: str, stamp: str) -> bool:
        if self._stamp is None:
            return True
        try:
            return self._stamp(name) == stamp
        except Exception:  # noqa: BLE001 - a failed look-up (archive closing) lets no body in
            log.debug("could not look up user %r", name, exc_info=True)
            return False

    # -- the spool

    def reserve(self, n: int) -> bool:
        with self._lock:
            if self.spooled + n > self.quota:
                return False
            self.spooled += n
            return True

    def release(self, n: int) -> None:
        with self._lock:
            self.spooled -= n


class _SpoolFile(FileBasedBuffer):
    def __init__(self, gate: Gate, from_buffer=None):
        self.gate = gate
        file = self.newfile()
        try:
            FileBasedBuffer.__init__(self, file, from_buffer)
        except BaseException:  # the disk is full already while copying what came so far
            file.close()
            raise

    def newfile(self):
        # Unlinked at once (O_TMPFILE where there is one): nothing is left after a crash.
        return tempfile.TemporaryFile("w+b", dir=self.gate.spool_dir, prefix="spool-")


class _SpoolBuffer(OverflowableBuffer):
    """waitress's body buffer, spilling into the data folder. A write that fails (disk
    full) is remembered and the rest of the body dropped, instead of raising inside the
    receive loop (which would drop the connection without an answer)."""

    def __init__(self, gate: Gate, overflow: int, reserved: int):
        super().__init__(overflow)
        self.gate, self.reserved = gate, reserved
        self.failed: OSError | None = None

    def _set_large_buffer(self):
        oldbuf = self.buf
        self.buf = _SpoolFile(self.gate, oldbuf)
        if hasattr(oldbuf, "close"):
            oldbuf.close()
        self.overflowed = True

    def append(self, s):
        if self.failed is not None:
            return
        try:
            super().append(s)
        except OSError as exc:
            self.failed = exc
            log.warning("could not spool a request body: %s", exc)

    def close(self):
        try:
            super().close()
        finally:
            if self.reserved:
                self.gate.release(self.reserved)
                self.reserved = 0


def _parser_class(gate: Gate):
    class GatedParser(HTTPRequestParser):
        skipped = False

        def __init__(self, adj, channel=None):
            super().__init__(adj)
            self.channel = channel

        def parse_header(self, header_plus):
            self.headers.pop(MARK, None)
            super().parse_header(header_plus)
            self.headers.pop(MARK, None)  # only the gate sets it
            body = self.body_rcv
            if body is None:
                return
            # Only a body larger than SMALL_BODY needs a verified login (its SHA-256 and its
            # user's row): the app checks every login anyway, so most requests (offers,
            # small uploads) skip that look-up here.
            if (self.chunked or self.content_length > gate.small_body) and not gate.is_verified(
                self.headers.get("AUTHORIZATION")
            ):
                self._skip(f"{UNVERIFIED}:{self.content_length if not self.chunked else -1}")
                return
            reserved = 0
            if self.chunked or self.content_length > self.adj.inbuf_overflow:
                # A chunked body's size is unknown: it may use the server's whole limit.
                reserved = self.adj.max_request_body_size if self.chunked else self.content_length
                if not gate.reserve(reserved):
                    self._skip(f"{SPOOL_FULL}:{gate.quota}")
                    return
            body.buf = _SpoolBuffer(gate, self.adj.inbuf_overflow, reserved)

        def _skip(self, why: str) -> None:
            """Pass the request on without its body; the connection closes after the
            answer (the body's bytes are never read)."""
            self.skipped = True
            self.body_rcv = None
            self.chunked = False
            self.content_length = 0
            self.headers["CONTENT_LENGTH"] = "0"
            self.headers[MARK] = why
            self.expect_continue = False
            self.headers["CONNECTION"] = "close"  # what waitress's task looks at
            if self.channel is not None:
                self.channel.discarding = True  # read nothing more from this connection

        def received(self, data):
            if data[:1] == b"\x16" and not self.header_plus and self.body_rcv is None:
                # A TLS handshake: an https:// URL at this plain-HTTP port. Answered at once
                # in plain HTTP (the client's TLS layer reports a wrong protocol) instead of
                # waiting for headers that never come.
                self.parse_header(b"GET / HTTP/1.0\r\n")
                self.error = BadRequest(TLS_AT_PLAIN_PORT)
                self.completed = True
                return len(data)
            n = super().received(data)
            if self.skipped:
                return len(data)  # what follows the headers is the unread body
            if self.completed and self.error is None and self.body_rcv is not None:
                buf = self.body_rcv.getbuf()
                failed = getattr(buf, "failed", None)
                if failed is not None:
                    why = (
                        disk_problem(failed) or f"the importer's disk failed ({_describe(failed)})"
                    )
                    self.headers[MARK] = f"{DISK_ERROR}:{why}"
                    self.headers["CONTENT_LENGTH"] = "0"
                    buf.close()
                    self.body_rcv = None
                    self.headers["CONNECTION"] = "close"
            return n

    return GatedParser


def _describe(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "")
    text = exc.strerror or str(exc)
    return f"{text} ({name})" if name else text


class JsonErrorTask(ErrorTask):
    """waitress's answer to a request it could not parse (a bad chunk size, a garbage
    request line, headers too large) in JSON, as every other answer of the importer."""

    def execute(self):
        e = self.request.error
        message = f"{e.reason}: {e.body}" if e.body else e.reason
        body = (json.dumps({"state": "failed", "message": message}) + "\n").encode()
        self.status = f"{e.code} {e.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


def _channel_class(gate: Gate):
    parser = _parser_class(gate)

    class GatedChannel(HTTPChannel):
        error_task_class = JsonErrorTask

        def __init__(self, *args, **kwargs):
            self.waiting_since = time.monotonic()  # for the request that comes next
            self.discarding = False
            self.lingering: float | None = None  # until when an unread body is drained
            self.parser_class = lambda adj: parser(adj, self)
            super().__init__(*args, **kwargs)

        def received(self, data):
            if self.discarding:
                return False
            return super().received(data)

        def readable(self):
            if self.lingering is not None:
                return True
            return not self.discarding and super().readable()

        def handle_close(self):
            if self.discarding and self.will_close and self.lingering is None and self.connected:
                # The answer is out; an unread body is still coming. Closing now would reset
                # the connection and the client could lose the answer: say we are done
                # sending, then read and drop what comes for a moment (a lingering close).
                try:
                    self.socket.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                else:
                    self.lingering = time.monotonic() + LINGER
                    self.will_close = False
                    return
            self._close()

        def waiting(self) -> bool:
            """Waiting for a request: nothing being served, and no verified body arriving
            (an upload may be slow; waitress's channel_timeout bounds its silences)."""
            if self.requests:
                return False
            request = self.request
            if request is None or not request.headers_finished:
                return True
            return not gate.is_verified(request.headers.get("AUTHORIZATION"))

        def service(self):
            try:
                super().service()
            finally:
                self.waiting_since = time.monotonic()

        def _close(self):
            # waitress leaves a half-received request's spool file to the garbage collector.
            request = getattr(self, "request", None)
            if request is not None:
                try:
                    request.close()
                except Exception:  # noqa: BLE001 - closing must not fail the loop
                    log.debug("could not close a partial request", exc_info=True)
            super().handle_close()

    return GatedChannel


def connection_limit(wanted: int = CONNECTION_LIMIT) -> int:
    """As many connections as wanted, if the process may open that many files (the soft
    limit is raised to the hard one where allowed), with room left for the archive."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = wanted + 200
        if soft != resource.RLIM_INFINITY and soft < need:
            new = need if hard == resource.RLIM_INFINITY else min(hard, need)
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            soft = new
    except (OSError, ValueError):
        return min(wanted, 200)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(16, min(wanted, soft - 200))


def install(server, gate: Gate, limit: int) -> None:
    """Put the gate into a waitress server made by create_server (before it runs)."""
    server.channel_class = _channel_class(gate)
    # The gate evicts before waitress would stop accepting: waitress's own limit is a
    # backstop above ours.
    server.adj.connection_limit = limit + 16
    base_accept = server.handle_accept
    base_maintenance = server.maintenance

    def handle_accept():
        base_accept()
        channels = server.active_channels
        if len(channels) > limit:
            _evict_oldest_waiting(channels.values())

    def maintenance(now):
        base_maintenance(now)
        cutoff = time.monotonic() - gate.header_timeout
        for channel in list(server.active_channels.values()):
            lingering = getattr(channel, "lingering", None)
            if lingering is not None and lingering < time.monotonic():
                channel.handle_close()
                continue
            if (
                getattr(channel, "waiting_since", None) is not None
                and channel.waiting_since < cutoff
                and channel.waiting()
            ):
                channel.will_close = True

    server.handle_accept = handle_accept
    server.maintenance = maintenance


def _evict_oldest_waiting(channels) -> None:
    oldest = None
    for channel in channels:
        if getattr(channel, "waiting_since", None) is None or not channel.waiting():
            continue
        if oldest is None or channel.waiting_since < oldest.waiting_since:
            oldest = channel
    if oldest is not None:
        oldest.handle_close()  # from the loop's own thread: handle_accept runs there
