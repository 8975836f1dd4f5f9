"""Partial files that say whether their writer still lives.

A writer takes an exclusive ``flock`` on its partial file (or folder) and holds it
until the file is renamed into place or removed; the kernel drops the lock when
the writer dies, kill -9 included. A sweep removes only partials whose lock it
can take: a crash's leftovers, never a file another process is writing now.
Without flock (Windows) a sweep goes by age instead.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

# A partial this new is left alone: its writer may be between creating and locking it.
FRESH_S = 10.0


def hold(fd: int) -> None:
    """Mark the partial open on ``fd`` as this process's while the fd stays open."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def hold_path(path: str | os.PathLike) -> int:
    """Open ``path`` (a file or a folder) and hold it; returns the fd to close at the end."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        hold(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def sweep(paths: Iterable[Path], older_than_s: float = 3600) -> int:
    """Remove the partials among ``paths`` that no live writer holds. Returns how many.

    Without flock, only those not modified for ``older_than_s`` seconds."""
    n = 0
    for path in paths:
        try:
            if _remove_if_unheld(Path(path), older_than_s):
                n += 1
        except FileNotFoundError:
            pass
    return n


def _remove_if_unheld(path: Path, older_than_s: float) -> bool:
    age = time.time() - path.lstat().st_mtime
    if fcntl is None:
        if age < older_than_s:
            return False
        _remove(path)
        return True
    if age < FRESH_S:
        return False
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live writer's
        _remove(path)  # while holding the lock
        return True
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
