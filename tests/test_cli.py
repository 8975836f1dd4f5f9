"""The command line contract: names, outputs, exit codes and one-line errors."""

import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from meteorgui.archive import Archive

from . import factories as fx

run = fx.run_cli


@pytest.fixture
def data(tmp_path):
    return str(tmp_path / "cli-data")


def test_user_add_list_password_remove(capsys, monkeypatch, data):
    code, out, _ = run(
        capsys, monkeypatch, "--data-dir", data, "user", "add", "cam1", stdin="s3cret\n"
    )
    assert code == 0 and "cam1" in out and "import" in out
    code, out, _ = run(
        capsys,
        monkeypatch,
        "--data-dir",
        data,
        "user",
        "add",
        "admin",
        "--role",
        "user",
        "--role",
        "camera_admin",
        stdin="pw\n",
    )
    assert code == 0
    code, out, _ = run(capsys, monkeypatch, "--data-dir", data, "user", "list")
    assert [line.split("\t")[:2] for line in out.splitlines()] == [
        ["admin", "user camera_admin"],
        ["cam1", "import"],
    ]
    with Archive(data) as a:
        assert a.users.authenticate("cam1", "s3cret") is not None
        row = a.db.read().execute("SELECT password_hash FROM users WHERE name='cam1'").fetchone()
        assert "s3cret" not in row[0] and row[0].startswith("pbkdf2_sha256$")
    code, _, _ = run(
        capsys, monkeypatch, "--data-dir", data, "user", "password", "cam1", stdin="n3w\n"
    )
    assert code == 0
    with Archive(data) as a:
        assert a.users.authenticate("cam1", "s3cret") is None
        assert a.users.authenticate("cam1", "n3w") is not None
    # `user roles NAME` alone shows the roles and changes nothing (it once took them all).
    code, out, _ = run(capsys, monkeypatch, "--data-dir", data, "user", "roles", "cam1")
    assert code == 0 and out.strip() == "cam1 has roles import"
    with Archive(data) as a:
        assert a.users.get("cam1").has_role("import")
    code, _, err = run(
        capsys, monkeypatch, "--data-dir", data, "user", "roles", "cam1", "--none", "--role", "user"
    )
    assert code != 0 and "not both" in err
    code, out, _ = run(capsys, monkeypatch, "--data-dir", data, "user", "roles", "cam1", "--none")
    assert code == 0 and "cam1 now has roles (none)" in out
    with Archive(data) as a:
        assert a.users.get("cam1").roles == ()
    code, _, _ = run(capsys, monkeypatch, "--data-dir", data, "user", "remove", "cam1")
    assert code == 0
    code, _, err = run(capsys, monkeypatch, "--data-dir", data, "user", "remove", "cam1")
    assert code != 0 and err.count("\n") == 1 and "no user 'cam1'" in err


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["--bogus"], "unrecognized arguments"),
        (["user", "add", "x", "--role", "king"], "invalid choice"),
        (["events", "--after", "yesterday-ish"], "is not a time"),
        (["events", "--limit", "many"], "is not a whole number"),
    ],
)
def test_user_mistakes_are_one_line(capsys, monkeypatch, data, argv, fragment):
    code, out, err = run(capsys, monkeypatch, "--data-dir", data, *argv, stdin="pw\n")
    assert code != 0
    assert err.count("\n") == 1 and fragment in err and "Traceback" not in err


def test_unreadable_data_dir_is_one_line(capsys, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, err = run(capsys, monkeypatch, "--data-dir", str(blocker / "sub"), "events")
    assert code != 0 and err.count("\n") == 1 and "cannot open the archive" in err


def test_an_archive_from_a_newer_meteorgui_is_refused_untouched(capsys, monkeypatch, data):
    import sqlite3

    from meteorgui.archive import migrations

    with Archive(data) as a:
        a.store_status(fx.status())
    newer = max(v for v, _, _ in migrations.MIGRATIONS) + 1
    db = os.path.join(data, "archive.sqlite3")
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO migrations (version, name, applied_at) VALUES (?, 'x', 0)", (newer,)
        )
    conn.close()
    before = Path(db).read_bytes()
    code, _, err = run(capsys, monkeypatch, "--data-dir", data, "statuses")
    assert code != 0 and err.count("\n") == 1
    assert "newer meteorgui" in err and f"schema version {newer}" in err
    assert Path(db).read_bytes() == before


