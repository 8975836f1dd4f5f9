"""The event list model: a row count and pages read from SQLite on demand.

Memory stays flat however big the archive: the model holds the number of
rows and a bounded cache of light rows (``browse.Row``) around where the
views look. A row not in the cache is shown as loading while its page is
read in the task pool.

Every read sees the snapshot ``event_summary.seq <= mark``. New events
(``notify_arrival``) are fetched with their final positions
(``browse.arrivals``) and inserted in place with beginInsertRows; each
applied batch is logged, so a page that was read before the batch lands at
its rows' current indices. A filter change (``set_query``) reads the count and
the first page, then resets the model. The row of the event that was chosen is found
after that (``placed``) when it is not on the first page: counting the rows before
an event deep in the list walks that far through an index, and a filter change
never waits for it.

Reviews keep a row listed even when they take it out of a review filter
(``keep``): the model and SQLite always agree on the rows.
"""

from __future__ import annotations

import time
from collections import Counter

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor

from ...archive import browse
from ...archive.browse import Query, Row
from ...formatting import short_name as short_type
from ...formatting import shown, zone_label
from ...sky.names import shower_title
from ..common import style
from ..common.labels import BY_NAME, label_text
from ..common.paced import PacedTimer
from ..common.sky import shower_color
from ..common.text import plain_tip

_ROOT = QModelIndex()  # the default parent of a flat model
PAGE = 120
CACHE_ROWS = 2400
HIGHLIGHT_S = 2.0
# While cameras push, new rows are read and inserted at most this often: each batch
# moves every row below it and repaints the grid. Alone, an event is read at once.
ARRIVALS_EVERY_S = 0.25

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the browse.Row, or None while loading
HIGHLIGHT_ROLE = Qt.ItemDataRole.UserRole + 2  # 0..1: how new the row is
EVENT_ID_ROLE = Qt.ItemDataRole.UserRole + 3

COLUMNS = (
    "Time", "Camera", "Type", "Duration", "Brightness", "Files", "Review", "Exported", "Shower",
    "Cameras",
)  # fmt: skip
TIME, CAMERA, TYPE, DURATION, BRIGHTNESS, FILES, REVIEW, EXPORTED, SHOWER, CAMERAS = range(
    len(COLUMNS)
)
SORT_COLUMNS = {TIME: "time", DURATION: "duration", BRIGHTNESS: "brightness"}
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def shift_indices(indices: list[int], inserted: list[int]) -> list[int]:
    """Where rows at ascending ``indices`` are after rows were inserted at the ascending final
    positions ``inserted``."""
    out, j = [], 0
    for i in indices:
        while j < len(inserted) and inserted[j] <= i + j:
            j += 1
        out.append(i + j)
    return out


