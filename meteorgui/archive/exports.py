"""Export history and export searches, as queries over the archive (tables of migration 3).

* ``ExportHistory(archive).exported_to(target_id, ids)``: which of these
  events/files a target has answered 'complete' for (a browser's badge).
* ``not_exported_to(target_id)``: a WHERE fragment, "not yet exported to X",
  for any query whose rows carry an entity id column (``event_summary``,
  ``events``, ``files``).
* ``Selection``: what an export sends (camera, time, event type, review
  state, age; events and/or standalone files); ``select_sql`` turns it into
  one SELECT of ``(kind, entity_id, entity_time)`` rows.

The review filter reads the ``reviews`` table (migration 2); in an archive
without it, nothing is reviewed.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import notify
from ..errors import MeteorguiError
from .where import camera_and_time, execute_for_ids, id_batches

UNREVIEWED = "unreviewed"
REVIEWED = "reviewed"


class SqlFilter(NamedTuple):
    """A WHERE fragment and its arguments: ``f"... WHERE {f.sql}"``, ``args + f.args``."""

    sql: str
    args: tuple


def not_exported_to(target_id: str, id_column: str = "event_id") -> SqlFilter:
    """Rows whose ``id_column`` the target has not answered 'complete' for.

    An index lookup per row (export_done's primary key), so it is cheap as one
    more filter of a paged browser query.
    """
    if not id_column.replace("_", "").replace(".", "").isalnum():
        raise ValueError(f"not a column name: {id_column!r}")
    return SqlFilter(
        f"NOT EXISTS (SELECT 1 FROM export_done xd WHERE xd.target_id = ?"
        f" AND xd.entity_id = {id_column})",
        (target_id,),
    )


def exported_to_sql(target_id: str, id_column: str = "event_id") -> SqlFilter:
    """The opposite of ``not_exported_to``."""
    f = not_exported_to(target_id, id_column)
    return SqlFilter(f.sql[len("NOT ") :], f.args)


@dataclass(frozen=True)
class ExportRecord:
    target_id: str
    entity_id: str
    kind: str
    completed_at: int  # ms, the last 'complete'
    bytes_sent: int  # file bytes uploaded by the last successful send
    times: int  # how many times the target answered 'complete' (forced resends included)


class ExportHistory:
    """What each export target has accepted. Reads on the caller's thread."""

    def __init__(self, archive):
        self.archive = archive

    def _conn(self) -> sqlite3.Connection:
        return self.archive.db.read()

    def exported_to(self, target_id: str, ids: Iterable[str]) -> set[str]:
        """The subset of ``ids`` (events or files) the target answered 'complete' for."""
        ids = list(dict.fromkeys(ids))
        out: set[str] = set()
        conn = self._conn()
        for chunk, marks in id_batches(ids):
            rows = conn.execute(
                f"SELECT entity_id FROM export_done WHERE target_id = ? AND entity_id IN ({marks})",
                (target_id, *chunk),
            )
            out.update(r[0] for r in rows)
        return out

    def not_exported_to(self, target_id: str, id_column: str = "event_id") -> SqlFilter:
        return not_exported_to(target_id, id_column)

    def exports_of(self, entity_id: str) -> list[ExportRecord]:
        """Every target this entity went to, most recent first."""
        rows = self._conn().execute(
            "SELECT target_id, entity_id, kind, completed_at, bytes_sent, times FROM export_done"
            " WHERE entity_id = ? ORDER BY completed_at DESC",
            (entity_id,),
        )
        return [ExportRecord(*r) for r in rows]

    def count(self, target_id: str, kind: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM export_done WHERE target_id = ?"
        args: tuple = (target_id,)
        if kind is not None:
            sql += " AND kind = ?"
            args += (kind,)
        return self._conn().execute(sql, args).fetchone()[0]

    def records(self, target_id: str, limit: int = 100, offset: int = 0) -> list[ExportRecord]:
        rows = self._conn().execute(
            "SELECT target_id, entity_id, kind, completed_at, bytes_sent, times FROM export_done"
            " WHERE target_id = ? ORDER BY completed_at DESC LIMIT ? OFFSET ?",
            (target_id, int(limit), int(offset)),
        )
        return [ExportRecord(*r) for r in rows]

    def forget(self, target_id: str, ids: Iterable[str] | None = None) -> int:
        """Drop history (all of a target's, or some ids), so a normal export sends them again."""
        ids = None if ids is None else tuple(dict.fromkeys(ids))
        with self.archive.db.write() as conn:
            n = execute_for_ids(
                conn, "DELETE FROM export_done WHERE target_id = ?", (target_id,), "entity_id", ids
            )
        if n:
            forgotten = notify.HistoryForgotten(target_id, ids, n)
            self.archive.hub.publish(notify.CHANGED, forgotten)
        return n


# --------------------------------------------------------------------------- searches


class SelectionError(MeteorguiError, ValueError):
    """A search that cannot be run; the message says which field is wrong."""


@dataclass(frozen=True)
class Selection:
    """What to export. Every field narrows; the default is every event and standalone file.

    ``event_type`` and ``review`` concern events only, so setting either leaves
    standalone (time-lapse) files out. ``review`` is ``'unreviewed'``,
    ``'reviewed'`` or one label. Ages are seconds before "now" (the caller's
    clock): ``max_age_s`` keeps what is at most that old, ``min_age_s`` what is
    at least that old (e.g. leave a night for review before it goes out).
    """

    camera_id: str | None = None
    after: int | None = None  # ms, inclusive
    before: int | None = None  # ms, exclusive
    event_type: str | None = None
    review: str | None = None
    max_age_s: int | None = None
    min_age_s: int | None = None
    events: bool = True
    files: bool = True

    def __post_init__(self) -> None:
        if not (self.events or self.files):
            raise SelectionError("a selection must include events, files or both")
        for name in ("max_age_s", "min_age_s"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise SelectionError(f"{name} must be a whole number of seconds >= 0")
        if self.review is not None and not (isinstance(self.review, str) and self.review):
            raise SelectionError("review must be 'unreviewed', 'reviewed' or a label")

    @property
    def includes_files(self) -> bool:
        return self.files and self.event_type is None and self.review is None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Selection:
        try:
            d: Any = json.loads(text)
        except ValueError:
            raise SelectionError("the saved search is not valid JSON") from None
        if not isinstance(d, dict):
            raise SelectionError("the saved search is not a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def has_reviews(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reviews'"
    ).fetchone()
    return row is not None


def select_sql(
    conn: sqlite3.Connection,
    sel: Selection,
    now_ms: int | None = None,
    not_exported: str | None = None,
) -> tuple[str, list]:
    """One SELECT of ``(kind, entity_id, entity_time)`` for the selection.

    ``now_ms`` is required when the selection has an age bound.
    ``not_exported`` (a target id) leaves out what that target already has.
    """
    if (sel.max_age_s is not None or sel.min_age_s is not None) and now_ms is None:
        raise SelectionError("an age bound needs the current time")
    parts: list[str] = []
    args: list = []
    if sel.events:
        where, wargs = _common(sel, "e.event_time", "e.camera_id", now_ms)
        if sel.event_type is not None:
            where.append("e.event_type = ?")
            wargs.append(sel.event_type)
        if sel.review is not None:
            where.append(_review_clause(conn, sel.review, wargs))
        if not_exported is not None:
            f = not_exported_to(not_exported, "e.event_id")
            where.append(f.sql)
            wargs.extend(f.args)
        parts.append(
            "SELECT 'event' AS kind, e.event_id AS id, e.event_time AS t FROM events e"
            + (" WHERE " + " AND ".join(where) if where else "")
        )
        args.extend(wargs)
    if sel.includes_files:
        where, wargs = _common(sel, "f.file_time", "f.camera_id", now_ms)
        where.insert(0, "f.event_id IS NULL")
        if not_exported is not None:
            f = not_exported_to(not_exported, "f.file_id")
            where.append(f.sql)
            wargs.extend(f.args)
        parts.append(
            "SELECT 'file' AS kind, f.file_id AS id, f.file_time AS t FROM files f WHERE "
            + " AND ".join(where)
        )
        args.extend(wargs)
    if not parts:
        return "SELECT 'event' AS kind, NULL AS id, NULL AS t WHERE 0", []
    return " UNION ALL ".join(parts), args


def count(
    archive, sel: Selection, now_ms: int | None = None, not_exported: str | None = None
) -> int:
    conn = archive.db.read()
    sql, args = select_sql(conn, sel, now_ms, not_exported)
    return conn.execute(f"SELECT COUNT(*) FROM ({sql})", args).fetchone()[0]


def scope_counts(archive, sel: Selection, now_ms: int, target_id: str) -> tuple[int, int]:
    """``(matching, of which the target has)``: what an export of ``sel`` would cover."""
    total = count(archive, sel, now_ms)
    return total, total - count(archive, sel, now_ms, not_exported=target_id)


def entities(
    archive, sel: Selection, now_ms: int | None = None, not_exported: str | None = None
) -> list[tuple[str, str, int]]:
    """``(kind, entity_id, entity_time)`` of the selection, oldest first."""
    conn = archive.db.read()
    sql, args = select_sql(conn, sel, now_ms, not_exported)
    return [tuple(r) for r in conn.execute(f"SELECT * FROM ({sql}) ORDER BY 3, 2", args)]


def _common(sel: Selection, time_col: str, camera_col: str, now_ms: int | None):
    where, args = camera_and_time(camera_col, time_col, sel.camera_id, sel.after, sel.before)
    if sel.max_age_s is not None:
        assert now_ms is not None  # select_sql refuses an age bound without it
        where.append(f"{time_col} >= ?")
        args.append(now_ms - sel.max_age_s * 1000)
    if sel.min_age_s is not None:
        assert now_ms is not None
        where.append(f"{time_col} <= ?")
        args.append(now_ms - sel.min_age_s * 1000)
    return where, args


def _review_clause(conn: sqlite3.Connection, review: str, args: list) -> str:
    if not has_reviews(conn):
        # No reviews table yet (an archive before migration 2): nothing is reviewed.
        return "1" if review == UNREVIEWED else "0"
    if review == UNREVIEWED:
        return "NOT EXISTS (SELECT 1 FROM reviews r WHERE r.event_id = e.event_id)"
    if review == REVIEWED:
        return "EXISTS (SELECT 1 FROM reviews r WHERE r.event_id = e.event_id)"
    args.append(review)
    return "EXISTS (SELECT 1 FROM reviews r WHERE r.event_id = e.event_id AND r.label = ?)"
