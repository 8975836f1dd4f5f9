"""The import monitor: every conversation with every camera, camera health, the log."""

from .dock import ImportMonitor

__all__ = ["ImportMonitor"]
