"""Export targets: list, add, edit, remove, and test a connection (off the GUI thread).

Passwords go straight from the field to the secret store (keyring or a
user-only file) through ``Targets``; they are never read back into a field,
shown or logged. Saving, removing and testing run in the task pool.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...exporter.targets import (
    DEFAULT_TIMEOUT,
    ConnectionCheck,
    Target,
    TargetError,
    check_url,
    test_connection,
)
from ..common import style
from ..common.fit import grow_to_fit
from ..common.tasks import alive
from ..common.text import escape, plain_tip

log = logging.getLogger(__name__)


def verdict(check: ConnectionCheck) -> tuple[str, str]:
    """(headline, explanation) of a connection test, in a user's words."""
    if check.ok:
        resend = (
            "It supports the resend list: when its operator asks for something again, "
            "the next export sends it."
            if check.resend_supported
            else "It has no resend list (an older importer): it cannot ask for items again."
        )
        return "OK", f"The importer accepts this user and password. {resend}"
    m = check.message.lower()
    if "refused the credentials" in m or "no password is stored" in m:
        return "Bad credentials", check.message
    if "tls" in m or "certificate" in m or "ssl" in m:
        return "Certificate problem", check.message
    if any(w in m for w in ("cannot reach", "timed out", "did not answer", "broke", "request to")):
        return "Unreachable", check.message
    if "404" in m or "continue-nocache" in m or "redirected" in m or "not json" in m:
        return "Not a MeteorPi import URL", check.message
    return "Connection failed", check.message


def verdict_html(check: ConnectionCheck) -> str:
    head, text = verdict(check)
    colour = style.OK if check.ok else style.ERROR
    mark = "✓" if check.ok else "✗"
    return f"<b style='color:{colour}'>{mark} {escape(head)}</b><br>{escape(text)}"


