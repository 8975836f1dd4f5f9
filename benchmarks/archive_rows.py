"""What the archive's SQL costs per entity of a night, counted, and what it leaves behind.

One simulated night (make_night: events with four files, time-lapse stills) is stored
through the Archive API as the importer does it (the offer's check, then store_event or
store_file in a FULL commit), on a fresh archive in a temporary folder. Printed per entity:
the SQLite statements traced (trigger programs and FTS5's own statements counted, as
benchmarks/replay.py counts them), SQLite VM steps (a progress handler every 100), the
bytes and write calls the thread made (WAL frames: pages written by the commits) and the
pages of an event's and a still's commit, and the thread's CPU per entity (best of
--rounds; noisy on a shared machine, the counts are not).

With --dump FILE every table's rows (times of arrival left out), the rowids of the
entity tables, and the full-text index's terms and instances go to FILE as JSON, so two
trees can be compared row for row:

    .venv/bin/python benchmarks/archive_rows.py --dump /tmp/after.json
    METEORGUI_BEFORE_TREE=/tmp/before .venv/bin/python benchmarks/archive_rows.py \
        --dump /tmp/before.json
    diff /tmp/before.json /tmp/after.json   # the migrations table aside: nothing

METEORGUI_BEFORE_TREE=DIR measures the archive code of another tree (say `git archive
main`) with this script.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

TREE = Path(os.environ.get("METEORGUI_BEFORE_TREE") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(TREE))

from meteorgui.archive import Archive  # noqa: E402
from meteorgui.model import Event  # noqa: E402
from meteorgui.simulate import make_night  # noqa: E402

TIMES = {"received_at", "applied_at", "started_at", "updated_at", "at", "bound_at"}
PAGE = 4096 + 24  # a WAL frame


def _io() -> tuple[int, int]:
    fields = dict(
        line.split(": ") for line in Path("/proc/thread-self/io").read_text().split("\n") if line
    )
    return int(fields["wchar"]), int(fields["syscw"])


def _store(archive: Archive, entity) -> None:
    if hasattr(archive, "offer_check"):
        assert archive.offer_check(entity) == (False, None)
    else:  # trees before the one look-up
        archived = (
            archive.has_event(entity.event_id)
            if isinstance(entity, Event)
            else archive.has_file(entity.file_id)
        )
        assert not archived and archive.conflict(entity) is None
    if isinstance(entity, Event):
        assert archive.store_event(entity, "cam", fetched=[f.file_id for f in entity.files])
    else:
        assert archive.store_file(entity, "cam")


def _dump(path: Path) -> dict[str, list[str]]:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE VIRTUAL TABLE temp.instances USING fts5vocab(main, event_summary_fts, 'instance')"
    )
    out: dict[str, list[str]] = {}
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE"
            " 'event_summary_fts%' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    for table in [*tables, "event_summary_terms", "instances"]:
        schema = "temp" if table == "instances" else "main"
        cols = [c[1] for c in conn.execute(f"PRAGMA {schema}.table_info({table})")]
        kept = ", ".join(c for c in cols if c not in TIMES)
        out[table] = sorted(map(repr, conn.execute(f"SELECT {kept} FROM {schema}.{table}")))
    for table, key in (
        ("events", "event_id"),
        ("files", "file_id"),
        ("meta", "owner_id || ':' || idx"),
        ("event_summary", "event_id"),
    ):
        rows = conn.execute(f"SELECT rowid, {key} FROM {table} ORDER BY rowid")
        out[f"{table} (rowids)"] = [repr(r) for r in rows]
    # The index matches its content table (raises if not).
    conn.execute("INSERT INTO event_summary_fts (event_summary_fts) VALUES ('integrity-check')")
    conn.close()
    return out


def run(night, metered: bool, dump: Path | None) -> float:
    folder = tempfile.TemporaryDirectory(prefix="archive-rows-")
    archive = Archive(folder.name)
    try:
        for st in night.statuses:
            archive.store_status(st, "cam")
        entities = sorted(
            [*night.events, *night.files],
            key=lambda e: e.event_time if isinstance(e, Event) else e.file_time,
        )
        statements: Counter[str] = Counter()
        steps = [0]
        conns = [archive.db._write_conn, archive.db.read()]
        if metered:
            for conn in conns:
                conn.set_trace_callback(lambda sql: statements.update([sql.split("(")[0][:70]]))
                conn.set_progress_handler(lambda: steps.__setitem__(0, steps[0] + 1), 100)
        pages: dict[str, list[int]] = {"event": [], "still": []}
        io0, t0 = _io(), time.thread_time()
        for entity in entities:
            w0 = _io()[0]
            _store(archive, entity)
            pages["event" if isinstance(entity, Event) else "still"].append(_io()[0] - w0)
        cpu = (time.thread_time() - t0) / len(entities) * 1000
        io1 = _io()
        if metered:
            for conn in conns:
                conn.set_trace_callback(None)
                conn.set_progress_handler(None, 0)
            n = len(entities)
            print(f"  {sum(statements.values()) / n:.2f} SQLite statements per entity (traced)")
            print(f"  ~{steps[0] * 100 / n:.0f} SQLite VM steps per entity")
            print(
                f"  {(io1[0] - io0[0]) / n / 1000:.1f} kB written and "
                f"{(io1[1] - io0[1]) / n:.1f} write calls per entity; pages per commit:"
                + "".join(f" {kind} {sum(v) / len(v) / PAGE:.1f}" for kind, v in pages.items() if v)
            )
            for sql, count in statements.most_common(12):
                print(f"    {count / n:6.2f}  {sql}")
    finally:
        archive.close()
    try:
        if dump is not None:
            dump.write_text(json.dumps(_dump(Path(folder.name) / "archive.sqlite3"), indent=0))
            print(f"  rows written to {dump}")
        return cpu
    finally:
        folder.cleanup()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=300)
    ap.add_argument("--timelapse", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dump", type=Path)
    args = ap.parse_args()
    night = make_night(7, events=args.events, timelapse=args.timelapse)
    print(f"tree {TREE}; load average {os.getloadavg()[0]:.2f}")
    run(night, True, args.dump)
    best = min(run(night, False, None) for _ in range(args.rounds))
    print(f"  {best:.3f} ms of thread CPU per entity (best of {args.rounds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
