"""Export to a folder or a zip: the files of selected events, and a manifest in wire format.

Layout (the same inside a zip)::

    manifest.json
    events/<event_id>/<NN>-<file name>     the event's files, in the event's order
    files/<file_id>-<file name>            standalone (time-lapse) files

``manifest.json`` is ``{"format": "meteorgui-export", "version": 1,
"exported_at": ms, "events": [{"event": <wire event>, "paths": [...]}],
"files": [{"file": <wire file record>, "path": ...}], "statuses": [<wire
status>, ...], "missing": [file ids whose bytes were missing or damaged]}``:
every entity exactly as an importer would receive it, so the folder can be
replayed to one later. It is written entity by entity, and every file is
copied in chunks and its MD5 checked on the way, so memory stays flat however
large the export. The result appears whole or not at all: everything is
written under a temporary name beside the destination and renamed at the end.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .. import __version__, locks
from ..archive import exports
from ..archive.exports import Selection
from ..errors import MeteorguiError
from ..model import FileRecord, dumps

CHUNK = 1 << 20
FORMAT = "meteorgui-export"
VERSION = 1
# Already compressed: deflating them again costs time for nothing.
_STORED = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "video/",
    "audio/",
    "application/zip",
    "application/gzip",
)


class FolderExportError(MeteorguiError):
    """The export cannot be written where asked; the message says why."""


class FolderWriteError(FolderExportError):
    """Writing failed part-way (a full disk, an I/O error); nothing was left behind."""


class NothingToExport(FolderExportError):
    """Nothing fits what was chosen; nothing was written."""


class _Cancelled(Exception):
    """Cancelled in the middle of a file."""


@dataclass
class FolderResult:
    path: Path
    events: int = 0
    files: int = 0  # files written, event files included
    bytes: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)  # (id, message)
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and not self.cancelled


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


NAME_CHARS = 80


def safe_name(name: str | None, fallback: str) -> str:
    """A file name that is safe on every file system and inside a zip (its extension
    kept when it is cut short)."""
    text = _UNSAFE.sub("_", (name or "").strip()).strip("._")
    if len(text) > NAME_CHARS:
        stem, dot, ext = text.rpartition(".")
        text = (
            f"{stem[: NAME_CHARS - len(ext) - 1]}.{ext}"
            if dot and stem and len(ext) <= 10
            else text[:NAME_CHARS]
        )
    return text or fallback


def _entry_name(record: FileRecord, fallback: str) -> str:
    """The file's safe name, with an extension from its MIME type when it has none."""
    name = safe_name(record.file_name, fallback)
    if "." in name:
        return name
    sub = record.mime_type.split("/", 1)[1].split("+")[0].split(".")[-1]
    return f"{name}.{ {'plain': 'txt', 'jpeg': 'jpg', 'quicktime': 'mov'}.get(sub, sub) }"


class _Unreadable(Exception):
    """A stored file could not be read (not a problem of the destination)."""


def _read_all(source: BinaryIO):
    """The source's chunks; a read error becomes _Unreadable."""
    while True:
        try:
            chunk = source.read(CHUNK)
        except OSError as exc:
            raise _Unreadable(exc.strerror or str(exc)) from None
        if not chunk:
            return
        yield chunk


def _hash_file(path: Path, cancelled: Callable[[], bool]) -> tuple[int, str]:
    h = hashlib.md5(usedforsecurity=False)
    n = 0
    with open(path, "rb") as fh:
        for chunk in _read_all(fh):
            if cancelled():
                raise _Cancelled
            h.update(chunk)
            n += len(chunk)
    return n, h.hexdigest()


def _umask(folder: Path) -> int:
    """The umask new files get, read without changing it: a probe file made in
    ``folder`` with mode 0666 keeps what the umask lets through."""
    probe = folder / f".umask-probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        try:
            masked = 0o666 & ~os.fstat(fd).st_mode & 0o777
            return masked | ((masked & 0o444) >> 2)  # no read, no search (folders) either
        finally:
            os.close(fd)
            probe.unlink()
    except OSError:
        return 0o077  # cannot tell: keep the export private


