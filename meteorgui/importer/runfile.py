"""``importer.json`` in the data folder: which process is importing into it, and where.

Written when an importer starts listening (``meteorgui serve`` or the window) and
removed when it stops, so ``meteorgui status`` knows where to ask, and a second importer
on the same archive is refused (``another``); a file left by a killed process is told
apart by asking the URL's health endpoint.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

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


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    except OSError:
        return False
    return True


def health_url(import_url: str) -> str:
    """The importer's /health beside its import URL."""
    parts = urlsplit(import_url)
    return urlunsplit((parts.scheme, parts.netloc, "/health", "", ""))


def answers(import_url: str, timeout: float = 2.0) -> bool:
    """Whether a meteorgui importer answers its health check beside this import URL."""
    url = health_url(import_url)
    if not url.startswith("http://"):  # importer.json is ours; anything else is not asked
        return False
    # Straight to it, never through a proxy the environment names: it is this computer.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as r:
            return r.status == 200 and json.loads(r.read(4096)).get("app") == "meteorgui"
    except (OSError, ValueError, AttributeError):  # URLError is an OSError
        return False


def another(data_dir: Path) -> dict | None:
    """What importer.json says of an importer another live process runs on this archive
    (it answers at its URL), or None: none, this process's own, or a killed one's file."""
    info = read(data_dir)
    if info is None or info.get("pid") == os.getpid() or not _alive(info.get("pid")):
        return None
    return info if answers(info["url"]) else None
