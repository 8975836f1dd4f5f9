"""The data folder is private to the user who runs meteorgui, whatever the umask.

It holds password hashes (archive.sqlite3 and its WAL), the cameras' data and logs that
name cameras and addresses. SQLite creates the WAL and shared-memory files with the
database file's own permissions, so a database created 0600 keeps them 0600 too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE, FILE_MODE = 0o700, 0o600
DB_SUFFIXES = ("", "-wal", "-shm", "-journal")


def _chmod(path: Path | str, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except FileNotFoundError:
        pass


def private_dirs(folder: Path) -> None:
    """Make a folder and each missing parent 0700 (``mkdir(parents=True)`` gives the
    parents the umask's mode)."""
    missing = [p for p in [folder, *folder.parents] if not p.exists()]
    for p in reversed(missing):
        p.mkdir(mode=DIR_MODE, exist_ok=True)


def make_private(data_dir: Path, db_name: str) -> bool:
    """Set the modes of the data folder and what meteorgui keeps in it; create the
    database file 0600 if it does not exist yet. Returns True if the folder was open to
    others before (an archive made by an older version: every file in it is fixed)."""
    was_open = stat.S_IMODE(data_dir.stat().st_mode) & 0o077 != 0
    _chmod(data_dir, DIR_MODE)
    db = data_dir / db_name
    if not db.exists():  # an empty file is a valid new SQLite database
        os.close(os.open(db, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    for suffix in DB_SUFFIXES:
        _chmod(f"{db}{suffix}", FILE_MODE)
    logs = data_dir / "logs"
    if logs.is_dir():
        _chmod(logs, DIR_MODE)
        for entry in logs.iterdir():
            if entry.is_file():
                _chmod(entry, FILE_MODE)
    if was_open:
        for top in ("files", "quarantine", "thumbnails"):
            for root, _dirs, files in os.walk(data_dir / top):
                _chmod(root, DIR_MODE)
                for name in files:
                    _chmod(os.path.join(root, name), FILE_MODE)
    return was_open
