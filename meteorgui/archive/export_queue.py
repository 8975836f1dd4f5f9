"""The persisted export queue: what each target is still to receive, and what failed.

A row is (target, entity) with a state: ``queued`` (waiting its turn),
``sending`` (a worker has it; after a crash it simply counts as queued
again) or ``failed`` (the last attempt failed; ``last_error`` says why, and
``retry`` or queueing it again makes it ``queued``). When the target answers
'complete' the row leaves the queue and the entity enters the target's export
history (``export_done``) in the same transaction, so quitting at any moment
and starting again resumes where the export stopped, and nothing counts as
exported before the target said so.

Queueing skips what the target already has, unless ``force`` is set: sending
an exported entity again is a deliberate act.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass

from .. import notify
from .exports import Selection, not_exported_to, select_sql
from .where import execute_for_ids, id_batches

QUEUED, SENDING, FAILED = "queued", "sending", "failed"
STATES = (QUEUED, SENDING, FAILED)
BATCH = 300  # ids per enqueue statement, which binds each id three times

_COLS = (
    "target_id, entity_id, kind, entity_time, state, force, source, attempts, bytes_sent,"
    " last_error, queued_at, updated_at"
)


def _now() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class QueueItem:
    target_id: str
    entity_id: str
    kind: str  # 'event' or 'file'
    entity_time: int
    state: str
    force: bool
    source: str
    attempts: int
    bytes_sent: int
    last_error: str | None
    queued_at: int
    updated_at: int


def _item(row) -> QueueItem:
    r = list(row)
    r[5] = bool(r[5])
    return QueueItem(*r)


# A scheduled rule queues its search at every run; an entity the target refused this
# many times stays failed until the user retries it, so it cannot hold up newer ones.
RULE_ATTEMPTS = 3

# Re-queueing a row that is already there: a failed one goes back in line (by a rule,
# only while it has attempts left), and force only ever turns on. A row being sent is
# left alone.
_UPSERT = (
    " ON CONFLICT (target_id, entity_id) DO UPDATE SET"
    " state = CASE WHEN export_queue.state = 'failed' THEN 'queued' ELSE export_queue.state END,"
    " force = MAX(export_queue.force, excluded.force),"
    " source = CASE WHEN export_queue.state = 'failed' THEN excluded.source"
    "               ELSE export_queue.source END,"
    " updated_at = excluded.updated_at"
    " WHERE (export_queue.state = 'failed' AND (excluded.source NOT LIKE 'rule:%'"
    f"        OR export_queue.attempts < {RULE_ATTEMPTS}))"
    " OR excluded.force > export_queue.force"
)
_INSERT = (
    "INSERT INTO export_queue (target_id, entity_id, kind, entity_time, state, force,"
    " source, queued_at, updated_at)"
)


class ExportQueue:
    def __init__(self, archive):
        self.archive = archive

    # ------------------------------------------------------------------ queueing

    def enqueue_selection(
        self,
        target_id: str,
        sel: Selection,
        *,
        now_ms: int | None = None,
        force: bool = False,
        source: str = "manual",
    ) -> int:
        """Queue every entity of a search (skipping exported ones unless ``force``).

        Returns how many rows were added or put back in line. One statement,
        however large the archive.
        """
        t = _now()
        with self.archive.db.write() as conn:
            sql, args = select_sql(
                conn, sel, now_ms if now_ms is not None else t, None if force else target_id
            )
            before = conn.total_changes
            conn.execute(
                f"{_INSERT} SELECT ?, id, kind, t, 'queued', ?, ?, ?, ? FROM ({sql})"
                f" WHERE true{_UPSERT}",
                (target_id, int(force), source, t, t, *args),
            )
            n = conn.total_changes - before
        return self._changed(target_id, "queued", n)

    def enqueue_ids(
        self, target_id: str, ids: Iterable[str], *, force: bool = False, source: str = "manual"
    ) -> int:
        """Queue events or standalone files by id (a file of an event queues its event).

        Ids the archive does not hold are ignored. Returns how many rows were
        added or put back in line.
        """
        ids = list(dict.fromkeys(ids))
        t = _now()
        n = 0
        with self.archive.db.write() as conn:
            for chunk, marks in id_batches(ids, BATCH):
                found = (
                    f"SELECT 'event' AS kind, event_id AS id, event_time AS t FROM events"
                    f" WHERE event_id IN ({marks})"
                    f" UNION SELECT 'file', file_id, file_time FROM files"
                    f" WHERE event_id IS NULL AND file_id IN ({marks})"
                    f" UNION SELECT 'event', e.event_id, e.event_time FROM files f"
                    f" JOIN events e ON e.event_id = f.event_id WHERE f.file_id IN ({marks})"
                )
                where = "true"
                extra: tuple = ()
                if not force:
                    f = not_exported_to(target_id, "id")
                    where, extra = f.sql, f.args
                before = conn.total_changes
                conn.execute(
                    f"{_INSERT} SELECT ?, id, kind, t, 'queued', ?, ?, ?, ? FROM ({found})"
                    f" WHERE {where}{_UPSERT}",
                    (target_id, int(force), source, t, t, *chunk, *chunk, *chunk, *extra),
                )
                n += conn.total_changes - before
        return self._changed(target_id, "queued", n)

    # ------------------------------------------------------------------ the worker's side

    def reset_sending(self, target_id: str) -> int:
        """Put rows a dead worker had claimed back in line (call holding the target's lock)."""
        with self.archive.db.write() as conn:
            return conn.execute(
                "UPDATE export_queue SET state = 'queued'"
                " WHERE target_id = ? AND state = 'sending'",
                (target_id,),
            ).rowcount

    def claim_next(self, target_id: str) -> QueueItem | None:
        """The oldest queued entity for this target, marked 'sending'."""
        with self.archive.db.write() as conn:
            row = conn.execute(
                f"SELECT {_COLS} FROM export_queue WHERE target_id = ? AND state = 'queued'"
                " ORDER BY entity_time, entity_id LIMIT 1",
                (target_id,),
            ).fetchone()
            if row is None:
                return None
            t = _now()
            conn.execute(
                "UPDATE export_queue SET state = 'sending', attempts = attempts + 1,"
                " updated_at = ? WHERE target_id = ? AND entity_id = ?",
                (t, target_id, row[1]),
            )
        item = _item(row)
        return dataclasses.replace(item, state=SENDING, attempts=item.attempts + 1, updated_at=t)

    def complete(self, item: QueueItem, bytes_sent: int) -> None:
        """The target answered 'complete': into the history, out of the queue, atomically."""
        t = _now()
        with self.archive.db.write() as conn:
            conn.execute(
                "DELETE FROM export_queue WHERE target_id = ? AND entity_id = ?",
                (item.target_id, item.entity_id),
            )
            conn.execute(
                "INSERT INTO export_done (target_id, entity_id, kind, completed_at, bytes_sent)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (target_id, entity_id) DO UPDATE SET"
                " completed_at = excluded.completed_at, bytes_sent = excluded.bytes_sent,"
                " times = export_done.times + 1",
                (item.target_id, item.entity_id, item.kind, t, bytes_sent),
            )
        exported = notify.Exported(item.target_id, item.entity_id, item.kind)
        self.archive.hub.publish(notify.CHANGED, exported)

    def fail(self, item: QueueItem, message: str, bytes_sent: int = 0) -> None:
        self._set(item, FAILED, message, bytes_sent)

    def release(self, item: QueueItem, message: str | None = None, bytes_sent: int = 0) -> None:
        """Back in line, not the entity's fault (cancelled, target unreachable)."""
        self._set(item, QUEUED, message, bytes_sent)

    def _set(self, item: QueueItem, state: str, message: str | None, bytes_sent: int) -> None:
        with self.archive.db.write() as conn:
            conn.execute(
                "UPDATE export_queue SET state = ?, last_error = COALESCE(?, last_error),"
                " bytes_sent = bytes_sent + ?, updated_at = ? WHERE target_id = ?"
                " AND entity_id = ?",
                (state, message, bytes_sent, _now(), item.target_id, item.entity_id),
            )

    def drop(self, item: QueueItem) -> None:
        with self.archive.db.write() as conn:
            n = conn.execute(
                "DELETE FROM export_queue WHERE target_id = ? AND entity_id = ?",
                (item.target_id, item.entity_id),
            ).rowcount
        self._changed(item.target_id, "removed", n)

    # ------------------------------------------------------------------ what the GUI shows

    def items(
        self,
        target_id: str | None = None,
        states: Iterable[str] | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[QueueItem]:
        """Queue rows, oldest entity first: per-entity state, attempts, last error."""
        clauses, args = [], []
        if target_id is not None:
            clauses.append("target_id = ?")
            args.append(target_id)
        if states is not None:
            states = list(states)
            clauses.append(f"state IN ({','.join('?' * len(states))})")
            args.extend(states)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self.archive.db.read().execute(
            f"SELECT {_COLS} FROM export_queue{where} ORDER BY entity_time, entity_id"
            " LIMIT ? OFFSET ?",
            (*args, int(limit), int(offset)),
        )
        return [_item(r) for r in rows]

    def get(self, target_id: str, entity_id: str) -> QueueItem | None:
        row = (
            self.archive.db.read()
            .execute(
                f"SELECT {_COLS} FROM export_queue WHERE target_id = ? AND entity_id = ?",
                (target_id, entity_id),
            )
            .fetchone()
        )
        return None if row is None else _item(row)

    def counts(self, target_id: str) -> dict[str, int]:
        """{'queued': n, 'sending': n, 'failed': n} for one target."""
        out = dict.fromkeys(STATES, 0)
        rows = self.archive.db.read().execute(
            "SELECT state, COUNT(*) FROM export_queue WHERE target_id = ? GROUP BY state",
            (target_id,),
        )
        out.update(dict(rows.fetchall()))
        return out

    def pending(self, target_id: str) -> int:
        c = self.counts(target_id)
        return c[QUEUED] + c[SENDING]

    def retry(self, target_id: str, ids: Iterable[str] | None = None) -> int:
        """Failed rows (all, or these ids) back in line."""
        return self._update_failed(target_id, ids, "UPDATE export_queue SET state = 'queued'")

    def remove(
        self,
        target_id: str,
        ids: Iterable[str] | None = None,
        states: Iterable[str] = (QUEUED, FAILED),
    ) -> int:
        """Take rows out of the queue (not those being sent)."""
        states = [s for s in states if s != SENDING]
        marks = ",".join("?" * len(states))
        with self.archive.db.write() as conn:
            n = execute_for_ids(
                conn,
                f"DELETE FROM export_queue WHERE target_id = ? AND state IN ({marks})",
                (target_id, *states),
                "entity_id",
                ids,
            )
        return self._changed(target_id, "removed", n)

    def _update_failed(self, target_id: str, ids, update: str) -> int:
        with self.archive.db.write() as conn:
            n = execute_for_ids(
                conn,
                f"{update}, updated_at = ? WHERE target_id = ? AND state = 'failed'",
                (_now(), target_id),
                "entity_id",
                ids,
            )
        return self._changed(target_id, "retried", n)

    def _changed(self, target_id: str, how: str, n: int) -> int:
        """Publish a change of the queue made outside a round (after its commit); a
        round's own claims, failures and releases are told by its progress events."""
        if n:
            self.archive.hub.publish(notify.CHANGED, notify.QueueChanged(target_id, how, n))
        return n
