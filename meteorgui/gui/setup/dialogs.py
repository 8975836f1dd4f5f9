"""Camera setup, users and settings dialogs."""

from __future__ import annotations

import os
import secrets

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ... import paths
from ...archive import ROLES, UserError
from ..common.text import message


def copy_row(text: str, parent: QWidget, secret: bool = False) -> tuple[QHBoxLayout, QLineEdit]:
    """A read-only field with a Copy button."""
    field = QLineEdit(text, parent)
    field.setReadOnly(True)
    if secret:
        field.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
    button = QPushButton("Copy", parent)
    button.clicked.connect(lambda: QGuiApplication.clipboard().setText(field.text()))
    row = QHBoxLayout()
    row.addWidget(field, 1)
    row.addWidget(button)
    return row, field


class CameraSetupDialog(QDialog):
    """What to type into a MeteorPi camera's export settings to send here."""

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Camera setup")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "On each camera, add an export configuration that sends to this computer. "
            "Enter one of these import URLs (the one on the camera's network), and a user "
            "name and password that has the <i>import</i> role."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        urls = QGroupBox("Import URL")
        grid = QVBoxLayout(urls)
        server = ctx.core.server
        self.url_fields: list[QLineEdit] = []
        if ctx.core.importer_running:
            for url in server.urls():
                row, field = copy_row(url, self)
                grid.addLayout(row)
                self.url_fields.append(field)
        else:
            grid.addWidget(QLabel("The importer is stopped: start it first (Importer menu)."))
        layout.addWidget(urls)

        login = QGroupBox("Login for the camera")
        form = QGridLayout(login)
        importers = [u.name for u in ctx.archive.users.list() if u.has_role("import")]
        note = (
            "Existing users with the import role: " + ", ".join(importers)
            if importers
            else "No user has the import role yet."
        )
        note += (
            " Passwords are stored only as salted hashes, so they cannot be shown: "
            "create a new login, or reset a password, to see it once."
        )
        lab = QLabel(note)
        lab.setWordWrap(True)
        form.addWidget(lab, 0, 0, 1, 2)
        self.user_row, self.user_field = copy_row("", self)
        self.password_row, self.password_field = copy_row("", self)
        form.addWidget(QLabel("User"), 1, 0)
        form.addLayout(self.user_row, 1, 1)
        form.addWidget(QLabel("Password"), 2, 0)
        form.addLayout(self.password_row, 2, 1)
        self.create_button = QPushButton("Create a new camera login")
        self.create_button.clicked.connect(self.create_login)
        form.addWidget(self.create_button, 3, 1)
        layout.addWidget(login)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def create_login(self) -> None:
        existing = {u.name for u in self.ctx.archive.users.list()}
        n = 1
        while f"camera{n}" in existing:
            n += 1
        name, password = f"camera{n}", secrets.token_urlsafe(12)
        self.create_button.setEnabled(False)
        self.create_button.setText("Creating…")

        def done(_user):
            self.user_field.setText(name)
            self.password_field.setText(password)
            self.create_button.setText("Create another camera login")
            self.create_button.setEnabled(True)

        def failed(exc):
            self.create_button.setEnabled(True)
            message(self, "Camera setup", str(exc))

        # Hashing with the KDF takes a moment: off the GUI thread.
        self.ctx.tasks.run(
            lambda: self.ctx.archive.users.add(name, password, ["import"]), done, failed
        )


class UserEditor(QDialog):
    """Name, password and roles for a new user."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Add user")
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.roles = {r: QCheckBox(r) for r in ROLES}
        self.roles["import"].setChecked(True)
        form.addRow("Name", self.name)
        form.addRow("Password", self.password)
        box = QHBoxLayout()
        for cb in self.roles.values():
            box.addWidget(cb)
        form.addRow("Roles", box)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def chosen_roles(self) -> list[str]:
        return [r for r, cb in self.roles.items() if cb.isChecked()]


class UsersDialog(QDialog):
    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Users")
        self.resize(560, 360)
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Name", "Roles", "Created"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(self.table)
        row = QHBoxLayout()
        for text, slot in (
            ("Add…", self.add_user),
            ("Remove", self.remove_user),
            ("Reset password…", self.reset_password),
            ("Roles…", self.edit_roles),
        ):
            b = QPushButton(text)
            b.clicked.connect(slot)
            row.addWidget(b)
        row.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        row.addWidget(close)
        layout.addLayout(row)
        self.refresh()

    def refresh(self) -> None:
        from datetime import datetime

        users = self.ctx.archive.users.list()
        self.table.setRowCount(len(users))
        for i, u in enumerate(users):
            created = datetime.fromtimestamp(u.created_at / 1000).strftime("%Y-%m-%d %H:%M")
            for j, text in enumerate((u.name, ", ".join(u.roles), created)):
                self.table.setItem(i, j, QTableWidgetItem(text))

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table.item(rows[0].row(), 0).text() if rows else None

    def _run(self, work, done_text: str) -> None:
        def ok(_):
            self.refresh()
            self.setWindowTitle(f"Users — {done_text}")

        def failed(exc):
            message(
                self,
                "Users",
                str(exc) if isinstance(exc, UserError) else f"Could not change the users: {exc}",
            )

        self.ctx.tasks.run(work, ok, failed)

    def add_user(self) -> None:
        dlg = UserEditor(self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        name, password, roles = dlg.name.text().strip(), dlg.password.text(), dlg.chosen_roles()
        self._run(lambda: self.ctx.archive.users.add(name, password, roles), f"added {name}")

    def remove_user(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        answer = QMessageBox.question(
            self, "Remove user", f"Remove {name}? Cameras using this login will be refused."
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._run(lambda: self.ctx.archive.users.remove(name), f"removed {name}")

    def reset_password(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        password, ok = QInputDialog.getText(
            self, "Reset password", f"New password for {name}:", QLineEdit.EchoMode.Password
        )
        if ok and password:
            self._run(
                lambda: self.ctx.archive.users.set_password(name, password),
                f"changed the password of {name}",
            )

    def edit_roles(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        user = self.ctx.archive.users.get(name)
        text, ok = QInputDialog.getText(
            self, "Roles", f"Roles for {name} ({', '.join(ROLES)}):", text=" ".join(user.roles)
        )
        if ok:
            roles = text.replace(",", " ").split()
            self._run(lambda: self.ctx.archive.users.set_roles(name, roles), f"roles of {name}")


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
            self.env_note.setStyleSheet("color: #b3261e;")
            form.addRow("", self.env_note)
        self.host = QLineEdit(s.host)
        self.host.setToolTip("0.0.0.0 listens on every network; 127.0.0.1 on this computer only")
        form.addRow("Listen on address", self.host)
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
        self.bind = QCheckBox("Each camera takes data only from the login that first sent it")
        self.bind.setChecked(s.bind_cameras)
        self.bind.setToolTip(
            "Another login's status, events and files for that camera are refused; "
            "'meteorgui camera transfer ID USER' gives a camera to another login"
        )
        form.addRow("", self.bind)
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
        try:
            s.save()
        except OSError as exc:
            message(self, "Settings", f"Could not save the settings: {exc}")
            return
        self.applied.emit(restart)
        self.accept()
