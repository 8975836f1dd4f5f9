"""The night summary: events per hour as a chart, counts per camera and review state, and
meteors per shower with their hourly rates."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...archive import browse
from ...archive.browse import NightCounts
from ...archive.nights import NightClock, night_clock
from ...formatting import camera_names, night_text, night_title, shown
from ..common import style
from ..common.labels import REVIEW_LABELS
from ..common.text import plain, plain_tip
from .showers import ShowerTable, counts_table, fit_columns_and_height

CAMERA_COLORS = style.SERIES

try:
    from PySide6.QtCharts import (
        QBarCategoryAxis,
        QBarSet,
        QChart,
        QChartView,
        QStackedBarSeries,
        QValueAxis,
    )
except ImportError:  # a PySide6 build without the QtCharts add-on
    QChartView = None


def _visible_hours(counts: NightCounts) -> range:
    """The hours worth drawing: from the first to the last hour with events, a little padded."""
    totals = [sum(v[h] for v in counts.by_camera.values()) for h in range(len(counts.hours))]
    busy = [h for h, n in enumerate(totals) if n]
    if not busy:
        return range(len(counts.hours))
    lo, hi = max(0, busy[0] - 1), min(len(counts.hours) - 1, busy[-1] + 1)
    if hi - lo < 5:
        lo, hi = max(0, lo - 2), min(len(counts.hours) - 1, hi + 2)
    return range(lo, hi + 1)


def _nice_step(peak: int, ticks: int = 5) -> int:
    """A whole tick step (1, 2, 5, 10, 20, 50, ...) giving at most ``ticks`` steps up to peak."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if peak <= step * m * ticks:
                return step * m
        step *= 10


def _hour_label(t_ms: int) -> str:
    return shown(t_ms).strftime("%H:%M")


