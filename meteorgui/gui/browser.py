"""Event browser (placeholder until the browser is built)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class EventBrowser(QWidget):
    """Thumbnail grid / table of events with filters.

    Contract used by the main window:
    - signal eventSelected(str): the current event id, or "" for none
    - selected_event_ids() -> list[str]
    - selected_file_ids() -> list[str]  (standalone files selected in the time-lapse strip)
    """

    eventSelected = Signal(str)

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Events"))

    def selected_event_ids(self) -> list[str]:
        return []

    def selected_file_ids(self) -> list[str]:
        return []
