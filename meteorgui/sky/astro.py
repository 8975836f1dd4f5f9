"""Time, Earth and sky frames, on ERFA (the IAU SOFA routines, through pyerfa).

Why ERFA: it is the IAU's own reference implementation (Astropy computes with it
too), it needs no data file at run time, and it imports in tens of milliseconds
where Astropy takes a second. What it leaves out, and what that costs:

- UT1 is taken as UTC (no IERS table offline): at most 0.9 s of Earth rotation,
  0.004 degrees on the sky.
- Refraction, diurnal aberration and zenith attraction are ignored: a meteor's
  radiant is compared with catalogue radiants as observed; near the horizon
  this is off by up to a degree for slow meteors.

Positions are unit vectors in numpy arrays (last axis x, y, z). Angles at the
interface are degrees; times are Unix seconds (UTC). The Earth is WGS84.
"""

from __future__ import annotations

import math
import warnings

import erfa
import numpy as np

# ERFA warns of a "dubious year" for dates outside its leap-second table (a camera whose
# clock says 2100): the sky science says so in its own words (compute._implausible_time);
# the warning printed by the command line would be noise.
warnings.filterwarnings("ignore", category=erfa.ErfaWarning)

UNIX_EPOCH_JD = 2440587.5
WGS84 = 1  # erfa's ellipsoid number
EARTH_RADIUS_KM = 6371.0
ESCAPE_KM_S = 11.19


def _jd_utc(t) -> tuple[np.ndarray, np.ndarray]:
    days = np.asarray(t, dtype=float) / 86400.0
    whole = np.floor(days)
    return UNIX_EPOCH_JD + whole, days - whole


def _jd_tt(t) -> tuple[np.ndarray, np.ndarray]:
    u1, u2 = _jd_utc(t)
    a1, a2 = erfa.utctai(u1, u2)
    return erfa.taitt(a1, a2)


def unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def vector(lon_deg, lat_deg) -> np.ndarray:
    """Unit vectors from longitudes (RA, or azimuth measured the ENU way) and latitudes."""
    lon, lat = np.radians(lon_deg), np.radians(lat_deg)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)


