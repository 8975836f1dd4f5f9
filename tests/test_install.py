"""The wheel, installed as a user installs it: a fresh venv, away from the checkout.

Builds the wheel from this repository, installs it with its dependencies into a new
virtual environment (pip's cache makes that quick), and runs the installed program:
the demo archives events offscreen, `simulate` pushes a night into `serve`, and a
resource removed from the installation is one clear line, not a dying thread.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "night-sky-42"

pytestmark = pytest.mark.slow


def _run(cmd, *, timeout=120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel path, venv bin folder, a clean environment for the installed program)."""
    tmp = tmp_path_factory.mktemp("install")
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT), "-w", str(tmp)],
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp.glob("meteorgui-*.whl")
    made = _run([sys.executable, "-m", "venv", str(tmp / "venv")])
    assert made.returncode == 0, made.stderr
    bin_dir = tmp / "venv" / ("Scripts" if os.name == "nt" else "bin")
    pip = _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], timeout=600)
    assert pip.returncode == 0, pip.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env |= {
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONUNBUFFERED": "1",
        "METEORGUI_CONFIG_DIR": str(tmp / "config"),
        "METEORGUI_DATA_DIR": str(tmp / "default-data"),
        "METEORGUI_KEYRING": "file",
    }
    return wheel, bin_dir, env, tmp


def _resources_in_tree() -> set[str]:
    """Every file the program may read at run time: all of resources/ but its scripts."""
    folder = ROOT / "resources"
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts
    }


def test_the_wheel_holds_every_resource(installed):
    wheel = installed[0]
    names = set(zipfile.ZipFile(wheel).namelist())
    packaged = {n.removeprefix("meteorgui/assets/") for n in names if "/assets/" in n}
    wanted = _resources_in_tree()
    assert wanted and wanted <= packaged, sorted(wanted - packaged)
    assert any(n.endswith(".mp4") for n in wanted) and "icons/meteorgui.svg" in wanted


def test_the_installed_program_reads_its_own_resources_and_version(installed):
    _, bin_dir, env, tmp = installed
    where = _run(
        [
            str(bin_dir / "python"),
            "-c",
            "import meteorgui.resources as r; print(r.resource_path()); print(r.missing())",
        ],
        cwd=tmp,
        env=env,
    )
    folder, problems = where.stdout.splitlines()
    assert Path(folder).is_relative_to(tmp / "venv") and problems == "[]", where.stdout
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    out = _run([str(bin_dir / "meteorgui"), "--version"], cwd=tmp, env=env)
    assert out.stdout.strip() == f"meteorgui {version}"


def test_the_installed_demo_archives_events(installed):
    _, bin_dir, env, tmp = installed
    start = time.monotonic()
    demo = _run([str(bin_dir / "meteorgui"), "--demo", "--demo-exit-after", "3"], cwd=tmp, env=env)
    assert demo.returncode == 0, demo.stderr
    assert "demo: event 3 archived" in demo.stdout, demo.stdout + demo.stderr
    first = re.search(r"event 1 archived after ([\d.]+) s", demo.stdout)
    print(
        f"installed wheel: first demo event {first[1]} s after the window, "
        f"{time.monotonic() - start:.1f} s for 3 events from launch"
    )
    assert "Traceback" not in demo.stderr


def test_simulate_pushes_a_night_into_the_installed_serve(installed):
    _, bin_dir, env, tmp = installed
    exe = str(bin_dir / "meteorgui")
    data = str(tmp / "serve-data")
    add = _run([exe, "--data-dir", data, "user", "add", "camera"], input=PASSWORD + "\n", env=env)
    assert add.returncode == 0, add.stderr
    serve = subprocess.Popen(
        [exe, "--data-dir", data, "serve", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp,
    )
    try:
        url = None
        while url is None:
            line = serve.stdout.readline()
            assert line, serve.stderr.read()
            found = re.search(r"listening on (http://\S+)", line)
            url = found and found[1]
        pushed = _run(
            [exe, "simulate", "--to", url, "--user", "camera", "--events", "4", "--timelapse", "3"],
            input=PASSWORD + "\n",
            env=env,
        )
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(30) == 0
    finally:
        serve.kill()
        serve.communicate()
    events = _run([exe, "--data-dir", data, "events", "--json"], env=env)
    assert events.returncode == 0 and len(json.loads(events.stdout)) == 4, events.stdout
    log = (Path(data) / "logs" / "meteorgui.log").read_text().splitlines()
    assert "meteorgui " + _run([exe, "--version"], env=env).stdout.split()[1] in log[0]


def test_a_resource_missing_from_the_installation_is_one_clear_line(installed):
    """Run last: it damages the installation on purpose."""
    _, bin_dir, env, tmp = installed
    where = _run(
        [str(bin_dir / "python"), "-c", "import meteorgui.assets as a; print(a.__file__)"],
        env=env,
        cwd=tmp,
    )
    assets = Path(where.stdout.strip()).parent
    for clip in (assets / "demo").glob("*.mp4"):
        clip.unlink()
    (assets / "icons" / "play.svg").unlink()
    demo = _run([str(bin_dir / "meteorgui"), "--demo", "--demo-exit-after", "1"], cwd=tmp, env=env)
    assert demo.returncode == 1, demo.stdout + demo.stderr
    errors = [line for line in demo.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 2, demo.stderr
    assert "icons/play.svg is missing" in errors[0]
    assert "demo camera stopped" in errors[1] and "demo clips" in errors[1]
    assert "Traceback" not in demo.stderr and "archived" not in demo.stdout
