"""The app as a whole: starting, quitting, a taken port, the demo, setup dialogs, settings."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest
import requests
import yaml
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from meteorgui.gui.startup import build, close
from meteorgui.settings import Settings

from .conftest import CAMERA_USER


def test_ctrl_q_quits_cleanly(gui, qtbot):
    window = gui.window
    assert gui.core.importer_running
    assert "meteorgui" in window.windowTitle()
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible())
    assert not gui.core.importer_running


def test_status_bar_shows_the_importer_and_todays_counts(gui, qtbot, push):
    from meteorgui.simulate import make_night

    url = gui.core.server.url
    assert f":{gui.core.server.port}/import" in gui.window.importer_label.text()
    night = make_night(3, events=2, timelapse=2, start_ms=int(time.time() * 1000) - 60_000)
    assert push(night).ok
    qtbot.waitUntil(lambda: "4 complete" in gui.window.counts_label.text(), timeout=10_000)
    gui.window.stop_importer()
    assert "stopped" in gui.window.importer_label.text()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(url.split(":")[2].split("/")[0])), timeout=2)


def test_port_in_use_is_said_plainly_and_another_port_offered(qtbot, tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        settings = Settings(host="127.0.0.1", port=taken, importer_autostart=False)
        ctx, window = build(tmp_path / "data", settings)
        qtbot.addWidget(window)
        try:
            window.show()
            assert window.start_importer() is False
            box = window.port_prompt
            assert box is not None and box.isVisible()
            assert f"Port {taken} is already in use" in box.text()
            use = next(b for b in box.buttons() if b.text().startswith("Use port"))
            other = int(use.text().split()[-1])
            assert other != taken
            use.click()
            qtbot.waitUntil(lambda: ctx.core.importer_running)
            assert ctx.core.server.port == other
            assert Settings.load().port == other  # remembered for next time
        finally:
            window.close()
            close(ctx)


def test_camera_setup_shows_urls_and_creates_a_working_login(gui, qtbot):
    import requests

    from meteorgui.gui.setup.camera import CameraSetupDialog

    dlg = CameraSetupDialog(gui, gui.window)
    qtbot.addWidget(dlg)
    dlg.open()
    assert [f.text() for f in dlg.url_fields] == gui.core.server.urls()
    dlg.create_button.click()
    qtbot.waitUntil(lambda: dlg.password_field.text() != "", timeout=10_000)
    user, password = dlg.user_field.text(), dlg.password_field.text()
    r = requests.post(
        gui.core.server.url,
        auth=(user, password),
        json={"type": "cached_entity", "cached_entity_id": "0" * 32},
    )
    assert r.json() == {"state": "continue-nocache"}
    dlg.close()


def test_settings_dialog_saves_yaml_in_the_config_dir(gui, qtbot):
    from meteorgui.gui.setup.settings import SettingsDialog

    dlg = SettingsDialog(gui, gui.window)
    qtbot.addWidget(dlg)
    dlg.silence.setValue(45)
    dlg.thumb.setValue(200)
    with qtbot.waitSignal(dlg.applied) as applied:
        dlg.save()
    assert applied.args == [False]
    saved = yaml.safe_load(Settings.path().read_text())
    assert saved["silence_warning_minutes"] == 45 and saved["thumbnail_size"] == 200
    assert Settings.load().silence_warning_minutes == 45


def test_settings_dialog_says_when_the_environment_chooses_the_data_folder(gui, qtbot, monkeypatch):
    from meteorgui import paths
    from meteorgui.gui.setup.settings import SettingsDialog

    monkeypatch.delenv(paths.ENV_DATA_DIR, raising=False)
    plain = SettingsDialog(gui, gui.window)
    qtbot.addWidget(plain)
    assert not hasattr(plain, "env_note")
    monkeypatch.setenv(paths.ENV_DATA_DIR, "/srv/meteors")
    dlg = SettingsDialog(gui, gui.window)
    qtbot.addWidget(dlg)
    assert "/srv/meteors" in dlg.env_note.text() and "used instead" in dlg.env_note.text()


def test_malformed_settings_fall_back_to_defaults(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text("port: lots\nnotifications: maybe\nthumbnail_size: 96\nfuture_key: 1\n")
    s = Settings.load(path)
    assert (s.port, s.notifications, s.thumbnail_size) == (8080, True, 96)
    assert s.extra == {"future_key": 1}
    path.write_text("[not, a, mapping")
    assert Settings.load(path) == Settings()
    path.write_bytes("port: 8081\n".encode("utf-16"))  # as Windows Notepad may save it
    s = Settings.load(path)
    assert s == Settings() and "unreadable" in s.problems[0]
    path.write_text(
        "night_starts_hour: 24\nthumbnail_size: -5\nsilence_warning_minutes: 0\nport: 99999\n"
    )
    s = Settings.load(path)
    assert s == Settings() and len(s.problems) == 4
    assert "night_starts_hour 24 is not between 0 and 23" in s.problems[0]
    assert "problems" not in yaml.safe_load(s.save(path).read_text())


def test_the_app_and_the_command_line_use_the_same_data_folder(tmp_path, monkeypatch):
    from meteorgui import paths

    monkeypatch.delenv(paths.ENV_DATA_DIR, raising=False)
    chosen = tmp_path / "chosen"
    assert paths.data_dir(None, chosen) == chosen  # the folder chosen in Settings
    assert paths.data_dir(tmp_path / "flag", chosen) == tmp_path / "flag"
    monkeypatch.setenv(paths.ENV_DATA_DIR, str(tmp_path / "env"))
    assert paths.data_dir(None, chosen) == tmp_path / "env"
    Settings(data_dir=str(chosen)).save()
    from meteorgui.cli import _configured_data_dir

    assert _configured_data_dir() == str(chosen)


def test_passwords_are_never_stored_or_logged_in_clear(gui, qtbot, push):

    from meteorgui.logs import close_logging, setup_logging
    from meteorgui.simulate import make_night

    log_path = setup_logging(gui.archive.data_dir, verbose=True)
    try:
        assert push(make_night(2, events=1, timelapse=1)).ok  # authenticated requests
        wrong = requests.post(
            gui.core.server.url,
            auth=(CAMERA_USER[0], "not-the-password"),
            json={"type": "cached_entity", "cached_entity_id": "0" * 32},
        )
        assert wrong.status_code == 403
        assert gui.core.importer.log.flush()
    finally:
        close_logging()  # flushes the log file
    text = log_path.read_text()
    assert "/import" in text  # the requests themselves were logged (verbose)
    assert CAMERA_USER[1] not in text and "not-the-password" not in text
    con = sqlite3.connect(gui.archive.db.path)
    try:
        dump = "\n".join(con.iterdump())
    finally:
        con.close()
    assert "pbkdf2_sha256$" in dump
    assert CAMERA_USER[1] not in dump and "not-the-password" not in dump


def _count_events(db: str) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _demo_dirs(tmp):
    return [d for d in tmp.glob("meteorgui-demo-*") if d.is_dir()]


def start_demo(qtbot, temp, events: int = 1, **env) -> subprocess.Popen:
    """`meteorgui --demo` as a process with its folder in ``temp``, once ``events`` events
    have arrived through its importer (fails with its stderr if it exits first)."""
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "TMPDIR": str(temp)} | env
    p = subprocess.Popen(
        [sys.executable, "-m", "meteorgui", "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        qtbot.waitUntil(
            lambda: (
                p.poll() is not None
                or any(
                    _count_events(str(d / "archive.sqlite3")) >= events for d in _demo_dirs(temp)
                )
            ),
            timeout=30_000,
        )
    except BaseException:
        p.kill()
        p.communicate()
        raise
    assert p.poll() is None, p.stderr.read()
    return p


def test_demo_runs_as_a_real_process_and_exits_zero(tmp_path, qtbot):
    # Events arrive within seconds, through the real importer, in the demo's folder.
    p = start_demo(qtbot, tmp_path, events=2, PYTHONUNBUFFERED="1")
    try:
        p.send_signal(signal.SIGINT)  # the same path as Ctrl+Q: the window closes
        assert p.wait(30) == 0
    finally:
        p.kill()
        out, err = p.communicate()
    assert "Traceback" not in err, err


def test_the_demo_never_writes_into_a_real_archive(tmp_path, capsys):
    from meteorgui import cli

    real = tmp_path / "real"
    assert cli.main(["--data-dir", str(real), "--demo"]) == 2
    assert "never yours" in capsys.readouterr().err
    assert not real.exists()


def test_quit_while_a_camera_pushes_leaves_a_consistent_archive(gui, qtbot):
    from meteorgui.simulate import DemoCamera

    camera = DemoCamera(gui.archive, gui.core.server.url, events=40, timelapse=40, rate=200)
    camera.start()
    qtbot.waitUntil(lambda: gui.archive.count("events") >= 3, timeout=20_000)
    gui.window.close()
    camera.stop()
    # Every archived event has all of its files' bytes, whole.
    assert gui.archive.verify() == []
    for event in gui.archive.events():
        assert all(gui.archive.has_bytes(f) for f in event.files)


def test_no_modal_dialog_is_left_open(gui):
    assert not any(
        isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets()
    )


def test_demo_night_is_last_night_in_the_dark_where_its_cameras_are():
    from datetime import UTC, datetime

    from meteorgui.archive.nights import NightClock, mean_longitude
    from meteorgui.simulate import NIGHT_MS, demo_night_start
    from meteorgui.simulate.night import SITES

    clock = NightClock(12, mean_longitude(s["long"] for s in SITES))
    for hour in (1, 5, 12, 19, 23):
        now = datetime.now(UTC).replace(hour=hour, minute=30).timestamp()
        start = demo_night_start(now)
        # 20:00 in the cameras' solar time (East England: a minute or two after 20:00 UTC).
        begins = datetime.fromtimestamp((start + clock.offset_ms) / 1000, UTC)
        assert begins.hour == 20 and begins.minute == 0
        assert start + NIGHT_MS <= now * 1000 < start + NIGHT_MS + 86_400_000
        assert clock.start(start) == clock.start(start + NIGHT_MS - 1)  # one browser night


def test_demo_without_a_data_dir_leaves_nothing_behind(tmp_path, qtbot):
    # A demo killed earlier (its process gone) left its folder: the next demo sweeps it.
    stale = tmp_path / "meteorgui-demo-999999999-old"
    stale.mkdir()
    (stale / "archive.sqlite3").write_bytes(b"")
    p = start_demo(qtbot, tmp_path)
    try:
        assert not stale.exists()
        p.send_signal(signal.SIGTERM)  # as a logout or `kill` does: quits like Ctrl+Q
        assert p.wait(30) == 0
    finally:
        p.kill()
        _, err = p.communicate()
    assert _demo_dirs(tmp_path) == []
    assert "pipewire" not in err and "Traceback" not in err