def test_a_file_store_from_a_newer_meteorgui_is_refused(capsys, monkeypatch, data):
    Archive(data).close()
    with open(os.path.join(data, "files", "layout"), "w") as fh:
        fh.write("3 levels of folders\n")
    code, _, err = run(capsys, monkeypatch, "--data-dir", data, "events")
    assert code != 0 and err.count("\n") == 1
    assert "layout from a newer meteorgui" in err


def _fill(data: str) -> tuple[list, list, list]:
    """An archive with two statuses, two events and a standalone file, via the archive API."""
    with Archive(data) as a:
        s1 = fx.status(camera="cam001122aabb", valid_from=fx.T0)
        s2 = fx.status(camera="cam001122aabb", valid_from=fx.T0 + 7_200_000)
        other = fx.status(camera="ffeeddccbbaa", valid_from=fx.T0)
        for s in (s1, s2, other):
            a.store_status(s)
        packs = [
            fx.event_pack(s1, t=fx.T0 + 1000),
            fx.event_pack(other, t=fx.T0 + 2000),
            fx.event_pack(s2, t=fx.T0 + 7_300_000),
        ]
        lone = fx.file_pack(s1, t=fx.T0 + 1500)
        for p in packs + [lone]:
            for fid, data_ in p.blobs.items():
                a.store.put(fid, hashlib.md5(data_).hexdigest(), io.BytesIO(data_))
            if hasattr(p.entity, "event_id"):
                a.store_event(p.entity)
            else:
                a.store_file(p.entity)
        return [s1, s2, other], [p.entity for p in packs], [lone.entity]


def test_listing_json_is_the_wire_format_in_time_order(capsys, monkeypatch, data):
    statuses, events, lone = _fill(data)
    code, out, _ = run(capsys, monkeypatch, "--data-dir", data, "events", "--json")
    assert code == 0
    assert json.loads(out) == [e.to_dict() for e in events]
    code, out, _ = run(
        capsys,
        monkeypatch,
        "--data-dir",
        data,
        "events",
        "--json",
        "--camera",
        "cam001122aabb",
        "--limit",
        "1",
    )
    assert [e["event_id"] for e in json.loads(out)] == [events[0].event_id]
    # A camera id copied from a 2015 node's database, blank-padded: the same camera.
    padded = "cam001122aabb".ljust(64)
    code, out, _ = run(
        capsys, monkeypatch, "--data-dir", data, "events", "--json", "--camera", padded
    )
    assert code == 0 and [e["event_id"] for e in json.loads(out)] == [
        e.event_id for e in events if e.camera_id == "cam001122aabb"
    ]
    after = str(fx.T0 + 1500)
    code, out, _ = run(
        capsys,
        monkeypatch,
        "--data-dir",
        data,
        "events",
        "--json",
        "--after",
        after,
        "--before",
        "2030-01-01T00:00Z",
    )
    assert [e["event_id"] for e in json.loads(out)] == [e.event_id for e in events[1:]]
    code, out, _ = run(capsys, monkeypatch, "--data-dir", data, "files", "--json")
    files = json.loads(out)
    assert len(files) == 3 * 3 + 1
    assert [f["file_time"] for f in files] == sorted(f["file_time"] for f in files)
    assert lone[0].to_dict() in files
    code, out, _ = run(capsys, monkeypatch, "--data-dir", data, "statuses", "--json")
    got = json.loads(out)
    assert [s["status_id"] for s in got] == [
        statuses[0].status_id,
        statuses[2].status_id,
        statuses[1].status_id,
    ]
    assert got[0]["valid_to"] == statuses[1].valid_from  # computed by the archive
    code, out, err = run(capsys, monkeypatch, "--data-dir", data, "events")
    assert code == 0 and len(out.splitlines()) == 3 and "3 events" in err


