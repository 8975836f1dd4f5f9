"""Export speed and memory: meteorgui's exporter against a floor, measured in one run.

Target: benchmarks/floor_importer.py (an in-memory MeteorPi importer), a fresh
process per round. Source: one meteorgui archive in a temporary folder.

1. A night of small entities (300 events x 4 files + 400 time-lapse stills):
   entities/s of meteorgui's Exporter (persisted queue, history, archive
   reads, ImportClient) against the floor client, a minimal loop of plain
   requests + MultipartEncoder that speaks the same conversation and reads
   the same files. Target: the exporter within 1.25x the floor's time.
2. Big files (3 x 200 MB by default): MB/s, same pair. Target within 1.25x. The
   exporter hashes every byte it sends (it refuses to send bytes that do not
   match their record's MD5), which the floor does not: the MD5 speed of this
   machine is printed beside the figures.
3. Peak memory: a child process exports one 1 GB file with the Exporter and
   reports its own peak resident set (VmHWM from /proc). Target < 150 MB.

Rounds alternate between the two clients; the best round of each counts.
Prints figures; no asserts on time.

Run: .venv/bin/python benchmarks/export.py [--rounds 3] [--big-mb 200] [--mem-mb 1024]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("METEORGUI_KEYRING", "file")  # a benchmark never touches a keyring

from clients import push_2015  # noqa: E402
from servers import PASSWORD, USER, ServerProcess  # noqa: E402

from meteorgui.archive import Archive, Filter  # noqa: E402
from meteorgui.exporter import Exporter, FileSecrets, Selection  # noqa: E402
from meteorgui.model import FileRecord  # noqa: E402
from meteorgui.simulate import make_night  # noqa: E402

BIG_CAMERA = "benchbigfiles"


# --------------------------------------------------------------------------- the source archive


def add_big_files(archive: Archive, n: int, mb: int, status) -> None:
    """n standalone files of mb MiB each, written straight into the store (hashed on the way)."""
    block = os.urandom(1 << 20)
    for i in range(n):
        file_id = uuid.uuid4().hex
        tmp = archive.store.tmp_dir / f"{file_id}.bench"
        h = hashlib.md5(usedforsecurity=False)
        with open(tmp, "wb") as fh:
            for j in range(mb):
                chunk = bytes([i % 256, j % 256]) + block[2:]
                h.update(chunk)
                fh.write(chunk)
        md5 = h.hexdigest()
        final = archive.store.path(file_id, md5)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        archive.store_file(
            FileRecord(
                file_id=file_id,
                camera_id=BIG_CAMERA,
                status_id=status.status_id,
                file_time=status.valid_from + 1000 + i,
                file_size=mb << 20,
                mime_type="video/mp4",
                md5=md5,
                semantic_type="meteorpi:triggers/event/video",
                file_name=f"big{i}.mp4",
            )
        )


def build_source(path: Path, events: int, timelapse: int, big: int, big_mb: int) -> None:
    import io

    night = make_night(7, events=events, timelapse=timelapse)
    with Archive(path) as archive:
        for status in night.statuses:
            archive.store_status(status)
        for event in night.events:
            for f in event.files:
                archive.store.put(f.file_id, f.md5, io.BytesIO(night.file_bytes(f.file_id)))
            archive.store_event(event)
        for f in night.files:
            archive.store.put(f.file_id, f.md5, io.BytesIO(night.file_bytes(f.file_id)))
            archive.store_file(f)
        big_status = night.statuses[0].__class__(
            status_id=uuid.uuid4().hex,
            camera_id=BIG_CAMERA,
            valid_from=night.statuses[0].valid_from,
        )
        archive.store_status(big_status)
        add_big_files(archive, big, big_mb, big_status)


def selection(which: str) -> Selection:
    # The big files are their own camera; the night is the other two.
    return Selection(camera_id=BIG_CAMERA) if which == "big" else Selection()


def entities_of(archive: Archive, which: str):
    if which == "big":
        return archive.files(Filter(camera_id=BIG_CAMERA), standalone_only=True)
    items = [(e.event_time, e) for e in archive.events()]
    items += [
        (f.file_time, f) for f in archive.files(standalone_only=True) if f.camera_id != BIG_CAMERA
    ]
    return [e for _, e in sorted(items, key=lambda x: x[0])]


# --------------------------------------------------------------------------- the two clients


def run_meteorgui(archive: Archive, url: str, which: str, tag: str) -> tuple[float, int, int]:
    exporter = Exporter(archive, FileSecrets(archive.data_dir / "bench-secrets.json"))
    try:
        target = exporter.targets.add(f"floor {tag}", url, USER, PASSWORD, timeout=600)
        sel = selection(which)
        if which == "night":
            # everything of the night's two cameras: the big files' camera is left out
            ids = [getattr(e, "event_id", None) or e.file_id for e in entities_of(archive, which)]
            exporter.queue.enqueue_ids(target.target_id, ids)
        else:
            exporter.queue.enqueue_selection(target.target_id, sel)
        started = time.perf_counter()
        result = exporter.export(target.target_id, resend=False)
        seconds = time.perf_counter() - started
        if not result.ok:
            raise RuntimeError(f"meteorgui export failed: {result}")
        return seconds, result.complete, result.bytes_sent
    finally:
        exporter.close()


def run_minimal(archive: Archive, url: str, which: str) -> tuple[float, int, int]:
    """The floor client: the conversation with plain requests and MultipartEncoder."""
    entities = entities_of(archive, which)
    seconds, sent = push_2015(
        url, entities, archive.get_status, lambda record: open(archive.file_path(record), "rb")
    )
    return seconds, len(entities), sent


def rounds(archive: Archive, which: str, n: int) -> dict[str, list[tuple[float, int, int]]]:
    out: dict[str, list] = {"floor": [], "meteorgui": []}
    for r in range(n):
        order = ("floor", "meteorgui") if r % 2 == 0 else ("meteorgui", "floor")
        for kind in order:
            floor = ServerProcess("floor")
            try:
                if kind == "floor":
                    res = run_minimal(archive, floor.url, which)
                else:
                    res = run_meteorgui(archive, floor.url, which, f"{which} {r}")
            finally:
                floor.stop()
            out[kind].append(res)
            seconds, n_ent, sent = res
            rate = (
                f"{n_ent / seconds:7.1f} entities/s"
                if which == "night"
                else f"{sent / seconds / 1e6:7.1f} MB/s"
            )
            print(f"  {which} round {r + 1} {kind:9}: {seconds:6.2f} s  {rate}", flush=True)
    return out


def md5_speed() -> float:
    block = os.urandom(1 << 20)
    h = hashlib.md5(usedforsecurity=False)
    started = time.perf_counter()
    for _ in range(256):
        h.update(block)
    return 256 * len(block) / (time.perf_counter() - started) / 1e6


# --------------------------------------------------------------------------- memory (child)


def peak_rss_mb(pid: str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_export(data: Path, url: str) -> int:
    """In a child process: export the archive's big file(s) with the Exporter; print JSON."""
    with Archive(data) as archive:
        exporter = Exporter(archive, FileSecrets(data / "bench-secrets.json"))
        target = exporter.targets.add(
            f"mem {uuid.uuid4().hex[:6]}", url, USER, PASSWORD, timeout=600
        )
        exporter.queue.enqueue_selection(target.target_id, selection("big"))
        before = peak_rss_mb()
        started = time.perf_counter()
        result = exporter.export(target.target_id, resend=False)
        seconds = time.perf_counter() - started
        exporter.close()
    print(
        json.dumps(
            {
                "ok": result.ok,
                "bytes": result.bytes_sent,
                "seconds": seconds,
                "peak_before_mb": before,
                "peak_mb": peak_rss_mb(),
            }
        )
    )
    return 0 if result.ok else 1


