"""Per-camera health beside the import log: last heard, tonight's counts, warnings."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...archive import stats
from ...archive.nights import NightClock, night_clock
from ...archive.stats import CameraHealth
from ...formatting import shown
from ..common import style
from ..common.paced import PacedTimer
from ..common.tablemodel import RowsModel
from ..common.text import plain_tip
from .importlog import now_ms

REFRESH_EVERY_MS = 30_000  # so silence is noticed without new data
# After a conversation update, at most one query this often; the first update after a
# quiet spell is queried at once (a camera that starts sending shows up as it does).
THROTTLE_MS = 1_500

COLUMNS = ("Camera", "Last heard", "Events", "Stills", "Failed", "Status")
COL_CAMERA, COL_HEARD, COL_EVENTS, COL_STILLS, COL_FAILED, COL_STATUS = range(6)
SubtitleRole = Qt.ItemDataRole.UserRole + 1  # the camera id under the installation name
HEADER_TIPS = {
    COL_EVENTS: "Events received tonight (the night runs from noon to noon, local time)",
    COL_STILLS: "Time-lapse stills received tonight",
    COL_FAILED: "Failed conversations tonight",
    COL_HEARD: "The last time the camera talked to the importer",
}
# level -> (text colour, row tint), by palette name
LEVELS = {
    "ok": ("ok", None),
    "idle": ("muted", None),
    "warning": ("warning", "warning_bg"),
    "error": ("error", "error_bg"),
}


def ago(ms: int | None, now: int) -> str:
    if ms is None:
        return "never"
    d = max(0, now - ms)
    if d < 60_000:
        return "just now"
    if d < 3_600_000:
        return f"{d // 60_000} min ago"
    if d < 86_400_000:
        h, m = divmod(d // 60_000, 60)
        return f"{h} h {m:02d} min ago"
    return shown(ms).strftime("%d %b %H:%M")


def status_text(h: CameraHealth) -> str:
    """Short enough for the table; the full sentence is in the tooltip and the banner."""
    if h.refused:
        return f"⚠ {h.refused}"
    if h.level == "error":
        return f"⚠ failing ({h.recent_failures} of last {h.recent_total})"
    if h.level == "warning":
        return f"⚠ silent {stats.format_duration(h.silent_ms)}"
    if h.level == "idle":
        if h.retired:
            return f"not heard for {stats.format_duration(now_ms() - h.last_heard)}"
        return "not heard since dark"
    return "OK" if h.dark_since is not None else "OK (daylight)"


REFUSED_SHOWN_S = 3600  # refused logins older than this are no longer shown


def _last(ms: int, now: int) -> str:
    when = ago(ms, now)
    return ", just now" if when == "just now" else f", last {when}"


def refused_sentence(r, now: int) -> str:
    """'garden-cam: 14 refused logins from 192.168.1.40, wrong password, last 2 min ago'."""
    return r.sentence() + _last(r.last_ms, now)


GUESSED_NAMES = 3  # more unknown names than this from one address: one row, a guesser


def _refused_row(camera_id: str, last_ms: int, note: str, short: str) -> CameraHealth:
    return CameraHealth(
        camera_id=camera_id,
        inst_name=None,
        last_heard=last_ms,
        events_tonight=0,
        stills_tonight=0,
        failures_tonight=0,
        recent_failures=0,
        recent_total=0,
        dark_since=None,
        silent_ms=None,
        silence_warning=False,
        failing=True,
        note=note,
        refused=short,
    )


def _logins(n: int) -> str:
    return f"{n:,} refused login{'s' if n != 1 else ''}"


def with_refused(
    health: list[CameraHealth], refused: list, owners: dict[str, list[str]], now: int
) -> list[CameraHealth]:
    """The camera rows with refused logins shown: on the rows of the cameras bound to the
    refused user name, or as a row of their own (a camera that never got in, the most
    common setup mistake: a wrong password). Many user names refused from one address
    are somebody guessing, not cameras: they make one row for that address."""
    rows = {h.camera_id: h for h in health}
    strays: dict[str, list] = {}
    for r in refused:
        cams = [c for c in owners.get(r.user, ()) if c in rows]
        for cam in cams:
            if rows[cam].refused is None:  # the latest record per camera
                note = refused_sentence(r, now)
                rows[cam] = replace(rows[cam], failing=True, note=note, refused=_logins(r.count))
        if not cams:
            strays.setdefault(r.address, []).append(r)
    extra = []
    for address, records in strays.items():
        if len(records) <= GUESSED_NAMES:
            extra.extend(
                _refused_row(
                    f"{r.user} from {r.address}",
                    r.last_ms,
                    refused_sentence(r, now),
                    _logins(r.count),
                )
                for r in records
            )
            continue
        total = sum(r.count for r in records)
        last = max(r.last_ms for r in records)
        note = (
            f"{address}: {_logins(total)} under {len(records):,} user names, someone "
            "guessing passwords?" + _last(last, now)
        )
        extra.append(
            _refused_row(f"{len(records):,} user names from {address}", last, note, _logins(total))
        )
    return [rows[h.camera_id] for h in health] + extra


class HealthModel(RowsModel):
    """One row per camera, updated in place when its figures change."""

    columns = COLUMNS
    header_tips = HEADER_TIPS

    def __init__(self, parent=None):
        super().__init__(parent)
        self.now = now_ms()

    def update(self, health: list[CameraHealth], now: int) -> None:
        old_now, self.now = self.now, now
        by_id = {h.camera_id: h for h in health}
        for row in reversed(range(len(self._rows))):
            if self._rows[row].camera_id not in by_id:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
        known = {h.camera_id: i for i, h in enumerate(self._rows)}
        for h in health:
            row = known.get(h.camera_id)
            if row is None:
                n = len(self._rows)
                self.beginInsertRows(QModelIndex(), n, n)
                self._rows.append(h)
                self.endInsertRows()
            else:
                old = self._rows[row]
                self._rows[row] = h
                # Relative times change even when the figures do not; an unchanged row is
                # not announced (each announcement re-measures the table's columns).
                if old != h or ago(old.last_heard, old_now) != ago(h.last_heard, now):
                    self.row_changed(row)

    def shape(self) -> tuple:
        """The row count and the longest text of each column: what the sizes depend on."""
        return (
            len(self._rows),
            *(
                max((len(self.text(h, c)) for h in self._rows), default=0)
                for c in range(len(self.columns))
            ),
        )

    def text(self, h: CameraHealth, col: int) -> str:
        """What a cell shows."""
        if col == COL_CAMERA:
            return h.inst_name or h.camera_id
        if col == COL_HEARD:
            return ago(h.last_heard, self.now)
        if col == COL_STATUS:
            return status_text(h)
        return str((h.events_tonight, h.stills_tonight, h.failures_tonight)[col - COL_EVENTS])

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        h: CameraHealth | None = self.item_at(index)
        if h is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(h, col)
        if role == SubtitleRole and col == COL_CAMERA:
            return h.camera_id if h.inst_name else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_HEARD and h.last_heard is not None:
                return plain_tip(shown(h.last_heard).strftime("%Y-%m-%d %H:%M:%S"))
            if col == COL_STATUS:
                return plain_tip(self._status_tip(h))
            if col == COL_CAMERA:
                return plain_tip(h.label)
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (
            COL_EVENTS,
            COL_STILLS,
            COL_FAILED,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == COL_STATUS:
                return QColor(style.colour(LEVELS[h.level][0]))
            if col == COL_FAILED and h.failures_tonight:
                return QColor(style.ERROR)
            # Dark text on the light tint, whatever the desktop theme.
            return QColor(style.palette().text_on_light) if LEVELS[h.level][1] else None
        if role == Qt.ItemDataRole.BackgroundRole:
            tint = LEVELS[h.level][1]
            return QColor(style.colour(tint)) if tint else None
        if role == Qt.ItemDataRole.FontRole and (
            col == COL_CAMERA or (col == COL_STATUS and h.level in ("warning", "error"))
        ):
            f = QFont()
            f.setBold(True)
            return f
        return None

    @staticmethod
    def _status_tip(h: CameraHealth) -> str:
        lines = [h.note]
        if h.dark_since is not None:
            since = shown(h.dark_since).strftime("%H:%M")
            lines.append(f"Dark at the camera since {since}.")
        else:
            lines.append("Daylight at the camera: silence is normal now.")
        if h.recent_total:
            lines.append(f"{h.recent_failures} of its last {h.recent_total} conversations failed.")
        return "\n".join(lines)


class CameraDelegate(QStyledItemDelegate):
    """Installation name in bold with the camera id in small grey monospace below it."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        title, opt.text = opt.text, ""
        sub = index.data(SubtitleRole) or ""
        qstyle = opt.widget.style() if opt.widget is not None else QApplication.style()
        qstyle.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        r = opt.rect.adjusted(6, 2, -4, -2)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        painter.save()
        bold = QFont(opt.font)
        bold.setBold(True)
        painter.setFont(bold)
        fm = QFontMetrics(bold)
        top = r if not sub else QRect(r.left(), r.top(), r.width(), r.height() // 2 + 1)
        fg = index.data(Qt.ItemDataRole.ForegroundRole)
        painter.setPen(
            opt.palette.color(QPalette.ColorRole.HighlightedText)
            if selected
            else fg
            if isinstance(fg, QColor)
            else opt.palette.color(QPalette.ColorRole.Text)
        )
        painter.drawText(
            top,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(title, Qt.TextElideMode.ElideRight, r.width()),
        )
        if sub:
            small = _mono(opt.font)
            painter.setFont(small)
            painter.setPen(
                opt.palette.color(QPalette.ColorRole.HighlightedText)
                if selected
                else QColor(style.MUTED)
            )
            bottom = QRect(r.left(), top.bottom(), r.width(), r.bottom() - top.bottom())
            painter.drawText(
                bottom, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, sub
            )
        painter.restore()

    def sizeHint(self, option, index) -> QSize:
        base = super().sizeHint(option, index)
        bold = QFont(option.font)
        bold.setBold(True)
        fm = QFontMetrics(bold)
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        small = QFontMetrics(_mono(option.font))
        width = max(fm.horizontalAdvance(text), small.horizontalAdvance("b827eb000000")) + 14
        return QSize(min(width, 260), max(base.height(), fm.height() + small.height() + 6))


def _mono(font: QFont) -> QFont:
    f = QFont(font)
    f.setFamily("monospace")
    f.setStyleHint(QFont.StyleHint.TypeWriter)
    f.setPointSizeF(max(font.pointSizeF() * 0.85, 6.0))
    return f


class HealthPanel(QWidget):
    """The camera table and a warning banner, refreshed off the GUI thread."""

    warningsChanged = Signal(list)  # list[str]: one line per camera that needs attention
    refreshed = Signal()

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        # Injectable for tests: the clock, and when the dark period began at a location.
        self.clock = now_ms
        self.dark_window = stats.dark_since
        self._closed = False
        self._busy = False
        self._again = False
        self._shape: tuple = ()
        self.warnings: list[str] = []

        self.model = HealthModel(self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setItemDelegateForColumn(COL_CAMERA, CameraDelegate(self.view))
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.setWordWrap(False)
        self.view.setAlternatingRowColors(False)
        # Sized to the contents when their widths change (_fit), not on every update:
        # automatic resizing re-measures every cell each time any row changes.
        hh = self.view.horizontalHeader()
        hh.setStretchLastSection(True)
        hh.setMinimumSectionSize(40)
        hh.setSectionResizeMode(COL_CAMERA, QHeaderView.ResizeMode.Interactive)
        hh.resizeSection(COL_CAMERA, 165)

        self.banner = QLabel(self)
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.hide()

        title = QLabel("<b>Cameras</b>")
        self.caption = QLabel()
        self.caption.setStyleSheet("color: palette(placeholder-text);")
        self.caption.setWordWrap(True)  # a narrow dock: the caption takes two lines
        top = QHBoxLayout()
        top.addWidget(title)
        top.addWidget(self.caption, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view)

        self._throttle = PacedTimer(THROTTLE_MS / 1000, self.refresh, self)
        self._timer = QTimer(self, interval=REFRESH_EVERY_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        ctx.bridge.conversation.connect(self._conversation)
        ctx.bridge.login_refused.connect(self._conversation)
        self.refresh()

    def _conversation(self, _c) -> None:
        if not self._closed:
            self._throttle.request()

    def refresh(self) -> None:
        """Query the archive in the pool; a request while one runs is folded into one more."""
        if self._closed:
            return
        if self._busy:
            self._again = True
            return
        self._busy = True
        self._throttle.began()
        now = self.clock()
        s = self.ctx.settings
        archive, dark = self.ctx.archive, self.dark_window
        silence, night_hour = s.silence_warning_minutes, s.night_starts_hour

        logins = self.ctx.core.importer.logins

        def work():
            health = stats.camera_health(
                archive,
                now_ms=now,
                silence_minutes=silence,
                night_starts_hour=night_hour,
                dark_window=dark,
            )
            refused = logins.refused(within_s=REFUSED_SHOWN_S)
            owners: dict[str, list[str]] = {}
            for o in archive.cameras.list() if refused else ():
                owners.setdefault(o.user, []).append(o.camera_id)
            return with_refused(health, refused, owners, now), night_clock(archive, night_hour)

        # Tonight's arrivals are counted entry by entry of an index: after a big import,
        # tens of ms that the browser's reads should not wait behind.
        self.ctx.tasks.run(
            work,
            lambda result: self._show(result[0], now, result[1]),
            self._failed,
            background=True,
        )

    def _fit(self) -> None:
        """Size new rows to their contents, and the columns when the widest text changes.

        Each resize asks the model and the delegates about every cell, in Python: doing
        all of it whenever a row came (cameras joining a push) was the longest stall of
        the window while twelve cameras pushed into an empty archive (60 ms)."""
        shape = self.model.shape()
        if shape == self._shape:
            return
        rows, texts = shape[0], shape[1:]
        old_rows, old_texts = (self._shape[0], self._shape[1:]) if self._shape else (0, ())
        self._shape = shape
        for row in range(old_rows, rows):  # every row is as tall: the new ones alone
            self.view.resizeRowToContents(row)
        if texts != old_texts:
            for col in range(len(COLUMNS) - 1):  # the last one stretches
                # The camera's hint stops at 260 px: a longer name is elided, its tip whole.
                self.view.resizeColumnToContents(col)

    def _failed(self, exc: BaseException) -> None:
        self._busy = False

    def _show(self, health: list[CameraHealth], now: int, clock: NightClock | None = None) -> None:
        self._busy = False
        if self._closed:
            return
        self.model.update(health, now)
        self._fit()
        clock = clock or NightClock(self.ctx.settings.night_starts_hour)
        start = shown(clock.start(now))
        self.caption.setText(
            f"Tonight = since {start:%a %H:%M}; warning after "
            f"{self.ctx.settings.silence_warning_minutes} min of silence"
        )
        warnings = [
            h.note if h.refused else f"{h.label}: {h.note}"
            for h in health
            if h.level in ("warning", "error")
        ]
        if warnings:
            error = any(h.level == "error" for h in health)
            fg, bg = (style.colour(m) for m in LEVELS["error" if error else "warning"])
            sheet = (
                f"QLabel {{ color: {fg}; background: {bg}; border: 1px solid {fg};"
                " border-radius: 4px; padding: 4px 8px; font-weight: bold; }"
            )
            if sheet != self.banner.styleSheet():  # restyling is not cheap
                self.banner.setStyleSheet(sheet)
            listed = warnings[:3] + (
                [f"and {len(warnings) - 3} more cameras (see the table)"]
                if len(warnings) > 3
                else []
            )
            self.banner.setText("⚠ " + "\n⚠ ".join(listed))
            self.banner.show()
        else:
            self.banner.hide()
        if warnings != self.warnings:
            self.warnings = warnings
            self.warningsChanged.emit(warnings)
        self.refreshed.emit()
        if self._again:
            self._again = False
            self.refresh()

    def shutdown(self) -> None:
        self._closed = True
        self._timer.stop()
        self._throttle.stop()
