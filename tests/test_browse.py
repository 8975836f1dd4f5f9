"""Browsing queries on a real SQLite archive: summary rows, filters, order, paging, live arrivals,
reviews, nights and per-hour counts."""

from __future__ import annotations

import dataclasses
import random
import re
import uuid
from datetime import datetime, timedelta

import pytest

from meteorgui.archive import Archive, browse, migrations, search
from meteorgui.archive.browse import Query
from meteorgui.archive.nights import NightClock
from meteorgui.archive.sky import SkyResult, SkyResults
from meteorgui.model import Event, FileRecord, Meta
from tests import factories

HOUR = 3_600_000


def local_ms(*args) -> int:
    return int(datetime(*args).timestamp() * 1000)


NIGHT1 = local_ms(2026, 11, 3, 12)  # noon local: a night starts
NIGHT2 = local_ms(2026, 11, 4, 12)


class Maker:
    """Events and files stored straight through the archive API (no HTTP, no bytes)."""

    def __init__(self, archive: Archive, cameras=("cam-a", "cam-b")):
        self.archive = archive
        self.status = {}
        for c in cameras:
            st = factories.status(
                camera=c, valid_from=NIGHT1 - 30 * 86_400_000, inst_name=f"Site {c[-1].upper()}"
            )
            archive.store_status(st)
            self.status[c] = st

    def record(
        self, camera, t, mime="image/png", semantic="meteorpi:triggers/event/bgrdSub", meta=()
    ) -> FileRecord:
        return FileRecord(
            uuid.uuid4().hex,
            camera,
            self.status[camera].status_id,
            t,
            1000,
            mime,
            uuid.uuid4().hex,
            semantic,
            "f.bin",
            tuple(meta),
        )

    def event(
        self,
        camera="cam-a",
        t=NIGHT1 + 10 * HOUR,
        duration=None,
        brightness=None,
        event_type="meteorpi:meteor",
        files=None,
        extra_meta=(),
        event_id=None,
    ) -> Event:
        meta = list(extra_meta)
        if duration is not None:
            meta.append(Meta("number", "meteorpi:duration", duration))
        if brightness is not None:
            meta.append(Meta("number", "meteorpi:peakAmplitude", brightness))
        if files is None:
            files = (
                self.record(camera, t, "video/mp4", "meteorpi:triggers/event/video"),
                self.record(camera, t, "image/png", "meteorpi:triggers/event/bgrdSub"),
                self.record(
                    camera, t, "image/png", "meteorpi:triggers/event/maxBrightness/lensCorr"
                ),
                self.record(camera, t, "application/json", "meteorpi:triggers/event/path"),
            )
        ev = Event(
            event_id or uuid.uuid4().hex,
            camera,
            self.status[camera].status_id,
            t,
            event_type,
            tuple(files),
            tuple(meta),
        )
        assert self.archive.store_event(ev)
        return ev

    def timelapse(self, camera="cam-a", t=NIGHT1 + 9 * HOUR) -> FileRecord:
        rec = self.record(camera, t, "image/png", "meteorpi:timelapse/frame/lensCorr")
        assert self.archive.store_file(rec)
        return rec


@pytest.fixture
def arch(tmp_path):
    a = Archive(tmp_path / "data")
    yield a
    a.close()


@pytest.fixture
def make(arch):
    return Maker(arch)


def ids(rows):
    return [r.event_id for r in rows]


def test_summary_row_is_filled_when_an_event_is_stored(arch, make):
    ev = make.event(duration=0.84, brightness=201.5)
    row = browse.get_row(arch, ev.event_id)
    best = ev.files[2]  # the maxBrightness/lensCorr still, not the first file (video)
    assert row == browse.Row(
        ev.event_id,
        "cam-a",
        ev.event_time,
        "meteorpi:meteor",
        4,
        None,
        best.file_id,
        best.md5,
        "image/png",
        0.84,
        201.5,
        row.seq,
    )


def test_best_still_falls_back_to_png_then_video_and_none(arch, make):
    t = NIGHT1 + 11 * HOUR
    video = make.record("cam-a", t, "video/mp4", "meteorpi:triggers/event/video")
    png = make.record("cam-a", t, "image/png", "meteorpi:triggers/event/bgrdSub")
    jpeg = make.record("cam-a", t, "image/jpeg", "meteorpi:triggers/event/other")
    path = make.record("cam-a", t, "application/json", "meteorpi:triggers/event/path")
    a = make.event(files=(video, jpeg, png, path))
    b = make.event(
        files=(
            dataclasses.replace(path, file_id=uuid.uuid4().hex),
            dataclasses.replace(video, file_id=uuid.uuid4().hex),
        )
    )
    c = make.event(files=())
    assert browse.get_row(arch, a.event_id).still_id == png.file_id
    assert browse.get_row(arch, b.event_id).still_mime == "video/mp4"
    row_c = browse.get_row(arch, c.event_id)
    assert (row_c.still_id, row_c.n_files, row_c.duration) == (None, 0, None)


def test_migration_fills_the_summary_for_an_archive_made_before_it(tmp_path, monkeypatch):
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
    # Before the summary existed, an event's summary row was not written either.
    monkeypatch.setattr(Archive, "_insert_summary", staticmethod(lambda *a: None))
    old = Archive(tmp_path / "old")
    make = Maker(old)
    events = [
        make.event(t=NIGHT1 + (6 + i) * HOUR, duration=0.1 * i, brightness=10 * i) for i in range(5)
    ]
    old.close()
    monkeypatch.undo()
    with Archive(tmp_path / "old") as upgraded, Archive(tmp_path / "new") as fresh:
        for st in make.status.values():
            fresh.store_status(st)
        for ev in events:
            assert fresh.store_event(ev)
        q = Query(descending=False)
        got = [r._replace(seq=0) for r in browse.page(upgraded, q, 0, 100)]
        want = [r._replace(seq=0) for r in browse.page(fresh, q, 0, 100)]
        assert got == want and len(got) == 5
        search = "SELECT search FROM event_summary ORDER BY event_time"
        assert [r[0] for r in upgraded.db.read().execute(search)] == [
            r[0] for r in fresh.db.read().execute(search)
        ]
        assert got[0].still_id == events[0].files[2].file_id
        # The full-text index covers what was archived before it: metadata and camera names.
        for archive in (upgraded, fresh):
            assert browse.count(archive, Query(text="site")) == 5
            assert browse.count(archive, Query(text="duration", camera_id="cam-a")) == sum(
                e.camera_id == "cam-a" for e in events
            )


def test_search_finds_any_metadata_of_an_event_however_large(arch, make):
    big = [Meta("string", f"meteorpi:k{i}", "v" * 1000) for i in range(200)]
    ev = make.event(extra_meta=[Meta("string", "meteorpi:note", "Fireball"), *big])
    make.event()  # another event, without these words
    (search,) = (
        arch.db.read()
        .execute("SELECT search FROM event_summary WHERE event_id = ?", (ev.event_id,))
        .fetchone()
    )
    assert search.startswith(' meteorpi:note="Fireball" meteorpi:k0="vvv')
    # 200 KB of metadata: the last item is found too (the text was once cut at 64 KiB).
    for word in ("k199", "fireball", "k0"):
        assert [r.event_id for r in browse.page(arch, Query(text=word), 0, 10)] == [ev.event_id]
        assert browse.count(arch, Query(text=word)) == 1
    # No per-row trigger is left to rebuild the text (or any of the summary) for every
    # meta row or file row: the archive writes the summary row once (migration 14).
    triggers = arch.db.read().execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN"
        " ('events', 'meta', 'files')"
    )
    assert triggers.fetchall() == []


