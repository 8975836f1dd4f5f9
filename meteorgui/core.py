"""One owner for the archive and everything that runs on it, for the app and ``meteorgui serve``.

``Core`` makes the archive, the hub, the importer, the exporter and its scheduler; it starts
the importer's HTTP server and the scheduler when asked, and ``close()`` stops them all in
one order: no new requests, no new export rounds, rounds in flight cancelled and joined,
the import log written out, the archive closed last.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from . import notify
from .archive import Archive
from .exporter import Exporter, Scheduler
from .exporter.secrets import LazySecrets, SecretStore
from .importer import Importer, ImporterServer

log = logging.getLogger(__name__)


class Core:
    """One archive with its hub, importer, exporter and scheduler, and (when running) the
    importer's HTTP server."""

    def __init__(self, data_dir: str | Path, *, secrets: SecretStore | None = None):
        self.hub = notify.Hub()
        self.archive = Archive(data_dir, self.hub)
        self.importer = Importer(self.archive, self.hub)
        self.exporter = Exporter(self.archive, secrets or LazySecrets())
        self.scheduler = Scheduler(self.exporter)
        self.server: ImporterServer | None = None
        self.exports_stopped = True  # False once stop_exports() timed out
        self._closed = False

    @property
    def importer_running(self) -> bool:
        return self.server is not None and self.server.running

    def start_importer(self, host: str, port: int) -> ImporterServer:
        """Listen on host:port. Raises importer.PortInUse if the port is taken."""
        self.stop_importer()
        server = ImporterServer(self.archive, host, port, importer=self.importer)
        server.start()
        self.server = server
        log.info("importer listening on %s", ", ".join(server.urls()))
        return server

    def stop_importer(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def start_exports(self) -> None:
        """Run the scheduled export rules (the scheduler's thread)."""
        self.scheduler.start()

    def stop_exports(self, timeout: float = 30) -> bool:
        """Stop the scheduler and cancel every export round, aborting requests in flight,
        and wait for their threads against one deadline (their entities stay queued).
        True if every export thread has ended; if not, the archive must stay open."""
        deadline = time.monotonic() + timeout
        stopped = self.scheduler.stop(timeout)
        stopped = self.exporter.close(max(0.0, deadline - time.monotonic())) and stopped
        self.exports_stopped = stopped
        if not stopped:
            log.error("export rounds still running after %.0f s", timeout)
        return stopped

    def close(self, timeout: float = 30) -> bool:
        """Stop the server (letting requests in flight finish), the exports, the import log,
        then close the archive. Returns False, leaving the archive open, if an export
        thread would not stop: its entities are sent again at the next start."""
        if self._closed:
            return self.exports_stopped
        self._closed = True
        self.stop_importer()
        stopped = self.stop_exports(timeout)
        self.importer.close()
        if not stopped:
            log.error(
                "export rounds did not stop: the archive is left open under them; their "
                "entities are sent again at the next start"
            )
            return False
        self.archive.close()
        return True
