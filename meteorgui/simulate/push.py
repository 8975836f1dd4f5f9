"""Pushing a simulated night to an importer, as a MeteorPi node's exporter does, and the
``simulate`` command's runner (``run``; ``push_made`` serves ``showers.run`` too)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from meteorgui.exporter.client import ImportClient, ImportClientError
from meteorgui.formatting import count, size
from meteorgui.model import Event, FileRecord

from .night import DEFAULT_START_MS, Night, make_night


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
                outcome = (
                    f"complete ({count(result.steps, 'step')}, {size(result.bytes_sent)} uploaded)"
                )
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


# --------------------------------------------------------------------------- the simulate command


def run(
    to: str,
    user: str,
    password: str,
    events: int = 20,
    timelapse: int = 40,
    seed: int = 0,
    rate: float | None = None,
    out: TextIO | None = None,
    start_ms: int | None = None,
    err: TextIO | None = None,
) -> int:
    """The ``simulate`` command: make a night and push it to the import URL ``to``.

    ``start_ms`` is when the night starts (default: a fixed night in 2015, so a
    seed always makes the same night).

    Prints one line per entity and a summary line on ``out``. Returns 0 if every
    entity completed, 1 otherwise; problems (bad arguments, an importer that cannot
    be reached or refuses the login, a failed night) are one line on ``err``.
    """

    if events < 0 or timelapse < 0 or (rate is not None and not rate > 0):
        return _complain(err, "--events and --timelapse must be >= 0 and --rate > 0")

    def make(url: str) -> tuple[Night, str]:
        night = make_night(
            seed,
            events=events,
            timelapse=timelapse,
            start_ms=DEFAULT_START_MS if start_ms is None else start_ms,
        )
        return night, (
            f"Simulating {len(night.cameras)} cameras (seed {seed}): {events} "
            f"events, {timelapse} time-lapse stills -> {url}"
        )

    return push_made(to, user, password, make, rate=rate, out=out, err=err)


def _complain(err: TextIO | None, line: str) -> int:
    print(f"simulate: {line}", file=sys.stderr if err is None else err, flush=True)
    return 1


def push_made(
    to: str,
    user: str,
    password: str,
    make: Callable[[str], tuple[Night, str]],
    rate: float | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Check the import URL and login, ``make(url)`` a night (returning it and a line
    to print first; ValueError, OSError: a line on ``err``), push it, one line per
    entity and a summary on ``out``. 0 if every entity completed, else 1."""
    out = sys.stdout if out is None else out  # looked up now: tests swap them

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    try:
        client = ImportClient(to, user, password)
    except ValueError as exc:
        return _complain(err, str(exc))
    with client:
        try:
            client.check()  # the URL and the login, before a night of failures
        except ImportClientError as exc:
            return _complain(err, f"cannot push to {client.url}: {exc}")
        try:
            night, intro = make(client.url)
        except (OSError, ValueError, OverflowError, RuntimeError) as exc:
            return _complain(err, str(exc))
        say(intro)
        summary = push_night(night, client, rate=rate, on_progress=say)
    if not summary.ok:
        return _complain(err, "FAILED: " + summary.line())
    say("Done: " + summary.line())
    return 0
