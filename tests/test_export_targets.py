"""Export targets: CRUD, passwords (keyring or a user-only file), connection tests, TLS."""

from __future__ import annotations

import logging
import os
import stat

import keyring.backend
import pytest

from meteorgui.exporter import (
    FileSecrets,
    KeyringSecrets,
    Selection,
    TargetError,
    default_secrets,
)
from meteorgui.exporter.rules import Rules
from meteorgui.exporter.secrets import SERVICE

from .export_helpers import (
    SEED_USERS,
    https_serving,
    make_certificates,
    seed_importer,
    small_night,
    source_archive,
)
from .seed_importer import SeedImporter
from .wsgi_server import serving

PASSWORD = "s3cret-Export-pw!"


def test_targets_crud(tmp_path):
    with source_archive(tmp_path / "src") as (archive, exporter):
        targets = exporter.targets
        a = targets.add("Central", "https://archive.example.org/import/", "obs1", PASSWORD)
        assert a.url == "https://archive.example.org/import" and a.verify is True
        assert targets.password(a.target_id) == PASSWORD
        with pytest.raises(TargetError, match="already a target named"):
            targets.add("Central", "http://other/import", "u")
        for bad in ("ftp://x/import", "archive.example.org/import", ""):
            with pytest.raises(TargetError, match="not an http"):
                targets.add("x", bad, "u")
        with pytest.raises(TargetError, match="own fields"):
            targets.add("x", "http://u:p@host/import", "u")
        with pytest.raises(TargetError, match="CA bundle"):
            targets.add("x", "https://host/import", "u", ca_bundle=tmp_path / "nope.pem")

        b = targets.update(a.target_id, name="Central archive", timeout=30, password="new-pw")
        assert (b.name, b.timeout, targets.password(a.target_id)) == (
            "Central archive",
            30,
            "new-pw",
        )
        assert targets.list() == [b] and targets.get(a.target_id) == b

        # The CLI's ad-hoc target: found again by URL and user.
        c = targets.ensure("http://127.0.0.1:9/import", "cam")
        assert targets.ensure("http://127.0.0.1:9/import/", "cam") == c
        assert c.name == "cam@127.0.0.1:9" and targets.password(c.target_id) is None

        # A target in use by a rule is not removed behind the rule's back.
        rule = Rules(archive).add("nightly", b.target_id, Selection())
        with pytest.raises(TargetError, match="nightly"):
            targets.remove(b.target_id)
        Rules(archive).remove(rule.rule_id)
        targets.remove(b.target_id)
        assert targets.get(b.target_id) is None
        assert FileSecrets(tmp_path / "secrets.json").get(b.secret_key) is None


def test_password_file_is_private_and_the_password_is_nowhere_else(tmp_path, server, auth, caplog):
    caplog.set_level(logging.DEBUG)
    secrets_file = tmp_path / "conf" / "export-passwords.json"
    night = small_night(events=1, timelapse=1)
    with source_archive(tmp_path / "src", night, secrets_file=secrets_file) as (archive, exporter):
        target = exporter.targets.add("central", server.url, auth[0], auth[1])
        exporter.queue.enqueue_selection(target.target_id, Selection())
        assert exporter.export(target.target_id).ok
        exporter.targets.update(target.target_id, password=PASSWORD)  # a wrong one
        exporter.queue.enqueue_selection(target.target_id, Selection(), force=True)
        assert "refused" in exporter.export(target.target_id).error
    assert stat.S_IMODE(os.stat(secrets_file).st_mode) == 0o600
    assert PASSWORD in secrets_file.read_text()
    for path in (tmp_path / "src").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PASSWORD.encode() not in data and auth[1].encode() not in data, path
    assert PASSWORD not in caplog.text and auth[1] not in caplog.text


