"""Text from a camera or an export target is shown as plain text in every view.

A camera naming itself ``Roof <img src="/dev/zero">`` made Qt read /dev/zero as an image
(std::bad_alloc, the app gone). Here every string a camera controls holds an image tag
(pointing at a harmless missing file, so that a regression fails the test instead of
eating the machine's memory), and every view of it is opened: the detail pane, the
filmstrip's tooltips, the time-lapse strip, the camera table, the import log, the export
progress, verify and resend. Every label that shows such text must show it literally
(plain text, or rich text with the tag escaped), and so must every tooltip.
"""

from __future__ import annotations

import ast
import html
import re

import flask
import pytest
import requests
from PySide6 import QtGui
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLabel, QToolTip, QWidget

from meteorgui.gui.tools.resend import ResendDialog
from meteorgui.gui.tools.verify import VerifyDialog

from . import factories as fx
from .conftest import CAMERA_USER
from .wsgi_server import serving

WAIT = 15_000
OWN_MARKUP = re.compile(r"<(span|a href|b>|p>|br>)")  # the app's rich labels, made plain


@pytest.fixture
def tag(tmp_path):
    return f'<img src="{tmp_path}/probe.png">'


def hostile_night(tag: str):
    h = f"Roof {tag} end"
    st = fx.status(inst_name=h, lens=h, sensor=h, inst_url=h)
    pack = fx.event_pack(st)
    event = fx.Event.from_dict(
        {
            **pack.entity.to_dict(),
            "event_type": f"meteorpi:{h}",
            "files": [
                dict(f.to_dict(), file_name=f"{h}.png", semantic_type=f"meteorpi:{h}/{i}")
                for i, f in enumerate(pack.entity.files)
            ],
            "meta": [{"type": "string", "key": f"meteorpi:{h}", "value": h}],
        }
    )
    pack.entity = event
    still = fx.file_pack(st)
    still.entity = fx.FileRecord.from_dict(
        dict(still.entity.to_dict(), file_name=h, semantic_type=f"meteorpi:timelapse/{h}")
    )
    return st, pack, still


def _looks_rich(label: QLabel) -> bool:
    fmt = label.textFormat()
    return fmt == Qt.TextFormat.RichText or (
        fmt == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(label.text())
    )


def label_leaks(tag: str) -> tuple[list[str], int]:
    """Labels that would render the tag as an image; and how many labels show it at all."""
    leaks, showing = [], 0
    for top in QApplication.topLevelWidgets():
        for label in (
            [top, *top.findChildren(QLabel)]
            if isinstance(top, QLabel)
            else (top.findChildren(QLabel))
        ):
            text = label.text()
            if tag in text and _looks_rich(label):
                leaks.append(f"{type(label.parent()).__name__}: {text[:80]!r}")
            if label.textFormat() == Qt.TextFormat.PlainText and OWN_MARKUP.search(text):
                leaks.append(f"shows its own markup: {text[:80]!r}")
            if tag in text or QtGui.Qt.convertFromPlainText(tag) in text:
                showing += 1
            elif "&lt;img" in text:
                showing += 1
    return leaks, showing


def tooltip_shown(widget: QWidget, pos: QPoint) -> str:
    QToolTip.hideText()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, widget.mapToGlobal(pos))
    QApplication.sendEvent(widget, event)
    return QToolTip.text()


def carries(tip: str, tag: str) -> bool:
    """The tooltip quotes the tag, as it is or escaped to be shown literally."""
    return tag in tip or html.escape(tag, quote=True) in tip


def tooltip_leaks(tag: str) -> tuple[list[str], int]:
    """Tooltips with the tag in them, as the application shows them."""
    leaks, checked = [], 0
    for top in QApplication.topLevelWidgets():
        if not top.isVisible():
            continue
        for view in top.findChildren(QAbstractItemView):
            model = view.model()
            if model is None or not view.isVisible():
                continue
            root = view.rootIndex()
            try:
                columns = model.columnCount(root)
            except TypeError:  # a list model keeps it private: one column
                columns = 1
            for row in range(min(model.rowCount(root), 40)):
                for col in range(columns):
                    index = model.index(row, col, root)
                    tip = index.data(Qt.ItemDataRole.ToolTipRole)
                    if not isinstance(tip, str) or not carries(tip, tag):
                        continue
                    rect = view.visualRect(index)
                    if rect.isEmpty():
                        continue
                    shown = tooltip_shown(view.viewport(), rect.center())
                    checked += 1
                    if tag in shown and QtGui.Qt.mightBeRichText(shown):
                        leaks.append(f"{type(view).__name__}[{row},{col}]: {shown[:80]!r}")
        for widget in top.findChildren(QWidget):
            if carries(widget.toolTip(), tag) and widget.isVisible():
                shown = tooltip_shown(widget, widget.rect().center())
                checked += 1
                if tag in shown and QtGui.Qt.mightBeRichText(shown):
                    leaks.append(f"{type(widget).__name__}: {shown[:80]!r}")
    QToolTip.hideText()
    return leaks, checked


def failing_target(message: str) -> flask.Flask:
    app = flask.Flask("refusing-target")

    @app.post("/import")
    def refuse():
        return flask.jsonify({"state": "failed", "message": message})

    return app


