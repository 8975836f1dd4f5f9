"""The importer over real HTTP on 127.0.0.1, driven the way MeteorPi nodes drive it."""

import dataclasses
import hashlib
import threading

import pytest
import requests

from meteorgui.archive import Archive
from meteorgui.importer import ImporterServer
from meteorgui.notify import CONVERSATION

from . import factories as fx


@pytest.fixture
def node(server, auth):
    n = fx.Node(server.url, *auth)
    yield n
    n.close()


def stored_bytes(archive: Archive, record) -> bytes:
    assert archive.store.settle([(record.file_id, record.md5)]) == []
    return archive.file_path(record).read_bytes()


def test_event_conversation_archives_event_files_and_status(server, archive, node):
    st = fx.status()
    pack = fx.event_pack(st, n_files=3)
    seen = []
    server.hub.subscribe(CONVERSATION, seen.append)

    answer = node.send(pack)

    assert answer == {"state": "complete"}
    # need_status first, then each file's bytes in order
    asked = [s for s in node.log if s in ("need_status", "need_file_data")]
    assert asked == ["need_status"] + ["need_file_data"] * 3
    ev = archive.get_event(pack.entity.event_id)
    assert ev.to_dict() == pack.entity.to_dict()
    for rec in ev.files:
        assert stored_bytes(archive, rec) == pack.blobs[rec.file_id]
    assert archive.get_status(st.status_id).to_dict() == st.to_dict()
    assert server.importer.log.flush()
    final = archive.conversations.recent(limit=1)[0]
    assert (final.kind, final.entity_id, final.state, final.user) == (
        "event",
        pack.entity.event_id,
        "complete",
        "camera",
    )
    assert final.bytes == sum(len(b) for b in pack.blobs.values())
    assert final.remote_addr == "127.0.0.1"
    states = [s.state for s in archive.conversations.steps(final.id)]
    assert states[0] == "need_status" and states[-1] == "complete"
    assert seen and seen[-1].state == "complete"
    assert [c.state for c in seen if c.id == final.id][-1] == "complete"


def test_standalone_file_and_reoffer_is_complete_without_bytes(server, archive, node):
    st = fx.status()
    pack = fx.file_pack(st)
    assert node.send(pack) == {"state": "complete"}
    assert archive.get_file(pack.entity.file_id).to_dict() == pack.entity.to_dict()
    assert archive.file_event_id(pack.entity.file_id) is None

    node.log.clear()
    assert node.post(fx.message(pack.entity)) == {"state": "complete"}
    assert node.log == ["200"]


def test_cache_miss_is_answered_continue_nocache(server, node):
    answer = node.post({"type": "cached_entity", "cached_entity_id": fx.uid()})
    assert answer == {"state": "continue-nocache"}


def test_cache_is_per_user(server, archive, node):
    archive.users.add("other", "pw2", roles=["import"])
    st = fx.status()
    pack = fx.event_pack(st, n_files=1)
    assert node.post(fx.message(pack.entity))["state"] == "need_status"
    with requests.Session() as other:
        other.auth = ("other", "pw2")
        r = other.post(
            server.url, json={"type": "cached_entity", "cached_entity_id": pack.entity.event_id}
        )
    assert r.json() == {"state": "continue-nocache"}


def test_md5_mismatch_is_asked_three_times_then_failed(server, archive, auth):
    st = fx.status()
    pack = fx.event_pack(st, n_files=2)
    bad = pack.entity.files[1].file_id
    node = fx.Node(server.url, *auth, corrupt={bad})
    try:
        answer = node.send(pack)
    finally:
        node.close()
    assert answer["state"] == "failed"
    assert bad in answer["message"] and "3 times" in answer["message"]
    assert "MD5" in answer["message"]
    assert node.log.count("need_file_data") == 1 + 3  # the good file once, the bad one 3 times
    assert not archive.has_event(pack.entity.event_id)
    assert not archive.has_bytes(pack.entity.files[1])
    good = pack.entity.files[0]
    assert archive.store.settle([(good.file_id, good.md5)]) == []  # its write has finished
    assert list(archive.store.tmp_dir.iterdir()) == []  # nothing partial left behind
    assert server.importer.log.flush()
    conv = archive.conversations.recent(limit=1)[0]
    assert conv.state == "failed" and conv.attempts == 3

    # A later round (the node retries after its back-off) can still succeed.
    node = fx.Node(server.url, *auth)
    try:
        assert node.send(pack) == {"state": "complete"}
    finally:
        node.close()


