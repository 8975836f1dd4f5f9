"""Meteors in the formats other networks read: CAMS FTPdetectinfo and a CSV.

FTPdetectinfo (the text format CAMS defined, RMS writes and trajectory solvers
such as WesternMeteorPyLib read), one file per camera, as RMS's writer lays it
out:

- 11 header lines: ``Meteor Count = NNNNNN`` (6 digits), a dash line,
  ``Processed with ...``, a dash line, ``FF  folder = ...``,
  ``CAL folder = ...``, a dash line, ``FF  file processed``,
  ``CAL file processed``, ``Cam# Meteor# #Segments fps hnr mle bin Pix/fm Rho Phi``,
  ``Per segment:  Frame# Col Row RA Dec Azim Elev Inten Mag Bcknd SNR NSatPx``.
- Per meteor: a line of 55 dashes; the FF file name
  ``FF_<station>_<YYYYMMDD>_<HHMMSS>_<mmm>_0000000.fits``, whose time is that of
  frame 0; ``Uncalibrated`` or a calibration note; the meteor line
  ``cam meteor# segments fps hnr mle bin pix/frame rho phi``; then one line per
  point: frame (may be fractional), column x, row y, RA and Dec (J2000
  degrees), azimuth (from north through east) and elevation, integrated
  intensity, magnitude, background, SNR, saturated pixels.

meteorgui writes frame 0 at the first detection and frame = seconds since x fps
(25); pixel coordinates as the camera sent them; the magnitude is instrumental,
-2.5 log10(amplitude), as no photometric calibration is known. An event without
a sky position is written ``Uncalibrated`` with zero sky coordinates.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from .. import __version__
from ..archive import Filter
from ..archive.browse import reviews
from ..archive.sky import SkyResult, not_a_meteor
from ..model import Event
from .compute import compute_missing, file_opener, observation, results_for
from .observe import Observation
from .paths import ImagePath, NoPath, read_path

FPS = 25.0
DASHES = "-" * 55
FORMATS = ("ftpdetectinfo", "csv")
CSV_COLUMNS = (
    "event_id", "time_utc", "time_ms", "camera_id", "shower", "radiant_ra", "radiant_dec",
    "radiant_from", "group", "begin_height_km", "end_height_km", "speed_km_s", "amplitude_peak",
    "path_first_ra", "path_first_dec", "path_last_ra", "path_last_dec",
)  # fmt: skip


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def ff_name(station: str, t: float) -> str:
    d = _utc(t)
    return f"FF_{station}_{d:%Y%m%d_%H%M%S}_{d.microsecond // 1000:03d}_0000000.fits"


def _meteor_block(number: int, station: str, points: list[tuple], t0: float, calibrated: bool):
    lines = [DASHES, ff_name(station, t0)]
    lines.append(
        "Calibrated with meteorgui from the camera's orientation" if calibrated else "Uncalibrated"
    )
    if len(points) > 1:
        (f1, x1, y1), (f2, x2, y2) = points[0][:3], points[-1][:3]
        px_fm = math.hypot(x2 - x1, y2 - y1) / (f2 - f1) if f2 != f1 else 0.0
    else:
        px_fm = 0.0
    lines.append(
        f"{station:>4s} {number:04d} {len(points):04d} {FPS:07.2f} 000.0 000.0  00.0 "
        f"{px_fm:>5.1f} {0.0:06.1f} {0.0:06.1f}"
    )
    for frame, x, y, ra, dec, az, el, amp in points:
        mag = -2.5 * math.log10(max(amp, 1.0))
        lines.append(
            f"{frame:09.4f} {x:07.2f} {y:07.2f} {ra:010.6f} {dec:+010.6f} {az:010.6f} "
            f"{el:+010.6f} {int(round(amp)):09d} {mag:+06.2f} {0:06d} {0.0:05.2f} {0:06d}"
        )
    return lines


def ftpdetectinfo(station: str, meteors: list[tuple[Observation | None, ImagePath]]) -> str:
    """The FTPdetectinfo text of one camera's meteors: (Observation or None, ImagePath)."""
    out = [
        f"Meteor Count = {len(meteors):06d}",
        "-" * 53,
        f"Processed with meteorgui {__version__} on {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC",
        "-" * 53,
        "FF  folder = ",
        "CAL folder = ",
        "-" * 53,
        "FF  file processed",
        "CAL file processed",
        "Cam# Meteor# #Segments fps hnr mle bin Pix/fm Rho Phi",
        "Per segment:  Frame# Col Row RA Dec Azim Elev Inten Mag Bcknd SNR NSatPx",
    ]
    for number, (obs, path) in enumerate(meteors, 1):
        t0 = path.t[0]
        pts = []
        for k in range(len(path)):
            frame = (path.t[k] - t0) * FPS
            if obs is not None:
                sky = (float(obs.ra[k]), float(obs.dec[k]), float(obs.az[k]), float(obs.alt[k]))
            else:
                sky = (0.0, 0.0, 0.0, 0.0)
            pts.append((frame, path.x[k], path.y[k], *sky, path.amplitude[k]))
        out += _meteor_block(number, station, pts, t0, obs is not None)
    return "\n".join(out) + "\n"


