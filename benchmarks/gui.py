"""GUI responsiveness on a big archive, offscreen, measured in the real Qt event loop.

Start-up, in fresh processes (best of --rounds, alternating with the baselines):
0. ``meteorgui --help`` against ``python -c pass`` (target 60 ms against Python's
   30 ms), and the real ``meteorgui`` from process start to its first page of
   thumbnails painted on the 200k archive (target 0.5 s) against a bare PySide6
   window's first paint (benchmarks/firstpaint.py is the child).

In this process, on an empty archive (the baseline) and the big one:
1. Time to a painted window with its first thumbnails.
2. Filter change latency: the new rows counted, the first page loaded, painted
   (target < 150 ms each).
3. Scrolling --scroll events (20,000) through all nights, page by page, each
   page's thumbnails (or badges) shown before the next: what a long browse
   leaves in the caches.
4. Then the longest GUI-thread stall while cameras push through the real
   importer over loopback (target < 50 ms at 50 events per second), seen by a
   1 ms timer probe. The cameras are separate processes pinned to other cores
   than the app (real cameras are other machines); the rate they reached is
   printed, and the figure is marked when it fell short of 50 events/s. Baseline: a
   bare Qt process's 1 ms timer on the app's CPU at the same time (the machine's own
   gaps: other work, scheduling).

Then RSS after opening and after scrolling; and the whole list end to end: --jumps
places spread from the top to the bottom, a few screenfuls scrolled at each, with
the longest GUI-thread stall (a 1 ms timer probe) and the slowest screenful shown.

The archive (--events 200,000 or 1,000,000 events, about 4 file records each; see
bigarchive.py) is built once into benchmarks/out/ and copied for each run (the
database copied, the stored files hard-linked). The machine's load
average is printed: on a shared machine compare ratios, not absolute times.

The cameras also push --timelapse stills each, into a latest night that already holds
--stills time-lapse stills (the strip's length on a long night).

Run: .venv/bin/python benchmarks/gui.py [--events 200000|1000000] [--push 600]
     [--cameras 12] [--scroll 20000] [--jumps 50] [--rounds 5] [--push-only]
     [--timelapse 15] [--stills 5000]
     METEORGUI_BEFORE_TREE=/tmp/before .venv/bin/python benchmarks/gui.py ...: the same
     measurements of the window of another tree
     .venv/bin/python benchmarks/gui.py --events 1000000 --filters-only: the big
     archive's first paint and filter changes alone (about a minute), for alternating
     pairs of runs with METEORGUI_BEFORE_TREE
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.ffmpeg*=false")
ROOT = Path(__file__).resolve().parent.parent
# METEORGUI_BEFORE_TREE: measure the window of another tree (say `git archive main`) with
# this script, this tree's archive builder and this tree's cameras: a before/after pair.
TREE = Path(os.environ.get("METEORGUI_BEFORE_TREE") or ROOT).resolve()
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
if TREE != ROOT:
    sys.path.insert(0, str(TREE))

import bigarchive  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from meteorgui.archive import browse  # noqa: E402
from meteorgui.archive.conversations import Conversation  # noqa: E402
from meteorgui.gui.startup import build, close  # noqa: E402
from meteorgui.logs import close_logging, setup_logging  # noqa: E402
from meteorgui.settings import Settings  # noqa: E402

# Real cameras are other machines. On a small machine the camera processes would take
# the app's CPU, so where it can, the benchmark gives them their own core(s).
CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
APP_CPUS = set(CPUS[: max(1, len(CPUS) // 2)]) if len(CPUS) > 1 else set()
CAMERA_CPUS = set(CPUS) - APP_CPUS
RATE = 50.0  # events per second, all cameras together
PROFILE: Path | None = None  # --profile: py-spy records the push phase into this folder
PROFILE_GIL = False  # --profile-gil: only the GIL's holder, in py-spy's raw format
COUNT_CALLS = False  # --count-calls: count the calls from Qt into Python while pushing
BIN = Path(sys.executable).parent


# A process with nothing but a 1 ms timer, on the app's CPU while the cameras push: the gaps
# the machine itself makes (other work, scheduling), with no GIL and no window to wait for.
BARE_PROBE = """
import signal, time
from PySide6.QtCore import QCoreApplication, QTimer
app = QCoreApplication([])
gaps, last, stop = [], [time.perf_counter()], []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
def tick():
    now = time.perf_counter()
    gaps.append(now - last[0])
    last[0] = now
    if stop:
        gaps.sort()
        print(f"{gaps[-1] * 1000:.1f} {gaps[int(len(gaps) * 0.99)] * 1000:.1f}", flush=True)
        app.quit()