class PaintedChart(QWidget):
    """Stacked bars per hour, painted (used when QtCharts is not available)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumHeight(240)
        self._counts: NightCounts | None = None
        self._names: dict[str, str] = {}

    def set_counts(self, counts: NightCounts, names: dict[str, str]) -> None:
        self._counts, self._names = counts, names
        self.update()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        p.fillRect(self.rect(), pal.base())
        c = self._counts
        if c is None:
            p.end()
            return
        hours = _visible_hours(c)
        fm = p.fontMetrics()
        left, bottom, top, right = 36, fm.height() + 10, 12, 12
        w, h = self.width() - left - right, self.height() - top - bottom
        peak = max([sum(v[i] for v in c.by_camera.values()) for i in hours] + [1])
        step = max(1, len(hours))
        slot = w / step
        p.setPen(pal.mid().color())
        p.drawLine(left, top + h, left + w, top + h)
        p.setPen(pal.text().color())
        p.drawText(
            QRectF(0, top - 6, left - 6, fm.height()), Qt.AlignmentFlag.AlignRight, str(peak)
        )
        for k, hour in enumerate(hours):
            x = left + k * slot + slot * 0.15
            y = top + h
            for ci, cam in enumerate(c.cameras):
                n = c.by_camera[cam][hour]
                if not n:
                    continue
                bar = h * n / peak
                p.fillRect(
                    QRectF(x, y - bar, slot * 0.7, bar),
                    QColor(CAMERA_COLORS[ci % len(CAMERA_COLORS)]),
                )
                y -= bar
            p.setPen(pal.text().color())
            p.drawText(
                QRectF(left + k * slot, top + h + 4, slot, fm.height()),
                Qt.AlignmentFlag.AlignHCenter,
                _hour_label(c.hours[hour])[:2],
            )
        p.end()


class NightSummaryDialog(QDialog):
    """Events per hour of one night, per camera and per review state.

    Contract: NightSummaryDialog(ctx, night_start_ms: int | None, parent); None shows the latest
    night with data. Reading runs in the task pool.
    """

    def __init__(self, ctx, night_start_ms: int | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.counts: NightCounts | None = None
        self._names: dict[str, str] = {}
        self._gen = 0
        self.setWindowTitle("Night summary")
        self.resize(820, 680)  # fits a 1280x720 screen
        self.hour = ctx.settings.night_starts_hour
        self.clock = NightClock(self.hour)  # the archive's, once the nights are read

        self.night = QComboBox(self)
        self.night.setMinimumContentsLength(30)
        self.night.currentIndexChanged.connect(self._night_chosen)
        self.heading = plain(QLabel("Reading the archive…", self))
        self.heading.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.subtitle = plain(QLabel(self))
        self.subtitle.setStyleSheet("color: palette(placeholder-text);")
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(QLabel("Night", self))
        top.addWidget(self.night)

        if QChartView is not None:
            self.chart = QChart()
            self.chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
            self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
            self.chart.setMargins(self.chart.margins() * 0)
            self.chart_view = QChartView(self.chart, self)
            self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
            self.chart_view.setMinimumHeight(280)
        else:
            self.chart = None
            self.chart_view = PaintedChart(self)

        self.table = counts_table(self)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.chart_view, 1)
        layout.addWidget(self.table)
        self.showers = ShowerTable(ctx, self)
        layout.addWidget(self.showers)
        layout.addWidget(buttons)
        self._load_nights(night_start_ms)

    # ------------------------------------------------------------------ reading

    def _load_nights(self, wanted: int | None) -> None:
        archive, hour = self.ctx.archive, self.hour

        def work():
            clock = night_clock(archive, hour)
            return clock, browse.nights(archive, clock), camera_names(browse.cameras(archive))

        self.ctx.tasks.run(work, lambda res: self._nights_loaded(res, wanted), self._failed)

    def _nights_loaded(self, result, wanted: int | None) -> None:
        self.clock, nights, self._names = result
        self.night.blockSignals(True)
        self.night.clear()
        for n in nights:
            self.night.addItem(night_text(n, self.clock), n.start_ms)
        if wanted is not None and self.night.findData(wanted) < 0:
            self.night.addItem(night_title(wanted, self.clock), wanted)
        self.night.blockSignals(False)
        if self.night.count() == 0:
            self.heading.setText("No nights with data yet")
            return
        index = self.night.findData(wanted) if wanted is not None else 0
        self.night.setCurrentIndex(max(0, index))
        self._night_chosen()

    def _night_chosen(self, *_args) -> None:
        start = self.night.currentData()
        if start is None:
            return
        self._gen += 1
        gen = self._gen
        archive, clock = self.ctx.archive, self.clock
        self.ctx.tasks.run(
            lambda: browse.hourly_counts(archive, start, clock),
            lambda counts: self._show(gen, counts),
            self._failed,
        )
        self.showers.load(start, self.clock.end(start))

    def _failed(self, exc: BaseException) -> None:
        self.heading.setText(f"Could not read the archive: {exc}")

    # ------------------------------------------------------------------ showing

    def hour_totals(self) -> list[int]:
        c = self.counts
        if c is None:
            return []
        return [sum(v[h] for v in c.by_camera.values()) for h in range(len(c.hours))]

    def _camera_name(self, camera_id: str) -> str:
        return self._names.get(camera_id) or camera_id

    def _show(self, gen: int, counts: NightCounts) -> None:
        if gen != self._gen:
            return
        self.counts = counts
        start = shown(counts.start_ms)
        end = shown(counts.end_ms)
        self.heading.setText(f"Night of {night_title(counts.start_ms, self.clock)}")
        stills = sum(counts.standalone.values())
        cams = len(counts.cameras)
        self.subtitle.setText(
            f"{start:%a %H:%M} to {end:%a %H:%M} local time  ·  {counts.total} events from "
            f"{cams} camera{'s' if cams != 1 else ''}  ·  {stills} time-lapse stills"
        )
        self._fill_chart(counts)
        self._fill_table(counts)

    def _fill_chart(self, c: NightCounts) -> None:
        if self.chart is None:
            self.chart_view.set_counts(c, self._names)
            return
        chart = self.chart
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        hours = _visible_hours(c)
        series = QStackedBarSeries()
        for i, cam in enumerate(c.cameras):
            bar = QBarSet(self._camera_name(cam))
            bar.setColor(QColor(CAMERA_COLORS[i % len(CAMERA_COLORS)]))
            bar.append([float(c.by_camera[cam][h]) for h in hours])
            series.append(bar)
        series.setBarWidth(0.75)
        chart.addSeries(series)
        x = QBarCategoryAxis()
        x.append([_hour_label(c.hours[h]) for h in hours])
        chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(x)
        y = QValueAxis()
        peak = max([sum(c.by_camera[cam][h] for cam in c.cameras) for h in hours] + [1])
        step = _nice_step(peak)
        y.setRange(0, -(-peak // step) * step)
        y.setTickType(QValueAxis.TickType.TicksDynamic)
        y.setTickAnchor(0)
        y.setTickInterval(step)
        y.setLabelFormat("%d")
        y.setTitleText("events per hour")
        chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(y)
        chart.legend().setVisible(bool(c.cameras))

    def _fill_table(self, c: NightCounts) -> None:
        labels = [(None, "Unreviewed")] + [(lab.name, lab.text) for lab in REVIEW_LABELS]
        headers = ["Camera", "Events"] + [text for _, text in labels] + ["Time-lapse"]
        t = self.table
        t.clear()
        t.setColumnCount(len(headers))
        t.setHorizontalHeaderLabels(headers)
        t.setRowCount(len(c.cameras) + 1)

        def put(row: int, col: int, value, tip: str = "") -> None:
            item = QTableWidgetItem(str(value))
            if col > 0:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if tip:
                item.setToolTip(plain_tip(tip))
            t.setItem(row, col, item)

        totals = [0] * (len(headers) - 1)
        for r, cam in enumerate(c.cameras):
            per = c.table.get(cam, {})
            values = (
                [sum(per.values())]
                + [per.get(name, 0) for name, _ in labels]
                + [c.standalone.get(cam, 0)]
            )
            put(r, 0, self._camera_name(cam), f"camera {cam}")
            for k, v in enumerate(values):
                put(r, k + 1, v)
                totals[k] += v
        last = len(c.cameras)
        put(last, 0, "All cameras")
        font = t.font()
        font.setBold(True)
        t.item(last, 0).setFont(font)
        for k, v in enumerate(totals):
            put(last, k + 1, v)
            t.item(last, k + 1).setFont(font)
        fit_columns_and_height(t)
