"""Brightness, contrast and gamma on the still and the video frames, as CMN_binViewer offers.

Faint meteors sit a few grey levels above the sky: a user stretches the picture to see them.
The stretch is a 256-entry lookup table applied to a copy of the picture (numpy), so the
stored bytes and the decoded image stay as the camera sent them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

from ..common.text import plain_tip

if TYPE_CHECKING:
    import numpy as np

GAMMA_STEPS = 100  # the gamma slider's units: gamma = 10 ** (value / GAMMA_STEPS)


@dataclass(frozen=True)
class Stretch:
    brightness: int = 0  # -100 … 100: added, in percent of full scale
    contrast: int = 0  # -100 … 100: slope around mid-grey, 0 leaves it alone
    gamma: float = 1.0  # > 1 lifts the faint end

    @property
    def identity(self) -> bool:
        return self.brightness == 0 and self.contrast == 0 and abs(self.gamma - 1.0) < 1e-6

    def lut(self) -> np.ndarray:
        """The table: grey level in → grey level out, 256 uint8 entries."""
        import numpy as np  # a tenth of a second: with the first stretch, not the window's start

        x = np.arange(256, dtype=np.float64) / 255.0
        x = np.power(x, 1.0 / self.gamma)
        slope = math.tan((self.contrast + 100) / 200 * math.pi / 2)  # 0 → 1, ±100 → 0 / ∞
        slope = min(slope, 255.0)
        x = (x - 0.5) * slope + 0.5 + self.brightness / 100.0
        return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def apply(image: QImage, stretch: Stretch) -> QImage:
    """A stretched copy of the image (the image itself when the stretch changes nothing)."""
    if image.isNull() or stretch.identity:
        return image
    import numpy as np

    lut = stretch.lut()
    if image.format() == QImage.Format.Format_Grayscale8 or image.isGrayscale():
        src = image.convertToFormat(QImage.Format.Format_Grayscale8)
        w, h, bpl = src.width(), src.height(), src.bytesPerLine()
        arr = np.frombuffer(src.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)
        out = lut[arr]
        result = QImage(out.data, w, h, bpl, QImage.Format.Format_Grayscale8)
        return result.copy()  # owns its bytes once ``out`` goes
    src = image.convertToFormat(QImage.Format.Format_ARGB32)
    w, h, bpl = src.width(), src.height(), src.bytesPerLine()
    arr = np.frombuffer(src.constBits(), np.uint8, count=bpl * h).reshape(h, bpl // 4, 4)
    out = arr.copy()
    out[..., :3] = lut[arr[..., :3]]  # B, G, R; alpha stays
    result = QImage(out.data, w, h, bpl, QImage.Format.Format_ARGB32)
    return result.copy()


def _slider(lo: int, hi: int, tip: str) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setValue(0)
    s.setToolTip(plain_tip(tip))
    s.setMinimumWidth(24)  # the bar must not widen the window past a small screen
    s.setMaximumWidth(140)
    return s


class StretchBar(QWidget):
    """Three sliders and a reset; ``changed`` carries the new Stretch."""

    changed = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.brightness = _slider(-100, 100, "Brightness: shift every grey level up or down")
        self.contrast = _slider(-100, 100, "Contrast: spread the grey levels apart or together")
        self.gamma = _slider(
            -GAMMA_STEPS, GAMMA_STEPS, "Gamma: lift the faint end (right) or the bright end"
        )
        self.reset_button = QToolButton()
        self.reset_button.setText("Reset")
        self.reset_button.setAutoRaise(True)
        self.reset_button.setToolTip("The picture as the camera sent it")
        self.reset_button.clicked.connect(self.reset)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(4)
        for text, slider in (
            ("Brightness", self.brightness),
            ("Contrast", self.contrast),
            ("Gamma", self.gamma),
        ):
            label = QLabel(text)
            label.setToolTip(slider.toolTip())
            layout.addWidget(label)
            layout.addWidget(slider)
            slider.valueChanged.connect(self._emit)
        self.gamma_label = QLabel()
        self.gamma_label.setMinimumWidth(self.gamma_label.fontMetrics().horizontalAdvance("0.00"))
        layout.addWidget(self.gamma_label)
        layout.addWidget(self.reset_button)
        layout.addStretch(1)
        self._show_gamma()

    def value(self) -> Stretch:
        return Stretch(
            self.brightness.value(),
            self.contrast.value(),
            round(10 ** (self.gamma.value() / GAMMA_STEPS), 3),
        )

    def set_value(self, stretch: Stretch) -> None:
        for s in (self.brightness, self.contrast, self.gamma):
            s.blockSignals(True)
        self.brightness.setValue(stretch.brightness)
        self.contrast.setValue(stretch.contrast)
        self.gamma.setValue(round(math.log10(stretch.gamma) * GAMMA_STEPS))
        for s in (self.brightness, self.contrast, self.gamma):
            s.blockSignals(False)
        self._emit()

    def reset(self) -> None:
        self.set_value(Stretch())

    def _show_gamma(self) -> None:
        self.gamma_label.setText(f"{self.value().gamma:.2f}")

    def _emit(self, *_args) -> None:
        self._show_gamma()
        self.changed.emit(self.value())
