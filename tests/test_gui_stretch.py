"""Brightness/contrast/gamma on the still and the video, and frame stepping with , and ."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import qGray

from meteorgui.gui.detail.stretch import Stretch
from meteorgui.simulate import make_night

from .test_gui_browser import on_screen
from .test_gui_detail import select


def listed_anew(browser):
    """The event is listed after the nights moved to the cameras' solar time (which the
    first camera location does once): a selection made before that reload is lost."""
    return lambda: (
        browser._ready
        and browser.filters.clock.longitude is not None
        and not browser.model.loading
        and browser.model.rowCount() == 1
    )


@pytest.fixture
def night(push):
    n = make_night(33, events=1, timelapse=0)
    assert push(n).ok
    return n


def _grays(image, points):
    return [qGray(image.pixel(x, y)) for x, y in points]


def test_gamma_and_contrast_stretch_the_still_not_the_stored_picture(gui, qtbot, night):
    detail, browser = gui.window.detail, gui.window.browser
    qtbot.waitUntil(listed_anew(browser), timeout=10_000)
    browser.grid.select_row(0)
    qtbot.waitUntil(on_screen(gui), timeout=10_000)
    select(qtbot, detail, 1, detail.image)
    view = detail.image.view
    qtbot.waitUntil(lambda: not detail.loading, timeout=10_000)
    original = view._original.copy()
    w, h = original.width(), original.height()
    points = [(w // 2, h // 2), (w // 4, h // 3), (10, 10), (w - 5, h - 5)]
    assert _grays(view.shown_image(), points) == _grays(original, points)

    detail.stretch_bar.set_value(Stretch(brightness=5, contrast=30, gamma=2.0))
    stretch = detail.stretch_bar.value()  # gamma as the slider's steps give it
    assert stretch.gamma == pytest.approx(2.0, rel=0.01)
    lut = stretch.lut()
    expected = [int(lut[g]) for g in _grays(original, points)]
    assert _grays(view.shown_image(), points) == expected
    assert expected != _grays(original, points)
    assert _grays(view._original, points) == _grays(original, points)  # decoded copy intact
    # The stretch stays for the next picture; Reset gives the camera's picture back.
    select(qtbot, detail, 2, detail.image)
    assert detail.stretch_bar.value() == stretch
    detail.stretch_bar.reset_button.click()
    assert _grays(view.shown_image(), points) == _grays(view._original, points)


def test_comma_and_period_step_the_video_a_frame_at_a_time(gui, qtbot, night):
    window, detail = gui.window, gui.window.detail
    panel = detail.video
    if not panel.can_play:
        pytest.skip("no video backend on this machine")
    browser = window.browser
    # Chosen in the event list, as a user does (the list then leaves the pane alone).
    qtbot.waitUntil(listed_anew(browser), timeout=10_000)
    browser.grid.select_row(0)
    qtbot.waitUntil(on_screen(gui), timeout=10_000)
    # Set on the still first: the video, whose view is made with the first clip, has it too.
    detail.stretch_bar.set_value(Stretch(gamma=3.0))
    select(qtbot, detail, 0, detail.video)
    qtbot.waitUntil(lambda: panel.player.duration() > 0, timeout=10_000)
    qtbot.waitUntil(lambda: panel.video_widget.frames_shown > 0, timeout=10_000)
    frame = panel.frame_ms()
    assert frame == pytest.approx(40, abs=1)  # the simulated camera's 25 fps
    focus = window.browser.grid
    focus.setFocus()
    qtbot.keyClick(focus, Qt.Key.Key_Comma)
    qtbot.keyClick(focus, Qt.Key.Key_Comma)  # paused, at a frame boundary
    from PySide6.QtMultimedia import QMediaPlayer

    assert panel.player.playbackState() == QMediaPlayer.PlaybackState.PausedState
    start = panel.player.position()
    assert start % round(frame) in (0, 1, round(frame) - 1)
    shown = panel.video_widget.frames_shown
    qtbot.keyClick(focus, Qt.Key.Key_Period)
    qtbot.keyClick(focus, Qt.Key.Key_Period)
    qtbot.waitUntil(lambda: abs(panel.player.position() - (start + 2 * frame)) <= 1, timeout=5000)
    # The paused picture follows: new frames are drawn, with the stretch applied.
    qtbot.waitUntil(lambda: panel.video_widget.frames_shown > shown, timeout=5000)
    assert panel.video_widget.stretch == detail.stretch_bar.value()
    frame_image = panel.video_widget.frame
    drawn = panel.video_widget.shown
    x, y = frame_image.width() // 2, frame_image.height() // 2
    g = qGray(frame_image.pixel(x, y))
    assert abs(qGray(drawn.pixel(x, y)) - int(detail.stretch_bar.value().lut()[g])) <= 2
    qtbot.keyClick(focus, Qt.Key.Key_Comma)
    qtbot.waitUntil(lambda: abs(panel.player.position() - (start + frame)) <= 1, timeout=5000)
