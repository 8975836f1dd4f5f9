"""The importer's CPU per entity without the machine's noise: one night's requests replayed.

Whole-process timing on a shared machine swings by a third between rounds of the same
server. Here one night's requests (benchmarks/clients.py: the 2015-style client and
meteorgui's ImportClient) are recorded once, as the WSGI environ waitress built and the
body it read, against meteorgui's importer on 127.0.0.1; then they are replayed through
each server's WSGI app in this one thread, with the same environ and a fresh body stream,
the response iterated and closed as waitress does (so the work after the answer, making
files durable, runs too). Each request is first parsed from its bytes by waitress's request
parser, as waitress's loop does (meteorgui's with its gate, which may look up the login):

* ``meteorgui``: the importer's app as `meteorgui serve` makes it (Archive, Importer,
  ImporterServer's app and gate) on a fresh archive in a temporary folder, real fsyncs
  and FULL commits;
* ``durable-floor``: benchmarks/floor_importer.py's app with its --durable disk work.

Measured per round (best of --rounds, fresh archives each), the two servers taking the
requests in turns, --chunk at a time, so that the machine's load weighs on both alike:
this thread's CPU time (``time.thread_time``, and user and system apart) for each server,
and the CPU of the process's other threads (the import log's writer, WAL checkpoints)
until the import log is written; then, apart, the sky science of the night's new events
on this thread, in rounds of --sky-round events as the sky worker takes them. Once more
under cProfile: Python function calls per entity (deterministic: no load changes it), and
SQLite statements per entity (each connection's trace callback), with --sql the
statements themselves. With --costs N, N more rounds with a thread-CPU meter on each cost
of COSTS (inclusive, so nested costs overlap; the meters add about a microsecond each):
where the request thread's time goes, beside the floor's.

Every answer is checked against the recorded one: a replay that diverged is an error.

Run: .venv/bin/python benchmarks/replay.py [--rounds 5] [--client 2015-exporter]
     [--top 25] [--sql] [--costs 3] [--no-sky] [--events 300 --timelapse 400]

For before/after figures copy this file into an earlier tree's benchmarks/ and run it there
(it imports meteorgui from the tree it sits in).
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import inspect
import io
import json
import logging
import os
import pstats
import re
import resource
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import floor_importer  # noqa: E402
from clients import CLIENTS  # noqa: E402
from floor_importer import PASSWORD, USER  # noqa: E402
from waitress.adjustments import Adjustments  # noqa: E402
from waitress.buffers import ReadOnlyFileBasedBuffer  # noqa: E402
from waitress.parser import HTTPRequestParser  # noqa: E402

from meteorgui import notify  # noqa: E402
from meteorgui.archive import Archive  # noqa: E402
from meteorgui.importer import gate as gating  # noqa: E402
from meteorgui.importer.protocol import Importer  # noqa: E402
from meteorgui.importer.server import MAX_BODY, ImporterServer  # noqa: E402
from meteorgui.simulate import make_night  # noqa: E402


class Recorded:
    """One request as the app saw it, and the answer it got."""

    __slots__ = ("environ", "body", "raw", "status", "answer")

    def __init__(self, environ: dict, body: bytes):
        self.environ, self.body = environ, body
        self.raw = _raw(environ, body)
        self.status = ""
        self.answer = b""


def _raw(environ: dict, body: bytes) -> bytes:
    """The request as its client sent it (the headers waitress passed on)."""
    lines = [f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} HTTP/1.1"]
    for key, value in environ.items():
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key.removeprefix("HTTP_").replace("_", "-").title()
            lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def record(client: str, night, workdir: Path) -> list[Recorded]:
    """The night's requests from ``client`` to meteorgui's importer on 127.0.0.1."""
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a sequential client
    archive = Archive(tempfile.mkdtemp(prefix="replay-record-", dir=workdir))
    archive.users.add(USER, PASSWORD)
    server = ImporterServer(archive, "127.0.0.1", 0, threads=2)
    app, out = server.app, []

    def recording(environ, start_response):
        body = environ["wsgi.input"].read()
        kept = {k: v for k, v in environ.items() if isinstance(v, str)}
        req = Recorded(kept, body)
        environ["wsgi.input"] = io.BytesIO(body)

        def start(status, headers, exc_info=None):
            req.status = status
            return start_response(status, headers, exc_info)

        result = app(environ, start)
        try:
            req.answer = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        out.append(req)
        return [req.answer]

    server.app = recording
    server.start()
    try:
        CLIENTS[client](server.url, night.entities(), night.status, night.open_file)
    finally:
        server.stop()
        archive.close()
    return out


def _environ(req: Recorded) -> dict:
    return req.environ | {
        "wsgi.input": io.BytesIO(req.body),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "wsgi.file_wrapper": ReadOnlyFileBasedBuffer,
    }


def _state(answer: bytes) -> str:
    try:
        return json.loads(answer).get("state", "?")
    except ValueError:
        return "?"


class Server:
    """One server's app on a fresh folder, ready for the night's requests."""

    def __init__(self, kind: str, workdir: Path):
        self.kind = kind
        self.dir = Path(tempfile.mkdtemp(prefix=f"replay-{kind}-", dir=workdir))
        self.connections: list[sqlite3.Connection] = []
        self.archive = None
        self.meters: Counter[str] | None = None  # set while --costs meters a replay
        self.adj = Adjustments(max_request_body_size=MAX_BODY)
        self.parser: type = HTTPRequestParser
        if kind == "meteorgui":
            hub = notify.Hub()
            self.archive = Archive(self.dir, hub)
            self.archive.users.add(USER, PASSWORD)
            self.importer = Importer(self.archive, hub)
            server = ImporterServer(self.archive, "127.0.0.1", 0, importer=self.importer)
            self.app = server.app
            self.parser = gating._parser_class(server.gate)
            db = self.archive.db
            self.connections = [db._write_conn, db.read()]
        else:
            disk = floor_importer.Disk(str(self.dir))
            self.app = floor_importer.create_app(disk)
            self.connections = [disk.db]
            self._disk = disk

    def call(self, req: Recorded) -> tuple[str, bytes]:
        # waitress's loop first parses the request (meteorgui's with the gate in it).
        t0 = time.thread_time()
        parser, raw = self.parser(self.adj), req.raw
        while raw and not parser.completed:
            raw = raw[parser.received(raw) :]
        parser.close()
        if self.meters is not None:
            self.meters[PARSE] += time.thread_time() - t0
        environ = _environ(req)
        got = []

        def start_response(status, headers, exc_info=None):
            got.append(status)

        result = self.app(environ, start_response)
        try:
            answer = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return got[0], answer

    def settle(self, first: Recorded) -> None:
        """One login before measuring (its KDF is per process, not per entity)."""
        probe = Recorded(
            {k: v for k, v in first.environ.items() if k not in ("CONTENT_LENGTH", "CONTENT_TYPE")}
            | {"REQUEST_METHOD": "GET", "PATH_INFO": "/import/resend"},
            b"",
        )
        if self.kind == "meteorgui":
            self.call(probe)

    def finish(self) -> None:
        """Write what the server writes behind the answers (the import log)."""
        if self.kind == "meteorgui":
            self.importer.log.flush()

    def close(self) -> None:
        if self.kind == "meteorgui":
            self.importer.close()
            self.archive.close()
        else:
            self._disk.db.close()


def replay(server: Server, requests: list[Recorded]) -> None:
    for i, req in enumerate(requests):
        status, answer = server.call(req)
        if status.split()[0] != req.status.split()[0] or _state(answer) != _state(req.answer):
            raise RuntimeError(
                f"{server.kind}: request {i} ({req.environ['PATH_INFO']}) answered "
                f"{status} {answer[:200]!r}, recorded {req.status} {req.answer[:200]!r}"
            )


def _thread_cpu() -> tuple[float, float]:
    """(user, system) CPU seconds of this thread so far."""
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime, usage.ru_stime


def measure(kinds, requests, workdir: Path, chunk: int) -> dict[str, tuple[float, ...]]:
    """CPU seconds of each server over the replay: this thread's total, user and system,
    and (meteorgui's) other threads' until what they write behind the answers is written.

    The servers take the requests in turns, ``chunk`` at a time (first one, then the
    other, then the other first): a change in the machine's load weighs on both alike."""
    servers = {kind: Server(kind, workdir) for kind in kinds}
    spent = {kind: [0.0, 0.0, 0.0] for kind in kinds}
    try:
        for server in servers.values():
            server.settle(requests[0])
        p0, t0 = time.process_time(), time.thread_time()
        for i, start in enumerate(range(0, len(requests), chunk)):
            for kind in kinds if i % 2 == 0 else kinds[::-1]:
                (u0, s0), c0 = _thread_cpu(), time.thread_time()
                replay(servers[kind], requests[start : start + chunk])
                (u1, s1), c1 = _thread_cpu(), time.thread_time()
                total = spent[kind]
                total[0] += c1 - c0
                total[1] += u1 - u0
                total[2] += s1 - s0
        for server in servers.values():
            server.finish()
        other = time.process_time() - p0 - (time.thread_time() - t0)
    finally:
        for server in servers.values():
            server.close()
    return {kind: (*spent[kind], other if kind == "meteorgui" else 0.0) for kind in kinds}


def counts(
    kind: str, requests, workdir: Path, top: int, show_sql: bool, dump: Path | None = None
) -> tuple[int, int, str]:
    """(Python function calls, SQLite statements, report) over one replay; with ``dump``
    the profile is also kept there as ``<kind>.pstats`` (for pstats or a diff)."""
    server = Server(kind, workdir)
    statements: Counter[str] = Counter()
    lock = threading.Lock()

    def traced(sql: str) -> None:
        where = "" if threading.current_thread() is threading.main_thread() else "[behind] "
        with lock:
            statements[where + _LITERALS.sub("?", " ".join(sql.split()))] += 1

    try:
        server.settle(requests[0])
        for conn in server.connections:
            conn.set_trace_callback(traced)
        profile = cProfile.Profile()
        profile.enable()
        replay(server, requests)
        profile.disable()
        server.finish()
        for conn in server.connections:
            conn.set_trace_callback(None)
    finally:
        server.close()
    stats = pstats.Stats(profile)
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
        stats.dump_stats(dump / f"{kind}.pstats")
    text = io.StringIO()
    if top:
        stats.stream = text
        stats.sort_stats("tottime").print_stats(top)
    if show_sql:
        text.write(f"\nSQL statements ({kind}):\n")
        for sql, n in statements.most_common():
            text.write(f"  {n:6d}  {sql[:200]}\n")
    return stats.total_calls, sum(statements.values()), text.getvalue()


# The values in a traced statement (SQLite traces it with its parameters filled in).
_LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b|\bNULL\b")


# What --costs meters (inclusive CPU of this thread, so nested rows overlap): (label,
# module, attribute path). Missing ones (another tree) are left out.
COSTS = [
    ("the whole app (Flask, werkzeug and the views)", "flask.app", "Flask.wsgi_app"),
    ("import views, auth wrapper included", "meteorgui.importer", None),
    ("login check (Logins.check, Gate.verified)", "meteorgui.importer.logins", "Logins.check"),
    ("login check (Logins.check, Gate.verified)", "meteorgui.importer.gate", "Gate.verified"),
    ("message JSON and model validation", "meteorgui.importer.app", "loads"),
    ("message JSON and model validation", "meteorgui.model", "Event.from_dict"),
    ("message JSON and model validation", "meteorgui.model", "FileRecord.from_dict"),
    ("protocol: offers (Importer.handle)", "meteorgui.importer.protocol", "Importer.handle"),
    ("protocol: uploads (receive_bytes)", "meteorgui.importer.protocol", "Importer.receive_bytes"),
    ("archive look-ups before bytes", "meteorgui.archive.archive", "Archive.conflict"),
    ("archive look-ups before bytes", "meteorgui.archive.archive", "Archive.offer_check"),
    ("archive look-ups before bytes", "meteorgui.archive.archive", "Archive.has_event"),
    ("archive look-ups before bytes", "meteorgui.archive.archive", "Archive.has_file"),
    ("archive look-ups before bytes", "meteorgui.archive.archive", "Archive.has_bytes"),
    ("archive look-ups before bytes", "meteorgui.archive.store", "FileStore.settle"),
    ("archive rows and FULL commits", "meteorgui.archive.archive", "Archive.store_event"),
    ("archive rows and FULL commits", "meteorgui.archive.archive", "Archive.store_file"),
    ("archive rows and FULL commits", "meteorgui.archive.archive", "Archive.store_status"),
    ("upload: multipart parser into the store", "meteorgui.importer.app", "_Upload.parse"),
    ("upload: part file made and locked", "meteorgui.archive.store", "StoreWriter.__init__"),
    ("import log steps (request thread)", "meteorgui.importer.protocol", "Importer._log"),
    ("answers (_reply)", "meteorgui.importer.app", "_reply"),
    ("making files durable after the answer", "meteorgui.once", "Once.run"),
    ("floor: views", "floor", None),
    ("floor: making files durable after the answer", "floor_importer", "Disk.keep()"),
    ("floor: file opened", "floor_importer", "Disk.open"),
    ("floor: row and FULL commit", "floor_importer", "Disk.commit"),
]
PARSE = "waitress's request parser (meteorgui's with the gate)"


class Meters:
    """Thread-CPU accumulators patched onto the functions of COSTS (and the views of an
    app), removed by close()."""

    def __init__(self, app) -> None:
        self.spent: Counter[str] = Counter()
        self._undo: list = []
        for label, module, path in COSTS:
            if path is None:  # the views of the app named ``module``
                if app.import_name == module:
                    for name, view in list(app.view_functions.items()):
                        if name != "static":
                            self._patch(app.view_functions, name, view, label, item=True)
                continue
            owner = importlib.import_module(module)
            returned = path.endswith("()")  # meter the work it hands back, not the call
            *outer, name = path.removesuffix("()").split(".")
            for part in outer:
                owner = getattr(owner, part, None)
            raw = None if owner is None else inspect.getattr_static(owner, name, None)
            if raw is not None:
                self._patch(owner, name, raw, label, returned=returned)

    def _patch(self, owner, name, raw, label, item=False, returned=False) -> None:
        wrapped = isinstance(raw, (staticmethod, classmethod))
        fn = raw.__func__ if wrapped else raw
        spent, clock = self.spent, time.thread_time

        def metered(*args, **kwargs):
            if returned:
                return self._metered(fn(*args, **kwargs), label)
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] += clock() - t0

        new = type(raw)(metered) if wrapped else metered
        if item:
            owner[name] = new
            self._undo.append(lambda: owner.__setitem__(name, raw))
        else:
            setattr(owner, name, new)
            self._undo.append(lambda: setattr(owner, name, raw))

    def _metered(self, work, label):
        def run():
            t0 = time.thread_time()
            try:
                return work()
            finally:
                self.spent[label] += time.thread_time() - t0

        return run

    def close(self) -> None:
        for undo in reversed(self._undo):
            undo()


