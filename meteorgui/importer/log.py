"""The import log's writer: one thread that persists conversation steps in batches.

A camera's request only queues its log entry; the writer commits whatever has
queued in one transaction, then publishes each updated Conversation on the
hub (for the GUI and the CLI). Entities themselves are committed on the
request path, before the importer answers; only the log is written behind.
"""

from __future__ import annotations

import logging
import queue
import threading

from .. import notify
from ..archive import Archive

log = logging.getLogger(__name__)

BATCH = 256


class ImportLog:
    def __init__(self, archive: Archive, hub: notify.Hub):
        self._archive = archive
        self._hub = hub
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._closed = False

    def record(self, **entry) -> None:
        """Queue one step of a conversation (the arguments of Conversations.record)."""
        with self._lock:
            if self._closed:
                log.warning("import log closed; dropped a step about %s %s",
                            entry.get("kind"), entry.get("entity_id"))
                return
            self._pending += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="meteorgui-import-log",
                                                daemon=True)
                self._thread.start()
        self._queue.put(entry)

    def _run(self) -> None:
        while True:
            entry = self._queue.get()
            if entry is None:
                return
            batch = [entry]
            while len(batch) < BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(more)
            try:
                written = self._archive.conversations.record_many(batch)
            except Exception:
                log.exception("could not write %d import log entries", len(batch))
                written = []
            finally:
                with self._lock:
                    self._pending -= len(batch)
                    self._idle.notify_all()
            for conversation in written:
                self._hub.publish(notify.CONVERSATION, conversation)

    def flush(self, timeout: float = 30) -> bool:
        """Wait until everything queued so far is written. False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 30) -> None:
        """Write what is queued and stop the writer; later steps are dropped (logged)."""
        self.flush(timeout)
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout)
