"""The first run without --demo: an assistant from an empty folder to a test night."""

import argparse
import socket

import pytest
import requests
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from meteorgui.settings import Settings

from .test_addresses import _machine_ipv4
from .test_cli import _free_port


@pytest.fixture
def wizard(qtbot, tmp_path):
    from meteorgui.gui.setup.first_run import FirstRunWizard
    from meteorgui.gui.startup import build, close

    settings = Settings()
    opened = []

    def open_archive(folder):
        ctx, window = build(folder, settings, defer=True)  # as the app builds it
        qtbot.addWidget(window)
        opened.append(ctx)
        return ctx, window

    w = FirstRunWizard(settings, tmp_path / "default", open_archive)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.done(0)
    for ctx in opened:
        w.window.close()
        close(ctx)


def test_first_run_walks_from_an_empty_folder_to_a_test_night(wizard, qtbot, tmp_path):
    from meteorgui.gui.setup.first_run import TEST_NIGHT_EVENTS

    # Where the archive lives.
    folder = tmp_path / "my meteors"
    wizard.archive_page.folder.setText(str(folder))
    assert "new archive" in wizard.archive_page.note.text()
    demo = wizard.button(wizard.WizardButton.CustomButton1)
    assert demo.isVisible()  # "Just looking: open the demo", on the first page only
    wizard.next()
    assert wizard.currentPage() is wizard.port_page
    assert wizard.ctx is None  # nothing opened yet
    assert not demo.isVisible()

    # The port: a taken one is refused with a free one filled in.
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        wizard.port_page.port.setValue(busy)
        wizard.next()
        assert wizard.currentPage() is wizard.port_page
        assert f"Port {busy} is in use" in wizard.port_page.error.text()
        assert wizard.port_page.port.value() != busy
    port = _free_port()
    wizard.port_page.port.setValue(port)
    wizard.next()
    assert wizard.currentPage() is wizard.login_page
    ctx, window = wizard.ctx, wizard.window
    assert ctx.archive.data_dir == folder
    saved = Settings.load()
    assert (saved.data_dir, saved.port, saved.host) == (str(folder), port, "0.0.0.0")
    # No login yet: this computer only, and the window says so.
    assert ctx.core.server.host == "127.0.0.1" and ctx.core.server.port == port
    assert "this computer only" in window.importer_label.text()

    # The camera's login: a strong password, shown once, copyable.
    assert not wizard.login_page.isComplete()
    login = wizard.login_page.login
    login.create_button.click()
    qtbot.waitUntil(lambda: login.password_field.text() != "", timeout=30_000)
    assert wizard.login_page.isComplete()
    password = login.password_field.text()
    assert len(password) >= 20
    qtbot.waitUntil(lambda: ctx.core.server.host == "0.0.0.0")
    assert ctx.core.server.port == port  # the port chosen stays
    wizard.next()

    # What to type into the camera.
    camera = wizard.camera_page.camera
    urls = [f.text() for f in wizard.camera_page.addresses.url_fields]
    assert camera.fields["url"].text() == urls[0]
    assert camera.fields["user"].text() == login.user_field.text()
    assert camera.fields["password"].text() == password
    for address in _machine_ipv4():
        assert f"http://{address}:{port}/import" in urls
    answer = requests.post(
        camera.fields["url"].text(),
        auth=(camera.fields["user"].text(), camera.fields["password"].text()),
        json={"type": "cached_entity", "cached_entity_id": "0" * 32},
        timeout=10,
    )
    assert answer.json() == {"state": "continue-nocache"}
    wizard.next()

    # The test night arrives through the importer, with the new login.
    assert wizard.currentPage() is wizard.test_page
    wizard.test_page.button.click()
    qtbot.waitUntil(
        lambda: "test night arrived" in wizard.test_page.progress.text(), timeout=60_000
    )
    assert not wizard.test_page.error.isVisible()
    assert ctx.archive.count("events") == TEST_NIGHT_EVENTS == wizard.arrived
    users = {c.user for c in ctx.archive.conversations.recent(50)}
    assert users == {login.user_field.text()}
    # The window behind shows the night arriving in its import monitor too.
    assert window.monitor_dock.widget() is window.monitor is not None
    qtbot.waitUntil(lambda: window.monitor.health.model.rowCount() == 2, timeout=30_000)


