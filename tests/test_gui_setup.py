"""Connecting a real camera: the LAN address, the first login, copying, users, the data folder."""

import logging
import threading

import pytest
import requests
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from meteorgui.settings import Settings

from .conftest import CAMERA_USER
from .test_addresses import _machine_ipv4


@pytest.fixture
def lan_gui(qtbot, tmp_path):
    """A window whose settings say: listen on every network (as a user's do), no user yet."""
    from meteorgui.gui.startup import build, close

    settings = Settings(host="0.0.0.0", port=0, importer_autostart=False)
    ctx, window = build(tmp_path / "lan-data", settings)
    ctx.window = window
    qtbot.addWidget(window)
    window.show()
    yield ctx
    window.close()
    close(ctx)


def _ask(url, auth=("nobody", "x")):
    return requests.post(
        url, auth=auth, json={"type": "cached_entity", "cached_entity_id": "0" * 32}, timeout=10
    )


def test_without_a_login_the_importer_listens_on_this_computer_only_and_says_so(
    lan_gui, qtbot, caplog
):
    window = lan_gui.window
    with caplog.at_level(logging.INFO):
        assert window.start_importer()
    server = lan_gui.core.server
    assert server.host == "127.0.0.1"
    assert "this computer only" in window.importer_label.text()
    assert "no camera login yet" in window.importer_label.text()
    assert any(
        "this computer only" in r.getMessage() and r.levelno == logging.WARNING
        for r in caplog.records
    )
    for address in _machine_ipv4():  # the port is closed to the network
        with pytest.raises(requests.ConnectionError):
            _ask(f"http://{address}:{server.port}/import")


def test_camera_setup_lists_the_lan_address_and_its_login_works_there(lan_gui, qtbot):
    from meteorgui.gui.setup.camera import CameraSetupDialog

    machine = _machine_ipv4()
    if not machine:
        pytest.skip("this machine has no network address besides loopback")
    window = lan_gui.window
    assert window.start_importer()
    window.show_camera_setup()
    dlg = window.findChild(CameraSetupDialog)
    qtbot.waitUntil(dlg.isVisible)
    dlg.create_button.click()
    qtbot.waitUntil(lambda: dlg.password_field.text() != "", timeout=30_000)
    # The login exists: the importer now listens on every network, same port.
    qtbot.waitUntil(lambda: lan_gui.core.server.host == "0.0.0.0")
    port = lan_gui.core.server.port
    # The list follows the server's news on the hub.
    lan = {f"http://{address}:{port}/import" for address in machine}
    qtbot.waitUntil(lambda: lan <= {f.text() for f in dlg.url_fields})
    urls = [f.text() for f in dlg.url_fields]
    assert urls[-1] == f"http://127.0.0.1:{port}/import"
    assert dlg.addresses.notes[-1].text() == "This computer only"
    assert len(dlg.password_field.text()) >= 20
    # What the dialog shows is what a camera on the LAN can use.
    lan_url = next(u for u in urls if "127.0.0.1" not in u)
    answer = _ask(lan_url, (dlg.user_field.text(), dlg.password_field.text()))
    assert answer.json() == {"state": "continue-nocache"}
    assert dlg.camera.fields["url"].text() == urls[0]
    assert dlg.camera.fields["password"].text() == dlg.password_field.text()
    # The status bar names the same URLs.
    for address in machine:
        assert f"http://{address}:{port}/import" in window.importer_label.text()
    assert "this computer only" not in window.importer_label.text()
    # Request resend points a camera's exporter at the same address, not loopback.
    from meteorgui.gui.tools.resend import explanation

    text = explanation(lan_gui)
    assert f"{urls[0]}/resend" in text and "127.0.0.1" not in text
    listed = requests.get(
        f"{urls[0]}/resend", auth=(dlg.user_field.text(), dlg.password_field.text()), timeout=10
    )
    assert listed.json() == {"ids": [], "entities": []}
    dlg.close()