def test_filters_by_time_camera_type_review_and_text(arch, make):
    a = make.event(
        "cam-a", NIGHT1 + 8 * HOUR, extra_meta=[Meta("string", "meteorpi:note", "Bright Fireball")]
    )
    b = make.event("cam-b", NIGHT1 + 9 * HOUR, event_type="meteorpi:sprite")
    c = make.event("cam-b", NIGHT2 + 9 * HOUR)
    d = make.event("cam-a", NIGHT2 + 10 * HOUR, extra_meta=[Meta("number", "meteorpi:nFrames", 37)])
    browse.set_reviews(arch, {b.event_id: "plane", c.event_id: "meteor"})

    def got(**kw):
        q = Query(descending=False, **kw)
        rows = browse.page(arch, q, 0, 100)
        assert browse.count(arch, q) == len(rows)
        return ids(rows)

    assert got() == ids([a, b, c, d])
    assert got(after=NIGHT1, before=NIGHT2) == ids([a, b])
    assert got(camera_id="cam-b") == ids([b, c])
    assert got(event_type="meteorpi:sprite") == ids([b])
    assert got(review="unreviewed") == ids([a, d])
    assert got(review="reviewed") == ids([b, c])
    assert got(review="plane") == ids([b])
    assert got(review="plane", keep=frozenset({d.event_id})) == ids([b, d])
    assert got(text="fireball") == ids([a])  # a metadata value, any case
    assert got(text="nFrames") == ids([d])  # a metadata key
    assert got(text="nframes=37") == ids([d])  # a key and its value
    assert got(text="bright fire") == ids([a])  # every word must match
    assert got(text="bright nFrames") == []
    assert got(text=c.event_id[:10]) == ids([c])
    assert got(text="meteorpi:meteor", review="reviewed") == ids([c])  # the type matches
    assert got(text="Site B", after=NIGHT2) == ids([c])  # the camera's name matches
    assert got(text="fireb") == ids([a])  # a word's beginning is enough
    assert got(text="plane") == ids([b])  # the review label matches
    assert got(text="100%") == []  # LIKE wildcards are taken literally
    assert got(text="sprite", camera_id="cam-b", after=NIGHT1, before=NIGHT2) == ids([b])


def test_a_short_word_is_no_event_id_prefix(arch, make):
    # "b" of "Site B" must not find cam-a's events whose ids begin with b.
    a = make.event("cam-a", NIGHT2 + 8 * HOUR, event_id="b" + "0" * 31)
    c = make.event("cam-b", NIGHT2 + 9 * HOUR, event_id="a" + "1" * 31)

    def got(text):
        q = Query(descending=False, text=text)
        rows = browse.page(arch, q, 0, 100)
        assert browse.count(arch, q) == len(rows)
        return ids(rows)

    assert got("Site B") == ids([c])
    assert got("b000") == ids([a])  # from four characters, the beginning of an id
    assert got("a111 site") == ids([c])


def test_order_by_time_duration_and_brightness_both_ways(arch, make):
    t = NIGHT1 + 8 * HOUR
    e1 = make.event(t=t + 1, duration=0.5, brightness=90)
    e2 = make.event(t=t + 2, duration=1.5, brightness=None)
    e3 = make.event(t=t + 3, duration=None, brightness=250)
    e4 = make.event(t=t + 4, duration=0.5, brightness=120)

    def order(sort, descending):
        return ids(browse.page(arch, Query(sort=sort, descending=descending), 0, 10))

    assert order("time", False) == ids([e1, e2, e3, e4])
    assert order("time", True) == ids([e4, e3, e2, e1])
    # Unknown values sort as the smallest; ties go by time.
    assert order("duration", False) == ids([e3, e1, e4, e2])
    assert order("duration", True) == ids([e2, e4, e1, e3])
    assert order("brightness", True) == ids([e3, e4, e1, e2])
    with pytest.raises(ValueError):
        Query(sort="size")


@pytest.fixture
def many(arch, make):
    """3000 events over two nights and two cameras, with random durations and brightness."""
    rng = random.Random(7)
    events = []
    with arch.db.write():  # one transaction: the archive API joins it
        for i in range(3000):
            night = NIGHT1 if i % 3 else NIGHT2
            t = night + 6 * HOUR + rng.randrange(12 * HOUR)
            events.append(
                make.event(
                    rng.choice(["cam-a", "cam-b"]),
                    t,
                    duration=round(rng.uniform(0.1, 3), 1),
                    brightness=rng.choice([None, rng.randrange(50, 255)]),
                )
            )
    return events


@pytest.mark.parametrize("sort", browse.SORTS)
def test_paging_keyset_and_positions_agree_over_thousands_of_events(arch, many, sort):
    for q in (
        Query(sort=sort),
        Query(sort=sort, descending=False, camera_id="cam-b"),
        Query(sort=sort, after=NIGHT1, before=NIGHT2),
    ):
        n = browse.count(arch, q)
        everything = browse.page(arch, q, 0, n + 10)
        assert len(everything) == n > 500
        keys = [r.sort_key(sort) for r in everything]
        assert keys == sorted(keys, reverse=q.descending)
        pages, offset = [], 0
        while offset < n:
            pages += browse.page(arch, q, offset, 256)
            offset += 256
        assert pages == everything
        # Reading on from a known row, without an offset scan, gives the same rows.
        assert browse.page(arch, q, 0, 300, after=everything[99]) == everything[100:400]
        assert browse.page(arch, q, 50, 10, after=everything[99]) == everything[150:160]
        for i in random.Random(1).sample(range(n), 25):
            assert browse.position_of(arch, q, everything[i].event_id) == i
    other_camera = next(e for e in many if e.camera_id == "cam-a")
    assert browse.position_of(arch, Query(camera_id="cam-b"), other_camera.event_id) is None


@pytest.mark.parametrize("sort,descending", [("time", True), ("duration", False)])
def test_the_rows_around_an_event_are_its_place_in_the_list(arch, many, sort, descending):
    """The window shows a new list first and then the chosen event where it is, with the
    rows around it read from its row both ways."""
    q = Query(sort=sort, descending=descending, camera_id="cam-a")
    listed = browse.page(arch, q, 0, 5000)
    for at in (0, 3, 1000, len(listed) - 2, len(listed) - 1):
        start, rows = browse.around(arch, q, listed[at].event_id, 20)
        assert start == max(0, at - 10)
        assert rows == listed[start : at + 10]
    other = next(e for e in many if e.camera_id == "cam-b")
    assert browse.around(arch, q, other.event_id, 20) is None


