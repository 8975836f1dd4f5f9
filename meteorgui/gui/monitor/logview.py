"""A dock showing meteorgui's log as it is written."""

from __future__ import annotations

import logging
from collections import deque

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

LEVELS = [("Info", logging.INFO), ("Warnings", logging.WARNING), ("Debug", logging.DEBUG)]


class _Forward(logging.Handler):
    """Hands each record to the GUI thread through the bridge."""

    def __init__(self, view: LogView):
        super().__init__(logging.DEBUG)
        self.view = view
        self.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001 - a log line must never break its caller
            return
        level = record.levelno
        self.view.ctx.bridge.run_on_main(lambda: self.view.append(level, text))


MAX_LINES = 5000


class Backlog(logging.Handler):
    """Keeps what is logged before the Log dock is built (the window builds it after its
    first page of events), for the dock to show first."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: deque[logging.LogRecord] = deque(maxlen=MAX_LINES)
        logging.getLogger().addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def close(self) -> None:
        logging.getLogger().removeHandler(self)
        super().close()


class LogView(QWidget):
    MAX_LINES = MAX_LINES

    def __init__(self, ctx, parent=None, backlog: Backlog | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setMaximumBlockCount(self.MAX_LINES)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font: QFont = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.text.setFont(font)
        self.level = QComboBox()
        for name, value in LEVELS:
            # Debug lines are only logged at all when the app started with --verbose.
            if value >= min(logging.getLogger().getEffectiveLevel(), logging.WARNING):
                self.level.addItem(name, value)
        self._lines: deque[tuple[int, str]] = deque(maxlen=self.MAX_LINES)
        self.level.currentIndexChanged.connect(self._refilter)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.level)
        top.addStretch(1)
        path = ctx.archive.data_dir / "logs" / "meteorgui.log"
        where = QLabel(f"Also written to {path}")
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top.addWidget(where)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.text)
        self._handler = _Forward(self)
        logging.getLogger().addHandler(self._handler)
        if backlog is not None:
            backlog.close()
            for record in list(backlog.records):
                self.append(record.levelno, self._handler.format(record))

    def append(self, level: int, text: str) -> None:
        if self._handler is None:
            return
        self._lines.append((level, text))
        if level >= self.level.currentData():
            self.text.appendPlainText(text)

    def _refilter(self) -> None:
        """Show the lines kept so far at the newly chosen level."""
        least = self.level.currentData()
        self.text.setPlainText("\n".join(t for lv, t in self._lines if lv >= least))
        self.text.moveCursor(self.text.textCursor().MoveOperation.End)

    def shutdown(self) -> None:
        if self._handler is not None:
            logging.getLogger().removeHandler(self._handler)
            self._handler = None
