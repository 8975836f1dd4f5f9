"""A full disk, told plainly: on a small real file system (tmpfs), cameras get 507 with the
reason, the ask bound still ends the round, the import log keeps its steps, and once
space is freed the next round completes."""

from __future__ import annotations

import contextlib
import os
import subprocess

import pytest

from meteorgui.archive import Archive
from meteorgui.core import Core
from meteorgui.importer import ImporterServer

from . import factories as fx
from .conftest import CAMERA_USER


@pytest.fixture
def small_disk(tmp_path):
    """A 32 MiB tmpfs, mounted for the test (skipped where mounting is not allowed)."""
    where = tmp_path / "small"
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(folder) -> str:
    """Write a file until the disk is full; returns its path."""
    path = os.path.join(folder, "filler")
    block = os.urandom(1 << 16)
    with open(path, "wb") as fh, contextlib.suppress(OSError):
        while True:
            fh.write(block)
            fh.flush()
    return path


def test_a_full_disk_gets_507_with_the_reason_and_the_retry_completes_after(small_disk):
    archive = Archive(small_disk / "data")
    archive.users.add(*CAMERA_USER, roles=["import"])
    server = ImporterServer(archive, "127.0.0.1", 0)
    server.start()
    node = fx.Node(server.url, *CAMERA_USER)
    codes = []  # of every request, uploads included
    post = node.http.post

    def recording_post(*args, **kwargs):
        r = post(*args, **kwargs)
        codes.append(r.status_code)
        return r

    node.http.post = recording_post
    try:
        # A status first, then the disk fills: the event's files cannot be kept.
        st = fx.status()
        assert node.send(fx.file_pack(st, size=1000)) == {"state": "complete"}
        pack = fx.event_pack(st, n_files=2, size=1 << 20)  # spooled (above 512 KiB)
        filler = _fill(small_disk)
        core = Core.__new__(Core)
        core.archive = archive
        assert core.disk_status(warn_below_mb=1).low

        answer = node.send(pack)
        assert answer["state"] == "failed", node.log
        assert "disk is full" in answer["message"] and "3 times" in answer["message"]
        assert codes.count(507) >= 3  # each upload, told why

        # A status on the full disk: 507, and the round ends saying why.
        st2 = fx.status(valid_from=fx.T0 + 10)
        answer2 = node.send(fx.event_pack(st2, n_files=1, size=100))
        assert answer2["state"] == "failed"
        assert "could not be archived" in answer2["message"], answer2
        assert "disk is full" in answer2["message"]

        os.unlink(filler)  # space is freed
        assert not core.disk_status(warn_below_mb=1).low
        assert node.send(pack) == {"state": "complete"}
        assert server.importer.log.flush(timeout=60)
        assert server.importer.log.dropped == 0
        states = [
            c.state for c in archive.conversations.recent() if c.entity_id == pack.entity.event_id
        ]
        assert sorted(states) == ["complete", "failed"]
        assert archive.verify() == []
    finally:
        node.close()
        server.stop()
        server.importer.close()
        archive.close()


def test_import_log_batches_are_kept_until_they_can_be_written(archive, monkeypatch):
    import sqlite3

    from meteorgui import notify
    from meteorgui.importer.log import ImportLog

    real = archive.conversations.record_many
    failures = []

    def full_then_fine(batch):
        if len(failures) < 3:
            failures.append(len(batch))
            raise sqlite3.OperationalError("database or disk is full")
        return real(batch)

    monkeypatch.setattr(archive.conversations, "record_many", full_then_fine)
    log = ImportLog(archive, notify.Hub(), delay=0.01)
    ids = [fx.uid() for _ in range(25)]
    for i in ids:
        log.record(user="camera", kind="event", entity_id=i, state="complete", detail="archived")
    assert log.flush(timeout=60)
    log.close()
    assert len(failures) == 3
    assert {c.entity_id for c in archive.conversations.recent()} == set(ids)
    assert log.dropped == 0


def test_status_command_warns_when_the_disk_is_below_the_threshold(tmp_path, capsys, monkeypatch):
    from meteorgui.archive import Archive
    from meteorgui.settings import Settings

    Archive(tmp_path / "d").close()  # status looks at an archive, never makes one
    Settings(disk_warning_mb=10 << 20).save()  # 10 TiB: always "low"
    code, out, _ = fx.run_cli(capsys, monkeypatch, "--data-dir", str(tmp_path / "d"), "status")
    assert code == 1 and "WARNING: only" in out and "free on the disk" in out
    Settings(disk_warning_mb=0).save()
    code, out, _ = fx.run_cli(capsys, monkeypatch, "--data-dir", str(tmp_path / "d"), "status")
    assert code == 3 and "Disk: " in out  # 3: no importer runs; the disk is fine


def test_the_window_warns_in_its_status_bar_while_the_disk_is_low(gui, qtbot):
    window = gui.window
    assert not window.disk_label.isVisible()
    gui.settings.disk_warning_mb = 10 << 20  # 10 TiB: this disk is "low"
    window.check_disk()
    qtbot.waitUntil(window.disk_label.isVisible, timeout=10_000)
    assert "free on the disk" in window.disk_label.text()
    gui.settings.disk_warning_mb = 0
    window.check_disk()
    qtbot.waitUntil(lambda: not window.disk_label.isVisible(), timeout=10_000)
