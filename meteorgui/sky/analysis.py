"""Everything the sky science says about a set of events, in one pass.

``analyse(items)`` takes, per event, its Observation (or the reason it has
none) and returns a ``SkyResult`` per event: its shower, the radiant, its
group of cameras and trajectory. Events seen by several cameras are
associated through their trajectory's radiant; the others one camera at a time.
"""

from __future__ import annotations

from ..archive.sky import SkyResult
from . import astro
from . import showers as S
from .observe import Observation
from .trajectory import Group, group

VERSION = 1  # bump when results would change: stored ones are then recomputed


def associate_single(obs: Observation) -> S.Association:
    v = obs.radec_vectors()
    mid = len(v) // 2
    return S.associate_path(
        v[0],
        v[-1],
        obs.normal(v),
        obs.angular_speed(),
        float(obs.alt[mid]),
        obs.t_mid,
        obs.camera.lat,
        obs.camera.lon,
    )


def _ends(obs: Observation):
    return (
        (round(float(obs.ra[0]), 4), round(float(obs.dec[0]), 4)),
        (round(float(obs.ra[-1]), 4), round(float(obs.dec[-1]), 4)),
    )


def _associate_group(g: Group) -> S.Association:
    """A shower claims a multi-camera meteor when its trajectory's radiant and speed
    fit (showers.associate_radiant). Else, when every camera's view passes the
    single-camera test for one shower, that shower, unless the trajectory's
    radiant is farther from it than RADIANT_TOLERANCE_DEG plus three times its
    uncertainty (from the paths' scatter and the planes' crossing angle). This
    rescues short paths and flat crossings, whose trajectory radiant is poor."""
    tr = g.trajectory
    if tr is not None:
        assoc = S.associate_radiant(*tr.radiant, tr.speed_km_s, g.observations[0].t_mid)
        if assoc.code != S.SPORADIC:
            return assoc
    views = [associate_single(o) for o in g.observations]
    codes = {a.code for a in views}
    if len(codes) != 1 or S.SPORADIC in codes:
        return S.Association(S.SPORADIC, None, None)
    # A shower's association always has its distance and radiant; None only for sporadic.
    worst = max(views, key=lambda a: a.distance_deg or 0.0)
    if tr is not None and worst.radiant is not None:
        allowed = S.RADIANT_TOLERANCE_DEG + 3 * tr.radiant_sigma_deg
        off = float(astro.separation(astro.vector(*tr.radiant), astro.vector(*worst.radiant)))
        if off > allowed:
            return S.Association(S.SPORADIC, None, None)
    return worst


def _rounded(radiant):
    return None if radiant is None else (round(radiant[0], 4), round(radiant[1], 4))


def analyse(items: list[tuple[str, str, int, Observation | str]]) -> dict[str, SkyResult]:
    """``items``: (event_id, camera_id, time_ms, Observation or reason)."""
    out: dict[str, SkyResult] = {}
    observations = [o for *_, o in items if isinstance(o, Observation)]
    grouped = set()
    times = {event_id: time_ms for event_id, _, time_ms, _ in items}
    for g in group(observations):
        tr = g.trajectory
        solved: tuple[float | None, float | None, float | None]
        assoc = _associate_group(g)
        if tr is not None:
            radiant = (round(tr.radiant[0], 4), round(tr.radiant[1], 4))
            solved = (
                round(tr.begin_height_km, 3),
                round(tr.end_height_km, 3),
                round(tr.speed_km_s, 3),
            )
        else:
            radiant = _rounded(assoc.radiant)
            solved = (None, None, None)
        begin, end, speed = solved
        for obs in g.observations:
            first, last = _ends(obs)
            out[obs.event_id] = SkyResult(
                obs.event_id, obs.camera_id, times[obs.event_id], assoc.code, None,
                assoc.distance_deg, radiant, first, last, g.group_id,
                begin_height_km=begin, end_height_km=end, speed_km_s=speed, version=VERSION,
            )  # fmt: skip
            grouped.add(obs.event_id)
    for event_id, camera_id, time_ms, o in items:
        if event_id in grouped:
            continue
        if not isinstance(o, Observation):
            out[event_id] = SkyResult(
                event_id, camera_id, time_ms, None, o, None, None, None, None, version=VERSION
            )
            continue
        assoc = associate_single(o)
        first, last = _ends(o)
        out[event_id] = SkyResult(
            event_id, camera_id, time_ms, assoc.code, None, assoc.distance_deg,
            _rounded(assoc.radiant),
            first, last, version=VERSION,
        )  # fmt: skip
    return out
