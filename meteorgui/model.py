"""Wire entities of the MeteorPi import protocol.

Every entity parses from the JSON dict a camera node sends (``from_dict``) and
writes back exactly that dict (``to_dict``) in its canonical form: ids as 32
lowercase hex digits, namespaced strings as ``ns:value``, times as integer
milliseconds. Anything a network peer can get wrong raises ``ModelError``
whose message names the field and the problem; no other exception escapes
``from_dict``.
"""

from __future__ import annotations

import contextvars
import json
import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from .errors import MeteorguiError

DEFAULT_NAMESPACE = "meteorpi"

# Sanity bounds: no camera records before 1970 or after the year 3000, and no
# single file is larger than a terabyte.
MAX_TIME_MS = 32_503_680_000_000
MAX_FILE_SIZE = 1 << 40
MAX_STRING = 4096
MAX_LIST = 10_000

_HEX32 = re.compile(r"[0-9a-f]{32}")
# The spellings uuid.UUID() writes: 32 hex digits, optionally 8-4-4-4-12 dashed, in braces or
# as a URN. uuid.UUID() alone would also take blanks, signs, "0x", "_" and non-ASCII digits.
_UUID_TEXT = re.compile(
    r"(?:urn:uuid:)?(\{)?[0-9A-Fa-f]{8}(?:-?[0-9A-Fa-f]{4}){3}-?[0-9A-Fa-f]{12}(?(1)\})"
)
_CAMERA_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
_NS_PART = re.compile(r"[^\x00-\x1f]{1,1024}")
# C0 and C1 control characters and DEL. Nothing in PROTOCOL.md needs them in a string, and
# printed to a terminal they retitle it, clear it or forge lines: refused at import.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A meta value is free text a node's owner may have written on several lines (the 2015
# importer kept it as sent): tabs and line ends pass there; every view shows them as text.
CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Set while re-reading what the archive holds: rows written before controls were refused
# must still read back (every view shows them escaped or as plain text).
_ARCHIVED = contextvars.ContextVar("archived", default=False)
# The 2015 node keeps cameraID in a Firebird CHAR(64) column, which pads it with blanks.
CAMERA_ID_PADDED = 64


class ModelError(MeteorguiError, ValueError):
    """Invalid wire data. The message names the field and what is wrong."""


# --------------------------------------------------------------------------- helpers


