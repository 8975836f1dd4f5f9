"""The detail pane's "No event selected" page.

A module of its own: until the pane is built (after the first page of events is shown,
see startup.FirstPage), the window holds the pane's place with this same page, so the
pane arriving changes nothing on screen.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from ..common import style
from ..common.thumbnails import icon_path


def no_event_page(parent: QWidget | None = None) -> QLabel:
    page = QLabel(parent)
    page.setAlignment(Qt.AlignmentFlag.AlignCenter)
    page.setWordWrap(True)
    page.setTextFormat(Qt.TextFormat.RichText)
    icon = icon_path("meteorgui")
    page.setText(
        f'<p><img src="{icon.as_uri() if icon.exists() else ""}" width="72" height="72"></p>'
        '<p style="font-size:13pt; font-weight:600">No event selected</p>'
        f'<p style="color:{style.MUTED}">Select an event to see its files, its metadata'
        " and the camera that recorded it.</p>"
    )
    return page
