"""The import log's writer: one thread that persists conversation steps in batches.

A camera's request only appends its log entry to a list; the writer wakes at
most every ``DELAY`` seconds, commits whatever has gathered in one transaction
(steps about the same conversation folded into one update), then publishes
each updated Conversation on the hub (for the GUI and the CLI). Entities
themselves are committed on the request path, before the importer answers;
only the log is written behind.
"""

from __future__ import annotations

import logging
import threading

from .. import notify
from ..archive import Archive

log = logging.getLogger(__name__)

DELAY = 0.1  # seconds a step may wait to be written with the ones after it


class ImportLog:
    def __init__(self, archive: Archive, hub: notify.Hub, delay: float = DELAY):
        self._archive = archive
        self._hub = hub
        self._delay = delay
        self._cond = threading.Condition()
        self._entries: list[dict] = []
        self._pending = 0  # recorded and not yet written
        self._hurry = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def record(self, **entry) -> None:
        """Queue one step of a conversation (the arguments of Conversations.record)."""
        with self._cond:
            if self._closed:
                log.warning(
                    "import log closed; dropped a step about %s %s",
                    entry.get("kind"),
                    entry.get("entity_id"),
                )
                return
            self._entries.append(entry)
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="meteorgui-import-log", daemon=True
                )
                self._thread.start()
            elif len(self._entries) == 1:
                self._cond.notify_all()  # the writer sleeps until there is something

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._entries or self._closed)
                if not self._entries:
                    return
                # Let the next steps of these conversations gather, unless asked to hurry.
                self._cond.wait_for(lambda: self._hurry or self._closed, self._delay)
                batch, self._entries = self._entries, []
                self._hurry = False
            try:
                for conversation in self._archive.conversations.record_many(batch):
                    self._hub.publish(notify.CONVERSATION, conversation)
            except Exception:
                log.exception("could not write %d import log entries", len(batch))
            finally:
                with self._cond:
                    self._pending -= len(batch)
                    self._cond.notify_all()

    def flush(self, timeout: float = 30) -> bool:
        """Write and publish everything recorded so far, now. False on timeout."""
        with self._cond:
            self._hurry = True
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 30) -> None:
        """Write what is recorded and stop the writer; later steps are dropped (logged)."""
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
