"""SQLite connections: one writer behind a lock, one reader per thread, WAL."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from . import migrations

if TYPE_CHECKING:
    import sqlite_utils


class Connection(sqlite3.Connection):
    """A connection that can remember what its reads worked out while the database is
    unchanged (``memo()``): the browser's search looks up a word's terms once for the count
    and the page it reads next."""

    MEMO_ENTRIES = 256

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._memo: dict = {}
        self._memo_version: int | None = None

    def memo(self) -> dict:
        """A dict that empties itself once another connection has committed (SQLite's
        data_version), so what it holds describes the data this connection reads. For
        readers: the connection's own writes do not empty it."""
        version = self.execute("PRAGMA data_version").fetchone()[0]
        if version != self._memo_version or len(self._memo) >= self.MEMO_ENTRIES:
            self._memo.clear()
            self._memo_version = version
        return self._memo


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, timeout=30, isolation_level=None, check_same_thread=False, factory=Connection
    )
    conn.execute("PRAGMA busy_timeout=30000")
    # Switching a new database to WAL needs a moment alone with it; another process
    # creating the same archive at the same time can make it fail at once.
    deadline = time.monotonic() + 30
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            # Only a busy database is worth waiting for; read-only or damaged is not.
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() > deadline:
                conn.close()
                raise
            time.sleep(0.05)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


class Database:
    """Owns every connection to one SQLite file.

    Writes go through ``write()``: one connection, one lock, short
    ``BEGIN IMMEDIATE`` transactions. Reads use ``read()``: a connection per
    thread, so a reader never waits for a writer (WAL).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._write_conn = _connect(self.path)
        self._sync = "NORMAL"
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        try:
            with self._write_lock:
                self.applied_migrations = migrations.apply(self._write_conn)
        except BaseException:
            self._write_conn.close()
            raise
        # Checkpoints (which fsync) run on their own thread, not inside a camera's request.
        self._write_conn.execute("PRAGMA wal_autocheckpoint=0")
        self._stop_checkpoints = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, daemon=True, name="meteorgui-checkpoint"
        )
        self._checkpointer.start()

    CHECKPOINT_EVERY_S = 2.0

    def _checkpoint_loop(self) -> None:
        conn = _connect(self.path)
        try:
            while not self._stop_checkpoints.wait(self.CHECKPOINT_EVERY_S):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass  # busy or closing: the next round will do it
        finally:
            conn.close()

    @contextmanager
    def write(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on any error.

        A durable commit is on disk before this returns (the importer answers a camera
        'complete' only after it, and a camera never sends that entity again). The import
        log's own batches need not wait for the disk.
        """
        with self._write_lock:
            if self._closed:
                raise RuntimeError("the archive is closed")
            conn = self._write_conn
            if conn.in_transaction:  # nested use joins the outer transaction
                yield conn
                return
            sync = "FULL" if durable else "NORMAL"
            if sync != self._sync:
                conn.execute(f"PRAGMA synchronous={sync}")
                self._sync = sync
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def read(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise RuntimeError("the archive is closed")
            conn = _connect(self.path)
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def utils(self) -> sqlite_utils.Database:
        """sqlite-utils on this thread's reader, for introspection and ad-hoc queries."""
        import sqlite_utils  # a tenth of a second to import: not before it is used

        return sqlite_utils.Database(self.read())

    def release_reader(self) -> None:
        """Close this thread's reader (call before a worker thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            with self._readers_lock:
                if conn in self._readers:
                    self._readers.remove(conn)
            conn.close()

    def close(self) -> None:
        self._stop_checkpoints.set()
        self._checkpointer.join()
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            with self._readers_lock:
                for conn in self._readers:
                    conn.close()
                self._readers.clear()
            try:
                self._write_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self._write_conn.close()
