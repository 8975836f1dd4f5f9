"""The file store: bytes a camera sent, kept whole or not at all.

A file lives at ``files/ab/<file_id>.<md5>``: sharded by the id's first two hex
digits into 256 folders made with the store, so no file waits for a new folder
to be made durable, and a million files make folders of about 4,000 entries,
which every current file system indexes. (Stores made before this layout keep
theirs, ``files/ab/cd/<file_id>.<md5>``; the ``layout`` file says which.) Bytes are
written to a temporary file inside the store, hashed while they stream,
fsynced and renamed into place only when the MD5 matches, so a file present
under its final name is always whole. Naming by MD5 as well as id means bytes
are only ever found for the record they were verified against.

Making verified bytes durable (fsync, rename, fsync of the folder) takes a
few milliseconds per file, so it is not done before the camera is answered:
``StoreWriter.commit`` hands back that work (a ``Once``), which the importer runs once
its answer has gone out, while the camera prepares its next request.
``settle()`` waits for it, or runs it if nobody has yet; the importer settles
an entity's files before it commits the entity. Until settled, a verified file
counts as present for the conversation only; after a crash it is simply
absent (its temporary file is swept at the next start).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from .. import locks
from ..once import Once

log = logging.getLogger(__name__)

CHUNK = 1 << 20
# Large uploads start writing back to disk while they stream, so the final
# fsync has little left to do.
WRITEBACK_EVERY = 16 << 20


class TooLarge(Exception):
    """More bytes arrived than the file record announced."""


def _ensure_dir(path: str, root: str) -> list[str]:
    """Create a shard folder and any missing parent (below root).

    Returns the folders whose entries changed: the caller fsyncs them (after its
    own change in the new folder, so one journal commit usually covers both).
    """
    if os.path.isdir(path):
        return []
    parent = os.path.dirname(path)
    changed = _ensure_dir(parent, root) if parent != root else []
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        return changed
    return [*changed, parent]


def _fsync_dir(path: str | Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StoreWriter:
    """A writable file-like object that hashes what it is given.

    The importer's multipart parser writes the upload's file part into it, so
    the upload goes straight from the request to the store in one pass.
    """

    def __init__(self, store: FileStore, file_id: str, md5: str, limit: int | None):
        self._store = store
        self.file_id = file_id
        self.md5 = md5
        self._limit = limit
        self._hash = hashlib.md5(usedforsecurity=False)
        self.size = 0
        # A fresh random name, created exclusively: what mkstemp does, without its retries.
        name = os.path.join(store.tmp_dir_s, f"{file_id}.{secrets.token_hex(8)}.part")
        fd = os.open(
            name,
            os.O_RDWR
            | os.O_CREAT
            | os.O_EXCL
            | getattr(os, "O_BINARY", 0)
            | getattr(os, "O_CLOEXEC", 0),
            0o600,
        )
        try:
            locks.hold(fd)  # held while this writer lives: the sweep leaves its file alone
        except BaseException:
            os.close(fd)
            os.unlink(name)
            raise
        self._tmp = name
        self._fh = os.fdopen(fd, "w+b")
        self._unsynced = 0
        self.finished = False
        self.durable: Once | None = None  # after a commit that kept the bytes

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self._limit is not None and self.size > self._limit:
            raise TooLarge(f"more than the announced {self._limit} bytes")
        self._hash.update(data)
        n = self._fh.write(data)
        self._unsynced += len(data)
        if self._unsynced >= WRITEBACK_EVERY:
            self._unsynced = 0
            self._fh.flush()
            self._store.writeback(self._fh.fileno())
        return n

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()

    def copy_from(self, stream: BinaryIO) -> None:
        while chunk := stream.read(CHUNK):
            self.write(chunk)

    def commit(self, size: int | None = None) -> bool:
        """Keep the bytes if the MD5 matches (and their count is ``size``, when given),
        else discard them. True if kept.

        Kept bytes count as present at once (``FileStore.has``); they become
        durable under their final name in the background (``FileStore.settle``).
        """
        if self.finished:
            raise RuntimeError("writer already finished")
        self.finished = True
        self._fh.flush()
        if self.digest != self.md5 or (size is not None and self.size != size):
            self._discard()
            return False
        self.durable = self._store._make_durable(self._fh, self._tmp, self.file_id, self.md5)
        return True

    def abort(self) -> None:
        if not self.finished:
            self.finished = True
            self._discard()

    def close(self) -> None:
        self.abort()

    def _discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._tmp)  # before the close gives up the lock
        self._fh.close()


LAYOUT_FILE = "layout"
SHARDS = [f"{i:02x}" for i in range(256)]


class FileStore:
    def __init__(self, root: Path, quarantine: Path, durability_threads: int = 4):
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.root_s, self.tmp_dir_s = str(self.root), str(self.tmp_dir)  # for the hot paths
        self.quarantine_dir = Path(quarantine)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.levels = self._layout()
        self.tmp_dir.mkdir(exist_ok=True, mode=0o700)
        self.quarantine_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._pool = ThreadPoolExecutor(durability_threads, thread_name_prefix="meteorgui-fsync")
        # "<file_id>.<md5>" -> making it durable, until that is done
        self._inflight: dict[str, Once] = {}
        self._shards: set[str] = set()  # shard folders known to exist
        if self.levels == 1:
            self._shards.update(os.path.join(self.root_s, d) for d in SHARDS)
        self._lock = threading.Lock()
        self._closed = False

    def _layout(self) -> int:
        """How many folder levels the store uses: 1 (new stores) or 2 (older ones).

        A new store gets its 256 folders and its layout file at once, durably.
        """
        marker = self.root / LAYOUT_FILE
        try:
            levels = int(marker.read_text().split()[0])
        except FileNotFoundError:
            pass
        except (ValueError, IndexError, OSError) as exc:
            raise OSError(f"the file store's {marker} is unreadable: {exc}") from None
        else:
            if levels not in (1, 2):
                raise OSError(
                    f"the file store in {self.root} uses a layout from a newer "
                    f"meteorgui ({levels} folder levels); run that version or a "
                    "newer one"
                )
            return levels
        if any(
            len(p.name) == 2 and p.is_dir() and any(q.is_dir() for q in p.iterdir())
            for p in self.root.iterdir()
        ):
            return 2  # files were stored in two levels before the layout file existed
        for d in SHARDS:
            os.makedirs(os.path.join(self.root_s, d), mode=0o700, exist_ok=True)
        # Another process may be making the same store: same content, atomic replace.
        tmp = marker.with_name(f"{LAYOUT_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w", encoding="ascii") as fh:
            fh.write("1 level of folders: <first two hex digits of the id>/<id>.<md5>\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, marker)
        _fsync_dir(self.root)
        return 1

    # ------------------------------------------------------------------ durability

    def _shard(self, file_id: str) -> str:
        if self.levels == 1:
            return os.path.join(self.root_s, file_id[0:2])
        return os.path.join(self.root_s, file_id[0:2], file_id[2:4])

    def _make_durable(self, fh, tmp: str, file_id: str, md5: str) -> Once:
        name = f"{file_id}.{md5}"
        shard = self._shard(file_id)

        def job() -> None:
            try:
                os.fsync(fh.fileno())
                created = []
                if shard not in self._shards:
                    created = _ensure_dir(shard, self.root_s)
                    self._shards.add(shard)
                try:
                    os.replace(tmp, os.path.join(shard, name))
                except FileNotFoundError:  # the folder was removed behind our back
                    self._shards.discard(shard)
                    created = _ensure_dir(shard, self.root_s)
                    os.replace(tmp, os.path.join(shard, name))
                fh.close()  # only now: until renamed, the lock keeps the sweep away
                _fsync_dir(shard)
                for folder in reversed(created):  # new folders' entries in their parents
                    _fsync_dir(folder)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                fh.close()
                raise
            finally:
                self._forget(name, durable)

        durable = Once(job)
        with self._lock:
            if self._closed:
                raise RuntimeError("the file store is closed")
            self._inflight[name] = durable
        return durable

    def _forget(self, name: str, durable: Once) -> None:
        with self._lock:
            if self._inflight.get(name) is durable:
                del self._inflight[name]

    def writeback(self, fd: int) -> None:
        """Start writing a file's dirty pages to disk without waiting for it."""

        def job() -> None:
            try:
                os.fdatasync(fd) if hasattr(os, "fdatasync") else os.fsync(fd)
            except OSError:
                pass  # closed meanwhile, or no matter: the final fsync is what counts

        with self._lock:
            if not self._closed:
                self._pool.submit(job)

    def settle(self, files: Iterable[tuple[str, str]], timeout: float | None = 60) -> list[str]:
        """Wait until these (file_id, md5) are durable under their final names.

        Returns the ids that are not: their background write failed (disk full, I/O
        error) or did not finish in time, or their bytes are simply not there.
        """
        files = list(files)
        with self._lock:
            pending = [
                d
                for d in (self._inflight.get(f"{fid}.{md5}") for fid, md5 in files)
                if d is not None
            ]
        deadline = None if timeout is None else time.monotonic() + timeout
        for durable in pending:  # run at once if nobody has started it, else wait for it
            durable.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return [fid for fid, md5 in files if not self._durable(fid, md5)]

    def _durable(self, file_id: str, md5: str) -> bool:
        name = f"{file_id}.{md5}"
        with self._lock:
            durable = self._inflight.get(name)
        if durable is not None:  # still being written: not durable yet
            return False
        # Always looked for on disk: another process (a CLI resend) may have moved it.
        return os.path.isfile(os.path.join(self._shard(file_id), name))

    def close(self) -> None:
        """Finish making every kept file durable."""
        with self._lock:
            self._closed = True
            pending = list(self._inflight.values())
        for durable in pending:
            durable.wait()
        self._pool.shutdown(wait=True)

    def path(self, file_id: str, md5: str) -> Path:
        return Path(self._shard(file_id), f"{file_id}.{md5}")

    def open_bytes(self, file_id: str, md5: str) -> BinaryIO | None:
        """The bytes kept for this file, open for reading; None if they are not under their
        final name (never received, or still on their way to disk)."""
        try:
            return open(self.path(file_id, md5), "rb")  # noqa: SIM115 - the caller closes it
        except OSError:
            return None

    def has(self, file_id: str, md5: str) -> bool:
        """Verified bytes are here (durable, or on their way to disk)."""
        name = f"{file_id}.{md5}"
        with self._lock:
            durable = self._inflight.get(name)
        if durable is not None and durable.ok():
            return True
        return os.path.isfile(os.path.join(self._shard(file_id), name))

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
        kept = w.commit()
        if kept and self.settle([(file_id, md5)]):
            return False
        return kept

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
        except OSError:  # unreadable (a failing disk, a folder in its place): not usable
            return "damaged"
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
        """Remove partial uploads no live writer holds (a crash's leftovers). Returns how many.

        Each writer holds a lock on its file while it lives, in this process or another
        on the same archive, so a file whose lock can be taken is nobody's. Where there
        are no such locks (not POSIX), only files older than ``older_than_s`` go.
        """
        try:
            return locks.sweep(self.tmp_dir.glob("*.part"), older_than_s)
        except OSError as exc:
            log.warning("could not sweep partial uploads in %s: %s", self.tmp_dir, exc)
            return 0
