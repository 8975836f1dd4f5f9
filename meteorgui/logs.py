"""Logging to the data directory's logs/ folder (rotated) and to stderr."""

from __future__ import annotations

import logging
import logging.handlers
import os
import platform
from pathlib import Path

from .formatting import terminal_safe

LOG_NAME = "meteorgui.log"
LOG_MAX_BYTES = 5 << 20  # per file; with LOG_BACKUPS older files, at most 20 MB in all
LOG_BACKUPS = 3


class _PrivateFileHandler(logging.handlers.RotatingFileHandler):
    """Log files are created 0600 whatever the umask: they name cameras and addresses."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)


class _TerminalFormatter(logging.Formatter):
    """Records on a terminal may quote a camera: its control characters are shown."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record), lines=True)


# The name of the handlers setup_logging adds, so a second call replaces them.
_HANDLER_NAME = "meteorgui"


def close_logging() -> None:
    """Remove and close the handlers setup_logging added (the log file is then free)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if h.get_name() == _HANDLER_NAME:
            root.removeHandler(h)
            h.close()


def setup_logging(data_dir: Path, verbose: bool = False, *, announce_now: bool = True) -> Path:
    """Log to <data_dir>/logs/meteorgui.log; warnings (or everything with verbose) to stderr.

    ``announce_now``: write the version line at once; the window writes it with
    ``announce()`` once it has shown the archive (looking the version up takes a few
    hundredths of a second of its start)."""
    folder = Path(data_dir) / "logs"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / LOG_NAME
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    close_logging()
    line = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    fmt = logging.Formatter(line)
    file_handler = _PrivateFileHandler(
        path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    file_handler.setFormatter(fmt)
    console = logging.StreamHandler()
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    console.setFormatter(_TerminalFormatter(line))
    for h in (file_handler, console):
        h.set_name(_HANDLER_NAME)
        root.addHandler(h)
    # waitress logs every queue-depth warning; keep them in the file only.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    if announce_now:
        announce()
    return path


def announce() -> None:
    """The line that says which version wrote what follows (at the start of each run)."""
    from . import __version__

    logging.getLogger("meteorgui").info(
        "meteorgui %s starting (Python %s, %s)",
        __version__,
        platform.python_version(),
        platform.platform(terse=True),
    )
