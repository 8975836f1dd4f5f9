"""What every part of the GUI is given: the core, settings, the bridge and the task pool."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...core import Core
from ...settings import Settings
from .bridge import Bridge
from .tasks import TaskRunner


@dataclass
class GuiContext:
    core: Core
    settings: Settings
    bridge: Bridge
    tasks: TaskRunner
    services: dict = field(default_factory=dict)  # shared per-window services by name

    @property
    def archive(self):
        return self.core.archive
