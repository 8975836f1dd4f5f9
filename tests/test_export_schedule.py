"""Scheduled export rules with an injected clock: windows, back-off, bandwidth, searches."""

from __future__ import annotations

import socket
import sqlite3
from datetime import UTC, datetime

import pytest

from meteorgui import notify
from meteorgui.archive import exports
from meteorgui.exporter import Exporter, FileSecrets, RuleError, Scheduler, Selection, Throttle
from meteorgui.exporter import rules as RS
from meteorgui.exporter import runner as R
from meteorgui.exporter.schedule import backoff_seconds, in_window, next_window_open

from .export_helpers import SEED_USERS, seed_importer, small_night, source_archive
from .factories import wait_for


class FakeClock:
    """Epoch seconds that move only when told (or when something sleeps on them)."""

    def __init__(self, t: float):
        self.t = t
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/import"


def rule_at(window=None):
    w = RS.parse_window(window)
    return RS.Rule(
        1, "r", "t", Selection(), window_start=w[0] if w else None, window_end=w[1] if w else None
    )


# --------------------------------------------------------------------------- pure logic


def test_windows_in_local_time():
    day = rule_at("09:00-17:00")
    assert in_window(day, at("2026-11-25T09:00"), UTC)
    assert in_window(day, at("2026-11-25T16:59"), UTC)
    assert not in_window(day, at("2026-11-25T17:00"), UTC)
    assert not in_window(day, at("2026-11-25T08:59"), UTC)
    assert next_window_open(day, at("2026-11-25T20:00"), UTC) == at("2026-11-26T09:00")
    assert next_window_open(day, at("2026-11-25T07:00"), UTC) == at("2026-11-25T09:00")
    night = rule_at("22:00-06:00")
    assert in_window(night, at("2026-11-25T23:30"), UTC)
    assert in_window(night, at("2026-11-26T05:59"), UTC)
    assert not in_window(night, at("2026-11-26T12:00"), UTC)
    assert in_window(rule_at(None), at("2026-11-26T12:00"), UTC)
    for bad in ("9-17", "09:00-09:00", "25:00-26:00", "09:60-10:00"):
        with pytest.raises(RuleError):
            RS.parse_window(bad)


def test_backoff_doubles_up_to_its_cap():
    assert [backoff_seconds(n, 60, 600) for n in range(0, 7)] == [0, 60, 120, 240, 480, 600, 600]
    assert backoff_seconds(10_000, 60, 600) == 600