@pytest.mark.parametrize(
    "user,password,fragment",
    [
        ("camera", "wrong", "wrong user name or password"),
        ("nobody", "x", "wrong user name or password"),
        ("viewer", "pw", "does not have the import role"),
    ],
)
def test_refused_logins_get_403_with_json_message(server, archive, user, password, fragment):
    archive.users.add("viewer", "pw", roles=["user"])
    r = requests.post(
        server.url,
        json={"type": "cached_entity", "cached_entity_id": fx.uid()},
        auth=(user, password),
    )
    assert r.status_code == 403
    assert fragment in r.json()["message"]


def test_an_import_url_typed_with_a_trailing_slash_still_imports(server, archive, auth):
    """A node given ".../import/" posts its offers there and its bytes to
    ".../import//data/...": both reach the importer, and the event is archived whole."""
    pack = fx.event_pack(fx.status(), n_files=2)
    node = fx.Node(server.url + "/", *auth)
    try:
        assert node.send(pack) == {"state": "complete"}, node.log[-10:]
    finally:
        node.close()
    kept = archive.get_event(pack.entity.event_id)
    assert kept is not None and all(archive.has_bytes(f) for f in kept.files)


@pytest.mark.parametrize("path", ["/imports", "/", "/import/data", "/importer/data/x/y"])
def test_a_mistyped_url_is_told_where_the_import_url_is(server, auth, path):
    base = server.url.removesuffix("/import")
    r = requests.post(base + path, json={}, auth=auth)
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/json")
    message = r.json()["message"]
    assert repr(path) in message and "import URL, which ends in /import" in message


def test_no_auth_is_403(server):
    r = requests.post(server.url, json={})
    assert r.status_code == 403 and r.json()["state"] == "failed"


