"""The import monitor: every conversation with every camera, camera health, the log.

The monitor's modules load when ``ImportMonitor`` is first asked for: the window fills
its docks after the first page of events is shown.
"""

from __future__ import annotations

__all__ = ["ImportMonitor"]


def __getattr__(name: str):
    if name == "ImportMonitor":
        from .dock import ImportMonitor

        return ImportMonitor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
