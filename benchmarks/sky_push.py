"""The sky science's share of a push from many cameras at once.

Twelve simulated cameras' nights (benchmarks/gui.py's: 50 events and 15 time-lapse stills
each, the same start) are archived through the Archive API in turns, an entity of each
camera after the other, as cameras pushing side by side deliver them; after every 20
events (about half a second at 40 events/s) the sky worker's round runs as the worker
runs it (compute_missing over the times announced since, the statuses and models kept
between rounds). Printed: rounds, events analysed per event archived, and the rounds'
CPU per event archived (thread time, best of --rounds).

    .venv/bin/python benchmarks/sky_push.py
    METEORGUI_BEFORE_TREE=/tmp/before .venv/bin/python benchmarks/sky_push.py
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

TREE = Path(os.environ.get("METEORGUI_BEFORE_TREE") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(TREE))

from meteorgui.archive import Archive  # noqa: E402
from meteorgui.model import Event  # noqa: E402
from meteorgui.simulate import make_night  # noqa: E402
from meteorgui.sky import compute  # noqa: E402

START = 1796602686704
ROUND_EVENTS = 20


def push(cameras: int, events: int, timelapse: int) -> tuple[int, int, int, float]:
    nights = [
        make_night(11 + i, events=events, timelapse=timelapse, start_ms=START)
        for i in range(cameras)
    ]
    with tempfile.TemporaryDirectory(prefix="sky-push-") as folder:
        archive = Archive(folder)
        try:
            for night in nights:
                for status in night.statuses:
                    archive.store_status(status, "cam")
            queues = [
                sorted(
                    [*n.events, *n.files],
                    key=lambda e: e.event_time if isinstance(e, Event) else e.file_time,
                )
                for n in nights
            ]
            analysed = [0]
            real = compute.analyse

            def counting(items):
                analysed[0] += len(items)
                return real(items)

            compute.analyse = counting
            kept = compute.Cameras(archive)
            compute.compute_missing(archive, cameras=kept)  # the science imported
            rounds = archived = 0
            cpu = 0.0
            pending: list[int] = []

            def round_() -> None:
                nonlocal rounds, cpu
                t = time.thread_time()
                compute.compute_missing(
                    archive, after=min(pending), before=max(pending) + 1, cameras=kept
                )
                cpu += time.thread_time() - t
                rounds += 1
                pending.clear()

            while any(queues):
                for night, queue in zip(nights, queues, strict=True):
                    if not queue:
                        continue
                    entity = queue.pop(0)
                    files = entity.files if isinstance(entity, Event) else [entity]
                    for f in files:
                        archive.store.put(f.file_id, f.md5, io.BytesIO(night.content[f.file_id]))
                    if isinstance(entity, Event):
                        archive.store_event(entity, "cam", fetched=[f.file_id for f in files])
                        pending.append(entity.event_time)
                        archived += 1
                    else:
                        archive.store_file(entity, "cam")
                    if len(pending) >= ROUND_EVENTS:
                        round_()
            if pending:
                round_()
            compute.analyse = real
            return rounds, archived, analysed[0], cpu
        finally:
            archive.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cameras", type=int, default=12)
    ap.add_argument("--events", type=int, default=50, help="events per camera")
    ap.add_argument("--timelapse", type=int, default=15, help="stills per camera")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print(f"tree: {TREE}; load average: {os.getloadavg()[0]:.2f}")
    best = None
    for _ in range(args.rounds):
        rounds, archived, analysed, cpu = push(args.cameras, args.events, args.timelapse)
        best = cpu if best is None else min(best, cpu)
    print(f"{args.cameras} cameras, {archived} events archived, {rounds} sky rounds")
    print(f"events analysed per event archived: {analysed / archived:.2f}")
    print(f"sky CPU per event archived (ms, best of {args.rounds}): {best * 1000 / archived:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
