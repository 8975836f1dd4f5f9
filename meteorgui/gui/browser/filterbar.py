"""The browser's filter bar: night or date range, camera, type, review state, export state,
shower and multi-camera meteors, text and order."""

from __future__ import annotations

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

from ...archive.browse import (
    ANY_SHOWER,
    NO_SKY,
    REVIEWED,
    SPORADIC,
    UNCOUNTED,
    UNREVIEWED,
    Night,
    Query,
)
from ...archive.nights import NightClock
from ...formatting import night_text
from ...formatting import short_name as short_type
from ...sky.names import shower_choice
from ..common.elide import combo_full_text
from ..common.labels import REVIEW_LABELS
from ..common.text import plain_tip

ALL_NIGHTS, DATE_RANGE = "all", "range"
TEXT_DEBOUNCE_MS = 250


NIGHT_SLICE = 100  # counted nights shown in the night chooser per turn of the event loop


class FilterBar(QWidget):
    changed = Signal()  # the query changed (text changes are debounced)

    def __init__(self, hour: int, parent=None):
        super().__init__(parent)
        self.hour = hour
        # Where nights turn; the browser sets the archive's (its cameras' solar noon).
        self.clock = NightClock(hour)
        self._nights: dict[int, Night] = {}
        self._follow_latest = True
        self._uncounted: list[Night] = []  # counted nights not shown yet
        self._counts_timer = QTimer(self, interval=0)
        self._counts_timer.timeout.connect(self._show_night_counts)

        self.night = QComboBox(self)
        self.night.setMinimumContentsLength(18)
        self.night.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.night.setToolTip(
            "The night to show: noon to noon in the cameras' local solar time, wherever "
            "this computer is"
        )
        self.date_from = QDateEdit(self, calendarPopup=True, displayFormat="yyyy-MM-dd")
        self.date_to = QDateEdit(self, calendarPopup=True, displayFormat="yyyy-MM-dd")
        for d in (self.date_from, self.date_to):
            d.setDate(QDate.currentDate())
            d.setVisible(False)
            d.dateChanged.connect(self._emit)
        self.date_dash = QLabel("to", self)
        self.date_dash.setVisible(False)

        self.camera = QComboBox(self)
        self.camera.setMinimumContentsLength(10)
        self.camera.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.camera.addItem("All cameras", None)
        combo_full_text(self.camera)  # long installation names: in the list and the tooltip
        self.event_type = QComboBox(self)
        self.event_type.addItem("All types", None)
        self.review = QComboBox(self)
        self.review.addItem("Any review", None)
        self.review.addItem("Unreviewed", UNREVIEWED)
        self.review.addItem("Reviewed", REVIEWED)
        self.review.insertSeparator(self.review.count())
        for lab in REVIEW_LABELS:
            self.review.addItem(lab.text, lab.name)
        # "Not yet exported to <target>": shown once there is an export target.
        self.export = QComboBox(self)
        self.export.setMinimumContentsLength(14)
        self.export.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.export.addItem("Any export state", None)
        self.export.setToolTip("Show only the events an export target does not have yet")
        self.export.setVisible(False)

        self.shower = QComboBox(self)
        self.shower.setMinimumContentsLength(6)  # shower names are long: the list shows them
        self.shower.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        combo_full_text(self.shower)
        self.set_showers([])
        # Short: the window must fit a 1280-pixel screen with a date range shown.
        self.multi_camera = QCheckBox("2+ cams", self)
        self.multi_camera.setToolTip("Show only meteors seen by two or more cameras")
        self.multi_camera.toggled.connect(self._emit)

        self.text = QLineEdit(self)
        self.text.setPlaceholderText("Search cameras, metadata, ids, labels…")
        self.text.setClearButtonEnabled(True)
        self._debounce = QTimer(self, singleShot=True, interval=TEXT_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.changed)
        self.text.textChanged.connect(lambda _t: self._debounce.start())
        self.text.returnPressed.connect(self._flush_text)

        self.sort = QComboBox(self)
        for text, key in (("Time", "time"), ("Duration", "duration"), ("Brightness", "brightness")):
            self.sort.addItem(text, key)
        self.order = QToolButton(self)
        self.order.setCheckable(True)
        self.order.setChecked(True)
        self.order.setAutoRaise(True)
        self.order.toggled.connect(lambda _c: (self._show_order(), self._emit()))
        self._show_order()

        for combo in (
            self.camera, self.event_type, self.review, self.export, self.shower, self.sort
        ):  # fmt: skip
            combo.currentIndexChanged.connect(self._emit)
        self.night.activated.connect(self._night_chosen)
        self.night.currentIndexChanged.connect(self._night_changed)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(6)
        row1 = QHBoxLayout()
        row1.setSpacing(6)
        row1.addWidget(self.night, 2)
        row1.addSpacing(6)
        row1.addWidget(self.camera, 1)
        row1.addWidget(self.event_type)
        row1.addWidget(self.review)
        row1.addWidget(self.export)
        self.row2 = QHBoxLayout()
        self.row2.setSpacing(4)  # a full row: with the monitor docked at a side, it sets
        # the window's narrowest width (1280-pixel screens)
        # The date range sits beside the search box, which gives way to it: on the first
        # row it made the window's minimum wider than a 1280-pixel screen, for good.
        self.row2.addWidget(self.date_from)
        self.row2.addWidget(self.date_dash)
        self.row2.addWidget(self.date_to)
        self.row2.addWidget(self.shower)
        self.row2.addWidget(self.multi_camera)
        self.row2.addWidget(self.text, 3)
        self.row2.addWidget(QLabel("Sort", self))
        self.row2.addWidget(self.sort)
        self.row2.addWidget(self.order)
        grid.addLayout(row1, 0, 0)
        grid.addLayout(self.row2, 1, 0)

    # ------------------------------------------------------------------ query

    def query(self) -> Query | None:
        """The query the widgets describe; None while there is no night to show."""
        choice = self.night.currentData()
        after = before = None
        if choice == DATE_RANGE:
            a, b = self.date_from.date().toPython(), self.date_to.date().toPython()
            a, b = min(a, b), max(a, b)
            after = self.clock.start_of(a)
            before = self.clock.end(self.clock.start_of(b))
        elif isinstance(choice, int):
            after, before = choice, self.clock.end(choice)
        elif choice != ALL_NIGHTS:
            return None
        return Query(
            after=after,
            before=before,
            camera_id=self.camera.currentData(),
            event_type=self.event_type.currentData(),
            review=self.review.currentData(),
            text=self.text.text().strip(),
            sort=self.sort.currentData(),
            descending=self.order.isChecked(),
            not_exported_to=self.export.currentData(),
            shower=self.shower.currentData(),
            multi_camera=self.multi_camera.isChecked(),
        )

    def night_start(self) -> int | None:
        choice = self.night.currentData()
        return choice if isinstance(choice, int) else None

    def set_sort(self, sort: str, descending: bool | None = None) -> None:
        self.sort.blockSignals(True)
        self.order.blockSignals(True)
        self.sort.setCurrentIndex(self.sort.findData(sort))
        if descending is not None:
            self.order.setChecked(descending)
        self._show_order()
        self.sort.blockSignals(False)
        self.order.blockSignals(False)
        self._emit()

    def _emit(self, *_args) -> None:
        self._debounce.stop()
        self.changed.emit()

    def _flush_text(self) -> None:
        if self._debounce.isActive():
            self._emit()

    def _show_order(self) -> None:
        down = self.order.isChecked()
        self.order.setText("↓" if down else "↑")
        self.order.setToolTip(
            "Newest / largest first — click for the other way"
            if down
            else "Oldest / smallest first — click for the other way"
        )

    # ------------------------------------------------------------------ nights

    def set_nights(self, nights: list[Night]) -> None:
        """Fill the night chooser (newest first); keeps the choice, else picks the latest."""
        current = self.night.currentData()
        self._nights = {n.start_ms: n for n in nights}
        self.night.blockSignals(True)
        self.night.clear()
        for n in nights:
            self.night.addItem(night_text(n, self.clock), n.start_ms)
        if not nights:
            self.night.addItem("No nights yet — waiting for cameras", None)
        self.night.insertSeparator(self.night.count())
        self.night.addItem("All nights", ALL_NIGHTS)
        self.night.addItem("Date range…", DATE_RANGE)
        keep = self.night.findData(current) if current is not None else -1
        if keep < 0 or (self._follow_latest and nights):
            keep = 0
        self.night.setCurrentIndex(keep)
        self.night.blockSignals(False)
        self._night_changed(emit=False)
        # The range's dates start on the latest night, but a range the user is looking
        # at is theirs: a new night does not move it.
        if nights and self.night.currentData() != DATE_RANGE:
            latest = self.clock.evening(nights[0].start_ms)
            self.date_from.setDate(QDate(latest.year, latest.month, latest.day))
            self.date_to.setDate(QDate(latest.year, latest.month, latest.day))

    def note(self, t_ms: int, event: bool) -> bool:
        """Count an arrival in its night; True if that made the view switch to a new night."""
        start = self.clock.start(t_ms)
        n = self._nights.get(start)
        if n is None:
            n = Night(start, self.clock.end(start), 0, 0)
        if n.events != UNCOUNTED:  # else its count, when read, has this one
            n = Night(n.start_ms, n.end_ms, n.events + int(event), n.files + int(not event))
        self._nights[start] = n
        i = self.night.findData(start)
        if i >= 0:
            self.night.setItemText(i, night_text(n, self.clock))
            return False
        newest = max(self._nights)
        if len(self._nights) == 1 or newest == start:
            # A new latest night: rebuild, and follow it if the user was on the latest one.
            self.set_nights(sorted(self._nights.values(), key=lambda x: -x.start_ms))
            if self._follow_latest:
                self._emit()
                return True
            return False
        self.set_nights(sorted(self._nights.values(), key=lambda x: -x.start_ms))
        return False

    def set_night_counts(self, nights: list[Night]) -> None:
        """The counts of nights listed without them (``browse.nights(counted=...)``),
        shown NIGHT_SLICE at a time, one slice a turn of the event loop: a thousand
        nights' texts at once kept the window from its events for 50-60 ms, however
        the user was scrolling."""
        self._uncounted.extend(nights)
        if not self._counts_timer.isActive():
            self._counts_timer.start()

    def _show_night_counts(self) -> None:
        batch = self._uncounted[:NIGHT_SLICE]
        del self._uncounted[:NIGHT_SLICE]
        rows = {self.night.itemData(i): i for i in range(self.night.count())}
        for n in batch:
            known = self._nights.get(n.start_ms)
            if known is None or known.events != UNCOUNTED:
                continue  # not listed (any more), or counted, and kept up to date by note()
            self._nights[n.start_ms] = n
            i = rows.get(n.start_ms, -1)
            if i >= 0:
                self.night.setItemText(i, night_text(n, self.clock))
        if not self._uncounted:
            self._counts_timer.stop()

    @property
    def counting_nights(self) -> bool:
        """Counted nights are still being shown (``set_night_counts``)."""
        return bool(self._uncounted)

    def _night_chosen(self, index: int) -> None:
        # Only a user's choice: staying on the newest night follows new nights as they come.
        self._follow_latest = index == 0 and isinstance(self.night.itemData(0), int)

    def _night_changed(self, *_args, emit: bool = True) -> None:
        ranged = self.night.currentData() == DATE_RANGE
        for w in (self.date_from, self.date_dash, self.date_to):
            w.setVisible(ranged)
        if emit:
            self._emit()

    # ------------------------------------------------------------------ choices

    def set_cameras(self, cameras: list[tuple[str, str]]) -> None:
        self._refill(
            self.camera,
            "All cameras",
            [(f"{name} ({cid[-6:]})" if name else cid, cid) for cid, name in cameras],
        )

    def set_export_targets(self, targets: list[tuple[str, str]]) -> None:
        """(target id, name) of the export targets, for the "not yet exported to" filter."""
        before = self.export.currentData()
        self._refill(
            self.export,
            "Any export state",
            [(f"Not yet exported to {name}", tid) for tid, name in targets],
        )
        self.export.setVisible(bool(targets))
        if self.export.currentData() != before:  # its target was removed
            self._emit()

    def set_not_exported_to(self, target_id: str | None) -> None:
        i = self.export.findData(target_id) if target_id is not None else 0
        self.export.setCurrentIndex(max(0, i))  # emits changed if it moved

    def set_showers(self, codes: list[str]) -> None:
        """The shower codes the archive's results name, for the shower filter."""
        fixed = [
            ("In a shower", ANY_SHOWER),
            ("Sporadic", SPORADIC),
            ("Not placed in the sky", NO_SKY),
        ]
        showers = [(shower_choice(c), c) for c in codes if c != SPORADIC]
        self._refill(self.shower, "Any shower", fixed + showers)
        if showers:
            self.shower.insertSeparator(len(fixed) + 1)

    def has_shower(self, code: str) -> bool:
        return self.shower.findData(code) >= 0

    def set_event_types(self, types: list[str]) -> None:
        self._refill(self.event_type, "All types", [(short_type(t), t) for t in types])

    def has_event_type(self, t: str) -> bool:
        return self.event_type.findData(t) >= 0

    def has_camera(self, camera_id: str) -> bool:
        return self.camera.findData(camera_id) >= 0

    @staticmethod
    def _refill(combo: QComboBox, all_text: str, items: list[tuple[str, str]]) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(all_text, None)
        for text, data in items:
            combo.addItem(text, data)
        i = combo.findData(current) if current is not None else 0
        combo.setCurrentIndex(max(0, i))
        combo.blockSignals(False)
        for i in range(combo.count()):
            combo.setItemData(i, plain_tip(combo.itemText(i)), Qt.ItemDataRole.ToolTipRole)