@pytest.mark.parametrize(
    "sort,descending", [("time", True), ("time", False), ("duration", True), ("brightness", False)]
)
def test_arrivals_inserted_at_their_positions_rebuild_the_new_list(
    arch, make, many, sort, descending
):
    q = Query(sort=sort, descending=descending, after=NIGHT1, before=NIGHT2, review="unreviewed")
    mark = browse.watermark(arch)
    shown = browse.page(arch, q, 0, 10_000, upto=mark)
    rng = random.Random(3)
    late = [
        make.event(
            rng.choice(["cam-a", "cam-b"]),
            NIGHT1 + rng.randrange(24 * HOUR),
            duration=round(rng.uniform(0.1, 3), 1),
            brightness=rng.randrange(255),
        )
        for _ in range(40)
    ]
    make.event(t=NIGHT2 + HOUR)  # another night: not for this list
    browse.set_reviews(arch, {late[0].event_id: "plane"})  # reviewed before it was shown
    new = browse.arrivals(arch, q, since=mark)
    assert new.watermark == browse.watermark(arch)
    positions = [p for p, _ in new.rows]
    assert positions == sorted(positions) and len(positions) == 39
    for position, row in new.rows:
        shown.insert(position, row)
    assert shown == browse.page(arch, q, 0, 10_000)
    assert browse.arrivals(arch, q, since=new.watermark).rows == []


def test_reviews_are_stored_beside_the_event_and_undoable(arch, make):
    a, b = make.event(), make.event(t=NIGHT1 + 11 * HOUR)
    before = arch.get_event(a.event_id)
    assert browse.review(arch, [a.event_id, b.event_id], "meteor") == {
        a.event_id: None,
        b.event_id: None,
    }
    assert browse.review(arch, [a.event_id], "plane") == {a.event_id: "meteor"}
    assert browse.reviews(arch, [a.event_id, b.event_id]) == {
        a.event_id: "plane",
        b.event_id: "meteor",
    }
    assert browse.get_row(arch, a.event_id).label == "plane"
    browse.set_reviews(arch, {a.event_id: None})  # cleared: unreviewed again
    assert browse.get_row(arch, a.event_id).label is None
    assert browse.reviews(arch, [a.event_id]) == {}
    assert arch.get_event(a.event_id) == before  # the received data is untouched
    with pytest.raises(ValueError):
        browse.set_reviews(arch, {a.event_id: "ufo"})


def test_nights_run_noon_to_noon_local_time_and_count_events_and_files(arch, make):
    make.event(t=NIGHT1 + 11 * HOUR)  # 23:00 on the 3rd
    make.event(t=NIGHT1 + 23 * HOUR)  # 11:00 on the 4th: still the night of the 3rd
    make.event(t=NIGHT2)  # noon on the 4th: the next night
    make.timelapse(t=NIGHT1 + 9 * HOUR)
    make.timelapse(t=local_ms(2026, 11, 7, 2))  # a night with time-lapse only (of the 6th)
    nights = browse.nights(arch)
    assert [(n.start_ms, n.events, n.files) for n in nights] == [
        (local_ms(2026, 11, 6, 12), 0, 1),
        (NIGHT2, 1, 0),
        (NIGHT1, 2, 1),
    ]
    assert nights[-1].end_ms == NIGHT2
    # Without a camera location (NightClock's default) the computer's local clock decides.
    assert NightClock().start(NIGHT2 - 1) == NIGHT1
    assert NightClock().start(NIGHT2) == NIGHT2
    assert NightClock(18).start(local_ms(2026, 11, 4, 3)) == local_ms(2026, 11, 3, 18)
    assert browse.nights(arch, NightClock(0))[0].start_ms == local_ms(2026, 11, 7, 0)


def test_night_counts_read_only_that_nights_time_lapse_stills(arch, make):
    """Counting a night's standalone files went through the files_event index (event_id
    IS NULL) and read the time of every standalone file of the archive, for each night:
    the night chooser's count of 1,001 nights took 0.7 s on a worker, beside the first
    filter changes. Each night now reads its own range of files_standalone_time."""
    for day in range(3):
        make.event(t=NIGHT1 + day * 24 * HOUR + 10 * HOUR)
        make.timelapse(t=NIGHT1 + day * 24 * HOUR + 9 * HOUR)
    conn = arch.db.read()
    plans = _plans(conn, lambda: browse.nights(conn), kind="SELECT")
    plans += _plans(conn, lambda: browse.hourly_counts(conn, NIGHT1), kind="SELECT")
    on_files = [p for p in plans if "SEARCH files" in p or "SCAN files" in p]
    assert len(on_files) == 3 + 3 + 1 + 1, plans  # counts, latest probes, hourly, the end
    assert all("files_standalone_time (file_time" in p for p in on_files), on_files
    assert [n.files for n in browse.nights(conn)] == [1, 1, 1]


def test_night_end_follows_the_local_clock(arch):
    start = NIGHT1
    end = NightClock().end(start)
    assert datetime.fromtimestamp(end / 1000) == datetime.fromtimestamp(start / 1000) + timedelta(
        days=1
    )


def test_hourly_counts_by_camera_and_review_state(arch, make):
    a = make.event("cam-a", NIGHT1 + 9 * HOUR + 5)
    make.event("cam-a", NIGHT1 + 9 * HOUR + 600_000)
    make.event("cam-b", NIGHT1 + 10 * HOUR)
    make.event("cam-b", NIGHT2 + 10 * HOUR)  # the next night
    make.timelapse("cam-b", NIGHT1 + 8 * HOUR)
    browse.set_reviews(arch, {a.event_id: "meteor"})
    c = browse.hourly_counts(arch, NIGHT1)
    assert len(c.hours) == 24 and c.hours[9] == NIGHT1 + 9 * HOUR
    assert c.cameras == ["cam-a", "cam-b"]
    assert c.by_camera["cam-a"][9] == 2 and c.by_camera["cam-b"][10] == 1
    assert sum(c.by_camera["cam-a"]) == 2 and c.total == 3
    assert c.by_label["meteor"][9] == 1 and c.by_label[None][9] == 1
    assert c.table == {"cam-a": {"meteor": 1, None: 1}, "cam-b": {None: 1}}
    assert c.standalone == {"cam-b": 1}


def test_hourly_counts_are_clock_hours_when_the_night_starts_between_them(arch, make):
    """A night starts at the cameras' solar noon (11:58): its hours are still the clock's,
    as the shower table's meteor rates are, not 19:58-20:58."""
    start = NIGHT1 - 2 * 60_000  # two minutes before the hour
    late = make.event("cam-a", NIGHT1 + 8 * HOUR + 5 * 60_000).event_time
    early = make.event("cam-a", NIGHT1 - 60_000).event_time  # the night's first minutes
    c = browse.hourly_counts(arch, start)
    assert all(h % HOUR == 0 for h in c.hours) and c.hours[0] <= start < c.hours[0] + HOUR
    assert c.hours[-1] < c.end_ms <= c.hours[-1] + HOUR
    for t in (early, late):
        (i,) = [i for i, h in enumerate(c.hours) if h <= t < h + HOUR]
        assert c.by_camera["cam-a"][i] == 1
    assert c.total == 2


