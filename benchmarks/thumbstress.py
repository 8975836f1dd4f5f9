"""Video thumbnails under stress: many decodes in fresh processes while the GUI thread is busy.

Each fresh process (a new interpreter, a new QApplication, offscreen) makes
``--thumbnails / --processes`` video thumbnails through the real
ThumbnailService, with ``--threads`` pool threads, while its GUI thread is kept
busy: painting, and connecting, emitting and disconnecting signals on the
service (a Qt signal mutex held on the GUI thread is what deadlocked against a
decoding worker when thumbnails went through QtMultimedia). A timer plays a
grid that asks for a page of thumbnails and moves on when the page is done, as
scrolling does. One file in ten is a truncated clip (the damaged badge).
Every third process also plays a clip with QMediaPlayer on its GUI thread, as
the detail pane does, so Qt's FFmpeg and PyAV's decode side by side.

Each file id is new, so every thumbnail is decoded (none comes from the disk
cache). The parent counts a crash (the process died or exited non-zero), a
hang (no answer within ``--timeout`` seconds; the child prints its threads'
stacks first) and wrong results (a clip without its poster frame, a process
that loaded QtMultimedia), and prints the totals and the time.

Run: .venv/bin/python benchmarks/thumbstress.py [--thumbnails 20000] [--processes 20]
The test suite runs a small version (tests/test_thumbnails.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = 160  # the browser's default tile


def make_clips(folder: Path) -> list[tuple[Path, str, bool]]:
    """The shipped demo clips and a truncated copy of each: (path, md5, whole)."""
    folder.mkdir(parents=True, exist_ok=True)
    clips = []
    for src in sorted((ROOT / "resources" / "demo").glob("meteor_clip_*.mp4")):
        data = src.read_bytes()
        good = folder / src.name
        good.write_bytes(data)
        clips.append((good, hashlib.md5(data).hexdigest(), True))
        cut = folder / f"cut_{src.name}"
        cut.write_bytes(data[: len(data) // 3])  # the md5 still names the whole clip
        clips.append((cut, hashlib.md5(data).hexdigest(), False))
    return clips


class ClipStore:
    """The part of archive.FileStore the service uses: where a file's bytes are."""

    def __init__(self, paths: dict[str, Path]):
        self.paths = paths

    def path(self, file_id: str, md5: str) -> Path:
        return self.paths[file_id]


def child(count: int, threads: int, folder: Path, timeout: float, player: bool) -> int:
    import faulthandler

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # A hang inside C++ never returns to Python: print every thread's stack before the
    # parent gives up on this process.
    faulthandler.dump_traceback_later(max(1.0, timeout - 5), exit=False)
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from meteorgui.gui.common import thumbnails as th

    app = QApplication([])
    clips = make_clips(folder / "clips")
    files = []  # (file_id, md5, whole)
    paths = {}
    for i in range(count):
        path, md5, whole = clips[(i % 4) * 2 + (i % 10 == 9)]  # every tenth is cut short
        file_id = uuid.uuid4().hex
        paths[file_id] = path
        files.append((file_id, md5, whole))
    svc = th.ThumbnailService(ClipStore(paths), folder / "thumbnails", threads=threads)
    page = 48
    state = {"at": 0, "ticks": 0, "emitted": 0, "wrong": 0}
    states: dict[str, int] = {}
    examples: list[str] = []
    video_badge = svc.badge("video", SIZE)

    def view():  # the grid: repaint the visible page; scroll on when it is all there
        at = state["at"]
        visible = files[at : at + page]
        done = True
        for file_id, md5, _ in visible:
            svc.get(file_id, md5, "video/mp4", SIZE)
            done = done and svc.state(file_id, md5, SIZE) != th.LOADING
        if not done:
            return
        for file_id, md5, whole in visible:  # checked while on screen (the cache is an LRU)
            st = svc.state(file_id, md5, SIZE)
            states[st] = states.get(st, 0) + 1
            image = svc.get(file_id, md5, "video/mp4", SIZE)
            poster = st == th.VIDEO and image != video_badge and image.width() == SIZE
            if (whole and not poster) or (not whole and st != th.DAMAGED):
                state["wrong"] += 1  # a whole clip shows its poster frame, a cut one "damaged"
                if len(examples) < 5:
                    examples.append(f"{'whole' if whole else 'cut'} clip: {st}, {image.size()}")
        state["at"] = at + page
        if state["at"] >= len(files):
            app.quit()

    canvas = QImage(400, 300, QImage.Format.Format_ARGB32_Premultiplied)

    def busy():  # the GUI thread at work: paint, and (dis)connect and emit on the service
        state["ticks"] += 1
        p = QPainter(canvas)
        for k in range(20):
            p.fillRect(k * 10, k * 7, 200, 150, QColor(k * 12, 40, 90))
        p.end()

        def slot(_file_id):
            state["emitted"] += 1

        svc.ready.connect(slot)
        svc.ready.emit("busy")
        svc.ready.disconnect(slot)

    frames = [0]
    if player:  # the detail pane plays a clip on the GUI thread meanwhile, looping
        from PySide6.QtCore import QUrl
        from PySide6.QtMultimedia import QMediaPlayer, QVideoSink

        playing = QMediaPlayer()
        sink = QVideoSink()
        playing.setVideoSink(sink)
        sink.videoFrameChanged.connect(lambda _f: frames.__setitem__(0, frames[0] + 1))
        playing.setLoops(QMediaPlayer.Loops.Infinite)
        playing.setSource(QUrl.fromLocalFile(str(clips[0][0])))
        playing.play()
    started = time.perf_counter()
    viewer = QTimer(interval=5)
    viewer.timeout.connect(view)
    spinner = QTimer(interval=0)
    spinner.timeout.connect(busy)
    viewer.start()
    spinner.start()
    app.exec()
    viewer.stop()
    spinner.stop()
    seconds = time.perf_counter() - started
    svc.shutdown()
    if player:
        playing.stop()
    faulthandler.cancel_dump_traceback_later()
    report = {
        "thumbnails": len(files),
        "states": states,
        "wrong": state["wrong"],
        "examples": examples,
        "gui_ticks": state["ticks"],
        # Only a player on the GUI thread may load Qt's multimedia; thumbnails never do.
        "multimedia_loaded": "PySide6.QtMultimedia" in sys.modules and not player,
        "player_frames": frames[0],
        "seconds": seconds,
    }
    print("REPORT " + json.dumps(report), flush=True)
    return 0


