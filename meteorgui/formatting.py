"""How the app and the commands write times, sizes, numbers and namespaced names (no Qt here)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .archive.browse import Night

DEFAULT_NS = "meteorpi:"


# Times are shown in the computer's local time or in UTC (astronomers work in UTC): one
# choice for the whole app (Settings.times_utc), set at start and by the status bar toggle.
_zone = {"utc": False}


def use_utc(on: bool) -> None:
    _zone["utc"] = bool(on)


def showing_utc() -> bool:
    return _zone["utc"]


def shown(ms: int) -> datetime:
    """The moment ``ms`` as the user chose to see times: local time or UTC (zone-aware)."""
    if _zone["utc"]:
        return datetime.fromtimestamp(ms / 1000, UTC)
    return datetime.fromtimestamp(ms / 1000).astimezone()


def now_shown() -> datetime:
    return shown(int(datetime.now(UTC).timestamp() * 1000))


def clock(ms: int, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """``ms`` written with ``fmt`` in the chosen zone."""
    return shown(ms).strftime(fmt)


def short_clock(ms: int) -> str:
    """Time of day when it is today (in the chosen zone), else the date and time."""
    t = shown(ms)
    return t.strftime("%H:%M:%S" if t.date() == now_shown().date() else "%d %b %H:%M:%S")


def zone_label() -> str:
    return "UTC" if _zone["utc"] else "local time"


def chosen_time(ms: int, *, date: bool = True) -> str:
    """To the millisecond, with its zone, in the chosen zone."""
    return utc_time(ms, date=date) if _zone["utc"] else local_time(ms, date=date)


def other_time(ms: int, *, date: bool = True) -> str:
    """The same moment in the zone not chosen (shown beside it where it matters)."""
    return local_time(ms, date=date) if _zone["utc"] else utc_time(ms, date=date)


def local_time(ms: int, *, date: bool = True) -> str:
    """Local time with its zone, to the millisecond: '2015-08-12 22:14:05.123 BST'."""
    dt = datetime.fromtimestamp(ms / 1000).astimezone()
    fmt = "%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S"
    return f"{dt.strftime(fmt)}.{ms % 1000:03d} {dt.strftime('%Z')}".rstrip()


def utc_time(ms: int, *, date: bool = True) -> str:
    dt = datetime.fromtimestamp(ms / 1000, UTC)
    fmt = "%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S"
    return f"{dt.strftime(fmt)}.{ms % 1000:03d} UTC"


def both_times(ms: int | None) -> str:
    """'<chosen zone> · <the other>'; the second drops the date when it is the same day."""
    if ms is None:
        return "—"
    local = datetime.fromtimestamp(ms / 1000).astimezone()
    utc = datetime.fromtimestamp(ms / 1000, UTC)
    same_day = local.date() == utc.date()
    return f"{chosen_time(ms)}  ·  {other_time(ms, date=not same_day)}"


def short_name(ns: str | None) -> str:
    """'meteorpi:duration' -> 'duration'; other namespaces are kept."""
    if not ns:
        return ""
    return ns[len(DEFAULT_NS) :] if ns.startswith(DEFAULT_NS) else ns


def file_label(semantic: str | None, mime: str | None) -> str:
    """A short caption: 'triggers/event/maxBrightness/lensCorr' -> 'maxBrightness lensCorr'."""
    name = short_name(semantic)
    for prefix in ("triggers/event/", "timelapse/frame/", "timelapse/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if not name:
        name = (mime or "file").split("/")[-1]
    return name.replace("/", " ")


def size(n: float | None) -> str:
    """Bytes in decimal units, as disks and networks count them: '999 B', '1.5 kB', '120 MB'.

    The one size convention of the app and the commands, so the export dock, the import
    log and the CLI show the same figure for the same file.
    """
    if n is None:
        return "—"
    if n < 1000:
        return f"{int(n)} B"
    for unit in ("kB", "MB", "GB", "TB"):
        n /= 1000
        if n < 999.5 or unit == "TB":
            return f"{n:.1f} {unit}" if n < 99.95 else f"{n:.0f} {unit}"
    raise AssertionError("unreachable")


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 event', '0 events', '1,204 files': a number with its noun in the right number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def number(value: float | int | None, unit: str = "", digits: int = 6) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) or (
        isinstance(value, float) and value.is_integer() and abs(value) < 1e15
    ):
        text = f"{int(value):,}".replace(",", "\u2009")  # thin space groups thousands
    else:
        text = f"{value:.{digits}g}"
    return f"{text}{unit}"


def latitude(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{abs(value):.4f}° {'N' if value >= 0 else 'S'}"


def longitude(value: float | None) -> str:
    if value is None:
        return "—"
    value = value - 360 if value > 180 else value
    return f"{abs(value):.4f}° {'E' if value >= 0 else 'W'}"


def degrees(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:g}°"


def yes_no(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "no")


def camera_names(cameras: list[tuple[str, str]]) -> dict[str, str]:
    """Display names by camera id: the installation name, with the id's end when two share it."""
    seen: dict[str, int] = {}
    for _cid, name in cameras:
        if name:
            seen[name] = seen.get(name, 0) + 1
    return {
        cid: (f"{name} ({cid[-6:]})" if seen[name] > 1 else name) for cid, name in cameras if name
    }


def night_title(start_ms: int, clock=None) -> str:
    """'Wed 12 Aug 2015': the date of a night's evening where its cameras are
    (``clock``: archive.nights.NightClock), else the local date it starts on."""
    if clock is not None:
        return clock.evening(start_ms).strftime("%a %d %b %Y")
    return datetime.fromtimestamp(start_ms / 1000).strftime("%a %d %b %Y")


def night_text(n: Night, clock=None) -> str:
    """'Wed 12 Aug 2015  ·  40 events, 120 stills': a night as the browser lists it (its
    title alone while it is not counted yet)."""
    if n.events < 0:
        return night_title(n.start_ms, clock)
    text = f"{night_title(n.start_ms, clock)}  ·  {n.events} event{'s' if n.events != 1 else ''}"
    if n.files:
        text += f", {n.files} still{'s' if n.files != 1 else ''}"
    return text


_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)]}
# Unicode's invisible direction marks and line breaks: a terminal obeys them too (text
# printed backwards from a bidi override, a line a line separator forges).
_CONTROLS |= {
    c: f"\\u{c:04x}"
    for c in [0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029]
}


_CONTROLS_BUT_TAB = {c: v for c, v in _CONTROLS.items() if c != 0x09}
_CONTROLS_BUT_LINES = {c: v for c, v in _CONTROLS.items() if c not in (0x09, 0x0A)}


def terminal_safe(text: str, *, tabs: bool = False, lines: bool = False) -> str:
    """Text with every C0/C1 control character (and DEL) written as a visible ``\\xNN``.

    Camera and export-target strings printed raw could retitle or clear a terminal, or
    forge a line such as "all files OK"; printed this way they are shown, never obeyed.
    ``tabs``: keep tabs (columns of the command's own output; a tab moves the cursor
    right and nothing else).
    """
    if lines:  # a log record with its traceback: tabs and line ends are its own
        return text.translate(_CONTROLS_BUT_LINES)
    return text.translate(_CONTROLS_BUT_TAB if tabs else _CONTROLS)


def sentence(text: str) -> str:
    """Text shown to a user as a message starts with a capital letter, whatever produced it
    (archive and importer errors are written lowercase to follow a command line's prefix)."""
    return text[:1].upper() + text[1:]
