"""Review keys label the meteor the user is looking at, even at the keyboard's repeat rate."""

import time

from PySide6.QtCore import Qt

from meteorgui.archive import browse
from meteorgui.simulate import DemoCamera, demo_night_start, make_night

from .test_gui_browser import WAIT, activate

REPEAT_MS = 33  # a keyboard's auto-repeat: about 30 keys a second


def test_detail_follows_the_selection_through_200_review_keys_while_a_camera_pushes(
    gui, push, qtbot
):
    window = gui.window
    browser, detail = window.browser, window.detail
    # Last night's events, then a camera sending more of that night at the demo's pace
    # (a quicker one keeps the archive's writer busy and hides the race).
    start = demo_night_start(time.time())
    assert push(make_night(12, events=120, timelapse=0, start_ms=start)).ok
    camera = DemoCamera(
        gui.archive, gui.core.server.url, events=400, timelapse=100, rate=3, seed=11
    )
    camera.start()
    try:
        # The first camera location moves the nights to the cameras' solar time and lists
        # them anew once: select after that, or the key presses find no event.
        qtbot.waitUntil(
            lambda: (
                browser._ready
                and browser.filters.clock.longitude is not None
                and not browser.model.loading
                and browser.model.rowCount() >= 120
            ),
            timeout=60_000,
        )
        grid = browser.grid
        activate(gui, qtbot, grid)
        grid.select_row(0)
        qtbot.waitUntil(lambda: bool(browser.current_event_id()), timeout=WAIT)
        keys = {Qt.Key.Key_P: "plane", Qt.Key.Key_S: "satellite", Qt.Key.Key_O: "other"}
        order = list(keys)
        labelled: dict[str, str] = {}
        mismatches = []
        for i in range(200):
            key = order[i % len(order)]
            target = detail.shown_event_id()  # what the user sees as the key goes down
            before = browser.current_event_id()
            qtbot.keyClick(grid, key)
            if target and target == before:
                labelled[target] = keys[key]
            qtbot.wait(REPEAT_MS)
            # Once the pane has caught up, it shows the selected event, never the last one.
            qtbot.waitUntil(lambda: not detail.loading, timeout=WAIT)
            if detail.requested_id() != browser.current_event_id() or (
                detail.shown_event_id() != browser.current_event_id()
            ):
                mismatches.append((i, detail.shown_event_id(), browser.current_event_id()))
        assert mismatches == []
        assert camera.summary is None or camera.summary.ok  # still pushing, or done well
        browser.store.wait()
        # Every key that went down on a shown event labelled that very event.
        stored = browse.reviews(gui.archive, list(labelled))
        assert len(labelled) >= 20
        assert {i: stored.get(i) for i in labelled} == labelled
    finally:
        camera.stop()


def _three_events_on_screen(gui, push, qtbot):
    from .test_gui_browser import night, on_screen, settled

    browser = gui.window.browser
    qtbot.waitUntil(lambda: browser._ready, timeout=WAIT)
    push(night(21, events=3))
    qtbot.waitUntil(settled(browser, 3), timeout=WAIT)
    # The camera's first location moves the nights to its solar time and lists them anew,
    # maybe after the first list was shown: wait for that one too, so that each test
    # chooses what is read while a key goes down.
    qtbot.waitUntil(lambda: browser.filters.clock.longitude is not None, timeout=WAIT)
    qtbot.waitUntil(settled(browser, 3), timeout=WAIT)
    activate(gui, qtbot, browser.grid)
    browser.grid.select_row(0)
    qtbot.waitUntil(on_screen(gui), timeout=WAIT)
    return browser, gui.window.detail


def test_a_review_stored_while_the_next_event_loads_does_not_bring_the_last_one_back(
    gui, push, qtbot
):
    browser, detail = _three_events_on_screen(gui, push, qtbot)
    first = browser.current_event_id()
    qtbot.keyClick(browser.grid, Qt.Key.Key_P)  # labels the first, moves to the second
    second = browser.current_event_id()
    assert second != first and detail.loading
    # The writer thread's answer arrives before the second event's load: the order that
    # put the reviewed event back on screen. Delivered here directly, before the event loop
    # runs, so the test does not depend on which thread wins.
    browser.reviews_stored({first: "plane"}, True)
    qtbot.waitUntil(lambda: not detail.loading, timeout=WAIT)
    assert detail.shown_event_id() == second == browser.current_event_id()
    browser.store.wait()
    assert browse.reviews(gui.archive, [first]) == {first: "plane"}


def test_a_review_key_pressed_while_the_list_is_read_again_keeps_the_next_event(gui, push, qtbot):
    # A filter, the sort order, the first camera location or sky results under a shower
    # filter list the events anew, keeping the event chosen when the read began. The key
    # moved the user on meanwhile: the new list must not take them back to the last one.
    browser, detail = _three_events_on_screen(gui, push, qtbot)
    first = browser.current_event_id()
    browser.filters.order.toggle()  # oldest first: read again, in the other order
    assert browser.model.loading
    qtbot.keyClick(browser.grid, Qt.Key.Key_P)  # labels the first, moves to the second
    second = browser.current_event_id()
    assert second != first and detail.loading
    qtbot.waitUntil(lambda: not browser.model.loading, timeout=WAIT)
    qtbot.waitUntil(lambda: not detail.loading, timeout=WAIT)
    assert browser.current_event_id() == second == detail.shown_event_id()
    # The middle event of three stays in the middle, oldest first; it alone is selected.
    rows = {i.row() for i in browser.grid.selectionModel().selectedRows()}
    assert rows == {1} and browser.model.row_at(1).event_id == second
    browser.store.wait()
    assert browse.reviews(gui.archive, [first, second]) == {first: "plane"}


def test_a_review_key_does_nothing_while_the_pane_shows_another_event(gui, push, qtbot):
    from .test_gui_browser import on_screen

    browser, detail = _three_events_on_screen(gui, push, qtbot)
    browser.grid.select_row(1)  # the pane is still reading it: the user sees the first
    second = browser.current_event_id()
    assert detail.loading and detail.shown_event_id() == ""
    qtbot.keyClick(browser.grid, Qt.Key.Key_S)
    assert browser.undo_stack.count() == 0 and browser.current_event_id() == second
    qtbot.waitUntil(on_screen(gui), timeout=WAIT)
    # A review key is a shortcut of the focused list in the active window: a window that
    # lost the activation meanwhile (no window manager here) would swallow it.
    activate(gui, qtbot, browser.grid)
    assert browser.current_event_id() == second and detail.shown_event_id() == second
    qtbot.keyClick(browser.grid, Qt.Key.Key_S)
    assert browser.undo_stack.count() == 1  # the key labelled what the pane shows
    browser.store.wait()
    qtbot.waitUntil(
        lambda: browse.reviews(gui.archive, [second]) == {second: "satellite"}, timeout=WAIT
    )
