"""Strings a camera controls: control characters are refused at import and never reach a
terminal raw; the blank-padded camera ids of 2015 nodes are taken as the same camera."""

import copy
import dataclasses
import io
import json

import pytest

from meteorgui.formatting import terminal_safe
from meteorgui.model import Meta

from . import factories as fx

ESC = "\x1b]0;owned\x07\x1b[2J\rall files OK\n"


@pytest.fixture
def node(server, auth):
    n = fx.Node(server.url, *auth)
    yield n
    n.close()


def _status_with(field, value):
    d = fx.status().to_dict()
    d[field] = value
    return {"type": "status", "status": d}


def _event_with(path, value):
    st = fx.status()
    d = fx.event_pack(st).entity.to_dict()
    target = d
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return {"type": "event", "event": d}


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\n", "\t", "\x7f", "\x9b", "\x85"])
@pytest.mark.parametrize(
    "make,where",
    [
        (lambda v: _status_with("inst_name", f"Roof{v}"), "status.inst_name"),
        (lambda v: _status_with("lens", v), "status.lens"),
        (lambda v: _status_with("sensor", v), "status.sensor"),
        (lambda v: _status_with("inst_url", v), "status.inst_url"),
        (lambda v: _event_with(["event_type"], f"meteor{v}"), "event.event_type"),
        (lambda v: _event_with(["files", 0, "file_name"], f"a{v}.png"), "event.files[0].file_name"),
        (
            lambda v: _event_with(["files", 1, "semantic_type"], f"x{v}"),
            "event.files[1].semantic_type",
        ),
        (lambda v: _event_with(["meta", 0, "key"], f"k{v}"), "event.meta[0].key"),
        (lambda v: _event_with(["camera_id"], f"cam{v}"), "event.camera_id"),
    ],
)
def test_control_characters_are_refused_naming_the_field(node, archive, make, where, char):
    body = make(char)
    answer = node.post(body)
    assert node.log[-1] == "400", answer
    assert answer["state"] == "failed" and answer["message"].startswith(where), answer
    if where.startswith("status") and "camera_id" not in where:
        assert f"U+{ord(char):04X}" in answer["message"]
    assert archive.count("statuses") == 0 and archive.count("events") == 0


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\x00", "\x7f", "\x9b", "\x85"])
def test_a_meta_value_with_a_terminal_control_is_refused(node, archive, char):
    answer = node.post(_event_with(["meta", 2, "value"], f"b{char}"))
    assert node.log[-1] == "400", answer
    assert answer["message"].startswith("event.meta[2].value: contains the control character")
    assert archive.count("events") == 0


def test_a_meta_value_written_on_several_lines_is_kept_as_sent(node, archive):
    """Free text a node's owner wrote (the 2015 importer kept it): tabs and line ends pass
    in a meta value, and nowhere else."""
    st = fx.status()
    pack = fx.event_pack(st)
    note = Meta("string", "meteorpi:comment", "Seen from the shed.\r\nClouds\tlater.\n")
    pack = dataclasses.replace(
        pack, entity=dataclasses.replace(pack.entity, meta=(*pack.entity.meta, note))
    )
    assert node.send(pack) == {"state": "complete"}, node.log[-10:]
    kept = archive.get_event(pack.entity.event_id)
    assert note in kept.meta
    assert terminal_safe(note.value) == "Seen from the shed.\\x0d\\x0aClouds\\x09later.\\x0a"


def test_a_refused_status_is_named_when_its_event_gives_up(node, archive):
    """A node ignores the answer to a status it was asked for: the event's final answer
    says why the status was refused, not only that it "never arrived"."""
    pack = fx.event_pack(dataclasses.replace(fx.status(), inst_name="Roof\x1b[31m"))
    answer = node.send(pack)
    assert answer["state"] == "failed", node.log[-10:]
    assert f"camera status {pack.status.status_id} was asked for 3 times" in answer["message"]
    assert (
        "it was refused (status.inst_name: contains the control character U+001B"
        in (answer["message"])
    )
    assert archive.count("statuses") == 0 and archive.count("events") == 0