def test_standalone_files_of_a_night_oldest_first(arch, make):
    f2 = make.timelapse("cam-b", NIGHT1 + 9 * HOUR)
    f1 = make.timelapse("cam-a", NIGHT1 + 8 * HOUR)
    make.timelapse("cam-a", NIGHT2 + 8 * HOUR)
    make.event()  # files of events are not standalone
    got = browse.standalone_files(arch, NIGHT1, NIGHT2)
    assert [f.file_id for f in got] == [f1.file_id, f2.file_id]
    assert got[0] == browse.StripFile(
        f1.file_id, "cam-a", f1.file_time, "image/png", f1.md5, f1.semantic_type, f1.file_name
    )
    assert [f.file_id for f in browse.standalone_files(arch, NIGHT1, NIGHT2, "cam-b")] == [
        f2.file_id
    ]
    assert len(browse.standalone_files(arch, None, None, limit=2)) == 2


def test_choices_for_the_filter_bar(arch, make):
    make.event(event_type="meteorpi:sprite")
    make.event()
    assert browse.event_types(arch) == ["meteorpi:meteor", "meteorpi:sprite"]
    assert browse.cameras(arch) == [("cam-a", "Site A"), ("cam-b", "Site B")]


def test_snapshot_reads_see_one_archive(arch, make):
    make.event()
    with browse.snapshot(arch) as (conn, mark):
        make.event(t=NIGHT1 + 7 * HOUR)  # committed by the writer meanwhile
        assert browse.count(conn, Query()) == 1
        assert browse.watermark(conn) == mark
    assert browse.count(arch, Query()) == 2


def test_indexes_no_query_reads_are_gone(tmp_path):
    with Archive(tmp_path / "a") as archive:
        names = {
            r[0]
            for r in archive.db.read().execute(
                "SELECT name FROM sqlite_master WHERE type = 'index'"
            )
        }
    assert {"meta_key_num", "files_semantic_time"}.isdisjoint(names)
    assert {"events_time", "event_summary_camera", "files_standalone_time"} <= names


def test_an_event_just_relabelled_stays_listed_under_a_search_matching_labels(arch, make):
    events = [make.event(t=NIGHT1 + (8 + i) * HOUR) for i in range(4)]
    browse.set_reviews(arch, {e.event_id: "plane" for e in events})
    q = Query(text="plane", descending=False)
    assert browse.count(arch, q) == 4
    relabelled = events[1].event_id
    browse.set_reviews(arch, {relabelled: "satellite"})  # the user presses S on it
    kept = q.replace(keep=frozenset([relabelled]))
    # Listed in place as the view shows it, so pages line up with the rows on screen.
    assert browse.count(arch, kept) == 4
    assert [r.event_id for r in browse.page(arch, kept, 0, 10)] == [e.event_id for e in events]
    assert browse.count(arch, q) == 3  # a fresh search no longer finds it


def test_search_finds_a_cameras_events_by_its_name(arch):
    make = Maker(arch, cameras=("b827eb4b7cb8", "b827eb5b6c73"))
    for camera, name in (
        ("b827eb4b7cb8", "Bury St Edmunds backyard"),
        ("b827eb5b6c73", "Cambridge Science Centre roof"),
    ):
        st = factories.status(camera=camera, valid_from=NIGHT1 - 86_400_000, inst_name=name)
        arch.store_status(st)
        make.status[camera] = st
    bury = make.event("b827eb4b7cb8", NIGHT1 + 8 * HOUR)
    bury2 = make.event(
        "b827eb4b7cb8", NIGHT1 + 9 * HOUR, extra_meta=[Meta("string", "meteorpi:note", "fireball")]
    )
    cambridge = make.event("b827eb5b6c73", NIGHT1 + 10 * HOUR)

    def got(**kw):
        q = Query(descending=False, **kw)
        rows = browse.page(arch, q, 0, 100)
        assert browse.count(arch, q) == len(rows)
        return ids(rows)

    assert got(text="bury") == ids([bury, bury2])
    assert got(text="EDMUNDS St") == ids([bury, bury2])  # every word, any case
    assert got(text="bury fireball") == ids([bury2])  # a name word and a metadata word
    assert got(text="science roof") == ids([cambridge])
    assert got(text="bury roof") == []  # the words of two cameras: no event has both
    # "Site A"/"Site B" were the cameras' names before (Maker's statuses): an event is
    # found by the name its camera had when it was recorded.
    assert got(text="Site") == []
    assert got(text="b827eb5b") == ids([cambridge])  # ids still match
    # From four characters on: "b" is "Bury" and "backyard", not every id "b827eb…".
    assert got(text="b") == ids([bury, bury2])
    assert got(text="b827") == ids([bury, bury2, cambridge])
    assert got(text="bury", camera_id="b827eb5b6c73") == []


def test_a_word_is_searched_as_the_terms_it_begins_with_the_same_matches(arch, make):
    from meteorgui.archive import search

    note = [Meta("string", "meteorpi:note", "Météorite fireball Fireballs fire-ball")]
    a = make.event("cam-a", NIGHT1 + 8 * HOUR, extra_meta=note)
    b = make.event("cam-b", NIGHT1 + 9 * HOUR, event_type="meteorpi:sprite")
    # More events whose ids begin alike than a word is expanded to.
    many = [
        make.event("cam-a", NIGHT2 + i * 60_000, event_id=f"abcd{i:028x}")
        for i in range(search.EXPAND + 2)
    ]
    conn = arch.db.read()
    query, _ = search.match("fireb Meteor zzzz abcd", conn)
    assert query == '("fireball" OR "fireballs") AND ("meteor" OR "meteorpi") AND "zzzz"' + (
        ' AND "abcd"*'
    )
    texts = [
        "fireb", "FIREBALL", "meteor", "meteorp", "météo", "sprite", "fire-ball", "zzzz",
        "abcd", "abcd0000", "site a", "meteor fireb", "meteorpi:sprite", "b827", "cam",
    ]  # fmt: skip
    for text in texts:
        q = Query(descending=False, text=text)
        # The same WHERE clauses with the prefixes left to FTS5 (no connection to expand).
        clauses, args = browse._where(q, None)
        plain = conn.execute(
            "SELECT event_id FROM event_summary" + browse._sql_where(clauses) + " ORDER BY seq",
            args,
        ).fetchall()
        rows = browse.page(arch, q, 0, 100)
        assert sorted(ids(rows)) == sorted(r[0] for r in plain), text
        assert browse.count(arch, q) == len(rows), text
    assert ids(browse.page(arch, Query(text="fireballs"), 0, 10)) == [a.event_id]
    assert len(browse.page(arch, Query(text="abcd"), 0, 100)) == len(many)
    assert browse.count(arch, Query(text="sprite")) == 1 and b.event_id


