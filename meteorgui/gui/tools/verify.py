"""Verify archive: re-hash every stored file in the background, list what is damaged or missing."""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from ...archive import FileCheck
from ...formatting import shown, size
from ..common import style
from ..common.elide import fit_headers, full_text_tips
from ..common.tablemodel import RowsModel
from ..common.tasks import Token
from ..common.text import plain, plain_tip

FILE_NAME_MAX_WIDTH = 240

PROGRESS_EVERY_S = 0.1  # at most ten progress updates a second reach the GUI
STATE_COLOURS = {"damaged": "error", "missing": "warning"}  # by palette name
COLUMNS = ("File", "Event", "Name", "Type", "Size", "Camera", "Time", "State")


@dataclass(frozen=True)
class VerifyOutcome:
    problems: list[FileCheck]
    checked: int
    total: int
    cancelled: bool
    seconds: float


class RunningChecks:
    """A shared service: cancels running verifications when the app shuts down, so
    quitting never waits for a whole archive to be hashed."""

    def __init__(self):
        self.tokens: set[Token] = set()

    def shutdown(self) -> None:
        for token in list(self.tokens):
            token.cancel()


class ProblemModel(RowsModel):
    """Damaged and missing files, appended as the check finds them."""

    columns = COLUMNS

    def append(self, checks: list[FileCheck]) -> None:
        if not checks:
            return
        n = len(self._rows)
        self.beginInsertRows(QModelIndex(), n, n + len(checks) - 1)
        self._rows.extend(checks)
        self.endInsertRows()

    def clear(self) -> None:
        if self._rows:
            self.beginRemoveRows(QModelIndex(), 0, len(self._rows) - 1)
            self._rows.clear()
            self.endRemoveRows()

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        c: FileCheck | None = self.item_at(index)
        if c is None:
            return None
        col = index.column()
        f = c.file
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return f.file_id[:8]
            if col == 1:
                return c.event_id[:8] if c.event_id else "time-lapse"
            if col == 2:
                return f.file_name or ""
            if col == 3:
                return f.mime_type
            if col == 4:
                return size(f.file_size)
            if col == 5:
                return f.camera_id
            if col == 6:
                return shown(f.file_time).strftime("%Y-%m-%d %H:%M:%S")
            return c.state
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 0:
                return plain_tip(f"file {f.file_id}\nMD5 {f.md5}")
            if col == 1 and c.event_id:
                return plain_tip(f"event {c.event_id}")
            if col == 7:
                return (
                    "The stored bytes no longer match the file's MD5"
                    if c.state == "damaged"
                    else "No bytes are stored for this file"
                )
            return None
        if role == Qt.ItemDataRole.ForegroundRole and col == 7:
            return QColor(style.colour(STATE_COLOURS.get(c.state, "muted")))
        if role == Qt.ItemDataRole.FontRole and col == 7:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class VerifyDialog(QDialog):
    """Re-hash every archived file against its MD5; cancellable; damaged items resendable."""

    finishedChecks = Signal(object)  # VerifyOutcome

    def __init__(self, ctx, parent=None, *, autostart: bool = True):
        super().__init__(parent)
        self.ctx = ctx
        self.token: Token | None = None
        self.outcome: VerifyOutcome | None = None
        self.resend_dialog = None
        self._closed = False
        self.setWindowTitle("Verify archive")
        self.resize(900, 520)

        intro = QLabel(
            "Every stored file is read again and its MD5 compared with the one the "
            "camera sent. Damaged or missing files can be asked for again."
        )
        intro.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = plain(QLabel("Not started"))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop checking; what was found so far stays listed")
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)

        self.model = ProblemModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)  # one line a problem: a size of the first rows' width
        # Sized to the first rows once they come (_sized), not continuously: measuring
        # every row of tens of thousands of problems froze the window for a second.
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # The state is last and short: it keeps its width; long file names are cut instead
        # (their tooltip has them whole).
        self.view.horizontalHeader().setStretchLastSection(False)
        full_text_tips(self.view)
        self._sized = False
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)

        self.resend_selected = QPushButton("Request resend for selected…")
        self.resend_all = QPushButton("Request resend for all…")
        self.again_button = QPushButton("Verify again")
        self.close_button = QPushButton("Close")
        self.resend_selected.clicked.connect(lambda: self.request_resend(selected_only=True))
        self.resend_all.clicked.connect(lambda: self.request_resend(selected_only=False))
        self.again_button.clicked.connect(self.start)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.resend_selected)
        buttons.addWidget(self.resend_all)
        buttons.addStretch(1)
        buttons.addWidget(self.again_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self._update_buttons()
        if autostart:
            self.start()

    @property
    def running(self) -> bool:
        return self.token is not None

    def start(self) -> None:
        if self.running:
            return
        self.model.clear()
        self.outcome = None
        self.token = token = Token()
        if self.ctx.verify is None:
            self.ctx.verify = RunningChecks()
        checks = self.ctx.verify
        checks.tokens.add(token)
        self.progress.setRange(0, 0)  # busy until the first count arrives
        self.status.setText("Counting files…")
        self._update_buttons()
        archive, bridge = self.ctx.archive, self.ctx.bridge
        found: list[FileCheck] = []
        unsent: list[FileCheck] = []  # found since the last progress update (worker-owned)
        last = [0.0]

        def progress(done: int, total: int) -> None:
            t = time.monotonic()
            if t - last[0] < PROGRESS_EVERY_S and done != total:
                return
            last[0] = t
            new = unsent[:]
            unsent.clear()
            bridge.run_on_main(lambda: self._progress(token, done, total, new))

        def check_all() -> VerifyOutcome:
            started = time.monotonic()
            checked, total = 0, [0]

            def counted(done: int, n: int) -> None:
                total[0] = n
                progress(done, n)

            # iter_file_checks reports progress after each check the loop below has taken.
            for check in archive.iter_file_checks(
                progress=counted, cancelled=lambda: token.cancelled
            ):
                checked += 1
                if check.state != "ok":
                    found.append(check)
                    unsent.append(check)
            if not total[0]:
                total[0] = archive.count("files") if not token.cancelled else checked
            return VerifyOutcome(
                found, checked, total[0], token.cancelled, time.monotonic() - started
            )

        def work() -> VerifyOutcome:
            try:
                return check_all()
            finally:
                checks.tokens.discard(token)

        self.ctx.tasks.run(
            work, lambda o: self._finished(token, o), lambda e: self._failed(token, e)
        )

    def _progress(self, token: Token, done: int, total: int, new: list[FileCheck]) -> None:
        if self._closed or token is not self.token:
            return
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self._append(new)
        self.status.setText(
            f"{done:,} of {total:,} files checked · "
            f"{self.model.rowCount():,} problem"
            f"{'s' if self.model.rowCount() != 1 else ''} so far"
        )

    def _append(self, checks: list[FileCheck]) -> None:
        self.model.append(checks)
        if checks and not self._sized:  # columns fitted to the first rows, once
            self._sized = True
            self.view.resizeColumnsToContents()
            if self.view.columnWidth(2) > FILE_NAME_MAX_WIDTH:
                self.view.setColumnWidth(2, FILE_NAME_MAX_WIDTH)
            # Sizes of later rows are longer than the first rows' ("1.4 kB", "129 kB").
            widest = self.view.fontMetrics().horizontalAdvance("999.9 MB") + 16
            size_col = COLUMNS.index("Size")
            self.view.setColumnWidth(size_col, max(widest, self.view.columnWidth(size_col)))
            fit_headers(self.view.horizontalHeader())

    def _finished(self, token: Token, outcome: VerifyOutcome) -> None:
        if self._closed or token is not self.token:
            return
        self.token = None
        self.outcome = outcome
        shown = {c.file.file_id for c in self.model.items()}
        self._append([c for c in outcome.problems if c.file.file_id not in shown])
        damaged = sum(c.state == "damaged" for c in outcome.problems)
        missing = sum(c.state == "missing" for c in outcome.problems)
        self.progress.setRange(0, max(outcome.total, 1))
        self.progress.setValue(outcome.checked)
        if outcome.cancelled:
            text = (
                f"Cancelled after {outcome.checked:,} of {outcome.total:,} files; "
                f"{len(outcome.problems)} problem(s) found so far."
            )
        elif not outcome.problems:
            text = f"All {outcome.checked:,} files are intact (checked in {outcome.seconds:.1f} s)."
        else:
            text = (
                f"{outcome.checked:,} files checked: {damaged} damaged, {missing} missing. "
                "Select them and request a resend to get them from the camera again."
            )
        self.status.setText(text)
        self.status.setStyleSheet("" if not outcome.problems else f"color: {style.ERROR};")
        self._update_buttons()
        self.finishedChecks.emit(outcome)

    def _failed(self, token: Token, exc: BaseException) -> None:
        if self._closed or token is not self.token:
            return
        self.token = None
        self.progress.setRange(0, 1)
        self.status.setText(f"Verify stopped by an error: {exc}")
        self._update_buttons()

    def cancel(self) -> None:
        if self.token is not None:
            self.token.cancel()
            self.status.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def _update_buttons(self, *_args) -> None:
        running = self.running
        self.cancel_button.setEnabled(running and not self.token.cancelled)
        self.again_button.setEnabled(not running)
        has = self.model.rowCount() > 0
        self.resend_all.setEnabled(has and not running)
        self.resend_selected.setEnabled(
            not running and bool(self.view.selectionModel().selectedRows())
        )

    def request_resend(self, selected_only: bool = False):
        """Open the ResendDialog for the selected (or all) damaged and missing files."""
        if selected_only:
            rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
            ids = [self.model.item(r).file.file_id for r in rows]
        else:
            ids = [c.file.file_id for c in self.model.items()]
        if not ids:
            return None
        from .resend import ResendDialog

        dlg = ResendDialog(self.ctx, ids, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resend_dialog = dlg
        dlg.open()
        return dlg

    def done(self, result: int) -> None:
        if self.token is not None:
            self.token.cancel()  # stop hashing: nobody will look at the result
        self._closed = True
        super().done(result)
