"""Sky results through the real thing: a simulated 2015-style night pushed over
loopback HTTP into a real archive, computed, stored, recomputed, exported."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json

import pytest

from meteorgui.archive import browse
from meteorgui.exporter import ImportClient
from meteorgui.model import Orientation
from meteorgui.simulate import push_night
from meteorgui.simulate.showers import make_sky_night, score
from meteorgui.sky.analysis import VERSION
from meteorgui.sky.chart import sky_chart
from meteorgui.sky.compute import compute_missing, file_opener, results_for
from meteorgui.sky.export import export_meteors
from meteorgui.sky.worker import SkyWorker

from .conftest import CAMERA_USER


@pytest.fixture(scope="module")
def sky_night():
    return make_sky_night(3, meteors=40, stills=False)


def _push(server, night, entities=None):
    with ImportClient(server.url, *CAMERA_USER) as client:
        summary = push_night(night, client, on_progress=None, entities=entities)
    assert summary.ok, summary.failures


def test_pushed_night_is_computed_stored_and_scored(archive, server, sky_night):
    _push(server, sky_night.night)
    stored = compute_missing(archive)
    assert len(stored) == len(sky_night.night.events)
    from meteorgui.archive.sky import SkyResults

    sky = SkyResults(archive.db)
    assert sky.outdated(VERSION) == []  # nothing left to compute
    assert compute_missing(archive) == []
    results = results_for(archive, [e.event_id for e in sky_night.night.events])
    figures = score(sky_night.truth, results)
    assert figures["right_shower"] >= 0.85 and figures["grouped"] >= 0.9, figures
    listing = sky.listing()
    assert [r.time_ms for r in listing] == sorted(r.time_ms for r in listing)
    per = sky.listing(shower="PER")
    assert per and all(r.shower == "PER" for r in per)
    grouped = [r for r in listing if r.group_id]
    # A group whose planes cross too flatly keeps no trajectory; most have one.
    solved = [r for r in grouped if r.begin_height_km is not None]
    assert len(solved) >= 0.8 * len(grouped) > 0
    assert all(60 < r.begin_height_km < 140 and 11 < r.speed_km_s < 75 for r in solved)
    members = sky.group(grouped[0].group_id)
    assert len({r.camera_id for r in members}) == len(members) >= 2
    counts = sky.counts()
    meteors = len({r.group_id or r.event_id for r in listing})
    assert sum(counts.values()) == meteors
    assert sum(sky.hourly().values()) == meteors
    # An event reviewed as something else is no meteor; one reviewed as a meteor still is.
    lone = [r for r in listing if not r.group_id]
    browse.set_reviews(archive, {lone[0].event_id: "plane", lone[1].event_id: "meteor"})
    assert sum(sky.counts().values()) == meteors - 1
    assert sum(sky.hourly().values()) == meteors - 1
    assert sky.counts().get(lone[0].shower, 0) == counts[lone[0].shower] - 1


def test_an_unfitted_camera_has_no_sky_position_and_says_why(archive, server, sky_night):
    night = sky_night.night
    camera = night.cameras[0]
    unfitted = tuple(
        dataclasses.replace(s, orientation=Orientation(alt=0, az=0, rot=0, error=360, width=0))
        if s.camera_id == camera
        else s
        for s in night.statuses
    )
    _push(server, dataclasses.replace(night, statuses=unfitted))
    compute_missing(archive)
    results = results_for(archive, [e.event_id for e in night.events])
    mine = [results[e.event_id] for e in night.events if e.camera_id == camera]
    assert mine and all(r.shower is None and "error 360" in r.reason for r in mine)
    assert all(r.to_dict()["shower"] is None and r.to_dict()["reason"] for r in mine)
    others = [results[e.event_id] for e in night.events if e.camera_id != camera]
    assert all(r.shower is not None and r.group_id is None for r in others)


def test_a_refitted_orientation_marks_the_cameras_events_for_recompute(archive, server, sky_night):
    night = sky_night.night
    _push(server, night)
    compute_missing(archive)
    camera = night.cameras[1]
    old = next(s for s in night.statuses if s.camera_id == camera)
    first = min(e.event_time for e in night.events if e.camera_id == camera)
    refit = dataclasses.replace(
        old,
        status_id="c" * 32,
        valid_from=first - 1000,
        orientation=dataclasses.replace(old.orientation, az=old.orientation.az + 5.0),
    )
    archive.store_status(refit)
    from meteorgui.archive.sky import SkyResults

    outdated = {e for e, _ in SkyResults(archive.db).outdated(VERSION)}
    assert outdated == {e.event_id for e in night.events if e.camera_id == camera}
    compute_missing(archive)
    after = results_for(archive, outdated)
    assert all(r.status_id == refit.status_id for r in after.values())


def test_the_worker_reads_each_status_and_models_each_camera_once(
    archive, server, sky_night, monkeypatch
):
    """The sky worker computes each event of a busy night, a few per round: reading and
    parsing the camera's status and building its view's frame for each event cost it
    about a sixth of its CPU. A status's content never changes, so the worker keeps them
    between rounds, and the results stay those of a status read per event."""
    from meteorgui.sky import camera, compute

    night = sky_night.night
    _push(server, night)
    times = sorted(e.event_time for e in night.events)
    rounds = [(times[i], times[min(i + 2, len(times) - 1)] + 1) for i in range(0, len(times), 3)]
    expected = [compute.compute_range(archive, lo, hi) for lo, hi in rounds]
    used = {r.status_id for results in expected for r in results}
    reads, frames = [], []
    real_get, real_frame = archive.get_status, camera.CameraModel.__dict__["_frame_parts"].func

    def get_status(status_id):
        reads.append(status_id)
        return real_get(status_id)

    def frame(model):
        frames.append(model)
        return real_frame(model)

    monkeypatch.setattr(archive, "get_status", get_status)
    monkeypatch.setattr(camera.CameraModel, "_frame_parts", functools.cached_property(frame))
    monkeypatch.setattr(camera.CameraModel._frame_parts, "attrname", "_frame_parts")
    cameras = compute.Cameras(archive)  # as the worker keeps them, round after round
    again = [compute.compute_range(archive, lo, hi, cameras) for lo, hi in rounds]
    assert sorted(reads) == sorted(used) and len(used) >= len(night.cameras)
    assert len(frames) == len(used)  # the night's stills are all one size
    assert again == expected


@contextlib.contextmanager
def _worker_and_server(tmp_path):
    """An archive, its sky worker (no start-up delay) and an importer server on one hub."""
    from meteorgui import notify
    from meteorgui.archive import Archive
    from meteorgui.importer import Importer, ImporterServer

    hub = notify.Hub()
    archive = Archive(tmp_path / "w", hub)  # the worker hears what this archive announces
    archive.users.add(*CAMERA_USER, roles=["import"])
    worker = SkyWorker(archive, hub, settle_s=0.05, first_delay_s=0)
    importer = Importer(archive, hub)
    server = ImporterServer(archive, "127.0.0.1", 0, importer=importer)
    server.start()
    try:
        yield hub, archive, worker, server
    finally:
        server.stop()
        importer.close()
        worker.close()
        archive.close()


def test_the_worker_computes_off_the_request_thread_as_events_arrive(tmp_path, sky_night):
    with _worker_and_server(tmp_path) as (hub, archive, worker, server):
        published = []
        hub.subscribe("sky", published.append)
        _push(server, sky_night.night)
        assert worker.wait_idle(timeout=60)
        results = results_for(archive, [e.event_id for e in sky_night.night.events])
        assert len(results) == len(sky_night.night.events)
        assert {r.event_id for batch in published for r in batch} == set(results)


def test_the_core_keeps_sky_results_as_a_night_arrives(tmp_path, sky_night):
    from meteorgui.core import Core

    core = Core(tmp_path / "core")
    try:
        core.archive.users.add(*CAMERA_USER, roles=["import"])
        server = core.start_importer("127.0.0.1", 0)
        _push(server, sky_night.night)
        assert core.sky.wait_idle(timeout=60)  # its first round waits 3 s after start-up
        ids = [e.event_id for e in sky_night.night.events]
        assert set(results_for(core.archive, ids)) == set(ids)
    finally:
        core.close()


def test_the_sky_chart_without_orientation_says_why(archive, server, sky_night):
    night = sky_night.night
    e = night.events[0]
    status = dataclasses.replace(
        night.status(e.status_id),
        orientation=Orientation(alt=0, az=0, rot=0, error=360, width=0),
    )
    chart = sky_chart(e, status, lambda record: io.BytesIO(night.file_bytes(record.file_id)))
    assert not chart.ok and "error 360" in chart.reason and chart.path == []


def test_the_sky_chart_of_a_2015_event(archive, server, sky_night):
    night = sky_night.night
    _push(server, night)
    compute_missing(archive)
    # An event whose path came as meta, the short form real nodes send.
    e = next(e for e in night.events if any(m.key == "meteorpi:path" for m in e.meta))
    status = archive.status_at(e.camera_id, e.event_time)
    result = results_for(archive, [e.event_id])[e.event_id]
    chart = sky_chart(archive.get_event(e.event_id), status, file_opener(archive), result)
    assert chart.ok and len(chart.path) == len(json.loads(
        next(m.value for m in e.meta if m.key == "meteorpi:path")))  # fmt: skip
    assert all(alt > 0 for alt, _ in chart.path)
    assert len(chart.stars) > 100 and chart.lines and chart.regions and len(chart.frame) == 36
    assert chart.shower == result.shower
    if result.radiant is not None:
        assert chart.radiant is not None
    first = chart.path_radec[0]
    assert abs(first[0] - result.first[0]) < 1e-3 and abs(first[1] - result.first[1]) < 1e-3


def test_a_measured_radiant_and_its_showers_catalogue_radiant_are_told_apart(
    archive, server, sky_night
):
    """A chart marked the shower's code at the trajectory's radiant, which may stand
    degrees from the shower's own; text and JSON called both 'radiant'."""
    _push(server, sky_night.night)
    compute_missing(archive)
    results = results_for(archive, [e.event_id for e in sky_night.night.events])
    measured = next(
        r for r in results.values() if r.radiant_measured and r.shower not in (None, "sporadic")
    )
    single = next(
        r for r in results.values() if not r.group_id and r.shower not in (None, "sporadic")
    )
    assert measured.to_dict()["radiant"]["from"] == "trajectory"
    assert single.to_dict()["radiant"]["from"] == "shower catalogue"
    charts = {}
    for r in (measured, single):
        e = archive.get_event(r.event_id)
        status = archive.status_at(e.camera_id, e.event_time)
        charts[r.event_id] = sky_chart(e, status, file_opener(archive), r)
    both = charts[measured.event_id]
    assert both.radiant is not None and both.shower_radiant is not None
    assert both.shower_radiant != both.radiant
    assert charts[single.event_id].shower_radiant is None


