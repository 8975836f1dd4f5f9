"""Other threads reach the GUI thread without a Qt call of their own (gui/common/mailbox).

A Python thread that calls Qt holds the GIL while Qt takes its locks; the GUI thread may
hold one of those locks while it waits for the GIL. The app must then freeze, so no
worker may emit a signal, post an event or invoke a method: the mailbox is the one way.
"""

from __future__ import annotations

import gc
import sys
import threading
import warnings

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QMetaObject, QObject, QTimer, SignalInstance

from meteorgui.gui.common import mailbox as mailbox_module
from meteorgui.gui.common.mailbox import Mailbox

WAIT = 20_000


def test_posts_from_many_threads_all_run_on_the_gui_thread_in_each_threads_order(qtbot):
    box = Mailbox()
    ran: list[tuple[int, int, bool]] = []
    per_thread = 500

    def poster(k: int) -> None:
        for i in range(per_thread):
            box.post(lambda k=k, i=i: ran.append((k, i, threading.current_thread() is gui_thread)))

    gui_thread = threading.current_thread()
    threads = [threading.Thread(target=poster, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    qtbot.waitUntil(lambda: len(ran) == 4 * per_thread, timeout=WAIT)
    assert all(on_gui for _k, _i, on_gui in ran)
    for k in range(4):
        assert [i for kk, i, _ in ran if kk == k] == list(range(per_thread))
    box.close()


def test_a_long_queue_lets_the_event_loop_run_between_passes(qtbot, monkeypatch):
    monkeypatch.setattr(mailbox_module, "BUDGET_S", 0.0)  # one call per pass
    box = Mailbox()
    order: list[str] = []
    for i in range(5):
        box.post(lambda i=i: order.append(f"work {i}"))
    # Queued behind the first pass: it must run before the last work does.
    QTimer.singleShot(0, lambda: order.append("timer"))
    qtbot.waitUntil(lambda: len(order) == 6, timeout=WAIT)
    assert order.index("timer") < order.index("work 4")
    box.close()


def test_a_failing_call_is_reported_and_the_rest_still_run(qtbot, monkeypatch):
    box = Mailbox()
    reported: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda t, v, tb: reported.append(v))
    ran: list[int] = []

    def fail() -> None:
        raise ValueError("a slot's bug")

    box.post(fail)
    box.post(lambda: ran.append(1))
    qtbot.waitUntil(lambda: ran == [1], timeout=WAIT)
    assert [str(e) for e in reported] == ["a slot's bug"]
    box.close()


def test_work_for_a_deleted_owner_or_a_closed_mailbox_is_dropped(qtbot):
    box = Mailbox()
    owner = QObject()
    ran: list[str] = []
    box.post(lambda: ran.append("orphan"), owner)
    owner.deleteLater()
    box.post(lambda: ran.append("kept"))
    qtbot.waitUntil(lambda: "kept" in ran, timeout=WAIT)
    assert ran == ["kept"]
    box.close()
    box.post(lambda: ran.append("after close"))  # ignored, no error
    assert box.pending() == 0


def test_a_mailbox_deleted_with_its_owner_closes_its_sockets(qtbot):
    owner = QObject()
    box = Mailbox(owner)
    sockets = (box._reader, box._writer)
    del box
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        owner.deleteLater()
        qtbot.waitUntil(lambda: not shiboken6.isValid(owner))
        gc.collect()
    assert all(s.fileno() == -1 for s in sockets)  # closed
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_the_shared_mailbox_keeps_one_order_for_every_owner(qtbot):
    """Qt had one queue of posted events for the GUI thread; the mailbox that replaced it
    keeps its order across owners: a task's result handed over before a message from the
    importer is run before it, whoever each is for."""
    box = mailbox_module.shared()
    assert mailbox_module.shared() is box
    owners = [QObject(), QObject()]
    ran: list[int] = []

    def poster() -> None:
        for i in range(200):
            box.post(lambda i=i: ran.append(i), owners[i % 2])

    t = threading.Thread(target=poster)
    t.start()
    t.join()
    qtbot.waitUntil(lambda: len(ran) == 200, timeout=WAIT)
    assert ran == list(range(200))


def test_an_owner_shutting_down_drops_only_its_own_work(qtbot):
    box = Mailbox()
    leaving, staying = QObject(), QObject()
    ran: list[str] = []
    box.post(lambda: ran.append("leaving"), leaving)
    box.post(lambda: ran.append("staying"), staying)
    box.discard(leaving)
    qtbot.waitUntil(lambda: ran == ["staying"], timeout=WAIT)
    box.close()


def test_the_shared_mailbox_is_made_on_the_gui_thread_only(qtbot, monkeypatch):
    monkeypatch.setattr(mailbox_module, "_shared", None)
    errors: list[BaseException] = []

    def elsewhere() -> None:
        try:
            mailbox_module.shared()
        except RuntimeError as exc:
            errors.append(exc)

    t = threading.Thread(target=elsewhere)
    t.start()
    t.join()
    assert len(errors) == 1 and "GUI thread" in str(errors[0])


@pytest.fixture
def qt_calls_off_the_gui_thread(monkeypatch):
    """Every signal emitted, event posted, method invoked or timer started from a thread
    other than the GUI thread, by name (Qt's own C++ threads run no Python: not here)."""
    gui_thread = threading.main_thread()
    seen: list[str] = []

    def watch(owner, name):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            if threading.current_thread() is not gui_thread:
                seen.append(f"{name} on {threading.current_thread().name}")
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    watch(SignalInstance, "emit")
    watch(QCoreApplication, "postEvent")
    watch(QMetaObject, "invokeMethod")
    watch(QTimer, "singleShot")
    return seen


def test_a_night_pushed_to_the_window_never_calls_qt_from_another_thread(
    qt_calls_off_the_gui_thread, gui, push, qtbot
):
    """The importer's threads, the sky worker, the thumbnail decoders and the background
    tasks all deliver to the window while a camera pushes and the user browses."""
    from meteorgui.simulate import make_night

    window = gui.window
    browser = window.browser
    push(make_night(2, events=4, timelapse=2))
    qtbot.waitUntil(lambda: browser.model.rowCount() == 4, timeout=WAIT)
    browser.active_view().setCurrentIndex(browser.model.index(0, 0))  # detail + thumbnails
    qtbot.waitUntil(lambda: getattr(window.detail, "info", None) is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: len(browser.tile_delegate._cache) > 0, timeout=WAIT)
    qtbot.waitUntil(lambda: window.monitor.model.rowCount() > 0, timeout=WAIT)
    assert qt_calls_off_the_gui_thread == []