def shown_time(t_ms: int, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """In the zone the user chose (local time or UTC)."""
    return shown(t_ms).strftime(fmt)


def sky_tip(row: Row) -> str:
    """The row's shower and group in words (plain text)."""
    text = shower_title(row.shower)
    if row.cameras > 1:
        text += f" · seen by {row.cameras} cameras"
    return text


def merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Row ranges (first, last) sorted, overlapping and touching ones joined."""
    out: list[tuple[int, int]] = []
    for top, bottom in sorted(ranges):
        if out and top <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], bottom))
        else:
            out.append((top, bottom))
    return out


def read_ids(archive, q: Query, mark: int, known: dict, ranges) -> list[str]:
    """The event ids of the rows in ``ranges`` of the list ``q`` gives up to ``mark``:
    from ``known`` (row -> Row) where it has the row, else read from the archive, each run
    of missing rows from the row before it (or from its offset) on."""
    out: list[str] = []
    with browse.snapshot(archive) as (conn, _):
        for top, bottom in ranges:
            r = top
            while r <= bottom:
                if r in known:
                    out.append(known[r].event_id)
                    r += 1
                    continue
                end = r
                while end < bottom and end + 1 not in known:
                    end += 1
                after, want = known.get(r - 1), end - r + 1
                while want > 0:
                    n = min(want, browse.ID_PAGE)
                    if after is None:
                        rows = browse.page(conn, q, r, n, upto=mark)
                    else:
                        rows = browse.page(conn, q, 0, n, upto=mark, after=after)
                    out.extend(row.event_id for row in rows)
                    if len(rows) < n:  # fewer rows than the list had (deleted since)
                        break
                    after, want, r = rows[-1], want - n, r + n
                r = end + 1
    return out


class EventListModel(QAbstractTableModel):
    loaded = Signal(object)  # after a filter was applied: the focus row index or None
    placed = Signal(object)  # later, when loaded said None while placing: the row or None
    arrived = Signal(list)  # event ids just inserted live
    read = Signal(int, int)  # a page read as the list scrolled: its first and last rows
    counted = Signal()  # the rest of a list shown from its first page was counted

    def __init__(self, archive, tasks, parent: QObject | None = None):
        super().__init__(parent)
        self._archive = archive
        self._tasks = tasks
        self._query: Query | None = None
        self._gen = 0
        self._count = 0
        self._mark = 0
        self._rows: dict[int, Row] = {}
        self.asked_focus: str | None = None  # set_query's focus_event
        self._placing = False  # that event's row is being looked for after the reset
        self._keep: frozenset[str] = frozenset()  # read by workers: replaced, never mutated
        self._labels: dict[str, str | None] = {}  # reviews made since the last reset
        self._exported: dict[str, tuple[str, ...]] = {}  # exports finished since the last reset
        self._sky: dict[str, tuple[str, int]] = {}  # (shower, cameras) stored since the last reset
        self._seq = 0
        self._log: list[tuple[int, list[int]]] = []  # (seq, inserted positions) per batch
        self._inflight: Counter[int] = Counter()  # seq of each page read in flight
        self._requested: set[int] = set()
        self._focus = 0
        self._catching = False
        self._catch_token: object | None = None
        self._dirty = False
        self._loading = False
        self._counting = False  # the list's first page is shown, its length still counted
        self.camera_names: dict[str, str] = {}
        self.target_names: dict[str, str] = {}  # export target id -> name
        self._arrivals = PacedTimer(ARRIVALS_EVERY_S, self._catch_up, self)
        self._highlights: dict[str, float] = {}  # event id -> when it arrived
        self._lit: set[int] = set()  # rows that may be highlighted, kept through inserts
        self._fade_timer = QTimer(self, interval=80)
        self._fade_timer.timeout.connect(self._fade)
        self._closed = False

    # ------------------------------------------------------------------ Qt model

    def rowCount(self, parent: QModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: QModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section in (
                DURATION,
                BRIGHTNESS,
                FILES,
            ):
                return int(_RIGHT)
        return None

    def flags(self, index: QModelIndex):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = index.row()
        row = self._rows.get(r)
        if role in (Qt.ItemDataRole.DisplayRole, ROW_ROLE):
            self._focus = r
            if row is None and 0 <= r < self._count:
                self._want(r)
        if row is None:
            return None
        if role == ROW_ROLE:
            return row
        if role == EVENT_ID_ROLE:
            return row.event_id
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == HIGHLIGHT_ROLE:
            return self._highlight(row.event_id)
        if role == Qt.ItemDataRole.BackgroundRole:
            level = self._highlight(row.event_id)
            if level > 0:
                c = QColor(style.palette().highlight)
                c.setAlphaF(0.55 * level)
                return c
            return None
        if role == Qt.ItemDataRole.ForegroundRole and col == REVIEW and row.label in BY_NAME:
            return BY_NAME[row.label].qcolor
        if role == Qt.ItemDataRole.ForegroundRole and col == SHOWER and row.shower:
            return shower_color(row.shower)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (DURATION, BRIGHTNESS, FILES):
            return int(_RIGHT)
        if role == Qt.ItemDataRole.ToolTipRole:
            name = self.camera_names.get(row.camera_id)
            camera = f"{name} ({row.camera_id})" if name else row.camera_id
            names = self.exported_names(row)
            exported = f"\nExported to {', '.join(names)}" if names else ""
            sky = f"\n{sky_tip(row)}" if row.shower is not None else ""
            return plain_tip(
                f"Event {row.event_id}\n{shown_time(row.event_time)} {zone_label()}\n"
                f"Camera {camera}\n{row.n_files} files{exported}{sky}"
            )
        return None

    def _display(self, row: Row, col: int):
        if col == TIME:
            return shown_time(row.event_time)
        if col == CAMERA:
            return self.camera_names.get(row.camera_id) or row.camera_id
        if col == TYPE:
            return short_type(row.event_type)
        if col == DURATION:
            return "" if row.duration is None else f"{row.duration:.2f} s"
        if col == BRIGHTNESS:
            return "" if row.brightness is None else f"{row.brightness:g}"
        if col == FILES:
            return str(row.n_files)
        if col == REVIEW:
            return label_text(row.label)
        if col == EXPORTED:
            return ", ".join(self.exported_names(row))
        if col == SHOWER:
            return "—" if row.shower == "" else (row.shower or "")
        if col == CAMERAS:
            return str(row.cameras) if row.cameras > 1 else ""
        return None

    def exported_names(self, row: Row) -> list[str]:
        """Names of the export targets that have the row's event (known targets only)."""
        return sorted(n for t in row.exported if (n := self.target_names.get(t)))

    # ------------------------------------------------------------------ public

    @property
    def query(self) -> Query | None:
        return self._query

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def counting(self) -> bool:
        """The first page is listed and the rest of the list is still being counted: rows
        are added at its end when the count is known (``counted``)."""
        return self._counting

    @property
    def placing(self) -> bool:
        """The list is shown and the row of the event asked to focus is still being
        looked for (``placed`` will say)."""
        return self._placing

    def row_at(self, r: int) -> Row | None:
        return self._rows.get(r)

    def loaded_row_of(self, event_id: str) -> int | None:
        """The row of ``event_id`` if it is among the rows read so far."""
        return next((r for r, row in self._rows.items() if row.event_id == event_id), None)

    def set_query(self, q: Query | None, focus_event: str | None = None) -> None:
        """Show the events matching ``q``: read in the pool, then reset the model."""
        self._gen += 1
        gen = self._gen
        self.asked_focus = focus_event  # the event the reset will find its row for
        self._placing = False
        if q is None:
            self._apply_reset(gen, None, 0, 0, [], None)
            return
        self._loading = True
        archive = self._archive

        def work():
            with browse.snapshot(archive) as (conn, mark):
                # A text many events hold is counted over the whole index (80-116 ms on a
                # million events): its first page is shown first, the count comes after.
                n = browse.count(conn, q, upto=mark, exact=False)
                first = browse.page(conn, q, 0, PAGE, upto=mark)
                ids = [row.event_id for row in first]
                focus = ids.index(focus_event) if focus_event in ids else None
                if n is None and (len(first) < PAGE or focus is None and focus_event):
                    # The whole list was read, or the chosen event's row is to be found
                    # further down, which needs the count first.
                    n = len(first) if len(first) < PAGE else browse.count(conn, q, upto=mark)
            return mark, n, first, focus

        self._tasks.run(
            work, lambda res: self._apply_reset(gen, q, *res), lambda exc: self._failed(gen, exc)
        )

    def refresh(self, focus_event: str | None = None) -> None:
        self.set_query(self._query, focus_event)

    def notify_arrival(self) -> None:
        """Something was archived: look for new rows soon (at once after a quiet spell,
        else ARRIVALS_EVERY_S after the last look: bursts are read as one batch)."""
        self._arrivals.request()

    def set_labels(self, labels: dict[str, str | None]) -> None:
        """Show reviews that were stored (labels by event id) on the rows that have them."""
        self._labels.update(labels)
        changed = [r for r, row in self._rows.items() if row.event_id in labels]
        for r in changed:
            self._rows[r] = self._rows[r]._replace(label=labels[self._rows[r].event_id])
        for r in changed:
            self.dataChanged.emit(self.index(r, 0), self.index(r, len(COLUMNS) - 1))

    def set_exported(self, target_id: str, event_ids) -> None:
        """Show that a target now has these events (its export round said 'complete')."""
        ids = set(event_ids)
        for event_id in ids:
            have = self._exported.get(event_id, ())
            if target_id not in have:
                self._exported[event_id] = tuple(sorted((*have, target_id)))
        changed = []
        for r, row in self._rows.items():
            if row.event_id in ids and target_id not in row.exported:
                self._rows[r] = row._replace(exported=tuple(sorted((*row.exported, target_id))))
                changed.append(r)
        if changed:
            changed.sort()
            self.dataChanged.emit(
                self.index(changed[0], 0), self.index(changed[-1], len(COLUMNS) - 1)
            )

    def set_sky(self, results) -> None:
        """Show sky results just stored (``archive.sky.SkyResult``) on the rows that have
        them, in place: the rows keep their places, selection and scroll."""
        sizes = Counter(r.group_id for r in results if r.group_id)
        sky = {r.event_id: (r.shower or "", sizes.get(r.group_id, 0)) for r in results}
        self._sky.update(sky)
        changed = []
        for r, row in self._rows.items():
            new = sky.get(row.event_id)
            if new is not None and new != (row.shower, row.cameras):
                self._rows[r] = row._replace(shower=new[0], cameras=new[1])
                changed.append(r)
        if changed:
            changed.sort()
            self.dataChanged.emit(
                self.index(changed[0], 0), self.index(changed[-1], len(COLUMNS) - 1)
            )

    def set_target_names(self, names: dict[str, str]) -> None:
        self.target_names = dict(names)
        if self._count:
            self.dataChanged.emit(self.index(0, EXPORTED), self.index(self._count - 1, EXPORTED))

    def keep(self, event_ids) -> None:
        """Keep these events listed whatever their review state becomes (call before writing)."""
        self._keep = self._keep | frozenset(event_ids)

    def is_kept(self, event_id: str) -> bool:
        return event_id in self._keep

    def set_camera_names(self, names: dict[str, str]) -> None:
        self.camera_names = dict(names)
        if self._count:
            self.dataChanged.emit(self.index(0, CAMERA), self.index(self._count - 1, CAMERA))

    def shutdown(self) -> None:
        self._closed = True
        self._gen += 1
        self._arrivals.stop()
        self._fade_timer.stop()

    # ------------------------------------------------------------------ reset

    def _apply_reset(self, gen, q, mark, n, first, focus) -> None:
        if gen != self._gen or self._closed:
            return
        self.beginResetModel()
        self._query = q
        self._counting = n is None
        self._mark, self._count = mark, len(first) if n is None else n
        self._rows = dict(enumerate(first))
        self._keep = frozenset()
        self._labels = {}
        self._exported = {}
        self._sky = {}
        self._seq = 0
        self._log.clear()
        self._inflight.clear()
        self._requested.clear()
        self._highlights.clear()
        self._lit.clear()
        self._focus = focus or 0
        self._loading = False
        self._placing = focus is None and self.asked_focus is not None and n > len(first)
        self.endResetModel()
        self.loaded.emit(focus)
        if self._placing:
            self._place(gen)
        self._catch_token, self._catching = None, False
        if self._counting:
            self._count_rest(gen)  # then what was archived meanwhile (arrivals wait)
        elif q is not None:
            self._catch_up()  # anything archived while the filter was being read

    def _count_rest(self, gen: int) -> None:
        """Count the list shown from its first page, in the snapshot it was read in."""
        q, mark, archive = self._query, self._mark, self._archive

        def work():
            with browse.snapshot(archive) as (conn, _):
                return browse.count(conn, q, upto=mark)

        self._tasks.run(work, lambda n: self._counted(gen, n), lambda exc: self._counted(gen, None))

    def _counted(self, gen: int, n: int | None) -> None:
        """The rows after the first page, at the list's end. No arrival was inserted while
        counting (``_catch_up`` waits), so they follow the rows listed."""
        if gen != self._gen or self._closed:
            return
        self._counting = False
        if n is not None and n > self._count:
            self.beginInsertRows(QModelIndex(), self._count, n - 1)
            self._count = n
            self.endInsertRows()
        self.counted.emit()
        self._catch_up()

    def _place(self, gen: int) -> None:
        """Find the row of the event asked to focus, beyond the first page, with the
        rows around it, in the snapshot the list was read in; then say it (``placed``)."""
        q, event_id, mark, seq = self._query, self.asked_focus, self._mark, self._seq
        self._inflight[seq] += 1  # keep the log of inserts that will move the row
        archive = self._archive

        def work():
            with browse.snapshot(archive) as (conn, _):
                return browse.around(conn, self._kept(q), event_id, PAGE, upto=mark)

        self._tasks.run(
            work,
            lambda res: self._placed(gen, seq, res),
            lambda exc: self._placed(gen, seq, None),
        )

    def _placed(self, gen: int, seq: int, found) -> None:
        if gen != self._gen or self._closed:
            return
        self._release(seq, None)
        self._placing = False
        focus = None
        if found is not None:
            start, rows = found
            at = start + next(i for i, row in enumerate(rows) if row.event_id == self.asked_focus)
            self._focus = focus = self._later(seq, [at])[0]
            self._store(self._later(seq, list(range(start, start + len(rows)))), rows)
        self._trim_log()
        self.placed.emit(focus)

    def _failed(self, gen, exc) -> None:
        if gen == self._gen:
            self._loading = False

    # ------------------------------------------------------------------ selections

    def ids_reader(self, ranges: list[tuple[int, int]]):
        """A function for the pool giving the event ids of the rows in ``ranges`` (first
        and last row of each, sorted and apart: ``merged``, as the list is now), in the
        list's order: the rows read so far as they are, the others read from the archive
        in the list's snapshot. A selection reaches rows never read (Ctrl+A in 200,000
        events) or read and let go (CACHE_ROWS): exporting "the selected events" took the
        rows read alone."""
        if self._query is None:
            return list
        known = dict(self._rows)
        q, mark, archive = self._kept(self._query), self._mark, self._archive
        return lambda: read_ids(archive, q, mark, known, ranges)

    # ------------------------------------------------------------------ pages

    def _want(self, r: int) -> None:
        page_no = r // PAGE
        if page_no in self._requested or self._closed or self._query is None:
            return
        self._requested.add(page_no)
        offset = page_no * PAGE
        anchor = self._rows.get(offset - 1)
        gen, seq, mark, q = self._gen, self._seq, self._mark, self._query
        self._inflight[seq] += 1
        archive = self._archive

        def work():
            with browse.snapshot(archive) as (conn, _):
                qq = self._kept(q)
                if anchor is not None:
                    return browse.page(conn, qq, 0, PAGE, upto=mark, after=anchor)
                return browse.page(conn, qq, offset, PAGE, upto=mark)

        self._tasks.run(
            work,
            lambda rows: self._page_done(gen, seq, page_no, offset, rows),
            lambda exc: self._page_failed(gen, seq, page_no, exc),
        )

    def _kept(self, q: Query) -> Query:
        """``q`` with the events kept listed as of now (read by workers: the set is
        replaced, never changed in place)."""
        return q.replace(keep=self._keep) if q.review or q.text.split() else q

    def _page_done(self, gen, seq, page_no, offset, rows) -> None:
        if gen != self._gen:
            return
        self._release(seq, page_no)
        if not rows:
            return
        indices = self._later(seq, list(range(offset, offset + len(rows))))
        self._store(indices, rows)
        self._trim_log()
        self.read.emit(indices[0], indices[-1])

    def _later(self, seq: int, indices: list[int]) -> list[int]:
        """Where rows at ascending ``indices`` of the list as it was at ``seq`` are now,
        after the batches of arrivals inserted since."""
        for batch_seq, inserted in self._log:
            if batch_seq > seq:
                indices = shift_indices(indices, inserted)
        return indices

    def _store(self, indices: list[int], rows: list[Row]) -> None:
        """Rows read from the archive, at their current indices: with the reviews, exports
        and sky results that came after they were read."""
        for i, row in zip(indices, rows, strict=True):
            label = self._labels.get(row.event_id, row.label)
            if label != row.label:
                row = row._replace(label=label)
            exported = self._exported.get(row.event_id)
            if exported is not None and not set(exported) <= set(row.exported):
                row = row._replace(exported=tuple(sorted(set(exported) | set(row.exported))))
            sky = self._sky.get(row.event_id)
            if sky is not None and sky != (row.shower, row.cameras):
                row = row._replace(shower=sky[0], cameras=sky[1])
            self._rows[i] = row
        self.dataChanged.emit(
            self.index(indices[0], 0),
            self.index(min(indices[-1], self._count - 1), len(COLUMNS) - 1),
        )
        self._evict()

    def _page_failed(self, gen, seq, page_no, exc) -> None:
        if gen == self._gen:
            self._release(seq, page_no)

    def _release(self, seq: int, page_no: int | None) -> None:
        self._inflight[seq] -= 1
        if self._inflight[seq] <= 0:
            del self._inflight[seq]
        if seq == self._seq and page_no is not None:
            self._requested.discard(page_no)

    def _trim_log(self) -> None:
        oldest = min(self._inflight, default=self._seq)
        self._log = [(s, p) for s, p in self._log if s > oldest]

    def _evict(self) -> None:
        if len(self._rows) <= CACHE_ROWS:
            return
        lo, hi = self._focus - CACHE_ROWS // 2, self._focus + CACHE_ROWS // 2
        self._rows = {i: row for i, row in self._rows.items() if lo <= i <= hi}

    # ------------------------------------------------------------------ live arrivals

    def _catch_up(self) -> None:
        if self._closed or self._query is None or self._counting:
            return  # counting: _counted() catches up
        if self._catching:
            self._dirty = True
            return
        self._catching, self._dirty = True, False
        self._arrivals.began()
        token = self._catch_token = object()
        gen, since, q = self._gen, self._mark, self._query
        archive = self._archive

        def work():
            with browse.snapshot(archive) as (conn, _):
                return browse.arrivals(conn, self._kept(q), since)

        self._tasks.run(
            work,
            lambda res: self._arrivals_done(token, gen, since, res),
            lambda exc: self._arrivals_failed(token, exc),
        )

    def _arrivals_failed(self, token, exc) -> None:
        if token is self._catch_token:
            self._catching = False

    def _arrivals_done(self, token, gen, since, result: browse.Arrivals) -> None:
        if token is not self._catch_token or self._closed:
            return  # a reset started another reading since
        self._catching = False
        if gen == self._gen and since == self._mark:
            if result.rows:
                self._insert(result.rows)
            self._mark = result.watermark
        if self._dirty:
            self.notify_arrival()

    def _insert(self, rows: list[tuple[int, Row]]) -> None:
        positions = [p for p, _ in rows]
        runs: list[list[tuple[int, Row]]] = []
        for item in rows:
            if runs and item[0] == runs[-1][-1][0] + 1:
                runs[-1].append(item)
            else:
                runs.append([item])
        for run in runs:
            first, k = run[0][0], len(run)
            self.beginInsertRows(QModelIndex(), first, first + k - 1)
            self._rows = {(i + k if i >= first else i): row for i, row in self._rows.items()}
            self._rows.update(run)
            self._lit = {(i + k if i >= first else i) for i in self._lit}
            self._lit.update(range(first, first + k))
            self._count += k
            self.endInsertRows()
        self._seq += 1
        self._log.append((self._seq, positions))
        self._requested.clear()  # page numbers moved
        self._trim_log()
        now = time.monotonic()
        ids = [row.event_id for _, row in rows]
        for event_id in ids:
            self._highlights[event_id] = now
        if not self._fade_timer.isActive():
            self._fade_timer.start()
        self.arrived.emit(ids)
        self._evict()

    # ------------------------------------------------------------------ highlight

    def _highlight(self, event_id: str) -> float:
        t0 = self._highlights.get(event_id)
        if t0 is None:
            return 0.0
        return max(0.0, 1.0 - (time.monotonic() - t0) / HIGHLIGHT_S)

    def _fade(self) -> None:
        now = time.monotonic()
        shown = set(self._highlights)
        for event_id, t0 in list(self._highlights.items()):
            if now - t0 > HIGHLIGHT_S:
                del self._highlights[event_id]
        if not self._highlights:
            self._fade_timer.stop()
        lit = [(r, self._rows.get(r)) for r in self._lit]
        rows = sorted(r for r, row in lit if row is not None and row.event_id in shown)
        self._lit = {r for r, row in lit if row is not None and row.event_id in self._highlights}
        if rows:
            self.dataChanged.emit(
                self.index(rows[0], 0),
                self.index(rows[-1], len(COLUMNS) - 1),
                [HIGHLIGHT_ROLE, Qt.ItemDataRole.BackgroundRole],
            )