def test_a_word_finds_terms_that_arrive_after_it_was_searched(arch, make):
    # The terms a word begins are remembered per connection only while the archive is
    # unchanged: a new event bringing a new term is found by the next search.
    first = make.event(extra_meta=[Meta("string", "meteorpi:note", "fireball")])
    q = Query(text="fireb")
    with browse.snapshot(arch) as (conn, _):
        assert browse.count(conn, q) == 1
        assert ids(browse.page(conn, q, 0, 10)) == [first.event_id]  # the same look-up
    later = make.event(
        t=NIGHT1 + 11 * HOUR, extra_meta=[Meta("string", "meteorpi:note", "fireboat")]
    )
    assert browse.count(arch, q) == 2
    assert ids(browse.page(arch, q, 0, 10)) == [later.event_id, first.event_id]


def _plans(conn, run, kind: str = "SELECT COUNT") -> list[str]:
    """The query plans of the statements ``run()`` makes on ``conn`` that begin with
    ``kind``."""
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        run()
    finally:
        conn.set_trace_callback(None)
    return [
        " | ".join(r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + sql))
        for sql in seen
        if sql.lstrip().upper().startswith(kind)
    ]


@pytest.mark.parametrize(
    "q",
    [Query(), Query(review=browse.REVIEWED), Query(text="duration")],
    ids=["all", "reviewed", "text"],
)
def test_a_count_in_its_own_snapshot_reads_an_index_not_every_row(arch, make, q):
    """The browser counts a new query in the snapshot whose watermark it passes as
    ``upto``; a ``seq <= upto`` there made SQLite read every row of the table."""
    for k in range(5):
        make.event(t=NIGHT1 + k * HOUR, duration=1.0)
    with browse.snapshot(arch) as (conn, mark):
        plans = _plans(conn, lambda: browse.count(conn, q, upto=mark))
        assert browse.count(conn, q, upto=mark) == browse.count(conn, q)
    assert plans or q.text  # one word of one term is counted by the look-up of its terms
    assert not any("PRIMARY KEY" in p for p in plans), plans


def test_a_count_upto_an_older_watermark_leaves_later_events_out(arch, make):
    for k in range(3):
        make.event(t=NIGHT1 + k * HOUR)
    mark = browse.watermark(arch)
    make.event(t=NIGHT1 + 5 * HOUR)
    assert browse.count(arch, Query(), upto=mark) == 3
    assert browse.count(arch, Query(review=browse.UNREVIEWED), upto=mark) == 3
    assert len(browse.page(arch, Query(), 0, 10, upto=mark)) == 3
    assert browse.count(arch, Query()) == 4


def test_a_rare_shower_is_read_through_the_sky_index_not_by_walking_every_event(arch, make):
    """A page of a shower few events have looked up every event's result newest first
    until the page was full: most of the archive for a rare one."""
    events = [make.event(t=NIGHT1 + k * 60_000) for k in range(60)]
    rare = [events[3], events[40]]
    results = [
        SkyResult(
            e.event_id, e.camera_id, e.event_time, "PER" if e in rare else None,
            None if e in rare else "no path", None, None, None, None,
        )
        for e in events
    ]  # fmt: skip
    SkyResults(arch.db).put(results, NIGHT2)
    q = Query(shower="PER")
    conn = arch.db.read()
    pages = _plans(conn, lambda: browse.page(conn, q, 0, 10), kind="SELECT EVENT_ID")
    assert pages and all("sky_results_shower_time" in p for p in pages), pages
    assert ids(browse.page(arch, q, 0, 10)) == [events[40].event_id, events[3].event_id]
    assert browse.count(arch, q) == 2
    assert browse.position_of(arch, q, events[3].event_id) == 1
    # A common result is still read walking the sort index, a page at a time.
    assert len(browse.page(arch, Query(shower=browse.NO_SKY), 0, 10)) == 10


def test_what_most_events_are_is_counted_as_all_events_less_the_others(arch, make):
    """ "Unreviewed" and the one event type: counting their index entries read nearly
    every entry; all events (counted from the pages) less the few others do not."""
    events = [make.event(t=NIGHT1 + k * 60_000) for k in range(8)]
    make.event(t=NIGHT1 + 9 * HOUR, event_type="meteorpi:sprite")
    browse.review(arch, [events[0].event_id, events[5].event_id], "plane")
    unreviewed, meteors = Query(review=browse.UNREVIEWED), Query(event_type="meteorpi:meteor")
    conn = arch.db.read()
    plans = [
        p
        for q in (unreviewed, meteors, unreviewed.replace(camera_id="cam-a"))
        for p in _plans(conn, lambda q=q: browse.count(conn, q))
    ]
    assert not any("label=?" in p or "event_type=?" in p for p in plans), plans
    assert browse.count(arch, unreviewed) == 7
    assert browse.count(arch, unreviewed.replace(sort="duration")) == 7
    assert browse.count(arch, meteors) == 8
    assert browse.count(arch, Query(event_type="meteorpi:sprite")) == 1
    assert browse.count(arch, Query(event_type="meteorpi:none")) == 0
    # Beside a camera: that camera's events less its others.
    assert browse.count(arch, unreviewed.replace(camera_id="cam-a")) == 7
    assert browse.count(arch, unreviewed.replace(camera_id="cam-b")) == 0
    assert browse.count(arch, meteors.replace(camera_id="cam-a", review=browse.UNREVIEWED)) == 6
    assert browse.count(arch, unreviewed.replace(after=NIGHT1, before=NIGHT2)) == 7
    # Anything more and the filter is counted as it is.
    assert browse.count(arch, unreviewed.replace(camera_id="cam-a", text="nosuch")) == 0
    assert browse.count(arch, unreviewed.replace(keep=frozenset({events[0].event_id}))) == 8
    mark = browse.watermark(arch)
    make.event(t=NIGHT1 + 10 * HOUR)
    assert browse.count(arch, unreviewed, upto=mark) == 7
    assert browse.count(arch, unreviewed) == 8


def _noted_events(make, n: int, seed: int, plane_every: int) -> list:
    """Events of two cameras a minute apart, each noted "fireball" but every
    ``plane_every``-th, noted "plane"."""
    rng = random.Random(seed)
    return [
        make.event(
            rng.choice(["cam-a", "cam-b"]),
            NIGHT1 + k * 60_000,
            duration=round(rng.uniform(0.1, 3), 1),
            extra_meta=[
                Meta("string", "meteorpi:note", "fireball" if k % plane_every else "plane")
            ],
        )
        for k in range(n)
    ]


