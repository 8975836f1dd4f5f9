"""meteorgui's command line: `meteorgui [--data-dir DIR] COMMAND ...`.

User mistakes print one clear line on stderr and exit non-zero; no tracebacks.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys

from . import paths
from .errors import MeteorguiError

# Modules a command needs are imported in that command: ``meteorgui --help`` and the
# window's start pay for nothing else (python -X importtime shows what each costs).

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
MAX_COUNT = 1 << 62  # --limit, --events: beyond any archive, within SQLite's integers


def size(n: float | None) -> str:
    """formatting.size, imported when a command prints a size (not for `--help`)."""
    from .formatting import size as formatted

    return formatted(n)


def count(n: int, noun: str, plural: str | None = None) -> str:
    """formatting.count ('1 file', '3 files'), imported when a command prints one."""
    from .formatting import count as counted

    return counted(n, noun, plural)


def _camera_id(text: str) -> str:
    """A camera id as the archive keeps it: a 2015 node's trailing blanks (a copy of its
    CHAR(64) column) dropped, as the importer drops them."""
    return text.rstrip(" ")


class CliError(MeteorguiError):
    """A mistake the user can fix; printed as one line."""


class _Parser(argparse.ArgumentParser):
    _width: int | None = None  # the terminal's, for help text

    def error(self, message: str):  # one line, not usage + traceback-ish noise
        raise CliError(f"{message} (see '{self.prog} --help')")

    def _get_formatter(self):
        # argparse makes a formatter for every argument added (to check its metavar), and
        # each asks the terminal for its size: a hundred times, 3 ms of every start.
        if _Parser._width is None:
            _Parser._width = shutil.get_terminal_size().columns - 2  # as argparse does
        return self.formatter_class(prog=self.prog, width=_Parser._width)


# ---------------------------------------------------------------------- helpers


def parse_time(text: str) -> int:
    """Milliseconds since the epoch from ms digits or ISO 8601 (naive = local time),
    between 1970 and 3000 (the times the protocol carries)."""
    from datetime import datetime

    from .model import MAX_TIME_MS

    text = text.strip()
    try:
        if text.isdigit():
            ms = int(text)
        else:
            iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
            dt = datetime.fromisoformat(iso)
            if dt.tzinfo is None:
                dt = dt.astimezone()
            ms = int(dt.timestamp() * 1000)
    except (ValueError, OverflowError, OSError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: use ISO 8601 (2026-11-25T21:30Z) or milliseconds"
        ) from None
    if not 0 <= ms <= MAX_TIME_MS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time between 1970 and 3000")
    return ms


def _whole(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None


def _count(text: str) -> int:
    """A whole number >= 0 (a count or a limit)."""
    n = _whole(text, "a whole number")
    if n < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    if n > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"{text!r} is too large")
    return n


def _port(text: str) -> int:
    n = _whole(text, "a port number")
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"port {n} is not between 0 and 65535")
    return n


def _seconds(text: str) -> float:
    """A positive, finite number (a rate or a timeout)."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < x < 1e9:  # NaN fails too
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return x


def format_time(ms: int) -> str:
    from datetime import UTC, datetime

    return (
        datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}Z"
    )


def read_password(prompt: str = "Password: ", confirm: bool = False) -> str:
    """From a prompt on a terminal, else one line from stdin."""
    if sys.stdin is None or not sys.stdin.isatty():
        line = sys.stdin.readline() if sys.stdin else ""
        password = line.rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass(prompt)
        if confirm and getpass.getpass("Again: ") != password:
            raise CliError("the passwords differ")
    if not password:
        raise CliError("no password given")
    return password


def echo(*parts: object, file=None, flush: bool = False) -> None:
    """print(), with control characters shown as ``\\xNN``: every line may carry text from
    a camera or an export target, which must not drive the terminal."""
    from .formatting import terminal_safe

    text = " ".join(str(p) for p in parts)
    print(
        terminal_safe(text, tabs=True), file=file if file is not None else sys.stdout, flush=flush
    )


def _status_line(line: str) -> None:
    """A line for whoever watches a long-running command: the command goes on (and
    stops cleanly) when nobody reads any more (a closed pipe, as with ``| head``)."""
    from .formatting import terminal_safe

    try:
        print(terminal_safe(line), flush=True)
    except (BrokenPipeError, ValueError):
        # Later prints and the exit's final flush would fail the same way: from now on
        # standard output goes nowhere (as Python's documentation advises for EPIPE).
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass


