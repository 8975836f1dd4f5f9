"""Camera setup: what to type into a MeteorPi camera so that it sends here."""

from __future__ import annotations

import secrets

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

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
