"""The browser's text search as FTS5 reads it (meteorgui/archive/search.py, migration 13):
words ending in a one-character token, and archives upgraded to the index that reads them
from a prefix index."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

from meteorgui.archive import Archive, browse, search
from meteorgui.model import Meta
from tests.test_browse import NIGHT1, Maker, ids

ARCHIVES = Path(__file__).resolve().parent / "data" / "archives"
# Words whose last token is one character ("1.5": "1" then a prefix "5"), a word of one
# character, and others beside them, as typed in the browser.
TEXTS = ["1.5", "0.9", "2.1", "5", "e", "b", "site b", "duration 1.5", "note=b", "1.52", "x.y"]


def _matches(conn: sqlite3.Connection, text: str) -> set[int]:
    clauses, args = search.clauses(text, False, conn)
    sql = "SELECT seq FROM event_summary WHERE " + " AND ".join(clauses)
    return {r[0] for r in conn.execute(sql, args)}


def _segments(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(DISTINCT segid) FROM event_summary_fts_idx").fetchone()[0]


def test_a_word_of_several_tokens_is_searched_without_leaving_out_the_event_id(tmp_path):
    """ "1.5" is a phrase of two tokens: an event id (32 hex digits) is one token and can
    never hold it, so telling FTS5 to leave that column out only made it check every
    match's columns. A word of one token ("b") still leaves it out: "b" begins ids."""
    with Archive(tmp_path / "data") as arch:
        make = Maker(arch)
        durations = [1.5, 1.52, 0.9, 2.1, 15.0, 1.0]
        events = [
            make.event(
                "cam-a" if i % 2 else "cam-b",
                NIGHT1 + i * 60_000,
                duration=d,
                event_id=("b" if i % 3 else "5") + f"{i:031x}",
                extra_meta=[Meta("string", "meteorpi:note", "b.x" if i == 2 else "x.y")],
            )
            for i, d in enumerate(durations)
        ]
        conn = arch.db.read()
        assert search.match("1.5", conn)[0] == '"1.5"*'
        assert search.match("x.y", conn)[0] == '"x.y"*'
        assert search.match("b", conn)[0] == '- {event_id} : "b"*'
        assert search.match("5", conn)[0] == '- {event_id} : "5"*'
        for text in TEXTS:
            filtered, _ = search.match(text, None)
            # Every word left out of the event id, as before: the same events.
            kept = " AND ".join(
                q if q.startswith("-") else "- {event_id} : " + q
                for q in (search._phrase(w, None) for w in text.split())
            )
            sql = "SELECT rowid FROM event_summary_fts WHERE event_summary_fts MATCH ?"
            before = {r[0] for r in conn.execute(sql, (kept,))}
            assert _matches(conn, text) == before, (text, filtered)
            assert browse.count(arch, browse.Query(text=text)) == len(before), text
        one_five = browse.page(arch, browse.Query(text="1.5"), 0, 10)
        assert sorted(ids(one_five)) == sorted(e.event_id for e in events[:2])
        # "b": the camera named "Site B" (every other event), not the ids beginning so.
        found_b = ids(browse.page(arch, browse.Query(text="b"), 0, 10))
        assert sorted(found_b) == sorted(e.event_id for e in events if e.camera_id == "cam-b")
        assert {e.event_id[0] for e in events if e.camera_id == "cam-a"} == {"b", "5"}


def test_an_upgraded_archive_reads_one_character_prefixes_from_one_segment(tmp_path):
    """Migration 13 rebuilds the full-text index with a 1-character prefix index and
    merges it into one segment: a phrase ending in a one-character prefix ("1.5") was
    answered by merging every term beginning with "5" (160-250 ms on a million events).
    The matches stay those of the index it replaces, and the triggers keep it current."""
    folder = tmp_path / "v12"
    with zipfile.ZipFile(ARCHIVES / "v12.zip") as z:
        z.extractall(folder)
    raw = sqlite3.connect(folder / "archive.sqlite3", isolation_level=None)
    # Rows enough for the index to be written in several segments (FTS5 writes one each
    # time its 1 MB of pending entries fills), with many terms for each first character.
    raw.execute("BEGIN")
    raw.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)"
        " INSERT INTO event_summary (event_id, camera_id, event_time, event_type, search)"
        " SELECT lower(hex(randomblob(16))), 'filler', i, 'meteorpi:meteor',"
        " ' meteorpi:n=' || (i * 7919 % 100003) || ' meteorpi:h=' || lower(hex(randomblob(6)))"
        " FROM n"
    )
    raw.execute("COMMIT")
    texts = [*TEXTS, "bright", "ete", "shed roof", "0.62", "m", "meteor", "p"]
    before = {text: _matches(raw, text) for text in texts}
    assert _segments(raw) > 1
    assert any(before.values())
    raw.close()
    with Archive(folder) as arch:
        assert any(m.endswith("_one_character_prefixes") for m in arch.db.applied_migrations)
        conn = arch.db.read()
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'event_summary_fts'")
        assert "prefix = '1 2 3'" in sql[0]
        assert _segments(conn) == 1
        assert {text: _matches(conn, text) for text in texts} == before
        # An event archived after the upgrade is found by a one-character prefix.
        make = Maker(arch)
        new = make.event("cam-a", NIGHT1, duration=1.57, extra_meta=[Meta("string", "k", "q")])
        assert ids(browse.page(arch, browse.Query(text="1.5"), 0, 10)) == [new.event_id]
        assert ids(browse.page(arch, browse.Query(text="q"), 0, 10)) == [new.event_id]