@pytest.mark.parametrize("sort,descending", [("time", True), ("duration", False)])
def test_a_word_most_events_hold_reads_its_page_row_by_row_with_the_same_rows(
    arch, make, sort, descending
):
    """Listing every match of a word nearly all events hold, to check rows against it,
    read the whole index; the first rows in order, each looked up, give the same page."""
    events = _noted_events(make, 200, seed=5, plane_every=7)
    q = Query(text="fireball", sort=sort, descending=descending)
    conn = arch.db.read()
    plans = _plans(conn, lambda: browse.page(conn, q, 0, 20), kind="SELECT")
    # The index is asked about some rows (a rowid or a range of them: "=", "<", ">" in
    # its plan), never for every match.
    asked = [p for p in plans if "event_summary_fts VIRTUAL TABLE" in p]
    assert asked and all(re.search(r"INDEX 0:\S*[=<>]", p) for p in asked), plans
    holding = {e.event_id for e in events if any(m.value == "fireball" for m in e.meta)}
    everything = [r for r in browse.page(arch, Query(sort=sort, descending=descending), 0, 500)]
    expected = [r for r in everything if r.event_id in holding]
    assert browse.page(arch, q, 0, 20) == expected[:20]
    assert browse.page(arch, q, 30, 20) == expected[30:50]
    assert browse.page(arch, q, 0, 20, after=expected[9]) == expected[10:30]
    assert (
        browse.page(arch, q.replace(camera_id="cam-b"), 0, 10)
        == [r for r in expected if r.camera_id == "cam-b"][:10]
    )
    # Counted by the look-up of the word's one term.
    assert browse.count(arch, q) == len(holding)
    assert browse.count(arch, Query(text="plane")) == 200 - len(holding)
    assert browse.count(arch, Query(text="nosuchword")) == 0
    # "meteor" begins "meteor" and "meteorpi", the latter in every event: all of them.
    listed = _plans(conn, lambda: browse.count(conn, Query(text="meteor")), kind="SELECT")
    assert not any("event_summary_fts VIRTUAL TABLE" in p for p in listed), listed
    assert browse.count(arch, Query(text="meteor")) == 200


def test_a_text_of_several_words_most_events_hold_reads_its_page_row_by_row_after_its_count(
    arch, make, monkeypatch
):
    """ "site b" (the camera names "Site B" and "Site A"): its page listed every match to
    check rows against it (197 ms on a million events). The browser counts a text before
    it reads the first page; that count tells that most events match, and the page is
    read row by row, with the same rows. Unknown before the count, it is read the usual
    way; a text few events match, the usual way after its count too."""
    rng = random.Random(3)
    notes = rng.choices(["fireball bright", "fireball", "bright", "plane"], [8, 1, 1, 1], k=120)
    noted = {
        make.event(
            rng.choice(["cam-a", "cam-b"]),
            NIGHT1 + k * 60_000,
            extra_meta=[Meta("string", "meteorpi:note", note)],
        ).event_id: set(note.split())
        for k, note in enumerate(notes)
    }
    conn = arch.db.read()
    checked = []  # the texts whose page was read row by row
    row_check = search.row_check
    monkeypatch.setattr(
        search, "row_check", lambda text, c: checked.append(text) or row_check(text, c)
    )
    everything = browse.page(arch, Query(), 0, 500)
    for text, words, dense in [
        ("fireball bright", {"fireball", "bright"}, True),
        ("fireball plane", {"fireball", "plane"}, False),
    ]:
        q = Query(text=text)
        expected = [r for r in everything if words <= noted[r.event_id]]
        conn.memo().clear()
        checked.clear()
        assert browse.page(conn, q, 0, 20) == expected[:20]
        assert checked == []  # not known to be dense before the count
        assert browse.count(conn, q) == len(expected)
        assert browse.page(conn, q, 0, 20) == expected[:20]
        assert browse.page(conn, q, 30, 20) == expected[30:50]
        assert checked == ([text, text] if dense else []), text
        if dense:
            plans = _plans(conn, lambda q=q: browse.page(conn, q, 0, 20), kind="SELECT")
            asked = [p for p in plans if "event_summary_fts VIRTUAL TABLE" in p]
            assert asked and all(re.search(r"INDEX 0:\S*[=<>]", p) for p in asked), plans


def _fireballs_and_planes(make) -> dict[str, str]:
    """120 events a minute apart, noted "fireball bright" but for one in twelve, "plane
    low": each event's id and its note."""
    notes = {}
    for k in range(120):
        note = "plane low" if k % 12 == 5 else "fireball bright"
        event = make.event(
            "cam-a", NIGHT1 + k * 60_000, extra_meta=[Meta("string", "meteorpi:note", note)]
        )
        notes[event.event_id] = note
    return notes


def test_a_text_many_events_hold_is_counted_without_listing_its_matches(arch, make, monkeypatch):
    """ "amplitudePeak=2" (213,679 of a million events) listed 200,001 matches for the
    page and then, finding more, counted them all again: two walks of a phrase over a
    million events. Its first matches lie close together, so it is counted alone, and its
    page read row by row; a text whose first matches lie far apart keeps its list."""
    notes = _fireballs_and_planes(make)
    monkeypatch.setattr(search, "PROBE", 5)
    everything = browse.page(arch, Query(), 0, 500)
    for text, listed in [("fireball bright", False), ("plane low", True)]:
        q = Query(text=text)
        conn = arch.db.read()
        conn.memo().clear()
        seen: list[str] = []
        conn.set_trace_callback(seen.append)
        try:
            n = browse.count(conn, q)
        finally:
            conn.set_trace_callback(None)
        expected = [r for r in everything if notes[r.event_id] == text]
        assert n == len(expected) > search.PROBE
        ours = [s for s in seen if not s.startswith("--")]  # not FTS5's own statements
        walks = [s for s in ours if "MATCH" in s and "LIMIT" not in s or "json_group_array" in s]
        assert len(walks) == 1, seen  # one walk of every match: the count or the list
        assert ("json_group_array" in walks[0]) == listed, seen
        assert browse.page(conn, q, 0, 8) == expected[:8]
        assert browse.page(conn, q, 40, 20) == expected[40:60]


def test_a_text_many_events_hold_can_be_paged_before_it_is_counted(arch, make, monkeypatch):
    """Counting such a text is FTS5 walking it over the whole index (80-116 ms on a million
    events): asked for a count it need not make exactly, the browser gets None at the cost
    of the probe alone, and the first page is still read row by row, with the same rows;
    a text few events hold is counted as before."""
    text_of = _fireballs_and_planes(make)
    monkeypatch.setattr(search, "PROBE", 5)
    checked = []
    row_check = search.row_check
    monkeypatch.setattr(
        search, "row_check", lambda text, c: checked.append(text) or row_check(text, c)
    )
    everything = browse.page(arch, Query(), 0, 500)
    for text, dense in [("fireball bright", True), ("plane low", False)]:
        q = Query(text=text)
        expected = [r for r in everything if text_of[r.event_id] == text]
        conn = arch.db.read()
        conn.memo().clear()
        checked.clear()
        seen: list[str] = []
        conn.set_trace_callback(seen.append)
        try:
            n = browse.count(conn, q, exact=False)
        finally:
            conn.set_trace_callback(None)
        ours = [s for s in seen if not s.startswith("--")]  # not FTS5's own statements
        walks = [s for s in ours if "MATCH" in s and "MIN(rowid)" not in s]  # not the probe
        assert len(walks) == (0 if dense else 1), seen  # the matches counted, or not at all
        assert n == (None if dense else len(expected))
        assert browse.page(conn, q, 0, 8) == expected[:8]
        assert checked == ([text] if dense else []), text
        assert browse.count(conn, q) == len(expected)


