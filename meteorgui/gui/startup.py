"""Starting and stopping the desktop app."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QEvent, QLoggingCategory, QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from .. import formatting, paths, resources
from ..archive import ArchiveError, pending_upgrades
from ..core import GIL_SWITCH_INTERVAL_S, Core
from ..logs import announce, close_logging, setup_logging
from ..memory import CollectorPacer
from ..resources import MissingResource
from ..settings import Settings
from .common import style
from .common.bridge import Bridge
from .common.context import GuiContext
from .common.tasks import TaskRunner
from .main_window import MainWindow

log = logging.getLogger(__name__)


def build(
    data_dir: Path,
    settings: Settings,
    *,
    demo: bool = False,
    synchronous_tasks: bool = False,
    defer: bool = False,
) -> tuple[GuiContext, MainWindow]:
    """The context and main window for an archive (the app and tests use this).

    ``defer``: the window leaves all but its event browser to ``window.finish_start()``,
    and the application-wide filters and the collection below to ``after_first_page()``."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    formatting.use_utc(settings.times_utc)
    core = Core(data_dir, beside_window=True)
    core.importer.bind_cameras = settings.bind_cameras
    bridge = Bridge(core.hub)
    # Detached task threads end with their work: their archive readers go with them.
    tasks = TaskRunner(synchronous=synchronous_tasks, on_thread_exit=core.archive.db.release_reader)
    ctx = GuiContext(core=core, settings=settings, bridge=bridge, tasks=tasks)
    style.follow_colour_scheme(watch=not defer)
    window = MainWindow(ctx, demo=demo, defer=defer)
    if not defer:
        after_first_page()
    return ctx, window


def after_first_page() -> None:
    """What the app leaves until its first page is shown (``build`` does it at once when
    not deferred): following the desktop's colour scheme, and settling the memory."""
    style.follow_colour_scheme()
    settle_memory()


def settle_memory() -> None:
    # Everything built so far lives as long as the app: keep it out of the cyclic
    # collector's full passes, which would otherwise stall the window tens of ms.
    gc.collect()
    gc.freeze()
    resume_collector()
    _pace_collector()


# What the app builds after start-up is collected and frozen a second at a time, so no
# automatic full pass walks more than that while the user scrolls or cameras push
# (meteorgui/memory.py).
_pacer: tuple[CollectorPacer, QTimer] | None = None  # the timer holds no pacer of its own
PACE_MS = 1000


def _pace_collector() -> None:
    global _pacer
    app = QApplication.instance()
    if _pacer is not None or app is None:
        return
    pacer, timer = CollectorPacer(), QTimer(app, interval=PACE_MS)
    timer.timeout.connect(pacer.tick)
    timer.start()
    _pacer = pacer, timer


def _stop_pacing() -> None:
    global _pacer
    if _pacer is not None:
        _pacer[1].stop()
        _pacer[1].deleteLater()
        _pacer = None


# run_gui() turns the cyclic collector off until the first page is shown: loading the
# window's modules and building it would otherwise run it about 90 times (47-86 ms in
# all), for next to no garbage.
_collector_paused = False


def pause_collector() -> None:
    """Turn the collector off until ``settle_memory()`` (if it is on)."""
    global _collector_paused
    if gc.isenabled():
        gc.disable()
        _collector_paused = True


def resume_collector() -> None:
    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        gc.enable()


def close(ctx: GuiContext) -> None:
    """Orderly shutdown: importer stopped, the window's services (exports first) stopped,
    workers drained, bridge detached, then the core closes what it owns (the archive last,
    unless an export thread is still using it)."""
    _stop_pacing()
    gc.unfreeze()  # what build() set aside can be collected again once closed
    ctx.core.stop_importer()
    for service in ctx.services():
        try:
            service.shutdown()
        except Exception:
            log.exception("stopping %s failed", type(service).__name__)
    ctx.tasks.shutdown(wait=True)
    ctx.bridge.close()
    ctx.core.close()


