"""The import log: every import conversation and each of its steps, persisted."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .db import Database

# States a conversation can be in, as the GUI shows them.
RECEIVING = "receiving"
NEED_STATUS = "need_status"
NEED_FILE_DATA = "need_file_data"
COMPLETE = "complete"
FAILED = "failed"
RESEND_REQUESTED = "resend_requested"
STATES = (RECEIVING, NEED_STATUS, NEED_FILE_DATA, COMPLETE, FAILED, RESEND_REQUESTED)
FINAL_STATES = (COMPLETE, FAILED)
# An open conversation with no step for this long: the camera stopped talking.
STUCK_AFTER_MS = 3 * 60_000

# A failed conversation ``c`` whose entity the same user delivered afterwards: it no
# longer counts as a failure (the conversations_entity_state index finds it at once,
# however often that entity failed).
MADE_GOOD = (
    "c.state = 'failed' AND EXISTS (SELECT 1 FROM conversations later"
    " WHERE later.user = c.user AND later.entity_id = c.entity_id"
    " AND later.state = 'complete' AND later.kind = c.kind AND later.id > c.id)"
)

_COLS = (
    "id, user, remote_addr, kind, entity_id, camera_id, state, started_at, updated_at,"
    " bytes, attempts, final, message"
)


@dataclass(frozen=True)
class Conversation:
    id: int
    user: str
    remote_addr: str | None
    kind: str
    entity_id: str
    camera_id: str | None
    state: str
    started_at: int
    updated_at: int
    bytes: int
    attempts: int
    final: bool
    message: str | None

    @property
    def is_problem(self) -> bool:
        return self.state in (FAILED, RESEND_REQUESTED) or self.attempts > 1


@dataclass(frozen=True)
class Step:
    at: int
    state: str
    detail: str | None


def _row(r: Any) -> Conversation:
    # The first eleven columns are the fields before final and message.
    return Conversation(*r[:11], bool(r[11]), r[12])  # type: ignore[call-arg]


class _Run:
    """Consecutive steps about one conversation, folded into one update."""

    def __init__(self, key: tuple[str, str], kind: str, fresh: bool):
        self.key = key
        self.kind = kind
        # After a final step about the same entity in this batch: a new conversation.
        self.fresh = fresh
        self.steps: list[tuple[int, str, str | None]] = []
        self.bytes = 0
        self.attempts: int | None = None
        self.message: str | None = None
        self.remote_addr: str | None = None
        self.camera_id: str | None = None
        self.final = False
        self.conv_id: int | None = None
        self.row: Any = None  # the conversation's row once written

    def add(self, e: dict) -> None:
        t = e.get("at")
        self.steps.append(
            (int(time.time() * 1000) if t is None else t, e["state"], e.get("detail"))
        )
        self.bytes += e.get("bytes_added", 0)
        # As in one UPDATE per step: the latest value given wins, camera_id the first.
        if e.get("attempts") is not None:
            self.attempts = e["attempts"]
        if e.get("message") is not None:
            self.message = e["message"]
        if e.get("remote_addr") is not None:
            self.remote_addr = e["remote_addr"]
        if self.camera_id is None:
            self.camera_id = e.get("camera_id")
        self.final = e["state"] in FINAL_STATES

    def write(self, conn) -> None:
        user, entity_id = self.key
        first_at = self.steps[0][0]
        last_at, state, _ = self.steps[-1]
        row = (
            None
            if self.fresh
            else conn.execute(
                "SELECT id FROM conversations WHERE user = ? AND entity_id = ? AND final = 0"
                " ORDER BY id DESC LIMIT 1",
                (user, entity_id),
            ).fetchone()
        )
        if row is None:
            # A new conversation is inserted as its steps leave it, and comes back with
            # its insert (RETURNING): the values the update below gives an open one.
            self.row = conn.execute(
                "INSERT INTO conversations (user, remote_addr, kind, entity_id, camera_id,"
                " state, started_at, updated_at, bytes, attempts, final, message)"
                f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLS}",
                (
                    user,
                    self.remote_addr,
                    self.kind,
                    entity_id,
                    self.camera_id,
                    state,
                    first_at,
                    last_at,
                    self.bytes,
                    0 if self.attempts is None else self.attempts,
                    int(self.final),
                    self.message,
                ),
            ).fetchall()[0]
        else:
            # The row as updated comes back with the update (for the hub), not read again.
            self.row = conn.execute(
                "UPDATE conversations SET state = ?, updated_at = ?, bytes = bytes + ?,"
                " attempts = COALESCE(?, attempts), final = ?, message = COALESCE(?, message),"
                " remote_addr = COALESCE(?, remote_addr), camera_id = COALESCE(camera_id, ?)"
                f" WHERE id = ? RETURNING {_COLS}",
                (
                    state,
                    last_at,
                    self.bytes,
                    self.attempts,
                    int(self.final),
                    self.message,
                    self.remote_addr,
                    self.camera_id,
                    row[0],
                ),
            ).fetchall()[0]
        self.conv_id = self.row[0]
        conn.executemany(
            "INSERT INTO conversation_steps (conversation_id, at, state, detail)"
            " VALUES (?, ?, ?, ?)",
            [(self.conv_id, *step) for step in self.steps],
        )


class Conversations:
    def __init__(self, db: Database):
        self._db = db

    def record(self, **entry) -> Conversation:
        """Add a step to the open conversation about this entity, opening one if needed.

        Arguments: user, kind, entity_id, state, and optionally camera_id,
        remote_addr, detail, bytes_added, attempts, message, at (ms).
        """
        return self.record_many([entry])[0]

    def record_many(self, entries: list[dict]) -> list[Conversation]:
        """Record several steps in one transaction; returns each conversation they touched.

        Steps about the same conversation are folded into one update (the same
        result as recording them one by one, in far fewer statements); every
        step is kept in ``conversation_steps``. Each touched conversation is
        returned once, in its final state, in the order it was first touched.
        """
        runs: list[_Run] = []
        closed: set[tuple[str, str]] = set()
        current: dict[tuple[str, str], _Run] = {}
        for e in entries:
            key = (e["user"], e["entity_id"])
            run = current.get(key)
            if run is None:
                run = current[key] = _Run(key, e["kind"], fresh=key in closed)
                runs.append(run)
            run.add(e)
            if run.final:  # the next step about this entity opens a new conversation
                del current[key]
                closed.add(key)
        with self._db.write(durable=False) as conn:
            for run in runs:
                run.write(conn)
        return [_row(run.row) for run in runs]

    def addresses(self, user: str) -> set[str]:
        """The addresses this user has imported from (each conversation records one)."""
        rows = self._db.read().execute(
            "SELECT DISTINCT remote_addr FROM conversations"
            " WHERE user = ? AND remote_addr IS NOT NULL",
            (user,),
        )
        return {r[0] for r in rows}

    def get(self, conv_id: int) -> Conversation | None:
        r = (
            self._db.read()
            .execute(f"SELECT {_COLS} FROM conversations WHERE id = ?", (conv_id,))
            .fetchone()
        )
        return None if r is None else _row(r)

    def recent(
        self, limit: int = 500, problems_only: bool = False, since: int | None = None
    ) -> list[Conversation]:
        clauses = []
        args: list = []
        if problems_only:
            clauses.append("(state IN (?, ?) OR attempts > 1)")
            args += [FAILED, RESEND_REQUESTED]
        if since is not None:
            clauses.append("updated_at >= ?")
            args.append(since)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._db.read().execute(
            f"SELECT {_COLS} FROM conversations{where} ORDER BY updated_at DESC, id DESC LIMIT ?",
            (*args, limit),
        )
        return [_row(r) for r in rows]

    def steps(self, conv_id: int) -> list[Step]:
        rows = self._db.read().execute(
            "SELECT at, state, detail FROM conversation_steps WHERE conversation_id = ?"
            " ORDER BY at, rowid",
            (conv_id,),
        )
        return [Step(*r) for r in rows]

    def counts_since(self, since: int, now: int | None = None) -> dict[str, int]:
        """Conversations updated since a time: complete, failed, pending (going on) and
        stuck (open with no step for STUCK_AFTER_MS). A failure made good later (the same
        user's next conversation about the entity completed) is not counted as failed."""
        now = int(time.time() * 1000) if now is None else now
        rows = self._db.read().execute(
            "SELECT CASE WHEN state IN (?, ?) THEN state"
            " WHEN final = 0 AND state != ? AND updated_at < ? THEN 'stuck'"
            " ELSE 'pending' END AS k, COUNT(*) FROM conversations c"
            f" WHERE updated_at >= ? AND NOT ({MADE_GOOD}) GROUP BY k",
            (COMPLETE, FAILED, RESEND_REQUESTED, now - STUCK_AFTER_MS, since),
        )
        out = {"complete": 0, "failed": 0, "pending": 0, "stuck": 0}
        out.update(dict(rows.fetchall()))
        return out


RECOVERED = (
    "recovered at start: archived, but the importer stopped before its import log was written"
)
# Entities archived last (by row order) that reconcile() looks at: a crash loses at most
# the steps of the last moments, so the whole archive need not be read at every start.
RECONCILE_RECENT = 10_000


def reconcile(db: Database, recent: int = RECONCILE_RECENT) -> tuple[int, int]:
    """Repair the import log after a crash (kill -9, power loss): entities are committed
    before the importer answers, their log steps a moment later.

    Open conversations whose entity is archived are closed as complete (not those waiting
    for a resend: their files are still wanted). Entities archived over the protocol
    with no conversation at all get one, marked recovered. Returns (closed, recorded).
    """
    now = int(time.time() * 1000)
    with db.write(durable=False) as conn:
        open_rows = conn.execute(
            "SELECT id, kind, entity_id FROM conversations WHERE state IN (?, ?, ?) AND final = 0",
            (RECEIVING, NEED_STATUS, NEED_FILE_DATA),
        ).fetchall()
        closed = []
        for conv_id, kind, entity_id in open_rows:
            table, column = _ENTITY_TABLES.get(kind, (None, None))
            if table is None:
                continue
            if not conn.execute(
                f"SELECT 1 FROM {table} WHERE {column} = ?", (entity_id,)
            ).fetchone():
                continue
            if conn.execute(
                "SELECT 1 FROM resend_files WHERE offer_id = ? LIMIT 1", (entity_id,)
            ).fetchone():
                continue
            closed.append((conv_id, entity_id))
        for conv_id, _ in closed:
            conn.execute(
                "UPDATE conversations SET state = ?, final = 1, updated_at = ? WHERE id = ?",
                (COMPLETE, now, conv_id),
            )
            conn.execute(
                "INSERT INTO conversation_steps (conversation_id, at, state, detail)"
                " VALUES (?, ?, ?, ?)",
                (conv_id, now, COMPLETE, RECOVERED),
            )
        orphans = []
        for kind, sql in _RECENT_ENTITIES:
            rows = conn.execute(sql, (recent,)).fetchall()
            for entity_id, camera_id, received_at, user in rows:
                if conn.execute(
                    "SELECT 1 FROM conversations WHERE user = ? AND entity_id = ? LIMIT 1",
                    (user, entity_id),
                ).fetchone():
                    continue
                orphans.append((kind, entity_id, camera_id, received_at, user))
        for kind, entity_id, camera_id, received_at, user in orphans:
            conv_id = conn.execute(
                "INSERT INTO conversations (user, kind, entity_id, camera_id, state, started_at,"
                " updated_at, final) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                (user, kind, entity_id, camera_id, COMPLETE, received_at, received_at),
            ).lastrowid
            conn.execute(
                "INSERT INTO conversation_steps (conversation_id, at, state, detail)"
                " VALUES (?, ?, ?, ?)",
                (conv_id, received_at, COMPLETE, RECOVERED),
            )
    return len(closed), len(orphans)


_RECENT_ENTITIES = (
    (
        "event",
        "SELECT event_id, camera_id, received_at, received_by FROM events"
        " WHERE rowid > (SELECT IFNULL(MAX(rowid), 0) FROM events) - ?"
        " AND received_by IS NOT NULL",
    ),
    (
        "file",
        "SELECT file_id, camera_id, received_at, received_by FROM files"
        " WHERE rowid > (SELECT IFNULL(MAX(rowid), 0) FROM files) - ?"
        " AND event_id IS NULL AND received_by IS NOT NULL",
    ),
)
_ENTITY_TABLES = {
    "event": ("events", "event_id"),
    "file": ("files", "file_id"),
    "status": ("statuses", "status_id"),
}