def test_a_first_run_opens_the_assistant_and_leaving_it_makes_nothing(qtbot, tmp_path):
    from meteorgui.gui.setup.first_run import FirstRunWizard
    from meteorgui.gui.startup import run_gui

    seen = {}

    def look():
        wizard = next(w for w in QApplication.topLevelWidgets() if isinstance(w, FirstRunWizard))
        seen["title"] = wizard.windowTitle()
        seen["visible"] = wizard.isVisible()
        wizard.reject()

    QTimer.singleShot(300, look)
    assert run_gui(argparse.Namespace(demo=False, data_dir=None, verbose=False)) == 0
    assert seen == {"title": "Welcome to meteorgui", "visible": True}
    assert not Settings.path().exists()
    assert not (tmp_path / "default-data").exists()  # METEORGUI_DATA_DIR (conftest)


def test_every_page_shows_its_whole_subtitle(wizard, qtbot, tmp_path):
    """The assistant's header gives a subtitle the lines Qt computes for it; a longer one
    was cut off mid-sentence on the first page."""
    from PySide6.QtWidgets import QLabel

    wizard.resize(680, 560)  # the size it opens at
    for page_id in wizard.pageIds():
        page = wizard.page(page_id)
        wizard.setStartId(page_id)
        wizard.restart()
        qtbot.waitUntil(lambda p=page: wizard.currentPage() is p)
        labels = wizard.findChildren(QLabel)
        shown = [w for w in labels if w.isVisible() and w.text() == page.subTitle()]
        assert shown, page.title()
        for label in shown:
            assert label.height() >= label.heightForWidth(label.width()), page.title()


def test_just_looking_opens_the_demo_and_keeps_the_assistant_for_next_time(
    qtbot, tmp_path, monkeypatch, capsys
):
    """The assistant's first page offers the demo: a simulated night arrives in a
    temporary archive, and nothing of the user's is made (the assistant comes back)."""
    import os
    import tempfile
    from pathlib import Path

    from meteorgui import paths
    from meteorgui.exporter import secrets as secret_store
    from meteorgui.gui.setup.first_run import FirstRunWizard
    from meteorgui.gui.startup import DEMO_PREFIX, run_gui

    for name in (paths.ENV_CONFIG_DIR, secret_store.ENV_BACKEND):  # the demo sets them
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:
            monkeypatch.delenv(name, raising=False)
    config = Settings.path()
    seen = {}

    def look():
        wizard = next(w for w in QApplication.topLevelWidgets() if isinstance(w, FirstRunWizard))
        demo = wizard.button(wizard.WizardButton.CustomButton1)
        seen["offered"] = demo.isVisible() and demo.text()
        demo.click()

    QTimer.singleShot(300, look)
    args = argparse.Namespace(demo=False, data_dir=None, verbose=False, demo_exit_after=2)
    try:
        assert run_gui(args) == 0
    finally:  # the app's process ends here; this one goes on to other tests
        from PySide6.QtCore import QEvent

        from meteorgui.gui.main_window import MainWindow

        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, (MainWindow, FirstRunWizard)):
                widget.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    assert seen == {"offered": "Just looking: open the demo"}
    assert "demo: event 2 archived" in capsys.readouterr().out  # the night arrived
    assert not config.exists()  # the next start opens the assistant again
    assert not (tmp_path / "default-data").exists()
    mine = f"{DEMO_PREFIX}{os.getpid()}-"
    assert not [p for p in Path(tempfile.gettempdir()).iterdir() if p.name.startswith(mine)]
