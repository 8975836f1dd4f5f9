"""The file store: bytes a camera sent, kept whole or not at all.

A file lives at ``files/ab/cd/<file_id>.<md5>`` (sharded by the id's first four
hex digits, so a million files spread over 65,536 small folders). Bytes are
written to a temporary file inside the store, hashed while they stream,
fsynced and renamed into place only when the MD5 matches, so a file present
under its final name is always whole. Naming by MD5 as well as id means bytes
are only ever found for the record they were verified against.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


class TooLarge(Exception):
    """More bytes arrived than the file record announced."""


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StoreWriter:
    """A writable file-like object that hashes what it is given.

    It is handed to werkzeug's multipart parser as the upload's container, so
    the upload goes straight from the request to the store in one pass.
    """

    def __init__(self, store: FileStore, file_id: str, md5: str, limit: int | None):
        self._store = store
        self.file_id = file_id
        self.md5 = md5
        self._limit = limit
        self._hash = hashlib.md5(usedforsecurity=False)
        self.size = 0
        fd, name = tempfile.mkstemp(prefix=f"{file_id}.", suffix=".part", dir=store.tmp_dir)
        self._tmp = Path(name)
        self._fh = os.fdopen(fd, "w+b")
        self.finished = False

    # -- file-like protocol used by werkzeug
    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self._limit is not None and self.size > self._limit:
            raise TooLarge(f"more than the announced {self._limit} bytes")
        self._hash.update(data)
        return self._fh.write(data)

    def seek(self, *args) -> int:
        return self._fh.seek(*args)

    def tell(self) -> int:
        return self._fh.tell()

    def read(self, *args) -> bytes:
        return self._fh.read(*args)

    def readline(self, *args) -> bytes:
        return self._fh.readline(*args)

    def flush(self) -> None:
        self._fh.flush()

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()

    def copy_from(self, stream: BinaryIO) -> None:
        while chunk := stream.read(CHUNK):
            self.write(chunk)

    def commit(self) -> bool:
        """Rename into place if the MD5 matches; otherwise discard. True if kept."""
        if self.finished:
            raise RuntimeError("writer already finished")
        self.finished = True
        self._fh.flush()
        if self.digest != self.md5:
            self._discard()
            return False
        os.fsync(self._fh.fileno())
        self._fh.close()
        final = self._store.path(self.file_id, self.md5)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._tmp, final)
        _fsync_dir(final.parent)
        return True

    def abort(self) -> None:
        if not self.finished:
            self.finished = True
            self._discard()

    def close(self) -> None:
        self.abort()

    def _discard(self) -> None:
        self._fh.close()
        self._tmp.unlink(missing_ok=True)


class FileStore:
    def __init__(self, root: Path, quarantine: Path):
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.quarantine_dir = Path(quarantine)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.quarantine_dir.mkdir(parents=True, exist_ok=True)

    def path(self, file_id: str, md5: str) -> Path:
        return self.root / file_id[0:2] / file_id[2:4] / f"{file_id}.{md5}"

    def has(self, file_id: str, md5: str) -> bool:
        return self.path(file_id, md5).is_file()

    def writer(self, file_id: str, md5: str, limit: int | None = None) -> StoreWriter:
        return StoreWriter(self, file_id, md5, limit)

    def put(self, file_id: str, md5: str, stream: BinaryIO, limit: int | None = None) -> bool:
        """Store bytes from a stream; True if they matched the MD5 and were kept."""
        w = self.writer(file_id, md5, limit)
        try:
            w.copy_from(stream)
        except BaseException:
            w.abort()
            raise
        return w.commit()

    def check(self, file_id: str, md5: str, size: int | None = None) -> str:
        """Re-hash stored bytes: 'ok', 'missing' or 'damaged'."""
        p = self.path(file_id, md5)
        try:
            h = hashlib.md5(usedforsecurity=False)
            n = 0
            with open(p, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    h.update(chunk)
                    n += len(chunk)
        except FileNotFoundError:
            return "missing"
        if h.hexdigest() != md5 or (size is not None and n != size):
            return "damaged"
        return "ok"

    def quarantine(self, file_id: str, md5: str) -> Path | None:
        """Move stored bytes aside (never delete them). Returns where they went."""
        src = self.path(file_id, md5)
        if not src.exists():
            return None
        stamp = time.strftime("%Y%m%dT%H%M%S")
        dest = self.quarantine_dir / f"{file_id}.{md5}.{stamp}"
        n = 1
        while dest.exists():
            dest = self.quarantine_dir / f"{file_id}.{md5}.{stamp}.{n}"
            n += 1
        shutil.move(src, dest)
        return dest

    def clean_tmp(self, older_than_s: float = 3600) -> int:
        """Remove partial uploads left by a crash. Returns how many.

        Only old ones: another process on the same archive may be receiving now.
        """
        cutoff = time.time() - older_than_s
        n = 0
        for p in self.tmp_dir.glob("*.part"):
            try:
                if p.stat().st_mtime < cutoff:
                    p.unlink()
                    n += 1
            except FileNotFoundError:
                pass
        return n
