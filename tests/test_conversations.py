"""The import log's storage: steps folded per conversation give what one-by-one gives."""

from __future__ import annotations

from meteorgui.archive import Archive
from meteorgui.archive import conversations as conv


def _steps():
    base = {"user": "cam", "kind": "event", "camera_id": "c1", "remote_addr": "10.0.0.2"}
    return [
        {**base, "entity_id": "e1", "state": conv.NEED_STATUS, "at": 1, "detail": "status?"},
        {**base, "entity_id": "e2", "state": conv.NEED_FILE_DATA, "at": 2, "attempts": 1},
        {**base, "entity_id": "e1", "state": conv.RECEIVING, "at": 3, "bytes_added": 10},
        {
            **base,
            "entity_id": "e1",
            "state": conv.NEED_FILE_DATA,
            "at": 4,
            "attempts": 2,
            "message": "md5 differed",
            "remote_addr": "10.0.0.3",
        },
        {**base, "entity_id": "e1", "state": conv.RECEIVING, "at": 5, "bytes_added": 7},
        {**base, "entity_id": "e1", "state": conv.COMPLETE, "at": 6, "detail": "archived"},
        # offered again after it was complete: a conversation of its own
        {**base, "entity_id": "e1", "state": conv.COMPLETE, "at": 7, "camera_id": None},
        {**base, "entity_id": "e2", "state": conv.FAILED, "at": 8, "message": "gave up"},
        {**base, "user": "other", "entity_id": "e2", "state": conv.RECEIVING, "at": 9},
    ]


def _dump(archive: Archive):
    convs = sorted(archive.conversations.recent(limit=100), key=lambda c: c.id)
    return [
        (c, [(s.at, s.state, s.detail) for s in archive.conversations.steps(c.id)]) for c in convs
    ]


def test_a_batch_is_recorded_as_its_steps_one_by_one(tmp_path):
    with Archive(tmp_path / "one") as one, Archive(tmp_path / "batch") as batch:
        for step in _steps():
            one.conversations.record(**step)
        returned = batch.conversations.record_many(_steps())
        assert _dump(batch) == _dump(one)
        # each touched conversation once, in its final state
        assert [(c.entity_id, c.user, c.state) for c in returned] == [
            ("e1", "cam", "complete"),
            ("e2", "cam", "failed"),
            ("e1", "cam", "complete"),
            ("e2", "other", "receiving"),
        ]
        first = returned[0]
        assert (first.bytes, first.attempts, first.message, first.remote_addr) == (
            17,
            2,
            "md5 differed",
            "10.0.0.2",
        )  # the latest address given
        assert (first.started_at, first.updated_at, first.final) == (1, 6, True)


def test_a_batch_continues_a_conversation_left_open_by_the_last(tmp_path):
    with Archive(tmp_path / "a") as archive:
        steps = _steps()
        archive.conversations.record_many(steps[:3])
        archive.conversations.record_many(steps[3:])
        assert len(archive.conversations.recent()) == 4
        e1 = [c for c in archive.conversations.recent() if c.entity_id == "e1"]
        assert sorted(c.bytes for c in e1) == [0, 17]


def test_a_batch_reads_no_conversation_back_after_writing_it(tmp_path):
    """The rows published to the hub come back with their INSERT or UPDATE (RETURNING): a
    batch of one new conversation looks for an open one, runs its INSERT (with the values
    its steps leave, no UPDATE after it) and its steps, nothing more."""
    with Archive(tmp_path / "a") as archive:
        seen: list[str] = []
        archive.db._write_conn.set_trace_callback(seen.append)
        try:
            (returned,) = archive.conversations.record_many(_steps()[5:6])
        finally:
            archive.db._write_conn.set_trace_callback(None)
        assert returned == archive.conversations.get(returned.id)
        assert (returned.state, returned.final) == (conv.COMPLETE, True)
        work = [s.split()[0] for s in seen if s.split()[0] in ("SELECT", "INSERT", "UPDATE")]
        assert work == ["SELECT", "INSERT", "INSERT"], seen
