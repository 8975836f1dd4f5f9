"""Local time or UTC: one choice, in the status bar and Settings, for every time shown."""

import time
from datetime import UTC, datetime

import pytest

from meteorgui import formatting
from meteorgui.settings import Settings

from .test_nights import utc_ms


@pytest.fixture
def sydney(monkeypatch):
    monkeypatch.setenv("TZ", "Australia/Sydney")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
    formatting.use_utc(False)


def test_the_chosen_zone_comes_first_everywhere_a_time_is_written(sydney):
    t = utc_ms(2026, 12, 5, 21, 30, 15) + 250
    formatting.use_utc(False)
    assert formatting.clock(t) == "2026-12-06 08:30:15"
    assert formatting.both_times(t).startswith("2026-12-06 08:30:15.250 AEDT")
    assert formatting.both_times(t).endswith("2026-12-05 21:30:15.250 UTC")
    formatting.use_utc(True)
    assert formatting.clock(t) == "2026-12-05 21:30:15"
    assert formatting.chosen_time(t) == "2026-12-05 21:30:15.250 UTC"
    assert formatting.both_times(t).endswith("2026-12-06 08:30:15.250 AEDT")
    assert formatting.zone_label() == "UTC"


def test_the_status_bar_toggle_switches_every_view_and_is_remembered(sydney, gui, push, qtbot):
    from meteorgui.gui.browser.model import TIME
    from meteorgui.gui.monitor.importlog import COL_TIME
    from meteorgui.simulate import make_night

    window = gui.window
    browser = window.browser
    push(make_night(3, events=3, timelapse=0, start_ms=utc_ms(2026, 12, 5, 20)))
    qtbot.waitUntil(lambda: browser.model.rowCount() == 3, timeout=20_000)
    row = browser.model.row_at(0)
    browser.active_view().setCurrentIndex(browser.model.index(0, 0))
    qtbot.waitUntil(lambda: getattr(window.detail, "info", None) is not None, timeout=20_000)
    local = datetime.fromtimestamp(row.event_time / 1000).astimezone()
    utc = datetime.fromtimestamp(row.event_time / 1000, UTC)
    log_model = window.monitor.model
    assert window.zone_button.text() == "Times: local"
    assert browser.model.data(browser.model.index(0, TIME)) == f"{local:%Y-%m-%d %H:%M:%S}"
    assert "AEDT" in window.detail.title.text()

    qtbot.waitUntil(lambda: len(browser.tile_delegate._cache) > 0)  # tiles painted

    window.zone_button.click()  # one click
    assert len(browser.tile_delegate._cache) == 0  # painted tiles carry the old times
    assert window.zone_button.text() == "Times: UTC"
    assert browser.model.data(browser.model.index(0, TIME)) == f"{utc:%Y-%m-%d %H:%M:%S}"
    qtbot.waitUntil(lambda: "UTC" in window.detail.title.text(), timeout=20_000)
    assert f"{utc:%H:%M:%S}" in window.detail.title.text()
    c = log_model.conversation(0)  # the import log too
    shown = log_model.data(log_model.index(0, COL_TIME))
    assert shown.endswith(f"{datetime.fromtimestamp(c.started_at / 1000, UTC):%H:%M:%S}")
    assert Settings.load().times_utc is True  # the next start shows UTC too

    window.zone_button.click()
    assert browser.model.data(browser.model.index(0, TIME)) == f"{local:%Y-%m-%d %H:%M:%S}"
    assert Settings.load().times_utc is False


def test_settings_dialog_chooses_utc(gui, qtbot):
    from meteorgui.gui.setup.settings import SettingsDialog

    gui.window.show_settings()
    dlg = gui.window.findChild(SettingsDialog)
    dlg.utc.setChecked(True)
    dlg.save()
    try:
        assert formatting.showing_utc()
        assert gui.window.zone_button.isChecked()
        assert Settings.load().times_utc is True
    finally:
        gui.window.set_times_utc(False)
