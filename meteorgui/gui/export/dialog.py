"""Export… : send the selected events and stills, or everything the browser's filters match,
to a target.

What the browser's filters match becomes an ``exports.Selection`` when it can
(``selection_from_query``): one SQL statement queues it however large. Free
text, and "not yet exported to" another target, have no Selection field:
then the matching event ids are read (in the pool) and queued by id.
Entities the target already has are skipped unless "Send again" is ticked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ... import notify
from ...archive import browse, exports
from ...archive.browse import Query
from ...archive.exports import Selection
from ..common import style
from ..common.tasks import alive, report
from ..common.text import escape


def selection_from_query(
    q: Query, target_id: str | None = None, force: bool = False
) -> Selection | None:
    """The export search for what a browser query lists (its events, and the standalone
    stills of its range and camera when no type or review filter is set), or None when the
    query says something a Selection cannot: free text, a shower or multi-camera filter, or
    "not yet exported to" another target (or to this one, when sending again)."""
    if q.text.split() or q.shower is not None or q.multi_camera:
        return None
    if q.not_exported_to is not None and (q.not_exported_to != target_id or force):
        return None
    return Selection(
        camera_id=q.camera_id,
        after=q.after,
        before=q.before,
        event_type=q.event_type,
        review=q.review,
    )


def matching_event_ids(archive, q: Query) -> list[str]:
    """Every event id a browser query lists, in its order (runs in the pool)."""
    q = q.replace(keep=frozenset())
    out: list[str] = []
    with browse.snapshot(archive) as (conn, mark):
        last = None
        while True:
            rows = browse.page(conn, q, 0, browse.ID_PAGE, upto=mark, after=last)
            out.extend(r.event_id for r in rows)
            if len(rows) < browse.ID_PAGE:
                return out
            last = rows[-1]


@dataclass(frozen=True)
class Scope:
    """What an export takes: the browser's selection, or what its filters match."""

    files: tuple[str, ...]  # selected still ids
    n_events: int  # selected events
    n_files: int
    query: Query | None  # the browser's filters (None while it shows nothing)
    read_events: Callable[[], list[str]] = list  # (pool) the selected events' ids

    @classmethod
    def of(cls, browser) -> Scope:
        n, read = browser.selected_events()
        files = browser.selected_file_ids()
        return cls(tuple(files), n, len(files), browser.filters.query(), read)

    @property
    def has_selection(self) -> bool:
        return bool(self.n_events or self.n_files)

    def selected_ids(self) -> list[str]:
        """Every selected event's and still's id (runs in the pool: the selected rows
        the browser has not read are read from the archive)."""
        return [*(self.read_events() if self.n_events else ()), *self.files]

    def selected_text(self) -> str:
        parts = []
        for n, word in ((self.n_events, "event"), (self.n_files, "time-lapse still")):
            if n == 1:
                parts.append(f"{word}")
            elif n:
                parts.append(f"{n:,} {word}s")
        if not parts:
            return "The selection (nothing is selected)"
        return "The selected " + " and the selected ".join(parts)


def resolve(
    archive, scope: Scope, use_selection: bool, target_id: str | None, force: bool
) -> tuple[list[str] | None, Selection | None]:
    """(ids, None) or (None, selection) to export (runs in the pool)."""
    if use_selection:
        return scope.selected_ids(), None
    if scope.query is None:
        return [], None
    sel = selection_from_query(scope.query, target_id, force)
    if sel is not None:
        return None, sel
    return matching_event_ids(archive, scope.query), None


def preview(
    exporter, scope: Scope, use_selection: bool, target_id: str, force: bool
) -> tuple[int, int]:
    """(entities matching, of which the target has) — runs in the pool."""
    archive = exporter.archive
    ids, sel = resolve(archive, scope, use_selection, target_id, force)
    if sel is not None:
        return exports.scope_counts(archive, sel, int(time.time() * 1000), target_id)
    return len(ids), len(exporter.history.exported_to(target_id, ids))


def enqueue(
    exporter, scope: Scope, use_selection: bool, target_id: str, force: bool
) -> tuple[int, int]:
    """Queue the scope for the target; (rows added, now pending) — runs in the pool."""
    ids, sel = resolve(exporter.archive, scope, use_selection, target_id, force)
    q = exporter.queue
    if sel is not None:
        added = q.enqueue_selection(target_id, sel, force=force, source="manual")
    else:
        added = q.enqueue_ids(target_id, ids, force=force, source="manual")
    return added, q.pending(target_id)


class ScopeChooser(QWidget):
    """Two choices: the selection, or everything the filters match."""

    changed = Signal()

    def __init__(self, scope: Scope, parent=None):
        super().__init__(parent)
        self.scope = scope
        self.selected = QRadioButton(scope.selected_text(), self)
        self.matching = QRadioButton("Everything the browser's filters match", self)
        has = scope.has_selection
        self.selected.setEnabled(has)
        self.matching.setEnabled(scope.query is not None)
        (self.selected if has else self.matching).setChecked(True)
        self.selected.toggled.connect(lambda _c: self.changed.emit())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.selected)
        layout.addWidget(self.matching)

    def use_selection(self) -> bool:
        return self.selected.isChecked()


