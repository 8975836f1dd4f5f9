"""`meteorgui export`: the command line contract, over real HTTP, including a killed export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from meteorgui import cli
from meteorgui.archive import Archive

from .export_helpers import SEED_USERS, all_entity_ids, fill_archive, seed_importer, small_night
from .factories import run_cli as run

ROOT = Path(__file__).resolve().parent.parent
PW = SEED_USERS["exporter"][0]


@pytest.fixture(scope="module")
def night():
    return small_night(events=3, timelapse=3)


@pytest.fixture
def data(tmp_path, night):
    path = tmp_path / "src"
    with Archive(path) as a:
        fill_archive(a, night)
    return str(path)


def export_to(capsys, monkeypatch, data, url, *options, user="exporter", password=PW):
    """`meteorgui --data-dir DATA export --to URL --user USER [options]`, the password on
    standard input: (exit code, stdout, stderr)."""
    argv = ["--data-dir", data, "export", "--to", url, "--user", user, *options]
    return run(capsys, monkeypatch, *argv, stdin=password + "\n")


def test_export_everything_then_nothing_again(capsys, monkeypatch, tmp_path, data, night):
    with seed_importer(tmp_path / "seed") as seed:
        code, out, err = export_to(capsys, monkeypatch, data, seed.url)
        assert code == 0, err
        assert out.splitlines() == [out.strip()] and out.startswith(
            f"6 of 6 entities exported to {seed.url}: 0 failed, 0 left;"
        )
        assert set(seed.events) == {e.event_id for e in night.events}
        for record in night.files:
            assert seed.bytes_of(record.file_id) == night.file_bytes(record.file_id)
        uploads = len(seed.uploads)

        code, out, err = export_to(capsys, monkeypatch, data, seed.url)
        assert code == 0 and out.strip() == (
            f"nothing to export: all 6 matching entities are already at {seed.url}"
        )
        assert len(seed.uploads) == uploads and len(seed.offers()) == 6
    # The password went nowhere: not the archive, not its logs.
    for path in Path(data).rglob("*"):
        if path.is_file():
            assert PW.encode() not in path.read_bytes(), path
    assert (Path(data) / "logs" / "meteorgui.log").is_file()


def test_what_the_target_asks_for_again_goes_though_nothing_else_is_new(
    capsys, monkeypatch, data, night, server, auth
):
    """Before, 'nothing to export' ended the command before a round read the target's
    resend list: a central archive's resend request waited for a new event."""
    code, out, err = export_to(
        capsys, monkeypatch, data, server.url, user=auth[0], password=auth[1]
    )
    assert code == 0 and out.startswith("6 of 6 entities exported"), err
    code, out, err = export_to(
        capsys, monkeypatch, data, server.url, user=auth[0], password=auth[1]
    )
    assert code == 0 and out.strip().startswith("nothing to export: all 6"), (out, err)

    event = night.events[1]
    server.importer.request_resend(event.event_id)
    code, out, err = export_to(
        capsys, monkeypatch, data, server.url, user=auth[0], password=auth[1]
    )
    assert code == 0, err
    assert f"{server.url} asked for 1 entity again" in err
    assert out.startswith("1 of 1 entities exported"), out
    assert server.archive.resend_offers() == []


def test_filters_choose_what_goes(capsys, monkeypatch, tmp_path, data, night):
    with seed_importer(tmp_path / "seed") as seed:
        code, out, _ = export_to(capsys, monkeypatch, data, seed.url, "--events-only")
        assert code == 0 and out.startswith("3 of 3 entities")
        assert set(seed.offers()) == {e.event_id for e in night.events}
        cam = night.files[0].camera_id
        code, out, _ = export_to(
            capsys, monkeypatch, data, seed.url, "--files-only", "--camera", cam
        )
        wanted = {f.file_id for f in night.files if f.camera_id == cam}
        assert code == 0 and out.startswith(f"{len(wanted)} of {len(wanted)} entities")
        assert set(seed.files) >= wanted
        code, out, _ = export_to(capsys, monkeypatch, data, seed.url, "--review", "meteor")
        assert code == 0 and out.strip() == "nothing to export: no event or file matches"


@pytest.mark.parametrize(
    "user,password,fragment",
    [
        ("exporter", "wrong", "refused the credentials"),
        ("viewer", "viewer-pw", "refused the credentials"),
    ],
)
def test_wrong_password_is_one_clear_line(
    capsys, monkeypatch, tmp_path, data, user, password, fragment
):
    with seed_importer(tmp_path / "seed") as seed:
        code, out, err = export_to(
            capsys, monkeypatch, data, seed.url, user=user, password=password
        )
        assert code != 0 and out == ""
        assert err.count("\n") == 1 and fragment in err and err.startswith("meteorgui: ")
        assert seed.offers() == []
    with Archive(data) as a:  # a failed connection test leaves no target behind
        assert a.db.read().execute("SELECT COUNT(*) FROM export_targets").fetchone()[0] == 0