timer = QTimer(interval=1)
timer.timeout.connect(tick)
timer.start()
app.exec()
"""


class QtToPython:
    """Counts the calls from Qt into Python on the GUI thread, by function.

    Each one (a slot, a model's data(), a delegate's paint, an event filter) takes the
    GIL anew and waits for it while another thread runs Python. A profile hook sees a
    Python function start while the frame that called it is inside the event loop's
    exec(): that call came from Qt. The hook slows the GUI thread's Python several
    times, so the gap figures of such a run mean nothing; the counts do.
    """

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self._in_loop: set[int] = set()  # ids of frames inside a call to exec()

    def _hook(self, frame, event, arg) -> None:
        if event == "call":
            back = frame.f_back
            if back is not None and id(back) in self._in_loop:
                code = frame.f_code
                owner = frame.f_locals.get("self") if code.co_argcount else None
                name = code.co_qualname if owner is None else f"{type(owner).__name__}."
                if owner is not None:  # the class, not the base that defines the method
                    name += code.co_name
                self.counts[f"{Path(code.co_filename).stem}.{name}"] += 1
        elif event == "c_call" and getattr(arg, "__name__", "") == "exec":
            self._in_loop.add(id(frame))
        elif event in ("c_return", "c_exception") and getattr(arg, "__name__", "") == "exec":
            self._in_loop.discard(id(frame))

    def start(self) -> None:
        sys.setprofile(self._hook)

    def stop(self) -> None:
        sys.setprofile(None)

    def summary(self, seconds: float, n: int = 12) -> str:
        total = sum(self.counts.values())
        top = ", ".join(f"{name} {k:,}" for name, k in self.counts.most_common(n))
        return f"{total:,} ({total / seconds:,.0f}/s): {top}"


def pin(cpus: set) -> None:
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cpus)


def thread_names() -> dict[int, str]:
    """Python's names for its threads (numbers left out: a pool's threads are one
    kind), and the system's for the others (Qt's own)."""
    names = {t.native_id: re.sub(r"[-_ ]?\d+$", "", t.name) for t in threading.enumerate()}
    for task in Path("/proc/self/task").iterdir():
        tid = int(task.name)
        if tid not in names:
            try:
                names[tid] = "qt:" + (task / "comm").read_text().strip()
            except OSError:
                pass
    return names


def cpu_by_thread(before: dict[int, float], after: dict[int, float], names, per: int) -> str:
    """The app's CPU between two ``task_cpu()`` readings, by kind of thread, in ms per
    ``per`` (threads that ended meanwhile are not counted)."""
    from servers import per_thread  # with the floor's Flask: not before the app's own

    kinds: dict[str, float] = {}
    for tid, cpu in after.items():
        kind = names.get(tid, "(started meanwhile)")
        kinds[kind] = kinds.get(kind, 0.0) + cpu - before.get(tid, 0.0)
    return f"{sum(kinds.values()) * 1000 / per:.1f} in all: " + per_thread(kinds, per)


def wait_until(cond, timeout: float = 60.0, every_ms: int = 1) -> bool:
    """Run the real event loop until cond() holds (checked every ``every_ms``)."""
    if cond():
        return True
    loop = QEventLoop()
    timer = QTimer(interval=every_ms)
    timer.timeout.connect(lambda: loop.quit() if cond() else None)
    deadline = QTimer(singleShot=True, interval=int(timeout * 1000))
    deadline.timeout.connect(loop.quit)
    timer.start()
    deadline.start()
    loop.exec()
    timer.stop()
    deadline.stop()
    return cond()


def first_tiles_ready(browser) -> bool:
    model = browser.model
    if model.loading:
        return False
    if model.rowCount() == 0:
        return browser._ready  # the filters are loaded and there is nothing to show
    row = model.row_at(0)
    if row is None:
        return False
    if not row.still_id:
        return True
    size = browser.tile_delegate._size
    return browser.thumbs.state(row.still_id, row.still_md5, size) != "loading"


class StallSampler:
    """Looks at the GUI thread's stack every 5 ms while the probe has not ticked for
    20 ms: where the window spends its stalls (Python frames only). Each look takes the
    GIL from whoever holds it: every 2 ms made the importer's threads pay for it."""

    def __init__(self, last: list[float], over_s: float = 0.020, every_s: float = 0.005):
        self._last, self._over, self._every = last, over_s, every_s
        self._main = threading.main_thread().ident
        self.seen: Counter = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            if time.perf_counter() - self._last[0] < self._over:
                continue
            frame = sys._current_frames().get(self._main)
            stack = []
            while frame is not None and len(stack) < 4:
                code = frame.f_code
                if "meteorgui" in code.co_filename:
                    where = code.co_filename.split("meteorgui/")[-1]
                    stack.append(f"{where}:{code.co_name}")
                frame = frame.f_back
            self.seen[" < ".join(stack) or "(in Qt or waiting for the GIL)"] += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self, n: int = 5) -> str:
        total = sum(self.seen.values())
        if not total:
            return f"no gaps over {self._over * 1000:.0f} ms"
        return "; ".join(f"{100 * k // total}% {w}" for w, k in self.seen.most_common(n))


