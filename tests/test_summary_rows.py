"""An event's summary row and full-text row, written once by the archive (migration 14),
hold what migration 2's and 10's triggers and backfills kept."""

from __future__ import annotations

import dataclasses

from meteorgui.archive import browse, dotted
from meteorgui.model import Meta

from .factories import event_pack, file_pack, file_record, status

# What migration 2's and 10's backfills compute for every event from its rows: the values
# their triggers kept row by row (the last number for the duration and the brightness,
# the best-ranked picture, the first among equals).
# The search text (migration 15): the meta as key=value words, then the terms of the dotted
# words of it and of the event's id, camera id, type and camera name (dotted.py).
_META_TEXT = """IFNULL((SELECT ' ' || group_concat(key || '=' || value, ' ')
            FROM (SELECT key, value FROM meta WHERE owner_id = e.event_id ORDER BY idx)), '')"""
_NAME = """IFNULL((SELECT json_extract(body, '$.inst_name') FROM statuses
            WHERE status_id = e.status_id), '')"""
EXPECTED = f"""
SELECT s.seq, e.event_id, e.camera_id, e.event_time, e.event_type,
    IFNULL((SELECT num FROM meta WHERE owner_id = e.event_id AND key = 'meteorpi:duration'
            AND num IS NOT NULL ORDER BY idx DESC LIMIT 1), -1),
    IFNULL((SELECT num FROM meta WHERE owner_id = e.event_id
            AND key IN ('meteorpi:peakAmplitude', 'meteorpi:amplitudePeak',
                        'meteorpi:peakBrightness', 'meteorpi:brightness')
            AND num IS NOT NULL ORDER BY idx DESC LIMIT 1), -1),
    (SELECT COUNT(*) FROM files WHERE files.event_id = e.event_id),
    v.file_id, v.md5, v.mime_type, IFNULL(v.still_rank, 99),
    (SELECT label FROM reviews WHERE event_id = e.event_id),
    {_META_TEXT} || meteorgui_dotted({_META_TEXT} || ' ' || e.event_id || ' ' || e.camera_id
        || ' ' || e.event_type || ' ' || {_NAME}),
    {_NAME}
FROM events e JOIN event_summary s ON s.event_id = e.event_id
LEFT JOIN file_still_rank v ON v.file_id = (
    SELECT file_id FROM file_still_rank WHERE event_id = e.event_id AND still_rank < 99
    ORDER BY still_rank, file_index LIMIT 1)
ORDER BY s.seq
"""
SUMMARY = """
SELECT seq, event_id, camera_id, event_time, event_type, duration, brightness, n_files,
    still_id, still_md5, still_mime, still_rank, label, search, camera_name
FROM event_summary ORDER BY seq
"""


def _statements(conn) -> list[str]:
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    return seen


def test_the_summary_row_holds_what_the_triggers_kept(archive):
    st = status(inst_name="Shed roof, Ely")
    archive.store_status(st)
    plain = event_pack(st, n_files=4).entity
    bare = dataclasses.replace(event_pack(st, n_files=0).entity, meta=())
    metered = dataclasses.replace(
        event_pack(st, n_files=2).entity,
        meta=(
            Meta("number", "meteorpi:duration", 0.5),
            Meta("number", "meteorpi:peakAmplitude", 3000),
            Meta("string", "meteorpi:duration", "long"),
            Meta("number", "meteorpi:duration", 1.25),
            Meta("number", "meteorpi:brightness", 7),
        ),
    )

    def picture(n: int, mime: str = "image/png", semantic: str | None = None):
        return file_record(st, bytes([n]) * (10 + n), mime_type=mime, semantic_type=semantic)

    # A video, two plain PNGs and a lens-corrected PNG (the best: rank 1); then a video
    # and two plain PNGs of equal rank (the first of them).
    pictured = dataclasses.replace(
        plain,
        event_id=event_pack(st).entity.event_id,
        files=(picture(1, "video/mp4"), picture(2), picture(3), picture(4, semantic="x/lensCorr")),
    )
    equal = dataclasses.replace(
        plain,
        event_id=event_pack(st).entity.event_id,
        files=(picture(5, "video/mp4"), picture(6), picture(7)),
    )
    # A standalone still the event takes over, and a label given before the event came.
    lone = file_pack(st).entity
    adopting = dataclasses.replace(event_pack(st, n_files=1).entity)
    adopting = dataclasses.replace(adopting, files=(*adopting.files, lone))
    assert archive.store_file(lone, "cam")
    browse.set_reviews(archive, {adopting.event_id: "meteor"})
    for event in (plain, bare, metered, pictured, equal, adopting):
        assert archive.store_event(event, "cam")
    conn = archive.db.read()
    conn.create_function("meteorgui_dotted", 1, dotted.tail)  # as migration 15 has it
    rows = conn.execute(SUMMARY).fetchall()
    assert rows == conn.execute(EXPECTED).fetchall()
    assert len(rows) == 6
    by_id = {r[1]: r for r in rows}
    assert by_id[metered.event_id][5:7] == (1.25, 7.0)
    assert by_id[bare.event_id][5:] == (
        -1.0,
        -1.0,
        0,
        None,
        None,
        None,
        99,
        None,
        "",
        "Shed roof, Ely",
    )
    assert by_id[pictured.event_id][8] == pictured.files[3].file_id
    assert by_id[equal.event_id][8] == equal.files[1].file_id
    assert by_id[adopting.event_id][7] == 2 and by_id[adopting.event_id][12] == "meteor"
    # The full-text index holds each row as its content table does, and finds them.
    with archive.db.write() as w:
        w.execute("INSERT INTO event_summary_fts (event_summary_fts) VALUES ('integrity-check')")
    found = browse.page(archive, browse.Query(text="shed"), 0, 10)
    assert {r.event_id for r in found} == set(by_id)
    found = browse.page(archive, browse.Query(text="meteorpi:note"), 0, 10)
    assert plain.event_id in {r.event_id for r in found}


def test_an_event_writes_its_summary_and_full_text_rows_once(archive):
    """One INSERT of the summary row after the files, no UPDATE of it, one full-text row
    (it was written, deleted and written again), and no trigger run by a meta row or a
    file row (each ran two or one)."""
    st = status()
    archive.store_status(st)
    event = event_pack(st, n_files=4).entity
    writes = _statements(archive.db._write_conn)
    try:
        assert archive.store_event(event, "cam")
    finally:
        archive.db._write_conn.set_trace_callback(None)
    assert [s for s in writes if "UPDATE event_summary" in s] == []
    # The trace names a statement again for each trigger program it runs (the
    # full-text row's here).
    assert writes.index(next(s for s in writes if s.startswith("INSERT INTO event_summary"))) > max(
        i for i, s in enumerate(writes) if s.startswith("INSERT INTO files")
    )
    docsize = [s for s in writes if "event_summary_fts_docsize" in s]
    assert len(docsize) == 1 and "REPLACE" in docsize[0], docsize
    n_meta = len(event.meta) + sum(len(f.meta) for f in event.files)
    assert len([s for s in writes if s.startswith("INSERT INTO meta")]) == n_meta
    assert len([s for s in writes if s.startswith("INSERT INTO files")]) == 4
    assert len([s for s in writes if s.startswith("INSERT INTO events")]) == 1
