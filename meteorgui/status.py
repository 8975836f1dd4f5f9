"""``meteorgui status``: what the window's status bar and camera health show, as text.

One screen: whether an importer is taking data into this archive, today's conversations,
each camera's last contact and failures, and the disk space left.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from . import formatting
from .archive import Archive, stats
from .diskspace import disk_status
from .importer import runfile
from .settings import Settings

PROBE_TIMEOUT_S = 2.0


def probe(import_url: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True if a meteorgui importer answers at that URL."""
    return runfile.answers(import_url, timeout)


def importer_line(data_dir: Path, settings: Settings) -> tuple[bool, str]:
    """(running, one line): from importer.json, checked by asking the importer itself;
    without it, whatever meteorgui answers on the configured port."""
    info = runfile.read(data_dir)
    if info is not None:
        since = formatting.local_time(int(info.get("started_at") or 0))
        if probe(info["url"]):
            where = ", ".join(info.get("urls") or [info["url"]])
            return True, (
                f"Importer: running since {since} (pid {info.get('pid')}, meteorgui "
                f"{info.get('version')}) on {where}"
            )
        return False, (
            f"Importer: NOT running (pid {info.get('pid')} started one at {since} and is "
            "gone or not answering)"
        )
    if probe(f"http://127.0.0.1:{settings.port}/import"):
        return False, (
            f"Importer: not running for this archive; another meteorgui answers on port "
            f"{settings.port}"
        )
    return False, "Importer: not running"


def report(
    archive: Archive, settings: Settings, now_ms: int | None = None
) -> tuple[bool, list, bool]:
    """(importer running, the lines to print, the disk below the warning threshold)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    running, line = importer_line(archive.data_dir, settings)
    lines = [f"Archive: {archive.data_dir}", line]

    midnight = datetime.fromtimestamp(now_ms / 1000).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    counts = archive.conversations.counts_since(int(midnight.timestamp() * 1000), now_ms)
    lines.append(
        f"Today: {counts['complete']} complete · {counts['failed']} failed · "
        f"{counts['pending']} going on" + (f" · {counts['stuck']} stuck" if counts["stuck"] else "")
    )
    if counts["failed"] or counts["stuck"]:
        lines.append("  (why: meteorgui import-log --problems)")

    health = stats.camera_health(
        archive,
        now_ms=now_ms,
        silence_minutes=settings.silence_warning_minutes,
        night_starts_hour=settings.night_starts_hour,
    )
    if not health:
        lines.append("Cameras: none has sent anything yet")
    else:
        lines.append(f"Cameras ({len(health)}):")
        for h in health:  # two lines each: fits 80 columns, a dozen cameras on a screen
            heard = (
                f"{formatting.local_time(h.last_heard)} "
                f"({stats.format_duration(now_ms - h.last_heard)} ago)"
                if h.last_heard is not None
                else "never"
            )
            lines.append(f"  {h.level.upper():7} {h.label}: {h.note}")
            lines.append(
                f"          last contact {heard}; tonight "
                f"{formatting.count(h.events_tonight, 'event')}, "
                f"{formatting.count(h.stills_tonight, 'still')}, "
                f"{formatting.count(h.failures_tonight, 'failure')}"
            )

    disk = disk_status(archive.data_dir, settings.disk_warning_mb)
    lines.append(("WARNING: " if disk.low else "Disk: ") + disk.message)
    return running, lines, disk.low
