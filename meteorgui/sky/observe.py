"""One camera's view of one meteor, on the sky: the path in alt/az and J2000,
its great circle, its angular speed, and its lines of sight in the Earth's frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import astro
from .camera import CameraModel
from .paths import ImagePath

MIN_POINTS = 3
MIN_MOVE_PX = 1.0  # a path must span at least a pixel across or down


class TooShort(ValueError):
    pass


@dataclass(frozen=True)
class Observation:
    event_id: str
    camera_id: str
    camera: CameraModel
    t: np.ndarray  # Unix seconds per point (the camera's clock)
    alt: np.ndarray
    az: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    los: np.ndarray  # Earth-fixed unit lines of sight, one row per point
    amplitude: np.ndarray

    @property
    def t_mid(self) -> float:
        return float((self.t[0] + self.t[-1]) / 2)

    def radec_vectors(self) -> np.ndarray:
        return astro.vector(self.ra, self.dec)

    def normal(self, vectors: np.ndarray | None = None) -> np.ndarray:
        """Unit normal of the best great circle through the points, oriented so the
        meteor moves anticlockwise about it (first x last)."""
        v = self.radec_vectors() if vectors is None else vectors
        n = np.linalg.svd(v, full_matrices=False)[2][-1]
        if np.dot(astro.cross(v[0], v[-1]), n) < 0:
            n = -n
        return n

    def angular_speed(self) -> float:
        """Degrees a second along the path (a straight-line fit of angle on time)."""
        v = self.radec_vectors()
        ang = astro.separation(v[0], v)
        if np.ptp(self.t) <= 0:
            return 0.0
        return float(np.polyfit(self.t - self.t[0], ang, 1)[0])


def observe(event_id: str, camera_id: str, camera: CameraModel, path: ImagePath) -> Observation:
    if len(path) < MIN_POINTS:
        points = "point" if len(path) == 1 else "points"
        raise TooShort(f"the path has {len(path)} {points}; {MIN_POINTS} are needed")
    if max(path.x) - min(path.x) < MIN_MOVE_PX and max(path.y) - min(path.y) < MIN_MOVE_PX:
        raise TooShort("the path does not move (every point on the same pixel): not a meteor")
    t = np.asarray(path.t, dtype=float)
    enu = camera.pixel_to_enu(np.asarray(path.x), np.asarray(path.y))
    alt, az = astro.enu_to_altaz(enu)
    if float(np.max(alt)) < 0:
        raise TooShort(
            "the whole path is below the horizon: the camera's orientation cannot be right"
        )
    ra, dec = astro.altaz_to_radec(alt, az, camera.lat, camera.lon, t)
    return Observation(
        event_id=event_id,
        camera_id=camera_id,
        camera=camera,
        t=t,
        alt=alt,
        az=az,
        ra=ra,
        dec=dec,
        los=camera.enu_to_ecef(enu),
        amplitude=np.asarray(path.amplitude, dtype=float),
    )
