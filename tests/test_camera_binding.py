"""A camera is bound to the login that first sent it: another login cannot rewrite its
status history or post events for it, and events cannot name another camera's status."""

import sqlite3

import pytest

from meteorgui.archive import Archive

from . import factories as fx


@pytest.fixture
def nodes(server, archive, auth):
    archive.users.add("stranger", "other-pw", roles=["import"])
    own, other = fx.Node(server.url, *auth), fx.Node(server.url, "stranger", "other-pw")
    yield own, other
    own.close()
    other.close()


def test_another_login_cannot_rewrite_a_cameras_status_history(server, archive, nodes):
    own, other = nodes
    st = fx.status(camera="garden")
    assert own.send(fx.event_pack(st)) == {"state": "complete"}
    forged = fx.status(camera="garden", valid_from=st.valid_from + 1, inst_name="Not yours")
    answer = other.post({"type": "status", "status": forged.to_dict()})
    assert other.log[-1] == "403" and answer["state"] == "failed"
    assert "camera garden is bound to another login than stranger" in answer["message"]
    assert "meteorgui camera transfer garden stranger" in answer["message"]
    # The same status again, from the wrong login: refused too, and nothing changed.
    assert other.post({"type": "status", "status": st.to_dict()})["state"] == "failed"
    assert [s.status_id for s in archive.statuses()] == [st.status_id]
    # Its events and files too.
    answer = other.send(fx.event_pack(st))
    assert other.log[-2] == "403" and "bound to another login" in answer["message"]
    assert other.send(fx.file_pack(st))["state"] == "failed"
    assert archive.count("events") == 1 and archive.count("files") == 3
    # The camera's own login goes on as before.
    assert own.send(fx.event_pack(st, t=fx.T0 + 60_000)) == {"state": "complete"}


def test_an_event_cannot_name_another_cameras_status(server, archive, nodes):
    own, _ = nodes
    roof = fx.status(camera="roof")
    assert own.send(fx.file_pack(roof)) == {"state": "complete"}
    pack = fx.event_pack(fx.status(camera="shed"))
    event = pack.entity.__class__.from_dict(
        {
            **pack.entity.to_dict(),
            "status_id": roof.status_id,
            "files": [dict(f.to_dict(), status_id=roof.status_id) for f in pack.entity.files],
        }
    )
    answer = own.post(fx.message(event))
    assert answer["state"] == "failed"
    assert f"names camera status {roof.status_id}, which is camera roof's" in answer["message"]
    assert archive.count("events") == 0


def test_the_owner_transfers_a_camera_from_the_command_line(
    server, archive, nodes, capsys, monkeypatch
):
    own, other = nodes
    st = fx.status(camera="garden")
    assert own.send(fx.file_pack(st)) == {"state": "complete"}

    def camera(*argv):  # `meteorgui camera ...`, another process's view of the archive
        return fx.run_cli(capsys, monkeypatch, "--data-dir", str(archive.data_dir), "camera", *argv)

    code, out, err = camera("list")
    assert code == 0 and out.split("\t")[:2] == ["garden", "camera"], out
    code, out, err = camera("transfer", "garden", "stranger")
    assert code == 0 and "now bound to stranger (was camera)" in out, err
    # The running importer sees the transfer within its owner cache's lifetime.
    fx.wait_for(lambda: archive.cameras.owner("garden") == "stranger", timeout=10)
    assert other.send(fx.file_pack(st)) == {"state": "complete"}
    assert own.send(fx.file_pack(st))["state"] == "failed"
    code, _, err = camera("transfer", "x", "nobody")
    assert code == 2 and "no user 'nobody'" in err


def test_binding_is_a_setting(server, archive, nodes):
    own, other = nodes
    server.importer.bind_cameras = False
    st = fx.status(camera="garden")
    assert own.send(fx.file_pack(st)) == {"state": "complete"}
    assert other.send(fx.file_pack(st)) == {"state": "complete"}


def test_cameras_archived_before_are_bound_to_their_first_login(tmp_path):
    with Archive(tmp_path / "a") as archive:
        archive.store_status(fx.status(camera="early"), "first")
        archive.store_status(fx.status(camera="early", valid_from=fx.T0 + 9), "second")
    conn = sqlite3.connect(tmp_path / "a" / "archive.sqlite3")
    with conn:  # as an archive made before the binding was
        conn.execute("DROP TABLE camera_owners")
        conn.execute("DELETE FROM migrations WHERE name = 'camera_owners'")
    conn.close()
    with Archive(tmp_path / "a") as archive:
        assert [(o.camera_id, o.user) for o in archive.cameras.list()] == [("early", "first")]