def waiting_tiles(browser):
    """Each tile on screen not shown yet: its row (None while unread), its thumbnail
    still loading."""
    model, size = browser.model, browser.tile_delegate._size
    for r in browser.grid.visible_rows():
        row = model.row_at(r)
        if row is None or (
            row.still_id and browser.thumbs.state(row.still_id, row.still_md5, size) == "loading"
        ):
            yield row


def visible_shown(browser) -> bool:
    """Every tile on screen has its row read and its thumbnail (or badge) made."""
    return not any(True for _ in waiting_tiles(browser))


def not_shown(browser) -> list[str]:
    """What keeps each tile on screen from being shown: its row unread, or its thumbnail
    loading (queued, decoding, or asked for by nobody)."""
    size, svc = browser.tile_delegate._size, browser.thumbs
    out = []
    for row in waiting_tiles(browser):
        if row is None:
            out.append("row not read")
            continue
        key = (row.still_id, row.still_md5 or "", int(size))
        with svc._lock:
            where = (
                "queued"
                if key in svc._pending
                else "decoding"
                if key in svc._running
                else "asked by nobody"
            )
        out.append(f"thumbnail {where}")
    return out


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class GapProbe:
    """The longest gap between the ticks of a 1 ms timer: the longest stretch the GUI
    thread spent without returning to its event loop (the benchmark's own scrolling
    included: setting the scroll bar and painting run on that thread too), and the GUI
    thread's own CPU in it."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.longest_cpu = 0.0
        self.last = [time.perf_counter(), time.thread_time()]  # as StallSampler reads it
        self._timer = QTimer(interval=1)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if now - self.last[0] > self.longest:
            self.longest, self.longest_cpu = now - self.last[0], cpu - self.last[1]
        self.last[0], self.last[1] = now, cpu

    def stop(self) -> float:
        self._tick()
        self._timer.stop()
        return self.longest


def jump_through(browser, jumps: int, screens: int = 3) -> dict:
    """The whole list, end to end: the scroll bar moved to ``jumps`` places spread evenly
    from the top to the bottom (the last one the end), and ``screens`` screenfuls
    scrolled on from each, every screenful's tiles shown before the next. Scrolling a
    million rows a screenful at a time would take hours here; these places cover it."""
    f = browser.filters
    f.night.setCurrentIndex(max(0, f.night.findData("all")))
    wait_until(lambda: not browser.model.loading)
    grid = browser.grid
    bar = grid.verticalScrollBar()
    step = grid.viewport().height()
    probe = GapProbe()
    started = time.perf_counter()
    shown: list[float] = []
    for k in range(1, jumps + 1):
        for i in range(screens):
            t = time.perf_counter()
            if i == 0:
                bar.setValue(bar.maximum() * k // jumps)
            else:
                bar.setValue(min(bar.maximum(), bar.value() + step))
            grid.viewport().repaint()
            wait_until(lambda: visible_shown(browser), timeout=10)
            grid.viewport().repaint()
            shown.append(time.perf_counter() - t)
    stall = probe.stop()
    shown.sort()
    return {
        "jumps through the whole list": f"{jumps} places x {screens} screenfuls, last row "
        f"{grid.visible_rows().stop:,} of {browser.model.rowCount():,}",
        "  time for them all (s)": time.perf_counter() - started,
        "  slowest screenful shown after a jump (ms)": shown[-1] * 1000,
        "  median screenful shown (ms)": statistics.median(shown) * 1000,
        "longest GUI-thread stall while jumping (ms)": stall * 1000,
    }


def scroll_through(browser, events: int) -> dict:
    """All nights, scrolled down a screenful at a time until ``events`` rows went by."""
    f = browser.filters
    f.night.setCurrentIndex(max(0, f.night.findData("all")))
    wait_until(lambda: not browser.model.loading)
    grid = browser.grid
    bar = grid.verticalScrollBar()
    started = time.perf_counter()
    worst = 0.0
    probe = GapProbe()
    sampler = StallSampler(probe.last, over_s=0.050)
    paints: list[float] = []  # the synchronous paint of each screenful, as a user's scroll
    unshown: Counter = Counter()  # what a screenful still lacked when its wait timed out
    timeouts = 0
    while (
        grid.visible_rows().stop < min(events, browser.model.rowCount())
        and bar.value() < bar.maximum()
    ):
        t = time.perf_counter()
        bar.setValue(bar.value() + grid.viewport().height())
        p = time.perf_counter()
        grid.viewport().repaint()
        paints.append(time.perf_counter() - p)
        if not wait_until(lambda: visible_shown(browser), timeout=5):
            timeouts += 1
            unshown.update(not_shown(browser))
        grid.viewport().repaint()
        worst = max(worst, time.perf_counter() - t)
    stall = probe.stop()
    sampler.stop()
    svc = browser.thumbs
    cache = len(svc._cache)
    missing = sum(e.state == "missing" for e in svc._cache.values())
    # What one completed conversation costs the GUI thread now: every slot on the
    # bridge's signal runs (thumbnails, monitor, counts), as when a camera's event lands.
    ctx = browser.ctx
    row = browser.model.row_at(grid.visible_rows().start)
    done = Conversation(
        0,
        "bench-cam",
        "127.0.0.1",
        "event",
        row.event_id,
        row.camera_id,
        "complete",
        0,
        0,
        0,
        1,
        True,
        None,
    )
    costs = []
    for _ in range(5):
        t, cpu = time.perf_counter(), time.thread_time()
        ctx.bridge.conversation.emit(done)
        costs.append((time.perf_counter() - t, time.thread_time() - cpu))
        wait_until(lambda: not browser.model.loading, timeout=5)
    return {
        "events scrolled past": grid.visible_rows().stop,
        "scrolling time (s)": time.perf_counter() - started,
        "slowest screenful shown (ms)": worst * 1000,
        "screenfuls not shown within 5 s; what they lacked": (
            f"{timeouts}; " + (", ".join(f"{k} {n}" for k, n in unshown.most_common()) or "nothing")
        ),
        "a screenful's first paint: median, longest (ms)": (
            f"{statistics.median(paints) * 1000:.1f}, {max(paints) * 1000:.1f}" if paints else ""
        ),
        "longest GUI-thread stall while scrolling (ms)": stall * 1000,
        "  the GUI thread's own CPU in it (ms)": probe.longest_cpu * 1000,
        "where the GUI thread was in gaps over 50 ms while scrolling": sampler.summary(8),
        "thumbnail cache entries after scrolling": cache,
        "missing badges among them": missing,
        "first completed conversation on the GUI thread (ms)": costs[0][0] * 1000,
        "  its CPU on the GUI thread (ms)": costs[0][1] * 1000,
        "  slowest of the next four (ms)": max(c[0] for c in costs[1:]) * 1000,
    }


def add_stills(data_dir: Path, n: int) -> None:
    """``n`` time-lapse still records (no bytes) in the latest night, before the hours the
    cameras push into: a strip as long as a night's at a still every few seconds."""
    import uuid

    from meteorgui.archive import Archive
    from meteorgui.model import FileRecord

    with Archive(data_dir) as archive:
        start = browse.nights(archive)[0].start_ms + 3_600_000
        status = archive.statuses()[0]
        with archive.db.write():
            for i in range(n):
                archive.store_file(
                    FileRecord(
                        file_id=uuid.uuid4().hex,
                        camera_id=status.camera_id,
                        status_id=status.status_id,
                        file_time=start + i * (4 * 3_600_000 // max(1, n)),
                        file_size=1000,
                        mime_type="image/png",
                        md5=uuid.uuid4().hex,
                        semantic_type="meteorpi:timelapse/frame/lensCorr",
                        file_name="frame.png",
                    )
                )


def measure(
    data_dir: Path,
    push_events: int,
    cameras: int,
    scroll: int = 0,
    timelapse: int = 0,
    stills: int = 0,
    jumps: int = 0,
    filters_only: bool = False,
) -> dict:
    from servers import task_cpu  # Flask comes with it: loaded before anything is timed

    figures: dict = {}
    settings = Settings(host="127.0.0.1", port=0, importer_autostart=False)
    # Logging as the app sets it up before it opens an archive: the log file, INFO and up,
    # waitress's queue-depth warnings left out. Without it every "Task queue depth is 3"
    # of a busy push went to the Log dock: about 4 % of the app's CPU while pushing.
    setup_logging(data_dir, announce_now=False)
    t0 = time.perf_counter()
    ctx, window = build(data_dir, settings)
    window.resize(1400, 880)
    window.show()
    browser = window.browser
    wait_until(lambda: first_tiles_ready(browser))
    window.repaint()
    figures["first paint with thumbnails (ms)"] = (time.perf_counter() - t0) * 1000
    figures["rows shown"] = browser.model.rowCount()

    figures["RSS after opening (MB)"] = rss_mb()

    f = browser.filters
    night_box = browser.filters.night
    # A night halfway back (the box lists the nights, then "All nights" and "Date range").
    halfway = (night_box.count() - 2) // 2

    def text(words):
        f.text.setText(words)
        f._flush_text()  # as Return does: no typing debounce in the figure

    changes = [
        ("camera", lambda: f.camera.setCurrentIndex(min(1, f.camera.count() - 1))),
        ("all cameras", lambda: f.camera.setCurrentIndex(0)),
        ("unreviewed", lambda: f.review.setCurrentIndex(min(1, f.review.count() - 1))),
        ("sort by duration", lambda: f.set_sort("duration")),
        ("all nights", lambda: f.night.setCurrentIndex(max(0, f.night.findData("all")))),
        ("sort by time", lambda: f.set_sort("time")),
        ("any review", lambda: f.review.setCurrentIndex(0)),
        ("reviewed", lambda: f.review.setCurrentIndex(min(2, f.review.count() - 1))),
        ("any review again", lambda: f.review.setCurrentIndex(0)),
        ("event type", lambda: f.event_type.setCurrentIndex(min(1, f.event_type.count() - 1))),
        ("all types", lambda: f.event_type.setCurrentIndex(0)),
        ("text 'duration', all nights", lambda: text("duration")),
        ("text 'site'", lambda: text("site")),
        ("text cleared", lambda: text("")),
        ("a night halfway back", lambda: f.night.setCurrentIndex(max(0, halfway))),
        ("latest night", lambda: f.night.setCurrentIndex(0)),
    ]
    worst = 0.0
    for name, act in changes:
        t = time.perf_counter()
        act()
        wait_until(lambda: not browser.model.loading)
        browser.grid.viewport().repaint()
        took = (time.perf_counter() - t) * 1000
        figures[f"  filter: {name} (ms)"] = took
        worst = max(worst, took)
    figures["slowest filter change (ms)"] = worst
    figures["filter changes of 150 ms or more"] = sum(
        1 for k, v in figures.items() if k.startswith("  filter:") and v >= 150
    )
    if filters_only:
        window.close()
        close(ctx)
        close_logging()
        return figures

    if scroll:
        figures.update(scroll_through(browser, scroll))
        figures["RSS after scrolling (MB)"] = rss_mb()
    if jumps:
        figures.update(jump_through(browser, jumps))
        figures[f"RSS after {jumps} jumps (MB)"] = rss_mb()
    if scroll or jumps:
        # Back to tonight, as a user watching the cameras would be: the caches the scroll
        # filled stay, and the strip shows the night the cameras push into.
        f.night.setCurrentIndex(0)
        wait_until(lambda: not browser.model.loading)
    if stills:
        wait_until(lambda: browser.strip_model.rowCount() >= min(stills, browse.STRIP_LIMIT), 30)
    figures["stills in the strip before pushing"] = browser.strip_model.rowCount()

    # A camera pushes at 50 events/s; a 1 ms timer measures the longest gap on the GUI thread.
    ctx.archive.users.add("bench-cam", "bench-password", roles=["import"])
    assert window.start_importer()
    nights = browse.nights(ctx.archive)
    start = nights[0].start_ms + 6 * 3_600_000 if nights else int(time.time() * 1000)
    gaps: list[float] = []
    bursts: list[float] = []  # GUI-thread CPU between two ticks: its own work, not waiting
    last = [time.perf_counter(), time.thread_time()]

    ends: list[float] = []  # when each gap ended

    def tick():
        now, cpu = time.perf_counter(), time.thread_time()
        gaps.append(now - last[0])
        ends.append(now)
        bursts.append(cpu - last[1])
        last[0], last[1] = now, cpu

    probe = QTimer(interval=1)
    probe.timeout.connect(tick)
    collections: list[tuple[float, int, float]] = []  # (ms, generation, at s since start)
    gc_started = [0.0]

    def on_gc(phase, info):
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            now = time.perf_counter()
            collections.append(((now - gc_started[0]) * 1000, info["generation"], now))

    password = "bench-password\n"
    rows_before = browser.model.rowCount()
    # Cameras are other processes, as real ones are other machines. A camera sends one
    # request at a time and waits for each answer (about ten to an event), so the rate
    # a few reach is bound by each answer's latency, not by the importer's CPU: four
    # reached 22-24 events/s, twelve (the default, about 4 events/s each) reach 50.
    # The cameras' processes start before the window is watched: each waits for its
    # password before it sends anything. (Forking twelve processes from the GUI thread
    # was the longest "stall" of earlier runs: the benchmark's own, not the app's.)
    # The simulator paces entities, and a camera's time-lapse stills are entities too:
    # the pace that puts its events (RATE / cameras a second) between its stills.
    each = push_events // cameras
    entity_rate = RATE / cameras * (each + timelapse) / max(each, 1)
    figures["entities per second asked of each camera"] = entity_rate
    pushers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "meteorgui",
                "simulate",
                "--to",
                ctx.core.server.url,
                "--user",
                "bench-cam",
                "--events",
                str(each),
                "--timelapse",
                str(timelapse),
                "--seed",
                str(11 + i),
                "--rate",
                str(entity_rate),
                "--start",
                str(start),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            preexec_fn=lambda: pin(CAMERA_CPUS),
        )
        for i in range(cameras)
    ]
    bare = subprocess.Popen(
        [sys.executable, "-c", BARE_PROBE],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        preexec_fn=lambda: pin(APP_CPUS),
    )
    spy = None
    if PROFILE is not None:  # every thread, native frames too: where the gaps go
        how = (
            ["--gil", "-f", "raw", "-o", str(PROFILE / f"{data_dir.name}-gil.txt")]
            if PROFILE_GIL  # only the thread holding the GIL, at each sample
            else ["--native", "--idle", "-f", "chrometrace"]
            + ["-o", str(PROFILE / f"{data_dir.name}.json")]
        )
        spy = subprocess.Popen(
            [str(BIN / "py-spy"), "record", "--threads", "-r", "200", *how]
            + ["-p", str(os.getpid())],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1)
    entries = QtToPython() if COUNT_CALLS else None
    probe.start()
    gc.callbacks.append(on_gc)
    last[0], last[1] = time.perf_counter(), time.thread_time()
    sampler = StallSampler(last)
    cpu_before = task_cpu(os.getpid())
    started = time.perf_counter()
    if entries is not None:
        entries.start()
    for p in pushers:
        p.stdin.write(password)
        p.stdin.close()
    # Checked every 25 ms, not every ms: each check takes the GIL from the importer's
    # threads, as a real window never would (the probe's 1 ms ticks already do).
    wait_until(lambda: all(p.poll() is not None for p in pushers), timeout=180, every_ms=25)
    pushed = time.perf_counter() - started
    expected = rows_before + cameras * each
    # Then until every event is in view, or none has come into view for a second: events
    # of a night the view does not show never come, and waiting out the timeout measured
    # the app at rest, where the collector's pass over everything is due after 10 s of
    # quiet (memory.py): 73 ms, counted as the push's longest stall on the empty archive.
    last_seen = [browser.model.rowCount(), time.perf_counter()]

    def arrived() -> bool:
        n = browser.model.rowCount()
        if n != last_seen[0]:
            last_seen[0], last_seen[1] = n, time.perf_counter()
        return n >= expected or time.perf_counter() - last_seen[1] >= 1.0

    wait_until(arrived, timeout=20, every_ms=25)
    cpu_after, names = task_cpu(os.getpid()), thread_names()
    if entries is not None:
        entries.stop()
        figures["calls from Qt into Python on the GUI thread"] = entries.summary(
            time.perf_counter() - started
        )
    probe.stop()
    gc.callbacks.remove(on_gc)
    sampler.stop()
    bare.terminate()
    bare_longest, bare_p99 = (float(x) for x in bare.communicate(timeout=30)[0].split())
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)
    outs = []
    for p in pushers:
        outs.append(p.stdout.read().strip().splitlines()[-1])
        p.stdout.close()
    if gaps:
        i = max(range(len(gaps)), key=gaps.__getitem__)
        lo, hi = ends[i] - gaps[i], ends[i]
        inside = [c for c in collections if c[2] > lo and c[2] - c[0] / 1000 < hi]
        figures["the longest stall began (s after the push started)"] = lo - started
        figures["  the GUI thread's own CPU in it (ms)"] = bursts[i] * 1000
        figures["gaps of 50 ms or more while pushing"] = sum(1 for g in gaps if g >= 0.050)
        figures["garbage collections during the longest stall"] = (
            ", ".join(f"gen {g}: {ms:.1f} ms" for ms, g, _ in inside) or "none"
        )
    for gen in (0, 1, 2):
        times = [ms for ms, g, _ in collections if g == gen]
        figures[f"garbage collections of generation {gen}: count, longest (ms)"] = (
            f"{len(times)}, {max(times, default=0):.1f}"
        )
    gaps.sort()
    figures["push"] = " | ".join(outs)
    # Each camera reports how long its own upload took (its start-up, making the night's
    # clips and stills, is not pushing); the cameras run side by side.
    seconds = [float(m.group(1)) for o in outs if (m := re.search(r"uploaded in ([\d.]+) s", o))]
    rate = cameras * each / (max(seconds) if len(seconds) == cameras else pushed)
    figures["events per second pushed"] = rate
    figures["events arrived in view"] = browser.model.rowCount() - rows_before
    figures["stills in the strip after pushing"] = browser.strip_model.rowCount()
    figures["longest GUI stall while pushing (ms)"] = gaps[-1] * 1000
    figures["p99 GUI gap while pushing (ms)"] = gaps[int(len(gaps) * 0.99)] * 1000
    figures["  baseline: bare Qt timer's longest gap (ms)"] = bare_longest
    figures["  baseline: bare Qt timer's p99 gap (ms)"] = bare_p99
    # Wall-clock gaps include waiting for the GIL and for a CPU on a loaded machine; this
    # is the longest stretch of work the GUI thread itself did between two ticks.
    figures["longest GUI-thread CPU burst while pushing (ms)"] = max(bursts, default=0) * 1000
    # All of it: how much of the app's one CPU the window took while the cameras pushed.
    figures["GUI-thread CPU while pushing, per event (ms)"] = (
        sum(bursts) * 1000 / max(1, cameras * each)
    )
    figures["the app's CPU while pushing, per event, by thread (ms)"] = cpu_by_thread(
        cpu_before, cpu_after, names, max(1, cameras * each)
    )
    figures["where the GUI thread was in gaps over 20 ms"] = sampler.summary()
    window.close()
    close(ctx)
    close_logging()
    return figures


