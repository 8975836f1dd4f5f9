"""The export service of the window: one Exporter and its Scheduler, and their news on the GUI
thread.

Export rounds run on the exporter's own worker threads (``Exporter.start``);
the scheduler runs rules on its thread. Their callbacks arrive there and are
handed to the GUI thread through ``ctx.bridge.run_on_main`` only, upload
progress thinned to about ten updates a second per target first, so a fast
link cannot flood the event loop. Everything that reads or writes the
archive or a password goes through ``ctx.tasks``.

Changes to targets and rules, whoever made them (a dialog, the scheduler recording a
run, a script in this process), come from the hub through ``ctx.bridge.changed``
(``notify.TargetChanged``, ``notify.RuleChanged``): the service reads them again and
tells its views; nobody refreshes them by hand.

The exporter and scheduler belong to ``ctx.core``, which stops them before the
archive closes. ``menu.install(ctx, window)`` creates the service (``ctx.export``),
the Export menu, the progress dock and a status-bar line.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from ... import notify
from ...archive.queued import QueueSummary, queue_summary
from ...exporter import ExportBusy, Exporter, Scheduler
from ...exporter import runner as R
from ...exporter.rules import Rule
from ...exporter.targets import Target

log = logging.getLogger(__name__)

BYTES_INTERVAL_S = 0.1  # upload progress reaches the GUI at most ~10 times a second per target
PENDING = ("queued", "sending")


# --------------------------------------------------------------------------- reads (workers)


@dataclass(frozen=True)
class Leftover:
    """A target with entities still queued from an earlier session."""

    target: Target
    summary: QueueSummary
    rules: tuple[str, ...]  # names of the enabled rules that send to it anyway


def leftovers(exporter: Exporter) -> list[Leftover]:
    out = []
    rules = exporter.rules.list()
    for target in exporter.targets.list():
        s = queue_summary(exporter.archive, target.target_id)
        if s.pending or s.failed:
            names = tuple(r.name for r in rules if r.enabled and r.target_id == target.target_id)
            out.append(Leftover(target, s, names))
    return out


# --------------------------------------------------------------------------- the service


class ExportService(QObject):
    """The window's exporter, scheduler and their news as signals on the GUI thread."""

    progress = Signal(object)  # runner.ExportEvent
    jobStarted = Signal(str)  # target id: a manual round started
    jobFinished = Signal(str, object)  # target id, RoundResult or an exception
    roundRunning = Signal(str, bool)  # target id, whether any round (manual or rule) runs
    ruleChanged = Signal(object)  # exporter.rules.Rule, read again after it changed
    ruleRemoved = Signal(int)  # rule id
    targetsChanged = Signal(list)  # [Target], after a reload
    leftoversFound = Signal(list)  # [Leftover] at start

    def __init__(self, ctx, *, start_scheduler: bool = True, parent: QObject | None = None):
        super().__init__(parent)
        self.ctx = ctx
        # The core owns the exporter and its scheduler (and stops them at close); the
        # service hears their news and hands it to the GUI thread.
        core = ctx.core
        self.exporter: Exporter = core.exporter
        self.scheduler: Scheduler = core.scheduler
        self.scheduler.on_event = self._event_from_worker
        self.targets: list[Target] = []
        self._jobs: dict[str, R.ExportJob] = {}
        self._rounds: set[str] = set()  # targets with a round in flight (any source)
        self._closed = False
        self._stopped = True  # shutdown() ended every export thread
        self._last_bytes: dict[str, float] = {}
        self._rule_reads: dict[int, int] = {}  # rule id -> the latest read asked for
        ctx.bridge.changed.connect(self._archive_changed)
        if start_scheduler:
            core.start_exports()

    # ------------------------------------------------------------------ from workers

    def _event_from_worker(self, event: R.ExportEvent) -> None:
        if self._closed:
            return
        if event.kind == R.BYTES and event.sent < event.total:
            now = time.monotonic()
            if now - self._last_bytes.get(event.target_id, 0.0) < BYTES_INTERVAL_S:
                return
            self._last_bytes[event.target_id] = now
        self.ctx.bridge.run_on_main(lambda: self._deliver(event))

    def _deliver(self, event: R.ExportEvent) -> None:
        if self._closed:
            return
        tid = event.target_id
        if event.kind == R.ROUND_STARTED and tid not in self._rounds:
            self._rounds.add(tid)
            self.roundRunning.emit(tid, True)
        self.progress.emit(event)
        if event.kind == R.ROUND_DONE:
            if tid not in self._jobs:  # a manual job ends in _job_done
                self._round_over(tid)

    def _archive_changed(self, change: notify.Change) -> None:
        """A target or rule changed, from anywhere: read it again and tell the views."""
        if self._closed:
            return
        if isinstance(change, notify.TargetChanged):
            self.reload_targets()
        elif isinstance(change, notify.RuleChanged):
            rule_id = change.rule_id
            if change.how == "removed":
                self._rule_reads.pop(rule_id, None)
                self.ruleRemoved.emit(rule_id)
                return
            n = self._rule_reads[rule_id] = self._rule_reads.get(rule_id, 0) + 1
            rules = self.exporter.rules
            self.run(lambda: rules.get(rule_id), lambda rule: self._rule_read(n, rule_id, rule))

    def _rule_read(self, n: int, rule_id: int, rule: Rule | None) -> None:
        if self._rule_reads.get(rule_id) != n:
            return  # a later change of the rule is being read: show that one
        del self._rule_reads[rule_id]
        if rule is None:
            self.ruleRemoved.emit(rule_id)
        else:
            self.ruleChanged.emit(rule)

    def _round_over(self, tid: str) -> None:
        if tid in self._rounds:
            self._rounds.discard(tid)
            self.roundRunning.emit(tid, False)

    # ------------------------------------------------------------------ manual rounds

    def running(self, target_id: str) -> bool:
        """A round for this target is in flight (started here or by a rule)."""
        return target_id in self._jobs or target_id in self._rounds

    def manual(self, target_id: str) -> bool:
        return target_id in self._jobs

    def start(self, target_id: str) -> bool:
        """Send the target's queue on the exporter's worker thread. False if a round for
        it is already running (it sends what was just queued too)."""
        if self._closed or target_id in self._jobs:
            return False
        try:
            job = self.exporter.start(target_id, on_event=self._event_from_worker)
        except ExportBusy:
            return False
        self._jobs[target_id] = job
        self._last_bytes.pop(target_id, None)
        if target_id not in self._rounds:
            self._rounds.add(target_id)
            self.roundRunning.emit(target_id, True)
        self.jobStarted.emit(target_id)

        def wait() -> None:  # a small waiter: the job has no completion callback
            job.wait()
            if not self._closed:
                self.ctx.bridge.run_on_main(lambda: self._job_done(target_id, job))

        threading.Thread(target=wait, name="meteorgui-export-wait", daemon=True).start()
        return True

    def _job_done(self, target_id: str, job: R.ExportJob) -> None:
        if self._closed or self._jobs.get(target_id) is not job:
            return
        del self._jobs[target_id]
        self._round_over(target_id)
        self.jobFinished.emit(target_id, job.result if job.error is None else job.error)

    def cancel(self, target_id: str) -> bool:
        """Stop the target's round, manual or a rule's: the request in flight is aborted and
        what was not sent stays queued (a rule runs again after its interval)."""
        job = self._jobs.get(target_id)
        if job is not None:
            job.cancel()
            return True
        return self.scheduler.cancel_round(target_id=target_id)

    # ------------------------------------------------------------------ queue and data

    def run(self, work, on_result=None, on_error=None, owner=None, detached=False):
        """Pool work whose callbacks are dropped once the service is closed (or the
        ``owner`` dialog is gone); see TaskRunner.run."""

        def ok(value):
            if not self._closed and on_result is not None:
                on_result(value)

        def failed(exc):
            if not self._closed and on_error is not None:
                on_error(exc)

        # Without an on_error, the runner's standard path (report) tells the user.
        failed_cb = failed if on_error is not None else None
        return self.ctx.tasks.run(work, ok, failed_cb, owner=owner, detached=detached)

    def reload_targets(self) -> None:
        self.run(self.exporter.targets.list, self._targets_loaded)

    def _targets_loaded(self, targets: list[Target]) -> None:
        self.targets = list(targets)
        self.targetsChanged.emit(self.targets)

    def target(self, target_id: str) -> Target | None:
        return next((t for t in self.targets if t.target_id == target_id), None)

    def retry_failed(self, target_id: str) -> None:
        """Failed entities back in line, then a round."""

        queue = self.exporter.queue
        self.run(lambda: queue.retry(target_id), lambda _n: self.start(target_id))

    def check_leftovers(self) -> None:
        self.run(lambda: leftovers(self.exporter), self._leftovers)

    def _leftovers(self, found: list[Leftover]) -> None:
        if found:
            for item in found:
                log.info(
                    "export: %d entities queued for %s from an earlier session",
                    item.summary.pending,
                    item.target.name,
                )
            self.leftoversFound.emit(found)

    # ------------------------------------------------------------------ closing

    def shutdown(self, timeout: float = 30) -> bool:
        """Stop hearing the exports, then have the core stop the scheduler and every round
        (requests in flight aborted, entities left queued for the next start). Returns True
        if every export thread has ended; if not, the archive must not be closed under them."""
        if self._closed:
            return self._stopped
        self._closed = True
        for job in list(self._jobs.values()):  # cancel everything first, then wait
            job.cancel()
        self._stopped = self.ctx.core.stop_exports(timeout)
        self._jobs.clear()
        return self._stopped
