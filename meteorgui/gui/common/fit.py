"""A window as tall as its wrapped text needs.

Qt sizes a top-level window from its layout's size hint, which takes a word-wrapped label
for one of a guessed width; at the window's real width the label needs more lines than
that, and every row of the layout is squeezed to make room (Camera setup cut its note on
logins to a line and a half at 620 px wide).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
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


class GrowsToFit:
    """A dialog (listed before QDialog in its bases) that opens as tall as its text needs
    and grows whenever its layout asks for more: a line added or wrapped anew."""

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)  # type: ignore[misc]
        grow_to_fit(self, shrink=True)  # type: ignore[arg-type]

    def event(self, event) -> bool:
        done = super().event(event)  # type: ignore[misc]
        if event.type() == QEvent.Type.LayoutRequest and self.isVisible():  # type: ignore[attr-defined]
            grow_to_fit(self)  # type: ignore[arg-type]
        return done