# ----------------------------------------------------------------- FTPdetectinfo read-back


def read_ftpdetectinfo(text: str) -> list[dict]:
    """An independent reader, written from the format's description (CAMS/RMS):
    11 header lines, the first ``Meteor Count = N``; then per meteor a dash line,
    the FF file name, a calibration line, ``cam meteor# segments fps hnr mle bin
    pix/fm rho phi``, and lines ``frame x y ra dec azim elev inten [mag bck snr nsat]``."""
    lines = text.splitlines()
    assert lines[0].startswith("Meteor Count = ")
    count = int(lines[0].split("=")[1])
    body = lines[11:]
    meteors, i = [], 0
    while i < len(body):
        assert set(body[i]) == {"-"}, body[i]
        ff, calib, head = body[i + 1], body[i + 2], body[i + 3].split()
        n = int(head[2])
        points = [list(map(float, ln.split()[:9])) for ln in body[i + 4 : i + 4 + n]]
        meteors.append(
            {
                "ff": ff,
                "calibrated": calib != "Uncalibrated",
                "camera": head[0],
                "number": int(head[1]),
                "fps": float(head[3]),
                "points": points,
            }
        )
        i += 4 + n
    assert len(meteors) == count
    return meteors


def test_ftpdetectinfo_and_csv_read_back(archive, server, sky_night, tmp_path):
    night = sky_night.night
    _push(server, night)
    written = export_meteors(archive, tmp_path / "ftp", "ftpdetectinfo")
    assert len(written) == len(night.cameras)
    opener = file_opener(archive)
    for path in written:
        meteors = read_ftpdetectinfo(path.read_text())
        camera = meteors[0]["camera"]
        events = sorted((e for e in night.events if e.camera_id == camera),
                        key=lambda e: e.event_time)  # fmt: skip
        assert len(meteors) == len(events)
        results = results_for(archive, [e.event_id for e in events])
        for m, e in zip(meteors, events, strict=True):
            assert m["calibrated"] and m["fps"] == 25.0
            assert m["ff"].startswith(f"FF_{camera}_") and m["ff"].endswith(".fits")
            from meteorgui.sky.paths import read_path

            path = read_path(e, opener)
            assert [p[1] for p in m["points"]] == list(path.x)
            frame0, x, y, ra, dec = m["points"][0][:5]
            assert frame0 == 0.0
            first = results[e.event_id].first
            assert abs(ra - first[0]) < 1e-3 and abs(dec - first[1]) < 1e-3
    (csv_path,) = export_meteors(archive, tmp_path / "csv", "csv", shower="PER")
    import csv

    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert rows and all(r["shower"] == "PER" for r in rows)
    assert all(float(r["amplitude_peak"]) > 0 for r in rows)
    assert any(r["group"] and float(r["begin_height_km"]) > 60 for r in rows)


