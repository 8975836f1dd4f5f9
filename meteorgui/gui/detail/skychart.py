"""The sky chart: one event's path on the sky above the camera, painted with QPainter.

A polar, zenith-centred chart (azimuthal equidistant in zenith distance) as
the sky looks from below: north up, east left, the horizon the outer circle.
It draws the alt/az grid, constellation lines and the brighter stars at the
event's time, the camera's field (the image outline) and its sky regions, the
meteor's path with an arrow for its direction, and the radiant of its shower
with the path's great circle extended backwards to it. Without a sky position
it says why, in plain text.

The data is a ``meteorgui.sky.chart.SkyChart`` built off the GUI thread; this
widget only projects and paints.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..common import style
from ..common.sky import shower_color

_C = style.CHART
SKY_BG = QColor(*_C["background"])
GRID = QColor(*_C["grid"])
HORIZON = QColor(*_C["horizon"])
FIGURES = QColor(*_C["figures"])
STAR = QColor(*_C["star"])
FRAME = QColor(*_C["frame"])  # the camera's field
REGION = QColor(*_C["region"])  # sky regions, as the image viewer draws them
REGION_EDGE = QColor(*_C["region_edge"])
PATH = QColor(*_C["path"])
LABEL = QColor(*_C["label"])
LABEL_ON_LIGHT = QColor(*_C["label_on_light"])

Vec = tuple[float, float, float]


def to_vec(alt: float, az: float) -> Vec:
    """Unit vector (east, north, up) of an alt/az direction in degrees."""
    a, z = math.radians(alt), math.radians(az)
    return (math.cos(a) * math.sin(z), math.cos(a) * math.cos(z), math.sin(a))


def to_altaz(v: Vec) -> tuple[float, float]:
    e, n, u = v
    return math.degrees(math.asin(max(-1.0, min(1.0, u)))), math.degrees(math.atan2(e, n)) % 360


def _dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _unit(v: Vec) -> Vec | None:
    n = math.sqrt(_dot(v, v))
    return None if n < 1e-12 else (v[0] / n, v[1] / n, v[2] / n)


def backward_extension(path, radiant, step_deg: float = 1.0) -> list[tuple[float, float]]:
    """The path's great circle from its first point backwards, as far as the point
    nearest the radiant: [(alt, az)]. Empty without a path of two points or a radiant."""
    if radiant is None or len(path) < 2:
        return []
    f, last, r = to_vec(*path[0]), to_vec(*path[-1]), to_vec(*radiant)
    cos_fl = _dot(f, last)
    t = _unit(tuple(last[i] - cos_fl * f[i] for i in range(3)))
    if t is None:
        return []
    # The radiant's angle back along the circle from the first point (0..180).
    behind = math.degrees(math.atan2(-_dot(r, t), _dot(r, f)))
    if behind <= 0:
        return []
    steps = max(2, int(behind / step_deg) + 1)
    out = []
    for k in range(steps + 1):
        th = math.radians(behind * k / steps)
        p = tuple(f[i] * math.cos(th) - t[i] * math.sin(th) for i in range(3))
        out.append(to_altaz(p))
    return out


def _round_pen(colour: QColor, width: float) -> QPen:
    return QPen(
        colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin
    )


class SkyChartWidget(QWidget):
    """Contract: ``set_chart(chart | None, message="", label="")``.

    ``chart`` is a ``SkyChart`` (its ``reason`` is shown when it has no sky
    position); ``message`` is shown when there is no chart (loading, failed);
    ``label`` names the camera in a corner (plain text).
    """

    def __init__(self, parent: QWidget | None = None, compact: bool = False):
        super().__init__(parent)
        self.chart = None
        self.message = ""
        self.label = ""
        self.compact = compact
        self.setMinimumSize(180, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(320, 320) if self.compact else QSize(460, 460)

    def set_chart(self, chart, message: str = "", label: str = "") -> None:
        self.chart, self.message, self.label = chart, message, label
        self.update()

    # ------------------------------------------------------------------ projection

    def _legend_height(self) -> float:
        return 0.0 if self.compact else 3 * (self._small().height() + 2) + 4

    def _small(self):
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.8))
        return QFontMetrics(small)

    def _geometry(self) -> tuple[QPointF, float]:
        fm = self.fontMetrics()
        margin = fm.height() + 6
        h = self.height() - self._legend_height()
        r = max(10.0, min(self.width(), h) / 2 - margin)
        return QPointF(self.width() / 2, h / 2), r

    @staticmethod
    def project(centre: QPointF, radius: float, alt: float, az: float) -> QPointF:
        """Zenith at the centre, the horizon at ``radius``; north up, east left."""
        r = radius * (90.0 - alt) / 90.0
        z = math.radians(az)
        return QPointF(centre.x() - r * math.sin(z), centre.y() - r * math.cos(z))

    def _poly(self, c, r, points) -> QPolygonF:
        return QPolygonF([self.project(c, r, a, z) for a, z in points])

    # ------------------------------------------------------------------ painting

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), self.palette().window())
        chart = self.chart
        if chart is None or not chart.ok:
            text = self.message if chart is None else f"No sky position: {chart.reason}"
            self._text_only(p, text)
            p.end()
            return
        c, r = self._geometry()
        horizon = QPainterPath()
        horizon.addEllipse(c, r, r)
        p.fillPath(horizon, SKY_BG)
        self._grid(p, c, r)
        p.save()
        p.setClipPath(horizon)
        self._figures(p, c, r, chart)
        self._stars(p, c, r, chart)
        self._field(p, c, r, chart)
        self._radiant(p, c, r, chart)
        self._path(p, c, r, chart)
        p.restore()
        p.setPen(QPen(HORIZON, 1.6))
        p.drawEllipse(c, r, r)
        self._cardinals(p, c, r)
        self._caption(p, chart)
        if not self.compact:
            self._legend(p, chart)
        p.end()

    def _text_only(self, p: QPainter, text: str) -> None:
        p.setPen(self.palette().placeholderText().color())
        p.drawText(
            QRectF(self.rect()).adjusted(16, 16, -16, -16),
            Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
            text,
        )

    def _grid(self, p: QPainter, c, r) -> None:
        p.setPen(QPen(GRID, 1, Qt.PenStyle.DashLine))
        p.setBrush(Qt.BrushStyle.NoBrush)
        for alt in (30, 60):
            k = r * (90 - alt) / 90
            p.drawEllipse(c, k, k)
        for az in range(0, 360, 30):
            p.drawLine(c, self.project(c, r, 0, az))
        if not self.compact:
            small = QFont(self.font())
            small.setPointSizeF(max(6.0, small.pointSizeF() * 0.75))
            p.setFont(small)
            p.setPen(GRID.lighter(160))
            for alt in (30, 60):
                pt = self.project(c, r, alt, 45)
                p.drawText(pt + QPointF(3, -2), f"{alt}°")

    def _figures(self, p: QPainter, c, r, chart) -> None:
        p.setPen(QPen(FIGURES, 1))
        for line in chart.lines:
            run: list[tuple[float, float]] = []
            for a, z in line:  # draw the parts above (or just below) the horizon
                if a > -2:
                    run.append((a, z))
                    continue
                if len(run) > 1:
                    p.drawPolyline(self._poly(c, r, run))
                run = []
            if len(run) > 1:
                p.drawPolyline(self._poly(c, r, run))

    def _stars(self, p: QPainter, c, r, chart) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        scale = 0.75 if self.compact else 1.0
        for alt, az, mag in chart.stars:
            size = max(0.6, (3.0 - 0.55 * mag) * scale)
            colour = QColor(STAR)
            colour.setAlphaF(max(0.35, min(1.0, 1.1 - mag * 0.15)))
            p.setBrush(colour)
            p.drawEllipse(self.project(c, r, alt, az), size, size)

    def _field(self, p: QPainter, c, r, chart) -> None:
        for region in chart.regions:
            p.setPen(QPen(REGION_EDGE, 1))
            p.setBrush(REGION)
            p.drawPolygon(self._poly(c, r, region))
        if chart.frame:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(FRAME, 1.4, Qt.PenStyle.DashLine))
            p.drawPolygon(self._poly(c, r, chart.frame))

    def _radiant(self, p: QPainter, c, r, chart) -> None:
        if chart.radiant is None:
            return
        colour = shower_color(chart.shower)
        colour = colour.lighter(150)
        ext = backward_extension(chart.path, chart.radiant)
        if ext:
            p.setPen(QPen(colour, 1.3, Qt.PenStyle.DashLine))
            p.drawPolyline(self._poly(c, r, ext))
            p.setPen(QPen(colour, 1.0, Qt.PenStyle.DotLine))
            p.drawLine(self.project(c, r, *ext[-1]), self.project(c, r, *chart.radiant))
        pt = self.project(c, r, *chart.radiant)
        p.setPen(QPen(colour, 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        k = 7.0
        p.drawEllipse(pt, k, k)
        p.drawLine(pt + QPointF(-k - 4, 0), pt + QPointF(-k + 3, 0))
        p.drawLine(pt + QPointF(k - 3, 0), pt + QPointF(k + 4, 0))
        p.drawLine(pt + QPointF(0, -k - 4), pt + QPointF(0, -k + 3))
        p.drawLine(pt + QPointF(0, k - 3), pt + QPointF(0, k + 4))
        bold = QFont(self.font())
        bold.setBold(True)
        p.setFont(bold)
        if chart.shower_radiant is not None:
            # The marker above is the measured radiant; the shower's own is drawn apart.
            p.drawText(pt + QPointF(k + 6, -k), "measured")
            at = self.project(c, r, *chart.shower_radiant)
            p.setPen(QPen(colour, 1.5, Qt.PenStyle.DotLine))
            p.drawEllipse(at, k - 2, k - 2)
            p.setPen(QPen(colour, 2))
            p.drawText(at + QPointF(k + 4, k + 10), chart.shower)
        elif chart.shower and chart.shower != "sporadic":
            p.drawText(pt + QPointF(k + 6, -k), chart.shower)

    def _path(self, p: QPainter, c, r, chart) -> None:
        if not chart.path:
            return
        pts = [self.project(c, r, a, z) for a, z in chart.path]
        glow = QColor(PATH)
        glow.setAlphaF(0.3)
        p.setPen(_round_pen(glow, 7))
        p.drawPolyline(QPolygonF(pts))
        p.setPen(_round_pen(PATH, 2.6))
        p.drawPolyline(QPolygonF(pts))
        p.setBrush(PATH)
        p.drawEllipse(pts[0], 2.6, 2.6)
        if len(pts) > 1:  # an arrowhead just past the end: the way the meteor went
            end, before = pts[-1], pts[max(0, len(pts) - 3)]
            dx, dy = end.x() - before.x(), end.y() - before.y()
            n = math.hypot(dx, dy) or 1.0
            ux, uy = dx / n, dy / n
            size = 9.0
            base = end + QPointF(ux * 2, uy * 2)
            tip = base + QPointF(ux * size, uy * size)
            half = QPointF(-uy * size * 0.45, ux * size * 0.45)
            p.setPen(Qt.PenStyle.NoPen)
            p.drawPolygon(QPolygonF([tip, base + half, base - half]))

    def _legend(self, p: QPainter, chart) -> None:
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.8))
        p.setFont(small)
        fm = p.fontMetrics()
        radiant = shower_color(chart.shower).lighter(150)
        items = [
            (PATH, "the meteor: from the dot, the way the arrow points"),
            (FRAME, "the camera's field of view"),
        ]
        if chart.radiant is not None:
            items.append((radiant, "back along its great circle to the radiant"))
        if chart.shower_radiant is not None:
            items.append(
                (radiant, f"measured: from the cameras' trajectory; {chart.shower}: its catalogue")
            )
        x, y = 8.0, self.height() - 4.0 - len(items) * (fm.height() + 2)
        for colour, text in items:
            p.setPen(QPen(colour, 2.5))
            mid = y + fm.height() / 2
            p.drawLine(QPointF(x, mid), QPointF(x + 14, mid))
            p.setPen(self.palette().placeholderText().color())
            p.drawText(QPointF(x + 20, y + fm.ascent()), text)
            y += fm.height() + 2

    def _cardinals(self, p: QPainter, c, r) -> None:
        p.setPen(LABEL if self.palette().window().color().lightness() < 128 else LABEL_ON_LIGHT)
        bold = QFont(self.font())
        bold.setBold(True)
        p.setFont(bold)
        fm = p.fontMetrics()
        for name, az in (("N", 0), ("E", 90), ("S", 180), ("W", 270)):
            pt = self.project(c, r + fm.height() * 0.7, 0, az)
            w = fm.horizontalAdvance(name)
            p.drawText(QPointF(pt.x() - w / 2, pt.y() + fm.ascent() / 2 - 1), name)

    def _caption(self, p: QPainter, chart) -> None:
        if not self.label:
            return
        p.setFont(self.font())
        p.setPen(self.palette().text().color())
        p.drawText(
            QRectF(self.rect()).adjusted(6, 4, -6, -4),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
            self.label,
        )