def test_a_status_refused_for_its_json_is_named_when_its_event_gives_up(node, archive):
    """A NaN in a status is refused before the status is read ("JSON: NaN is not
    allowed"); the event's final answer still names that reason."""
    pack = fx.event_pack(fx.status())
    post = node.post

    def with_nan(body: dict) -> dict:
        if body.get("type") != "status":
            return post(body)
        body = copy.deepcopy(body)
        body["status"]["location"]["lat"] = float("nan")  # json.dumps writes NaN
        r = node.http.post(
            node.url, data=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        node.log.append(f"{r.status_code}")
        return r.json()

    node.post = with_nan
    answer = node.send(pack)
    assert answer["state"] == "failed", node.log[-10:]
    assert "it was refused (JSON: NaN is not allowed)" in answer["message"], answer
    assert archive.count("statuses") == 0 and archive.count("events") == 0


def test_a_blank_padded_night_from_a_2015_node_arrives_whole(server, archive, auth):
    """A 2015 node reads cameraID from a Firebird CHAR(64) column: every entity (and each
    file record in an event) carries the id blank-padded to 64 characters."""
    st1 = fx.status(camera="b827eb0a1c01")
    st2 = fx.status(camera="b827eb0a1c01", valid_from=fx.T0 + 3_600_000)
    packs = [fx.event_pack(st1, t=fx.T0 + 5000 + i) for i in range(3)]
    packs += [fx.file_pack(st1, t=fx.T0 + 9000 + i) for i in range(3)]
    packs += [fx.event_pack(st2, t=fx.T0 + 3_700_000), fx.file_pack(st2, t=fx.T0 + 3_800_000)]
    node = fx.Node(server.url, *auth, camera_id_width=64)
    try:
        for pack in packs:
            assert node.send(pack) == {"state": "complete"}, node.log[-10:]
        # Offered again in full and as cached entities: the same entities, already here.
        for pack in packs[:2]:
            assert node.send(pack) == {"state": "complete"}
        assert node.post({"type": "status", "status": st1.to_dict()}) == {"state": "continue"}
    finally:
        node.close()
    assert archive.count("events") == 4 and archive.count("statuses") == 2
    assert {s.camera_id for s in archive.statuses()} == {"b827eb0a1c01"}
    for pack in packs:
        for file_id, data in pack.blobs.items():
            rec = archive.get_file(file_id)
            assert rec.camera_id == "b827eb0a1c01"
            assert archive.file_path(rec).read_bytes() == data


def test_padding_is_only_trailing_blanks_within_char_64():
    from meteorgui.model import ModelError, parse_camera_id

    assert parse_camera_id("b827eb0a1c01" + " " * 52, "camera_id") == "b827eb0a1c01"
    for bad in (" b827eb0a1c01", "b827eb0a1c01 " + " " * 60, "b827 eb0a1c01", " " * 64):
        with pytest.raises(ModelError):
            parse_camera_id(bad, "camera_id")


# ---------------------------------------------------------------------- terminal output


@pytest.fixture
def hostile_archive(tmp_path):
    """Strings with escape sequences, as an archive made before they were refused holds."""
    from meteorgui.archive import Archive

    folder = tmp_path / "hostile"
    with Archive(folder) as archive:
        st = dataclasses.replace(fx.status(), inst_name=f"Roof{ESC}")
        pack = fx.event_pack(st)
        files = tuple(dataclasses.replace(f, file_name=f"x{ESC}.png") for f in pack.entity.files)
        event = dataclasses.replace(
            pack.entity,
            files=files,
            event_type=f"meteorpi:meteor{ESC}",
            meta=(Meta("string", "meteorpi:note", ESC),),
        )
        archive.store_status(st)
        for f in files:
            assert archive.store.put(f.file_id, f.md5, io.BytesIO(pack.blobs[f.file_id]))
        assert archive.store.settle((f.file_id, f.md5) for f in files) == []
        archive.store_event(event, "camera")
        archive.file_path(files[0]).write_bytes(b"damaged")
    return str(folder)


@pytest.mark.parametrize("command", ["statuses", "events", "files", "verify"])
def test_the_cli_shows_control_characters_instead_of_obeying_them(
    capsys, monkeypatch, hostile_archive, command
):
    code, out, err = fx.run_cli(capsys, monkeypatch, "--data-dir", hostile_archive, command)
    text = out + err
    assert not any(c in text.replace("\n", "") for c in "\x1b\x07\r"), repr(text)
    assert "\\x1b]0;owned\\x07" in text or command == "files", text
    if command == "verify":
        assert code == 1 and "damaged" in out and out.count("all files OK") <= 1


def test_terminal_safe_escapes_controls_and_direction_marks_only():
    assert terminal_safe("a\x1b[2Jb\x9bc\x7fé ü") == "a\\x1b[2Jb\\x9bc\\x7fé ü"
    assert terminal_safe("\n\t") == "\\x0a\\x09"
    # A bidi override prints the rest backwards; a line separator forges a line.
    assert terminal_safe("Inst \u202eevil\u202c\u2028OK") == "Inst \\u202eevil\\u202c\\u2028OK"
    assert terminal_safe("Ångström 流星 ☄") == "Ångström 流星 ☄"


def test_log_lines_on_the_terminal_show_control_characters(tmp_path, capsys):
    import logging

    from meteorgui.logs import close_logging, setup_logging

    setup_logging(tmp_path)
    try:
        logging.getLogger("meteorgui.test").warning("camera said %s", ESC)
    finally:
        close_logging()
    err = capsys.readouterr().err
    assert "camera said \\x1b]0;owned\\x07\\x1b[2J\\x0dall files OK\n" in err
    assert "\x1b" not in err and "\r" not in err
