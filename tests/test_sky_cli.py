"""The sky's command-line contract: `simulate --showers`, `meteors`, `export --format`."""

from __future__ import annotations

import csv
import json

import pytest

from . import factories as fx

run = fx.run_cli


@pytest.fixture
def pushed(capsys, monkeypatch, server, tmp_path):
    """A 2015-style night of showers pushed through the real importer by the CLI."""
    truth = tmp_path / "truth.json"
    monkeypatch.setenv("METEORGUI_PASSWORD", "night-sky-42")
    code, out, err = run(
        capsys, monkeypatch, "simulate", "--showers", "--to", server.url, "--user", "camera",
        "--meteors", "30", "--seed", "4", "--truth", str(truth),
    )  # fmt: skip
    assert code == 0, err
    assert "Done:" in out and "truth in" in out
    return json.loads(truth.read_text()), str(server.archive.data_dir)


def test_meteors_json_is_the_contract(capsys, monkeypatch, pushed):
    truth, data = pushed
    code, out, err = run(capsys, monkeypatch, "--data-dir", data, "meteors", "--json")
    assert code == 0, err
    entries = json.loads(out)
    event_ids = {e for m in truth["meteors"] for e in m["events"].values()}
    assert {e["event_id"] for e in entries} == event_ids
    assert [e["time"] for e in entries] == sorted(e["time"] for e in entries)
    by_id = {e["event_id"]: e for e in entries}
    right = total = 0
    for m in truth["meteors"]:
        mine = [by_id[e] for e in m["events"].values()]
        if not mine:
            continue
        total += 1
        right += all(e["shower"] == m["shower"] for e in mine)
        if len(mine) == 2:
            assert mine[0]["group"] is not None and mine[0]["group"] == mine[1]["group"]
    assert right >= 0.8 * total
    for e in entries:
        assert {"event_id", "camera_id", "time", "shower", "group", "path_radec"} <= set(e)
        assert e["shower"] is not None and len(e["path_radec"]) == 2
        assert set(e["path_radec"][0]) == {"ra", "dec"}
        if e["shower"] != "sporadic":
            assert set(e["radiant"]) == {"ra", "dec", "from"}
            measured = "begin_height_km" in e
            assert e["radiant"]["from"] == ("trajectory" if measured else "shower catalogue")
        if "begin_height_km" in e:
            assert e["group"] and e["begin_height_km"] > e["end_height_km"] > 40
            assert 11 < e["speed_km_s"] < 75
    code, out, _ = run(capsys, monkeypatch, "--data-dir", data, "meteors", "--json",
                       "--shower", "PER")  # fmt: skip
    per = json.loads(out)
    assert per and all(e["shower"] == "PER" for e in per)
    camera = entries[0]["camera_id"]
    code, out, _ = run(capsys, monkeypatch, "--data-dir", data, "meteors", "--json",
                       "--camera", camera, "--after", str(entries[0]["time"] + 1))  # fmt: skip
    later = json.loads(out)
    assert later and all(e["camera_id"] == camera and e["time"] > entries[0]["time"] for e in later)
    code, out, err = run(capsys, monkeypatch, "--data-dir", data, "meteors")
    assert code == 0 and len(out.splitlines()) == len(entries) and err.startswith(str(len(entries)))


def test_meteors_says_why_an_event_has_no_sky_position(capsys, monkeypatch, archive, server):
    import dataclasses

    from meteorgui.model import Meta

    unknown = {"alt": 0, "az": 0, "rot": 0, "error": 360, "width": 0}
    pack = fx.event_pack(fx.status(orientation=unknown), n_files=1)
    path = Meta("string", "meteorpi:path", "[[100,80,40,1420070405.0],[110,85,90,1420070405.04]]")
    pack.entity = dataclasses.replace(pack.entity, meta=pack.entity.meta + (path,))
    node = fx.Node(server.url, "camera", "night-sky-42")
    try:
        assert node.send(pack)["state"] == "complete"
    finally:
        node.close()
    code, out, _ = run(
        capsys, monkeypatch, "--data-dir", str(archive.data_dir), "meteors", "--json"
    )
    (entry,) = json.loads(out)
    assert entry["shower"] is None and "not fitted its orientation" in entry["reason"]
    assert "radiant" not in entry and entry["path_radec"] is None and entry["group"] is None


def test_export_formats_write_files_and_mistakes_are_one_line(
    capsys, monkeypatch, pushed, tmp_path
):
    truth, data = pushed
    out_dir = tmp_path / "ftp"
    code, out, err = run(capsys, monkeypatch, "--data-dir", data, "export", "--to-folder",
                         str(out_dir), "--format", "ftpdetectinfo")  # fmt: skip
    assert code == 0, err
    files = sorted(out_dir.glob("FTPdetectinfo_*.txt"))
    assert len(files) == len(truth["cameras"]) and out.count("wrote") == len(files)
    code, out, err = run(capsys, monkeypatch, "--data-dir", data, "export", "--to-folder",
                         str(tmp_path / "c"), "--format", "csv",
                         "--shower", "sporadic")  # fmt: skip
    assert code == 0, err
    rows = list(csv.DictReader((tmp_path / "c" / "meteors.csv").read_text().splitlines()))
    assert rows and {r["shower"] for r in rows} == {"sporadic"}
    for argv in (["--format", "csv"], ["--to-folder", str(tmp_path / "z"), "--shower", "PER"],
                 ["--to-folder", str(tmp_path / "z"), "--format", "csv", "--zip"]):  # fmt: skip
        code, out, err = run(capsys, monkeypatch, "--data-dir", data, "export", *argv)
        assert code == 2 and err.count("\n") == 1, err


def test_a_shower_is_named_in_any_case_or_by_name_and_a_wrong_one_is_refused(
    capsys, monkeypatch, pushed, tmp_path
):
    truth, data = pushed
    code, out, err = run(capsys, monkeypatch, "--data-dir", data, "meteors", "--json",
                         "--shower", "PER")  # fmt: skip
    per = json.loads(out)
    assert code == 0 and per
    for spelling in ("per", "Perseids"):
        code, out, err = run(capsys, monkeypatch, "--data-dir", data, "meteors", "--json",
                             "--shower", spelling)  # fmt: skip
        assert code == 0 and json.loads(out) == per, err
    for argv in (["meteors", "--shower", "XYZ"],
                 ["export", "--to-folder", str(tmp_path / "x"), "--format", "csv",
                  "--shower", "XYZ"]):  # fmt: skip
        code, out, err = run(capsys, monkeypatch, "--data-dir", data, *argv)
        assert code == 2 and "no shower is called 'XYZ'" in err and "PER" in err, err
    assert not (tmp_path / "x").exists()
    # The count says events and meteors apart: a meteor two cameras saw is two events.
    code, out, err = run(capsys, monkeypatch, "--data-dir", data, "meteors")
    groups = {line.split("group ")[1].split()[0] for line in out.splitlines() if "group " in line}
    events = len(out.splitlines())
    assert groups and err.startswith(f"{events} events, {events - len(groups)} meteors"), err
