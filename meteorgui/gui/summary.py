"""Night summary dialog (placeholder)."""

from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout


class NightSummaryDialog(QDialog):
    """Contract: NightSummaryDialog(ctx, night_start_ms: int | None, parent)."""

    def __init__(self, ctx, night_start_ms=None, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Night summary")
        QVBoxLayout(self).addWidget(QLabel("Not built yet"))