def test_a_login_made_by_another_process_opens_the_importer(lan_gui, qtbot, monkeypatch):
    """`meteorgui user add` in a terminal while the window is open: the window's own hub
    never hears of it, so while no login exists the window reads the users again."""
    from meteorgui.archive.db import Database
    from meteorgui.archive.users import Users
    from meteorgui.gui import main_window

    monkeypatch.setattr(main_window, "LOGIN_POLL_MS", 50)
    window = lan_gui.window
    assert window.start_importer()
    assert lan_gui.core.server.host == "127.0.0.1"  # no login yet
    port = lan_gui.core.server.port
    other = Database(lan_gui.archive.db.path)  # another connection, another hub
    try:
        Users(other).add("garden-cam", "a long password", ["import"])
    finally:
        other.close()
    qtbot.waitUntil(lambda: lan_gui.core.server.host == "0.0.0.0", timeout=10_000)
    assert lan_gui.core.server.port == port
    assert "this computer only" not in window.importer_label.text()
    qtbot.waitUntil(lambda: not window._login_poll.isActive())  # no reads once it exists


def test_a_login_made_on_another_thread_opens_the_importer_and_lists_in_the_users_dialog(
    lan_gui, qtbot
):
    """No dialog made this login (a script, the camera binding): the window and the users
    dialog hear of it on the hub all the same."""
    from meteorgui.gui.setup.users import UsersDialog

    window = lan_gui.window
    assert window.start_importer()
    assert lan_gui.core.server.host == "127.0.0.1"  # no login yet
    dlg = UsersDialog(lan_gui, window)
    qtbot.addWidget(dlg)
    assert dlg.table.rowCount() == 0
    port = lan_gui.core.server.port
    writer = threading.Thread(
        target=lambda: lan_gui.archive.users.add("garden-cam", "a long password", ["import"])
    )
    writer.start()
    writer.join()
    qtbot.waitUntil(lambda: dlg.table.rowCount() == 1, timeout=10_000)
    assert dlg.table.item(0, 0).text() == "garden-cam"
    qtbot.waitUntil(lambda: lan_gui.core.server.host == "0.0.0.0", timeout=10_000)
    assert lan_gui.core.server.port == port


def test_each_url_user_and_password_is_copied_in_one_click(gui, qtbot):
    from meteorgui.gui.setup.camera import CameraSetupDialog

    dlg = CameraSetupDialog(gui, gui.window)
    qtbot.addWidget(dlg)
    dlg.create_button.click()
    qtbot.waitUntil(lambda: dlg.password_field.text() != "", timeout=30_000)
    clipboard = QGuiApplication.clipboard()
    for button, field in (
        (dlg.login.user_copy, dlg.user_field),
        (dlg.login.password_copy, dlg.password_field),
    ):
        button.click()
        assert clipboard.text() == field.text() != ""
    copy_buttons = [
        b for b in dlg.addresses.findChildren(type(dlg.login.user_copy)) if b.text() == "Copy"
    ]
    assert copy_buttons
    copy_buttons[0].click()
    assert clipboard.text() == dlg.url_fields[0].text()


def test_help_points_to_camera_setup(gui, qtbot):
    from meteorgui.gui.setup.camera import CameraSetupDialog

    window = gui.window
    assert window.act_help_camera in window.help_menu.actions()
    window.act_help_camera.trigger()
    qtbot.waitUntil(lambda: window.findChild(CameraSetupDialog) is not None)


def test_add_user_keeps_what_was_typed_when_it_reports_an_error(gui, qtbot):
    from meteorgui.gui.setup.users import UsersDialog

    dlg = UsersDialog(gui, gui.window)
    qtbot.addWidget(dlg)
    editor = dlg.add_user()
    editor.name.setText(CAMERA_USER[0])  # taken
    editor.password.setText("a typed password")
    editor.roles["user"].setChecked(True)
    editor._try()
    qtbot.waitUntil(editor.error.isVisible, timeout=30_000)
    assert editor.error.text() == f"User {CAMERA_USER[0]!r} already exists"
    assert editor.isVisible()
    assert editor.name.text() == CAMERA_USER[0]
    assert editor.password.text() == "a typed password"
    assert set(editor.chosen_roles()) == {"user", "import"}
    editor.name.setText("garden-cam")
    editor._try()
    listed = lambda: [dlg.table.item(i, 0).text() for i in range(dlg.table.rowCount())]  # noqa: E731
    qtbot.waitUntil(lambda: "garden-cam" in listed(), timeout=30_000)
    assert gui.archive.users.get("garden-cam").has_role("user")


