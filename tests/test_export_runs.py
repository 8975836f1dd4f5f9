"""Export rounds over real HTTP on 127.0.0.1: to meteorgui's own importer and to a
re-creation of the 2015 MeteorPi importer (tests/seed_importer.py)."""

from __future__ import annotations

import threading

import pytest

from meteorgui.archive import Archive
from meteorgui.exporter import ExportBusy, Exporter, FileSecrets, Selection
from meteorgui.exporter import runner as R

from .export_helpers import (
    SEED_USERS,
    all_entity_ids,
    seed_importer,
    small_night,
    source_archive,
)


@pytest.fixture(scope="module")
def night():
    return small_night(events=3, timelapse=3)


def add_target(exporter, url, user="exporter", password=None, name="central"):
    pw = password if password is not None else SEED_USERS.get(user, ("",))[0]
    return exporter.targets.add(name, url, user, pw)


def assert_same_at_meteorgui(target: Archive, night) -> None:
    for event in night.events:
        got = target.get_event(event.event_id)
        assert got is not None and got.to_dict() == event.to_dict()
        for record in event.files:
            assert target.store.settle([(record.file_id, record.md5)]) == []
            assert target.file_path(record).read_bytes() == night.file_bytes(record.file_id)
    for record in night.files:
        assert target.get_file(record.file_id).to_dict() == record.to_dict()
        assert target.store.settle([(record.file_id, record.md5)]) == []
        assert target.file_path(record).read_bytes() == night.file_bytes(record.file_id)


def assert_same_at_seed(seed, night) -> None:
    for event in night.events:
        assert seed.events[event.event_id] == event.to_dict()
        for record in event.files:
            assert seed.bytes_of(record.file_id) == night.file_bytes(record.file_id)
    for record in night.files:
        assert seed.files[record.file_id] == record.to_dict()
        assert seed.bytes_of(record.file_id) == night.file_bytes(record.file_id)
    used = {e.status_id for e in night.entities()}
    assert used <= set(seed.statuses)


# --------------------------------------------------------------------------- meteorgui importer


def test_export_to_meteorgui_importer_is_byte_exact_and_not_repeated(
    tmp_path, server, archive, auth, night
):
    with source_archive(tmp_path / "src", night) as (src, exporter):
        target = add_target(exporter, server.url, *auth)
        assert exporter.queue.enqueue_selection(target.target_id, Selection()) == 6

        result = exporter.export(target.target_id)

        assert result.ok, result
        assert (result.complete, result.failed, result.left) == (6, 0, 0)
        total = sum(f.file_size for e in night.events for f in e.files)
        total += sum(f.file_size for f in night.files)
        assert result.bytes_sent == total
        assert_same_at_meteorgui(archive, night)
        ids = all_entity_ids(night)
        assert exporter.history.exported_to(target.target_id, ids + ["0" * 32]) == set(ids)
        assert exporter.queue.items(target.target_id) == []

        # A second export queues nothing and sends no bytes.
        assert exporter.queue.enqueue_selection(target.target_id, Selection()) == 0
        again = exporter.export(target.target_id)
        assert (again.complete, again.bytes_sent, again.ok) == (0, 0, True)

        # Sending again is deliberate: force.
        event_id = night.events[0].event_id
        assert exporter.queue.enqueue_ids(target.target_id, [event_id]) == 0
        assert exporter.queue.enqueue_ids(target.target_id, [event_id], force=True) == 1
        forced = exporter.export(target.target_id)
        assert (forced.complete, forced.bytes_sent) == (1, 0)  # the target already had it
        [record] = exporter.history.exports_of(event_id)
        assert record.times == 2 and record.target_id == target.target_id


def test_resend_extension_requeues_what_the_target_lists(tmp_path, server, archive, auth, night):
    with source_archive(tmp_path / "src", night) as (src, exporter):
        target = add_target(exporter, server.url, *auth)
        exporter.queue.enqueue_selection(target.target_id, Selection())
        assert exporter.export(target.target_id).ok
        event = night.events[1]
        # The central archive's operator asks for this event's files again.
        server.importer.request_resend(event.event_id)

        result = exporter.export(target.target_id)

        assert (result.resent, result.complete, result.ok) == (1, 1, True)
        assert result.bytes_sent == sum(f.file_size for f in event.files)
        assert archive.resend_offers() == []
        [record] = exporter.history.exports_of(event.event_id)
        assert record.times == 2


def test_wrong_password_fails_clearly_and_keeps_everything_queued(tmp_path, server, auth, night):
    with source_archive(tmp_path / "src", night) as (src, exporter):
        target = add_target(exporter, server.url, auth[0], "not-the-password")
        exporter.queue.enqueue_selection(target.target_id, Selection())

        result = exporter.export(target.target_id)

        assert not result.ok and result.complete == 0 and result.failed == 0
        assert "refused the credentials" in result.error and "403" in result.error
        assert result.left == 6
        assert exporter.queue.counts(target.target_id) == {"queued": 6, "sending": 0, "failed": 0}
        check = exporter.test_connection(target.target_id)
        assert not check.ok and "refused the credentials" in check.message
        good = exporter.test_connection(target.target_id, password=auth[1])
        assert good.ok and good.resend_supported


