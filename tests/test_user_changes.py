"""A user changed while the importer runs counts at once: the old password, a lost import
role or a removed user is refused from the next request on, whichever process made the
change (the GUI's Users dialog in the importer's own process, `meteorgui user` in another
while `meteorgui serve` runs), and the gate no longer reads large bodies for the old
credentials."""

import base64
import socket

import pytest
import requests

from meteorgui import notify

from . import factories as fx
from . import importer_process

BODY = {"type": "cached_entity", "cached_entity_id": "0" * 32}


def post(url, auth):
    return requests.post(url, json=BODY, auth=auth, timeout=30)


def basic(auth) -> str:
    return "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()


def upload_headers_only(port: int, authorization: str) -> bytes:
    """The headers of a 1 MiB upload, and never its body: only a login the gate does not
    trust is answered without it (a trusted one would be waited for)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            (
                f"POST /import/data/{fx.uid()}/{'0' * 32} HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: {authorization}\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\n"
                f"Content-Length: {1 << 20}\r\n\r\n"
            ).encode()
        )
        reply = b""
        while chunk := sock.recv(4096):  # the importer closes once it has answered
            reply += chunk
    return reply


CHANGES = {
    "password": (lambda users, name: users.set_password(name, "new-password"), "wrong user"),
    "roles": (lambda users, name: users.set_roles(name, ["user"]), "does not have the import"),
    "removed": (lambda users, name: users.remove(name), "wrong user"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_user_changed_in_the_importers_process_is_refused_at_once(server, archive, auth, change):
    assert post(server.url, auth).status_code == 200
    assert server.gate.is_verified(basic(auth))  # it may send large bodies now
    make, said = CHANGES[change]
    make(archive.users, auth[0])  # what the GUI's Users dialog calls
    reply = upload_headers_only(server.port, basic(auth))
    assert reply.startswith(b"HTTP/1.1 403"), reply[:200]
    assert said.encode() in reply
    r = post(server.url, auth)
    assert r.status_code == 403 and said in r.json()["message"]
    assert not server.gate.is_verified(basic(auth))


CLI = {
    "password": (("password", "camera"), "new-password\n", "wrong user"),
    "roles": (("roles", "camera", "--role", "user"), None, "does not have the import"),
    "removed": (("remove", "camera"), None, "wrong user"),
}


@pytest.mark.parametrize("change", list(CLI))
def test_a_user_changed_from_another_process_is_refused_at_once(
    tmp_path, capsys, monkeypatch, change
):
    data = tmp_path / "data"
    auth = ("camera", "old-password")
    with importer_process.running(data, *auth) as (_proc, url):
        port = int(url.split(":")[2].split("/")[0])
        assert post(url, auth).status_code == 200
        args, stdin, said = CLI[change]
        code, _, err = fx.run_cli(
            capsys, monkeypatch, "--data-dir", str(data), "user", *args, stdin=stdin
        )
        assert code == 0, err
        r = post(url, auth)  # the very next request, well within any cache's lifetime
        assert r.status_code == 403 and said in r.json()["message"]
        reply = upload_headers_only(port, basic(auth))
        assert reply.startswith(b"HTTP/1.1 403") and said.encode() in reply, reply[:200]
        if change == "password":
            assert post(url, ("camera", "new-password")).status_code == 200


def test_a_password_reset_in_the_users_dialog_refuses_the_old_one_at_once(gui, qtbot):
    """The window's importer runs; the owner resets the camera's password in Users."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QInputDialog

    from meteorgui.gui.setup.users import UsersDialog

    from .conftest import CAMERA_USER

    server = gui.core.server
    assert post(server.url, CAMERA_USER).status_code == 200
    assert server.gate.is_verified(basic(CAMERA_USER))
    dlg = UsersDialog(gui, gui.window)
    qtbot.addWidget(dlg)
    dlg.show()
    row = next(i for i in range(dlg.table.rowCount()) if dlg.table.item(i, 0).text() == "camera")
    dlg.table.selectRow(row)

    def type_new_password():  # into the modal prompt, once it is up
        prompt = QApplication.activeModalWidget()
        if not isinstance(prompt, QInputDialog):
            QTimer.singleShot(10, type_new_password)
            return
        prompt.setTextValue("a-new-password")
        prompt.accept()

    QTimer.singleShot(0, type_new_password)

    def password_changed(change) -> bool:  # the dialog's change, committed and published
        return change == notify.UsersChanged("camera", "password")

    with qtbot.waitSignal(gui.bridge.changed, timeout=30_000, check_params_cb=password_changed):
        dlg.reset_password()
    reply = upload_headers_only(server.port, basic(CAMERA_USER))
    assert reply.startswith(b"HTTP/1.1 403"), reply[:200]
    assert post(server.url, CAMERA_USER).status_code == 403
    assert post(server.url, ("camera", "a-new-password")).status_code == 200
