"""A tiny thread-safe publish/subscribe hub, and the messages it carries.

Every change to the archive, whatever made it (a camera's import, a review, a resend
request, an export), is published by the archive itself, after its commit, as one typed
message on the ``CHANGED`` topic; views subscribe (the GUI through its bridge) instead of
being refreshed by whoever made the change. The import log publishes ``CONVERSATION``
and the importer's server ``SERVER``.

Publishers call subscribers on their own thread (a waitress worker, an export round,
the GUI's task pool); a subscriber hands work to its own thread itself. A failing
subscriber is logged and never breaks the publisher.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

log = logging.getLogger(__name__)

# Topics
CONVERSATION = "conversation"  # payload: archive.Conversation, after it was persisted
CHANGED = "changed"  # payload: one of the change messages below, after the commit
SERVER = "server"  # payload: dict(state=..., urls=[...], message=...)
SKY = "sky"  # payload: list of archive.sky.SkyResult just computed and stored
LOGIN_REFUSED = "login_refused"  # payload: importer.logins.Refused


class Archived(NamedTuple):
    """An event, file or camera status newly archived (``kind`` 'event', 'file' or
    'status')."""

    kind: str
    entity: Any  # model.Event or model.FileRecord

    @property
    def entity_ids(self) -> tuple[str, ...]:
        e = self.entity
        ident = {"event": "event_id", "file": "file_id", "status": "status_id"}[self.kind]
        return (getattr(e, ident),)


class Reviewed(NamedTuple):
    """Events labelled by the user (None: the label was cleared)."""

    labels: dict[str, str | None]

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return tuple(self.labels)


class ResendRequested(NamedTuple):
    """Files whose bytes will be asked for again; ``entity_id`` is what the camera offers."""

    entity_id: str
    file_ids: tuple[str, ...]

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return (self.entity_id, *self.file_ids)


class ResendSettled(NamedTuple):
    """Files whose asked-for bytes arrived again (their resend requests are answered)."""

    file_ids: tuple[str, ...]

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return self.file_ids


class Exported(NamedTuple):
    """An export target answered 'complete' for an event or file."""

    target_id: str
    entity_id: str
    kind: str  # 'event' or 'file'

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return (self.entity_id,)


class QueueChanged(NamedTuple):
    """Entities entered an export target's queue, went back in line or left it, other than
    by a round's own sending (``how``: 'queued', 'retried' or 'removed'; ``rows``: how many)."""

    target_id: str
    how: str
    rows: int

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return ()  # a search can queue a whole archive: views re-read the target's queue


class HistoryForgotten(NamedTuple):
    """A target's export history was dropped (``ids`` None: all of it), so a normal export
    sends those entities again."""

    target_id: str
    ids: tuple[str, ...] | None
    rows: int

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return self.ids or ()


class TargetChanged(NamedTuple):
    """An export target was added, edited or removed (``how``), with its queue and history."""

    target_id: str
    how: str

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return ()


class RuleChanged(NamedTuple):
    """A scheduled export rule was added, edited (its settings or its run state, by the
    user or the scheduler) or removed (``how``)."""

    rule_id: int
    how: str

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return ()


class UsersChanged(NamedTuple):
    """A login was added, removed or given a new password or roles (``how``: 'added',
    'removed', 'password', 'roles'). Never carries a password."""

    name: str
    how: str

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return ()


Change = (
    Archived
    | Reviewed
    | ResendRequested
    | ResendSettled
    | Exported
    | QueueChanged
    | HistoryForgotten
    | TargetChanged
    | RuleChanged
    | UsersChanged
)


class Hub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, list[Callable[[Any], None]]] = {}

    def subscribe(self, topic: str, callback: Callable[[Any], None]) -> Callable[[], None]:
        with self._lock:
            self._subs.setdefault(topic, []).append(callback)

        def unsubscribe() -> None:
            with self._lock:
                subs = self._subs.get(topic, [])
                if callback in subs:
                    subs.remove(callback)

        return unsubscribe

    def publish(self, topic: str, payload: Any) -> None:
        with self._lock:
            subs = list(self._subs.get(topic, ()))
        for callback in subs:
            try:
                callback(payload)
            except Exception:
                log.exception("a subscriber to %r failed", topic)