def test_unreachable_target_is_one_clear_error(tmp_path, night):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with source_archive(tmp_path / "src", night) as (src, exporter):
        target = add_target(exporter, f"http://127.0.0.1:{port}/import")
        exporter.queue.enqueue_selection(target.target_id, Selection())
        result = exporter.export(target.target_id)
        assert "cannot reach the importer" in result.error and result.left == 6
        assert exporter.queue.counts(target.target_id)["failed"] == 0


def test_a_refused_entity_is_marked_failed_and_the_round_goes_on(tmp_path, server, auth, night):
    with source_archive(tmp_path / "src", night) as (src, exporter):
        damaged = night.files[1]
        path = src.file_path(damaged)
        path.write_bytes(b"X" + path.read_bytes()[1:])  # bit rot in the source archive
        target = add_target(exporter, server.url, *auth)
        exporter.queue.enqueue_selection(target.target_id, Selection())

        result = exporter.export(target.target_id)

        assert (result.complete, result.failed, result.left, result.error) == (5, 1, 0, "")
        assert not result.ok
        [item] = exporter.queue.items(target.target_id, states=["failed"])
        assert item.entity_id == damaged.file_id and "MD5" in item.last_error
        assert item.attempts == 1
        # Retrying is the user's call; it fails the same way while the bytes are bad.
        assert exporter.queue.retry(target.target_id) == 1
        assert exporter.export(target.target_id).failed == 1
        assert exporter.queue.get(target.target_id, damaged.file_id).attempts == 2


def test_a_file_whose_bytes_are_gone_fails_in_words_not_errno(tmp_path, server, auth, night):
    with source_archive(tmp_path / "src", night) as (src, exporter):
        gone = night.files[0]
        src.store.quarantine(gone.file_id, gone.md5)  # as a resend request does
        target = add_target(exporter, server.url, *auth)
        exporter.queue.enqueue_selection(target.target_id, Selection())
        assert exporter.export(target.target_id).failed == 1
        [item] = exporter.queue.items(target.target_id, states=["failed"])
    assert item.entity_id == gone.file_id
    assert "are not in this archive (missing, or waiting for a resend" in item.last_error
    assert "Errno" not in item.last_error


def test_progress_events_describe_each_entity(tmp_path, server, auth, night):
    events: list[R.ExportEvent] = []
    with source_archive(tmp_path / "src", night) as (src, exporter):
        target = add_target(exporter, server.url, *auth)
        exporter.queue.enqueue_selection(target.target_id, Selection())
        exporter.export(target.target_id, on_event=events.append)
    kinds = [e.kind for e in events]
    assert kinds[0] == R.ROUND_STARTED and events[0].remaining == 6
    assert kinds[-1] == R.ROUND_DONE and events[-1].round.complete == 6
    done = [e for e in events if e.kind == R.ITEM_DONE]
    assert [e.done for e in done] == [1, 2, 3, 4, 5, 6]
    assert [e.remaining for e in done] == [5, 4, 3, 2, 1, 0]
    assert all(e.result.ok for e in done)
    uploads = [e for e in events if e.kind == R.BYTES and e.sent == e.total]
    assert len({e.file_id for e in uploads}) == sum(len(e.files) for e in night.events) + 3
    assert {e.message for e in events if e.kind == R.STEP} >= {
        "need_status",
        "need_file_data",
        "complete",
    }
    # Entities go oldest first, as a MeteorPi node sends them.
    started = [e.item for e in events if e.kind == R.ITEM_STARTED]
    assert [i.entity_time for i in started] == sorted(i.entity_time for i in started)


def test_a_background_job_can_be_cancelled_and_one_target_runs_one_round(
    tmp_path, server, auth, night
):
    with source_archive(tmp_path / "src", night) as (src, exporter):
        target = add_target(exporter, server.url, *auth)
        exporter.queue.enqueue_selection(target.target_id, Selection())
        uploading = threading.Event()

        def on_event(e):
            if e.kind == R.BYTES:
                uploading.set()

        # 4 kB/s: the first upload takes a while, so the job is surely mid-upload.
        job = exporter.start(target.target_id, on_event=on_event, bandwidth=4096)
        assert uploading.wait(10)
        with pytest.raises(ExportBusy):
            exporter.start(target.target_id)
        with pytest.raises(ExportBusy):
            exporter.export(target.target_id)
        job.cancel()
        result = job.wait(10)
        assert result is not None and result.cancelled and result.requeued == 1
        assert result.complete == 0 and result.left == 6
        assert exporter.queue.counts(target.target_id) == {"queued": 6, "sending": 0, "failed": 0}
        assert not job.running and exporter.jobs() == []


# --------------------------------------------------------------------------- the 2015 importer