def run(thumbnails: int, processes: int, threads: int, timeout: float, player_every: int) -> dict:
    per = -(-thumbnails // processes)
    totals = {
        "processes": 0,
        "thumbnails": 0,
        "posters": 0,
        "damaged": 0,
        "wrong": 0,
        "crashes": 0,
        "hangs": 0,
        "multimedia_loaded": 0,
        "gui_ticks": 0,
        "with_player": 0,
        "player_frames": 0,
        "decode_seconds": 0.0,
    }
    problems = []
    started = time.perf_counter()
    left = thumbnails
    while left > 0:
        n = min(per, left)
        left -= n
        folder = Path(tempfile.mkdtemp(prefix="meteorgui-thumbstress-"))
        cmd = [sys.executable, __file__, "--child", str(n), "--threads", str(threads)]
        cmd += ["--timeout", str(timeout), "--folder", str(folder)]
        totals["processes"] += 1
        if player_every and totals["processes"] % player_every == 0:
            cmd.append("--player")
            totals["with_player"] += 1
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
            )
        except subprocess.TimeoutExpired as exc:
            totals["hangs"] += 1
            problems.append(f"hang after {timeout:.0f} s:\n{exc.stderr or ''}"[-4000:])
            continue
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("REPORT ")), None)
        if proc.returncode != 0 or line is None:
            totals["crashes"] += 1
            problems.append(f"exit {proc.returncode}:\n{proc.stderr[-4000:]}")
            continue
        report = json.loads(line[len("REPORT ") :])
        totals["thumbnails"] += report["thumbnails"]
        totals["posters"] += report["states"].get("video", 0)
        totals["damaged"] += report["states"].get("damaged", 0)
        totals["wrong"] += report["wrong"]
        if report["wrong"]:
            logged = [
                x for x in proc.stderr.splitlines() if not x.startswith(("qt.", "This plugin"))
            ]
            problems.append(
                "wrong: " + "; ".join(report["examples"]) + "\n" + "\n".join(logged[-30:])
            )
        totals["gui_ticks"] += report["gui_ticks"]
        totals["multimedia_loaded"] += report["multimedia_loaded"]
        totals["player_frames"] += report["player_frames"]
        totals["decode_seconds"] += report["seconds"]
    totals["seconds"] = time.perf_counter() - started
    totals["problems"] = problems
    return totals


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--thumbnails", type=int, default=20_000)
    ap.add_argument("--processes", type=int, default=20)
    ap.add_argument("--threads", type=int, default=4, help="pool threads per process")
    ap.add_argument("--timeout", type=float, default=600, help="seconds before a hang")
    ap.add_argument(
        "--player-every",
        type=int,
        default=3,
        help="every n-th process also plays a clip with QMediaPlayer on its GUI thread",
    )
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--player", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        return child(args.child, args.threads, args.folder, args.timeout, args.player)
    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    t = run(args.thumbnails, args.processes, args.threads, args.timeout, args.player_every)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load)}")
    print(
        f"processes {t['processes']}, thumbnails {t['thumbnails']} "
        f"(posters {t['posters']}, damaged badges {t['damaged']}), wrong {t['wrong']}, "
        f"crashes {t['crashes']}, hangs {t['hangs']}, "
        f"processes with QtMultimedia loaded {t['multimedia_loaded']}"
    )
    rate = t["thumbnails"] / t["decode_seconds"] if t["decode_seconds"] else 0.0
    print(
        f"time {t['seconds']:.1f} s ({t['decode_seconds']:.1f} s in the event loops, "
        f"{rate:.0f} thumbnails/s), GUI-thread busy ticks {t['gui_ticks']}"
    )
    print(
        f"processes also playing a clip on the GUI thread {t['with_player']} "
        f"({t['player_frames']} frames shown)"
    )
    for p in t["problems"]:
        print(p)
    bad = t["crashes"] or t["hangs"] or t["wrong"] or t["multimedia_loaded"]
    return 1 if bad or t["thumbnails"] != args.thumbnails else 0


if __name__ == "__main__":
    raise SystemExit(main())
