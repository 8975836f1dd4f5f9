"""Scheduled export rules: a search, a target, a time window, a bandwidth cap; and their state.

A rule is only ever disabled by the user. When its runs fail it backs off
(see ``schedule.py``) and says so: ``state``, ``last_error``, ``failures``
in a row and ``next_attempt_at`` are kept with the rule.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from ..archive import Conflict
from ..archive import export_setup as setup
from ..archive.exports import Selection, SelectionError
from ..errors import MeteorguiError

# Rule states
IDLE = "idle"  # never ran yet
RUNNING = "running"
OK = "ok"  # the last run sent everything; next run at next_attempt_at
WAITING = "waiting"  # outside its time window, or its target was busy
BACKING_OFF = "backing_off"  # the last run(s) failed; retried at next_attempt_at
DISABLED = "disabled"  # by the user
STATES = (IDLE, RUNNING, OK, WAITING, BACKING_OFF, DISABLED)

DEFAULT_INTERVAL = 900


class RuleError(MeteorguiError, ValueError):
    """A rule cannot be saved as given; the message says why."""


@dataclass(frozen=True)
class Rule:
    rule_id: int
    name: str
    target_id: str
    selection: Selection
    enabled: bool = True
    window_start: int | None = None  # minutes after local midnight
    window_end: int | None = None  # exclusive; before start means overnight
    bandwidth: int | None = None  # bytes/s
    interval_s: int = DEFAULT_INTERVAL
    state: str = IDLE
    failures: int = 0  # failed runs in a row
    last_error: str | None = None
    last_run_at: int | None = None  # ms
    last_ok_at: int | None = None
    next_attempt_at: int | None = None
    created_at: int = 0

    @property
    def window(self) -> tuple[int, int] | None:
        if self.window_start is None or self.window_end is None:
            return None
        return self.window_start, self.window_end

    @property
    def window_text(self) -> str:
        w = self.window
        return "any time" if w is None else f"{_hhmm(w[0])}-{_hhmm(w[1])}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


_WINDOW = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


def parse_window(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"09:00-17:00"`` (local time; ``"22:00-06:00"`` spans midnight) → minutes."""
    if text is None or text == "":
        return None
    if isinstance(text, tuple):
        start, end = text
    else:
        m = _WINDOW.fullmatch(text)
        if not m:
            raise RuleError(f"not a time window: {text!r} (use HH:MM-HH:MM, e.g. 09:00-17:00)")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            raise RuleError(f"not a time window: {text!r}")
        start, end = h1 * 60 + m1, h2 * 60 + m2
    if not (0 <= start <= 1440 and 0 <= end <= 1440):
        raise RuleError("window times must be within a day")
    start, end = start % 1440, end % 1440
    if start == end:
        raise RuleError(
            "the window opens and closes at the same time; leave it empty to mean any time"
        )
    return start, end


def _rule(row) -> Rule:
    r = list(row)
    r[3] = Selection.from_json(r[3])
    r[4] = bool(r[4])
    return Rule(*r)


def _check(name: str, bandwidth, interval_s) -> None:
    if not name or not name.strip():
        raise RuleError("a rule needs a name")
    if bandwidth is not None and (not isinstance(bandwidth, int) or bandwidth < 1024):
        raise RuleError("the bandwidth cap must be a whole number of at least 1024 bytes/s")
    if not isinstance(interval_s, int) or interval_s < 10:
        raise RuleError("the interval must be at least 10 seconds")


def _settings(name, target_id, selection, enabled, window, bandwidth, interval_s) -> dict:
    """The columns of what the user sets on a rule (the rest is its run state)."""
    return {
        "name": name.strip(),
        "target_id": target_id,
        "search": selection.to_json(),
        "enabled": int(enabled),
        "window_start": window[0] if window else None,
        "window_end": window[1] if window else None,
        "bandwidth": bandwidth,
        "interval_s": interval_s,
    }


class Rules:
    def __init__(self, archive):
        self.archive = archive

    def list(self) -> list[Rule]:
        return [_rule(r) for r in setup.rule_rows(self.archive)]

    def get(self, rule_id: int) -> Rule | None:
        row = setup.rule_row(self.archive, rule_id)
        return None if row is None else _rule(row)

    def require(self, rule_id: int) -> Rule:
        rule = self.get(rule_id)
        if rule is None:
            raise RuleError(f"no export rule {rule_id}")
        return rule

    def add(
        self,
        name: str,
        target_id: str,
        selection: Selection | None = None,
        *,
        enabled: bool = True,
        window: str | tuple[int, int] | None = None,
        bandwidth: int | None = None,
        interval_s: int = DEFAULT_INTERVAL,
    ) -> Rule:
        _check(name, bandwidth, interval_s)
        w = parse_window(window)
        selection = selection if selection is not None else Selection()
        values = _settings(name, target_id, selection, enabled, w, bandwidth, interval_s)
        values.update(state=IDLE if enabled else DISABLED, created_at=int(time.time() * 1000))
        try:
            rule_id = setup.insert_rule(self.archive, values)
        except Conflict:
            raise RuleError(f"no export target {target_id}") from None
        return self.require(rule_id)

    def update(self, rule_id: int, **changes) -> Rule:
        """Change name, target_id, selection, enabled, window, bandwidth or interval_s."""
        allowed = {"name", "target_id", "selection", "enabled", "window", "bandwidth", "interval_s"}
        unknown = set(changes) - allowed
        if unknown:
            raise RuleError(f"cannot change {', '.join(sorted(unknown))} of a rule")
        rule = self.require(rule_id)
        name = changes.get("name", rule.name)
        bandwidth = changes.get("bandwidth", rule.bandwidth)
        interval_s = changes.get("interval_s", rule.interval_s)
        _check(name, bandwidth, interval_s)
        w = parse_window(changes["window"]) if "window" in changes else rule.window
        sel = changes.get("selection", rule.selection)
        if not isinstance(sel, Selection):
            raise RuleError("selection must be a Selection")
        enabled = bool(changes.get("enabled", rule.enabled))
        state = rule.state
        if not enabled:
            state = DISABLED
        elif state == DISABLED:
            state = IDLE
        # A changed rule runs at the next tick, with its failure count kept (it stays visible).
        target_id = changes.get("target_id", rule.target_id)
        values = _settings(name, target_id, sel, enabled, w, bandwidth, interval_s)
        values.update(state=state, next_attempt_at=None)
        try:
            setup.update_rule(self.archive, rule_id, values)
        except Conflict:
            raise RuleError(f"no export target {changes.get('target_id')}") from None
        return self.require(rule_id)

    def set_enabled(self, rule_id: int, enabled: bool) -> Rule:
        return self.update(rule_id, enabled=enabled)

    def remove(self, rule_id: int) -> None:
        setup.delete_rule(self.archive, rule_id)

    def record(self, rule_id: int, **fields) -> Rule:
        """Save a rule's run state (state, failures, last_error, last_run_at, last_ok_at,
        next_attempt_at). The scheduler's writer; never touches ``enabled``."""
        allowed = {
            "state",
            "failures",
            "last_error",
            "last_run_at",
            "last_ok_at",
            "next_attempt_at",
        }
        if set(fields) - allowed:
            raise RuleError(f"not run state: {sorted(set(fields) - allowed)}")
        if fields.get("state", IDLE) not in STATES:
            raise RuleError(f"unknown rule state {fields['state']!r}")
        # A rule the user disabled meanwhile stays disabled (update_rule sees to it).
        setup.update_rule(self.archive, rule_id, fields)
        return self.require(rule_id)


__all__ = ["Rule", "RuleError", "Rules", "SelectionError", "parse_window"]
