"""Import monitor dock (placeholder until the monitor is built)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class ImportMonitor(QWidget):
    """The live import log and per-camera health, shown in a dock."""

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        QVBoxLayout(self).addWidget(QLabel("Import log"))
