"""The import log: every import conversation and each of its steps, persisted."""

from __future__ import annotations

import time
from dataclasses import dataclass

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


def _row(r) -> Conversation:
    return Conversation(*r[:11], bool(r[11]), r[12])


class Conversations:
    def __init__(self, db: Database):
        self._db = db

    def record(self, **entry) -> Conversation:
        """Add a step to the open conversation about this entity, opening one if needed.

        Arguments: user, kind, entity_id, state, and optionally camera_id,
        remote_addr, detail, bytes_added, attempts, message.
        """
        return self.record_many([entry])[0]

    def record_many(self, entries: list[dict]) -> list[Conversation]:
        """Record several steps in one transaction; returns each updated conversation."""
        with self._db.write(durable=False) as conn:
            return [self._record(conn, **e) for e in entries]

    @staticmethod
    def _record(
        conn,
        *,
        user: str,
        kind: str,
        entity_id: str,
        state: str,
        camera_id: str | None = None,
        remote_addr: str | None = None,
        detail: str | None = None,
        bytes_added: int = 0,
        attempts: int | None = None,
        message: str | None = None,
        at: int | None = None,
    ) -> Conversation:
        t = at if at is not None else int(time.time() * 1000)
        final = state in FINAL_STATES
        row = conn.execute(
            "SELECT id FROM conversations WHERE user = ? AND entity_id = ? AND final = 0"
            " ORDER BY id DESC LIMIT 1",
            (user, entity_id),
        ).fetchone()
        if row is None:
            conv_id = conn.execute(
                "INSERT INTO conversations (user, remote_addr, kind, entity_id, camera_id,"
                " state, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (user, remote_addr, kind, entity_id, camera_id, state, t, t),
            ).lastrowid
        else:
            conv_id = row[0]
        conn.execute(
            "UPDATE conversations SET state = ?, updated_at = ?, bytes = bytes + ?,"
            " attempts = COALESCE(?, attempts), final = ?, message = COALESCE(?, message),"
            " remote_addr = COALESCE(?, remote_addr), camera_id = COALESCE(camera_id, ?)"
            " WHERE id = ?",
            (state, t, bytes_added, attempts, int(final), message, remote_addr, camera_id,
             conv_id),
        )
        conn.execute(
            "INSERT INTO conversation_steps (conversation_id, at, state, detail)"
            " VALUES (?, ?, ?, ?)",
            (conv_id, t, state, detail),
        )
        return _row(conn.execute(f"SELECT {_COLS} FROM conversations WHERE id = ?",
                                 (conv_id,)).fetchone())

    def get(self, conv_id: int) -> Conversation | None:
        r = self._db.read().execute(
            f"SELECT {_COLS} FROM conversations WHERE id = ?", (conv_id,)
        ).fetchone()
        return None if r is None else _row(r)

    def recent(self, limit: int = 500, problems_only: bool = False,
               since: int | None = None) -> list[Conversation]:
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

    def counts_since(self, since: int) -> dict[str, int]:
        """complete / failed / pending conversations updated since a time."""
        rows = self._db.read().execute(
            "SELECT state, COUNT(*) FROM conversations WHERE updated_at >= ? GROUP BY state",
            (since,),
        )
        out = {"complete": 0, "failed": 0, "pending": 0}
        for state, n in rows:
            key = state if state in ("complete", "failed") else "pending"
            out[key] += n
        return out
