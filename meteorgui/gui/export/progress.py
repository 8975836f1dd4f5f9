"""The export progress model: one row per entity of a target's queue and of its current round.

Rows come from the persisted queue (read in the pool) and from the round's
progress events; both only ever insert rows (beginInsertRows) or change them
in place (dataChanged). The model never resets except when the view switches
to another target. It keeps at most ``MAX_ROWS`` rows: the oldest finished
ones go first (beginRemoveRows), so a 100,000-entity export costs no more
memory than a small one.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor

from ...archive.export_queue import QueueItem
from ...archive.queued import EntityInfo
from ...exporter import runner as R
from ...formatting import shown, size
from ..common import style
from ..common.tablemodel import RowsModel
from ..common.text import plain_tip

_ROOT = QModelIndex()
MAX_ROWS = 2000
COLUMNS = ("Entity", "State", "Progress", "Message")
ENTITY, STATE, PROGRESS, MESSAGE = range(len(COLUMNS))

QUEUED, SENDING, COMPLETE, FAILED = "queued", "sending", "complete", "failed"
STATE_TEXT = {QUEUED: "Queued", SENDING: "Sending", COMPLETE: "Complete", FAILED: "Failed"}
STATE_COLOUR = {QUEUED: "muted", SENDING: "active", COMPLETE: "ok", FAILED: "error"}
STEP_TEXT = {
    "need_status": "sending the camera status",
    "need_file_data": "sending a file",
    "continue": "offering it again",
    "continue-nocache": "offering it again in full",
    "complete": "complete",
}


@dataclass
class Entry:
    """One entity in the progress view (mutable: progress events change it in place)."""

    entity_id: str
    kind: str
    entity_time: int
    state: str = QUEUED
    camera_id: str = ""
    files: tuple[tuple[str, int], ...] = ()
    detail: str = ""  # what is happening now (while sending)
    message: str = ""  # the reason of a failure, or the last error
    attempts: int = 0
    file_id: str = ""  # the file being uploaded
    file_no: int = 0  # its number in the event, 1-based
    sent: int = 0  # its bytes sent so far
    file_total: int = 0
    uploaded: int = 0  # file bytes uploaded by the current (or last) attempt

    @property
    def key(self) -> tuple[int, str]:
        return (self.entity_time, self.entity_id)

    @property
    def size(self) -> int:
        return sum(s for _, s in self.files)

    def title(self, camera_name=None) -> str:
        t = shown(self.entity_time).strftime("%d %b %H:%M:%S")
        what = "Event" if self.kind == "event" else "Still"
        n = len(self.files)
        files = f" · {n} file{'s' if n != 1 else ''}" if self.kind == "event" and n else ""
        name = (camera_name(self.camera_id) if camera_name else None) or self.camera_id
        camera = f" · {name}" if name else ""
        return f"{what} {t}{camera}{files}"

    def progress_text(self) -> str:
        if self.state == SENDING:
            if self.file_no and self.file_total:
                m = len(self.files) or "?"
                return f"file {self.file_no} of {m} · {size(self.sent)} of {size(self.file_total)}"
            return self.detail or "offering"
        if self.state == COMPLETE:
            if self.uploaded:
                return f"{size(self.uploaded)} uploaded"
            return "the target had the files" if self.files else "done"
        if self.size:
            return size(self.size)
        return ""


class ProgressModel(RowsModel):
    columns = COLUMNS

    def __init__(self, parent=None):
        super().__init__(parent)
        self.target_id: str | None = None
        self.camera_name = None  # callable: camera id -> display name (or None)
        self._rows: list[Entry] = []
        self._keys: list[tuple[int, str]] = []  # sorted, parallel to _rows
        self._by_id: dict[str, Entry] = {}

    # ------------------------------------------------------------------ Qt model

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        e = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == ENTITY:
                return e.title(self.camera_name)
            if col == STATE:
                return STATE_TEXT.get(e.state, e.state)
            if col == PROGRESS:
                return e.progress_text()
            if col == MESSAGE:
                return e.message
        elif role == Qt.ItemDataRole.ForegroundRole and col == STATE:
            return QColor(style.colour(STATE_COLOUR.get(e.state, "muted")))
        elif role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{e.kind} {e.entity_id}"
            if e.attempts:
                tip += f"\nattempts: {e.attempts}"
            if e.message:
                tip += f"\n{e.message}"
            return plain_tip(tip)
        elif role == Qt.ItemDataRole.UserRole:
            return e.entity_id
        return None

    # ------------------------------------------------------------------ reading

    def entry(self, entity_id: str) -> Entry | None:
        return self._by_id.get(entity_id)

    def row_of(self, entity_id: str) -> int:
        e = self._by_id.get(entity_id)
        if e is None:
            return -1
        i = bisect.bisect_left(self._keys, e.key)
        return i if i < len(self._rows) and self._rows[i] is e else -1

    def entries(self) -> list[Entry]:
        return list(self._rows)

    def states(self) -> dict[str, str]:
        return {e.entity_id: e.state for e in self._rows}

    # ------------------------------------------------------------------ changing

    def set_target(self, target_id: str | None) -> None:
        """Show another target's entities (the one reset: everything listed changes)."""
        if target_id == self.target_id:
            return
        self.beginResetModel()
        self.target_id = target_id
        self._rows, self._keys, self._by_id = [], [], {}
        self.endResetModel()

    def merge_queue(self, items: list[QueueItem], infos: dict[str, EntityInfo]) -> None:
        """Rows for queue items: new ones inserted in order, known ones updated in place."""
        new: list[Entry] = []
        for item in items:
            if item.target_id != self.target_id:
                continue
            e = self._by_id.get(item.entity_id)
            info = infos.get(item.entity_id)
            if e is None:
                e = Entry(item.entity_id, item.kind, item.entity_time)
                self._fill(e, info)
                self._from_item(e, item)
                new.append(e)
                continue
            if e.state == SENDING:
                continue  # the round's own events are newer than the queue's row
            self._fill(e, info)
            self._from_item(e, item)
            self._changed(e)
        self._insert(new)
        self._trim()

    def set_infos(self, infos: dict[str, EntityInfo]) -> None:
        for entity_id, info in infos.items():
            e = self._by_id.get(entity_id)
            if e is not None and not e.files:
                self._fill(e, info)
                self._changed(e)

    def apply(self, event: R.ExportEvent) -> tuple[list[str], int]:
        """A round's progress event. Returns the ids of rows it added (their details are
        not known yet) and the file bytes it says went out since the last one."""
        if event.target_id != self.target_id or event.item is None:
            return [], 0
        item = event.item
        e = self._by_id.get(item.entity_id)
        added = []
        if e is None:
            e = Entry(item.entity_id, item.kind, item.entity_time)
            self._insert([e])
            added.append(e.entity_id)
        delta = 0
        if event.kind == R.ITEM_STARTED:
            e.state, e.detail, e.message, e.attempts = SENDING, "offering", "", item.attempts
            e.file_id, e.file_no, e.sent, e.file_total, e.uploaded = "", 0, 0, 0, 0
        elif event.kind == R.STEP:
            e.detail = STEP_TEXT.get(event.message, event.message)
            if event.message != "need_file_data":
                e.file_id, e.file_no, e.sent, e.file_total = "", 0, 0, 0
        elif event.kind == R.BYTES:
            if event.file_id != e.file_id or event.sent < e.sent:  # another upload
                e.file_id, e.sent = event.file_id or "", 0
            delta = event.sent - e.sent
            e.uploaded += delta
            ids = [f for f, _ in e.files]
            e.file_no = ids.index(event.file_id) + 1 if event.file_id in ids else 1
            e.sent, e.file_total = event.sent, event.total
        elif event.kind == R.ITEM_DONE and event.result is not None:
            res = event.result
            delta = max(0, res.bytes_sent - e.uploaded)  # the last, unreported, stretch
            e.uploaded = res.bytes_sent
            e.file_id, e.file_no, e.sent, e.file_total = "", 0, 0, 0
            if res.ok:
                e.state, e.message = COMPLETE, ""
            elif res.state == "cancelled":
                e.state, e.message = QUEUED, "cancelled: stays queued"
            elif res.target_problem:
                e.state, e.message = QUEUED, f"not sent: {res.message}"
            else:
                e.state, e.message = FAILED, res.message
        self._changed(e)
        self._trim()
        return added, delta

    def clear_finished(self) -> None:
        """Take the complete rows out of the view."""
        for i in range(len(self._rows) - 1, -1, -1):
            if self._rows[i].state == COMPLETE:
                self._remove(i)

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _fill(e: Entry, info: EntityInfo | None) -> None:
        if info is not None:
            e.camera_id, e.files = info.camera_id, info.files

    @staticmethod
    def _from_item(e: Entry, item: QueueItem) -> None:
        state = FAILED if item.state == "failed" else QUEUED
        # The queue keeps the last error; a note of this session (cancelled) stays while the
        # state does.
        e.message = item.last_error or (e.message if state == e.state else "")
        e.state = state
        e.attempts = item.attempts
        e.detail = ""

    def _insert(self, entries: list[Entry]) -> None:
        if not entries:
            return
        entries.sort(key=lambda x: x.key)
        if not self._rows or entries[0].key > self._keys[-1]:
            first = len(self._rows)  # the common case: all after the last row, one insert
            self.beginInsertRows(_ROOT, first, first + len(entries) - 1)
            self._rows.extend(entries)
            self._keys.extend(x.key for x in entries)
            self._by_id.update((x.entity_id, x) for x in entries)
            self.endInsertRows()
            return
        for e in entries:
            i = bisect.bisect_left(self._keys, e.key)
            self.beginInsertRows(_ROOT, i, i)
            self._rows.insert(i, e)
            self._keys.insert(i, e.key)
            self._by_id[e.entity_id] = e
            self.endInsertRows()

    def _remove(self, i: int) -> None:
        self.beginRemoveRows(_ROOT, i, i)
        e = self._rows.pop(i)
        self._keys.pop(i)
        del self._by_id[e.entity_id]
        self.endRemoveRows()

    def _trim(self) -> None:
        i = 0
        while len(self._rows) > MAX_ROWS and i < len(self._rows):
            if self._rows[i].state == COMPLETE:
                self._remove(i)
            else:
                i += 1

    def _changed(self, e: Entry) -> None:
        i = bisect.bisect_left(self._keys, e.key)
        if i < len(self._rows) and self._rows[i] is e:
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))
