"""Refused logins on screen: through real HTTP, in the real import monitor and its
camera table, the most common setup mistake (a wrong password) is visible."""

import requests

from meteorgui.gui.monitor.health import COL_CAMERA, COL_STATUS, now_ms

from . import factories as fx
from .conftest import CAMERA_USER

BODY = {"type": "cached_entity", "cached_entity_id": "0" * 32}


def rows(health):
    m = health.model
    return [
        (m.index(r, COL_CAMERA).data(), m.index(r, COL_STATUS).data()) for r in range(m.rowCount())
    ]


def test_refused_logins_show_in_the_monitor_and_the_camera_table(gui, qtbot):
    health = gui.window.monitor.health
    url = gui.core.server.url
    later = now_ms() + 150_000
    health.clock = lambda: later  # the table is looked at two minutes later
    for _ in range(3):
        r = requests.post(url, json=BODY, auth=("garden-cam", "typo-secret"), timeout=30)
        assert r.status_code == 403
    sentence = "garden-cam: 3 refused logins from 127.0.0.1, unknown user, last 2 min ago"
    qtbot.waitUntil(lambda: sentence in health.warnings, timeout=10_000)
    assert health.banner.isVisible() and sentence in health.banner.text()
    assert ("garden-cam from 127.0.0.1", "⚠ 3 refused logins") in rows(health)
    assert all("typo-secret" not in w for w in health.warnings)

    # A camera that got in once, then had its password changed on the node by mistake:
    # the refusals show on its own row, and the lock-out too.
    node = fx.Node(url, *CAMERA_USER)
    try:
        assert node.send(fx.file_pack(fx.status())) == {"state": "complete"}
    finally:
        node.close()
    for _ in range(12):
        requests.post(url, json=BODY, auth=("camera", "typo"), timeout=30)
    qtbot.waitUntil(
        lambda: any(
            w.startswith("camera: 12 refused logins from 127.0.0.1, locked out")
            and "(locked out for now)" in w
            for w in health.warnings
        ),
        timeout=10_000,
    )
    assert ("Back garden", "⚠ 12 refused logins") in rows(health)


def test_a_guesser_trying_many_names_is_one_row_not_many_cameras(gui, qtbot):
    health = gui.window.monitor.health
    url = gui.core.server.url
    names = [f"guess-{i}" for i in range(8)]
    for name in names:
        r = requests.post(url, json=BODY, auth=(name, "password1"), timeout=30)
        assert r.status_code in (403, 429)
    qtbot.waitUntil(
        lambda: any(
            w.startswith("127.0.0.1: ") and "under 8 user names" in w for w in health.warnings
        ),
        timeout=10_000,
    )
    assert len(health.warnings) == 1  # one address guessing, not eight cameras
    assert [c for c, _status in rows(health)] == ["8 user names from 127.0.0.1"]
