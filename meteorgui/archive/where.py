"""WHERE clauses shared by the archive's listings, browsing and export selections."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence

# Ids per IN (...) list: well under the 999 bound variables older SQLite builds allow.
ID_BATCH = 500


def id_batches(ids: Iterable[str], size: int = ID_BATCH) -> Iterator[tuple[list[str], str]]:
    """The ids in batches, each with the ``?,?,...`` placeholders of its IN (...) list."""
    ids = ids if isinstance(ids, list) else list(ids)
    for i in range(0, len(ids), size):
        chunk = ids[i : i + size]
        yield chunk, ",".join("?" * len(chunk))


def execute_for_ids(
    conn: sqlite3.Connection,
    sql: str,
    args: Sequence,
    column: str,
    ids: Iterable[str] | None,
    suffix: str = "",
) -> int:
    """Run a write ending in a WHERE clause on every row it matches (``ids`` None), or
    only on rows whose ``column`` is one of ``ids``; ``suffix`` follows the WHERE clause.
    Returns how many rows changed."""
    if ids is None:
        return conn.execute(sql + suffix, args).rowcount
    return sum(
        conn.execute(f"{sql} AND {column} IN ({marks}){suffix}", (*args, *chunk)).rowcount
        for chunk, marks in id_batches(ids)
    )


def camera_and_time(
    camera_col: str, time_col: str, camera_id: str | None, after: int | None, before: int | None
) -> tuple[list[str], list]:
    """Clauses (joined with AND by the caller) and their arguments: one camera, and
    a time range from ``after`` (included) to ``before`` (excluded); None = any."""
    clauses: list[str] = []
    args: list = []
    if camera_id is not None:
        clauses.append(f"{camera_col} = ?")
        args.append(camera_id)
    if after is not None:
        clauses.append(f"{time_col} >= ?")
        args.append(after)
    if before is not None:
        clauses.append(f"{time_col} < ?")
        args.append(before)
    return clauses, args
