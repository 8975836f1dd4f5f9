"""Request resend dialog (placeholder)."""

from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout


class ResendDialog(QDialog):
    """Contract: ResendDialog(ctx, entity_ids: list[str], parent)."""

    def __init__(self, ctx, entity_ids, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.entity_ids = list(entity_ids)
        self.setWindowTitle("Request resend")
        QVBoxLayout(self).addWidget(QLabel("Not built yet"))
