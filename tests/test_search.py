"""The browser's text search as FTS5 reads it (meteorgui/archive/search.py, migrations 13
and 15): words ending in a one-character token, dotted words read as one term, and archives
upgraded to the index that reads them so."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

from meteorgui.archive import Archive, browse, dotted, search
from meteorgui.model import Meta
from tests import factories
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
    match's columns. A word of one short token ("b") still leaves it out, and the camera's
    id too: "b" begins ids (every Raspberry Pi camera's "b827eb…")."""
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
        mark = dotted.MARK
        assert search.match("1.5", conn)[0] == f'"{mark}1{mark}5"*'
        assert search.match("x.y", conn)[0] == f'"{mark}x{mark}y"*'
        assert search.match("b", conn)[0] == '- {event_id camera_id} : "b"*'
        assert search.match("5", conn)[0] == '- {event_id camera_id} : "5"*'
        for text in TEXTS:
            filtered, _ = search.match(text, None)
            # Every word left out of the event's and the camera's ids: the same events.
            kept = " AND ".join(
                q if q.startswith("-") else "- {event_id camera_id} : " + q
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


def test_a_dotted_word_is_read_as_one_term_of_the_index(tmp_path):
    """ "1.5" reads the one term the archive writes for each dotted run (dotted.py) instead
    of walking the lists of "1" and of every term beginning with "5". It finds what the
    phrase "1" "5"* found where the parts stand with dots between them, from any part of a
    longer run on, in the metadata, the camera's id and the camera's name; no longer "1,5"."""
    with Archive(tmp_path / "data") as arch:
        make = Maker(arch, cameras=("cam-a", "north.cam"))
        roof = factories.status(
            camera="cam-a", valid_from=NIGHT1 - 86_400_000, inst_name="Roof 2.5m"
        )
        arch.store_status(roof)
        make.status["cam-a"] = roof

        def note(text):
            return [Meta("string", "meteorpi:note", text)]

        events = {
            "1.5": make.event(duration=1.5),
            "1.52": make.event(duration=1.52),
            "1.5.3": make.event(extra_meta=note("1.5.3")),
            "21.5": make.event(duration=21.5),
            "1,5": make.event(extra_meta=note("1,5")),
            "ip": make.event(extra_meta=note("host=192.168.1.40")),
            "clip": make.event(extra_meta=note("Clip.MP4")),
            "north": make.event("north.cam"),
            "long": make.event(extra_meta=note("v10.20.30.40.50")),
        }
        seq = {
            name: arch.db.read()
            .execute("SELECT seq FROM event_summary WHERE event_id = ?", (e.event_id,))
            .fetchone()[0]
            for name, e in events.items()
        }
        conn = arch.db.read()
        found = {
            text: {n for n, s in seq.items() if s in _matches(conn, text)}
            for text in [
                "1.5",
                "168.1",
                "1.4",
                "192.168",
                "68.1",
                "clip.mp4",
                "CLIP.mp",
                "2.5",
                "north.cam",
                "1.52",
                "0.9",
                "30.40.50",
                "20.30.40.50",
                "v10.20.30.40.50",
                "5",
            ]
        }
        assert found["1.5"] == {"1.5", "1.52", "1.5.3"}
        assert found["1.52"] == {"1.52"}
        assert found["168.1"] == found["1.4"] == found["192.168"] == {"ip"}
        assert found["68.1"] == found["0.9"] == set()
        assert found["clip.mp4"] == found["CLIP.mp"] == {"clip"}
        assert found["2.5"] == set(events) - {"north"}  # the camera's name, "Roof 2.5m"
        assert found["north.cam"] == {"north"}
        # A run of more parts than a term holds: any MAX_PARTS of them are one term, more
        # are the phrase of their tokens, as before.
        assert found["30.40.50"] == found["20.30.40.50"] == found["v10.20.30.40.50"] == {"long"}
        # The words' tokens are still in the index as they were: "5" begins "5" and "52"
        # in the metadata, and "5m" in the name of every camera but north.cam's.
        assert found["5"] == set(events) - {"north"}
        # What the phrase of the dotted word's tokens found (no column left out), but "1,5".
        fts = "SELECT rowid FROM event_summary_fts WHERE event_summary_fts MATCH ?"
        for text, names in found.items():
            if "." not in text:
                continue
            phrase = {r[0] for r in conn.execute(fts, ('"' + text + '"*',))}
            before = {n for n, s in seq.items() if s in phrase}
            assert (before - names, names - before) == ({"1,5"} if text == "1.5" else set(), set())
            assert browse.count(arch, browse.Query(text=text)) == len(names), text
        assert search.match("1.5", conn)[0] == f'"{dotted.MARK}1{dotted.MARK}5"*'


def test_a_camera_cannot_make_the_dotted_terms_outgrow_its_text():
    """Every string a camera sends is untrusted: a meta value of 50,000 one-digit parts
    gets terms of at most MAX_PARTS parts each, not every suffix of the run (which would
    be 1.25 billion characters)."""
    text = "1." * 50_000 + "1"
    assert len(dotted.tail(text)) <= 5 * len(text)
    assert dotted.tail("x.y") == f" {dotted.MARK}x{dotted.MARK}y"
    assert dotted.tail("no dots, 1,5 é1.5 1.5é") == ""  # nor a run inside a longer token
    assert dotted.term("1.2.3.4") == "".join(dotted.MARK + p for p in "1234")
    assert dotted.term("1.2.3.4.5") is None  # longer than a term: the phrase
    assert dotted.term("1.5.") is None and dotted.term("=1.5") is None


def test_an_upgraded_archive_reads_one_character_prefixes_from_one_segment(tmp_path, monkeypatch):
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
    with monkeypatch.context() as m:  # the dotted words as read before migration 15
        m.setattr(dotted, "term", lambda word: None)
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
