"""Meteors seen by several cameras: which events are one meteor, and its trajectory.

Grouping: two events of different cameras are one meteor when their detections
overlap in time, allowing ``CLOCK_SLACK_S`` (3.5 s) for clocks that differ, and
their trajectory by intersecting planes (below) is physical: every point seen
lies between ``MIN_HEIGHT_KM`` and ``MAX_HEIGHT_KM`` (60 and 140 km) in front
of both cameras, the planes cross at more than ``MIN_CONVERGENCE_DEG`` (2
degrees), and the speed is one a meteor can have (11 to 75 km/s). Among the
candidates, pairs closest in time are taken first; an event is in one group.

Trajectory (Ceplecha's intersecting planes, as CAMS and WesternMeteorPyLib
start from): each camera's lines of sight span a plane through the camera; the
meteor lies on both, so on their line of intersection. The direction of motion
is that line's, oriented as the meteor moves; the radiant is where it comes
from. Every line of sight is brought to its closest point on the line: the
earliest and latest give the begin and end heights and the ground track; a
straight-line fit of distance along the track on each camera's own times gives
the speed (a clock offset shifts time, not rate). With more than two cameras
the pair whose planes cross at the widest angle is used.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from . import astro
from .observe import Observation

CLOCK_SLACK_S = 3.5
MIN_HEIGHT_KM, MAX_HEIGHT_KM = 60.0, 140.0
HEIGHT_MARGIN_KM = 10.0  # an observed end can dip below 60 km a little
MIN_CONVERGENCE_DEG = 2.0
COPLANAR_DEG = 5.0
LOOSE_HEIGHTS_KM = (30.0, 200.0)
SPEED_RANGE_KM_S = (11.0, 75.0)


@dataclass(frozen=True)
class Trajectory:
    radiant: tuple[float, float]  # J2000 RA, Dec degrees
    speed_km_s: float
    begin_height_km: float
    end_height_km: float
    begin: tuple[float, float]  # ground track: lat, lon at begin and end
    end: tuple[float, float]
    convergence_deg: float
    event_ids: tuple[str, ...]
    radiant_sigma_deg: float = 0.0  # the radiant's uncertainty from the paths' scatter


def _plane_normal(obs: Observation) -> np.ndarray:
    return np.linalg.svd(obs.los, full_matrices=False)[2][-1]


def _tilt_sigma(obs: Observation, n: np.ndarray) -> float:
    """How far (radians, one sigma) the fitted plane may tilt about the path: the
    scatter of the points off the plane over the path's length."""
    k = len(obs.los)
    scatter = float(np.sqrt(np.sum((obs.los @ n) ** 2) / max(k - 2, 1)))
    length = float(np.radians(astro.separation(obs.los[0], obs.los[-1])))
    return scatter * np.sqrt(12.0 / k) / max(length, 1e-3)


def _along(station: np.ndarray, los: np.ndarray, point: np.ndarray, d: np.ndarray):
    """Distance along the line (point + s d) of its closest approach to each line of
    sight from ``station``, and how far in front of the camera that is."""
    w0 = point - station
    b = los @ d
    dd = w0 @ d
    ee = los @ w0
    denom = 1.0 - b * b
    denom = np.where(np.abs(denom) < 1e-12, 1e-12, denom)
    s = (b * ee - dd) / denom
    r = (ee - b * dd) / denom
    return s, r


