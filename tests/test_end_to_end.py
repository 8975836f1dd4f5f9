"""A simulated camera fills the archive through `meteorgui serve`; everything reads back exactly."""

import hashlib
import json
import os
import signal
import subprocess
import sys

from meteorgui.archive import Archive
from meteorgui.simulate import make_night

from .test_cli import _free_port


def _cli(*args, stdin: str | None = None, check=True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "meteorgui", *args],
        input=stdin,
        text=True,
        capture_output=True,
        check=check,
        timeout=300,
    )


def test_camera_fills_archive_through_serve_and_reads_back_byte_exact(tmp_path):
    data = str(tmp_path / "archive")
    port = _free_port()
    _cli("--data-dir", data, "user", "add", "garden-cam", stdin="clear-skies\n")
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "meteorgui",
            "--data-dir",
            data,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = serve.stdout.readline()
        while "listening on" not in line:
            assert line, serve.stderr.read()
            line = serve.stdout.readline()
        url = line.split("listening on", 1)[1].split()[0]
        sim = _cli(
            "simulate",
            "--to",
            url,
            "--user",
            "garden-cam",
            "--events",
            "12",
            "--timelapse",
            "10",
            "--seed",
            "5",
            stdin="clear-skies\n",
            check=False,
        )
        assert sim.returncode == 0, sim.stdout + sim.stderr
        # A second push of the same night is answered complete without any bytes.
        again = _cli(
            "simulate",
            "--to",
            url,
            "--user",
            "garden-cam",
            "--events",
            "12",
            "--timelapse",
            "10",
            "--seed",
            "5",
            stdin="clear-skies\n",
            check=False,
        )
        assert again.returncode == 0 and "0 B uploaded" in again.stdout, again.stdout
    finally:
        serve.send_signal(signal.SIGINT)
        assert serve.wait(30) == 0
        serve.stdout.close()
        serve.stderr.close()

    night = make_night(5, events=12, timelapse=10)
    events = json.loads(_cli("--data-dir", data, "events", "--json").stdout)
    assert events == [e.to_dict() for e in sorted(night.events, key=lambda e: e.event_time)]
    files = json.loads(_cli("--data-dir", data, "files", "--json").stdout)
    sent_files = [f for e in night.events for f in e.files] + list(night.files)
    assert sorted(files, key=lambda f: f["file_id"]) == sorted(
        (f.to_dict() for f in sent_files), key=lambda f: f["file_id"]
    )
    assert [f["file_time"] for f in files] == sorted(f["file_time"] for f in files)
    statuses = json.loads(_cli("--data-dir", data, "statuses", "--json").stdout)
    assert {s["status_id"]: s for s in statuses} == {
        s.status_id: s.to_dict() for s in night.statuses
    }
    with Archive(data) as archive:
        for record in sent_files:
            stored = archive.file_path(record).read_bytes()
            assert stored == night.file_bytes(record.file_id)
            assert hashlib.md5(stored).hexdigest() == record.md5
    verify = _cli("--data-dir", data, "verify", check=False)
    assert verify.returncode == 0 and "0 damaged, 0 missing" in verify.stdout
