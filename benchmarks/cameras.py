"""Many cameras at once: the importer's CPU per entity against the durable floor's.

For 1, 6, 12 and 24 nodes pushing at the same time (each a sequential
MeteorPi-style client on its own thread, each with its own simulated night of
two cameras), `meteorgui serve` on a fresh archive and the durable floor
(benchmarks/floor_importer.py --durable) in separate processes on 127.0.0.1
receive the same load. Printed per size: the server's CPU time per entity
(user + system of the whole server process, from /proc/<pid>/stat, read just
before the first request and after the last answer), the throughput in
entities/s, the failures (must be 0) and the server's peak RSS (VmHWM; target
< 150 MB). Targets: meteorgui's CPU per entity <= 1.10x the durable floor's
with one camera, <= 1.15x with 24.

Rounds alternate between the two servers; the lowest CPU per entity of each
counts (best of --rounds). The client is the 2015-style one by default
(benchmarks/clients.py), --client ImportClient for meteorgui's own.

With METEORGUI_BEFORE_TREE=DIR (a checkout of an earlier commit) `meteorgui serve` from
DIR ("meteorgui-before") runs in the same alternating rounds, for before/after figures.

Run: .venv/bin/python benchmarks/cameras.py [--rounds 3] [--sizes 1,6,12,24]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clients import CLIENTS  # noqa: E402
from servers import BEFORE_TREE, ServerProcess, per_thread  # noqa: E402

from meteorgui.simulate import make_night  # noqa: E402

KINDS = ("durable-floor", "meteorgui") + (("meteorgui-before",) if BEFORE_TREE else ())


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def one_round(kind: str, push, nights, workdir: Path) -> dict:
    server = ServerProcess(kind, workdir)
    failures: list[str] = []
    start = threading.Barrier(len(nights) + 1)

    def camera(night) -> None:
        start.wait()
        try:
            push(server.url, night.entities(), night.status, night.open_file)
        except Exception as exc:  # counted and printed: a failure must show, not stop the round
            failures.append(f"{type(exc).__name__}: {exc}"[:200])

    try:
        server.settle()
        threads = [threading.Thread(target=camera, args=(n,)) for n in nights]
        for t in threads:
            t.start()
        cpu0, threads0 = server.cpu_seconds(), server.thread_cpu()
        started = time.perf_counter()
        start.wait()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - started
        cpu = server.cpu_seconds() - cpu0
        by_thread = server.cpu_by_thread(threads0)
        peak, n_threads = server.peak_rss_mb(), server.threads()
    finally:
        server.stop()
    entities = sum(len(n.entities()) for n in nights)
    return {
        "cpu_ms": cpu / entities * 1000,
        # the sky science (meteorgui's sky worker) is not import work: shown apart
        "sky_ms": by_thread.get("meteorgui-sky", 0.0) / entities * 1000,
        "by_thread": by_thread,
        "rate": entities / seconds,
        "failures": failures,
        "peak": peak,
        "threads": n_threads,
        "entities": entities,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sizes", default="1,6,12,24")
    ap.add_argument("--entities", type=int, default=480, help="entities in all, per size")
    ap.add_argument("--client", choices=sorted(CLIENTS), default="2015-exporter")
    args = ap.parse_args()
    push = CLIENTS[args.client]
    print(f"client: {args.client}; load average at start: {load()}")
    summary = []
    with tempfile.TemporaryDirectory(prefix="meteorgui-cameras-") as tmp:
        workdir = Path(tmp)
        for size in (int(s) for s in args.sizes.split(",")):
            per = max(10, args.entities // size)
            events = per * 3 // 7  # the night's mix: 3 events (4 files each) to 4 stills
            nights = [
                make_night(1000 + i, events=events, timelapse=per - events) for i in range(size)
            ]
            res: dict[str, list[dict]] = {k: [] for k in KINDS}
            for r in range(args.rounds):
                for kind in KINDS if r % 2 == 0 else KINDS[::-1]:
                    out = one_round(kind, push, nights, workdir)
                    res[kind].append(out)
                    print(
                        f"  {size:2} cameras round {r + 1} {kind:16}: "
                        f"{out['cpu_ms']:5.2f} ms CPU/entity, {out['rate']:6.1f} entities/s, "
                        f"{len(out['failures'])} failures, peak RSS {out['peak']:5.1f} MB, "
                        f"{out['threads']} threads, load {os.getloadavg()[0]:.2f}",
                        flush=True,
                    )
                    print(
                        "      CPU ms/entity by thread: "
                        + per_thread(out["by_thread"], out["entities"])
                    )
                    for failure in out["failures"][:3]:
                        print(f"      failure: {failure}")
            best = {k: min(o["cpu_ms"] for o in v) for k, v in res.items()}
            no_sky = min(o["cpu_ms"] - o["sky_ms"] for o in res["meteorgui"])
            rate = {k: max(o["rate"] for o in v) for k, v in res.items()}
            fails = sum(len(o["failures"]) for v in res.values() for o in v)
            peak = max(o["peak"] for o in res["meteorgui"])
            ratio = best["meteorgui"] / best["durable-floor"]
            target = 1.10 if size == 1 else 1.15 if size == 24 else None
            summary.append(
                f"{size:2} cameras ({res['meteorgui'][0]['entities']} entities): CPU/entity "
                f"meteorgui {best['meteorgui']:.2f} ms, durable floor "
                f"{best['durable-floor']:.2f} ms -> {ratio:.2f}x"
                + (f" (target <= {target:.2f}x)" if target else "")
                + f" [without the sky science {no_sky:.2f} ms -> "
                f"{no_sky / best['durable-floor']:.2f}x]"
                + f"; entities/s {rate['meteorgui']:.1f} vs {rate['durable-floor']:.1f}; "
                f"failures {fails} (must be 0); meteorgui peak RSS {peak:.1f} MB (< 150 MB)"
            )
            print(summary[-1], flush=True)
            if BEFORE_TREE:
                before = min(o["cpu_ms"] for o in res["meteorgui-before"])
                summary.append(
                    f"{size:2} cameras: meteorgui before {before:.2f} ms CPU/entity -> "
                    f"{before / best['durable-floor']:.2f}x the durable floor"
                )
                print(summary[-1], flush=True)
    print(f"summary, best of {args.rounds} (load average at end: {load()}):")
    for line in summary:
        print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
