"""The one bridge from worker threads to the GUI thread.

The importer publishes on a notify.Hub from waitress threads; the Bridge
re-emits each message as a Qt signal. A signal emitted from another thread is
queued to the Bridge's own (GUI) thread, so slots always run there and never
race with widgets or models.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from ... import notify


class Bridge(QObject):
    conversation = Signal(object)  # archive.Conversation, after it was persisted
    changed = Signal(object)  # every notify.Change to the archive, after its commit
    archived = Signal(object)  # the notify.Archived ones alone: (kind, entity)
    server = Signal(object)  # {"state": "running"|"stopped", "urls": [...]}
    login_refused = Signal(object)  # importer.logins.Refused
    sky = Signal(object)  # list of archive.sky.SkyResult just stored
    _call = Signal(object)

    def __init__(self, hub: notify.Hub, parent: QObject | None = None):
        super().__init__(parent)
        self._call.connect(self._run, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe = [
            hub.subscribe(notify.CONVERSATION, self.conversation.emit),
            hub.subscribe(notify.CHANGED, self._changed),
            hub.subscribe(notify.SERVER, self.server.emit),
            hub.subscribe(notify.LOGIN_REFUSED, self.login_refused.emit),
            hub.subscribe(notify.SKY, self.sky.emit),
        ]

    def _changed(self, change: notify.Change) -> None:  # on the publisher's thread
        self.changed.emit(change)
        if isinstance(change, notify.Archived):
            self.archived.emit(change)

    def run_on_main(self, fn: Callable[[], None]) -> None:
        """Run a closure on the GUI thread (from any thread)."""
        self._call.emit(fn)

    @Slot(object)
    def _run(self, fn: Callable[[], None]) -> None:
        fn()

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
