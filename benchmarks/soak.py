"""Soak: six cameras push for a while as strangers hold idle connections and guess passwords.

    python benchmarks/soak.py [--minutes 10] [--idle 120] [--slow 60] [--guessers 4]
                              [--headless]

The importer runs in the desktop app, as users run it: the real main window with its
embedded importer, in a process of its own (benchmarks/soak_window.py) on an Xvfb this
script starts, listening on all addresses. Six simulated camera nodes (meteorgui's
exporter, one login each) push nights of events and time-lapse stills from 127.0.0.1;
strangers connect from other loopback addresses (127.0.0.2-9): some hold idle
connections, some trickle request headers a byte a second (slowloris), some guess
passwords over and over. Strangers whose connections are closed connect again.
``--headless``: the importer is `meteorgui serve` instead, and no window is measured.

Printed at the end: entities sent and archived (each must arrive exactly once),
answers with HTTP 5xx (must be none), the importer's RSS at the start, its peak and at
the end (with the window: the app's whole process, window and importer), the cameras'
slowest step, what the strangers got, and the open window's longest event-loop stall
(a 2 ms timer on its GUI thread), its 99th percentile and where the GUI thread was
during gaps over 20 ms.
"""

from __future__ import annotations

import argparse
import base64
import collections
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests
from requests_toolbelt.adapters.source import SourceAddressAdapter
from servers import ROOT, free_port

sys.path.insert(0, str(ROOT))  # meteorgui, and tests.xserver for the Xvfb

from meteorgui.archive import Archive  # noqa: E402
from meteorgui.exporter.client import ImportClient  # noqa: E402
from meteorgui.model import entity_id  # noqa: E402
from meteorgui.simulate import make_night  # noqa: E402

CAMERAS = 6
PASSWORD = "soak-camera-pw"