class TargetEditDialog(QDialog):
    """Add a target (``target`` None) or edit one."""

    def __init__(self, service, target: Target | None = None, parent=None):
        super().__init__(parent)
        self.service = service
        self.original = target
        self.saved: Target | None = None
        self._busy = False
        self.setWindowTitle("Edit export target" if target else "Add export target")
        self.resize(560, 0)
        self.name = QLineEdit(target.name if target else "", self)
        self.name.setPlaceholderText("e.g. Club archive")
        self.url = QLineEdit(target.url if target else "", self)
        self.url.setPlaceholderText("https://archive.example.org/import")
        self.user = QLineEdit(target.user if target else "", self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(
            "stored — type a new one to change it" if target else "the password at the target"
        )
        self.ca = QLineEdit(target.ca_bundle or "" if target else "", self)
        self.ca.setPlaceholderText("none: the system's certificate authorities")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._choose_ca)
        ca_row = QHBoxLayout()
        ca_row.setContentsMargins(0, 0, 0, 0)
        ca_row.addWidget(self.ca, 1)
        ca_row.addWidget(browse)
        ca_box = QWidget(self)
        ca_box.setLayout(ca_row)
        self.timeout = QDoubleSpinBox(self, minimum=1, maximum=3600, decimals=0, suffix=" s")
        self.timeout.setValue(target.timeout if target else DEFAULT_TIMEOUT)
        self.timeout.setToolTip("How long to wait for the importer's answer to a request")
        self.test_button = QPushButton("Test connection", self)
        self.test_button.clicked.connect(self.test)
        self.message = QLabel(self)  # rich: quotes (escaped) what a target said
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setMinimumHeight(self.fontMetrics().height() * 3)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Import URL", self.url)
        form.addRow("User", self.user)
        form.addRow("Password", self.password)
        # Where the password goes: the keyring, or (without one) a file only the user
        # can read. Finding out may talk to D-Bus, so on a worker.
        self.kept = QLabel(self)
        self.kept.setWordWrap(True)
        self.kept.setStyleSheet("color: palette(placeholder-text);")
        form.addRow("", self.kept)
        secrets = self.service.exporter.targets.secrets
        self.service.run(
            lambda: secrets.description,
            lambda where: self._show_kept(f"The password is kept in {where}."),
            lambda exc: self._show_kept(f"Passwords cannot be stored: {exc}"),
            owner=self,
        )
        form.addRow("CA bundle", ca_box)
        form.addRow("Timeout", self.timeout)
        hint = QLabel(
            "A CA bundle is only needed for a server whose certificate no public "
            "authority signed (a self-signed club server). Certificates are always "
            "checked.",
            self,
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(placeholder-text);")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addLayout(test_row)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _choose_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "CA bundle", self.ca.text(), "Certificates (*.pem *.crt *.cer);;All files (*)"
        )
        if path:
            self.ca.setText(path)

    def _fields(self) -> dict:
        return {
            "name": self.name.text().strip(),
            "url": self.url.text().strip(),
            "user": self.user.text().strip(),
            "ca_bundle": self.ca.text().strip() or None,
            "timeout": float(self.timeout.value()),
        }

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self._busy = busy
        self.buttons.setEnabled(not busy)
        self.test_button.setEnabled(not busy)
        if text:
            self.message.setText(escape(text))

    def _show_kept(self, text: str) -> None:
        """The note arrives after the dialog is laid out: grow it so no line is cut off."""
        self.kept.setText(text)
        grow_to_fit(self)

    def _error(self, text: str) -> None:
        self._set_busy(False)
        self.message.setText(f"<span style='color:{style.ERROR}'>{escape(text)}</span>")

    # ------------------------------------------------------------------ test

    def test(self) -> None:
        """Test what the fields say (the typed password, else the stored one)."""
        f = self._fields()
        password = self.password.text()
        try:
            url = check_url(f["url"])
        except TargetError as exc:
            self._error(str(exc))
            return
        if not password and self.original is None:
            self._error("Type the password first.")
            return
        probe = Target("", f["name"], url, f["user"], f["ca_bundle"], f["timeout"])
        targets = self.service.exporter.targets
        original = self.original

        def work() -> ConnectionCheck:
            pw = password or targets.password(original.target_id)
            if not pw:
                return ConnectionCheck(False, "no password is stored for this target")
            return test_connection(probe, pw)

        self._set_busy(True, "Testing the connection…")
        # Detached: quitting does not wait for an importer that never answers.
        self.service.run(
            work, self._tested, lambda exc: self._error(str(exc)), owner=self, detached=True
        )

    def _tested(self, check: ConnectionCheck) -> None:
        self._set_busy(False)
        self.message.setText(verdict_html(check))

    # ------------------------------------------------------------------ save

    def save(self) -> None:
        f = self._fields()
        password = self.password.text() or None
        if self.original is None and password is None:
            self._error("A new target needs its password.")
            return
        targets = self.service.exporter.targets
        original = self.original

        def work() -> Target:
            if original is None:
                return targets.add(
                    f["name"],
                    f["url"],
                    f["user"],
                    password,
                    ca_bundle=f["ca_bundle"],
                    timeout=f["timeout"],
                )
            return targets.update(original.target_id, password=password, **f)

        self._set_busy(True, "Saving…")
        # No owner: the saved target is listed even if the dialog closed meanwhile.
        self.service.run(work, self._saved, lambda exc: alive(self) and self._error(str(exc)))

    def _saved(self, target: Target) -> None:
        log.info("export target %r saved (%s as %s)", target.name, target.url, target.user)
        if not alive(self):
            return
        self._set_busy(False)
        self.saved = target
        self.accept()


