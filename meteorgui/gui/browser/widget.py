"""EventBrowser: filters, the event grid or table, review keys, undo and the time-lapse strip."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QLabel,
    QMenu,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ... import notify
from ...archive import browse
from ...archive.browse import StripFile
from ...archive.nights import night_clock
from ...formatting import camera_names
from ...sky.names import shower_named, shower_title
from ..common import thumbnails
from ..common.labels import CLEAR_KEYS, REVIEW_LABELS, key_text
from ..common.shortcuts import set_shortcuts
from ..common.text import plain, plain_tip
from .delegates import EventTileDelegate, StripDelegate
from .filterbar import FilterBar
from .grid import GridView
from .model import SORT_COLUMNS, TIME, EventListModel, merged
from .review import ReviewCommand, ReviewStore
from .strip import StripModel, StripView
from .views import EventTable

GRID, TABLE = 0, 1


class EventBrowser(QWidget):
    """Thumbnail grid / table of events with filters, review keys and a time-lapse strip.

    Contract used by the main window:
    - signal eventSelected(str): the current event id, or "" for none
    - signal fileSelected(str): a time-lapse still chosen in the strip
    - signal reviewed(list): event ids whose review label was stored (by a key, undo or redo)
    - selected_event_ids(), selected_file_ids(), current_night_start_ms()
    - undo_action, redo_action, review_actions: for menus
    - set_export_targets([(id, name)]): the names of export badges and the filter's choices
    (what a target has is heard from the hub: notify.Exported)
    - shutdown()
    """

    eventSelected = Signal(str)
    fileSelected = Signal(str)
    reviewed = Signal(list)  # event ids whose review label was stored (also by undo/redo)

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self._current_event = ""
        self._restoring = False
        self._resetting = False
        self._ready = False
        self._strip_gen = 0
        # Stills added while the strip is being read (None: no read pending, keep none)
        self._strip_arrivals: list[StripFile] | None = None
        self._strip_range: tuple = (None, None, None)
        self._choices_busy = False  # a read of the filters' choices is running
        self._choices_again: bool | None = None  # one more asked meanwhile (initial or not)
        self._closed = False
        # The main window says which event the user sees; a review key does nothing unless
        # that is the current event. None: no detail pane (the browser alone), keys apply.
        self.review_target = None
        size = max(64, int(ctx.settings.thumbnail_size))
        self.thumbs = thumbnails.service(ctx)
        self.model = EventListModel(ctx.archive, ctx.tasks, self)
        self.strip_model = StripModel(self)

        self.filters = FilterBar(ctx.settings.night_starts_hour, self)
        self.count_label = QLabel(self)
        # "12,345 events": wide enough for most nights without widening a narrow window
        self.count_label.setMinimumWidth(
            self.count_label.fontMetrics().horizontalAdvance("99,999 events")
        )
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.grid_button = QToolButton(self, text="Grid", checkable=True, checked=True)
        self.table_button = QToolButton(self, text="Table", checkable=True)
        self.grid_button.setToolTip("Thumbnails (Ctrl+1)")
        self.table_button.setToolTip("Table (Ctrl+2)")
        group = QButtonGroup(self)
        group.setExclusive(True)
        group.addButton(self.grid_button, GRID)
        group.addButton(self.table_button, TABLE)
        group.idClicked.connect(self.set_view)
        self.filters.row2.addWidget(self.count_label)
        self.filters.row2.addSpacing(4)
        self.filters.row2.addWidget(self.grid_button)
        self.filters.row2.addWidget(self.table_button)

        self.grid = GridView(self)
        self.tile_delegate = EventTileDelegate(
            self.thumbs, size, self._camera_name, self.grid, export_names=self.model.exported_names
        )
        self.grid.setItemDelegate(self.tile_delegate)
        self.grid.setCellSize(self.tile_delegate.cell_size(self.fontMetrics().height()))
        self.grid.setModel(self.model)
        self.grid.set_empty_text("Loading…")
        self.selection = self.grid.selectionModel()
        self.table = EventTable(self)
        self.table.set_empty_text("No events")
        self.table.horizontalHeader().sectionClicked.connect(self._header_clicked)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.grid)
        self.stack.addWidget(self.table)

        self.strip = StripView(self)
        self.strip.setModel(self.strip_model)
        strip_size = max(64, size * 2 // 3)
        self.strip_delegate = StripDelegate(self.thumbs, strip_size, self.strip)
        self.strip.setItemDelegate(self.strip_delegate)
        self.strip.fit_height(self.strip_delegate.sizeHint(_option(self.strip), QModelIndex()))
        self.strip.set_empty_text("No time-lapse stills this night")
        self.strip.selectionModel().currentChanged.connect(self._strip_current)
        self.strip_label = QLabel("Time-lapse", self)
        self.strip_label.setStyleSheet("font-weight: 600;")
        strip_box = QWidget(self)
        sl = QVBoxLayout(strip_box)
        sl.setContentsMargins(0, 4, 0, 0)
        sl.setSpacing(3)
        sl.addWidget(self.strip_label)
        sl.addWidget(self.strip)
        self.message = plain(QLabel(self))
        self.message.setVisible(False)
        self.message.setWordWrap(True)

        self.strip_box = strip_box
        self.splitter = splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.stack)
        splitter.addWidget(strip_box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setCollapsible(0, False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.filters)
        layout.addWidget(self.message)
        layout.addWidget(splitter, 1)

        self._build_actions()
        self._ready_files: set[str] = set()
        # Exports arrive one message per event: badge them once per burst.
        self._exported: dict[str, list[str]] = {}
        self._exported_timer = QTimer(self, singleShot=True, interval=0)
        self._exported_timer.timeout.connect(self._mark_exported)
        self._export_refresh = QTimer(self, singleShot=True, interval=1000)
        self._export_refresh.timeout.connect(self._refresh_list)
        # Under a shower filter, sky results move events in or out: read again, once a burst.
        self._sky_refresh = QTimer(self, singleShot=True, interval=500)
        self._sky_refresh.timeout.connect(self._refresh_list)
        self._repaint_timer = QTimer(self, singleShot=True, interval=0)
        self._repaint_timer.timeout.connect(self._repaint_thumbs)
        self.thumbs.ready.connect(self._thumb_ready)

        self.selection.currentChanged.connect(self._current_changed)
        self.model.modelAboutToBeReset.connect(self._about_to_reset)
        self.model.loaded.connect(self._loaded)
        self.model.placed.connect(self._placed)
        self.model.read.connect(self._rows_read)
        self.model.modelReset.connect(self._update_count)
        self.model.rowsInserted.connect(lambda *_: self._update_count())
        self.model.counted.connect(self._update_count)
        self.filters.changed.connect(self._filters_changed)
        ctx.bridge.archived.connect(self._on_archived)
        ctx.bridge.changed.connect(self._on_changed)
        ctx.bridge.sky.connect(self._on_sky)
        # The first look counts the newest night alone; count_nights() does the rest.
        self._all_counted = False
        self._count_wanted = False
        self._counting_nights = False
        self._load_choices(initial=True, first=True)

    # ------------------------------------------------------------------ actions

    def _build_actions(self) -> None:
        self.undo_stack = QUndoStack(self)
        self.store = ReviewStore(self)
        self.undo_action = self.undo_stack.createUndoAction(self, "Undo")
        set_shortcuts(self.undo_action, QKeySequence.StandardKey.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, "Redo")
        set_shortcuts(self.redo_action, QKeySequence.StandardKey.Redo, "Ctrl+Shift+Z", "Ctrl+Y")
        self.addAction(self.undo_action)
        self.addAction(self.redo_action)
        self.review_actions: list[QAction] = []
        for lab in REVIEW_LABELS:
            act = QAction(f"{lab.text}", self)
            set_shortcuts(act, *lab.keys)
            act.setProperty("shortcutWhere", "event list")
            tip = f"Mark the selected events as {lab.text.lower()} ({key_text(lab)})"
            act.setToolTip(plain_tip(tip))
            act.triggered.connect(lambda _c=False, name=lab.name: self.review_selected(name))
            self.review_actions.append(act)
        clear = QAction("Clear review", self)
        set_shortcuts(clear, *CLEAR_KEYS)
        clear.setProperty("shortcutWhere", "event list")
        clear.triggered.connect(lambda: self.review_selected(None))
        self.review_actions.append(clear)
        for act in self.review_actions:
            act.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            self.grid.addAction(act)
            self.table.addAction(act)
        copy = QAction("Copy event id", self)
        copy.triggered.connect(self._copy_ids)
        self._copy_action = copy
        for view in (self.grid, self.table):
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(lambda pos, v=view: self._menu(v, pos))
        self.view_actions = []
        for text, seq, target in (("Thumbnails", "Ctrl+1", GRID), ("Table", "Ctrl+2", TABLE)):
            act = QAction(text, self)
            set_shortcuts(act, seq)
            self.view_actions.append(act)
            # Wherever the focus is in the window, as the View menu shows them.
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(lambda _c=False, t=target: self.set_view(t))
            self.addAction(act)

    def _menu(self, view: QAbstractItemView, pos) -> None:
        menu = QMenu(self)
        menu.addSection("Review")
        for act in self.review_actions:
            menu.addAction(act)
        menu.addSeparator()
        menu.addAction(self.undo_action)
        menu.addAction(self.redo_action)
        menu.addSeparator()
        menu.addAction(self._copy_action)
        menu.popup(view.viewport().mapToGlobal(pos))

    def _copy_ids(self) -> None:
        _n, read = self.selected_events()  # the rows not read yet are read in the pool
        self.ctx.tasks.run(
            read, lambda ids: QGuiApplication.clipboard().setText("\n".join(ids)), owner=self
        )

    # ------------------------------------------------------------------ contract

    def selected_event_ids(self) -> list[str]:
        ids = []
        for r in self._selected_rows():
            row = self.model.row_at(r)
            if row is not None:
                ids.append(row.event_id)
        return ids

    def selected_events(self):
        """(how many events are selected, a function for the pool giving their ids in
        the list's order). ``selected_event_ids`` has the rows read so far alone."""
        ranges = self._selected_ranges()
        return sum(b - t + 1 for t, b in ranges), self.model.ids_reader(ranges)

    def selected_file_ids(self) -> list[str]:
        rows = sorted(i.row() for i in self.strip.selectionModel().selectedRows())
        files = [self.strip_model.file_at(r) for r in rows]
        return [f.file_id for f in files if f is not None]

    def current_night_start_ms(self) -> int | None:
        start = self.filters.night_start()
        if start is not None:
            return start
        row = self.model.row_at(self.current_row()) if self.current_row() >= 0 else None
        return None if row is None else self.filters.clock.start(row.event_time)

    def current_row(self) -> int:
        index = self.selection.currentIndex()
        return index.row() if index.isValid() else -1

    def current_event_id(self) -> str:
        return self._current_event

    def view(self) -> int:
        return self.stack.currentIndex()

    def set_export_targets(self, targets: list[tuple[str, str]]) -> None:
        """The export targets by (id, name): badge and column names, and the filter's choices."""
        self.model.set_target_names(dict(targets))
        self.tile_delegate.clear_cache()
        self.grid.viewport().update()
        self.filters.set_export_targets(targets)

    def _on_changed(self, change: notify.Change) -> None:
        if self._closed:
            return
        if isinstance(change, notify.Exported) and change.kind == "event":
            self._exported.setdefault(change.target_id, []).append(change.entity_id)
            self._exported_timer.start()
        elif isinstance(change, notify.HistoryForgotten):
            self._export_refresh.start()  # badges go, and a "not yet exported" list grows

    def _mark_exported(self) -> None:
        """Targets answered 'complete' for these events: badge them; if the list shows only
        events a target lacks, read it again soon (once per burst)."""
        batches, self._exported = self._exported, {}
        if self._closed:
            return
        q = self.model.query
        for target_id, event_ids in batches.items():
            self.model.set_exported(target_id, event_ids)
            if q is not None and q.not_exported_to == target_id:
                self._export_refresh.start()

    def _refresh_list(self) -> None:
        if not self._closed and self.model.query is not None:
            self.model.refresh(self._current_event or None)

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True  # _on_archived ignores what the bridge still delivers
        self._exported_timer.stop()
        self._export_refresh.stop()
        self._sky_refresh.stop()
        self.model.shutdown()
        self.store.shutdown()

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # ------------------------------------------------------------------ views

    def set_view(self, which: int) -> None:
        if which == TABLE and self.table.model() is not self.model:
            # The table is attached only while shown: a hidden QTableView still pays for
            # every insert in its header.
            self.table.setModel(self.model)
            self.table.setSelectionModel(self.selection)
            widths = ((0, 150), (1, 190), (2, 80), (3, 80), (4, 85), (5, 50), (6, 80), (8, 70))
            for col, width in widths:
                self.table.setColumnWidth(col, width)
            self._show_sort_indicator()
        self.stack.setCurrentIndex(which)
        (self.table_button if which == TABLE else self.grid_button).setChecked(True)
        view = self.table if which == TABLE else self.grid
        if self.selection.currentIndex().isValid():
            view.scrollTo(self.selection.currentIndex())
        view.setFocus()
        if which == GRID and self.table.model() is not None:
            self.table.setModel(None)

    def column_width(self, tiles: int) -> int:
        """The width that shows ``tiles`` thumbnails side by side, with the scroll bar."""
        scroll = self.grid.verticalScrollBar().sizeHint().width()
        margins = self.layout().contentsMargins()
        frame = 2 * self.grid.frameWidth()
        return (
            tiles * self.grid.cellSize().width() + scroll + frame + margins.left() + margins.right()
        )

    def active_view(self) -> QAbstractItemView:
        return self.table if self.stack.currentIndex() == TABLE else self.grid

    def _header_clicked(self, section: int) -> None:
        sort = SORT_COLUMNS.get(section)
        if sort is None:
            return
        q = self.model.query
        descending = not q.descending if q is not None and q.sort == sort else True
        self.filters.set_sort(sort, descending)

    def _show_sort_indicator(self) -> None:
        q = self.model.query
        header = self.table.horizontalHeader()
        if q is None:
            header.setSortIndicatorShown(False)
            return
        col = next((c for c, s in SORT_COLUMNS.items() if s == q.sort), TIME)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(
            col, Qt.SortOrder.DescendingOrder if q.descending else Qt.SortOrder.AscendingOrder
        )

    def _thumb_ready(self, file_id: str) -> None:
        self._ready_files.add(file_id)
        if not self._repaint_timer.isActive():
            self._repaint_timer.start()

    def _repaint_thumbs(self) -> None:
        ready, self._ready_files = self._ready_files, set()
        rows = []
        for r in self.grid.visible_rows():
            row = self.model.row_at(r)
            if row is not None and row.still_id in ready:
                rows.append(r)
        self.grid.update_rows(rows)
        self.strip.viewport().update()

    def _camera_name(self, camera_id: str) -> str:
        return self.model.camera_names.get(camera_id) or camera_id

    # ------------------------------------------------------------------ loading

    @property
    def is_ready(self) -> bool:
        """The filters are read and the first query asked (``model.loading`` says the rest)."""
        return self._ready

    def _load_choices(self, initial: bool = False, first: bool = False) -> None:
        """Read the filters' choices in the pool. Arrivals from a camera the filter does not
        list yet each ask for this until the answer lands: while one read runs, the asks
        fold into one more read after it (the nights, which cost a count per night of the
        archive, only when the list is to be rebuilt)."""
        if self._choices_busy:
            self._choices_again = bool(self._choices_again) or initial
            return
        self._choices_busy = True
        archive, hour = self.ctx.archive, self.filters.hour
        unplaced = self.filters.clock.longitude is None  # a first location would move them
        # The first look at the archive counts the newest night only, the one on screen:
        # counting every night is tens of ms on a big archive, before the first page.
        counted = 1 if first else None

        def work():
            clock = night_clock(archive, hour)
            rebuild = initial or (unplaced and clock.longitude is not None)
            return (
                clock,
                browse.nights(archive, clock, counted=counted) if rebuild else None,
                browse.cameras(archive),
                browse.event_types(archive),
                browse.showers(archive),
            )

        self.ctx.tasks.run(
            work,
            lambda res: self._choices_loaded(res, initial, counted is None),
            self._choices_failed,
        )

    def _choices_failed(self, exc: BaseException) -> None:
        self._choices_busy = False
        self._load_pending_choices()

    def _load_pending_choices(self) -> None:
        if self._choices_again is not None and not self._closed:
            again, self._choices_again = self._choices_again, None
            self._load_choices(initial=again)

    def count_nights(self) -> None:
        """Count every night the night chooser lists (the first look counted the newest
        alone); now, or once the first look is done."""
        self._count_wanted = True
        if self._all_counted or not self._ready or self._counting_nights or self._closed:
            return
        self._counting_nights = True
        archive, clock = self.ctx.archive, self.filters.clock
        self.ctx.tasks.run(
            lambda: browse.nights(archive, clock),
            self._nights_counted,
            self._nights_not_counted,
            background=True,  # the list is shown already; a filter change's read goes first
        )

    def _nights_counted(self, nights: list) -> None:
        self._counting_nights = False
        if not self._closed:
            self._all_counted = True
            self.filters.set_night_counts(nights)

    def _nights_not_counted(self, _exc: BaseException) -> None:
        self._counting_nights = False  # the next count_nights() tries again

    def _choices_loaded(self, result, initial: bool, all_counted: bool = True) -> None:
        if self._closed:
            return
        self._choices_busy = False
        clock, nights, cameras, types, showers = result
        self.filters.blockSignals(True)
        # The first camera location moves the nights from the computer's clock to the
        # cameras' solar noon: list them anew and show the chosen night by its new bounds.
        # Later cameras move the mean longitude by minutes at most: taken at the next
        # start, rather than re-reading the list while cameras push.
        moved = self.filters.clock.longitude is None and clock.longitude is not None
        if (initial or moved) and nights is not None:
            self.filters.clock = clock
            self.filters.set_nights(nights)
            self._all_counted = all_counted
        self.filters.set_cameras(cameras)
        self.filters.set_event_types(types)
        self.filters.set_showers(showers)
        self.filters.blockSignals(False)
        names = camera_names(cameras)
        self.tile_delegate.clear_cache()
        self.model.set_camera_names(names)
        self.strip_model.camera_names = names
        if initial:
            self._ready = True
        if (initial or moved) and nights is not None:
            self._filters_changed()
        if self._count_wanted and not self._all_counted:
            self.count_nights()
        self._load_pending_choices()

    def _filters_changed(self) -> None:
        if not self._ready or self._closed:
            return
        q = self.filters.query()
        self.grid.set_empty_text("Loading…")
        self.model.set_query(q, focus_event=self._current_event or None)
        self._update_count()
        self._load_strip()

    def _loaded(self, focus) -> None:
        self._resetting = False
        q = self.model.query
        if q is None:
            self.grid.set_empty_text("No events yet.\nThey appear here as cameras send them.")
        elif (
            q.camera_id
            or q.event_type
            or q.review
            or q.text
            or q.not_exported_to
            or q.shower
            or q.multi_camera
        ):
            self.grid.set_empty_text("No events match these filters." + _shower_hint(q))
        else:
            self.grid.set_empty_text(
                "No events this night yet.\nNew events appear here as cameras send them."
            )
        self.table.set_empty_text(self.grid._empty_text)
        self._show_sort_indicator()
        self._update_count()
        if self._current_event != (self.model.asked_focus or ""):
            # Chosen while the list was being read (a click, or a review key moving on while
            # the first camera location, a filter or sky results list the events anew):
            # keep that choice, not the one the read was asked to keep.
            focus = self.model.loaded_row_of(self._current_event) if self._current_event else None
            if focus is None and self._current_event and self.model.query is not None:
                self.model.refresh(self._current_event)
                return
        if focus is None and self.model.placing:
            return  # the chosen event is further down: _placed() selects it once found
        self._focus_on(focus)

    def _placed(self, focus) -> None:
        """The row of the event chosen before a filter change, found after the list was
        shown (or None: not listed), unless the user chose another since."""
        if self._current_event == self.model.asked_focus:
            self._focus_on(focus)

    def _focus_on(self, focus) -> None:
        if focus is not None:
            view = self.active_view()
            self._restoring = True
            view.select_row(focus, scroll=False)
            self._restoring = False
            view.scrollTo(self.model.index(focus, 0), QAbstractItemView.ScrollHint.PositionAtCenter)
        elif self._current_event:
            self._current_event = ""
            self.eventSelected.emit("")

    def _about_to_reset(self) -> None:
        self._resetting = True

    def _update_count(self) -> None:
        n = self.model.rowCount()
        more = "+" if self.model.counting else ""  # the first page shown, the rest counted
        text = f"{n:,}{more} event{'s' if n != 1 or more else ''}"
        self.count_label.setText(text + (" …" if self.model.loading or more else ""))

    def _load_strip(self) -> None:
        self._strip_gen += 1
        gen = self._strip_gen
        q = self.filters.query()
        if q is None or q.after is None:
            self._strip_range = (None, None, None)
            self._strip_arrivals = None
            self.strip_model.set_files([])
            self.strip.set_empty_text(
                "Choose a night to see its time-lapse stills"
                if q is not None
                else "No time-lapse stills yet"
            )
            self.strip_label.setText("Time-lapse")
            return
        self._strip_range = (q.after, q.before, q.camera_id)
        self._strip_arrivals = []
        archive = self.ctx.archive

        def work():
            return browse.standalone_files(archive, q.after, q.before, q.camera_id)

        self.ctx.tasks.run(work, lambda files: self._strip_loaded(gen, files))

    def _strip_loaded(self, gen: int, files: list[StripFile]) -> None:
        if gen != self._strip_gen or self._closed:
            return
        self.strip_model.set_files(files)
        for f in self._strip_arrivals or ():  # arrived after the read began: not in it
            self.strip_model.add(f)
        self._strip_arrivals = None
        self.strip.set_empty_text("No time-lapse stills this night")
        self._update_strip_label()
        if files:  # the latest stills, once the view has laid them out
            QTimer.singleShot(0, self.strip.show_latest)

    def _update_strip_label(self) -> None:
        n = self.strip_model.rowCount()
        more = " (the first ones)" if n >= browse.STRIP_LIMIT else ""
        self.strip_label.setText(f"Time-lapse  ·  {n:,} still{'s' if n != 1 else ''}{more}")

    # ------------------------------------------------------------------ live data

    def _on_archived(self, payload) -> None:
        if self._closed:
            return
        kind, entity = payload
        if kind == "event":
            switched = self._ready and self.filters.note(entity.event_time, True)
            if not switched:
                self.model.notify_arrival()
            if self.strip_model.holds_any(f.file_id for f in entity.files):
                # The event took over stills sent first on their own: read both again.
                self._load_strip()
                self._load_choices(initial=True)
            elif not self.filters.has_camera(entity.camera_id) or not self.filters.has_event_type(
                entity.event_type
            ):
                self._load_choices()
        elif kind == "file":
            if self._ready:
                self.filters.note(entity.file_time, False)
            after, before, camera = self._strip_range
            if (
                after is not None
                and after <= entity.file_time < before
                and camera in (None, entity.camera_id)
            ):
                at_end = self._strip_at_end()
                still = StripFile(
                    entity.file_id,
                    entity.camera_id,
                    entity.file_time,
                    entity.mime_type,
                    entity.md5,
                    entity.semantic_type,
                    entity.file_name,
                )
                self.strip_model.add(still)
                if self._strip_arrivals is not None:
                    self._strip_arrivals.append(still)
                self._update_strip_label()
                if at_end:
                    self.strip.show_latest()
            if not self.filters.has_camera(entity.camera_id):
                self._load_choices()

    def _on_sky(self, results: list) -> None:
        """Sky results were stored: show them on the loaded rows in place; a list filtered
        by shower is read again (results move events in or out of it)."""
        if self._closed or not results:
            return
        self.model.set_sky(results)
        self.grid.viewport().update()
        q = self.model.query
        if q is not None and (q.shower is not None or q.multi_camera):
            self._sky_refresh.start()
        if any(r.shower and not self.filters.has_shower(r.shower) for r in results):
            self._load_choices()

    def _strip_at_end(self) -> bool:
        sb = self.strip.horizontalScrollBar()
        return sb.value() >= sb.maximum() - 4

    # ------------------------------------------------------------------ selection

    def _selected_ranges(self) -> list[tuple[int, int]]:
        """The selected rows as (first, last) ranges, sorted and joined; the current row
        when nothing is selected. Ranges: cheap even when 200k rows are selected."""
        ranges = [(rng.top(), rng.bottom()) for rng in self.selection.selection()]
        if not ranges and self.current_row() >= 0:
            ranges = [(self.current_row(), self.current_row())]
        return merged(ranges)

    def _selected_rows(self) -> list[int]:
        return [r for top, bottom in self._selected_ranges() for r in range(top, bottom + 1)]

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._resetting:
            return  # a filter change: _loaded() puts the current event back if it is still listed
        if self._restoring:
            row = self.model.row_at(current.row()) if current.isValid() else None
            event_id = row.event_id if row is not None else self._current_event
        else:
            row = self.model.row_at(current.row()) if current.isValid() else None
            event_id = row.event_id if row is not None else ""
        if event_id != self._current_event:
            self._current_event = event_id
            self.eventSelected.emit(event_id)

    def _rows_read(self, first: int, last: int) -> None:
        """A page came in: if it holds the current row, chosen before its event was read
        (End in a long list), show that event now. Until then nothing was shown, and
        clicking the current card again changes nothing."""
        current = self.selection.currentIndex()
        if current.isValid() and first <= current.row() <= last and not self._current_event:
            self._current_changed(current, current)

    def _strip_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        f = self.strip_model.file_at(current.row()) if current.isValid() else None
        if f is not None:
            self.fileSelected.emit(f.file_id)

    # ------------------------------------------------------------------ review

    def review_selected(self, label: str | None) -> None:
        """Label the selected events (None clears) and move on to the next one."""
        if self.review_target is not None and not self.review_target():
            return  # the detail pane does not show the current event (yet): label nothing
        rows = self._selected_rows()
        ids = [row.event_id for r in rows if (row := self.model.row_at(r)) is not None]
        if len(ids) < len(rows):
            self.show_message(
                f"Only loaded events can be reviewed: {len(rows) - len(ids):,} of "
                "the selected events are not loaded. Select fewer at a time."
            )
            return
        if not ids:
            return
        self.show_message("")
        self.store.initial = True
        try:
            self.undo_stack.push(ReviewCommand(ids, label, self.store))
        finally:
            self.store.initial = False
        nxt = rows[-1] + 1
        if nxt < self.model.rowCount():
            self.active_view().select_row(nxt)

    def reviews_stored(self, changes: dict, fresh: bool) -> None:
        if self._closed:
            return
        self.reviewed.emit(list(changes))
        q = self.model.query
        if (
            not fresh
            and q is not None
            and q.review is not None
            and not all(self.model.is_kept(i) for i in changes)
        ):
            # An undo or redo of a review made under other filters may move events in or out
            # of this review filter: read the list again, keeping the current event.
            self.model.refresh(self._current_event or None)
            return
        self.model.set_labels(changes)
        self.grid.viewport().update()


def _option(view):
    from PySide6.QtWidgets import QStyleOptionViewItem

    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    return option


def _shower_hint(q) -> str:
    """Where a searched word names a shower ('Perseids', 'GEM'): the text search reads what
    cameras sent, not the sky results, so point at the filter that does."""
    if not q.text or q.shower is not None:
        return ""
    for word in q.text.split():
        code = shower_named(word)
        if code is not None:
            return (
                f"\nShowers are not searched as text: choose {shower_title(code)}"
                " in the Shower filter."
            )
    return ""