def test_one_target_per_url_and_user_and_no_query_in_the_url(tmp_path):
    """A second target to the same archive as the same user kept a history of its own
    and sent everything again; '?x=1' made another one too."""
    with source_archive(tmp_path / "src") as (src, exporter):
        targets = exporter.targets
        first = targets.add("Central", "http://archive.example.org/import", "obs1", PASSWORD)
        with pytest.raises(TargetError, match="'Central' already sends to"):
            targets.add("Hostile", "http://archive.example.org/import/", "obs1", PASSWORD)
        other_user = targets.add("Other", "http://archive.example.org/import", "obs2")
        with pytest.raises(TargetError, match="'Central' already sends to"):
            targets.update(other_user.target_id, user="obs1")
        assert targets.ensure("http://archive.example.org/import", "obs1") == first
        for url in ("http://archive.example.org/import?x=1", "http://h/import#top"):
            with pytest.raises(TargetError, match="no '\\?…' or '#…' part"):
                targets.add("Query", url, "obs3")


def test_file_secrets_roundtrip_and_default_choice(tmp_path, monkeypatch):
    s = FileSecrets(tmp_path / "x" / "pw.json")
    assert s.get("k") is None
    s.set("k", "v1")
    s.set("j", "v2")
    s.delete("k")
    assert (s.get("k"), s.get("j")) == (None, "v2")
    assert stat.S_IMODE(os.stat(tmp_path / "x" / "pw.json").st_mode) == 0o600
    assert not [p for p in (tmp_path / "x").iterdir() if p.name != "pw.json"]  # no temp left
    monkeypatch.setenv("METEORGUI_CONFIG_DIR", str(tmp_path / "cfg"))
    chosen = default_secrets()
    assert isinstance(chosen, FileSecrets)
    assert chosen.path == tmp_path / "cfg" / "export-passwords.json"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An in-memory keyring backend, so no test touches the real one."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.store = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        if self.store.pop((service, username), None) is None:
            import keyring.errors

            raise keyring.errors.PasswordDeleteError("not there")


def test_passwords_go_to_the_keyring_when_there_is_one(tmp_path):
    backend = MemoryKeyring()
    with source_archive(tmp_path / "src") as (archive, exporter):
        exporter.targets.secrets = KeyringSecrets(backend)
        target = exporter.targets.add("k", "http://127.0.0.1:9/import", "u", PASSWORD)
        assert backend.store == {(SERVICE, target.secret_key): PASSWORD}
        assert exporter.targets.password(target.target_id) == PASSWORD
        exporter.targets.remove(target.target_id)
        assert backend.store == {}
    assert not (tmp_path / "secrets.json").exists()


def test_connection_test_changes_nothing_and_says_what_is_wrong(tmp_path, server, archive, auth):
    with source_archive(tmp_path / "src") as (src, exporter):
        t = exporter.targets.add("central", server.url, auth[0], auth[1])
        check = exporter.test_connection(t.target_id)
        assert check.ok and check.resend_supported and "accepts the credentials" in check.message
        assert archive.count("events") == archive.count("statuses") == 0
        assert not exporter.test_connection(t.target_id, password="nope").ok
        base = server.url.rsplit("/", 1)[0]
        wrong_url = exporter.targets.add("typo", f"{base}/imprt", auth[0], auth[1])
        check = exporter.test_connection(wrong_url.target_id)
        assert not check.ok and "HTTP 404" in check.message
        nopw = exporter.targets.add("nopw", server.url, "another-user")
        check = exporter.test_connection(nopw.target_id)
        assert not check.ok and "no password is stored" in check.message


def test_connection_test_fails_a_server_that_answers_500_to_any_login(tmp_path):
    """The 2015 importer's HTTP 500 passes only because a made-up login is refused there;
    a server that is simply broken answers both with 500 (and an HTML page)."""

    def broken(environ, start_response):
        start_response("500 Internal Server Error", [("Content-Type", "text/html")])
        return [b"<html><head><title>500 Internal Server Error</title></head><body>x</body>"]

    with (
        serving(broken, "/import") as url,
        source_archive(tmp_path / "src") as (src, exporter),
    ):
        t = exporter.targets.add("broken", url, "exporter", "any-password")
        check = exporter.test_connection(t.target_id)
    assert not check.ok and "even to a made-up login" in check.message, check.message
    assert "<" not in check.message


