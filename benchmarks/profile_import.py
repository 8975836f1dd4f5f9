"""Where the importer's CPU goes per entity, against the durable floor, from py-spy.

Each server (`meteorgui serve` on a fresh archive, and the durable floor) runs in
its own process; after its start-up work (ServerProcess.settle) py-spy samples it
while one sequential client pushes a night, and the samples are summed per
function: inclusive (the function and what it calls) and self (the function's
own lines), in ms per entity, for both servers side by side. Without --gil the
samples are of threads the OS shows running (Python and the C code it calls:
SQLite, hashing, fsync's CPU); with --gil only of the thread holding the GIL.

Rounds alternate between the servers; the sums of all rounds are divided by the
entities of all rounds. Sampling costs the sampled process little with
--nonblocking (the default here), but it is a sample: read a figure to ±20 %.

With METEORGUI_BEFORE_TREE=DIR, `meteorgui serve` from DIR is sampled in the same rounds
("before" column).

Run: .venv/bin/python benchmarks/profile_import.py [--client 2015-exporter]
     [--rounds 2] [--rate 200] [--top 40] [--gil] [--events 150 --timelapse 200]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clients import CLIENTS  # noqa: E402
from servers import BEFORE_TREE, ServerProcess  # noqa: E402

from meteorgui.simulate import make_night  # noqa: E402

KINDS = ["durable-floor", "meteorgui"] + (["meteorgui-before"] if BEFORE_TREE else [])
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _name(frame: str) -> str:
    """'get_environment (waitress/task.py:123)' -> 'waitress/task.py:get_environment'."""
    m = _FRAME.match(frame)
    if m is None:
        return frame
    return f"{m['file']}:{m['func']}"


def sample(kind: str, client: str, night, workdir: Path, rate: int, gil: bool) -> list[str]:
    """py-spy's raw lines ("frame;frame;... count") for one night into a fresh server."""
    server = ServerProcess(kind, workdir)
    out = workdir / f"{kind}-{time.monotonic_ns()}.txt"
    try:
        server.settle()
        spy = Path(sys.executable).with_name("py-spy")
        cmd = [str(spy), "record", "--pid", str(server.proc.pid), "--format", "raw"]
        cmd += ["--output", str(out), "--rate", str(rate), "--nonblocking", "--function"]
        cmd += ["--gil"] if gil else []
        spy_proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)  # py-spy attaches
        CLIENTS[client](server.url, night.entities(), night.status, night.open_file)
        spy_proc.send_signal(signal.SIGINT)
        spy_proc.wait(60)
    finally:
        server.stop()
    return out.read_text().splitlines() if out.exists() else []


# Costs a sample is charged to: the first rule matching its innermost frame, else the
# next frame out, and so on (so SQLite under store_event is "archive rows", not the view).
COSTS = [
    ("sky science (sky worker)", ("meteorgui/sky/",)),
    ("import log (steps, writer)", ("importer/log.py", "archive/conversations.py")),
    (
        "making files durable after the answer",
        ("FileStore._make_durable", "meteorgui/once.py", "Disk.keep"),
    ),
    (
        "archive rows, look-ups and commits",
        ("archive/archive.py", "archive/db.py", "archive/cameras.py", "Disk.commit"),
    ),
    (
        "upload: multipart parser, store writer",
        ("_Upload", "python_multipart/", "StoreWriter", "FileStore.writer", "<locals>.data"),
    ),
    (
        "login check (throttle, verified cache, gate)",
        ("importer/logins.py", "archive/users.py", "archive/passwords.py", "Gate.verified"),
    ),
    ("auth wrapper and views", ("importer/app.py", "authorised")),
    (
        "protocol (parse, session, decisions)",
        ("importer/protocol.py", "meteorgui/model.py", "importer/cache.py", "<locals>.import_"),
    ),
    ("gate in waitress's loop", ("importer/gate.py",)),
    ("Flask and werkzeug around the view", ("flask/", "werkzeug/")),
    ("waitress (loop, task, headers, send)", ("waitress/",)),
]


def cost_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for cost, patterns in COSTS:
            if any(p in frame for p in patterns):
                return cost
    return "other (threading, interpreter)"


def tally(lines: list[str]) -> tuple[Counter, Counter, Counter, int]:
    """(inclusive, self, by cost, total) samples per function."""
    inclusive: Counter = Counter()
    own: Counter = Counter()
    costs: Counter = Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_name(f) for f in stack.split(";")]
        total += n
        for name in set(frames):
            inclusive[name] += n
        own[frames[-1]] += n
        costs[cost_of(frames)] += n
    return inclusive, own, costs, total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--client", choices=list(CLIENTS), default="2015-exporter")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--gil", action="store_true", help="only samples holding the GIL")
    ap.add_argument("--events", type=int, default=150)
    ap.add_argument("--timelapse", type=int, default=200)
    args = ap.parse_args()

    night = make_night(7, events=args.events, timelapse=args.timelapse)
    n = len(night.entities())
    print(f"night: {n} entities, client {args.client}, {args.rate} Hz, gil={args.gil}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    incl = {k: Counter() for k in KINDS}
    own = {k: Counter() for k in KINDS}
    costs = {k: Counter() for k in KINDS}
    totals = dict.fromkeys(KINDS, 0)
    with tempfile.TemporaryDirectory(prefix="meteorgui-profile-") as tmp:
        for r in range(args.rounds):
            for kind in KINDS if r % 2 == 0 else KINDS[::-1]:
                i, o, c, t = tally(sample(kind, args.client, night, Path(tmp), args.rate, args.gil))
                incl[kind].update(i)
                own[kind].update(o)
                costs[kind].update(c)
                totals[kind] += t
                print(f"  round {r + 1} {kind}: {t} samples, load {os.getloadavg()[0]:.2f}")
    per = 1000 / args.rate / (n * args.rounds)  # ms per entity for one sample

    def table(title: str, counts: dict[str, Counter]) -> None:
        print(f"\n{title} (ms per entity; meteorgui's largest first)")
        before = "meteorgui-before" in counts
        print(
            f"{'meteorgui':>10} {'floor':>8}" + (f" {'before':>8}" if before else "") + "  function"
        )
        names = sorted(set().union(*counts.values()), key=lambda k: -counts["meteorgui"][k])
        for name in names[: args.top]:
            m, f = counts["meteorgui"][name] * per, counts["durable-floor"][name] * per
            b = f" {counts['meteorgui-before'][name] * per:8.3f}" if before else ""
            print(f"{m:10.3f} {f:8.3f}{b}  {name}")

    print(
        "\nall samples: "
        + ", ".join(f"{kind} {totals[kind] * per:.2f} ms/entity" for kind in KINDS)
    )
    table("by cost", costs)
    table("inclusive", incl)
    table("self", own)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