def test_the_worker_looks_only_at_what_was_announced_after_its_first_round(
    tmp_path, sky_night, monkeypatch
):
    """A round after the first must not scan the whole archive for missing results: its
    cost would grow with every night archived, in the importer's process."""
    from meteorgui.sky import compute

    calls = []
    real = compute.compute_missing

    def spy(archive, camera_id=None, after=None, before=None, **kept):
        calls.append((camera_id, after, before))
        return real(archive, camera_id, after, before, **kept)

    monkeypatch.setattr(compute, "compute_missing", spy)
    with _worker_and_server(tmp_path) as (_, archive, worker, server):
        assert worker.wait_idle(timeout=60)
        _push(server, sky_night.night)
        assert worker.wait_idle(timeout=60)
        ids = [e.event_id for e in sky_night.night.events]
        assert set(results_for(archive, ids)) == set(ids)  # everything computed, still
        assert calls[0] == (None, None, None)  # the first round: the whole archive
        later = calls[1:]
        assert later and all(after is not None for _, after, _ in later), later
        times = [e.event_time for e in sky_night.night.events]
        spans = [(a, b) for cam, a, b in later if cam is None]
        assert all(b is not None and b - a <= max(times) - min(times) + 1 for a, b in spans)


def test_outdated_events_are_batched_in_ranges_that_cover_each_with_its_neighbours():
    from meteorgui.sky.compute import BATCH, NEIGHBOURS_MS, _batches

    assert list(_batches([])) == []
    gap = 2 * NEIGHBOURS_MS + 1
    dense = [(f"a{i}", 1000 + i) for i in range(BATCH)]
    far = [("b", dense[-1][1] + gap), ("c", dense[-1][1] + gap + 5)]
    batches = list(_batches(dense + far))
    # A gap after BATCH events ends a batch (a transaction); before that, a range.
    assert batches == [
        [(1000 - NEIGHBOURS_MS, dense[-1][1] + NEIGHBOURS_MS + 1)],
        [(far[0][1] - NEIGHBOURS_MS, far[1][1] + NEIGHBOURS_MS + 1)],
    ]
    few = [("x", 0), ("y", gap), ("z", gap + 2 * NEIGHBOURS_MS)]
    assert list(_batches(few)) == [
        [(-NEIGHBOURS_MS, NEIGHBOURS_MS + 1), (gap - NEIGHBOURS_MS, gap + 3 * NEIGHBOURS_MS + 1)]
    ]
    ranges = [r for batch in batches for r in batch]
    for _, t in dense + far:
        assert any(lo <= t - NEIGHBOURS_MS and t + NEIGHBOURS_MS < hi for lo, hi in ranges)


