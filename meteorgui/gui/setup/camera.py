"""Camera setup: what to type into a MeteorPi camera so that it sends here.

The address list, the camera login and the camera's settings are widgets of their own
because the first-run assistant shows them too.
"""

from __future__ import annotations

import secrets

from PySide6.QtCore import Qt, QTimer, Signal
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

from ...formatting import sentence
from ...importer.addresses import (
    LAN,
    LOOPBACK,
    NO_LOGIN_YET,
    ImportAddress,
)
from ..common import style
from ..common.fit import GrowsToFit
from ..common.text import plain_tip
from ..common.urls import camera_addresses

PASSWORD_BYTES = 15  # 20 URL-safe characters, about 120 bits


def copy_row(text: str, parent: QWidget) -> tuple[QHBoxLayout, QLineEdit, QPushButton]:
    """A read-only field with a Copy button that puts the whole field on the clipboard."""
    field = QLineEdit(text, parent)
    field.setReadOnly(True)
    button = QPushButton("Copy", parent)

    def copy() -> None:
        QGuiApplication.clipboard().setText(field.text())
        button.setText("Copied")
        QTimer.singleShot(1500, button, lambda: button.setText("Copy"))

    button.clicked.connect(copy)
    row = QHBoxLayout()
    row.addWidget(field, 1)
    row.addWidget(button)
    return row, field, button


