"""The real app, as a separate process on the real X server, driven from outside with xdotool.

Keys and clicks go through the X server (XTest), as a keyboard's and a mouse's do: platform
shortcuts, focus and the window system are all in the path, which no in-process test covers.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import time

import pytest

from .conftest import x_display
from .factories import wait_for

pytestmark = pytest.mark.skipif(
    x_display() is None or shutil.which("xdotool") is None,
    reason="needs Xvfb and xdotool (the suite fell back to offscreen)",
)


def _query(db, sql) -> list:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return []


def _xdo(*args) -> str:
    env = os.environ | {"DISPLAY": x_display()}
    p = subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=30)
    return p.stdout.strip() if p.returncode == 0 else ""


def _window_on_screen(p) -> str:
    """The app's window id once the X server has it (the process must still run)."""
    window = ""

    def found():
        nonlocal window
        assert p.poll() is None, p.stderr.read()
        window = _xdo("search", "--name", "^meteorgui — ").split("\n")[0]
        return bool(window)

    wait_for(found, timeout=60, what="the window never appeared on the X server")
    return window


def _select_first_and_label_plane(window: str, db) -> None:
    """A click near the event grid's top-left corner (below the menu, tool and filter
    bars) gives it the focus; Home selects the first event and p labels it "plane", as a
    user would. The key labels only an event the detail pane shows: pressed again while
    it loads."""
    _xdo("windowfocus", "--sync", window)
    _xdo("mousemove", "--window", window, "12", "125", "click", "1")
    _xdo("key", "Home")

    def reviewed():
        return _query(db(), "SELECT event_id, label FROM reviews WHERE label IS NOT NULL")

    deadline = time.monotonic() + 30
    while not reviewed() and time.monotonic() < deadline:
        _xdo("key", "p")
        try:
            wait_for(lambda: bool(reviewed()), timeout=2)
        except AssertionError:
            pass
    rows = reviewed()
    assert len(rows) == 1 and rows[0][1] == "plane", rows


def test_demo_driven_by_real_keys_and_clicks_reviews_and_quits_with_ctrl_q(tmp_path):
    env = os.environ | {
        "DISPLAY": x_display(),
        "QT_QPA_PLATFORM": "xcb",
        "TMPDIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    p = subprocess.Popen(
        [sys.executable, "-m", "meteorgui", "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def folders():
            return [d for d in tmp_path.glob("meteorgui-demo-*") if d.is_dir()]

        def db():
            return next((d / "archive.sqlite3" for d in folders()), None)

        def events():
            return _query(db(), "SELECT COUNT(*) FROM events")[:1] if db() else []

        wait_for(
            lambda: p.poll() is not None or (events() and events()[0][0] >= 2),
            timeout=60,
            what="no demo events arrived",
        )
        assert p.poll() is None, p.stderr.read()
        _select_first_and_label_plane(_window_on_screen(p), db)
        _xdo("key", "ctrl+q")
        assert p.wait(30) == 0
    finally:
        p.kill()
        _out, err = p.communicate()
    assert "Traceback" not in err, err
    assert "Ambiguous shortcut" not in err
    assert folders() == []  # the demo's folder went with it


def test_keys_work_from_the_first_page_while_the_rest_of_the_window_is_built(
    tmp_path, archive, server, auth
):
    """The window shows its event list first and builds the detail pane, monitor and
    log after it: real keys sent the moment the window is on the X server select an
    event, label it, switch to the review layout (remembered) and quit."""
    from meteorgui.exporter.client import ImportClient
    from meteorgui.settings import Settings
    from meteorgui.simulate import make_night, push_night

    client = ImportClient(server.url, *auth)
    try:
        assert push_night(make_night(4, events=3, timelapse=0), client, on_progress=None).ok
    finally:
        client.close()
    server.stop()
    data = archive.data_dir
    db = data / "archive.sqlite3"
    config = tmp_path / "x11-config"
    Settings(host="127.0.0.1", port=0, importer_autostart=False).save(config / "settings.yaml")
    env = os.environ | {
        "DISPLAY": x_display(),
        "QT_QPA_PLATFORM": "xcb",
        "METEORGUI_CONFIG_DIR": str(config),
    }
    p = subprocess.Popen(
        [sys.executable, "-m", "meteorgui", "--data-dir", str(data)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _select_first_and_label_plane(_window_on_screen(p), lambda: db)
        _xdo("key", "r")  # the review layout, saved when the window closes
        _xdo("key", "ctrl+q")
        assert p.wait(30) == 0
    finally:
        p.kill()
        _out, err = p.communicate()
    assert "Traceback" not in err, err
    layout = (config / "layout.ini").read_text()
    assert "review_layout=true" in layout, layout
