"""The Settings dialog."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
)

from ... import paths
from ..common import style
from ..common.text import message


class SettingsDialog(QDialog):
    applied = Signal(bool)  # True if the importer must restart to take the change

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        s = ctx.settings
        self.setWindowTitle("Settings")
        form = QFormLayout(self)
        self.data_dir = QLineEdit(s.data_dir)
        self.data_dir.setPlaceholderText(str(ctx.archive.data_dir))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.data_dir, 1)
        row.addWidget(browse)
        form.addRow("Data folder (next start)", row)
        env = os.environ.get(paths.ENV_DATA_DIR)
        if env:  # it comes first (paths.data_dir): say so rather than seem to ignore the field
            self.env_note = QLabel(
                f"{paths.ENV_DATA_DIR} is set ({env}): it is used instead, as long as it stays set."
            )
            self.env_note.setWordWrap(True)
            self.env_note.setStyleSheet(f"color: {style.ERROR};")
            form.addRow("", self.env_note)
        self.host = QLineEdit(s.host)
        self.host.setToolTip("0.0.0.0 listens on every network; 127.0.0.1 on this computer only")
        form.addRow("Listen on address", self.host)
        where = QLabel(
            "0.0.0.0: every network, so cameras on your LAN can send; 127.0.0.1: this computer only"
        )
        where.setWordWrap(True)
        where.setStyleSheet("color: palette(placeholder-text);")
        form.addRow("", where)
        self.port = QSpinBox(minimum=0, maximum=65535, value=s.port)
        self.port.setSpecialValueText("any free port")
        form.addRow("Port", self.port)
        self.autostart = QCheckBox("Start the importer when meteorgui opens")
        self.autostart.setChecked(s.importer_autostart)
        form.addRow("", self.autostart)
        self.thumb = QSpinBox(minimum=64, maximum=512, singleStep=16, value=s.thumbnail_size)
        self.thumb.setSuffix(" px")
        form.addRow("Thumbnail size", self.thumb)
        self.silence = QSpinBox(minimum=1, maximum=24 * 60, value=s.silence_warning_minutes)
        self.silence.setSuffix(" min")
        self.silence.setToolTip(
            "Warn when a camera that was sending goes quiet this long during the night"
        )
        form.addRow("Silence warning after", self.silence)
        self.notify = QCheckBox("Desktop notification when new events arrive")
        self.notify.setChecked(s.notifications)
        form.addRow("", self.notify)
        self.bind = QCheckBox("Accept a camera's data only from the login that first sent it")
        self.bind.setChecked(s.bind_cameras)
        self.bind.setToolTip(
            "Another login's status, events and files for that camera are refused; "
            "'meteorgui camera transfer ID USER' gives a camera to another login"
        )
        form.addRow("", self.bind)
        self.utc = QCheckBox("Show times in UTC (else this computer's local time)")
        self.utc.setChecked(s.times_utc)
        form.addRow("", self.utc)
        where = QLabel(f"Saved to {s.path()}")
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(where)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.data_dir.text())
        if folder:
            self.data_dir.setText(folder)

    def save(self) -> None:
        s = self.ctx.settings
        restart = (self.host.text().strip(), self.port.value()) != (s.host, s.port)
        s.data_dir = self.data_dir.text().strip()
        s.host = self.host.text().strip() or "0.0.0.0"
        s.port = self.port.value()
        s.importer_autostart = self.autostart.isChecked()
        s.thumbnail_size = self.thumb.value()
        s.silence_warning_minutes = self.silence.value()
        s.notifications = self.notify.isChecked()
        s.bind_cameras = self.bind.isChecked()
        self.ctx.core.importer.bind_cameras = s.bind_cameras
        s.times_utc = self.utc.isChecked()
        try:
            s.save()
        except OSError as exc:
            message(self, "Settings", f"Could not save the settings: {exc}")
            return
        self.applied.emit(restart)
        self.accept()
