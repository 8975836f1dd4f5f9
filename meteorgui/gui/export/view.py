"""The export progress view (the content of the Export dock).

A dock rather than a window: an export can run for hours while the user goes
on browsing and reviewing, and the dock sits with the import monitor and
the log, where incoming and outgoing traffic are watched; it is one toggle
away in the View and Export menus, and it is where a queue left over from an
earlier session is shown with its Resume button at start.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ... import notify
from ...archive.queued import QueueSummary, entity_infos, queue_summary
from ...exporter import runner as R
from ...formatting import size
from ..common import style
from ..common.text import escape
from .progress import COLUMNS, FAILED, MAX_ROWS, ProgressModel
from .service import ExportService, Leftover

log = logging.getLogger(__name__)


REFRESH_MS = 100  # the state line's and totals' redraws while a round runs


class ExportProgressView(QWidget):
    def __init__(self, ctx, service: ExportService, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.service = service
        self.model = ProgressModel(self)
        self.summary: QueueSummary | None = None
        self._done = self._failed_since = 0  # entities finished since the target was shown
        self._done_bytes = self._bytes_base = self._uploaded = 0
        self._remaining: int | None = None
        self._outcome = ""  # how the last round ended, shown until the next starts
        self._leftovers: dict[str, Leftover] = {}
        self._following = True  # the table scrolls along with the round
        self._gen = 0
        # An entity's steps come several times a millisecond from a fast target: the state
        # line, totals and bar are redrawn at most this often while a round runs (each
        # redraw looks at every entry, so once per step made a long round quadratic).
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self._refresh)

        self.target = QComboBox(self)
        self.target.setMinimumContentsLength(18)
        self.target.currentIndexChanged.connect(self._target_chosen)
        self.state = QLabel(self)  # rich: quotes (escaped) target names and errors
        self.state.setTextFormat(Qt.TextFormat.RichText)
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner = QLabel(self)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.banner.setStyleSheet(
            f"background: {style.palette().note_bg}; color: {style.palette().note_fg};"
            f" border: 1px solid {style.palette().note_border};"
            " border-radius: 4px; padding: 6px;"
        )
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(12)
        self.totals = QLabel(self)
        self.resume_button = QPushButton("Resume", self)
        self.resume_button.setToolTip("Send what is queued for this target now")
        self.resume_button.clicked.connect(self.resume)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop this export; what was not sent stays queued")
        self.cancel_button.clicked.connect(self.cancel)
        self.retry_button = QPushButton("Retry failed", self)
        self.retry_button.setToolTip("Put the failed entities back in line and send them")
        self.retry_button.clicked.connect(self.retry_failed)
        self.clear_button = QPushButton("Clear finished", self)
        self.clear_button.clicked.connect(self.model.clear_finished)

        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for col, width in enumerate((400, 80, 230)):
            self.table.setColumnWidth(col, width)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)

        top = QHBoxLayout()
        top.addWidget(QLabel("Target", self))
        top.addWidget(self.target)
        top.addSpacing(8)
        top.addWidget(self.state, 1)
        for b in (self.resume_button, self.cancel_button, self.retry_button, self.clear_button):
            top.addWidget(b)
        progress = QHBoxLayout()
        progress.addWidget(self.bar, 1)
        progress.addWidget(self.totals, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addLayout(progress)
        layout.addWidget(self.table, 1)

        service.targetsChanged.connect(self._targets)
        service.progress.connect(self._progress)
        service.roundRunning.connect(
            lambda tid, _on: self._refresh() if tid == self.target_id else None
        )
        service.jobFinished.connect(self._job_finished)
        # Entities queued, put back in line or taken out, from anywhere (the export dialog,
        # a rule, a resend request heard by a round, a script): read the queue again.
        ctx.bridge.changed.connect(self._archive_changed)
        service.leftoversFound.connect(self.show_leftovers)
        self._refresh()

    # ------------------------------------------------------------------ public

    @property
    def target_id(self) -> str | None:
        return self.target.currentData()

    def show_target(self, target_id: str) -> None:
        i = self.target.findData(target_id)
        if i >= 0 and i != self.target.currentIndex():
            self.target.setCurrentIndex(i)
        elif i >= 0:
            self.reload()

    def resume(self) -> None:
        tid = self.target_id
        if tid is not None and self.service.start(tid):
            self._leftovers.pop(tid, None)
            self._outcome = ""
            self._refresh()

    def cancel(self) -> None:
        if self.target_id is not None:
            self.service.cancel(self.target_id)

    def retry_failed(self) -> None:
        if self.target_id is not None:
            self._outcome = ""
            self.service.retry_failed(self.target_id)

    def show_leftovers(self, found: list[Leftover]) -> None:
        self._leftovers = {x.target.target_id: x for x in found}
        if found and (self.target_id not in self._leftovers):
            self.show_target(found[0].target.target_id)
        self._refresh()

    def reload(self) -> None:
        """Read the target's queue and counts again (in the pool)."""
        tid = self.target_id
        self._gen += 1
        gen = self._gen
        if tid is None:
            return
        archive, queue = self.ctx.archive, self.service.exporter.queue

        def work():
            items = queue.items(tid, limit=MAX_ROWS)
            return (
                items,
                entity_infos(archive, [i.entity_id for i in items]),
                queue_summary(archive, tid),
            )

        self.service.run(work, lambda res: self._loaded(gen, tid, *res), owner=self)

    # ------------------------------------------------------------------ loading

    def _archive_changed(self, change: notify.Change) -> None:
        if isinstance(change, notify.QueueChanged) and change.target_id == self.target_id:
            self.reload()

    def _targets(self, targets) -> None:
        current = self.target_id
        self.target.blockSignals(True)
        self.target.clear()
        for t in targets:
            self.target.addItem(t.name, t.target_id)
        i = self.target.findData(current) if current is not None else -1
        self.target.setCurrentIndex(i if i >= 0 else (0 if targets else -1))
        self.target.blockSignals(False)
        if self.target_id != current:
            self._target_chosen()
        else:
            self._refresh()

    def _target_chosen(self, *_args) -> None:
        self.model.set_target(self.target_id)
        self.summary = None
        self._done = self._failed_since = self._done_bytes = self._bytes_base = 0
        self._uploaded = 0
        self._remaining = None
        self._outcome = ""
        self.reload()
        self._refresh()

    def _loaded(self, gen, tid, items, infos, summary: QueueSummary) -> None:
        if gen != self._gen or tid != self.target_id:
            return
        self.model.merge_queue(items, infos)
        self._set_summary(summary)

    def _set_summary(self, summary: QueueSummary) -> None:
        self.summary = summary
        self._failed_since = 0
        self._bytes_base = self._done_bytes
        if not self.service.running(summary.target_id):
            self._remaining = None
        self._refresh()

    # ------------------------------------------------------------------ progress

    def _progress(self, event: R.ExportEvent) -> None:
        if event.target_id != self.target_id:
            return
        entry_before = self.model.entry(event.item.entity_id) if event.item else None
        size = entry_before.size if entry_before is not None else 0
        added, delta = self.model.apply(event)
        self._uploaded += delta
        if added:
            archive = self.ctx.archive
            self.service.run(lambda: entity_infos(archive, added), self.model.set_infos, owner=self)
        if event.kind == R.ROUND_STARTED:
            self._remaining = event.remaining
            self._outcome = ""
        elif event.kind == R.ITEM_STARTED:
            self._follow(event.item.entity_id)
        elif event.kind == R.ITEM_DONE and event.result is not None:
            self._remaining = event.remaining
            res = event.result
            if res.ok or (res.state == "failed" and not res.target_problem):
                self._done += 1
                self._done_bytes += size
                self._failed_since += 0 if res.ok else 1
        elif event.kind == R.ROUND_DONE and event.round is not None:
            self._outcome = outcome_text(event.round, self.target.currentText())
            self.reload()
        if event.kind in (R.ROUND_STARTED, R.ROUND_DONE):
            self._refresh()
        elif not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _follow(self, entity_id: str) -> None:
        """Keep the entity being sent in view, unless the user scrolled elsewhere."""
        row = self.model.row_of(entity_id)
        if row < 0:
            return
        rect = self.table.viewport().rect()
        prev = self.table.visualRect(self.model.index(max(0, row - 1), 0))
        if self._following or rect.intersects(prev):
            self.table.scrollTo(
                self.model.index(row, 0), QAbstractItemView.ScrollHint.EnsureVisible
            )
        self._following = rect.intersects(self.table.visualRect(self.model.index(row, 0)))

    def _job_finished(self, target_id: str, result) -> None:
        if target_id != self.target_id:
            return
        if isinstance(result, BaseException):
            failed = escape(f"The export failed: {result}")
            self._outcome = f"<span style='color:{style.ERROR}'>{failed}</span>"
        elif result is not None and result.error and not self._outcome:
            self._outcome = outcome_text(result, self.target.currentText())  # no round ran
        self.reload()

    # ------------------------------------------------------------------ showing

    def _refresh(self) -> None:
        self._refresh_timer.stop()
        tid = self.target_id
        running = tid is not None and self.service.running(tid)
        manual = tid is not None and self.service.manual(tid)
        s = self.summary
        pending = s.pending if s is not None else 0
        failed = (s.failed if s is not None else 0) + self._failed_since
        remaining = self._remaining if self._remaining is not None else pending
        name = self.target.currentText()
        if tid is None:
            self.state.setText("No export targets yet: add one under Export ▸ Export targets…")
        elif running:
            who = "" if manual else " (a scheduled rule)"
            self.state.setText(f"<b>Sending to {escape(name)}</b>{who}…")
        elif self._outcome:
            self.state.setText(self._outcome)
        elif pending:
            self.state.setText(f"{pending:,} waiting to be sent to {escape(name)}")
        else:
            self.state.setText(f"Nothing waiting for {escape(name)}")
        self.resume_button.setEnabled(bool(tid) and not running and pending > 0)
        self.cancel_button.setEnabled(running)
        self.cancel_button.setToolTip(
            "Stop this export; what was not sent stays queued"
            if manual or not running
            else "Stop the scheduled rule's round; what was not sent stays queued and the rule "
            "runs again after its interval (disable the rule to keep it from starting again)"
        )
        self.retry_button.setEnabled(
            failed > 0 or any(e.state == FAILED for e in self.model.entries())
        )
        left = self._leftovers.get(tid) if tid is not None else None
        if left is not None and not running and pending:
            text = (
                f"{pending:,} entities queued for <b>{escape(name)}</b> in an earlier session "
                "have not been sent yet."
            )
            if left.rules:
                rules = ", ".join(f"'{escape(r)}'" for r in left.rules)
                text += f" The scheduled rule {rules} sends them at its next run, or "
                text += "press Resume to send them now."
            else:
                text += " Press Resume to send them now."
            self.banner.setText(text)
            self.banner.setVisible(True)
        else:
            self.banner.setVisible(False)
        total = self._done + remaining
        total_bytes = self._bytes_base + (s.pending_bytes if s is not None else 0)
        total_bytes = max(total_bytes, self._done_bytes)
        parts = [f"{self._done:,} of {total:,} entities done", f"{remaining:,} remaining"]
        if failed:
            parts.append(f"<span style='color:{style.ERROR}'>{failed:,} failed</span>")
        if total_bytes:
            parts.append(f"{size(self._done_bytes)} of {size(total_bytes)}")
        parts.append(f"{size(self._uploaded)} uploaded")
        self.totals.setText(" · ".join(parts))
        frac = (
            self._done_bytes / total_bytes
            if total_bytes
            else (self._done / total if total else 0.0)
        )
        self.bar.setValue(int(1000 * min(1.0, frac)))


def outcome_text(result: R.RoundResult, name: str) -> str:
    if result.error:
        return (
            f"<span style='color:{style.ERROR}'><b>Stopped:</b> {escape(result.error)}</span>"
            "<br>What was not sent stays queued: press Resume to try again (a scheduled rule "
            "tries at its next run)."
        )
    if result.cancelled:
        return (
            f"<span style='color:{style.WARNING}'>Cancelled: {result.left:,} entities stay "
            "queued; Resume sends them</span>"
        )
    if result.failed:
        return (
            f"<span style='color:{style.ERROR}'>{result.complete:,} sent, {result.failed:,}"
            " failed (see their reasons below)</span>"
        )
    if result.stopped:
        return f"Paused: {result.left:,} entities wait for the next run"
    return (
        f"<span style='color:{style.OK}'>✓ Everything queued is at {escape(name)} "
        f"({result.complete:,} sent)</span>"
    )
