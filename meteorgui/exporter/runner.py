"""Export rounds, and ``Exporter``: the one object the GUI, the CLI and the scheduler use.

A round sends one target's queue, oldest entity first, one conversation at a
time through ``ImportClient`` (docs/PROTOCOL.md's client side: status on
need_status, streamed bytes on need_file_data, full resend on
continue-nocache, timeouts on every request, a bound on steps). Before it
starts, it asks the target for ``GET <url>/resend`` and queues what is listed
again (forced); a target without that extension answers 404, which is fine.

A round ends when the queue is empty, when ``cancel`` is set (the entity in
flight goes back in line, even half-uploaded), when ``should_continue()``
says so (a closing time window), or when the target itself fails (no answer,
TLS, refused credentials, wrong URL; or several entities failing in a row):
then the entity in flight goes back in line and ``RoundResult.error`` says
why. An entity the target refuses ('failed') is marked failed with the
target's message and the round goes on with the next.

Progress comes as ``ExportEvent`` values to ``on_event``, called on the
worker thread (the GUI's bridge re-emits them on its own thread).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..archive.export_queue import ExportQueue, QueueItem
from ..archive.exports import ExportHistory
from ..errors import MeteorguiError
from ..model import Event, FileRecord
from . import deadline as deadline_watch
from .client import ImportClientError, SendResult
from .deadline import shutdown
from .rules import Rules
from .secrets import SecretError, SecretStore
from .targets import ConnectionCheck, Target, Targets, test_connection
from .throttle import Throttle, ThrottledFile

log = logging.getLogger(__name__)

MAX_FAILURES_IN_ROW = 4  # as a MeteorPi node: then the target is the problem, not the entities

# ExportEvent kinds
ROUND_STARTED = "round_started"  # remaining: entities queued
RESEND = "resend"  # done: entities queued again because the target listed them
ITEM_STARTED = "item_started"  # item
STEP = "step"  # item, message: the importer's answer (need_status, continue, ...)
BYTES = "bytes"  # item, file_id, sent, total: upload progress (about every MiB)
ITEM_DONE = "item_done"  # item, result
ROUND_DONE = "round_done"  # round


class ExportBusy(MeteorguiError):
    """An export to this target is already running."""


# One round per target at a time in this process, whichever Exporter object asks: keyed by
# the archive's database file and the target.
_TARGET_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_TARGET_LOCKS_LOCK = threading.Lock()


def _target_lock(archive, target_id: str) -> threading.Lock:
    key = (str(archive.db.path.resolve()), target_id)
    with _TARGET_LOCKS_LOCK:
        return _TARGET_LOCKS.setdefault(key, threading.Lock())


@dataclass
class RoundResult:
    target_id: str
    complete: int = 0  # the target answered 'complete'
    failed: int = 0  # the target refused them, or they could not be read here
    requeued: int = 0  # put back in line unfinished (cancelled, target failure)
    left: int = 0  # still queued for this target when the round ended
    bytes_sent: int = 0
    seconds: float = 0.0
    error: str = ""  # why the round stopped early because of the target
    cancelled: bool = False
    stopped: bool = False  # should_continue() said stop, or max_items was reached
    resent: int = 0  # queued again (forced) from the target's resend list
    resend_error: str = ""  # the resend list could not be read (the round went on)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, id, message)

    @property
    def ok(self) -> bool:
        """Everything queued went out and the target answered 'complete' for it."""
        return not self.error and not self.failed and not self.cancelled and self.left == 0


@dataclass(frozen=True)
class ExportEvent:
    kind: str
    target_id: str
    item: QueueItem | None = None
    result: SendResult | None = None
    round: RoundResult | None = None
    file_id: str | None = None
    sent: int = 0
    total: int = 0
    done: int = 0  # entities finished in this round, whatever the outcome
    remaining: int = 0  # entities still queued
    message: str = ""


EventCallback = Callable[[ExportEvent], None]


class Cancel(threading.Event):
    """A cancel flag that also runs hooks when set, on the setting thread: a round hooks
    the abort of its in-flight HTTP request here, so that a request blocked on the
    importer's answer fails at once instead of after the read timeout."""

    def __init__(self):
        super().__init__()
        self._hooks: list[Callable[[], None]] = []
        self._hooks_lock = threading.Lock()

    def add_hook(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Run ``hook`` when set (at once if already set). Returns a function removing it."""
        with self._hooks_lock:
            self._hooks.append(hook)
            now = self.is_set()
        if now:
            _run_hook(hook)

        def remove() -> None:
            with self._hooks_lock:
                if hook in self._hooks:
                    self._hooks.remove(hook)

        return remove

    def set(self) -> None:
        super().set()
        with self._hooks_lock:
            hooks = list(self._hooks)
        for hook in hooks:
            _run_hook(hook)


def _run_hook(hook: Callable[[], None]) -> None:
    try:
        hook()
    except Exception:
        log.exception("an export cancel hook failed")


class _Abort:
    """Tracks the connections a ``requests.Session`` opens, so that another thread can
    break them: ``abort()`` shuts their sockets down (a blocked read or write fails at
    once) and refuses new ones."""

    def __init__(self):
        self.aborted = False
        self._conns: weakref.WeakSet = weakref.WeakSet()
        self._lock = threading.Lock()
        self._classes: dict[type, type] = {}

    def install(self, session) -> None:
        for adapter in {id(a): a for a in session.adapters.values()}.values():
            manager = getattr(adapter, "poolmanager", None)
            if manager is not None:
                self._patch(manager)
            make_proxy = getattr(adapter, "proxy_manager_for", None)
            if make_proxy is not None:

                def proxy_manager_for(*args, _make=make_proxy, **kw):
                    manager = _make(*args, **kw)
                    self._patch(manager)
                    return manager

                adapter.proxy_manager_for = proxy_manager_for

    def _patch(self, manager) -> None:
        classes = getattr(manager, "pool_classes_by_scheme", None)
        if not isinstance(classes, dict) or getattr(manager, "_meteorgui_abort", None) is self:
            return
        manager.pool_classes_by_scheme = {
            scheme: self._pool_class(cls) for scheme, cls in classes.items()
        }
        manager._meteorgui_abort = self

    def _pool_class(self, pool_cls: Any) -> type:
        if pool_cls in self._classes:
            return self._classes[pool_cls]
        tracker = self
        conn_base: Any = pool_cls.ConnectionCls

        class Connection(conn_base):
            def connect(self):
                if tracker.aborted:
                    raise ConnectionAbortedError("the export was cancelled")
                super().connect()
                tracker._track(self)

        class Pool(pool_cls):
            ConnectionCls = Connection

        self._classes[pool_cls] = Pool
        return Pool

    def _track(self, conn) -> None:
        with self._lock:
            self._conns.add(conn)
            aborted = self.aborted
        if aborted:
            shutdown(conn)

    def abort(self) -> None:
        with self._lock:
            self.aborted = True
            conns = list(self._conns)
        for conn in conns:
            shutdown(conn)


def _abortable(client, cancel: threading.Event) -> Callable[[], None]:
    """Hook the abort of the client's requests to ``cancel`` (a ``Cancel``); returns the
    unhook. A plain Event is only looked at between steps and upload blocks."""
    session = getattr(client, "_session", None)
    if not isinstance(cancel, Cancel) or session is None:
        return lambda: None
    abort = _Abort()
    try:
        abort.install(session)
    except Exception:  # requests' internals moved: cancel between steps only
        log.debug("cannot make export requests abortable", exc_info=True)
        return lambda: None
    return cancel.add_hook(abort.abort)


def steps_bound(entity: Event | FileRecord) -> int:
    """Entity POSTs allowed in one conversation: full form, status, one per file, and room
    for cache misses and a few repeated requests per file."""
    n_files = len(entity.files) if isinstance(entity, Event) else 1
    return 16 + 6 * n_files


def _load(archive, item: QueueItem) -> Event | FileRecord | None:
    if item.kind == "event":
        return archive.get_event(item.entity_id)
    record = archive.get_file(item.entity_id)
    if record is None or archive.file_event_id(item.entity_id) is not None:
        return None
    return record


def run_round(
    archive,
    queue: ExportQueue,
    target: Target,
    password: str,
    *,
    on_event: EventCallback | None = None,
    cancel: threading.Event | None = None,
    throttle: Throttle | None = None,
    resend: bool = True,
    should_continue: Callable[[], bool] | None = None,
    max_items: int | None = None,
    max_failures_in_row: int = MAX_FAILURES_IN_ROW,
) -> RoundResult:
    """Send the target's queue. Call with the target's lock held (``Exporter`` does)."""
    tid = target.target_id
    res = RoundResult(tid)
    cancel = cancel if cancel is not None else Cancel()
    started = time.monotonic()

    def emit(kind: str, **kw) -> None:
        if on_event is None:
            return
        try:
            on_event(ExportEvent(kind, tid, **kw))
        except Exception:  # a broken listener must not break the export
            log.exception("an export progress listener failed")

    def status_for(status_id: str):
        status = archive.get_status(status_id)
        if status is None:
            raise LookupError(status_id)
        return status

    def open_file(record: FileRecord):
        fh = open(archive.file_path(record), "rb")  # noqa: SIM115 - ImportClient closes it
        return ThrottledFile(fh, throttle) if throttle is not None else fh

    queue.reset_sending(tid)  # a crashed worker's claims (we hold the target's lock)
    with target.client(password) as client:
        unhook = _abortable(client, cancel)
        try:
            done = _send_all(
                archive,
                queue,
                target,
                client,
                res,
                cancel,
                emit,
                status_for,
                open_file,
                resend,
                should_continue,
                max_items,
                max_failures_in_row,
            )
        finally:
            unhook()
    res.left = queue.pending(tid)
    res.seconds = time.monotonic() - started
    log.info(
        "export to %s: %d complete, %d failed, %d left%s",
        target.name,
        res.complete,
        res.failed,
        res.left,
        f" ({res.error})" if res.error else "",
    )
    emit(ROUND_DONE, round=res, done=done, remaining=res.left)
    return res


def _send_all(
    archive,
    queue,
    target,
    client,
    res,
    cancel,
    emit,
    status_for,
    open_file,
    resend,
    should_continue,
    max_items,
    max_failures_in_row,
) -> int:
    """The round's loop; returns how many entities it finished, whatever the outcome."""
    tid = target.target_id
    if resend:
        try:
            ids = client.resend_list()
        except ImportClientError as exc:
            if not cancel.is_set():
                res.resend_error = str(exc)
                log.info("export to %s: no resend list: %s", target.name, exc)
        else:
            if ids:
                res.resent = queue.enqueue_ids(tid, ids, force=True, source="resend")
                emit(
                    RESEND,
                    done=res.resent,
                    message=f"{target.name} asked for {len(ids)} entities again",
                )
    remaining = queue.pending(tid)
    emit(ROUND_STARTED, remaining=remaining)
    log.info("export to %s (%s): %d queued", target.name, target.url, remaining)
    in_row = 0
    done = 0
    while True:
        if cancel.is_set():
            res.cancelled = True
            break
        if (should_continue is not None and not should_continue()) or (
            max_items is not None and done >= max_items
        ):
            res.stopped = True
            break
        item = queue.claim_next(tid)
        if item is None:
            break
        emit(ITEM_STARTED, item=item, done=done, remaining=remaining)
        entity = _load(archive, item)
        if entity is None:
            message = f"{item.kind} {item.entity_id} is no longer in the archive"
            queue.fail(item, message)
            result = SendResult(item.entity_id, item.kind, "failed", message)
        else:
            client.max_steps = steps_bound(entity)
            result = client.send(
                entity,
                status_for=status_for,
                open_file=open_file,
                on_progress=_progress(emit, item),
                cancelled=cancel.is_set,
            )
            if not result.ok and result.state != "cancelled" and cancel.is_set():
                # the request was aborted by the cancel: not the target's fault
                result = dataclasses.replace(
                    result,
                    state="cancelled",
                    target_problem=False,
                    message="cancelled before the importer said 'complete'",
                )
        res.bytes_sent += result.bytes_sent
        if result.ok:
            queue.complete(item, result.bytes_sent)
            res.complete += 1
            in_row = 0
        elif result.state == "cancelled":
            queue.release(item, bytes_sent=result.bytes_sent)
            res.requeued += 1
            res.cancelled = True
        elif result.target_problem:
            queue.release(item, result.message, result.bytes_sent)
            res.requeued += 1
            res.error = result.message
        elif entity is not None:
            queue.fail(item, result.message, result.bytes_sent)
            res.failed += 1
            res.failures.append((item.kind, item.entity_id, result.message))
            in_row += 1
            log.info(
                "export to %s: %s %s failed: %s",
                target.name,
                item.kind,
                item.entity_id,
                result.message,
            )
        else:
            res.failed += 1
            res.failures.append((item.kind, item.entity_id, result.message))
        done += 1
        if result.ok or (result.state == "failed" and not result.target_problem):
            remaining -= 1  # out of line: exported, or marked failed
        emit(ITEM_DONE, item=item, result=result, done=done, remaining=remaining)
        if result.state == "cancelled" or res.error:
            break
        if in_row >= max_failures_in_row:
            res.error = (
                f"{in_row} entities failed in a row at {target.name}; the last: {result.message}"
            )
            break
    return done


def _progress(emit, item: QueueItem):
    def on_progress(stage: str, info: dict) -> None:
        if stage == "upload":
            emit(BYTES, item=item, file_id=info["file_id"], sent=info["sent"], total=info["total"])
        elif stage == "answer":
            emit(STEP, item=item, message=str(info.get("state")))

    return on_progress


# --------------------------------------------------------------------------- the facade


class ExportJob:
    """A round on a background thread: ``cancel()``, ``wait()``, then ``result``."""

    def __init__(self, exporter: Exporter, target_id: str, kwargs: dict):
        self.target_id = target_id
        self.cancel_event = Cancel()
        self.result: RoundResult | None = None
        self.error: BaseException | None = None
        self._exporter = exporter
        self._kwargs = kwargs
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, daemon=True, name=f"meteorgui-export-{target_id[:8]}"
        )

    def _run(self) -> None:
        try:
            self.result = self._exporter.export(
                self.target_id, cancel=self.cancel_event, **self._kwargs
            )
        except BaseException as exc:  # handed to whoever waits; the thread must end cleanly
            self.error = exc
            if not isinstance(exc, ExportBusy):
                log.exception("export job failed")
        finally:
            self._exporter.archive.db.release_reader()
            self._done.set()
            self._exporter._forget(self)

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def cancel(self) -> None:
        """Stop now: the request in flight is aborted (even one waiting for the importer's
        answer, even mid-upload) and its entity stays queued."""
        self.cancel_event.set()

    def wait(self, timeout: float | None = None) -> RoundResult | None:
        self._done.wait(timeout)
        return self.result

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job's thread to end; True if it has."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()


