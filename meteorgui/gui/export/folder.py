"""Export to folder… : the files of the chosen events and a manifest, into a folder or a zip.

``export_to_folder`` runs in the task pool; its progress (entities done)
comes back through the bridge, a few times a second at most, and Cancel
stops it between files, leaving nothing behind.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ...exporter.folder import FolderExportError, FolderResult, export_to_folder
from ...formatting import count, size
from ..common import style
from ..common.fit import GrowsToFit
from ..common.text import escape
from .dialog import Scope, ScopeChooser, resolve

PROGRESS_INTERVAL_S = 0.1


def default_name(kind: str = "export") -> str:
    return f"meteorgui-{kind}-{datetime.now():%Y%m%d-%H%M%S}"


def fresh_path(parent: Path, as_zip: bool, kind: str = "export") -> Path:
    """A new export's default place in ``parent``: named by the time, never an existing one."""
    suffix = ".zip" if as_zip else ""
    stem = default_name(kind)
    path, n = parent / f"{stem}{suffix}", 1
    while path.exists():
        n += 1
        path = parent / f"{stem}-{n}{suffix}"
    return path


class FolderExportDialog(GrowsToFit, QDialog):
    def __init__(self, ctx, scope: Scope, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.scope = scope
        self.result: FolderResult | None = None
        self.error = ""
        self._cancel = threading.Event()
        self._running = False
        self._closed = False
        self._last = 0.0
        self.setWindowTitle("Export to folder")
        self.resize(560, 0)
        self.chooser = ScopeChooser(scope, self)
        self.as_folder = QRadioButton("A new folder", self, checked=True)
        self.as_zip = QRadioButton("A zip file", self)
        kinds = QButtonGroup(self)
        kinds.addButton(self.as_folder)
        kinds.addButton(self.as_zip)
        kind_row = QHBoxLayout()
        kind_row.setContentsMargins(0, 0, 0, 0)
        kind_row.addWidget(self.as_folder)
        kind_row.addWidget(self.as_zip)
        kind_row.addStretch(1)
        kind_box = QWidget(self)
        kind_box.setLayout(kind_row)
        self.path = QLineEdit(str(Path.home() / default_name()), self)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._choose)
        path_row = QHBoxLayout()
        path_row.setContentsMargins(0, 0, 0, 0)
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        path_box = QWidget(self)
        path_box.setLayout(path_row)
        self.as_zip.toggled.connect(self._kind_changed)
        self.form = form = QFormLayout()
        form.addRow("Export", self.chooser)
        form.addRow("As", kind_box)
        form.addRow("To", path_box)
        self.note = note = QLabel(
            "Each event's files go in a folder of their own, with manifest.json "
            "describing everything as a MeteorPi importer would receive it.",
            self,
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        self.bar = QProgressBar(self)
        self.bar.setVisible(False)
        self.message = QLabel(self)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(self)
        self.start_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.cancel_or_close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.bar)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _kind_changed(self, as_zip: bool) -> None:
        text = self.path.text().strip()
        if as_zip and not text.lower().endswith(".zip"):
            self.path.setText(text + ".zip")
        elif not as_zip and text.lower().endswith(".zip"):
            self.path.setText(text[:-4])

    def _choose(self) -> None:
        if self.as_zip.isChecked():
            path, _ = QFileDialog.getSaveFileName(
                self, "Export to zip", self.path.text(), "Zip files (*.zip)"
            )
        else:
            parent = QFileDialog.getExistingDirectory(
                self, "Export into folder", str(Path(self.path.text()).parent)
            )
            path = str(Path(parent) / default_name()) if parent else ""
        if path:
            self.path.setText(path)

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        if self._running:
            return
        dest = Path(self.path.text().strip()).expanduser()
        if not self.path.text().strip():
            self._say("Choose where to write the export.", error=True)
            return
        self._running = True
        self._cancel.clear()
        self.result, self.error = None, ""
        self.start_button.setEnabled(False)
        self.chooser.setEnabled(False)
        self.bar.setVisible(True)
        self.bar.setRange(0, 0)
        self._say("Reading what to export…")
        archive, scope, as_zip = self.ctx.archive, self.scope, self.as_zip.isChecked()
        use_selection, cancel, bridge = self.chooser.use_selection(), self._cancel, self.ctx.bridge

        def on_progress(done: int, total: int) -> None:  # on the worker thread
            now = time.monotonic()
            if done < total and now - self._last < PROGRESS_INTERVAL_S:
                return
            self._last = now
            bridge.run_on_main(lambda: self._progress(done, total))

        def work() -> FolderResult:
            ids, sel = resolve(archive, scope, use_selection, None, True)
            if sel is None and not ids:
                raise FolderExportError("there is nothing to export")
            return export_to_folder(
                archive,
                dest,
                ids=ids,
                selection=sel,
                as_zip=as_zip,
                on_progress=on_progress,
                cancelled=cancel.is_set,
            )

        self.ctx.tasks.run(work, self._finished, self._failed)

    def _progress(self, done: int, total: int) -> None:
        if self._closed or not self._running:
            return
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        self._say(f"{done:,} of {total:,} written…")

    def _finished(self, result: FolderResult) -> None:
        self._running = False
        self.result = result
        if self._closed:
            return
        self.start_button.setEnabled(True)
        self.chooser.setEnabled(True)
        self.cancel_button.setText("Close")
        self.bar.setRange(0, 1)
        self.bar.setValue(1 if not result.cancelled else 0)
        if result.cancelled:
            self._say("Cancelled: nothing was written.")
            return
        # Export again writes a new export beside this one (the same place would be
        # refused: an export never writes into an existing folder or zip).
        self.path.setText(str(fresh_path(Path(result.path).parent, self.as_zip.isChecked())))
        text = (
            f"Wrote {count(result.events, 'event')} and {count(result.files, 'file')} "
            f"({size(result.bytes)}) to {result.path}."
        )
        if result.problems:
            text += (
                f" {len(result.problems)} file(s) were left out because their bytes are "
                "missing or damaged in this archive (listed in the manifest under "
                '"missing"; Verify archive and Request resend can repair them).'
            )
            self._say(text, error=True)
        else:
            self._say(text, ok=True)

    def _failed(self, exc: BaseException) -> None:
        self._running = False
        self.error = str(exc)
        if self._closed:
            return
        self.start_button.setEnabled(True)
        self.chooser.setEnabled(True)
        self.bar.setVisible(False)
        self._say(f"Not exported: {exc}", error=True)

    def _say(self, text: str, error: bool = False, ok: bool = False) -> None:
        colour = style.ERROR if error else style.OK if ok else None
        self.message.setText(
            f"<span style='color:{colour}'>{escape(text)}</span>" if colour else escape(text)
        )

    @property
    def running(self) -> bool:
        return self._running

    def cancel_or_close(self) -> None:
        if self._running:
            self._cancel.set()
            self._say("Cancelling…")
        else:
            self.reject()

    def done(self, r: int) -> None:
        self._cancel.set()  # closing the window stops the export; nothing is left behind
        self._closed = True
        super().done(r)
