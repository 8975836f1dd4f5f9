"""Export meteors… : the chosen events as CAMS FTPdetectinfo (one file per camera) or a CSV
of meteors (time, camera, shower, radiant, heights, speed, peak amplitude), written by
the Qt-free ``meteorgui.sky.export.export_meteors`` in the task pool.

The dialog is the Export to folder dialog with a format in place of folder-or-zip.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFileDialog

from ..common import style
from .dialog import Scope, matching_event_ids
from .folder import FolderExportDialog, fresh_path

FORMATS = (
    ("FTPdetectinfo (CAMS, RMS)", "ftpdetectinfo"),
    ("CSV of meteors", "csv"),
)


class NothingToExport(Exception):
    pass


def event_ids_of(archive, scope: Scope, use_selection: bool) -> list[str]:
    """The events to export (runs in the pool): the selection, or what the filters list."""
    if use_selection:
        return scope.selected_ids()
    if scope.query is None:
        return []
    return matching_event_ids(archive, scope.query)


def write_meteors(archive, scope: Scope, use_selection: bool, folder: Path, fmt: str):
    from ...sky.export import export_meteors

    ids = event_ids_of(archive, scope, use_selection)
    if not ids:
        raise NothingToExport("there is nothing to export")
    return export_meteors(archive, folder, fmt, event_ids=ids)


class MeteorExportDialog(FolderExportDialog):
    def __init__(self, ctx, scope: Scope, parent=None):
        super().__init__(ctx, scope, parent)
        self.written: list[Path] | None = None
        self.setWindowTitle("Export meteors")
        self.format = QComboBox(self)
        for text, key in FORMATS:
            self.format.addItem(text, key)
        self.form.removeRow(1)  # folder or zip: a format instead
        self.form.insertRow(1, "Format", self.format)
        self.form.labelForField(self.path.parentWidget()).setText("Into folder")
        self.path.setText(str(fresh_path(Path(self.path.text()).parent, False, "meteors")))
        self.note.setText(
            "FTPdetectinfo is the text format CAMS defined and RMS writes; trajectory "
            "solvers such as WesternMeteorPyLib read it (one file per camera). The CSV "
            "has one line per event with its shower, radiant, group and trajectory. Events "
            "you marked as a plane, a bird or anything else are left out."
        )
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # paths and errors, as they are
        # The longer note wraps to more lines: sized for it when shown (grow_to_fit).

    def _choose(self) -> None:
        parent = QFileDialog.getExistingDirectory(
            self, "Export meteors into", str(Path(self.path.text()).parent)
        )
        if parent:
            self.path.setText(str(Path(parent) / Path(self.path.text()).name))

    def start(self) -> None:
        if self._running:
            return
        text = self.path.text().strip()
        if not text:
            self._say("Choose the folder to write into.", error=True)
            return
        self._running = True
        self.written, self.error = None, ""
        self.start_button.setEnabled(False)
        self.bar.setVisible(True)
        self.bar.setRange(0, 0)
        self._say("Writing…")
        archive, scope = self.ctx.archive, self.scope
        use_selection, fmt = self.chooser.use_selection(), self.format.currentData()
        folder = Path(text).expanduser()
        self.ctx.tasks.run(
            lambda: write_meteors(archive, scope, use_selection, folder, fmt),
            self._written,
            self._failed,
            owner=self,
        )

    def _written(self, written: list[Path]) -> None:
        self._running = False
        self.written = written
        self.start_button.setEnabled(True)
        self.cancel_button.setText("Close")
        self.bar.setVisible(False)
        if not written:
            self._say("No meteor path was found in these events: nothing was written.", True)
            return
        names = ", ".join(p.name for p in written)
        self._say(f"Wrote {names} to {written[0].parent}.", ok=True)
        # Export again writes into a new folder beside this one, never over these files.
        self.path.setText(str(fresh_path(written[0].parent.parent, False, "meteors")))

    def cancel_or_close(self) -> None:
        if not self._running:  # writing is quick and cannot be stopped half way
            self.reject()

    def _say(self, text: str, error: bool = False, ok: bool = False) -> None:
        colour = style.ERROR if error else style.OK if ok else None
        self.message.setStyleSheet(f"color: {colour};" if colour else "")
        self.message.setText(text)
