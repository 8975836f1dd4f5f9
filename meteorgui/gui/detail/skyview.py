"""The detail pane's sky: the "Sky" tab (the chart and the shower with the angle that
decided it) and the "Cameras" tab (each camera of a multi-camera meteor side by side:
its best still and its own sky chart, with the trajectory).

``load_sky(archive, event_id)`` reads and computes everything in one go and runs
in the task pool: it imports the sky science (numpy, pyerfa) there, never on
the GUI thread nor on the app's start-up path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ... import formatting as fmt
from ...sky.names import SPORADIC, shower_title
from ..common import style, thumbnails
from ..common.sky import shower_color
from ..common.text import plain_tip
from .skychart import SkyChartWidget

CHART_SHARE = 0.6  # of the detail pane's height the tabs take when a chart is opened
STILL_WIDTH = 640  # the Cameras tab's stills are scaled to this width off the GUI thread


@dataclass
class CameraView:
    """One camera's view of the meteor."""

    event_id: str
    camera_id: str
    camera_name: str
    time_ms: int
    chart: object  # meteorgui.sky.chart.SkyChart
    still: QImage | None = None


@dataclass
class SkyInfo:
    event_id: str
    result: object | None  # archive.sky.SkyResult, None while not computed
    chart: object  # SkyChart
    decided: str  # the shower in words, with the angle that decided it
    views: list[CameraView] = field(default_factory=list)  # the group's events, this one first


def _chart(archive, event, result):
    from ...sky.chart import SkyChart, sky_chart
    from ...sky.compute import file_opener

    status = archive.status_at(event.camera_id, event.event_time)
    if status is None:
        return SkyChart(reason="the camera's status is not in the archive"), None
    return sky_chart(event, status, file_opener(archive), result), status


def _still(archive, event) -> QImage | None:
    f = thumbnails.best_still(list(event.files))
    if f is None or not f.mime_type.lower().startswith("image/") or not archive.has_bytes(f):
        return None
    image = QImage(str(archive.file_path(f)))
    if image.isNull():
        return None
    if image.width() > STILL_WIDTH:
        image = image.scaledToWidth(STILL_WIDTH, Qt.TransformationMode.SmoothTransformation)
    return image


def decided_text(result, t_s: float | None) -> str:
    """What decided the shower, in words (plain text)."""
    if result is None:
        return "Not computed yet: the sky is worked out in the background as events arrive."
    if result.shower is None:
        return f"Why: {result.reason}."
    if result.shower == SPORADIC:
        if result.group_id and result.begin_height_km is not None:
            return "No active shower's radiant and speed fit the trajectory."
        return "No active shower's radiant lies on the path's backward extension."
    d = result.distance_deg
    if d is None:
        return shower_title(result.shower)
    if result.group_id and result.radiant is not None and t_s is not None:
        from ...sky import astro
        from ...sky import showers as S

        shower = next((s for s in S.showers() if s.code == result.shower), None)
        if shower is not None:
            sra, sdec = shower.radiant(astro.solar_longitude(t_s))
            off = float(astro.separation(astro.vector(*result.radiant), astro.vector(sra, sdec)))
            if abs(off - d) < 0.01:
                return (
                    f"The trajectory's radiant is {d:.1f}° from the shower's radiant "
                    f"(within {S.RADIANT_TOLERANCE_DEG:g}°) and its speed fits."
                )
    from ...sky.showers import GC_TOLERANCE_DEG

    cameras = "Each camera's path passes" if result.group_id else "The path's great circle passes"
    return (
        f"{cameras} {d:.1f}° from the shower's radiant "
        f"(within {GC_TOLERANCE_DEG:g}°), moving away from it at a fitting speed."
    )


def trajectory_text(result) -> str:
    if result is None or result.begin_height_km is None:
        return ""
    return (
        f"Trajectory: begins at {result.begin_height_km:.1f} km, ends at "
        f"{result.end_height_km:.1f} km, entry speed {result.speed_km_s:.1f} km/s"
    )


