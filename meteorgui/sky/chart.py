"""What the detail pane's sky chart draws for one event, all in alt/az.

``sky_chart(event, status, open_file, result=None)`` returns a ``SkyChart``:
the path's points, the camera's field and sky regions, the stars (magnitude 4.5
and brighter) and constellation lines above the horizon at the event's time,
and the radiant of its shower (or of its trajectory). Without a sky position it
says why (``reason``) and holds nothing else. The star data is
``resources/sky/stars.csv`` and ``constellation_lines.json`` (Hipparcos
positions and IAU stick figures from the d3-celestial project, BSD licence; see
``make_sky_data.py`` there).

Alt/az are degrees, az from north through east; a chart draws the horizon as
alt 0 and may keep only what is above it.
"""

from __future__ import annotations

import csv
import functools
import json
from dataclasses import dataclass, field

import numpy as np

from ..resources import resource_path
from . import astro
from .camera import CameraModel, NoOrientation
from .paths import NoPath, read_path
from .showers import by_code

AltAz = tuple[float, float]


@dataclass(frozen=True)
class SkyChart:
    reason: str | None = None  # set when the event has no sky position
    time: float | None = None  # Unix seconds of the first point
    path: list[AltAz] = field(default_factory=list)
    path_radec: list[tuple[float, float]] = field(default_factory=list)
    frame: list[AltAz] = field(default_factory=list)  # the image's outline
    regions: list[list[AltAz]] = field(default_factory=list)  # sky-visible polygons
    stars: list[tuple[float, float, float]] = field(default_factory=list)  # alt, az, mag
    lines: list[list[AltAz]] = field(default_factory=list)  # constellation figures
    radiant: AltAz | None = None
    shower: str | None = None
    # When ``radiant`` is the one measured from several cameras' trajectory: where the
    # shower's own (catalogue) radiant stood, drawn apart so the two are not confused.
    shower_radiant: AltAz | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


@functools.cache
def stars() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with open(resource_path("sky", "stars.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    ra, dec, mag = (np.array([float(r[k]) for r in rows]) for k in ("ra", "dec", "mag"))
    return ra, dec, mag


@functools.cache
def constellation_lines() -> dict[str, list[list[list[float]]]]:
    return json.loads(resource_path("sky", "constellation_lines.json").read_text("utf-8"))


def _pairs(alt, az) -> list[AltAz]:
    return [(round(float(a), 3), round(float(z), 3)) for a, z in zip(alt, az, strict=True)]


def sky_chart(event, status, open_file, result=None) -> SkyChart:
    """``result``: the event's stored ``SkyResult`` if any (for the radiant and shower)."""
    try:
        path = read_path(event, open_file)
        camera = CameraModel.from_status(status, path.size)
    except (NoPath, NoOrientation) as exc:
        return SkyChart(reason=str(exc))
    t0 = path.t[0]
    lat, lon = camera.lat, camera.lon
    alt, az = camera.pixel_to_altaz(np.array(path.x), np.array(path.y))
    ra, dec = astro.altaz_to_radec(alt, az, lat, lon, np.array(path.t))
    w, h = camera.width_px - 1, camera.height_px - 1
    edge = np.linspace(0, 1, 9)
    fx = np.concatenate([edge * w, np.full(9, w), (1 - edge) * w, np.zeros(9)])
    fy = np.concatenate([np.zeros(9), edge * h, np.full(9, h), (1 - edge) * h])
    regions = [
        _pairs(
            *camera.pixel_to_altaz(np.array([p[0] for p in poly]), np.array([p[1] for p in poly]))
        )
        for poly in status.regions
        if len(poly) >= 3
    ]
    s_ra, s_dec, s_mag = stars()
    s_alt, s_az = astro.radec_to_altaz(s_ra, s_dec, lat, lon, t0)
    up = s_alt > 0
    lines = []
    for figure in constellation_lines().values():
        for line in figure:
            pts = np.array(line)
            l_alt, l_az = astro.radec_to_altaz(pts[:, 0], pts[:, 1], lat, lon, t0)
            if np.any(l_alt > 0):
                lines.append(_pairs(l_alt, l_az))
    radiant = shower = catalogue = None
    if result is not None:
        shower = result.shower
        if result.radiant is not None:
            radiant = _altaz(result.radiant, lat, lon, t0)
        known = by_code(shower) if shower else None
        if result.radiant_measured and known is not None:
            catalogue = _altaz(known.radiant(astro.solar_longitude(t0)), lat, lon, t0)
    return SkyChart(
        time=t0,
        path=_pairs(alt, az),
        path_radec=_pairs(ra, dec),
        frame=_pairs(*camera.pixel_to_altaz(fx, fy)),
        regions=regions,
        stars=[
            (a, z, float(m))
            for (a, z), m in zip(_pairs(s_alt[up], s_az[up]), s_mag[up], strict=True)
        ],
        lines=lines,
        radiant=radiant,
        shower=shower,
        shower_radiant=catalogue,
    )


def _altaz(radec, lat: float, lon: float, t: float) -> AltAz:
    alt, az = astro.radec_to_altaz(radec[0], radec[1], lat, lon, t)
    return (round(float(alt), 3), round(float(az), 3))
