"""Verify archive dialog (placeholder)."""

from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout


class VerifyDialog(QDialog):
    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Verify archive")
        QVBoxLayout(self).addWidget(QLabel("Not built yet"))
