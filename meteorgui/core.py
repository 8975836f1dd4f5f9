"""One owner for the archive and everything that runs on it, for the app and ``meteorgui serve``.

``Core`` makes the archive, the hub, the importer, the sky worker, and (on first use) the
exporter and its scheduler; it starts the importer's HTTP server and the scheduler when
asked, and ``close()`` stops them all in one order: no new requests, no new export rounds,
rounds in flight cancelled and joined, the import log written out, the sky worker stopped,
the archive closed last.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from . import notify
from .archive import Archive
from .diskspace import DEFAULT_WARNING_MB, DiskStatus, disk_status
from .importer.protocol import Importer
from .priority import IMPORTER_NICE
from .sky.worker import SkyWorker

if TYPE_CHECKING:
    from .exporter import Exporter, Scheduler
    from .exporter.secrets import SecretStore
    from .importer.server import ImporterServer

log = logging.getLogger(__name__)

# The importer's request threads share the GIL with the sky worker, the import log's writer
# and (in the app) the GUI thread. Handed over every millisecond rather than every 5, a
# camera's request waits at most about 1 ms for a thread computing sky science.
GIL_SWITCH_INTERVAL_S = 0.001


class Core:
    """One archive with its hub, importer, sky worker, exporter and scheduler, and (when
    running) the importer's HTTP server."""

    def __init__(
        self,
        data_dir: str | Path,
        *,
        secrets: SecretStore | None = None,
        beside_window: bool = False,
    ):
        self.hub = notify.Hub()
        self.archive = Archive(data_dir, self.hub)
        self.importer = Importer(self.archive, self.hub)
        # Showers, groups and trajectories of arriving events, off the request threads.
        self.sky = SkyWorker(self.archive, self.hub)
        self.server: ImporterServer | None = None
        self._secrets = secrets
        self._exporter: Exporter | None = None
        self._scheduler: Scheduler | None = None
        self.exports_stopped = True  # False once stop_exports() timed out
        self._closed = False
        # In the window's process the importer's threads leave the CPU to the window first.
        self.beside_window = beside_window
        # Why the importer listens on this computer only although the settings say more
        # ("" when it listens where the settings say).
        self.loopback_reason = ""

    @property
    def exporter(self) -> Exporter:
        """Made on first use: the exporter brings requests, which the first paint need not
        wait for."""
        if self._exporter is None:
            from .exporter import Exporter
            from .exporter.secrets import LazySecrets

            self._exporter = Exporter(self.archive, self._secrets or LazySecrets())
        return self._exporter

    @property
    def scheduler(self) -> Scheduler:
        if self._scheduler is None:
            from .exporter import Scheduler

            self._scheduler = Scheduler(self.exporter)
        return self._scheduler

    @property
    def importer_running(self) -> bool:
        return self.server is not None and self.server.running

    def start_importer(self, host: str, port: int, *, loopback_reason: str = "") -> ImporterServer:
        """Listen on host:port. Raises importer.PortInUse if the port is taken.

        ``loopback_reason`` says why host is loopback rather than what the settings say,
        kept for the window and Camera setup to show."""
        from .importer.server import ImporterServer  # Flask and waitress: when listening

        self.stop_importer()
        nice = IMPORTER_NICE if self.beside_window else 0
        server = ImporterServer(self.archive, host, port, importer=self.importer, nice=nice)
        server.start()
        self.server = server
        self.loopback_reason = loopback_reason
        log.info("Importer listening on %s", "; ".join(a.line() for a in server.addresses()))
        return server

    def has_import_user(self) -> bool:
        return any(u.has_role("import") for u in self.archive.users.list())

    def stop_importer(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def disk_status(self, warn_below_mb: int = DEFAULT_WARNING_MB) -> DiskStatus:
        """Free space on the archive's disk; ``.low`` once below the threshold (Settings
        disk_warning_mb). Raises OSError if the disk cannot be asked."""
        return disk_status(self.archive.data_dir, warn_below_mb)

    def start_exports(self) -> None:
        """Run the scheduled export rules (the scheduler's thread)."""
        self.scheduler.start()

    def stop_exports(self, timeout: float = 30) -> bool:
        """Stop the scheduler and cancel every export round, aborting requests in flight,
        and wait for their threads against one deadline (their entities stay queued).
        True if every export thread has ended; if not, the archive must stay open."""
        if self._exporter is None:
            return True
        deadline = time.monotonic() + timeout
        stopped = self._scheduler is None or self._scheduler.stop(timeout)
        stopped = self._exporter.close(max(0.0, deadline - time.monotonic())) and stopped
        self.exports_stopped = stopped
        if not stopped:
            log.error("export rounds still running after %.0f s", timeout)
        return stopped

    def close(self, timeout: float = 30) -> bool:
        """Stop the server (letting requests in flight finish), the exports, the import log
        and the sky worker, then close the archive. Returns False, leaving the archive
        open, if an export thread would not stop: its entities are sent again at the next
        start."""
        if self._closed:
            return self.exports_stopped
        self._closed = True
        self.stop_importer()
        stopped = self.stop_exports(timeout)
        self.importer.close()
        self.sky.close()
        if not stopped:
            log.error(
                "export rounds did not stop: the archive is left open under them; their "
                "entities are sent again at the next start"
            )
            return False
        self.archive.close()
        return True
