"""Event detail: a filmstrip of the event's files, a viewer, and tabs of information.

The pane's modules load when ``EventDetail`` is first asked for: the window builds the
pane after its first page of events, and shows ``empty.no_event_page`` until then.
"""

from __future__ import annotations

__all__ = ["EventDetail"]


def __getattr__(name: str):
    if name == "EventDetail":
        from .widget import EventDetail

        return EventDetail
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