def test_a_round_analyses_the_new_events_and_their_neighbours_only(
    archive, server, sky_night, monkeypatch
):
    """Cameras pushing at once announce events far apart in their nights in one round:
    the events between them are not analysed again (with twelve cameras pushing, a round
    analysed 3.3 events per event archived), and the results are those of the whole
    night analysed at once."""
    from meteorgui.sky import compute
    from meteorgui.sky.compute import NEIGHBOURS_MS

    night = sky_night.night
    _push(server, night)
    compute_missing(archive)
    ids = [e.event_id for e in night.events]
    everything = results_for(archive, ids)
    events = sorted(night.events, key=lambda e: e.event_time)
    first, last = events[0], events[-1]
    with archive.db.write() as conn:
        conn.execute(
            "DELETE FROM sky_results WHERE event_id IN (?, ?)", (first.event_id, last.event_id)
        )
    analysed: list[str] = []
    real = compute.analyse

    def counting(items):
        analysed.extend(event_id for event_id, *_ in items)
        return real(items)

    monkeypatch.setattr(compute, "analyse", counting)
    compute_missing(archive, after=first.event_time, before=last.event_time + 1)
    near = {
        e.event_id
        for e in events
        if min(abs(e.event_time - first.event_time), abs(e.event_time - last.event_time))
        <= NEIGHBOURS_MS
    }
    assert sorted(analysed) == sorted(near)
    assert len(near) < len(events) / 4
    again = results_for(archive, ids)
    strip = lambda r: dataclasses.replace(r, computed_at=None)  # noqa: E731
    assert {k: strip(r) for k, r in again.items()} == {k: strip(r) for k, r in everything.items()}


def test_the_sky_worker_leaves_the_cpu_to_the_window_first(tmp_path):
    """Its geometry is background work: its thread runs at a higher nice value than the
    process's (the window's), so the scheduler gives a busy window the CPU first."""
    import os

    from .factories import wait_for

    with _worker_and_server(tmp_path) as (_hub, _archive, worker, _server):
        tid = worker._thread.native_id
        main = os.getpriority(os.PRIO_PROCESS, os.getpid())
        wait_for(lambda: os.getpriority(os.PRIO_PROCESS, tid) > main, timeout=10)