class _Sink:
    """Where exported files go: a folder or a zip, both under a temporary name."""

    def __init__(self, dest: Path, as_zip: bool):
        self.dest = dest
        self.as_zip = as_zip
        self.cancelled: Callable[[], bool] = lambda: False  # looked at every chunk
        parent = dest.parent
        # Each partial is held (locks.hold) while this run lives: a later run to the same
        # destination sweeps only those of runs that died (kill -9, power loss).
        if as_zip:
            fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=parent)
            self._held: int | None = fd
            locks.hold(fd)
            self.tmp = Path(tmp)
            self.zip: zipfile.ZipFile | None = zipfile.ZipFile(self.tmp, "w", allowZip64=True)
        else:
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=parent))
            self._held = locks.hold_path(self.tmp)
            self.zip = None

    def add(self, arcname: str, source: BinaryIO, mime: str, md5: str | None) -> tuple[int, str]:
        """Copy a stream in; returns (bytes, md5 hex)."""
        h = hashlib.md5(usedforsecurity=False)
        n = 0
        if self.zip is not None:
            stored = mime.startswith(_STORED) or mime in _STORED
            method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            info = zipfile.ZipInfo(arcname, date_time=time.localtime()[:6])
            info.compress_type = method
            with self.zip.open(info, "w", force_zip64=True) as out:
                for chunk in _read_all(source):
                    if self.cancelled():
                        raise _Cancelled
                    h.update(chunk)
                    n += len(chunk)
                    out.write(chunk)
        else:
            path = self.tmp / arcname
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as out:
                for chunk in _read_all(source):
                    if self.cancelled():
                        raise _Cancelled
                    h.update(chunk)
                    n += len(chunk)
                    out.write(chunk)
        return n, h.hexdigest()

    def remove(self, arcname: str) -> None:
        """Drop a file found damaged while copying (a zip's files are checked before)."""
        if self.zip is None:
            (self.tmp / arcname).unlink(missing_ok=True)

    def finish(self) -> None:
        umask = _umask(self.dest.parent)  # private from mkstemp/mkdtemp; now as any new file
        if self.zip is not None:
            self.zip.close()
            os.chmod(self.tmp, 0o666 & ~umask)
            try:  # never over a file that appeared meanwhile
                os.link(self.tmp, self.dest)
            except FileExistsError:
                raise FolderExportError(
                    f"{self.dest} appeared while exporting; nothing was replaced"
                ) from None
            except OSError:  # no hard links here (FAT, some network shares)
                if self.dest.exists():
                    raise FolderExportError(
                        f"{self.dest} appeared while exporting; nothing was replaced"
                    ) from None
                os.replace(self.tmp, self.dest)
            else:
                self.tmp.unlink()
        else:
            for folder, _dirs, _files in os.walk(self.tmp):
                os.chmod(folder, 0o777 & ~umask)
            for folder, _dirs, files in os.walk(self.tmp):
                for name in files:
                    os.chmod(os.path.join(folder, name), 0o666 & ~umask)
            if self.dest.exists():
                self.dest.rmdir()  # checked empty before we started
            os.replace(self.tmp, self.dest)
        self._release()

    def abort(self) -> None:
        if self.zip is not None:
            try:
                self.zip.close()  # may fail as the write did (a full disk)
            except OSError:
                pass
            finally:
                self.tmp.unlink(missing_ok=True)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        self._release()

    def _release(self) -> None:
        if self._held is not None:
            os.close(self._held)
            self._held = None


def _check_dest(dest: Path, as_zip: bool) -> Path:
    # Resolved: '.' and a symlink to a folder name the real place.
    dest = Path(dest).expanduser().resolve()
    if as_zip and dest.suffix.lower() != ".zip":
        dest = dest.with_name(dest.name + ".zip")
    if not dest.parent.is_dir():
        raise FolderExportError(f"the folder {dest.parent} does not exist")
    if as_zip and dest.exists():
        raise FolderExportError(f"{dest} already exists; choose another name")
    if not as_zip and dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FolderExportError(f"{dest} exists and is not an empty folder")
    return dest


