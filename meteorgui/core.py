"""Wiring shared by the desktop app and headless use, with an orderly shutdown."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from . import notify
from .archive import Archive
from .importer.protocol import Importer
from .sky.worker import SkyWorker

if TYPE_CHECKING:
    from .importer.server import ImporterServer

log = logging.getLogger(__name__)


class Core:
    """One archive, its import log hub, its importer and (when running) its HTTP server."""

    def __init__(self, data_dir: str | Path):
        self.archive = Archive(data_dir)
        self.hub = notify.Hub()
        self.importer = Importer(self.archive, self.hub)
        # Showers, groups and trajectories of arriving events, off the request threads.
        self.sky = SkyWorker(self.archive, self.hub)
        self.server: ImporterServer | None = None

    @property
    def importer_running(self) -> bool:
        return self.server is not None and self.server.running

    def start_importer(self, host: str, port: int) -> ImporterServer:
        """Listen on host:port. Raises importer.PortInUse if the port is taken."""
        from .importer.server import ImporterServer  # Flask and waitress: when listening

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

    def close(self) -> None:
        """Stop the server (letting requests in flight finish), then close the archive."""
        self.stop_importer()
        self.importer.close()
        self.sky.close()
        self.archive.close()
