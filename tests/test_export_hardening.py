"""Hardening of the exporter against hostile or broken surroundings: endless importer
answers, a bandwidth cap that leaves the connection silent, a CA bundle deleted after the
target was saved, malformed target URLs, and error text inserted into GUI HTML."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from requests_toolbelt.multipart.encoder import MultipartEncoder

from meteorgui.exporter import ImportClient, ImportClientError
from meteorgui.exporter import client as client_module
from meteorgui.exporter.targets import Target, TargetError, check_url, test_connection
from meteorgui.exporter.throttle import Throttle, ThrottledFile
from meteorgui.simulate import make_night

from .test_client_unit import PASSWORD, USER, importer  # noqa: F401 - a fixture


@pytest.fixture(scope="module")
def night():
    return make_night(11, events=1, timelapse=1)


# --------------------------------------------------------------------------- endless answers


class _EndlessHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _endless(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b" " * (256 << 10)
        try:
            for _ in range(4096):  # 1 GiB: "endless" for the client, bounded for the test
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass

    do_POST = _endless
    do_GET = _endless


@pytest.fixture
def endless_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EndlessHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/import"
    finally:
        server.shutdown()
        server.server_close()


def test_an_endless_answer_is_cut_at_one_mib(endless_url, night):
    with ImportClient(endless_url, "u", "pw", timeout=(5, 5)) as client:
        with pytest.raises(ImportClientError, match="larger than 1 MiB"):
            client.check()
        with pytest.raises(ImportClientError, match="larger than 1 MiB"):
            client.resend_list()
        event = night.events[0]
        result = client.send(event, status_for=night.status, open_file=night.open_file)
    assert result.state == "failed"
    assert result.target_problem
    assert "larger than 1 MiB" in result.message


class _TrickleHandler(BaseHTTPRequestHandler):
    """Answers one byte at a time, each well within the client's read timeout."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            for _ in range(1000):
                self.wfile.write(b" ")
                self.wfile.flush()
                if self.server.stop.wait(0.05):
                    break
        except OSError:
            pass


def test_an_answer_that_trickles_in_is_cut_at_the_read_timeout(night):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TrickleHandler)
    server.daemon_threads = True
    server.stop = threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/import"
    try:
        with ImportClient(url, "u", "pw", timeout=(5, 0.5)) as client:
            result = client.send(
                night.events[0], status_for=night.status, open_file=night.open_file
            )
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
    assert result.state == "failed" and result.target_problem
    assert "took more than 0.5 s to send its answer" in result.message


def test_a_normal_answer_still_reaches_the_caller(importer, night):  # noqa: F811
    with ImportClient(importer.url, USER, PASSWORD, timeout=(5, 10)) as client:
        result = client.send(night.events[0], status_for=night.status, open_file=night.open_file)
        assert result.ok, result.message
        assert client.resend_list() == []  # 404: the answer was read and is usable


# --------------------------------------------------------------------------- bandwidth cap


def _fake_time():
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    return (lambda: now[0]), sleep, sleeps


def test_a_low_cap_sleeps_in_short_steps():
    clock, sleep, sleeps = _fake_time()
    throttle = Throttle(1000, clock=clock, sleep=sleep)
    source = ThrottledFile(io.BytesIO(b"x" * (200 << 10)), throttle)
    got = 0
    while True:
        data = source.read(1 << 20)  # what an upload asks for
        if not data:
            break
        assert len(data) <= 16 << 10
        got += len(data)
    assert got == 200 << 10
    assert sleeps, "the cap must have slept"
    assert max(sleeps) <= 3.0
    # and the average still honours the cap
    assert throttle.slept == pytest.approx(((200 << 10) - throttle.burst) / 1000, rel=0.02)


def test_a_throttled_upload_goes_out_in_small_blocks(importer, night, monkeypatch):  # noqa: F811
    asked: list[int] = []
    original = MultipartEncoder.read

    def spy(self, size=-1):
        asked.append(size)
        return original(self, size)

    monkeypatch.setattr(MultipartEncoder, "read", spy)
    clock, sleep, sleeps = _fake_time()
    throttle = Throttle(1024, clock=clock, sleep=sleep)
    record = night.files[0]

    def open_file(rec):
        return ThrottledFile(night.open_file(rec), throttle)

    with ImportClient(importer.url, USER, PASSWORD, timeout=(5, 10)) as client:
        result = client.send(record, status_for=night.status, open_file=open_file)
    assert result.ok, result.message
    assert result.bytes_sent == record.file_size
    assert asked and max(asked) <= 1024  # about a second's worth at 1 kB/s, not 1 MiB
    assert max(sleeps, default=0) <= 3.0


# --------------------------------------------------------------------------- CA bundle


def test_a_deleted_ca_bundle_is_a_target_failure_not_an_exception(tmp_path, night):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    target = Target("t1", "t", "https://127.0.0.1:9/import", "u", str(ca), timeout=5)
    ca.unlink()
    with target.client("pw") as client:
        result = client.send(night.events[0], status_for=night.status, open_file=night.open_file)
        assert result.state == "failed"
        assert result.target_problem
        assert "CA bundle" in result.message and str(ca) in result.message
        with pytest.raises(ImportClientError, match="CA bundle"):
            client.check()
        with pytest.raises(ImportClientError, match="CA bundle"):
            client.resend_list()
    with pytest.raises(TargetError, match="CA bundle"):
        target.check_ca_bundle()
    check = test_connection(target, "pw")
    assert not check.ok
    assert "CA bundle" in check.message


def test_a_present_ca_bundle_passes_the_check(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    Target("t1", "t", "https://h/import", "u", str(ca)).check_ca_bundle()
    Target("t1", "t", "https://h/import", "u", None).check_ca_bundle()


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/import",
        "http://host:abc/import",
        "http://host:99999/import",
        "http://host:0/import",
        "https://host:-1/import",
    ],
)
def test_malformed_urls_are_refused_with_target_error(url):
    with pytest.raises(TargetError):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://host:8080/import",
        "https://[::1]:8443/import",
        "https://host/import/",
    ],
)
def test_good_urls_still_pass(url):
    assert check_url(url) == url.rstrip("/")


# --------------------------------------------------------------------------- GUI HTML


def test_rule_errors_are_escaped_in_the_rule_dialog(qtbot):
    from meteorgui.gui.export.rule_edit import RuleEditDialog

    service = SimpleNamespace(
        targets=[], ctx=SimpleNamespace(archive=None), run=lambda *args, **kw: None
    )
    dialog = RuleEditDialog(service)
    qtbot.addWidget(dialog)
    dialog.window.setText("<b>9</b>-<i>x</i>")
    dialog.save()
    text = dialog.message.text()
    assert "&lt;b&gt;9&lt;/b&gt;" in text
    assert "<b>" not in text
    dialog._failed(ValueError("name <img src=x> taken"))
    assert "&lt;img src=x&gt;" in dialog.message.text()


def test_client_module_limit_is_one_mib():
    assert client_module.MAX_ANSWER == 1 << 20