def export_to_folder(
    archive,
    dest: str | os.PathLike,
    *,
    ids: Iterable[str] | None = None,
    selection: Selection | None = None,
    as_zip: bool = False,
    now_ms: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> FolderResult:
    """Write the events/files given by ``ids`` (event or standalone file ids) or by a
    ``selection`` (default: everything) into ``dest``. ``on_progress(done, total)`` counts
    entities. Blocks: run it on a worker thread."""
    dest = _check_dest(Path(dest), as_zip)
    # What runs to this destination that died left behind (hidden partial folders, zips
    # and manifests); those of runs still going are held and stay.
    locks.sweep(dest.parent.glob(f".{glob.escape(dest.name)}.*.part"))
    if ids is not None:
        wanted = _resolve_ids(archive, ids)
    else:
        sel = selection or Selection()
        t = now_ms if now_ms is not None else int(time.time() * 1000)
        wanted = [(k, i) for k, i, _ in exports.entities(archive, sel, t)]
    if not wanted:
        raise NothingToExport("nothing to export: no event or file matches; nothing was written")
    result = FolderResult(dest)
    try:
        sink = _Sink(dest, as_zip)
    except OSError as exc:
        raise FolderExportError(f"cannot write in {dest.parent}: {exc.strerror or exc}") from None
    sink.cancelled = cancelled = cancelled or (lambda: False)
    try:
        _write(archive, sink, wanted, result, on_progress, cancelled)
        if result.cancelled:
            sink.abort()
        else:
            sink.finish()
    except _Cancelled:  # in the middle of a (large) file: no need to wait for its end
        sink.abort()
        result.cancelled = True
    except BaseException as exc:
        sink.abort()
        if isinstance(exc, FolderExportError):
            raise
        if isinstance(exc, OSError):
            raise FolderWriteError(f"writing {dest} failed: {exc.strerror or exc}") from None
        raise
    return result


def _resolve_ids(archive, ids: Iterable[str]) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for ident in ids:
        if archive.has_event(ident):
            out[ident] = "event"
            continue
        owner = archive.file_event_id(ident)
        if owner is not None:
            out[owner] = "event"
        elif archive.has_file(ident):
            out[ident] = "file"
    return [(kind, ident) for ident, kind in out.items()]


def _write(archive, sink: _Sink, wanted, result: FolderResult, on_progress, cancelled) -> None:
    fd, manifest_tmp = tempfile.mkstemp(
        prefix=f".{sink.dest.name}.manifest.", suffix=".part", dir=sink.tmp.parent
    )
    locks.hold(fd)  # until written and read back: closing the file ends its life
    statuses: set[str] = set()
    missing: list[str] = []
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as manifest:
            manifest.write(
                json.dumps(
                    {
                        "format": FORMAT,
                        "version": VERSION,
                        "generator": f"meteorgui {__version__}",
                        "exported_at": int(time.time() * 1000),
                    }
                )[:-1]
            )
            total, done = len(wanted), 0

            def write_list(name: str, ids: list[str], load, entry, gone: str) -> bool:
                """One list of the manifest; False if cancelled. Vanished ids are problems."""
                nonlocal done
                manifest.write(f',"{name}":[')
                written = 0  # the comma depends on what was written, not on the position
                for ident in ids:
                    if cancelled():
                        result.cancelled = True
                        return False
                    item = load(ident)
                    done += 1
                    if item is None:  # deleted since the list was made
                        result.problems.append((ident, gone))
                        continue
                    statuses.add(item.status_id)
                    # An importer asks for each file's status too, when replayed.
                    statuses.update(f.status_id for f in getattr(item, "files", ()))
                    manifest.write(("," if written else "") + dumps(entry(item)))
                    written += 1
                    if on_progress is not None:
                        on_progress(done, total)
                manifest.write("]")
                return True

            def event_entry(event):
                result.events += 1
                return {
                    "event": event.to_dict(),
                    "paths": [
                        _copy(
                            archive,
                            sink,
                            f,
                            f"events/{event.event_id}/{i + 1:02d}-{_entry_name(f, f.file_id)}",
                            result,
                            missing,
                        )
                        for i, f in enumerate(event.files)
                    ],
                }

            def file_entry(record):
                return {
                    "file": record.to_dict(),
                    "path": _copy(
                        archive,
                        sink,
                        record,
                        f"files/{record.file_id}-{_entry_name(record, 'file')}",
                        result,
                        missing,
                    ),
                }

            if not write_list(
                "events",
                [i for k, i in wanted if k == "event"],
                archive.get_event,
                event_entry,
                "the event is no longer in the archive",
            ):
                return
            if not write_list(
                "files",
                [i for k, i in wanted if k == "file"],
                archive.get_file,
                file_entry,
                "the file is no longer in the archive",
            ):
                return
            manifest.write(',"statuses":[')
            manifest.write(
                ",".join(
                    dumps(s.to_dict())
                    for s in (archive.get_status(i) for i in sorted(statuses))
                    if s is not None
                )
            )
            manifest.write('],"missing":' + dumps(missing) + "}\n")
        with open(manifest_tmp, "rb") as fh:
            sink.add("manifest.json", fh, "application/json", None)
    finally:
        Path(manifest_tmp).unlink(missing_ok=True)


def _copy(
    archive, sink: _Sink, record: FileRecord, arcname: str, result: FolderResult, missing: list[str]
) -> str | None:
    """Copy one stored file in; None (and a problem) if its bytes are missing, cannot be
    read or are damaged. Nothing of such a file is left in the export."""
    path = archive.file_path(record)
    try:
        if sink.zip is not None:
            # A zip member cannot be taken back out: check the bytes before adding them.
            n, md5 = _hash_file(path, sink.cancelled)
            if md5 != record.md5 or n != record.file_size:
                _damaged(record, md5, result, missing)
                return None
        with open(path, "rb") as fh:
            n, md5 = sink.add(arcname, fh, record.mime_type, record.md5)
    except FileNotFoundError:
        result.problems.append((record.file_id, "its bytes are not in the archive"))
        missing.append(record.file_id)
        return None
    except (_Unreadable, PermissionError, IsADirectoryError) as exc:
        sink.remove(arcname)
        why = exc.strerror if isinstance(exc, OSError) else str(exc)
        result.problems.append((record.file_id, f"its stored bytes cannot be read: {why}"))
        missing.append(record.file_id)
        return None
    if md5 != record.md5 or n != record.file_size:
        sink.remove(arcname)
        _damaged(record, md5, result, missing)
        return None
    result.files += 1
    result.bytes += n
    return arcname


def _damaged(record: FileRecord, md5: str, result: FolderResult, missing: list[str]) -> None:
    result.problems.append(
        (record.file_id, f"its bytes are damaged (MD5 {md5}, expected {record.md5})")
    )
    missing.append(record.file_id)


__all__ = ["FolderExportError", "FolderResult", "FolderWriteError", "export_to_folder"]
