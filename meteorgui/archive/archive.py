"""The archive: statuses, events, files and their bytes, in one data directory."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import notify
from ..errors import MeteorguiError
from ..model import CameraStatus, Event, FileRecord, Meta, dumps, entity_id
from . import dotted, migrations
from .browse import BRIGHTNESS_KEYS, DURATION_KEYS, UNKNOWN
from .cameras import Cameras
from .conversations import Conversations
from .db import Database
from .private import make_private
from .store import FileStore
from .users import Users
from .where import camera_and_time, execute_for_ids, id_batches

DB_NAME = "archive.sqlite3"
BATCH = 500  # files re-hashed per query by verify()


def now_ms() -> int:
    return int(time.time() * 1000)


class ArchiveError(MeteorguiError):
    """The archive cannot do what was asked; the message says why."""


class Conflict(ArchiveError):
    """Data that contradicts what the archive already holds."""


@dataclass(frozen=True)
class Filter:
    camera_id: str | None = None
    after: int | None = None  # inclusive, ms
    before: int | None = None  # exclusive, ms
    event_type: str | None = None
    limit: int | None = None
    offset: int = 0
    descending: bool = False


@dataclass(frozen=True)
class ResendMark:
    offer: Event | FileRecord  # what an exporter must offer again
    file_ids: tuple[str, ...]  # whose bytes will be asked for
    received_by: str | None  # the user who sent it first


@dataclass(frozen=True)
class FileCheck:
    file: FileRecord
    event_id: str | None
    state: str  # 'ok', 'missing' or 'damaged'


def pending_upgrades(data_dir: str | Path) -> list[str]:
    """What opening the archive in ``data_dir`` will upgrade first (nothing for a new one)."""
    return migrations.pending(Path(data_dir) / DB_NAME)


class Archive:
    def __init__(self, data_dir: str | Path, hub: notify.Hub | None = None):
        self.data_dir = Path(data_dir)
        # Every change is published here after its commit (notify.CHANGED).
        self.hub = hub or notify.Hub()
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            (self.data_dir / "logs").mkdir(exist_ok=True, mode=0o700)
            make_private(self.data_dir, DB_NAME)
            # The database first: an archive from a newer meteorgui is refused before
            # anything in it is touched.
            self.db = Database(self.data_dir / DB_NAME)
            try:
                self.store = FileStore(self.data_dir / "files", self.data_dir / "quarantine")
            except BaseException:
                self.db.close()
                raise
        except (OSError, sqlite3.Error, migrations.NewerArchive) as exc:
            raise ArchiveError(f"cannot open the archive in {self.data_dir}: {exc}") from exc
        self.store.clean_tmp()
        self.users = Users(self.db, self.hub)
        self.cameras = Cameras(self.db)
        self.conversations = Conversations(self.db)
        # The camera and installation name of each archived status looked up so far (by
        # status id): a status is never deleted and never changes, so what was read once
        # holds for good (_status_of).
        self._statuses: dict[str, tuple[str, str]] = {}

    def close(self) -> None:
        self.store.close()
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ presence

    def _exists(self, table: str, column: str, value: str) -> bool:
        sql = f"SELECT 1 FROM {table} WHERE {column} = ?"
        return self.db.read().execute(sql, (value,)).fetchone() is not None

    def has_status(self, status_id: str) -> bool:
        return self._status_camera(self.db.read(), status_id) is not None

    def _status_camera(self, conn: sqlite3.Connection, status_id: str) -> str | None:
        """The camera of an archived status, None if it is not archived."""
        known = self._status_of(conn, status_id)
        return None if known is None else known[0]

    def _status_of(self, conn: sqlite3.Connection, status_id: str) -> tuple[str, str] | None:
        """The camera and installation name of an archived status, None if it is not
        archived. Read once per status: statuses are never deleted and never change (a
        status sent again must be the same), so a remembered answer is what a look-up
        inside any later transaction would read."""
        known = self._statuses.get(status_id)
        if known is None:
            row = conn.execute(
                "SELECT camera_id, IFNULL(json_extract(body, '$.inst_name'), '') FROM statuses"
                " WHERE status_id = ?",
                (status_id,),
            ).fetchone()
            if row is not None:
                known = self._statuses[status_id] = (row[0], str(row[1]))
        return known

    def has_event(self, event_id: str) -> bool:
        return self._exists("events", "event_id", event_id)

    def has_file(self, file_id: str) -> bool:
        return self._exists("files", "file_id", file_id)

    def has_bytes(self, record: FileRecord) -> bool:
        return self.store.has(record.file_id, record.md5)

    def file_path(self, record: FileRecord) -> Path:
        return self.store.path(record.file_id, record.md5)

    # ------------------------------------------------------------------ statuses

    def store_status(
        self, status: CameraStatus, user: str | None = None, *, bind: bool = False
    ) -> str:
        """Archive a status. Returns 'new' or 'same'; raises Conflict if the id holds other
        data. ``bind``: the camera must be (or becomes) bound to ``user``, else CameraBound."""
        with self.db.write() as conn:
            if bind and user is not None:
                self.cameras.claim(conn, status.camera_id, user)
            row = conn.execute(
                "SELECT body FROM statuses WHERE status_id = ?", (status.status_id,)
            ).fetchone()
            if row is not None:
                if CameraStatus.from_archive(json.loads(row[0])).same_content(status):
                    return "same"
                raise Conflict(
                    f"camera status {status.status_id} is already archived with different content"
                )
            nxt = conn.execute(
                "SELECT MIN(valid_from) FROM statuses WHERE camera_id = ? AND valid_from > ?",
                (status.camera_id, status.valid_from),
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO statuses (status_id, camera_id, valid_from, valid_to, sent_valid_to,"
                " body, received_at, received_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    status.status_id,
                    status.camera_id,
                    status.valid_from,
                    nxt,
                    status.valid_to,
                    dumps(status.to_dict()),
                    now_ms(),
                    user,
                ),
            )
            # The previous status of this camera now ends where this one starts.
            conn.execute(
                "UPDATE statuses SET valid_to = ? WHERE camera_id = ? AND valid_from = ("
                " SELECT MAX(valid_from) FROM statuses WHERE camera_id = ? AND valid_from < ?)",
                (status.valid_from, status.camera_id, status.camera_id, status.valid_from),
            )
            conn.executemany(
                "INSERT INTO status_regions (status_id, region_index, point_index, x, y)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    (status.status_id, r, p, x, y)
                    for r, poly in enumerate(status.regions)
                    for p, (x, y) in enumerate(poly)
                ],
            )
        self.hub.publish(notify.CHANGED, notify.Archived("status", status))
        return "new"

    def _status_from_row(self, body: str, valid_to: int | None) -> CameraStatus:
        status = CameraStatus.from_archive(json.loads(body))
        return dataclasses.replace(status, valid_to=valid_to)

    _STATUS_COLS = "body, COALESCE(valid_to, sent_valid_to)"

    def get_status(self, status_id: str) -> CameraStatus | None:
        row = (
            self.db.read()
            .execute(f"SELECT {self._STATUS_COLS} FROM statuses WHERE status_id = ?", (status_id,))
            .fetchone()
        )
        return None if row is None else self._status_from_row(*row)

    def status_id_at(self, camera_id: str, time_ms: int) -> str | None:
        """The id of the status ``status_at`` reads, without reading its body: for callers
        that keep the statuses they have read (a status's content never changes)."""
        row = (
            self.db.read()
            .execute(
                "SELECT status_id FROM statuses WHERE camera_id = ? AND valid_from <= ?"
                " ORDER BY valid_from DESC LIMIT 1",
                (camera_id, time_ms),
            )
            .fetchone()
        )
        return None if row is None else row[0]

    def status_at(self, camera_id: str, time_ms: int) -> CameraStatus | None:
        """The status of a camera valid at a time."""
        row = (
            self.db.read()
            .execute(
                f"SELECT {self._STATUS_COLS} FROM statuses WHERE camera_id = ? AND valid_from <= ?"
                " ORDER BY valid_from DESC LIMIT 1",
                (camera_id, time_ms),
            )
            .fetchone()
        )
        return None if row is None else self._status_from_row(*row)

    def statuses(self, f: Filter = Filter()) -> list[CameraStatus]:
        where, args = _where(f, "camera_id", "valid_from", None)
        sql = f"SELECT {self._STATUS_COLS} FROM statuses{where}" + _order_limit(f, "valid_from")
        return [self._status_from_row(*r) for r in self.db.read().execute(sql, args)]

    # ------------------------------------------------------------------ events and files

    def store_event(
        self, event: Event, user: str | None = None, fetched: Iterable[str] = ()
    ) -> bool:
        """Archive an event and its file records in one transaction. False if already there.

        A file record already archived on its own (a node may export an event's files
        as file records first) becomes part of the event when it is the same file:
        same bytes (MD5) and camera. Anything else that clashes is a Conflict.
        ``fetched``: files whose bytes were received for this event, which settles any
        resend request for them.
        """
        with _integrity_as_conflict(f"event {event.event_id}"), self.db.write() as conn:
            found = _lookup(conn, event)
            if _archived(event, found):
                return False
            adopted = self._check_new(conn, event, found)
            if adopted:
                self._take_into_event(conn, adopted, event)
                execute_for_ids(
                    conn,
                    "DELETE FROM resend_files WHERE 1",
                    (),
                    "file_id",
                    [f for f in fetched if f in adopted],
                )
            t = now_ms()
            conn.execute(
                "INSERT INTO events (event_id, camera_id, status_id, event_time, event_type,"
                " received_at, received_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    event.event_id,
                    event.camera_id,
                    event.status_id,
                    event.event_time,
                    event.event_type,
                    t,
                    user,
                ),
            )
            # The files in one call, then all the meta in one (the event's, then each
            # file's, in the order they were always inserted).
            self._insert_files(conn, event.files, event.event_id, t, user)
            rows = _meta_rows(event.event_id, event.meta)
            self._insert_meta(
                conn, [*rows, *(r for f in event.files for r in _meta_rows(f.file_id, f.meta))]
            )
            self._insert_summary(conn, event, rows)
        self.hub.publish(notify.CHANGED, notify.Archived("event", event))
        return True

    def store_file(self, record: FileRecord, user: str | None = None) -> bool:
        """Archive a standalone file record. False if already there."""
        with _integrity_as_conflict(f"file {record.file_id}"), self.db.write() as conn:
            found = _lookup(conn, record)
            if _archived(record, found):
                return False
            self._check_new(conn, record, found)
            self._insert_files(conn, (record,), None, now_ms(), user)
            self._insert_meta(conn, _meta_rows(record.file_id, record.meta))
        self.hub.publish(notify.CHANGED, notify.Archived("file", record))
        return True

    def offer_check(self, entity: Event | FileRecord) -> tuple[bool, str | None]:
        """(archived already, why it could not be archived or None), from one look-up of
        its ids. The importer asks this before asking for any bytes, so nothing is
        received for an entity that would be refused; the commit checks again inside its
        transaction."""
        conn = self.db.read()
        found = _lookup(conn, entity)
        if _archived(entity, found):
            return True, None
        try:
            self._check_new(conn, entity, found)
        except Conflict as exc:
            return False, str(exc)
        return False, None

    def _check_new(
        self, conn: sqlite3.Connection, entity: Event | FileRecord, found: _Found
    ) -> list[str]:
        """Check a new entity's ids against the archive (``found``: ``_lookup`` of them on
        ``conn``). Returns the ids of standalone file records an event takes over; raises
        Conflict for any other clash."""
        files = entity.files if isinstance(entity, Event) else (entity,)
        # A camera status describes one camera: an event or file of another camera naming
        # it would be shown (and exported) with that camera's place and pointing.
        for owner in dict.fromkeys([entity, *files]):
            camera = self._status_camera(conn, owner.status_id)
            if camera is not None and camera != owner.camera_id:
                what = "event" if isinstance(owner, Event) else "file"
                raise Conflict(
                    f"{what} {entity_id(owner)} of camera {owner.camera_id} names camera "
                    f"status {owner.status_id}, which is camera {camera}'s"
                )
        events, file_rows = found
        # Event ids and file ids own meta rows alike: an id may be one or the other.
        if isinstance(entity, Event) and entity.event_id in file_rows:
            raise Conflict(f"event {entity.event_id}: an archived file record has that id")
        clash = sorted(events.intersection(f.file_id for f in files))
        if clash:
            raise Conflict(f"file {clash[0]}: an archived event has that id")
        if not isinstance(entity, Event):
            return []
        adopted: list[str] = []
        for record in sorted(files, key=lambda f: f.file_id):
            row = file_rows.get(record.file_id)
            if row is None:
                continue
            holder, md5, camera_id = row
            if holder is not None:
                raise Conflict(
                    f"file {record.file_id} is already archived as part of event {holder}"
                )
            if (md5, camera_id) != (record.md5, record.camera_id):
                raise Conflict(
                    f"file {record.file_id} is already archived as a standalone file "
                    "record with other bytes or from another camera"
                )
            adopted.append(record.file_id)
        return adopted

    @staticmethod
    def _take_into_event(conn: sqlite3.Connection, file_ids: list[str], event: Event) -> None:
        """Remove standalone records the event re-inserts as its own (same bytes on disk):
        their resend marks and queued exports now name the event."""
        execute_for_ids(conn, "DELETE FROM meta WHERE 1", (), "owner_id", file_ids)
        execute_for_ids(conn, "DELETE FROM files WHERE 1", (), "file_id", file_ids)
        execute_for_ids(
            conn,
            "UPDATE resend_files SET offer_kind = 'event', offer_id = ? WHERE 1",
            (event.event_id,),
            "file_id",
            file_ids,
        )
        # A queued export of the file becomes one of its event (a round sending the
        # file right now keeps its row; the event is queued beside it).
        execute_for_ids(
            conn,
            "INSERT INTO export_queue (target_id, entity_id, kind, entity_time, state, force,"
            " source, queued_at, updated_at) SELECT target_id, ?, 'event', ?, 'queued',"
            " MAX(force), MIN(source), MIN(queued_at), MAX(updated_at) FROM export_queue"
            " WHERE kind = 'file'",
            (event.event_id, event.event_time),
            "entity_id",
            file_ids,
            suffix=" GROUP BY target_id ON CONFLICT (target_id, entity_id) DO NOTHING",
        )
        execute_for_ids(
            conn,
            "DELETE FROM export_queue WHERE kind = 'file' AND state != ?",
            ("sending",),
            "entity_id",
            file_ids,
        )

    def _insert_summary(self, conn: sqlite3.Connection, event: Event, meta_rows: list) -> None:
        """The event's row in event_summary, written once after its meta and files (the
        full-text index takes it by trigger): what browsing sorts and filters by, and what
        search finds an event by, its metadata as key=value words and its camera's
        installation name, the search text ending with the terms of its dotted words
        (dotted.py). The values are those migration 2's triggers kept: the last
        duration and brightness item with a number, the file that pictures the event best
        (the lowest rank of file_still_rank, the first file among equals), the user's label."""
        status = self._status_of(conn, event.status_id)
        name = "" if status is None else status[1]
        text = "".join(f" {r[3]}={r[4]}" for r in meta_rows)
        # Computed here, not by a Python function called from SQLite inside the statement
        # (as migration 15 does): that takes the GIL back in the middle of the commit.
        searched = f"{text} {event.event_id} {event.camera_id} {event.event_type} {name}"
        duration = brightness = UNKNOWN
        for row in meta_rows:
            if row[5] is not None:
                if row[3] in DURATION_KEYS:
                    duration = row[5]
                elif row[3] in BRIGHTNESS_KEYS:
                    brightness = row[5]
        conn.execute(
            "INSERT INTO event_summary (event_id, camera_id, event_time, event_type, duration,"
            " brightness, n_files, still_id, still_md5, still_mime, still_rank, label, search,"
            " camera_name)"
            " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, v.file_id, v.md5, v.mime_type,"
            " IFNULL(v.still_rank, 99), (SELECT label FROM reviews WHERE event_id = ?1), ?8, ?9"
            " FROM (SELECT 1) LEFT JOIN (SELECT file_id, md5, mime_type, still_rank"
            " FROM file_still_rank WHERE event_id = ?1 AND still_rank < 99"
            " ORDER BY still_rank, file_index LIMIT 1) v",
            (
                event.event_id,
                event.camera_id,
                event.event_time,
                event.event_type,
                duration,
                brightness,
                len(event.files),
                text + dotted.tail(searched),
                name,
            ),
        )

    @staticmethod
    def _insert_meta(conn: sqlite3.Connection, rows: list) -> None:
        conn.executemany(
            "INSERT INTO meta (owner_id, idx, type, key, value, num) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    @staticmethod
    def _insert_files(
        conn: sqlite3.Connection,
        records: Iterable[FileRecord],
        event_id: str | None,
        t: int,
        user: str | None,
    ) -> None:
        """File rows; an event's files get their index within it."""
        conn.executemany(
            "INSERT INTO files (file_id, event_id, file_index, camera_id, status_id, file_time,"
            " file_size, file_name, mime_type, semantic_type, md5, received_at, received_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.file_id,
                    event_id,
                    None if event_id is None else i,
                    r.camera_id,
                    r.status_id,
                    r.file_time,
                    r.file_size,
                    r.file_name,
                    r.mime_type,
                    r.semantic_type,
                    r.md5,
                    t,
                    user,
                )
                for i, r in enumerate(records)
            ],
        )

    _FILE_COLS = (
        "file_id, camera_id, status_id, file_time, file_size, mime_type, md5,"
        " semantic_type, file_name, event_id"
    )

    def _load_meta(self, owner_ids: list[str]) -> dict[str, list[Meta]]:
        out: dict[str, list[Meta]] = {}
        conn = self.db.read()
        for chunk, marks in id_batches(owner_ids):
            rows = conn.execute(
                f"SELECT owner_id, type, key, value FROM meta WHERE owner_id IN ({marks})"
                " ORDER BY owner_id, idx",
                chunk,
            )
            for owner, kind, key, value in rows:
                out.setdefault(owner, []).append(Meta(kind, key, json.loads(value)))
        return out

    def _files_from_rows(self, rows: list[Any]) -> list[tuple[FileRecord, str | None]]:
        meta = self._load_meta([r[0] for r in rows])
        # The first nine columns are FileRecord's positional fields, so meta is not among them.
        return [
            (FileRecord(*r[:9], meta=tuple(meta.get(r[0], ()))), r[9])  # type: ignore[misc]
            for r in rows
        ]

    def get_file(self, file_id: str) -> FileRecord | None:
        rows = (
            self.db.read()
            .execute(f"SELECT {self._FILE_COLS} FROM files WHERE file_id = ?", (file_id,))
            .fetchall()
        )
        return self._files_from_rows(rows)[0][0] if rows else None

    def file_event_id(self, file_id: str) -> str | None:
        row = (
            self.db.read()
            .execute("SELECT event_id FROM files WHERE file_id = ?", (file_id,))
            .fetchone()
        )
        return None if row is None else row[0]

    def files(self, f: Filter = Filter(), standalone_only: bool = False) -> list[FileRecord]:
        where, args = _where(f, "camera_id", "file_time", None)
        if standalone_only:
            where += (" AND" if where else " WHERE") + " event_id IS NULL"
        sql = f"SELECT {self._FILE_COLS} FROM files{where}" + _order_limit(f, "file_time")
        rows = self.db.read().execute(sql, args).fetchall()
        return [rec for rec, _ in self._files_from_rows(rows)]

    def _events_from_rows(self, rows: list[Any]) -> list[Event]:
        ids = [r[0] for r in rows]
        files: dict[str, list[FileRecord]] = {}
        conn = self.db.read()
        for chunk, marks in id_batches(ids):
            frows = conn.execute(
                f"SELECT {self._FILE_COLS} FROM files WHERE event_id IN ({marks})"
                " ORDER BY event_id, file_index",
                chunk,
            ).fetchall()
            for rec, event_id in self._files_from_rows(frows):
                if event_id is not None:  # asked for by event_id, so always set
                    files.setdefault(event_id, []).append(rec)
        meta = self._load_meta(ids)
        return [
            # Each row holds Event's fields before files and meta.
            Event(*r, files=tuple(files.get(r[0], ())), meta=tuple(meta.get(r[0], ())))  # type: ignore[misc]
            for r in rows
        ]

    _EVENT_COLS = "event_id, camera_id, status_id, event_time, event_type"

    def get_event(self, event_id: str) -> Event | None:
        rows = (
            self.db.read()
            .execute(f"SELECT {self._EVENT_COLS} FROM events WHERE event_id = ?", (event_id,))
            .fetchall()
        )
        return self._events_from_rows(rows)[0] if rows else None

    def events(self, f: Filter = Filter()) -> list[Event]:
        where, args = _where(f, "camera_id", "event_time", "event_type")
        sql = f"SELECT {self._EVENT_COLS} FROM events{where}" + _order_limit(f, "event_time")
        return self._events_from_rows(self.db.read().execute(sql, args).fetchall())

    def count(self, table: str) -> int:
        if table not in ("events", "files", "statuses"):
            raise ValueError(table)
        return self.db.read().execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    # ------------------------------------------------------------------ verification

    def iter_file_checks(
        self,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Iterator[FileCheck]:
        """Re-hash every archived file, yielding each result."""
        conn = self.db.read()
        total = conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
        done = 0
        last = ""
        while True:
            rows = conn.execute(
                f"SELECT {self._FILE_COLS} FROM files WHERE file_id > ? ORDER BY file_id LIMIT ?",
                (last, BATCH),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            for rec, event_id in self._files_from_rows(rows):
                if cancelled is not None and cancelled():
                    return
                yield FileCheck(
                    rec, event_id, self.store.check(rec.file_id, rec.md5, rec.file_size)
                )
                done += 1
                if progress is not None:
                    progress(done, total)

    def verify(self, **kwargs) -> list[FileCheck]:
        """Every archived file whose bytes are missing or damaged."""
        return [c for c in self.iter_file_checks(**kwargs) if c.state != "ok"]

    # ------------------------------------------------------------------ resend requests

    def request_resend(self, entity_id: str, reason: str = "requested by the user") -> ResendMark:
        """Ask for an event's or a file's bytes again.

        Damaged or missing bytes are moved to quarantine (never deleted) and
        their files marked; if nothing is damaged, every file of the entity is
        marked, and intact bytes stay until verified replacements arrive.
        Raises ArchiveError for an unknown id.
        """
        event = self.get_event(entity_id)
        record: FileRecord | None = None
        if event is None:
            record = self.get_file(entity_id)
            if record is None:
                raise ArchiveError(f"no event or file {entity_id} in the archive")
            owner = self.file_event_id(entity_id)
            event = None if owner is None else self.get_event(owner)
        offer: Event | FileRecord
        if event is not None:
            offer = event
            records = list(event.files) if record is None else [record]
        else:
            assert record is not None  # no event: the id was a file's
            offer, records = record, [record]
        bad = [r for r in records if self.store.check(r.file_id, r.md5, r.file_size) != "ok"]
        for r in bad:
            self.store.quarantine(r.file_id, r.md5)
        marked = bad or records
        kind, offer_id = (
            ("event", offer.event_id) if isinstance(offer, Event) else ("file", offer.file_id)
        )
        with self.db.write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO resend_files (file_id, offer_kind, offer_id,"
                " requested_at, reason) VALUES (?, ?, ?, ?, ?)",
                [(r.file_id, kind, offer_id, now_ms(), reason) for r in marked],
            )
            table = "events" if kind == "event" else "files"
            row = conn.execute(
                f"SELECT received_by FROM {table} WHERE {kind}_id = ?", (offer_id,)
            ).fetchone()
        file_ids = tuple(r.file_id for r in marked)
        self.hub.publish(notify.CHANGED, notify.ResendRequested(offer_id, file_ids))
        return ResendMark(offer, file_ids, row[0] if row else None)

    def resend_marked(self, file_ids: Iterable[str]) -> set[str]:
        """Which of these files are marked for resend (any number of ids)."""
        conn = self.db.read()
        marked: set[str] = set()
        for chunk, marks in id_batches(file_ids):
            rows = conn.execute(
                f"SELECT file_id FROM resend_files WHERE file_id IN ({marks})", chunk
            )
            marked.update(r[0] for r in rows)
        return marked

    def settle_resends(self, records: Iterable[FileRecord]) -> None:
        """Clear the resend requests these received bytes answer: the archived record is
        the same file and its bytes are now on disk."""
        records = list(records)
        marked = self.resend_marked(r.file_id for r in records)
        settled = []
        for record in records:
            if record.file_id not in marked:
                continue
            kept = self.get_file(record.file_id)
            if (
                kept is not None
                and (kept.md5, kept.file_size) == (record.md5, record.file_size)
                and not self.store.settle([(record.file_id, record.md5)])
            ):
                settled.append(record.file_id)
        self.clear_resends(settled)

    def clear_resends(self, file_ids: list[str]) -> None:
        """The resend requests of these files are answered: their bytes are back."""
        if not file_ids:
            return
        with self.db.write() as conn:
            conn.executemany("DELETE FROM resend_files WHERE file_id = ?", [(f,) for f in file_ids])
        self.hub.publish(notify.CHANGED, notify.ResendSettled(tuple(file_ids)))

    def resend_offers(self, user: str | None = None) -> list[dict]:
        """What exporters are asked to offer again: [{kind, id, files, requested_at, reason}]."""
        sql = (
            "SELECT r.offer_kind, r.offer_id, COUNT(*), MIN(r.requested_at), MAX(r.reason)"
            " FROM resend_files r"
            " LEFT JOIN events e ON r.offer_kind = 'event' AND e.event_id = r.offer_id"
            " LEFT JOIN files f ON r.offer_kind = 'file' AND f.file_id = r.offer_id"
        )
        args: tuple = ()
        if user is not None:
            sql += " WHERE COALESCE(e.received_by, f.received_by) = ?"
            args = (user,)
        sql += " GROUP BY r.offer_kind, r.offer_id ORDER BY MIN(r.requested_at)"
        return [
            {"kind": k, "id": i, "files": n, "requested_at": t, "reason": why}
            for k, i, n, t, why in self.db.read().execute(sql, args)
        ]


# What ``_lookup`` found of an entity's ids: the archived events among them, and the
# archived file records among them as {file_id: (event_id, md5, camera_id)}.
_Found = tuple[set[str], dict[str, tuple[str | None, str, str]]]


@functools.lru_cache(maxsize=16)
def _lookup_sql(n: int) -> str:
    # Numbered parameters: both halves read the same n values.
    marks = ",".join(f"?{i}" for i in range(1, n + 1))
    return (
        f"SELECT NULL, event_id, NULL, NULL FROM events WHERE event_id IN ({marks})"
        f" UNION ALL SELECT file_id, event_id, md5, camera_id FROM files"
        f" WHERE file_id IN ({marks})"
    )


def _lookup(conn: sqlite3.Connection, entity: Event | FileRecord) -> _Found:
    """Every archived event and file record among an entity's own id and its files' ids,
    in one statement (per ID_BATCH ids): all that ``_archived`` and ``_check_new`` ask."""
    if isinstance(entity, Event):
        ids = list(dict.fromkeys([entity.event_id, *(f.file_id for f in entity.files)]))
    else:
        ids = [entity.file_id]
    events: set[str] = set()
    files: dict[str, tuple[str | None, str, str]] = {}
    for chunk, _ in id_batches(ids):
        for file_id, ident, md5, camera_id in conn.execute(_lookup_sql(len(chunk)), chunk):
            if file_id is None:
                events.add(ident)
            else:
                files[file_id] = (ident, md5, camera_id)
    return events, files


def _archived(entity: Event | FileRecord, found: _Found) -> bool:
    if isinstance(entity, Event):
        return entity.event_id in found[0]
    return entity.file_id in found[1]


def _meta_rows(owner_id: str, meta: Iterable[Meta]) -> list[tuple]:
    """The meta table's rows of one owner (an event or a file), in the order sent."""
    return [
        (owner_id, i, m.type, m.key, dumps(m.value), None if m.type == "string" else float(m.value))
        for i, m in enumerate(meta)
    ]


@contextlib.contextmanager
def _integrity_as_conflict(what: str):
    """A constraint the archive enforces (e.g. an unknown status) is a conflict, not a crash."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise Conflict(f"{what} cannot be archived: {exc}") from None


def _where(f: Filter, camera_col: str, time_col: str, type_col: str | None):
    clauses, args = camera_and_time(camera_col, time_col, f.camera_id, f.after, f.before)
    if f.event_type is not None and type_col is not None:
        clauses.append(f"{type_col} = ?")
        args.append(f.event_type)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


def _order_limit(f: Filter, time_col: str) -> str:
    direction = "DESC" if f.descending else "ASC"
    sql = f" ORDER BY {time_col} {direction}, rowid {direction}"
    if f.limit is not None:
        sql += f" LIMIT {int(f.limit)} OFFSET {int(f.offset)}"
    return sql