def test_verify_and_resend(capsys, monkeypatch, data):
    _, events, _ = _fill(data)
    code, out, _ = run(capsys, monkeypatch, "--data-dir", data, "verify")
    assert code == 0 and "10 ok, 0 damaged, 0 missing" in out
    victim = events[1].files[0]
    with Archive(data) as a:
        a.file_path(victim).write_bytes(b"garbage")
    code, out, err = run(capsys, monkeypatch, "--data-dir", data, "verify")
    assert code == 1 and victim.file_id in out and "1 damaged" in out
    assert "meteorgui resend ID" in err  # what to do about it
    code, out, _ = run(capsys, monkeypatch, "--data-dir", data, "resend", victim.file_id)
    assert code == 0 and "1 file will be asked for again" in out
    with Archive(data) as a:
        assert [o["id"] for o in a.resend_offers()] == [events[1].event_id]
        assert len(list(a.store.quarantine_dir.iterdir())) == 1
    # Until the camera sends it again: missing from the store, its resend requested.
    code, out, err = run(capsys, monkeypatch, "--data-dir", data, "verify")
    assert code == 1 and "1 missing" in out and "resend requested)" in out
    assert "meteorgui resend" not in err
    code, _, err = run(capsys, monkeypatch, "--data-dir", data, "resend", fx.uid(), "not-an-id")
    assert code == 1 and "no event or file" in err and "not a UUID" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _meteorgui(*args, **kw):
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "meteorgui", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def test_serve_prints_url_and_stops_cleanly_on_signals(data):
    port = _free_port()
    for sig in (signal.SIGINT, signal.SIGTERM):
        p = _meteorgui("--data-dir", data, "serve", "--host", "127.0.0.1", "--port", str(port))
        try:
            lines = []
            while not any("listening on" in line for line in lines):
                line = p.stdout.readline()
                assert line, p.stderr.read()
                lines.append(line)
            assert f"http://127.0.0.1:{port}/import" in "".join(lines)
            p.send_signal(sig)
            assert p.wait(20) == 0
        finally:
            p.kill()
            p.communicate()


def _serving(data: str, port: int) -> subprocess.Popen:
    """`meteorgui serve` on 127.0.0.1:port, once it says it listens."""
    p = _meteorgui("--data-dir", data, "serve", "--host", "127.0.0.1", "--port", str(port))
    while "listening on" not in (line := p.stdout.readline()):
        if not line:
            _, err = p.communicate()
            raise AssertionError(err)
    return p


def _stopped(p: subprocess.Popen) -> int:
    p.send_signal(signal.SIGTERM)
    try:
        p.communicate(timeout=20)
    finally:
        p.kill()
    return p.returncode


def test_a_second_importer_on_the_same_archive_is_refused_and_status_names_the_first(
    capsys, monkeypatch, data
):
    first_port, second_port = _free_port(), _free_port()
    first = _serving(data, first_port)
    try:
        second = _meteorgui(
            "--data-dir", data, "serve", "--host", "127.0.0.1", "--port", str(second_port)
        )
        _, err = second.communicate(timeout=60)
        assert second.returncode != 0 and "Traceback" not in err
        assert err.strip().count("\n") == 0
        assert f"another meteorgui (pid {first.pid}) is already receiving" in err
        assert f"http://127.0.0.1:{first_port}/import; stop it first" in err
        code, out, _ = run(capsys, monkeypatch, "--data-dir", data, "status")
        assert code == 0 and "running since" in out and f"pid {first.pid}" in out
    finally:
        assert _stopped(first) == 0
    # Once it has stopped, an importer starts there again.
    assert _stopped(_serving(data, second_port)) == 0


def test_serve_port_in_use_is_one_line(data):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = _meteorgui("--data-dir", data, "serve", "--host", "127.0.0.1", "--port", str(port))
        out, err = p.communicate(timeout=30)
    assert p.returncode != 0
    assert err.strip().count("\n") == 0 and "already in use" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["events", "--after", "99999999999999999999"], "not a time between 1970 and 3000"),
        (["files", "--before", "0001-01-01"], "is not a time"),
        (["events", "--limit", "9223372036854775808"], "is too large"),
        (["events", "--limit", "-1"], "must be 0 or more"),
        (["serve", "--port", "99999"], "not between 0 and 65535"),
        (
            [
                "simulate",
                "--to",
                "http://127.0.0.1:9/import",
                "--user",
                "u",
                "--rate",
                "nan",
            ],
            "must be a positive number",
        ),
        (
            [
                "simulate",
                "--to",
                "http://127.0.0.1:9/import",
                "--user",
                "u",
                "--start",
                "99999999999999999",
            ],
            "not a time between 1970 and 3000",
        ),
        (
            ["export", "--to", "http://127.0.0.1:9/import", "--user", "u", "--timeout", "-1"],
            "must be a positive number",
        ),
    ],
)
def test_numbers_out_of_range_are_one_line(capsys, monkeypatch, data, argv, fragment):
    code, _, err = run(capsys, monkeypatch, "--data-dir", data, *argv)
    assert code == 2 and err.count("\n") == 1 and fragment in err, err


def test_an_empty_data_dir_is_refused(capsys, monkeypatch):
    code, _, err = run(capsys, monkeypatch, "--data-dir", "", "events")
    assert code == 2 and "--data-dir is empty" in err


