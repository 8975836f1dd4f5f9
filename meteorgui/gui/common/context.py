"""What every part of the GUI is given: the core, settings, the bridge, the task pool, and the
window's services once they exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ...core import Core
from ...settings import Settings
from .bridge import Bridge
from .tasks import TaskRunner
from .thumbnails import ThumbnailService


class Service(Protocol):
    """A per-window service: stopped by ``startup.close`` before the archive closes."""

    def shutdown(self) -> object: ...


@dataclass
class GuiContext:
    core: Core
    settings: Settings
    bridge: Bridge
    tasks: TaskRunner
    # Made by the features that own them (features do not import each other):
    thumbnails: ThumbnailService | None = None  # common.thumbnails.service(ctx)
    export: Service | None = None  # export.menu.install: the ExportService
    notifications: Service | None = None  # tools.notifications.install, with a tray
    verify: Service | None = None  # tools.verify: the checks still running

    @property
    def archive(self):
        return self.core.archive

    def services(self) -> list[Service]:
        """The services made so far, in the order they stop: exports first (their rounds
        write to the archive from their own threads)."""
        made = (self.export, self.notifications, self.verify, self.thumbnails)
        return [s for s in made if s is not None]