class TargetsDialog(QDialog):
    """Export ▸ Export targets…"""

    def __init__(self, service, parent=None):
        super().__init__(parent)
        self.service = service
        self.editor: TargetEditDialog | None = None
        self.confirm: QMessageBox | None = None
        self.setWindowTitle("Export targets")
        self.resize(760, 380)
        intro = QLabel(
            "Archives this one can export to: a club or central archive running a "
            "MeteorPi importer (another meteorgui, or the original importer).",
            self,
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels(["Name", "Import URL", "User", "CA bundle"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 170)
        self.table.itemSelectionChanged.connect(self._selection)
        self.table.doubleClicked.connect(lambda _i: self.edit())
        self.add_button = QPushButton("Add…", self)
        self.add_button.clicked.connect(self.add)
        self.edit_button = QPushButton("Edit…", self)
        self.edit_button.clicked.connect(self.edit)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self.remove)
        self.test_button = QPushButton("Test connection", self)
        self.test_button.clicked.connect(self.test)
        side = QVBoxLayout()
        for b in (self.add_button, self.edit_button, self.remove_button):
            side.addWidget(b)
        side.addSpacing(12)
        side.addWidget(self.test_button)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.table, 1)
        row.addLayout(side)
        self.message = QLabel(self)  # rich: quotes (escaped) what a target said
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setMinimumHeight(self.fontMetrics().height() * 3)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        service.targetsChanged.connect(self._fill)
        self._fill(service.targets)
        service.reload_targets()

    def _fill(self, targets: list[Target]) -> None:
        current = self.selected()
        self.table.setRowCount(len(targets))
        for r, t in enumerate(targets):
            for c, text in enumerate((t.name, t.url, t.user, t.ca_bundle or "")):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, t.target_id)
                item.setToolTip(plain_tip(text))
                self.table.setItem(r, c, item)
            if current is not None and t.target_id == current.target_id:
                self.table.selectRow(r)
        if self.selected() is None and targets:
            self.table.selectRow(0)
        self._selection()

    def selected(self) -> Target | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        tid = self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)
        return self.service.target(tid)

    def select(self, target_id: str) -> None:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) == target_id:
                self.table.selectRow(r)

    def _selection(self) -> None:
        has = self.selected() is not None
        for b in (self.edit_button, self.remove_button, self.test_button):
            b.setEnabled(has)

    def _say(self, text: str, ok: bool | None = None) -> None:
        colour = {True: style.OK, False: style.ERROR}.get(ok)
        self.message.setText(
            f"<span style='color:{colour}'>{escape(text)}</span>" if colour else escape(text)
        )

    def add(self) -> None:
        self._open_editor(None)

    def edit(self) -> None:
        target = self.selected()
        if target is not None:
            self._open_editor(target)

    def _open_editor(self, target: Target | None) -> None:
        self.editor = TargetEditDialog(self.service, target, self)
        self.editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.editor.accepted.connect(lambda d=self.editor: self._edited(d))
        self.editor.open()

    def _edited(self, dialog: TargetEditDialog) -> None:
        if dialog.saved is not None:
            self._say(f"Saved {dialog.saved.name}.", True)

    def remove(self) -> None:
        target = self.selected()
        if target is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove export target",
            f"Remove the export target {target.name}?",
            parent=self,
        )
        box.setInformativeText(
            "Its queue and its export history go too; nothing is deleted "
            "at the target. Its stored password is forgotten."
        )
        yes = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda _r: self._confirmed(box.clickedButton() is yes, target))
        self.confirm = box
        box.open()

    def _confirmed(self, yes: bool, target: Target) -> None:
        self.confirm = None
        if not yes:
            return
        targets = self.service.exporter.targets

        def removed(_none):
            if alive(self):
                self._say(f"Removed {target.name}.", True)

        self.service.run(
            lambda: targets.remove(target.target_id),
            removed,
            lambda exc: alive(self) and self._say(f"Not removed: {exc}", False),
        )

    def test(self) -> None:
        target = self.selected()
        if target is None:
            return
        self.test_button.setEnabled(False)
        self._say(f"Testing the connection to {target.name}…")
        exporter = self.service.exporter

        def done(check: ConnectionCheck) -> None:
            self.test_button.setEnabled(self.selected() is not None)
            self.message.setText(f"{escape(target.name)}: {verdict_html(check)}")

        def failed(exc: BaseException) -> None:
            self.test_button.setEnabled(self.selected() is not None)
            self._say(f"{target.name}: {exc}", False)

        self.service.run(
            lambda: exporter.test_connection(target.target_id),
            done,
            failed,
            owner=self,
            detached=True,
        )
