"""What the sky costs the browser: page reads with the shower and group columns, and the
shower / multi-camera filters, on the 200,000-event archive of ``bigarchive.py``.

Every event is given a synthetic sky result (60 % sporadic, showers for the rest, two
out of five in two-camera groups) unless the archive already has them. Prints the
median time of a page (120 rows) and of a count, with the sky columns and without them
(the rows as they were before: the baseline, in the same run), and with each filter.

    python benchmarks/sky_browse.py [ARCHIVE_DIR]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

from meteorgui.archive import Archive, browse
from meteorgui.archive.browse import ANY_SHOWER, Query

sys.path.insert(0, str(Path(__file__).parent))
import bigarchive  # noqa: E402

REPEAT = 30
# The rows without the shower and group lookups (constants in their place).
BASELINE_COLS = browse._ROW_COLS[: browse._ROW_COLS.index(", (SELECT IFNULL")] + ", NULL, 0"


def fill(archive: Archive) -> int:
    conn = archive.db.read()
    have = conn.execute("SELECT COUNT(*) FROM sky_results").fetchone()[0]
    if have:
        return have
    rng = random.Random(3)
    rows = conn.execute("SELECT event_id, camera_id, event_time FROM event_summary").fetchall()
    out, pending = [], None
    for event_id, camera_id, t in rows:
        shower = "sporadic" if rng.random() < 0.6 else rng.choice(("PER", "SDA", "CAP", "KCG"))
        group = None
        if pending is not None:
            group, pending = pending, None
        elif rng.random() < 0.2:
            group = pending = f"g{event_id}"
        out.append((event_id, camera_id, t, None, 0, 3, shower, group))
    with archive.db.write() as w:
        w.executemany(
            "INSERT INTO sky_results (event_id, camera_id, event_time, status_id, computed_at,"
            " version, shower, group_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            out,
        )
    return len(out)


def median_ms(fn) -> float:
    times = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> int:
    if len(sys.argv) > 1:
        path = Path(sys.argv[1])
    else:
        path = bigarchive.build(events=200_000)
    archive = Archive(path)
    try:
        n = fill(archive)
        conn = archive.db.read()
        events = browse.count(conn, Query())
        print(f"archive: {events:,} events, {n:,} sky results")
        deep = events // 2
        cases = [
            ("all, newest page", Query(), 0),
            ("all, page in the middle", Query(), deep),
            ("by brightness, first page", Query(sort="brightness"), 0),
        ]
        for label, q, offset in cases:
            new = median_ms(lambda q=q, o=offset: browse.page(conn, q, o, 120))
            browse._ROW_COLS, saved = BASELINE_COLS, browse._ROW_COLS
            try:
                old = median_ms(lambda q=q, o=offset: browse.page(conn, q, o, 120))
            finally:
                browse._ROW_COLS = saved
            print(
                f"page ({label}): {new:.2f} ms with the sky columns, {old:.2f} ms without"
                f" (ratio {new / old:.2f})"
            )
        plain = median_ms(lambda: browse.count(conn, Query()))
        night = browse.nights(conn)[1]
        one = {"after": night.start_ms, "before": night.end_ms}
        for label, q in (
            ("all nights, shower PER", Query(shower="PER")),
            ("all nights, any shower", Query(shower=ANY_SHOWER)),
            ("all nights, 2+ cameras", Query(multi_camera=True)),
            ("all nights, PER and 2+ cameras", Query(shower="PER", multi_camera=True)),
            ("one night, shower PER", Query(shower="PER", **one)),
            (
                "one night, 2+ cameras, by brightness",
                Query(multi_camera=True, sort="brightness", **one),
            ),
        ):
            c = median_ms(lambda q=q: browse.count(conn, q))
            p = median_ms(lambda q=q: browse.page(conn, q, 0, 120))
            print(
                f"{label}: count {c:.1f} ms (unfiltered count {plain:.1f} ms), "
                f"first page {p:.2f} ms"
            )
    finally:
        archive.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
