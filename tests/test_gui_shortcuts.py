"""Keyboard shortcuts on a real X server: none bound twice, Ctrl+Q quits, Help lists them."""

import shutil
import subprocess
from collections import defaultdict

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication

from .conftest import on_x11

PORTABLE = QKeySequence.SequenceFormat.PortableText


def _bindings(window):
    """(sequence, owner, context, widgets) for every QAction and QShortcut of the app."""
    out = []
    objs = set()
    for top in [window, *QApplication.topLevelWidgets()]:
        for obj in [*top.findChildren(QAction), *top.findChildren(QShortcut)]:
            if id(obj) in objs:
                continue
            objs.add(id(obj))
            if isinstance(obj, QAction):
                seqs = obj.shortcuts()
                widgets = {id(w) for w in obj.associatedObjects()}
            else:
                seqs = [obj.key()]
                widgets = {id(obj.parent())}
            for seq in seqs:
                if not seq.isEmpty():
                    out.append((seq.toString(PORTABLE), obj, obj.shortcutContext(), widgets))
    return out


def test_no_key_sequence_is_bound_twice(gui, qtbot):
    bindings = _bindings(gui.window)
    assert len(bindings) >= 15  # quit, undo, redo, review keys, views, export…
    by_key = defaultdict(list)
    for seq, owner, context, widgets in bindings:
        by_key[seq].append((owner, context, widgets))
    conflicts = []
    for seq, owners in by_key.items():
        for i, (a, ca, wa) in enumerate(owners):
            for b, cb, wb in owners[i + 1 :]:
                local = ca == cb == Qt.ShortcutContext.WidgetShortcut and not (wa & wb)
                if a is b or not local:  # the same action twice, or two that can both fire
                    conflicts.append((seq, a.text() if isinstance(a, QAction) else a, b))
    assert conflicts == []


@pytest.mark.skipif(not on_x11(), reason="needs a real X server (Xvfb)")
def test_the_platform_quit_key_is_ctrl_q_once(gui):
    # On X11 the standard Quit key is Ctrl+Q: the reason it was bound twice before.
    assert "Ctrl+Q" in [
        s.toString(PORTABLE) for s in QKeySequence.keyBindings(QKeySequence.StandardKey.Quit)
    ]
    keys = [s.toString(PORTABLE) for s in gui.window.act_quit.shortcuts()]
    assert keys.count("Ctrl+Q") == 1


@pytest.mark.skipif(
    not on_x11() or shutil.which("xdotool") is None, reason="needs Xvfb and xdotool"
)
def test_a_real_ctrl_q_from_the_x_server_quits(gui, qtbot):
    window = gui.window
    # XTest: the key goes through the X server and Qt's xcb input, as a keyboard's would.
    xdotool = subprocess.Popen(["xdotool", "key", "--clearmodifiers", "ctrl+q"])
    try:
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    finally:
        assert xdotool.wait(10) == 0
    assert not gui.core.importer_running


def test_help_lists_every_shortcut(gui, qtbot):
    from meteorgui.gui.common.shortcuts import ShortcutsDialog, keys_text

    window = gui.window
    assert window.act_keys in window.menuBar().actions()[-1].menu().actions()
    dlg = ShortcutsDialog(window)
    qtbot.addWidget(dlg)
    rows = dlg.rows()
    listed = {(keys, what) for keys, what, _where in rows}
    for seq, owner, _c, _w in _bindings(window):
        if isinstance(owner, QAction):
            from meteorgui.gui.common.shortcuts import plain

            assert (keys_text(owner), plain(owner.text())) in listed, seq
    # A few a user looks for, by name.
    names = {what: keys for keys, what, _where in rows}
    assert names["Quit"].startswith("Ctrl+Q")
    assert names["Meteor"] == "Return, Enter"
    assert names["Undo"].startswith("Ctrl+Z")
    assert "F14" not in names["Undo"]  # X11's standard Undo adds F14: few keyboards have it
    assert names["Review layout"] == "R"
    assert names["Next video frame"] == "."
    assert names["Table"] == "Ctrl+2"
    assert names["Find"].startswith("Ctrl+F")
    # What a review key does besides marking: a stranger was surprised by it.
    assert "moves on to the next one" in dlg.note.text()


