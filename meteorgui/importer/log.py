"""The import log's writer: one thread that persists conversation steps in batches.

A camera's request only appends its log entry to a list; the writer wakes at
most every ``DELAY`` seconds, commits whatever has gathered in one transaction
(steps about the same conversation folded into one update), then publishes
each updated Conversation on the hub (for the GUI and the CLI). Entities
themselves are committed on the request path, before the importer answers;
only the log is written behind.

A batch that cannot be written (a full disk) is kept, ahead of the steps that
came after it, and tried again with a growing pause, so the log is complete once
there is room again. At most MAX_KEPT steps wait; beyond that the oldest go
(counted in the log file), so a disk that never recovers cannot take the memory.
"""

from __future__ import annotations

import logging
import threading

from .. import notify
from ..archive import Archive

log = logging.getLogger(__name__)

DELAY = 0.1  # seconds a step may wait to be written with the ones after it
MAX_KEPT = 200_000  # steps kept while they cannot be written
RETRY_MAX = 30.0  # seconds between attempts at most


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
        self._failures = 0  # attempts in a row that could not write
        self.dropped = 0  # steps given up on (too many waiting, or closed while failing)

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
                written = self._archive.conversations.record_many(batch)
            except Exception as exc:  # a full or failing disk: keep the batch, try again
                self._failed(batch, exc)
                continue
            with self._cond:
                self._failures = 0
                self._pending -= len(batch)
                self._cond.notify_all()
            for conversation in written:
                self._hub.publish(notify.CONVERSATION, conversation)

    def _failed(self, batch: list[dict], exc: Exception) -> None:
        with self._cond:
            self._failures += 1
            if self._failures == 1 or self._failures % 20 == 0:
                log.error(
                    "could not write %d import log steps (attempt %d; kept, trying again): %s",
                    len(batch),
                    self._failures,
                    exc,
                )
            if self._closed:
                self._drop(len(batch), "the import log was closed while it could not write")
                return
            self._entries[:0] = batch
            excess = len(self._entries) - MAX_KEPT
            if excess > 0:
                del self._entries[:excess]
                self._drop(excess, f"more than {MAX_KEPT} steps were waiting")
            pause = min(RETRY_MAX, 0.2 * 2 ** min(self._failures, 10))
            self._cond.wait_for(lambda: self._closed, pause)

    def _drop(self, n: int, why: str) -> None:
        """Give up on n steps (with the lock held)."""
        self.dropped += n
        self._pending -= n
        log.error("dropped %d import log steps: %s", n, why)
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
