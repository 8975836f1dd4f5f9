"""Crashes leave nothing behind: partial uploads of dead writers are swept, and the
import log is repaired at the next start (with real kill -9 of real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from meteorgui.archive import Archive
from meteorgui.importer import ImporterServer
from meteorgui.importer import server as server_module

from . import factories as fx
from .conftest import CAMERA_USER
from .importer_process import ROOT, running


def _writer(data_dir) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.crash_writer", str(data_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    path = Path(proc.stdout.readline().strip())
    assert path.name.endswith(".part"), path
    return proc, path


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    proc.stdout.close()


def test_partial_files_of_killed_writers_are_swept_at_start_and_live_ones_kept(
    tmp_path, monkeypatch
):
    data = tmp_path / "data"
    Archive(data).close()
    dead, dead_path = _writer(data)
    live, live_path = _writer(data)
    try:
        _kill(dead)
        # Not an hour old: the old sweep kept both. Written long enough ago to be swept.
        old = dead_path.stat().st_mtime - 60
        os.utime(dead_path, (old, old))
        os.utime(live_path, (old, old))
        archive = Archive(data)  # a start
        try:
            assert not dead_path.exists()
            assert live_path.exists()  # its writer still runs (another process)

            # And periodically while the importer runs: the live writer dies now.
            monkeypatch.setattr(server_module, "SWEEP_EVERY", 0.2)
            _kill(live)
            os.utime(live_path, (old, old))
            s = ImporterServer(archive, "127.0.0.1", 0)
            s.start()
            try:
                fx.wait_for(lambda: not live_path.exists(), 10, "the periodic sweep")
            finally:
                s.stop()
        finally:
            archive.close()
    finally:
        _kill(dead)
        _kill(live)


def test_after_kill_9_the_import_log_is_repaired_at_the_next_start(tmp_path):
    data = tmp_path / "data"
    packs = []
    with running(data, *CAMERA_USER) as (proc, url):
        node = fx.Node(url, *CAMERA_USER)
        try:
            st = fx.status()
            for _ in range(6):
                pack = fx.event_pack(st, n_files=2)
                assert node.send(pack) == {"state": "complete"}
                packs.append(pack)
            # One more left half-way: asked for its bytes, never sent.
            half = fx.event_pack(st, n_files=1)
            assert node.post(fx.message(half.entity))["state"] == "need_file_data"
        finally:
            node.close()
        proc.send_signal(signal.SIGKILL)  # at once: the log writes 0.1 s behind
        proc.wait(30)

    archive = Archive(data)
    try:
        ids = {p.entity.event_id for p in packs}

        def final_states():
            found = {}
            for c in archive.conversations.recent(limit=1000):
                if c.entity_id in ids and c.final:
                    found[c.entity_id] = c.state
            return found

        lost_before = len(ids) - len(final_states())
        s = ImporterServer(archive, "127.0.0.1", 0)
        s.start()
        s.stop()
        after = final_states()
        assert after == {i: "complete" for i in ids}, f"{lost_before} were lost"
        open_ = [c for c in archive.conversations.recent(limit=1000) if not c.final]
        # Only the half-sent event stays open: it is not archived.
        assert {c.entity_id for c in open_} <= {half.entity.event_id}
        print(f"kill -9: {lost_before} of {len(ids)} entities had lost their final log step")
    finally:
        archive.close()


def test_reconcile_closes_open_conversations_of_archived_entities_and_records_orphans(
    archive,
):
    from meteorgui.archive import conversations as conv

    st = fx.status()
    archive.store_status(st, "camera")
    packs = [fx.event_pack(st, n_files=1) for _ in range(3)]
    for p in packs:
        for rec in p.entity.files:
            assert archive.store.put(
                rec.file_id, rec.md5, __import__("io").BytesIO(p.blobs[rec.file_id])
            )
        archive.store_event(p.entity, "camera")
    # The first was being asked for bytes when the crash came; the second has no log at all.
    archive.conversations.record(
        user="camera", kind="event", entity_id=packs[0].entity.event_id, state="need_file_data"
    )
    archive.conversations.record(
        user="camera", kind="event", entity_id=packs[2].entity.event_id, state="complete"
    )
    assert conv.reconcile(archive.db) == (1, 1)
    assert conv.reconcile(archive.db) == (0, 0)  # once is enough
    states = {c.entity_id: (c.state, c.final) for c in archive.conversations.recent()}
    assert states == {p.entity.event_id: ("complete", True) for p in packs}
    recovered = [
        s.detail
        for c in archive.conversations.recent()
        for s in archive.conversations.steps(c.id)
        if c.entity_id == packs[1].entity.event_id
    ]
    assert recovered and "recovered" in recovered[-1]


@pytest.mark.skipif(os.name != "posix", reason="writers' locks are POSIX flock")
def test_a_writer_in_this_process_is_not_swept(archive):
    writer = archive.store.writer(fx.uid(), "0" * 32)
    writer.write(b"abc")
    old = os.stat(writer._tmp).st_mtime - 60
    os.utime(writer._tmp, (old, old))
    assert archive.store.clean_tmp() == 0
    assert os.path.exists(writer._tmp)
    writer.abort()


@pytest.mark.parametrize("as_zip", [False, True])
def test_a_killed_folder_export_leaves_partials_that_the_next_run_sweeps(tmp_path, as_zip):
    import io

    data = tmp_path / "data"
    archive = Archive(data)
    try:
        st = fx.status()
        archive.store_status(st, "camera")
        for _ in range(20):
            p = fx.event_pack(st, n_files=2, size=1 << 20)
            for rec in p.entity.files:
                assert archive.store.put(rec.file_id, rec.md5, io.BytesIO(p.blobs[rec.file_id]))
            archive.store_event(p.entity, "camera")
    finally:
        archive.close()
    out = tmp_path / "out"
    out.mkdir()
    dest = out / ("night.zip" if as_zip else "night")
    argv = [sys.executable, "-m", "meteorgui", "--data-dir", str(data), "export"]
    argv += ["--to-folder", str(dest)] + (["--zip"] if as_zip else [])
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        fx.wait_for(lambda: any(out.glob(".*.part")), 60, "the export's partial")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    leftovers = list(out.glob(".*.part"))
    assert leftovers and not dest.exists()
    for p in leftovers:  # as a crash an hour ago would leave them
        os.utime(p, (p.stat().st_mtime - 60,) * 2)

    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert dest.exists()
    assert sorted(p.name for p in out.iterdir()) == [dest.name]  # nothing hidden left
