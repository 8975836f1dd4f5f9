"""ThumbnailService: off the GUI thread, cached on disk, clear badges, newest request first."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from PySide6.QtGui import QImage

from meteorgui.gui.common import thumbnails as th
from meteorgui.model import FileRecord
from meteorgui.simulate import make_night

from . import factories as fx

SIZE = 96


def fill(archive, night, *, skip_bytes=()):
    """Archive a simulated night through the archive API (real PNGs and mp4s)."""
    for st in night.statuses:
        archive.store_status(st)
    for ev in night.events:
        for f in ev.files:
            if f.file_id not in skip_bytes:
                assert archive.store.put(f.file_id, f.md5, io.BytesIO(night.file_bytes(f.file_id)))
        archive.store_event(ev)
    return night


def by_mime(event, mime, semantic=""):
    return next(f for f in event.files if f.mime_type == mime and semantic in f.semantic_type)


@pytest.fixture
def svc(qtbot, archive, tmp_path):
    s = th.ThumbnailService(archive.store, tmp_path / "data" / "thumbnails")
    yield s
    s.shutdown()


def wait_state(qtbot, svc, f, size=SIZE, timeout=10_000):
    qtbot.waitUntil(lambda: svc.state(f.file_id, f.md5, size) != th.LOADING, timeout=timeout)
    return svc.state(f.file_id, f.md5, size)


def test_decodes_off_the_gui_thread_into_memory_and_disk_cache(qtbot, archive, svc, monkeypatch):
    night = fill(archive, make_night(3, events=1, timelapse=0))
    still = by_mime(night.events[0], "image/png", "maxBrightness")
    threads, nice = [], []
    real = th.decode_image

    def spy(path, size):
        threads.append(threading.get_ident())
        nice.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return real(path, size)

    monkeypatch.setattr(th, "decode_image", spy)
    placeholder = svc.get(still.file_id, still.md5, still.mime_type, SIZE)
    assert svc.state(still.file_id, still.md5, SIZE) == th.LOADING
    assert not placeholder.isNull()
    with qtbot.waitSignal(svc.ready, timeout=10_000) as blocker:
        pass
    assert blocker.args == [still.file_id]
    assert svc.state(still.file_id, still.md5, SIZE) == th.OK
    assert threads and threading.main_thread().ident not in threads
    # At a lower CPU priority than the window: decoding waits for it, not the other way.
    assert min(nice) > os.getpriority(os.PRIO_PROCESS, os.getpid())

    image = svc.get(still.file_id, still.md5, still.mime_type, SIZE)
    assert (image.width(), image.height()) == (SIZE, SIZE * 3 // 4)  # 320x240 kept 4:3
    cached = (
        archive.data_dir
        / "thumbnails"
        / still.file_id[:2]
        / (f"{still.file_id}.{still.md5}.{SIZE}.png")
    )
    assert cached.is_file()
    assert QImage(str(cached)).size() == image.size()
    assert not list(cached.parent.glob(".*.tmp"))  # written atomically, nothing left over

    # A fresh service (a new session) reads the disk cache and decodes nothing.
    threads.clear()
    again = th.ThumbnailService(archive.store, archive.data_dir / "thumbnails")
    try:
        again.get(still.file_id, still.md5, still.mime_type, SIZE)
        assert wait_state(qtbot, again, still) == th.OK
        assert threads == []
    finally:
        again.shutdown()


def test_missing_bytes_give_the_missing_badge(qtbot, archive, svc):
    night = make_night(4, events=1, timelapse=0)
    still = by_mime(night.events[0], "image/png", "maxBrightness")
    fill(archive, night, skip_bytes={still.file_id})
    svc.get(still.file_id, still.md5, still.mime_type, SIZE)
    assert wait_state(qtbot, svc, still) == th.MISSING
    image = svc.get(still.file_id, still.md5, still.mime_type, SIZE)
    assert image == svc.badge("missing", SIZE)
    assert image != svc.badge("loading", SIZE)
    assert not (archive.data_dir / "thumbnails" / still.file_id[:2]).exists()  # never cached

    # The bytes arrive (a resend): the badge goes once the service looks again.
    archive.store.put(still.file_id, still.md5, io.BytesIO(night.file_bytes(still.file_id)))
    with qtbot.waitSignal(svc.ready, timeout=5_000):
        svc.recheck_missing([still.file_id])
    svc.get(still.file_id, still.md5, still.mime_type, SIZE)
    assert wait_state(qtbot, svc, still) == th.OK


def test_undecodable_and_damaged_pngs_get_their_own_badges(qtbot, archive, svc, monkeypatch):
    st = fx.status()
    archive.store_status(st)
    junk = b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20
    bad = fx.file_record(st, junk)  # the camera's MD5 matches: the picture itself is broken
    archive.store_file(bad)
    assert archive.store.put(bad.file_id, bad.md5, io.BytesIO(junk))

    night = make_night(5, events=1, timelapse=0)
    data = night.file_bytes(night.events[0].files[1].file_id)
    hurt = fx.file_record(st, data)
    archive.store_file(hurt)
    assert archive.store.put(hurt.file_id, hurt.md5, io.BytesIO(data))
    path = archive.file_path(hurt)
    path.write_bytes(data[: len(data) // 3])  # damaged on disk after it was stored

    svc.get(bad.file_id, bad.md5, bad.mime_type, SIZE)
    svc.get(hurt.file_id, hurt.md5, hurt.mime_type, SIZE)
    assert wait_state(qtbot, svc, bad) == th.UNDECODABLE
    assert wait_state(qtbot, svc, hurt) == th.DAMAGED
    assert svc.get(bad.file_id, bad.md5, "image/png", SIZE) == svc.badge("undecodable", SIZE)
    assert svc.get(hurt.file_id, hurt.md5, "image/png", SIZE) == svc.badge("damaged", SIZE)
    assert svc.badge("damaged", SIZE) != svc.badge("undecodable", SIZE)

    # A resend brings good bytes back: the damaged badge goes once the service looks again
    # (which it does at most every MISSING_RECHECK_S).
    path.write_bytes(data)
    with qtbot.assertNotEmitted(svc.ready, wait=50):
        svc.recheck_missing([hurt.file_id])  # too soon after it found the damage
    monkeypatch.setattr(th, "MISSING_RECHECK_S", 0.0)
    with qtbot.waitSignal(svc.ready, timeout=5_000):
        svc.recheck_missing([hurt.file_id])
    svc.get(hurt.file_id, hurt.md5, hurt.mime_type, SIZE)
    assert wait_state(qtbot, svc, hurt) == th.OK


def test_video_gets_a_poster_frame_from_its_middle(qtbot, archive, svc):
    night = fill(archive, make_night(6, events=1, timelapse=0))
    clip = by_mime(night.events[0], "video/mp4")
    svc.get(clip.file_id, clip.md5, clip.mime_type, SIZE)
    assert wait_state(qtbot, svc, clip) == th.VIDEO
    image = svc.get(clip.file_id, clip.md5, clip.mime_type, SIZE)
    # A real decoded frame (the clips are 160x120), not the badge.
    assert image != svc.badge("video", SIZE)
    assert (image.width(), image.height()) == (SIZE, SIZE * 3 // 4)
    cached = (
        archive.data_dir / "thumbnails" / clip.file_id[:2] / f"{clip.file_id}.{clip.md5}.{SIZE}.png"
    )
    assert cached.is_file()
    # The middle of the clip, where the meteor burns: brighter than the first frame's sky.
    poster = th.grab_video_frame(archive.file_path(clip), SIZE)
    first = _first_frame(archive.file_path(clip), SIZE)
    assert _brightest(poster) > _brightest(first) + 40


def _first_frame(path, size):
    import av

    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return th._frame_image(frame, container.streams.video[0], size)


def _brightest(image):
    return max(
        image.pixelColor(x, y).value() for x in range(image.width()) for y in range(image.height())
    )


def test_damaged_video_gets_the_damaged_badge(qtbot, archive, svc):
    night = fill(archive, make_night(12, events=1, timelapse=0))
    clip = by_mime(night.events[0], "video/mp4")
    path = archive.file_path(clip)
    path.write_bytes(path.read_bytes()[:1000])
    svc.get(clip.file_id, clip.md5, clip.mime_type, SIZE)
    assert wait_state(qtbot, svc, clip) == th.DAMAGED


def test_video_thumbnails_in_fresh_processes_with_a_busy_gui_thread():
    """A few hundred poster frames across fresh processes: no crash, no hang, every
    clip pictured, and Qt's multimedia objects never made off the GUI thread (they
    crashed when several pool threads made the first player at once)."""
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "thumbstress.py"
    cmd = [sys.executable, str(script), "--thumbnails", "300", "--processes", "3"]
    proc = subprocess.run(cmd + ["--timeout", "120"], capture_output=True, text=True, timeout=280)
    out = proc.stdout
    assert "processes 3, thumbnails 300 (posters 270, damaged badges 30), wrong 0" in out, out
    assert "crashes 0, hangs 0, processes with QtMultimedia loaded 0" in out, out
    assert "playing a clip on the GUI thread 1 " in out, out  # the detail pane's player too
    assert proc.returncode == 0, out + proc.stderr


def test_newest_request_first_duplicates_merged_queue_bounded(
    qtbot, archive, tmp_path, monkeypatch
):
    night = fill(archive, make_night(7, events=8, timelapse=0))
    stills = [by_mime(e, "image/png", "maxBrightness") for e in night.events]
    gate = threading.Event()
    order = []
    real = th.decode_image

    def gated(path, size):
        order.append(path.name.split(".")[0])
        gate.wait(10)
        return real(path, size)

    monkeypatch.setattr(th, "decode_image", gated)
    svc = th.ThumbnailService(archive.store, tmp_path / "thumbs", threads=1, max_pending=4)
    try:
        first, rest = stills[0], stills[1:]
        svc.get(first.file_id, first.md5, first.mime_type, SIZE)
        qtbot.waitUntil(lambda: order == [first.file_id])  # the one worker is busy
        for f in rest:  # 7 more requests; the queue keeps the newest 4
            svc.get(f.file_id, f.md5, f.mime_type, SIZE)
        svc.get(rest[-1].file_id, rest[-1].md5, rest[-1].mime_type, SIZE)  # a duplicate
        assert svc.pending_count() == 1 + 4
        gate.set()
        qtbot.waitUntil(lambda: svc.pending_count() == 0, timeout=10_000)
        assert order == [first.file_id] + [f.file_id for f in reversed(rest[-4:])]
        dropped = rest[:-4]
        assert all(svc.state(f.file_id, f.md5, SIZE) == th.LOADING for f in dropped)
        svc.get(dropped[0].file_id, dropped[0].md5, "image/png", SIZE)  # asked again: decoded
        assert wait_state(qtbot, svc, dropped[0]) == th.OK
    finally:
        gate.set()
        svc.shutdown()


def test_memory_cache_is_bounded(qtbot, archive, tmp_path):
    night = fill(archive, make_night(8, events=4, timelapse=0))
    stills = [by_mime(e, "image/png", "maxBrightness") for e in night.events]
    probe = th.decode_image(archive.file_path(stills[0]), SIZE)
    one = probe.sizeInBytes()
    svc = th.ThumbnailService(archive.store, tmp_path / "thumbs", memory_bytes=2 * one + one // 2)
    try:
        for f in stills:
            svc.get(f.file_id, f.md5, f.mime_type, SIZE)
            assert wait_state(qtbot, svc, f) == th.OK
        states = [svc.state(f.file_id, f.md5, SIZE) for f in stills]
        assert states == [th.LOADING, th.LOADING, th.OK, th.OK]  # least recent evicted
    finally:
        svc.shutdown()


def test_best_still_prefers_max_brightness_lens_corrected():
    night = make_night(9, events=1, timelapse=0)
    files = list(night.events[0].files)  # video, maxBrightness/lensCorr, bgrdSub, path json
    assert th.best_still(files).semantic_type.endswith("maxBrightness/lensCorr")
    assert th.best_still_index(files) == 1
    dicts = [f.to_dict() for f in files]
    assert th.best_still(dicts) is dicts[1]
    no_max = [files[0], files[2], files[3]]
    assert th.best_still(no_max) is files[2]  # any PNG beats the video
    assert th.best_still([files[0], files[3]]) is files[0]  # then the video
    assert th.best_still([files[3]]) is None and th.best_still([]) is None


def test_service_factory_and_a_pushed_night(qtbot, gui, push):
    svc = th.service(gui)
    assert th.service(gui) is svc and gui.thumbnails is svc
    night = make_night(10, events=1, timelapse=1)
    assert push(night).ok
    ev = night.events[0]
    qtbot.waitUntil(lambda: gui.archive.get_event(ev.event_id) is not None, timeout=10_000)
    stored = gui.archive.get_event(ev.event_id)
    best = svc.best_still(list(stored.files))
    assert isinstance(best, FileRecord)
    svc.get(best.file_id, best.md5, best.mime_type, gui.settings.thumbnail_size)
    assert wait_state(qtbot, svc, best, gui.settings.thumbnail_size) == th.OK
    assert hashlib.md5(gui.archive.file_path(best).read_bytes()).hexdigest() == best.md5
    assert (gui.archive.data_dir / "thumbnails" / best.file_id[:2]).is_dir()


def test_a_cached_thumbnail_of_bytes_that_went_away_turns_missing(qtbot, archive, svc):
    night = fill(archive, make_night(11, events=1, timelapse=0))
    still = by_mime(night.events[0], "image/png", "maxBrightness")
    svc.get(still.file_id, still.md5, still.mime_type, SIZE)
    assert wait_state(qtbot, svc, still) == th.OK
    archive.store.quarantine(still.file_id, still.md5)  # what a resend request does
    with qtbot.waitSignal(svc.ready, timeout=5_000):
        svc.invalidate(still.file_id)
    svc.get(still.file_id, still.md5, still.mime_type, SIZE)
    assert wait_state(qtbot, svc, still) == th.MISSING  # not the picture in the disk cache


def test_a_recheck_looks_only_at_the_files_it_names(qtbot, archive, svc):
    """A completed conversation looks at its own files, never at every badge a long
    scroll left in the cache (that walk froze the window for 200 ms each time)."""
    night = make_night(13, events=30, timelapse=0)
    stills = [by_mime(e, "image/png", "maxBrightness") for e in night.events]
    fill(archive, night, skip_bytes={f.file_id for f in stills})
    for f in stills:
        svc.get(f.file_id, f.md5, f.mime_type, SIZE)
    qtbot.waitUntil(lambda: svc.pending_count() == 0, timeout=10_000)
    assert {svc.state(f.file_id, f.md5, SIZE) for f in stills} == {th.MISSING}
    assert svc.has_missing()
    for f in stills:
        archive.store.put(f.file_id, f.md5, io.BytesIO(night.file_bytes(f.file_id)))

    emitted = []
    svc.ready.connect(emitted.append)
    svc.recheck_missing([stills[3].file_id, "not-in-the-cache"])
    assert emitted == [stills[3].file_id]
    assert svc.state(stills[3].file_id, stills[3].md5, SIZE) == th.LOADING  # asked again
    others = [svc.state(f.file_id, f.md5, SIZE) for f in stills if f is not stills[3]]
    assert others == [th.MISSING] * (len(stills) - 1)  # untouched

    svc.invalidate(stills[5].file_id)
    assert emitted == [stills[3].file_id, stills[5].file_id]
    assert svc.state(stills[5].file_id, stills[5].md5, SIZE) == th.LOADING
    assert svc.state(stills[6].file_id, stills[6].md5, SIZE) == th.MISSING


@pytest.fixture
def held_decode(monkeypatch):
    """Holds the next image decode in its pool thread after it has read the bytes, until
    the test lets it go: (entered, release)."""
    entered, release = threading.Event(), threading.Event()
    real = th.decode_image

    def held(path, size):
        image = real(path, size)
        entered.set()
        assert release.wait(10)
        return image

    monkeypatch.setattr(th, "decode_image", held)
    return entered, release


def _stored_png(archive, seed=15):
    st = fx.status()
    archive.store_status(st)
    night = make_night(seed, events=1, timelapse=0)
    data = night.file_bytes(night.events[0].files[1].file_id)
    record = fx.file_record(st, data)
    archive.store_file(record)
    assert archive.store.put(record.file_id, record.md5, io.BytesIO(data))
    return record, data


def test_a_decode_running_while_a_resend_mends_its_file_is_not_kept(
    qtbot, archive, svc, held_decode
):
    """The decode read damaged bytes; the good ones arrive before it ends: its verdict
    is about bytes that are gone, and the picture of the good bytes is shown."""
    entered, release = held_decode
    record, data = _stored_png(archive)
    path = archive.file_path(record)
    path.write_bytes(data[: len(data) // 3])  # damaged on disk
    svc.get(record.file_id, record.md5, record.mime_type, SIZE)
    assert entered.wait(10)
    path.write_bytes(data)  # a resend brings the good bytes meanwhile
    svc.recheck_missing([record.file_id])  # as its completed conversation does
    release.set()
    qtbot.waitUntil(  # a view repainting asks again (get) until it is shown
        lambda: (
            svc.get(record.file_id, record.md5, record.mime_type, SIZE) is not None
            and svc.state(record.file_id, record.md5, SIZE) == th.OK
        ),
        timeout=10_000,
    )


def test_a_decode_running_when_its_file_is_invalidated_is_not_kept(
    qtbot, archive, svc, held_decode
):
    """The decode read the bytes; they are taken away (a resend request quarantines
    them) and the detail pane invalidates the file: no picture of bytes that are gone."""
    entered, release = held_decode
    record, _ = _stored_png(archive, seed=16)
    svc.get(record.file_id, record.md5, record.mime_type, SIZE)
    assert entered.wait(10)
    archive.store.quarantine(record.file_id, record.md5)
    svc.invalidate(record.file_id)
    release.set()
    qtbot.waitUntil(
        lambda: (
            svc.get(record.file_id, record.md5, record.mime_type, SIZE) is not None
            and svc.state(record.file_id, record.md5, SIZE) == th.MISSING
        ),
        timeout=10_000,
    )


def test_a_resend_through_the_importer_mends_a_missing_thumbnail(qtbot, gui, push):
    svc = th.service(gui)
    night = make_night(14, events=2, timelapse=0)
    event = night.events[1]
    still = by_mime(event, "image/png", "maxBrightness")
    fill(gui.archive, night, skip_bytes={still.file_id})  # archived, its still's bytes lost
    size = gui.settings.thumbnail_size
    svc.get(still.file_id, still.md5, still.mime_type, size)
    assert wait_state(qtbot, svc, still, size) == th.MISSING
    gui.archive.request_resend(event.event_id)

    # The camera sends the night again; the conversation about the event completes with
    # the missing bytes, and the badge goes without a view asking.
    with qtbot.waitSignal(svc.ready, timeout=20_000, check_params_cb=lambda f: f == still.file_id):
        assert push(night).ok
    svc.get(still.file_id, still.md5, still.mime_type, size)
    assert wait_state(qtbot, svc, still, size) == th.OK


SEMANTICS = hs.sampled_from(
    [
        None,
        "meteorpi:triggers/event/maxBrightness/lensCorr",
        "meteorpi:triggers/event/MAXBRIGHTNESS",
        "meteorpi:triggers/event/lensCorr",
        "meteorpi:triggers/event/bgrdSub",
        "meteorpi:triggers/event/video",
        "other:LensCorr/maxbrightness",
    ]
)
MIMES = hs.sampled_from(
    ["image/png", "IMAGE/PNG", "image/jpeg", "Image/Gif", "video/mp4", "VIDEO/H264", "text/plain"]
)


@settings(max_examples=60, deadline=None)
@given(hs.lists(hs.tuples(SEMANTICS, MIMES), min_size=0, max_size=6))
def test_the_archive_and_the_thumbnails_choose_the_same_best_still(files):
    """The browser's tiles read the archive's choice (SQL); the detail pane and the strip
    use thumbnails.best_still (Python): they must agree for any files an event has."""
    import tempfile
    import uuid

    from meteorgui.archive import Archive, browse
    from meteorgui.model import CameraStatus, Event

    records = tuple(
        FileRecord(
            file_id=uuid.uuid4().hex,
            camera_id="cam",
            status_id="s" * 32,
            file_time=1000 + i,
            file_size=1,
            mime_type=mime,
            md5="0" * 32,
            semantic_type=semantic,
        )
        for i, (semantic, mime) in enumerate(files)
    )
    event = Event(uuid.uuid4().hex, "cam", "s" * 32, 1000, "meteorpi:meteor", files=records)
    with tempfile.TemporaryDirectory() as tmp, Archive(tmp) as archive:
        archive.store_status(CameraStatus("s" * 32, "cam", 0))
        assert archive.store_event(event)
        chosen = browse.get_row(archive, event.event_id).still_id
    best = th.best_still(records)
    assert chosen == (best and best.file_id)
