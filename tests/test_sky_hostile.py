"""What a camera controls reaches the sky science too: odd or hostile data, sent over
real HTTP into a real archive, gives that event a reason and every other event its sky.

Before, a status without a latitude or a path holding NaN raised inside the sky worker's
round: no event of the archive got a result, round after round, and the window said
"not computed yet" for ever."""

from __future__ import annotations

import dataclasses
import json

from meteorgui import notify
from meteorgui.archive import browse
from meteorgui.archive.sky import SkyResults
from meteorgui.model import Meta
from meteorgui.sky.compute import results_for
from meteorgui.sky.export import export_meteors
from meteorgui.sky.worker import SkyWorker

from . import factories as fx
from .conftest import CAMERA_USER


def _path(t_ms: int, points=((100, 80, 40), (110, 85, 90), (120, 90, 60), (130, 95, 50))) -> str:
    t = t_ms / 1000
    return json.dumps([[x, y, a, round(t + 0.04 * i, 3)] for i, (x, y, a) in enumerate(points)])


OUTSIDE = ((5000, -3000, 1), (5010, -2990, 1), (5020, -2980, 1))


def _send(server, status, t_ms: int, path: str, event_type: str = "meteorpi:meteor") -> str:
    pack = fx.event_pack(status, n_files=1, t=t_ms)
    meta = (*pack.entity.meta, Meta("string", "meteorpi:path", path))
    pack.entity = dataclasses.replace(pack.entity, meta=meta, event_type=event_type)
    node = fx.Node(server.url, *CAMERA_USER)
    try:
        assert node.send(pack)["state"] == "complete", node.log
    finally:
        node.close()
    return pack.entity.event_id


def _worker_results(archive, ids):
    worker = SkyWorker(archive, notify.Hub(), settle_s=0.0, first_delay_s=0.0)
    try:
        assert worker.wait_idle(60)
    finally:
        worker.close()
    return results_for(archive, ids)


def test_odd_data_gets_its_reason_and_leaves_every_other_event_its_sky(archive, server):
    good = fx.status(camera="b827eb000001", valid_from=fx.T0)
    no_lat = fx.status(camera="b827eb000002", valid_from=fx.T0, location={"long": 0.12})
    no_rot = fx.status(
        camera="b827eb000003",
        valid_from=fx.T0,
        orientation={"alt": 45.0, "az": 180.0, "error": 1.0, "width": 60.0},
    )
    t = fx.T0 + 5_000  # all within seconds: analysed in one batch, as a night's burst is
    nan_path = "[[NaN,NaN,40,1795000005.1],[110,85,90,1795000005.2],[120,90,60,1795000005.3]]"
    big_amplitude = _path(t + 700).replace("40,", "1e400,", 1)
    ids = {
        "good": _send(server, good, t, _path(t)),
        "no latitude": _send(server, no_lat, t + 100, _path(t + 100)),
        "no rotation": _send(server, no_rot, t + 200, _path(t + 200)),
        "NaN": _send(server, good, t + 300, nan_path),
        "plane": _send(server, good, t + 400, _path(t + 400), "meteorpi:plane"),
        "outside": _send(
            server,
            good,
            t + 500,
            _path(t + 500, ((5000, -3000, 1), (5010, -2990, 1), (5020, -2980, 1))),
        ),
        "still": _send(server, good, t + 600, _path(t + 600, ((300, 200, 9),) * 12)),
        "infinite amplitude": _send(server, good, t + 700, big_amplitude),
        "1970": _send(server, good, 1000, _path(1000)),
    }
    results = _worker_results(archive, ids.values())
    got = {name: results.get(event_id) for name, event_id in ids.items()}
    assert all(r is not None for r in got.values()), [k for k, r in got.items() if r is None]
    assert got["good"].shower is not None and got["good"].first is not None
    reasons = {name: r.reason or "" for name, r in got.items() if name != "good"}
    assert all(got[name].shower is None for name in reasons), reasons
    assert "location has no latitude" in reasons["no latitude"]
    assert "orientation has no rotation" in reasons["no rotation"]
    assert "not finite" in reasons["NaN"]
    assert "not finite" in reasons["infinite amplitude"]
    assert "meteorpi:plane, not a meteor" in reasons["plane"]
    assert "outside the camera's image" in reasons["outside"]
    assert "does not move" in reasons["still"]
    assert "clock is wrong" in reasons["1970"]


def test_a_round_that_fails_leaves_each_event_its_own_result(archive, server, monkeypatch):
    """Defence in depth: should the grouping of a batch still raise, each event of it is
    analysed alone, not the whole batch left without results."""
    from meteorgui.sky import compute

    st = fx.status(valid_from=fx.T0)
    t = fx.T0 + 5_000
    ids = [_send(server, st, t + i * 100, _path(t + i * 100)) for i in range(3)]
    real = compute.analyse
    monkeypatch.setattr(
        compute,
        "analyse",
        lambda items: real(items) if len(items) == 1 else (_ for _ in ()).throw(ValueError("x")),
    )
    results = _worker_results(archive, ids)
    assert set(results) == set(ids) and all(r.shower is not None for r in results.values())


def test_meteor_exports_and_listing_leave_out_what_is_not_a_meteor(archive, server, tmp_path):
    st = fx.status(valid_from=fx.T0)
    t = fx.T0 + 5_000
    meteor = _send(server, st, t, _path(t))
    marked = _send(server, st, t + 100, _path(t + 100))
    typed = _send(server, st, t + 200, _path(t + 200), "meteorpi:plane")
    browse.set_reviews(archive, {marked: "plane"})
    _worker_results(archive, [meteor, marked, typed])

    sky = SkyResults(archive.db)
    listed = {r.event_id for r in sky.listing()}
    assert meteor in listed and marked not in listed
    assert sum(sky.counts().values()) == 1  # the night summary's count
    (csv_file,) = export_meteors(archive, tmp_path / "csv", "csv")
    rows = csv_file.read_text().splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == [meteor]
    (ftp,) = export_meteors(archive, tmp_path / "ftp", "ftpdetectinfo")
    assert ftp.read_text().startswith("Meteor Count = 000001")
