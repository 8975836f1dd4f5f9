"""Text search on a big archive: the browser's count and first page for a typed search.

Each search is what the browser runs when the user types into its search box: the
number of matching events, then the first page of 200 rows, newest first. Figures are
the median of 5 runs, in ms; the same searches with no text are the baseline.

"before" is the same code with every word left to FTS5 as a prefix query (no look-up of
the terms it begins: search.py's expansion switched off), measured in the same run.

Run: .venv/bin/python benchmarks/search.py [--events 200000|1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bigarchive  # noqa: E402

from meteorgui.archive import Archive, browse, search  # noqa: E402

SEARCHES = [
    "",  # the baseline: no text
    "duration",  # in every event's metadata
    "peakAmplitude=200",  # a key=value pair, few events (the latest night's key)
    "amplitudePeak=200",  # the 2015 nodes' key, every night
    "meteor",  # every event's type
    "bury",  # a camera's installation name (the latest night's cameras)
    "site",  # the older nights' camera names
    "zzzz",  # nothing
    "duration 1.5",  # two words
]


def count_and_page(archive, q, runs: int = 5) -> tuple[float, float, int]:
    """Median ms of the count and of the first page, each pair read as the browser reads
    it: the count first, with nothing remembered of an earlier search (the terms a word
    begins are looked up again), then the page."""
    counts, pages, n = [], [], 0
    for _ in range(runs):
        archive.db.read().memo().clear()
        t = time.perf_counter()
        n = browse.count(archive, q)
        counts.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        browse.page(archive, q, 0, 200)
        pages.append((time.perf_counter() - t) * 1000)
    return statistics.median(counts), statistics.median(pages), n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    args = ap.parse_args()
    source = bigarchive.build(events=args.events)
    with tempfile.TemporaryDirectory(prefix="meteorgui-searchbench-", dir=bigarchive.OUT) as tmp:
        copy = bigarchive.copy(source, Path(tmp) / "archive")
        t = time.perf_counter()
        archive = Archive(copy)  # applies new migrations (e.g. building a search index)
        print(f"open (with migrations): {(time.perf_counter() - t) * 1000:.0f} ms")
        expand = search._terms
        try:
            print(
                f"{'search':20} {'before: count':>13} {'page':>6} {'after: count':>13}"
                f" {'page':>6} {'ratio':>6} {'matches':>9}"
            )
            worst = {"before": 0.0, "after": 0.0}
            for text in SEARCHES:
                q = browse.Query(text=text)
                figures = {}
                for name in ("before", "after"):
                    search._terms = expand if name == "after" else lambda _conn, _word: None
                    c_ms, p_ms, n = count_and_page(archive, q)
                    figures[name] = (c_ms, p_ms)
                    if text:
                        worst[name] = max(worst[name], c_ms + p_ms)
                search._terms = expand
                (bc, bp), (ac, ap) = figures["before"], figures["after"]
                print(
                    f"{text or '(none)':20} {bc:13.1f} {bp:6.1f} {ac:13.1f} {ap:6.1f}"
                    f" {(ac + ap) / (bc + bp):6.2f} {n:9,}"
                )
            print(
                f"slowest search, count + first page: before {worst['before']:.0f} ms, after"
                f" {worst['after']:.0f} ms (target < 50 ms on 1,000,000 events)"
            )
        finally:
            search._terms = expand
            archive.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
