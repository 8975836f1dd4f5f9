"""A window as tall as its wrapped text needs.

Qt sizes a top-level window from its layout's size hint, which takes a word-wrapped label
for one of a guessed width; at the window's real width the label needs more lines than
that, and every row of the layout is squeezed to make room (Camera setup cut its note on
logins to a line and a half at 620 px wide).
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def grow_to_fit(window: QWidget, shrink: bool = False) -> None:
    """Make ``window`` tall enough for its layout at its present width; ``shrink``: and no
    taller (when first shown: Qt opens it at the size hint's height)."""
    layout = window.layout()
    if layout is None:
        return
    layout.activate()
    width = window.width()
    # The size hint's height is for the labels at a narrower width: more lines than at this one.
    need = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else -1
    need = max(need if need > 0 else window.sizeHint().height(), window.minimumSizeHint().height())
    if window.height() < need or shrink and window.height() > need:
        window.resize(width, need)
