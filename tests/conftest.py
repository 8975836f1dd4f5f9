import os

# FFmpeg prints several lines for every clip Qt opens (poster frames, playback).
os.environ.setdefault(
    "QT_LOGGING_RULES", "qt.multimedia.ffmpeg*=false;qt.multimedia.playbackengine*=false"
)

import threading  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

from meteorgui.archive import (
    Archive,  # noqa: E402
    passwords,  # noqa: E402
)
from meteorgui.importer import ImporterServer  # noqa: E402

from .xserver import XServer, xcb_usable  # noqa: E402

_xserver = XServer()
_platform_note = ""


def pytest_configure(config):
    """GUI tests run on a real X server (Xvfb); offscreen only where none can start."""
    global _platform_note
    wanted = os.environ.get("METEORGUI_TEST_QPA", "")
    if wanted == "offscreen":
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        _platform_note = "Qt offscreen (METEORGUI_TEST_QPA=offscreen)"
        return
    if _xserver.start():
        ok, why = xcb_usable(_xserver.display)
        if ok:
            os.environ["DISPLAY"] = _xserver.display
            os.environ["QT_QPA_PLATFORM"] = "xcb"
            os.environ.pop("WAYLAND_DISPLAY", None)
            _platform_note = f"Qt xcb on {_xserver.note}"
            return
        _xserver.stop()
        reason = why
    else:
        reason = _xserver.note
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    _platform_note = (
        f"FALLING BACK to Qt offscreen: {reason}; platform shortcuts and focus untested"
    )


def pytest_unconfigure(config):
    _xserver.stop()


def pytest_report_header(config):
    return f"GUI tests: {_platform_note}"


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"GUI tests ran with {_platform_note}")


def on_x11() -> bool:
    return os.environ.get("QT_QPA_PLATFORM") == "xcb"


def x_display() -> str | None:
    return _xserver.display if on_x11() else None


CAMERA_USER = ("camera", "night-sky-42")
LEAK_GRACE_S = 5  # a thread told to stop may still be returning from its last call


def _meteorgui_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("meteorgui-") and t.is_alive()}


@pytest.fixture(autouse=True)
def _no_leaked_threads(request):
    """Fail a test that leaves a meteorgui thread running: whoever starts one stops it.

    (napari's conftest does the same for QThreads and timers; the Qt side is checked by
    the ``qtbot``-using fixture below.)
    """
    before = _meteorgui_threads()
    yield
    deadline = time.monotonic() + LEAK_GRACE_S
    while (left := _meteorgui_threads() - before) and time.monotonic() < deadline:
        time.sleep(0.02)
    if left:
        names = ", ".join(sorted(t.name for t in left))
        pytest.fail(f"{request.node.name} left threads running: {names}", pytrace=False)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    """No test touches the real user's data or settings."""
    monkeypatch.setenv("METEORGUI_DATA_DIR", str(tmp_path / "default-data"))
    monkeypatch.setenv("METEORGUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("METEORGUI_KEYRING", "file")  # never the user's real keyring


@pytest.fixture(autouse=True)
def _fast_kdf(monkeypatch):
    # The real iteration count is slow by design; tests only need the same code path.
    monkeypatch.setattr(passwords, "ITERATIONS", 1000)


@pytest.fixture(autouse=True)
def _no_leaked_qt_timers_or_threads(request):
    """Fail a GUI test that leaves a QThread running or a QTimer active.

    As napari's conftest does: QThread.start and QTimer.start are wrapped to remember what
    was started, and after the test (and the windows' teardown) nothing may still run.
    """
    if "qtbot" not in request.fixturenames and "gui" not in request.fixturenames:
        yield
        return
    import weakref

    from PySide6.QtCore import QThread, QTimer

    started_threads: weakref.WeakSet = weakref.WeakSet()
    started_timers: weakref.WeakSet = weakref.WeakSet()
    thread_start, timer_start = QThread.start, QTimer.start

    def start_thread(thread, *args):
        started_threads.add(thread)
        return thread_start(thread, *args)

    def start_timer(timer, *args):
        started_timers.add(timer)
        return timer_start(timer, *args)

    mp = pytest.MonkeyPatch()
    mp.setattr(QThread, "start", start_thread)
    mp.setattr(QTimer, "start", start_timer)
    try:
        yield
    finally:
        mp.undo()

    def alive(objects, running):
        out = []
        for o in list(objects):
            try:
                if running(o):
                    out.append(o)
            except RuntimeError:  # its C++ object is gone: nothing runs
                pass
        return out

    threads = alive(started_threads, lambda t: t.isRunning())
    timers = alive(started_timers, lambda t: t.isActive())
    if threads or timers:
        what = [f"QThread {t.objectName() or t!r}" for t in threads]
        what += [f"QTimer {t.objectName() or t.parent()!r} every {t.interval()} ms" for t in timers]
        pytest.fail(f"{request.node.name} left running: {'; '.join(what)}", pytrace=False)


@pytest.fixture
def archive(tmp_path):
    a = Archive(tmp_path / "data")
    a.users.add(*CAMERA_USER, roles=["import"])
    yield a
    a.close()


@pytest.fixture
def server(archive):
    s = ImporterServer(archive, "127.0.0.1", 0)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def auth():
    return CAMERA_USER


def activate(qtbot, window) -> None:
    """Make a shown window the active one, as a click on it would: keys go to it."""
    qtbot.waitExposed(window)
    window.activateWindow()
    window.raise_()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)


@pytest.fixture
def gui(qtbot, tmp_path):
    """The real main window on a fresh archive, its importer listening on 127.0.0.1:0.

    Yields the GuiContext; ``ctx.window`` is the MainWindow. Closed in order at the end.
    """
    from meteorgui.gui.startup import build, close
    from meteorgui.settings import Settings

    settings = Settings(host="127.0.0.1", port=0, importer_autostart=False)
    ctx, window = build(tmp_path / "gui-data", settings)
    ctx.archive.users.add(*CAMERA_USER, roles=["import"])
    ctx.window = window
    qtbot.addWidget(window)
    window.show()
    activate(qtbot, window)
    assert window.start_importer()
    yield ctx
    window.close()
    close(ctx)


@pytest.fixture
def push(gui):
    """push(entities_night) sends a simulated night's entities through the real importer."""
    from meteorgui.exporter.client import ImportClient
    from meteorgui.simulate import push_night

    clients = []

    def _push(night, rate=None):
        client = ImportClient(gui.core.server.url, *CAMERA_USER)
        clients.append(client)
        return push_night(night, client, rate=rate, on_progress=None)

    yield _push
    for c in clients:
        c.close()