@pytest.mark.parametrize(
    "body,fragment",
    [
        (b"", "the request has no body"),
        (b"{not json", "JSON: malformed body: Expecting property name"),
        (b'{"x": NaN}', "NaN"),
        (b"[1, 2]", "JSON object"),
        (b'{"type": "wat"}', "unknown message type"),
        (b'{"type": 5}', "type: not a string"),
        (b'{"event": {}}', "type: missing"),
        (b"[" * 50_000, "JSON: nested too deeply"),
        (b'{"x": ' + b"9" * 5000 + b"}", "JSON: a number has too many digits"),
        (
            b'{"type": "status", "status": {"valid_from": 1' + b"0" * 4000 + b"}}",
            "is out of range",
        ),
        (b'{"type": "event"}', "event: missing"),
        (b'{"type": "event", "event": {"event_id": "zz"}}', "event.event_id"),
        (b'{"type": "cached_entity", "cached_entity_id": 5}', "cached_entity_id"),
        (b"\xff\xfe", "JSON"),
    ],
)
def test_bad_messages_get_400_with_message(server, auth, body, fragment):
    r = requests.post(
        server.url, data=body, auth=auth, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("application/json")
    message = r.json()["message"]
    assert fragment in message and len(message) < 300
    assert not any(word in message for word in ("Error", "NoneType", "sys.", "int'"))


def test_oversized_message_is_413(server, auth):
    # A camera's first request is a small offer; only a login checked so is read at length.
    probe = {"type": "cached_entity", "cached_entity_id": fx.uid()}
    assert requests.post(server.url, json=probe, auth=auth).status_code == 200
    r = requests.post(server.url, data=b" " * (17 << 20), auth=auth)
    assert r.status_code == 413
    assert r.json()["state"] == "failed"


def test_bytes_only_for_a_file_this_user_was_asked_for(server, archive, node, auth):
    st = fx.status()
    pack = fx.event_pack(st, n_files=1)
    rec = pack.entity.files[0]
    url = f"{server.url}/data/{rec.file_id}/{rec.md5}"
    files = {"file": ("f", pack.blobs[rec.file_id])}
    # Not asked yet: refused, nothing kept.
    r = requests.post(url, files=files, auth=auth)
    assert r.status_code == 409 and "not asked for" in r.json()["message"]
    assert not archive.has_bytes(rec)
    # Asked of this user: another user may not answer for it.
    archive.users.add("other", "pw2", roles=["import"])
    archive.store_status(st)
    assert node.post(fx.message(pack.entity))["state"] == "need_file_data"
    r = requests.post(url, files=files, auth=("other", "pw2"))
    assert r.status_code == 409
    # Wrong md5 in the URL, bad ids, too many bytes, no file field: refused.
    r = requests.post(f"{server.url}/data/{rec.file_id}/{'0' * 32}", files=files, auth=auth)
    assert r.status_code == 400 and "md5" in r.json()["message"]
    r = requests.post(f"{server.url}/data/nothex/{rec.md5}", files=files, auth=auth)
    assert r.status_code == 400 and "file_id" in r.json()["message"]
    r = requests.post(
        url, files={"file": ("f", pack.blobs[rec.file_id] + b"x" * 100_000)}, auth=auth
    )
    assert r.status_code == 413
    r = requests.post(url, files={"other": ("f", b"abc")}, auth=auth)
    assert r.status_code == 400 and "'file'" in r.json()["message"]
    assert not archive.has_bytes(rec)
    assert list(archive.store.tmp_dir.iterdir()) == []
    # The right bytes from the right user are kept, once.
    r = requests.post(url, files=files, auth=auth)
    assert r.status_code == 200 and r.json() == {"state": "continue"}
    assert stored_bytes(archive, rec) == pack.blobs[rec.file_id]
    r = requests.post(url, files=files, auth=auth)
    assert r.status_code == 409


def test_conflicting_status_is_refused(server, archive, node):
    st = fx.status()
    archive.store_status(st)
    changed = st.to_dict() | {"lens": "something else"}
    r = node.http.post(server.url, json={"type": "status", "status": changed})
    assert r.status_code == 409
    assert st.status_id in r.json()["message"] and "different" in r.json()["message"]
    assert archive.get_status(st.status_id).lens == st.lens


def test_status_valid_to_is_computed_by_the_archive(archive):
    a = fx.status(valid_from=fx.T0)
    b = fx.status(valid_from=fx.T0 + 3_600_000)
    archive.store_status(b)
    archive.store_status(a)  # out of order on purpose
    assert archive.get_status(a.status_id).valid_to == b.valid_from
    assert archive.get_status(b.status_id).valid_to is None
    assert archive.status_at(a.camera_id, fx.T0 + 10).status_id == a.status_id
    assert archive.status_at(a.camera_id, b.valid_from + 1).status_id == b.status_id


def test_resend_request_refetches_damaged_bytes(server, archive, node, auth):
    st = fx.status()
    pack = fx.event_pack(st, n_files=2)
    assert node.send(pack) == {"state": "complete"}
    rec = pack.entity.files[1]
    path = archive.file_path(rec)
    path.write_bytes(b"cosmic ray" + path.read_bytes()[10:])

    bad = archive.verify()
    assert [(c.file.file_id, c.state) for c in bad] == [(rec.file_id, "damaged")]
    server.importer.request_resend(pack.entity.event_id)
    quarantined = list(archive.store.quarantine_dir.iterdir())
    assert len(quarantined) == 1 and quarantined[0].read_bytes().startswith(b"cosmic ray")
    r = requests.get(f"{server.url}/resend", auth=auth)
    assert r.json()["ids"] == [pack.entity.event_id]

    node.log.clear()
    assert node.send(pack) == {"state": "complete"}
    assert node.log.count("need_file_data") == 1
    assert stored_bytes(archive, rec) == pack.blobs[rec.file_id]
    assert archive.verify() == []
    assert requests.get(f"{server.url}/resend", auth=auth).json()["ids"] == []


def test_a_resend_is_only_answered_by_the_archived_bytes(server, archive, node, auth):
    st = fx.status()
    pack = fx.event_pack(st, n_files=1)
    assert node.send(pack) == {"state": "complete"}
    rec = pack.entity.files[0]
    archive.file_path(rec).unlink()
    server.importer.request_resend(pack.entity.event_id)
    # Someone offers the event with other bytes for the marked file.
    data = fx.blob(700)
    forged = dataclasses.replace(rec, md5=hashlib.md5(data).hexdigest(), file_size=len(data))
    other = fx.Pack(dataclasses.replace(pack.entity, files=(forged,)), st, {rec.file_id: data})
    answer = node.send(other)
    assert answer["state"] == "failed" and "archived with other bytes" in answer["message"]
    assert archive.resend_marked([rec.file_id]) == {rec.file_id}
    # The camera's own offer still repairs it.
    assert node.send(pack) == {"state": "complete"}
    assert archive.resend_marked([rec.file_id]) == set() and archive.verify() == []


def test_bytes_fetched_in_a_conversation_overtaken_by_another_answer_a_resend(
    server, archive, auth
):
    st = fx.status()
    pack = fx.event_pack(st, n_files=1)
    rec = pack.entity.files[0]
    first = fx.Node(server.url, *auth)
    try:  # this conversation stops after its first ask (the connection dropped)
        first.post({"type": "status", "status": st.to_dict()})
        assert first.post(fx.message(pack.entity))["state"] == "need_file_data"
        archive.store_status(st)  # meanwhile the event arrives by another way...
        assert archive.store_event(pack.entity)
        server.importer.request_resend(pack.entity.event_id)  # ...without its bytes
        assert archive.resend_marked([rec.file_id]) == {rec.file_id}
        assert first.send(pack) == {"state": "complete"}  # the first camera comes back
    finally:
        first.close()
    assert archive.resend_marked([rec.file_id]) == set()
    assert archive.verify() == []


def test_three_cameras_push_at_once(server, archive, auth):
    packs = {}
    for cam in ("aaaaaaaaaaa1", "aaaaaaaaaaa2", "aaaaaaaaaaa3"):
        st = fx.status(camera=cam)
        packs[cam] = [fx.event_pack(st, n_files=3, t=fx.T0 + 1000 * i) for i in range(8)]
        packs[cam] += [fx.file_pack(st, t=fx.T0 + 500 + 1000 * i) for i in range(8)]
    results: dict[str, list] = {}

    def camera(cam):
        n = fx.Node(server.url, *auth)
        try:
            results[cam] = [n.send(p)["state"] for p in packs[cam]]
        finally:
            n.close()

    threads = [threading.Thread(target=camera, args=(c,)) for c in packs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert {c: set(r) for c, r in results.items()} == {c: {"complete"} for c in packs}
    assert archive.count("events") == 24 and archive.count("files") == 24 * 3 + 24
    assert archive.verify() == []


def test_server_restart_mid_night(archive, auth):
    st = fx.status()
    packs = [fx.event_pack(st, n_files=2, t=fx.T0 + i) for i in range(6)]
    s1 = ImporterServer(archive, "127.0.0.1", 0)
    s1.start()
    port = s1.port
    node = fx.Node(s1.url, *auth)
    try:
        for p in packs[:3]:
            assert node.send(p) == {"state": "complete"}
        # Mid-conversation: the importer has asked for the first file's bytes.
        assert node.post(fx.message(packs[3].entity))["state"] == "need_file_data"
        s1.stop()
        s2 = ImporterServer(archive, "127.0.0.1", port)
        s2.start()
        try:
            # The node's cached form misses after the restart and it sends in full.
            answer = node.post(
                {"type": "cached_entity", "cached_entity_id": packs[3].entity.event_id}
            )
            assert answer == {"state": "continue-nocache"}
            for p in packs[3:]:
                assert node.send(p) == {"state": "complete"}
        finally:
            s2.stop()
    finally:
        node.close()
    assert [e.event_id for e in archive.events()] == [p.entity.event_id for p in packs]
    assert archive.verify() == []


def _with_files(pack: fx.Pack, *others: fx.Pack) -> fx.Pack:
    """The pack's event, its files replaced by the other packs' file records."""
    ev = pack.entity
    files = tuple(o.entity for o in others)
    blobs = {k: v for o in others for k, v in o.blobs.items()}
    return fx.Pack(dataclasses.replace(ev, files=files), pack.status, blobs)


def test_an_event_takes_over_its_files_sent_first_as_file_records(server, archive, node):
    # A node may export an event's files as file records before it exports the event.
    st = fx.status()
    lone = fx.file_pack(st)
    assert node.send(lone) == {"state": "complete"}
    pack = _with_files(fx.event_pack(st, n_files=1), lone)
    node.log.clear()

    assert node.send(pack) == {"state": "complete"}

    assert "need_file_data" not in node.log  # its bytes were already here
    ev = archive.get_event(pack.entity.event_id)
    assert ev.to_dict() == pack.entity.to_dict()
    assert archive.file_event_id(lone.entity.file_id) == ev.event_id
    assert [f.file_id for f in archive.files()] == [lone.entity.file_id]
    assert stored_bytes(archive, lone.entity) == lone.blobs[lone.entity.file_id]
    assert archive.verify() == []


def test_taking_over_a_file_carries_its_resend_mark_and_queued_exports(
    server, archive, node, tmp_path
):
    from meteorgui.exporter import Exporter, FileSecrets

    st = fx.status()
    lone = fx.file_pack(st)
    assert node.send(lone) == {"state": "complete"}
    exporter = Exporter(archive, FileSecrets(tmp_path / "secrets.json"))
    try:
        target = exporter.targets.add("central", "http://127.0.0.1:9/import", "u", "pw")
        assert exporter.queue.enqueue_ids(target.target_id, [lone.entity.file_id]) == 1
        path = archive.file_path(lone.entity)
        path.write_bytes(b"\0" + path.read_bytes()[1:])
        server.importer.request_resend(lone.entity.file_id)  # damaged: to quarantine
        pack = _with_files(fx.event_pack(st, n_files=1), lone)
        node.log.clear()

        assert node.send(pack) == {"state": "complete"}

        assert node.log.count("need_file_data") == 1  # the bytes came again, with the event
        assert archive.resend_marked([lone.entity.file_id]) == set()
        assert archive.verify() == []
        queued = exporter.queue.items(target.target_id)
        assert [(i.kind, i.entity_id) for i in queued] == [("event", pack.entity.event_id)]
    finally:
        exporter.close()


def _refused_without_asking_for_bytes(node, pack, fragment):
    node.log.clear()
    answer = node.send(pack)
    assert answer["state"] == "failed"
    assert fragment in answer["message"]
    assert "need_file_data" not in node.log  # refused before any bytes were asked for


def test_an_event_reusing_a_file_of_another_event_is_refused_before_its_bytes(
    server, archive, node
):
    st = fx.status()
    first = fx.event_pack(st, n_files=1)
    assert node.send(first) == {"state": "complete"}
    taken = fx.Pack(first.entity.files[0], st, first.blobs)
    second = _with_files(fx.event_pack(st, n_files=2), fx.file_pack(st), taken)

    _refused_without_asking_for_bytes(node, second, f"part of event {first.entity.event_id}")

    assert not archive.has_event(second.entity.event_id)
    assert archive.file_event_id(taken.entity.file_id) == first.entity.event_id
    other = second.entity.files[0]
    assert not archive.has_bytes(other) and not archive.has_file(other.file_id)


def test_a_file_record_with_other_bytes_under_an_archived_id_is_refused(server, archive, node):
    st = fx.status()
    lone = fx.file_pack(st)
    assert node.send(lone) == {"state": "complete"}
    data = fx.blob(500)
    impostor = dataclasses.replace(
        lone.entity, md5=hashlib.md5(data).hexdigest(), file_size=len(data)
    )
    pack = _with_files(
        fx.event_pack(st, n_files=1), fx.Pack(impostor, st, {impostor.file_id: data})
    )

    _refused_without_asking_for_bytes(node, pack, "with other bytes")

    assert archive.file_event_id(lone.entity.file_id) is None
    assert archive.get_file(lone.entity.file_id).md5 == lone.entity.md5
    assert list(archive.store.root.glob(f"*/{impostor.file_id}.{impostor.md5}")) == []


def test_event_and_file_ids_never_collide(server, archive, node):
    # Events and files own metadata alike: one id must never be both.
    st = fx.status()
    bare = dataclasses.replace(fx.event_pack(st, n_files=0).entity, meta=())
    assert node.send(fx.Pack(bare, st)) == {"state": "complete"}
    lone = fx.file_pack(st)
    clash = dataclasses.replace(lone.entity, file_id=bare.event_id)

    _refused_without_asking_for_bytes(
        node, fx.Pack(clash, st, {clash.file_id: b""}), "an archived event has that id"
    )
    ev_clash = dataclasses.replace(
        fx.event_pack(st, n_files=0).entity, event_id=lone.entity.file_id
    )
    assert node.send(lone) == {"state": "complete"}
    _refused_without_asking_for_bytes(
        node, fx.Pack(ev_clash, st), "an archived file record has that id"
    )

    assert archive.get_event(bare.event_id).meta == ()
    assert archive.get_file(lone.entity.file_id).to_dict() == lone.entity.to_dict()


def test_bytes_of_the_wrong_size_are_refused_even_with_the_right_md5(server, archive, node, auth):
    st = fx.status()
    lone = fx.file_pack(st)
    wrong = fx.Pack(
        dataclasses.replace(lone.entity, file_size=lone.entity.file_size + 10), st, lone.blobs
    )

    answer = node.send(wrong)

    assert answer["state"] == "failed"
    assert "the file record announced" in answer["message"]
    assert node.log.count("need_file_data") == 3
    assert not archive.has_file(lone.entity.file_id) and not archive.has_bytes(wrong.entity)


def test_asks_for_bytes_are_counted_per_export_round(server, archive, node, auth, monkeypatch):
    # Each round the upload is lost (the connection drops); the exporter comes back after
    # its back-off (30 minutes for a MeteorPi node, from 60 s for meteorgui's own). Lost
    # rounds must not count against the next ones, or a later round fails at its first
    # offer.
    from meteorgui.importer.protocol import ROUND_GAP_S

    now = [1000.0]
    monkeypatch.setattr(server.importer, "clock", lambda: now[0])
    st = fx.status()
    pack = fx.file_pack(st)
    assert node.post({"type": "status", "status": st.to_dict()}) == {"state": "continue"}
    assert ROUND_GAP_S < 60  # shorter than any exporter's wait between rounds
    for _ in range(5):
        assert node.post(fx.message(pack.entity))["state"] == "need_file_data"
        now[0] += 60
    assert node.send(pack) == {"state": "complete"}


def test_an_exporter_that_always_sends_the_full_entity_is_still_bounded(server, archive, auth):
    # Some exporters post the full entity at every step, never the cached form.
    st = fx.status()
    pack = fx.file_pack(st)
    rec = pack.entity
    answers = []
    with requests.Session() as http:
        http.auth = auth
        http.post(server.url, json={"type": "status", "status": st.to_dict()}, timeout=30)
        for _ in range(6):
            answer = http.post(server.url, json=fx.message(rec), timeout=30).json()
            answers.append(answer["state"])
            if answer["state"] != "need_file_data":
                break
            http.post(
                f"{server.url}/data/{rec.file_id}/{rec.md5}",
                timeout=30,
                files={"file": ("f", b"X" + pack.blobs[rec.file_id][1:])},
            )
    assert answers == ["need_file_data"] * 3 + ["failed"]
    assert not archive.has_file(rec.file_id)


def test_an_unusable_multipart_boundary_is_400(server, node, auth):
    st = fx.status()
    pack = fx.file_pack(st)
    node.post({"type": "status", "status": st.to_dict()})
    assert node.post(fx.message(pack.entity))["state"] == "need_file_data"
    rec = pack.entity
    r = requests.post(
        f"{server.url}/data/{rec.file_id}/{rec.md5}",
        auth=auth,
        timeout=30,
        data=b"--" + b"a" * 5000 + b"\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=" + "a" * 5000},
    )
    assert r.status_code == 400, r.text
    assert "multipart" in r.json()["message"]


def test_large_upload_is_kept_byte_exact(server, archive, node, auth):
    st = fx.status()
    data = hashlib.sha256(b"x").digest() * (8 << 15)  # 8 MiB
    rec = fx.file_record(st, data)
    pack = fx.Pack(rec, st, {rec.file_id: data})
    assert node.send(pack) == {"state": "complete"}
    assert hashlib.md5(stored_bytes(archive, rec)).hexdigest() == rec.md5


def test_upload_cut_off_midway_leaves_nothing_behind(server, archive, node, auth):
    import gc
    import socket
    import warnings
    from base64 import b64encode

    st = fx.status()
    data = fx.blob(3 << 20)
    rec = fx.file_record(st, data)
    pack = fx.Pack(rec, st, {rec.file_id: data})
    archive.store_status(st)
    assert node.post(fx.message(rec))["state"] == "need_file_data"
    head = (
        f"POST /import/data/{rec.file_id}/{rec.md5} HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAuthorization: Basic {b64encode(':'.join(auth).encode()).decode()}\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        f"Content-Length: {len(data) + 200}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            head + b'--xyz\r\nContent-Disposition: form-data; name="file"; '
            b'filename="f"\r\n\r\n' + data[: 1 << 20]
        )
    # The camera tries again and succeeds; the cut-off attempt left no trace.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        assert node.send(pack) == {"state": "complete"}
        gc.collect()
    assert stored_bytes(archive, rec) == data
    assert list(archive.store.tmp_dir.iterdir()) == []


def _failing_disk(monkeypatch, fails: int):
    """The next `fails` renames into the store fail as on a full disk."""
    import errno

    from meteorgui.archive import store as store_mod

    real = store_mod.os.replace
    left = [fails]

    def replace(src, dst):
        if left[0] > 0 and "/files/" in str(dst):
            left[0] -= 1
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(store_mod.os, "replace", replace)
    return left


def test_an_event_is_never_committed_before_its_files_are_on_disk(
    server, archive, node, monkeypatch
):
    st = fx.status()
    pack = fx.event_pack(st, n_files=2)
    left = _failing_disk(monkeypatch, 1)
    answer = node.send(pack)
    assert left == [0]
    # The failed write was noticed: the camera was asked again and the event completed
    # only once every file was durable.
    assert answer == {"state": "complete"}
    assert node.log.count("need_file_data") == 3
    for rec in pack.entity.files:
        assert archive.store.check(rec.file_id, rec.md5, rec.file_size) == "ok"
    assert list(archive.store.tmp_dir.iterdir()) == []


def test_a_disk_that_keeps_failing_gives_failed_not_complete(server, archive, node, monkeypatch):
    st = fx.status()
    pack = fx.event_pack(st, n_files=1)
    _failing_disk(monkeypatch, 10)
    answer = node.send(pack)
    assert answer["state"] == "failed" and "could not be written to disk" in answer["message"]
    assert not archive.has_event(pack.entity.event_id)


def test_a_resend_mark_stays_until_the_replacement_is_on_disk(
    server, archive, node, auth, monkeypatch
):
    st = fx.status()
    pack = fx.event_pack(st, n_files=1)
    assert node.send(pack) == {"state": "complete"}
    rec = pack.entity.files[0]
    archive.file_path(rec).write_bytes(b"damaged")
    server.importer.request_resend(pack.entity.event_id)
    left = _failing_disk(monkeypatch, 100)
    answer = node.send(pack)  # every write of the replacement fails
    assert answer["state"] == "failed" and "could not be written" in answer["message"]
    assert [o["id"] for o in archive.resend_offers()] == [pack.entity.event_id]
    left[0] = 0  # the disk is fine again
    assert node.send(pack) == {"state": "complete"}  # the next round fetches it again
    assert archive.resend_offers() == []
    assert stored_bytes(archive, rec) == pack.blobs[rec.file_id]


def test_a_file_naming_another_status_gets_that_status_asked_for(server, archive, node):
    st, other = fx.status(), fx.status()
    pack = fx.event_pack(st, n_files=2)
    files = list(pack.entity.files)
    files[1] = type(files[1])(**{**files[1].__dict__, "status_id": other.status_id})
    event = type(pack.entity)(**{**pack.entity.__dict__, "files": tuple(files)})
    assert node.post(fx.message(event)) == {"state": "need_status", "status_id": st.status_id}
    node.post({"type": "status", "status": st.to_dict()})
    answer = node.post({"type": "cached_entity", "cached_entity_id": event.event_id})
    assert answer == {"state": "need_status", "status_id": other.status_id}
    node.post({"type": "status", "status": other.to_dict()})
    answer = node.post({"type": "cached_entity", "cached_entity_id": event.event_id})
    assert answer["state"] == "need_file_data"


def test_more_malformed_input_is_4xx_json(server, auth):
    r = requests.post(server.url, json={"type": ["event"]}, auth=auth)
    assert r.status_code == 400 and "type: not a string" in r.json()["message"]
    r = requests.post(server.url, json={}, headers={"Authorization": b"Basic \xff\xfe"})
    assert r.status_code == 403 and r.json()["state"] == "failed"


def test_bodies_beyond_the_ceiling_are_refused_before_they_are_read(server):
    import socket

    from meteorgui.importer.server import MAX_BODY

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            f"POST /import HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n".encode()
        )
        reply = sock.recv(4096)
    # Without a login checked first, no body beyond gate.SMALL_BODY is read at all.
    assert reply.startswith(b"HTTP/1.1 403")