def test_export_to_the_seed_importer_is_byte_exact(tmp_path, night):
    with (
        seed_importer(tmp_path / "seed") as seed,
        source_archive(tmp_path / "src", night) as (src, exporter),
    ):
        target = add_target(exporter, seed.url)
        exporter.queue.enqueue_selection(target.target_id, Selection())

        result = exporter.export(target.target_id)

        assert result.ok and result.complete == 6, result
        assert result.resend_error == "" and result.resent == 0  # no /resend there: fine
        assert_same_at_seed(seed, night)
        # The conversation of the first event, step by step, as PROTOCOL.md has it.
        first = night.entities()[0]
        fid = getattr(first, "event_id", None) or first.file_id
        convo = seed.requests[:2]
        assert convo[0] == ("event" if hasattr(first, "event_id") else "file", fid)
        assert convo[1][0] == "status"
        assert ("cached_entity", fid) in seed.requests
        uploads = len(seed.uploads)
        assert uploads == sum(len(e.files) for e in night.events) + len(night.files)

        # Again: nothing is queued, nothing is sent.
        assert exporter.queue.enqueue_selection(target.target_id, Selection()) == 0
        n_requests = len(seed.requests)
        assert exporter.export(target.target_id).ok
        assert len(seed.requests) == n_requests and len(seed.uploads) == uploads


def test_seed_cache_misses_make_the_exporter_resend_in_full(tmp_path, night):
    # A cache of one entity: the status post evicts the event, so its cached form misses,
    # the importer empties its cache and answers continue-nocache.
    with (
        seed_importer(tmp_path / "seed", cache_size=1) as seed,
        source_archive(tmp_path / "src", night) as (src, exporter),
    ):
        target = add_target(exporter, seed.url)
        event = night.events[0]
        exporter.queue.enqueue_ids(target.target_id, [event.event_id])

        result = exporter.export(target.target_id)

        assert result.ok, result
        offers = [r for r in seed.requests if r == ("event", event.event_id)]
        assert len(offers) == 2  # once at the start, once after continue-nocache
        assert seed.events[event.event_id] == event.to_dict()


def test_interrupted_export_resumes_and_sends_only_the_rest(tmp_path, night):
    src_path = tmp_path / "src"
    entities = night.entities()
    ids = all_entity_ids(night)
    with seed_importer(tmp_path / "seed") as seed:
        with source_archive(src_path, night) as (src, exporter):
            target = add_target(exporter, seed.url)
            exporter.queue.enqueue_selection(target.target_id, Selection())
            done: list[str] = []
            cancel = threading.Event()

            def on_event(e):
                if e.kind == R.ITEM_DONE:
                    done.append(e.item.entity_id)
                # Quit half-way through the third entity's first upload.
                if e.kind == R.BYTES and len(done) == 2:
                    cancel.set()

            first = exporter.export(target.target_id, on_event=on_event, cancel=cancel)
            assert first.cancelled and first.complete == 2 and first.left == 4
            target_id = target.target_id
        sent_before = len(seed.requests)

        # Start again: a new archive object on the same folder, a new exporter.
        archive = Archive(src_path)
        try:
            exporter = Exporter(archive, FileSecrets(tmp_path / "secrets.json"))
            assert [i.entity_id for i in exporter.queue.items(target_id)] == ids[2:]
            second = exporter.export(target_id)
            assert second.ok and second.complete == 4
            assert exporter.history.exported_to(target_id, ids) == set(ids)
            exporter.close()
        finally:
            archive.close()
    offered_again = [i for what, i in seed.requests[sent_before:] if what in ("event", "file")]
    assert offered_again[0] == ids[2] and set(offered_again) == set(ids[2:])
    assert_same_at_seed(seed, night)
    # The two finished entities' files went over the wire exactly once.
    for entity in entities[:2]:
        for record in getattr(entity, "files", (entity,)):
            assert [u for u in seed.uploads if u[0] == record.file_id] == [
                (record.file_id, record.file_size)
            ]


def test_max_items_stops_a_round_after_n_entities(tmp_path, night):
    with (
        seed_importer(tmp_path / "seed") as seed,
        source_archive(tmp_path / "src", night) as (src, exporter),
    ):
        target = add_target(exporter, seed.url)
        exporter.queue.enqueue_selection(target.target_id, Selection())
        result = exporter.export(target.target_id, max_items=2)
        assert result.stopped and result.complete == 2 and result.left == 4
        assert len(seed.offers()) == 2


def test_a_user_without_the_import_role_is_refused(tmp_path, night):
    with (
        seed_importer(tmp_path / "seed") as seed,
        source_archive(tmp_path / "src", night) as (src, exporter),
    ):
        target = add_target(exporter, seed.url, user="viewer")
        exporter.queue.enqueue_selection(target.target_id, Selection())
        result = exporter.export(target.target_id)
        assert "refused the credentials" in result.error and result.left == 6
        assert seed.events == {} and seed.uploads == []
