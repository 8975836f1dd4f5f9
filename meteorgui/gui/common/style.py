"""How the GUI looks: its named colours (light and dark), and text made safe for rich text.

Every colour the GUI paints with is named here, once; a view says what a colour means
(``style.ERROR``, ``style.OK``, ``palette().sky``) and never spells a hex code. The active
palette, ``LIGHT`` or ``DARK``, follows the system's colour scheme
(``QStyleHints.colorScheme``, or the window colour where the system does not say):
``follow_colour_scheme()`` is called once the application exists. Views read colours
when they paint or build a widget, never into constants at import, so they take the
active palette's.

Text a camera controls is escaped with ``common.text.escape`` where a label mixes it with
markup.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Palette:
    ok: str  # complete, verified, present
    error: str  # failed, missing, refused
    warning: str  # waiting, backing off, needs attention
    attention: str  # a camera must send bytes again (needs data, damaged)
    active: str  # sending, running, receiving
    notice: str  # needs a status
    resend: str  # a resend was requested
    muted: str  # idle, queued, not reviewed, secondary text
    text_on_light: str  # text on a coloured badge
    note_bg: str  # a note banner
    note_fg: str
    note_border: str
    warning_bg: str  # a row that needs attention
    error_bg: str  # a row in error
    viewer_bg: str  # behind images and video
    sky: str  # behind a thumbnail (the night sky)
    strip_bg: str  # the filmstrip
    strip_fg: str
    strip_selected: str
    strip_hover: str
    placeholder_still: str  # a thumbnail not decoded yet
    placeholder_video: str
    highlight: str  # an event just arrived
    glow: str  # the glow around a bright meteor's tile
    exported: str  # the badge of an exported event
    region: str  # a camera's sky regions over its image


LIGHT = Palette(
    ok="#1b7f3b",
    error="#b3261e",
    warning="#8a5200",
    attention="#b86e00",
    active="#1f6fb2",
    notice="#7a5bb8",
    resend="#8a3f9c",
    muted="#6b7480",
    text_on_light="#202020",
    note_bg="#fff4d6",
    note_fg="#5c4400",
    note_border="#e8c66a",
    warning_bg="#fff1d6",
    error_bg="#fde3e1",
    viewer_bg="#15181e",
    sky="#0d1119",
    strip_bg="#20242c",
    strip_fg="#d8dde6",
    strip_selected="#3d6fb6",
    strip_hover="#2c323d",
    placeholder_still="#e4e7ec",
    placeholder_video="#1d2330",
    highlight="#ffc43d",
    glow="#ffbe32",
    exported="#1f6fb2",
    region="#50dc78",
)

DARK = Palette(
    ok="#5cc57f",
    error="#f07a70",
    warning="#e0a94a",
    attention="#f0a040",
    active="#6aa8e8",
    notice="#a98de0",
    resend="#d08ae0",
    muted="#9aa3b0",
    text_on_light="#202020",
    note_bg="#3d3320",
    note_fg="#f2deb0",
    note_border="#7a6430",
    warning_bg="#4a3a1a",
    error_bg="#4a2422",
    viewer_bg="#0b0d11",
    sky="#0d1119",
    strip_bg="#15181e",
    strip_fg="#d8dde6",
    strip_selected="#3d6fb6",
    strip_hover="#262b34",
    placeholder_still="#2a2f38",
    placeholder_video="#1d2330",
    highlight="#ffc43d",
    glow="#ffbe32",
    exported="#4a90d0",
    region="#50dc78",
)

# Review labels, by stored name: chips in the browser, the filmstrip, the night summary.
LABEL_COLOURS = {
    "meteor": "#2f9e5a",
    "plane": "#3a78d0",
    "satellite": "#8858cf",
    "bird": "#a8742a",
    "lightning": "#d1a115",
    "other": "#6b7480",
    "rejected": "#c23b30",
}

# Series of a chart (one per camera), told apart in either theme.
SERIES = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7")


_active = LIGHT
_following: set[int] = set()  # the applications whose colour scheme is followed
_listeners: list[weakref.WeakMethod] = []  # called after the active palette changed


def when_changed(method: Callable[[], object]) -> None:
    """Call the bound ``method`` each time the active palette changes, after views are
    told to repaint: for what holds colours of its own (cells written once). Held weakly:
    it goes with its object."""
    _listeners.append(weakref.WeakMethod(method))


def palette() -> Palette:
    """The active palette: what every view paints with."""
    return _active


def chosen() -> Palette:
    """The palette for the system's colour scheme: DARK for a dark scheme; where the
    system does not say (no desktop, an X server alone), DARK on a dark window colour."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return LIGHT
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return DARK
    if scheme == Qt.ColorScheme.Light:
        return LIGHT
    window = app.palette().color(QPalette.ColorRole.Window)
    return DARK if window.lightness() < 128 else LIGHT


