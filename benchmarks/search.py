"""Text search on a big archive: the browser's count and first page for a typed search.

Each search is what the browser runs when the user types into its search box: the
number of matching events, then the first page of 200 rows, newest first. Figures are
the median of 5 runs, in ms; the same searches with no text are the baseline.

Run: .venv/bin/python benchmarks/search.py [--events 200000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bigarchive  # noqa: E402

from meteorgui.archive import Archive, browse  # noqa: E402

SEARCHES = [
    "",  # the baseline: no text
    "duration",  # in every event's metadata
    "peakAmplitude=200",  # a key=value pair, few events
    "meteor",  # every event's type
    "bury",  # a camera's installation name (the latest night's cameras)
    "site",  # the older nights' camera names
    "zzzz",  # nothing
    "duration 1.5",  # two words
]


def median_ms(fn, runs: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    args = ap.parse_args()
    source = bigarchive.build(
        ROOT / "benchmarks" / "out" / f"archive-{args.events}", events=args.events
    )
    with tempfile.TemporaryDirectory(prefix="meteorgui-searchbench-") as tmp:
        copy = Path(tmp) / "archive"
        shutil.copytree(source, copy)
        t = time.perf_counter()
        archive = Archive(copy)  # applies new migrations (e.g. building a search index)
        print(f"open (with migrations): {(time.perf_counter() - t) * 1000:.0f} ms")
        try:
            print(f"{'search':24} {'count ms':>9} {'page ms':>9} {'matches':>9}")
            worst = 0.0
            for text in SEARCHES:
                q = browse.Query(text=text)
                c_ms, n = median_ms(lambda q=q: browse.count(archive, q))
                p_ms, _ = median_ms(lambda q=q: browse.page(archive, q, 0, 200))
                if text:
                    worst = max(worst, c_ms + p_ms)
                print(f"{text or '(none)':24} {c_ms:9.1f} {p_ms:9.1f} {n:9,}")
            print(f"slowest search, count + first page: {worst:.0f} ms (target < 100 ms)")
        finally:
            archive.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