def test_a_file_larger_than_the_importer_takes_is_failed_with_the_reason(server, node):
    from meteorgui.importer.protocol import MAX_FILE_BYTES

    st = fx.status()
    rec = fx.file_record(st, b"x", file_size=MAX_FILE_BYTES + 1)
    node.post({"type": "status", "status": st.to_dict()})
    answer = node.post(fx.message(rec))
    assert answer["state"] == "failed" and "takes files up to" in answer["message"]


def test_failed_logins_with_bogus_names_cost_no_memory(archive):
    # Users keeps nothing per name (each login reads its row afresh); only passwords
    # known good (checked, or set in this process) are remembered, as keyed digests.
    before = dict(archive.users._verified._seen)
    for i in range(200):
        assert archive.users.authenticate("x" * 10_000 + str(i), "pw") is None
        assert archive.users.authenticate(f"nobody{i}", "pw") is None
    assert archive.users._verified._seen == before


def test_two_processes_can_create_the_same_new_archive_at_once(tmp_path):
    import threading

    results = []

    def open_it():
        try:
            Archive(tmp_path / "shared").close()
            results.append("ok")
        except Exception as exc:  # noqa: BLE001 - the test reports it
            results.append(repr(exc))

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == ["ok"] * 6


def test_a_truncated_multipart_part_keeps_nothing(server, archive, node, auth):
    st = fx.status()
    data = fx.blob(200_000)
    rec = fx.file_record(st, data)
    archive.store_status(st)
    assert node.post(fx.message(rec))["state"] == "need_file_data"
    # A whole HTTP body, but the multipart part inside it stops half-way (no closing boundary).
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n'
        + data[:100_000]
    )
    r = requests.post(
        f"{server.url}/data/{rec.file_id}/{rec.md5}",
        data=body,
        auth=auth,
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert 400 <= r.status_code < 500 and r.json()["state"] == "failed"
    assert not archive.has_bytes(rec)
    assert list(archive.store.tmp_dir.iterdir()) == []


def test_bytes_become_durable_after_the_answer_even_if_the_camera_never_returns(
    server, archive, node
):
    st = fx.status()
    pack = fx.event_pack(st, n_files=2)
    node.post({"type": "status", "status": st.to_dict()})
    first = node.post(fx.message(pack.entity))
    assert first["state"] == "need_file_data"
    fid = first["file_id"]
    record = next(f for f in pack.entity.files if f.file_id == fid)
    r = node.http.post(
        f"{node.url}/data/{fid}/{record.md5}",
        files={"file": ("file", pack.blobs[fid], "application/octet-stream")},
        timeout=30,
    )
    assert r.json() == {"state": "continue"}
    # No further request: the request that carried the bytes makes them durable itself,
    # once its answer is out, and puts them under their final name.
    final = archive.file_path(record)
    fx.wait_for(final.exists, what="the bytes never reached their final name")
    assert final.read_bytes() == pack.blobs[fid]
    assert not archive.has_event(pack.entity.event_id)  # the event waits for its camera
    assert archive.store.settle([(fid, record.md5)]) == []


def _part(name: str, data: bytes, boundary: str = "b0undary") -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="f"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + b"\r\n"
    )