def test_an_https_url_at_a_plain_http_importer_is_told_at_once(tmp_path, server, auth):
    """Before, the importer waited for headers a TLS handshake never sends, and the test
    said the importer 'did not answer within 20 s'."""
    with source_archive(tmp_path / "src") as (src, exporter):
        url = server.url.replace("http://", "https://")
        t = exporter.targets.add("https typo", url, auth[0], auth[1])
        check = exporter.test_connection(t.target_id)
    assert not check.ok and "use an http:// URL" in check.message, check.message


def test_connection_test_passes_the_2015_importer_as_deployed(tmp_path):
    # It answers the probe's cache miss with HTTP 500, after accepting the login.
    user, (password, _) = "exporter", SEED_USERS["exporter"]
    with (
        seed_importer(tmp_path / "seed", miss_fails=True) as seed,
        source_archive(tmp_path / "src", small_night(events=1, timelapse=0)) as (src, exporter),
    ):
        good = exporter.targets.add("seed", seed.url, user, password)
        check = exporter.test_connection(good.target_id)
        assert check.ok and not check.resend_supported, check.message
        refused = exporter.test_connection(good.target_id, password="nope")
        assert not refused.ok and "HTTP 403" in refused.message
        assert seed.events == seed.statuses == {}  # the probe stored nothing


def test_tls_is_verified_by_default_and_a_ca_bundle_makes_it_work(tmp_path):
    ca, cert, key = make_certificates(tmp_path)
    seed = SeedImporter(tmp_path / "seed", SEED_USERS)
    night = small_night(events=1, timelapse=1)
    user, (password, _) = "exporter", SEED_USERS["exporter"]
    with (
        https_serving(seed.app, cert, key) as base,
        source_archive(tmp_path / "src", night) as (src, exporter),
    ):
        url = f"{base}/import"
        default = exporter.targets.add("tls default", url, user, password)
        check = exporter.test_connection(default.target_id)
        assert not check.ok and "certificate" in check.message, check.message
        exporter.queue.enqueue_selection(default.target_id, Selection())
        result = exporter.export(default.target_id)
        assert "certificate" in result.error and result.complete == 0
        assert seed.requests == []  # nothing got through

        trusted = exporter.targets.update(default.target_id, ca_bundle=ca)
        assert trusted.verify == str(ca)
        assert exporter.test_connection(trusted.target_id).ok
        assert exporter.export(trusted.target_id).ok
    assert set(seed.events) == {e.event_id for e in night.events}
    for record in night.files:
        assert seed.bytes_of(record.file_id) == night.file_bytes(record.file_id)


def test_seed_importer_rejects_bytes_that_do_not_match(tmp_path):
    # The test importer itself: bytes with a wrong MD5 are discarded, any file id accepted.
    import hashlib

    import requests

    with seed_importer(tmp_path / "seed") as seed, requests.Session() as http:
        http.auth = ("exporter", SEED_USERS["exporter"][0])
        base = seed.url
        good = b"meteor" * 100
        fid = "ab" * 16
        r = http.post(
            f"{base}/data/{fid}/{hashlib.md5(b'other').hexdigest()}",
            files={"file": ("x.png", good)},
            timeout=10,
        )
        assert r.json() == {"state": "continue"} and not seed.file_path(fid).exists()
        r = http.post(
            f"{base}/data/{fid}/{hashlib.md5(good).hexdigest()}",
            files={"file": ("x.png", good)},
            timeout=10,
        )
        assert r.json() == {"state": "continue"} and seed.bytes_of(fid) == good
