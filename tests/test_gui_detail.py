"""The event detail view, on events pushed through the real importer over loopback HTTP."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from meteorgui.gui.common import thumbnails as th
from meteorgui.gui.detail import video as video_mod
from meteorgui.gui.detail import widget as detail_mod
from meteorgui.gui.detail.widget import EventDetail
from meteorgui.simulate import make_night


@pytest.fixture
def new_york():
    """A local zone that differs from UTC, so 'local and UTC' can be told apart."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture
def detail(gui, qtbot):
    d = EventDetail(gui)
    qtbot.addWidget(d)
    d.resize(520, 760)
    d.show()
    yield d
    d.shutdown()


@pytest.fixture
def night(push):
    n = make_night(21, events=1, timelapse=0)
    assert push(n).ok
    return n


def show(qtbot, d, event_id):
    d.show_event(event_id)
    qtbot.waitUntil(
        lambda: (
            d.info is not None
            and d.info.event.event_id == event_id
            and d.filmstrip.count() == len(d.info.event.files)
        ),
        timeout=10_000,
    )


def select(qtbot, d, row, page):
    d.filmstrip.setCurrentRow(row)
    qtbot.waitUntil(lambda: d.stack.currentWidget() is page, timeout=10_000)


def test_files_in_order_metadata_in_local_and_utc_and_camera_status(
    qtbot, gui, detail, night, new_york, monkeypatch
):
    ev = night.events[0]
    threads = []
    real = detail_mod.load_event

    def spy(archive, event_id):
        threads.append(threading.get_ident())
        return real(archive, event_id)

    monkeypatch.setattr(detail_mod, "load_event", spy)
    show(qtbot, detail, ev.event_id)
    assert threads and threading.main_thread().ident not in threads

    assert detail.filmstrip.file_ids() == [f.file_id for f in ev.files]
    captions = [detail.filmstrip.item(i).text() for i in range(detail.filmstrip.count())]
    assert captions == ["video", "maxBrightness lensCorr", "bgrdSub", "path"]
    assert detail.filmstrip.currentRow() == 1  # the best still is shown first

    t = datetime.fromtimestamp(ev.event_time / 1000, UTC)
    local = t.astimezone()
    assert local.utcoffset() != t.utcoffset()
    assert local.strftime("%H:%M:%S") in detail.title.text() and "EDT" in detail.title.text()
    assert t.strftime("%H:%M:%S") + f".{ev.event_time % 1000:03d} UTC" in detail.subtitle.text()
    assert ev.camera_id in detail.subtitle.text()

    rows = {(g, k): v for g, k, v in detail.meta.rows()}
    end = next(m for m in ev.meta if m.key == "meteorpi:timeEnd")
    end_utc = datetime.fromtimestamp(end.value / 1000, UTC)
    text = rows[("Event", "timeEnd")]
    assert end_utc.astimezone().strftime("%Y-%m-%d %H:%M:%S") in text and "EDT" in text
    assert end_utc.strftime("%H:%M:%S") + f".{end.value % 1000:03d} UTC" in text
    n_frames = next(m for m in ev.meta if m.key == "meteorpi:nFrames").value
    assert rows[("Event", "nFrames")] == str(int(n_frames))
    assert rows[("Event", "cameraId")] == ev.camera_id
    stacked = next(m for m in ev.files[1].meta if m.key == "meteorpi:stackedFrames").value
    assert rows[("File: maxBrightness lensCorr", "stackedFrames")] == str(int(stacked))

    st = night.status(ev.status_id)
    assert f"{st.location.lat:.4f}° N" in detail.status.text("latlong")
    assert f"{st.location.long:.4f}° E" in detail.status.text("latlong")
    assert detail.status.text("inst_name") == st.inst_name
    assert detail.status.text("lens") == st.lens
    assert detail.status.text("gps") == ("yes" if st.location.gps else "no")

    info = detail.file_info.panel
    f = ev.files[1]
    assert info.text("md5") == f.md5 and info.text("mime") == "image/png"
    assert "present" in info.text("state")


