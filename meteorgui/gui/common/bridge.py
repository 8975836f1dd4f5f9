"""The one bridge from worker threads to the GUI thread.

The importer publishes on a notify.Hub from waitress threads; the Bridge
re-emits each message as a Qt signal on its own (GUI) thread, so slots always run
there and never race with widgets or models.

Each message crosses threads once, through the GUI thread's mailbox (which the
publisher reaches without a Qt call, see ``mailbox``), and is emitted from there to every
slot. A signal emitted on the publisher's thread would be queued once per connected slot
instead: each delivery a call from Qt into Python that takes the GIL anew, waiting for
it while the importer's threads run Python (a conversation step has four slots, an
archived event seven).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QObject, Signal

from ... import notify
from . import mailbox


class Bridge(QObject):
    conversation = Signal(object)  # archive.Conversation, after it was persisted
    changed = Signal(object)  # every notify.Change to the archive, after its commit
    archived = Signal(object)  # the notify.Archived ones alone: (kind, entity)
    server = Signal(object)  # {"state": "running"|"stopped", "urls": [...]}
    login_refused = Signal(object)  # importer.logins.Refused
    sky = Signal(object)  # list of archive.sky.SkyResult just stored

    def __init__(self, hub: notify.Hub, parent: QObject | None = None):
        super().__init__(parent)
        self._mailbox = mailbox.shared()
        self._unsubscribe = [
            hub.subscribe(notify.CONVERSATION, self._queued(self.conversation.emit)),
            hub.subscribe(notify.CHANGED, self._queued(self._emit_changed)),
            hub.subscribe(notify.SERVER, self._queued(self.server.emit)),
            hub.subscribe(notify.LOGIN_REFUSED, self._queued(self.login_refused.emit)),
            hub.subscribe(notify.SKY, self._queued(self.sky.emit)),
        ]

    def _queued(self, emit: Callable[[object], None]) -> Callable[[object], None]:
        """A hub subscriber (called on the publisher's thread) that has emit(message)
        run on the GUI thread."""
        return lambda message: self._mailbox.post(partial(emit, message), self)

    def _emit_changed(self, change: notify.Change) -> None:  # the archived ones twice
        self.changed.emit(change)
        if isinstance(change, notify.Archived):
            self.archived.emit(change)

    def run_on_main(self, fn: Callable[[], None]) -> None:
        """Run a closure on the GUI thread (from any thread)."""
        self._mailbox.post(fn, self)

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self._mailbox.discard(self)
