"""Painting event tiles (grid) and time-lapse stills (strip) with their thumbnails."""

from __future__ import annotations

import time
from collections import OrderedDict

from PySide6.QtCore import QModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from ...formatting import short_name as short_type
from ..common import style
from ..common.labels import BY_NAME, label_text
from ..common.sky import GROUP_COLOR, cameras_badge, shower_color
from .model import HIGHLIGHT_ROLE, ROW_ROLE, shown_time


def _exported_colour() -> QColor:
    """The badge of an event an export target has, in the active palette."""
    colour = QColor(style.palette().exported)
    colour.setAlpha(230)
    return colour


PAD = 6
TEXT_LINES = 2


def draw_image(painter: QPainter, area: QRect, image: QImage) -> None:
    """The image scaled into ``area`` with its aspect kept, centred, on a night-sky ground."""
    painter.fillRect(area, QColor(style.palette().sky))
    if image is None or image.isNull():
        return
    size = image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
    target = QRect(0, 0, size.width(), size.height())
    target.moveCenter(area.center())
    painter.drawImage(target, image)


GLOW_STEPS = 8


def _glow_pixmap(size, dpr: float, level: float) -> QPixmap:
    pixmap = QPixmap(size * dpr)
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = _card_path(QRect(0, 0, size.width(), size.height()))
    glow = QColor(style.palette().glow)
    glow.setAlphaF(0.5 * level)
    p.setPen(QPen(glow, 3))
    p.drawPath(path)
    glow.setAlphaF(0.22 * level)
    p.fillPath(path, glow)
    p.end()
    return pixmap


def _card_path(rect: QRect) -> QPainterPath:
    path = QPainterPath()
    path.addRoundedRect(QRectF(rect).adjusted(4.5, 4.5, -4.5, -4.5), 7, 7)
    return path


def pill_width(painter: QPainter, text: str, font: QFont) -> int:
    painter.setFont(font)
    return painter.fontMetrics().horizontalAdvance(text) + 12