def _peak(event, path) -> float | None:
    for m in event.meta:
        if m.key.rpartition(":")[2] in ("amplitudePeak", "peakAmplitude"):
            return float(m.value)
    return max(path.amplitude) if path is not None else None


def meteors_csv(rows: list[tuple[Event, SkyResult | None, float | None]]) -> str:
    """CSV of (event, result, peak amplitude) rows."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for event, r, peak in rows:
        r = r or SkyResult(event.event_id, event.camera_id, event.event_time, None, None, None,
                           None, None, None)  # fmt: skip
        rad, first, last = r.radiant or ("", ""), r.first or ("", ""), r.last or ("", "")
        w.writerow([
            event.event_id, _utc(event.event_time / 1000).isoformat().replace("+00:00", "Z"),
            event.event_time, event.camera_id, r.shower or "", *rad, _radiant_from(r),
            r.group_id or "",
            _blank(r.begin_height_km), _blank(r.end_height_km), _blank(r.speed_km_s),
            _blank(peak), *first, *last,
        ])  # fmt: skip
    return buf.getvalue()


def _radiant_from(r: SkyResult) -> str:
    if r.radiant is None:
        return ""
    return "trajectory" if r.radiant_measured else "shower catalogue"


def _blank(x) -> object:
    return "" if x is None else x


def export_meteors(
    archive,
    folder: str | Path,
    fmt: str,
    camera_id: str | None = None,
    after: int | None = None,
    before: int | None = None,
    shower: str | None = None,
    event_ids: Iterable[str] | None = None,
) -> list[Path]:
    """Write the selected meteor events to ``folder`` (created if needed) in ``fmt``;
    returns the files written. Missing sky results are computed first. ``event_ids``
    (a selection made in the GUI) takes those events instead of the range; ids that
    are not events (a time-lapse still) are left out, and so are events that are not
    meteors: reviewed as something else (a plane...) or so classed by their camera."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use {' or '.join(FORMATS)}")
    compute_missing(archive)
    if event_ids is not None:
        found = (archive.get_event(i) for i in dict.fromkeys(event_ids))
        events = sorted(
            (e for e in found if e is not None), key=lambda e: (e.event_time, e.event_id)
        )
    else:
        events = archive.events(Filter(camera_id=camera_id, after=after, before=before))
    labels = reviews(archive, [e.event_id for e in events])
    events = [
        e
        for e in events
        if labels.get(e.event_id, "meteor") == "meteor" and not not_a_meteor(e.event_type)
    ]
    results = results_for(archive, [e.event_id for e in events])
    if shower is not None:
        events = [
            e for e in events if results.get(e.event_id) and results[e.event_id].shower == shower
        ]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    open_file = file_opener(archive)
    paths: dict[str, ImagePath | None] = {}
    for e in events:
        try:
            paths[e.event_id] = read_path(e, open_file)
        except NoPath:
            paths[e.event_id] = None
    written = []
    if fmt == "csv":
        target = folder / "meteors.csv"
        rows = [(e, results.get(e.event_id), _peak(e, paths[e.event_id])) for e in events]
        target.write_text(meteors_csv(rows), encoding="utf-8")
        return [target]
    by_camera: dict[str, list] = {}
    for e in events:
        path = paths[e.event_id]
        if path is None:
            continue
        obs = observation(archive, e, archive.status_at(e.camera_id, e.event_time))
        by_camera.setdefault(e.camera_id, []).append(
            (obs if isinstance(obs, Observation) else None, path)
        )
    for camera, meteors in sorted(by_camera.items()):
        stamp = _utc(meteors[0][1].t[0]).strftime("%Y%m%d_%H%M%S")
        target = folder / f"FTPdetectinfo_{camera}_{stamp}.txt"
        target.write_text(ftpdetectinfo(camera, meteors), encoding="utf-8")
        written.append(target)
    return written
