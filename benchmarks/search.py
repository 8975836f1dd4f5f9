"""Text search on a big archive: the browser's count and first page for a typed search.

Each search is what the browser runs when the user types into its search box: the
number of matching events, then the first page of 200 rows, newest first, with nothing
remembered of an earlier search. Where the tree's browser shows a text many events hold
from its first page before counting it (``browse.count(..., exact=False)`` gives None),
"count" is the quick look that told so, "sum" what the user waits for before the list
is shown, and "then" the count of every match that follows in the background (its row
count, the scroll bar's length). Figures are the median of --rounds, in ms, wall time and
the reading thread's CPU time (the machine is shared: CPU time moves less with its load);
the same read with no text is the baseline.

With METEORGUI_BEFORE_TREE=DIR (a checkout of an earlier commit, e.g. `git archive main |
tar -x -C DIR`) each search is also read by that tree's code on a copy of the archive
opened by it, in the same run: each tree reads in a process of its own, taking turns
search by search, so that the machine's load weighs on both alike. This tree's copy is
upgraded to this tree's schema when it opens (the time is printed: a new migration runs
once on a user's archive). The archive in benchmarks/out is only copied, never opened.

Run: [METEORGUI_BEFORE_TREE=DIR] .venv/bin/python benchmarks/search.py
         [--events 200000|1000000] [--rounds 5] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEFORE_TREE = os.environ.get("METEORGUI_BEFORE_TREE")

SEARCHES = [
    "",  # the baseline: no text
    "duration",  # in every event's metadata
    "peakAmplitude=200",  # a key=value pair, few events (the latest night's key)
    "amplitudePeak=200",  # the 2015 nodes' key, every night
    "meteor",  # every event's type
    "bury",  # a camera's installation name (the latest night's cameras)
    "site",  # the older nights' camera names
    "zzzz",  # nothing
    "duration 1.5",  # two words, the second ending in a one-character token ("5")
    "1.5",  # a decimal number: "1" then any term beginning with "5"
    "0.9",
    "amplitudePeak=2",  # a key and a one-digit prefix
    "site b",  # a one-letter word beside a common one
]
# Compared between the trees' matched sets only (not timed): more words ending in a
# one-character token.
ALSO_MATCHED = ["2.1", "5", "b", "e", "1.52", "duration=1.5", "meteorpi:d", "0.9 site", "12.5"]
TARGET_MS = 50


def _worker(tree: Path, folder: Path) -> int:
    """Read searches from stdin (one JSON string a line) on the archive in ``folder`` with
    the meteorgui of ``tree``; answer each with a JSON line of its figures."""
    sys.path.insert(0, str(tree))
    import meteorgui
    from meteorgui.archive import Archive, browse

    t = time.perf_counter()
    archive = Archive(folder)  # applies the tree's new migrations
    opened = {"open_ms": (time.perf_counter() - t) * 1000, "package": meteorgui.__file__}
    # A tree whose browser can show a list before counting it is asked as its window asks.
    quick = {"exact": False} if "exact" in inspect.signature(browse.count).parameters else {}
    print(json.dumps(opened), flush=True)
    try:
        for line in sys.stdin:
            request = json.loads(line)
            if isinstance(request, dict):  # the events it matches, not timed
                print(json.dumps(_matched(archive, request["matched"])), flush=True)
                continue
            q = browse.Query(text=request)
            archive.db.read().memo().clear()
            t, c = time.perf_counter(), time.thread_time()
            n = browse.count(archive, q, **quick)
            t2, c2 = time.perf_counter(), time.thread_time()
            browse.page(archive, q, 0, 200)
            t3, c3 = time.perf_counter(), time.thread_time()
            then = 0.0
            if n is None:  # shown from its first page, counted after (as the window does)
                n = browse.count(archive, q)
                then = (time.perf_counter() - t3) * 1000
            ms = [(t2 - t) * 1000, (t3 - t2) * 1000, (c2 - c) * 1000, (c3 - c2) * 1000, then]
            print(json.dumps({"n": n, "ms": ms}), flush=True)
    finally:
        archive.close()
    return 0


def _matched(archive, text: str) -> dict:
    """A digest of the events ``text`` matches, read through the tree's WHERE clauses
    with nothing else (the same set whatever the browser's plan)."""
    from meteorgui.archive import search

    conn = archive.db.read()
    conn.memo().clear()
    clauses, args = search.clauses(text, False, conn)
    sql = "SELECT seq FROM event_summary" + (" WHERE " + " AND ".join(clauses) if clauses else "")
    seqs = sorted(r[0] for r in conn.execute(sql + " ORDER BY seq", args))
    return {"n": len(seqs), "sha": hashlib.sha256(json.dumps(seqs).encode()).hexdigest()}


class Reader:
    """A process reading searches with one tree's code on its own copy of the archive."""

    def __init__(self, tree: Path, folder: Path):
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(folder), "--tree", str(tree)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        opened = self._answer()
        self.open_ms = opened["open_ms"]
        if not Path(opened["package"]).is_relative_to(tree.resolve()):
            raise RuntimeError(f"{tree}'s reader imported {opened['package']}")

    def _answer(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the reader stopped")
        return json.loads(line)

    def read(self, text: str) -> dict:
        self.proc.stdin.write(json.dumps(text) + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def matched(self, text: str) -> dict:
        self.proc.stdin.write(json.dumps({"matched": text}) + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _source(events: int) -> Path:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bigarchive

    built = bigarchive.path_for(events)
    # bigarchive.build() opens a cached archive to upgrade it in place: a before-tree
    # could then no longer open it. Copied as it is, each tree opens its own copy.
    return built if (built / "built.ok").exists() else bigarchive.build(events=events)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workdir", type=Path, help="where the copies go (default: benchmarks/out)")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return _worker(args.tree, args.worker)
    source = _source(args.events)
    import bigarchive  # _source put benchmarks/ on the path

    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    trees = {"after": ROOT} | ({"before": Path(BEFORE_TREE)} if BEFORE_TREE else {})
    with tempfile.TemporaryDirectory(
        prefix="meteorgui-searchbench-", dir=args.workdir or bigarchive.OUT
    ) as tmp:
        readers: dict[str, Reader] = {}
        try:
            for name, tree in trees.items():
                copy = bigarchive.copy(source, Path(tmp) / name)
                readers[name] = Reader(tree, copy)
                print(f"{name}: {tree}, open (with migrations) {readers[name].open_ms:,.0f} ms")
            figures = {(name, text): [] for name in readers for text in SEARCHES}
            found: dict[tuple[str, str], int] = {}
            for r in range(args.rounds):
                for text in SEARCHES:
                    names = list(readers) if r % 2 == 0 else list(reversed(readers))
                    for name in names:  # in turns, the first alternating round by round
                        answer = readers[name].read(text)
                        figures[(name, text)].append(answer["ms"])
                        found[(name, text)] = answer["n"]
            # The same events for each search: the set each tree's WHERE clauses match.
            texts = SEARCHES + ALSO_MATCHED
            sets = {text: {r.matched(text)["sha"] for r in readers.values()} for text in texts}
            differ = [text for text, digests in sets.items() if len(digests) > 1]
            if len(readers) > 1:
                print(
                    f"matched sets: {len(texts) - len(differ)} of {len(texts)} the same",
                    end="",
                )
                print(f"; DIFFERENT: {differ}" if differ else "")
        finally:
            for reader in readers.values():
                reader.close()
    _print(readers, figures, found)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def _print(readers, figures, found) -> None:
    def median(name: str, text: str, i: int) -> float:
        return statistics.median(f[i] for f in figures[(name, text)])

    names = [n for n in ("before", "after") if n in readers]
    head = "".join(
        f" {n + ': count':>14} {'page':>6} {'sum':>6} {'cpu':>6} {'then':>6}" for n in names
    )
    print(f"{'search':20}{head} {'ratio':>6} {'matches':>10}")
    worst = {n: (0.0, "") for n in names}
    for text in SEARCHES:
        line = f"{text or '(none)':20}"
        sums = {}
        for n in names:
            c, p = median(n, text, 0), median(n, text, 1)
            cpu = median(n, text, 2) + median(n, text, 3)
            then = median(n, text, 4) if len(figures[(n, text)][0]) > 4 else 0.0
            sums[n] = c + p
            later = f"{then:.1f}" if then else ""
            line += f" {c:14.1f} {p:6.1f} {c + p:6.1f} {cpu:6.1f} {later:>6}"
            if text and c + p > worst[n][0]:
                worst[n] = (c + p, text)
        ratio = sums["after"] / sums["before"] if "before" in sums else float("nan")
        counts = {found[(n, text)] for n in names}
        same = "" if len(counts) == 1 else "  (the trees' counts differ!)"
        print(f"{line} {ratio:6.2f} {found[('after', text)]:10,}{same}")
    for n in names:
        ms, text = worst[n]
        print(f"slowest search until its list is shown, {n}: {ms:.0f} ms ({text!r})", end="")
        print(f" (target < {TARGET_MS} ms on 1,000,000 events)")


if __name__ == "__main__":
    raise SystemExit(main())