def test_unreachable_target_is_one_clear_line(capsys, monkeypatch, data):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/import"
    code, out, err = export_to(capsys, monkeypatch, data, url)
    assert code != 0 and err.count("\n") == 1 and "cannot reach the importer" in err


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["export"], "--to URL or --to-folder"),
        (["export", "--to", "http://h/import"], "--to needs --user"),
        (["export", "--to", "ftp://h/import", "--user", "u"], "not an http"),
        (["export", "--to", "http://h/import", "--to-folder", "x"], "not allowed with"),
        (["export", "--to", "http://h/import", "--user", "u", "--zip"], "--zip goes with"),
        (["export", "--to-folder", "x", "--events-only", "--files-only"], "not allowed with"),
        (["export", "--to-folder", "x", "--review", "maybe"], "--review must be one of"),
    ],
)
def test_usage_errors(capsys, monkeypatch, data, argv, fragment):
    code, _, err = run(capsys, monkeypatch, "--data-dir", data, *argv, stdin="pw\n")
    assert code == cli.EXIT_USAGE and err.count("\n") == 1 and fragment in err, err


def test_a_failed_entity_makes_a_non_zero_exit_with_a_summary(
    capsys, monkeypatch, tmp_path, data, night
):
    with Archive(data) as a:
        path = a.file_path(night.files[0])
        path.write_bytes(b"X" + path.read_bytes()[1:])
    with seed_importer(tmp_path / "seed") as seed:
        code, out, err = export_to(capsys, monkeypatch, data, seed.url)
    assert code == cli.EXIT_FAIL
    assert out.startswith("5 of 6 entities exported") and "1 failed, 0 left" in out
    assert f"failed   file  {night.files[0].file_id}" in err and "MD5" in err


def test_a_killed_export_resumes_with_only_the_rest(capsys, monkeypatch, tmp_path, data, night):
    ids = all_entity_ids(night)
    reached, release = threading.Event(), threading.Event()
    with seed_importer(tmp_path / "seed") as seed:

        def hold_third(kind, ident):
            if kind in ("event", "file") and len(seed.offers()) == 3:
                reached.set()
                release.wait(30)

        seed.before_request = hold_third
        env = os.environ | {"PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "meteorgui",
                "--data-dir",
                data,
                "export",
                "--to",
                seed.url,
                "--user",
                "exporter",
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            proc.stdin.write(f"{PW}\n".encode())
            proc.stdin.close()
            assert reached.wait(30), proc.stderr.read().decode()
            proc.kill()  # no chance to clean up: the third entity stays 'sending'
            proc.wait(10)
        finally:
            seed.before_request = None
            release.set()
            proc.stderr.close()
        assert seed.offers() == ids[:3]

        code, out, err = export_to(capsys, monkeypatch, data, seed.url)
        assert code == 0, err
        assert out.startswith("4 of 4 entities exported")
        assert seed.offers()[3:][0] == ids[2] and sorted(seed.offers()[3:]) == sorted(ids[2:])
    for entity in night.entities()[:2]:
        for record in getattr(entity, "files", (entity,)):
            assert [u for u in seed.uploads if u[0] == record.file_id] == [
                (record.file_id, record.file_size)
            ]


def test_export_to_a_folder_and_a_zip(capsys, monkeypatch, tmp_path, data, night):
    dest = tmp_path / "out"
    code, out, _ = run(capsys, monkeypatch, "--data-dir", data, "export", "--to-folder", str(dest))
    n_files = sum(len(e.files) for e in night.events) + len(night.files)
    assert code == 0 and out.startswith(f"wrote 3 events and {n_files} files")
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["format"] == "meteorgui-export" and manifest["missing"] == []
    assert [m["event"] for m in manifest["events"]] == [e.to_dict() for e in night.events]
    assert [m["file"] for m in manifest["files"]] == [f.to_dict() for f in night.files]
    assert {s["status_id"] for s in manifest["statuses"]} == {e.status_id for e in night.entities()}
    for m in manifest["events"]:
        for record, rel in zip(m["event"]["files"], m["paths"], strict=True):
            assert (dest / rel).read_bytes() == night.file_bytes(record["file_id"])
    code, _, err = run(capsys, monkeypatch, "--data-dir", data, "export", "--to-folder", str(dest))
    assert code != 0 and "not an empty folder" in err

    code, out, _ = run(
        capsys,
        monkeypatch,
        "--data-dir",
        data,
        "export",
        "--to-folder",
        str(tmp_path / "night"),
        "--zip",
        "--events-only",
    )
    assert code == 0 and out.startswith("wrote 3 events and")
    with zipfile.ZipFile(tmp_path / "night.zip") as z:
        manifest = json.loads(z.read("manifest.json"))
        assert manifest["files"] == []
        for m in manifest["events"]:
            for record, rel in zip(m["event"]["files"], m["paths"], strict=True):
                assert z.read(rel) == night.file_bytes(record["file_id"])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_filter_that_matches_nothing_writes_nothing_and_says_so(
    capsys, monkeypatch, tmp_path, data, server, auth
):
    for dest, extra in ((tmp_path / "none.zip", ["--zip"]), (tmp_path / "none", [])):
        code, out, err = run(capsys, monkeypatch, "--data-dir", data, "export", "--to-folder",
                             str(dest), "--camera", "nosuchcamera", *extra)  # fmt: skip
        assert code == 0 and out.strip() == (
            "nothing to export: no event or file matches; nothing was written"
        ), (out, err)
        assert not dest.exists() and not list(tmp_path.glob(".none*"))
    code, out, err = export_to(capsys, monkeypatch, data, server.url, "--camera", "nosuchcamera",
                               user=auth[0], password=auth[1])  # fmt: skip
    assert code == 0 and out.strip() == "nothing to export: no event or file matches", (out, err)