def load_sky(archive, event_id: str) -> SkyInfo | None:
    """The event's sky and, for a multi-camera meteor, each camera's view (in the pool)."""
    from ...archive.sky import SkyResults

    event = archive.get_event(event_id)
    if event is None:
        return None
    sky = SkyResults(archive.db)
    result = sky.get(event_id)
    chart, status = _chart(archive, event, result)
    info = SkyInfo(event_id, result, chart, decided_text(result, chart.time))
    if result is None or not result.group_id:
        return info
    members = sorted(sky.group(result.group_id), key=lambda r: r.event_id != event_id)
    for r in members:
        other = event if r.event_id == event_id else archive.get_event(r.event_id)
        if other is None:
            continue
        if other is event:
            c, st = chart, status
        else:
            c, st = _chart(archive, other, r)
        name = (st.inst_name if st is not None else None) or other.camera_id
        info.views.append(
            CameraView(
                other.event_id, other.camera_id, name, other.event_time, c, _still(archive, other)
            )
        )
    return info


def _plain_label(wrap: bool = True) -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)  # camera names and reasons come from cameras
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


class SkyPanel(QWidget):
    """The "Sky" tab: the chart, the shower and what decided it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.heading = _plain_label()
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.decided = _plain_label()
        self.detail = _plain_label()
        self.detail.setStyleSheet("color: palette(placeholder-text);")
        self.chart = SkyChartWidget(self)
        text = QVBoxLayout()
        text.setContentsMargins(8, 6, 8, 0)
        text.setSpacing(2)
        text.addWidget(self.heading)
        text.addWidget(self.decided)
        text.addWidget(self.detail)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(text)
        layout.addWidget(self.chart, 1)
        self.show_info(None, "Select an event to see it on the sky.")

    def show_info(self, info: SkyInfo | None, message: str = "") -> None:
        if info is None:
            self.heading.setText("")
            self.decided.setText("")
            self.detail.setText("")
            self.chart.set_chart(None, message)
            return
        r = info.result
        self.heading.setText(heading_text(r))
        colour = shower_color(r.shower if r is not None else None)
        self.heading.setStyleSheet(f"color: {colour.name()};" if r and r.shower else "")
        self.decided.setText(info.decided)
        parts = []
        if r is not None and r.group_id:
            parts.append(f"Seen by {max(2, len(info.views))} cameras (see the Cameras tab)")
        traj = trajectory_text(r)
        if traj:
            parts.append(traj)
        if r is not None and r.radiant is not None:
            which = "Measured radiant" if r.radiant_measured else "The shower's catalogue radiant"
            parts.append(f"{which}: RA {r.radiant[0]:.1f}°, Dec {r.radiant[1]:+.1f}° (J2000)")
        self.detail.setText("\n".join(parts))
        self.chart.set_chart(info.chart)


def heading_text(r) -> str:
    if r is None:
        return "Sky position not computed yet"
    return shower_title(r.shower)


class StillView(QWidget):
    """A still scaled into the widget with its aspect kept, on a night-sky ground."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.image: QImage | None = None
        self.setMinimumSize(160, 110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self.update()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.fillRect(self.rect(), QColor(style.palette().sky))
        if self.image is None or self.image.isNull():
            p.setPen(QColor(*style.CHART["no_still"]))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No still")
        else:
            size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x, y = (self.width() - size.width()) // 2, (self.height() - size.height()) // 2
            p.drawImage(QRect(x, y, size.width(), size.height()), self.image)
        p.end()


class CamerasPanel(QScrollArea):
    """The "Cameras" tab: each camera of a multi-camera meteor side by side."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.heading = _plain_label()
        self.columns: list[tuple[QLabel, StillView, SkyChartWidget]] = []
        self._inner = QWidget()
        self._grid = QGridLayout(self._inner)
        self._grid.setContentsMargins(6, 4, 6, 4)
        self._grid.setHorizontalSpacing(10)
        self.setWidget(self._inner)

    def show_info(self, info: SkyInfo | None) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.columns = []
        if info is None or not info.views:
            return
        r = info.result
        head = _plain_label()
        head.setText(
            f"Seen by {len(info.views)} cameras · {shower_title(r.shower)}"
            + (f" · {trajectory_text(r)}" if trajectory_text(r) else "")
        )
        self._grid.addWidget(head, 0, 0, 1, len(info.views))
        for col, view in enumerate(info.views):
            title = _plain_label()
            title.setText(
                f"{view.camera_name}  ·  {fmt.utc_time(view.time_ms)}"
                + ("  (this event)" if view.event_id == info.event_id else "")
            )
            still = StillView()
            still.set_image(view.still)
            chart = SkyChartWidget(compact=True)
            chart.set_chart(view.chart, "No sky chart")
            self._grid.addWidget(title, 1, col)
            self._grid.addWidget(still, 2, col)
            self._grid.addWidget(chart, 3, col)
            self.columns.append((title, still, chart))
        self._grid.setRowStretch(2, 2)
        self._grid.setRowStretch(3, 3)


class SkyTabs(QObject):
    """The detail pane's sky parts: the Sky tab, the Cameras tab (shown for a
    multi-camera meteor) and a chip with the shower by the title.

    Contract: ``show_event(event_id | None)``, ``shutdown()``. Reads run in the
    task pool; a late answer about another event is dropped. Results the sky
    worker stores for the shown event (``bridge.sky``) show at once.
    """

    def __init__(self, ctx, tabs: QTabWidget, parent: QObject | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.tabs = tabs
        self.panel = SkyPanel()
        self.cameras = CamerasPanel()
        tabs.addTab(self.panel, "Sky")
        tabs.addTab(self.cameras, "Cameras")
        tabs.setTabVisible(self.cameras_index, False)
        tabs.currentChanged.connect(self._tab_changed)
        self.chip = _plain_label(wrap=False)
        self.chip.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.info: SkyInfo | None = None
        self.event_id: str | None = None
        self._gen = 0
        self._closed = False
        ctx.bridge.sky.connect(self._stored)

    @property
    def sky_index(self) -> int:
        return self.tabs.indexOf(self.panel)

    @property
    def cameras_index(self) -> int:
        return self.tabs.indexOf(self.cameras)

    def _tab_changed(self, index: int) -> None:
        """A chart needs room: opening the Sky or Cameras tab gives the tabs at least
        ``CHART_SHARE`` of the pane's height when they had less (the user may drag it back)."""
        if index not in (self.sky_index, self.cameras_index):
            return
        splitter = self.tabs.parentWidget()
        if not isinstance(splitter, QSplitter) or splitter.orientation() != Qt.Orientation.Vertical:
            return
        sizes, i = splitter.sizes(), splitter.indexOf(self.tabs)
        total = sum(sizes)
        if i < 0 or total <= 0 or sizes[i] >= CHART_SHARE * total:
            return
        want = int(total * CHART_SHARE)
        rest = total - sizes[i]
        splitter.setSizes(
            [
                want if k == i else max(1, s * (total - want) // max(1, rest))
                for k, s in enumerate(sizes)
            ]
        )

    def show_event(self, event_id: str | None) -> None:
        self._gen += 1
        gen = self._gen
        self.event_id = event_id or None
        if self.event_id is None:
            self._show(None, gen, "No sky chart for this item.")
            return
        if self.info is None or self.info.event_id != event_id:
            self.panel.show_info(None, "Working out the sky…")
        archive = self.ctx.archive
        self.ctx.tasks.run(
            lambda: load_sky(archive, event_id),
            lambda info: self._show(info, gen),
            lambda exc: self._show(None, gen, f"The sky chart cannot be made: {exc}"),
        )

    def _show(self, info: SkyInfo | None, gen: int, message: str = "") -> None:
        if gen != self._gen or self._closed:
            return
        self.info = info
        self.panel.show_info(info, message or "This event is not in the archive.")
        self.cameras.show_info(info)
        grouped = info is not None and len(info.views) > 1
        self.tabs.setTabVisible(self.cameras_index, grouped)
        self.tabs.setTabText(
            self.cameras_index, f"Cameras ({len(info.views)})" if grouped else "Cameras"
        )
        self.chip.setText(chip_text(info))
        self.chip.setToolTip(plain_tip(info.decided if info is not None else ""))
        r = info.result if info is not None else None
        colour = shower_color(r.shower) if r is not None and r.shower else None
        self.chip.setStyleSheet(f"color: {colour.name()}; font-weight: 600;" if colour else "")

    def _stored(self, results) -> None:
        if self._closed or self.event_id is None:
            return
        if any(r.event_id == self.event_id for r in results):
            self.show_event(self.event_id)

    def shutdown(self) -> None:
        self._closed = True
        self._gen += 1
        try:
            self.ctx.bridge.sky.disconnect(self._stored)
        except (RuntimeError, TypeError):
            pass


def chip_text(info: SkyInfo | None) -> str:
    """By the title: the shower code and its deciding angle, and the group."""
    if info is None or info.result is None:
        return ""
    r = info.result
    if r.shower is None:
        return "no sky position"
    text = r.shower
    if r.distance_deg is not None:
        text += f" · {r.distance_deg:.1f}°"
    if len(info.views) > 1:
        text += f" · {len(info.views)} cameras"
    return text