class Importer:
    """The importer's process: the app with its window (default) or `meteorgui serve`."""

    def __init__(self, workdir: Path, window: bool):
        import subprocess

        self.data = workdir / "archive"
        archive = Archive(self.data)
        for i in range(CAMERAS):
            archive.users.add(f"cam{i}", PASSWORD, roles=["import"])
        archive.close()
        self.port = free_port()
        self.xserver = None
        self.stalls: list[tuple[float, float, int, int]] = []  # per second, from the window
        self.total = self.where = ""
        if window:
            self.proc = self._window(workdir)
        else:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "meteorgui", "--data-dir", str(self.data), "serve"]
                + ["--host", "0.0.0.0", "--port", str(self.port)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        self.url = f"http://127.0.0.1:{self.port}/import"
        end = time.monotonic() + 60
        while True:
            try:
                requests.get(f"http://127.0.0.1:{self.port}/health", timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > end or self.proc.poll() is not None:
                    raise SystemExit("the importer did not start") from None
                time.sleep(0.2)
        self.ps = psutil.Process(self.proc.pid)

    def _window(self, workdir: Path):
        import os
        import subprocess

        from tests.xserver import XServer, xcb_usable

        env = os.environ | {
            "PYTHONUNBUFFERED": "1",
            "QT_QPA_PLATFORM": "offscreen",
            "QT_LOGGING_RULES": "qt.multimedia.ffmpeg*=false",
        }
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            env[var] = str(workdir / var.lower())  # never the user's own settings
        self.xserver = XServer()
        if self.xserver.start() and xcb_usable(self.xserver.display)[0]:
            env |= {"DISPLAY": self.xserver.display, "QT_QPA_PLATFORM": "xcb"}
            self.display = f"the window on Xvfb {self.xserver.display}"
        else:
            self.display = f"the window offscreen ({self.xserver.note})"
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "soak_window.py")]
            + [str(self.data), str(self.port)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = proc.stdout.readline()
        if not line.startswith("port "):
            raise SystemExit(f"the window did not start: {line!r}")
        threading.Thread(target=self._read_window, args=(proc,), daemon=True).start()
        return proc

    def _read_window(self, proc) -> None:
        for line in proc.stdout:
            kind, _, rest = line.strip().partition(" ")
            if kind == "stall":
                longest, p99, ticks, rows = rest.split()
                self.stalls.append((float(longest), float(p99), int(ticks), int(rows)))
            elif kind == "total":
                self.total = rest
            elif kind == "where":
                self.where = rest

    def rss(self) -> int:
        return self.ps.memory_info().rss

    def stop(self) -> None:
        if self.xserver is None:
            self.proc.terminate()
        else:
            self.proc.stdin.close()  # the window prints its totals and closes in order
        try:
            self.proc.wait(120)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        if self.xserver is not None:
            self.xserver.stop()

    def window_lines(self) -> list[str]:
        if self.xserver is None:
            return ["window: none (--headless: the importer ran as `meteorgui serve`)"]
        if not self.total:
            return [f"window: no figures ({self.display} ended without them)"]
        longest, p99, ticks, rows = self.total.split()
        worst = max(self.stalls, default=(0.0, 0.0, 0, 0))
        minute = ", ".join(
            f"{max(s[0] for s in self.stalls[i : i + 60]):.0f}"
            for i in range(0, len(self.stalls), 60)
        )
        return [
            f"window ({self.display}): longest event-loop stall {float(longest):.1f} ms, "
            f"p99 gap {float(p99):.1f} ms over {int(ticks):,} ticks of a 2 ms timer; "
            f"{rows} rows in view at the end",
            f"  longest stall by minute (ms): {minute or worst[0]}",
            f"  where the GUI thread was in gaps over 20 ms: {self.where}",
        ]


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent: set[str] = set()
        self.complete = 0
        self.failed: list[str] = []
        self.codes: collections.Counter = collections.Counter()
        self.slowest_step = 0.0
        self.strangers: collections.Counter = collections.Counter()


def camera(
    i: int, url: str, stop: threading.Event, tally: Tally, rate: float, minutes: float
) -> None:
    # One long night per node, sized to the run: each node keeps its own (two) camera ids,
    # as a real node does, instead of a new pair of cameras every few seconds.
    wanted = int(rate * minutes * 60 * 1.2) + 12
    batch = 0
    with ImportClient(url, f"cam{i}", PASSWORD, timeout=(10, 60)) as client:
        while not stop.is_set():
            night = make_night(
                1000 * (i + 1) + batch, events=wanted // 3, timelapse=wanted - wanted // 3
            )
            batch += 1
            for entity in night.entities():
                if stop.is_set():
                    return
                began = time.monotonic()
                last = [began]

                def progress(stage, info, last=last):
                    now = time.monotonic()
                    if stage == "answer":
                        with tally.lock:
                            tally.codes[info.get("http_status")] += 1
                            tally.slowest_step = max(tally.slowest_step, now - last[0])
                    last[0] = now

                for _attempt in range(3):
                    result = client.send(
                        entity,
                        status_for=night.status,
                        open_file=night.open_file,
                        on_progress=progress,
                    )
                    if result.ok:
                        break
                with tally.lock:
                    tally.sent.add(entity_id(entity))
                    if result.ok:
                        tally.complete += 1
                    else:
                        tally.failed.append(f"{entity_id(entity)}: {result.message}")
                stop.wait(max(0.0, 1 / rate - (time.monotonic() - began)))


def _source(n: int) -> str:
    return f"127.0.0.{2 + n % 8}"


def idle_stranger(n: int, port: int, stop: threading.Event, tally: Tally, slow: bool) -> None:
    header = b"POST /import HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 100_000
    while not stop.is_set():
        try:
            sock = socket.create_connection(("127.0.0.1", port), 10, (_source(n), 0))
        except OSError:
            tally.strangers["connect failed"] += 1
            stop.wait(1)
            continue
        tally.strangers["slow connections" if slow else "idle connections"] += 1
        with sock:
            sock.settimeout(1.0)
            i = 0
            while not stop.is_set():
                try:
                    if slow:
                        sock.send(header[i : i + 1])
                        i += 1
                    if sock.recv(1) == b"":
                        break  # closed by the importer
                except TimeoutError:
                    continue
                except OSError:
                    break
        tally.strangers["closed by the importer"] += 1


def guesser(n: int, url: str, stop: threading.Event, tally: Tally) -> None:
    with requests.Session() as http:
        http.mount("http://", SourceAddressAdapter(_source(n)))
        k = 0
        while not stop.is_set():
            k += 1
            auth = base64.b64encode(f"cam{k % CAMERAS}:guess{k}".encode()).decode()
            try:
                r = http.post(
                    url,
                    data=b'{"type":"cached_entity","cached_entity_id":"00000000000000000000000000000000"}',
                    headers={"Authorization": f"Basic {auth}"},
                    timeout=30,
                )
                tally.strangers[f"guesses answered {r.status_code}"] += 1
            except requests.RequestException:
                tally.strangers["guesses failed"] += 1
            stop.wait(0.05)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--idle", type=int, default=120, help="idle stranger connections")
    p.add_argument("--slow", type=int, default=60, help="slowloris stranger connections")
    p.add_argument("--guessers", type=int, default=4, help="password-guessing strangers")
    p.add_argument("--rate", type=float, default=2.0, help="entities a second per camera")
    p.add_argument("--headless", action="store_true", help="`meteorgui serve`, no window")
    args = p.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    importer = Importer(workdir, window=not args.headless)
    tally = Tally()
    stop = threading.Event()
    threads = []

    def spawn(target, *a):
        t = threading.Thread(target=target, args=(*a,), daemon=True)
        t.start()
        threads.append(t)

    start_rss = importer.rss()
    for n in range(args.idle):
        spawn(idle_stranger, n, importer.port, stop, tally, False)
    for n in range(args.slow):
        spawn(idle_stranger, n, importer.port, stop, tally, True)
    for n in range(args.guessers):
        spawn(guesser, n, importer.url, stop, tally)
    cams = []
    for i in range(CAMERAS):
        t = threading.Thread(
            target=camera, args=(i, importer.url, stop, tally, args.rate, args.minutes)
        )
        t.start()
        cams.append(t)

    peak = start_rss
    began = time.monotonic()
    end = began + args.minutes * 60
    last_report = began
    while time.monotonic() < end:
        time.sleep(1)
        peak = max(peak, importer.rss())
        if time.monotonic() - last_report >= 60:
            last_report = time.monotonic()
            print(
                f"  {(last_report - began) / 60:4.1f} min: {tally.complete} entities complete, "
                f"RSS {importer.rss() >> 20} MiB, longest window stall this minute "
                f"{max((s[0] for s in importer.stalls[-60:]), default=0):.0f} ms",
                flush=True,
            )
    stop.set()
    for t in cams:
        t.join(120)
    end_rss = importer.rss()
    peak = max(peak, end_rss)
    importer.stop()

    archive = Archive(importer.data)
    try:
        archived = {i for i in tally.sent if archive.has_event(i) or archive.has_file(i)}
        counts = archive.count("events") + sum(1 for f in archive.files(standalone_only=True))
    finally:
        archive.close()
    fivexx = sum(n for code, n in tally.codes.items() if code and code >= 500)
    print(
        f"soak: {args.minutes:g} min, {CAMERAS} cameras at {args.rate:g} entities/s each, "
        f"{args.idle} idle + {args.slow} slow strangers, {args.guessers} guessers"
    )
    print(
        f"entities sent {len(tally.sent)}, complete {tally.complete}, "
        f"archived {len(archived)}, in the archive {counts} (each once: "
        f"{'yes' if counts == len(archived) == len(tally.sent) else 'NO'})"
    )
    print(
        f"answers to cameras by HTTP status: {dict(sorted(tally.codes.items(), key=str))}; "
        f"5xx: {fivexx}"
    )
    print(f"cameras' slowest step: {tally.slowest_step:.2f} s")
    for line in tally.failed[:10]:
        print(f"  failed: {line}")
    print(
        f"importer RSS{'' if args.headless else ' (the app: window and importer)'}: "
        f"start {start_rss >> 20} MiB, peak {peak >> 20} MiB, end {end_rss >> 20} MiB"
    )
    print(f"strangers: {dict(tally.strangers)}")
    for line in importer.window_lines():
        print(line)


if __name__ == "__main__":
    main()
