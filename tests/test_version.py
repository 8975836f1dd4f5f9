"""One version number, from pyproject.toml, wherever meteorgui shows it."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from meteorgui import __version__
from meteorgui.exporter.client import ImportClient

from .factories import run_cli
from .wsgi_server import serving

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_version_is_the_one_in_pyproject():
    wanted = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    assert __version__ == wanted == importlib.metadata.version("meteorgui")


def test_version_option(capsys, monkeypatch):
    try:
        run_cli(capsys, monkeypatch, "--version")
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out == f"meteorgui {__version__}\n"


def test_the_exporter_names_the_version_in_its_user_agent():
    seen = []

    def app(environ, start_response):
        seen.append(environ.get("HTTP_USER_AGENT"))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"state": "continue-nocache"}']

    with serving(app, "/import") as url, ImportClient(url, "camera", "pw") as client:
        client.check()
    assert seen and set(seen) == {f"meteorgui/{__version__} (MeteorPi import protocol)"}


def test_help_about_shows_the_version(gui, qtbot):
    shown = []

    def read_and_close():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            shown.append(box.text())
            box.accept()
        else:
            QTimer.singleShot(20, read_and_close)

    QTimer.singleShot(0, read_and_close)
    gui.window.show_about()
    assert shown and f"meteorgui {__version__}" in shown[0]
