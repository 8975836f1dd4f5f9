"""The import log as a Qt model: one row per conversation, newest first, updated in place."""

from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import (
    QRect,
    QRegularExpression,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem

from ...archive import conversations as conv
from ...archive.conversations import STUCK_AFTER_MS, Conversation
from ...formatting import now_shown, shown, size
from ..common import style
from ..common.elide import FullTextDelegate
from ..common.text import plain_tip

MAX_ROWS = 5000
TRIM_SLACK = 250  # rows past MAX_ROWS before the oldest are dropped, so trimming is rare
FLUSH_GAP_S = 0.1  # a busy night repaints the log at most ten times a second
WRITE_CHUNK = 100  # rows written per turn of the event loop (about 15 ms)

ConversationRole = Qt.ItemDataRole.UserRole + 1  # the Conversation
StateRole = Qt.ItemDataRole.UserRole + 2  # the state key, e.g. "need_file_data"
ProblemRole = Qt.ItemDataRole.UserRole + 3  # bool
StuckRole = Qt.ItemDataRole.UserRole + 4  # bool

# state -> (label a user reads, badge colour by palette name)
STATES: dict[str, tuple[str, str]] = {
    conv.RECEIVING: ("receiving", "active"),
    conv.NEED_STATUS: ("needs status", "notice"),
    conv.NEED_FILE_DATA: ("needs data", "attention"),
    conv.COMPLETE: ("complete", "ok"),
    conv.FAILED: ("failed", "error"),
    conv.RESEND_REQUESTED: ("resend requested", "resend"),
}

COLUMNS = ("Time", "Camera · user", "From", "Entity", "State", "Bytes", "Attempts", "Message")
COL_TIME, COL_CAMERA, COL_REMOTE, COL_ENTITY, COL_STATE, COL_BYTES, COL_ATTEMPTS, COL_MESSAGE = (
    range(len(COLUMNS))
)


def now_ms() -> int:
    return int(time.time() * 1000)


def local_time(ms: int, today: datetime | None = None) -> str:
    t = shown(ms)
    today = today or now_shown()
    if t.date() == today.date():
        return t.strftime("%H:%M:%S")
    return t.strftime("%d %b %H:%M:%S")


def is_stuck(c: Conversation, now: int) -> bool:
    return not c.final and c.state != conv.RESEND_REQUESTED and now - c.updated_at > STUCK_AFTER_MS


def state_label(c: Conversation, now: int) -> str:
    label = STATES.get(c.state, (c.state, ""))[0]
    return f"{label} · stuck" if is_stuck(c, now) else label


_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_FONT = Qt.ItemDataRole.FontRole
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
_MONO: list[QFont] = []


def _mono_font() -> QFont:
    if not _MONO:
        f = QFont()
        f.setFamily("monospace")
        f.setStyleHint(QFont.StyleHint.TypeWriter)
        _MONO.append(f)
    return _MONO[0]


class ConversationModel(QStandardItemModel):
    """Conversations, newest first; the same conversation id updates its row in place.

    The cells are Qt's own items, written when a conversation changes: a view painting
    the log asks Qt, not Python, for each cell's text, colour, font and flags. (A Python
    model answered every cell and role of every repaint, and each answer took the GIL
    anew, waiting for it while the importer's threads ran Python: 80% of the window's
    calls into Python while cameras pushed.)

    Conversations are kept oldest-first in ``_items``; row r is ``_items[n - 1 - r]``. A
    conversation's position is its sequence number minus ``_base``, so inserting
    at the top (appending) and trimming the oldest (dropping from the front,
    raising ``_base``) never renumber the rest.
    """

    columns = COLUMNS

    def __init__(self, max_rows: int = MAX_ROWS, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.setHeaderData(
            COL_ATTEMPTS,
            Qt.Orientation.Horizontal,
            "How many times the importer asked for the same file's bytes",
            _TOOLTIP,
        )
        self.max_rows = max_rows
        self.slack = max(1, min(TRIM_SLACK, max_rows // 20))
        self._items: list[Conversation] = []
        self._seq: dict[int, int] = {}
        self._base = 0
        self._pending: dict[int, Conversation] = {}  # new conversations, not in a row yet
        self._updates: dict[int, Conversation] = {}  # the latest step of shown ones
        self._changed: set[int] = set()  # rows to write again (a failure made good)
        self._open: set[int] = set()  # not final: may become stuck as time passes
        # (user, kind, entity id) -> the newest complete conversation about it: a failure
        # before that one was made good, and is no longer a problem.
        self._delivered: dict[tuple[str, str, str], int] = {}
        self._failed_keys: set[tuple[str, str, str]] = set()  # entities with a failure shown
        self.clock = now_ms  # injectable, so tests need not wait minutes
        self.now = self.clock()
        self._written_on = now_shown().date()  # a time shows its date once it is not today's
        self._palette = style.palette()  # a failure's message is written in its colour
        style.when_changed(self.follow_palette)  # the cells hold their colours
        self._unwritten: list[int] = []  # conversations whose rows wait to be written
        self._write_timer = QTimer(self, singleShot=True, interval=0)
        self._write_timer.timeout.connect(self._write_more)
        self._flush_timer = QTimer(self, singleShot=True, interval=0)
        self._flush_timer.timeout.connect(self.flush)
        self._last_flush = 0.0

    # ------------------------------------------------------------------ feeding

    def add(self, c: Conversation) -> None:
        """A conversation changed: queue it to update its row, or to be inserted at the top.

        Either way its row is written, and the views hear of it, once per burst (a
        zero-time timer), not per step; until then the row shows the step before.
        """
        if c.id in self._seq:
            self._updates[c.id] = c
        else:
            self._pending[c.id] = c  # a later step replaces an earlier one still queued
        self._schedule_flush()

    def _track_delivered(self, c: Conversation) -> None:
        key = (c.user, c.kind, c.entity_id)
        if c.state == conv.FAILED:
            self._failed_keys.add(key)
        if c.state != conv.COMPLETE:
            return
        if key in self._failed_keys:  # its earlier failures are over: show them so
            self._changed.update(
                x.id
                for x in self._items
                if x.state == conv.FAILED and (x.user, x.kind, x.entity_id) == key and x.id < c.id
            )
        if self._delivered.get(key, -1) < c.id:
            if len(self._delivered) > 20 * self.max_rows:
                self._delivered.clear()  # bounded; old rows are trimmed anyway
            self._delivered[key] = c.id

    def made_good(self, c: Conversation) -> bool:
        """A failure this user's later conversation delivered after all."""
        return (
            c.state == conv.FAILED and self._delivered.get((c.user, c.kind, c.entity_id), -1) > c.id
        )

    def _schedule_flush(self) -> None:
        # Zero-time after a quiet spell (a single step shows at once); during a burst, at
        # most every FLUSH_GAP_S, so the views repaint a few times a second, not per step.
        if not self._flush_timer.isActive():
            wait = FLUSH_GAP_S - (time.monotonic() - self._last_flush)
            self._flush_timer.start(max(0, int(wait * 1000)))

    def shutdown(self) -> None:
        """No more announcements: the window is closing."""
        self._flush_timer.stop()
        self._write_timer.stop()

    def flush(self) -> None:
        """Write this burst's changes and announce them in one go: updated rows, then new
        rows at the top."""
        self._last_flush = time.monotonic()
        for c in self._updates.values():
            seq = self._seq.get(c.id)
            if seq is not None:  # not trimmed meanwhile
                self._items[seq - self._base] = c
                self._track_open(c)
                self._track_delivered(c)
                self._changed.add(c.id)
        self._updates.clear()
        written = {i for i in self._changed if i in self._seq}
        self._changed.clear()
        new = list(self._pending.values())
        self._pending.clear()
        if new:
            self.insertRows(0, len(new))
            for c in new:
                self._seq[c.id] = self._base + len(self._items)
                self._items.append(c)
                self._track_open(c)
                self._track_delivered(c)
            written.update(c.id for c in new)
            written.update(i for i in self._changed if i in self._seq)  # made good
            self._changed.clear()
        self._write_rows([self.row_of(i) for i in written])
        self._trim()

    def load(self, newest_first: list[Conversation]) -> None:
        """Older history (from the archive) goes below what arrived live meanwhile."""
        older = [c for c in newest_first if c.id not in self._seq and c.id not in self._pending]
        room = self.max_rows - len(self._items)
        older = older[: max(room, 0)]
        if not older:
            return
        n = len(self._items)
        self.insertRows(n, len(older))
        older.reverse()  # oldest first, like _items
        self._base -= len(older)
        self._items[0:0] = older
        for i, c in enumerate(older):
            self._seq[c.id] = self._base + i
            self._track_open(c)
        self._write_rows(range(n, n + len(older)))

    def _trim(self) -> None:
        n = len(self._items)
        if n <= self.max_rows + self.slack:
            return
        drop = n - self.max_rows
        self.removeRows(n - drop, drop)
        for c in self._items[:drop]:
            del self._seq[c.id]
            self._open.discard(c.id)
        del self._items[:drop]
        self._base += drop

    def _track_open(self, c: Conversation) -> None:
        if c.final:
            self._open.discard(c.id)
        else:
            self._open.add(c.id)

    def tick(self, now: int | None = None) -> None:
        """Time passed: open conversations may now be stuck (and stuck ones for longer);
        on a new day, yesterday's times show their date."""
        old, self.now = self.now, now if now is not None else self.clock()
        if now_shown().date() != self._written_on:
            self.refresh()
            return
        rows = []
        for cid in self._open:
            c = self.conversation_by_id(cid)
            if c is not None and (is_stuck(c, old) or is_stuck(c, self.now)):
                rows.append(self.row_of(cid))
        self._write_rows(rows)

    def refresh(self) -> None:
        """Every row written again: the times in another zone, or on another day."""
        self._written_on = now_shown().date()
        self._palette = style.palette()
        self._write_rows(range(len(self._items)))

    def follow_palette(self) -> None:
        """The palette changed: failures' messages are written in its error colour."""
        if style.palette() is self._palette:
            return
        self._palette = style.palette()
        failed = [c.id for c in self._items if c.state == conv.FAILED]
        self._write_rows([self.row_of(i) for i in failed])

    # ------------------------------------------------------------------ the cells

    def _write_rows(self, rows) -> None:
        """Write the cells of these rows (top first), then tell the views once, not per
        cell. WRITE_CHUNK rows at a time: the rest in the next turns of the event loop,
        so loading the history or switching the time zone does not freeze the window
        (5,000 rows take about 0.8 s to write)."""
        rows = sorted({r for r in rows if r >= 0})
        self._unwritten.extend(self.conversation(r).id for r in rows[WRITE_CHUNK:])
        if self._unwritten:
            self._write_timer.start()
        rows = rows[:WRITE_CHUNK]
        if not rows:
            return
        blocked = self.blockSignals(True)
        try:
            for row in rows:
                self._write(row, self.conversation(row))
        finally:
            self.blockSignals(blocked)
        self.dataChanged.emit(self.index(rows[0], 0), self.index(rows[-1], len(COLUMNS) - 1))

    def _write_more(self) -> None:
        ids, self._unwritten = self._unwritten, []
        self._write_rows([self.row_of(i) for i in ids])  # trimmed meanwhile: -1, skipped

    def unwritten(self) -> int:
        """Rows whose cells are still to be written (the next turns of the event loop)."""
        return len(self._unwritten)

    def _write(self, row: int, c: Conversation) -> None:
        stuck = is_stuck(c, self.now)
        problem = (c.is_problem or stuck) and not self.made_good(c)
        for col in range(len(COLUMNS)):
            item = self.item(row, col)
            if item is None:
                item = QStandardItem()
                item.setFlags(_FLAGS)
                if col in (COL_BYTES, COL_ATTEMPTS):
                    item.setData(_RIGHT, _ALIGN)
                elif col == COL_ENTITY:
                    item.setData(_mono_font(), _FONT)
                self.setItem(row, col, item)
            item.setData(self._display(c, col), _DISPLAY)
            tip = self._tooltip(c, col)
            item.setData(plain_tip(tip) if tip else None, _TOOLTIP)
            if col == 0 or col == COL_STATE:
                item.setData(c.state, StateRole)
                item.setData(stuck, StuckRole)
            if col == 0:
                item.setData(c, ConversationRole)
                item.setData(problem, ProblemRole)
            elif col == COL_MESSAGE:
                failed = c.state == conv.FAILED
                item.setData(QColor(style.ERROR) if failed else None, _FOREGROUND)

    # ------------------------------------------------------------------ lookups

    def row_of(self, conv_id: int) -> int:
        seq = self._seq.get(conv_id)
        return -1 if seq is None else len(self._items) - 1 - (seq - self._base)

    def conversation_by_id(self, conv_id: int) -> Conversation | None:
        seq = self._seq.get(conv_id)
        return None if seq is None else self._items[seq - self._base]

    def conversation(self, row: int) -> Conversation:
        return self._items[len(self._items) - 1 - row]

    def _display(self, c: Conversation, col: int) -> str:
        if col == COL_TIME:
            return local_time(c.started_at)
        if col == COL_CAMERA:
            return f"{c.camera_id or '—'} · {c.user}"
        if col == COL_REMOTE:
            return c.remote_addr or ("this computer" if c.state == conv.RESEND_REQUESTED else "")
        if col == COL_ENTITY:
            return f"{c.kind} {c.entity_id[:8]}"
        if col == COL_STATE:
            label = state_label(c, self.now)
            return f"{label} · delivered later" if self.made_good(c) else label
        if col == COL_BYTES:
            return size(c.bytes) if c.bytes else ""
        if col == COL_ATTEMPTS:
            return str(c.attempts) if c.attempts else ""
        return c.message or ""

    def _tooltip(self, c: Conversation, col: int) -> str | None:
        if col == COL_TIME:
            started = shown(c.started_at)
            updated = shown(c.updated_at)
            return f"Started {started:%Y-%m-%d %H:%M:%S}\nLast step {updated:%Y-%m-%d %H:%M:%S}"
        if col == COL_ENTITY:
            return f"{c.kind} {c.entity_id}\nDouble-click for every step of this conversation"
        if col == COL_STATE and is_stuck(c, self.now):
            return (
                f"No step for {(self.now - c.updated_at) // 60_000} min: the camera stopped "
                "in the middle of this conversation"
            )
        if col == COL_MESSAGE and c.message:
            return c.message
        if col == COL_BYTES and c.bytes:
            return f"{c.bytes:,} bytes received"
        return None


class ProblemsFilter(QSortFilterProxyModel):
    """Everything, or only failed, resend requested, retried or stuck conversations.

    Qt's own filter on the first column's ProblemRole ("true"): no Python per row."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.problems_only = False
        self.setDynamicSortFilter(True)
        self.setFilterRole(ProblemRole)
        self.setFilterKeyColumn(0)

    def set_problems_only(self, on: bool) -> None:
        self.problems_only = on
        self.setFilterRegularExpression(QRegularExpression("^true$" if on else ""))


class StateBadgeDelegate(FullTextDelegate):
    """Paints the state as a coloured pill with white text (elided: the whole of it is the
    cell's tooltip)."""

    PAD_X, PAD_Y = 8, 3

    def __init__(self, parent=None):
        super().__init__(parent)
        self._fonts: dict[str, tuple[QFont, QFontMetrics]] = {}
        self._white = QColor("white")

    def _bold(self, font: QFont) -> tuple[QFont, QFontMetrics]:
        key = font.key()
        found = self._fonts.get(key)
        if found is None:
            bold = QFont(font)
            bold.setBold(True)
            found = self._fonts[key] = (bold, QFontMetrics(bold))
        return found

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        # The view's option already says selected / alternate: draw that panel, then the pill.
        widget = option.widget
        qstyle = widget.style() if widget is not None else QApplication.style()
        qstyle.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        stuck = index.data(StuckRole)
        meaning = "muted" if stuck else STATES.get(index.data(StateRole), ("", "muted"))[1]
        colour = QColor(style.colour(meaning))
        font, fm = self._bold(option.font)
        rect = option.rect
        w = fm.horizontalAdvance(text) + 2 * self.PAD_X
        h = min(fm.height() + 2 * self.PAD_Y, rect.height() - 2)
        r = QRect(rect.left() + 4, rect.center().y() - h // 2 + 1, min(w, rect.width() - 8), h)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(font)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(r, h / 2, h / 2)
        painter.setPen(self._white)
        if w > r.width():
            text = fm.elidedText(text, Qt.TextElideMode.ElideRight, r.width() - 4)
        painter.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def sizeHint(self, option, index) -> QSize:
        base = super().sizeHint(option, index)
        _font, fm = self._bold(option.font)
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        return QSize(
            fm.horizontalAdvance(text) + 2 * self.PAD_X + 10,
            max(base.height(), fm.height() + 2 * self.PAD_Y + 4),
        )


def source_rows(view, proxy: QSortFilterProxyModel) -> list[int]:
    """Source rows of the view's selected rows, top to bottom."""
    rows = {proxy.mapToSource(i).row() for i in view.selectionModel().selectedRows()}
    return sorted(rows)