class FirstPage(QObject):
    """Calls ``then`` once the window has painted and its browser shows what it has: the
    first page read and its thumbnails made (or after ``limit_ms`` whatever is left)."""

    def __init__(self, window, then, limit_ms: int = 2000, poll_ms: int = 10):
        super().__init__(window)
        self._window, self._then, self._limit_ms = window, then, limit_ms
        self._painted = False
        self._settled = 0  # polls in a row that found everything shown
        self._clock = QElapsedTimer()
        self._clock.start()
        self._poll = QTimer(self, interval=poll_ms)
        self._poll.timeout.connect(self._check)
        window.installEventFilter(self)
        self._poll.start()

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self._painted = True
            obj.removeEventFilter(self)
        return False

    def _check(self) -> None:
        browser = self._window.browser
        shown = (
            self._painted
            and browser.is_ready
            and not browser.model.loading
            and browser.thumbs.pending_count() == 0
        )
        # Twice in a row: a page just read asks for its thumbnails at its next paint.
        self._settled = self._settled + 1 if shown else 0
        if self._settled < 2 and self._clock.elapsed() < self._limit_ms:
            return
        self._poll.stop()
        then, self._then = self._then, None
        if then is not None:
            then()


def _exit_after_events(ctx: GuiContext, window: MainWindow, count: int) -> None:
    """Quit once ``count`` events are archived, saying so on stdout: how a script (the
    installation tests) sees that an installed program really works."""
    start = time.monotonic()
    seen = 0

    def archived(payload) -> None:
        nonlocal seen
        if payload[0] != "event" or seen >= count:
            return
        seen += 1
        print(f"demo: event {seen} archived after {time.monotonic() - start:.1f} s", flush=True)
        if seen == count:
            window.close()

    ctx.bridge.archived.connect(archived)


DEMO_PREFIX = "meteorgui-demo-"


