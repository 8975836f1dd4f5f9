"""Resources come from the installed package meteorgui.assets; a missing one is one line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from meteorgui import resources
from meteorgui.core import Core
from meteorgui.simulate import night

from .factories import wait_for


def test_resources_are_found_through_the_package():
    import meteorgui.assets

    folder = Path(meteorgui.assets.__file__).parent
    assert resources.resource_path("icons", "play.svg") == folder / "icons" / "play.svg"
    assert resources.missing() == []
    assert resources.require("icons", "meteorgui.svg").read_bytes().startswith(b"<svg")
    assert all(p.read_bytes()[4:8] == b"ftyp" for p in resources.demo_clip_paths())


def test_a_missing_resource_names_itself(monkeypatch, tmp_path):
    monkeypatch.setattr(resources, "_root", lambda: tmp_path)
    for parts in resources.REQUIRED:
        if parts != ("icons", "play.svg"):
            tmp_path.joinpath(*parts).parent.mkdir(exist_ok=True)
            tmp_path.joinpath(*parts).write_text("made for the test")
    problems = resources.missing()
    assert len(problems) == 1 and "\n" not in problems[0]
    assert "icons/play.svg is missing" in problems[0] and "reinstall" in problems[0]
    with pytest.raises(resources.MissingResource, match="demo clips"):
        resources.demo_clip_paths()


def test_resources_not_installed_at_all_is_one_line(monkeypatch):
    monkeypatch.setattr(resources, "PACKAGE", "meteorgui.no_such_assets")
    problems = resources.missing()
    assert problems == [
        "meteorgui's resources (meteorgui.no_such_assets) are not installed: reinstall meteorgui"
    ]


def test_the_demo_camera_says_why_it_stopped(tmp_path, monkeypatch, caplog):
    from meteorgui.simulate.demo import DemoCamera

    def no_clips():
        raise resources.MissingResource("meteorgui's demo clips are missing from /x: reinstall")

    monkeypatch.setattr(night, "demo_clips", no_clips)
    core = Core(tmp_path / "data")
    try:
        server = core.start_importer("127.0.0.1", 0)
        said: list[str] = []
        camera = DemoCamera(core.archive, server.url, events=2, timelapse=0, on_failure=said.append)
        with caplog.at_level(logging.ERROR):
            camera.start()
            wait_for(lambda: said, timeout=30, what="the demo camera's failure")
        camera.stop()
        assert said == [
            "the demo camera stopped: meteorgui's demo clips are missing from /x: reinstall"
        ]
        assert camera.failure == said[0]
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == said
    finally:
        core.close()


def test_a_problem_stays_in_the_status_bar(gui, qtbot):
    window = gui.window
    window.show_problem("meteorgui's resource icons/play.svg is missing")
    window.show_problem("the demo camera stopped: no clips")
    qtbot.waitUntil(lambda: window.problem_label.isVisible())
    assert window.problem_label.text() == "the demo camera stopped: no clips"
    assert window.problem_label.toolTip() == (
        "meteorgui's resource icons/play.svg is missing\nthe demo camera stopped: no clips"
    )
