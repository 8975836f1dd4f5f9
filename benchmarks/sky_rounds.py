"""The sky worker's rounds in the importer's process, on a big archive.

While cameras push, meteorgui's sky worker wakes about every half second and
computes the sky results of what was archived since. Printed here, on the
200,000-event archive of benchmarks/bigarchive.py (built and cached on first
use), is the CPU time of one round's look-up for what is out of date: over the
whole archive (what every round did before) against the times a round now
looks at (the last second of events), and the same through compute_missing
(look-up plus computing nothing, as all results are current). Best of --rounds.

Run: .venv/bin/python benchmarks/sky_rounds.py [--events 200000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bigarchive  # noqa: E402

from meteorgui.archive import Archive  # noqa: E402
from meteorgui.archive.sky import SkyResults  # noqa: E402
from meteorgui.sky.analysis import VERSION  # noqa: E402
from meteorgui.sky.compute import compute_missing  # noqa: E402


def best_cpu(fn, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    path = bigarchive.build(events=args.events)
    archive = Archive(path)
    try:
        sky = SkyResults(archive.db)
        last = archive.db.read().execute("SELECT MAX(event_time) FROM events").fetchone()[0]
        after, before = last - 1000, last + 1
        figures = {
            "look-up, whole archive (each round before)": lambda: sky.outdated(VERSION),
            "look-up, the last second (each round now)": lambda: sky.outdated(
                VERSION, after=after, before=before
            ),
            "compute_missing, whole archive": lambda: compute_missing(archive),
            "compute_missing, the last second": lambda: compute_missing(
                archive, after=after, before=before
            ),
        }
        for name, fn in figures.items():
            print(f"  {name:45}: {best_cpu(fn, args.rounds) * 1000:9.2f} ms CPU")
    finally:
        archive.close()
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
