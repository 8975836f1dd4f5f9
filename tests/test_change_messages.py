"""The archive publishes each change of the export queue, history, targets and rules as a
typed message after its commit, whoever calls it (real SQLite; no GUI)."""

from __future__ import annotations

import pytest

from meteorgui import notify
from meteorgui.exporter import Selection, TargetError

from .export_helpers import small_night, source_archive


class Heard:
    """Every change message, with what a fresh reader saw when it arrived (so a message
    published before the commit would show the old state)."""

    def __init__(self, archive, exporter, target_id: str):
        self.messages: list = []
        self.seen: list = []
        self._exporter, self._tid = exporter, target_id
        archive.hub.subscribe(notify.CHANGED, self._heard)

    def _heard(self, change) -> None:
        self.messages.append(change)
        ex = self._exporter
        queue = ex.queue.counts(self._tid)
        self.seen.append((queue["queued"], queue["failed"], ex.history.count(self._tid)))

    def take(self) -> list:
        out, self.messages = self.messages, []
        return out


def test_queue_and_history_changes_are_published_after_their_commit(tmp_path):
    night = small_night(events=2, timelapse=1)
    with source_archive(tmp_path / "src", night) as (archive, exporter):
        t = exporter.targets.add("club", "http://127.0.0.1:9/import", "u")
        tid, queue = t.target_id, exporter.queue
        heard = Heard(archive, exporter, tid)

        assert queue.enqueue_selection(tid, Selection()) == 3
        assert heard.take() == [notify.QueueChanged(tid, "queued", 3)]
        assert heard.seen[-1] == (3, 0, 0)
        assert queue.enqueue_selection(tid, Selection()) == 0
        assert heard.take() == []  # nothing changed, nothing said

        item = queue.claim_next(tid)  # a round's own steps are its progress events
        queue.fail(item, "refused")
        assert heard.take() == []
        assert queue.retry(tid) == 1
        assert heard.take() == [notify.QueueChanged(tid, "retried", 1)]

        item = queue.claim_next(tid)
        queue.complete(item, 10)
        assert heard.take() == [notify.Exported(tid, item.entity_id, item.kind)]
        assert heard.seen[-1] == (2, 0, 1)

        other = next(e.event_id for e in night.events if e.event_id != item.entity_id)
        assert queue.remove(tid, [other]) == 1
        assert heard.take() == [notify.QueueChanged(tid, "removed", 1)]
        assert heard.seen[-1] == (1, 0, 1)

        assert exporter.history.forget(tid, [item.entity_id]) == 1
        [forgot] = heard.take()
        assert forgot == notify.HistoryForgotten(tid, (item.entity_id,), 1)
        assert forgot.entity_ids == (item.entity_id,)
        assert heard.seen[-1] == (1, 0, 0)
        assert exporter.history.forget(tid) == 0
        assert heard.take() == []


def test_targets_and_rules_changes_are_published_after_their_commit(tmp_path):
    with source_archive(tmp_path / "src") as (archive, exporter):
        messages: list = []
        archive.hub.subscribe(notify.CHANGED, messages.append)
        t = exporter.targets.add("club", "http://127.0.0.1:9/import", "u")
        exporter.targets.update(t.target_id, name="the club")
        rule = exporter.rules.add("nightly", t.target_id)
        exporter.rules.record(rule.rule_id, state="ok")
        exporter.rules.set_enabled(rule.rule_id, False)
        with pytest.raises(TargetError):
            exporter.targets.remove(t.target_id)  # a rule uses it: nothing changes
        exporter.rules.remove(rule.rule_id)
        exporter.targets.remove(t.target_id)
        assert messages == [
            notify.TargetChanged(t.target_id, "added"),
            notify.TargetChanged(t.target_id, "changed"),
            notify.RuleChanged(rule.rule_id, "added"),
            notify.RuleChanged(rule.rule_id, "changed"),
            notify.RuleChanged(rule.rule_id, "changed"),
            notify.RuleChanged(rule.rule_id, "removed"),
            notify.TargetChanged(t.target_id, "removed"),
        ]


def test_login_changes_are_published_without_their_password(tmp_path):
    with source_archive(tmp_path / "src") as (archive, _exporter):
        messages: list = []
        archive.hub.subscribe(notify.CHANGED, messages.append)
        users = archive.users
        users.add("garden-cam", "first secret")
        users.set_password("garden-cam", "second secret")
        users.set_roles("garden-cam", ["import", "user"])
        users.remove("garden-cam")
        assert messages == [
            notify.UsersChanged("garden-cam", "added"),
            notify.UsersChanged("garden-cam", "password"),
            notify.UsersChanged("garden-cam", "roles"),
            notify.UsersChanged("garden-cam", "removed"),
        ]
        assert "secret" not in repr(messages)