def test_the_place_of_an_event_under_a_word_every_event_holds_skips_the_index(arch, make):
    """The window finds the chosen event's row in a new list: under a word every event
    holds ("duration"), counting the rows before it through the full-text index read every
    match (15 s on a million events); it is the row's place without the word."""
    events = _noted_events(make, 60, seed=7, plane_every=5)
    conn = arch.db.read()
    for sort in ("time", "duration"):
        listed = [r.event_id for r in browse.page(arch, Query(sort=sort), 0, 100)]
        for event_id in (listed[0], listed[37], listed[-1]):
            q = Query(text="duration", sort=sort)
            plans = _plans(conn, lambda q=q, e=event_id: browse.position_of(conn, q, e))
            counted = [p for p in plans if "event_summary_fts" in p]
            assert not counted, plans
            assert browse.position_of(conn, q, event_id) == listed.index(event_id)
        # Events arriving under such a word are placed the same way, each where it belongs.
        q = Query(text="duration", sort=sort)
        plans = _plans(conn, lambda q=q: browse.arrivals(conn, q, since=0))
        assert not [p for p in plans if "event_summary_fts" in p], plans
        came = browse.arrivals(conn, q, since=0).rows
        assert [(at, row.event_id) for at, row in came] == list(enumerate(listed))
        # A word some events lack still counts through the index, and still rightly.
        held = [
            e for e in listed if e in {ev.event_id for ev in events if ev.meta[-1].value == "plane"}
        ]
        q = Query(text="plane", sort=sort)
        assert [browse.position_of(conn, q, e) for e in held] == list(range(len(held)))


@pytest.mark.parametrize(
    "q",
    [
        Query(),
        Query(review=browse.REVIEWED),
        Query(text="plane"),
        Query(text="fireball", camera_id="cam-b", sort="duration", descending=False),
        Query(shower=browse.NO_SKY),
    ],
    ids=["all", "reviewed", "rare word", "word, camera, by duration", "no sky position"],
)
def test_arrivals_read_the_new_rows_alone(arch, make, q):
    """After every filter change and burst of events the browser asks for what was
    archived after its watermark: SQLite walked the sort index from the top checking each
    entry's ``seq``, and listed every match of the text first (40-400 ms on a million
    events), to find a few rows or none."""
    events = _noted_events(make, 40, seed=11, plane_every=3)
    browse.review(arch, [events[0].event_id, events[7].event_id], "meteor")
    SkyResults(arch.db).put(
        [
            SkyResult(e.event_id, e.camera_id, e.event_time, None, "no path", *[None] * 4)
            for e in events[::2]
        ],
        NIGHT2,
    )
    mark = browse.watermark(arch)
    shown = browse.page(arch, q, 0, 1000, upto=mark)
    conn = arch.db.read()
    # Nothing new: nothing read but the watermark.
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        assert browse.arrivals(conn, q, since=mark).rows == []
    finally:
        conn.set_trace_callback(None)
    assert len(seen) == 1 and "MAX(seq)" in seen[0], seen
    late = _noted_events(make, 12, seed=12, plane_every=2)
    browse.review(arch, [late[1].event_id], "plane")
    SkyResults(arch.db).put(
        [
            SkyResult(e.event_id, e.camera_id, e.event_time, None, "no path", *[None] * 4)
            for e in late[:5]
        ],
        NIGHT2,
    )
    plans = _plans(conn, lambda: browse.arrivals(conn, q, since=mark), kind="SELECT EVENT_ID")
    assert plans and all("INTEGER PRIMARY KEY" in p for p in plans), plans
    assert not any("event_summary_time" in p for p in plans), plans
    listed = [p for p in plans if "event_summary_fts VIRTUAL TABLE" in p]
    assert all(re.search(r"INDEX 0:\S*[<>]", p) for p in listed), plans
    new = browse.arrivals(conn, q, since=mark)
    for position, row in new.rows:
        shown.insert(position, row)
    assert shown == browse.page(arch, q, 0, 1000)


