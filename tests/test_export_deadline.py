"""Export must end when it should: an importer that trickles its answer, Ctrl+C, and a
scheduled rule stalled on one target while another target's rule goes on."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from meteorgui.archive import Archive
from meteorgui.exporter.client import ImportClient, ImportClientError

from .export_helpers import fill_archive, small_night
from .factories import wait_for
from .importer_process import ROOT


class Trickler:
    """An 'importer' on 127.0.0.1 that answers a connection check properly (so an export
    starts) and trickles every other answer's status line one byte a second."""

    ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: " + b"a" * 200

    def __init__(self, trickle_all: bool = False):
        self.trickle_all = trickle_all
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/import"
        self.trickling = threading.Event()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(120)
            try:
                while not self.stop.is_set():
                    head = b""
                    while b"\r\n\r\n" not in head:
                        chunk = conn.recv(65536)
                        if not chunk:
                            return
                        head += chunk
                    header, _, body = head.partition(b"\r\n\r\n")
                    length = 0
                    for line in header.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":")[1])
                    while len(body) < length:
                        body += conn.recv(65536)
                    if header.startswith(b"GET") and not self.trickle_all:
                        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    elif b"cached_entity" in body and not self.trickle_all:
                        answer = b'{"state":"continue-nocache"}'
                        conn.sendall(
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            + f"Content-Length: {len(answer)}\r\n\r\n".encode()
                            + answer
                        )
                    else:
                        self.trickling.set()
                        for b in self.ANSWER:
                            if self.stop.wait(1.0):
                                return
                            conn.sendall(bytes([b]))
                        return
            except OSError:
                return


@pytest.fixture
def trickler():
    t = Trickler()
    yield t
    t.close()


def test_a_trickled_answer_ends_at_the_timeout(trickler):
    trickler.trickle_all = True
    with ImportClient(trickler.url, "u", "p", timeout=(2, 2)) as client:
        t0 = time.monotonic()
        with pytest.raises(ImportClientError, match="did not answer within 2 s"):
            client.check()
        took = time.monotonic() - t0
    assert took < 8, f"{took:.1f} s"  # each byte came within the read timeout


@pytest.fixture
def night_archive(tmp_path):
    data = tmp_path / "data"
    archive = Archive(data)
    fill_archive(archive, small_night(events=2, timelapse=1))
    archive.close()
    return data


def _export(data, url: str, timeout: int) -> subprocess.Popen:
    argv = [sys.executable, "-m", "meteorgui", "--data-dir", str(data), "export"]
    argv += ["--to", url, "--user", "exporter", "--timeout", str(timeout)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    password = data.parent / "password.txt"
    password.write_text("secret\n")
    with open(password) as stdin:
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def test_cli_export_with_timeout_5_ends_in_about_5_s_against_a_trickling_importer(
    trickler, night_archive
):
    t0 = time.monotonic()
    proc = _export(night_archive, trickler.url, 5)
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    took = time.monotonic() - t0
    assert trickler.trickling.is_set()
    assert "within 5 s" in err, err
    assert proc.returncode == 1
    assert took < 25, f"{took:.1f} s"


def test_ctrl_c_aborts_the_export_request_in_flight(trickler, night_archive):
    proc = _export(night_archive, trickler.url, 100)
    try:
        assert trickler.trickling.wait(60)
        time.sleep(0.5)  # inside the wait for the answer
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        took = time.monotonic() - t0
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert took < 5, f"{took:.1f} s"


def test_a_rule_stalled_on_one_target_does_not_hold_back_another_targets_rule(tmp_path, trickler):
    from meteorgui.exporter import Scheduler

    from .conftest import CAMERA_USER
    from .export_helpers import source_archive

    night = small_night(events=2, timelapse=1)
    dest = Archive(tmp_path / "dest")
    dest.users.add(*CAMERA_USER, roles=["import"])
    from meteorgui.importer import ImporterServer

    server = ImporterServer(dest, "127.0.0.1", 0)
    server.start()
    try:
        with source_archive(tmp_path / "src", night) as (archive, exporter):
            # The stalled target first: a scheduler taking rules in turn would wait on it.
            stalled = exporter.targets.add("slow", trickler.url, "u", "pw", timeout=120)
            good = exporter.targets.add("good", server.url, *CAMERA_USER)
            r_stalled = exporter.rules.add("a slow", stalled.target_id)
            r_good = exporter.rules.add("b good", good.target_id)
            sched = Scheduler(exporter, poll=0.2)
            sched.start()
            try:
                wait_for(
                    lambda: exporter.rules.get(r_good.rule_id).state == "ok",
                    timeout=60,
                    what=lambda: exporter.rules.get(r_good.rule_id),
                )
                assert trickler.trickling.is_set()
                assert exporter.rules.get(r_stalled.rule_id).state == "running"
            finally:
                trickler.close()  # the stalled round ends (connection closed)
                assert sched.stop(timeout=60)
        assert dest.count("events") == 2
    finally:
        server.stop()
        server.importer.close()
        dest.close()