def test_open_data_folder_says_when_no_file_manager_could_open_it(
    gui, qtbot, monkeypatch, tmp_path
):
    # No xdg-open, no desktop: nothing on this machine can open a folder.
    empty = tmp_path / "no-programs"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for name in (
        "XDG_CURRENT_DESKTOP",
        "DESKTOP_SESSION",
        "KDE_FULL_SESSION",
        "GNOME_DESKTOP_SESSION_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    window = gui.window
    assert window.open_data_folder() is False
    box = window.folder_message
    assert box.isVisible()
    assert box.text().startswith("No file manager could open the data folder")
    assert str(gui.archive.data_dir) in box.text()
    box.close()
    assert not any(
        isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets()
    )


def test_a_refused_change_of_users_is_told_the_standard_way(gui, qtbot):
    from meteorgui.gui.setup.users import UsersDialog

    dlg = UsersDialog(gui, gui.window)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dlg)

    def boxes():
        return [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.isVisible()
        ]

    dlg._run(lambda: gui.archive.users.set_roles("nobody", ["import"]), "roles of nobody")
    qtbot.waitUntil(lambda: len(boxes()) == 1, timeout=30_000)
    [box] = boxes()
    assert box.text() == "no user 'nobody'"
    assert box.parent() is dlg  # over the dialog the user is in
    box.close()


def _cut_labels(dialog) -> list[str]:
    """The dialog's wrapped labels given fewer lines than their text needs at their width."""
    from PySide6.QtWidgets import QLabel

    return [
        label.text()[:60]
        for label in dialog.findChildren(QLabel)
        if label.isVisible()
        and label.wordWrap()
        and label.height() < label.heightForWidth(label.width())
    ]


def test_camera_setup_opens_and_grows_tall_enough_for_every_line(lan_gui, qtbot):
    """Opened at the height its size hint guessed, Camera setup cut its note on logins to
    a line and a half at 620 px wide (the first dialog a new user opens); the notes grow
    when a login is made and the importer opens to the LAN."""
    from meteorgui.gui.setup.camera import CameraSetupDialog

    dlg = CameraSetupDialog(lan_gui, lan_gui.window)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    assert _cut_labels(dlg) == []
    tall = dlg.height()
    dlg.create_button.click()
    qtbot.waitUntil(lambda: dlg.password_field.text() != "", timeout=30_000)
    qtbot.waitUntil(lambda: _cut_labels(dlg) == [], timeout=10_000)
    assert dlg.height() >= tall


def test_camera_setup_in_the_demo_says_why_it_listens_on_this_computer_only(qtbot, tmp_path):
    """The demo never opens to the network: Camera setup says so, and does not promise
    what a first login does in one's own archive."""
    from meteorgui.gui.setup.camera import CameraSetupDialog
    from meteorgui.gui.startup import build, close

    settings = Settings(host="0.0.0.0", port=0, importer_autostart=False)
    ctx, window = build(tmp_path / "demo-data", settings, demo=True)
    qtbot.addWidget(window)
    try:
        window.show()
        assert window.start_importer()
        assert ctx.core.server.host == "127.0.0.1" and ctx.core.loopback_reason == "the demo"
        window.show_camera_setup()
        dlg = window.findChild(CameraSetupDialog)
        qtbot.waitUntil(dlg.isVisible)
        shown = " ".join(label.text() for label in dlg.findChildren(QLabel))
        assert "listens on this computer only (the demo)" in shown
        assert "once a camera login exists" not in shown
        dlg.close()
    finally:
        window.close()
        close(ctx)