@pytest.mark.parametrize(
    "case",
    ["two file parts", "no file part", "no boundary", "garbage", "other parts around the file"],
)
def test_multipart_uploads_are_parsed_strictly(server, archive, node, auth, case):
    st = fx.status()
    data = fx.blob(50_000)
    rec = fx.file_record(st, data)
    archive.store_status(st)
    assert node.post(fx.message(rec))["state"] == "need_file_data"
    end = b"--b0undary--\r\n"
    content_type = "multipart/form-data; boundary=b0undary"
    body = {
        "two file parts": _part("file", data) + _part("file", data) + end,
        "no file part": _part("photo", data) + end,
        "no boundary": _part("file", data) + end,
        "garbage": b"--b0undary\r\nthis is no header line at all\x00\r\n\r\n" + data,
        "other parts around the file": (
            _part("note", b"hello") + _part("file", data) + _part("note", b"bye") + end
        ),
    }[case]
    if case == "no boundary":
        content_type = "multipart/form-data"
    r = requests.post(
        f"{server.url}/data/{rec.file_id}/{rec.md5}",
        data=body,
        auth=auth,
        headers={"Content-Type": content_type},
        timeout=30,
    )
    if case == "other parts around the file":
        assert r.json() == {"state": "continue"}
        assert node.post(fx.message(rec)) == {"state": "complete"}
        assert stored_bytes(archive, rec) == data
        return
    assert r.status_code == 400 and r.json()["state"] == "failed"
    assert r.json()["message"]
    assert not archive.has_bytes(rec)
    assert list(archive.store.tmp_dir.iterdir()) == []