def test_camera_and_target_text_is_shown_literally_everywhere(gui, qtbot, tag):
    window = gui.window
    st, pack, still = hostile_night(tag)
    node = fx.Node(gui.core.server.url, *CAMERA_USER)
    try:
        assert node.send(pack) == {"state": "complete"}
        assert node.send(still) == {"state": "complete"}
    finally:
        node.close()
    # A stranger whose user name is the tag: it shows in the monitor's refused logins.
    requests.post(gui.core.server.url, json={}, auth=(f"x{tag}"[:64], "pw"), timeout=30)

    # The browser, its time-lapse strip and the detail pane of the event.
    browser = window.browser
    qtbot.waitUntil(
        lambda: browser.model.rowCount() == 1 and browser.strip_model.rowCount() == 1,
        timeout=WAIT,
    )
    window.detail.show_event(pack.entity.event_id)
    qtbot.waitUntil(
        lambda: window.detail.info is not None and window.detail.filmstrip.count() == 3,
        timeout=WAIT,
    )
    for row in range(3):  # each file of the event: its name, types and state
        window.detail.filmstrip.setCurrentRow(row)
        qtbot.wait(50)
    # The camera table and the import log.
    health = window.monitor.health
    qtbot.waitUntil(lambda: any(tag[:20] in w for w in health.warnings), timeout=WAIT)
    qtbot.waitUntil(lambda: health.model.rowCount() >= 2, timeout=WAIT)

    # Export to a target that refuses with the tag in its message.
    from .test_gui_export import add_target, export_from_dialog, round_over

    ui = window.export_ui
    with serving(failing_target(f"Refused: {tag}"), "/import") as url:
        target = add_target(ui, qtbot, "central", url, "u", "pw")
        ui.targets_dialog.close()
        browser.grid.selectAll()
        export_from_dialog(ui, qtbot, target)
        qtbot.waitUntil(round_over(ui, target), timeout=WAIT)
    assert any(tag in e.message for e in ui.view.model.entries())
    ui.dock.show()

    # Verify (a damaged file named with the tag) and resend.
    damaged = pack.entity.files[0]
    gui.archive.file_path(damaged).write_bytes(b"damaged")
    verify = VerifyDialog(gui, window, autostart=False)
    qtbot.addWidget(verify)
    verify.show()
    with qtbot.waitSignal(verify.finishedChecks, timeout=WAIT):
        verify.start()
    resend = ResendDialog(gui, [pack.entity.event_id, still.entity.file_id], window)
    qtbot.addWidget(resend)
    resend.show()
    qtbot.wait(200)

    leaks, showing = label_leaks(tag)
    assert leaks == []
    assert showing >= 5  # the detail pane's camera fields and file name, at least
    leaks, checked = tooltip_leaks(tag)
    assert leaks == []
    assert checked >= 12  # filmstrip, strip, camera table, export progress, verify...


def test_a_desktop_notification_carries_no_markup_from_a_camera():
    """The notification is shown by another program, which may read markup and images."""
    from collections import Counter

    from meteorgui.gui.tools.notifications import message

    title, body = message(Counter({"cam1": 2}), {"cam1": 'Roof <img src="/dev/zero"> & co'})
    assert body == '2 new events from Roof ‹img src="/dev/zero"› ＆ co'
    assert not set("<>&") & set(title + body)


TIP_ROLE = re.compile(r"\brole\b.*(ToolTipRole|_TOOLTIP)")  # a model's branch for the role


def _tip_sites(source: str) -> list[tuple[int, ast.expr]]:
    """(line, value) of every tooltip the source sets: ``setToolTip``, an item's
    ToolTipRole data, ``QToolTip.showText``, and what a model returns for ToolTipRole."""
    sites = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name, args = node.func.attr, node.args
            if name == "setToolTip" and args:
                sites.append((node.lineno, args[-1]))
            elif name in ("setItemData", "setData") and len(args) >= 2:
                if "ToolTipRole" in ast.unparse(args[-1]) or "_TOOLTIP" in ast.unparse(args[-1]):
                    sites.append((node.lineno, args[-2]))
            elif name == "showText" and len(args) >= 2:
                sites.append((node.lineno, args[1]))
        elif isinstance(node, ast.If) and TIP_ROLE.search(ast.unparse(node.test)):
            for inner in node.body:
                for ret in ast.walk(inner):
                    if isinstance(ret, ast.Return) and ret.value is not None:
                        sites.append((ret.lineno, ret.value))
    return sites


def _made_plain(value: ast.expr) -> bool:
    """A literal, a value made with plain_tip, or a widget's tooltip (already made so)."""
    if isinstance(value, ast.Constant):
        return value.value is None or isinstance(value.value, str)
    if isinstance(value, ast.IfExp):
        return _made_plain(value.body) and _made_plain(value.orelse)
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        return name in ("plain_tip", "toolTip")
    return False


def test_every_tooltip_set_from_a_value_is_made_plain_where_it_is_set():
    """No application-wide filter escapes tooltips as they are shown (it ran Python for
    every event of the GUI thread): each one is made plain where the app sets it."""
    from pathlib import Path

    import meteorgui.gui

    root = Path(meteorgui.gui.__file__).parent
    unsafe, seen = [], 0
    for path in sorted(root.rglob("*.py")):
        for line, value in _tip_sites(path.read_text()):
            seen += 1
            if not _made_plain(value):
                unsafe.append(f"{path.relative_to(root)}:{line}: {ast.unparse(value)[:70]}")
    assert unsafe == []
    assert seen > 60  # the scan finds the app's tooltips at all


def test_no_application_wide_event_filter_runs_python_for_every_event(gui, qtbot):
    """The real window, shown: an event for any object runs no Python of the app's (an
    application-wide Python filter takes the GIL for each, thousands a second)."""
    from PySide6.QtCore import QObject

    from .pythoncalls import python_run_for_events

    gui.window.show()
    qtbot.waitExposed(gui.window)
    calls = python_run_for_events(QObject())
    assert calls == []
