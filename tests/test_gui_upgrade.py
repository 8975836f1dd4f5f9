"""An archive made by an earlier version is upgraded before the window opens, and a
window says so while it lasts (rebuilding the full-text index takes about 40 s on a
million events)."""

from __future__ import annotations

import threading

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from meteorgui.archive import Archive, migrations, pending_upgrades
from meteorgui.gui import upgrade

from .test_upgrades import LATEST, _unzip

# The fixture of the schema before the latest: opening it applies the latest migration.
BEFORE = LATEST - 1
LAST = next(f"{v:04d}_{name}" for v, name, _ in migrations.MIGRATIONS if v == LATEST)


def test_an_archive_tells_what_opening_it_will_upgrade_without_changing_it(tmp_path):
    folder = _unzip(BEFORE, tmp_path)
    before = (folder / "archive.sqlite3").read_bytes()
    assert pending_upgrades(folder) == [LAST]
    assert (folder / "archive.sqlite3").read_bytes() == before  # read only
    Archive(folder).close()
    assert pending_upgrades(folder) == []
    assert pending_upgrades(tmp_path / "not-made-yet") == []
    assert not (tmp_path / "not-made-yet").exists()


def test_a_slow_upgrade_shows_a_window_that_says_so_until_it_is_done(qtbot, tmp_path, monkeypatch):
    folder = _unzip(BEFORE, tmp_path)
    release = threading.Event()
    real = upgrade._open_and_close

    def slow(data_dir):
        release.wait(60)  # as long as the test needs to see the window
        real(data_dir)

    monkeypatch.setattr(upgrade, "_open_and_close", slow)
    seen: list[str] = []

    def look():  # runs in the upgrade's own event loop
        shown = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, upgrade.UpgradeWindow) and w.isVisible()
        ]
        if shown and not seen:
            seen.append(shown[0].label.text())
            shown[0].reject()  # Escape does not hide it: it cannot be cancelled
            seen.append("visible" if shown[0].isVisible() else "hidden")
            release.set()

    poll = QTimer(interval=20)
    poll.timeout.connect(look)
    poll.start()
    try:
        upgrade.upgrade_archive(folder)
    finally:
        poll.stop()
        release.set()
    assert seen and str(folder) in seen[0] and "happens once" in seen[0]
    assert seen[1] == "visible"
    # Returned only once the upgrade was done, and the window went with it.
    assert pending_upgrades(folder) == []
    assert not any(
        isinstance(w, upgrade.UpgradeWindow) and w.isVisible()
        for w in QApplication.topLevelWidgets()
    )


def test_an_up_to_date_archive_opens_with_no_upgrade_and_no_window(qtbot, tmp_path, monkeypatch):
    folder = tmp_path / "archive"
    Archive(folder).close()
    started = []
    monkeypatch.setattr(upgrade, "_open_and_close", started.append)
    upgrade.upgrade_archive(folder)
    assert started == []