def _check_dict(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise ModelError(f"{where}: expected an object, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _required(d: dict, key: str, where: str) -> Any:
    if key not in d or d[key] is None:
        raise ModelError(f"{where}.{key}: missing")
    return d[key]


def parse_uuid(value: Any, where: str) -> str:
    """A UUID as 32 lowercase hex digits; dashed or upper-case input is accepted."""
    if not isinstance(value, str):
        raise ModelError(f"{where}: expected a UUID string, got {_kind(value)}")
    if _HEX32.fullmatch(value):
        return value
    if len(value) > 64:
        raise ModelError(f"{where}: not a UUID")
    if not _UUID_TEXT.fullmatch(value):
        raise ModelError(f"{where}: not a UUID: {value[:40]!r}")
    try:
        return uuid.UUID(value).hex
    except ValueError:
        raise ModelError(f"{where}: not a UUID: {value[:40]!r}") from None


def parse_md5(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ModelError(f"{where}: expected 32 hex digits, got {_kind(value)}")
    lowered = value.lower()
    if not _HEX32.fullmatch(lowered):
        raise ModelError(f"{where}: not an MD5 hex digest: {value[:40]!r}")
    return lowered


def _int(value: Any, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ModelError(f"{where}: expected an integer, got {_kind(value)}")
    if not lo <= value <= hi:
        raise ModelError(f"{where}: {_shown(value)} is out of range {lo}..{hi}")
    return value


def _shown(value: int | float) -> str:
    """A number as an answer may repeat it: whole when short, else only its size."""
    text = str(value)
    return text if len(text) <= 40 else f"a number of {len(text)} characters"


def parse_time(value: Any, where: str) -> int:
    return _int(value, where, 0, MAX_TIME_MS)


def _float(value: Any, where: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelError(f"{where}: expected a number, got {_kind(value)}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an integer no double can hold
        raise ModelError(f"{where}: number too large") from None
    if not finite:
        raise ModelError(f"{where}: NaN and infinity are not allowed")
    if not lo <= value <= hi:
        raise ModelError(f"{where}: {_shown(value)} is out of range {lo}..{hi}")
    return value


def _str(value: Any, where: str, limit: int = MAX_STRING, lines: bool = False) -> str:
    """A string field; ``lines``: tabs and line ends allowed (free text)."""
    if not isinstance(value, str):
        raise ModelError(f"{where}: expected a string, got {_kind(value)}")
    if len(value) > limit:
        raise ModelError(f"{where}: longer than {limit} characters")
    control = (CONTROL_BUT_LINES if lines else CONTROL).search(value)
    if control is not None and not (_ARCHIVED.get() and control.group() != "\x00"):
        raise ModelError(
            f"{where}: contains the control character U+{ord(control.group()):04X} "
            f"at position {control.start()}"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from a JSON "\\ud800" escape
        raise ModelError(f"{where}: not valid Unicode (lone surrogate)") from None
    return value


def _opt(d: dict, key: str, parse, where: str, *args):
    value = d.get(key)
    return None if value is None else parse(value, f"{where}.{key}", *args)


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise ModelError(f"{where}: expected a list, got {_kind(value)}")
    if len(value) > MAX_LIST:
        raise ModelError(f"{where}: more than {MAX_LIST} items")
    return value


def parse_camera_id(value: Any, where: str) -> str:
    """A camera id; the trailing blanks of a 2015 node's CHAR(64) column are dropped."""
    if isinstance(value, str) and len(value) <= CAMERA_ID_PADDED and value.endswith(" "):
        value = value.rstrip(" ")
    text = _str(value, where, 64)
    if not _CAMERA_ID.fullmatch(text):
        raise ModelError(f"{where}: not a camera id (1-64 letters, digits, '_.:-'): {text!r}")
    return text


def parse_nsstring(value: Any, where: str) -> str:
    """A namespaced string ``ns:value``; a bare value means namespace ``meteorpi``."""
    text = _str(value, where, 2048)
    ns, sep, rest = text.partition(":")
    if not sep:
        ns, rest = DEFAULT_NAMESPACE, text
    if not _NS_PART.fullmatch(ns) or not _NS_PART.fullmatch(rest):
        raise ModelError(f"{where}: not a namespaced string: {text[:60]!r}")
    return f"{ns}:{rest}"


def _put(d: dict, key: str, value: Any) -> None:
    if value is not None:
        d[key] = value


# --------------------------------------------------------------------------- entities


META_TYPES = ("string", "number", "date")


@dataclass(frozen=True)
class Meta:
    type: str
    key: str
    value: str | int | float

    @classmethod
    def from_dict(cls, d: Any, where: str = "meta") -> Meta:
        d = _check_dict(d, where)
        kind = _required(d, "type", where)
        if kind not in META_TYPES:
            raise ModelError(f"{where}.type: unknown meta type {str(kind)[:40]!r}")
        key = parse_nsstring(_required(d, "key", where), f"{where}.key")
        raw = _required(d, "value", where)
        value: str | int | float
        if kind == "string":
            value = _str(raw, f"{where}.value", lines=True)
        elif kind == "number":
            value = _float(raw, f"{where}.value")
        else:
            value = parse_time(raw, f"{where}.value")
        return cls(kind, key, value)

    def to_dict(self) -> dict:
        return {"type": self.type, "key": self.key, "value": self.value}


def _meta_list(d: dict, where: str) -> tuple[Meta, ...]:
    raw = d.get("meta")
    if raw is None:
        return ()
    return tuple(
        Meta.from_dict(m, f"{where}.meta[{i}]") for i, m in enumerate(_list(raw, f"{where}.meta"))
    )


@dataclass(frozen=True)
class Location:
    lat: float | None = None
    long: float | None = None
    gps: bool | None = None
    error: float | None = None

    @classmethod
    def from_dict(cls, d: Any, where: str) -> Location:
        d = _check_dict(d, where)
        gps = d.get("gps")
        if gps is not None and not isinstance(gps, bool):
            raise ModelError(f"{where}.gps: expected a boolean, got {_kind(gps)}")
        return cls(
            lat=_opt(d, "lat", _float, where, -90.0, 90.0),
            long=_opt(d, "long", _float, where, -180.0, 360.0),
            gps=gps,
            error=_opt(d, "error", _float, where, 0.0, 1e8),
        )

    def to_dict(self) -> dict:
        d: dict = {}
        for key in ("lat", "long", "gps", "error"):
            _put(d, key, getattr(self, key))
        return d


@dataclass(frozen=True)
class Orientation:
    alt: float | None = None
    az: float | None = None
    rot: float | None = None
    error: float | None = None
    width: float | None = None

    @classmethod
    def from_dict(cls, d: Any, where: str) -> Orientation:
        d = _check_dict(d, where)
        return cls(
            alt=_opt(d, "alt", _float, where, -90.0, 90.0),
            az=_opt(d, "az", _float, where, -360.0, 360.0),
            rot=_opt(d, "rot", _float, where, -360.0, 360.0),
            error=_opt(d, "error", _float, where, 0.0, 360.0),
            width=_opt(d, "width", _float, where, 0.0, 360.0),
        )

    def to_dict(self) -> dict:
        d: dict = {}
        for key in ("alt", "az", "rot", "error", "width"):
            _put(d, key, getattr(self, key))
        return d


Point = tuple[int, int]
PIXEL_LIMIT = 1 << 20


def _regions(raw: Any, where: str) -> tuple[tuple[Point, ...], ...]:
    polygons = []
    for i, poly in enumerate(_list(raw, where)):
        points = []
        for j, pt in enumerate(_list(poly, f"{where}[{i}]")):
            pw = f"{where}[{i}][{j}]"
            pt = _check_dict(pt, pw)
            x = _int(_required(pt, "x", pw), f"{pw}.x", -PIXEL_LIMIT, PIXEL_LIMIT)
            y = _int(_required(pt, "y", pw), f"{pw}.y", -PIXEL_LIMIT, PIXEL_LIMIT)
            points.append((x, y))
        polygons.append(tuple(points))
    return tuple(polygons)


@dataclass(frozen=True)
class CameraStatus:
    status_id: str
    camera_id: str
    valid_from: int
    valid_to: int | None = None
    lens: str | None = None
    sensor: str | None = None
    inst_name: str | None = None
    inst_url: str | None = None
    software_version: int | None = None
    location: Location | None = None
    orientation: Orientation | None = None
    regions: tuple[tuple[Point, ...], ...] = ()

    @classmethod
    def from_dict(cls, d: Any, where: str = "status") -> CameraStatus:
        d = _check_dict(d, where)
        valid_from = parse_time(_required(d, "valid_from", where), f"{where}.valid_from")
        valid_to = _opt(d, "valid_to", parse_time, where)
        if valid_to is not None and valid_to < valid_from:
            raise ModelError(f"{where}.valid_to: earlier than valid_from")
        loc, ori, reg = d.get("location"), d.get("orientation"), d.get("regions")
        return cls(
            status_id=parse_uuid(_required(d, "status_id", where), f"{where}.status_id"),
            camera_id=parse_camera_id(_required(d, "camera_id", where), f"{where}.camera_id"),
            valid_from=valid_from,
            valid_to=valid_to,
            lens=_opt(d, "lens", _str, where),
            sensor=_opt(d, "sensor", _str, where),
            inst_name=_opt(d, "inst_name", _str, where),
            inst_url=_opt(d, "inst_url", _str, where),
            software_version=_opt(d, "software_version", _int, where, 0, 1 << 31),
            location=None if loc is None else Location.from_dict(loc, f"{where}.location"),
            orientation=None if ori is None else Orientation.from_dict(ori, f"{where}.orientation"),
            regions=() if reg is None else _regions(reg, f"{where}.regions"),
        )

    @classmethod
    def from_archive(cls, d: Any) -> CameraStatus:
        """A status the archive holds (checked when it arrived, by the rules of then)."""
        token = _ARCHIVED.set(True)
        try:
            return cls.from_dict(d)
        finally:
            _ARCHIVED.reset(token)

    def to_dict(self) -> dict:
        d: dict = {"status_id": self.status_id, "camera_id": self.camera_id}
        for key in (
            "lens",
            "sensor",
            "inst_name",
            "inst_url",
            "valid_from",
            "valid_to",
            "software_version",
        ):
            _put(d, key, getattr(self, key))
        if self.location is not None:
            d["location"] = self.location.to_dict()
        if self.orientation is not None:
            d["orientation"] = self.orientation.to_dict()
        d["regions"] = [[{"x": x, "y": y} for x, y in poly] for poly in self.regions]
        return d

    def same_content(self, other: CameraStatus) -> bool:
        """Equal apart from valid_to, which the archive computes itself."""
        return self.to_dict() | {"valid_to": None} == other.to_dict() | {"valid_to": None}


@dataclass(frozen=True)
class FileRecord:
    file_id: str
    camera_id: str
    status_id: str
    file_time: int
    file_size: int
    mime_type: str
    md5: str
    semantic_type: str | None = None
    file_name: str | None = None
    meta: tuple[Meta, ...] = ()

    @classmethod
    def from_dict(cls, d: Any, where: str = "file") -> FileRecord:
        d = _check_dict(d, where)
        return cls(
            file_id=parse_uuid(_required(d, "file_id", where), f"{where}.file_id"),
            camera_id=parse_camera_id(_required(d, "camera_id", where), f"{where}.camera_id"),
            status_id=parse_uuid(_required(d, "status_id", where), f"{where}.status_id"),
            file_time=parse_time(_required(d, "file_time", where), f"{where}.file_time"),
            file_size=_int(
                _required(d, "file_size", where), f"{where}.file_size", 0, MAX_FILE_SIZE
            ),
            mime_type=_mime(_required(d, "mime_type", where), f"{where}.mime_type"),
            md5=parse_md5(_required(d, "md5", where), f"{where}.md5"),
            semantic_type=_opt(d, "semantic_type", parse_nsstring, where),
            file_name=_opt(d, "file_name", _str, where, 255),
            meta=_meta_list(d, where),
        )

    def to_dict(self) -> dict:
        d: dict = {
            "file_id": self.file_id,
            "camera_id": self.camera_id,
            "status_id": self.status_id,
            "file_time": self.file_time,
            "file_size": self.file_size,
        }
        _put(d, "file_name", self.file_name)
        d["mime_type"] = self.mime_type
        _put(d, "semantic_type", self.semantic_type)
        d["md5"] = self.md5
        d["meta"] = [m.to_dict() for m in self.meta]
        return d


_MIME = re.compile(r"[A-Za-z0-9!#$&^_.+\-]{1,63}/[A-Za-z0-9!#$&^_.+\-]{1,63}")


def _mime(value: Any, where: str) -> str:
    text = _str(value, where, 127)
    if not _MIME.fullmatch(text):
        raise ModelError(f"{where}: not a MIME type: {text!r}")
    return text


@dataclass(frozen=True)
class Event:
    event_id: str
    camera_id: str
    status_id: str
    event_time: int
    event_type: str
    files: tuple[FileRecord, ...] = ()
    meta: tuple[Meta, ...] = field(default=())

    @classmethod
    def from_dict(cls, d: Any, where: str = "event") -> Event:
        d = _check_dict(d, where)
        raw_files = d.get("files")
        files = tuple(
            FileRecord.from_dict(f, f"{where}.files[{i}]")
            for i, f in enumerate([] if raw_files is None else _list(raw_files, f"{where}.files"))
        )
        event_id = parse_uuid(_required(d, "event_id", where), f"{where}.event_id")
        seen: set[str] = set()
        for i, f in enumerate(files):
            if f.file_id == event_id:  # events and files share one id space in the archive
                raise ModelError(f"{where}.files[{i}].file_id: is the event's own id")
            if f.file_id in seen:
                raise ModelError(f"{where}.files[{i}].file_id: appears twice in the event")
            seen.add(f.file_id)
        return cls(
            event_id=event_id,
            camera_id=parse_camera_id(_required(d, "camera_id", where), f"{where}.camera_id"),
            status_id=parse_uuid(_required(d, "status_id", where), f"{where}.status_id"),
            event_time=parse_time(_required(d, "event_time", where), f"{where}.event_time"),
            event_type=parse_nsstring(_required(d, "event_type", where), f"{where}.event_type"),
            files=files,
            meta=_meta_list(d, where),
        )

    def to_dict(self) -> dict:
        return {
            "event_id": self.event_id,
            "camera_id": self.camera_id,
            "status_id": self.status_id,
            "event_time": self.event_time,
            "event_type": self.event_type,
            "files": [f.to_dict() for f in self.files],
            "meta": [m.to_dict() for m in self.meta],
        }


Entity = CameraStatus | Event | FileRecord

ENTITY_KINDS: dict[str, type[CameraStatus] | type[Event] | type[FileRecord]] = {
    "status": CameraStatus,
    "event": Event,
    "file": FileRecord,
}


def entity_kind(entity: Entity) -> str:
    if isinstance(entity, Event):
        return "event"
    if isinstance(entity, FileRecord):
        return "file"
    return "status"


def entity_id(entity: Entity) -> str:
    return getattr(entity, f"{entity_kind(entity)}_id")


# --------------------------------------------------------------------------- JSON


def _reject_constant(name: str):
    raise ModelError(f"JSON: {name} is not allowed")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # e.g. 1e400, which float() turns into infinity
        raise ModelError(f"JSON: number {text[:40]} is out of range")
    return value


def loads(data: bytes | str) -> Any:
    """Parse JSON strictly: NaN and Infinity are errors, as is anything malformed."""
    try:
        if isinstance(data, (bytes, bytearray)):
            # json.loads() would decode with "surrogatepass", letting invalid UTF-8 through
            data = bytes(data).decode(json.detect_encoding(data))
        return json.loads(data, parse_constant=_reject_constant, parse_float=_parse_float)
    except ModelError:
        raise
    except RecursionError:
        raise ModelError("JSON: nested too deeply") from None
    except json.JSONDecodeError as exc:  # its message names what and where, in JSON's terms
        raise ModelError(f"JSON: malformed body: {exc.msg} at character {exc.pos}") from None
    except UnicodeDecodeError as exc:
        raise ModelError(f"JSON: not valid Unicode text at byte {exc.start}") from None
    except ValueError as exc:  # an integer of thousands of digits: Python will not read it
        if "digits" in str(exc):
            raise ModelError("JSON: a number has too many digits") from None
        raise ModelError(f"JSON: malformed body: {str(exc)[:120]}") from None


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)