def _sweep_old_demos() -> None:
    """Remove demo folders whose meteorgui is gone (killed before it could clean up)."""
    if os.name != "posix":  # os.kill(pid, 0) only asks on POSIX (Windows would kill)
        return
    for folder in Path(tempfile.gettempdir()).glob(f"{DEMO_PREFIX}*-*"):
        pid = folder.name[len(DEMO_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or not folder.is_dir():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (PermissionError, OSError):
            pass  # alive (another user's), or cannot tell: leave it


def enter_demo_folder() -> Path:
    """A fresh folder for the demo, where from now on its settings and export passwords
    live too (never the user's config folder or keyring); it goes when the demo quits."""
    from ..exporter import secrets as secret_store  # requests comes with it: the demo only

    _sweep_old_demos()
    folder = Path(tempfile.mkdtemp(prefix=f"{DEMO_PREFIX}{os.getpid()}-"))
    os.environ[paths.ENV_CONFIG_DIR] = str(folder / "config")
    os.environ[secret_store.ENV_BACKEND] = "file"
    return folder


def run_gui(args, *, collector_paused: bool = False) -> int:
    """``collector_paused``: the caller turned the cyclic collector off (to load this
    module); it is turned on again once the first page is shown, as when paused here."""
    global _collector_paused
    _collector_paused = _collector_paused or collector_paused
    pause_collector()
    try:
        return _run_gui(args)
    finally:
        resume_collector()


def _run_gui(args) -> int:
    demo = bool(getattr(args, "demo", False))
    if demo and args.data_dir:
        print(
            "meteorgui: --demo uses a temporary archive of its own, never yours; leave "
            "out --data-dir",
            file=sys.stderr,
        )
        return 2
    # FFmpeg prints several lines for every clip Qt opens: noise on a terminal.
    QLoggingCategory.setFilterRules(
        "qt.multimedia.ffmpeg*=false\nqt.multimedia.playbackengine*=false"
    )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("meteorgui")
    app.setOrganizationName("meteorgui")
    app.setDesktopFileName("meteorgui")
    problems = resources.missing()
    try:
        app.setWindowIcon(QIcon(str(resources.require("icons", "meteorgui.svg"))))
    except MissingResource:
        pass  # among the problems shown once the window is up
    if demo:
        data_dir = enter_demo_folder()
    settings = Settings.load()  # the demo's own: defaults, then what its Settings saves
    # A first run walks through setting up; --data-dir says the user knows where to go.
    first_run = not demo and not args.data_dir and not Settings.path().exists()
    if not demo:
        data_dir = paths.data_dir(args.data_dir, settings.data_dir or None)

    def open_archive(folder: Path) -> tuple[GuiContext, MainWindow]:
        setup_logging(folder, verbose=getattr(args, "verbose", False), announce_now=False)
        for problem in settings.problems:
            log.warning("Settings: %s", problem)
        steps = pending_upgrades(folder)
        if steps:  # made by an earlier version: say so while it lasts
            from .upgrade import upgrade_archive

            upgrade_archive(folder, steps)
        return build(folder, settings, demo=demo, defer=True)

    if first_run:
        from .setup.first_run import FirstRunWizard

        resume_collector()  # the user takes their time: no reason to wait for the collector
        wizard = FirstRunWizard(settings, data_dir, open_archive)
        wizard.exec()
        if wizard.wants_demo:  # only looking: the demo, and the assistant next time
            wizard.deleteLater()
            demo = True
            data_dir = enter_demo_folder()
            settings = Settings.load()  # the demo's own
            first_run = False
        elif wizard.ctx is None:  # left before choosing: nothing was made
            return 0
        else:
            ctx, window = wizard.ctx, wizard.window
            data_dir = ctx.archive.data_dir
            wizard.deleteLater()
    if not first_run:
        try:
            ctx, window = open_archive(data_dir)
        except (ArchiveError, OSError) as exc:
            message = (
                str(exc)
                if isinstance(exc, ArchiveError)
                else f"cannot write in the data folder {data_dir}: {exc.strerror or exc}"
            )
            QMessageBox.critical(None, "meteorgui cannot start", message)
            print(f"meteorgui: {message}", file=sys.stderr)
            return 1
    window.show()
    for problem in problems:
        log.error("%s", problem)  # on stderr and in the Log dock
        window.show_problem(problem)
    cameras: list = []  # the demo's simulate.DemoCamera
    exit_after = getattr(args, "demo_exit_after", None)

    def failed(line: str) -> None:  # on the GUI thread
        window.show_problem(line)
        if exit_after:  # a script waits for events that will never come
            window.close()

    def start_the_rest() -> None:
        announce()
        window.finish_start()
        after_first_page()
        if demo:
            if not window.start_importer():
                # The demo should just work: listen on any free port instead.
                if window.port_prompt is not None:
                    window.port_prompt.close()
                window.start_importer(port=0)
            server = ctx.core.server
            if server is None:
                log.warning("demo camera: the importer is not running")
                return
            from ..simulate import DemoCamera  # the simulator: only for the demo

            if exit_after:
                _exit_after_events(ctx, window, exit_after)
            cameras.append(
                DemoCamera(
                    ctx.core.archive,
                    server.url,
                    on_failure=lambda line: ctx.bridge.run_on_main(lambda: failed(line)),
                )
            )
            cameras[0].start()
        elif settings.importer_autostart and not ctx.core.importer_running:
            window.start_importer()

    # Flask, waitress and requests take a quarter of a second to import: the window
    # shows the archive first.
    FirstPage(window, start_the_rest)

    # Ctrl+C, a closed terminal or SIGTERM quit like Ctrl+Q (the demo's folder goes too);
    # the timer lets Python see the signal.
    previous = {}
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            number = getattr(signal, name)
            previous[number] = signal.signal(number, lambda *_: window.close())
    pulse = QTimer(interval=250)
    pulse.timeout.connect(lambda: None)
    pulse.start()
    code = app.exec()
    pulse.stop()
    for number, handler in previous.items():
        signal.signal(number, handler)
    if exit_after and any(camera.failure for camera in cameras):
        code = 1
    for camera in cameras:
        camera.stop()
    close(ctx)
    if demo:  # the demo leaves nothing behind
        close_logging()
        shutil.rmtree(data_dir, ignore_errors=True)
    return code