def child_env(config_dir: Path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", METEORGUI_CONFIG_DIR=str(config_dir))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed app has its bytecode cached
    env["PYTHONPATH"] = str(ROOT)  # this tree's meteorgui, wherever the venv points
    return env


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def wall(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds) of running ``cmd`` to its end."""
    t, cpu = time.perf_counter(), children_cpu()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t, children_cpu() - cpu


def first_paint(
    mode: str, env: dict, data_dir: Path | None = None
) -> tuple[float, float, float | None]:
    """(seconds from starting the process to its first paint, the CPU seconds the
    process used until then, seconds to the window complete (the app; see
    firstpaint.py), or None)."""
    cmd = [sys.executable, str(ROOT / "benchmarks" / "firstpaint.py"), mode]
    if data_dir is not None:
        cmd.append(str(data_dir))
    t0 = time.time()
    proc = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("PAINTED ")), None)
    if line is None:
        raise RuntimeError(
            f"{mode}: no first paint (exit {proc.returncode}): {proc.stderr[-2000:]}"
        )
    _, at, cpu = line.split()
    done = next((x for x in proc.stdout.splitlines() if x.startswith("COMPLETE ")), None)
    return float(at) - t0, float(cpu), float(done.split()[1]) - t0 if done else None


def startup(source: Path, tmp: Path, rounds: int) -> list[tuple[str, float, float, str]]:
    """(figure, meteorgui, baseline, baseline's name): best of ``rounds``, alternating.

    Wall-clock figures on a loaded machine include waiting for a CPU; the CPU the
    process used is printed beside them."""
    from meteorgui.settings import Settings

    config = tmp / "config"
    Settings(host="127.0.0.1", port=0, importer_autostart=True).save(config / "settings.yaml")
    env = child_env(config)
    data = bigarchive.copy(source, tmp / "startup-archive")
    meteorgui = str(BIN / "meteorgui")
    wall([meteorgui, "--help"], env)  # bytecode written once, as an install does
    helps, passes, apps, bares = [], [], [], []
    for _ in range(max(3, rounds * 2)):
        passes.append(wall([sys.executable, "-c", "pass"], env))
        helps.append(wall([meteorgui, "--help"], env))
    for _ in range(rounds):
        bares.append(first_paint("bare", env))
        apps.append(first_paint("app", env, data))

    def ms(runs, i=0, how=min):
        return how(r[i] for r in runs) * 1000

    completes = [r for r in apps if r[2] is not None]
    complete = (
        [("  all started: detail, docks, importer (ms)", ms(completes, 2), ms(bares), "")]
        if completes
        else []
    )
    return [
        ("meteorgui --help (ms)", ms(helps), ms(passes), "python -c pass"),
        ("  its CPU (ms, best)", ms(helps, 1), ms(passes, 1), ""),
        ("first page of thumbnails (ms)", ms(apps), ms(bares), "bare window's first paint"),
        ("  CPU until then (ms, best)", ms(apps, 1), ms(bares, 1), ""),
        ("  first round, thumbnails decoded (ms)", apps[0][0] * 1000, bares[0][0] * 1000, ""),
        (
            "  median of the rounds (ms)",
            ms(apps, 0, statistics.median),
            ms(bares, 0, statistics.median),
            "",
        ),
        *complete,
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--push", type=int, default=600, help="events pushed at 50/s")
    ap.add_argument(
        "--cameras", type=int, default=12, help="camera processes sharing the 50 events/s"
    )
    ap.add_argument("--scroll", type=int, default=20_000, help="events scrolled before pushing")
    ap.add_argument(
        "--jumps", type=int, default=50, help="places through the whole list scrolled at"
    )
    ap.add_argument("--rounds", type=int, default=5, help="start-up rounds (best counts)")
    ap.add_argument("--startup-only", action="store_true", help="only the start-up figures")
    ap.add_argument(
        "--filters-only",
        action="store_true",
        help="only the big archive's first paint and filter changes (a minute: for pairs of"
        " runs against METEORGUI_BEFORE_TREE)",
    )
    ap.add_argument(
        "--push-only", action="store_true", help="leave out the start-up figures (fresh processes)"
    )
    ap.add_argument(
        "--timelapse",
        type=int,
        default=15,
        help="time-lapse stills each camera also pushes, paced between its events",
    )
    ap.add_argument(
        "--stills",
        type=int,
        default=5000,
        help="time-lapse stills in the big archive's latest night before pushing",
    )
    ap.add_argument(
        "--profile",
        type=Path,
        help="record the push phase with py-spy (all threads, native frames) into this "
        "folder, for spystalls.py: slows the app, not for figures",
    )
    ap.add_argument(
        "--profile-gil",
        action="store_true",
        help="with --profile: record only the thread holding the GIL at each sample",
    )
    ap.add_argument(
        "--count-calls",
        action="store_true",
        help="count the calls from Qt into Python on the GUI thread while pushing, by "
        "function: slows the app, not for figures",
    )
    args = ap.parse_args()
    global PROFILE, PROFILE_GIL, COUNT_CALLS
    PROFILE, PROFILE_GIL, COUNT_CALLS = args.profile, args.profile_gil, args.count_calls
    if PROFILE is not None:
        PROFILE.mkdir(parents=True, exist_ok=True)
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    app = QApplication.instance() or QApplication([])
    source = bigarchive.build(events=args.events)
    # Beside the cached archive: its copies hard-link the stored files (same file system).
    with tempfile.TemporaryDirectory(prefix="meteorgui-guibench-", dir=bigarchive.OUT) as tmp:
        if TREE != ROOT:
            print(f"the window measured: the tree in {TREE}")
        if not (args.push_only or args.filters_only):
            starts = startup(source, Path(tmp), args.rounds)
            shutil.rmtree(Path(tmp) / "startup-archive")  # the disk for the next copy
            print(f"{'start-up, fresh processes':42} {'meteorgui':>12} {'baseline':>16}  ratio")
            for key, ours, base, name in starts:
                print(f"{key:42} {ours:12.1f} {base:16.1f}  {ours / base:5.2f}  {name}")
        if args.startup_only:
            return 0
        # Start-up ran on every CPU, as an app does; from here on the app keeps to its
        # own and the cameras to theirs.
        pin(APP_CPUS)
        if APP_CPUS:
            print(f"app on CPU {sorted(APP_CPUS)}, cameras on CPU {sorted(CAMERA_CPUS)}")
        empty = {}
        if not args.filters_only:
            empty = measure(Path(tmp) / "empty", args.push, args.cameras, timelapse=args.timelapse)
        big_dir = bigarchive.copy(source, Path(tmp) / "big")
        add_stills(big_dir, args.stills)
        big = measure(
            big_dir,
            args.push,
            args.cameras,
            scroll=args.scroll,
            timelapse=args.timelapse,
            stills=args.stills,
            jumps=args.jumps,
            filters_only=args.filters_only,
        )
    print(f"{'':42} {'empty':>12} {f'{args.events:,} events':>16}")
    for key in big:
        a, b = empty.get(key, ""), big[key]
        if isinstance(b, str):
            if isinstance(a, str) and a and a != b:
                print(f"{key}, empty archive: {a}")
                print(f"{key}, {args.events:,} events: {b}")
            else:
                print(f"{key}: {b}")
        elif isinstance(b, float):
            print(f"{key:42} {a if a == '' else f'{a:.1f}':>12} {b:16.1f}")
        else:
            print(f"{key:42} {a!s:>12} {b!s:>16}")
    for name, figures in (("empty", empty), ("big", big)):
        rate = figures.get("events per second pushed", RATE)
        if rate < RATE * 0.98:
            print(
                f"NOTE: on the {name} archive the cameras reached {rate:.1f} events/s, "
                f"not {RATE:.0f}: its stall figure is not at the named rate"
            )
    print("load average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    first_page = 500 if args.events <= 200_000 else 1000
    print(
        f"targets: --help <= 60 ms, first page of thumbnails <= {first_page} ms, filter change"
        f" < 150 ms, scrolling with no GUI stall over 100 ms, stall < 50 ms at {RATE:.0f}"
        f" events/s after scrolling {args.scroll:,} events"
    )
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
