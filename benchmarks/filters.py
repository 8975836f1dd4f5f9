"""The browser's filters on a big archive: what one filter change costs, per filter.

A filter change in the browser (gui/browser/model.py ``set_query``) reads, in one
snapshot, the number of matching rows and the first page (120 rows); this times exactly
that, through ``meteorgui.archive.browse``, for each filter the filter bar offers
(night or date range, camera, event type, review state, shower, multi-camera, text,
sort order), over all nights unless the name says otherwise. Median of 5 runs, in ms,
each with nothing remembered from the previous search; the baseline is the same read
with no filter (all nights, newest first) in the same run. Target: < 150 ms each.

Run: .venv/bin/python benchmarks/filters.py [--events 1000000]
"""

from __future__ import annotations

import argparse
import os
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

PAGE = 120  # the browser model's page
DAY_MS = 86_400_000
TARGET_MS = 150


def change(archive, q: browse.Query) -> tuple[float, int]:
    """ms of what the browser reads for a new query (count and first page) and the count."""
    archive.db.read().memo().clear()
    t = time.perf_counter()
    with browse.snapshot(archive) as (conn, mark):
        n = browse.count(conn, q, upto=mark)
        browse.page(conn, q, 0, PAGE, upto=mark)
    return (time.perf_counter() - t) * 1000, n


def queries(archive) -> list[tuple[str, browse.Query]]:
    nights = browse.nights(archive)
    latest, middle = nights[0], nights[len(nights) // 2]
    cameras = [c for c, _ in browse.cameras(archive)]
    end = latest.end_ms
    q = browse.Query()
    return [
        ("latest night", q.replace(after=latest.start_ms, before=latest.end_ms)),
        ("a night halfway back", q.replace(after=middle.start_ms, before=middle.end_ms)),
        ("date range: last 30 days", q.replace(after=end - 30 * DAY_MS, before=end)),
        ("date range: last year", q.replace(after=end - 365 * DAY_MS, before=end)),
        ("camera", q.replace(camera_id=cameras[0])),
        ("event type", q.replace(event_type="meteorpi:meteor")),
        ("unreviewed", q.replace(review=browse.UNREVIEWED)),
        ("reviewed", q.replace(review=browse.REVIEWED)),
        ("label 'plane'", q.replace(review="plane")),
        ("shower: any", q.replace(shower=browse.ANY_SHOWER)),
        ("shower: sporadic", q.replace(shower=browse.SPORADIC)),
        ("no sky position", q.replace(shower=browse.NO_SKY)),
        ("multi-camera", q.replace(multi_camera=True)),
        ("text 'duration'", q.replace(text="duration")),
        ("text 'site'", q.replace(text="site")),
        ("text 'amplitudePeak=200'", q.replace(text="amplitudePeak=200")),
        ("sort by duration", q.replace(sort="duration")),
        ("sort by brightness, oldest", q.replace(sort="brightness", descending=False)),
        ("camera + unreviewed", q.replace(camera_id=cameras[0], review=browse.UNREVIEWED)),
        (
            "camera + unreviewed, by duration",
            q.replace(camera_id=cameras[-1], review=browse.UNREVIEWED, sort="duration"),
        ),
        ("camera + text 'duration'", q.replace(camera_id=cameras[0], text="duration")),
        ("reviewed + last year", q.replace(review=browse.REVIEWED, after=end - 365 * DAY_MS)),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    source = bigarchive.build(events=args.events)
    with tempfile.TemporaryDirectory(prefix="meteorgui-filterbench-", dir=bigarchive.OUT) as tmp:
        archive = Archive(bigarchive.copy(source, Path(tmp) / "archive"))
        try:
            base = [change(archive, browse.Query()) for _ in range(args.runs)]
            base_ms = statistics.median(t for t, _ in base)
            print(f"{'filter':36} {'ms':>8} {'x base':>7} {'matches':>10}")
            print(
                f"{'(none: all nights, newest first)':36} {base_ms:8.1f} {1:7.2f} {base[0][1]:10,}"
            )
            worst = ("", 0.0)
            for name, q in queries(archive):
                runs = [change(archive, q) for _ in range(args.runs)]
                ms = statistics.median(t for t, _ in runs)
                mark = "  OVER" if ms >= TARGET_MS else ""
                print(f"{name:36} {ms:8.1f} {ms / base_ms:7.2f} {runs[0][1]:10,}{mark}")
                if ms > worst[1]:
                    worst = (name, ms)
            print(f"slowest filter: {worst[0]} {worst[1]:.0f} ms (target < {TARGET_MS} ms)")
        finally:
            archive.close()
    print("load average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
