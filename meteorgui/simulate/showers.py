"""A physically consistent night for two (or more) MeteorPi cameras: ground truth
for the sky science (``meteorgui simulate --showers``).

Meteors are straight 3-D trajectories in the Earth's frame: each comes from a
radiant (an active shower's, scattered by ``SHOWER_SPREAD_DEG``, or a random
one for sporadics) at the shower's entry speed, between begin and end heights
that grow with speed, near the common volume the cameras watch. Every video
frame (25 a second) of the meteor is projected into each camera with the same
conventions meteorgui reads (``meteorgui.sky.camera``), with pixel noise, rounded
to whole pixels as the 2015 detector writes them, and stamped with the camera's
clock, which runs ``clock_offset_s`` off. A camera that sees at least
``MIN_POINTS`` frames records an event in the 2015 node's form: the path as
``meteorpi:path`` meta, or as an application/json file of semantic type
``meteorpi:path`` when its text is 250 characters or longer; ``pathBezier``,
``duration``, ``detectionCount``, ``amplitudePeak``,
``amplitudeTimeIntegrated``; a clip and a still.

Simplifications, the same on both sides: no refraction, no zenith attraction
or diurnal aberration (the radiant a meteor shows is its catalogue radiant), no
deceleration. The truth (``SkyNight.truth``, written by ``write_truth``) names
each meteor's shower, radiant, speed, true begin/end heights and the heights of
the first and last points any camera saw, and its events.

Not re-exported by ``meteorgui.simulate``: it needs the sky science (numpy,
pyerfa), which the demo camera on the app's start-up path does not.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from ..model import CameraStatus, Event, Location, Meta, Orientation
from ..sky import astro
from ..sky.camera import CameraModel
from ..sky.paths import PATH_META_LIMIT, path_text
from ..sky.showers import active, heights_km
from ..skyimage import Sky, draw_streak, png_bytes
from .night import DEFAULT_START_MS, NIGHT_MS, Night, _Builder, demo_clips
from .push import _complain, push_made

WIDTH, HEIGHT = 720, 480
FPS = 25
MIN_POINTS = 6
PIXEL_NOISE = 0.35
SHOWER_SPREAD_DEG = 0.7
SPORADIC_SHARE = 0.4
# Relative rates of the showers active on the default night (2015-08-12/13).
RATES = {"PER": 0.75, "SDA": 0.09, "CAP": 0.07, "KCG": 0.09}
# The volume both cameras watch: 50 km north of their midpoint, 100 km up.
TARGET_NORTH_KM, TARGET_HEIGHT_KM, SPREAD_KM = 50.0, 100.0, 90.0

SITES = (
    # name, lat, long, clock offset (s)
    ("Cambridge Science Centre roof", 52.2053, 0.1218, 0.0),
    ("Bury St Edmunds backyard", 52.2463, 0.7111, 1.8),
    ("Ely cathedral close", 52.3986, 0.2638, -0.9),
)


@dataclass
class SkyNight:
    night: Night
    truth: dict

    def write_truth(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.truth, indent=1), encoding="utf-8")


def _target(lat: float, lon: float) -> np.ndarray:
    base = astro.geodetic_to_ecef(lat, lon, TARGET_HEIGHT_KM)
    return base + TARGET_NORTH_KM * astro.enu_basis(lat, lon)[1]


class _Maker(_Builder):
    """The realistic night's builder (ids, file records), with cameras that see one sky."""

    def __init__(
        self, seed: int, start_ms: int, end_ms: int, cameras: int, stills: bool, shape: str = ""
    ):
        super().__init__(seed, start_ms, end_ms, shape)
        self.nrng = np.random.default_rng(seed)
        self.stills = stills
        self.cams: list[tuple[str, CameraModel, float, Sky]] = []
        lat0 = sum(s[1] for s in SITES[:cameras]) / cameras
        lon0 = sum(s[2] for s in SITES[:cameras]) / cameras
        self.centre = (lat0, lon0)
        self.target = _target(lat0, lon0)
        for i in range(cameras):
            self._camera(i)

    def _camera(self, i: int) -> None:
        name, lat, lon, offset = SITES[i % len(SITES)]
        station = astro.geodetic_to_ecef(lat, lon, 0.0)
        enu = astro.enu_basis(lat, lon) @ (self.target - station)
        alt, az = (round(float(v), 3) for v in astro.enu_to_altaz(enu))
        rot = round(self.rng.uniform(-20, 20), 3)
        width = round(self.rng.uniform(62, 72), 2)
        camera_id = "b827eb" + f"{self.rng.getrandbits(24):06x}"
        model = CameraModel(lat, lon, alt, az, rot, width, WIDTH, HEIGHT)
        flat = [(0, HEIGHT), (WIDTH - 1, HEIGHT)]
        sky = Sky(self.rng.getrandbits(32), WIDTH, HEIGHT, flat)
        self.cams.append((camera_id, model, offset, sky))
        self.statuses.append(
            CameraStatus(
                status_id=self.new_id(),
                camera_id=camera_id,
                valid_from=self.start_ms - 86_400_000,
                software_version=2,
                lens="Computar H0612FI 6mm f/1.2",
                sensor="Watec 902H2 Ultimate",
                inst_name=name,
                inst_url="https://meteorpi.example.org/" + name.split()[0].lower(),
                location=Location(lat=lat, long=lon, gps=True, error=5.0),
                orientation=Orientation(alt=alt, az=az, rot=rot, error=0.1, width=width),
                regions=(((0, 0), (WIDTH - 1, 0), (WIDTH - 1, HEIGHT - 1), (0, HEIGHT - 1)),),
            )
        )

    # ------------------------------------------------------------- one meteor

    def _radiant(self, t: float) -> tuple[str, float, float, float]:
        """(shower code or 'sporadic', RA, Dec, entry speed) with the radiant up."""
        lat, lon = self.centre
        sol = astro.solar_longitude(t)
        showers = [s for s in active(sol) if s.code in RATES]
        for _ in range(100):
            if self.rng.random() >= SPORADIC_SHARE and showers:
                s = self.rng.choices(showers, [RATES[x.code] for x in showers])[0]
                ra, dec = s.radiant(sol)
                r = astro.vector(ra, dec) + self.nrng.normal(0, math.radians(SHOWER_SPREAD_DEG), 3)
                ra, dec = (float(x) for x in astro.angles(r))
                code, v = s.code, s.v_entry * self.rng.gauss(1.0, 0.015)
            else:
                alt, az = (
                    math.degrees(math.asin(self.rng.uniform(0.17, 0.98))),
                    self.rng.uniform(0, 360),
                )
                ra, dec = (float(x) for x in astro.altaz_to_radec(alt, az, lat, lon, t))
                code, v = "sporadic", self.rng.uniform(14, 70)
            elevation, _ = astro.radec_to_altaz(ra, dec, lat, lon, t)
            if float(elevation) > 12:
                return code, ra, dec, v
        raise RuntimeError("no radiant above the horizon")

    def meteor(self, index: int, t: float):
        lat, lon = self.centre
        code, ra, dec, v = self._radiant(t)
        d = -astro.radec_to_ecef_direction(ra, dec, lat, lon, t)
        low, high = heights_km(v)
        hb = min(high - 2, 70.0 + 0.7 * v + self.rng.gauss(0, 3))
        he = max(low + 2, hb - self.rng.uniform(12, 30))
        enu = astro.enu_basis(lat, lon)
        mid = self.target + enu[0] * self.rng.uniform(-SPREAD_KM, SPREAD_KM)
        mid = mid + enu[1] * self.rng.uniform(-SPREAD_KM, SPREAD_KM)
        mid = mid + enu[2] * ((hb + he) / 2 - TARGET_HEIGHT_KM)
        up = float(d @ enu[2])
        begin = mid + d * ((hb - (hb + he) / 2) / up)
        length = (he - hb) / up
        n = max(2, int(length / v * FPS))
        ts = np.arange(n) / FPS
        pts = begin + np.outer(ts * v, d)
        heights = astro.ecef_to_geodetic(pts)[2]
        peak = self.rng.uniform(80, 255)
        amp = peak * np.sin(np.pi * np.clip((ts + 0.5 / FPS) / (n / FPS), 0, 1)) ** 0.7
        events, seen = {}, np.zeros(n, bool)
        for camera_id, model, offset, sky in self.cams:
            los = (pts - model.ecef) @ astro.enu_basis(model.lat, model.lon).T
            x, y, front = model.enu_to_pixel(astro.unit(los))
            x = x + self.nrng.normal(0, PIXEL_NOISE, n)
            y = y + self.nrng.normal(0, PIXEL_NOISE, n)
            ok = front & model.inside(x, y, margin=1.0) & (amp > 15)
            if ok.sum() < MIN_POINTS:
                continue
            seen |= ok
            points = [
                [float(x[k]), float(y[k]), float(amp[k]), t + ts[k] + offset]
                for k in np.flatnonzero(ok)
            ]
            events[camera_id] = self.seen_by(camera_id, sky, points)
        truth = {
            "id": index,
            "time_ms": int(t * 1000),
            "shower": code,
            "radiant": {"ra": round(ra, 4), "dec": round(dec, 4)},
            "speed_km_s": round(v, 3),
            "begin_height_km": round(float(heights[0]), 3),
            "end_height_km": round(float(heights[-1]), 3),
            "events": {c: e.event_id for c, e in events.items()},
        }
        if seen.any():
            k = np.flatnonzero(seen)
            truth["observed_begin_height_km"] = round(float(heights[k[0]]), 3)
            truth["observed_end_height_km"] = round(float(heights[k[-1]]), 3)
        return truth, list(events.values())

    def seen_by(self, camera_id: str, sky: Sky, points: list[list[float]]) -> Event:
        status = next(s for s in self.statuses if s.camera_id == camera_id)
        t_ms = int(points[0][3] * 1000)
        stamp = f"{t_ms}_{camera_id}"
        text = path_text(points)
        files = [
            self.record(demo_clips()[self.rng.randrange(len(demo_clips()))], camera_id, t_ms,
                        f"{stamp}_video.mp4", "video/mp4", "meteorpi:triggers/event/video")
        ]  # fmt: skip
        if self.stills:
            still = sky.frame(0.0)
            (x0, y0), (x1, y1) = points[0][:2], points[-1][:2]
            draw_streak(still, WIDTH, HEIGHT, (x0, y0), (x1, y1), max(p[2] for p in points))
            files.append(
                self.record(png_bytes(still, WIDTH, HEIGHT), camera_id, t_ms,
                            f"{stamp}_maxBrightness.png", "image/png",
                            "meteorpi:triggers/event/maxBrightness/lensCorr")
            )  # fmt: skip
        meta = []
        if len(text) >= PATH_META_LIMIT:
            files.append(
                self.record(text.encode(), camera_id, t_ms, f"{stamp}_path.json",
                            "application/json", "meteorpi:path")
            )  # fmt: skip
        else:
            meta.append(Meta("string", "meteorpi:path", text))
        mid = points[len(points) // 2]
        bezier = [[round(p[0]), round(p[1]), round(p[3], 3)] for p in (points[0], mid, points[-1])]
        amps = [p[2] for p in points]
        meta += [
            Meta("string", "meteorpi:pathBezier", json.dumps(bezier, separators=(",", ":"))),
            Meta("number", "meteorpi:duration", round(points[-1][3] - points[0][3], 3)),
            Meta("number", "meteorpi:detectionCount", len(points)),
            Meta("number", "meteorpi:amplitudePeak", int(max(amps))),
            Meta("number", "meteorpi:amplitudeTimeIntegrated", int(sum(amps))),
        ]
        return Event(self.entity_id(), camera_id, status.status_id, t_ms, "meteorpi:meteor",
                     tuple(files), tuple(meta))  # fmt: skip


DARK_DEG = -12.0  # the Sun's altitude below which the simulated night's meteors fall


def _dark(start_ms: int, end_ms: int) -> tuple[float, float]:
    """(first, last) Unix seconds of [start_ms, end_ms) with the Sun below DARK_DEG at
    the first site, a minute inside each end (the whole span if it never gets dark)."""
    _, lat, lon, _ = SITES[0]
    dark = [
        t / 1000
        for t in range(start_ms + 60_000, end_ms - 60_000, 60_000)
        if astro.sun_altitude(t / 1000, lat, lon) < DARK_DEG
    ]
    if not dark:
        return (start_ms + 60_000) / 1000, (end_ms - 60_000) / 1000
    return dark[0], dark[-1]


def make_sky_night(
    seed: int = 0,
    *,
    meteors: int = 150,
    cameras: int = 2,
    start_ms: int = DEFAULT_START_MS,
    stills: bool = True,
) -> SkyNight:
    """A night of ``meteors`` meteors (each seen by zero, one or more of ``cameras``
    cameras, 2 or 3), deterministic for a seed."""
    if not 2 <= cameras <= len(SITES):
        raise ValueError(f"cameras must be 2..{len(SITES)}")
    if meteors < 0:
        raise ValueError("meteors must not be negative")
    end_ms = start_ms + NIGHT_MS
    m = _Maker(
        seed, start_ms, end_ms, cameras, stills, f"meteors={meteors},cameras={cameras},{stills}"
    )
    # Only while it is dark at the first site (the Sun 12° below the horizon, when the
    # first stars of the charts are out): the same draws, spread over the dark hours.
    dark_from, dark_to = _dark(start_ms, end_ms)
    times = sorted(m.rng.uniform(dark_from, dark_to) for _ in range(meteors))
    truths, events = [], []
    for i, t in enumerate(times):
        truth, made = m.meteor(i, t)
        truths.append(truth)
        events += made
    night = Night(seed, start_ms, end_ms, tuple(m.statuses), tuple(events), (), m.content)
    truth = {
        "seed": seed,
        "cameras": [
            {
                "camera_id": c,
                "lat": cm.lat,
                "lon": cm.lon,
                "alt": cm.alt,
                "az": cm.az,
                "rot": cm.rot,
                "width": cm.width_deg,
                "image": [WIDTH, HEIGHT],
                "clock_offset_s": off,
            }
            for c, cm, off, _ in m.cams
        ],  # fmt: skip
        "meteors": truths,
    }
    return SkyNight(night, truth)


# --------------------------------------------------------------------------- scoring


def observations(night: Night) -> list[tuple[str, str, int, object]]:
    """The night's events as ``sky.analysis.analyse`` takes them, read straight from
    the night (no archive)."""
    import io

    from ..sky.camera import NoOrientation
    from ..sky.observe import observe
    from ..sky.paths import NoPath, read_path

    def open_file(record):
        data = night.content.get(record.file_id)
        return None if data is None else io.BytesIO(data)

    items: list[tuple[str, str, int, object]] = []
    for e in night.events:
        try:
            path = read_path(e, open_file)
            model = CameraModel.from_status(night.status(e.status_id), path.size)
            o: object = observe(e.event_id, e.camera_id, model, path)
        except (NoPath, NoOrientation, ValueError) as exc:
            o = str(exc)
        items.append((e.event_id, e.camera_id, e.event_time, o))
    return items


def _median(xs: list[float]) -> float | None:
    return float(np.median(xs)) if xs else None


def score(truth: dict, results: dict) -> dict:
    """meteorgui's results (``event_id`` -> object with ``shower``, ``group_id``,
    ``radiant``, ``begin_height_km``) against the truth: the figures the issue sets
    targets for."""
    right = showered = false = sporadics = pairs = grouped = 0
    solved = 0
    single = {"shower": 0, "right": 0, "sporadic": 0, "false": 0}
    rad_err, h_err = [], []
    for m in truth["meteors"]:
        ids = list(m["events"].values())
        rs = [results[i] for i in ids if i in results]
        if not rs:
            continue
        if len(rs) == 1:
            kind = "sporadic" if m["shower"] == "sporadic" else "shower"
            single[kind] += 1
            if kind == "shower":
                single["right"] += rs[0].shower == m["shower"]
            else:
                single["false"] += rs[0].shower not in ("sporadic", None)
        if m["shower"] == "sporadic":
            sporadics += 1
            false += any(r.shower not in ("sporadic", None) for r in rs)
        else:
            showered += 1
            right += all(r.shower == m["shower"] for r in rs)
        if len(ids) >= 2:
            pairs += 1
            gids = {r.group_id for r in rs}
            if len(gids) == 1 and None not in gids and len(rs) == len(ids):
                grouped += 1
                r = rs[0]
                if r.radiant is None or r.begin_height_km is None:
                    continue
                solved += 1
                truth_v = astro.vector(m["radiant"]["ra"], m["radiant"]["dec"])
                rad_err.append(float(astro.separation(truth_v, astro.vector(*r.radiant))))
                h_err.append(abs(r.begin_height_km - m["observed_begin_height_km"]))
    return {
        "shower_meteors": showered,
        "right_shower": right / showered if showered else None,
        "sporadic_meteors": sporadics,
        "false_shower": false / sporadics if sporadics else None,
        "two_camera_meteors": pairs,
        "grouped": grouped / pairs if pairs else None,
        "trajectories": solved,
        "radiant_error_deg": _median(rad_err),
        "begin_height_error_km": _median(h_err),
        "single_camera": single,
    }


# --------------------------------------------------------------------------- CLI


def run(
    to: str,
    user: str,
    password: str,
    meteors: int = 150,
    seed: int = 0,
    rate: float | None = None,
    truth: str | None = None,
    cameras: int = 2,
    start_ms: int | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``simulate --showers``: make a physically consistent night, write its truth to
    ``truth`` (a JSON file) and push it to the import URL ``to``. 0 if every event
    completed, else 1 with one line on ``err``."""
    if meteors < 0 or (rate is not None and not rate > 0):
        return _complain(err, "--meteors must be >= 0 and --rate > 0")

    def make(url: str) -> tuple[Night, str]:
        sky = make_sky_night(
            seed,
            meteors=meteors,
            cameras=cameras,
            start_ms=DEFAULT_START_MS if start_ms is None else start_ms,
        )
        if truth is not None:
            try:
                sky.write_truth(truth)
            except OSError as exc:
                raise ValueError(
                    f"cannot write the truth to {truth}: {exc.strerror or exc}"
                ) from None
        return sky.night, (
            f"Simulating a night of showers (seed {seed}): {meteors} meteors seen as "
            f"{len(sky.night.events)} events by {len(sky.night.cameras)} cameras -> {url}"
            + (f"; truth in {truth}" if truth else "")
        )

    return push_made(to, user, password, make, rate=rate, out=out, err=err)
