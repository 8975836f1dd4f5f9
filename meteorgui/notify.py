"""A tiny thread-safe publish/subscribe hub.

The importer publishes from waitress worker threads; subscribers (the CLI's
printer, the GUI's bridge) are called on the publishing thread and must hand
work to their own thread themselves. A failing subscriber is logged and never
breaks the publisher.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

# Topics
CONVERSATION = "conversation"  # payload: archive.Conversation
ARCHIVED = "archived"  # payload: (kind, entity) after commit
SERVER = "server"  # payload: dict(state=..., urls=[...], message=...)
SKY = "sky"  # payload: list of archive.sky.SkyResult just computed and stored
LOGIN_REFUSED = "login_refused"  # payload: importer.logins.Refused


class Hub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, list[Callable[[Any], None]]] = {}

    def subscribe(self, topic: str, callback: Callable[[Any], None]) -> Callable[[], None]:
        with self._lock:
            self._subs.setdefault(topic, []).append(callback)

        def unsubscribe() -> None:
            with self._lock:
                subs = self._subs.get(topic, [])
                if callback in subs:
                    subs.remove(callback)

        return unsubscribe

    def publish(self, topic: str, payload: Any) -> None:
        with self._lock:
            subs = list(self._subs.get(topic, ()))
        for callback in subs:
            try:
                callback(payload)
            except Exception:
                log.exception("a subscriber to %r failed", topic)
