"""The demo never touches the user's things: settings, passwords, thumbnails, logs, network."""

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest


@pytest.fixture
def user_home(tmp_path, monkeypatch):
    """A user's folders as platformdirs finds them (XDG), with nothing meteorgui-specific
    set: where a real user's settings and passwords would go."""
    home = tmp_path / "home"
    env = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_STATE_HOME": home / ".local" / "state",
    }
    for name, path in env.items():
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(path))
    for name in ("METEORGUI_CONFIG_DIR", "METEORGUI_DATA_DIR", "METEORGUI_KEYRING"):
        monkeypatch.delenv(name, raising=False)
    # No keyring here either way; without the demo's own store the passwords would go to
    # the user's config folder, where this test looks.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return home, temp


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_demo_settings_and_export_passwords_stay_in_its_folder(user_home, tmp_path):
    home, temp = user_home
    out = tmp_path / "seen.json"
    driver = Path(__file__).with_name("demo_settings_driver.py")
    env = os.environ | {"QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).parent.parent), env.get("PYTHONPATH", "")]
    )
    done = subprocess.run(
        [sys.executable, str(driver), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    seen = json.loads(out.read_text())
    demo_dir = Path(seen["demo_dir"])
    assert seen["exit"] == 0
    assert seen["host"] == "127.0.0.1"  # the demo's importer: this computer only
    assert seen["saved"] == 77
    assert Path(seen["settings_path"]).is_relative_to(demo_dir)
    assert seen["password"] == "a-secret-password"
    assert str(demo_dir) in seen["secret_store"]
    assert "config/settings.yaml" in seen["files_in_demo"]
    assert "config/export-passwords.json" in seen["files_in_demo"]
    assert any(f.startswith("logs/") for f in seen["files_in_demo"])
    # Nothing of it in the user's folders, and the demo's folder is gone.
    assert _files(home) == []
    assert not demo_dir.exists()
    assert _files(temp) == []


def test_demo_process_listens_on_this_computer_only_and_leaves_home_untouched(user_home, qtbot):
    from .test_gui_app import _demo_dirs, start_demo

    home, temp = user_home
    qt = os.environ.get("QT_QPA_PLATFORM", "offscreen")
    p = start_demo(qtbot, temp, QT_QPA_PLATFORM=qt)
    try:
        listening = [
            c.laddr.ip
            for c in psutil.Process(p.pid).net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN
        ]
        assert listening and all(ip.startswith("127.") for ip in listening), listening
        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 0
    finally:
        p.kill()
        _, err = p.communicate()
    assert "Traceback" not in err, err
    assert _files(home) == []
    assert _demo_dirs(temp) == []