class Exporter:
    """Targets, queue, history, rules and rounds of one archive.

    ``throttle_factory(rate, cancel)`` makes the bandwidth cap of a round
    (tests inject a clock and a sleep); by default it sleeps on ``cancel`` so
    a capped upload stops at once when cancelled.
    """

    def __init__(
        self,
        archive,
        secrets: SecretStore | None = None,
        *,
        throttle_factory: Callable[[float, threading.Event], Throttle] | None = None,
        max_failures_in_row: int = MAX_FAILURES_IN_ROW,
    ):
        self.archive = archive
        self.targets = Targets(archive, secrets)
        self.queue = ExportQueue(archive)
        self.history = ExportHistory(archive)
        self.rules = Rules(archive)
        self.throttle_factory = throttle_factory or (
            lambda rate, cancel: Throttle(rate, sleep=cancel.wait)
        )
        self.max_failures_in_row = max_failures_in_row
        self._lock = threading.Lock()
        self._jobs: set[ExportJob] = set()

    def _target_lock(self, target_id: str) -> threading.Lock:
        return _target_lock(self.archive, target_id)

    def busy(self, target_id: str) -> bool:
        return self._target_lock(target_id).locked()

    def export(
        self,
        target_id: str,
        *,
        password: str | None = None,
        on_event: EventCallback | None = None,
        cancel: threading.Event | None = None,
        bandwidth: float | None = None,
        throttle: Throttle | None = None,
        resend: bool = True,
        should_continue: Callable[[], bool] | None = None,
        max_items: int | None = None,
    ) -> RoundResult:
        """Run one round for a target on this thread. ``password`` defaults to the stored
        one. Raises ExportBusy if a round for this target is running."""
        target = self.targets.require(target_id)
        lock = self._target_lock(target_id)
        if not lock.acquire(blocking=False):
            raise ExportBusy(f"an export to {target.name} is already running")
        try:
            if password is None:
                try:
                    password = self.targets.password(target_id)
                except SecretError as exc:
                    return RoundResult(
                        target_id, error=str(exc), left=self.queue.pending(target_id)
                    )
                if password is None:
                    return RoundResult(
                        target_id,
                        left=self.queue.pending(target_id),
                        error=f"no password is stored for target {target.name}",
                    )
            cancel = cancel if cancel is not None else Cancel()
            if throttle is None and bandwidth:
                throttle = self.throttle_factory(bandwidth, cancel)
            return run_round(
                self.archive,
                self.queue,
                target,
                password,
                on_event=on_event,
                cancel=cancel,
                throttle=throttle,
                resend=resend,
                should_continue=should_continue,
                max_items=max_items,
                max_failures_in_row=self.max_failures_in_row,
            )
        finally:
            lock.release()

    def start(self, target_id: str, **kwargs) -> ExportJob:
        """``export`` on a background thread. Raises ExportBusy at once if one is running."""
        target = self.targets.require(target_id)
        if self.busy(target_id):
            raise ExportBusy(f"an export to {target.name} is already running")
        job = ExportJob(self, target_id, kwargs)
        with self._lock:
            self._jobs.add(job)
        job._thread.start()
        return job

    def _forget(self, job: ExportJob) -> None:
        with self._lock:
            self._jobs.discard(job)

    def jobs(self) -> list[ExportJob]:
        with self._lock:
            return list(self._jobs)

    def test_connection(self, target_id: str, password: str | None = None) -> ConnectionCheck:
        """Reachability and credentials, changing nothing at the target (blocks: use a pool)."""
        target = self.targets.require(target_id)
        if password is None:
            try:
                password = self.targets.password(target_id)
            except SecretError as exc:
                return ConnectionCheck(False, str(exc))
            if password is None:
                return ConnectionCheck(False, f"no password is stored for target {target.name}")
        return test_connection(target, password)

    def close(self, timeout: float = 30) -> bool:
        """Cancel running jobs (their requests in flight are aborted, their entities stay
        queued) and wait for their threads, all against one deadline ``timeout`` seconds
        away. Returns True if every job has ended; if not, the archive must stay open."""
        jobs = self.jobs()
        for job in jobs:
            job.cancel()
        deadline = time.monotonic() + timeout
        stopped = True
        for job in jobs:
            if not job.join(max(0.0, deadline - time.monotonic())):
                stopped = False
        if not stopped:
            log.warning(
                "export: %d rounds did not stop within %.0f s",
                sum(1 for j in jobs if j._thread.is_alive()),
                timeout,
            )
        else:
            deadline_watch.settle(max(0.0, deadline - time.monotonic()))
        return stopped
