"""Core owns the archive, importer, exporter and scheduler, and closes them in one order."""

import threading

import pytest

from meteorgui.core import Core
from meteorgui.exporter.client import ImportClient
from meteorgui.exporter.secrets import FileSecrets
from meteorgui.simulate import make_night, push_night

from .conftest import CAMERA_USER


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("meteorgui-")}


def test_close_stops_everything_it_started_and_closes_the_archive_last(tmp_path):
    before = _threads()
    core = Core(tmp_path / "data", secrets=FileSecrets(tmp_path / "secrets.json"))
    core.archive.users.add(*CAMERA_USER, roles=["import"])
    server = core.start_importer("127.0.0.1", 0)
    core.start_exports()
    night = make_night(3, events=2, timelapse=1)
    with ImportClient(server.url, *CAMERA_USER) as client:
        summary = push_night(night, client, on_progress=None)
    assert summary.ok
    running = _threads() - before
    assert {"meteorgui-importer", "meteorgui-export-scheduler", "meteorgui-import-log"} <= running

    assert core.close() is True
    assert _threads() - before == set()
    assert not core.importer_running
    with pytest.raises(RuntimeError, match="closed"):
        core.archive.db.read()
    # What was pushed was committed before the archive closed.
    reopened = Core(tmp_path / "data")
    try:
        assert reopened.archive.count("events") == 2
    finally:
        reopened.close()
    assert core.close() is True  # a second close does nothing


@pytest.mark.parametrize("beside_window", [True, False])
def test_beside_a_window_the_importers_threads_leave_the_cpu_to_it_first(tmp_path, beside_window):
    """In the window's process the importer's threads (waitress's loop and the request
    threads) run at a higher nice value than the process's, so the scheduler gives a
    busy window the CPU first; `meteorgui serve` leaves them at the process's."""
    import os

    if not hasattr(os, "setpriority"):
        pytest.skip("threads have no nice value of their own here")
    core = Core(tmp_path / "data", beside_window=beside_window)
    core.archive.users.add(*CAMERA_USER, roles=["import"])
    try:
        server = core.start_importer("127.0.0.1", 0)
        with ImportClient(server.url, *CAMERA_USER) as client:
            assert push_night(make_night(4, events=1, timelapse=1), client, on_progress=None).ok
        main = os.getpriority(os.PRIO_PROCESS, os.getpid())
        nice = {
            t.name: os.getpriority(os.PRIO_PROCESS, t.native_id)
            for t in threading.enumerate()
            if t.native_id is not None
            and (
                t.name in ("meteorgui-importer", "meteorgui-sky") or t.name.startswith("waitress-")
            )
        }
        sky = nice.pop("meteorgui-sky")
        served = [n for name, n in nice.items() if name.startswith("waitress-") and n != main]
        if beside_window:
            assert nice["meteorgui-importer"] > main
            assert served and min(served) > main  # the threads that answered
            # Below the background work too: eight request threads just below the window
            # together outweighed it for a shared CPU while cameras pushed.
            assert min(served) > sky > main
        else:
            assert set(nice.values()) == {main}
    finally:
        core.close()
