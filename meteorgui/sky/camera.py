"""A MeteorPi camera's view: image pixels <-> horizon directions.

The conventions are the 2015 node's (see PROTOCOL.md): ``orientation`` gives the
alt/az of the image centre, ``rot`` the position angle of the image's up
direction measured from celestial north through east, and ``width`` the
horizontal field of view of a gnomonic (tangent-plane) projection. The image is
a direct view of the sky: with ``rot`` 0 north is up and east is left. Pixel x
grows to the right and y downwards; pixel centres are whole numbers, so the
image centre is ((W-1)/2, (H-1)/2). Pixels are square.

A fixed camera sees the celestial pole at a fixed alt/az, so "north" at the
image centre is a fixed direction on the image and ``rot`` holds all night.
An orientation whose ``error`` is 360 or more (or ``width`` 0) is unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from . import astro

UNKNOWN_ERROR = 360.0
# The 2015 node's frames when nothing else says (its Watec cameras, PAL digitised).
DEFAULT_SIZE = (720, 480)


class NoOrientation(ValueError):
    """The camera's pointing is not known; the message says why."""


@dataclass(frozen=True)
class CameraModel:
    lat: float
    lon: float
    alt: float  # image centre, degrees
    az: float
    rot: float
    width_deg: float
    width_px: int
    height_px: int

    @classmethod
    def from_status(cls, status, size: tuple[int, int] = DEFAULT_SIZE) -> CameraModel:
        """From a ``model.CameraStatus``; NoOrientation if it lacks a usable fit."""
        o, loc = status.orientation, status.location
        if loc is None:
            raise NoOrientation("the camera's status has no location")
        if o is None:
            raise NoOrientation("the camera's status has no orientation")
        if o.error is not None and o.error >= UNKNOWN_ERROR:
            raise NoOrientation("the camera has not fitted its orientation yet (error 360)")
        if not o.width or not 0 < o.width < 180:
            raise NoOrientation(f"the camera's field of view is {o.width} degrees")
        # A node may leave out any field (the importer keeps what it sends): a model with
        # a part missing would be made up, not the camera's.
        for value, what in (
            (loc.lat, "location has no latitude"),
            (loc.long, "location has no longitude"),
            (o.alt, "orientation has no altitude"),
            (o.az, "orientation has no azimuth"),
            (o.rot, "orientation has no rotation"),
        ):
            if value is None or not math.isfinite(value):
                raise NoOrientation(f"the camera's {what}")
        return cls(loc.lat, loc.long, o.alt, o.az, o.rot, o.width, size[0], size[1])

    # ------------------------------------------------------------- frame

    def _frame(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """ENU unit vectors: centre, image right, image up; and radians per pixel.
        Made once per model: the sky worker keeps a camera's model for its events."""
        return self._frame_parts

    @cached_property
    def _frame_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        c = astro.altaz_to_enu(self.alt, self.az)
        pole = np.array([0.0, math.cos(math.radians(self.lat)), math.sin(math.radians(self.lat))])
        north = pole - np.dot(pole, c) * c
        if np.linalg.norm(north) < 1e-9:  # looking at the pole: let "north" be the zenith
            north = np.array([0.0, 0.0, 1.0]) - c[2] * c
        north = astro.unit(north)
        east = astro.cross(north, c)
        th = math.radians(self.rot)
        up = math.sin(th) * east + math.cos(th) * north
        right = -math.cos(th) * east + math.sin(th) * north
        scale = 2 * math.tan(math.radians(self.width_deg) / 2) / self.width_px
        for v in (c, right, up):
            v.flags.writeable = False  # shared by every use of the model
        return c, right, up, scale

    def pixel_to_enu(self, x, y) -> np.ndarray:
        c, right, up, s = self._frame()
        X = (np.asarray(x, dtype=float) - (self.width_px - 1) / 2) * s
        Y = -(np.asarray(y, dtype=float) - (self.height_px - 1) / 2) * s
        return astro.unit(c + X[..., None] * right + Y[..., None] * up)

    def pixel_to_altaz(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        return astro.enu_to_altaz(self.pixel_to_enu(x, y))

    def enu_to_pixel(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, in_front): in_front is False behind the tangent plane."""
        c, right, up, s = self._frame()
        v = np.asarray(v, dtype=float)
        depth = v @ c
        safe = np.where(depth > 1e-9, depth, 1e-9)
        x = (v @ right) / safe / s + (self.width_px - 1) / 2
        y = -(v @ up) / safe / s + (self.height_px - 1) / 2
        return x, y, depth > 1e-9

    def altaz_to_pixel(self, alt, az):
        return self.enu_to_pixel(astro.altaz_to_enu(alt, az))

    def inside(self, x, y, margin: float = 0.0) -> np.ndarray:
        x, y = np.asarray(x), np.asarray(y)
        return (
            (x >= -0.5 + margin)
            & (x <= self.width_px - 0.5 - margin)
            & (y >= -0.5 + margin)
            & (y <= self.height_px - 0.5 - margin)
        )

    @property
    def ecef(self) -> np.ndarray:
        return astro.geodetic_to_ecef(self.lat, self.lon, 0.0)

    def enu_to_ecef(self, v: np.ndarray) -> np.ndarray:
        return np.asarray(v) @ astro.enu_basis(self.lat, self.lon)