class AddressList(QGroupBox):
    """Every import URL of this computer, the private LAN one first, each copyable."""

    refreshed = Signal()  # the list was written again (best_url may have changed)

    def __init__(self, ctx, parent=None):
        super().__init__("Import URL", parent)
        self.ctx = ctx
        self.grid = QGridLayout(self)
        self.url_fields: list[QLineEdit] = []
        self.notes: list[QLabel] = []
        # The importer started, stopped or moved to every network (after a first login).
        # Queued: a start on this thread is told before the core has its new server.
        ctx.bridge.server.connect(self._server_changed, Qt.ConnectionType.QueuedConnection)
        self.refresh()

    def _server_changed(self, _info) -> None:
        self.refresh()

    def refresh(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
            elif item.layout() is not None:
                while item.layout().count():
                    w = item.layout().takeAt(0).widget()
                    if w is not None:
                        w.deleteLater()
        self.url_fields, self.notes = [], []
        addresses = camera_addresses(self.ctx)
        row = 0
        if not self.ctx.core.importer_running:
            warn = QLabel("The importer is stopped: start it first (Importer menu).")
            warn.setStyleSheet(f"color: {style.ERROR};")
            self.grid.addWidget(warn, row, 0, 1, 2)
            row += 1
        for address in addresses:
            who = address.interface if address.kind != LOOPBACK else ""
            # An interface's name is written as the system writes it ("eth0", "wlan0").
            note = QLabel(f"{who} · {address.note}" if who else sentence(address.note))
            if address.kind == LAN:
                note.setStyleSheet("font-weight: bold;")
            line, field, _button = copy_row(address.url, self)
            field.setToolTip(plain_tip(address.line()))
            self.grid.addWidget(note, row, 0)
            self.grid.addLayout(line, row, 1)
            self.url_fields.append(field)
            self.notes.append(note)
            row += 1
        explain = QLabel(self.explanation(addresses))
        explain.setWordWrap(True)
        self.grid.addWidget(explain, row, 0, 1, 2)
        self.grid.setColumnStretch(1, 1)
        self.refreshed.emit()

    def explanation(self, addresses: list[ImportAddress]) -> str:
        reason = self.ctx.core.loopback_reason
        if reason and self.ctx.core.importer_running:
            if reason == NO_LOGIN_YET:
                return (
                    f"Right now the importer listens on this computer only ({reason}); "
                    "once a camera login exists it listens on every network."
                )
            return (
                f"The importer listens on this computer only ({reason}): a camera on "
                "another computer cannot reach it here."
            )
        if not any(a.kind == LAN for a in addresses):
            return (
                "This computer has no private LAN address (192.168.x.x, 10.x.x.x, "
                "172.16-31.x.x): a camera can use one of the others only if its network "
                "reaches it."
            )
        return "A camera on your home network uses the private LAN address."

    def best_url(self) -> str:
        return self.url_fields[0].text() if self.url_fields else ""


class CameraLogin(QGroupBox):
    """Creates a user with the import role and a generated password, shown once."""

    created = Signal(str)  # the new user's name

    def __init__(self, ctx, parent=None):
        super().__init__("Login for the camera", parent)
        self.ctx = ctx
        form = QGridLayout(self)
        self.note = QLabel()
        self.note.setWordWrap(True)
        form.addWidget(self.note, 0, 0, 1, 2)
        self.user_row, self.user_field, self.user_copy = copy_row("", self)
        self.password_row, self.password_field, self.password_copy = copy_row("", self)
        form.addWidget(QLabel("User"), 1, 0)
        form.addLayout(self.user_row, 1, 1)
        form.addWidget(QLabel("Password"), 2, 0)
        form.addLayout(self.password_row, 2, 1)
        self.error = QLabel()
        self.error.setStyleSheet(f"color: {style.ERROR};")
        self.error.setWordWrap(True)
        self.error.hide()
        form.addWidget(self.error, 3, 0, 1, 2)
        self.create_button = QPushButton("Create a new camera login")
        self.create_button.clicked.connect(self.create_login)
        form.addWidget(self.create_button, 4, 1)
        self.refresh_note()

    def importers(self) -> list[str]:
        return [u.name for u in self.ctx.archive.users.list() if u.has_role("import")]

    def refresh_note(self) -> None:
        names = self.importers()
        note = (
            "Existing users with the import role: " + ", ".join(names) + "."
            if names
            else "No user has the import role yet: create one for the camera."
        )
        self.note.setText(
            note + " Passwords are stored only as salted hashes, so they cannot be shown "
            "again: a new login's password is shown once, here."
        )

    def create_login(self) -> None:
        existing = {u.name for u in self.ctx.archive.users.list()}
        n = 1
        while f"camera{n}" in existing:
            n += 1
        name, password = f"camera{n}", secrets.token_urlsafe(PASSWORD_BYTES)
        self.create_button.setEnabled(False)
        self.create_button.setText("Creating…")
        self.error.hide()

        def done(_user):
            self.user_field.setText(name)
            self.password_field.setText(password)
            self.create_button.setText("Create another camera login")
            self.create_button.setEnabled(True)
            self.refresh_note()
            self.created.emit(name)

        def failed(exc):
            self.create_button.setText("Create a new camera login")
            self.create_button.setEnabled(True)
            self.error.setText(sentence(f"The login could not be created: {exc}"))
            self.error.show()

        # Hashing with the KDF takes a moment: off the GUI thread.
        self.ctx.tasks.run(
            lambda: self.ctx.archive.users.add(name, password, ["import"]), done, failed
        )


class CameraSettings(QGroupBox):
    """The fields of the camera's export configuration, each copyable."""

    def __init__(self, parent=None):
        super().__init__("On the camera: add an export configuration", parent)
        grid = QGridLayout(self)
        self.fields: dict[str, QLineEdit] = {}
        rows = (("Target URL", "url"), ("User", "user"), ("Password", "password"))
        for i, (label, key) in enumerate(rows):
            line, field, _button = copy_row("", self)
            grid.addWidget(QLabel(label), i, 0)
            grid.addLayout(line, i, 1)
            self.fields[key] = field
        rest = QLabel("Search: leave empty, so that every event and file is sent.  Enabled: yes.")
        rest.setWordWrap(True)
        grid.addWidget(rest, len(rows), 0, 1, 2)

    def show_values(self, url: str, user: str, password: str) -> None:
        self.fields["url"].setText(url)
        self.fields["user"].setText(user)
        self.fields["user"].setPlaceholderText("Create a login above")
        self.fields["password"].setText(password)
        self.fields["password"].setPlaceholderText(
            f"The password of {user}, shown once when it was created"
            if user
            else "Create a login above"
        )


class CameraSetupDialog(GrowsToFit, QDialog):
    """What to type into a MeteorPi camera's export settings to send here."""

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Camera setup")
        self.setMinimumWidth(620)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "On each camera, add an export configuration that sends to this computer: the "
            "import URL on the camera's network, and a user and password with the import role."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.addresses = AddressList(ctx, self)
        layout.addWidget(self.addresses)
        self.login = CameraLogin(ctx, self)
        layout.addWidget(self.login)
        self.camera = CameraSettings(self)
        layout.addWidget(self.camera)
        existing = self.login.importers()
        self.camera.show_values(self.addresses.best_url(), existing[0] if existing else "", "")
        self.login.created.connect(self._created)
        self.addresses.refreshed.connect(
            lambda: self.camera.fields["url"].setText(self.addresses.best_url())
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    # The fields tests and the first-run assistant read.
    @property
    def url_fields(self) -> list[QLineEdit]:
        return self.addresses.url_fields

    @property
    def user_field(self) -> QLineEdit:
        return self.login.user_field

    @property
    def password_field(self) -> QLineEdit:
        return self.login.password_field

    @property
    def create_button(self) -> QPushButton:
        return self.login.create_button

    def _created(self, name: str) -> None:
        self.camera.show_values(self.addresses.best_url(), name, self.password_field.text())
