"""The first run: where the archive lives, the port, the camera's login, what to type into
the camera, and a test night that shows events arriving."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from ... import paths
from ...archive import ArchiveError
from ...formatting import sentence
from ...importer.addresses import next_free_port
from ...settings import Settings
from ..common import style
from .camera import AddressList, CameraLogin, CameraSettings

log = logging.getLogger(__name__)

TEST_NIGHT_EVENTS = 8
TEST_NIGHT_TIMELAPSE = 6


def _error_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {style.ERROR};")
    label.hide()
    return label


def _text(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class ArchivePage(QWizardPage):
    def __init__(self, default: Path):
        super().__init__()
        self.setTitle("Welcome: where the archive lives")
        # Qt gives the header's subtitle two lines at most: the rest goes in the page.
        self.setSubTitle("Five short steps connect your first MeteorPi camera.")
        layout = QVBoxLayout(self)
        layout.addWidget(
            _text(
                "Every event, image and video your cameras send is kept in one folder on "
                "this computer: choose a disk with room (a camera sends a few hundred MB a "
                "night)."
            )
        )
        row = QHBoxLayout()
        self.folder = QLineEdit(str(default))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        layout.addLayout(row)
        self.note = _text("")
        layout.addWidget(self.note)
        env = os.environ.get(paths.ENV_DATA_DIR)
        if env:
            layout.addWidget(
                _text(f"{paths.ENV_DATA_DIR} is set: while it is, meteorgui uses {env}.")
            )
        self.error = _error_label()
        layout.addWidget(self.error)
        self.folder.textChanged.connect(self._describe)
        self._describe()

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Archive folder", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def chosen(self) -> Path:
        return Path(self.folder.text().strip()).expanduser()

    def _describe(self) -> None:
        folder = self.chosen()
        if (folder / "archive.sqlite3").exists():
            self.note.setText("An archive is already there: meteorgui opens it as it is.")
        else:
            self.note.setText("A new archive is made there.")


class PortPage(QWizardPage):
    def __init__(self, settings: Settings):
        super().__init__()
        self.setTitle("The port cameras send to")
        self.setSubTitle(
            "Cameras send to this computer's address and a port. 8080 is the usual one; "
            "choose another if a different program uses it."
        )
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Port"))
        # A fixed port: cameras keep the URL they were given (0, any free port, would not).
        self.port = QSpinBox(minimum=1, maximum=65535, value=settings.port or 8080)
        row.addWidget(self.port)
        row.addStretch(1)
        layout.addLayout(row)
        self.everywhere = QCheckBox("Cameras on my network send here (listen on every network)")
        self.everywhere.setChecked(settings.host in ("0.0.0.0", "::", ""))
        layout.addWidget(self.everywhere)
        layout.addWidget(
            _text(
                "Until a camera login exists (next page), meteorgui listens on this computer "
                "only, so nothing on the network can reach it."
            )
        )
        self.error = _error_label()
        layout.addWidget(self.error)


class LoginPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("A login for the camera")
        self.setSubTitle(
            "The camera logs in with a user name and a password. meteorgui makes a strong "
            "password and shows it once: copy it now, into the camera or somewhere safe."
        )
        self.layout_ = QVBoxLayout(self)
        self.login: CameraLogin | None = None

    def attach(self, ctx, on_created: Callable[[str], None]) -> None:
        if self.login is not None:
            return
        self.login = CameraLogin(ctx, self)
        self.login.created.connect(on_created)
        self.login.created.connect(lambda _name: self.completeChanged.emit())
        self.layout_.addWidget(self.login)

    def isComplete(self) -> bool:
        return self.login is not None and (
            bool(self.login.password_field.text()) or bool(self.login.importers())
        )


class CameraPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("On the camera")
        self.setSubTitle(
            "In the camera's web interface, add an export configuration with these values. "
            "Use the private LAN URL unless the camera is on another network."
        )
        self.layout_ = QVBoxLayout(self)
        self.addresses: AddressList | None = None
        self.camera = CameraSettings(self)

    def attach(self, ctx) -> None:
        if self.addresses is None:
            self.addresses = AddressList(ctx, self)
            addresses = self.addresses
            addresses.refreshed.connect(
                lambda: self.camera.fields["url"].setText(addresses.best_url())
            )
            self.layout_.addWidget(self.addresses)
            self.layout_.addWidget(self.camera)
        self.addresses.refresh()


class TestNightPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Send a test night")
        self.setSubTitle(
            "A simulated camera sends a short night to this computer with the new login, "
            "the way a real camera will. Its events appear in the main window as they arrive."
        )
        layout = QVBoxLayout(self)
        self.button = QPushButton("Send a test night")
        layout.addWidget(self.button)
        self.progress = _text("")
        layout.addWidget(self.progress)
        layout.addWidget(
            _text(
                "The test night comes from two simulated cameras; its events stay in the "
                "archive like any other. You can skip this step."
            )
        )
        self.error = _error_label()
        layout.addWidget(self.error)
        layout.addStretch(1)


class FirstRunWizard(QWizard):
    """Walks a new user through setting up; ``open_archive(folder)`` builds the app's
    context and main window on the chosen folder (called once, on leaving the port page).
    """

    def __init__(
        self,
        settings: Settings,
        default_folder: Path,
        open_archive: Callable[[Path], tuple],
        parent=None,
    ):
        super().__init__(parent)
        self.settings = settings
        self.default_folder = default_folder
        self.open_archive = open_archive
        self.ctx = None
        self.window = None
        self.camera = None  # the test night's simulated camera
        self.arrived = 0
        self.password = ""
        self._listening = False  # to the bridge's archived signal
        self.setWindowTitle("Welcome to meteorgui")
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.archive_page = ArchivePage(default_folder)
        self.port_page = PortPage(settings)
        self.login_page = LoginPage()
        self.camera_page = CameraPage()
        self.test_page = TestNightPage()
        for page in (
            self.archive_page,
            self.port_page,
            self.login_page,
            self.camera_page,
            self.test_page,
        ):
            self.addPage(page)
        self.test_page.button.clicked.connect(self.send_test_night)
        # Only looking? The demo (a simulated night in a folder of its own) instead of
        # setting up; the assistant comes back at the next start.
        self.wants_demo = False
        self.setButtonText(QWizard.WizardButton.CustomButton1, "Just looking: open the demo")
        self.button(QWizard.WizardButton.CustomButton1).setToolTip(
            "A simulated night of meteors in a temporary archive: nothing is set up or kept"
        )
        self.customButtonClicked.connect(self._demo)
        self._buttons(demo=True)
        self.currentIdChanged.connect(self._entered)
        self._poll = QTimer(self, interval=300)
        self._poll.timeout.connect(self._watch_camera)
        self.resize(680, 560)

    def _buttons(self, demo: bool) -> None:
        """The demo's button at the left while it is offered; Qt's usual buttons."""
        self.setOption(QWizard.WizardOption.HaveCustomButton1, demo)
        b = QWizard.WizardButton
        self.setButtonLayout(
            ([b.CustomButton1] if demo else [])
            + [b.Stretch, b.BackButton, b.NextButton, b.CommitButton]
            + [b.FinishButton, b.CancelButton]
        )

    def _demo(self, which: int) -> None:
        if which == QWizard.WizardButton.CustomButton1.value and self.ctx is None:
            self.wants_demo = True
            self.reject()

    # ------------------------------------------------------------------ pages

    def validateCurrentPage(self) -> bool:
        page = self.currentPage()
        if page is self.archive_page:
            return self._check_folder()
        if page is self.port_page:
            return self._start()
        return super().validateCurrentPage()

    def _check_folder(self) -> bool:
        folder = self.archive_page.chosen()
        error = self.archive_page.error
        if not self.archive_page.folder.text().strip():
            error.setText("Choose a folder for the archive.")
            error.show()
            return False
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".meteorgui-write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            error.setText(sentence(f"Cannot write in {folder}: {exc.strerror or exc}"))
            error.show()
            return False
        error.hide()
        return True

    def _start(self) -> bool:
        """Save the choices, open the archive and start the importer on the chosen port."""
        page = self.port_page
        host = "0.0.0.0" if page.everywhere.isChecked() else "127.0.0.1"
        port = page.port.value()
        if port and next_free_port(host, port, tries=1) != port:
            other = next_free_port(host, port + 1)
            page.error.setText(
                f"Port {port} is in use on this computer (perhaps by another meteorgui)."
                + (f" Port {other} is free: it is filled in." if other else "")
            )
            page.error.show()
            if other:
                page.port.setValue(other)
            return False
        page.error.hide()
        folder = self.archive_page.chosen()
        default = paths.data_dir(None, None)
        s = self.settings
        s.data_dir = "" if folder == default else str(folder)
        s.host, s.port = host, port
        if self.ctx is None:
            try:
                s.save()
                self.ctx, self.window = self.open_archive(folder)
            except (ArchiveError, OSError) as exc:
                page.error.setText(sentence(f"meteorgui cannot start there: {exc}"))
                page.error.show()
                return False
            self.window.show()
            # The user watches the test night arrive behind this assistant: the import
            # monitor and the rest of the window must be there, not left for its first page.
            self.window.finish_start()
            self.raise_()
            self.activateWindow()
        else:
            s.save()
        if not self.ctx.core.importer_running and not self.window.start_importer(port):
            page.error.setText("The importer could not start on this port: choose another.")
            page.error.show()
            return False
        return True

    def _entered(self, _id: int) -> None:
        page = self.currentPage()
        # The demo is offered until an archive is made (on the first page only).
        self._buttons(demo=page is self.archive_page)
        if page is self.login_page and self.ctx is not None:
            self.login_page.attach(self.ctx, self._login_created)
        elif page is self.camera_page and self.ctx is not None:
            self.camera_page.attach(self.ctx)
            login = self.login_page.login
            user = login.user_field.text() if login is not None else ""
            self.camera_page.camera.show_values(
                self.camera_page.addresses.best_url(), user, self.password
            )

    def _login_created(self, name: str) -> None:
        # The window hears of the new login on the hub and may now listen on every network.
        self.password = self.login_page.login.password_field.text()

    # ------------------------------------------------------------------ test night

    def send_test_night(self) -> None:
        from ...simulate.demo import DemoCamera

        page = self.test_page
        login = self.login_page.login
        if self.ctx is None or login is None or not self.password:
            page.error.setText("Create the camera login first (go back two pages).")
            page.error.show()
            return
        if not self.ctx.core.importer_running:
            page.error.setText("The importer is stopped: start it from the Importer menu.")
            page.error.show()
            return
        page.error.hide()
        page.button.setEnabled(False)
        self.arrived = 0
        if not self._listening:
            self.ctx.bridge.archived.connect(self._archived)
            self._listening = True
        server = self.ctx.core.server
        self.camera = DemoCamera(
            self.ctx.archive,
            f"http://127.0.0.1:{server.port}{server.path}",
            events=TEST_NIGHT_EVENTS,
            timelapse=TEST_NIGHT_TIMELAPSE,
            rate=4,
            login=(login.user_field.text(), self.password),
            give_up_after=4,
        )
        self.camera.start()
        page.progress.setText("Sending…")
        self._poll.start()

    def _archived(self, item) -> None:
        kind, _entity = item
        if kind == "event":
            self.arrived += 1
            self.test_page.progress.setText(
                f"{self.arrived} of {TEST_NIGHT_EVENTS} events arrived: see the main window."
            )

    def _watch_camera(self) -> None:
        camera = self.camera
        if camera is None or camera.running:
            return
        self._poll.stop()
        page = self.test_page
        page.button.setEnabled(True)
        summary = camera.summary
        if camera.failed is not None or summary is None or not summary.ok:
            why = camera.failed or (summary.failures[-1][1] if summary and summary.failures else "")
            page.error.setText(sentence(f"The test night did not arrive whole: {why}"))
            page.error.show()
        else:
            page.progress.setText(
                f"The test night arrived: {self.arrived} events and the time-lapse stills. "
                "A real camera with these settings sends the same way."
            )

    def done(self, result: int) -> None:
        if self.camera is not None:
            self.camera.stop()
        self._poll.stop()
        if self._listening:
            self.ctx.bridge.archived.disconnect(self._archived)
            self._listening = False
        super().done(result)
