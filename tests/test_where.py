"""Shared SQL helpers: ids in IN (...) batches, and writes on all rows or some ids."""

import sqlite3

from meteorgui.archive.where import ID_BATCH, execute_for_ids, id_batches


def _table(n: int) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (owner TEXT, id TEXT, state TEXT)")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, 'new')", [("a" if i % 2 else "b", f"id{i}") for i in range(n)]
    )
    return conn


def test_batches_cover_every_id_once_with_matching_placeholders():
    ids = [f"id{i}" for i in range(2 * ID_BATCH + 3)]
    batches = list(id_batches(iter(ids)))
    assert [len(chunk) for chunk, _ in batches] == [ID_BATCH, ID_BATCH, 3]
    assert [i for chunk, _ in batches for i in chunk] == ids
    assert all(marks.count("?") == len(chunk) for chunk, marks in batches)
    assert list(id_batches([])) == []


def test_a_write_on_some_ids_crosses_batches_and_keeps_the_other_clauses():
    conn = _table(3 * ID_BATCH)
    wanted = [f"id{i}" for i in range(2 * ID_BATCH + 10)]
    n = execute_for_ids(conn, "UPDATE t SET state = 'done' WHERE owner = ?", ("a",), "id", wanted)
    expected = {i for i in wanted if int(i[2:]) % 2}
    assert n == len(expected)
    done = {r[0] for r in conn.execute("SELECT id FROM t WHERE state = 'done'")}
    assert done == expected


def test_no_ids_means_every_matching_row_and_an_empty_list_means_none():
    conn = _table(10)
    assert execute_for_ids(conn, "DELETE FROM t WHERE owner = ?", ("b",), "id", []) == 0
    assert execute_for_ids(conn, "DELETE FROM t WHERE owner = ?", ("b",), "id", None) == 5
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 5
