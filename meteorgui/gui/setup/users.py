"""Who may send here: the Users dialog and its Add user editor."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ... import notify
from ...archive import ROLES, UserError
from ...formatting import sentence, shown
from ..common import style


class UserEditor(QDialog):
    """Name, password and roles for a new user.

    OK hands them to ``submit`` (work for the task pool); the editor closes only when it
    succeeds, and an error is shown in the editor with everything typed still there.
    """

    def __init__(self, ctx, submit, parent=None):
        super().__init__(parent)
        self.ctx, self.submit = ctx, submit
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
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {style.ERROR};")
        self.error.hide()
        form.addRow(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._try)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def _try(self) -> None:
        name, password, roles = self.name.text().strip(), self.password.text(), self.chosen_roles()
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(False)

        def failed(exc):
            ok.setEnabled(True)
            text = str(exc) if isinstance(exc, UserError) else f"Could not add the user: {exc}"
            self.error.setText(sentence(text))
            self.error.show()

        def done(_user):
            ok.setEnabled(True)
            self.accept()

        self.ctx.tasks.run(lambda: self.submit(name, password, roles), done, failed, owner=self)

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
        # A login added, removed or changed anywhere (this dialog, the camera setup, the
        # demo camera, a script in this process).
        ctx.bridge.changed.connect(self._archive_changed)
        self.refresh()

    def _archive_changed(self, change: notify.Change) -> None:
        if isinstance(change, notify.UsersChanged):
            self.refresh()

    def refresh(self) -> None:
        users = self.ctx.archive.users.list()
        self.table.setRowCount(len(users))
        for i, u in enumerate(users):
            created = shown(u.created_at).strftime("%Y-%m-%d %H:%M")
            for j, text in enumerate((u.name, ", ".join(u.roles), created)):
                self.table.setItem(i, j, QTableWidgetItem(text))

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table.item(rows[0].row(), 0).text() if rows else None

    def _run(self, work, done_text: str) -> None:
        def ok(_):
            self.setWindowTitle(f"Users — {done_text}")

        # A refusal (a UserError) is shown the standard way, over this dialog.
        self.ctx.tasks.run(work, ok)

    def add_user(self) -> UserEditor:
        dlg = self.editor = UserEditor(self.ctx, self.ctx.archive.users.add, self)

        def added() -> None:
            self.setWindowTitle(f"Users — added {dlg.name.text().strip()}")

        dlg.accepted.connect(added)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        return dlg

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
