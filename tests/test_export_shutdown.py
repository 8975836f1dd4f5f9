"""Stopping exports: closing aborts a request waiting for the importer, the scheduler's
rounds stop when their rule is disabled or cancelled, and a folder export survives an
entity deleted under it."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from meteorgui.archive import Archive
from meteorgui.archive.exports import Selection
from meteorgui.exporter import Exporter, FileSecrets, Scheduler
from meteorgui.exporter import runner as R
from meteorgui.exporter.folder import export_to_folder

from .export_helpers import fill_archive, small_night, source_archive
from .factories import wait_for


class SlowImporter:
    """Answers 'complete' to every entity POST after ``delay`` seconds (404 to GETs).
    ``posts`` counts the POSTs received; ``release()`` ends every wait."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.posts = 0
        self.got_post = threading.Event()
        self._release = threading.Event()
        importer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                importer.posts += 1
                importer.got_post.set()
                importer._release.wait(importer.delay)
                out = json.dumps({"state": "complete"}).encode()
                with contextlib.suppress(OSError):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/import"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def release(self) -> None:
        self.delay = 0.0
        self._release.set()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.release()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


# --------------------------------------------------------------------------- shutdown


def test_close_aborts_a_request_waiting_for_the_answer_and_the_entity_stays_queued(tmp_path):
    secrets = tmp_path / "secrets.json"
    with SlowImporter(delay=60) as importer:
        archive = Archive(tmp_path / "a")
        try:
            fill_archive(archive, small_night(events=1, timelapse=0))
            exporter = Exporter(archive, FileSecrets(secrets))
            target = exporter.targets.add("slow", importer.url, "u", "pw")
            exporter.queue.enqueue_selection(target.target_id, Selection())
            job = exporter.start(target.target_id)
            assert importer.got_post.wait(10)  # the round waits for the importer's answer
            t0 = time.monotonic()
            assert exporter.close(timeout=5) is True
            assert time.monotonic() - t0 < 3  # not the read timeout, not the deadline
            assert not job._thread.is_alive() and not job.running
            assert job.error is None
            assert job.result.cancelled and job.result.requeued == 1 and not job.result.error
            assert exporter.queue.counts(target.target_id) == {
                "queued": 1,
                "sending": 0,
                "failed": 0,
            }
        finally:
            archive.close()

        importer.release()  # now it answers at once
        again = Archive(tmp_path / "a")
        try:
            exporter = Exporter(again, FileSecrets(secrets))
            assert exporter.queue.counts(target.target_id)["queued"] == 1
            result = exporter.export(target.target_id)
            assert result.ok and result.complete == 1
            assert exporter.queue.pending(target.target_id) == 0
            assert exporter.close(timeout=5) is True
        finally:
            again.close()


def test_close_waits_for_all_jobs_against_one_deadline(tmp_path):
    with (
        SlowImporter(delay=60) as importer,
        source_archive(tmp_path / "a", small_night(events=2, timelapse=0)) as (archive, exporter),
    ):
        ids = []
        for n in range(3):
            t = exporter.targets.add(f"slow{n}", importer.url + f"{n}", "u", "pw")
            exporter.queue.enqueue_selection(t.target_id, Selection())
            ids.append(t.target_id)
        jobs = [exporter.start(tid) for tid in ids]
        wait_for(lambda: importer.posts >= 3)
        t0 = time.monotonic()
        assert exporter.close(timeout=5) is True
        assert time.monotonic() - t0 < 3
        assert not any(j._thread.is_alive() for j in jobs)
        for tid in ids:
            assert exporter.queue.counts(tid)["sending"] == 0
            assert exporter.queue.pending(tid) == 2


def test_scheduler_stop_aborts_its_round(tmp_path):
    with (
        SlowImporter(delay=60) as importer,
        source_archive(tmp_path / "a", small_night(events=1, timelapse=0)) as (archive, exporter),
    ):
        target = exporter.targets.add("slow", importer.url, "u", "pw")
        exporter.rules.add("every night", target.target_id)
        scheduler = Scheduler(exporter)
        scheduler.start()
        assert importer.got_post.wait(10)
        t0 = time.monotonic()
        assert scheduler.stop(timeout=5) is True
        assert time.monotonic() - t0 < 3 and not scheduler.running
        assert exporter.queue.counts(target.target_id) == {"queued": 1, "sending": 0, "failed": 0}
        assert exporter.rules.list()[0].state == "waiting"


# --------------------------------------------------------------------------- rules


def test_disabling_a_rule_stops_its_round_after_the_current_entity(tmp_path):
    with (
        SlowImporter(delay=0.2) as importer,
        source_archive(tmp_path / "a", small_night(events=4, timelapse=0)) as (archive, exporter),
    ):
        target = exporter.targets.add("slow", importer.url, "u", "pw")
        rule = exporter.rules.add("every night", target.target_id)

        def on_event(event):
            if event.kind == R.ITEM_STARTED and event.done == 0:
                exporter.rules.set_enabled(rule.rule_id, False)  # while the first is sent

        scheduler = Scheduler(exporter, on_event=on_event)
        after = scheduler.run_rule(rule)
        assert importer.posts == 1
        assert exporter.queue.pending(target.target_id) == 3
        assert exporter.queue.counts(target.target_id)["sending"] == 0
        assert after.state == "disabled" and not after.enabled
        assert after.failures == 0 and not after.last_error


def test_cancel_round_stops_a_rules_round_at_once(tmp_path):
    with (
        SlowImporter(delay=60) as importer,
        source_archive(tmp_path / "a", small_night(events=2, timelapse=0)) as (archive, exporter),
    ):
        target = exporter.targets.add("slow", importer.url, "u", "pw")
        rule = exporter.rules.add("every night", target.target_id, interval_s=600)
        now = time.time()
        scheduler = Scheduler(exporter, clock=lambda: now)
        assert scheduler.cancel_round() is False  # nothing runs
        out = []
        thread = threading.Thread(target=lambda: out.append(scheduler.run_rule(rule)))
        thread.start()
        assert importer.got_post.wait(10)
        assert scheduler.current_round() == (rule.rule_id, target.target_id)
        assert scheduler.cancel_round(target_id="someone else") is False
        assert scheduler.cancel_round(target_id=target.target_id) is True
        thread.join(5)
        assert not thread.is_alive()
        after = out[0]
        assert after.state == "waiting" and after.enabled and after.failures == 0
        assert after.next_attempt_at == int((now + 600) * 1000)  # not at once: after its interval
        assert exporter.queue.counts(target.target_id) == {"queued": 2, "sending": 0, "failed": 0}
        assert scheduler.current_round() is None


# --------------------------------------------------------------------------- folder


def test_folder_manifest_stays_valid_when_an_event_vanishes(tmp_path, monkeypatch):
    with source_archive(tmp_path / "a", small_night(events=3, timelapse=2)) as (archive, _):
        ids = [
            r[0]
            for r in archive.db.read().execute("SELECT event_id FROM events ORDER BY event_time")
        ]
        gone = ids[0]
        real = archive.get_event
        monkeypatch.setattr(archive, "get_event", lambda i: None if i == gone else real(i))
        result = export_to_folder(archive, tmp_path / "out")
        manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
        assert [e["event"]["event_id"] for e in manifest["events"]] == ids[1:]
        assert len(manifest["files"]) == 2
        assert result.events == 2
        assert not result.ok
        assert [p[0] for p in result.problems] == [gone]
