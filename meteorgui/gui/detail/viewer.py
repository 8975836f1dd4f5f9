"""An image viewer: wheel and +/- zoom, drag to pan, F to fit, sky-region polygons on top."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGraphicsPixmapItem,
    QGraphicsPolygonItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..common import style
from ..common.text import plain_tip
from . import stretch as stretch_mod
from .stretch import Stretch

MIN_SCALE, MAX_SCALE = 0.05, 32.0
STEP = 1.25


class ImageView(QGraphicsView):
    """The picture and its overlays; ``fit_mode`` keeps it fitted as the view resizes."""

    zoomChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setBackgroundBrush(QBrush(QColor(style.palette().viewer_bg)))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pixmap = QGraphicsPixmapItem()
        self._pixmap.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._pixmap)
        self._regions: list[QGraphicsPolygonItem] = []
        self._regions_visible = False
        self.fit_mode = True
        self._original: QImage | None = None  # as decoded; the stretch works on a copy
        self._shown = QImage()
        self.stretch = Stretch()

    # ------------------------------------------------------------------ content

    def set_image(self, image: QImage | None) -> None:
        self._original = None if image is None or image.isNull() else image
        self._render()
        self.scene().setSceneRect(QRectF(self._pixmap.pixmap().rect()))
        self.fit()

    def set_stretch(self, stretch: Stretch) -> None:
        self.stretch = stretch
        self._render()

    def shown_image(self) -> QImage:
        """The picture as handed to the screen, stretch included."""
        return self._shown

    def _render(self) -> None:
        image = self._original
        self._shown = QImage() if image is None else stretch_mod.apply(image, self.stretch)
        self._pixmap.setPixmap(QPixmap() if image is None else QPixmap.fromImage(self._shown))

    def has_image(self) -> bool:
        return not self._pixmap.pixmap().isNull()

    def set_regions(self, regions) -> None:
        """Sky-visible polygons in image pixel coordinates: [[(x, y), ...], ...]."""
        for item in self._regions:
            self.scene().removeItem(item)
        self._regions = []
        fill = QColor(style.palette().region)
        fill.setAlpha(40)
        # Cosmetic: one screen pixel whatever the zoom.
        pen = QPen(QColor(style.palette().region), 0)
        pen.setCosmetic(True)
        pen.setWidthF(1.5)
        for poly in regions:
            # Pixel (x, y) covers [x, x+1) x [y, y+1): outline through the pixel centres.
            item = QGraphicsPolygonItem(QPolygonF([QPointF(x + 0.5, y + 0.5) for x, y in poly]))
            item.setPen(pen)
            item.setBrush(QBrush(fill))
            item.setZValue(1)
            item.setVisible(self._regions_visible)
            self.scene().addItem(item)
            self._regions.append(item)

    def region_items(self) -> list[QGraphicsPolygonItem]:
        return list(self._regions)

    def set_regions_visible(self, visible: bool) -> None:
        self._regions_visible = visible
        for item in self._regions:
            item.setVisible(visible)

    # ------------------------------------------------------------------ zoom

    def scale_factor(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float, anchor_under_mouse: bool = False) -> None:
        if not self.has_image():
            return
        current = self.scale_factor()
        target = min(MAX_SCALE, max(MIN_SCALE, current * factor))
        if abs(target - current) < 1e-9:
            return
        self.fit_mode = False
        old = self.transformationAnchor()
        if not anchor_under_mouse:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.scale(target / current, target / current)
        self.setTransformationAnchor(old)
        self.zoomChanged.emit(self.scale_factor())

    def actual_size(self) -> None:
        self.zoom_by(1.0 / self.scale_factor())

    def fit(self) -> None:
        self.fit_mode = True
        if self.has_image():
            self.fitInView(self._pixmap, Qt.AspectRatioMode.KeepAspectRatio)
        else:
            self.resetTransform()
        self.zoomChanged.emit(self.scale_factor())

    # ------------------------------------------------------------------ input

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y()
        if delta:
            self.zoom_by(STEP ** (delta / 120), anchor_under_mouse=True)
            event.accept()
        else:
            super().wheelEvent(event)

    def keyPressEvent(self, event) -> None:
        key, text = event.key(), event.text()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal) or text == "+":
            self.zoom_by(STEP)
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore) or text == "-":
            self.zoom_by(1 / STEP)
        elif key == Qt.Key.Key_F:
            self.fit()
        elif key == Qt.Key.Key_1:
            self.actual_size()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.fit_mode and self.has_image():
            self.fitInView(self._pixmap, Qt.AspectRatioMode.KeepAspectRatio)
            self.zoomChanged.emit(self.scale_factor())


def _tool(text: str, tip: str, slot) -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(plain_tip(tip))
    b.setAutoRaise(True)
    b.clicked.connect(slot)
    return b


class ImageViewer(QWidget):
    """ImageView with a slim toolbar: zoom out/in, fit, 100 %, sky regions."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = ImageView(self)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.setSpacing(2)
        self.zoom_out_button = _tool(
            "−", "Zoom out (−, mouse wheel)", lambda: self.view.zoom_by(1 / STEP)
        )
        self.zoom_in_button = _tool(
            "+", "Zoom in (+, mouse wheel)", lambda: self.view.zoom_by(STEP)
        )
        self.fit_button = _tool("Fit", "Fit the image to the view (F)", self.view.fit)
        self.actual_button = _tool("1:1", "Actual pixels (1)", self.view.actual_size)
        self.zoom_label = QLabel()
        self.zoom_label.setMinimumWidth(48)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.regions_check = QCheckBox("Sky regions")
        self.regions_check.setToolTip(
            "Outline the parts of the image the camera status marks as visible sky"
        )
        self.regions_check.toggled.connect(self.view.set_regions_visible)
        for w in (
            self.zoom_out_button,
            self.zoom_in_button,
            self.fit_button,
            self.actual_button,
            self.zoom_label,
        ):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.regions_check)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.view.zoomChanged.connect(
            lambda s: self.zoom_label.setText(f"{s * 100:.0f} %" if self.view.has_image() else "")
        )

    def set_image(self, image: QImage | None, regions=()) -> None:
        self.view.set_regions(regions)
        self.regions_check.setEnabled(bool(regions))
        self.view.set_regions_visible(self.regions_check.isChecked())
        self.view.set_image(image)
