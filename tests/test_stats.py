"""Camera health queries (meteorgui.archive.stats), through the real importer over HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from meteorgui.archive import stats
from meteorgui.archive.nights import NightClock
from meteorgui.archive.stats import Location, camera_health, dark_since, sun_altitude

from . import factories
from .conftest import CAMERA_USER

MIN = 60_000


def utc_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def local_ms(*args) -> int:
    return int(datetime(*args).timestamp() * 1000)


def now_ms() -> int:
    return int(time.time() * 1000)


class LoggedNode(factories.Node):
    """A camera node whose every conversation is in the import log when send() returns.

    The importer writes its log behind the answers (a writer thread); flushing it
    makes the health queries below deterministic without waiting for time to pass.
    """

    def __init__(self, server):
        super().__init__(server.url, *CAMERA_USER)
        self.server = server

    def send(self, pack, max_steps: int = 60) -> dict:
        answer = super().send(pack, max_steps)
        assert self.server.importer.log.flush(10)
        return answer


@pytest.fixture
def node(server):
    n = LoggedNode(server)
    yield n
    n.close()


# --------------------------------------------------------------------------- the Sun


def test_sun_altitude_matches_known_sunset_and_noon():
    # Greenwich, summer solstice 2024: sunset 21:21 BST (20:21 UTC) at -0.83 degrees.
    assert sun_altitude(utc_ms("2024-06-21T20:21"), 51.48, 0.0) == pytest.approx(-0.83, abs=0.3)
    # Winter solstice noon: 90 - 51.48 - 23.44 = 15.1 degrees.
    assert sun_altitude(utc_ms("2024-12-21T12:00"), 51.48, 0.0) == pytest.approx(15.1, abs=0.3)


def test_dark_since_is_the_end_of_civil_twilight_at_the_camera():
    cambridge = Location(52.2053, 0.1218)
    start = dark_since(utc_ms("2015-08-12T23:00"), cambridge)
    # Sunset there was about 19:31 UTC; the Sun reaches -6 degrees about 40 minutes later.
    assert utc_ms("2015-08-12T19:55") < start < utc_ms("2015-08-12T20:25")
    assert (
        sun_altitude(start, cambridge.lat, cambridge.long)
        < -6
        < sun_altitude(start - 2 * MIN, cambridge.lat, cambridge.long)
    )
    assert dark_since(utc_ms("2015-08-12T12:00"), cambridge) is None  # daylight
    # Svalbard at midsummer never gets dark; at midwinter it is dark all day.
    assert dark_since(utc_ms("2024-06-21T23:00"), Location(78.2, 15.6)) is None
    assert dark_since(utc_ms("2024-12-21T12:00"), Location(78.2, 15.6)) is not None


def test_without_a_location_night_is_18_to_8_local_time():
    assert dark_since(local_ms(2026, 1, 10, 20, 0), None) == local_ms(2026, 1, 10, 18, 0)
    assert dark_since(local_ms(2026, 1, 11, 3, 0), None) == local_ms(2026, 1, 10, 18, 0)
    assert dark_since(local_ms(2026, 1, 10, 12, 0), None) is None


def test_night_start_is_noon_to_noon_local():
    night_start = NightClock().start  # no camera location: the computer's clock
    assert night_start(local_ms(2026, 1, 10, 23, 0)) == local_ms(2026, 1, 10, 12, 0)
    assert night_start(local_ms(2026, 1, 11, 4, 0)) == local_ms(2026, 1, 10, 12, 0)
    assert NightClock(18).start(local_ms(2026, 1, 11, 4, 0)) == local_ms(2026, 1, 10, 18)


def test_format_duration():
    assert stats.format_duration(45 * MIN) == "45 min"
    assert stats.format_duration(125 * MIN) == "2 h 05 min"
    assert stats.format_duration(3 * 24 * 60 * MIN) == "3 days"


# --------------------------------------------------------------------------- health


def test_health_counts_tonight_and_last_heard(archive, node):
    st = factories.status(inst_name="Back garden", valid_from=now_ms() - 3_600_000)
    t = now_ms()
    for i in range(2):
        assert node.send(factories.event_pack(st, n_files=1, t=t + i))["state"] == "complete"
    assert node.send(factories.file_pack(st, t=t))["state"] == "complete"
    heard = now_ms()
    old = factories.event_pack(st, n_files=1, t=t - 10 * 24 * 3_600_000)  # another night
    assert node.send(old)["state"] == "complete"

    [h] = camera_health(
        archive, now_ms=now_ms(), silence_minutes=30, dark_window=lambda now, loc: now - 3_600_000
    )
    assert h.camera_id == st.camera_id and h.inst_name == "Back garden"
    assert h.label == f"Back garden ({st.camera_id})"
    # Health counts deliveries: the old night's event arrived tonight, so it counts...
    assert (h.events_tonight, h.stills_tonight, h.failures_tonight) == (3, 1, 0)
    # ...and what arrived before tonight does not.
    with archive.db.write() as conn:
        conn.execute(
            "UPDATE events SET received_at = received_at - 2 * 86400000 WHERE event_id = ?",
            (old.entity.event_id,),
        )
    [h] = camera_health(
        archive, now_ms=now_ms(), silence_minutes=30, dark_window=lambda now, loc: now - 3_600_000
    )
    assert (h.events_tonight, h.stills_tonight, h.failures_tonight) == (2, 1, 0)
    assert heard - 5_000 <= h.last_heard <= now_ms()
    assert (h.recent_failures, h.recent_total) == (0, 4)
    assert not h.silence_warning and not h.failing and h.level == "ok"
    assert h.note == "OK"


def test_silence_during_the_night_warns_only_after_the_threshold(archive, node):
    st = factories.status(valid_from=now_ms() - 3_600_000)
    assert node.send(factories.event_pack(st, n_files=1, t=now_ms()))["state"] == "complete"
    [h] = camera_health(
        archive,
        now_ms=now_ms(),
        silence_minutes=30,
        dark_window=lambda now, loc: now - 4 * 3_600_000,
    )
    last = h.last_heard

    def health(minutes_later: int, dark=lambda now, loc: now - 4 * 3_600_000, silence=30):
        [h] = camera_health(
            archive, now_ms=last + minutes_later * MIN, silence_minutes=silence, dark_window=dark
        )
        return h

    assert not health(29).silence_warning
    late = health(45)
    assert late.silence_warning and late.level == "warning"
    assert late.silent_ms == 45 * MIN
    assert late.note == "silent for 45 min during the night"
    # Daylight: a camera is expected to be quiet.
    day = health(45, dark=lambda now, loc: None)
    assert not day.silence_warning and day.level == "ok" and day.note == "OK (daylight)"
    # Dark began after it was last heard: it has not started sending tonight (idle, no warning).
    idle = health(300, dark=lambda now, loc: last + 60 * MIN)
    assert not idle.silence_warning and idle.level == "idle"
    assert idle.note == "not heard since dark"
    # The camera's location from its status reaches the dark-window function.
    seen = []
    health(1, dark=lambda now, loc: seen.append(loc))
    assert seen == [Location(st.location.lat, st.location.long)]


def test_a_camera_that_keeps_failing_is_flagged(archive, node):
    st = factories.status(valid_from=now_ms() - 3_600_000)
    assert node.send(factories.event_pack(st, n_files=1))["state"] == "complete"
    for i in range(3):
        pack = factories.event_pack(st, n_files=1, t=factories.T0 + 10_000 + i)
        node.corrupt = {pack.entity.files[0].file_id}
        answer = node.send(pack)
        assert answer["state"] == "failed", answer
        if i == 1:
            [h] = camera_health(archive, now_ms=now_ms(), silence_minutes=30)
            assert not h.failing and h.recent_failures == 2
    [h] = camera_health(
        archive, now_ms=now_ms(), silence_minutes=30, dark_window=lambda now, loc: None
    )
    assert h.failing and h.level == "error"
    assert (h.recent_failures, h.recent_total, h.failures_tonight) == (3, 4, 3)
    assert h.note == "failing: 3 of its last 4 conversations failed"


def test_resend_requests_are_not_hearing_from_the_camera(archive, node):
    from meteorgui.importer import Importer

    st = factories.status(valid_from=now_ms() - 3_600_000)
    pack = factories.event_pack(st, n_files=1)
    assert node.send(pack)["state"] == "complete"
    [before] = camera_health(archive, now_ms=now_ms(), silence_minutes=30)
    importer = Importer(archive)
    importer.request_resend(pack.entity.event_id)
    importer.close()  # writes its log entry
    assert archive.conversations.recent(1)[0].state == "resend_requested"
    [after] = camera_health(archive, now_ms=now_ms() + 10 * MIN, silence_minutes=30)
    assert after.last_heard == before.last_heard
    assert after.recent_total == before.recent_total


def test_cameras_known_only_from_statuses_are_listed(archive):
    st = factories.status(camera="0123456789ab", inst_name="Roof")
    archive.store_status(st)
    [h] = camera_health(archive, now_ms=now_ms(), silence_minutes=30)
    assert (h.camera_id, h.inst_name, h.last_heard) == ("0123456789ab", "Roof", None)
    assert not h.silence_warning


def test_failures_the_camera_made_good_are_over(archive, node):
    st = factories.status(valid_from=now_ms() - 3_600_000)
    packs = [factories.event_pack(st, n_files=1, t=factories.T0 + 10_000 + i) for i in range(3)]
    for pack in packs:  # three uploads damaged in transit...
        node.corrupt = {pack.entity.files[0].file_id}
        assert node.send(pack)["state"] == "failed"
    node.corrupt = set()
    for pack in packs:  # ...and delivered in the camera's next round
        assert node.send(pack)["state"] == "complete"
    [h] = camera_health(
        archive, now_ms=now_ms(), silence_minutes=30, dark_window=lambda now, loc: None
    )
    assert not h.failing and h.level == "ok"
    assert (h.recent_failures, h.failures_tonight) == (0, 0)
    counts = archive.conversations.counts_since(now_ms() - 3_600_000)
    assert (counts["complete"], counts["failed"], counts["stuck"]) == (3, 0, 0)
    other = factories.event_pack(st, n_files=1)
    node.corrupt = {other.entity.files[0].file_id}
    assert node.send(other)["state"] == "failed"  # one not made good still counts
    assert archive.conversations.counts_since(now_ms() - 3_600_000)["failed"] == 1


def test_a_camera_that_stopped_before_dark_is_missed_after_a_day(archive, node):
    st = factories.status(valid_from=now_ms() - 3_600_000)
    assert node.send(factories.event_pack(st, n_files=1, t=now_ms()))["state"] == "complete"
    [h] = camera_health(archive, now_ms=now_ms(), silence_minutes=30)
    last = h.last_heard

    def health(hours_later: float, dark=lambda now, loc: None):
        [h] = camera_health(
            archive,
            now_ms=last + int(hours_later * 3_600_000),
            silence_minutes=30,
            dark_window=dark,
        )
        return h

    assert health(20).level == "ok"  # daylight, heard today
    days = health(3 * 24)  # daylight or not, three days without a word
    assert days.silence_warning and days.level == "warning"
    assert days.note == "not heard for 3 days"
    tonight = health(3 * 24, dark=lambda now, loc: now - 3_600_000)
    assert tonight.level == "warning" and tonight.note.startswith("not heard for 3 d")
    assert not health(8 * 24).silence_warning  # a week later: retired, not nagged about


def test_stuck_conversations_are_counted_apart(archive, node, server):
    st = factories.status(valid_from=now_ms() - 3_600_000)
    pack = factories.event_pack(st, n_files=1)
    node.post({"type": "status", "status": st.to_dict()})
    assert node.post(factories.message(pack.entity))["state"] == "need_file_data"
    assert server.importer.log.flush(10)
    since = now_ms() - 3_600_000
    assert archive.conversations.counts_since(since)["pending"] >= 1
    later = archive.conversations.counts_since(since, now=now_ms() + 10 * MIN)
    assert later["stuck"] == 1


def test_a_camera_quiet_for_over_a_week_is_retired_not_ok(archive, node):
    st = factories.status(valid_from=now_ms() - 3_600_000)
    assert node.send(factories.event_pack(st, n_files=1, t=now_ms()))["state"] == "complete"
    [h] = camera_health(archive, now_ms=now_ms(), silence_minutes=30)
    for days in (8, 30):  # by day and by night alike
        for dark in (lambda now, loc: None, lambda now, loc: now - 3_600_000):
            [old] = camera_health(
                archive,
                now_ms=h.last_heard + days * 24 * 3_600_000,
                silence_minutes=30,
                dark_window=dark,
            )
            assert old.level == "idle" and old.retired and not old.silence_warning
            assert old.note == f"not heard for {days} days; no longer watched"


def test_a_camera_whose_every_try_failed_is_still_missed_after_the_lookback(archive, node):
    st = factories.status(camera="0a0b0c0d0e0f", valid_from=now_ms() - 3_600_000)
    pack = factories.event_pack(st, n_files=1)
    node.corrupt = {pack.entity.files[0].file_id}
    assert node.send(pack)["state"] == "failed"  # nothing of it is archived
    heard = archive.conversations.recent(1)[0].updated_at
    [h] = [
        c
        for c in camera_health(
            archive,
            now_ms=heard + 3 * 24 * 3_600_000,
            silence_minutes=30,
            dark_window=lambda now, loc: None,
        )
        if c.camera_id == "0a0b0c0d0e0f"
    ]
    assert h.last_heard == heard and h.silence_warning and h.note.startswith("not heard for")


def test_made_good_is_one_index_seek(archive):
    from meteorgui.archive.conversations import MADE_GOOD

    plan = " ".join(
        r[-1]
        for r in archive.db.read().execute(
            f"EXPLAIN QUERY PLAN SELECT COUNT(*) FROM conversations c WHERE NOT ({MADE_GOOD})"
        )
    )
    assert "conversations_entity_state" in plan


@pytest.mark.parametrize(
    "sql, index",
    [
        (stats.EVENTS_ARRIVED, "events_camera_received"),
        (stats.STILLS_ARRIVED, "files_standalone_received"),
    ],
)
def test_tonights_counts_are_read_from_an_index_alone(archive, sql, index):
    # A camera uploading a week's backlog puts every row in tonight's range: counting them
    # must not look each one up in the table for its camera, nor sort them.
    rows = archive.db.read().execute("EXPLAIN QUERY PLAN " + sql, ("b827eb0a1c2d", 0, 1))
    plan = " | ".join(r[-1] for r in rows)
    wanted = f"USING COVERING INDEX {index} (camera_id=? AND received_at>? AND received_at<?)"
    assert plan == f"SEARCH {'events' if 'events' in sql else 'files'} {wanted}", plan
