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
                    if not isinstance(tip, str) or tag not in tip:
                        continue
                    rect = view.visualRect(index)
                    if rect.isEmpty():
                        continue
                    shown = tooltip_shown(view.viewport(), rect.center())
                    checked += 1
                    if tag in shown and QtGui.Qt.mightBeRichText(shown):
                        leaks.append(f"{type(view).__name__}[{row},{col}]: {shown[:80]!r}")
        for widget in top.findChildren(QWidget):
            if tag in widget.toolTip() and widget.isVisible():
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
    assert checked >= 5  # filmstrip, strip, camera table, export progress, verify...


def test_a_desktop_notification_carries_no_markup_from_a_camera():
    """The notification is shown by another program, which may read markup and images."""
    from collections import Counter

    from meteorgui.gui.tools.notifications import message

    title, body = message(Counter({"cam1": 2}), {"cam1": 'Roof <img src="/dev/zero"> & co'})
    assert body == '2 new events from Roof ‹img src="/dev/zero"› ＆ co'
    assert not set("<>&") & set(title + body)