def test_a_database_damaged_inside_is_one_line(capsys, monkeypatch, data):
    import sqlite3

    with Archive(data) as archive:
        archive.store_status(fx.status())
        pack = fx.file_pack(fx.status())
        archive.store_status(pack.status)
        assert archive.store_file(pack.entity)
    db = Path(data) / "archive.sqlite3"
    conn = sqlite3.connect(db)
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'files'").fetchone()[0]
    conn.close()
    with open(db, "r+b") as fh:  # the header and schema intact, one table's page not
        fh.seek(page * (root - 1) + 8)
        fh.write(b"\xff" * 64)
    for command in ("files", "verify"):
        code, _, err = run(capsys, monkeypatch, "--data-dir", data, command)
        assert code == 1 and err.count("\n") == 1, err
        assert "database cannot be read: database disk image is malformed" in err


def test_simulate_says_on_stderr_why_it_cannot_push(capsys, monkeypatch, server):
    monkeypatch.setenv("METEORGUI_PASSWORD", "wrong")
    code, out, err = run(
        capsys,
        monkeypatch,
        "simulate",
        "--to",
        server.url,
        "--user",
        "camera",
        "--events",
        "1",
        "--timelapse",
        "0",
    )
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "refused the credentials" in err


def test_serve_goes_on_and_stops_cleanly_when_its_output_is_closed(data):
    port = _free_port()
    p = _meteorgui("--data-dir", data, "user", "add", "camera", stdin=subprocess.PIPE)
    assert p.communicate("pw\n", timeout=30) and p.returncode == 0
    p = _meteorgui("--data-dir", data, "serve", "--host", "127.0.0.1", "--port", str(port))
    try:
        while "listening on" not in p.stdout.readline():
            pass
        p.stdout.close()  # as `meteorgui serve | head -2` does
        node = fx.Node(f"http://127.0.0.1:{port}/import", "camera", "pw")
        try:
            for _ in range(2):
                answer = node.send(fx.file_pack(fx.status()))
                assert answer["state"] == "complete", answer
        finally:
            node.close()
        p.send_signal(signal.SIGTERM)
        assert p.wait(20) == 0
        err = p.stderr.read()
        assert "Traceback" not in err and "BrokenPipe" not in err, err
    finally:
        p.kill()
        p.stderr.close()
    assert (
        not (Path(data) / "archive.sqlite3-wal").exists()
        or (Path(data) / "archive.sqlite3-wal").stat().st_size == 0
    )  # closed cleanly


def test_simulate_never_takes_the_password_on_its_command_line(
    capsys, monkeypatch, server, tmp_path
):
    base = ("simulate", "--to", server.url, "--user", "camera", "--events", "1", "--timelapse", "0")
    code, out, err = run(capsys, monkeypatch, *base, "--password", "night-sky-42")
    assert code == 2 and "process list" in err and "--password-file" in err
    secret = tmp_path / "pw"
    secret.write_text("night-sky-42\n")
    code, out, err = run(capsys, monkeypatch, *base, "--password-file", str(secret))
    assert code == 0, err
    monkeypatch.setenv("METEORGUI_PASSWORD", "night-sky-42")
    code, out, err = run(capsys, monkeypatch, *base, "--seed", "2")
    assert code == 0, err
    monkeypatch.delenv("METEORGUI_PASSWORD")
    code, out, err = run(capsys, monkeypatch, *base, "--seed", "3", stdin="night-sky-42\n")
    assert code == 0, err
    code, out, err = run(capsys, monkeypatch, *base, "--password-file", str(tmp_path / "none"))
    assert code == 2 and "cannot read the password file" in err


def test_help_is_wrapped_to_the_terminal():
    """The width is asked once per process (not for every argument): still the terminal's."""

    def widest(columns: int) -> int:
        proc = subprocess.run(
            [sys.executable, "-m", "meteorgui", "--help"],
            env={**os.environ, "COLUMNS": str(columns)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return max(len(line) for line in proc.stdout.splitlines())

    assert 50 < widest(60) <= 58
    assert widest(200) > 60


def test_simulate_again_with_fewer_events_pushes_without_failures(
    capsys, monkeypatch, server, tmp_path
):
    """Each night shape has ids of its own (a night of fewer events once gave an event a
    file's id of the first night, and the importer refused it); the same shape again is
    "already archived"."""
    secret = tmp_path / "pw"
    secret.write_text("night-sky-42\n")
    base = ("simulate", "--to", server.url, "--user", "camera", "--password-file", str(secret))
    for events in ("10", "3", "20", "10"):
        code, out, err = run(capsys, monkeypatch, *base, "--events", events, "--timelapse", "2")
        assert code == 0 and "0 failed" in out, out + err
    assert len(server.archive.events()) == 10 + 3 + 20
