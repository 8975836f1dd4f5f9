"""Camera health on a big archive: tonight's counts before and after migration 12.

Copies the archive (default benchmarks/out/archive-1000000-v2, at schema 11) to a
temporary folder, then:

1. before, with METEORGUI_BEFORE_TREE=DIR (e.g. ``git archive main | tar -x -C DIR``):
   the whole camera_health call by the code in DIR, in a subprocess;
2. opens the copy with this tree's Archive, which applies the migration: open and close
   timed, what a user meets once at upgrade;
3. after: camera_health's counts alone (stats.EVENTS_ARRIVED and STILLS_ARRIVED for
   every camera, on a plain read-only connection) and the whole camera_health call.

"Tonight" is the night of the archive's latest arrival: the benchmark archives were
received on the day they were built, so a backlog of every event in one night is what
a refresh counts. Per call: CPU time (process_time) and wall time, best of --rounds;
the load average is printed (the machine is shared).

Run: .venv/bin/python benchmarks/health.py [--archive DIR] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEFORE_TREE = os.environ.get("METEORGUI_BEFORE_TREE")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def best_of(rounds: int, call) -> tuple[float, float, object]:
    """(CPU ms, wall ms, result): the lowest of ``rounds`` calls after one warm-up."""
    result = call()
    cpu, wall = [], []
    for _ in range(rounds):
        c0, w0 = time.process_time(), time.perf_counter()
        result = call()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return min(cpu), min(wall), result


def health_call(folder: Path, now_ms: int, rounds: int) -> dict:
    """camera_health on the archive in ``folder``, by whichever meteorgui is imported."""
    from meteorgui.archive import Archive
    from meteorgui.archive.stats import camera_health

    with Archive(folder) as archive:
        cpu, wall, out = best_of(
            rounds, lambda: camera_health(archive, now_ms=now_ms, silence_minutes=30)
        )
        counted = sum(h.events_tonight + h.stills_tonight for h in out)
        return {"cpu": cpu, "wall": wall, "cameras": len(out), "counted": counted}


def counts(db: Path, tonight: tuple[int, int], rounds: int) -> str:
    """The upgraded archive's counts of camera_health alone, for every camera."""
    from meteorgui.archive import stats

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        cameras = [r[0] for r in conn.execute("SELECT DISTINCT camera_id FROM statuses")]
        parts = []
        for name in ("EVENTS_ARRIVED", "STILLS_ARRIVED"):
            sql = getattr(stats, name)

            def count(sql=sql):
                return sum(conn.execute(sql, (c, *tonight)).fetchone()[0] for c in cameras)

            cpu, wall, total = best_of(rounds, count)
            plan = " | ".join(
                r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, (cameras[0], *tonight))
            )
            parts.append(f"{name}: {cpu:.1f} ms CPU, {wall:.1f} ms wall, {total} rows [{plan}]")
        return "\n    ".join(parts)
    finally:
        conn.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archive", type=Path, default=ROOT / "benchmarks/out/archive-1000000-v2")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)  # folder now_ms rounds
    args = ap.parse_args()
    if args.child:  # the before tree's camera_health, in its own process
        sys.path.insert(0, BEFORE_TREE or "")
        folder, now_ms, rounds = Path(args.child[0]), int(args.child[1]), int(args.child[2])
        print(json.dumps(health_call(folder, now_ms, rounds)))
        return 0
    sys.path.insert(0, str(ROOT))
    from meteorgui.archive import Archive
    from meteorgui.archive.nights import night_clock

    with tempfile.TemporaryDirectory(prefix="meteorgui-health-") as tmp:
        folder = Path(tmp) / "archive"
        t0 = time.perf_counter()
        # camera_health reads no file's bytes: the store's folders without them.
        shutil.copytree(
            args.archive,
            folder,
            ignore=lambda d, names: names if Path(d).parent.name == "files" else [],
        )
        print(f"copied {args.archive} in {time.perf_counter() - t0:.1f} s; load {load()}")
        db = folder / "archive.sqlite3"
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        schema = conn.execute("SELECT MAX(version) FROM migrations").fetchone()[0]
        now_ms = conn.execute("SELECT MAX(received_at) FROM events").fetchone()[0] + 1
        clock = night_clock(conn, 12)
        start = clock.start(now_ms)
        tonight = (start, clock.end(start))
        conn.close()
        print(f"schema {schema}; tonight {tonight}; now {now_ms}")

        if BEFORE_TREE:
            child = subprocess.run(
                [sys.executable, __file__, "--child", str(folder), str(now_ms), str(args.rounds)],
                check=True,
                capture_output=True,
                text=True,
                env=os.environ | {"PYTHONPATH": BEFORE_TREE},
            )
            before = json.loads(child.stdout.splitlines()[-1])
            print(f"before, camera_health by {BEFORE_TREE} (load {load()}): {before}")

        t0, c0 = time.perf_counter(), time.process_time()
        with Archive(folder) as archive:
            applied = archive.db.applied_migrations
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"upgrade (open + close, applied {applied}): {wall:.1f} s wall, {cpu:.1f} s CPU")
        t0 = time.perf_counter()
        with Archive(folder):
            pass
        print(f"open + close once upgraded: {time.perf_counter() - t0:.2f} s wall")

        figures = counts(db, tonight, args.rounds)
        print(f"after, the counts alone (load {load()}):\n    {figures}")
        after = health_call(folder, now_ms, args.rounds)
        print(f"after, camera_health by this tree (load {load()}): {after}")
        if BEFORE_TREE:
            print(
                f"camera_health CPU {before['cpu']:.1f} ms -> {after['cpu']:.1f} ms"
                f" ({before['cpu'] / max(after['cpu'], 0.001):.0f}x less)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
