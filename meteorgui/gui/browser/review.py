"""Review labels: their keys and colours, the undoable command, and the store that writes them."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from ...archive import browse
from ..common.labels import label_text
from ..common.tasks import TaskRunner


class ReviewCommand(QUndoCommand):
    """Label some events; undo gives each its previous label back.

    ``store.submit(command, undo)`` does the writing off the GUI thread, one
    request after another; the first redo records in ``previous`` the labels
    it replaced (in the writer thread, so an undo queued right behind it
    finds them).
    """

    def __init__(self, event_ids: list[str], label: str | None, store):
        n = len(event_ids)
        what = f"{n} event{'s' if n != 1 else ''}"
        text = (
            f"Clear the review of {what}"
            if label is None
            else f"Mark {what} as {label_text(label).lower()}"
        )
        super().__init__(text)
        self.event_ids = list(event_ids)
        self.label = label
        self.previous: dict[str, str | None] | None = None
        self._store = store

    def redo(self) -> None:
        self._store.submit(self, undo=False)

    def undo(self) -> None:
        self._store.submit(self, undo=True)


class ReviewStore:
    """Writes reviews in order on one thread of its own; shows them when stored."""

    def __init__(self, browser):
        self._browser = browser
        self._archive = browser.ctx.archive
        self._writer = TaskRunner(max_threads=1, name="meteorgui-review")
        self._last = None
        self.initial = False  # True while a command is first pushed (a fresh review)

    def submit(self, cmd: ReviewCommand, undo: bool) -> None:
        model = self._browser.model
        fresh = self.initial and not undo
        if fresh:
            model.keep(cmd.event_ids)  # before writing: the rows stay listed whatever the filter
        archive = self._archive

        def work():
            if undo:
                changes = dict(cmd.previous or {})
                browse.set_reviews(archive, changes)
                return changes
            previous = browse.review(archive, cmd.event_ids, cmd.label)
            if cmd.previous is None:
                cmd.previous = previous
            return {i: cmd.label for i in cmd.event_ids}

        self._last = self._writer.run(
            work, lambda changes: self._stored(changes, fresh), self._failed
        )

    def _stored(self, changes: dict, fresh: bool) -> None:
        self._browser.reviews_stored(changes, fresh)

    def _failed(self, exc: BaseException) -> None:
        self._browser.show_message(f"The review could not be stored: {exc}")

    def wait(self, timeout: float = 10) -> None:
        if self._last is not None:
            try:
                self._last.result(timeout)
            except Exception:  # noqa: BLE001 - reported by _failed already
                pass

    def shutdown(self) -> None:
        self.wait()
        self._writer.shutdown(wait=True)
