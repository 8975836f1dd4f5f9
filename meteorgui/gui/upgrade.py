"""Upgrading an archive made by an earlier version, with a window saying so while it runs.

An upgrade may rebuild an index over every event (the full-text index, migration 13):
about 40 s on a million events. It runs before the main window can open, so without
this the app would start to nothing at all for that long.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QVBoxLayout, QWidget

from ..archive import Archive, ArchiveError, pending_upgrades

log = logging.getLogger(__name__)

SHOW_AFTER_S = 0.3  # an upgrade done sooner shows nothing
POLL_MS = 50


class UpgradeWindow(QDialog):
    """Says what is happening; it cannot be closed or cancelled (the upgrade is one
    transaction: stopping it half way would keep nothing, and it starts again next
    time)."""

    def __init__(self, data_dir: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Upgrading the archive")
        self.setWindowFlag(Qt.WindowType.WindowCloseButtonHint, False)
        layout = QVBoxLayout(self)
        self.label = QLabel(
            f"Upgrading the archive in {data_dir} for this version of meteorgui.\n\n"
            "This happens once. On a large archive it takes a minute or two; everything "
            "in it stays as it was until the upgrade is done."
        )
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # a folder's name is no markup
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        bar = QProgressBar()
        bar.setRange(0, 0)  # busy: SQLite does not say how far it is
        layout.addWidget(bar)
        self.setMinimumWidth(420)

    def reject(self) -> None:  # Escape
        pass

    def closeEvent(self, event) -> None:
        event.ignore()


def upgrade_archive(
    data_dir: Path, steps: list[str] | None = None, parent: QWidget | None = None
) -> None:
    """Apply what the archive in ``data_dir`` still needs before it is opened (``steps``:
    ``pending_upgrades`` of it, if read already), on a thread of its own, showing an
    UpgradeWindow if it takes longer than a moment. A failure is left to the opening
    that follows, which tries again and says why."""
    steps = pending_upgrades(data_dir) if steps is None else steps
    if not steps:
        return
    log.info("The archive in %s needs upgrading: %s", data_dir, ", ".join(steps))
    worker = threading.Thread(
        target=_open_and_close, args=(data_dir,), name="meteorgui-upgrade", daemon=True
    )
    worker.start()
    worker.join(SHOW_AFTER_S)
    if not worker.is_alive():
        return
    window = UpgradeWindow(data_dir, parent)
    window.show()
    # The worker never calls Qt (docs/architecture.md): the event loop looks at it.
    loop = QEventLoop()
    poll = QTimer(interval=POLL_MS)
    poll.timeout.connect(lambda: None if worker.is_alive() else loop.quit())
    poll.start()
    loop.exec()
    poll.stop()
    window.hide()
    window.deleteLater()


def _open_and_close(data_dir: Path) -> None:
    try:
        Archive(data_dir).close()
    except ArchiveError as exc:
        log.warning("%s", exc)
