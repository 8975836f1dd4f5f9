"""Request resend: say what will happen and when, then mark the items and report each one."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from ...archive import ArchiveError
from ...formatting import count, shown
from ..common import style
from ..common.text import escape, plain, plain_tip


@dataclass(frozen=True)
class ResendResult:
    entity_id: str
    ok: bool
    text: str  # what happened, in a user's words
    file_ids: tuple[str, ...] = ()


def describe(archive, entity_id: str) -> tuple[str, tuple[str, ...]]:
    """One line naming an event or file, or saying it is not in the archive; and the
    ids of the files a resend of it would ask for."""
    event = archive.get_event(entity_id)
    if event is not None:
        t = shown(event.event_time)
        return (
            f"event {entity_id[:8]} · {t:%d %b %H:%M:%S} · camera {event.camera_id}"
            f" · {count(len(event.files), 'file')}"
        ), tuple(f.file_id for f in event.files)
    record = archive.get_file(entity_id)
    if record is not None:
        owner = archive.file_event_id(entity_id)
        where = f"of event {owner[:8]}" if owner else "time-lapse"
        return f"file {entity_id[:8]} · {record.file_name or record.mime_type} · {where}", (
            entity_id,
        )
    return f"{entity_id[:8]} · not in the archive", ()


def describe_all(archive, entity_ids: list[str]) -> list[tuple[str, str]]:
    """(label, state before the user asks) per item: whether its files are asked for
    already (by this window, the command line or the archive's check). One look-up of
    the marks for all the items."""
    described = [describe(archive, e) for e in entity_ids]
    marked = archive.resend_marked(f for _, files in described for f in files)
    out = []
    for label, files in described:
        n = sum(f in marked for f in files)
        out.append(
            (label, f"requested already ({count(n, 'file')} awaited)" if n else "not requested yet")
        )
    return out


def request_one(ctx, entity_id: str) -> ResendResult:
    """Mark one item through the importer (so the import log shows it); runs in the pool."""
    archive = ctx.archive
    try:
        file_ids = ctx.core.importer.request_resend(entity_id)
    except ArchiveError as exc:
        return ResendResult(entity_id, False, str(exc))
    records = [archive.get_file(f) for f in file_ids]
    moved = sum(1 for r in records if r is not None and not archive.has_bytes(r))
    files = count(len(file_ids), "file")
    if moved:
        text = (
            f"marked: {files} to fetch again; the damaged or missing bytes are in the "
            "quarantine folder"
        )
    else:
        text = (
            f"marked: {files} to fetch again; the stored bytes were intact and stay in "
            "place until verified replacements arrive"
        )
    return ResendResult(entity_id, True, text, tuple(file_ids))


def explanation(ctx) -> str:
    quarantine = ctx.archive.store.quarantine_dir
    # The URL a camera on the LAN can reach (the first of Camera setup's list), not
    # loopback: the exporter that reads it runs on the camera.
    from ..common.urls import camera_addresses

    addresses = camera_addresses(ctx)
    resend_url = f"{addresses[0].url}/resend" if addresses else "<import URL>/resend"
    return f"""
<p><b>What happens now.</b> meteorgui re-checks the stored bytes of each item.
Damaged or missing bytes are moved to the quarantine folder
(<code>{escape(quarantine)}</code>); <b>nothing is deleted</b>. If every file of an item
is intact, its bytes stay where they are until verified replacements arrive.
The items are marked, and the import log shows them as <i>resend requested</i>.</p>
<p><b>When the bytes come back.</b> The next time the camera offers a marked event or file, the
importer asks for its bytes again instead of answering <i>complete</i>, checks them against their
MD5 and only then puts them in place.</p>
<ul>
<li>If the camera never got <i>complete</i> for the item (a failed or interrupted transfer), it
offers it again by itself on its own export schedule; a MeteorPi camera waits about 30 minutes
after a failure.</li>
<li>If the camera already got <i>complete</i>, a MeteorPi camera does not send it again under the
same export configuration. Add an export configuration to this importer on the camera whose
search covers the item's night (a new configuration offers everything its search matches), or
use an exporter that reads the list at <code>{escape(resend_url)}</code>.</li>
</ul>
<p>The camera must still hold the files for this to work.</p>
"""


class ItemsModel(QAbstractTableModel):
    """The items and what happened to each: a model, so tens of thousands of rows
    cost the window nothing until they are scrolled into view."""

    HEADERS = ("Item", "Result")

    def __init__(self, entity_ids: list[str], parent=None):
        super().__init__(parent)
        self.rows = [[eid, "not requested yet", None] for eid in entity_ids]

    def rowCount(self, parent=None):  # noqa: N802 - Qt's name
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent=None):  # noqa: N802 - Qt's name
        return 0 if parent is not None and parent.isValid() else 2

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tip(row[index.column()])
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 1 and row[2] is not None:
            return QColor(style.OK if row[2] else style.ERROR)
        return None

    def text(self, row: int, column: int) -> str:
        return self.rows[row][column]

    def set_labels(self, labels: list[tuple[str, str]]) -> None:
        """(label, state before asking) per row; a result that came meanwhile stays."""
        for row, (label, state) in zip(self.rows, labels, strict=False):
            row[0] = label
            if row[2] is None:
                row[1] = state
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, 1))

    def set_results(self, results: list[ResendResult]) -> None:
        for row, result in zip(self.rows, results, strict=False):
            row[1:] = [result.text, result.ok]
        if results:
            self.dataChanged.emit(self.index(0, 1), self.index(len(results) - 1, 1))

    def set_result(self, row: int, result: ResendResult) -> None:
        self.rows[row][1:] = [result.text, result.ok]
        self.dataChanged.emit(self.index(row, 1), self.index(row, 1))


class ResendDialog(QDialog):
    """Contract: ResendDialog(ctx, entity_ids: list[str], parent)."""

    requested = Signal(list)  # list[ResendResult], when every item was handled

    def __init__(self, ctx, entity_ids, parent=None, note: str | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.entity_ids = list(dict.fromkeys(entity_ids))
        self.results: list[ResendResult] | None = None
        self._running = False
        self._closed = False
        n = len(self.entity_ids)
        self.setWindowTitle("Request resend")
        self.resize(720, 560)

        heading = QLabel(f"<h3>Ask the camera again for {n:,} item{'s' if n != 1 else ''}</h3>")
        self.explanation = text = QLabel(explanation(ctx))
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = plain(QLabel(note or ""))
        self.note.setWordWrap(True)
        self.note.setVisible(bool(note))

        self.model = ItemsModel(self.entity_ids, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        hh.resizeSection(0, 330)

        self.summary = plain(QLabel())
        self.summary.setWordWrap(True)
        self.buttons = QDialogButtonBox(self)
        self.request_button = QPushButton("Request resend")
        self.request_button.setDefault(True)
        self.buttons.addButton(self.request_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.request_button.clicked.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        self.request_button.setEnabled(n > 0)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(text)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)

        archive, ids = ctx.archive, self.entity_ids
        ctx.tasks.run(lambda: describe_all(archive, ids), self._described)

    def _described(self, lines: list[tuple[str, str]]) -> None:
        if self._closed:
            return
        self.model.set_labels(lines)

    def start(self) -> None:
        """Mark every item, off the GUI thread; results arrive per item."""
        if self.results is not None or self._running or not self.entity_ids:
            return
        self._running = True
        self.request_button.setEnabled(False)
        self.close_button.setEnabled(False)
        self.summary.setText("Requesting…")
        ctx, ids, bridge = self.ctx, self.entity_ids, self.ctx.bridge

        stopping = ctx.tasks.stopping

        def work():
            out = []
            for row, eid in enumerate(ids):
                if stopping.cancelled:  # quitting: the marks made so far are kept
                    break
                result = request_one(ctx, eid)
                out.append(result)
                bridge.run_on_main(lambda r=row, res=result: self._show_result(r, res))
            return out

        ctx.tasks.run(work, self._finished, self._failed)

    def _show_result(self, row: int, result: ResendResult) -> None:
        if self._closed:
            return
        self.model.set_result(row, result)

    def _finished(self, results: list[ResendResult]) -> None:
        self.results = results
        self._running = False
        if self._closed:
            return
        self.model.set_results(results)
        ok = sum(r.ok for r in results)
        failed = len(results) - ok
        text = f"{ok} item{'s' if ok != 1 else ''} marked for resend."
        if failed:
            text += f" {failed} could not be marked (see Result)."
        if ok:
            text += " Their bytes will be fetched the next time the camera offers them."
        self.summary.setText(text)
        self.close_button.setText("Close")
        self.close_button.setEnabled(True)
        self.requested.emit(results)

    def _failed(self, exc: BaseException) -> None:
        self.results = []
        self._running = False
        if self._closed:
            return
        self.summary.setText(f"Request resend failed: {exc}")
        self.close_button.setEnabled(True)

    def done(self, result: int) -> None:
        # Requests in flight finish in the pool (milliseconds each); only the display stops.
        self._closed = True
        super().done(result)
