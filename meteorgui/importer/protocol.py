"""The importer's side of the MeteorPi conversation, without HTTP.

``Importer.handle`` takes one parsed JSON message from an authenticated user
and returns the answer; ``Importer.receive_bytes`` takes one upload. State kept
between requests is per user: the entity cache (cache.py: never shared between
users, bounded in bytes), the files this user was asked for, and how many times
each was asked. Every per-user table is bounded too, so a login that offers
without ever finishing holds a fixed amount of memory.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import notify
from ..archive import Archive, CameraBound, Conflict, TooLarge
from ..archive import conversations as conv
from ..diskspace import disk_problem
from ..model import (
    ENTITY_KINDS,
    CameraStatus,
    Entity,
    Event,
    FileRecord,
    ModelError,
    entity_id,
    entity_kind,
    parse_md5,
    parse_uuid,
)
from .cache import EntityCache
from .log import ImportLog
from .logins import Logins

log = logging.getLogger(__name__)

# Meta items in one message, the event's and all its files' together. Real nodes send a
# handful per file; the per-list bound of the model alone would let one event carry 260,000.
MAX_META_PER_MESSAGE = 10_000
# Entries kept per user in each table of pending conversation state (oldest go first):
# an exporter works through its queue one entity at a time.
MAX_PENDING = 4096
# Asks for one file (or status) are counted per export round. Within a round the next
# step follows the last within seconds (an upload is seen only once all of it has
# arrived); between rounds an exporter waits (a MeteorPi node 30 minutes after a
# failure, meteorgui's own at least 60 s). A count idle this long starts again from
# zero, so uploads lost to dropped connections never fail a later round.
ROUND_GAP_S = 30.0
MAX_FILE_ASKS = 3
MAX_STATUS_ASKS = 3
MAX_FILE_BYTES = 4 << 30  # the largest upload the HTTP server accepts


@dataclass
class Answer:
    body: dict
    status: int = 200
    # Work to do once the answer has gone out (making received bytes durable).
    after: Callable[[], None] | None = None


def _state(state: str, **extra: Any) -> Answer:
    return Answer({"state": state, **extra})


def refuse(status: int, message: str) -> Answer:
    return Answer({"state": "failed", "message": message}, status)


@dataclass
class Ask:
    """A file's bytes this user was asked for."""

    record: FileRecord
    offer_kind: str
    offer_id: str
    resend: bool = False  # asked again for an archived entity (a resend request)


@dataclass
class Session:
    user: str
    pending: dict[str, Ask] = field(default_factory=dict)
    # key -> (asks so far in this round, monotonic time of the last step about it)
    file_asks: dict[str, tuple[int, float]] = field(default_factory=dict)
    status_asks: dict[str, tuple[int, float]] = field(default_factory=dict)
    # status_id -> (kind, id) of the entity that asked for it, for the import log
    status_for: dict[str, tuple[str, str]] = field(default_factory=dict)
    last_mismatch: dict[str, str] = field(default_factory=dict)
    # (file_id, md5) verified in this session, so repeated offers need not look on disk
    received: set[tuple[str, str]] = field(default_factory=set)
    # entities found not yet archived when first offered; the commit handles any race
    unarchived: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def trim(self) -> None:
        """Keep each table to MAX_PENDING entries, dropping the oldest (call with the lock)."""
        for table in (
            self.pending,
            self.file_asks,
            self.status_asks,
            self.status_for,
            self.last_mismatch,
        ):
            while len(table) > MAX_PENDING:
                del table[next(iter(table))]
        for bag in (self.received, self.unarchived):
            if len(bag) > MAX_PENDING:
                bag.clear()  # only a shortcut: the archive answers without it

    def forget_entity(self, entity: Entity) -> None:
        for record in _files_of(entity):
            self.file_asks.pop(record.file_id, None)
            self.pending.pop(record.file_id, None)
            self.last_mismatch.pop(record.file_id, None)
            self.received.discard((record.file_id, record.md5))
        self.unarchived.discard(entity_id(entity))
        prefix = f"{entity_id(entity)}:"
        for key in [k for k in self.status_asks if k.startswith(prefix)]:
            del self.status_asks[key]

    @staticmethod
    def asked(counts: dict[str, tuple[int, float]], key: str, now: float) -> int:
        """Asks so far in this round (a count idle for ROUND_GAP_S is a past round's)."""
        n, last = counts.get(key, (0, now))
        return n if now - last <= ROUND_GAP_S else 0

    def touch(self, file_id: str, now: float) -> None:
        """Bytes for this file arrived (or failed): the round is still going on."""
        if file_id in self.file_asks:
            self.file_asks[file_id] = (self.file_asks[file_id][0], now)