def angles(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(longitude 0..360, latitude) in degrees of vectors."""
    v = unit(v)
    lon = np.degrees(np.arctan2(v[..., 1], v[..., 0])) % 360.0
    lat = np.degrees(np.arcsin(np.clip(v[..., 2], -1.0, 1.0)))
    return lon, lat


def cross(a, b) -> np.ndarray:
    """The cross product of 3-vectors (the last axis), as np.cross computes it, bit for
    bit, in less than half its time: np.cross normalises and moves axes on every call, which
    cost the sky worker more than the products on the one or few vectors it passes."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], -1)


def separation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in degrees between vectors (robust for small angles)."""
    a, b = unit(a), unit(b)
    sine = np.linalg.norm(cross(a, b), axis=-1)
    return np.degrees(np.arctan2(sine, np.sum(a * b, axis=-1)))


# ------------------------------------------------------------------ horizon <-> ENU


def altaz_to_enu(alt, az) -> np.ndarray:
    """East-north-up unit vectors; azimuth from north through east."""
    alt, az = np.radians(alt), np.radians(az)
    return np.stack([np.cos(alt) * np.sin(az), np.cos(alt) * np.cos(az), np.sin(alt)], -1)


def enu_to_altaz(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = unit(v)
    az = np.degrees(np.arctan2(v[..., 0], v[..., 1])) % 360.0
    alt = np.degrees(np.arcsin(np.clip(v[..., 2], -1.0, 1.0)))
    return alt, az


def enu_basis(lat: float, lon: float) -> np.ndarray:
    """Rows: east, north, up as Earth-fixed (ECEF) unit vectors at a geodetic place."""
    la, lo = math.radians(lat), math.radians(lon)
    return np.array(
        [
            [-math.sin(lo), math.cos(lo), 0.0],
            [-math.sin(la) * math.cos(lo), -math.sin(la) * math.sin(lo), math.cos(la)],
            [math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)],
        ]
    )


def geodetic_to_ecef(lat, lon, height_km=0.0) -> np.ndarray:
    """Earth-fixed position in km."""
    xyz = erfa.gd2gc(WGS84, np.radians(lon), np.radians(lat), np.asarray(height_km) * 1000.0)
    return np.asarray(xyz) / 1000.0


def ecef_to_geodetic(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, height km) of Earth-fixed positions in km."""
    lon, lat, h = erfa.gc2gd(WGS84, np.asarray(xyz, dtype=float) * 1000.0)
    return np.degrees(lat), np.degrees(lon), np.asarray(h) / 1000.0


# ------------------------------------------------------------------ horizon <-> J2000


def _frames(t_mid: float, lon: float):
    """Local apparent sidereal time (radians) at t_mid and the matrix from J2000 to
    the true equator and equinox of date."""
    tt1, tt2 = _jd_tt(t_mid)
    u1, u2 = _jd_utc(t_mid)
    # gst06a is gst06 of pnm06a's matrix: the matrix is made once for both (the same bits).
    npb = erfa.pnm06a(tt1, tt2)
    return erfa.gst06(u1, u2, tt1, tt2, npb) + math.radians(lon), npb


_SIDEREAL_RAD_S = 2 * math.pi * 1.00273781191135448 / 86400.0


def altaz_to_radec(alt, az, lat: float, lon: float, t) -> tuple[np.ndarray, np.ndarray]:
    """J2000 (RA, Dec) in degrees of horizon directions seen from a place at times t
    (Unix seconds, one per direction or one for all)."""
    alt, az = np.asarray(alt, dtype=float), np.asarray(az, dtype=float)
    t = np.broadcast_to(np.asarray(t, dtype=float), np.broadcast_shapes(alt.shape, np.shape(t)))
    t_mid = float(np.mean(t))
    last, npb = _frames(t_mid, lon)
    last = last + (t - t_mid) * _SIDEREAL_RAD_S
    ha, dec = erfa.ae2hd(np.radians(az), np.radians(alt), math.radians(lat))
    v_date = vector(np.degrees(last - ha), np.degrees(dec))
    return angles(v_date @ npb)  # row vectors: v_j2000 = npb.T @ v_date


def radec_to_altaz(ra, dec, lat: float, lon: float, t) -> tuple[np.ndarray, np.ndarray]:
    """(alt, az) in degrees of J2000 directions seen from a place at times t."""
    ra, dec = np.asarray(ra, dtype=float), np.asarray(dec, dtype=float)
    t = np.broadcast_to(np.asarray(t, dtype=float), np.broadcast_shapes(ra.shape, np.shape(t)))
    t_mid = float(np.mean(t)) if t.size else 0.0
    last, npb = _frames(t_mid, lon)
    last = last + (t - t_mid) * _SIDEREAL_RAD_S
    ra_d, dec_d = angles(vector(ra, dec) @ npb.T)
    az, alt = erfa.hd2ae(last - np.radians(ra_d), np.radians(dec_d), math.radians(lat))
    return np.degrees(alt), np.degrees(az) % 360.0


def ecef_direction_to_radec(d: np.ndarray, lat: float, lon: float, t: float):
    """J2000 (RA, Dec) of an Earth-fixed direction, as seen from (lat, lon) at t."""
    alt, az = enu_to_altaz(enu_basis(lat, lon) @ d)
    ra, dec = altaz_to_radec(alt, az, lat, lon, t)
    return float(ra), float(dec)


def radec_to_ecef_direction(ra: float, dec: float, lat: float, lon: float, t: float):
    alt, az = radec_to_altaz(ra, dec, lat, lon, t)
    return enu_basis(lat, lon).T @ altaz_to_enu(alt, az)


# ------------------------------------------------------------------ the Sun


def solar_longitude(t: float) -> float:
    """The Sun's geocentric ecliptic longitude, J2000 equinox, degrees: the clock
    of meteor showers (the IAU MDC lists activity by it)."""
    tt1, tt2 = _jd_tt(t)
    helio, _ = erfa.epv00(tt1, tt2)  # the Earth's heliocentric position, BCRS axes
    sun = -np.asarray(helio["p"], dtype=float)
    eps = erfa.obl06(2451545.0, 0.0)  # mean obliquity at J2000
    y = sun[1] * math.cos(eps) + sun[2] * math.sin(eps)
    return math.degrees(math.atan2(y, sun[0])) % 360.0


def sun_altitude(t: float, lat: float, lon: float) -> float:
    """The Sun's altitude (degrees, geometric) at a place: from its ecliptic longitude on
    the mean equator of J2000, close enough to tell day, twilight and night apart."""
    lam = math.radians(solar_longitude(t))
    eps = erfa.obl06(2451545.0, 0.0)
    ra = math.degrees(math.atan2(math.cos(eps) * math.sin(lam), math.cos(lam))) % 360.0
    dec = math.degrees(math.asin(math.sin(eps) * math.sin(lam)))
    alt, _ = radec_to_altaz(ra, dec, lat, lon, t)
    return float(alt)
