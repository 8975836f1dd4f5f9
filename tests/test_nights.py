"""A night is the cameras' night (their solar noon to noon), not the computer's time zone."""

import time
from datetime import UTC, date, datetime

import pytest

from meteorgui.archive import Archive, browse
from meteorgui.archive.nights import DAY_MS, NightClock, mean_longitude, night_clock

from . import factories
from .test_browse import Maker


def utc_ms(*args) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
def sydney(monkeypatch):
    """This computer's clock set to Sydney (UTC+11 in December)."""
    monkeypatch.setenv("TZ", "Australia/Sydney")
    time.tzset()
    assert datetime(2026, 12, 6, 2, tzinfo=UTC).astimezone().hour == 13
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_solar_clock_turns_at_the_cameras_noon():
    uk = NightClock(12, -0.5)  # half a degree west: noon is 2 minutes after 12:00 UTC
    assert uk.offset_ms == -120_000
    evening = utc_ms(2026, 12, 5, 20)
    morning = utc_ms(2026, 12, 6, 2)
    start = utc_ms(2026, 12, 5, 12, 2)
    assert uk.start(evening) == uk.start(morning) == start
    assert uk.end(start) == start + DAY_MS == uk.start(utc_ms(2026, 12, 6, 12, 2))
    assert uk.start(start - 1) == start - DAY_MS
    assert uk.evening(start) == date(2026, 12, 5)
    assert uk.start_of(date(2026, 12, 5)) == start
    east = NightClock(12, 151.2)  # a camera in Sydney: its noon is 01:55 UTC
    assert east.evening(east.start(utc_ms(2026, 12, 5, 12))) == date(2026, 12, 5)
    assert NightClock(18, 0.0).start(utc_ms(2026, 12, 6, 3)) == utc_ms(2026, 12, 5, 18)


def test_mean_longitude_is_taken_on_the_circle():
    assert mean_longitude([]) is None
    assert mean_longitude([0.1218, 0.7111]) == pytest.approx(0.41645, abs=1e-4)
    assert abs(mean_longitude([179.0, -179.0])) == pytest.approx(180.0)
    assert mean_longitude([-0.5]) == pytest.approx(-0.5)


def test_a_uk_cameras_night_viewed_from_sydney_is_still_one_night(tmp_path, sydney):
    archive = Archive(tmp_path / "data")
    try:
        make = Maker(archive, cameras=())
        status = factories.status(
            camera="b827eb0a1c01",
            valid_from=utc_ms(2026, 11, 1),
            location={"lat": 52.2, "long": -0.5, "gps": True, "error": 10.0},
        )
        archive.store_status(status)
        make.status["b827eb0a1c01"] = status
        for t in (utc_ms(2026, 12, 5, 20), utc_ms(2026, 12, 6, 2), utc_ms(2026, 12, 6, 20)):
            make.event("b827eb0a1c01", t)
        clock = night_clock(archive)
        assert clock.longitude == pytest.approx(-0.5)
        nights = browse.nights(archive, clock)
        assert [(clock.evening(n.start_ms), n.events) for n in nights] == [
            (date(2026, 12, 6), 1),
            (date(2026, 12, 5), 2),  # 20:00 and 02:00 UTC: the same UK night
        ]
        # The computer's clock (Sydney) would cut that night at its noon (01:00 UTC) and
        # put its 02:00 with the next night's 20:00.
        local = browse.nights(archive, NightClock(12))
        assert [n.events for n in local] == [2, 1]
        counts = browse.hourly_counts(archive, nights[1].start_ms, clock)
        # Clock hours: a night starting between two (solar noon) has a part-hour at each end.
        assert counts.total == 2 and len(counts.hours) == 24 + bool(counts.start_ms % 3_600_000)
    finally:
        archive.close()


def test_the_browser_names_the_uk_night_by_its_evening_on_a_sydney_computer(
    sydney, gui, push, qtbot
):
    from meteorgui.simulate import make_night

    browser = gui.window.browser
    start = utc_ms(2026, 12, 5, 20)  # 20:00 in Cambridge, 07:00 next day in Sydney
    push(make_night(7, events=6, timelapse=0, start_ms=start))
    qtbot.waitUntil(
        lambda: browser.filters.night.itemText(0).startswith("Sat 05 Dec 2026"), timeout=20_000
    )
    assert "6 events" in browser.filters.night.itemText(0)
    clock = browser.filters.clock
    assert clock.longitude == pytest.approx(mean_longitude([0.1218, 0.7111]), abs=0.05)
    assert browser.filters.query().after == clock.start(start)