def test_the_place_of_an_event_under_a_common_word_or_sky_result_reads_no_list_first(arch, make):
    """Whether the chosen event passes a filter is asked of its row alone, and its place
    under a word most events hold walks the sort index: the list of every match of the
    word or of a common sky result came first, and the count looked up every match's row
    (0.2-5 s for an event a few nights deep among a million)."""
    with arch.db.write():  # one transaction: the archive API joins it
        # More than a thousand: a word is read as common from a thousand matches on.
        events = _noted_events(make, 1300, seed=9, plane_every=6)
    SkyResults(arch.db).put(
        [
            SkyResult(e.event_id, e.camera_id, e.event_time, None, "no path", *[None] * 4)
            for e in events[1:]
        ],
        NIGHT2,
    )
    conn = arch.db.read()
    for q in (Query(text="fireball"), Query(shower=browse.NO_SKY), Query(text="plane")):
        listed = [r.event_id for r in browse.page(arch, q, 0, 2000)]
        for event_id in (listed[0], listed[len(listed) // 2], listed[-1], events[0].event_id):

            def place(q=q, e=event_id):
                return browse.position_of(conn, q, e)

            rows = _plans(conn, place, "SELECT EVENT_ID")
            assert rows and not any("sky_results_shower_time" in p for p in rows), rows
            fts = [p for p in rows if "event_summary_fts VIRTUAL TABLE" in p]
            assert all(re.search(r"INDEX 0:\S*[<>]", p) for p in fts), rows
            counts = _plans(conn, place, "SELECT COUNT(*) FROM EVENT_SUMMARY WHERE")
            if q.text == "fireball" and event_id in listed:
                assert counts and not any("INTEGER PRIMARY KEY" in p for p in counts), counts
            place = browse.position_of(conn, q, event_id)
            assert place == (listed.index(event_id) if event_id in listed else None)


def test_reviewed_and_a_word_every_event_holds_are_counted_beside_other_filters_quickly(arch, make):
    """Beside a time range, "reviewed" was counted walking every event of the range (a
    year: 364,000 on a million); beside a camera, a word every event holds checked each of
    the camera's events against the list of every match."""
    events = _noted_events(make, 60, seed=13, plane_every=4)
    browse.review(arch, [e.event_id for e in events[::3]], "meteor")
    browse.review(arch, [events[1].event_id, events[4].event_id], "plane")
    conn = arch.db.read()
    reviewed = Query(review=browse.REVIEWED, after=NIGHT1 + 10 * 60_000, before=NIGHT2)
    plans = _plans(conn, lambda: browse.count(conn, reviewed))
    assert plans and all("event_summary_label" in p for p in plans), plans
    for q in (
        reviewed,
        reviewed.replace(camera_id="cam-a"),
        reviewed.replace(text="plane"),
        Query(review=browse.REVIEWED),
    ):
        assert browse.count(conn, q) == len(browse.page(arch, q, 0, 100)) > 0
    mark = browse.watermark(arch)
    browse.review(arch, [make.event(t=NIGHT1 + 5 * HOUR, duration=1.0).event_id], "other")
    assert browse.count(conn, reviewed, upto=mark) == browse.count(conn, reviewed) - 1
    duration = Query(camera_id="cam-b", text="duration")
    plans = _plans(conn, lambda: browse.count(conn, duration))
    assert plans and not any("event_summary_fts" in p for p in plans), plans
    assert browse.count(conn, duration) == len([e for e in events if e.camera_id == "cam-b"])


def test_a_page_of_a_rare_word_sorts_its_matches_before_reading_their_columns(arch, make):
    """A page sorted every match with all its columns (the export, shower and group
    look-ups of each: 52 ms for a word 4,036 events hold among a million) to keep a page
    of them; the page's rows are chosen first now."""
    events = _noted_events(make, 120, seed=17, plane_every=12)  # fewer than 1 in DENSE
    q = Query(text="plane")
    conn = arch.db.read()
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        rows = browse.page(conn, q, 2, 10)
    finally:
        conn.set_trace_callback(None)
    (sql,) = [s for s in seen if s.startswith("SELECT event_id")]
    plan = {r[0]: (r[1], r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql)}
    sorts = [parent for parent, detail in plan.values() if detail.startswith("USE TEMP B-TREE")]
    # The matches are sorted inside the sub-query choosing the page's rows.
    assert any(plan.get(p, (0, ""))[1].startswith("LIST SUBQUERY") for p in sorts), plan
    newest_first = sorted(events, key=lambda e: -e.event_time)
    planes = [e.event_id for e in newest_first if any(m.value == "plane" for m in e.meta)]
    assert ids(rows) == planes[2:12]
    assert ids(browse.page(conn, q, 0, 5, after=rows[0])) == planes[3:8]


def test_a_search_of_words_is_asked_of_the_index_once_without_a_word_every_event_holds(arch, make):
    """ "duration 1.5" made FTS5 intersect the million events holding "duration" with the
    matches of "1.5", and evaluate "1.5" (150-250 ms: "5" is a short prefix) again for the
    page; the count keeps the matches for the page, and a word every event holds is left
    out."""
    events = _noted_events(make, 80, seed=19, plane_every=10)  # fewer than 1 in DENSE
    q = Query(text="note=plane duration")
    expected = [
        r.event_id
        for r in browse.page(arch, Query(), 0, 100)
        if any(e.event_id == r.event_id and e.meta[0].value == "plane" for e in events)
    ]
    with browse.snapshot(arch) as (conn, mark):
        seen: list[str] = []
        conn.set_trace_callback(seen.append)
        try:
            n = browse.count(conn, q, upto=mark)
            counted = len(seen)
            rows = browse.page(conn, q, 0, 100, upto=mark)
        finally:
            conn.set_trace_callback(None)
    asked = [sql for sql in seen if "MATCH" in sql]
    assert asked and not any("duration" in sql for sql in asked), asked
    assert not any("MATCH" in sql for sql in seen[counted:]), seen[counted:]
    assert n == len(expected) == 8 and ids(rows) == expected
    # Read again with nothing remembered: the same rows.
    assert ids(browse.page(arch, q, 0, 100)) == expected
    assert ids(browse.page(arch, q.replace(camera_id="cam-a"), 0, 100)) == [
        i for i in expected if any(e.event_id == i and e.camera_id == "cam-a" for e in events)
    ]


def test_reviewed_events_are_paged_and_placed_from_the_label_index(arch, make):
    """A page of "reviewed" walked the time index looking up each event's row for its
    label (20,000 rows a page when one night in twenty is reviewed); each label's newest
    are read from the label index and merged."""
    events = _noted_events(make, 90, seed=23, plane_every=4)
    rng = random.Random(23)
    browse.set_reviews(
        arch, {e.event_id: rng.choice(browse.LABELS) for e in events if rng.random() < 0.5}
    )
    conn = arch.db.read()
    for q in (
        Query(review=browse.REVIEWED),
        Query(review=browse.REVIEWED, descending=False, camera_id="cam-b"),
        Query(review=browse.REVIEWED, after=NIGHT1 + 20 * 60_000, before=NIGHT1 + 70 * 60_000),
    ):
        everything = browse.page(arch, q.replace(review=None), 0, 200)
        expected = [r for r in everything if r.label is not None]
        plans = _plans(conn, lambda q=q: browse.page(conn, q, 0, 10), "SELECT EVENT_ID")
        assert plans and all(
            "event_summary_label" in p and "event_summary_time" not in p for p in plans
        ), plans
        assert browse.page(conn, q, 0, 10) == expected[:10]
        assert browse.page(conn, q, 7, 10) == expected[7:17]
        assert browse.page(conn, q, 2, 5, after=expected[3]) == expected[6:11]
        assert browse.page(conn, q, 0, 500) == expected
        row = expected[len(expected) // 2]
        counts = _plans(conn, lambda q=q, e=row.event_id: browse.position_of(conn, q, e))
        assert counts and all("event_summary_label" in p for p in counts), counts
        assert browse.position_of(conn, q, row.event_id) == len(expected) // 2


def test_a_word_every_event_type_holds_is_searched_without_the_index(arch, make):
    """ "meteor": every event of a MeteorPi archive is a "meteorpi:meteor", yet the look-up
    of the terms it begins read two million index entries to learn it (80 ms)."""
    _noted_events(make, 30, seed=29, plane_every=4)
    conn = arch.db.read()
    everything = browse.page(arch, Query(), 0, 100)
    for text in ("meteor", "METEORPI", "met"):
        q = Query(text=text)
        seen: list[str] = []
        conn.set_trace_callback(seen.append)
        try:
            n, rows = browse.count(conn, q), browse.page(conn, q, 0, 100)
        finally:
            conn.set_trace_callback(None)
        assert not [sql for sql in seen if "event_summary_fts" in sql or "_terms" in sql]
        assert n == 30 and rows == everything
    # An event of another type: the word is searched in the index, and rightly.
    other = make.event(t=NIGHT1 + 3 * HOUR, event_type="allsky:fireball")
    q = Query(text="meteor")
    assert browse.count(arch, q) == 30
    assert other.event_id not in ids(browse.page(arch, q, 0, 100))
    assert browse.count(arch, Query(text="allsky")) == 1


def test_a_filter_on_the_sky_alone_is_counted_from_the_results(arch, make):
    events = [make.event(t=NIGHT1 + k * 60_000) for k in range(6)]
    shower = ["PER", "sporadic", None, None, "PER", None]
    results = [
        SkyResult(
            e.event_id, e.camera_id, e.event_time, s, None if s else "no path",
            None, None, None, None, group_id="g1" if k in (0, 1) else None,
        )
        for k, (e, s) in enumerate(zip(events, shower, strict=True))
    ]  # fmt: skip
    SkyResults(arch.db).put(results, NIGHT2)
    make.event(t=NIGHT1 + 8 * HOUR)  # no result yet
    conn = arch.db.read()
    for q, n in [
        (Query(shower="PER"), 2),
        (Query(shower=browse.ANY_SHOWER), 2),
        (Query(shower=browse.SPORADIC), 1),
        (Query(shower=browse.NO_SKY), 3),
        (Query(multi_camera=True), 2),
        (Query(shower=browse.NO_SKY, camera_id="cam-a"), 3),
    ]:
        plans = _plans(conn, lambda q=q: browse.count(conn, q))
        alone = q.camera_id is None
        assert all(("event_summary" not in p) == alone for p in plans), (q, plans)
        assert browse.count(arch, q) == n
        assert len(browse.page(arch, q, 0, 10)) == n
