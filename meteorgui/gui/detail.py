"""Event detail (placeholder until the detail view is built)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class EventDetail(QWidget):
    """Contract: show_event(event_id: str | None)."""

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self._label = QLabel("Select an event")
        QVBoxLayout(self).addWidget(self._label)

    def show_event(self, event_id: str | None) -> None:
        self._label.setText(event_id or "Select an event")
