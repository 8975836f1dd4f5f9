"""The event browser: filters, a lazily paged grid or table of events, review, time-lapse strip."""

from .widget import EventBrowser

__all__ = ["EventBrowser"]
