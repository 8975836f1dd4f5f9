"""What the browser, the detail pane and the night summary share about showers: colours.

A shower keeps its colour everywhere (tile pill, chart, summary) so the eye
links them; sporadic meteors are grey.
"""

from __future__ import annotations

import zlib

from PySide6.QtGui import QColor

from . import style

SPORADIC_COLOR = QColor(style.SPORADIC)
GROUP_COLOR = QColor(*style.GROUP_BADGE)  # the "seen by N cameras" badge
_PALETTE = style.SHOWER_SERIES
_FIXED = style.SHOWER_FIXED


def shower_color(code: str | None) -> QColor:
    if not code or code == "sporadic":
        return QColor(SPORADIC_COLOR)
    fixed = _FIXED.get(code)
    if fixed is not None:
        return QColor(fixed)
    return QColor(_PALETTE[zlib.crc32(code.encode("utf-8")) % len(_PALETTE)])


def cameras_badge(n: int) -> str:
    return f"{n} cameras" if n > 1 else ""
