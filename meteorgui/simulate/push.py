"""Pushing a simulated night to an importer, as a MeteorPi node's exporter does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from meteorgui.exporter.client import ImportClient
from meteorgui.formatting import size
from meteorgui.model import Event, FileRecord

from .night import Night


@dataclass
class PushSummary:
    total: int = 0
    complete: int = 0
    failed: int = 0
    skipped: int = 0
    bytes_sent: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.complete == self.total

    def line(self) -> str:
        text = (
            f"{self.total} entities: {self.complete} complete, {self.failed} failed"
            f"{f', {self.skipped} not sent' if self.skipped else ''}; "
            f"{size(self.bytes_sent)} uploaded in {self.seconds:.1f} s"
        )
        return text


def push_night(
    night: Night,
    client: ImportClient,
    *,
    rate: float | None = None,
    on_progress: Callable[[str], None] | None = print,
    stop: threading.Event | None = None,
    max_failures_in_row: int | None = 4,
    entities: list[Event | FileRecord] | None = None,
) -> PushSummary:
    """Send every event and time-lapse file of ``night``, oldest first.

    ``rate`` limits sending to that many entities a second. ``on_progress``
    gets one line per entity. ``stop`` (set from another thread) ends the push,
    dropping the entity in flight. After ``max_failures_in_row`` failures in a row the push
    stops, as a real MeteorPi exporter disables its export then; the rest
    count as skipped.
    """
    if rate is not None and rate <= 0:
        raise ValueError("rate must be positive")
    entities = night.entities() if entities is None else entities
    summary = PushSummary(total=len(entities))
    waiter = stop or threading.Event()
    started = time.monotonic()
    in_row = 0
    width = len(str(len(entities)))
    for i, entity in enumerate(entities):
        if rate is not None:
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                waiter.wait(delay)
        if waiter.is_set() or (max_failures_in_row is not None and in_row >= max_failures_in_row):
            summary.skipped = len(entities) - i
            if on_progress is not None:
                why = "stopped" if waiter.is_set() else f"{in_row} failures in a row"
                on_progress(f"{why}: not sending the remaining {summary.skipped}")
            break
        result = client.send(
            entity, status_for=night.status, open_file=night.open_file, cancelled=waiter.is_set
        )
        summary.bytes_sent += result.bytes_sent
        if result.state == "cancelled":
            summary.skipped = len(entities) - i
            if on_progress is not None:
                on_progress(f"stopped: not sending the remaining {summary.skipped}")
            break
        if result.ok:
            summary.complete += 1
            in_row = 0
        else:
            summary.failed += 1
            in_row += 1
            summary.failures.append((result.entity_id, result.message))
        if on_progress is not None:
            if result.ok:
                outcome = f"complete ({result.steps} steps, {size(result.bytes_sent)} uploaded)"
            else:
                outcome = f"FAILED: {result.message}"
            on_progress(f"[{i + 1:>{width}}/{len(entities)}] {_describe(entity)} {outcome}")
    summary.seconds = time.monotonic() - started
    return summary


def interleaved(night: Night) -> list[Event | FileRecord]:
    """Events and stills mixed evenly, each in time order: a demo shows events at once."""
    events = sorted(night.events, key=lambda e: e.event_time)
    stills = sorted(night.files, key=lambda f: f.file_time)
    ranked: list[tuple[float, int, Event | FileRecord]]
    ranked = [(i / len(events), 0, e) for i, e in enumerate(events)]
    ranked += [((j + 1.0) / len(stills), 1, f) for j, f in enumerate(stills)]
    return [item for _, _, item in sorted(ranked, key=lambda r: r[:2])]


def _describe(entity: Event | FileRecord) -> str:
    if isinstance(entity, Event):
        kind, t = "event    ", entity.event_time
        ident = entity.event_id
    else:
        kind, t = "timelapse", entity.file_time
        ident = entity.file_id
    clock = datetime.fromtimestamp(t / 1000, UTC).strftime("%H:%M:%S")
    return f"{clock} {kind} {ident[:8]} camera {entity.camera_id}"