def test_zoom_fit_and_sky_region_toggle(qtbot, detail, night):
    ev = night.events[0]
    show(qtbot, detail, ev.event_id)
    qtbot.waitUntil(lambda: detail.stack.currentWidget() is detail.image, timeout=10_000)
    view = detail.image.view
    fitted = view.scale_factor()
    assert view.has_image() and view.fit_mode

    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert view.scale_factor() == pytest.approx(fitted * 1.25)
    wheel = QWheelEvent(
        QPointF(50, 50),
        QPointF(view.mapToGlobal(QPoint(50, 50))),
        QPoint(),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.scale_factor() == pytest.approx(fitted * 1.25**2)
    assert not view.fit_mode
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert view.scale_factor() == pytest.approx(fitted * 1.25)
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert view.scale_factor() == pytest.approx(fitted) and view.fit_mode
    detail.image.actual_button.click()
    assert view.scale_factor() == pytest.approx(1.0)
    detail.image.fit_button.click()
    assert view.scale_factor() == pytest.approx(fitted)

    regions = detail.info.status.regions
    assert regions  # the simulated cameras all see some sky
    items = view.region_items()
    assert len(items) == len(regions)
    first = items[0].polygon()
    assert [(p.x(), p.y()) for p in first] == [(x + 0.5, y + 0.5) for x, y in regions[0]]
    assert not any(i.isVisible() for i in items)
    detail.image.regions_check.setChecked(True)
    assert all(i.isVisible() for i in items)
    detail.image.regions_check.setChecked(False)
    assert not any(i.isVisible() for i in items)


def test_json_is_pretty_printed(qtbot, detail, night):
    ev = night.events[0]
    show(qtbot, detail, ev.event_id)
    select(qtbot, detail, 3, detail.text)
    text = detail.text.edit.toPlainText()
    original = json.loads(night.file_bytes(ev.files[3].file_id))
    assert json.loads(text) == original
    assert '\n  "frame_rate": 25,\n' in text
    assert text.count("\n") > len(original["points"])  # one point a line, not one long line
    assert detail.text.edit.isReadOnly()


def test_video_plays_or_offers_the_system_player(qtbot, detail, night, monkeypatch):
    ev = night.events[0]
    clip = ev.files[0]
    show(qtbot, detail, ev.event_id)
    select(qtbot, detail, 0, detail.video)
    panel = detail.video
    if panel.can_play:
        from PySide6.QtMultimedia import QMediaPlayer

        S = QMediaPlayer.MediaStatus
        qtbot.waitUntil(
            lambda: (
                panel.player.mediaStatus()
                in (S.LoadedMedia, S.BufferingMedia, S.BufferedMedia, S.EndOfMedia)
            ),
            timeout=10_000,
        )
        assert panel.player.error() == QMediaPlayer.Error.NoError
        qtbot.waitUntil(lambda: panel.player.duration() > 0, timeout=10_000)
    else:
        assert panel.message.isVisibleTo(panel)
    assert panel.system_button.isVisibleTo(panel)

    opened = []
    monkeypatch.setattr(video_mod, "open_url", lambda url: opened.append(url) or True)
    panel.system_button.click()
    qtbot.waitUntil(lambda: bool(opened), timeout=10_000)
    path = opened[0].toLocalFile()
    assert path.endswith(".mp4") and path != str(detail.ctx.archive.file_path(clip))
    with open(path, "rb") as fh:
        assert fh.read() == night.file_bytes(clip.file_id)


def test_a_requested_resend_says_so_and_the_bytes_show_once_they_come(
    qtbot, gui, detail, night, push
):
    """Before, the pane went on telling the user to request the resend they had requested,
    and still said "missing" after the camera had sent the bytes again."""
    ev = night.events[0]
    still = ev.files[1]
    archive = gui.archive
    archive.store.quarantine(still.file_id, still.md5)
    archive.request_resend(ev.event_id)
    show(qtbot, detail, ev.event_id)
    assert detail.current_file == still
    assert "A resend is requested" in detail.message.text()
    assert push(night).ok  # the camera offers its night again: the importer asks for the bytes
    qtbot.waitUntil(lambda: detail.stack.currentWidget() is detail.image, timeout=10_000)
    assert detail.current_file == still and detail.info.present[still.file_id]
    assert "present" in detail.file_info.panel.text("state")
    assert archive.resend_marked([still.file_id]) == set()


def test_missing_damaged_and_check(qtbot, gui, detail, night):
    ev = night.events[0]
    still, sub = ev.files[1], ev.files[2]
    archive = gui.archive
    archive.store.quarantine(still.file_id, still.md5)  # as a resend request does
    archive.file_path(sub).write_bytes(b"not the bytes the camera sent")
    show(qtbot, detail, ev.event_id)

    assert detail.current_file == still
    assert "missing" in detail.file_info.panel.text("state")
    assert not detail.file_info.check_button.isEnabled()
    assert detail.stack.currentWidget() is detail.message
    assert "not in the archive" in detail.message.text()
    svc = th.service(gui)
    qtbot.waitUntil(
        lambda: svc.state(still.file_id, still.md5, gui.settings.thumbnail_size) == th.MISSING,
        timeout=10_000,
    )

    detail.filmstrip.setCurrentRow(2)
    assert "present" in detail.file_info.panel.text("state")  # cheap: not re-hashed yet
    detail.file_info.check_button.click()
    qtbot.waitUntil(lambda: "damaged" in detail.file_info.panel.text("state"), timeout=10_000)

    detail.filmstrip.setCurrentRow(0)
    detail.file_info.check_button.click()
    qtbot.waitUntil(lambda: "MD5 verified" in detail.file_info.panel.text("state"), timeout=10_000)


def test_review_label_when_the_reviews_table_exists(qtbot, gui, detail, night):
    ev = night.events[0]
    show(qtbot, detail, ev.event_id)
    assert "not reviewed" in detail.review_label.text()
    with gui.archive.db.write() as conn:
        # The browser's migration makes this table; the detail view must work with or without.
        conn.execute(
            "CREATE TABLE IF NOT EXISTS reviews ("
            " event_id TEXT PRIMARY KEY, label TEXT, reviewed_at INTEGER)"
        )
        conn.execute(
            "INSERT OR REPLACE INTO reviews VALUES (?, 'satellite', ?)",
            (ev.event_id, int(time.time() * 1000)),
        )
    detail.refresh()
    qtbot.waitUntil(lambda: "satellite" in detail.review_label.text(), timeout=10_000)
    assert detail.filmstrip.currentRow() == 1  # refresh keeps the selected file


def test_the_pane_follows_changes_to_its_event_whoever_makes_them(qtbot, gui, detail, night):
    """No one refreshes the pane by hand: the archive publishes each change on the hub."""
    from meteorgui.archive import browse

    ev, other = night.events[0], make_night(22, events=1, timelapse=0).events[0]
    show(qtbot, detail, ev.event_id)
    assert "not reviewed" in detail.review_label.text()
    reads = []
    original = detail.show_event
    detail.show_event = lambda event_id: (reads.append(event_id), original(event_id))[1]
    # A review made off the GUI thread, as the command line or a script would make it.
    worker = threading.Thread(
        target=browse.set_reviews, args=(gui.archive, {ev.event_id: "plane"}), name="reviewer"
    )
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: "plane" in detail.review_label.text(), timeout=10_000)
    browse.set_reviews(gui.archive, {other.event_id: "bird"})  # another event: no re-read
    gui.archive.request_resend(ev.files[0].file_id)
    qtbot.waitUntil(lambda: reads.count(ev.event_id) == 2, timeout=10_000)
    assert reads == [ev.event_id, ev.event_id]


