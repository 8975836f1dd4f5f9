"""The sky science against ground truth: showers, multi-camera groups, trajectories.

1. A physically consistent night (meteorgui.simulate.showers, ``simulate --showers``):
   two cameras 40 km apart, meteors from the showers active on 2015-08-12/13
   and sporadics, in the 2015 node's form with pixel noise and a clock offset.
2. It is pushed over loopback HTTP into a fresh archive through the real
   importer, then ``compute_missing`` computes and stores every event's result.
3. The stored results are compared with the truth, and the five figures are
   printed against the issue's targets; then the CPU time of the association
   (paths read, positions, grouping, trajectories, showers) for the whole night.

Run: .venv/bin/python benchmarks/science.py [--meteors 300] [--seed 0] [--stills]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meteorgui.archive import Archive  # noqa: E402
from meteorgui.exporter.client import ImportClient  # noqa: E402
from meteorgui.importer import ImporterServer  # noqa: E402
from meteorgui.simulate import push_night  # noqa: E402
from meteorgui.simulate.showers import make_sky_night, observations, score  # noqa: E402
from meteorgui.sky.analysis import analyse  # noqa: E402
from meteorgui.sky.compute import compute_missing, results_for  # noqa: E402

USER, PASSWORD = "camera", "benchmark-sky"


def _pct(x):
    return "n/a" if x is None else f"{100 * x:5.1f} %"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--meteors", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--stills", action="store_true", help="also make and send a still per event")
    args = p.parse_args()

    t = time.perf_counter()
    sky = make_sky_night(args.seed, meteors=args.meteors, stills=args.stills)
    night = sky.night
    print(
        f"night: seed {args.seed}, {args.meteors} meteors -> {len(night.events)} events from "
        f"{len(night.cameras)} cameras (made in {time.perf_counter() - t:.1f} s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive(Path(tmp) / "data")
        archive.users.add(USER, PASSWORD, roles=["import"])
        server = ImporterServer(archive, "127.0.0.1", 0)
        server.start()
        try:
            t = time.perf_counter()
            with ImportClient(server.url, USER, PASSWORD) as client:
                summary = push_night(night, client, on_progress=None)
            print(f"pushed over loopback HTTP: {summary.line()}")
            if not summary.ok:
                return 1
            t = time.process_time()
            stored = compute_missing(archive)
            cpu_archive = time.process_time() - t
            results = results_for(archive, [e.event_id for e in night.events])
        finally:
            server.stop()
            archive.close()
    figures = score(sky.truth, results)
    items = observations(night)
    t = time.process_time()
    analyse(items)
    cpu_assoc = time.process_time() - t

    def row(name, value, target, ok):
        print(f"  {name:<44} {value:>10}   target {target:<8} {'ok' if ok else 'MISSED'}")

    print(f"\nresults stored: {len(stored)} (of {len(night.events)} events)")
    print(
        f"meteors: {figures['shower_meteors']} from showers, {figures['sporadic_meteors']} "
        f"sporadic, {figures['two_camera_meteors']} seen by two cameras "
        f"({figures['trajectories']} with a trajectory)"
    )
    r, f, g = figures["right_shower"], figures["false_shower"], figures["grouped"]
    e_rad, e_h = figures["radiant_error_deg"], figures["begin_height_error_km"]
    row("shower meteors given the right shower", _pct(r), ">= 90 %", r is not None and r >= 0.9)
    row("sporadics wrongly given a shower", _pct(f), "<= 10 %", f is not None and f <= 0.1)
    row("two-camera meteors grouped", _pct(g), ">= 95 %", g is not None and g >= 0.95)
    row("radiant error, two-camera (median)", f"{e_rad:.2f} deg", "< 1 deg", e_rad < 1.0)
    row("begin-height error (median)", f"{e_h:.2f} km", "< 2 km", e_h < 2.0)
    single = figures["single_camera"]
    print(
        f"  (single-camera meteors alone: right shower {single['right']}/{single['shower']}, "
        f"sporadics given a shower {single['false']}/{single['sporadic']})"
    )
    per300 = cpu_assoc * 300 / max(1, len(items))
    row("association CPU for the night", f"{cpu_assoc:.2f} s", "", True)
    row("  scaled to a 300-event night", f"{per300:.2f} s", "< 1 s", per300 < 1.0)
    print(f"  (compute_missing on the archive, paths read from the store: {cpu_archive:.2f} s CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
