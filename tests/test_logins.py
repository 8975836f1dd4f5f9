"""Logins over real HTTP: guessing is throttled per (address, user name), a camera that
knows its password is never shut out, and refused attempts are recorded for the owner."""

import logging

import pytest
import requests

from meteorgui.archive import passwords
from meteorgui.importer.logins import LOCKED_OUT, NO_IMPORT_ROLE, LoginThrottle

from . import factories as fx

BODY = {"type": "cached_entity", "cached_entity_id": "0" * 32}


@pytest.fixture
def clock(server, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(server.throttle, "clock", lambda: now[0])
    return now


@pytest.fixture
def hashes(monkeypatch):
    """Counts the key derivations run (each costs a real login's CPU)."""
    calls = []
    real = passwords.check_password
    monkeypatch.setattr(passwords, "check_password", lambda p, e: calls.append(1) or real(p, e))
    return calls


def post(server, user, password):
    return requests.post(server.url, json=BODY, auth=(user, password), timeout=30)


def test_guessing_a_name_is_cut_short_without_hashing(server, archive, auth, clock, hashes):
    archive.users.add("viewer", "view-pw", roles=["user"])
    archive.users.add("roof", "roof-pw", roles=["import"])
    limit = server.throttle.limit
    for i in range(limit):
        assert post(server, "camera", f"guess{i}").status_code == 403
    assert len(hashes) == limit
    r = post(server, "camera", "guess-again")
    assert r.status_code == 429 and "too many failed logins for camera" in r.json()["message"]
    waits = r.json()["message"].rsplit("try again in ", 1)[1]
    assert r.headers["Retry-After"] == waits.removesuffix(" s") and 0 < int(waits[:-2]) <= 61
    assert len(hashes) == limit  # the refusal cost no password hash
    # A good login of another user (one without the import role, too) clears nothing.
    assert post(server, "viewer", "view-pw").status_code == 403
    assert post(server, "roof", "roof-pw").status_code == 200
    assert post(server, "camera", "guess-more").status_code == 429
    # Another user name at the same address is not held up by the guesses.
    assert post(server, "roof", "roof-pw").status_code == 200
    clock[0] += server.throttle.window
    assert post(server, *auth).status_code == 200


def test_a_camera_that_knows_its_password_is_never_locked_out_from_its_own_address(
    server, auth, clock, hashes
):
    assert post(server, *auth).status_code == 200  # the camera's first login of the night
    answers = []
    for i in range(100):  # someone at the same address (a NAT) guesses, between its requests
        answers.append(post(server, "camera", f"guess{i}").status_code)
        answers.append(post(server, f"other{i % 7}", "x").status_code)
        r = post(server, *auth)
        assert r.status_code == 200, (i, r.json())
        clock[0] += 0.5
    assert 429 in answers and set(answers) <= {403, 429}
    # Lock-outs held the guessing to the limits, however many were tried.
    assert len(hashes) <= server.throttle.address_limit + 1


def test_a_new_password_set_during_a_lock_out_gets_through_at_once(server, archive, clock):
    for _ in range(server.throttle.limit):
        assert post(server, "camera", "old-password").status_code == 403
    archive.users.set_password("camera", "new-password")
    assert post(server, "camera", "new-password").status_code == 200
    assert post(server, "camera", "old-password").status_code == 429
    clock[0] += server.throttle.window
    assert post(server, "camera", "old-password").status_code == 403
    assert post(server, "camera", "new-password").status_code == 200


def test_a_flood_of_addresses_keeps_active_lock_outs():
    now = [0.0]
    throttle = LoginThrottle(limit=3, window=60, clock=lambda: now[0], max_entries=100)
    for _ in range(3):
        throttle.failed("192.0.2.7", "camera")
    assert throttle.wait("192.0.2.7", "camera") == 60
    for i in range(10_000):  # one failure from each of many addresses (easy over IPv6)
        throttle.failed(f"2001:db8::{i:x}", "camera")
    assert len(throttle) <= 100
    assert throttle.wait("192.0.2.7", "camera") == 60
    now[0] += 60
    assert throttle.wait("192.0.2.7", "camera") == 0


def test_old_hashes_are_replaced_at_the_next_good_login(archive, monkeypatch):
    monkeypatch.setattr(passwords, "ITERATIONS", 2000)
    archive.users.add("old", "pw", roles=["import"])
    with archive.db.write() as conn:  # as an archive made by an older version left it
        conn.execute(
            "UPDATE users SET password_hash = ? WHERE name = 'old'",
            (passwords.hash_password("pw", iterations=500),),
        )

    def stored():
        return (
            archive.db.read()
            .execute("SELECT password_hash FROM users WHERE name = 'old'")
            .fetchone()[0]
        )

    assert stored().split("$")[1] == "500" and passwords.needs_rehash(stored())
    assert archive.users.authenticate("old", "wrong") is None
    assert stored().split("$")[1] == "500"  # never on a refused login
    assert archive.users.authenticate("old", "pw") is not None
    assert stored().split("$")[1] == "2000" and not passwords.needs_rehash(stored())
    assert archive.users.authenticate("old", "pw") is not None


def test_refused_logins_are_recorded_with_reason_and_one_log_line(
    server, archive, auth, clock, caplog
):
    archive.users.add("viewer", "view-pw", roles=["user"])
    caplog.set_level(logging.WARNING, logger="meteorgui.importer.logins")
    for _ in range(3):
        assert post(server, "camera", "Secret-Typo-1").status_code == 403
    assert post(server, "nobody", "Secret-Typo-2").status_code == 403
    assert post(server, "viewer", "view-pw").status_code == 403
    records = {r.user: r for r in server.importer.logins.refused()}
    cam = records["camera"]
    assert (cam.count, cam.reason, cam.address) == (3, "wrong password", "127.0.0.1")
    assert cam.sentence() == "camera: 3 refused logins from 127.0.0.1, wrong password"
    assert records["nobody"].reason == "unknown user"
    assert records["viewer"].reason == NO_IMPORT_ROLE
    for _ in range(server.throttle.limit):
        post(server, "camera", "Secret-Typo-1")
    cam = {r.user: r for r in server.importer.logins.refused()}["camera"]
    assert cam.reason == LOCKED_OUT and cam.locked_until_ms is not None
    assert "locked out" in cam.sentence()
    lines = [r.getMessage() for r in caplog.records]
    # One line per burst (and one when the lock-out starts), never a password.
    assert sum("'camera'" in line and "refused" in line for line in lines) == 1
    assert sum("locked out logins as 'camera'" in line for line in lines) == 1
    assert not any("Secret-Typo" in line or "view-pw" in line for line in lines)
    assert "Secret-Typo" not in repr(server.importer.logins.refused())


def test_refused_logins_are_published_for_the_monitor(server, auth):
    from meteorgui import notify

    seen = []
    server.hub.subscribe(notify.LOGIN_REFUSED, seen.append)
    assert post(server, "camera", "typo").status_code == 403
    fx.wait_for(lambda: seen, what="no LOGIN_REFUSED notification")
    assert seen[0].user == "camera" and seen[0].reason == "wrong password"


def test_a_camera_that_imported_before_gets_in_while_its_address_guesses_other_names(
    tmp_path, hashes
):
    """After a restart nothing is verified in the process; the import log still knows
    the camera's address, so a stranger there guessing many names cannot lock it out."""
    from meteorgui.archive import Archive
    from meteorgui.importer import ImporterServer

    data, auth = tmp_path / "data", ("roof", "roof-pw")
    with Archive(data) as archive:
        archive.users.add(*auth, roles=["import"])
        server = ImporterServer(archive, "127.0.0.1", 0)
        server.start()
        try:
            node = fx.Node(server.url, *auth)
            assert node.send(fx.event_pack(fx.status()))["state"] == "complete"
            node.close()
        finally:
            server.stop()
    with Archive(data) as archive:  # a new process's view: no login verified yet
        server = ImporterServer(archive, "127.0.0.1", 0)
        server.start()
        try:
            hashes.clear()
            limit = server.throttle.address_limit
            for i in range(limit):  # a stranger at the camera's address (a NAT) guesses names
                assert post(server, f"guess{i}", "x").status_code == 403
            assert post(server, "guess-more", "x").status_code == 429
            assert post(server, "newcam", "x").status_code == 429  # not known here: locked
            r = post(server, *auth)
            assert r.status_code == 200, r.json()
            # Its own name is still held to the pair's limit, without a hash beyond it.
            for i in range(server.throttle.limit):
                assert post(server, "roof", f"guess{i}").status_code == 403
            assert post(server, "roof", "guess-again").status_code == 429
            assert len(hashes) == limit + server.throttle.limit + 1
        finally:
            server.stop()


@pytest.mark.parametrize("how", ["added", "password changed"])
def test_a_password_set_in_the_importers_process_passes_a_lock_out_of_its_name(
    server, archive, hashes, how
):
    archive.users.add("garden", "first-pw", roles=["import"])
    password = "first-pw"
    if how == "password changed":
        archive.users.set_password("garden", password := "second-pw")
    for i in range(server.throttle.limit):  # someone at its address guesses its name first
        assert post(server, "garden", f"guess{i}").status_code == 403
    assert post(server, "garden", "guess-again").status_code == 429
    hashes.clear()
    assert post(server, "garden", password).status_code == 200
    assert hashes == []  # known from when the owner set it: no key derivation