def follow_colour_scheme(watch: bool = True) -> None:
    """Take the palette of the system's colour scheme now and (``watch``) whenever it
    changes, or the application's palette does (a desktop that has no scheme to tell
    changes the palette instead); the open windows are repainted with it.

    The app takes the palette before building its window and watches from its first
    page on; a change in between is seen when the watch starts."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    _scheme_changed()
    if not watch or id(app) in _following:
        return
    _following.add(id(app))
    # A signal, not an application-wide event filter: a Python filter would take the GIL for
    # every event of the GUI thread, and wait for it while the importer's threads hold it.
    app.paletteChanged.connect(_scheme_changed)
    app.styleHints().colorSchemeChanged.connect(_scheme_changed)


def _scheme_changed(*_args) -> None:
    global _active
    from PySide6.QtWidgets import QApplication

    chosen_now = chosen()
    if chosen_now is _active:
        return
    _active = chosen_now
    for widget in QApplication.allWidgets():
        widget.update()
    for ref in list(_listeners):
        method = ref()
        try:
            if method is not None:
                method()
                continue
        except RuntimeError:  # its Qt object was deleted before the Python one
            pass
        _listeners.remove(ref)


def names() -> list[str]:
    return [f.name for f in fields(Palette)]


# Colours views name by what they mean, read from the active palette when used
# (``style.ERROR``): a module attribute looked up at each use, never a copy.
_BY_MEANING = {
    "OK": "ok", "ERROR": "error", "WARNING": "warning", "ATTENTION": "attention",
    "ACTIVE": "active", "NOTICE": "notice", "RESEND": "resend", "MUTED": "muted",
}  # fmt: skip


def __getattr__(name: str) -> str:
    if name in _BY_MEANING:
        return getattr(_active, _BY_MEANING[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def colour(meaning: str) -> str:
    """The active palette's colour for a field name (``"ok"``), for tables of states."""
    return getattr(_active, meaning)


# Showers keep one colour everywhere (tile pill, sky chart, night summary); sporadics are grey.
SPORADIC = "#6b7280"
GROUP_BADGE = (14, 116, 144, 235)  # "seen by N cameras": (r, g, b, alpha)
SHOWER_SERIES = ("#7c3aed", "#c2410c", "#0f766e", "#be185d", "#4d7c0f", "#1d4ed8", "#a16207")
SHOWER_FIXED = {"PER": "#7c3aed", "GEM": "#1d4ed8", "QUA": "#0f766e", "ORI": "#c2410c"}

# The sky chart is a night sky in either theme: (r, g, b[, alpha]).
CHART = {
    "background": (11, 18, 32),
    "grid": (120, 140, 180, 70),
    "horizon": (150, 170, 210, 200),
    "figures": (96, 140, 200, 110),
    "star": (235, 240, 255),
    "frame": (250, 204, 21, 210),  # the camera's field
    "region": (80, 220, 120, 38),  # sky regions, as the image viewer draws them
    "region_edge": (80, 220, 120, 120),
    "path": (255, 110, 64),
    "label": (200, 210, 230),
    "label_on_light": (55, 65, 81),
    "no_still": (156, 163, 175),
}