@pytest.mark.skipif(
    not on_x11() or shutil.which("xdotool") is None, reason="needs Xvfb and xdotool"
)
def test_the_export_menu_and_ctrl_e_are_there_before_the_rest_of_the_window(qtbot, tmp_path):
    """The window's first paint comes before its export part is built: the Export menu is
    in the menu bar all the same, and a real Ctrl+E at that moment opens Export…."""
    from meteorgui.gui.startup import build, close
    from meteorgui.settings import Settings

    from .conftest import activate

    settings = Settings(host="127.0.0.1", port=0, importer_autostart=False)
    ctx, window = build(tmp_path / "data", settings, defer=True)  # as the app builds it
    qtbot.addWidget(window)
    try:
        window.show()
        activate(qtbot, window)
        assert window.export_ui is None  # the rest of the window is not built yet
        titles = [a.text() for a in window.menuBar().actions()]
        assert titles.index("E&xport") == titles.index("&View") - 1
        assert window.act_export in window.export_menu.actions()
        xdotool = subprocess.Popen(["xdotool", "key", "--clearmodifiers", "ctrl+e"])
        try:
            qtbot.waitUntil(
                lambda: (
                    window.export_ui is not None
                    and window.export_ui.export_dialog is not None
                    and window.export_ui.export_dialog.isVisible()
                ),
                timeout=10_000,
            )
        finally:
            assert xdotool.wait(10) == 0
        window.export_ui.export_dialog.reject()
        # Built once: the menu keeps its actions, not a second set.
        assert [a.text() for a in window.export_menu.actions()].count("Export to a server…") == 1
    finally:
        window.close()
        close(ctx)


@pytest.mark.skipif(
    not on_x11() or shutil.which("xdotool") is None, reason="needs Xvfb and xdotool"
)
def test_real_ctrl_f_goes_to_the_search_and_ctrl_2_works_wherever_the_focus_is(gui, qtbot):
    """Ctrl+F puts the focus in the search box, so typed words search instead of reaching
    the event list's review keys; the View menu's Ctrl+1 / Ctrl+2 work from the docks too."""
    from meteorgui.gui.browser.widget import GRID, TABLE

    from .conftest import activate

    window, browser = gui.window, gui.window.browser
    qtbot.waitUntil(lambda: window.log_view is not None, timeout=10_000)
    window.show()
    activate(qtbot, window)
    box = browser.filters.text
    box.setText("old words")
    browser.grid.setFocus()
    qtbot.waitUntil(browser.grid.hasFocus)

    def keys(*args: str) -> None:  # through the X server, as a keyboard's
        assert subprocess.run(["xdotool", *args], timeout=10).returncode == 0

    keys("key", "--clearmodifiers", "ctrl+f")
    qtbot.waitUntil(box.hasFocus, timeout=5000)
    assert box.selectedText() == "old words"  # typing replaces what was there
    keys("type", "--delay", "20", "fireball")
    qtbot.waitUntil(lambda: box.text() == "fireball", timeout=5000)
    assert browser.undo_stack.count() == 0  # no letter reached the review keys
    qtbot.waitUntil(lambda: not browser.filters._debounce.isActive(), timeout=5000)  # searched

    window.log_dock.show()
    window.log_dock.raise_()
    window.log_view.setFocus()
    qtbot.waitUntil(window.log_view.hasFocus, timeout=5000)
    assert browser.view() == GRID
    keys("key", "--clearmodifiers", "ctrl+2")
    qtbot.waitUntil(lambda: browser.view() == TABLE, timeout=5000)
    keys("key", "--clearmodifiers", "ctrl+1")
    qtbot.waitUntil(lambda: browser.view() == GRID, timeout=5000)