def memory_round(workdir: Path, mem_mb: int) -> dict:
    data = workdir / "mem-archive"
    with Archive(data) as archive:
        from meteorgui.model import CameraStatus

        status = CameraStatus(
            status_id=uuid.uuid4().hex, camera_id=BIG_CAMERA, valid_from=1_795_000_000_000
        )
        archive.store_status(status)
        add_big_files(archive, 1, mem_mb, status)
    floor = ServerProcess("floor")
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child-export", str(data), floor.url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        floor.stop()
    if out.returncode != 0:
        raise RuntimeError(f"child export failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--events", type=int, default=300)
    ap.add_argument("--timelapse", type=int, default=400)
    ap.add_argument("--big", type=int, default=3)
    ap.add_argument("--big-mb", type=int, default=200)
    ap.add_argument("--mem-mb", type=int, default=1024)
    ap.add_argument("--child-export", nargs=2, metavar=("DATA", "URL"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_export:
        return child_export(Path(args.child_export[0]), args.child_export[1])

    with tempfile.TemporaryDirectory(prefix="meteorgui-export-bench-") as tmp:
        workdir = Path(tmp)
        src = workdir / "source"
        t = time.perf_counter()
        build_source(src, args.events, args.timelapse, args.big, args.big_mb)
        with Archive(src) as archive:
            n_night = len(entities_of(archive, "night"))
            print(
                f"source archive built in {time.perf_counter() - t:.1f} s: {n_night} small "
                f"entities, {args.big} x {args.big_mb} MiB files",
                flush=True,
            )

            night = rounds(archive, "night", args.rounds)
            best = {k: min(s for s, _, _ in v) for k, v in night.items()}
            print(
                f"small entities, best of {args.rounds}: floor {n_night / best['floor']:.1f} "
                f"entities/s, meteorgui {n_night / best['meteorgui']:.1f} entities/s -> time "
                f"ratio {best['meteorgui'] / best['floor']:.2f}x (target <= 1.25x)",
                flush=True,
            )

            big_rounds = max(1, args.rounds)
            big = rounds(archive, "big", big_rounds)
            mbps = {k: max(b / s for s, _, b in v) / 1e6 for k, v in big.items()}
            print(
                f"big files, best of {big_rounds}: floor {mbps['floor']:.1f} MB/s, meteorgui "
                f"{mbps['meteorgui']:.1f} MB/s -> time ratio "
                f"{mbps['floor'] / mbps['meteorgui']:.2f}x (target <= 1.25x; MD5 alone runs "
                f"at {md5_speed():.0f} MB/s here)",
                flush=True,
            )

        mem = memory_round(workdir, args.mem_mb)
        print(
            f"memory: exporting one {args.mem_mb} MiB file ({mem['bytes'] / 1e6:.0f} MB in "
            f"{mem['seconds']:.1f} s, {mem['bytes'] / mem['seconds'] / 1e6:.1f} MB/s): "
            f"exporter peak RSS {mem['peak_mb']:.1f} MB (after start-up "
            f"{mem['peak_before_mb']:.1f} MB; target < 150 MB)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
