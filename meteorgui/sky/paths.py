"""A meteor's path across the image, from an event in any form a node sends it.

Three forms are read (PROTOCOL.md):
- meta ``path`` (any namespace, e.g. ``meteorpi:path``): the JSON text of
  ``[[x, y, amplitude, utc], ...]``, utc in Unix seconds;
- when that text is 250 characters or longer, a file of the event with MIME type
  ``application/json`` and semantic type ``path`` (any namespace) holding it;
- meteorgui's own simulator's ``triggers/event/path`` file:
  ``{"camera_id", "frame_rate", "points": [[x, y, amplitude, t], ...]}`` with t
  in seconds from the event's time.

The image size comes from the event's first PNG (its IHDR header), else the
2015 node's default.
"""

from __future__ import annotations

import json
import math
import operator
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from .camera import DEFAULT_SIZE

PATH_META_LIMIT = 250  # the node sends a path this long or longer as a file
MAX_POINTS = 10_000


class NoPath(ValueError):
    """The event carries no readable path; the message says why."""


@dataclass(frozen=True)
class ImagePath:
    x: tuple[float, ...]
    y: tuple[float, ...]
    amplitude: tuple[float, ...]
    t: tuple[float, ...]  # Unix seconds, UTC, as the camera's clock says
    size: tuple[int, int]  # image width, height in pixels

    def __len__(self) -> int:
        return len(self.x)


def _is(ns_value: str | None, name: str) -> bool:
    return ns_value is not None and ns_value.rpartition(":")[2] == name


_TIME = operator.itemgetter(3)


def _points(data, event_time_ms: int) -> list[list[float]]:
    relative = False
    if isinstance(data, dict):  # the simulator's file
        data, relative = data.get("points"), True
    if not isinstance(data, list) or not data:
        raise NoPath("the path holds no points")
    if len(data) > MAX_POINTS:
        raise NoPath(f"the path has more than {MAX_POINTS} points")
    out = []
    for p in data:
        if not isinstance(p, list) or len(p) < 4:
            raise NoPath("a path point is not [x, y, amplitude, utc]")
        try:
            point = [float(p[0]), float(p[1]), float(p[2]), float(p[3])]
        except (TypeError, ValueError, OverflowError):
            raise NoPath("a path point holds something other than numbers") from None
        if not all(map(math.isfinite, point)):
            raise NoPath("a path point holds a number that is not finite (NaN or infinity)")
        out.append(point)
    if relative or out[0][3] < 1e8:  # seconds since the event, not Unix time
        for p in out:
            p[3] += event_time_ms / 1000.0
    out.sort(key=_TIME)
    return out


def png_size(head: bytes) -> tuple[int, int] | None:
    if len(head) >= 24 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        w, h = struct.unpack(">II", head[16:24])
        if 0 < w < 100_000 and 0 < h < 100_000:
            return w, h
    return None


def read_path(event, open_file: Callable[[object], BinaryIO | None]) -> ImagePath:
    """The event's path. ``open_file(record)`` opens a file's stored bytes (None if
    they are not there). Raises NoPath with the reason."""
    text = None
    for m in event.meta:
        if _is(m.key, "path") and isinstance(m.value, str):
            text = m.value
            break
    size = None
    for record in event.files:
        if (
            text is None
            and record.mime_type == "application/json"
            and (
                _is(record.semantic_type, "path") or (record.semantic_type or "").endswith("/path")
            )
        ):
            f = open_file(record)
            if f is None:
                raise NoPath("the event's path file has not arrived")
            with f:
                text = f.read(4 << 20).decode("utf-8", "replace")
        if size is None and record.mime_type == "image/png":
            f = open_file(record)
            if f is not None:
                with f:
                    size = png_size(f.read(24))
    if text is None:
        raise NoPath("the event has no path (no 'path' meta, no path file)")
    try:
        data = json.loads(text)
    except ValueError:
        raise NoPath("the event's path is not JSON") from None
    # The four columns at once (no Python call per point: a path has hundreds).
    x, y, amplitude, t = zip(*_points(data, event.event_time), strict=True)
    size = size or DEFAULT_SIZE
    _check_inside(x, y, size)
    return ImagePath(x=x, y=y, amplitude=amplitude, t=t, size=size)


def _check_inside(x: tuple[float, ...], y: tuple[float, ...], size: tuple[int, int]) -> None:
    """NoPath for a path no camera of this image size could have seen: points well
    outside the image (a tenth of its size of slack, for a frame larger than the 2015
    default when the event has no PNG to say so)."""
    w, h = size
    mx, my = w / 10, h / 10
    if min(x) < -mx or max(x) > w + mx or min(y) < -my or max(y) > h + my:
        raise NoPath(
            f"the path runs outside the camera's image ({w}×{h} pixels): x from "
            f"{min(x):g} to {max(x):g}, y from {min(y):g} to {max(y):g}"
        )


def path_text(points: list[list[float]]) -> str:
    """The JSON text a 2015 node writes for ``[[x, y, amplitude, utc], ...]``."""
    return json.dumps(
        [[int(round(x)), int(round(y)), int(round(a)), round(t, 3)] for x, y, a, t in points],
        separators=(",", ":"),
    )
