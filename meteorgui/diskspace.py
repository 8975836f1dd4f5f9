"""Disk space and disk failures, told plainly (no Qt: the GUI, the CLI and the importer).

``disk_status(path, warn_below_mb)`` says how much room the archive's disk has
left and whether that is below the user's threshold (Settings.disk_warning_mb).
``disk_problem(exc)`` recognises an exception that means the disk is full or
failing (an OSError, or SQLite's "database or disk is full" / "disk I/O
error") and words it for a camera or a user, so the importer answers 507
instead of "internal error".
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from dataclasses import dataclass

from .formatting import size

# OSError numbers that mean the disk, not the request, is at fault.
DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EFBIG}
# SQLite's primary result codes for the same (the low byte of extended codes).
_SQLITE_FULL, _SQLITE_IOERR = 13, 10

DEFAULT_WARNING_MB = 1024


@dataclass(frozen=True)
class DiskStatus:
    path: str
    free: int  # bytes a normal user may still write
    total: int
    threshold: int  # bytes; below this the disk is "low"

    @property
    def low(self) -> bool:
        return self.free < self.threshold

    @property
    def message(self) -> str:
        free = size(self.free)
        if self.free <= 0:
            return f"the disk holding {self.path} is full"
        if self.low:
            return (
                f"only {free} free on the disk holding {self.path} "
                f"(warning below {size(self.threshold)}); cameras' uploads will fail "
                "when it is full"
            )
        return f"{free} free of {size(self.total)} on the disk holding {self.path}"


def disk_status(path: str | os.PathLike, warn_below_mb: int = DEFAULT_WARNING_MB) -> DiskStatus:
    """Free space on the disk holding ``path`` (raises OSError if it cannot be read)."""
    usage = shutil.disk_usage(path)
    return DiskStatus(str(path), usage.free, usage.total, max(0, warn_below_mb) << 20)


def disk_problem(exc: BaseException | None) -> str | None:
    """A plain description if ``exc`` (or what caused it) means a full or failing disk."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        found = _disk_problem(exc)
        if found is not None:
            return found
        exc = exc.__cause__ or exc.__context__
    return None


def _disk_problem(exc: BaseException) -> str | None:
    if isinstance(exc, OSError) and exc.errno in DISK_ERRNOS:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return "the importer's disk is full"
        return f"the importer's disk failed ({exc.strerror or exc})"
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        text = str(exc).lower()
        if (code is not None and code & 0xFF == _SQLITE_FULL) or "disk is full" in text:
            return "the importer's disk is full"
        if (code is not None and code & 0xFF == _SQLITE_IOERR) or "disk i/o error" in text:
            return f"the importer's disk failed ({exc})"
    return None