class ExportDialog(QDialog):
    """Events ▸ Export… (Ctrl+E). ``started(target_id)`` once a round was asked for."""

    started = Signal(str)
    manageTargets = Signal()

    def __init__(self, service, scope: Scope, parent=None, target_id: str | None = None):
        super().__init__(parent)
        self.service = service
        self.scope = scope
        self.outcome = ""
        self.counts: tuple[int, int] | None = None  # (matching, already at the target)
        self._gen = 0
        self.setWindowTitle("Export to a server")
        self.resize(520, 0)
        self.chooser = ScopeChooser(scope, self)
        self.target = QComboBox(self)
        self.target.setMinimumContentsLength(20)
        manage = QPushButton("Targets…", self)
        manage.clicked.connect(self.manageTargets)
        target_row = QHBoxLayout()
        target_row.addWidget(self.target, 1)
        target_row.addWidget(manage)
        self.force = QCheckBox("Send again even if already exported", self)
        self.force.setToolTip("Normally what the target already has is skipped")
        self.info = QLabel(self)  # rich: quotes (escaped) what a target said
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setWordWrap(True)
        self.info.setMinimumHeight(self.fontMetrics().height() * 2)
        form = QFormLayout()
        form.addRow("Export", self.chooser)
        form.addRow("To", target_row)
        form.addRow("", self.force)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.info)
        layout.addWidget(self.buttons)
        self.chooser.changed.connect(self._update)
        self.target.currentIndexChanged.connect(self._update)
        self.force.toggled.connect(self._update)
        service.targetsChanged.connect(self._targets)
        service.ctx.bridge.changed.connect(self._archive_changed)
        self._targets(service.targets, target_id)

    def _archive_changed(self, change: notify.Change) -> None:
        """The target's history was forgotten (anywhere): what it has must be counted again."""
        forgotten = isinstance(change, notify.HistoryForgotten)
        if forgotten and change.target_id == self.target.currentData():
            self._update()

    def _targets(self, targets, prefer: str | None = None) -> None:
        current = prefer or self.target.currentData()
        self.target.blockSignals(True)
        self.target.clear()
        for t in targets:
            self.target.addItem(t.name, t.target_id)
        self.target.setCurrentIndex(max(0, self.target.findData(current)))
        self.target.blockSignals(False)
        self._update()

    def _update(self) -> None:
        self._gen += 1
        gen = self._gen
        tid = self.target.currentData()
        if tid is None:
            self.export_button.setEnabled(False)
            self.info.setText("No export target yet: add one with Targets…")
            return
        self.export_button.setEnabled(True)
        self.counts = None
        self.info.setText("Counting…")
        args = (self.scope, self.chooser.use_selection(), tid, self.force.isChecked())
        exporter = self.service.exporter
        self.service.run(
            lambda: preview(exporter, *args),
            lambda res: self._counted(gen, *res),
            lambda exc: self._say(str(exc), error=True),
            owner=self,
        )

    def _counted(self, gen: int, total: int, have: int) -> None:
        if gen != self._gen:
            return
        self.counts = (total, have)
        name = self.target.currentText()
        items = f"{total:,} item{'s' if total != 1 else ''}"
        if total == 0:
            text = "Nothing matches."
        elif have == 0:
            text = f"{items} will be sent."
        elif self.force.isChecked():
            text = f"{items} will be sent, {have:,} of them again: {name} has them already."
        elif have == total:
            text = f"{name} already has {'it' if total == 1 else f'all {items}'}: nothing to send."
        else:
            text = (
                f"{total - have:,} of {items} will be sent; {have:,} already at {name} are skipped."
            )
        self.info.setText(escape(text))

    def _say(self, text: str, error: bool = False) -> None:
        self.outcome = text
        shown = escape(text)
        self.info.setText(f"<span style='color:{style.ERROR}'>{shown}</span>" if error else shown)

    def export(self) -> None:
        tid = self.target.currentData()
        if tid is None:
            return
        self.export_button.setEnabled(False)
        args = (self.scope, self.chooser.use_selection(), tid, self.force.isChecked())
        exporter = self.service.exporter
        # No owner: what was queued is sent even if the dialog was closed meanwhile.
        self.service.run(
            lambda: enqueue(exporter, *args), lambda res: self._queued(tid, *res), self._not_queued
        )

    def _not_queued(self, exc: BaseException) -> None:
        if alive(self):
            self._say(f"Nothing was queued: {exc}", error=True)
            self.export_button.setEnabled(True)
        else:  # the dialog is gone: the standard way
            report(exc)

    def _queued(self, tid: str, added: int, pending: int) -> None:
        # Even with nothing new queued, a round asks the target what it wants again (its
        # resend list) and sends that.
        if not self.service.running(tid):
            self.service.start(tid)
        if not alive(self):
            return
        if pending == 0:
            name = self.target.currentText()
            self._say(
                f"Nothing new to send: {name} already has all of them (anything it asks "
                "for again goes now). Tick “Send again” to send them anyway."
            )
            self.export_button.setEnabled(True)
            return
        self.outcome = f"{added:,} queued"
        self.started.emit(tid)
        self.accept()


__all__ = [
    "ExportDialog",
    "Scope",
    "ScopeChooser",
    "enqueue",
    "matching_event_ids",
    "selection_from_query",
]