def test_empty_unknown_and_superseded_events(qtbot, detail, push, monkeypatch):
    n = make_night(22, events=2, timelapse=0)
    assert push(n).ok
    a, b = n.events
    assert detail.title.text() == "No event selected"
    detail.show_event("0" * 32)
    qtbot.waitUntil(lambda: detail.title.text() == "Event not found", timeout=10_000)
    loaded = []
    real = detail_mod.load_event

    def slow_first(archive, event_id):
        if event_id == a.event_id:  # a's answer comes after b's
            assert gate.wait(10)
        info = real(archive, event_id)
        loaded.append(event_id)
        return info

    gate = threading.Event()
    monkeypatch.setattr(detail_mod, "load_event", slow_first)
    delivered = []
    real_show = detail._show_info
    monkeypatch.setattr(
        detail,
        "_show_info",
        lambda info, gen, **kw: (
            delivered.append(info and info.event.event_id),
            real_show(info, gen, **kw),
        ),
    )
    detail.show_event(a.event_id)
    detail.show_event(b.event_id)
    qtbot.waitUntil(
        lambda: detail.info is not None and detail.info.event.event_id == b.event_id, timeout=10_000
    )
    gate.set()
    # a's late answer reaches the view, which must drop it.
    qtbot.waitUntil(lambda: delivered == [b.event_id, a.event_id], timeout=10_000)
    assert loaded == [b.event_id, a.event_id]
    assert detail.info.event.event_id == b.event_id
    assert detail.filmstrip.file_ids() == [f.file_id for f in b.files]
    detail.show_event(None)
    assert detail.title.text() == "No event selected" and detail.filmstrip.count() == 0


def test_main_window_detail_is_the_event_detail(gui):
    assert isinstance(gui.window.detail, EventDetail)