@pytest.mark.parametrize(
    "disposition, kept",
    [
        ("form-data; name=file", True),
        ('form-data; filename="still.png"; name="file"', True),
        ('FORM-DATA; NAME="file"', True),
        ('form-data; name="note"; filename="a; name=file"', False),
        ('form-data; name="files"', False),
        ('form-data; name="file\\"x"', False),
        ("form-data", False),
    ],
)
def test_the_file_part_is_found_by_its_name_only(server, archive, node, auth, disposition, kept):
    st = fx.status()
    data = fx.blob(5_000)
    rec = fx.file_record(st, data)
    archive.store_status(st)
    assert node.post(fx.message(rec))["state"] == "need_file_data"
    body = (
        f"--b0undary\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        + data
        + b"\r\n--b0undary--\r\n"
    )
    r = requests.post(
        f"{server.url}/data/{rec.file_id}/{rec.md5}",
        data=body,
        auth=auth,
        headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
        timeout=30,
    )
    if kept:
        assert r.json() == {"state": "continue"}
        assert node.post(fx.message(rec)) == {"state": "complete"}
        assert stored_bytes(archive, rec) == data
    else:
        assert r.status_code == 400 and r.json()["message"] == "multipart field 'file' missing"
        assert not archive.has_bytes(rec)


@pytest.mark.parametrize(
    "raw,status,fragment",
    [
        (
            b"POST /import HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
            b"Transfer-Encoding: chunked\r\n\r\nZZ\r\n",
            b"400",
            "Bad Request: Invalid chunk size",
        ),
        (b"GARBAGE\r\n\r\n", b"400", "Bad Request"),
    ],
)
def test_what_waitress_cannot_parse_is_answered_in_json_too(server, auth, raw, status, fragment):
    import base64
    import json
    import socket

    # A login the importer has verified: its chunked body is read (and found malformed).
    probe = {"type": "cached_entity", "cached_entity_id": fx.uid()}
    assert requests.post(server.url, json=probe, auth=auth).status_code == 200
    basic = b"Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode())
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw.replace(b"{auth}", basic))
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == status, reply[:200]
    assert b"content-type: application/json" in head.lower()
    answer = json.loads(body)
    assert answer["state"] == "failed" and answer["message"].startswith(fragment), answer
    # The importer goes on serving.
    assert requests.get(f"http://127.0.0.1:{server.port}/health", timeout=10).ok
