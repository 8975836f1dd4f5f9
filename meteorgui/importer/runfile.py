"""``importer.json`` in the data folder: which process is importing into it, and where.

Written when an importer starts listening (``meteorgui serve`` or the window) and
removed when it stops, so ``meteorgui status`` knows where to ask; a file left by a
killed process is told apart by asking the URL's health endpoint.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from .. import __version__
from ..archive.private import FILE_MODE

NAME = "importer.json"


def write(data_dir: Path, url: str, urls: list[str]) -> None:
    info = {
        "pid": os.getpid(),
        "url": url,
        "urls": urls,
        "started_at": int(time.time() * 1000),
        "version": __version__,
    }
    path = Path(data_dir) / NAME
    tmp = path.with_name(f"{NAME}.{os.getpid()}.tmp")
    try:
        # Private like everything in the data folder (archive/private.py).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with open(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(info))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def remove(data_dir: Path) -> None:
    """Remove the file if this process wrote it (another importer may have taken over)."""
    info = read(data_dir)
    if info is not None and info.get("pid") == os.getpid():
        with contextlib.suppress(OSError):
            (Path(data_dir) / NAME).unlink()


def read(data_dir: Path) -> dict | None:
    try:
        info = json.loads((Path(data_dir) / NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and isinstance(info.get("url"), str) else None
