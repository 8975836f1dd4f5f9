"""Event detail: a filmstrip of the event's files, a viewer, and tabs of information."""

from .widget import EventDetail

__all__ = ["EventDetail"]