def costs(kind: str, requests, workdir: Path) -> Counter[str]:
    """CPU seconds of this thread by cost (COSTS) over one replay."""
    server = Server(kind, workdir)
    try:
        server.settle(requests[0])
        meters = Meters(server.app)
        server.meters = meters.spent
        try:
            t0 = time.thread_time()
            replay(server, requests)
            meters.spent["all of it (the request thread)"] = time.thread_time() - t0
        finally:
            meters.close()
            server.meters = None
        server.finish()
    finally:
        server.close()
    return meters.spent


def sky(requests, workdir: Path, per_round: int) -> tuple[float, int, int]:
    """(CPU seconds, Python calls, events) of the sky science for the night's new events,
    computed on this thread in rounds of ``per_round`` events in time order."""
    from meteorgui.sky.compute import Cameras, compute_missing

    server = Server("meteorgui", workdir)
    try:
        server.settle(requests[0])
        replay(server, requests)
        server.finish()
        archive = server.archive
        times = sorted(e.event_time for e in archive.events())
        rounds = [times[i : i + per_round] for i in range(0, len(times), per_round)]
        cameras = Cameras(archive)
        profile = cProfile.Profile()
        t0 = time.thread_time()
        for i, r in enumerate(rounds):
            if i == 1:
                profile.enable()  # calls after the first round (no first-use work)
            compute_missing(archive, after=r[0], before=r[-1] + 1, cameras=cameras)
        cpu = time.thread_time() - t0
        profile.disable()
        profiled = sum(len(r) for r in rounds[1:])
        calls = pstats.Stats(profile).total_calls * len(times) // max(1, profiled)
    finally:
        server.close()
    return cpu, calls, len(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--events", type=int, default=300)
    ap.add_argument("--timelapse", type=int, default=400)
    ap.add_argument("--client", choices=list(CLIENTS), action="append", help="default: both")
    ap.add_argument("--top", type=int, default=0, help="functions by own time, per server")
    ap.add_argument("--sql", action="store_true", help="print each server's statements")
    ap.add_argument("--sky-round", type=int, default=10, help="events per sky round")
    ap.add_argument("--no-sky", action="store_true")
    ap.add_argument("--chunk", type=int, default=40, help="requests per turn of each server")
    ap.add_argument("--dump", type=Path, help="keep each server's profile here (.pstats)")
    ap.add_argument(
        "--costs", type=int, default=0, metavar="N", help="N more rounds metering each cost"
    )
    args = ap.parse_args()

    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    night = make_night(7, events=args.events, timelapse=args.timelapse)
    n = len(night.entities())
    kinds = ("durable-floor", "meteorgui")
    with tempfile.TemporaryDirectory(prefix="meteorgui-replay-") as tmp:
        workdir = Path(tmp)
        for client in args.client or CLIENTS:
            requests = record(client, night, workdir)
            print(f"{client}: {n} entities, {len(requests)} requests recorded")
            cpu: dict[str, list[tuple[float, float, float, float]]] = {k: [] for k in kinds}
            for _ in range(args.rounds):
                for kind, figures in measure(kinds, requests, workdir, args.chunk).items():
                    cpu[kind].append(figures)
            best, user = {}, {}
            for kind in kinds:
                req = min(c[0] for c in cpu[kind])
                best[kind], user[kind] = req, min(c[1] for c in cpu[kind])
                spread = max(c[0] for c in cpu[kind]) / req
                print(
                    f"  {kind:14} request thread {req / n * 1e3:5.3f} ms/entity "
                    f"(best of {args.rounds}; worst/best {spread:.2f}; user "
                    f"{user[kind] / n * 1e3:5.3f}, system "
                    f"{min(c[2] for c in cpu[kind]) / n * 1e3:5.3f}), other threads "
                    f"{min(c[3] for c in cpu[kind]) / n * 1e3:5.3f} ms/entity"
                )
            calls, stmts = {}, {}
            for kind in kinds:
                calls[kind], stmts[kind], text = counts(
                    kind, requests, workdir, args.top, args.sql, args.dump
                )
                print(
                    f"  {kind:14} {calls[kind] / n:7.1f} Python calls/entity, "
                    f"{stmts[kind] / n:5.2f} SQL statements/entity"
                )
                if text:
                    print(text)
            print(
                f"  ratio meteorgui / floor: request-thread CPU "
                f"{best['meteorgui'] / best['durable-floor']:.2f}x (user "
                f"{user['meteorgui'] / user['durable-floor']:.2f}x), calls "
                f"{calls['meteorgui'] / calls['durable-floor']:.2f}x"
            )
            rounds = sorted(
                m[0] / f[0] for m, f in zip(cpu["meteorgui"], cpu["durable-floor"], strict=True)
            )
            print(
                "  request-thread CPU ratio of each round (paired): "
                + ", ".join(f"{r:.2f}" for r in rounds)
                + f"; median {rounds[len(rounds) // 2]:.2f}x"
            )
            if args.costs:
                spent: dict[str, dict[str, float]] = {k: {} for k in kinds}
                for _ in range(args.costs):
                    for kind in kinds:
                        for label, sec in costs(kind, requests, workdir).items():
                            spent[kind][label] = min(spent[kind].get(label, sec), sec)
                print(f"  CPU of the request thread by cost, ms/entity (best of {args.costs}):")
                for kind in kinds:
                    for label, sec in sorted(spent[kind].items(), key=lambda kv: -kv[1]):
                        print(f"    {kind:14} {sec / n * 1e3:6.3f}  {label}")
            if not args.no_sky and client == (args.client or list(CLIENTS))[0]:
                runs = [sky(requests, workdir, args.sky_round) for _ in range(args.rounds)]
                s_cpu = min(r[0] for r in runs)
                _, s_calls, events = runs[0]
                print(
                    f"  sky science ({events} events, rounds of {args.sky_round}): "
                    f"{s_cpu / n * 1e3:5.3f} ms/entity CPU, {s_calls / n:7.1f} calls/entity"
                )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
