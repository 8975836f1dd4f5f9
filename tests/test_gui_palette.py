"""The palette follows the system: views paint with the dark palette's colours under a
dark colour scheme (or, where the desktop names no scheme, a dark application palette)
and go back to the light ones when it turns light, while the app runs."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtGui import QColor

from meteorgui.gui.common import style

from .palettes import dark_scheme

ROOT = Path(__file__).resolve().parent.parent


def test_views_paint_with_the_palette_the_system_asks_for(qapp, qtbot):
    from meteorgui.gui.detail.panels import FileInfoPanel
    from meteorgui.gui.export.progress import FAILED, STATE_COLOUR

    style.follow_colour_scheme()
    panel = FileInfoPanel()
    qtbot.addWidget(panel)
    with dark_scheme(qtbot) as light:
        assert style.ERROR == style.DARK.error != style.LIGHT.error
        assert QColor(style.colour(STATE_COLOUR[FAILED])) == QColor(style.DARK.error)
        panel.set_state("missing")
        assert style.DARK.error in panel.panel.text("state")
        # It turns light while the app runs: what is painted next is light again.
        light()
        qtbot.waitUntil(lambda: style.palette() is style.LIGHT)
        panel.set_state("missing")
        assert style.LIGHT.error in panel.panel.text("state")


def test_no_view_copies_a_palette_colour_at_import():
    # A colour read into a module constant would stay light under a dark scheme.
    frozen = re.compile(r"^\w.*style\.(palette\(\)|colour\(|[A-Z]+\b)")
    named = re.compile(r"style\.(LIGHT|DARK)\b")
    fixed = re.compile(  # the same in either theme
        r"style\.(CHART|SERIES|SHOWER_SERIES|SHOWER_FIXED|SPORADIC|GROUP_BADGE|LABEL_COLOURS)\b"
    )
    found = []
    for path in sorted((ROOT / "meteorgui" / "gui").rglob("*.py")):
        if path.name == "style.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if named.search(line) or (frozen.search(line) and not fixed.search(line)):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == []


def test_following_the_palette_runs_no_python_for_other_events(qapp):
    """An application-wide Python event filter takes the GIL for every event the GUI thread
    delivers (waiting for it while the importer's threads hold it): the palette is followed
    through signals instead."""
    from PySide6.QtCore import QObject

    from .pythoncalls import python_run_for_events

    style.follow_colour_scheme()
    calls = python_run_for_events(QObject())
    assert calls == []