def _configured_data_dir() -> str | None:
    """The data folder chosen in the app's settings, if any (see paths.data_dir)."""
    from .settings import Settings

    return Settings.load().data_dir or None


def _bind_cameras() -> bool:
    from .settings import Settings

    return Settings.load().bind_cameras


def open_archive(args):
    from .archive import Archive, ArchiveError

    try:
        return Archive(paths.data_dir(args.data_dir, _configured_data_dir()))
    except ArchiveError as exc:
        raise CliError(str(exc)) from None


# ---------------------------------------------------------------------- commands


def cmd_serve(args) -> int:
    import signal
    import threading

    from .archive import ArchiveError
    from .core import GIL_SWITCH_INTERVAL_S, Core
    from .importer import ImporterBusy, PortInUse
    from .logs import setup_logging

    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    try:
        core = Core(paths.data_dir(args.data_dir, _configured_data_dir()))
    except ArchiveError as exc:
        raise CliError(str(exc)) from None
    archive = core.archive
    setup_logging(archive.data_dir, verbose=args.verbose)
    core.importer.bind_cameras = _bind_cameras()
    try:
        server = core.start_importer(args.host, args.port)
    except PortInUse as exc:
        core.close()
        raise CliError(f"{exc.strerror}; choose another with --port") from None
    except ImporterBusy as exc:
        core.close()
        raise CliError(exc.strerror) from None
    except OSError as exc:
        core.close()
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    from . import notify

    def show(c):
        if c.final:
            _status_line(
                f"{c.state:8} {c.kind:6} {c.entity_id} from {c.user}@{c.remote_addr}"
                + (f": {c.message}" if c.message and c.state == "failed" else "")
            )

    core.hub.subscribe(notify.CONVERSATION, show)
    from . import __version__

    _status_line(f"meteorgui {__version__}: archive in {archive.data_dir}")
    for address in server.addresses():
        _status_line(f"importer listening on {address.line()}")
    if not any(u.has_role("import") for u in archive.users.list()):
        _status_line(
            "no user has the import role yet: every camera is refused until one is added "
            "(meteorgui user add NAME)"
        )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        _status_line("stopping...")
        core.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return EXIT_OK


EXIT_NOT_RUNNING = 3  # `status`: as systemctl says a service is not running


def cmd_status(args) -> int:
    from .archive.archive import DB_NAME
    from .settings import Settings
    from .status import report

    settings = Settings.load()
    data_dir = paths.data_dir(args.data_dir, settings.data_dir or None)
    if not (data_dir / DB_NAME).is_file():  # look, never make an archive
        raise CliError(f"no archive in {data_dir}")
    archive = open_archive(args)
    try:
        running, lines, low_disk = report(archive, settings)
    finally:
        archive.close()
    for line in lines:
        _status_line(line)
    if low_disk:
        return EXIT_FAIL  # the disk is below the warning threshold in Settings
    return EXIT_OK if running else EXIT_NOT_RUNNING