def test_throttle_computes_the_sleeps_a_cap_needs():
    clock = FakeClock(0.0)
    throttle = Throttle(100_000, burst=20_000, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        throttle.consume(10_000)  # 1 MB in reads of 10 kB
    # Everything beyond the initial burst waits for the cap: (1e6 - 2e4) / 1e5 = 9.8 s.
    assert sum(clock.sleeps) == pytest.approx(9.8)
    assert throttle.slept == pytest.approx(9.8)
    # After a pause the bucket refills, but only up to the burst.
    clock.advance(60)
    clock.sleeps.clear()
    throttle.consume(20_000)
    assert clock.sleeps == []
    throttle.consume(10_000)
    assert sum(clock.sleeps) == pytest.approx(0.1)


# --------------------------------------------------------------------------- selections


def test_selection_by_camera_type_review_and_age(tmp_path):
    night = small_night(events=4, timelapse=4)
    with source_archive(tmp_path / "src", night) as (archive, exporter):
        cam = night.events[0].camera_id
        everything = exports.entities(archive, Selection())
        assert len(everything) == 8
        assert [t for _, _, t in everything] == sorted(t for _, _, t in everything)
        by_cam = exports.entities(archive, Selection(camera_id=cam))
        assert by_cam and all(archive.get_event(i) or archive.get_file(i) for _, i, _ in by_cam)
        assert {
            archive.get_event(i).camera_id if k == "event" else archive.get_file(i).camera_id
            for k, i, _ in by_cam
        } == {cam}
        only_events = exports.entities(archive, Selection(event_type="meteorpi:meteor"))
        assert {k for k, _, _ in only_events} == {"event"}
        assert exports.count(archive, Selection(files=False)) == 4
        assert exports.count(archive, Selection(events=False)) == 4

        reviewed = night.events[2].event_id
        with archive.db.write() as conn:
            conn.execute(
                "INSERT INTO reviews (event_id, label, reviewed_at) VALUES (?, ?, ?)",
                (reviewed, "meteor", 1),
            )
        assert [i for _, i, _ in exports.entities(archive, Selection(review="meteor"))] == [
            reviewed
        ]
        assert exports.count(archive, Selection(review="plane")) == 0
        assert exports.count(archive, Selection(review="reviewed")) == 1
        assert exports.count(archive, Selection(review="unreviewed")) == 3

        newest = max(t for _, _, t in everything)
        young = exports.entities(archive, Selection(max_age_s=3600), now_ms=newest + 1000)
        assert young and all(t >= newest + 1000 - 3_600_000 for _, _, t in young)
        old = exports.entities(archive, Selection(min_age_s=3600), now_ms=newest + 1000)
        assert len(old) + len(young) == 8
        with pytest.raises(exports.SelectionError):
            Selection(events=False, files=False)
        assert Selection.from_json(
            Selection(camera_id=cam, review="meteor").to_json()
        ) == Selection(camera_id=cam, review="meteor")


def test_review_filter_tolerates_an_archive_without_reviews():
    conn = sqlite3.connect(":memory:")
    conn.executescript(
        "CREATE TABLE events (event_id, camera_id, status_id, event_time, event_type);"
        "CREATE TABLE files (file_id, event_id, camera_id, file_time);"
        "CREATE TABLE export_done (target_id, entity_id);"
        "INSERT INTO events VALUES ('e1', 'c', 's', 5, 'meteorpi:meteor');"
    )
    try:
        for review, expected in (("unreviewed", 1), ("reviewed", 0), ("meteor", 0)):
            sql, args = exports.select_sql(conn, Selection(review=review))
            assert len(conn.execute(sql, args).fetchall()) == expected
    finally:
        conn.close()


def test_not_exported_to_is_a_filter_for_any_event_query(tmp_path):
    night = small_night(events=3, timelapse=0)
    with source_archive(tmp_path / "src", night) as (archive, exporter):
        t = exporter.targets.add("x", "http://127.0.0.1:9/import", "u")
        with archive.db.write() as conn:
            conn.execute(
                "INSERT INTO export_done (target_id, entity_id, kind, completed_at)"
                " VALUES (?, ?, 'event', 1)",
                (t.target_id, night.events[0].event_id),
            )
        f = exporter.history.not_exported_to(t.target_id)
        rows = (
            archive.db.read()
            .execute(
                f"SELECT event_id FROM event_summary WHERE {f.sql} ORDER BY event_time", f.args
            )
            .fetchall()
        )
        assert [r[0] for r in rows] == [e.event_id for e in night.events[1:]]
        assert exporter.history.exported_to(t.target_id, [e.event_id for e in night.events]) == {
            night.events[0].event_id
        }
        assert exporter.history.count(t.target_id) == 1
        assert exports.count(archive, Selection(), not_exported=t.target_id) == 2


# --------------------------------------------------------------------------- rules


def test_rules_crud_and_state_is_kept(tmp_path):
    with source_archive(tmp_path / "src") as (archive, exporter):
        t = exporter.targets.add("x", "http://127.0.0.1:9/import", "u", "pw")
        rules = exporter.rules
        r = rules.add(
            "daytime",
            t.target_id,
            Selection(camera_id="cam1"),
            window="09:00-17:00",
            bandwidth=50_000,
            interval_s=600,
        )
        assert (r.window, r.window_text, r.state, r.enabled) == (
            (540, 1020),
            "09:00-17:00",
            "idle",
            True,
        )
        assert r.selection == Selection(camera_id="cam1")
        with pytest.raises(RuleError, match="no export target"):
            rules.add("orphan", "f" * 32)
        with pytest.raises(RuleError, match="bandwidth"):
            rules.add("tiny", t.target_id, bandwidth=10)
        r2 = rules.update(r.rule_id, window=None, bandwidth=None, name="always")
        assert (r2.window, r2.bandwidth, r2.name) == (None, None, "always")
        assert rules.set_enabled(r.rule_id, False).state == "disabled"
        # The scheduler recording a state never re-enables or hides a disabled rule.
        assert rules.record(r.rule_id, state="ok").state == "disabled"
        assert rules.set_enabled(r.rule_id, True).state == "idle"


def make_scheduler(exporter, clock, **kw):
    return Scheduler(exporter, clock=clock, tz=UTC, base_backoff=60, max_backoff=600, **kw)


def test_failures_back_off_exponentially_up_to_a_cap_and_never_disable(tmp_path):
    night = small_night(events=1, timelapse=1)
    clock = FakeClock(at("2026-11-25T12:00"))
    seen = []
    with (
        source_archive(tmp_path / "src", night) as (archive, exporter),
        seed_importer(tmp_path / "seed") as seed,
    ):
        t = exporter.targets.add("down", closed_port_url(), "exporter", SEED_USERS["exporter"][0])
        rule = exporter.rules.add("push", t.target_id)
        sched = make_scheduler(exporter, clock)

        def rule_changed(change):  # the state of the rule as each change left it
            if isinstance(change, notify.RuleChanged):
                seen.append(exporter.rules.get(change.rule_id))

        archive.hub.subscribe(notify.CHANGED, rule_changed)
        waits = []
        for _ in range(8):
            [r] = sched.tick()
            assert (r.state, r.enabled) == ("backing_off", True)
            assert "cannot reach the importer" in r.last_error
            waits.append(r.next_attempt_at / 1000 - clock())
            assert sched.tick() == []  # not due yet
            clock.advance(waits[-1])
        assert waits == [60, 120, 240, 480, 600, 600, 600, 600]
        assert exporter.rules.get(rule.rule_id).failures == 8
        assert "running" in [r.state for r in seen]
        assert exporter.queue.pending(t.target_id) == 2  # still queued, never dropped

        # The target comes back: the next attempt succeeds and the failures are forgotten.
        exporter.targets.update(t.target_id, url=seed.url)
        [r] = sched.tick()
        assert (r.state, r.failures, r.last_error) == ("ok", 0, None)
        assert r.next_attempt_at / 1000 == pytest.approx(clock() + r.interval_s)
        assert set(seed.events) == {night.events[0].event_id}


def test_a_rule_waits_for_its_window_and_stops_when_it_closes(tmp_path):
    night = small_night(events=2, timelapse=2)
    clock = FakeClock(at("2026-11-25T20:00"))
    with (
        source_archive(tmp_path / "src", night) as (archive, exporter),
        seed_importer(tmp_path / "seed") as seed,
    ):
        t = exporter.targets.add("central", seed.url, "exporter", SEED_USERS["exporter"][0])
        exporter.rules.add("office hours", t.target_id, window="09:00-17:00")

        def on_event(e):
            # The first entity takes until after 17:00.
            if e.kind == R.ITEM_DONE and e.done == 1:
                clock.t = at("2026-11-26T17:00:30")

        sched = make_scheduler(exporter, clock, on_event=on_event)
        [r] = sched.tick()
        assert (r.state, r.next_attempt_at) == ("waiting", at("2026-11-26T09:00") * 1000)
        assert seed.requests == []
        clock.t = at("2026-11-26T08:59")
        assert sched.tick() == []

        clock.t = at("2026-11-26T09:00")
        [r] = sched.tick()
        assert (r.state, r.failures, r.last_error) == ("waiting", 0, None)
        assert r.next_attempt_at == at("2026-11-27T09:00") * 1000
        assert len(seed.offers()) == 1
        assert exporter.queue.pending(t.target_id) == 3


def test_a_rule_with_a_bandwidth_cap_streams_through_the_throttle(tmp_path):
    night = small_night(events=1, timelapse=2)
    clock = FakeClock(at("2026-11-25T12:00"))
    throttles = []

    def factory(rate, cancel):
        throttles.append(Throttle(rate, clock=clock, sleep=clock.sleep))
        return throttles[-1]

    with (
        seed_importer(tmp_path / "seed") as seed,
        source_archive(tmp_path / "src", night) as (archive, _),
    ):
        exporter = Exporter(archive, FileSecrets(tmp_path / "pw.json"), throttle_factory=factory)
        t = exporter.targets.add("central", seed.url, "exporter", SEED_USERS["exporter"][0])
        exporter.rules.add("capped", t.target_id, bandwidth=50_000)
        [r] = make_scheduler(exporter, clock).tick()
        assert r.state == "ok"
        exporter.close()
    [throttle] = throttles
    sent = sum(f.file_size for e in night.events for f in e.files)
    sent += sum(f.file_size for f in night.files)
    assert throttle.rate == 50_000 and throttle.consumed == sent
    # Every byte beyond the first burst waited for the cap.
    assert sum(clock.sleeps) == pytest.approx((sent - throttle.burst) / 50_000, rel=1e-6)


def test_a_busy_target_makes_a_rule_wait_without_failing(tmp_path):
    clock = FakeClock(at("2026-11-25T12:00"))
    with source_archive(tmp_path / "src") as (archive, exporter):
        t = exporter.targets.add("x", closed_port_url(), "u", "pw")
        exporter.rules.add("r", t.target_id)
        lock = exporter._target_lock(t.target_id)
        with lock:  # a manual export to the same target is running
            [r] = make_scheduler(exporter, clock).tick()
        assert (r.state, r.failures) == ("waiting", 0)
        assert r.next_attempt_at == (clock() + 60) * 1000


def test_disabled_rules_do_not_run(tmp_path):
    clock = FakeClock(at("2026-11-25T12:00"))
    with source_archive(tmp_path / "src") as (archive, exporter):
        t = exporter.targets.add("x", closed_port_url(), "u", "pw")
        exporter.rules.add("off", t.target_id, enabled=False)
        assert make_scheduler(exporter, clock).tick() == []
        assert exporter.rules.list()[0].state == "disabled"


def test_the_scheduler_thread_runs_rules_and_stops(tmp_path):
    night = small_night(events=1, timelapse=1)
    with (
        seed_importer(tmp_path / "seed") as seed,
        source_archive(tmp_path / "src", night) as (archive, exporter),
    ):
        t = exporter.targets.add("central", seed.url, "exporter", SEED_USERS["exporter"][0])
        rule = exporter.rules.add("now", t.target_id)
        sched = Scheduler(exporter, poll=0.2)
        sched.start()
        try:
            wait_for(
                lambda: exporter.rules.get(rule.rule_id).state == "ok",
                what=lambda: exporter.rules.get(rule.rule_id),
            )
        finally:
            sched.stop()
        assert not sched.running
        assert len(seed.offers()) == 2


def test_a_rule_added_anywhere_in_the_process_runs_without_waiting_for_the_poll(tmp_path):
    """The scheduler hears a rule's change on the hub, whoever made it (a dialog, a script),
    so nobody has to wake it by hand."""
    night = small_night(events=1, timelapse=1)
    with (
        seed_importer(tmp_path / "seed") as seed,
        source_archive(tmp_path / "src", night) as (archive, exporter),
    ):
        t = exporter.targets.add("central", seed.url, "exporter", SEED_USERS["exporter"][0])
        real_list, looks = exporter.rules.list, []

        def listed():
            looks.append(1)
            return real_list()

        exporter.rules.list = listed
        sched = Scheduler(exporter, poll=3600)  # on its own, it would look again in an hour
        sched.start()
        try:
            wait_for(lambda: len(looks) >= 2)  # its first look (due rules, next wake-up) is over
            rule = exporter.rules.add("now", t.target_id)
            wait_for(
                lambda: exporter.rules.get(rule.rule_id).state == "ok",
                what=lambda: exporter.rules.get(rule.rule_id),
            )
        finally:
            sched.stop()
        assert len(seed.offers()) == 2


def test_a_failure_while_choosing_the_next_wake_up_does_not_stop_the_scheduler(tmp_path, caplog):
    with source_archive(tmp_path / "src") as (archive, exporter):
        real_list, calls = exporter.rules.list, []

        def flaky_list():
            calls.append(1)
            if len(calls) == 2:  # the first wake-up's look at the rules
                raise sqlite3.OperationalError("database is locked")
            return real_list()

        exporter.rules.list = flaky_list
        sched = Scheduler(exporter, poll=0.05)
        sched.start()
        try:
            wait_for(lambda: len(calls) >= 5, what=lambda: f"{len(calls)} looks at the rules")
            assert sched.running
        finally:
            sched.stop()
        assert "database is locked" in caplog.text


def test_entities_the_target_keeps_refusing_do_not_hold_up_a_rule(tmp_path):
    from meteorgui.archive.export_queue import RULE_ATTEMPTS

    from .test_client_unit import PASSWORD, USER, ScriptedImporter
    from .wsgi_server import serving

    night = small_night(events=6, timelapse=0)
    events = sorted(night.events, key=lambda e: (e.event_time, e.event_id))
    refused = {e.event_id for e in events[:4]}  # the oldest, sent first: 4 failures in a row
    importer = ScriptedImporter()
    importer.script = lambda m: (
        {"state": "failed", "message": "this event is refused"}
        if ((m.get("event") or {}).get("event_id") or m.get("cached_entity_id")) in refused
        else None
    )
    clock = FakeClock(at("2026-11-25T12:00"))
    with (
        serving(importer.app, "/import") as url,
        source_archive(tmp_path / "src", night) as (archive, exporter),
    ):
        t = exporter.targets.add("central", url, USER, PASSWORD)
        rule = exporter.rules.add("push", t.target_id, Selection(files=False))
        sched = make_scheduler(exporter, clock)
        states = []
        for _ in range(RULE_ATTEMPTS + 2):
            [r] = sched.tick()
            states.append(r.state)
            clock.advance(r.next_attempt_at / 1000 - clock())
        # Each refused event is tried RULE_ATTEMPTS times, then left failed for the user.
        assert states[:RULE_ATTEMPTS] == ["backing_off"] * RULE_ATTEMPTS
        assert states[RULE_ATTEMPTS:] == ["ok", "ok"]
        assert importer.archived == {e.event_id for e in events[4:]}
        failed = exporter.queue.items(t.target_id, states=["failed"])
        assert {i.entity_id for i in failed} == refused
        assert all(i.attempts == RULE_ATTEMPTS for i in failed)
        # One refusal among good events is shown, but is not the rule's failure.
        refused.clear()
        refused.add(events[4].event_id)
        exporter.queue.enqueue_ids(t.target_id, [events[4].event_id], force=True)
        exporter.rules.record(rule.rule_id, next_attempt_at=None)
        [r] = sched.tick()
        assert (r.state, r.failures) == ("ok", 0)
        assert "1 entity refused" in r.last_error and "this event is refused" in r.last_error
        # The user's retry still sends them.
        assert exporter.queue.retry(t.target_id) == 5