def draw_pill(painter: QPainter, x: int, y: int, text: str, color: QColor, font: QFont) -> None:
    painter.setFont(font)
    fm = painter.fontMetrics()
    rect = QRectF(x, y, fm.horizontalAdvance(text) + 12, fm.height() + 4)
    path = QPainterPath()
    path.addRoundedRect(rect, rect.height() / 2, rect.height() / 2)
    painter.fillPath(path, color)
    painter.setPen(QColor("white"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


class EventTileDelegate(QStyledItemDelegate):
    """A card per event: best still, review badge, export badge, time, duration and camera.

    Finished cards are kept as pixmaps (a small LRU), so repainting the grid
    while events stream in costs one drawPixmap per card; the fading
    highlight of a new card is drawn over it.

    Making a card costs about a millisecond of the GUI thread, and a screenful of new
    ones (a scroll, a page of thumbnails decoded at once) held the window for 40 ms and
    more. A paint pass may set ``deadline`` (``time.perf_counter()``): once it has
    passed, a card not yet made is left out of the pass (its rectangle added to
    ``deferred``) for the view to paint it on a later turn of the event loop, so input
    and timers run between. At least one card is made in each pass.
    """

    CACHE = 160  # cards (about 120 kB each at the default size)

    def __init__(self, thumbs, thumb_size: int, camera_names, parent=None, export_names=None):
        super().__init__(parent)
        self._thumbs = thumbs
        self._camera_names = camera_names  # callable: camera_id -> display name
        self._export_names = export_names or (lambda row: [])  # row -> target names
        self._cache: OrderedDict[tuple, QPixmap] = OrderedDict()
        self._glow_cache: dict[tuple, QPixmap] = {}
        self.deadline = 0.0  # a paint pass's end (perf_counter); 0: no limit
        self.deferred: list[QRect] = []  # cards left out of the pass for want of time
        self._made = 0  # cards made in the pass
        self.set_thumb_size(thumb_size)

    def set_thumb_size(self, size: int) -> None:
        self._size = int(size)
        self.clear_cache()

    def begin_pass(self, budget_s: float) -> None:
        """A paint pass starts that may make cards for ``budget_s`` seconds (0: any time)."""
        self.deadline = time.perf_counter() + budget_s if budget_s > 0 else 0.0
        self.deferred = []
        self._made = 0

    def clear_cache(self) -> None:
        self._cache.clear()

    def cell_size(self, font_height: int) -> QSize:
        w = self._size + 2 * PAD + 8
        h = self._size * 3 // 4 + 2 * PAD + 8 + TEXT_LINES * (font_height + 2) + 4
        return QSize(w, h)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return self.cell_size(option.fontMetrics.height())

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        row = index.data(ROW_ROLE)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        state = (
            ""
            if row is None or not row.still_id
            else self._thumbs.state(row.still_id, row.still_md5 or "", self._size)
        )
        if state == "loading":  # keep asking: that is what queues (and re-queues) the decoding
            self._thumbs.get(row.still_id, row.still_md5 or "", row.still_mime or "", self._size)
        if row is None:
            self._paint_card(painter, option, row, selected, hover)
        else:
            dpr = painter.device().devicePixelRatioF() if painter.device() else 1.0
            key = (
                id(style.palette()),  # a tile painted in the other theme is not reused
                row.event_id,
                row.label,
                row.exported,
                row.shower,
                row.cameras,
                state,
                selected,
                hover,
                option.rect.width(),
                option.rect.height(),
                dpr,
            )
            pixmap = self._cache.get(key)
            if pixmap is None:
                if self._made and self.deadline and time.perf_counter() > self.deadline:
                    self.deferred.append(QRect(option.rect))  # its highlight with it
                    return
                self._made += 1
                pixmap = QPixmap(option.rect.size() * dpr)
                pixmap.setDevicePixelRatio(dpr)
                pixmap.fill(Qt.GlobalColor.transparent)
                p = QPainter(pixmap)
                local = QStyleOptionViewItem(option)
                local.rect = QRect(0, 0, option.rect.width(), option.rect.height())
                self._paint_card(p, local, row, selected, hover)
                p.end()
                self._cache[key] = pixmap
                while len(self._cache) > self.CACHE:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(key)
            painter.drawPixmap(option.rect.topLeft(), pixmap)
        level = float(index.data(HIGHLIGHT_ROLE) or 0.0)
        if level > 0:
            # New tiles glow while cameras send: a few pre-drawn fade steps keep that cheap.
            step = max(1, round(level * GLOW_STEPS))
            dpr = painter.device().devicePixelRatioF() if painter.device() else 1.0
            key = (id(style.palette()), option.rect.width(), option.rect.height(), dpr, step)
            overlay = self._glow_cache.get(key)
            if overlay is None:
                overlay = self._glow_cache[key] = _glow_pixmap(
                    option.rect.size(), dpr, step / GLOW_STEPS
                )
            painter.drawPixmap(option.rect.topLeft(), overlay)

    def _paint_card(
        self, painter: QPainter, option: QStyleOptionViewItem, row, selected: bool, hover: bool
    ) -> None:
        pal = option.palette
        card = QRect(option.rect).adjusted(4, 4, -4, -4)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        path = _card_path(option.rect)
        painter.fillPath(path, pal.base())
        if selected:
            tint = pal.highlight().color()
            tint.setAlphaF(0.28)
            painter.fillPath(path, tint)
        border = pal.highlight().color() if selected else pal.mid().color()
        if hover and not selected:
            border = pal.highlight().color().lighter(130)
        painter.setPen(QPen(border, 2 if selected else 1))
        painter.drawPath(path)

        img_w = card.width() - 2 * PAD
        area = QRect(card.x() + PAD, card.y() + PAD, img_w, img_w * 3 // 4)
        if row is None:
            painter.fillRect(area, QColor(style.palette().sky))
        elif row.still_id:
            image = self._thumbs.get(
                row.still_id, row.still_md5 or "", row.still_mime or "", self._size
            )
            draw_image(painter, area, image)
        else:
            draw_image(painter, area, self._thumbs.badge("document", self._size))

        small = QFont(option.font)
        small.setPointSizeF(max(6.5, option.font.pointSizeF() * 0.8))
        small.setBold(True)
        if row is not None and row.label in BY_NAME:
            draw_pill(
                painter,
                area.x() + 4,
                area.y() + 4,
                label_text(row.label).upper(),
                BY_NAME[row.label].qcolor,
                small,
            )
        badge = export_badge(self._export_names(row)) if row is not None else ""
        if badge:
            w = pill_width(painter, badge, small)
            draw_pill(painter, area.right() - 4 - w, area.y() + 4, badge, _exported_colour(), small)
        if row is not None:
            draw_sky_pills(painter, area, row, small)

        fm = option.fontMetrics
        line_h = fm.height() + 2
        text = QRect(card.x() + PAD, area.bottom() + 5, img_w, line_h)
        painter.setPen(pal.text().color())
        if row is None:
            painter.setFont(option.font)
            painter.setPen(pal.placeholderText().color())
            painter.drawText(
                text, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "Loading…"
            )
            painter.restore()
            return
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(
            text,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            shown_time(row.event_time, "%H:%M:%S"),
        )
        painter.setFont(option.font)
        painter.setPen(pal.placeholderText().color())
        right = "" if row.duration is None else f"{row.duration:.2f} s"
        painter.drawText(text, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, right)
        second = text.translated(0, line_h)
        name = self._camera_names(row.camera_id)
        kind = short_type(row.event_type)
        line = name if kind == "meteor" else f"{name} · {kind}"
        painter.drawText(
            second,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(line, Qt.TextElideMode.ElideRight, second.width()),
        )
        painter.restore()


def draw_sky_pills(painter: QPainter, area: QRect, row, font: QFont) -> None:
    """The shower code at the image's bottom left, "N cameras" at its bottom right."""
    painter.setFont(font)
    pill_h = painter.fontMetrics().height() + 4
    y = area.bottom() - 4 - pill_h
    if row.shower:
        draw_pill(painter, area.x() + 4, y, row.shower, shower_color(row.shower), font)
    group = cameras_badge(row.cameras)
    if group:
        w = pill_width(painter, group, font)
        draw_pill(painter, area.right() - 4 - w, y, group, GROUP_COLOR, font)


def export_badge(names: list[str]) -> str:
    """The tile's export badge: the target's name, or how many targets have the event."""
    if not names:
        return ""
    if len(names) == 1:
        name = names[0] if len(names[0]) <= 12 else names[0][:11] + "…"
        return f"✓ {name}"
    return f"✓ {len(names)} targets"


def label_place(text: QRect, seen: QRect | None, width: int) -> QRect | None:
    """Where a tile's label goes: a tile half scrolled out of view keeps its label whole,
    slid into the visible part; None when that part is too narrow for it."""
    if seen is not None:
        text = text.intersected(QRect(seen.left(), text.top(), seen.width(), text.height()))
    return text if width + 4 <= text.width() else None


class StripDelegate(QStyledItemDelegate):
    """A time-lapse still with its time."""

    def __init__(self, thumbs, thumb_size: int, parent=None):
        super().__init__(parent)
        self._thumbs = thumbs
        self._size = int(thumb_size)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(self._size + 10, self._size * 3 // 4 + option.fontMetrics.height() + 14)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        f = index.data(ROW_ROLE)
        pal = option.palette
        rect = QRect(option.rect).adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if selected:
            painter.fillRect(rect, pal.highlight())
        area = QRect(rect.x() + 2, rect.y() + 2, rect.width() - 4, (rect.width() - 4) * 3 // 4)
        if f is not None:
            draw_image(painter, area, self._thumbs.get(f.file_id, f.md5, f.mime_type, self._size))
            painter.setPen(pal.highlightedText().color() if selected else pal.text().color())
            text = QRect(
                rect.x(), area.bottom() + 2, rect.width(), rect.bottom() - area.bottom() - 2
            )
            viewport = getattr(option.widget, "viewport", None)
            label = shown_time(f.file_time, "%H:%M:%S")
            place = label_place(
                text,
                viewport().rect() if viewport is not None else None,
                painter.fontMetrics().horizontalAdvance(label),
            )
            if place is not None:
                painter.drawText(place, Qt.AlignmentFlag.AlignCenter, label)
        painter.restore()
