"""`meteorgui status` and the rotating log of `meteorgui serve`."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat

from meteorgui import __version__, logs
from meteorgui.importer import runfile
from meteorgui.logs import close_logging

from . import factories as fx
from .factories import run_cli, wait_for


def test_status_while_an_importer_runs_and_after(capsys, monkeypatch, archive, server, auth):
    node = fx.Node(server.url, *auth)
    try:
        st = fx.status(camera="b827eb0a1c2d", inst_name="Shed roof")
        assert node.send(fx.event_pack(st))["state"] == "complete"
    finally:
        node.close()
    # The import log writes its conversations in batches, a moment after the answer.
    wait_for(lambda: archive.conversations.counts_since(0)["complete"] == 1, 10, "the log")
    info = json.loads((archive.data_dir / runfile.NAME).read_text())
    assert stat.S_IMODE((archive.data_dir / runfile.NAME).stat().st_mode) == 0o600
    assert info["pid"] == os.getpid() and info["url"] == server.url

    code, out, _ = run_cli(capsys, monkeypatch, "--data-dir", str(archive.data_dir), "status")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[1].startswith("Importer: running since") and server.url in lines[1]
    assert lines[2].startswith("Today: 1 complete · 0 failed")
    at = next(i for i, line in enumerate(lines) if "Shed roof (b827eb0a1c2d): " in line)
    assert lines[at].split()[0] in ("OK", "IDLE")
    assert (
        "last contact" in lines[at + 1] and "tonight 1 event, 0 stills, 0 failures" in lines[at + 1]
    )
    assert "0 failures" in lines[at + 1]
    assert lines[-1].startswith("Disk: ") and " free of " in lines[-1]
    assert len(lines) <= 24  # one screen

    server.stop()
    assert not (archive.data_dir / runfile.NAME).exists()
    code, out, _ = run_cli(capsys, monkeypatch, "--data-dir", str(archive.data_dir), "status")
    assert code == 3 and "Importer: not running" in out


def test_status_sees_through_a_file_left_by_a_killed_importer(capsys, monkeypatch, archive):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    runfile.write(archive.data_dir, f"http://127.0.0.1:{port}/import", [])
    data = json.loads((archive.data_dir / runfile.NAME).read_text())
    data["pid"] = 999_999_999
    (archive.data_dir / runfile.NAME).write_text(json.dumps(data))
    code, out, _ = run_cli(capsys, monkeypatch, "--data-dir", str(archive.data_dir), "status")
    assert code == 3
    assert "Importer: NOT running (pid 999999999 started one at" in out
    assert "Cameras: none has sent anything yet" in out


def test_status_never_makes_an_archive(capsys, monkeypatch, tmp_path):
    missing = tmp_path / "nothing-here"
    code, _, err = run_cli(capsys, monkeypatch, "--data-dir", str(missing), "status")
    assert code == 2 and err == f"meteorgui: no archive in {missing}\n"
    assert not missing.exists()


def test_the_log_starts_with_the_version_and_rotates_within_its_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "LOG_MAX_BYTES", 4000)
    path = logs.setup_logging(tmp_path)
    try:
        first = path.read_text().splitlines()[0]
        assert f"meteorgui {__version__} starting" in first
        log = logging.getLogger("meteorgui.test")
        for i in range(400):
            log.info("line %d of a long night %s", i, "x" * 40)
    finally:
        close_logging()
    kept = sorted(p.name for p in path.parent.iterdir())
    assert kept == ["meteorgui.log", "meteorgui.log.1", "meteorgui.log.2", "meteorgui.log.3"]
    assert all(p.stat().st_size <= 4000 for p in path.parent.iterdir())
    assert "line 399 of" in path.read_text()


def test_import_log_says_which_conversation_failed_and_why(
    capsys, monkeypatch, archive, server, auth
):
    """Headless, `status` counts failures and points to `import-log`, which names them."""
    import dataclasses

    node = fx.Node(server.url, *auth)
    try:
        good = fx.event_pack(fx.status(camera="b827eb0a1c2d"))
        assert node.send(good)["state"] == "complete"
        bad = fx.event_pack(dataclasses.replace(fx.status(), inst_name="Roof\x1b[2J"))
        assert node.send(bad)["state"] == "failed"
    finally:
        node.close()
    wait_for(lambda: archive.conversations.counts_since(0)["failed"] == 1, 10, "the log")
    data = str(archive.data_dir)
    code, out, _ = run_cli(capsys, monkeypatch, "--data-dir", data, "status")
    assert "1 failed" in out and "meteorgui import-log --problems" in out
    code, out, err = run_cli(capsys, monkeypatch, "--data-dir", data, "import-log", "--problems")
    assert code == 0 and err == "1 conversation\n"
    head, why = out.splitlines()
    assert f"failed           event {bad.entity.event_id}" in head and "@127.0.0.1" in head
    assert "it was refused (status.inst_name: contains the control character U+001B" in why
    assert "\x1b" not in out
    code, out, _ = run_cli(
        capsys, monkeypatch, "--data-dir", data, "import-log", "--json", "--steps"
    )
    listed = json.loads(out)
    assert [c["entity_id"] for c in listed] == [bad.entity.event_id, good.entity.event_id]
    assert [c["state"] for c in listed] == ["failed", "complete"]
    assert listed[1]["steps"][-1]["state"] == "complete"
