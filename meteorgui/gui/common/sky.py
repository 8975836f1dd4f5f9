"""What the browser, the detail pane and the night summary share about showers: colours.

A shower keeps its colour everywhere (tile pill, chart, summary) so the eye
links them; sporadic meteors are grey.
"""

from __future__ import annotations

import zlib

from PySide6.QtGui import QColor

SPORADIC_COLOR = QColor("#6b7280")
GROUP_COLOR = QColor(14, 116, 144, 235)  # the "seen by N cameras" badge
_PALETTE = ("#7c3aed", "#c2410c", "#0f766e", "#be185d", "#4d7c0f", "#1d4ed8", "#a16207")
_FIXED = {"PER": "#7c3aed", "GEM": "#1d4ed8", "QUA": "#0f766e", "ORI": "#c2410c"}


def shower_color(code: str | None) -> QColor:
    if not code or code == "sporadic":
        return QColor(SPORADIC_COLOR)
    fixed = _FIXED.get(code)
    if fixed is not None:
        return QColor(fixed)
    return QColor(_PALETTE[zlib.crc32(code.encode("utf-8")) % len(_PALETTE)])


def cameras_badge(n: int) -> str:
    return f"{n} cameras" if n > 1 else ""
