"""Which shower a meteor belongs to.

The table is ``resources/sky/showers.csv`` (IAU MDC established showers; see its
header for the source). A shower is active when the solar longitude lies in its
window; its radiant then is the peak radiant moved by the daily drift.

Single camera (the method of RMS's single-station association and CAMS): the
meteor's sky path gives a great circle. A shower claims it when

1. its radiant lies within ``GC_TOLERANCE_DEG`` (4 degrees) of that great circle,
   on the side the meteor comes from: the path's first point is nearer the
   radiant than its last, and the radiant is less than 100 degrees behind it;
2. the radiant is above the horizon;
3. the angular speed fits: a meteor of the shower's entry speed V at distance D
   from the radiant, at a height between the shower's end and begin heights
   (a model linear in V), seen at the path's elevation, moves
   V sin(D) / range(height, elevation) radians a second; the measured speed must
   lie within that band widened by ``SPEED_SLACK`` (35 %) either way.

Of the showers that pass, the one nearest the great circle wins; else the meteor
is sporadic. With a trajectory from two cameras the radiant is known: a shower
claims the meteor when its radiant is within ``RADIANT_TOLERANCE_DEG`` (3 degrees)
and the entry speed within ``VELOCITY_TOLERANCE`` (15 %) of the shower's.
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass

import numpy as np

from ..resources import resource_path
from . import astro

GC_TOLERANCE_DEG = 4.0
BEHIND_MAX_DEG = 100.0
SPEED_SLACK = 0.35
RADIANT_TOLERANCE_DEG = 3.0
VELOCITY_TOLERANCE = 0.15
SPORADIC = "sporadic"


@dataclass(frozen=True)
class Shower:
    code: str
    iau_no: int
    name: str
    sol_begin: float
    sol_peak: float
    sol_end: float
    ra: float
    dec: float
    dra: float
    ddec: float
    vg: float

    def active(self, sol: float) -> bool:
        if self.sol_begin <= self.sol_end:
            return self.sol_begin <= sol <= self.sol_end
        return sol >= self.sol_begin or sol <= self.sol_end

    def radiant(self, sol: float) -> tuple[float, float]:
        """RA, Dec (J2000 degrees) at a solar longitude, with the daily drift."""
        d = (sol - self.sol_peak + 180.0) % 360.0 - 180.0
        return (self.ra + self.dra * d) % 360.0, self.dec + self.ddec * d

    @property
    def v_entry(self) -> float:
        """Speed entering the atmosphere, km/s (the Earth's pull added)."""
        return math.hypot(self.vg, astro.ESCAPE_KM_S)


def heights_km(v: float) -> tuple[float, float]:
    """(end, begin) heights a meteor of entry speed v (km/s) is seen between."""
    begin = 70.0 + 0.7 * v
    return begin - 45.0, begin + 12.0


@functools.cache
def showers() -> tuple[Shower, ...]:
    with open(resource_path("sky", "showers.csv"), encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        out = []
        for r in rows:
            num = {k: float(r[k]) for k in r if k not in ("code", "iau_no", "name")}
            out.append(Shower(r["code"], int(r["iau_no"]), r["name"], **num))
    return tuple(out)


def by_code(code: str) -> Shower | None:
    return next((s for s in showers() if s.code == code), None)


def active(sol: float) -> list[Shower]:
    return [s for s in showers() if s.active(sol)]


@dataclass(frozen=True)
class Association:
    code: str  # a shower code or SPORADIC
    distance_deg: float | None  # what decided it: radiant to great circle, or to radiant
    radiant: tuple[float, float] | None  # the shower's radiant then, RA/Dec


def slant_range_km(height_km: float, elevation_deg) -> np.ndarray:
    """Distance from an observer at sea level to a point at a height seen at an elevation."""
    r, e = astro.EARTH_RADIUS_KM, np.radians(elevation_deg)
    return np.sqrt((r + height_km) ** 2 - (r * np.cos(e)) ** 2) - r * np.sin(e)


def associate_path(
    radec_first: np.ndarray,
    radec_last: np.ndarray,
    normal: np.ndarray,
    angular_speed_deg_s: float,
    mid_elevation_deg: float,
    t: float,
    lat: float,
    lon: float,
) -> Association:
    """Single-camera association. ``radec_first``/``radec_last``: J2000 unit vectors of
    the path's ends; ``normal``: unit normal of its great circle; the speed along
    it in degrees a second; the path's mid elevation; time and place."""
    sol = astro.solar_longitude(t)
    best: Association | None = None
    candidates = active(sol)
    if not candidates:
        return Association(SPORADIC, None, None)
    # The great-circle test, which most showers fail, for all of them at once (element by
    # element the same arithmetic as one at a time).
    radiants = [shower.radiant(sol) for shower in candidates]
    vectors = astro.vector([ra for ra, _ in radiants], [dec for _, dec in radiants])
    off_circles = np.abs(90.0 - astro.separation(vectors, normal))
    for shower, (ra, dec), rad, off in zip(candidates, radiants, vectors, off_circles, strict=True):
        off_circle = float(off)
        if off_circle > GC_TOLERANCE_DEG:
            continue
        to_first = float(astro.separation(rad, radec_first))
        to_last = float(astro.separation(rad, radec_last))
        if not to_first < to_last or to_first > BEHIND_MAX_DEG:
            continue
        alt, _ = astro.radec_to_altaz(ra, dec, lat, lon, t)
        if float(alt) < 0:
            continue
        mid = (to_first + to_last) / 2
        low, high = heights_km(shower.v_entry)
        fast = shower.v_entry * math.sin(math.radians(mid)) / slant_range_km(low, mid_elevation_deg)
        slow = (
            shower.v_entry * math.sin(math.radians(mid)) / slant_range_km(high, mid_elevation_deg)
        )
        w = math.radians(angular_speed_deg_s)
        if not slow * (1 - SPEED_SLACK) <= w <= fast * (1 + SPEED_SLACK):
            continue
        if best is None or off_circle < (best.distance_deg or 0.0):
            best = Association(shower.code, round(off_circle, 3), (ra, dec))
    return best or Association(SPORADIC, None, None)


def associate_radiant(ra: float, dec: float, v_entry: float, t: float) -> Association:
    """Association of a trajectory's radiant (J2000) and entry speed (km/s)."""
    sol = astro.solar_longitude(t)
    best: Association | None = None
    for shower in active(sol):
        sra, sdec = shower.radiant(sol)
        d = float(astro.separation(astro.vector(ra, dec), astro.vector(sra, sdec)))
        if d > RADIANT_TOLERANCE_DEG:
            continue
        if abs(v_entry - shower.v_entry) > VELOCITY_TOLERANCE * shower.v_entry:
            continue
        if best is None or d < (best.distance_deg or 0.0):
            best = Association(shower.code, round(d, 3), (sra, sdec))
    return best or Association(SPORADIC, None, None)