def cmd_import_log(args) -> int:
    """The import log as the window's Import log shows it: the latest conversations first,
    each with its camera, login, address, state and why it failed."""
    from .formatting import local_time

    archive = open_archive(args)
    try:
        convs = archive.conversations.recent(args.limit, problems_only=args.problems)
        steps = {c.id: archive.conversations.steps(c.id) for c in convs} if args.steps else {}
    finally:
        archive.close()
    if args.json:
        import dataclasses
        import json

        out = [
            dataclasses.asdict(c) | ({"steps": [vars(t) for t in steps[c.id]]} if steps else {})
            for c in convs
        ]
        json.dump(out, sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
        return EXIT_OK
    for c in convs:
        who = f"{c.user}@{c.remote_addr}" if c.remote_addr else c.user
        tries = f", {c.attempts} attempts" if c.attempts > 1 else ""
        echo(
            f"{local_time(c.updated_at)}  {c.state:16} {c.kind} {c.entity_id}  "
            f"camera {c.camera_id or '?'}  {who}{tries}"
        )
        if c.message:
            echo(f"    {c.message}")
        for t in steps.get(c.id, ()):
            echo(f"      {local_time(t.at)}  {t.state:16} {t.detail or ''}")
    echo(f"{count(len(convs), 'conversation')}", file=sys.stderr)
    return EXIT_OK


def cmd_user(args) -> int:
    from .archive import UserError

    archive = open_archive(args)
    try:
        users = archive.users
        if args.user_cmd == "add":
            password = read_password(f"Password for {args.name}: ", confirm=True)
            user = users.add(args.name, password, args.role or ["import"])
            echo(f"added user {user.name} with roles {', '.join(user.roles)}")
        elif args.user_cmd == "list":
            for u in users.list():
                echo(f"{u.name}\t{' '.join(u.roles)}\t{format_time(u.created_at)}")
        elif args.user_cmd == "remove":
            users.remove(args.name)
            echo(f"removed user {args.name}")
        elif args.user_cmd == "password":
            if users.get(args.name) is None:
                raise CliError(f"no user {args.name!r}")
            users.set_password(
                args.name, read_password(f"New password for {args.name}: ", confirm=True)
            )
            echo(f"changed the password of {args.name}")
        elif args.user_cmd == "roles":
            if not args.role and not args.none:  # only asked: show them, change nothing
                user = users.get(args.name)
                if user is None:
                    raise CliError(f"no user {args.name!r}")
                echo(f"{user.name} has roles {', '.join(user.roles) or '(none)'}")
                return EXIT_OK
            if args.role and args.none:
                raise CliError("give --role or --none, not both")
            users.set_roles(args.name, args.role or [])
            echo(f"{args.name} now has roles {', '.join(args.role or []) or '(none)'}")
    except UserError as exc:
        raise CliError(str(exc)) from None
    finally:
        archive.close()
    return EXIT_OK


def cmd_camera(args) -> int:
    archive = open_archive(args)
    try:
        if args.camera_cmd == "list":
            for owner in archive.cameras.list():
                echo(f"{owner.camera_id}\t{owner.user}\tsince {format_time(owner.bound_at)}")
        else:
            from .model import ModelError, parse_camera_id

            try:
                args.camera_id = parse_camera_id(args.camera_id, "camera id")
            except ModelError as exc:
                raise CliError(str(exc)) from None
            if archive.users.get(args.user) is None:
                raise CliError(f"no user {args.user!r}; add it first with 'meteorgui user add'")
            previous = archive.cameras.transfer(args.camera_id, args.user)
            echo(
                f"camera {args.camera_id} is now bound to {args.user}"
                + (f" (was {previous})" if previous and previous != args.user else "")
            )
    finally:
        archive.close()
    return EXIT_OK


def cmd_list(args) -> int:
    from .archive import Filter

    archive = open_archive(args)
    try:
        f = Filter(camera_id=args.camera, after=args.after, before=args.before, limit=args.limit)
        if args.command == "events":
            items = archive.events(f)
        elif args.command == "files":
            items = archive.files(f)
        else:
            items = archive.statuses(f)
        if args.json:
            import json

            json.dump([i.to_dict() for i in items], sys.stdout, separators=(",", ":"))
            sys.stdout.write("\n")
            return EXIT_OK
        for item in items:
            echo(_summary_line(args.command, item))
        echo(f"{len(items)} {args.command}", file=sys.stderr)
    finally:
        archive.close()
    return EXIT_OK


def _summary_line(command: str, item) -> str:
    if command == "events":
        return (
            f"{format_time(item.event_time)}  {item.camera_id}  {item.event_id}  "
            f"{item.event_type}  {count(len(item.files), 'file')}"
        )
    if command == "files":
        return (
            f"{format_time(item.file_time)}  {item.camera_id}  {item.file_id}  "
            f"{item.mime_type}  {item.file_size} B  {item.semantic_type or ''}"
        )
    until = format_time(item.valid_to) if item.valid_to is not None else "now"
    return (
        f"{format_time(item.valid_from)} .. {until}  {item.camera_id}  {item.status_id}  "
        f"{item.inst_name or ''}"
    )


def cmd_verify(args) -> int:
    archive = open_archive(args)
    try:
        total = archive.count("files")
        bad = archive.verify()
        marked = archive.resend_marked(c.file.file_id for c in bad)
        for check in bad:
            owner = f"event {check.event_id}" if check.event_id else "standalone"
            waiting = ", resend requested" if check.file.file_id in marked else ""
            echo(
                f"{check.state:8} {check.file.file_id}  "
                f"({owner}, {check.file.file_name or ''}{waiting})"
            )
        echo(
            f"checked {total} files: {total - len(bad)} ok, "
            f"{sum(c.state == 'damaged' for c in bad)} damaged, "
            f"{sum(c.state == 'missing' for c in bad)} missing"
        )
        if any(c.file.file_id not in marked for c in bad):
            echo(
                "to fetch them again from the camera: meteorgui resend ID... (the event's "
                "id, or the file's for a standalone one)",
                file=sys.stderr,
            )
    finally:
        archive.close()
    return EXIT_FAIL if bad else EXIT_OK


def cmd_resend(args) -> int:
    from .archive import ArchiveError
    from .importer import Importer
    from .model import ModelError, parse_uuid

    archive = open_archive(args)
    failures = 0
    try:
        importer = Importer(archive)
        for raw in args.ids:
            try:
                ident = parse_uuid(raw, "id")
                marked = importer.request_resend(ident)
            except (ModelError, ArchiveError) as exc:
                echo(f"meteorgui: {exc}", file=sys.stderr)
                failures += 1
                continue
            echo(
                f"{ident}: {count(len(marked), 'file')} will be asked for again the next time a "
                "camera offers it"
            )
        importer.close()
    finally:
        archive.close()
    return EXIT_FAIL if failures else EXIT_OK


ENV_PASSWORD = "METEORGUI_PASSWORD"


def _simulate_password(args) -> str:
    """From --password-file, $METEORGUI_PASSWORD, else a prompt or stdin: never from the
    command line, which every user of the computer can read in the process list."""
    if args.password is not None:
        raise CliError(
            "--password would show the password to every user of this computer (in the "
            "process list); use "
            f"--password-file FILE, ${ENV_PASSWORD} or standard input"
        )
    if args.password_file is not None:
        try:
            with open(args.password_file, encoding="utf-8") as fh:
                password = fh.readline().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read the password file {args.password_file}: {exc}") from None
        if not password:
            raise CliError(f"the password file {args.password_file} is empty")
        return password
    if os.environ.get(ENV_PASSWORD):
        return os.environ[ENV_PASSWORD]
    return read_password(f"Password for {args.user} at {args.to}: ")


def cmd_simulate(args) -> int:
    from .simulate import push as simulate

    password = _simulate_password(args)
    common = dict(
        to=args.to,
        user=args.user,
        password=password,
        seed=args.seed,
        rate=args.rate,
        start_ms=args.start,
    )
    if args.showers:
        from .simulate import showers

        return showers.run(meteors=args.meteors, truth=args.truth, cameras=args.cameras, **common)
    if args.truth is not None:
        raise CliError("--truth goes with --showers")
    return simulate.run(events=args.events, timelapse=args.timelapse, **common)


def _shower_code(text: str | None) -> str | None:
    """The shower code a user means: a code in any case (per), a name (Perseids) or
    'sporadic'; CliError naming the codes for anything else."""
    if text is None:
        return None
    from .sky.names import shower_named, shower_names

    code = shower_named(text)
    if code is None:
        codes = ", ".join(sorted(shower_names()))
        raise CliError(f"no shower is called {text!r}: use an IAU code ({codes}) or sporadic")
    return code


def cmd_meteors(args) -> int:
    import json

    from .sky.compute import meteors

    shower = _shower_code(args.shower)
    archive = open_archive(args)
    try:
        items = meteors(archive, args.camera, args.after, args.before, shower)
    finally:
        archive.close()
    if args.json:
        import json

        json.dump([r.to_dict() for r in items], sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
        return EXIT_OK
    for r in items:
        what = r.shower or f"- ({r.reason})"
        if r.distance_deg is not None:
            what += f" at {r.distance_deg:.1f} deg"
        extra = f"  group {r.group_id[:8]}" if r.group_id else ""
        if r.begin_height_km is not None:
            extra += f"  {r.begin_height_km:.1f}-{r.end_height_km:.1f} km {r.speed_km_s:.1f} km/s"
        echo(f"{format_time(r.time_ms)}  {r.camera_id}  {r.event_id}  {what}{extra}")
    meteor_count = len({r.group_id or r.event_id for r in items})
    echo(
        f"{count(len(items), 'event')}, {count(meteor_count, 'meteor')}"
        " (a meteor several cameras saw is one)",
        file=sys.stderr,
    )
    return EXIT_OK


def _export_selection(args):
    from .archive.exports import REVIEWED, UNREVIEWED, Selection, SelectionError

    if args.review is not None:
        try:
            from .archive.browse import LABELS
        except ImportError:  # an archive package without reviews
            LABELS = ()
        allowed = (UNREVIEWED, REVIEWED, *LABELS)
        if LABELS and args.review not in allowed:
            raise CliError(f"--review must be one of {', '.join(allowed)}")
    try:
        return Selection(
            camera_id=args.camera,
            after=args.after,
            before=args.before,
            event_type=args.type,
            review=args.review,
            events=not args.files_only,
            files=not args.events_only,
        )
    except SelectionError as exc:
        raise CliError(str(exc)) from None


def cmd_export(args) -> int:
    if (args.to is None) == (args.to_folder is None):
        raise CliError("say where to: --to URL or --to-folder DIR")
    if args.format is not None or args.shower is not None:
        return _export_meteors(args)
    if args.zip and args.to_folder is None:
        raise CliError("--zip goes with --to-folder")
    selection = _export_selection(args)
    if args.to_folder is not None:
        return _export_to_folder(args, selection)
    if not args.user:
        raise CliError("--to needs --user")
    return _export_to_importer(args, selection)


def _export_meteors(args) -> int:
    if args.to_folder is None or args.format is None:
        raise CliError(
            "--format and --shower go with --to-folder: --to-folder DIR --format ftpdetectinfo|csv"
        )
    if args.zip or args.review or args.type or args.files_only:
        raise CliError(
            "--format writes meteor events (those you marked as something else are left "
            "out): no --zip, --review, --type or --files-only"
        )
    from .sky.export import export_meteors

    shower = _shower_code(args.shower)
    archive = open_archive(args)
    try:
        written = export_meteors(
            archive, args.to_folder, args.format, args.camera, args.after, args.before, shower
        )
    except OSError as exc:
        echo(f"meteorgui: cannot write to {args.to_folder}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAIL
    finally:
        archive.close()
    for path in written:
        echo(f"wrote {path}")
    return EXIT_OK


def _export_to_folder(args, selection) -> int:
    from .exporter.folder import (
        FolderExportError,
        FolderWriteError,
        NothingToExport,
        export_to_folder,
    )

    archive = open_archive(args)
    try:
        result = export_to_folder(archive, args.to_folder, selection=selection, as_zip=args.zip)
    except NothingToExport as exc:  # a night with nothing in it: no mistake, and no folder
        echo(str(exc))
        return EXIT_OK
    except FolderWriteError as exc:  # it started, then failed: not a usage mistake
        echo(f"meteorgui: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except FolderExportError as exc:
        raise CliError(str(exc)) from None
    finally:
        archive.close()
    for file_id, message in result.problems:
        echo(f"meteorgui: file {file_id} left out: {message}", file=sys.stderr)
    echo(
        f"wrote {count(result.events, 'event')} and {count(result.files, 'file')} "
        f"({size(result.bytes)}) to {result.path}"
        + (f"; {count(len(result.problems), 'file')} left out" if result.problems else "")
    )
    return EXIT_OK if result.ok else EXIT_FAIL


def _export_to_importer(args, selection) -> int:
    import signal
    import time

    from .archive import exports
    from .exporter import Exporter, FileSecrets
    from .exporter import runner as R
    from .exporter.targets import Target, TargetError, check_url, test_connection
    from .logs import close_logging, setup_logging

    try:
        url = check_url(args.to)
    except TargetError as exc:
        raise CliError(str(exc)) from None
    if args.ca_bundle is not None and not os.path.isfile(args.ca_bundle):
        raise CliError(f"the CA bundle {args.ca_bundle} is not a readable file")
    password = read_password(f"Password for {args.user} at {url}: ")
    # Try the connection before saving anything: a typo must not become a target.
    probe = Target("", url, url, args.user, args.ca_bundle, args.timeout)
    check = test_connection(probe, password, timeout=min(args.timeout, 30))
    if not check.ok:
        raise CliError(f"cannot export to {url}: {check.message}")

    archive = open_archive(args)
    setup_logging(archive.data_dir, verbose=args.verbose)
    # A Cancel, not a plain Event: Ctrl+C also aborts the request in flight (its socket
    # is shut down), instead of waiting for the importer's answer.
    stop = R.Cancel()
    previous = {
        s: signal.signal(s, lambda signum, frame: stop.set())
        for s in (signal.SIGINT, signal.SIGTERM)
    }
    # The CLI never stores a password: it asks each time.
    exporter = Exporter(archive, FileSecrets())
    try:
        try:
            target = exporter.targets.ensure(url, args.user)
            if args.ca_bundle is not None or target.timeout != args.timeout:
                target = exporter.targets.update(
                    target.target_id, ca_bundle=args.ca_bundle, timeout=args.timeout
                )
        except TargetError as exc:
            raise CliError(str(exc)) from None
        now = int(time.time() * 1000)
        matching, already = exports.scope_counts(archive, selection, now, target.target_id)
        exporter.queue.enqueue_selection(
            target.target_id, selection, now_ms=now, force=args.force, source="cli"
        )
        pending = exporter.queue.pending(target.target_id)
        nothing = (
            f"nothing to export: all {matching} matching entities are already at {url}"
            if matching
            else "nothing to export: no event or file matches"
        )
        if pending == 0 and not check.resend_supported:
            echo(nothing)
            return EXIT_OK
        if pending:  # else the round only reads what the importer asks for again
            echo(
                f"exporting {count(pending, 'entity', 'entities')} to {url}"
                + (f" ({already} already there)" if already and not args.force else ""),
                file=sys.stderr,
                flush=True,
            )

        def show(e) -> None:
            if e.kind != R.ITEM_DONE or e.result.state == "cancelled":
                return
            if not e.result.ok:
                echo(
                    f"failed   {e.item.kind:5} {e.item.entity_id}: {e.result.message}",
                    file=sys.stderr,
                    flush=True,
                )
            elif args.verbose:
                echo(
                    f"complete {e.item.kind:5} {e.item.entity_id} "
                    f"({size(e.result.bytes_sent)} sent)",
                    file=sys.stderr,
                    flush=True,
                )

        result = exporter.export(target.target_id, password=password, on_event=show, cancel=stop)
    finally:
        exporter.close()
        archive.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
        close_logging()
    if result.resent:
        echo(
            f"{url} asked for {count(result.resent, 'entity', 'entities')} again (its resend list)",
            file=sys.stderr,
        )
    if pending == 0 and not (result.resent or result.error or result.cancelled):
        echo(nothing)
        return EXIT_OK
    if result.error:
        echo(f"meteorgui: export stopped: {result.error}", file=sys.stderr)
    elif result.cancelled:
        echo("meteorgui: interrupted; run the same command again to resume", file=sys.stderr)
    total = result.complete + result.failed + result.left
    echo(
        f"{result.complete} of {total} entities exported to {url}: {result.failed} failed, "
        f"{result.left} left; {size(result.bytes_sent)} uploaded in {result.seconds:.1f} s"
    )
    if result.ok:
        return EXIT_OK
    return 130 if result.cancelled else EXIT_FAIL


def cmd_gui(args) -> int:
    # Qt's multimedia backend reports missing optional audio libraries and FFmpeg details on
    # stderr; none of it is the user's concern. Set before Qt is first imported.
    quiet = (
        "qt.multimedia.symbolsresolver=false;qt.multimedia.ffmpeg*=false;"
        "qt.multimedia.playbackengine*=false"
    )
    user_rules = os.environ.get("QT_LOGGING_RULES")  # later rules win: the user's own last
    os.environ["QT_LOGGING_RULES"] = f"{quiet};{user_rules}" if user_rules else quiet
    # The cyclic collector would run dozens of times while the window's modules load;
    # run_gui turns it on again once the first page of events is shown.
    collecting = gc.isenabled()
    gc.disable()
    try:
        from .gui.startup import run_gui
    except ImportError as exc:
        if collecting:
            gc.enable()
        raise CliError(f"the desktop app cannot start: {exc}") from None
    return run_gui(args, collector_paused=collecting)


# ---------------------------------------------------------------------- parser


class _Version(argparse.Action):
    """argparse's "version" action, with the version looked up only when asked for."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, **kw):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kw)
        self.help = "show the version and exit"

    def __call__(self, parser, namespace, values, option_string=None):
        from . import __version__

        print(f"meteorgui {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="meteorgui", description="A desktop archive for meteor cameras.")
    p.add_argument("--version", action=_Version)
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"where the archive lives (default: ${paths.ENV_DATA_DIR}, else the folder "
        f"chosen in the app's Settings, else {paths.data_dir(None)})"
        if not os.environ.get(paths.ENV_DATA_DIR)
        else f"where the archive lives (default: "
        f"${paths.ENV_DATA_DIR}, now {os.environ[paths.ENV_DATA_DIR]})",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="open the app on a demo archive fed by a simulated camera",
    )
    # For scripts that check an installation: quit after N demo events are archived.
    p.add_argument("--demo-exit-after", type=_count, metavar="N", help=argparse.SUPPRESS)
    p.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    s = sub.add_parser("serve", help="run the importer headless until stopped")
    s.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all)")
    s.add_argument("--port", type=_port, default=8080, help="port (default 8080; 0 picks one)")
    s.set_defaults(func=cmd_serve)

    st = sub.add_parser(
        "status",
        help="the importer, each camera's last contact and failures, the disk space left",
        description="Exit status 0 when an importer is taking data into this archive, "
        f"{EXIT_NOT_RUNNING} when none is.",
    )
    st.set_defaults(func=cmd_status)

    il = sub.add_parser(
        "import-log",
        help="the latest import conversations: what each camera sent, and why any failed",
    )
    il.add_argument("--problems", action="store_true", help="only failures and retries")
    il.add_argument("--limit", metavar="N", type=_count, default=50, help="how many (50)")
    il.add_argument("--steps", action="store_true", help="each conversation's steps too")
    il.add_argument("--json", action="store_true", help="as JSON")
    il.set_defaults(func=cmd_import_log)

    u = sub.add_parser("user", help="manage the users cameras log in as")
    usub = u.add_subparsers(dest="user_cmd", metavar="ACTION", required=True, parser_class=_Parser)
    ua = usub.add_parser("add", help="add a user (password from a prompt or stdin)")
    ua.add_argument("name")
    ua.add_argument(
        "--role",
        action="append",
        choices=["user", "camera_admin", "import"],
        help="a role (repeat for several; default: import)",
    )
    usub.add_parser("list", help="list users")
    for action, text in (("remove", "remove a user"), ("password", "change a password")):
        x = usub.add_parser(action, help=text)
        x.add_argument("name")
    ur = usub.add_parser(
        "roles", help="show a user's roles, or set them (--role ..., or --none to take all away)"
    )
    ur.add_argument("name")
    ur.add_argument(
        "--role",
        action="append",
        choices=["user", "camera_admin", "import"],
        help="the roles the user has from now on (repeat for several)",
    )
    ur.add_argument(
        "--none", action="store_true", help="take every role away (a camera can no longer send)"
    )
    u.set_defaults(func=cmd_user)

    c = sub.add_parser("camera", help="which login each camera is bound to")
    csub = c.add_subparsers(
        dest="camera_cmd", metavar="ACTION", required=True, parser_class=_Parser
    )
    csub.add_parser("list", help="list cameras with the login each is bound to")
    ct = csub.add_parser(
        "transfer", help="bind a camera to another login (its statuses, events and files)"
    )
    ct.add_argument("camera_id", metavar="ID")
    ct.add_argument("user", metavar="USER")
    c.set_defaults(func=cmd_camera)

    for name, text in (
        ("events", "list events"),
        ("files", "list every file record"),
        ("statuses", "list camera statuses"),
    ):
        x = sub.add_parser(name, help=text)
        x.add_argument("--json", action="store_true", help="a JSON array in the wire format")
        x.add_argument("--camera", metavar="ID", type=_camera_id)
        x.add_argument("--after", metavar="T", type=parse_time, help="ISO 8601 time or ms")
        x.add_argument("--before", metavar="T", type=parse_time, help="ISO 8601 time or ms")
        x.add_argument("--limit", metavar="N", type=_count)
        x.set_defaults(func=cmd_list)

    v = sub.add_parser("verify", help="re-hash every stored file; exit 1 if any is damaged")
    v.set_defaults(func=cmd_verify)

    r = sub.add_parser(
        "resend",
        help="mark events or files so that their bytes are asked for again the next time a "
        "camera offers them (a MeteorPi camera offers again what never got 'complete', or "
        "everything under a new export configuration)",
    )
    r.add_argument(
        "ids",
        nargs="+",
        metavar="ID",
        help="an event's id (its damaged or missing files; all of them if none is), or a "
        "file's id (a time-lapse still, or one file of an event), as `events`, `files` and "
        "`verify` print them",
    )
    r.set_defaults(func=cmd_resend)

    m = sub.add_parser("simulate", help="act as a camera node pushing a night")
    m.add_argument(
        "--to", required=True, metavar="URL", help="import URL, e.g. http://host:8080/import"
    )
    m.add_argument("--user", required=True)
    m.add_argument("--password", help=argparse.SUPPRESS)  # refused with a reason
    m.add_argument(
        "--password-file",
        metavar="FILE",
        help=f"read the password from FILE's first line (else ${ENV_PASSWORD}, else stdin)",
    )
    m.add_argument("--events", type=_count, default=20, metavar="N")
    m.add_argument("--timelapse", type=_count, default=20, metavar="M")
    m.add_argument("--seed", type=int, default=1, metavar="S")
    m.add_argument(
        "--rate",
        type=_seconds,
        default=None,
        metavar="R",
        help="entities per second (default: as fast as possible)",
    )
    m.add_argument(
        "--start",
        type=parse_time,
        default=None,
        metavar="T",
        help="when the night starts, ISO 8601 or ms (default: a fixed night in "
        "2015, so a seed always makes the same night)",
    )
    m.add_argument(
        "--showers",
        action="store_true",
        help="a physically consistent night: cameras tens of km apart, meteors from "
        "showers and sporadics on 3-D trajectories, in the 2015 node's form",
    )
    m.add_argument(
        "--meteors",
        type=_count,
        default=150,
        metavar="N",
        help="with --showers: how many meteors (default 150)",
    )
    m.add_argument(
        "--cameras",
        type=int,
        choices=(2, 3),
        default=2,
        help="with --showers: how many cameras (default 2)",
    )
    m.add_argument(
        "--truth",
        metavar="FILE",
        help="with --showers: write each meteor's true shower and trajectory here",
    )
    m.set_defaults(func=cmd_simulate)

    me = sub.add_parser(
        "meteors",
        help="list meteor events with their shower, radiant, group and trajectory",
        description="One entry per event in time order; what is missing is computed first.",
    )
    me.add_argument("--json", action="store_true", help="a JSON array")
    me.add_argument("--camera", metavar="ID", type=_camera_id)
    me.add_argument("--after", metavar="T", type=parse_time, help="ISO 8601 time or ms")
    me.add_argument("--before", metavar="T", type=parse_time, help="ISO 8601 time or ms")
    me.add_argument("--shower", metavar="CODE", help="an IAU code such as PER, or sporadic")
    me.set_defaults(func=cmd_meteors)

    x = sub.add_parser(
        "export",
        help="send events and files to a MeteorPi importer, or a folder",
        description="With no filter: every event and every standalone file. "
        "Entities already exported to the target are skipped; "
        "an interrupted export resumes when run again.",
    )
    where = x.add_mutually_exclusive_group()
    where.add_argument("--to", metavar="URL", help="import URL, e.g. https://host/import")
    where.add_argument(
        "--to-folder", metavar="DIR", help="write files and a manifest.json to a new folder"
    )
    x.add_argument("--zip", action="store_true", help="with --to-folder: write DIR.zip instead")
    x.add_argument(
        "--format",
        choices=("ftpdetectinfo", "csv"),
        help="with --to-folder: meteor events as CAMS FTPdetectinfo (one file per camera) "
        "or a CSV of meteors, instead of the files and a manifest",
    )
    x.add_argument("--shower", metavar="CODE", help="with --format: only this shower's meteors")
    x.add_argument("--user", help="user name at the importer (password from a prompt or stdin)")
    x.add_argument("--camera", metavar="ID", type=_camera_id)
    x.add_argument("--after", metavar="T", type=parse_time, help="ISO 8601 time or ms")
    x.add_argument("--before", metavar="T", type=parse_time, help="ISO 8601 time or ms")
    x.add_argument("--type", metavar="T", help="event type, e.g. meteorpi:meteor (events only)")
    x.add_argument(
        "--review",
        metavar="STATE",
        help="unreviewed, reviewed or a label such as meteor (events only)",
    )
    only = x.add_mutually_exclusive_group()
    only.add_argument("--events-only", action="store_true")
    only.add_argument("--files-only", action="store_true", help="standalone files only")
    x.add_argument("--force", action="store_true", help="send again what the target already has")
    x.add_argument(
        "--ca-bundle",
        metavar="FILE",
        help="trust this CA bundle (a self-signed importer); certificates are always verified",
    )
    x.add_argument(
        "--timeout",
        type=_seconds,
        default=120.0,
        metavar="S",
        help="seconds to wait for each answer (default 120)",
    )
    x.set_defaults(func=cmd_export)
    return p


class _NoDatabase(Exception):
    """Never raised: what main() catches as a database error before sqlite3 was used."""


def _database_error() -> type[Exception]:
    # Evaluated only when an exception reaches main() (SystemExit from --help too):
    # a database error can only come from a command that imported sqlite3.
    sqlite3 = sys.modules.get("sqlite3")
    return _NoDatabase if sqlite3 is None else sqlite3.DatabaseError


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.data_dir is not None and not args.data_dir.strip():
            raise CliError("--data-dir is empty")
        if args.demo_exit_after is not None and not args.demo:
            raise CliError("--demo-exit-after goes with --demo")
        func = getattr(args, "func", cmd_gui)
        return func(args)
    except CliError as exc:
        echo(f"meteorgui: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MeteorguiError as exc:  # any problem the user can act on: one line, no traceback
        echo(f"meteorgui: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except _database_error() as exc:  # a damage found only while reading
        echo(
            f"meteorgui: the archive's database cannot be read: {exc}. Keep a copy of "
            "the data folder before anything else touches it.",
            file=sys.stderr,
        )
        return EXIT_FAIL
    except KeyboardInterrupt:
        echo("meteorgui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_FAIL