def _count_meta(raw: Any) -> int:
    """Meta items in an entity as sent (before parsing; malformed parts count as none)."""
    if not isinstance(raw, dict):
        return 0
    n = len(raw["meta"]) if isinstance(raw.get("meta"), list) else 0
    files = raw.get("files")
    if isinstance(files, list):
        n += sum(
            len(f["meta"]) for f in files if isinstance(f, dict) and isinstance(f.get("meta"), list)
        )
    return n


def _files_of(entity: Entity) -> tuple[FileRecord, ...]:
    if isinstance(entity, Event):
        return entity.files
    if isinstance(entity, FileRecord):
        return (entity,)
    return ()


class _InFlight:
    """One request in flight: counted while it runs."""

    __slots__ = ("_importer",)

    def __init__(self, importer: Importer):
        self._importer = importer

    def __enter__(self) -> None:
        with self._importer._idle:
            self._importer._busy += 1

    def __exit__(self, *exc: object) -> None:
        importer = self._importer
        with importer._idle:
            importer._busy -= 1
            if not importer._busy:
                importer._idle.notify_all()


class Importer:
    def __init__(
        self, archive: Archive, hub: notify.Hub | None = None, max_file_asks: int = MAX_FILE_ASKS
    ):
        self.archive = archive
        self.hub = hub or archive.hub
        self.log = ImportLog(archive, self.hub)
        self.logins = Logins(archive.users, self.hub, addresses=archive.conversations.addresses)
        self.max_file_asks = max_file_asks
        # A camera is bound to the login that first sent its status (a setting, on by
        # default): another login's statuses, events and files for it are refused.
        self.bind_cameras = True
        self.clock = time.monotonic  # for the ask rounds; tests move it
        self.cache = EntityCache()
        self._busy = 0
        self._idle = threading.Condition()
        self._sessions: dict[str, Session] = {}
        self._sessions_lock = threading.Lock()
        self.closed = False

    def session(self, user: str) -> Session:
        with self._sessions_lock:
            s = self._sessions.get(user)
            if s is None:
                s = self._sessions[user] = Session(user)
            return s

    # ------------------------------------------------------------------ logging

    def _log(
        self,
        user: str,
        remote: str | None,
        entity: Entity | None,
        state: str,
        *,
        kind: str | None = None,
        ident: str | None = None,
        **kw,
    ) -> None:
        if entity is not None:
            kind, ident = entity_kind(entity), entity_id(entity)
            kw.setdefault("camera_id", entity.camera_id)
        self.log.record(
            user=user,
            remote_addr=remote,
            kind=kind,
            entity_id=ident,
            state=state,
            at=int(time.time() * 1000),
            **kw,
        )

    def recover(self) -> tuple[int, int]:
        """Repair what a crash left in the import log (see conversations.reconcile):
        (open conversations closed, archived entities recorded as recovered)."""
        closed, recorded = conv.reconcile(self.archive.db)
        if closed or recorded:
            log.warning(
                "import log repaired after an unclean stop: %d open conversation(s) closed, "
                "%d archived entit(y/ies) recorded as recovered",
                closed,
                recorded,
            )
        return closed, recorded

    def request(self) -> _InFlight:
        """Wrap each HTTP request (``with importer.request():``), so close() can wait
        for the ones still running."""
        return _InFlight(self)

    def close(self, timeout: float = 30) -> None:
        """Wait for requests still running, then write out the import log.

        Call before closing the archive.
        """
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, timeout):
                log.warning("%d import request(s) still running at shutdown", self._busy)
        self.closed = True
        self.log.close()

    # ------------------------------------------------------------------ messages

    def handle(
        self, user: str, remote: str | None, message: Any, size: int | None = None
    ) -> Answer:
        """Answer one message; ``size`` is the length of its JSON, if known."""
        if not isinstance(message, dict):
            return refuse(400, "the body must be a JSON object")
        kind = message.get("type")
        s = self.session(user)
        if kind == "cached_entity":
            try:
                key = parse_uuid(message.get("cached_entity_id"), "cached_entity_id")
            except ModelError as exc:
                return refuse(400, str(exc))
            entity = self.cache.get(user, key)
            if entity is None:
                # Nothing remembered (restart, eviction): ask for the full entity again.
                return _state("continue-nocache")
        elif isinstance(kind, str) and kind in ENTITY_KINDS:
            if kind not in message:
                return refuse(400, f"{kind}: missing")
            n_meta = _count_meta(message[kind])
            if n_meta > MAX_META_PER_MESSAGE:
                return refuse(
                    413,
                    f"{kind}: {n_meta} meta items; this importer takes at most "
                    f"{MAX_META_PER_MESSAGE} in one message (the event's and its files' together)",
                )
            try:
                entity = ENTITY_KINDS[kind].from_dict(message[kind], kind)
            except ModelError as exc:
                if kind == "status":  # a node ignores this answer: the give-up names it
                    self._status_refused(s, message[kind], str(exc))
                return refuse(400, str(exc))
            self.cache.put(user, entity_id(entity), entity, size)
        else:
            expected = "expected event, file, status or cached_entity"
            if kind is None:
                return refuse(400, f"type: missing; {expected}")
            if not isinstance(kind, str):
                return refuse(400, f"type: not a string; {expected}")
            return refuse(400, f"type: unknown message type {kind[:40]!r}; {expected}")
        if isinstance(entity, CameraStatus):
            return self._status(s, remote, entity)
        return self._offer(s, remote, entity)

    def refused_json(self, user: str, body: bytes, reason: str) -> None:
        """A message refused as JSON (a NaN, say): if it was an asked-for status, keep why,
        as for a status refused for its fields. The body is read leniently, only to find
        the status's id; nothing of it is kept."""
        if b"status" not in body:
            return
        try:
            raw = json.loads(body)
        except (ValueError, RecursionError):
            return
        if (
            isinstance(raw, dict)
            and raw.get("type") == "status"
            and isinstance(raw.get("status"), dict)
        ):
            self._status_refused(self.session(user), raw["status"], reason)

    @staticmethod
    def _status_refused(s: Session, raw: Any, reason: str) -> None:
        """Keep why an asked-for status was refused: a MeteorPi node ignores the answer to
        a status and offers its entity again, which gives up naming this reason."""
        try:
            status_id = parse_uuid(raw.get("status_id"), "status_id")
        except (ModelError, AttributeError):
            return
        with s.lock:
            asked = status_id in s.status_for  # by an entity of this session
        if asked:
            Importer._keep_refusal(s, status_id, reason)

    @staticmethod
    def _keep_refusal(s: Session, status_id: str, reason: str) -> None:
        """The reason an ask for this status gives up with, if it does."""
        with s.lock:
            s.last_mismatch[status_id] = f"it was refused ({reason})"
            s.trim()

    def _status(self, s: Session, remote: str | None, status: CameraStatus) -> Answer:
        with s.lock:
            parent = s.status_for.pop(status.status_id, None)
        log_kw = {"kind": parent[0], "ident": parent[1]} if parent else {}
        log_entity = None if parent else status
        try:
            outcome = self.archive.store_status(status, s.user, bind=self.bind_cameras)
        except CameraBound as exc:
            self._log(s.user, remote, log_entity, conv.FAILED, detail=str(exc), message=str(exc))
            return refuse(403, str(exc))
        except (OSError, sqlite3.Error) as exc:
            problem = disk_problem(exc)
            if problem is None:
                raise
            with s.lock:  # the reason the next ask gives up with, if it does
                s.last_mismatch[status.status_id] = problem
            log.error("could not archive camera status %s: %s", status.status_id, exc)
            return refuse(507, f"camera status {status.status_id} was not archived: {problem}")
        except Conflict as exc:
            if parent:  # the node ignores this answer: the ask's give-up names it
                self._keep_refusal(s, status.status_id, str(exc))
            self._log(
                s.user,
                remote,
                log_entity,
                conv.FAILED if not parent else conv.RECEIVING,
                detail=str(exc),
                message=str(exc),
                **log_kw,
            )
            return refuse(409, str(exc))
        detail = f"camera status {status.status_id} " + (
            "archived" if outcome == "new" else "already archived"
        )
        self._log(
            s.user,
            remote,
            log_entity,
            conv.RECEIVING if parent else conv.COMPLETE,
            detail=detail,
            **log_kw,
        )
        return _state("continue")

    def _offer(self, s: Session, remote: str | None, entity: Event | FileRecord) -> Answer:
        ident = entity_id(entity)
        if self.bind_cameras:
            try:
                for camera_id in {entity.camera_id, *(f.camera_id for f in _files_of(entity))}:
                    self.archive.cameras.check(camera_id, s.user)
            except CameraBound as exc:
                answer = self._fail(s, remote, entity, str(exc))
                return refuse(403, answer.body["message"])
        with s.lock:
            known_new = ident in s.unarchived
        # A conflict is refused now rather than after its bytes have been received for
        # nothing; an entity this session found new already is asked about no more.
        archived, problem = (False, None) if known_new else self.archive.offer_check(entity)
        if problem is not None:
            return self._fail(s, remote, entity, problem)
        if not archived and not known_new:
            with s.lock:
                s.unarchived.add(ident)
        files = _files_of(entity)
        if archived:
            # Archived: only files marked for resend can still be wanted.
            marked = self.archive.resend_marked(f.file_id for f in files)
            wanted = [f for f in files if f.file_id in marked]
            if not wanted:
                return self._complete(s, remote, entity, "already archived")
            # The bytes asked for are the archived record's: an offer describing other
            # bytes cannot repair it (and must not clear its mark).
            kept = self.archive.get_file(wanted[0].file_id)
            if kept is not None and (kept.md5, kept.file_size) != (
                wanted[0].md5,
                wanted[0].file_size,
            ):
                return self._fail(
                    s,
                    remote,
                    entity,
                    f"file {kept.file_id} is archived with other bytes (MD5 "
                    f"{kept.md5}, {kept.file_size} bytes) than this offer "
                    "describes; its resend request stays",
                )
            return self._ask_bytes(s, remote, entity, wanted[0], resend=True)
        # The event and each of its files name a camera status; all must be archived.
        for status_id in dict.fromkeys([entity.status_id, *(f.status_id for f in files)]):
            if not self.archive.has_status(status_id):
                return self._ask_status(s, remote, entity, status_id)
        with s.lock:
            unreceived = [f for f in files if (f.file_id, f.md5) not in s.received]
        missing = next((f for f in unreceived if not self.archive.has_bytes(f)), None)
        if missing is not None:
            return self._ask_bytes(s, remote, entity, missing)
        # Nothing is committed before its files are on disk under their final names.
        unsettled = self.archive.store.settle((f.file_id, f.md5) for f in files)
        if unsettled:
            with s.lock:
                s.last_mismatch[unsettled[0]] = "the bytes could not be written to disk"
                s.received = {r for r in s.received if r[0] not in unsettled}
            record = next(f for f in files if f.file_id == unsettled[0])
            return self._ask_bytes(s, remote, entity, record)
        with s.lock:  # bytes received in this conversation (they may settle resends)
            fetched = [f for f in files if (f.file_id, f.md5) in s.received]
        try:
            if isinstance(entity, Event):
                new = self.archive.store_event(entity, s.user, fetched=[f.file_id for f in fetched])
            else:
                new = self.archive.store_file(entity, s.user)
        except Conflict as exc:
            return self._fail(s, remote, entity, str(exc))
        if not new:  # another camera or user archived it meanwhile
            # Bytes fetched meanwhile may be the ones a resend request waits for.
            self.archive.settle_resends(fetched)
            return self._complete(s, remote, entity, "already archived")
        return self._complete(s, remote, entity, "archived")

    def _complete(self, s: Session, remote, entity, detail: str) -> Answer:
        with s.lock:
            s.forget_entity(entity)
        self._log(s.user, remote, entity, conv.COMPLETE, detail=detail)
        return _state("complete")

    def _fail(self, s: Session, remote, entity, message: str) -> Answer:
        with s.lock:
            s.forget_entity(entity)
        self._log(s.user, remote, entity, conv.FAILED, detail=message, message=message)
        return _state("failed", message=message)

    def _ask_status(self, s: Session, remote, entity: Event | FileRecord, status_id: str) -> Answer:
        key = f"{entity_id(entity)}:{status_id}"
        with s.lock:
            asked = s.asked(s.status_asks, key, self.clock())
            if asked < MAX_STATUS_ASKS:
                s.status_asks[key] = (asked + 1, self.clock())
                s.status_for[status_id] = (entity_kind(entity), entity_id(entity))
                s.trim()
        if asked >= MAX_STATUS_ASKS:
            with s.lock:
                why = s.last_mismatch.pop(status_id, None)
            return self._fail(
                s,
                remote,
                entity,
                f"camera status {status_id} was asked for {asked} times and "
                + (f"could not be archived: {why}" if why else "never arrived"),
            )
        self._log(
            s.user, remote, entity, conv.NEED_STATUS, detail=f"asked for camera status {status_id}"
        )
        return _state("need_status", status_id=status_id)

    def _ask_bytes(
        self,
        s: Session,
        remote,
        entity: Event | FileRecord,
        record: FileRecord,
        resend: bool = False,
    ) -> Answer:
        if record.file_size > MAX_FILE_BYTES:
            return self._fail(
                s,
                remote,
                entity,
                f"file {record.file_id} is {record.file_size} bytes; this importer "
                f"takes files up to {MAX_FILE_BYTES} bytes",
            )
        with s.lock:
            asked = s.asked(s.file_asks, record.file_id, self.clock())
            why = s.last_mismatch.get(record.file_id) if asked else None
            if asked < self.max_file_asks:
                s.file_asks[record.file_id] = (asked + 1, self.clock())
                # Kept without its meta: an upload needs only the id, size and MD5.
                s.pending[record.file_id] = Ask(
                    dataclasses.replace(record, meta=()),
                    entity_kind(entity),
                    entity_id(entity),
                    resend,
                )
                s.trim()
        if asked >= self.max_file_asks:
            reason = why or "they did not arrive"
            return self._fail(
                s,
                remote,
                entity,
                f"gave up on file {record.file_id} after asking {asked} times for "
                f"its bytes: {reason}",
            )
        detail = f"asked for the bytes of file {record.file_id} ({record.file_size} bytes)"
        if asked:
            detail += f", attempt {asked + 1} of {self.max_file_asks}"
        self._log(s.user, remote, entity, conv.NEED_FILE_DATA, detail=detail, attempts=asked + 1)
        return _state("need_file_data", file_id=record.file_id)

    # ------------------------------------------------------------------ bytes

    def expect_bytes(self, user: str, file_id_hex: str, md5_hex: str) -> Ask | Answer:
        """Check an upload before reading its body: the Ask it answers, or a refusal."""
        try:
            file_id = parse_uuid(file_id_hex, "file_id")
            md5 = parse_md5(md5_hex, "md5")
        except ModelError as exc:
            return refuse(400, f"in the URL: {exc}")
        s = self.session(user)
        with s.lock:
            ask = s.pending.get(file_id)
        if ask is None:
            return refuse(
                409,
                f"file {file_id} was not asked for from user {user}, or its "
                "bytes already arrived; offer the event or file record first",
            )
        if ask.record.md5 != md5:
            return refuse(
                400, f"md5 {md5} in the URL differs from the file record's {ask.record.md5}"
            )
        return ask

    def receive_bytes(
        self, user: str, remote: str | None, ask: Ask, fill: Callable[[Any], bool]
    ) -> Answer:
        """Stream an upload into the store. ``fill(writer)`` feeds the writer and
        returns False if the request held no file part."""
        record = ask.record
        s = self.session(user)
        try:
            writer = self.archive.store.writer(record.file_id, record.md5, limit=record.file_size)
        except OSError as exc:
            problem = disk_problem(exc)
            if problem is None:
                raise
            return self.bytes_not_stored(user, remote, ask, problem)
        try:
            present = fill(writer)
            if present:
                size, digest = writer.size, writer.digest
                # Bytes that match the MD5 but not the announced size would fail verify later.
                kept = writer.commit(size=record.file_size)
        except TooLarge:
            writer.abort()
            self._bytes_failed(s, ask, f"more bytes than the {record.file_size} announced")
            return refuse(
                413,
                f"file {record.file_id}: more bytes than the {record.file_size} "
                "the file record announced",
            )
        except OSError as exc:
            writer.abort()
            problem = disk_problem(exc)
            if problem is None:
                raise
            return self.bytes_not_stored(user, remote, ask, problem)
        except BaseException:
            writer.abort()
            raise
        if not present:
            writer.abort()
            return refuse(400, "multipart field 'file' missing")
        with s.lock:
            s.pending.pop(record.file_id, None)
            s.touch(record.file_id, self.clock())
            if kept:
                s.received.add((record.file_id, record.md5))
        offer_kind, offer_id = ask.offer_kind, ask.offer_id
        if not kept:
            reason = (
                f"the {size} bytes received have MD5 {digest}, not {record.md5}"
                if digest != record.md5
                else f"{size} bytes arrived; the file record announced {record.file_size}"
            )
            self._bytes_failed(s, ask, reason)
            self._log(
                user,
                remote,
                None,
                conv.NEED_FILE_DATA,
                kind=offer_kind,
                ident=offer_id,
                camera_id=record.camera_id,
                detail=f"file {record.file_id}: {reason}",
                bytes_added=size,
            )
            return refuse(400, f"file {record.file_id}: {reason}; the bytes were discarded")
        if ask.resend:
            # The mark goes only once the replacement is on disk: the damaged original
            # is already in quarantine.
            if self.archive.store.settle([(record.file_id, record.md5)]):
                with s.lock:
                    s.received.discard((record.file_id, record.md5))
                reason = "the bytes could not be written to disk"
                self._bytes_failed(s, ask, reason)
                return refuse(507, f"file {record.file_id}: {reason}; it stays marked for resend")
            self.archive.clear_resends([record.file_id])
        self._log(
            user,
            remote,
            None,
            conv.RECEIVING,
            kind=offer_kind,
            ident=offer_id,
            camera_id=record.camera_id,
            detail=f"received file {record.file_id} ({size} bytes, MD5 verified)",
            bytes_added=size,
        )
        # The disk work waits until the camera has its answer (or the entity settles).
        return Answer({"state": "continue"}, after=writer.durable.run if writer.durable else None)

    def bytes_not_stored(self, user: str, remote: str | None, ask: Ask, reason: str) -> Answer:
        """The importer could not keep an upload (a full or failing disk): 507, and the
        attempt counts against the asks for this file, so a round still ends."""
        record = ask.record
        self._bytes_failed(self.session(user), ask, reason)
        self._log(
            user,
            remote,
            None,
            conv.NEED_FILE_DATA,
            kind=ask.offer_kind,
            ident=ask.offer_id,
            camera_id=record.camera_id,
            detail=f"file {record.file_id}: {reason}",
        )
        return refuse(507, f"file {record.file_id}: {reason}; the bytes were not kept")

    def _bytes_failed(self, s: Session, ask: Ask, reason: str) -> None:
        with s.lock:
            s.last_mismatch[ask.record.file_id] = reason
            s.pending.pop(ask.record.file_id, None)
            s.touch(ask.record.file_id, self.clock())

    # ------------------------------------------------------------------ resend requests

    def request_resend(self, entity_id_: str, reason: str = "requested by the user") -> list[str]:
        """Mark an event or file for resend and show it in the import log."""
        mark = self.archive.request_resend(entity_id_, reason)
        self._log(
            mark.received_by or "local",
            None,
            mark.offer,
            conv.RESEND_REQUESTED,
            detail=f"{len(mark.file_ids)} file(s) to fetch again: {reason}",
            message=reason,
        )
        return list(mark.file_ids)

    def resend_list(self, user: str) -> dict:
        offers = self.archive.resend_offers(user)
        return {
            "ids": [o["id"] for o in offers],
            "entities": [{"type": o["kind"], "id": o["id"]} for o in offers],
        }
