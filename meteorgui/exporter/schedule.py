"""The export scheduler: runs due rules on one background thread (no Qt).

Each tick, every enabled rule whose ``next_attempt_at`` has come runs if its
time window is open: it queues what its search finds that its target does not
have yet, then runs a round for the target (capped to the rule's bandwidth,
stopped when the window closes). Outcomes:

* everything sent: state ``ok``, next run after ``interval_s``;
* the round failed (target unreachable, credentials refused, entities
  refused): ``failures`` grows, state ``backing_off``, ``last_error`` says
  why, and the next attempt waits ``base * 2**(failures-1)`` seconds, capped.
  The rule stays enabled however long this goes on;
* outside its window: state ``waiting``, next attempt when the window opens;
* another export to the same target is running: ``waiting``, retried soon.

On the background thread each target's due rules run on a thread of that target's
own, so a target that stalls (an importer that answers slowly, a dead link) holds
back only its own rules; one target still runs one round at a time.

The clock (``clock()`` → epoch seconds) and the time zone of the windows are
injectable; tests drive ``tick()`` directly with a fake clock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

from .. import notify
from . import rules as R
from .rules import Rule
from .runner import Cancel, EventCallback, ExportBusy, Exporter, RoundResult

log = logging.getLogger(__name__)

BASE_BACKOFF = 60.0  # seconds after the first failure
MAX_BACKOFF = 6 * 3600.0
BUSY_RETRY = 60.0
POLL = 30.0


def backoff_seconds(failures: int, base: float = BASE_BACKOFF, cap: float = MAX_BACKOFF) -> float:
    """The wait after ``failures`` failed runs in a row: base, 2 base, 4 base, ... up to cap."""
    if failures <= 0:
        return 0.0
    return min(cap, base * 2 ** min(failures - 1, 62))


def _local(t: float, tz: tzinfo | None) -> datetime:
    # Naive local time when tz is None: .timestamp() then follows the system's DST rules.
    return datetime.fromtimestamp(t, tz) if tz is not None else datetime.fromtimestamp(t)


def in_window(rule: Rule, t: float, tz: tzinfo | None = None) -> bool:
    w = rule.window
    if w is None:
        return True
    local = _local(t, tz)
    m = local.hour * 60 + local.minute
    start, end = w
    return start <= m < end if start < end else (m >= start or m < end)


def next_window_open(rule: Rule, t: float, tz: tzinfo | None = None) -> float:
    """When the rule's window next opens after ``t`` (``t`` itself if it has no window)."""
    w = rule.window
    if w is None:
        return t
    local = _local(t, tz)
    opens = local.replace(hour=w[0] // 60, minute=w[0] % 60, second=0, microsecond=0)
    if opens <= local:
        opens += timedelta(days=1)
    return opens.timestamp()


def _ms(t: float) -> int:
    return int(t * 1000)


class Scheduler:
    """Runs due export rules on a background thread (``start``/``stop``) or on demand
    (``tick``). ``on_event(ExportEvent)`` is called with the progress of its rounds, on
    the scheduler's thread. A rule's state changes reach views as the archive's
    ``notify.RuleChanged`` like any other change of a rule; while running, the scheduler
    hears them too and looks at the rules at once (a rule added, edited or enabled)."""

    def __init__(
        self,
        exporter: Exporter,
        *,
        clock: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
        poll: float = POLL,
        base_backoff: float = BASE_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        on_event: EventCallback | None = None,
    ):
        self.exporter = exporter
        self.clock = clock
        self.tz = tz
        self.poll = poll
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self._unsubscribe: Callable[[], None] | None = None
        self.on_event = on_event
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._cancel = Cancel()  # set by stop(): cancels the round in flight
        # target id -> (rule id, cancel) of the round running for it
        self._rounds: dict[str, tuple[int, Cancel]] = {}
        self._round_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._workers: dict[str, threading.Thread] = {}  # one per target with due rules

    # ------------------------------------------------------------------ thread

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._cancel = Cancel()
        if self._unsubscribe is None:
            hub = self.exporter.archive.hub
            self._unsubscribe = hub.subscribe(notify.CHANGED, self._archive_changed)
        self._thread = threading.Thread(
            target=self._loop, name="meteorgui-export-scheduler", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 30) -> bool:
        """Stop, cancelling a round in flight (its request is aborted, its entity stays
        queued), and wait up to ``timeout`` seconds for the thread. Returns True if it has
        ended (or never ran); if not, the archive must stay open under it."""
        self._stop.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._cancel.set()
        self.cancel_round()
        self._wake.set()
        thread = self._thread
        if thread is None:
            return True
        end = time.monotonic() + max(0.0, timeout)
        thread.join(max(0.0, timeout))
        for worker in list(self._workers.values()):
            worker.join(max(0.0, end - time.monotonic()))
        if thread.is_alive() or any(w.is_alive() for w in self._workers.values()):
            log.warning("the export scheduler did not stop within %.0f s", timeout)
            return False
        self._thread = None
        self._workers.clear()
        return True

    def current_round(self) -> tuple[int, str] | None:
        """(rule id, target id) of the round running now, if any."""
        with self._round_lock:
            for tid, (rid, _cancel) in self._rounds.items():
                return rid, tid
        return None

    def cancel_round(self, *, target_id: str | None = None, rule_id: int | None = None) -> bool:
        """Cancel the rule's round in flight (the user asked): its request is aborted, its
        entity stays queued, and the rule runs again after its interval. With ``target_id``
        or ``rule_id``, only a round of that target or rule. True if one was cancelled."""
        with self._round_lock:
            rounds = [(rid, tid, cancel) for tid, (rid, cancel) in self._rounds.items()]
        done = False
        for rid, tid, cancel in rounds:
            if (target_id is not None and tid != target_id) or (
                rule_id is not None and rid != rule_id
            ):
                continue
            cancel.set()
            done = True
        return done

    def _archive_changed(self, change: notify.Change) -> None:  # on the writer's thread
        if isinstance(change, notify.RuleChanged) and change.how != "removed":
            self._wake.set()

    def wake(self) -> None:
        """Look at the rules now (a rule's change on the hub does this by itself)."""
        self._wake.set()

    def run_now(self, rule_id: int) -> None:
        """Make a rule due at once, back-off or not (the user asked)."""
        self.exporter.rules.record(rule_id, next_attempt_at=None)  # its RuleChanged wakes us

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                delay = self.poll
                try:
                    self._dispatch()
                    delay = self._delay()
                except Exception:  # keep scheduling; the failure is in the log
                    log.exception("the export scheduler's tick failed")
                self._wake.wait(delay)
                self._wake.clear()
        finally:
            self.exporter.archive.db.release_reader()

    def _dispatch(self) -> None:
        """Start a worker for each target with a due rule and no worker running."""
        now = self.clock()
        for rule in self.exporter.rules.list():
            if not rule.enabled or (
                rule.next_attempt_at is not None and _ms(now) < rule.next_attempt_at
            ):
                continue
            worker = self._workers.get(rule.target_id)
            if worker is not None and worker.is_alive():
                continue
            worker = threading.Thread(
                target=self._work,
                args=(rule.target_id,),
                name=f"meteorgui-export-{rule.target_id[:8]}",
                daemon=True,
            )
            self._workers[rule.target_id] = worker
            worker.start()

    def _work(self, target_id: str) -> None:
        try:
            self.tick(target_id=target_id)
        except Exception:  # the next wake-up tries again; the failure is in the log
            log.exception("the export scheduler's round for a target failed")
        finally:
            self.exporter.archive.db.release_reader()
            self._wake.set()  # the loop looks at the rules again

    def _delay(self) -> float:
        now = self.clock()
        due = [
            r.next_attempt_at / 1000
            for r in self.exporter.rules.list()
            if r.enabled and r.next_attempt_at is not None
        ]
        soonest = min(due, default=now + self.poll)
        return max(0.5, min(self.poll, soonest - now))

    # ------------------------------------------------------------------ ticks

    def status(self) -> list[Rule]:
        return self.exporter.rules.list()

    def tick(self, target_id: str | None = None) -> list[Rule]:
        """Run every due rule once (of one target, if given), in turn. Returns the rules
        that ran or changed state."""
        changed = []
        for rule in self.exporter.rules.list():
            if self._stop.is_set() and self.running:
                break
            if not rule.enabled or (target_id is not None and rule.target_id != target_id):
                continue
            now = self.clock()
            if rule.next_attempt_at is not None and _ms(now) < rule.next_attempt_at:
                continue
            if not in_window(rule, now, self.tz):
                changed.append(
                    self._record(
                        rule,
                        state=R.WAITING,
                        next_attempt_at=_ms(next_window_open(rule, now, self.tz)),
                    )
                )
                continue
            changed.append(self.run_rule(rule))
        return changed

    def _record(self, rule: Rule, **fields) -> Rule:
        return self.exporter.rules.record(rule.rule_id, **fields)

    def _should_continue(self, rule: Rule) -> bool:
        """Between entities: the rule's window is still open and the rule is still there
        and enabled (one small query)."""
        if not in_window(rule, self.clock(), self.tz):
            return False
        current = self.exporter.rules.get(rule.rule_id)
        return current is not None and current.enabled

    def run_rule(self, rule: Rule) -> Rule:
        """Queue the rule's search and run a round for its target, now."""
        started = self.clock()
        self._record(rule, state=R.RUNNING, last_run_at=_ms(started))
        result: RoundResult | None = None
        error = ""
        cancel = Cancel()
        stopping = self._cancel
        unhook = stopping.add_hook(cancel.set)  # stop() cancels this round too
        with self._round_lock:
            self._rounds[rule.target_id] = (rule.rule_id, cancel)
        try:
            if self.exporter.targets.get(rule.target_id) is None:
                raise LookupError("its export target no longer exists")
            self.exporter.queue.enqueue_selection(
                rule.target_id, rule.selection, now_ms=_ms(started), source=f"rule:{rule.rule_id}"
            )
            result = self.exporter.export(
                rule.target_id,
                on_event=self.on_event,
                cancel=cancel,
                bandwidth=rule.bandwidth,
                should_continue=lambda: self._should_continue(rule),
            )
        except ExportBusy:
            return self._record(
                rule, state=R.WAITING, next_attempt_at=_ms(self.clock() + BUSY_RETRY)
            )
        except Exception as exc:  # a broken search, a target gone: visible, and retried
            error = str(exc) or type(exc).__name__
        finally:
            unhook()
            with self._round_lock:
                self._rounds.pop(rule.target_id, None)
        now = self.clock()
        current = self.exporter.rules.get(rule.rule_id)
        if current is None:  # removed while it ran: nothing to record
            return rule
        if not current.enabled:
            # Disabled while it ran: the round stopped after the entity in flight.
            return self._record(rule, state=R.DISABLED, next_attempt_at=None)
        if result is not None and result.cancelled:
            if stopping.is_set():
                # The scheduler is stopping: not the rule's failure; due at the next start.
                return self._record(rule, state=R.WAITING, next_attempt_at=_ms(now))
            # The user cancelled this round: not a failure either; due after its interval.
            return self._record(rule, state=R.WAITING, next_attempt_at=_ms(now + rule.interval_s))
        if result is not None and not error and result.error:
            error = result.error
        # Entities the target refused are the entities' trouble, shown but not the rule's
        # failure: they stay in the queue as failed (queue.RULE_ATTEMPTS) while the rest
        # keeps flowing at the rule's interval.
        refused = None
        if result is not None and result.failed:
            kind, ident, message = result.failures[-1]
            n = result.failed
            refused = (
                f"{n} {'entity' if n == 1 else 'entities'} refused; the last, {kind} "
                f"{ident}: {message}"
            )
        if error:
            failures = rule.failures + 1
            wait = backoff_seconds(failures, self.base_backoff, self.max_backoff)
            log.warning(
                "export rule %r failed (%d in a row), next attempt in %.0f s: %s",
                rule.name,
                failures,
                wait,
                error,
            )
            return self._record(
                rule,
                state=R.BACKING_OFF,
                failures=failures,
                last_error=error,
                next_attempt_at=_ms(now + wait),
            )
        if not in_window(rule, now, self.tz):
            nxt, state = next_window_open(rule, now, self.tz), R.WAITING
        else:
            nxt, state = now + rule.interval_s, R.OK
        return self._record(
            rule,
            state=state,
            failures=0,
            last_error=refused,
            last_ok_at=_ms(now),
            next_attempt_at=_ms(nxt),
        )