def solve(a: Observation, b: Observation, strict: bool = True) -> Trajectory | None:
    """The trajectory of a meteor seen as ``a`` and ``b``; None if not physical.
    Not ``strict``: wide bounds that short, noisy paths still meet (for grouping)."""
    na, nb = _plane_normal(a), _plane_normal(b)
    d = astro.cross(na, nb)
    sin_q = float(np.linalg.norm(d))
    conv = float(np.degrees(np.arcsin(min(1.0, sin_q))))
    if conv < MIN_CONVERGENCE_DEG:
        return None
    d /= sin_q
    # Orient along the motion as the camera seeing the longer arc sees it.
    longer = max((a, b), key=lambda o: float(astro.separation(o.los[0], o.los[-1])))
    if np.dot(d, longer.los[-1] - longer.los[0]) < 0:
        d = -d
    sa, sb = a.camera.ecef, b.camera.ecef
    point = np.linalg.solve(np.array([na, nb, d]), np.array([na @ sa, nb @ sb, d @ sa]))
    s_all, speeds, weights = [], [], []
    for obs, station in ((a, sa), (b, sb)):
        s, r = _along(station, obs.los, point, d)
        if np.any(r <= 0):
            return None
        s_all.append(s)
        if np.ptp(obs.t) > 0 and len(s) >= 3:
            speeds.append(np.polyfit(obs.t - obs.t[0], s, 1)[0])
            weights.append(np.ptp(obs.t) * len(s))
    if not speeds:
        return None
    speed = float(np.average(speeds, weights=weights))
    s = np.concatenate(s_all)
    ends = point + np.outer([s.min(), s.max()], d)
    lat, lon, h = astro.ecef_to_geodetic(ends)
    _, _, h_all = astro.ecef_to_geodetic(point + np.outer(s, d))
    if strict:
        lo, hi = MIN_HEIGHT_KM - HEIGHT_MARGIN_KM, MAX_HEIGHT_KM
        if not SPEED_RANGE_KM_S[0] <= speed <= SPEED_RANGE_KM_S[1]:
            return None
    else:
        lo, hi = LOOSE_HEIGHTS_KM
    if np.any(h_all < lo) or np.any(h_all > hi) or (strict and h[0] < h[1]):
        return None
    ra, dec = astro.ecef_direction_to_radec(-d, a.camera.lat, a.camera.lon, a.t_mid)
    return Trajectory(
        radiant=(ra, dec),
        speed_km_s=speed,
        begin_height_km=float(h[0]),
        end_height_km=float(h[1]),
        begin=(float(lat[0]), float(lon[0])),
        end=(float(lat[1]), float(lon[1])),
        convergence_deg=conv,
        event_ids=(a.event_id, b.event_id),
        radiant_sigma_deg=float(
            np.degrees(np.hypot(_tilt_sigma(a, na), _tilt_sigma(b, nb)) / sin_q)
        ),
    )


def _overlap(a: Observation, b: Observation) -> float | None:
    """How far apart in time two detections are (0 if they overlap), if within slack."""
    gap = max(a.t[0] - b.t[-1], b.t[0] - a.t[-1], 0.0)
    return float(gap) if gap <= CLOCK_SLACK_S else None


@dataclass(frozen=True)
class Group:
    group_id: str  # the earliest event's id: stable while members stay
    observations: tuple[Observation, ...]
    trajectory: Trajectory | None  # None when the planes cross too flatly or paths are short


def convergence_deg(a: Observation, b: Observation) -> float:
    sin_q = float(np.linalg.norm(astro.cross(_plane_normal(a), _plane_normal(b))))
    return float(np.degrees(np.arcsin(min(1.0, sin_q))))


def same_meteor(a: Observation, b: Observation) -> bool:
    """Whether two cameras' views of meteors overlapping in time can be one meteor:
    their planes nearly coincide (each holds the other's view), or they meet
    in the atmosphere, in front of both cameras."""
    if convergence_deg(a, b) < COPLANAR_DEG:
        return _in_front_either_way(a, b)
    return solve(a, b, strict=False) is not None


def _in_front_either_way(a: Observation, b: Observation) -> bool:
    # Nearly one plane: the other camera's station must lie near it too.
    n = _plane_normal(a)
    offset = abs(float(n @ (b.camera.ecef - a.camera.ecef)))
    return offset < 0.2 * float(np.linalg.norm(b.camera.ecef - a.camera.ecef)) + 5.0


def group(observations: list[Observation]) -> list[Group]:
    """Multi-camera meteors among the observations (any order)."""
    obs = sorted(observations, key=lambda o: float(o.t[0]))
    candidates = []
    for i, a in enumerate(obs):
        for b in obs[i + 1 :]:
            if b.t[0] - a.t[-1] > CLOCK_SLACK_S:
                break
            if a.camera_id == b.camera_id:
                continue
            gap = _overlap(a, b)
            if gap is None:
                continue
            candidates.append((abs(float(a.t[0] - b.t[0])), a, b))
    candidates.sort(key=lambda c: c[0])
    member: dict[str, list[Observation]] = {}
    for _, a, b in candidates:
        ga, gb = member.get(a.event_id), member.get(b.event_id)
        if ga is not None and gb is not None:
            continue
        existing = ga or gb
        if existing is not None:
            newcomer = b if ga is not None else a
            if any(o.camera_id == newcomer.camera_id for o in existing):
                continue
        if not same_meteor(a, b):
            continue
        if existing is not None:
            existing.append(newcomer)
            member[newcomer.event_id] = existing
        else:
            members = [a, b]
            member[a.event_id] = member[b.event_id] = members
    groups, seen = [], set()
    for members in member.values():
        if id(members) in seen:
            continue
        seen.add(id(members))
        members.sort(key=lambda o: float(o.t[0]))
        best = max(itertools.combinations(members, 2), key=lambda p: convergence_deg(*p))
        traj = solve(*best)
        if traj is not None:
            ids = tuple(o.event_id for o in members)
            traj = Trajectory(**{**traj.__dict__, "event_ids": ids})
        groups.append(Group(members[0].event_id, tuple(members), traj))
    return groups
