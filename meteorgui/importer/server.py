"""The importer's HTTP server: waitress on a background thread, with start() and stop()."""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import create_server

from .. import notify
from ..archive import Archive
from ..errors import MeteorguiError
from ..priority import lower_this_thread
from . import gate as gating
from . import runfile
from .addresses import ImportAddress, bracket, import_addresses
from .app import create_app
from .protocol import Importer

log = logging.getLogger(__name__)

# The largest body a verified login may send (the gate reads at most SMALL_BODY from
# others). Per-file limits are enforced by the app from each file record.
MAX_UPLOAD = 4 << 30
MAX_BODY = MAX_UPLOAD + (1 << 20)
# Silence (no byte either way) after which a connection in the middle of a verified
# upload is closed; a connection waiting for its request has gate.HEADER_TIMEOUT.
CHANNEL_TIMEOUT = 120
SWEEP_EVERY = 300.0  # seconds between sweeps of partial uploads nobody holds


class PortInUse(MeteorguiError, OSError):
    """The port is taken (another meteorgui, or another program)."""


class ImporterBusy(MeteorguiError, OSError):
    """Another process already imports into this archive (a second importer would close
    its open conversations as a crash's leftovers, and `status` could name only one)."""


class ImporterServer:
    """Serves the import protocol for one archive on host:port (port 0 picks a free one)."""

    def __init__(
        self,
        archive: Archive,
        host: str = "0.0.0.0",
        port: int = 8080,
        *,
        hub: notify.Hub | None = None,
        importer: Importer | None = None,
        threads: int = 8,
        path: str = "/import",
        connection_limit: int = gating.CONNECTION_LIMIT,
        spool_quota: int = gating.SPOOL_QUOTA,
        nice: int = 0,
    ):
        self.archive = archive
        self.hub = hub or (importer.hub if importer else archive.hub)
        # An importer made here is closed by stop(): whoever creates a thread closes it.
        self._own_importer = importer is None
        # Request bodies spool next to the store's partial files: in the data folder.
        self.gate = gating.Gate(archive.store.tmp_dir, quota=spool_quota, stamp=archive.users.stamp)
        self.connection_limit = connection_limit
        self.host, self.requested_port, self.path = host, port, path
        self._use(importer or Importer(archive, self.hub))
        self.threads = threads
        self.nice = nice  # added to the nice value of the server's threads (priority.py)
        self.port: int | None = None
        self._server: Any = None  # waitress ships no types
        self._thread: threading.Thread | None = None

    def _use(self, importer: Importer) -> None:
        self.importer = importer
        self.throttle = importer.logins.throttle  # failed logins
        self.app = create_app(importer, self.path, self.gate)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        if self._own_importer and self.importer.closed:  # started again after stop()
            self._use(Importer(self.archive, self.hub))
        other = runfile.another(self.archive.data_dir)
        if other is not None:
            raise ImporterBusy(
                errno.EBUSY,
                f"another meteorgui (pid {other.get('pid')}) is already receiving into this "
                f"archive at {other['url']}; stop it first",
            )
        _check_port(self.host, self.requested_port)
        self.importer.recover()
        self.archive.store.clean_tmp()
        limit = gating.connection_limit(self.connection_limit)
        try:
            self._server = create_server(
                _lowering(self.app, self.nice) if self.nice else self.app,
                host=self.host,
                port=self.requested_port,
                threads=self.threads,
                max_request_body_size=MAX_BODY,
                connection_limit=limit,
                clear_untrusted_proxy_headers=True,
                ident="meteorgui",
                channel_timeout=CHANNEL_TIMEOUT,
                cleanup_interval=1,  # how often the gate's header deadline is checked
                asyncore_use_poll=True,  # select() cannot watch more than 1024 sockets
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    exc.errno, f"port {self.requested_port} on {self.host} is already in use"
                ) from None
            raise
        server = self._server
        gating.install(server, self.gate, limit)
        self.port = int(server.effective_port)
        self._thread = threading.Thread(target=self._run, name="meteorgui-importer", daemon=True)
        self._thread.start()
        self._sweeping = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep, name="meteorgui-sweeper", daemon=True)
        self._sweeper.start()
        try:
            runfile.write(self.archive.data_dir, self.url, self.urls())
        except OSError as exc:  # only `meteorgui status` misses it
            log.warning("cannot write %s in %s: %s", runfile.NAME, self.archive.data_dir, exc)
        self.hub.publish(notify.SERVER, {"state": "running", "urls": self.urls()})

    def _run(self) -> None:
        if self.nice:
            lower_this_thread(self.nice)
        try:
            if self._server is not None:
                self._server.run()
        except Exception:  # the loop ends when stop() closes every socket
            log.exception("the importer server stopped unexpectedly")

    def _sweep(self) -> None:
        """Partial uploads of crashed writers (another process's too) go every few minutes,
        so a crash loop cannot fill the disk between starts."""
        while not self._sweeping.wait(SWEEP_EVERY):
            try:
                self.archive.store.clean_tmp()
            except Exception:  # noqa: BLE001 - the next sweep tries again
                log.exception("could not sweep partial uploads")

    def stop(self, timeout: float = 10) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = None
        self._sweeping.set()
        self._sweeper.join(timeout)
        # Let requests in flight finish, then close every socket from the loop's own
        # thread; an empty socket map ends waitress's loop.
        server.task_dispatcher.shutdown(timeout=timeout)

        def close_all() -> None:
            for channel in list(server._map.values()):
                try:
                    if isinstance(channel, HTTPChannel):
                        channel.handle_close()
                    else:  # the listening socket and the trigger
                        channel.close()
                except OSError:
                    pass

        try:
            if thread is None or not thread.is_alive():
                raise OSError("the loop has ended")
            server.trigger.pull_trigger(close_all)
        except OSError:  # the loop has ended, or its wake-up pipe is gone: close from here
            close_all()
        if thread is not None:
            thread.join(timeout)
        self._thread = None
        runfile.remove(self.archive.data_dir)
        if self._own_importer:
            self.importer.close(timeout)
        else:
            self.importer.log.flush(timeout)
        self.hub.publish(notify.SERVER, {"state": "stopped", "urls": []})

    def addresses(self) -> list[ImportAddress]:
        """Every address cameras can reach this server at, LAN first, loopback last."""
        if self.port is None:
            return []
        return import_addresses(self.host, self.port, self.path)

    def urls(self) -> list[str]:
        """The import URL on every address cameras can reach this server at."""
        return [a.url for a in self.addresses()]

    @property
    def url(self) -> str:
        """One URL for this server; loopback when listening everywhere."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{bracket(host)}:{self.port}{self.path}"


def _check_port(host: str, port: int) -> None:
    """Raise PortInUse if host:port cannot be bound (waitress leaks its sockets when it fails)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if os.name == "posix":  # as waitress does, so a port in TIME_WAIT is not "in use"
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(exc.errno, f"port {port} on {host} is already in use") from None
            raise


def _lowering(app, by: int):
    """``app``, lowering the CPU priority of each thread that runs it, once a thread
    (waitress's request threads are made inside waitress)."""
    lowered = threading.local()

    def wsgi(environ, start_response):
        if not getattr(lowered, "done", False):
            lowered.done = True
            lower_this_thread(by)
        return app(environ, start_response)

    return wsgi