def _three_nights(data) -> Archive:
    """An archive with 2, 1 and 3 events on three nights (one camera, no location)."""
    archive = Archive(data)
    make = Maker(archive, cameras=())
    make.status["b827eb0a1c01"] = factories.status(camera="b827eb0a1c01", valid_from=0)
    archive.store_status(make.status["b827eb0a1c01"])
    for day, n in ((3, 2), (4, 1), (5, 3)):
        for k in range(n):
            make.event("b827eb0a1c01", utc_ms(2026, 12, day, 20, k))
    return archive


def test_the_first_look_counts_the_newest_night_and_the_rest_after_the_first_page(tmp_path, qtbot):
    """Counting every night reads every event's index entry: the window's first look
    counts the night it shows, and the night chooser gets the others' counts once the
    first page is up (finish_start)."""
    from meteorgui.archive.browse import UNCOUNTED
    from meteorgui.gui.startup import build, close
    from meteorgui.settings import Settings

    data = tmp_path / "data"
    archive = _three_nights(data)
    try:
        full = browse.nights(archive, NightClock(12))
        first = browse.nights(archive, NightClock(12), counted=1)
    finally:
        archive.close()
    assert [n.events for n in full] == [3, 1, 2]
    assert [n.events for n in first] == [3, UNCOUNTED, UNCOUNTED]
    assert [n.start_ms for n in first] == [n.start_ms for n in full]

    settings = Settings(host="127.0.0.1", port=0, importer_autostart=False)
    ctx, window = build(data, settings, defer=True)
    qtbot.addWidget(window)
    try:
        window.show()
        browser, night = window.browser, window.browser.filters.night
        qtbot.waitUntil(lambda: browser.is_ready and not browser.model.loading, timeout=20_000)
        assert "3 events" in night.itemText(0)
        assert "event" not in night.itemText(1) and "event" not in night.itemText(2)
        browser.filters.note(utc_ms(2026, 12, 3, 21), True)  # not counted: not "1 event"
        assert "event" not in night.itemText(2)
        window.finish_start()
        qtbot.waitUntil(lambda: "1 event" in night.itemText(1), timeout=20_000)
        assert "2 events" in night.itemText(2)
        assert "3 events" in night.itemText(0)
    finally:
        window.close()
        close(ctx)


def test_an_event_selected_before_the_rest_of_the_window_is_built_is_shown(tmp_path, qtbot):
    """The detail pane is built after the first page; a selection made before that
    builds it at once and shows the event."""
    from meteorgui.gui.startup import build, close
    from meteorgui.settings import Settings

    _three_nights(tmp_path / "data").close()
    settings = Settings(host="127.0.0.1", port=0, importer_autostart=False)
    ctx, window = build(tmp_path / "data", settings, defer=True)
    qtbot.addWidget(window)
    try:
        window.show()
        browser = window.browser
        qtbot.waitUntil(lambda: browser.is_ready and browser.model.rowCount() == 3, timeout=20_000)
        assert window.detail is None
        browser.grid.select_row(0)
        assert window.detail is not None and window.splitter.widget(1) is window.detail
        event_id = browser.current_event_id()
        qtbot.waitUntil(lambda: window.detail.shown_event_id() == event_id, timeout=20_000)
        assert window.monitor_dock.widget() is window.monitor  # the rest came with it
    finally:
        window.close()
        close(ctx)


def test_a_thousand_nights_counts_are_shown_a_slice_at_a_time(qtbot):
    """Counted nights reach the night chooser a slice per turn of the event loop: a
    thousand nights' texts at once kept the window from its events for 50-60 ms."""
    from meteorgui.archive.browse import UNCOUNTED, Night
    from meteorgui.gui.browser.filterbar import NIGHT_SLICE, FilterBar

    bar = FilterBar(12)
    qtbot.addWidget(bar)
    day = 86_400_000
    starts = [utc_ms(2026, 12, 5, 12) - k * day for k in range(1000)]
    bar.set_nights([Night(s, s + day, UNCOUNTED, UNCOUNTED) for s in starts])
    bar.set_night_counts([Night(s, s + day, k + 1, 0) for k, s in enumerate(starts)])

    def shown() -> int:
        return sum("event" in bar.night.itemText(i) for i in range(bar.night.count()))

    assert shown() == 0 and bar.counting_nights  # none yet: the call returns at once
    qtbot.waitUntil(lambda: shown() > 0, timeout=5_000)
    assert shown() <= 10 * NIGHT_SLICE
    qtbot.waitUntil(lambda: not bar.counting_nights, timeout=5_000)
    assert shown() == 1000
    assert bar.night.itemText(0).endswith("1 event") and "1000 events" in bar.night.itemText(999)
